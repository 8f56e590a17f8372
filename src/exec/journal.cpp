// The journal's framing, its reader and its writer (format: journal.h and docs/journal-format.md).
#include "exec/journal.h"

#include "core/file_io.h"
#include "core/utf8.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <boost/crc.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>

namespace dr {
namespace {

using Json = nlohmann::json;

// CRC32C, Castagnoli: reflected in and out, initial and final XOR all ones (the iSCSI/leveldb parameters).
using Crc32c = boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true>;

constexpr std::uint32_t kMaskDelta = 0xa282ead8u;

constexpr std::array<std::pair<RecordType, std::string_view>, 11> kTypeNames{{
    {RecordType::RunStarted, "RunStarted"},
    {RecordType::StepStarted, "StepStarted"},
    {RecordType::StepFinished, "StepFinished"},
    {RecordType::StepFailed, "StepFailed"},
    {RecordType::StepSkipped, "StepSkipped"},
    {RecordType::RunHalted, "RunHalted"},
    {RecordType::RunFinished, "RunFinished"},
    {RecordType::UndoStarted, "UndoStarted"},
    {RecordType::UndoFinished, "UndoFinished"},
    {RecordType::UndoFailed, "UndoFailed"},
    {RecordType::RollbackFinished, "RollbackFinished"},
}};

bool isKnownType(std::uint8_t byte) {
  for (const auto& [type, name] : kTypeNames) {
    if (static_cast<std::uint8_t>(type) == byte) return true;
  }
  return false;
}

void putLe32(std::string& out, std::uint32_t value) {
  for (int shift = 0; shift < 32; shift += 8) out.push_back(static_cast<char>((value >> shift) & 0xffu));
}

std::uint32_t getLe32(std::string_view bytes, std::size_t at) {
  std::uint32_t value = 0;
  for (int i = 3; i >= 0; --i)
    value = (value << 8) | static_cast<unsigned char>(bytes[at + static_cast<std::size_t>(i)]);
  return value;
}

// Empty and default fields are left out: records stay small, and absent reads back as the default.
std::string encodePayload(const JournalRecord& r) {
  Json j = Json::object();
  j["time_ms"] = r.time_ms;
  auto put = [&j](const char* key, const std::string& value) {
    if (!value.empty()) j[key] = value;
  };
  put("step", r.step_id);
  if (r.attempt != 0) j["attempt"] = r.attempt;
  if (r.exit_code) j["exit_code"] = *r.exit_code;
  if (r.duration_ms != 0) j["duration_ms"] = r.duration_ms;
  put("output_sha256", r.output_sha256);
  put("message", r.message);
  put("fingerprint", r.fingerprint);
  put("run_id", r.run_id);
  put("host", r.host);
  put("inventory_path", r.inventory_path);
  put("snapshot_path", r.snapshot_path);
  put("mode", r.mode);
  // Messages can carry command output that is not UTF-8: replace bad bytes instead of throwing.
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// Throws nlohmann::json exceptions on a wrong type; the caller turns them into a corruption error.
JournalRecord decodePayload(RecordType type, std::string_view payload) {
  Json j = Json::parse(payload);
  if (!j.is_object()) throw std::runtime_error("payload is not a JSON object");
  JournalRecord r;
  r.type = type;
  r.time_ms = j.at("time_ms").get<std::int64_t>();
  auto get = [&j](const char* key, std::string& out) {
    if (auto it = j.find(key); it != j.end()) out = it->get<std::string>();
  };
  get("step", r.step_id);
  if (auto it = j.find("attempt"); it != j.end()) r.attempt = it->get<int>();
  if (auto it = j.find("exit_code"); it != j.end()) r.exit_code = it->get<int>();
  if (auto it = j.find("duration_ms"); it != j.end()) r.duration_ms = it->get<std::int64_t>();
  get("output_sha256", r.output_sha256);
  get("message", r.message);
  get("fingerprint", r.fingerprint);
  get("run_id", r.run_id);
  get("host", r.host);
  get("inventory_path", r.inventory_path);
  get("snapshot_path", r.snapshot_path);
  get("mode", r.mode);
  return r;
}

bool allZero(std::string_view bytes) {
  return bytes.find_first_not_of('\0') == std::string_view::npos;
}

// Whether a whole, CRC-valid record starts anywhere in bytes[from..]. A torn tail is the one record the writer
// was writing when it died, so it can hold no whole record after its start; if one is found, the "torn" record is
// in fact damage in the middle (a corrupted length, say) and must be reported, not skipped. Payloads are JSON,
// whose encoder escapes control bytes, so a type byte (1..11) followed by '{' is rare outside a real header.
bool wholeRecordWithin(std::string_view bytes, std::size_t from) {
  for (std::size_t p = from; p + kJournalHeaderSize + 2 <= bytes.size(); ++p) {
    if (!isKnownType(static_cast<std::uint8_t>(bytes[p + 8])) || bytes[p + 9] != '{') continue;
    std::uint32_t length = getLe32(bytes, p);
    if (length < 2 || length > bytes.size() - p - kJournalHeaderSize) continue;
    if (bytes[p + kJournalHeaderSize + length - 1] != '}') continue;
    if (maskCrc(crc32c(bytes.substr(p + 8, 1 + length))) == getLe32(bytes, p + 4)) return true;
  }
  return false;
}

std::string errnoText() {
  return std::strerror(errno);
}

Status fsyncDirectoryOf(const std::filesystem::path& file) {
  auto dir = file.parent_path();
  if (dir.empty()) dir = ".";
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return fail("{}: cannot open directory to sync it: {}", dir.string(), errnoText());
  int rc = ::fsync(fd);
  int saved = errno;
  ::close(fd);
  if (rc != 0) return fail("{}: fsync of directory failed: {}", dir.string(), std::strerror(saved));
  return {};
}

}  // namespace

std::string_view recordTypeName(RecordType type) {
  for (const auto& [t, name] : kTypeNames) {
    if (t == type) return name;
  }
  return "Unknown";
}

std::optional<RecordType> recordTypeFromName(std::string_view name) {
  for (const auto& [t, n] : kTypeNames) {
    if (n == name) return t;
  }
  return std::nullopt;
}

std::uint32_t crc32c(std::string_view data) {
  Crc32c crc;
  crc.process_bytes(data.data(), data.size());
  return crc.checksum();
}

std::uint32_t maskCrc(std::uint32_t crc) {
  return ((crc >> 15) | (crc << 17)) + kMaskDelta;
}

std::uint32_t unmaskCrc(std::uint32_t masked) {
  std::uint32_t rotated = masked - kMaskDelta;
  return (rotated >> 17) | (rotated << 15);
}

std::string encodeJournalRecord(const JournalRecord& record) {
  std::string payload = encodePayload(record);
  if (payload.size() > kJournalMaxPayload) {
    // Only a message of many MiB can get here; cut it rather than write a record the reader would refuse.
    JournalRecord shorter = record;
    shorter.message = std::string(utf8Prefix(record.message, kJournalMaxPayload / 2)) + "...[truncated]";
    payload = encodePayload(shorter);
  }
  std::string body;
  body.reserve(1 + payload.size());
  body.push_back(static_cast<char>(record.type));
  body += payload;
  std::string out;
  out.reserve(kJournalHeaderSize + payload.size());
  putLe32(out, static_cast<std::uint32_t>(payload.size()));
  putLe32(out, maskCrc(crc32c(body)));
  out += body;
  return out;
}

Result<JournalContents> parseJournal(std::string_view bytes, std::string_view source) {
  JournalContents contents;
  std::size_t offset = 0;
  std::size_t number = 1;
  std::optional<std::string> torn;  // set when the bytes from `offset` on look like a torn tail
  auto corrupt = [&](std::string what) {
    return fail("{}: journal corrupt at byte offset {} (record {}): {}", source, offset, number, what);
  };
  while (offset < bytes.size()) {
    std::size_t remaining = bytes.size() - offset;
    if (remaining < kJournalHeaderSize) {
      torn = fmt::format("partial header of {} bytes", remaining);
      break;
    }
    std::uint32_t length = getLe32(bytes, offset);
    std::uint32_t stored_crc = getLe32(bytes, offset + 4);
    auto type_byte = static_cast<std::uint8_t>(bytes[offset + 8]);
    bool zero_tail = allZero(bytes.substr(offset));  // a crash can leave the file's new size with zeroed blocks
    if (length > kJournalMaxPayload) {
      if (zero_tail) {
        torn = fmt::format("{} zero bytes", remaining);
        break;
      }
      return corrupt(fmt::format("length {} exceeds the {} byte limit", length, kJournalMaxPayload));
    }
    if (kJournalHeaderSize + length > remaining) {
      torn = fmt::format("needs {} payload bytes, only {} present", length, remaining - kJournalHeaderSize);
      break;
    }
    std::string_view body = bytes.substr(offset + 8, 1 + length);
    if (maskCrc(crc32c(body)) != stored_crc) {
      if (kJournalHeaderSize + length == remaining || zero_tail) {
        torn = "the last record fails its CRC";
        break;
      }
      return corrupt(
          fmt::format("CRC mismatch with {} more bytes after the record", remaining - kJournalHeaderSize - length));
    }
    if (!isKnownType(type_byte)) return corrupt(fmt::format("unknown record type {}", static_cast<int>(type_byte)));
    try {
      contents.records.push_back(decodePayload(static_cast<RecordType>(type_byte), body.substr(1)));
    } catch (const std::exception& e) {
      return corrupt(fmt::format("bad payload: {}", e.what()));
    }
    offset += kJournalHeaderSize + length;
    ++number;
  }
  if (torn) {
    if (wholeRecordWithin(bytes, offset + 1)) return corrupt("damaged record followed by valid records");
    contents.torn_tail = true;
    contents.tail_note = fmt::format("torn tail ignored: record {} at byte offset {}: {}", number, offset, *torn);
  }
  contents.valid_bytes = offset;
  return contents;
}

Result<JournalContents> readJournal(const std::filesystem::path& path) {
  auto bytes = readRegularFile(path, kMaxRunFileBytes, "journal");
  if (!bytes) return bytes.error();
  return parseJournal(*bytes, path.string());
}

struct JournalWriter::Impl {
  int fd = -1;
  std::filesystem::path path;
  JournalOptions options;
  std::mutex mutex;
  std::uint64_t end = 0;  // file size after the last whole record, guarded by mutex
  bool broken = false;    // an fsync failed: what reached the disk is unknown, refuse further appends
  std::string broken_why;
  std::atomic<std::uint64_t> syncs{0};

  ~Impl() {
    if (fd >= 0) ::close(fd);
  }
};

JournalWriter::JournalWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
JournalWriter::JournalWriter(JournalWriter&&) noexcept = default;
JournalWriter& JournalWriter::operator=(JournalWriter&&) noexcept = default;
JournalWriter::~JournalWriter() = default;

Result<JournalWriter> JournalWriter::create(const std::filesystem::path& path, JournalOptions options) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return fail("{}: journal exists already; a run's journal is created once", path.string());
    return fail("{}: cannot create journal: {}", path.string(), errnoText());
  }
  auto impl = std::make_unique<Impl>();
  impl->fd = fd;
  impl->path = path;
  impl->options = options;
  // The file's directory entry must be durable too, or a crash could lose the whole journal.
  if (options.sync) {
    if (auto synced = fsyncDirectoryOf(path); !synced) return synced.error();
  }
  return JournalWriter(std::move(impl));
}

Result<JournalWriter> JournalWriter::openForAppend(const std::filesystem::path& path, JournalOptions options) {
  auto contents = readJournal(path);
  if (!contents) return contents.error();
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return fail("{}: cannot open journal for appending: {}", path.string(), errnoText());
  auto impl = std::make_unique<Impl>();
  impl->fd = fd;
  impl->path = path;
  impl->options = options;
  impl->end = contents->valid_bytes;
  if (contents->torn_tail) {
    if (::ftruncate(fd, static_cast<off_t>(contents->valid_bytes)) != 0 || (options.sync && ::fsync(fd) != 0)) {
      return fail("{}: cannot cut the torn tail at offset {}: {}", path.string(), contents->valid_bytes, errnoText());
    }
  }
  return JournalWriter(std::move(impl));
}

Status JournalWriter::append(const JournalRecord& record) {
  std::string bytes = encodeJournalRecord(record);
  std::lock_guard lock(impl_->mutex);
  if (impl_->broken)
    return fail("{}: journal unusable after an earlier failure: {}", impl_->path.string(), impl_->broken_why);
  // One pwrite of the whole record at the known end: a crash leaves a prefix of it at most, which the reader
  // treats as a torn tail.
  ssize_t written;
  do {
    written = ::pwrite(impl_->fd, bytes.data(), bytes.size(), static_cast<off_t>(impl_->end));
  } while (written < 0 && errno == EINTR);
  if (written != static_cast<ssize_t>(bytes.size())) {
    std::string why = written < 0 ? errnoText() : fmt::format("short write ({} of {} bytes)", written, bytes.size());
    // Cut back what was written so the next append does not land behind a half record.
    if (::ftruncate(impl_->fd, static_cast<off_t>(impl_->end)) != 0) {
      impl_->broken = true;
      impl_->broken_why = why;
    }
    return fail("{}: cannot append a {} record: {}", impl_->path.string(), recordTypeName(record.type), why);
  }
  if (impl_->options.sync) {
    impl_->syncs.fetch_add(1, std::memory_order_relaxed);
    if (::fsync(impl_->fd) != 0) {
      // After a failed fsync the kernel may have dropped the dirty pages: nothing written since is trustworthy.
      impl_->broken = true;
      impl_->broken_why = "fsync failed: " + errnoText();
      return fail("{}: {}", impl_->path.string(), impl_->broken_why);
    }
  }
  impl_->end += bytes.size();
  return {};
}

const std::filesystem::path& JournalWriter::path() const {
  return impl_->path;
}

std::uint64_t JournalWriter::syncCount() const {
  return impl_->syncs.load(std::memory_order_relaxed);
}

}  // namespace dr
