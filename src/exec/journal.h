// The journal: an append-only record of a run, one file per run (runs/RUN_ID/journal). Every record is fsync'd
// before append() returns, so a step that depends on another starts only after the other's record is durable.
//
// Format (see docs/journal-format.md): a sequence of records, each
//   [length: u32 little-endian][crc32c: u32 little-endian, masked, over type byte + payload][type: u8][payload]
// where payload is compact JSON. A record cut short at the end of the file (the writer died mid-write) is treated
// as the end of the journal; a bad record followed by more data is corruption and stops a resume.
#pragma once

#include <cstdint>
#include <memory>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace dr {

enum class RecordType : std::uint8_t {
  RunStarted = 1,    // plan fingerprint, run id, inventory/snapshot paths, mode
  StepStarted = 2,   // step id, attempt
  StepFinished = 3,  // step id, exit code, duration, output digest
  StepFailed = 4,    // step id, exit code or transport error, duration, output digest, message
  StepSkipped = 5,   // step id, why (its check showed it already done on resume)
  RunHalted = 6,     // why (failed step, signal)
  RunFinished = 7,   // success
  UndoStarted = 8,   // rollback: step id
  UndoFinished = 9,
  UndoFailed = 10,
  RollbackFinished = 11,
};

struct JournalRecord {
  RecordType type = RecordType::RunStarted;
  std::int64_t time_ms = 0;  // wall clock, milliseconds since the epoch
  std::string step_id;       // empty for run-level records
  int attempt = 0;
  std::optional<int> exit_code;
  std::int64_t duration_ms = 0;
  std::string output_sha256;
  std::string message;
  std::string fingerprint;  // RunStarted only
  std::string run_id;       // RunStarted only
};

class JournalWriter {
 public:
  // Creates a new journal, failing if one exists.
  static Result<JournalWriter> create(const std::filesystem::path& path);
  // Opens an existing journal for appending after its last whole record (a torn tail is cut off first).
  static Result<JournalWriter> openForAppend(const std::filesystem::path& path);

  JournalWriter(JournalWriter&&) noexcept;
  JournalWriter& operator=(JournalWriter&&) noexcept;
  JournalWriter(const JournalWriter&) = delete;
  JournalWriter& operator=(const JournalWriter&) = delete;
  ~JournalWriter();

  // Writes one record and fsyncs it. Safe to call from several threads.
  Status append(const JournalRecord& record);

 private:
  explicit JournalWriter(int fd);
  int fd_ = -1;
  struct Impl;
  std::unique_ptr<Impl> impl_;  // the mutex that serializes appends
};

struct JournalContents {
  std::vector<JournalRecord> records;
  bool torn_tail = false;  // the last record was cut short and ignored
};

// Reads a whole journal. Damage before the last record is an error naming the byte offset.
Result<JournalContents> readJournal(const std::filesystem::path& path);

}  // namespace dr
