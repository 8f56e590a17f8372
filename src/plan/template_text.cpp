// See template_text.h.
#include "plan/template_text.h"

#include <algorithm>
#include <cctype>
#include <utility>

namespace dr {

namespace {

bool isNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool isNameChar(char c) { return isNameStart(c) || (c >= '0' && c <= '9'); }

// A variable name is two or more identifiers joined by dots: member.name, member.service.stop.
bool isVariableName(std::string_view name) {
  bool expect_start = true;
  int parts = 0;
  for (char c : name) {
    if (expect_start) {
      if (!isNameStart(c)) return false;
      expect_start = false;
      ++parts;
    } else if (c == '.') {
      expect_start = true;
    } else if (!isNameChar(c)) {
      return false;
    }
  }
  return !expect_start && parts >= 2;
}

}  // namespace

VariableScan scanVariables(std::string_view text) {
  VariableScan scan;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text.compare(i, 3, "$${") == 0) {
      i += 3;
      continue;
    }
    if (text.compare(i, 2, "${") != 0) {
      ++i;
      continue;
    }
    const std::size_t close = text.find('}', i + 2);
    if (close == std::string_view::npos) {
      scan.errors.push_back({i, "unterminated variable: '${' without a closing '}' (write $${ for a literal ${)"});
      break;
    }
    const std::string_view name = text.substr(i + 2, close - i - 2);
    if (!isVariableName(name)) {
      scan.errors.push_back({i, "malformed variable '${" + std::string(name) +
                                    "}': expected ${namespace.name}, e.g. ${member.name} (write $${ for the "
                                    "shell's own ${var})"});
    } else {
      scan.uses.push_back({std::string(name), i, close - i + 1});
    }
    i = close + 1;
  }
  return scan;
}

std::vector<VariableUse> variablesInsideQuotes(std::string_view text) {
  const VariableScan scan = scanVariables(text);
  std::vector<VariableUse> inside;
  enum class Quote { None, Single, Double };
  // One entry per open $( or ( : the quoting in force inside it.
  std::vector<Quote> stack{Quote::None};
  std::size_t next_use = 0;
  bool word_start = true;
  for (std::size_t i = 0; i < text.size(); ++i) {
    while (next_use < scan.uses.size() && scan.uses[next_use].offset < i) ++next_use;
    Quote& quote = stack.back();
    if (next_use < scan.uses.size() && scan.uses[next_use].offset == i) {
      if (quote != Quote::None) inside.push_back(scan.uses[next_use]);
      i += scan.uses[next_use].length - 1;
      word_start = false;
      continue;
    }
    const char c = text[i];
    if (quote == Quote::Single) {
      if (c == '\'') quote = Quote::None;
      continue;
    }
    if (c == '\\') {
      ++i;
      word_start = false;
      continue;
    }
    if (quote == Quote::None && c == '#' && word_start) {
      while (i < text.size() && text[i] != '\n') ++i;
      word_start = true;
      continue;
    }
    if (c == '$' && i + 1 < text.size() && text[i + 1] == '(') {
      stack.push_back(Quote::None);
      ++i;
      word_start = true;
      continue;
    }
    if (quote == Quote::None && c == '(') {
      stack.push_back(Quote::None);
      word_start = true;
      continue;
    }
    if (quote == Quote::None && c == ')' && stack.size() > 1) {
      stack.pop_back();
      word_start = false;
      continue;
    }
    if (c == '"') {
      quote = quote == Quote::Double ? Quote::None : Quote::Double;
    } else if (c == '\'' && quote == Quote::None) {
      quote = Quote::Single;
    }
    word_start = quote == Quote::None && (c == ' ' || c == '\t' || c == '\n' || c == ';' || c == '&' || c == '|');
  }
  return inside;
}

std::vector<VariableUse> variablesInsideHeredocs(std::string_view text) {
  const VariableScan scan = scanVariables(text);
  // [start, end) byte ranges of here-document bodies.
  std::vector<std::pair<std::size_t, std::size_t>> bodies;
  std::size_t line_start = 0;
  while (line_start < text.size()) {
    std::size_t line_end = text.find('\n', line_start);
    if (line_end == std::string_view::npos) line_end = text.size();
    const std::string_view line = text.substr(line_start, line_end - line_start);
    // Each `<<WORD` on this line opens a body; bodies follow one another from the next line.
    std::size_t body_start = std::min(line_end + 1, text.size());
    for (std::size_t at = line.find("<<"); at != std::string_view::npos; at = line.find("<<", at + 2)) {
      std::size_t i = at + 2;
      if (i < line.size() && line[i] == '<') {  // <<< is a here-string: one ordinary shell word follows
        at = i;
        continue;
      }
      const bool strip_tabs = i < line.size() && line[i] == '-';
      if (strip_tabs) ++i;
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
      std::string delimiter;
      for (; i < line.size(); ++i) {
        const char c = line[i];
        if (c == '\'' || c == '"' || c == '\\') continue;  // quoting of the delimiter word
        if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '_' && c != '-' && c != '.') break;
        delimiter += c;
      }
      if (delimiter.empty()) continue;
      // The body ends at a line that is exactly the delimiter (after leading tabs, for <<-).
      std::size_t cursor = body_start, end = text.size(), next = text.size();
      while (cursor < text.size()) {
        std::size_t cursor_end = text.find('\n', cursor);
        if (cursor_end == std::string_view::npos) cursor_end = text.size();
        std::string_view candidate = text.substr(cursor, cursor_end - cursor);
        if (strip_tabs) candidate.remove_prefix(std::min(candidate.find_first_not_of('\t'), candidate.size()));
        if (candidate == delimiter) {
          end = cursor;
          next = std::min(cursor_end + 1, text.size());
          break;
        }
        cursor = cursor_end + 1;
      }
      bodies.emplace_back(body_start, end);
      body_start = next;
    }
    // The shell reads on after the last body's delimiter line (or this line, when it opened none).
    line_start = std::max(line_end + 1, body_start);
  }
  std::vector<VariableUse> inside;
  for (const auto& use : scan.uses) {
    for (const auto& [start, end] : bodies) {
      if (use.offset >= start && use.offset < end) {
        inside.push_back(use);
        break;
      }
    }
  }
  return inside;
}

Result<std::string> substituteVariables(std::string_view text,
                                        const std::function<std::optional<std::string>(const std::string&)>& lookup) {
  const VariableScan scan = scanVariables(text);
  if (!scan.errors.empty()) return Error{scan.errors.front().message};
  std::string out;
  out.reserve(text.size() + 64);
  std::size_t from = 0;
  auto copyLiteral = [&](std::size_t to) {
    // Copies text[from, to) turning each $${ into ${.
    while (from < to) {
      const std::size_t escape = text.find("$${", from);
      if (escape == std::string_view::npos || escape >= to) break;
      out.append(text.substr(from, escape - from));
      out += "${";
      from = escape + 3;
    }
    out.append(text.substr(from, to - from));
    from = to;
  };
  for (const auto& use : scan.uses) {
    copyLiteral(use.offset);
    auto value = lookup(use.name);
    if (!value) return fail("unknown variable ${{{}}}", use.name);
    out += *value;
    from = use.offset + use.length;
  }
  copyLiteral(text.size());
  return out;
}

}  // namespace dr
