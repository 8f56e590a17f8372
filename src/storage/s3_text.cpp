// Text rules shared by storage/ (see s3_text.h).
#include "storage/s3_text.h"

#include <cctype>

#include "core/utf8.h"

namespace dr::s3 {

std::string printableText(std::string_view text, std::size_t max_bytes) {
  std::string out = toValidUtf8(utf8Prefix(text, max_bytes));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return text.size() > max_bytes ? out + "..." : out;
}

bool hasControlCharacter(std::string_view text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return true;
  }
  return false;
}

std::string lowerCase(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace dr::s3
