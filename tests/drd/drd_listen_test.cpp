// drd's listening rules on the real program: TCP only with mutual TLS (a client with a certificate from drd's CA
// gets through; no certificate, another CA's certificate or plaintext are refused), TCP without TLS files refused at
// start-up (exit 2), a socket directory others can write refused, a socket in use refused; --config: schedules,
// Rehearse and the metrics endpoint, a bad config refused.
#include <httplib.h>
#include <sys/stat.h>

#include <regex>

#include "drd_test_support.h"
#include "fixtures/drd_fixture.h"
#include "fixtures/etcd_fixture.h"

namespace fs = std::filesystem;
using namespace dr::test;

namespace {

std::shared_ptr<grpc::ChannelCredentials> tlsCredentials(const fs::path& ca, const fs::path& cert,
                                                         const fs::path& key) {
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = readText(ca);
  if (!cert.empty()) options.pem_cert_chain = readText(cert);
  if (!key.empty()) options.pem_private_key = readText(key);
  return grpc::SslCredentials(options);
}

grpc::Status listRuns(v1::Drd::Stub& stub) {
  v1::ListRunsResponse response;
  grpc::ClientContext context;
  withDeadline(context, std::chrono::seconds(5));
  return stub.ListRuns(&context, {}, &response);
}

}  // namespace

TEST_CASE("drd on TCP requires a client certificate signed by its CA", "[drd][tls]") {
  RunSandbox box;
  TestCertificates certs(box.root() / "certs");
  DrdProcess drd(kDrdBinary,
                 {"--state-dir", box.state().string(), "--input-dir", box.root().string(), "--input-dir", kTestPlansDir, "--listen", "tcp://127.0.0.1:0", "--tls-ca", certs.ca.string(),
                  "--tls-cert", certs.server_cert.string(), "--tls-key", certs.server_key.string()},
                 box.root() / "drd.log");
  const auto address = drd.waitListening();
  INFO(drd.log());
  REQUIRE(address);
  CHECK_THAT(*address, Catch::StartsWith("127.0.0.1:"));

  SECTION("a client with its certificate runs a plan through") {
    auto stub = drdStub(*address, tlsCredentials(certs.ca, certs.client_cert, certs.client_key));
    const grpc::Status listed = listRuns(*stub);
    INFO(listed.error_message());
    REQUIRE(listed.ok());
    const auto started = applyOk(*stub, box.inventory(), box.snapshot());
    const auto events = watchAll(*stub, started.run_id());
    REQUIRE(runEnded(events) != nullptr);
    CHECK(runEnded(events)->outcome() == "finished");
  }
  SECTION("a client without a certificate is refused") {
    auto stub = drdStub(*address, tlsCredentials(certs.ca, {}, {}));
    CHECK_FALSE(listRuns(*stub).ok());
  }
  SECTION("a certificate from another CA is refused") {
    TestCertificates other(box.root() / "other");
    auto stub = drdStub(*address, tlsCredentials(certs.ca, other.client_cert, other.client_key));
    CHECK_FALSE(listRuns(*stub).ok());
  }
  SECTION("plaintext is refused") {
    auto stub = drdStub(*address, grpc::InsecureChannelCredentials());
    CHECK_FALSE(listRuns(*stub).ok());
  }
}

TEST_CASE("drd refuses to start on TCP without TLS, on a socket others could replace, or on a socket in use",
          "[drd][tls]") {
  RunSandbox box;
  SECTION("TCP without TLS files") {
    DrdProcess drd(kDrdBinary, {"--state-dir", box.state().string(), "--input-dir", box.root().string(), "--input-dir", kTestPlansDir, "--listen", "tcp://127.0.0.1:0"},
                   box.root() / "drd.log");
    CHECK(drd.waitExit() == 2);
    CHECK_THAT(drd.log(), Catch::Contains("refusing to listen on TCP without mutual TLS"));
  }
  SECTION("a socket directory writable by others") {
    const fs::path open_dir = box.root() / "open";
    fs::create_directories(open_dir);
    ::chmod(open_dir.c_str(), 0777);
    DrdProcess drd(kDrdBinary,
                   {"--state-dir", box.state().string(), "--input-dir", box.root().string(), "--input-dir", kTestPlansDir, "--listen", "unix://" + (open_dir / "drd.sock").string()},
                   box.root() / "drd.log");
    CHECK(drd.waitExit() == 2);
    CHECK_THAT(drd.log(), Catch::Contains("writable by other users"));
  }
  SECTION("an unknown scheme, a relative socket path") {
    DrdProcess ftp(kDrdBinary, {"--state-dir", box.state().string(), "--input-dir", box.root().string(), "--input-dir", kTestPlansDir, "--listen", "ftp://host"}, box.root() / "ftp.log");
    CHECK(ftp.waitExit() == 2);
    CHECK_THAT(ftp.log(), Catch::Contains("unix:///path or tcp://host:port"));
    DrdProcess relative(kDrdBinary, {"--state-dir", box.state().string(), "--input-dir", box.root().string(), "--input-dir", kTestPlansDir, "--listen", "unix://drd.sock"},
                        box.root() / "relative.log");
    CHECK(relative.waitExit() == 2);
    CHECK_THAT(relative.log(), Catch::Contains("absolute path"));
  }
  SECTION("a socket another drd listens on") {
    DrdProcess first(kDrdBinary, {"--state-dir", box.state().string(), "--input-dir", box.root().string(), "--input-dir", kTestPlansDir}, box.root() / "first.log");
    REQUIRE(first.waitListening());
    DrdProcess second(kDrdBinary, {"--state-dir", box.state().string(), "--input-dir", box.root().string(), "--input-dir", kTestPlansDir}, box.root() / "second.log");
    CHECK(second.waitExit() == 2);
    CHECK_THAT(second.log(), Catch::Contains("another server is listening"));
    CHECK(listRuns(*drdStub(*first.waitListening())).ok());  // the first one was left alone
  }
}

TEST_CASE("drd with --config: schedules listed, Rehearse recorded in the metrics endpoint; a bad config exits 2",
          "[drd][config]") {
  RunSandbox box;
  const fs::path config = box.root() / "drd.yaml";
  writeText(config,
            "metrics_listen: 127.0.0.1:0\n"
            "schedules:\n"
            "  - name: hourly\n"
            "    cron: \"0 * * * *\"\n"
            "    mode: dry-run\n"
            "    inventory: " +
                box.inventory().string() +
                "\n"
                "    snapshot: " +
                box.snapshot().string() +
                "\n"
                "    plan: " +
                kLocalStepsPlan + "\n");
  DrdProcess drd(kDrdBinary, {"--state-dir", box.state().string(), "--input-dir", box.root().string(), "--input-dir", kTestPlansDir, "--config", config.string()},
                 box.root() / "drd.log");
  const auto address = drd.waitListening();
  INFO(drd.log());
  REQUIRE(address);
  auto stub = drdStub(*address);
  {
    v1::ListSchedulesResponse response;
    grpc::ClientContext context;
    withDeadline(context);
    REQUIRE(stub->ListSchedules(&context, {}, &response).ok());
    REQUIRE(response.schedules_size() == 1);
    CHECK(response.schedules(0).name() == "hourly");
    CHECK(response.schedules(0).next_run_ms() > 0);
  }
  v1::RehearseRequest request;
  request.set_schedule("hourly");
  v1::ScheduleResult result;
  grpc::ClientContext context;
  withDeadline(context);
  REQUIRE(stub->Rehearse(&context, request, &result).ok());
  CHECK(result.ok());

  std::smatch port;
  const std::string log = drd.log();
  REQUIRE(std::regex_search(log, port, std::regex("metrics on port ([0-9]+)")));
  httplib::Client http("127.0.0.1", std::stoi(port[1]));
  auto response = http.Get("/metrics");
  REQUIRE(response);
  CHECK(response->status == 200);
  CHECK_THAT(response->body, Catch::Contains("drd_schedule_runs_total{schedule=\"hourly\",mode=\"dry-run\"} 1"));
  CHECK_THAT(response->body, Catch::Contains("drd_schedule_last_success_timestamp_seconds{schedule=\"hourly\""));

  const fs::path bad = box.root() / "bad.yaml";
  writeText(bad, "schedules:\n  - name: x\n    cron: \"61 * * * *\"\n    mode: dry-run\n    inventory: " +
                     box.inventory().string() + "\n    snapshot: " + box.snapshot().string() + "\n");
  DrdProcess refused(kDrdBinary, {"--state-dir", (box.root() / "state2").string(), "--config", bad.string()},
                     box.root() / "bad.log");
  CHECK(refused.waitExit() == 2);
  CHECK_THAT(refused.log(), Catch::Contains(bad.string() + ":3:"));
}
