// loadDrdConfig: a full valid file, and each problem reported with its FILE:LINE:COLUMN.
#include <sys/stat.h>

#include "rehearse/drd_config.h"

#include <catch2/catch.hpp>
#include <fstream>

#include "fixtures/temp_dir.h"

namespace dr {
namespace {

// A directory holding the files a config refers to, and a helper that writes the config itself.
struct ConfigDir {
  test::TempDir dir{"dr-drd-config"};
  ConfigDir() {
    std::filesystem::create_directories(dir.path / "inventory");
    std::filesystem::create_directories(dir.path / "backups");
    std::filesystem::create_directories(dir.path / "tls");
    for (const char* file :
         {"inventory/prod.yaml", "backups/etcd-1.db", "tls/ca.pem", "tls/drd.pem", "tls/drd.key", "my-plan.yaml"}) {
      std::ofstream(dir.path / file) << "x\n";
    }
  }
  std::filesystem::path write(const std::string& text) const {
    const auto path = dir.path / "drd.yaml";
    std::ofstream(path) << text;
    return path;
  }
  // The errors of loading `text`, each line prefixed with the file name as the loader prints it.
  std::string errors(const std::string& text) const {
    auto loaded = loadDrdConfig(write(text));
    REQUIRE_FALSE(loaded.ok());
    return loaded.error().message;
  }
  std::string at(int line, int column) const {
    return (dir.path / "drd.yaml").string() + ":" + std::to_string(line) + ":" + std::to_string(column) + ": ";
  }
};

TEST_CASE("drd config: a full valid file", "[config]") {
  ConfigDir d;
  auto loaded = loadDrdConfig(d.write(R"(metrics_listen: 127.0.0.1:9464
tls:
  ca: tls/ca.pem
  cert: tls/drd.pem
  key: tls/drd.key
etcd: /usr/bin/etcd
etcdctl: /usr/bin/etcdctl
schedules:
  - name: nightly-rehearsal
    cron: "0 3 * * *"
    mode: dry-run
    inventory: inventory/prod.yaml
    backup_dir: backups
  - name: pinned
    cron: "@weekly"
    inventory: inventory/prod.yaml
    snapshot: backups/etcd-1.db
    plan: my-plan.yaml
  - name: prove-backups
    cron: "*/30 * * * *"
    mode: test-restore
    backup_dir: backups
)"));
  REQUIRE(loaded.ok());
  const DrdConfig& config = *loaded;
  const auto base = d.dir.path;
  CHECK(config.metrics_listen == "127.0.0.1:9464");
  CHECK(config.tls_ca == (base / "tls/ca.pem").string());
  CHECK(config.tls_cert == (base / "tls/drd.pem").string());
  CHECK(config.tls_key == (base / "tls/drd.key").string());
  CHECK(config.etcd == "/usr/bin/etcd");
  CHECK(config.etcdctl == "/usr/bin/etcdctl");
  REQUIRE(config.schedules.size() == 3);

  const ScheduleConfig& nightly = config.schedules[0];
  CHECK(nightly.name == "nightly-rehearsal");
  CHECK(nightly.cron == "0 3 * * *");
  CHECK(nightly.schedule.text() == "0 3 * * *");
  CHECK(nightly.schedule.next(std::chrono::sys_days(std::chrono::year{2024} / 1 / 1)).has_value());
  CHECK(nightly.mode == ScheduleMode::DryRun);
  CHECK(nightly.inventory == (base / "inventory/prod.yaml").string());
  CHECK(nightly.backup_dir == (base / "backups").string());
  CHECK(nightly.snapshot.empty());
  CHECK(nightly.plan == "full-restore");

  const ScheduleConfig& pinned = config.schedules[1];
  CHECK(pinned.mode == ScheduleMode::DryRun);  // the default
  CHECK(pinned.snapshot == (base / "backups/etcd-1.db").string());
  CHECK(pinned.plan == (base / "my-plan.yaml").string());

  const ScheduleConfig& prove = config.schedules[2];
  CHECK(prove.mode == ScheduleMode::TestRestore);
  CHECK(std::string(scheduleModeName(prove.mode)) == "test-restore");
  CHECK(std::string(scheduleModeName(ScheduleMode::DryRun)) == "dry-run");
  CHECK(prove.backup_dir == (base / "backups").string());
  CHECK(prove.inventory.empty());
}

TEST_CASE("drd config: an empty file has nothing scheduled and defaults apply", "[config]") {
  ConfigDir d;
  auto loaded = loadDrdConfig(d.write(""));
  REQUIRE(loaded.ok());
  CHECK(loaded->schedules.empty());
  CHECK(loaded->metrics_listen.empty());
  CHECK(loaded->etcd == "etcd");
  CHECK(loaded->etcdctl == "etcdctl");
  CHECK(loaded->tls_ca.empty());
}

TEST_CASE("drd config: a missing file and a directory are errors", "[config]") {
  ConfigDir d;
  auto missing = loadDrdConfig(d.dir.path / "nope.yaml");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message == (d.dir.path / "nope.yaml").string() + ": cannot open the config file: No such file or directory");
  auto directory = loadDrdConfig(d.dir.path);
  REQUIRE_FALSE(directory.ok());
  CHECK(directory.error().message.find("is a directory") != std::string::npos);
}

TEST_CASE("drd config: YAML syntax errors and a non-mapping file are located", "[config]") {
  ConfigDir d;
  CHECK(d.errors("schedules: [\n").rfind(d.at(2, 1) + "YAML syntax error: ", 0) == 0);
  CHECK(d.errors("- a\n- b\n") ==
        d.at(1, 1) + "the drd config must be a mapping (schedules, metrics_listen, ...), not a list");
  CHECK(d.errors("metrics_listen: 127.0.0.1:9100\n---\nmetrics_listen: 0.0.0.0:80\n") ==
        d.at(3, 1) + "a second YAML document starts here: the drd config is one document");
  // A FIFO or a device is not a config file: refused at once, not read until it ends (or forever).
  const std::filesystem::path fifo = d.dir.path / "fifo.yaml";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  for (const std::filesystem::path& odd : {fifo, std::filesystem::path("/dev/zero")}) {
    auto loaded = loadDrdConfig(odd);
    REQUIRE_FALSE(loaded.ok());
    CHECK_THAT(loaded.error().message, Catch::Contains(odd.string()) && Catch::Contains("must be a regular file"));
  }
}

TEST_CASE("drd config: input_dirs are absolute existing directories, each checked at its place", "[config]") {
  ConfigDir d;
  auto loaded = loadDrdConfig(d.write("input_dirs: [" + d.dir.path.string() + "/, /tmp]\n"));
  REQUIRE(loaded.ok());
  CHECK(loaded->input_dirs == std::vector<std::string>{d.dir.path.string() + "/", "/tmp"});
  CHECK(d.errors("input_dirs:\n  - relative/dir\n  - /no/such/dir\n") ==
        d.at(2, 5) + "each of input_dirs must be the absolute path of an existing directory\n" + d.at(3, 5) +
            "each of input_dirs must be the absolute path of an existing directory");
}

TEST_CASE("drd config: unknown keys get a did-you-mean, at their place", "[config]") {
  ConfigDir d;
  const std::string errors = d.errors(R"(metric_listen: 127.0.0.1:1
schedules:
  - name: a
    crom: "* * * * *"
    mode: test-restore
    backup_dir: backups
)");
  CHECK(errors == d.at(1, 1) + "unknown key 'metric_listen' in the drd config; did you mean 'metrics_listen'?\n" +
                      d.at(3, 5) + "schedule 'a' is missing required key 'cron'\n" + d.at(4, 5) +
                      "unknown key 'crom' in schedule 'a'; did you mean 'cron'?");
}

TEST_CASE("drd config: a bad cron names the schedule and the field", "[config]") {
  ConfigDir d;
  CHECK(d.errors(R"(schedules:
  - name: nightly
    cron: "0 25 * * *"
    mode: test-restore
    backup_dir: backups
)") == d.at(3, 11) + "'cron' in schedule 'nightly': hour field '25': 25 is out of range 0-23");
}

TEST_CASE("drd config: duplicate and malformed names", "[config]") {
  ConfigDir d;
  CHECK(d.errors(R"(schedules:
  - name: nightly
    cron: "@daily"
    mode: test-restore
    backup_dir: backups
  - name: nightly
    cron: "@hourly"
    mode: test-restore
    backup_dir: backups
  - name: "bad name;"
    cron: "@hourly"
    mode: test-restore
    backup_dir: backups
)") == d.at(6, 11) + "'name' in schedule 'nightly' is already used by another schedule (first at line 2)\n" +
            d.at(10, 11) +
            "'name' in schedule 'bad name;' may hold only letters, digits, '-', '_' and '.' (not first): it becomes a "
            "metric label");
}

TEST_CASE("drd config: required keys per mode", "[config]") {
  ConfigDir d;
  const std::string errors = d.errors(R"(schedules:
  - cron: "@daily"
    mode: test-restore
  - name: rehearse
    cron: "@daily"
  - name: rehearse2
    cron: "@daily"
    inventory: inventory/prod.yaml
)");
  CHECK(errors == d.at(2, 5) + "schedule is missing required key 'name'\n" + d.at(2, 5) +
                      "schedule (test-restore) is missing required key 'backup_dir'\n" + d.at(4, 5) +
                      "schedule 'rehearse' (dry-run) is missing required key 'inventory'\n" + d.at(4, 5) +
                      "schedule 'rehearse' (dry-run) needs 'snapshot' or 'backup_dir' (its newest snapshot)\n" +
                      d.at(6, 5) +
                      "schedule 'rehearse2' (dry-run) needs 'snapshot' or 'backup_dir' (its newest snapshot)");
}

TEST_CASE("drd config: bad values are reported at the value", "[config]") {
  ConfigDir d;
  const std::string errors = d.errors(R"(metrics_listen: localhost
etcd: [a, b]
schedules:
  - name: x
    cron: "@daily"
    mode: test-restor
    backup_dir: no-such-dir
  - name: y
    cron: "@daily"
    inventory: inventory/missing.yaml
    snapshot: backups/etcd-1.db
    plan: ful-restore
  - name: z
    cron: "@daily"
    mode: test-restore
    backup_dir: backups
    snapshot: backups/etcd-1.db
  - just a string
)");
  const auto base = d.dir.path.string();
  CHECK(errors ==
        d.at(1, 17) + "'metrics_listen' in the drd config must be HOST:PORT, e.g. 127.0.0.1:9464\n" + d.at(2, 7) +
            "'etcd' in the drd config must be a string, not a list\n" + d.at(6, 11) +
            "'mode' in schedule 'x' must be one of dry-run, test-restore, backup, not 'test-restor'; did you mean "
            "'test-restore'?\n" +
            d.at(7, 17) + "'backup_dir' in schedule 'x' names a directory " + base +
            "/no-such-dir that does not exist\n" + d.at(10, 16) + "'inventory' in schedule 'y' names a file " + base +
            "/inventory/missing.yaml that does not exist\n" + d.at(12, 11) +
            "'plan' in schedule 'y' 'ful-restore' is not a built-in plan template (full-restore, replace-member); "
            "did you mean "
            "'full-restore'?; a file path must contain a '/' or end in .yaml\n" +
            d.at(17, 5) +
            "'snapshot' has no effect in test-restore mode (it restores the newest snapshot of backup_dir into a "
            "throwaway etcd)\n" +
            d.at(18, 5) + "a schedule must be a mapping (name, cron, mode, ...), not 'just a string'");
}

TEST_CASE("drd config: listen ports and TLS files", "[config]") {
  ConfigDir d;
  CHECK(d.errors("metrics_listen: 127.0.0.1:99999\n") ==
        d.at(1, 17) + "'metrics_listen' in the drd config has port '99999': expected a number in 0..65535");
  CHECK(d.errors("tls:\n  ca: tls/ca.pem\n  cert: tls/drd.pem\n") ==
        d.at(2, 3) + "tls needs all of 'ca' (to check client certificates), 'cert' and 'key'");
  CHECK(d.errors("tls:\n  ca: tls/ca.pem\n  cert: tls/drd.pem\n  key: tls/nope.key\n") ==
        d.at(4, 8) + "'key' in tls names a file " + d.dir.path.string() + "/tls/nope.key that does not exist");
  auto any_port = loadDrdConfig(d.write("metrics_listen: 127.0.0.1:0\n"));
  REQUIRE(any_port.ok());
  CHECK(any_port->metrics_listen == "127.0.0.1:0");
}

}  // namespace
}  // namespace dr

namespace dr {
TEST_CASE("drd config: a backup schedule with encryption, a bucket, retention and the object store", "[config]") {
  ConfigDir d;
  std::ofstream(d.dir.path / "backup.key") << std::string(64, 'a') << "\n";
  std::ofstream(d.dir.path / "s3-credentials") << "[default]\n";
  auto loaded = loadDrdConfig(d.write(R"(object_store:
  endpoint: http://127.0.0.1:9000
  region: eu-west-1
  credentials_file: s3-credentials
schedules:
  - name: hourly
    cron: "0 * * * *"
    mode: backup
    inventory: inventory/prod.yaml
    backup_dir: backups
    encryption_key_file: backup.key
    bucket: s3://etcd-backups/prod/
    retention: {keep_last: 3, keep_hourly: 24, keep_daily: 7, keep_weekly: 4}
)"));
  INFO((loaded ? std::string() : loaded.error().message));
  REQUIRE(loaded.ok());
  REQUIRE(loaded->schedules.size() == 1);
  const ScheduleConfig& s = loaded->schedules[0];
  CHECK(s.mode == ScheduleMode::Backup);
  CHECK(std::string(scheduleModeName(s.mode)) == "backup");
  CHECK(s.encryption_key_file == (d.dir.path / "backup.key").string());
  CHECK(s.bucket == "s3://etcd-backups/prod/");
  CHECK(s.retention.keep_last == 3);
  CHECK(s.retention.keep_hourly == 24);
  CHECK(s.retention.keep_daily == 7);
  CHECK(s.retention.keep_weekly == 4);
  CHECK(loaded->object_store.endpoint == "http://127.0.0.1:9000");
  CHECK(loaded->object_store.region == "eu-west-1");
  CHECK(loaded->object_store.credentials_file == (d.dir.path / "s3-credentials").string());
}

TEST_CASE("drd config: a backup schedule's mistakes, each at its place", "[config]") {
  ConfigDir d;
  const std::string errors = d.errors(R"(object_store:
  endpoint: ftp://store
schedules:
  - name: b1
    cron: "@hourly"
    mode: backup
    snapshot: backups/etcd-1.db
    bucket: s3://No_Such_Bucket!/x
    retention: {keep_last: 0, keep_daily: many}
  - name: t1
    cron: "@hourly"
    mode: test-restore
    backup_dir: backups
    bucket: s3://etcd-backups/
)");
  CHECK(errors.find(d.at(2, 13) + "'endpoint' in object_store must be http://HOST[:PORT] or https://HOST[:PORT]") !=
        std::string::npos);
  CHECK(errors.find("schedule 'b1' (backup) is missing required key 'inventory' (the cluster to save)") !=
        std::string::npos);
  CHECK(errors.find("schedule 'b1' (backup) is missing required key 'backup_dir' (where backups go)") !=
        std::string::npos);
  CHECK(errors.find(d.at(7, 5) + "'snapshot' has no effect in backup mode") != std::string::npos);
  CHECK(errors.find(d.at(8, 13)) != std::string::npos);  // the bucket, at its value
  CHECK(errors.find("'many' is not a count of backups") != std::string::npos);
  CHECK(errors.find("retention keeps nothing") != std::string::npos);
  CHECK(errors.find(d.at(14, 5) + "'bucket' belongs to a backup schedule (mode: backup), not a test-restore") !=
        std::string::npos);
}
}  // namespace dr
