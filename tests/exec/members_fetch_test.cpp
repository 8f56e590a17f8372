// --members-fetch at the executor, on real parts: a plan's upload whose source is an s3:// URL is fetched by the host
// itself (the local transport runs the host's commands here, curl included) from a real s3rver with a presigned URL,
// hashed there and put in place only when its SHA-256 is the planned one. A wrong hash leaves nothing in place; a
// session without object-store access fails the step and says so; the URL is in no log.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "core/sha256.h"
#include "exec/clock.h"
#include "exec/executor.h"
#include "fixtures/file_text.h"
#include "fixtures/s3_fixture.h"
#include "fixtures/temp_dir.h"
#include "transport/local_transport.h"

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

dr::Plan fetchPlan(const std::string& source, const fs::path& remote, const std::string& sha256) {
  dr::Step step;
  step.id = "upload-snapshot@m1";
  step.template_id = "upload-snapshot";
  step.action = "upload-snapshot";
  step.host = "m1";
  step.upload = dr::FileUpload{source, remote.string(), sha256};
  step.check = "test -f " + remote.string();
  step.timeout = 60s;
  dr::Plan plan;
  plan.name = "fetch";
  plan.fingerprint = "f";
  plan.steps.push_back(step);
  return plan;
}

struct Run {
  dr::ExecutionResult result;
  std::string log;
};

Run runPlan(const dr::Plan& plan, const fs::path& logs,
            std::function<dr::Result<std::string>(const std::string&)> fetch_url) {
  dr::LocalTransport transport;
  dr::SystemClock clock;
  dr::ExecutorEnv env;
  dr::HostEndpoint endpoint;
  endpoint.transport = &transport;
  endpoint.target.name = "m1";
  endpoint.target.address = "127.0.0.1";
  env.hosts["m1"] = endpoint;
  env.clock = &clock;
  env.step_log_path = [logs](const std::string& id) { return logs / (id + ".log"); };
  env.fetch_url = std::move(fetch_url);
  dr::Executor executor(plan, env);
  auto result = executor.run({});
  REQUIRE(result.ok());
  return {std::move(result).value(), dr::test::fileText(logs / "upload-snapshot@m1.log")};
}

}  // namespace

TEST_CASE("members fetch: the host fetches the snapshot from the bucket itself and verifies it there",
          "[exec][s3][real]") {
  dr::test::S3Server s3;
  dr::test::TempDir dir("dr-members-fetch");
  const fs::path snapshot = dir.path / "snap.db";
  std::string bytes(3 << 20, '\0');
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>((i * 7 + 3) % 251);
  std::ofstream(snapshot, std::ios::binary) << bytes;
  const std::string sha256 = dr::sha256FileHex(snapshot).value();
  auto store = dr::S3Client::open(s3.config());
  REQUIRE(store.ok());
  const dr::S3Location object = s3.location("prod/snap.db");
  REQUIRE(store->putFile(snapshot, object).ok());
  std::vector<std::string> urls;
  auto presign = [&](const std::string& source) -> dr::Result<std::string> {
    auto parsed = dr::parseS3Url(source);
    if (!parsed) return parsed.error();
    auto url = store->presignGet(*parsed, std::chrono::hours(1));
    if (url) urls.push_back(*url);
    return url;
  };
  const fs::path remote = dir.path / "member" / "staging" / "snapshot.db";
  fs::create_directories(dir.path / "logs");

  SECTION("fetched, verified, in place, and the URL in no log") {
    const Run run = runPlan(fetchPlan(object.url(), remote, sha256), dir.path / "logs", presign);
    INFO(run.log);
    CHECK(run.result.outcome == dr::RunOutcome::Finished);
    REQUIRE(fs::exists(remote));
    CHECK(dr::sha256FileHex(remote).value() == sha256);
    CHECK_FALSE(fs::exists(remote.string() + ".part"));
    CHECK(run.log.find("fetched " + object.url()) != std::string::npos);
    REQUIRE(urls.size() == 1);
    CHECK(run.log.find(urls[0]) == std::string::npos);
    CHECK(run.log.find("X-Amz-Signature") == std::string::npos);
  }
  SECTION("a hash that is not the planned one: refused on the host, nothing in place") {
    const Run run = runPlan(fetchPlan(object.url(), remote, std::string(64, 'a')), dir.path / "logs", presign);
    CHECK(run.result.outcome == dr::RunOutcome::Failed);
    const auto* step = run.result.find("upload-snapshot@m1");
    REQUIRE(step != nullptr);
    CHECK(step->message.find("the fetched snapshot has sha256 " + sha256) != std::string::npos);
    CHECK_FALSE(fs::exists(remote));
    CHECK_FALSE(fs::exists(remote.string() + ".part"));
  }
  SECTION("an object the bucket does not have: curl's refusal is the step's message") {
    const Run run = runPlan(fetchPlan(s3.location("prod/absent.db").url(), remote, sha256), dir.path / "logs", presign);
    CHECK(run.result.outcome == dr::RunOutcome::Failed);
    const auto* step = run.result.find("upload-snapshot@m1");
    REQUIRE(step != nullptr);
    CHECK(step->message.find("404") != std::string::npos);
    CHECK_FALSE(fs::exists(remote));
  }
  SECTION("a session without the object store fails the step, saying why") {
    const Run run = runPlan(fetchPlan(object.url(), remote, sha256), dir.path / "logs", {});
    CHECK(run.result.outcome == dr::RunOutcome::Failed);
    const auto* step = run.result.find("upload-snapshot@m1");
    REQUIRE(step != nullptr);
    CHECK(step->message.find("this session has no access to the object store") != std::string::npos);
  }
}
