// Collecting diagnostics while reading YAML mappings; see yaml_reader.h.
#include "inventory/yaml_reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "core/suggest.h"
#include "core/utf8.h"

namespace dr {

SourceLocation DiagnosticSink::at(int line0, int column0) const {
  if (line0 < 0 || column0 < 0) return fileOnly();
  return SourceLocation{file_, line0 + 1, column0 + 1};
}

SourceLocation DiagnosticSink::at(const YAML::Node& node) const {
  // yaml-cpp gives an empty value the mark of whatever token follows it, which would point at the wrong line.
  if (!node.IsDefined() || node.IsNull()) return fileOnly();
  const YAML::Mark mark = node.Mark();
  return at(mark.line, mark.column);
}

void DiagnosticSink::error(SourceLocation where, std::string message) {
  diagnostics_.push_back(Diagnostic{Severity::Error, std::move(where), std::move(message)});
}

void DiagnosticSink::warning(SourceLocation where, std::string message) {
  diagnostics_.push_back(Diagnostic{Severity::Warning, std::move(where), std::move(message)});
}

bool DiagnosticSink::hasErrors() const {
  return dr::hasErrors(diagnostics_);
}

std::size_t DiagnosticSink::errorCount() const {
  return static_cast<std::size_t>(std::count_if(diagnostics_.begin(), diagnostics_.end(),
                                                [](const Diagnostic& d) { return d.severity == Severity::Error; }));
}

std::vector<Diagnostic> DiagnosticSink::take() {
  std::stable_sort(diagnostics_.begin(), diagnostics_.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::tie(a.where.line, a.where.column) < std::tie(b.where.line, b.where.column);
  });
  return std::move(diagnostics_);
}

std::string describeNode(const YAML::Node& node) {
  return node.IsScalar() ? fmt::format("'{}'", node.Scalar()) : describeKind(node);
}

std::string describeKind(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return "text";
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

bool looksLikeKeyName(std::string_view key) {
  return !key.empty() && key.size() <= 40 && std::all_of(key.begin(), key.end(), [](unsigned char c) {
    return std::isalnum(c) != 0 || c == '_' || c == '-' || c == '.';
  });
}

std::string unknownKeyText(std::string_view key) {
  if (looksLikeKeyName(key)) return fmt::format("unknown key '{}'", key);
  return fmt::format("an unknown key of {} bytes (not a key name; its text is not shown)", key.size());
}

SingleDocument loadSingleDocument(std::string_view text) {
  std::vector<YAML::Node> documents = YAML::LoadAll(std::string(text));
  SingleDocument out;
  if (!documents.empty()) out.root = documents.front();
  if (documents.size() > 1) {
    YAML::Mark mark = documents[1].Mark();
    if (mark.line < 0) {
      // An empty second document has no mark of its own: point at the last "---" line instead.
      mark = YAML::Mark();
      int line = 0;
      std::size_t start = 0;
      while (start < text.size()) {
        if (text.compare(start, 3, "---") == 0) mark.line = line;
        const std::size_t end = text.find('\n', start);
        if (end == std::string_view::npos) break;
        start = end + 1;
        ++line;
      }
      mark.column = 0;
    }
    out.second_document = mark;
  }
  return out;
}

MappingReader::MappingReader(DiagnosticSink& sink, const YAML::Node& map, std::string what,
                             std::vector<std::string> known_keys)
    : sink_(sink), what_(std::move(what)), at_(sink.at(map)) {
  for (const auto& pair : map) {  // iterator's `->` returns a temporary: copy the nodes (they are handles)
    const YAML::Node key_node = pair.first;
    const SourceLocation key_at = sink_.at(key_node);
    if (!key_node.IsScalar()) {
      sink_.error(key_at, fmt::format("a key in {} must be a plain name, not {}", what_, describeNode(key_node)));
      continue;
    }
    const std::string key = key_node.Scalar();
    if (const Entry* first = find(key)) {
      // yaml-cpp keeps both entries and lookups see only the first: the second would be silently ignored.
      sink_.error(key_at, fmt::format("key '{}' repeated in {} (first at line {})", key, what_,
                                      sink_.at(first->key_node).line));
      continue;
    }
    if (std::find(known_keys.begin(), known_keys.end(), key) == known_keys.end()) {
      const auto guess = looksLikeKeyName(key) ? closestMatch(key, known_keys) : std::nullopt;
      if (guess) {
        sink_.error(key_at, fmt::format("{} in {}; did you mean '{}'?", unknownKeyText(key), what_, *guess));
      } else {
        sink_.error(key_at, fmt::format("{} in {} (known keys: {})", unknownKeyText(key), what_,
                                        fmt::join(known_keys, ", ")));
      }
      continue;
    }
    entries_.push_back(Entry{key, key_node, pair.second});
  }
}

const MappingReader::Entry* MappingReader::find(std::string_view key) const {
  for (const auto& entry : entries_) {
    if (entry.key == key) return &entry;
  }
  return nullptr;
}

SourceLocation MappingReader::keyAt(std::string_view key) const {
  const Entry* entry = find(key);
  return entry ? sink_.at(entry->key_node) : at_;
}

SourceLocation MappingReader::valueAt(std::string_view key) const {
  const Entry* entry = find(key);
  if (!entry) return at_;
  const SourceLocation where = sink_.at(entry->value);
  return where.line > 0 ? where : sink_.at(entry->key_node);
}

std::optional<YAML::Node> MappingReader::value(std::string_view key) const {
  const Entry* entry = find(key);
  if (!entry) return std::nullopt;
  return entry->value;
}

bool MappingReader::missing(std::string_view key, Need need) {
  if (has(key)) return false;
  if (need == Need::Required) sink_.error(at_, fmt::format("{} is missing required key '{}'", what_, key));
  return true;
}

void MappingReader::badValue(std::string_view key, std::string_view message) {
  sink_.error(valueAt(key), fmt::format("'{}' in {} {}", key, what_, message));
}

std::optional<std::string> MappingReader::string(std::string_view key, Need need, bool allow_empty) {
  if (missing(key, need)) return std::nullopt;
  const YAML::Node node = *value(key);
  if (node.IsNull()) {
    if (allow_empty) return std::string();
    badValue(key, "has no value");
    return std::nullopt;
  }
  if (!node.IsScalar()) {
    badValue(key, fmt::format("must be a string, not {}", describeNode(node)));
    return std::nullopt;
  }
  if (node.Scalar().empty() && !allow_empty) {
    badValue(key, "must not be empty");
    return std::nullopt;
  }
  // No inventory value has a use for a NUL byte, and C APIs (inet_pton, open) would read only up to it: an address
  // "10.0.0.1\0junk" would pass as 10.0.0.1 while the shell sees the rest.
  if (node.Scalar().find('\0') != std::string::npos) {
    badValue(key, "contains a NUL byte");
    return std::nullopt;
  }
  // YAML is UTF-8 text (yaml-cpp does not check): a name or path with other bytes would reach the plan, the JSON
  // outputs and drd's protobuf messages, each of which would have to repair it into something else.
  if (!isValidUtf8(node.Scalar())) {
    badValue(key, "is not valid UTF-8 text");
    return std::nullopt;
  }
  return node.Scalar();
}

std::optional<int> MappingReader::port(std::string_view key, Need need) {
  if (missing(key, need)) return std::nullopt;
  const YAML::Node node = *value(key);
  const std::string text = node.IsScalar() ? node.Scalar() : std::string();
  const bool digits = !text.empty() && text.size() <= 5 &&
                      std::all_of(text.begin(), text.end(), [](unsigned char c) { return c >= '0' && c <= '9'; });
  const int number = digits ? std::stoi(text) : 0;
  if (number < 1 || number > 65535) {
    badValue(key, fmt::format("must be an integer in 1..65535, not {}", describeNode(node)));
    return std::nullopt;
  }
  return number;
}

std::optional<bool> MappingReader::boolean(std::string_view key, Need need) {
  if (missing(key, need)) return std::nullopt;
  const YAML::Node node = *value(key);
  if (node.IsScalar() && node.Scalar() == "true") return true;
  if (node.IsScalar() && node.Scalar() == "false") return false;
  badValue(key, fmt::format("must be true or false, not {}", describeNode(node)));
  return std::nullopt;
}

std::optional<std::string> MappingReader::choice(std::string_view key, std::span<const std::string> choices,
                                                 Need need) {
  if (missing(key, need)) return std::nullopt;
  const YAML::Node node = *value(key);
  if (node.IsScalar() && std::find(choices.begin(), choices.end(), node.Scalar()) != choices.end()) {
    return node.Scalar();
  }
  std::string message = fmt::format("must be one of {}, not {}", fmt::join(choices, ", "), describeNode(node));
  if (node.IsScalar()) {
    if (auto guess = closestMatch(node.Scalar(), choices)) message += fmt::format("; did you mean '{}'?", *guess);
  }
  badValue(key, message);
  return std::nullopt;
}

std::optional<YAML::Node> MappingReader::mapping(std::string_view key, Need need) {
  if (missing(key, need)) return std::nullopt;
  const YAML::Node node = *value(key);
  if (node.IsNull()) {
    if (need == Need::Required) badValue(key, "has no value: expected a mapping");
    return std::nullopt;
  }
  if (!node.IsMap()) {
    badValue(key, fmt::format("must be a mapping (KEY: VALUE lines), not {}", describeNode(node)));
    return std::nullopt;
  }
  return node;
}

std::optional<std::vector<YAML::Node>> MappingReader::sequence(std::string_view key, Need need) {
  if (missing(key, need)) return std::nullopt;
  const YAML::Node node = *value(key);
  if (node.IsNull()) return std::vector<YAML::Node>{};
  if (!node.IsSequence()) {
    badValue(key, fmt::format("must be a list ('- ' items), not {}", describeNode(node)));
    return std::nullopt;
  }
  std::vector<YAML::Node> items;
  for (const auto& item : node) items.push_back(item);
  return items;
}

}  // namespace dr
