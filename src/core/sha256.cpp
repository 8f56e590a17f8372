#include "core/sha256.h"

#include "core/file_io.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <vector>

namespace dr {

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("OpenSSL: cannot initialise SHA-256");
  }
}

void Sha256::update(std::span<const std::byte> data) { EVP_DigestUpdate(ctx_.get(), data.data(), data.size()); }

void Sha256::update(std::string_view data) { EVP_DigestUpdate(ctx_.get(), data.data(), data.size()); }

std::string Sha256::finishRaw() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(ctx_.get(), digest, &length);
  return std::string(reinterpret_cast<const char*>(digest), length);
}

std::string Sha256::finishHex() { return toHex(finishRaw()); }

std::string toHex(std::string_view raw) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(raw.size() * 2);
  for (unsigned char c : raw) {
    out += kDigits[c >> 4];
    out += kDigits[c & 0xf];
  }
  return out;
}

std::string sha256Hex(std::string_view data) {
  Sha256 hasher;
  hasher.update(data);
  return hasher.finishHex();
}

Result<std::string> sha256FileHex(const std::filesystem::path& path, std::uint64_t limit) {
  auto fd = openRegularFile(path, "file");
  if (!fd) return fd.error();
  Sha256 hasher;
  std::vector<char> buffer(1 << 20);
  std::uint64_t remaining = limit;
  while (remaining > 0) {
    auto got = readFull(fd->get(), buffer.data(), std::min<std::uint64_t>(buffer.size(), remaining), path);
    if (!got) return got.error();
    if (*got == 0) break;
    hasher.update(std::string_view(buffer.data(), *got));
    remaining -= *got;
  }
  return hasher.finishHex();
}

}  // namespace dr
