// SigV4: presigned URLs against AWS's documented example, and libcurl's header signatures of every kind of request
// the client sends recomputed here, since s3rver checks no signature and real S3 checks every one.
#include "storage/s3_signing.h"

#include <catch2/catch.hpp>
#include <fstream>

#include "core/sha256.h"
#include "fixtures/temp_dir.h"
#include "storage/fake_store.h"
#include "storage/s3_client.h"
#include "storage/s3_context.h"
#include "storage/s3_xml.h"

using namespace dr;
using dr::test::FakeStore;

namespace {

std::chrono::system_clock::time_point utc(int year, int month, int day) {
  std::tm time{};
  time.tm_year = year - 1900;
  time.tm_mon = month - 1;
  time.tm_mday = day;
  return std::chrono::system_clock::from_time_t(timegm(&time));
}

std::map<std::string, std::string> fields(std::string_view text, char separator) {
  std::map<std::string, std::string> out;
  while (!text.empty()) {
    const auto end = text.find(separator);
    std::string_view field = text.substr(0, end);
    while (field.starts_with(' ')) field.remove_prefix(1);
    const auto equals = field.find('=');
    if (equals != std::string_view::npos) out[std::string(field.substr(0, equals))] = field.substr(equals + 1);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
  }
  return out;
}

std::string percentDecoded(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

// Recomputes the signature of a request as it arrived, the way S3 does, and checks that the path and query that
// libcurl signed as they were sent are already in SigV4's canonical form (libcurl 7.88 neither sorts nor encodes).
void checkSignedAsAwsWould(const FakeStore::Request& request, const S3Config& config) {
  INFO(request.method << " " << request.target);
  const std::string authorization = request.header("authorization");
  REQUIRE(authorization.starts_with("AWS4-HMAC-SHA256 "));
  auto parts = fields(std::string_view(authorization).substr(17), ',');
  const std::string date = request.header("x-amz-date");
  CHECK(parts["Credential"] ==
        config.credentials.access_key_id + "/" + date.substr(0, 8) + "/" + config.region + "/s3/aws4_request");
  s3::CanonicalRequest canonical;
  canonical.method = request.method;
  canonical.path = request.path();
  canonical.query = request.query();
  std::string_view names = parts["SignedHeaders"];
  while (!names.empty()) {
    const auto end = names.find(';');
    const std::string name(names.substr(0, end));
    canonical.headers.emplace_back(name, request.header(name));
    names = end == std::string_view::npos ? std::string_view() : names.substr(end + 1);
  }
  canonical.payload_hash = request.header("x-amz-content-sha256");
  CHECK(s3::signatureV4(canonical, date, config.region, "s3", config.credentials.secret_access_key) ==
        parts["Signature"]);
  // What must be signed is: the host, the date, the payload's hash, and the token of temporary credentials.
  CHECK_THAT(parts["SignedHeaders"],
             Catch::Contains("host") && Catch::Contains("x-amz-content-sha256") && Catch::Contains("x-amz-date"));
  if (!config.credentials.session_token.empty()) {
    CHECK_THAT(parts["SignedHeaders"], Catch::Contains("x-amz-security-token"));
  }
  if (request.header("x-amz-content-sha256") != "UNSIGNED-PAYLOAD") {
    CHECK(request.header("x-amz-content-sha256") == sha256Hex(request.body));
  }
  CHECK(s3::uriEncode(percentDecoded(canonical.path), true) == canonical.path);
  std::map<std::string, std::string> query;
  for (const auto& [name, value] : fields(canonical.query, '&')) query[percentDecoded(name)] = percentDecoded(value);
  CHECK(s3::canonicalQuery(query) == canonical.query);
}

}  // namespace

TEST_CASE("presigned GET matches AWS's documented example (virtual-hosted)", "[s3][signing]") {
  // docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html, "An Example".
  S3Credentials credentials;
  credentials.access_key_id = "AKIAIOSFODNN7EXAMPLE";
  credentials.secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
  const auto url = s3::presignedGetUrl("https://examplebucket.s3.amazonaws.com", "/test.txt", "us-east-1", credentials,
                                       std::chrono::seconds(86400), utc(2013, 5, 24));
  CHECK(url ==
        "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z"
        "&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
        "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
}

TEST_CASE("presignGet signs the host and path each addressing style sends", "[s3][signing]") {
  S3Config config;
  config.credentials.access_key_id = "AKIAIOSFODNN7EXAMPLE";
  config.credentials.secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
  const auto when = utc(2013, 5, 24);
  SECTION("AWS: virtual-hosted, the region in the host name") {
    config.region = "eu-west-1";
    auto client = S3Client::open(config);
    REQUIRE(client.ok());
    auto url = client->presignGet({"examplebucket", "dir/a b+c.txt"}, std::chrono::seconds(60), when);
    REQUIRE(url.ok());
    CHECK_THAT(*url, Catch::StartsWith("https://examplebucket.s3.eu-west-1.amazonaws.com/dir/a%20b%2Bc.txt?"));
    CHECK_THAT(*url, Catch::Contains("%2Feu-west-1%2Fs3%2Faws4_request"));
  }
  SECTION("AWS with a dotted bucket name: path-style (the wildcard certificate does not cover it)") {
    auto client = S3Client::open(config);
    REQUIRE(client.ok());
    auto url = client->presignGet({"my.bucket", "k"}, std::chrono::seconds(60), when);
    REQUIRE(url.ok());
    CHECK_THAT(*url, Catch::StartsWith("https://s3.us-east-1.amazonaws.com/my.bucket/k?"));
  }
  SECTION("an endpoint: path-style, its port signed as part of the host, a default port dropped") {
    config.endpoint = "http://127.0.0.1:9555/";
    auto client = S3Client::open(config);
    REQUIRE(client.ok());
    auto url = client->presignGet({"bk", "x"}, std::chrono::seconds(60), when);
    REQUIRE(url.ok());
    CHECK_THAT(*url, Catch::StartsWith("http://127.0.0.1:9555/bk/x?X-Amz-Algorithm="));
    // The same request signed by hand with the host header the client will send.
    s3::CanonicalRequest request;
    request.method = "GET";
    request.path = "/bk/x";
    request.query = url->substr(url->find('?') + 1, url->find("&X-Amz-Signature=") - url->find('?') - 1);
    request.headers = {{"host", "127.0.0.1:9555"}};
    request.payload_hash = "UNSIGNED-PAYLOAD";
    CHECK_THAT(*url, Catch::EndsWith("X-Amz-Signature=" + s3::signatureV4(request, "20130524T000000Z", "us-east-1",
                                                                          "s3", config.credentials.secret_access_key)));
    config.endpoint = "https://store.example:443";
    auto https = S3Client::open(config);
    REQUIRE(https.ok());
    CHECK_THAT(*https->presignGet({"bk", "x"}, std::chrono::seconds(60), when),
               Catch::StartsWith("https://store.example/bk/x?"));
  }
  SECTION("a session token is signed into the URL; the secret never appears in it") {
    config.credentials.session_token = "token/with+chars=";
    auto client = S3Client::open(config);
    REQUIRE(client.ok());
    auto url = client->presignGet({"bk", "x"}, std::chrono::seconds(60), when);
    REQUIRE(url.ok());
    CHECK_THAT(*url, Catch::Contains("X-Amz-Security-Token=token%2Fwith%2Bchars%3D"));
    CHECK_THAT(*url, !Catch::Contains(config.credentials.secret_access_key) &&
                         !Catch::Contains(s3::uriEncode(config.credentials.secret_access_key, false)));
  }
  SECTION("expiry between 1 s and 7 days") {
    auto client = S3Client::open(config);
    REQUIRE(client.ok());
    CHECK_FALSE(client->presignGet({"bk", "x"}, std::chrono::seconds(0), when).ok());
    CHECK_FALSE(client->presignGet({"bk", "x"}, std::chrono::seconds(604801), when).ok());
    CHECK(client->presignGet({"bk", "x"}, std::chrono::seconds(604800), when).ok());
    CHECK_FALSE(client->presignGet({"bk", ""}, std::chrono::seconds(60), when).ok());
  }
}

TEST_CASE("uriEncode and canonicalQuery follow SigV4's rules", "[s3][signing]") {
  CHECK(s3::uriEncode("a-b_c.d~e/f g", true) == "a-b_c.d~e/f%20g");
  CHECK(s3::uriEncode("a/b", false) == "a%2Fb");
  CHECK(s3::uriEncode("\xc3\xa9*+=", true) == "%C3%A9%2A%2B%3D");
  CHECK(s3::canonicalQuery({{"uploads", ""}}) == "uploads=");
  CHECK(s3::canonicalQuery({{"prefix", "a b/"}, {"list-type", "2"}, {"max-keys", "2"}}) ==
        "list-type=2&max-keys=2&prefix=a%20b%2F");
}

TEST_CASE("libcurl signs every request the client sends as AWS computes it", "[s3][signing]") {
  // Each answer is what S3 would say, just enough for the client to go on to its next request.
  FakeStore store([](const FakeStore::Request& request) -> FakeStore::Answer {
    const std::string query = request.query();
    if (request.method == "POST" && query == "uploads=") {
      return {200, {}, "<InitiateMultipartUploadResult><UploadId>up-1</UploadId></InitiateMultipartUploadResult>"};
    }
    if (request.method == "POST") {
      return {200, {}, "<CompleteMultipartUploadResult><ETag>\"abc-2\"</ETag></CompleteMultipartUploadResult>"};
    }
    if (request.method == "PUT") return {200, {"ETag: \"" + toHex(s3::md5Raw(request.body)) + "\""}, ""};
    if (request.method == "HEAD") return {200, {"Content-Length: 5", "x-amz-meta-sha256: " + sha256Hex("hello")}, ""};
    if (request.method == "DELETE") return {204, {}, ""};
    if (query.starts_with("list-type") || query.starts_with("continuation") || query.starts_with("encoding")) {
      return {200, {}, "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>"};
    }
    return {200, {"x-amz-meta-sha256: " + sha256Hex("hello")}, "hello"};
  });
  S3Config config;
  config.endpoint = store.endpoint();
  config.region = "eu-central-1";
  config.credentials.access_key_id = "AKIDEXAMPLE";
  config.credentials.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  config.credentials.session_token = "FwoGZXIvYXdzEJr//////////token==";
  config.part_size = 5u << 20;
  config.parallel_parts = 1;
  auto client = S3Client::open(config);
  REQUIRE(client.ok());
  const S3Location key{"bk", "dir/a key+with=odd&chars ~(1).db"};
  S3PutOptions options;
  options.metadata["revision"] = "42";
  REQUIRE(client->putBytes("hello", key, options).ok());
  test::TempDir dir("dr-s3-signing");
  const auto file = dir.path / "six-mib";
  std::ofstream(file, std::ios::binary) << std::string(6u << 20, 'x');
  auto multipart = client->putFile(file, key, options);
  REQUIRE(multipart.ok());
  CHECK(multipart->parts == 2);
  REQUIRE(client->head(key).ok());
  REQUIRE(client->getBytes(key).ok());
  REQUIRE(client->list({"bk", "dir/a key"}).ok());
  REQUIRE(client->remove(key).ok());
  const auto requests = store.requests();
  REQUIRE(requests.size() == 9);  // put, create, 2 parts, complete, head, get, list, delete
  for (const auto& request : requests) {
    checkSignedAsAwsWould(request, config);
    CHECK(request.header("x-amz-security-token") == config.credentials.session_token);
    CHECK(request.header("authorization").find(config.credentials.secret_access_key) == std::string::npos);
  }
  // The single PUT's payload is hashed into its signature; the metadata rides on the PUT and on the create.
  CHECK(requests[0].header("x-amz-content-sha256") == sha256Hex("hello"));
  CHECK(requests[0].header("x-amz-meta-sha256") == sha256Hex("hello"));
  CHECK(requests[0].header("x-amz-meta-revision") == "42");
  CHECK(requests[1].header("x-amz-meta-sha256") == multipart->sha256);
  CHECK(requests[2].header("content-md5") == s3::base64(s3::md5Raw(std::string(5u << 20, 'x'))));
}
