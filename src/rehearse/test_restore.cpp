// Test-restores into a throwaway etcd; see test_restore.h. The order matters for cleanup: the work dir is made
// first and removed last, the etcd process is started after it and killed before it, so an early return at any
// step leaves neither a process nor a directory behind.
#include "rehearse/test_restore.h"

#include "rehearse/backup_catalog.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>
#include <vector>

#include "core/sha256.h"
#include "etcd/etcd_client.h"
#include "etcd/snapshot_crypto.h"
#include "etcd/snapshot_file.h"
#include "rehearse/child_process.h"

namespace dr {
namespace {

using SteadyClock = std::chrono::steady_clock;
namespace fs = std::filesystem;

constexpr const char* kMemberName = "drd-test-restore";

// A fresh directory removed with everything in it when this object dies, however the test-restore ends.
class WorkDir {
 public:
  static Result<WorkDir> make(const fs::path& parent) {
    std::error_code ec;
    const fs::path base = parent.empty() ? fs::temp_directory_path(ec) : parent;
    if (ec) return fail("no temp directory: {}", ec.message());
    // drd's STATE_DIR/test-restores is made on first use (owner-only: a decrypted backup may pass through it).
    if (!fs::exists(base, ec) && (!fs::create_directories(base, ec) || ec)) {
      return fail("cannot make {}: {}", base.string(), ec ? ec.message() : "unknown error");
    }
    if (!parent.empty()) fs::permissions(base, fs::perms::owner_all, ec);
    std::string pattern = (base / "drd-test-restore-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      return fail("cannot make a work dir in {}: {}", base.string(), std::strerror(errno));
    }
    return WorkDir(pattern);
  }
  WorkDir(WorkDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  WorkDir& operator=(WorkDir&&) = delete;
  WorkDir(const WorkDir&) = delete;
  WorkDir& operator=(const WorkDir&) = delete;
  ~WorkDir() {
    if (path_.empty()) return;
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  explicit WorkDir(fs::path path) : path_(std::move(path)) {}
  fs::path path_;
};

// A socket bound to 127.0.0.1:0 holds a free port until closed; two are held at once so they differ. Another
// process could take the port between close and etcd's bind: etcd then exits at once and the caller says why.
class PortReservation {
 public:
  PortReservation() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    if (fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
      port_ = ntohs(address.sin_port);
    }
  }
  ~PortReservation() { release(); }
  void release() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  PortReservation(const PortReservation&) = delete;
  PortReservation& operator=(const PortReservation&) = delete;
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// Everything but the timing and the teardown, which testRestore wraps around it. An Error here is a failed
// test-restore (ok=false), its message the reason.
// The deadline bounds the waits on etcdctl restore and on etcd serving; inspecting the file and reading its bbolt
// database are bounded by the file's size.
Status runTestRestore(TestRestoreResult& result, const TestRestoreOptions& options, SteadyClock::time_point deadline) {
  auto info = inspectSnapshot(result.snapshot);
  if (!info) {
    // The hash is still worth reporting: it tells which bytes were judged.
    if (auto hash = sha256FileHex(result.snapshot)) result.sha256 = *hash;
    return fail("the snapshot is damaged: {}", info.error().message);
  }
  result.sha256 = info->sha256;
  if (info->encrypted && options.key.empty()) {
    return fail("encrypted snapshot: its key is needed to test-restore it (--key-file, or the schedule's "
                "encryption_key_file)");
  }
  auto etcd = findProgram(options.etcd);
  if (!etcd) return fail("cannot run etcd: {}", etcd.error().message);
  auto etcdctl = findProgram(options.etcdctl);
  if (!etcdctl) return fail("cannot run etcdctl: {}", etcdctl.error().message);

  auto work = WorkDir::make(options.work_parent);
  if (!work) return work.error();
  result.work_dir = work->path();
  fs::path restore_from = result.snapshot;
  if (info->encrypted) {
    // Decrypted (every record authenticated) into the owner-only throwaway dir, never beside the backup.
    restore_from = work->path() / "decrypted.db";
    if (auto decrypted = decryptSnapshotFile(result.snapshot, restore_from, options.key); !decrypted) {
      return fail("the encrypted snapshot does not decrypt: {}", decrypted.error().message);
    }
    const std::optional<std::int64_t> lower_bound = info->revision;  // the sidecar's: the stream's revision
    const std::string plaintext_sha256 = info->plaintext_sha256;
    info = inspectSnapshot(restore_from);
    if (!info) return fail("the decrypted snapshot is damaged: {}", info.error().message);
    if (!plaintext_sha256.empty() && info->sha256 != plaintext_sha256) {
      return fail("the decrypted snapshot's SHA-256 {} is not the one recorded when it was saved ({})", info->sha256,
                  plaintext_sha256);
    }
    if (lower_bound && info->revision && *info->revision < *lower_bound) {
      return fail("the decrypted snapshot is at revision {}, older than the {} the cluster was at when it was saved",
                  *info->revision, *lower_bound);
    }
  }

  // What the backup should hold: read from the file itself (a sidecar that disagrees was refused above).
  result.expected_revision = info->revision;
  result.expected_keys = info->key_count;
  result.expected_source = info->metadata_source;
  const fs::path data_dir = work->path() / "data";
  PortReservation client_port;
  PortReservation peer_port;
  if (client_port.port() == 0 || peer_port.port() == 0) return fail("cannot find a free loopback port");
  const std::string client_url = fmt::format("http://127.0.0.1:{}", client_port.port());
  const std::string peer_url = fmt::format("http://127.0.0.1:{}", peer_port.port());
  // Every restore flag is given: the defaults (name "default", token "etcd-cluster", localhost:2380) could join a
  // real etcd on this host. The token is unique to this run for the same reason.
  const std::string token = fmt::format("{}-{}", kMemberName, work->path().filename().string());

  {
    auto restore = ChildProcess::start(
        {*etcdctl, "snapshot", "restore", restore_from.string(), "--name", kMemberName, "--data-dir",
         data_dir.string(), "--initial-cluster", fmt::format("{}={}", kMemberName, peer_url),
         "--initial-advertise-peer-urls", peer_url, "--initial-cluster-token", token},
        work->path() / "restore.log", {"ETCDCTL_"}, {"ETCDCTL_API=3"});
    if (!restore) return fail("cannot run etcdctl snapshot restore: {}", restore.error().message);
    const auto exit_code = restore->waitUntil(deadline);
    if (!exit_code) return fail("etcdctl snapshot restore did not finish within {} s", options.timeout.count());
    if (*exit_code != 0) {
      return fail("etcdctl snapshot restore failed (exit {}): {}", *exit_code, logTail(work->path() / "restore.log"));
    }
  }
  auto restored_db = readSnapshotDb(data_dir / "member" / "snap" / "db", false);
  if (!restored_db) return fail("the restored database cannot be read: {}", restored_db.error().message);
  result.restored_keys = restored_db->total_keys;

  // The ports are freed just before etcd binds them.
  client_port.release();
  peer_port.release();
  const fs::path etcd_log = work->path() / "etcd.log";
  auto member = ChildProcess::start({*etcd, "--name", kMemberName, "--data-dir", data_dir.string(),
                                     "--listen-client-urls", client_url, "--advertise-client-urls", client_url,
                                     "--listen-peer-urls", peer_url, "--initial-advertise-peer-urls", peer_url},
                                    etcd_log, {"ETCD_"});
  if (!member) return fail("cannot start the restored etcd: {}", member.error().message);

  ClientOptions client_options;
  client_options.timeout = std::chrono::milliseconds(1000);
  // A linearizable count of every key ("\0" to "\0"): it needs the member to have elected itself leader and
  // applied its log, so it is the proof that the restored member serves, not merely that it listens.
  const std::string all(1, '\0');
  std::string last_error = "no answer yet";
  for (;;) {
    if (auto exit_code = member->poll()) {
      return fail("the restored etcd exited (code {}) before serving: {}", *exit_code, logTail(etcd_log));
    }
    // A new client each attempt: a gRPC channel that tried before etcd listened stays failed ("tcp handshaker
    // shutdown") long after etcd is up, while a fresh one connects at once.
    auto client = EtcdClient::open(client_url, client_options);
    if (!client) return fail("cannot reach the restored etcd: {}", client.error().message);
    auto range = client->range(all, all, /*linearizable=*/true, /*count_only=*/true);
    if (range) {
      result.served_keys = range->count;
      result.restored_revision = range->header.revision;
      break;
    }
    last_error = range.error().message;
    if (SteadyClock::now() >= deadline) {
      return fail("the restored etcd did not serve a linearizable read within {} s: {}; log: {}",
                  options.timeout.count(), last_error, logTail(etcd_log));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }

  const std::string source = "snapshot file";
  if (*result.restored_revision != *result.expected_revision) {
    return fail("revision mismatch: the restored etcd is at revision {}, the {} says {}", *result.restored_revision,
                source, *result.expected_revision);
  }
  if (*result.restored_keys != *result.expected_keys) {
    return fail("key count mismatch: the restored database holds {} keys (as etcdctl snapshot status counts), the {} says {}",
                *result.restored_keys, source, *result.expected_keys);
  }
  result.message =
      fmt::format("restorable: revision {} and {} keys as the {} says; {} live keys served; sha256 {}",
                  *result.restored_revision, *result.restored_keys, source, *result.served_keys, result.sha256);
  return {};
}

}  // namespace

Result<fs::path> newestSnapshot(const fs::path& backup_dir) {
  std::error_code ec;
  if (!fs::is_directory(backup_dir, ec)) return fail("{}: not a directory", backup_dir.string());
  std::optional<fs::path> newest;
  fs::file_time_type newest_time;
  for (fs::directory_iterator it(backup_dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file(ec) || !isBackupName(it->path().filename().string())) continue;
    // A backup that failed its test-restore is never offered as the newest (backup_catalog.h).
    if (recordedVerdict(it->path()) == false) continue;
    // The sidecar is written after the snapshot is complete and renamed into place: its time marks a finished
    // backup. Without one, the file's own time.
    const fs::path sidecar = snapshotSidecarPath(it->path());
    auto time = fs::last_write_time(fs::exists(sidecar, ec) ? sidecar : it->path(), ec);
    if (ec) continue;
    // Equal times (coarse clocks, copies): the larger name wins, so the choice does not depend on listing order.
    if (!newest || time > newest_time || (time == newest_time && it->path().filename() > newest->filename())) {
      newest = it->path();
      newest_time = time;
    }
  }
  if (ec) return fail("{}: cannot list: {}", backup_dir.string(), ec.message());
  if (!newest) {
    return fail("{}: no snapshot in this directory (files ending in .part, .sha256 or .json are not snapshots)",
                backup_dir.string());
  }
  return *newest;
}

Result<TestRestoreResult> testRestore(const fs::path& snapshot, const TestRestoreOptions& options) {
  const auto started = SteadyClock::now();
  std::error_code ec;
  if (!fs::is_regular_file(snapshot, ec)) return fail("{}: no such snapshot file", snapshot.string());
  TestRestoreResult result;
  result.snapshot = fs::absolute(snapshot, ec);
  const Status run = runTestRestore(result, options, started + options.timeout);
  // runTestRestore has returned: its etcd is killed and reaped and its work dir removed, so the duration below
  // includes the teardown, as a real recovery's time would.
  result.ok = run.ok();
  if (!run.ok()) result.message = run.error().message;
  result.duration = std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - started);
  return result;
}

}  // namespace dr
