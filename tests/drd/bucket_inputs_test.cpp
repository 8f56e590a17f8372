// drd's Plan with a snapshot in a bucket, in-process on a real s3rver: drd downloads it with its config's object
// store into STATE_DIR/downloads/ (no input dir involved for it) and says so; with members_fetch every upload's
// source is the bucket URL; the store's refusal is FAILED_PRECONDITION with its reason; members_fetch of a file is
// refused as bad input.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "drd/run_manager.h"
#include "drd_test_support.h"
#include "fixtures/s3_fixture.h"

namespace fs = std::filesystem;
using namespace dr::test;

namespace {

dr::ObjectStoreConfig storeOf(const RunSandbox& box, const S3Server& s3, const std::string& access_key_id) {
  const fs::path credentials = box.root() / ("credentials-" + access_key_id);
  writeText(credentials, "[default]\naws_access_key_id = " + access_key_id + "\naws_secret_access_key = x\n");
  fs::permissions(credentials, fs::perms::owner_read | fs::perms::owner_write);
  return dr::ObjectStoreConfig{s3.endpoint(), "", credentials.string(), ""};
}

}  // namespace

TEST_CASE("drd plans with a snapshot from its bucket, and members_fetch makes the members fetch it", "[drd][s3]") {
  S3Server s3;
  RunSandbox box;
  auto store = dr::S3Client::open(s3.config());
  REQUIRE(store.ok());
  REQUIRE(store->putFile(box.snapshot(), s3.location("prod/snap.db")).ok());
  const std::string url = "s3://" + s3.bucket() + "/prod/snap.db";

  dr::drd::RunManager runs(box.state(), {box.root()}, storeOf(box, s3, S3Server::kAccessKeyId));
  v1::PlanRequest request;
  request.set_inventory(box.inventory().string());
  request.set_snapshot(url);
  request.set_format("json");
  v1::PlanResponse response;
  grpc::Status status = runs.plan(request, &response);
  INFO(status.error_message());
  REQUIRE(status.ok());
  REQUIRE(response.warnings_size() >= 1);
  CHECK(response.warnings(0).find("downloaded " + url + " to " + (box.state() / "downloads" / "snap.db").string()) !=
        std::string::npos);
  const auto uploaded = nlohmann::json::parse(response.plan_json());
  int uploads = 0;
  for (const auto& step : uploaded["steps"]) {
    if (!step.contains("upload") || step["upload"].is_null()) continue;
    ++uploads;
    CHECK(step["upload"]["local_path"] == (box.state() / "downloads" / "snap.db").string());
  }
  CHECK(uploads == 1);

  request.set_members_fetch(true);
  v1::PlanResponse fetching;
  status = runs.plan(request, &fetching);
  INFO(status.error_message());
  REQUIRE(status.ok());
  CHECK(fetching.warnings(0).find("already downloaded") != std::string::npos);  // fetched once
  for (const auto& step : nlohmann::json::parse(fetching.plan_json())["steps"]) {
    if (step.contains("upload") && !step["upload"].is_null()) CHECK(step["upload"]["local_path"] == url);
  }

  // members_fetch of a file, not a bucket object: bad input.
  request.set_snapshot(box.snapshot().string());
  v1::PlanResponse refused;
  status = runs.plan(request, &refused);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(status.error_message().find("s3://BUCKET/KEY") != std::string::npos);
}

TEST_CASE("drd says why its object store refuses a snapshot download", "[drd][s3]") {
  S3Server s3;
  RunSandbox box;
  dr::drd::RunManager runs(box.state(), {box.root()}, storeOf(box, s3, "NOT-A-KEY-ID"));
  v1::PlanRequest request;
  request.set_inventory(box.inventory().string());
  request.set_snapshot("s3://" + s3.bucket() + "/prod/snap.db");
  v1::PlanResponse response;
  const grpc::Status status = runs.plan(request, &response);
  INFO(status.error_message());
  CHECK(status.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  // A HEAD's refusal has no body to name the store's code: the status says it.
  CHECK(status.error_message().find("s3://" + s3.bucket() + "/prod/snap.db: head refused (403") != std::string::npos);
  CHECK_FALSE(fs::exists(box.state() / "downloads" / "snap.db"));
}
