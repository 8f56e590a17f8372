// One signed request over libcurl (see s3_http.h).
#include "storage/s3_http.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>
#include <mutex>
#include <thread>

#include "core/sha256.h"
#include "storage/s3_signing.h"
#include "storage/s3_text.h"
#include "storage/s3_xml.h"

namespace dr::s3 {

namespace {

constexpr std::size_t kMaxHeaderBytes = 64u << 10;  // all of an answer's headers
constexpr std::size_t kMaxErrorBody = 64u << 10;    // an error's XML is a few hundred bytes
constexpr long kConnectTimeoutSeconds = 10;

std::string_view trimmed(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r' || text.back() == '\n')) {
    text.remove_suffix(1);
  }
  return text;
}

struct HeaderList {
  curl_slist* list = nullptr;
  HeaderList() = default;
  HeaderList(const HeaderList&) = delete;
  HeaderList& operator=(const HeaderList&) = delete;
  ~HeaderList() { curl_slist_free_all(list); }
  bool append(const std::string& header) {
    curl_slist* grown = curl_slist_append(list, header.c_str());
    if (grown == nullptr) return false;
    list = grown;
    return true;
  }
};

// What one transfer's callbacks share.
struct Transfer {
  const HttpRequest* request = nullptr;
  HttpResponse response;
  std::size_t header_bytes = 0;
  std::size_t upload_offset = 0;
  std::optional<Error> stopped;  // why a callback stopped the transfer
  char curl_error[CURL_ERROR_SIZE] = {};
};

std::size_t onHeader(char* data, std::size_t size, std::size_t count, void* user) {
  auto& transfer = *static_cast<Transfer*>(user);
  const std::size_t length = size * count;
  transfer.header_bytes += length;
  if (transfer.header_bytes > kMaxHeaderBytes) {
    transfer.stopped = fail("the store's answer has more than {} bytes of headers", kMaxHeaderBytes);
    return 0;
  }
  const std::string_view line = trimmed(std::string_view(data, length));
  if (line.starts_with("HTTP/")) {  // a status line: a new answer (after a 100 Continue, the real one)
    transfer.response.headers.clear();
    const auto space = line.find(' ');
    long status = 0;
    for (std::size_t i = space == std::string_view::npos ? line.size() : space + 1;
         i < line.size() && std::isdigit(static_cast<unsigned char>(line[i])) && status < 1000; ++i) {
      status = status * 10 + (line[i] - '0');
    }
    transfer.response.status = status;
    return length;
  }
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) return length;
  const std::string name = lowerCase(trimmed(line.substr(0, colon)));
  const std::string_view value = trimmed(line.substr(colon + 1));
  auto [entry, inserted] = transfer.response.headers.try_emplace(name, value);
  if (!inserted) entry->second += ", " + std::string(value);
  return length;
}

std::size_t onBody(char* data, std::size_t size, std::size_t count, void* user) {
  auto& transfer = *static_cast<Transfer*>(user);
  const std::size_t length = size * count;
  const std::string_view chunk(data, length);
  auto& response = transfer.response;
  if (!response.succeeded()) {  // an error's body: the first bytes are enough to say what it was
    const std::size_t room = kMaxErrorBody - std::min(kMaxErrorBody, response.body.size());
    response.body.append(chunk.substr(0, room));
    return length;
  }
  if (transfer.request->sink) {
    if (auto status = transfer.request->sink(response, chunk); !status) {
      transfer.stopped = status.error();
      return 0;
    }
    return length;
  }
  if (response.body.size() + length > transfer.request->max_body) {
    transfer.stopped = fail("the store's answer is larger than {} bytes: refused", transfer.request->max_body);
    return 0;
  }
  response.body.append(chunk);
  return length;
}

std::size_t onRead(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto& transfer = *static_cast<Transfer*>(user);
  const std::string_view body = transfer.request->body;
  const std::size_t length = std::min(size * count, body.size() - transfer.upload_offset);
  std::memcpy(buffer, body.data() + transfer.upload_offset, length);
  transfer.upload_offset += length;
  return length;
}

// libcurl rewinds the body when it must send it again (a connection that broke before the answer).
int onSeek(void* user, curl_off_t offset, int origin) {
  auto& transfer = *static_cast<Transfer*>(user);
  if (origin != SEEK_SET || offset < 0 || static_cast<std::size_t>(offset) > transfer.request->body.size()) {
    return CURL_SEEKFUNC_CANTSEEK;
  }
  transfer.upload_offset = static_cast<std::size_t>(offset);
  return CURL_SEEKFUNC_OK;
}

int onProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto* cancel = static_cast<const std::atomic<bool>*>(user);
  return cancel->load() ? 1 : 0;
}

template <typename T>
void set(CURL* handle, CURLoption option, T value) {
  curl_easy_setopt(handle, option, value);
}

struct Attempt {
  Result<HttpResponse> result;
  bool retriable = false;
};

Attempt performOnce(CurlEasy& easy, const S3Config& config, const Endpoint& endpoint, const HttpRequest& request) {
  CURL* handle = easy.get();
  // A reset forgets every option of the last request but keeps the connection (and its TLS session) alive.
  curl_easy_reset(handle);
  Transfer transfer;
  transfer.request = &request;
  HeaderList headers;
  const std::string payload_hash = request.payload_hash.empty() ? sha256Hex(request.body) : request.payload_hash;
  bool headers_ok = headers.append("x-amz-content-sha256: " + payload_hash);
  if (!config.credentials.session_token.empty()) {
    headers_ok = headers_ok && headers.append("x-amz-security-token: " + config.credentials.session_token);
  }
  for (const auto& header : request.headers) headers_ok = headers_ok && headers.append(header);
  if (!headers_ok) return {fail("out of memory for the request's headers")};

  set(handle, CURLOPT_URL, request.url.c_str());
  set(handle, CURLOPT_PROTOCOLS_STR, "http,https");
  set(handle, CURLOPT_FOLLOWLOCATION, 0L);  // a redirect would take the signed request elsewhere
  set(handle, CURLOPT_NOSIGNAL, 1L);        // threads: no SIGALRM for timeouts
  set(handle, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  set(handle, CURLOPT_PATH_AS_IS, 1L);  // a key's "./" or "../" is part of its name, not a path to squash
  set(handle, CURLOPT_CONNECTTIMEOUT, kConnectTimeoutSeconds);
  const long timeout = static_cast<long>(config.timeout.count());
  if (request.stall_timeout) {
    set(handle, CURLOPT_LOW_SPEED_LIMIT, 1L);
    set(handle, CURLOPT_LOW_SPEED_TIME, timeout);
  } else {
    set(handle, CURLOPT_TIMEOUT, timeout);
  }
  if (!config.ca_file.empty()) set(handle, CURLOPT_CAINFO, config.ca_file.c_str());
  set(handle, CURLOPT_ERRORBUFFER, transfer.curl_error);
  set(handle, CURLOPT_USERAGENT, "etcd-dr");
  set(handle, CURLOPT_TCP_KEEPALIVE, 1L);
  // libcurl signs with these and sends only the signature.
  const std::string sigv4 = "aws:amz:" + config.region + ":s3";
  set(handle, CURLOPT_AWS_SIGV4, sigv4.c_str());
  set(handle, CURLOPT_USERNAME, config.credentials.access_key_id.c_str());
  set(handle, CURLOPT_PASSWORD, config.credentials.secret_access_key.c_str());
  set(handle, CURLOPT_HTTPHEADER, headers.list);
  set(handle, CURLOPT_HEADERFUNCTION, onHeader);
  set(handle, CURLOPT_HEADERDATA, &transfer);
  set(handle, CURLOPT_WRITEFUNCTION, onBody);
  set(handle, CURLOPT_WRITEDATA, &transfer);
  set(handle, CURLOPT_BUFFERSIZE, 256L << 10);
  if (request.cancel != nullptr) {
    set(handle, CURLOPT_NOPROGRESS, 0L);
    set(handle, CURLOPT_XFERINFOFUNCTION, onProgress);
    set(handle, CURLOPT_XFERINFODATA, request.cancel);
  }
  if (request.method == "HEAD") {
    set(handle, CURLOPT_NOBODY, 1L);
  } else if (request.method == "PUT") {
    set(handle, CURLOPT_UPLOAD, 1L);
    set(handle, CURLOPT_READFUNCTION, onRead);
    set(handle, CURLOPT_READDATA, &transfer);
    set(handle, CURLOPT_SEEKFUNCTION, onSeek);
    set(handle, CURLOPT_SEEKDATA, &transfer);
    set(handle, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    set(handle, CURLOPT_UPLOAD_BUFFERSIZE, 512L << 10);
  } else if (request.method == "POST") {
    set(handle, CURLOPT_POST, 1L);
    set(handle, CURLOPT_POSTFIELDS, request.body.data());
    set(handle, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  } else if (request.method != "GET") {
    set(handle, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }

  const CURLcode code = curl_easy_perform(handle);
  // The handle forgets this request's pointers (into `transfer`, about to go) and its copy of the credentials.
  struct ResetAfter {
    CURL* handle;
    ~ResetAfter() { curl_easy_reset(handle); }
  } reset_after{handle};
  if (code == CURLE_OK) return {std::move(transfer.response)};
  if (transfer.stopped) return {std::move(*transfer.stopped)};
  if (code == CURLE_ABORTED_BY_CALLBACK) return {fail("stopped (another request of the same upload failed)")};
  std::string reason = curl_easy_strerror(code);
  // libcurl's own text is more precise (a certificate's problem, a host name) unless it only repeats the reason.
  if (transfer.curl_error[0] != '\0' && std::strstr(transfer.curl_error, reason.c_str()) == nullptr) {
    reason += fmt::format(" ({})", printableText(transfer.curl_error));
  }
  const bool answered = transfer.response.status != 0;
  Error error = answered ? fail("the connection to the object store at {} broke: {}", endpoint.shown, reason)
                         : fail("cannot reach the object store at {}: {}", endpoint.shown, reason);
  // A connection that broke mid-request is worth another try; one that timed out already took S3Config::timeout.
  const bool retriable =
      code == CURLE_SEND_ERROR || code == CURLE_RECV_ERROR || code == CURLE_GOT_NOTHING || code == CURLE_PARTIAL_FILE;
  return {std::move(error), retriable};
}

}  // namespace

std::string HttpResponse::header(const std::string& name) const {
  const auto found = headers.find(name);
  return found == headers.end() ? std::string() : found->second;
}

Result<Endpoint> parseEndpoint(std::string_view text, std::string_view region) {
  Endpoint endpoint;
  if (text.empty()) {
    endpoint.aws = true;
    endpoint.scheme = "https";
    endpoint.shown = fmt::format("https://s3.{}.amazonaws.com", region);
    return endpoint;
  }
  const auto shown = printableText(text, 200);
  const auto scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) return fail("S3 endpoint {}: expected http(s)://HOST[:PORT]", shown);
  endpoint.scheme = lowerCase(text.substr(0, scheme_end));
  if (endpoint.scheme != "http" && endpoint.scheme != "https") {
    return fail("S3 endpoint {}: the scheme must be http or https", shown);
  }
  std::string_view authority = text.substr(scheme_end + 3);
  if (authority.ends_with('/')) authority.remove_suffix(1);
  if (authority.find('@') != std::string_view::npos) {
    // Not shown: what precedes the '@' may be a password.
    return fail(
        "the S3 endpoint holds a user name or password: credentials go in a credentials file or the "
        "environment, never in the endpoint's URL");
  }
  if (authority.empty()) return fail("S3 endpoint {}: no host", shown);
  for (char c : authority) {
    const bool allowed = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' || c == '[' ||
                         c == ']' || c == '_';
    if (!allowed) return fail("S3 endpoint {}: expected http(s)://HOST[:PORT], without a path or a query", shown);
  }
  // host[:port], the host possibly an IPv6 address in brackets.
  const auto port_colon = authority.rfind(':');
  const auto bracket = authority.rfind(']');
  std::string host(authority);
  if (port_colon != std::string_view::npos && (bracket == std::string_view::npos || port_colon > bracket)) {
    const std::string_view port = authority.substr(port_colon + 1);
    int value = 0;
    for (char c : port) {
      if (!std::isdigit(static_cast<unsigned char>(c)) || value > 65535) return fail("S3 endpoint {}: bad port", shown);
      value = value * 10 + (c - '0');
    }
    if (port.empty() || value < 1 || value > 65535) return fail("S3 endpoint {}: bad port", shown);
    // A default port is not written in the Host header libcurl sends, so not in what it signs either.
    const bool default_port =
        (endpoint.scheme == "http" && value == 80) || (endpoint.scheme == "https" && value == 443);
    if (default_port) host = std::string(authority.substr(0, port_colon));
  }
  endpoint.host = lowerCase(host);
  endpoint.shown = endpoint.scheme + "://" + endpoint.host;
  return endpoint;
}

Address addressOf(const Endpoint& endpoint, std::string_view region, std::string_view bucket, std::string_view key) {
  const std::string object_path = key.empty() ? std::string() : "/" + uriEncode(key, true);
  if (endpoint.aws) {
    // A bucket name with dots does not match AWS's wildcard certificate as a host name: path-style for those.
    if (bucket.find('.') != std::string_view::npos) {
      return {fmt::format("https://s3.{}.amazonaws.com", region), "/" + std::string(bucket) + object_path};
    }
    return {fmt::format("https://{}.s3.{}.amazonaws.com", bucket, region), key.empty() ? "/" : object_path};
  }
  return {endpoint.scheme + "://" + endpoint.host, "/" + std::string(bucket) + object_path};
}

Result<CurlEasy> CurlEasy::create() {
  static std::once_flag initialised;
  static CURLcode init_code = CURLE_OK;
  std::call_once(initialised, [] { init_code = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (init_code != CURLE_OK) return fail("libcurl cannot start: {}", curl_easy_strerror(init_code));
  CURL* handle = curl_easy_init();
  if (handle == nullptr) return fail("libcurl cannot make a handle");
  return CurlEasy(handle);
}

Result<HttpResponse> perform(CurlEasy& handle, const S3Config& config, const Endpoint& endpoint,
                             const HttpRequest& request) {
  const int attempts = request.sink ? 1 : std::max(1, request.attempts);
  for (int attempt = 1;; ++attempt) {
    auto outcome = performOnce(handle, config, endpoint, request);
    bool again = outcome.retriable;
    if (outcome.result.ok()) {
      const long status = outcome.result->status;
      again = status == 500 || status == 502 || status == 503 || status == 504;
    }
    const bool cancelled = request.cancel != nullptr && request.cancel->load();
    if (!again || attempt >= attempts || cancelled) return std::move(outcome.result);
    // S3 asks for backing off on 503 SlowDown: 0.2 s, then 0.8 s.
    std::this_thread::sleep_for(std::chrono::milliseconds(200) * (1 << (2 * (attempt - 1))));
  }
}

std::string refusal(const HttpResponse& response) {
  if (const auto error = parseStoreError(response.body); error && !error->code.empty()) {
    std::string text = fmt::format("({} {})", response.status, error->code);
    if (!error->message.empty()) text += ": " + error->message;
    // AWS says where a bucket is when it is asked in the wrong region (301 PermanentRedirect, 400 ...Malformed).
    if (const auto region = response.header("x-amz-bucket-region"); !region.empty()) {
      text += fmt::format(" (the bucket is in region {}: set AWS_REGION)", printableText(region, 40));
    }
    return text;
  }
  // A HEAD's error has no body; nor do some proxies' answers.
  static constexpr std::pair<long, const char*> kReasons[] = {
      {400, "Bad Request"},         {401, "Unauthorized"},          {403, "Forbidden"},
      {404, "Not Found"},           {405, "Method Not Allowed"},    {409, "Conflict"},
      {412, "Precondition Failed"}, {500, "Internal Server Error"}, {501, "Not Implemented"},
      {503, "Service Unavailable"}};
  for (const auto& [status, reason] : kReasons) {
    if (status == response.status) return fmt::format("({} {})", response.status, reason);
  }
  return fmt::format("({})", response.status);
}

}  // namespace dr::s3
