// What durability costs: journal appends per second with an fsync per record (as the executor runs) against the
// same appends without it, measured in one run, plus how fast a journal is read back. A restore has tens of steps,
// so even a slow disk's fsync rate is far from mattering; this shows by how much.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include "exec/journal.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

dr::JournalRecord sampleRecord(int i) {
  dr::JournalRecord r;
  r.type = dr::RecordType::StepFinished;
  r.time_ms = 1795000000000 + i;
  r.step_id = "restore@etcd-" + std::to_string(i % 5);
  r.host = "10.0.0." + std::to_string(i % 5);
  r.attempt = 1;
  r.exit_code = 0;
  r.duration_ms = 1234;
  r.output_sha256 = std::string(64, 'e');
  return r;
}

// Appends `count` records to a fresh journal and returns appends per second, or a negative value on failure.
double appendsPerSecond(const fs::path& path, int count, bool sync) {
  auto writer = dr::JournalWriter::create(path, dr::JournalOptions{.sync = sync});
  if (!writer) {
    std::fprintf(stderr, "%s\n", writer.error().message.c_str());
    return -1;
  }
  auto start = Clock::now();
  for (int i = 0; i < count; ++i) {
    if (auto appended = writer->append(sampleRecord(i)); !appended) {
      std::fprintf(stderr, "%s\n", appended.error().message.c_str());
      return -1;
    }
  }
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return count / seconds;
}

}  // namespace

int main(int argc, char** argv) {
  int synced_count = argc > 1 ? std::stoi(argv[1]) : 300;
  int unsynced_count = synced_count * 20;
  std::string pattern = (fs::temp_directory_path() / "dr-bench-journal-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) return 1;
  fs::path dir = pattern;

  double with_fsync = appendsPerSecond(dir / "synced", synced_count, true);
  double without_fsync = appendsPerSecond(dir / "unsynced", unsynced_count, false);

  auto start = Clock::now();
  auto contents = dr::readJournal(dir / "unsynced");
  double read_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::uintmax_t bytes = fs::file_size(dir / "unsynced");
  fs::remove_all(dir);
  if (with_fsync < 0 || without_fsync < 0 || !contents || contents->records.size() != std::size_t(unsynced_count)) {
    std::fprintf(stderr, "benchmark failed\n");
    return 1;
  }

  std::printf("journal appends with fsync:    %10.0f /s  (%d records, %.3f ms each)\n", with_fsync, synced_count,
              1000.0 / with_fsync);
  std::printf("journal appends without fsync: %10.0f /s  (%d records)\n", without_fsync, unsynced_count);
  std::printf("ratio without/with fsync:      %10.1fx\n", without_fsync / with_fsync);
  std::printf("journal read:                  %10.0f records/s  (%ju bytes, %.1f MB/s)\n",
              unsynced_count / read_seconds, bytes, bytes / read_seconds / 1e6);
  return 0;
}
