// drd's schedule history on disk: results survive a reopen (drd's restart) in order; a torn last line (drd killed
// while appending) is skipped and mended; the file stays bounded; a history that is not a regular file is refused.
#include "drd/schedule_history.h"

#include <catch2/catch.hpp>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "fixtures/file_text.h"
#include "fixtures/temp_dir.h"

namespace fs = std::filesystem;
using dr::drd::ScheduleHistory;
using dr::drd::v1::ScheduleResult;

namespace {

ScheduleResult result(const std::string& schedule, int n, bool ok) {
  ScheduleResult r;
  r.set_schedule(schedule);
  r.set_mode("backup");
  r.set_ok(ok);
  r.set_message("run " + std::to_string(n));
  r.set_finished_ms(1'796'000'000'000 + n * 3'600'000LL);
  r.set_duration_ms(1000 + n);
  r.set_rto_ms(ok ? 900 : 0);
  r.add_pruned("/backups/old-" + std::to_string(n) + ".db");
  return r;
}

}  // namespace

TEST_CASE("schedule history: results survive a reopen, in order, with every field", "[drd][history]") {
  dr::test::TempDir dir("dr-history");
  const fs::path file = dir.path / "schedules" / "history.jsonl";
  {
    auto history = ScheduleHistory::open(file);
    REQUIRE(history.ok());
    CHECK((*history)->results().empty());
    for (int n = 1; n <= 3; ++n) REQUIRE((*history)->append(result(n == 2 ? "nightly" : "hourly", n, n != 3)).ok());
  }
  struct stat st {};
  REQUIRE(::stat(file.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto reopened = ScheduleHistory::open(file);
  REQUIRE(reopened.ok());
  CHECK((*reopened)->warnings().empty());
  const auto results = (*reopened)->results();
  REQUIRE(results.size() == 3);
  CHECK(results[0].schedule() == "hourly");
  CHECK(results[1].schedule() == "nightly");
  CHECK(results[2].message() == "run 3");
  CHECK_FALSE(results[2].ok());
  CHECK(results[0].rto_ms() == 900);
  CHECK(results[1].finished_ms() == 1'796'000'000'000 + 2 * 3'600'000LL);
  REQUIRE(results[0].pruned_size() == 1);
  CHECK(results[0].pruned(0) == "/backups/old-1.db");
}

TEST_CASE("schedule history: a torn last line is skipped, said so, and mended before the next append",
          "[drd][history]") {
  dr::test::TempDir dir("dr-history");
  const fs::path file = dir.path / "history.jsonl";
  {
    auto history = ScheduleHistory::open(file);
    REQUIRE(history.ok());
    REQUIRE((*history)->append(result("hourly", 1, true)).ok());
  }
  // drd killed in the middle of its second append: half a line, no newline.
  const std::string whole = dr::test::fileText(file);
  std::ofstream(file, std::ios::app) << whole.substr(0, whole.size() / 2);
  {
    auto history = ScheduleHistory::open(file);
    REQUIRE(history.ok());
    REQUIRE((*history)->warnings().size() == 1);
    CHECK((*history)->warnings()[0].find(":2: a torn last result") != std::string::npos);
    REQUIRE((*history)->results().size() == 1);
    REQUIRE((*history)->append(result("hourly", 2, true)).ok());
  }
  auto history = ScheduleHistory::open(file);
  REQUIRE(history.ok());
  CHECK((*history)->warnings().empty());
  const auto results = (*history)->results();
  REQUIRE(results.size() == 2);
  CHECK(results[1].message() == "run 2");
}

TEST_CASE("schedule history: bounded, keeping the newest", "[drd][history]") {
  dr::test::TempDir dir("dr-history");
  const fs::path file = dir.path / "history.jsonl";
  {
    auto history = ScheduleHistory::open(file, 3);
    REQUIRE(history.ok());
    for (int n = 1; n <= 7; ++n) REQUIRE((*history)->append(result("hourly", n, true)).ok());
    // Above twice the bound (7 > 6) it was cut to the newest 3, and appending went on into the rewritten file.
    const auto results = (*history)->results();
    REQUIRE(results.size() == 3);
    CHECK(results.front().message() == "run 5");
    CHECK(results.back().message() == "run 7");
  }
  auto history = ScheduleHistory::open(file, 3);
  REQUIRE(history.ok());
  const auto results = (*history)->results();
  REQUIRE(results.size() == 3);
  CHECK(results.front().message() == "run 5");
}

TEST_CASE("schedule history: a directory or a FIFO in its place is refused", "[drd][history]") {
  dr::test::TempDir dir("dr-history");
  fs::create_directories(dir.path / "dir.jsonl");
  CHECK_FALSE(ScheduleHistory::open(dir.path / "dir.jsonl").ok());
  REQUIRE(::mkfifo((dir.path / "fifo.jsonl").c_str(), 0600) == 0);
  auto fifo = ScheduleHistory::open(dir.path / "fifo.jsonl");
  REQUIRE_FALSE(fifo.ok());
  CHECK(fifo.error().message.find("fifo.jsonl") != std::string::npos);
}
