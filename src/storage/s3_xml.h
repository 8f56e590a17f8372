// The store's XML answers, read with pugixml (which expands no entities but XML's own five, so a hostile body
// cannot grow in memory): errors, listing pages, and the multipart upload's. Every text taken from them is checked
// or made printable before it goes further. Internal to storage/.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "storage/s3_client.h"

namespace dr::s3 {

struct StoreError {
  std::string code;     // "NoSuchBucket"
  std::string message;  // "The specified bucket does not exist"
};
// The <Error> an answer's body holds, if it holds one.
std::optional<StoreError> parseStoreError(std::string_view body);

struct ListPage {
  std::vector<S3Object> objects;
  bool truncated = false;
  std::string next_token;
};
// A ListObjectsV2 page. Keys are checked as parseS3Url checks them (valid UTF-8, no control character, at most
// 1024 bytes) and URL-decoded when the answer says it encoded them.
Result<ListPage> parseListPage(std::string_view body);

// The UploadId of a CreateMultipartUpload answer.
Result<std::string> parseUploadId(std::string_view body);
// The ETag of a CompleteMultipartUpload answer. Its status can be 200 and its body still an <Error> (S3 documents
// this: the error comes after the 200 was sent): that is an error here, "(CODE): message".
Result<std::string> parseCompleteResult(std::string_view body);
// <CompleteMultipartUpload> of the parts' ETags, part numbers from 1.
std::string completeRequestBody(const std::vector<std::string>& etags);

// "2009-10-12T17:50:30.000Z" as milliseconds since the epoch; nullopt when it is not that form.
std::optional<std::int64_t> parseIsoTimeMs(std::string_view text);

}  // namespace dr::s3
