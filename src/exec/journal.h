// The journal: an append-only record of a run, one file per run (runs/RUN_ID/journal). Every record is fsync'd
// before append() returns, so a step that depends on another starts only after the other's record is durable.
//
// Format (see docs/journal-format.md): a sequence of records, each
//   [length: u32 little-endian][crc32c: u32 little-endian, masked, over type byte + payload][type: u8][payload]
// where payload is compact JSON. A record cut short at the end of the file (the writer died mid-write) is treated
// as the end of the journal; a bad record followed by more data is corruption and stops a resume.
//
// The precise rules (docs/journal-format.md): the payload length excludes the 9-byte header and is capped at
// kJournalMaxPayload; the CRC is CRC32C (Castagnoli) masked like leveldb's. Reading at offset O:
//   - fewer than 9 bytes left, or the length runs past the end of the file       -> torn tail, ignored
//   - the physically last record (it ends exactly at EOF) fails its CRC           -> torn tail, ignored
//     (a crash can leave a record whose size reached the disk but whose bytes did not)
//   - a length over the cap, or a bad CRC with more bytes after the record        -> corruption error
//   - a good CRC but an unknown type or a payload that is not a record's JSON     -> corruption error
// Corruption errors name the file, the byte offset and the record number (1-based, in file order).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
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
  // Added for the executor and `drctl status`; empty when not relevant. Unknown JSON keys are ignored on read, so
  // fields can be added later without breaking old journals.
  std::string host;            // Step*/Undo*: the host the step ran on
  std::string inventory_path;  // RunStarted only
  std::string snapshot_path;   // RunStarted only
  std::string mode;            // RunStarted only: e.g. "apply", "resume", "rollback"

  bool operator==(const JournalRecord&) const = default;
};

inline constexpr std::size_t kJournalHeaderSize = 9;            // length u32 + crc u32 + type u8
inline constexpr std::uint32_t kJournalMaxPayload = 16u << 20;  // a larger length is garbage, not an allocation

// "RunStarted", "StepFinished", ... (used in the payload-free parts of messages and by `drctl status`).
std::string_view recordTypeName(RecordType type);
std::optional<RecordType> recordTypeFromName(std::string_view name);

// The bytes append() writes for a record: header and payload. Exposed so fault tests can write part of a record.
std::string encodeJournalRecord(const JournalRecord& record);

// CRC32C (boost::crc_optimal, Castagnoli polynomial) and leveldb's mask: storing the CRC of data that itself
// contains CRCs is otherwise prone to degenerate values.
std::uint32_t crc32c(std::string_view data);
std::uint32_t maskCrc(std::uint32_t crc);
std::uint32_t unmaskCrc(std::uint32_t masked);

struct JournalOptions {
  // fsync after every append. Turned off only by the benchmark that measures what durability costs.
  bool sync = true;
};

class JournalWriter {
 public:
  // Creates a new journal, failing if one exists.
  static Result<JournalWriter> create(const std::filesystem::path& path, JournalOptions options = {});
  // Opens an existing journal for appending after its last whole record (a torn tail is cut off first).
  // Refuses a journal with corruption before its end: that needs an operator, not an append.
  static Result<JournalWriter> openForAppend(const std::filesystem::path& path, JournalOptions options = {});

  JournalWriter(JournalWriter&&) noexcept;
  JournalWriter& operator=(JournalWriter&&) noexcept;
  JournalWriter(const JournalWriter&) = delete;
  JournalWriter& operator=(const JournalWriter&) = delete;
  ~JournalWriter();

  // Writes one record and fsyncs it. Safe to call from several threads.
  // The record is written with one write() call; on a failed or short write the file is cut back to the last
  // whole record so that later appends do not land behind garbage.
  Status append(const JournalRecord& record);

  const std::filesystem::path& path() const;
  // How many fsync() calls this writer has issued for appends (tests check that every append is synced).
  std::uint64_t syncCount() const;

 private:
  struct Impl;
  explicit JournalWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;  // the fd, the mutex that serializes appends, the end offset
};

struct JournalContents {
  std::vector<JournalRecord> records;
  bool torn_tail = false;         // the last record was cut short (or failed its CRC at EOF) and ignored
  std::uint64_t valid_bytes = 0;  // offset just past the last whole record: where the next append goes
  std::string tail_note;          // when torn_tail: what was ignored and at which offset, for `drctl status`
};

// Reads a whole journal. Damage before the last record is an error naming the byte offset.
Result<JournalContents> readJournal(const std::filesystem::path& path);
// The same rules over bytes already in memory; `source` names them in error messages.
Result<JournalContents> parseJournal(std::string_view bytes, std::string_view source);

}  // namespace dr
