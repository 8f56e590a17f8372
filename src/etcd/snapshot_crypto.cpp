// AES-256-GCM snapshot encryption, streaming record by record. The format is described in snapshot_crypto.h.
#include "etcd/snapshot_crypto.h"

#include <openssl/evp.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <sys/stat.h>

#include <array>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "core/file_io.h"

namespace dr {

namespace {

constexpr std::uint8_t kVersion = 1;
constexpr std::size_t kHeaderSize = 24;
constexpr std::size_t kRecordHeaderSize = 5;
constexpr std::size_t kTagSize = 16;
constexpr std::uint32_t kChunkSize = 1 << 20;
// A reader never trusts the header's chunk size beyond this: a forged header must not make it allocate gigabytes.
constexpr std::uint32_t kMaxChunkSize = 16 << 20;

struct CipherFree {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherFree>;

void putU32(unsigned char* out, std::uint32_t v) {
  for (int i = 3; i >= 0; --i, v >>= 8) out[i] = static_cast<unsigned char>(v & 0xff);
}
std::uint32_t getU32(const unsigned char* in) {
  return (std::uint32_t{in[0]} << 24) | (std::uint32_t{in[1]} << 16) | (std::uint32_t{in[2]} << 8) | in[3];
}

// Associated data of record `index`: the file header, the index, the record's length and final flag.
std::array<unsigned char, kHeaderSize + 8 + kRecordHeaderSize> recordAad(const unsigned char* header,
                                                                         std::uint64_t index,
                                                                         const unsigned char* record_header) {
  std::array<unsigned char, kHeaderSize + 8 + kRecordHeaderSize> aad{};
  std::memcpy(aad.data(), header, kHeaderSize);
  for (int i = 7; i >= 0; --i, index >>= 8) aad[kHeaderSize + static_cast<std::size_t>(i)] = index & 0xff;
  std::memcpy(aad.data() + kHeaderSize + 8, record_header, kRecordHeaderSize);
  return aad;
}

std::array<unsigned char, 12> recordNonce(const unsigned char* header, std::uint32_t index) {
  std::array<unsigned char, 12> nonce{};
  std::memcpy(nonce.data(), header + 16, 8);
  putU32(nonce.data() + 8, index);
  return nonce;
}

// Seals or opens one record in place. Returns false when opening fails authentication.
bool gcm(bool encrypt, std::string_view key, const std::array<unsigned char, 12>& nonce,
         std::span<const unsigned char> aad, unsigned char* data, std::size_t size, unsigned char* tag) {
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return false;
  const auto* k = reinterpret_cast<const unsigned char*>(key.data());
  if (EVP_CipherInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, k, nonce.data(), encrypt ? 1 : 0) != 1) return false;
  int length = 0;
  if (EVP_CipherUpdate(ctx.get(), nullptr, &length, aad.data(), static_cast<int>(aad.size())) != 1) return false;
  if (size > 0 && EVP_CipherUpdate(ctx.get(), data, &length, data, static_cast<int>(size)) != 1) return false;
  if (!encrypt && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagSize, tag) != 1) return false;
  unsigned char final_block[16];
  if (EVP_CipherFinal_ex(ctx.get(), final_block, &length) != 1) return false;
  if (encrypt && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagSize, tag) != 1) return false;
  return true;
}

Status checkKey(std::string_view key) {
  if (key.size() != kSnapshotKeySize) return fail("the snapshot key must be {} bytes, got {}", kSnapshotKeySize, key.size());
  return {};
}

}  // namespace

Result<std::string> parseSnapshotKey(std::string_view text, std::string_view where) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  if (text.size() != kSnapshotKeySize * 2) {
    return fail("{}: a snapshot key is {} hex digits (e.g. `openssl rand -hex 32`), found {} characters", where,
                kSnapshotKeySize * 2, text.size());
  }
  std::string key;
  for (std::size_t i = 0; i < text.size(); i += 2) {
    int value = 0;
    for (std::size_t j = 0; j < 2; ++j) {
      const char c = static_cast<char>(std::tolower(static_cast<unsigned char>(text[i + j])));
      int digit = -1;
      if (c >= '0' && c <= '9') digit = c - '0';
      if (c >= 'a' && c <= 'f') digit = c - 'a' + 10;
      if (digit < 0) return fail("{}: the snapshot key is not hex (character {})", where, i + j + 1);
      value = value * 16 + digit;
    }
    key += static_cast<char>(value);
  }
  return key;
}

Result<std::string> loadSnapshotKeyFile(const std::filesystem::path& path, std::string* warning) {
  auto fd = openRegularFile(path, "key file");
  if (!fd) return fd.error();
  struct stat st {};
  if (warning != nullptr && ::fstat(fd->get(), &st) == 0 && (st.st_mode & 077) != 0) {
    *warning = fmt::format("{}: the key file has mode {:04o}: others may read it (chmod 600 {})", path.string(),
                           st.st_mode & 0777, path.string());
  }
  std::string content(256, '\0');
  auto got = readFull(fd->get(), content.data(), content.size(), path);
  if (!got) return got.error();
  content.resize(*got);
  if (content.size() == kSnapshotKeySize) {
    // 32 raw bytes, unless it happens to be text that is not a key at all.
    return content;
  }
  return parseSnapshotKey(content, path.string());
}

Result<std::string> loadSnapshotKeyEnv(const std::string& variable) {
  char* value = std::getenv(variable.c_str());
  if (value == nullptr || *value == '\0') return fail("environment variable {} is not set", variable);
  auto key = parseSnapshotKey(value, "environment variable " + variable);
  // Every local step inherits the environment: the key must not ride along. Wiped, then removed.
  OPENSSL_cleanse(value, std::strlen(value));
  ::unsetenv(variable.c_str());
  return key;
}

bool isEncryptedSnapshot(const std::filesystem::path& path) {
  auto fd = openRegularFile(path, "snapshot");
  if (!fd) return false;
  char magic[kEncryptedSnapshotMagic.size()];
  auto got = readFull(fd->get(), magic, sizeof(magic), path);
  return got && *got == sizeof(magic) && std::string_view(magic, sizeof(magic)) == kEncryptedSnapshotMagic;
}

struct SnapshotEncryptor::State {
  std::string key;
  Sink sink;
  unsigned char header[kHeaderSize] = {};
  std::vector<unsigned char> record = std::vector<unsigned char>(kRecordHeaderSize + kChunkSize + kTagSize);
  std::size_t pending = 0;  // plaintext bytes in record's body, not yet sealed
  std::uint32_t index = 0;
  bool finished = false;
  ~State() {
    OPENSSL_cleanse(key.data(), key.size());
    OPENSSL_cleanse(record.data(), record.size());
  }
};

Result<SnapshotEncryptor> SnapshotEncryptor::start(std::string_view key, Sink sink) {
  if (auto ok = checkKey(key); !ok) return ok.error();
  auto state = std::make_unique<State>();
  state->key.assign(key);
  state->sink = std::move(sink);
  std::memcpy(state->header, kEncryptedSnapshotMagic.data(), 8);
  state->header[8] = kVersion;
  putU32(state->header + 12, kChunkSize);
  if (RAND_bytes(state->header + 16, 8) != 1) return fail("OpenSSL: no random bytes for the nonce");
  if (auto w = state->sink(std::string_view(reinterpret_cast<char*>(state->header), kHeaderSize)); !w) return w.error();
  return SnapshotEncryptor(std::move(state));
}

SnapshotEncryptor::SnapshotEncryptor(std::unique_ptr<State> state) : state_(std::move(state)) {}
SnapshotEncryptor::SnapshotEncryptor(SnapshotEncryptor&&) noexcept = default;
SnapshotEncryptor& SnapshotEncryptor::operator=(SnapshotEncryptor&&) noexcept = default;
SnapshotEncryptor::~SnapshotEncryptor() = default;

Status SnapshotEncryptor::seal(bool last) {
  State& s = *state_;
  if (s.index == UINT32_MAX) return fail("too large to encrypt");
  unsigned char* record = s.record.data();
  putU32(record, static_cast<std::uint32_t>(s.pending));
  record[4] = last ? 1 : 0;
  const auto aad = recordAad(s.header, s.index, record);
  unsigned char* body = record + kRecordHeaderSize;
  if (!gcm(true, s.key, recordNonce(s.header, s.index), aad, body, s.pending, body + s.pending)) {
    return fail("OpenSSL: AES-256-GCM encryption failed");
  }
  const auto bytes = std::string_view(reinterpret_cast<char*>(record), kRecordHeaderSize + s.pending + kTagSize);
  ++s.index;
  s.pending = 0;
  return s.sink(bytes);
}

Status SnapshotEncryptor::write(std::string_view plaintext) {
  State& s = *state_;
  if (s.finished) return fail("the encrypted snapshot is already finished");
  while (!plaintext.empty()) {
    // A full chunk is sealed only once more data shows it is not the last.
    if (s.pending == kChunkSize) {
      if (auto sealed = seal(false); !sealed) return sealed;
    }
    const std::size_t take = std::min(plaintext.size(), kChunkSize - s.pending);
    std::memcpy(s.record.data() + kRecordHeaderSize + s.pending, plaintext.data(), take);
    s.pending += take;
    plaintext.remove_prefix(take);
  }
  return {};
}

Status SnapshotEncryptor::finish() {
  if (state_->finished) return {};
  state_->finished = true;
  return seal(true);
}

Status encryptSnapshotFile(const std::filesystem::path& in, const std::filesystem::path& out, std::string_view key) {
  auto input = openRegularFile(in, "snapshot");
  if (!input) return input.error();
  auto output = AtomicFile::create(out);
  if (!output) return output.error();
  auto encryptor = SnapshotEncryptor::start(key, [&](std::string_view bytes) { return output->write(bytes); });
  if (!encryptor) return encryptor.error();
  std::vector<char> chunk(kChunkSize);
  for (;;) {
    auto got = readFull(input->get(), chunk.data(), chunk.size(), in);
    if (!got) return got.error();
    if (*got == 0) break;
    if (auto w = encryptor->write(std::string_view(chunk.data(), *got)); !w) return w;
  }
  if (auto done = encryptor->finish(); !done) return done;
  return output->commit();
}

namespace {

// Walks an encrypted snapshot record by record. With a key every record is authenticated and its plaintext handed
// to `sink`; without one only the container's structure is checked (header, each record's length and flag, the
// final record last, nothing after it): what can be known of a file whose key is not at hand.
Status walkEncrypted(const std::filesystem::path& in, const std::string_view* key,
                     const std::function<Status(std::string_view)>& sink) {
  if (key != nullptr) {
    if (auto ok = checkKey(*key); !ok) return ok;
  }
  auto input = openRegularFile(in, "snapshot");
  if (!input) return input.error();
  unsigned char header[kHeaderSize];
  auto got = readFull(input->get(), reinterpret_cast<char*>(header), kHeaderSize, in);
  if (!got) return got.error();
  if (*got < kEncryptedSnapshotMagic.size() ||
      std::string_view(reinterpret_cast<char*>(header), kEncryptedSnapshotMagic.size()) != kEncryptedSnapshotMagic) {
    return fail("{}: not an encrypted snapshot (no DRSNAPE1 header)", in.string());
  }
  if (*got < kHeaderSize) return fail("{}: truncated header", in.string());
  if (header[8] != kVersion) return fail("{}: unsupported encrypted snapshot version {}", in.string(), header[8]);
  if (header[9] != 0 || header[10] != 0 || header[11] != 0) {
    return fail("{}: damaged header (reserved bytes are not zero)", in.string());
  }
  const std::uint32_t chunk_size = getU32(header + 12);
  if (chunk_size == 0 || chunk_size > kMaxChunkSize) return fail("{}: invalid chunk size {}", in.string(), chunk_size);

  std::vector<unsigned char> record(kRecordHeaderSize + chunk_size + kTagSize);
  for (std::uint32_t index = 0;; ++index) {
    got = readFull(input->get(), reinterpret_cast<char*>(record.data()), kRecordHeaderSize, in);
    if (!got) return got.error();
    if (*got < kRecordHeaderSize) {
      return fail("{}: truncated: the file ends after record {} without the final record", in.string(), index);
    }
    const std::uint32_t size = getU32(record.data());
    const bool last = record[4] == 1;
    if (size > chunk_size || record[4] > 1) return fail("{}: record {} is damaged (bad length or flag)", in.string(), index);
    if (!last && size != chunk_size) {
      return fail("{}: record {} is damaged (a record before the last is not a full chunk)", in.string(), index);
    }
    unsigned char* body = record.data() + kRecordHeaderSize;
    got = readFull(input->get(), reinterpret_cast<char*>(body), size + kTagSize, in);
    if (!got) return got.error();
    if (*got < size + kTagSize) return fail("{}: truncated inside record {}", in.string(), index);
    if (key != nullptr) {
      const auto aad = recordAad(header, index, record.data());
      if (!gcm(false, *key, recordNonce(header, index), aad, body, size, body + size)) {
        return fail("{}: authentication failed at record {}: the file was tampered with, damaged, or the key is wrong",
                    in.string(), index);
      }
      if (auto w = sink(std::string_view(reinterpret_cast<char*>(body), size)); !w) return w;
    }
    if (last) break;
  }
  char extra;
  got = readFull(input->get(), &extra, 1, in);
  if (!got) return got.error();
  if (*got != 0) return fail("{}: unexpected data after the final record", in.string());
  return {};
}

}  // namespace

Status decryptSnapshotFile(const std::filesystem::path& in, const std::filesystem::path& out, std::string_view key) {
  auto output = AtomicFile::create(out);
  if (!output) return output.error();
  if (auto walked = walkEncrypted(in, &key, [&](std::string_view plain) { return output->write(plain); }); !walked) {
    return walked;
  }
  return output->commit();
}

Status checkEncryptedSnapshot(const std::filesystem::path& in, std::optional<std::string_view> key) {
  const auto discard = [](std::string_view) { return Status{}; };
  return key ? walkEncrypted(in, &*key, discard) : walkEncrypted(in, nullptr, discard);
}

}  // namespace dr
