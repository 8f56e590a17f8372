// The backup catalog on real files: listing (sidecar times, links and partial files left out, verdicts read) and
// retention decisions (keep-last, hourly, daily, weekly buckets in UTC, the newest verified backup and the ones a run
// refers to always kept), and pruning a backup with its sidecars.
#include "rehearse/backup_catalog.h"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <fstream>
#include <map>

#include "etcd/snapshot_file.h"
#include "fixtures/temp_dir.h"

namespace dr {
namespace {

namespace fs = std::filesystem;

// A backup file NAME saved at TIME (ISO 8601, UTC) per its sidecar, with the checksum file beside it.
void makeBackup(const fs::path& dir, const std::string& name, const std::string& time, std::int64_t revision = 10) {
  std::ofstream(dir / name) << "db:" << name;
  std::ofstream(dir / (name + ".sha256")) << "00  " << name << "\n";
  std::ofstream(dir / (name + ".json")) << R"({"file": ")" << name << R"(", "time": ")" << time
                                        << R"(", "revision": )" << revision << "}\n";
}

void makeVerdict(const fs::path& dir, const std::string& name, bool ok) {
  std::ofstream(dir / (name + ".verdict.json"))
      << R"({"ok": )" << (ok ? "true" : "false") << R"(, "time": "2026-12-07T12:00:00Z", "message": "m"})";
}

std::map<std::string, RetentionDecision> byName(const std::vector<RetentionDecision>& decisions) {
  std::map<std::string, RetentionDecision> out;
  for (const auto& d : decisions) out[d.backup.path.filename().string()] = d;
  return out;
}

TEST_CASE("UTC times of the sidecars parse, anything else is refused", "[backups]") {
  CHECK(parseUtcTime("2026-12-07T10:00:00Z") == 1796637600000);
  CHECK(parseUtcTime("2026-12-07T10:00:00.123456Z") == 1796637600000);
  CHECK(parseUtcTime("2026-12-07T10:00:00+00:00") == 1796637600000);
  CHECK_FALSE(parseUtcTime("2026-12-07T10:00:00+02:00"));
  CHECK_FALSE(parseUtcTime("2026-13-07T10:00:00Z"));
  CHECK_FALSE(parseUtcTime("yesterday"));
  CHECK(formatUtcTime(1796637600000) == "2026-12-07T10:00:00Z");
}

TEST_CASE("listBackups: newest first by the sidecar's time; sidecars, partial files, hidden files and links are "
          "no backups",
          "[backups]") {
  test::TempDir dir("dr-catalog");
  makeBackup(dir.path, "a.db", "2026-12-07T08:00:00Z", 100);
  makeBackup(dir.path, "b.db", "2026-12-07T10:00:00Z", 200);
  makeBackup(dir.path, "c.db", "2026-12-06T23:30:00Z", 50);
  std::ofstream(dir.path / "d.db.part") << "saving";
  std::ofstream(dir.path / ".e.db.swp") << "editor";
  fs::create_symlink(dir.path / "b.db", dir.path / "link.db");
  std::ofstream(dir.path / "f.db") << "no sidecar";  // the file's own time: now, so the newest
  std::ofstream(dir.path / "g.db") << "bad sidecar";
  std::ofstream(dir.path / "g.db.json") << "{not json";
  makeVerdict(dir.path, "a.db", true);
  makeVerdict(dir.path, "b.db", false);

  auto list = listBackups(dir.path);
  REQUIRE(list);
  std::vector<std::string> names;
  for (const auto& b : *list) names.push_back(b.path.filename().string());
  // f.db and g.db carry the file's time (now), the larger name first; then the sidecars' times.
  CHECK(names == std::vector<std::string>{"g.db", "f.db", "b.db", "a.db", "c.db"});
  const auto& b = (*list)[2];
  CHECK(b.time_source == "sidecar");
  CHECK(b.revision == 200);
  CHECK(b.verified == false);
  CHECK(b.verdict_message == "m");
  CHECK((*list)[3].verified == true);
  CHECK_FALSE((*list)[4].verified);
  CHECK((*list)[0].time_source == "file");
  CHECK_FALSE(listBackups(dir.path / "a.db"));
}

TEST_CASE("retention keeps the newest of each bucket, the newest verified backup and those a run refers to",
          "[backups]") {
  test::TempDir dir("dr-retention");
  // Three a day for three days, on 2026-12-05 (Saturday), -06 (Sunday) and -07 (Monday: a new ISO week).
  for (const char* day : {"05", "06", "07"}) {
    for (const char* hour : {"02", "10", "18"}) {
      makeBackup(dir.path, fmt::format("etcd-{}-{}.db", day, hour), fmt::format("2026-12-{}T{}:00:00Z", day, hour));
    }
  }
  makeVerdict(dir.path, "etcd-07-18.db", false);  // the newest failed its test-restore
  makeVerdict(dir.path, "etcd-06-02.db", true);   // the newest that passed
  auto list = listBackups(dir.path);
  REQUIRE(list);
  REQUIRE(list->size() == 9);
  // drd's gauge of the newest good backup: the newest that passed, not the newest (which failed).
  CHECK(newestVerifiedBackupMs(dir.path) == parseUtcTime("2026-12-06T02:00:00Z"));
  CHECK_FALSE(newestVerifiedBackupMs(dir.path / "missing"));

  RetentionPolicy policy;
  policy.keep_last = 2;
  policy.keep_daily = 2;
  policy.keep_weekly = 2;
  const std::set<fs::path> referenced = {fs::absolute(dir.path / "etcd-05-10.db")};
  const auto d = byName(planRetention(*list, policy, referenced));
  REQUIRE(d.size() == 9);
  CHECK(d.at("etcd-07-18.db").keep);  // one of the 2 newest (its failed verdict does not protect it, nor prune it)
  CHECK(d.at("etcd-07-10.db").keep);
  CHECK(d.at("etcd-06-18.db").keep);  // newest of day 2026-12-06, and of ISO week 2026-W49
  CHECK(d.at("etcd-06-18.db").reasons ==
        std::vector<std::string>{"newest of day 2026-12-06", "newest of week 2026-W49"});
  CHECK(d.at("etcd-06-02.db").keep);  // the newest backup that passed its test-restore
  CHECK(d.at("etcd-06-02.db").reasons == std::vector<std::string>{"the newest backup that passed its test-restore"});
  CHECK(d.at("etcd-05-10.db").keep);  // a run refers to it
  for (const char* pruned : {"etcd-07-02.db", "etcd-06-10.db", "etcd-05-18.db", "etcd-05-02.db"}) {
    INFO(pruned);
    CHECK_FALSE(d.at(pruned).keep);
  }

  // Hourly: the newest of each of the 4 latest hours that have a backup.
  RetentionPolicy hourly;
  hourly.keep_hourly = 4;
  int kept = 0;
  for (const auto& decision : planRetention(*list, hourly, {})) kept += decision.keep ? 1 : 0;
  CHECK(kept == 5);  // 4 hours + the newest verified one
  CHECK(RetentionPolicy{}.empty());
}

TEST_CASE("removeBackup deletes the file and every sidecar, and a missing sidecar is no error", "[backups]") {
  test::TempDir dir("dr-prune");
  makeBackup(dir.path, "a.db", "2026-12-07T08:00:00Z");
  makeVerdict(dir.path, "a.db", true);
  std::ofstream(dir.path / "b.db") << "alone";
  REQUIRE(removeBackup(dir.path / "a.db"));
  REQUIRE(removeBackup(dir.path / "b.db"));
  CHECK(fs::is_empty(dir.path));
}

}  // namespace
}  // namespace dr
