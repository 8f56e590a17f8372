// AES-256-GCM snapshot encryption: round trips, and every kind of damage refused with nothing left behind.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "etcd/snapshot_crypto.h"
#include "etcd/snapshot_file.h"

using namespace dr;
namespace fs = std::filesystem;

namespace {
const std::string kKey(32, '\x42');
fs::path temp(const std::string& name) { return fs::temp_directory_path() / ("dr-crypto-" + std::to_string(getpid()) + "-" + name); }
std::string readAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}
void writeAll(const fs::path& p, const std::string& bytes) { std::ofstream(p, std::ios::binary) << bytes; }
std::string pattern(std::size_t size) {
  std::string s(size, '\0');
  for (std::size_t i = 0; i < size; ++i) s[i] = static_cast<char>((i * 131 + 7) % 251);
  return s;
}
}  // namespace

TEST_CASE("encrypt then decrypt gives back the same bytes, for sizes around the chunk size", "[etcd][crypto]") {
  for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{1} << 20, (std::size_t{5} << 19) + 3}) {
    const auto plain = temp("plain"), enc = temp("enc"), dec = temp("dec");
    const std::string bytes = pattern(size);
    writeAll(plain, bytes);
    REQUIRE(encryptSnapshotFile(plain, enc, kKey).ok());
    CHECK(isEncryptedSnapshot(enc));
    CHECK_FALSE(isEncryptedSnapshot(plain));
    // No plaintext shows through: checked where the probe is long enough (>= 16 bytes) not to occur by chance
    // in random ciphertext (a 1-byte plaintext is found in it often).
    if (size >= 16) CHECK(readAll(enc).find(bytes.substr(0, 64)) == std::string::npos);
    REQUIRE(decryptSnapshotFile(enc, dec, kKey).ok());
    CHECK(readAll(dec) == bytes);
    fs::remove(plain), fs::remove(enc), fs::remove(dec);
  }
}

TEST_CASE("tampering, truncation, reordering, extra bytes and a wrong key are refused; no output is left",
          "[etcd][crypto]") {
  const auto plain = temp("p"), enc = temp("e"), bad = temp("b"), out = temp("o");
  writeAll(plain, pattern((std::size_t{5} << 19) + 3));  // three records: 1 MiB, 1 MiB, 0.5 MiB + 3
  REQUIRE(encryptSnapshotFile(plain, enc, kKey).ok());
  const std::string good = readAll(enc);
  const std::size_t record = 5 + (1 << 20) + 16;
  auto refused = [&](const std::string& bytes, const std::string& key, const char* expect) {
    writeAll(bad, bytes);
    const auto status = decryptSnapshotFile(bad, out, key);
    REQUIRE_FALSE(status.ok());
    CHECK_THAT(status.error().message, Catch::Contains(expect));
    CHECK_FALSE(fs::exists(out));
    CHECK_FALSE(fs::exists(out.string() + ".part"));
  };
  for (std::size_t offset : {std::size_t{20}, std::size_t{30}, good.size() / 2, good.size() - 1}) {
    std::string flipped = good;
    flipped[offset] ^= 0x01;
    refused(flipped, kKey, "");
  }
  refused(good.substr(0, 24 + record), kKey, "truncated");            // cut at a record boundary
  refused(good.substr(0, good.size() - 10), kKey, "truncated");
  std::string swapped = good.substr(0, 24) + good.substr(24 + record, record) + good.substr(24, record) +
                        good.substr(24 + 2 * record);
  refused(swapped, kKey, "authentication failed");
  refused(good + "x", kKey, "after the final record");
  refused(good, std::string(32, '\x43'), "authentication failed");
  refused(pattern(100), kKey, "not an encrypted snapshot");
  fs::remove(plain), fs::remove(enc), fs::remove(bad);
}

TEST_CASE("keys come from hex text, a 32-byte file or an environment variable", "[etcd][crypto]") {
  const std::string hex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
  auto key = parseSnapshotKey(hex + "\n", "test");
  REQUIRE(key.ok());
  CHECK(key->size() == 32);
  CHECK((*key)[31] == '\x1f');
  CHECK_FALSE(parseSnapshotKey("abc", "test").ok());
  CHECK_FALSE(parseSnapshotKey(std::string(64, 'g'), "test").ok());
  const auto file = temp("key");
  writeAll(file, hex + "\n");
  CHECK(loadSnapshotKeyFile(file).value() == *key);
  writeAll(file, std::string(32, 'k'));
  CHECK(loadSnapshotKeyFile(file).value() == std::string(32, 'k'));
  fs::remove(file);
  CHECK_FALSE(loadSnapshotKeyFile("/nonexistent/key").ok());
  ::setenv("DR_TEST_SNAPSHOT_KEY", hex.c_str(), 1);
  CHECK(loadSnapshotKeyEnv("DR_TEST_SNAPSHOT_KEY").value() == *key);
  CHECK_FALSE(loadSnapshotKeyEnv("DR_TEST_UNSET_VARIABLE_XYZ").ok());
  CHECK_FALSE(encryptSnapshotFile(file, temp("x"), "short").ok());
}

TEST_CASE("inspectSnapshot recognises an encrypted snapshot and says so", "[etcd][crypto][snapshot]") {
  const auto plain = temp("ip"), enc = temp("ie");
  writeAll(plain, pattern(4096));
  REQUIRE(encryptSnapshotFile(plain, enc, kKey).ok());
  auto info = inspectSnapshot(enc);
  REQUIRE(info.ok());
  CHECK(info->encrypted);
  CHECK_FALSE(info->has_trailer);
  CHECK_THAT(info->warning, Catch::Contains("decrypt"));
  fs::remove(plain), fs::remove(enc);
}

TEST_CASE("the streaming encryptor writes what the file encryptor writes, whatever the pieces it is given",
          "[etcd][crypto]") {
  // Pieces smaller than, equal to and larger than a chunk, ending on a chunk boundary or not: each stream decrypts
  // back to its bytes, and its record layout (sizes and final flags) is the file encryptor's.
  for (std::size_t size : {std::size_t{0}, std::size_t{1} << 20, (std::size_t{2} << 20) + 5}) {
    for (std::size_t piece : {std::size_t{1000}, std::size_t{1} << 20, std::size_t{3} << 20}) {
      const std::string bytes = pattern(size);
      std::string stream;
      auto encryptor = SnapshotEncryptor::start(kKey, [&](std::string_view b) {
        stream.append(b);
        return Status{};
      });
      REQUIRE(encryptor.ok());
      for (std::size_t at = 0; at < bytes.size(); at += piece) {
        REQUIRE(encryptor->write(std::string_view(bytes).substr(at, piece)).ok());
      }
      REQUIRE(encryptor->finish().ok());
      CHECK_FALSE(encryptor->write("more").ok());  // nothing after the final record
      const auto enc = temp("stream-enc"), dec = temp("stream-dec"), plain = temp("stream-plain"),
                 file_enc = temp("file-enc");
      writeAll(enc, stream);
      REQUIRE(checkEncryptedSnapshot(enc, std::string_view(kKey)).ok());
      REQUIRE(decryptSnapshotFile(enc, dec, kKey).ok());
      CHECK(readAll(dec) == bytes);
      writeAll(plain, bytes);
      REQUIRE(encryptSnapshotFile(plain, file_enc, kKey).ok());
      CHECK(fs::file_size(file_enc) == stream.size());  // same records; only the random nonce prefix differs
      fs::remove(enc), fs::remove(dec), fs::remove(plain), fs::remove(file_enc);
    }
  }
  CHECK_FALSE(SnapshotEncryptor::start("short", [](std::string_view) { return Status{}; }).ok());
}
