// Answers no honest store gives, from a scripted server (fake_store.h): a part's or an object's ETag that is not
// the MD5 of what was sent, a 200 CompleteMultipartUpload whose body is an <Error>, an abort the store refuses,
// listings that loop or stray outside their prefix, metadata that is no SHA-256. Each is refused with its reason.
#include <catch2/catch.hpp>
#include <fstream>

#include "core/sha256.h"
#include "fixtures/temp_dir.h"
#include "storage/fake_store.h"
#include "storage/s3_client.h"
#include "storage/s3_context.h"

using namespace dr;
using dr::test::FakeStore;
namespace fs = std::filesystem;

namespace {

S3Config configFor(const FakeStore& store) {
  S3Config config;
  config.endpoint = store.endpoint();
  config.credentials.access_key_id = "AKID";
  config.credentials.secret_access_key = "secret";
  config.part_size = 5u << 20;
  config.parallel_parts = 2;
  config.timeout = std::chrono::seconds(10);
  return config;
}

// A store that takes a multipart upload, with `part_etag` and `complete` deciding what parts and completion say,
// and `abort_status` what an abort gets.
FakeStore::Handler multipartStore(std::function<std::string(const FakeStore::Request&)> part_etag,
                                  std::string complete_body, int abort_status) {
  return [=](const FakeStore::Request& request) -> FakeStore::Answer {
    if (request.method == "POST" && request.query() == "uploads=") {
      return {200, {}, "<InitiateMultipartUploadResult><UploadId>up-7</UploadId></InitiateMultipartUploadResult>"};
    }
    if (request.method == "PUT") return {200, {"ETag: \"" + part_etag(request) + "\""}, ""};
    if (request.method == "POST") return {200, {}, complete_body};
    if (request.method == "DELETE") {
      if (abort_status == 204) return {204, {}, ""};
      return {abort_status, {}, "<Error><Code>MethodNotAllowed</Code><Message>Not here.</Message></Error>"};
    }
    return {500, {}, ""};
  };
}

const std::string kCompleted = "<CompleteMultipartUploadResult><ETag>\"e-3\"</ETag></CompleteMultipartUploadResult>";

fs::path elevenMiB(const test::TempDir& dir) {
  const auto file = dir.path / "eleven";
  std::ofstream(file, std::ios::binary) << std::string(11u << 20, 'e');
  return file;
}

int countOf(const std::vector<FakeStore::Request>& requests, const std::string& method) {
  return static_cast<int>(
      std::count_if(requests.begin(), requests.end(), [&](const FakeStore::Request& r) { return r.method == method; }));
}

}  // namespace

TEST_CASE("a part whose ETag is not its MD5 fails the upload, which is aborted", "[s3][answers]") {
  FakeStore store(multipartStore(
      [](const FakeStore::Request& request) {
        const bool second = request.query().find("partNumber=2&") != std::string::npos;
        return second ? std::string(32, '0') : toHex(s3::md5Raw(request.body));
      },
      kCompleted, 204));
  auto client = S3Client::open(configFor(store));
  REQUIRE(client.ok());
  test::TempDir dir("dr-s3-answers");
  auto put = client->putFile(elevenMiB(dir), {"bk", "snap.db"});
  REQUIRE_FALSE(put.ok());
  CHECK_THAT(put.error().message,
             Catch::StartsWith("s3://bk/snap.db: upload of part 2 of 3 failed: the store's ETag 0000") &&
                 Catch::Contains("is not the MD5 of the part sent") &&
                 Catch::EndsWith("the multipart upload was aborted, no part is left stored"));
  const auto requests = store.requests();
  CHECK(countOf(requests, "DELETE") == 1);
  CHECK(requests.back().query() == "uploadId=up-7");
  CHECK(countOf(requests, "POST") == 1);  // the create; never a completion
}

TEST_CASE("a completion answered 200 with an <Error> body is a failure", "[s3][answers]") {
  FakeStore store(multipartStore([](const FakeStore::Request& request) { return toHex(s3::md5Raw(request.body)); },
                                 "<Error><Code>InternalError</Code><Message>We encountered an internal error."
                                 "</Message></Error>",
                                 204));
  auto client = S3Client::open(configFor(store));
  REQUIRE(client.ok());
  test::TempDir dir("dr-s3-answers");
  auto put = client->putFile(elevenMiB(dir), {"bk", "snap.db"});
  REQUIRE_FALSE(put.ok());
  CHECK_THAT(put.error().message, Catch::StartsWith("s3://bk/snap.db: multipart completion failed: (InternalError): "
                                                    "We encountered an internal error.") &&
                                      Catch::Contains("aborted"));
}

TEST_CASE("an abort the store refuses is said, with what it leaves behind", "[s3][answers]") {
  FakeStore store(multipartStore([](const FakeStore::Request&) { return std::string("bad"); }, kCompleted, 405));
  auto config = configFor(store);
  config.parallel_parts = 1;
  auto client = S3Client::open(config);
  REQUIRE(client.ok());
  test::TempDir dir("dr-s3-answers");
  auto put = client->putFile(elevenMiB(dir), {"bk", "snap.db"});
  REQUIRE_FALSE(put.ok());
  CHECK_THAT(put.error().message, Catch::Contains("upload of part 1 of 3 failed") &&
                                      Catch::Contains("aborting the multipart upload up-7 failed too (405 "
                                                      "MethodNotAllowed): Not here.") &&
                                      Catch::Contains("lifecycle rule"));
  CHECK(countOf(store.requests(), "PUT") == 1);  // nothing more is sent once a part failed
}

TEST_CASE("a single PUT whose ETag is not the MD5 sent is refused", "[s3][answers]") {
  FakeStore store([](const FakeStore::Request&) -> FakeStore::Answer { return {200, {"ETag: \"abc\""}, ""}; });
  auto client = S3Client::open(configFor(store));
  REQUIRE(client.ok());
  auto put = client->putBytes("hello", {"bk", "k"});
  REQUIRE_FALSE(put.ok());
  CHECK_THAT(put.error().message, Catch::Contains("the store's ETag abc is not the MD5 of what was sent (" +
                                                  toHex(s3::md5Raw("hello")) + ")"));
}

TEST_CASE("listings that loop, stray outside the prefix or are no XML are refused", "[s3][answers]") {
  std::string answer;
  FakeStore store([&](const FakeStore::Request&) -> FakeStore::Answer { return {200, {}, answer}; });
  auto client = S3Client::open(configFor(store));
  REQUIRE(client.ok());
  const auto refused = [&](const std::string& body, const char* why) {
    answer = body;
    auto listed = client->list({"bk", "etcd/"});
    REQUIRE_FALSE(listed.ok());
    CHECK_THAT(listed.error().message, Catch::StartsWith("s3://bk/etcd/: listing failed: ") && Catch::Contains(why));
  };
  refused(
      "<ListBucketResult><IsTruncated>true</IsTruncated><NextContinuationToken>t</NextContinuationToken>"
      "</ListBucketResult>",
      "repeats its continuation token");
  refused("<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>", "no NextContinuationToken");
  refused("<ListBucketResult><Contents><Key>other/x</Key><Size>1</Size></Contents></ListBucketResult>",
          "not under the prefix");
  refused("<ListBucketResult><Contents><Key>etcd/x</Key><Size>-1</Size></Contents></ListBucketResult>", "bad <Size>");
  refused(
      "<ListBucketResult><Contents><Key>etcd/a%0Ab</Key><Size>1</Size></Contents>"
      "<EncodingType>url</EncodingType></ListBucketResult>",
      "control character");
  refused("<ListBucketResult><Contents>", "not well-formed XML");
  // Entities are not expanded (pugixml knows XML's five only): a "billion laughs" body stays its own size.
  answer = "<!DOCTYPE x [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;&a;\">]><ListBucketResult>&b;</ListBucketResult>";
  auto bomb = client->list({"bk", "etcd/"});
  REQUIRE(bomb.ok());
  CHECK(bomb->empty());
  answer =
      "<ListBucketResult><EncodingType>url</EncodingType><Contents><Key>etcd/a+b%2Bc</Key><Size>3</Size>"
      "<LastModified>2024-02-03T04:05:06.789Z</LastModified><ETag>\"e\"</ETag></Contents></ListBucketResult>";
  auto listed = client->list({"bk", "etcd/"});
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 1);
  CHECK((*listed)[0].key == "etcd/a b+c");
  CHECK((*listed)[0].last_modified_ms == 1706933106789);
}

TEST_CASE("a download whose metadata is no SHA-256 is refused before a byte is written", "[s3][answers]") {
  FakeStore store([](const FakeStore::Request&) -> FakeStore::Answer {
    return {200, {"x-amz-meta-sha256: not-a-hash"}, "content"};
  });
  auto client = S3Client::open(configFor(store));
  REQUIRE(client.ok());
  test::TempDir dir("dr-s3-answers");
  auto got = client->getFile({"bk", "k"}, dir.path / "out");
  REQUIRE_FALSE(got.ok());
  CHECK_THAT(got.error().message, Catch::Contains("x-amz-meta-sha256 is no SHA-256 (not-a-hash)"));
  CHECK(fs::is_empty(dir.path));
}
