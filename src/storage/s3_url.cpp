// s3://BUCKET/KEY: what a user types, checked before anything is sent (see s3_client.h).
#include <cctype>

#include "core/utf8.h"
#include "storage/s3_client.h"
#include "storage/s3_text.h"

namespace dr {

namespace {

constexpr std::string_view kScheme = "s3://";
constexpr std::size_t kMaxKeyBytes = 1024;

// What a refused URL looked like, safe to print.
std::string printable(std::string_view text) {
  return s3::printableText(text, 200);
}

bool isDigits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// 192.168.5.4 is no bucket name (S3 refuses names formatted as IP addresses).
bool looksLikeIpv4(std::string_view name) {
  int parts = 0;
  std::size_t start = 0;
  for (;;) {
    const std::size_t dot = name.find('.', start);
    if (!isDigits(name.substr(start, dot == std::string_view::npos ? dot : dot - start))) return false;
    ++parts;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return parts == 4;
}

// Empty when the name is one S3 allows, else why not.
std::string bucketNameProblem(std::string_view name) {
  if (name.size() < 3 || name.size() > 63) return "must be 3 to 63 characters long";
  for (char c : name) {
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
    if (!allowed) return "may hold only lower-case letters, digits, '.' and '-'";
  }
  const auto alnum = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  if (!alnum(name.front()) || !alnum(name.back())) return "must start and end with a letter or a digit";
  if (name.find("..") != std::string_view::npos) return "may not hold two adjacent periods";
  if (looksLikeIpv4(name)) return "may not be formatted as an IP address";
  return {};
}

}  // namespace

std::string S3Location::url() const {
  return std::string(kScheme) + bucket + "/" + key;
}

bool isS3Url(std::string_view text) {
  return text.starts_with(kScheme);
}

Result<S3Location> parseS3Url(std::string_view text) {
  if (text.empty()) return fail("an empty S3 URL: expected s3://BUCKET/KEY");
  if (!isS3Url(text)) return fail("{}: not an S3 URL: expected s3://BUCKET/KEY", printable(text));
  if (text.find('\0') != std::string_view::npos) return fail("{}: the S3 URL holds a NUL byte", printable(text));
  if (!isValidUtf8(text)) return fail("{}: the S3 URL is not valid UTF-8", printable(text));
  const std::string_view rest = text.substr(kScheme.size());
  const std::size_t slash = rest.find('/');
  S3Location location;
  location.bucket = std::string(rest.substr(0, slash));
  if (slash != std::string_view::npos) location.key = std::string(rest.substr(slash + 1));
  if (location.bucket.empty()) return fail("{}: no bucket: expected s3://BUCKET/KEY", printable(text));
  if (const auto problem = bucketNameProblem(location.bucket); !problem.empty()) {
    return fail("{}: bucket name \"{}\" {}", printable(text), printable(location.bucket), problem);
  }
  if (location.key.size() > kMaxKeyBytes) {
    return fail("{}: the key is {} bytes long; S3 allows at most {}", printable(text), location.key.size(),
                kMaxKeyBytes);
  }
  // S3 would store them, but a key with control characters cannot be shown in a message or a log safely.
  if (s3::hasControlCharacter(location.key)) return fail("{}: the key holds a control character", printable(text));
  return location;
}

}  // namespace dr
