// Where the store and its credentials come from: the environment, or AWS's shared-credentials file, read as hostile
// input (others' permissions, a FIFO, a huge file refused) and never quoted back.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>

#include "fixtures/temp_dir.h"
#include "storage/s3_client.h"

using namespace dr;
namespace fs = std::filesystem;

namespace {

// Sets (or unsets, for nullptr) an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value == nullptr) {
      unsetenv(name);
    } else {
      setenv(name, value, 1);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// Every variable s3ConfigFromEnvironment reads, cleared for the test.
struct CleanEnvironment {
  ScopedEnv e1{"DR_S3_ENDPOINT", nullptr}, e2{"AWS_ENDPOINT_URL_S3", nullptr}, e3{"AWS_ENDPOINT_URL", nullptr},
      e4{"AWS_REGION", nullptr}, e5{"AWS_DEFAULT_REGION", nullptr}, e6{"DR_S3_CA_FILE", nullptr},
      e7{"AWS_PROFILE", nullptr}, e8{"AWS_ACCESS_KEY_ID", nullptr}, e9{"AWS_SECRET_ACCESS_KEY", nullptr},
      e10{"AWS_SESSION_TOKEN", nullptr};
};

const char* kCredentials =
    "# comment\n"
    "[default]\n"
    "aws_access_key_id = AKIDDEFAULT\n"
    "aws_secret_access_key = default/secret+key\n"
    "\n"
    "; another comment\n"
    "[backup]\n"
    "aws_access_key_id=AKIDBACKUP\n"
    "aws_secret_access_key=backup-secret\n"
    "aws_session_token = the-token\n";

fs::path writeFile(const fs::path& path, const std::string& content, mode_t mode) {
  std::ofstream(path, std::ios::binary) << content;
  fs::permissions(path, static_cast<fs::perms>(mode));
  return path;
}

}  // namespace

TEST_CASE("credentials from the environment, the endpoint and region by precedence", "[s3][config]") {
  CleanEnvironment clean;
  SECTION("none: an error that says where they are looked for") {
    auto config = s3ConfigFromEnvironment();
    REQUIRE_FALSE(config.ok());
    CHECK_THAT(config.error().message, Catch::Contains("AWS_ACCESS_KEY_ID") && Catch::Contains("credentials file"));
  }
  SECTION("the variables, and DR_S3_ENDPOINT before AWS_ENDPOINT_URL_S3 before AWS_ENDPOINT_URL") {
    ScopedEnv id("AWS_ACCESS_KEY_ID", "AKIDENV"), secret("AWS_SECRET_ACCESS_KEY", "env-secret"),
        token("AWS_SESSION_TOKEN", "env-token"), generic("AWS_ENDPOINT_URL", "http://generic:1"),
        s3("AWS_ENDPOINT_URL_S3", "http://s3-specific:2"), region("AWS_DEFAULT_REGION", "eu-west-3"),
        ca("DR_S3_CA_FILE", "/etc/ca.pem");
    auto config = s3ConfigFromEnvironment();
    REQUIRE(config.ok());
    CHECK(config->credentials.access_key_id == "AKIDENV");
    CHECK(config->credentials.secret_access_key == "env-secret");
    CHECK(config->credentials.session_token == "env-token");
    CHECK(config->endpoint == "http://s3-specific:2");
    CHECK(config->region == "eu-west-3");
    CHECK(config->ca_file == "/etc/ca.pem");
    ScopedEnv ours("DR_S3_ENDPOINT", "http://ours:3"), region2("AWS_REGION", "ap-south-1");
    auto again = s3ConfigFromEnvironment();
    REQUIRE(again.ok());
    CHECK(again->endpoint == "http://ours:3");
    CHECK(again->region == "ap-south-1");
  }
}

TEST_CASE("credentials file: [default] or AWS_PROFILE's section, owner-only, bounded, regular", "[s3][config]") {
  CleanEnvironment clean;
  ScopedEnv env_id("AWS_ACCESS_KEY_ID", "AKIDENV"), env_secret("AWS_SECRET_ACCESS_KEY", "env-secret");
  test::TempDir dir("dr-s3-config");
  const auto file = writeFile(dir.path / "credentials", kCredentials, 0600);
  SECTION("[default] when AWS_PROFILE is not set (the file wins over the variables)") {
    auto config = s3ConfigFromEnvironment(file);
    REQUIRE(config.ok());
    CHECK(config->credentials.access_key_id == "AKIDDEFAULT");
    CHECK(config->credentials.secret_access_key == "default/secret+key");
    CHECK(config->credentials.session_token.empty());
  }
  SECTION("AWS_PROFILE's section") {
    ScopedEnv profile("AWS_PROFILE", "backup");
    auto config = s3ConfigFromEnvironment(file);
    REQUIRE(config.ok());
    CHECK(config->credentials.access_key_id == "AKIDBACKUP");
    CHECK(config->credentials.secret_access_key == "backup-secret");
    CHECK(config->credentials.session_token == "the-token");
  }
  SECTION("a profile the file lacks") {
    ScopedEnv profile("AWS_PROFILE", "missing");
    auto config = s3ConfigFromEnvironment(file);
    REQUIRE_FALSE(config.ok());
    CHECK_THAT(config.error().message, Catch::Contains("no [missing] profile"));
  }
  SECTION("a profile without its secret") {
    writeFile(file, "[default]\naws_access_key_id = AKID\n", 0600);
    auto config = s3ConfigFromEnvironment(file);
    REQUIRE_FALSE(config.ok());
    CHECK_THAT(config.error().message, Catch::Contains("aws_secret_access_key"));
  }
  SECTION("a malformed line is refused by number, never quoted (it may be a secret)") {
    writeFile(file, "[default]\naws_access_key_id = AKID\nwJalrXUtnFEMI-pasted-secret\n", 0600);
    auto config = s3ConfigFromEnvironment(file);
    REQUIRE_FALSE(config.ok());
    CHECK_THAT(config.error().message, Catch::Contains(":3:") && !Catch::Contains("pasted-secret"));
  }
  SECTION("readable by others (0644) or by the group (0640): refused") {
    for (mode_t mode : {0644, 0640, 0604}) {
      fs::permissions(file, static_cast<fs::perms>(mode));
      auto config = s3ConfigFromEnvironment(file);
      REQUIRE_FALSE(config.ok());
      CHECK_THAT(config.error().message,
                 Catch::Contains("readable or writable by others") && Catch::Contains("chmod 600"));
      CHECK_THAT(config.error().message, !Catch::Contains("default/secret"));
    }
  }
  SECTION("a FIFO is refused without blocking") {
    const auto fifo = dir.path / "fifo";
    REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
    auto config = s3ConfigFromEnvironment(fifo);
    REQUIRE_FALSE(config.ok());
    CHECK_THAT(config.error().message, Catch::Contains("FIFO"));
  }
  SECTION("a huge file is refused") {
    writeFile(file, "[default]\n" + std::string(100u << 10, '#') + "\n", 0600);
    auto config = s3ConfigFromEnvironment(file);
    REQUIRE_FALSE(config.ok());
    CHECK_THAT(config.error().message, Catch::Contains("larger than"));
  }
  SECTION("a missing file") {
    auto config = s3ConfigFromEnvironment(dir.path / "nothing");
    REQUIRE_FALSE(config.ok());
    CHECK_THAT(config.error().message, Catch::Contains("cannot open"));
  }
}

TEST_CASE("S3Client::open checks the configuration", "[s3][config]") {
  S3Config config;
  config.credentials.access_key_id = "AKID";
  config.credentials.secret_access_key = "secret";
  const auto refused = [&](const char* why) {
    auto client = S3Client::open(config);
    REQUIRE_FALSE(client.ok());
    CHECK_THAT(client.error().message, Catch::Contains(why));
  };
  CHECK(S3Client::open(config).ok());
  SECTION("an endpoint with credentials in it, never echoed") {
    config.endpoint = "http://user:hunter2@store:9000";
    refused("never in the endpoint");
    CHECK_THAT(S3Client::open(config).error().message, !Catch::Contains("hunter2"));
  }
  SECTION("an endpoint that is no http(s) URL") {
    config.endpoint = "ftp://store";
    refused("http or https");
    config.endpoint = "store:9000";
    refused("expected http(s)://HOST[:PORT]");
    config.endpoint = "http://store:9000/prefix";
    refused("without a path");
    config.endpoint = "http://store:99999";
    refused("bad port");
  }
  SECTION("part size outside S3's limits") {
    config.part_size = 1u << 20;
    refused("5 MiB to 5 GiB");
  }
  SECTION("parallel parts, page size, region") {
    config.parallel_parts = 0;
    refused("parallel_parts");
    config.parallel_parts = 2;
    config.max_keys = 1001;
    refused("max_keys");
    config.max_keys = 1000;
    config.region = "EU West";
    refused("region");
  }
  SECTION("no credentials") {
    config.credentials.secret_access_key.clear();
    refused("no credentials");
  }
}
