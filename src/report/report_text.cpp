// Text hygiene for the reports: commands print anything (binary, ANSI colours, '\r' progress bars, markup), and
// plans carry operator-chosen names. Everything is made valid UTF-8 first, then escaped for its target syntax.
#include <fmt/format.h>

#include <algorithm>
#include <cstdint>

#include "report/run_report.h"
#include "report/run_summary.h"

namespace dr {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

void appendUtf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Decodes one code point at text[i]; returns the code point and advances i, or returns nullopt and advances i by
// one byte when the sequence is malformed (overlong, surrogate, out of range, truncated).
std::optional<char32_t> decodeOne(std::string_view text, std::size_t& i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  if (lead < 0x80) return static_cast<char32_t>(text[i++]);
  int length = 0;
  char32_t cp = 0;
  char32_t min = 0;
  if ((lead & 0xE0) == 0xC0) {
    length = 2, cp = lead & 0x1F, min = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3, cp = lead & 0x0F, min = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4, cp = lead & 0x07, min = 0x10000;
  } else {
    ++i;
    return std::nullopt;
  }
  if (i + length > text.size()) {
    ++i;
    return std::nullopt;
  }
  for (int k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) {
      ++i;
      return std::nullopt;
    }
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    ++i;
    return std::nullopt;
  }
  i += length;
  return cp;
}

// Characters XML 1.0 forbids or that only make trouble in a report (C0 and C1 controls, DEL, U+FFFE/U+FFFF).
bool unwanted(char32_t cp) {
  if (cp == '\n' || cp == '\t') return false;
  return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0xFFFE || cp == 0xFFFF;
}

}  // namespace

std::string sanitizeText(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '\r') {  // "\r\n" is a newline; a lone '\r' (progress bars) is one too
      ++i;
      if (i < text.size() && text[i] == '\n') ++i;
      out += '\n';
      continue;
    }
    auto cp = decodeOne(text, i);
    if (!cp || unwanted(*cp)) {
      out += kReplacement;
    } else {
      appendUtf8(out, *cp);
    }
  }
  return out;
}

std::string logTail(std::string_view log, std::string_view step_id, std::size_t max_lines, std::size_t max_bytes) {
  // The last attempt's section starts after the executor's header line for it.
  const std::string header = fmt::format("--- {} attempt ", step_id);
  std::size_t section = std::string_view::npos;
  for (std::size_t at = log.rfind(header); at != std::string_view::npos; at = log.rfind(header, at - 1)) {
    if (at == 0 || log[at - 1] == '\n') {
      section = at;
      break;
    }
  }
  if (section != std::string_view::npos) {
    const std::size_t eol = log.find('\n', section);
    log = eol == std::string_view::npos ? std::string_view{} : log.substr(eol + 1);
  }
  constexpr std::size_t kScanLimit = 64 * 1024;  // a tail never needs more than this of a huge log
  if (log.size() > kScanLimit) log = log.substr(log.size() - kScanLimit);
  std::string text = sanitizeText(log);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ' || text.back() == '\t')) text.pop_back();

  std::size_t start = text.size();
  for (std::size_t lines = 0; start > 0; --start) {
    if (text[start - 1] == '\n' && ++lines == max_lines) break;
  }
  std::string tail = text.substr(start);
  if (tail.size() > max_bytes) {
    std::size_t cut = tail.size() - max_bytes;
    while (cut < tail.size() && (static_cast<unsigned char>(tail[cut]) & 0xC0) == 0x80) ++cut;  // not mid-character
    tail = "\xE2\x80\xA6" + tail.substr(cut);  // U+2026: the reader sees it was cut
  }
  return tail;
}

std::string xmlEscape(std::string_view text) {
  const std::string clean = sanitizeText(text);
  std::string out;
  out.reserve(clean.size());
  for (char c : clean) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      case '\n': out += "&#10;"; break;  // kept as a newline even inside attribute values
      case '\t': out += "&#9;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string xmlEscapeText(std::string_view text) {
  std::string out = xmlEscape(text);
  for (auto [entity, literal] : {std::pair<std::string_view, char>{"&#10;", '\n'}, {"&#9;", '\t'}}) {
    for (std::size_t at = out.find(entity); at != std::string::npos; at = out.find(entity, at + 1)) {
      out.replace(at, entity.size(), 1, literal);
    }
  }
  return out;
}

std::string markdownInline(std::string_view text) {
  const std::string clean = sanitizeText(text);
  std::string out;
  for (char c : clean) {
    switch (c) {
      case '\n':
      case '\t': out += ' '; break;
      case '|': out += "\\|"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '\\': case '`': case '*': case '_': case '[': case ']': case '#': case '!': case '~':
        out += '\\';
        out += c;
        break;
      default: out += c;
    }
  }
  return out;
}

std::string markdownCodeBlock(std::string_view text, std::string_view info) {
  const std::string clean = sanitizeText(text);
  // CommonMark: a fence closes only on a run of at least as many backticks, so use one longer than any inside.
  std::size_t longest = 0, run = 0;
  for (char c : clean) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  const std::string fence(std::max<std::size_t>(3, longest + 1), '`');
  std::string out = fence + std::string(info) + "\n" + clean;
  if (!clean.empty() && clean.back() != '\n') out += '\n';
  return out + fence + "\n";
}

std::string mermaidLabel(std::string_view text) {
  const std::string clean = sanitizeText(text);
  std::string out;
  std::size_t i = 0;
  while (i < clean.size()) {
    const auto cp = decodeOne(clean, i).value_or(0xFFFD);
    // Letters, digits and a few plain punctuation marks pass; everything else (quotes, brackets, ';', '#', '<', '&',
    // non-ASCII) becomes a mermaid entity code, which no parser stage reads as syntax.
    const bool plain = (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9') ||
                       cp == ' ' || cp == '-' || cp == '.' || cp == '@' || cp == '_' || cp == ':' || cp == '/' ||
                       cp == ',';
    if (plain) {
      out += static_cast<char>(cp);
    } else {
      out += fmt::format("#{};", static_cast<std::uint32_t>(cp));
    }
  }
  return out;
}

}  // namespace dr
