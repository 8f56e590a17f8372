// The drctl etcd/snapshot commands end to end: the real binary against a real cluster, exit codes and messages.
#include <catch2/catch.hpp>

#include <fstream>

#include "etcd/etcd_client.h"
#include "drctl_program.h"
#include "fixtures/etcd_fixture.h"

using namespace dr;
namespace fs = std::filesystem;

namespace {
using test::drctl;
using test::kDrctl;
}  // namespace

TEST_CASE("drctl etcd status/verify and snapshot save/verify/status/encrypt/decrypt", "[etcd][cli][real]") {
  REQUIRE(fs::exists(kDrctl));
  test::EtcdCluster cluster;
  const std::string inventory = cluster.writeInventoryFile().string();

  auto status = drctl({"etcd", "status", "-i", inventory});
  INFO(status.output);
  CHECK(status.exit_code == 0);
  CHECK_THAT(status.output, Catch::Contains("3 of 3 members healthy") && Catch::Contains("3.4.23"));

  auto verify = drctl({"etcd", "verify", "-i", inventory, "--wait", "5s"});
  INFO(verify.output);
  CHECK(verify.exit_code == 0);
  CHECK_THAT(verify.output, Catch::Contains("etcd verified"));
  CHECK(drctl({"etcd", "verify", "-i", inventory, "--wait", "soon"}).exit_code == 2);
  CHECK(drctl({"etcd", "verify", "-i", "/nonexistent.yaml"}).exit_code == 2);
  auto low = drctl({"etcd", "verify", "-i", inventory, "--min-revision", "999999"});
  CHECK(low.exit_code == 1);
  CHECK_THAT(low.output, Catch::Contains("below the snapshot's revision 999999"));

  const std::string file = (cluster.dir() / "backup.db").string();
  auto save = drctl({"snapshot", "save", "-i", inventory, "-o", file});
  INFO(save.output);
  REQUIRE(save.exit_code == 0);
  CHECK(fs::exists(file + ".sha256"));
  CHECK(fs::exists(file + ".json"));
  CHECK(drctl({"snapshot", "verify", file}).exit_code == 0);
  auto snap_status = drctl({"snapshot", "status", file});
  CHECK(snap_status.exit_code == 0);
  CHECK_THAT(snap_status.output, Catch::Contains("revision") && Catch::Contains("present, verified"));

  const std::string key = (cluster.dir() / "key").string();
  std::ofstream(key) << std::string(64, 'a') << "\n";
  const std::string enc = file + ".enc";
  const std::string dec = (cluster.dir() / "decrypted.db").string();
  REQUIRE(drctl({"snapshot", "encrypt", "--key-file", key, "-i", file, "-o", enc}).exit_code == 0);
  auto enc_status = drctl({"snapshot", "status", enc});
  CHECK_THAT(enc_status.output, Catch::Contains("encrypted  yes"));
  REQUIRE(drctl({"snapshot", "decrypt", "--key-env", "DR_KEY", "-i", enc, "-o", dec}, {"DR_KEY=" + std::string(64, 'a')})
              .exit_code == 0);
  CHECK(drctl({"snapshot", "verify", dec}).exit_code == 0);
  auto wrong = drctl({"snapshot", "decrypt", "--key-env", "DR_KEY", "-i", enc, "-o", dec + "2"},
                     {"DR_KEY=" + std::string(64, 'b')});
  CHECK(wrong.exit_code == 1);
  CHECK_FALSE(fs::exists(dec + "2"));
  CHECK(drctl({"snapshot", "encrypt", "-i", file, "-o", enc}).exit_code == 2);  // no key given

  // Damage: one flipped byte makes verify fail with exit 1.
  {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(4096);
    f.put('\x7f');
  }
  auto damaged = drctl({"snapshot", "verify", file});
  CHECK(damaged.exit_code == 1);
  CHECK(drctl({"snapshot", "verify", "/nonexistent.db"}).exit_code == 2);

  // A stopped member: verify names it; status still reports quorum (2 of 3).
  // A follower, so no election makes the checks below fail transiently.
  int follower = 2;
  while (follower > 0 && EtcdClient::open(cluster.clientUrl(follower), {})->status()->isLeader()) --follower;
  cluster.stopMember(follower);
  auto degraded = drctl({"etcd", "verify", "-i", inventory, "--timeout", "1s"});
  CHECK(degraded.exit_code == 1);
  CHECK_THAT(degraded.output, Catch::Contains("etcd-" + std::to_string(follower) + " (" + cluster.clientUrl(follower) +
                                              "): unreachable"));
  auto still = drctl({"etcd", "status", "-i", inventory, "--timeout", "1s"});
  CHECK(still.exit_code == 0);
  CHECK_THAT(still.output, Catch::Contains("2 of 3 members healthy"));
}

TEST_CASE("drctl etcd verify over TLS; an expired client certificate is refused", "[etcd][cli][tls][real]") {
  REQUIRE(fs::exists(kDrctl));
  test::EtcdCluster cluster({.members = 1, .tls = true});
  const auto inventory = cluster.writeInventoryFile();
  auto ok = drctl({"etcd", "verify", "-i", inventory.string()});
  INFO(ok.output);
  CHECK(ok.exit_code == 0);

  auto certs = const_cast<test::TestCertificates*>(cluster.certificates());
  const auto [cert, key] = certs->issueBetween("old-client", "20200101000000Z", "20200201000000Z");
  fs::copy_file(cert, certs->client_cert, fs::copy_options::overwrite_existing);
  fs::copy_file(key, certs->client_key, fs::copy_options::overwrite_existing);
  auto expired = drctl({"etcd", "verify", "-i", inventory.string()});
  CHECK(expired.exit_code == 1);
  CHECK_THAT(expired.output, Catch::Contains("expired on 2020-02-01"));
}
