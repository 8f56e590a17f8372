// One HTTP request to the object store over libcurl, signed by libcurl's SigV4 (CURLOPT_AWS_SIGV4): the easy
// handle (reused, so its connection is kept alive), where requests go (path-style at an endpoint, virtual-hosted at
// AWS), and what comes back, with every part of the answer capped (the store's answers are input like any other).
// Internal to storage/.
#pragma once

#include <curl/curl.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "storage/s3_client.h"

namespace dr::s3 {

// Where requests go, checked once when the client opens.
struct Endpoint {
  std::string scheme;  // "http" or "https"
  std::string host;    // host[:port] as the Host header carries it (a default port is dropped); empty for AWS
  bool aws = false;    // no endpoint given: AWS itself, virtual-hosted by bucket
  std::string shown;   // for messages: "http://127.0.0.1:9555", "https://s3.eu-west-1.amazonaws.com"
};
// "http(s)://HOST[:PORT][/]" (no user, path or query); empty: AWS in `region`.
Result<Endpoint> parseEndpoint(std::string_view endpoint, std::string_view region);

// The URL of a bucket (empty key) or an object: `base` "scheme://host" and the encoded `path`.
struct Address {
  std::string base;
  std::string path;
};
Address addressOf(const Endpoint& endpoint, std::string_view region, std::string_view bucket, std::string_view key);

// A libcurl easy handle; one per thread that sends requests. Reusing it keeps its connection alive.
class CurlEasy {
 public:
  static Result<CurlEasy> create();
  CURL* get() const { return handle_.get(); }

 private:
  struct Cleanup {
    void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
  };
  explicit CurlEasy(CURL* handle) : handle_(handle) {}
  std::unique_ptr<CURL, Cleanup> handle_;
};

struct HttpResponse {
  long status = 0;                             // 0: no answer came
  std::map<std::string, std::string> headers;  // names lower case; a repeated header's values joined by ", "
  std::string body;                            // without a sink, or when the status is not 2xx (capped)
  bool succeeded() const { return status >= 200 && status < 300; }
  std::string header(const std::string& name) const;  // empty when absent
};

struct HttpRequest {
  std::string method = "GET";        // GET, HEAD, PUT, POST, DELETE
  std::string url;                   // base + path + "?" + canonical query: sent (and signed) exactly as given
  std::vector<std::string> headers;  // "Name: value"; x-amz-content-sha256 and the session token are added
  std::string_view body;             // of a PUT or a POST; the caller keeps it alive
  std::string payload_hash;          // x-amz-content-sha256: hex or UNSIGNED-PAYLOAD; empty: SHA-256 of `body`
  // The body of a 2xx answer, as it streams (a download); an error stops the transfer and is what perform returns.
  // The answer's status and headers are complete when it is first called.
  std::function<Status(const HttpResponse&, std::string_view)> sink;
  std::uint64_t max_body = 1u << 20;  // a 2xx body kept in memory (no sink) larger than this is an error
  // S3Config::timeout bounds the whole request, or, when set, a stall: no byte moved for that long (a download of
  // many gigabytes may rightly take longer than any fixed bound).
  bool stall_timeout = false;
  const std::atomic<bool>* cancel = nullptr;  // set by another thread: the transfer stops (a sibling part failed)
  int attempts = 1;  // > 1: again after a pause on 500/502/503/504 or a broken connection (not with a sink)
};

// Sends one request. Errors are transport failures ("cannot reach the object store at ENDPOINT: curl's reason"),
// a sink's error or an oversized answer; any HTTP status is a response, for the caller to judge.
Result<HttpResponse> perform(CurlEasy& handle, const S3Config& config, const Endpoint& endpoint,
                             const HttpRequest& request);

// "(403 InvalidAccessKeyId): The AWS Access Key Id you provided does not exist in our records." of an answer that
// is not a success: the status and the store's own code and message (a reason phrase when the body has none).
std::string refusal(const HttpResponse& response);

}  // namespace dr::s3
