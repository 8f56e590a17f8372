// Backups off the cluster: our S3 upload (S3Client::putFile, multipart with Content-MD5 per part and the file's
// SHA-256 as metadata) against the AWS CLI's `aws s3 cp`, both into the same s3rver on loopback, in the same run:
//   (a) ours: what a backup does: the snapshot encrypted as it streams (AES-256-GCM), hashed and written as a save
//       writes it (fsync, rename), then putFile of the result with that SHA-256 known (no second hashing pass)
//   (b) ours: putFile alone
//   (c) aws s3 cp
//   (d) encryptSnapshotFile alone (to the same disk), to say what (a) spends besides the upload
// Throughput of (a) and (b) against (c) (target >= 0.8x) and our peak RSS (target < 64 MiB). Each upload runs as a
// child process so wait4 measures all alike; best of DR_BENCH_ROUNDS (default 2), alternating (shared machines).
// Size: 1 GiB, or DR_BENCH_S3_MIB / --mib N for a quick check. --tune also tries other part sizes and parallelism.
// s3rver is a single Node.js process hashing and writing what it receives: on a 2-core machine it takes a core,
// and the comparison is between two clients of that same server.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "bench_child.h"
#include "core/file_io.h"
#include "core/sha256.h"
#include "etcd/snapshot_crypto.h"
#include "fixtures/s3_fixture.h"
#include "storage/s3_client.h"

namespace fs = std::filesystem;

namespace {

const std::string kKey(32, '\x5a');

// What a backup's save does with a stream (etcd/snapshot_save.cpp): encrypts it as it arrives, hashing and writing
// what it writes, then fsyncs and renames. Returns the stored file's SHA-256, which the upload then takes as known.
dr::Result<std::string> encryptLikeASave(const fs::path& in, const fs::path& out) {
  auto input = dr::openRegularFile(in, "snapshot");
  if (!input) return input.error();
  auto file = dr::AtomicFile::create(out);
  if (!file) return file.error();
  dr::Sha256 stored;
  auto encryptor = dr::SnapshotEncryptor::start(kKey, [&](std::string_view bytes) {
    stored.update(bytes);
    return file->write(bytes);
  });
  if (!encryptor) return encryptor.error();
  std::vector<char> chunk(4u << 20);  // etcd's stream arrives in pieces of about this size
  for (;;) {
    auto got = dr::readFull(input->get(), chunk.data(), chunk.size(), in);
    if (!got) return got.error();
    if (*got == 0) break;
    if (auto written = encryptor->write(std::string_view(chunk.data(), *got)); !written) return written.error();
  }
  if (auto finished = encryptor->finish(); !finished) return finished.error();
  if (auto committed = file->commit(); !committed) return committed.error();
  return stored.finishHex();
}

// Child: [--encrypt] ENDPOINT BUCKET FILE KEY PART_MIB PARALLEL
int childPut(bool encrypt, char** argv) {
  dr::S3Config config;
  config.endpoint = argv[0];
  config.credentials.access_key_id = dr::test::S3Server::kAccessKeyId;
  config.credentials.secret_access_key = dr::test::S3Server::kSecretAccessKey;
  config.part_size = std::stoull(argv[4]) << 20;
  config.parallel_parts = std::stoi(argv[5]);
  fs::path file = argv[2];
  dr::S3PutOptions options;
  if (encrypt) {
    const fs::path encrypted = file.string() + ".enc";
    auto sha256 = encryptLikeASave(file, encrypted);
    if (!sha256) {
      fmt::print(stderr, "{}\n", sha256.error().message);
      return 1;
    }
    file = encrypted;
    options.sha256 = *sha256;  // as drd's backup passes the save's FILE.sha256 (rehearse/backup_job.cpp)
  }
  auto client = dr::S3Client::open(config);
  if (!client) return 1;
  auto put = client->putFile(file, {argv[1], argv[3]}, options);
  if (!put) {
    fmt::print(stderr, "{}\n", put.error().message);
    return 1;
  }
  if (encrypt) fs::remove(file);
  return 0;
}

void makeFile(const fs::path& path, std::uint64_t size) {
  std::ofstream out(path, std::ios::binary);
  std::vector<std::uint64_t> block(1u << 17);  // 1 MiB
  std::uint64_t state = 0x9e3779b97f4a7c15ull;
  for (std::uint64_t written = 0; written < size; written += 8 * block.size()) {
    for (auto& word : block) {  // splitmix64: incompressible, and far faster than the disk
      state += 0x9e3779b97f4a7c15ull;
      std::uint64_t z = state;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
      word = z ^ (z >> 31);
    }
    out.write(reinterpret_cast<const char*>(block.data()),
              static_cast<std::streamsize>(std::min<std::uint64_t>(8 * block.size(), size - written)));
  }
}

std::string awsProgram() {
  if (fs::exists("/usr/bin/aws")) return "/usr/bin/aws";  // Debian's awscli
  const char* path = std::getenv("PATH");
  std::string_view rest = path == nullptr ? "" : path;
  while (!rest.empty()) {
    const auto end = rest.find(':');
    const fs::path candidate = fs::path(rest.substr(0, end)) / "aws";
    if (access(candidate.c_str(), X_OK) == 0) return candidate.string();
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
  }
  return {};
}

struct Measured {
  dr::bench::ChildRun run;
  bool ok = false;
};

void keepBest(Measured& best, const dr::bench::ChildRun& run) {
  if (run.exit_code != 0) return;
  if (!best.ok || run.seconds < best.run.seconds) best = {run, true};
}

double mbPerSecond(std::uint64_t bytes, const Measured& measured) {
  return static_cast<double>(bytes) / 1e6 / measured.run.seconds;
}

}  // namespace

// Child: FILE, encrypted to FILE.enc (then removed).
int childEncrypt(const char* file) {
  const fs::path encrypted = std::string(file) + ".enc";
  if (auto status = dr::encryptSnapshotFile(file, encrypted, kKey); !status) return 1;
  fs::remove(encrypted);
  return 0;
}

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "--encrypt") == 0) return childEncrypt(argv[2]);
  if (argc == 8 && std::strcmp(argv[1], "--put") == 0) return childPut(false, argv + 2);
  if (argc == 8 && std::strcmp(argv[1], "--encrypt-put") == 0) return childPut(true, argv + 2);
  std::uint64_t mib = 1024;
  if (const char* env = std::getenv("DR_BENCH_S3_MIB")) mib = std::stoull(env);
  bool tune = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--mib") == 0 && i + 1 < argc) mib = std::stoull(argv[++i]);
    if (std::strcmp(argv[i], "--tune") == 0) tune = true;
  }
  int rounds = 2;
  if (const char* env = std::getenv("DR_BENCH_ROUNDS")) rounds = std::max(1, std::atoi(env));

  dr::test::S3Server server;
  const std::string self = fs::canonical("/proc/self/exe").string();
  const fs::path file = server.dataDir().parent_path() / "upload.bin";
  const std::uint64_t size = mib << 20;
  makeFile(file, size);
  const dr::S3Config defaults;
  const std::string part_mib = std::to_string(defaults.part_size >> 20);
  const std::string parallel = std::to_string(defaults.parallel_parts);
  const auto ours = [&](const char* mode, const std::string& key, const std::string& part, const std::string& threads) {
    return dr::bench::runChild({self, mode, server.endpoint(), server.bucket(), file.string(), key, part, threads});
  };
  const std::string aws = awsProgram();
  const std::vector<std::string> aws_env{
      "AWS_ACCESS_KEY_ID=S3RVER",  "AWS_SECRET_ACCESS_KEY=S3RVER",          "AWS_DEFAULT_REGION=us-east-1",
      "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true"};

  // The first pass of a multipart upload, on its own: the SHA-256 that goes into the metadata at create time.
  const auto hash_start = std::chrono::steady_clock::now();
  if (!dr::sha256FileHex(file).ok()) return 1;
  const double hash_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - hash_start).count();

  Measured encrypt_put, put, aws_cp, encrypt;
  for (int round = 0; round < rounds; ++round) {
    keepBest(put, ours("--put", "ours.bin", part_mib, parallel));
    keepBest(encrypt_put, ours("--encrypt-put", "ours.enc", part_mib, parallel));
    keepBest(encrypt, dr::bench::runChild({self, "--encrypt", file.string()}));
    if (!aws.empty()) {
      keepBest(aws_cp, dr::bench::runChild({aws, "--endpoint-url", server.endpoint(), "s3", "cp", "--only-show-errors",
                                            file.string(), "s3://" + server.bucket() + "/aws.bin"},
                                           aws_env));
    }
  }
  if (!put.ok || !encrypt_put.ok) {
    fmt::print("bench_s3_upload: our upload failed (s3rver's log: {})\n", server.logFile().string());
    return 1;
  }
  const double mb = static_cast<double>(size) / 1e6;
  fmt::print("S3 upload of {} MiB to s3rver on loopback, best of {}; parts of {} MiB, {} in flight\n", mib, rounds,
             part_mib, parallel);
  fmt::print("(b) putFile:           {:.0f} MB in {:.2f}s = {:.0f} MB/s, peak RSS {:.1f} MiB\n", mb, put.run.seconds,
             mbPerSecond(size, put), put.run.max_rss_kib / 1024.0);
  fmt::print("(a) encrypt + putFile: {:.0f} MB in {:.2f}s = {:.0f} MB/s, peak RSS {:.1f} MiB\n", mb,
             encrypt_put.run.seconds, mbPerSecond(size, encrypt_put), encrypt_put.run.max_rss_kib / 1024.0);
  if (encrypt.ok) {
    fmt::print("(d) encryptSnapshotFile alone: {:.2f}s = {:.0f} MB/s (its output written and fsynced)\n",
               encrypt.run.seconds, mbPerSecond(size, encrypt));
  }
  fmt::print("the SHA-256 pass before the parts (in (b); (a) knows the hash from its save): {:.2f}s = {:.0f} MB/s, the file in the page cache\n",
             hash_seconds, mb / hash_seconds);
  if (!aws_cp.ok) {
    fmt::print("(c) aws s3 cp: {}; no comparison\n",
               aws.empty() ? "aws is not installed (./run bench installs awscli)" : "failed");
  } else {
    fmt::print("(c) aws s3 cp ({}):  {:.0f} MB in {:.2f}s = {:.0f} MB/s, peak RSS {:.1f} MiB\n", aws, mb,
               aws_cp.run.seconds, mbPerSecond(size, aws_cp), aws_cp.run.max_rss_kib / 1024.0);
    fmt::print("ratio (a)/(c) throughput: {:.2f}x (target >= 0.8x)\n", aws_cp.run.seconds / encrypt_put.run.seconds);
    fmt::print("ratio (b)/(c) throughput: {:.2f}x (target >= 0.8x)\n", aws_cp.run.seconds / put.run.seconds);
  }
  const double peak_mib = std::max(put.run.max_rss_kib, encrypt_put.run.max_rss_kib) / 1024.0;
  fmt::print("peak RSS of ours: {:.1f} MiB (target < 64 MiB)\n", peak_mib);

  if (tune) {
    fmt::print("tuning putFile (best of {}):\n", rounds);
    for (const auto& [part, threads] : std::vector<std::pair<std::string, std::string>>{
             {"5", "2"}, {"5", "6"}, {"8", "3"}, {"8", "4"}, {"10", "4"}, {"16", "1"}, {"16", "2"}, {"32", "2"}}) {
      Measured measured;
      for (int round = 0; round < rounds; ++round) keepBest(measured, ours("--put", "tune.bin", part, threads));
      if (!measured.ok) continue;
      fmt::print("  parts of {:>2} MiB x {} in flight: {:.0f} MB/s, peak RSS {:.1f} MiB\n", part, threads,
                 mbPerSecond(size, measured), measured.run.max_rss_kib / 1024.0);
    }
  }
  return 0;
}
