// s3://BUCKET/KEY as a user types it: what S3 allows, and everything else refused with a reason.
#include <catch2/catch.hpp>

#include "storage/s3_client.h"

using namespace dr;

TEST_CASE("parseS3Url takes bucket and key, a prefix or the bucket alone", "[s3][url]") {
  auto location = parseS3Url("s3://my-backups.eu/etcd/prod/snap 1.db");
  REQUIRE(location.ok());
  CHECK(location->bucket == "my-backups.eu");
  CHECK(location->key == "etcd/prod/snap 1.db");
  CHECK(location->url() == "s3://my-backups.eu/etcd/prod/snap 1.db");
  CHECK(parseS3Url("s3://bkt/etcd/")->key == "etcd/");
  CHECK(parseS3Url("s3://bkt/")->key.empty());
  CHECK(parseS3Url("s3://bkt")->key.empty());
  CHECK(parseS3Url("s3://bkt")->url() == "s3://bkt/");
  CHECK(parseS3Url("s3://b-1/\xc3\xa9t\xc3\xa9.db")->key == "\xc3\xa9t\xc3\xa9.db");
  CHECK(parseS3Url("s3://bkt/" + std::string(1024, 'k')).ok());
  CHECK(isS3Url("s3://x"));
  CHECK_FALSE(isS3Url("/var/backups/s3://x"));
}

TEST_CASE("parseS3Url refuses what S3 does not allow, saying why", "[s3][url]") {
  const auto refused = [](std::string_view text, const char* why) {
    INFO(text);
    auto location = parseS3Url(text);
    REQUIRE_FALSE(location.ok());
    CHECK_THAT(location.error().message, Catch::Contains(why));
  };
  refused("", "empty");
  refused("bucket/key", "not an S3 URL");
  refused("S3://bucket/key", "not an S3 URL");
  refused("https://bucket.s3.amazonaws.com/key", "not an S3 URL");
  refused("s3:///key", "no bucket");
  refused("s3://ab/key", "3 to 63");
  refused("s3://" + std::string(64, 'a') + "/key", "3 to 63");
  refused("s3://My_Bucket/key", "lower-case letters, digits");
  refused("s3://-bucket/key", "start and end");
  refused("s3://bucket-/key", "start and end");
  refused("s3://my..bucket/key", "two adjacent periods");
  refused("s3://192.168.5.4/key", "IP address");
  refused("s3://bkt/" + std::string(1025, 'k'), "1024");
  refused(std::string_view("s3://bkt/a\0b", 12), "NUL");
  refused("s3://bkt/\xff\xfe", "not valid UTF-8");
  refused("s3://bkt/a\nb", "control character");
}

TEST_CASE("a refused URL is quoted printably", "[s3][url]") {
  auto location = parseS3Url("s3://bad_bucket\x01/k");
  REQUIRE_FALSE(location.ok());
  CHECK(location.error().message.find('\x01') == std::string::npos);
}
