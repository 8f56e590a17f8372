// Encryption of snapshot files at rest: AES-256-GCM over OpenSSL EVP, streaming in 1 MiB chunks so memory stays
// flat whatever the snapshot's size.
//
// Format (all integers big-endian):
//   header  (24 bytes): magic "DRSNAPE1" (8) | version u8 = 1 | reserved (3, zero) | chunk size u32 | nonce prefix (8)
//   records, each:      plaintext length u32 | final flag u8 | ciphertext (length bytes) | GCM tag (16)
// Record i is sealed with nonce = nonce prefix | i (u32), and authenticates as associated data the whole header,
// i (u64), its length and its final flag. So a flipped byte anywhere, swapped or repeated records (the index is in
// the nonce and the AAD), a file cut after any record (no record flagged final) and bytes after the final record
// are all refused. The nonce prefix is random per file, so one key may encrypt many snapshots.
//
// Output goes to OUT.part and is renamed into place only when the whole input was processed and authenticated;
// on any error nothing is left behind at OUT.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace dr {

inline constexpr std::string_view kEncryptedSnapshotMagic = "DRSNAPE1";
inline constexpr std::size_t kSnapshotKeySize = 32;

// A 32-byte key from text: 64 hex digits (surrounding whitespace ignored).
Result<std::string> parseSnapshotKey(std::string_view text, std::string_view where);
// A key file holds either 64 hex digits or exactly 32 raw bytes. A key file others may read is used, and
// `warning` (when given) says so.
Result<std::string> loadSnapshotKeyFile(const std::filesystem::path& path, std::string* warning = nullptr);
// An environment variable holds 64 hex digits. Once read, the variable is wiped and removed from the environment,
// so the steps this process starts do not inherit the key.
Result<std::string> loadSnapshotKeyEnv(const std::string& variable);

// True when the file starts with our magic (an encrypted snapshot, to be decrypted before use).
bool isEncryptedSnapshot(const std::filesystem::path& path);

// Encrypts a stream as it arrives (a snapshot being saved): the plaintext never reaches a disk. Records go to
// `sink` in the format above; one full chunk is held back until more data or finish() says whether it is the last.
// Memory: two chunks (2 MiB).
class SnapshotEncryptor {
 public:
  using Sink = std::function<Status(std::string_view)>;
  static Result<SnapshotEncryptor> start(std::string_view key, Sink sink);  // writes the header
  SnapshotEncryptor(SnapshotEncryptor&&) noexcept;
  SnapshotEncryptor& operator=(SnapshotEncryptor&&) noexcept;
  ~SnapshotEncryptor();  // wipes its copy of the key and the buffered plaintext

  Status write(std::string_view plaintext);
  Status finish();  // the final record (empty when the input was empty or a whole number of chunks)

 private:
  struct State;
  explicit SnapshotEncryptor(std::unique_ptr<State> state);
  Status seal(bool last);
  std::unique_ptr<State> state_;
};

Status encryptSnapshotFile(const std::filesystem::path& in, const std::filesystem::path& out, std::string_view key);
Status decryptSnapshotFile(const std::filesystem::path& in, const std::filesystem::path& out, std::string_view key);
// Checks an encrypted snapshot without writing anything: with the key, every record is authenticated; without it,
// the container's structure (header, record lengths and flags, the final record last, nothing after it), so a
// truncated or forged file is refused before anything else happens.
Status checkEncryptedSnapshot(const std::filesystem::path& in, std::optional<std::string_view> key = std::nullopt);

}  // namespace dr
