#include "core/shell.h"

#include <algorithm>

namespace dr {

namespace {
bool isSafe(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("_./:=@%+,-").find(c) != std::string_view::npos;
}
}  // namespace

std::string shellQuote(std::string_view value) {
  if (!value.empty() && std::all_of(value.begin(), value.end(), isSafe)) return std::string(value);
  std::string out = "'";
  for (char c : value) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  out += "'";
  return out;
}

}  // namespace dr
