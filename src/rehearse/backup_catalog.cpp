// See backup_catalog.h.
#include "rehearse/backup_catalog.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>

#include "core/file_io.h"
#include "core/utf8.h"
#include "etcd/snapshot_crypto.h"
#include "etcd/snapshot_file.h"
#include "exec/run_dir.h"

namespace dr {

namespace fs = std::filesystem;

namespace {

// A small JSON file beside the snapshot, or nothing when it is absent, not a regular file, too big or not JSON.
std::optional<nlohmann::json> readJsonSidecar(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(path, ec))) return std::nullopt;
  auto text = readRegularFile(path, kMaxSidecarFileBytes, "sidecar");
  if (!text) return std::nullopt;
  auto json = nlohmann::json::parse(*text, nullptr, false);
  if (json.is_discarded() || !json.is_object()) return std::nullopt;
  return json;
}

std::string utcBucket(std::int64_t ms, const char* format) {
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char out[32];
  return std::strftime(out, sizeof out, format, &tm) ? std::string(out) : std::string();
}

}  // namespace

std::optional<std::int64_t> parseUtcTime(const std::string& text) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, used = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &month, &day, &hour, &minute, &second, &used) != 6) {
    return std::nullopt;
  }
  std::string rest = text.substr(static_cast<std::size_t>(used));
  if (!rest.empty() && rest.front() == '.') {  // fractions of a second
    std::size_t i = 1;
    while (i < rest.size() && rest[i] >= '0' && rest[i] <= '9') ++i;
    rest = rest.substr(i);
  }
  if (rest != "Z" && rest != "+00:00") return std::nullopt;  // the sidecars are written in UTC
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  const std::time_t seconds = timegm(&tm);
  if (seconds == static_cast<std::time_t>(-1)) return std::nullopt;
  return static_cast<std::int64_t>(seconds) * 1000;
}

std::string formatUtcTime(std::int64_t ms) { return utcBucket(ms, "%Y-%m-%dT%H:%M:%SZ"); }

bool isBackupName(const std::string& name) {
  if (name.empty() || name.front() == '.') return false;  // hidden: editors' and tools' temp files
  for (const char* suffix : {".part", ".sha256", ".json"}) {
    if (name.ends_with(suffix)) return false;
  }
  return true;
}

void applyBackupSidecars(BackupEntry& entry, const std::optional<nlohmann::json>& sidecar,
                         const std::optional<nlohmann::json>& verdict) {
  if (sidecar && sidecar->is_object()) {
    if (auto t = sidecar->find("time"); t != sidecar->end() && t->is_string()) {
      if (auto ms = parseUtcTime(t->get<std::string>())) {
        entry.time_ms = *ms;
        entry.time_source = "sidecar";
      }
    }
    if (auto r = sidecar->find("revision"); r != sidecar->end() && r->is_number_integer()) {
      entry.revision = r->get<std::int64_t>();
    }
    if (auto e = sidecar->find("encrypted"); e != sidecar->end() && e->is_boolean() && e->get<bool>()) {
      entry.encrypted = true;
    }
  }
  if (verdict && verdict->is_object()) {
    if (auto ok = verdict->find("ok"); ok != verdict->end() && ok->is_boolean()) entry.verified = ok->get<bool>();
    if (auto m = verdict->find("message"); m != verdict->end() && m->is_string()) {
      entry.verdict_message = toValidUtf8(m->get<std::string>());
    }
    if (auto t = verdict->find("time"); t != verdict->end() && t->is_string()) {
      entry.verdict_time_ms = parseUtcTime(t->get<std::string>()).value_or(0);
    }
  }
}

fs::path verdictPath(const fs::path& snapshot) { return fs::path(snapshot.string() + ".verdict.json"); }

Result<std::vector<BackupEntry>> listBackups(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return fail("{}: not a directory", dir.string());
  std::vector<BackupEntry> out;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    // symlink_status: a link is never a backup (pruning it would delete what it points to, or nothing).
    const auto status = fs::symlink_status(it->path(), ec);
    if (ec || !fs::is_regular_file(status) || !isBackupName(it->path().filename().string())) {
      ec.clear();
      continue;
    }
    struct stat st{};
    if (::lstat(it->path().c_str(), &st) != 0) continue;
    BackupEntry entry;
    entry.path = it->path();
    entry.size = static_cast<std::uint64_t>(st.st_size);
    entry.time_ms = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1'000'000;
    entry.time_source = "file";
    entry.encrypted = isEncryptedSnapshot(entry.path);
    applyBackupSidecars(entry, readJsonSidecar(snapshotSidecarPath(entry.path)), readJsonSidecar(verdictPath(entry.path)));
    out.push_back(std::move(entry));
  }
  if (ec) return fail("{}: cannot list: {}", dir.string(), ec.message());
  std::sort(out.begin(), out.end(), [](const BackupEntry& a, const BackupEntry& b) {
    return a.time_ms != b.time_ms ? a.time_ms > b.time_ms : a.path.filename() > b.path.filename();
  });
  return out;
}

std::optional<bool> recordedVerdict(const fs::path& snapshot) {
  auto verdict = readJsonSidecar(verdictPath(snapshot));
  if (!verdict) return std::nullopt;
  auto ok = verdict->find("ok");
  if (ok == verdict->end() || !ok->is_boolean()) return std::nullopt;
  return ok->get<bool>();
}

Status recordVerdict(const TestRestoreResult& result, std::int64_t now_ms) {
  nlohmann::ordered_json json;
  json["file"] = toValidUtf8(result.snapshot.filename().string());
  json["ok"] = result.ok;
  json["time"] = formatUtcTime(now_ms);
  json["sha256"] = result.sha256;
  json["message"] = toValidUtf8(result.message);
  json["duration_ms"] = result.duration.count();
  if (result.restored_revision) json["restored_revision"] = *result.restored_revision;
  if (result.restored_keys) json["restored_keys"] = *result.restored_keys;
  return writeFileAtomically(verdictPath(result.snapshot), json.dump(2) + "\n");
}

std::vector<RetentionDecision> planRetention(const std::vector<BackupEntry>& backups, const RetentionPolicy& policy,
                                             const std::set<fs::path>& referenced) {
  std::vector<RetentionDecision> decisions;
  for (const auto& b : backups) decisions.push_back({b, false, {}});
  auto keep = [&](std::size_t i, std::string why) {
    decisions[i].keep = true;
    decisions[i].reasons.push_back(std::move(why));
  };
  for (std::size_t i = 0; i < decisions.size() && static_cast<int>(i) < policy.keep_last; ++i) {
    keep(i, fmt::format("one of the {} newest", policy.keep_last));
  }
  // The newest backup of each of the most recent N buckets (hours, days, weeks) that have one; the list is newest
  // first, so the first backup seen in a bucket is its newest.
  for (auto [count, format, what] : {std::tuple{policy.keep_hourly, "%Y-%m-%dT%H:00Z", "hour"},
                                     std::tuple{policy.keep_daily, "%Y-%m-%d", "day"},
                                     std::tuple{policy.keep_weekly, "%G-W%V", "week"}}) {
    std::set<std::string> seen;
    for (std::size_t i = 0; i < decisions.size() && static_cast<int>(seen.size()) < count; ++i) {
      const std::string bucket = utcBucket(decisions[i].backup.time_ms, format);
      if (seen.insert(bucket).second) keep(i, fmt::format("newest of {} {}", what, bucket));
    }
  }
  for (std::size_t i = 0; i < decisions.size(); ++i) {
    if (decisions[i].backup.verified == true) {
      keep(i, "the newest backup that passed its test-restore");
      break;
    }
  }
  for (std::size_t i = 0; i < decisions.size(); ++i) {
    std::error_code ec;
    const fs::path absolute = fs::absolute(decisions[i].backup.path, ec).lexically_normal();
    if (referenced.count(absolute)) keep(i, "a run refers to it (its resume or rollback needs it)");
  }
  return decisions;
}

std::set<fs::path> referencedSnapshots(const fs::path& runs_dir) {
  std::set<fs::path> out;
  auto ids = listRuns(runs_dir);
  if (!ids) return out;
  for (const auto& id : *ids) {
    auto run = RunDirectory::open(runs_dir, id);
    if (!run) continue;
    auto info = run->readRunInfo();
    if (!info || info->snapshot_path.empty()) continue;
    std::error_code ec;
    out.insert(fs::absolute(info->snapshot_path, ec).lexically_normal());
  }
  return out;
}

std::optional<std::int64_t> newestVerifiedBackupMs(const fs::path& dir) {
  auto backups = listBackups(dir);
  if (!backups) return std::nullopt;
  for (const auto& b : *backups) {
    if (b.verified == true) return b.time_ms;
  }
  return std::nullopt;
}

Status removeBackup(const fs::path& snapshot) {
  std::error_code ec;
  // The backup itself first: a crash after it leaves sidecars of nothing (listBackups ignores them), never a
  // backup without its checksum.
  if (!fs::remove(snapshot, ec) && ec) return fail("{}: cannot remove: {}", snapshot.string(), ec.message());
  for (const fs::path& side : {snapshotChecksumPath(snapshot), snapshotSidecarPath(snapshot), verdictPath(snapshot)}) {
    if (!fs::remove(side, ec) && ec) return fail("{}: cannot remove: {}", side.string(), ec.message());
  }
  return {};
}

}  // namespace dr
