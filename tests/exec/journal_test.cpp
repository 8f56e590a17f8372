// The journal: round trips, torn tails at every byte offset, corruption with its offset, append after reopen,
// concurrent appends, fsync counting.
#include "exec/journal.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>
#include "fixtures/temp_dir.h"

namespace fs = std::filesystem;
using namespace dr;

namespace {

using dr::test::TempDir;

void writeBytes(const fs::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string readBytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

JournalRecord fullRecord(RecordType type, int n) {
  JournalRecord r;
  r.type = type;
  r.time_ms = 1795000000000 + n;
  r.step_id = "restore@etcd-" + std::to_string(n);
  r.attempt = n + 1;
  r.exit_code = n % 3 == 0 ? 0 : 100 + n;
  r.duration_ms = 1234 + n;
  r.output_sha256 = std::string(64, 'a');
  r.message = "line one\nline \"two\"\t\u00e9\u6f22 {not json}";
  r.fingerprint = "f1ngerprint";
  r.run_id = "20261123-091500-a1b2c3";
  r.host = "10.0.0." + std::to_string(n);
  r.inventory_path = "/etc/dr/inventory.yaml";
  r.snapshot_path = "/backups/snap.db";
  r.mode = "apply";
  return r;
}

const std::vector<RecordType> kAllTypes = {
    RecordType::RunStarted,   RecordType::StepStarted, RecordType::StepFinished,    RecordType::StepFailed,
    RecordType::StepSkipped,  RecordType::RunHalted,   RecordType::RunFinished,     RecordType::UndoStarted,
    RecordType::UndoFinished, RecordType::UndoFailed,  RecordType::RollbackFinished};

// Three records of different sizes, and the offsets where each ends.
struct ThreeRecords {
  std::string bytes;
  std::vector<std::size_t> ends;
  std::vector<JournalRecord> records;
};

ThreeRecords threeRecords() {
  ThreeRecords t;
  JournalRecord a;
  a.type = RecordType::RunStarted;
  a.time_ms = 1;
  a.run_id = "r1";
  a.fingerprint = "abc";
  JournalRecord b = fullRecord(RecordType::StepStarted, 2);
  JournalRecord c;
  c.type = RecordType::StepFinished;
  c.time_ms = 3;
  c.step_id = "stop-etcd@m1";
  c.exit_code = 0;
  for (const auto& r : {a, b, c}) {
    t.bytes += encodeJournalRecord(r);
    t.ends.push_back(t.bytes.size());
    t.records.push_back(r);
  }
  return t;
}

}  // namespace

TEST_CASE("crc32c is Castagnoli's and the mask is reversible and not the identity", "[journal]") {
  CHECK(crc32c("123456789") == 0xE3069283u);  // the standard CRC-32C check value
  CHECK(crc32c("") == 0u);
  for (std::uint32_t crc : {0u, 1u, 0xE3069283u, 0xFFFFFFFFu}) {
    CHECK(unmaskCrc(maskCrc(crc)) == crc);
    CHECK(maskCrc(crc) != crc);
  }
}

TEST_CASE("record type names round trip", "[journal]") {
  for (RecordType type : kAllTypes) {
    auto name = recordTypeName(type);
    CHECK(name != "Unknown");
    CHECK(recordTypeFromName(name) == type);
  }
  CHECK_FALSE(recordTypeFromName("StepExploded").has_value());
}

TEST_CASE("every record type and field round trips through a file", "[journal]") {
  TempDir dir;
  fs::path path = dir.path / "journal";
  std::vector<JournalRecord> written;
  {
    auto writer = JournalWriter::create(path);
    REQUIRE(writer.ok());
    int n = 0;
    for (RecordType type : kAllTypes) {
      written.push_back(fullRecord(type, n++));
      REQUIRE(writer->append(written.back()).ok());
    }
    JournalRecord minimal;  // every field at its default: absent fields must read back as defaults
    minimal.type = RecordType::RunFinished;
    written.push_back(minimal);
    REQUIRE(writer->append(minimal).ok());
    JournalRecord zero_exit = minimal;  // exit code 0 is not "no exit code"
    zero_exit.exit_code = 0;
    written.push_back(zero_exit);
    REQUIRE(writer->append(zero_exit).ok());
  }
  auto contents = readJournal(path);
  REQUIRE(contents.ok());
  CHECK_FALSE(contents->torn_tail);
  CHECK(contents->valid_bytes == fs::file_size(path));
  REQUIRE(contents->records.size() == written.size());
  for (std::size_t i = 0; i < written.size(); ++i) {
    INFO("record " << i);
    CHECK(contents->records[i] == written[i]);
  }
  CHECK_FALSE(contents->records[written.size() - 2].exit_code.has_value());
  CHECK(contents->records.back().exit_code == 0);
}

TEST_CASE("the framing is little-endian length, masked CRC of type and payload, type, JSON", "[journal]") {
  JournalRecord r;
  r.type = RecordType::StepSkipped;
  r.time_ms = 7;
  r.step_id = "x";
  std::string bytes = encodeJournalRecord(r);
  std::string payload = bytes.substr(kJournalHeaderSize);
  CHECK(payload == R"({"step":"x","time_ms":7})");
  auto le32 = [&](std::size_t at) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at])) |
           static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at + 1])) << 8 |
           static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at + 2])) << 16 |
           static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at + 3])) << 24;
  };
  CHECK(le32(0) == payload.size());
  CHECK(static_cast<unsigned char>(bytes[8]) == 5);
  CHECK(le32(4) == maskCrc(crc32c(bytes.substr(8))));
}

TEST_CASE("a message that is not UTF-8 is stored with replacement characters, not refused", "[journal]") {
  JournalRecord r;
  r.type = RecordType::StepFailed;
  r.message = std::string("bad \xff\xfe bytes");
  auto contents = parseJournal(encodeJournalRecord(r), "mem");
  REQUIRE(contents.ok());
  REQUIRE(contents->records.size() == 1);
  CHECK(contents->records[0].message == "bad \xEF\xBF\xBD\xEF\xBF\xBD bytes");
}

TEST_CASE("truncation at every byte offset yields whole records and a torn-tail flag, never an error", "[journal]") {
  TempDir dir;
  ThreeRecords three = threeRecords();
  fs::path path = dir.path / "journal";
  for (std::size_t cut = 0; cut <= three.bytes.size(); ++cut) {
    INFO("truncated at " << cut << " of " << three.bytes.size());
    writeBytes(path, std::string_view(three.bytes).substr(0, cut));
    auto contents = readJournal(path);
    REQUIRE(contents.ok());
    std::size_t whole = 0;
    std::size_t boundary = 0;
    for (std::size_t end : three.ends) {
      if (end <= cut) {
        ++whole;
        boundary = end;
      }
    }
    REQUIRE(contents->records.size() == whole);
    for (std::size_t i = 0; i < whole; ++i) CHECK(contents->records[i] == three.records[i]);
    CHECK(contents->torn_tail == (cut != boundary));
    CHECK(contents->valid_bytes == boundary);
    if (contents->torn_tail) CHECK_THAT(contents->tail_note, Catch::Contains(std::to_string(boundary)));

    // Reopening cuts the torn part, and a new record lands right after the last whole one.
    JournalRecord next;
    next.type = RecordType::RunHalted;
    next.message = "after cut at " + std::to_string(cut);
    {
      auto writer = JournalWriter::openForAppend(path, JournalOptions{.sync = false});
      REQUIRE(writer.ok());
      REQUIRE(writer->append(next).ok());
    }
    auto again = readJournal(path);
    REQUIRE(again.ok());
    CHECK_FALSE(again->torn_tail);
    REQUIRE(again->records.size() == whole + 1);
    CHECK(again->records.back() == next);
    CHECK(fs::file_size(path) == boundary + encodeJournalRecord(next).size());
  }
}

TEST_CASE("a flipped byte anywhere in the middle record is corruption naming its offset and number", "[journal]") {
  ThreeRecords three = threeRecords();
  std::size_t start = three.ends[0];
  for (std::size_t at = start; at < three.ends[1]; ++at) {
    INFO("flipped byte at " << at);
    std::string damaged = three.bytes;
    damaged[at] = static_cast<char>(damaged[at] ^ 0x5a);
    auto contents = parseJournal(damaged, "runs/r1/journal");
    REQUIRE_FALSE(contents.ok());
    CHECK_THAT(contents.error().message, Catch::Contains("runs/r1/journal: journal corrupt at byte offset " +
                                                         std::to_string(start) + " (record 2)"));
  }
}

TEST_CASE("a flipped byte in the last record: a bad CRC at EOF is a torn tail, never a third record", "[journal]") {
  // The rule (docs/journal-format.md): the physically last record failing its CRC is what a crash mid-write can
  // leave, so it is ignored like a torn tail. A damaged length that makes it end before EOF leaves bytes that are
  // no record: corruption. A length made longer runs past EOF: torn.
  ThreeRecords three = threeRecords();
  std::size_t start = three.ends[1];
  for (std::size_t at = start; at < three.ends[2]; ++at) {
    INFO("flipped byte at " << at);
    std::string damaged = three.bytes;
    damaged[at] = static_cast<char>(damaged[at] ^ 0x5a);
    auto contents = parseJournal(damaged, "j");
    bool in_length = at < start + 4;
    if (contents.ok()) {
      CHECK(contents->torn_tail);
      CHECK(contents->records.size() == 2);
      CHECK(contents->valid_bytes == start);
    } else {
      CHECK(in_length);
      CHECK_THAT(contents.error().message, Catch::Contains("byte offset " + std::to_string(start) + " (record 3)"));
    }
    if (!in_length) CHECK(contents.ok());
  }
}

TEST_CASE("a garbage length is an error, not an allocation; a zero-filled tail is torn", "[journal]") {
  ThreeRecords three = threeRecords();
  std::string huge = three.bytes.substr(0, three.ends[0]) + std::string("\xf0\xff\xff\x7f", 4) + "garbage-after-it";
  auto contents = parseJournal(huge, "j");
  REQUIRE_FALSE(contents.ok());
  CHECK_THAT(contents.error().message,
             Catch::Contains("exceeds") && Catch::Contains("byte offset " + std::to_string(three.ends[0])));

  auto zeros = parseJournal(three.bytes + std::string(300, '\0'), "j");
  REQUIRE(zeros.ok());
  CHECK(zeros->records.size() == 3);
  CHECK(zeros->torn_tail);
  CHECK(zeros->valid_bytes == three.bytes.size());
}

TEST_CASE("a good CRC over an unknown type or a non-record payload is corruption", "[journal]") {
  auto frame = [](std::uint8_t type, std::string payload) {
    std::string body = std::string(1, static_cast<char>(type)) + payload;
    std::string out;
    for (std::uint32_t v : {static_cast<std::uint32_t>(payload.size()), maskCrc(crc32c(body))}) {
      for (int s = 0; s < 32; s += 8) out.push_back(static_cast<char>((v >> s) & 0xff));
    }
    return out + body;
  };
  auto unknown = parseJournal(frame(99, R"({"time_ms":1})"), "j");
  REQUIRE_FALSE(unknown.ok());
  CHECK_THAT(unknown.error().message, Catch::Contains("unknown record type 99") && Catch::Contains("(record 1)"));
  auto not_json = parseJournal(frame(2, "{not json"), "j");
  REQUIRE_FALSE(not_json.ok());
  CHECK_THAT(not_json.error().message, Catch::Contains("bad payload"));
  auto wrong_field = parseJournal(frame(2, R"({"time_ms":"soon"})"), "j");
  REQUIRE_FALSE(wrong_field.ok());
  CHECK_THAT(wrong_field.error().message, Catch::Contains("bad payload"));
}

TEST_CASE("append after reopen continues the journal; a corrupt journal is not reopened", "[journal]") {
  TempDir dir;
  fs::path path = dir.path / "journal";
  ThreeRecords three = threeRecords();
  {
    auto writer = JournalWriter::create(path);
    REQUIRE(writer.ok());
    REQUIRE(writer->append(three.records[0]).ok());
    REQUIRE(writer->append(three.records[1]).ok());
  }
  {
    auto writer = JournalWriter::openForAppend(path);
    REQUIRE(writer.ok());
    REQUIRE(writer->append(three.records[2]).ok());
  }
  auto contents = readJournal(path);
  REQUIRE(contents.ok());
  CHECK(contents->records == three.records);
  CHECK(readBytes(path) == three.bytes);

  std::string damaged = three.bytes;
  damaged[three.ends[0] + 12] ^= 1;
  writeBytes(path, damaged);
  auto refused = JournalWriter::openForAppend(path);
  REQUIRE_FALSE(refused.ok());
  CHECK_THAT(refused.error().message, Catch::Contains("corrupt"));
  CHECK(readBytes(path) == damaged);  // nothing was cut or appended
}

TEST_CASE("create refuses an existing journal; missing journals are errors naming the path", "[journal]") {
  TempDir dir;
  fs::path path = dir.path / "journal";
  REQUIRE(JournalWriter::create(path).ok());
  auto again = JournalWriter::create(path);
  REQUIRE_FALSE(again.ok());
  CHECK_THAT(again.error().message, Catch::Contains(path.string()) && Catch::Contains("exists"));

  auto missing = readJournal(dir.path / "nope");
  REQUIRE_FALSE(missing.ok());
  CHECK_THAT(missing.error().message, Catch::Contains((dir.path / "nope").string()));
  auto reopen = JournalWriter::openForAppend(dir.path / "nope");
  REQUIRE_FALSE(reopen.ok());
  auto no_dir = JournalWriter::create(dir.path / "no-such-dir" / "journal");
  REQUIRE_FALSE(no_dir.ok());
}

TEST_CASE("concurrent appends from 4 threads are all readable, each thread's in order, each fsync'd", "[journal]") {
  TempDir dir;
  fs::path path = dir.path / "journal";
  auto writer = JournalWriter::create(path);
  REQUIRE(writer.ok());
  constexpr int kThreads = 4;
  constexpr int kEach = 50;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        JournalRecord r;
        r.type = RecordType::StepFinished;
        r.step_id = "thread-" + std::to_string(t);
        r.attempt = i;
        r.message = std::string(static_cast<std::size_t>(i * 7), 'x');  // varied sizes
        if (!writer->append(r).ok()) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(failures == 0);
  CHECK(writer->syncCount() == kThreads * kEach);
  auto contents = readJournal(path);
  REQUIRE(contents.ok());
  CHECK_FALSE(contents->torn_tail);
  REQUIRE(contents->records.size() == kThreads * kEach);
  std::vector<int> next(kThreads, 0);
  for (const auto& r : contents->records) {
    int t = std::stoi(r.step_id.substr(7));
    CHECK(r.attempt == next[static_cast<std::size_t>(t)]++);
    CHECK(r.message.size() == static_cast<std::size_t>(r.attempt * 7));
  }
}

TEST_CASE("every append is fsync'd unless the benchmark turns syncing off", "[journal]") {
  TempDir dir;
  JournalRecord r;
  r.type = RecordType::StepStarted;
  auto synced = JournalWriter::create(dir.path / "synced");
  REQUIRE(synced.ok());
  CHECK(synced->syncCount() == 0);
  for (int i = 1; i <= 3; ++i) {
    REQUIRE(synced->append(r).ok());
    CHECK(synced->syncCount() == static_cast<std::uint64_t>(i));
  }
  auto unsynced = JournalWriter::create(dir.path / "unsynced", JournalOptions{.sync = false});
  REQUIRE(unsynced.ok());
  REQUIRE(unsynced->append(r).ok());
  CHECK(unsynced->syncCount() == 0);
  CHECK(synced->path() == dir.path / "synced");
}
