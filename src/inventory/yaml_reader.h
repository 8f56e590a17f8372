// Reading a YAML document while collecting every problem instead of stopping at the first. DiagnosticSink turns
// yaml-cpp's 0-based marks into 1-based file:line:column locations; MappingReader reads one mapping against the
// keys it may hold, reporting unknown keys (with a did-you-mean), repeated keys, missing required keys and values
// of the wrong type. The inventory loader is built from these; nothing here knows about inventories.
#pragma once

#include <yaml-cpp/yaml.h>

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/diagnostic.h"

namespace dr {

class DiagnosticSink {
 public:
  explicit DiagnosticSink(std::string file) : file_(std::move(file)) {}

  // The node's place, 1-based; line and column 0 when yaml-cpp does not know it (a null node, for instance).
  SourceLocation at(const YAML::Node& node) const;
  SourceLocation at(int line0, int column0) const;  // from a 0-based yaml-cpp mark
  SourceLocation fileOnly() const { return SourceLocation{file_, 0, 0}; }

  void error(SourceLocation where, std::string message);
  void warning(SourceLocation where, std::string message);
  bool hasErrors() const;
  // How many errors so far: a reader compares counts to tell whether its own part added any.
  std::size_t errorCount() const;
  // Every diagnostic, sorted by line, then column (stable: equal places keep the order they were found in).
  std::vector<Diagnostic> take();

 private:
  std::string file_;
  std::vector<Diagnostic> diagnostics_;
};

// "a mapping", "a list", "a string", "nothing": for messages about a value of the wrong type.
std::string describeNode(const YAML::Node& node);
// The node's kind only ("a mapping", "a list", "text", "nothing"), never its content: for a document that is not
// what was expected at all (someone passed /etc/shadow), whose content must not be echoed back.
std::string describeKind(const YAML::Node& node);

// A key short and plain enough to quote back in an "unknown key" message. Anything else is not quoted: a file that
// is not a config at all (someone passed /etc/shadow) parses as a mapping whose keys are its lines.
bool looksLikeKeyName(std::string_view key);
// "unknown key 'KEY'" or, for a key that is no key name, "an unknown key of N bytes (not a key name; its text is not
// shown)".
std::string unknownKeyText(std::string_view key);

// The one document of a config file. YAML::Load reads the first document of a stream and silently drops the rest,
// so a second document (a "---" and more, pasted from elsewhere) would be ignored without a word: this reports where
// it starts instead. Throws YAML::Exception on a syntax error, like YAML::Load.
struct SingleDocument {
  YAML::Node root;
  std::optional<YAML::Mark> second_document;  // where a second document starts, when there is one
};
SingleDocument loadSingleDocument(std::string_view text);

enum class Need { Optional, Required };

// One YAML mapping, read against the keys it may hold. `what` names it in messages ("defaults.ssh", "member").
// Getters return nullopt when the key is absent or its value is wrong (which they report); a required key that is
// absent is reported at the mapping itself.
class MappingReader {
 public:
  MappingReader(DiagnosticSink& sink, const YAML::Node& map, std::string what, std::vector<std::string> known_keys);

  const std::string& what() const { return what_; }
  SourceLocation at() const { return at_; }
  bool has(std::string_view key) const { return find(key) != nullptr; }
  // The place of the key's value; the key's own place when the value has none (an empty value).
  SourceLocation valueAt(std::string_view key) const;
  SourceLocation keyAt(std::string_view key) const;
  std::optional<YAML::Node> value(std::string_view key) const;

  // A scalar. Empty strings are refused unless `allow_empty`.
  std::optional<std::string> string(std::string_view key, Need need = Need::Optional, bool allow_empty = false);
  // An integer in 1..65535.
  std::optional<int> port(std::string_view key, Need need = Need::Optional);
  // true or false.
  std::optional<bool> boolean(std::string_view key, Need need = Need::Optional);
  // One of `choices`, with a did-you-mean when it is close to one.
  std::optional<std::string> choice(std::string_view key, std::span<const std::string> choices,
                                    Need need = Need::Optional);
  // A nested mapping. An empty value (`key:` alone) counts as absent.
  std::optional<YAML::Node> mapping(std::string_view key, Need need = Need::Optional);
  // A list. An empty value counts as an empty list.
  std::optional<std::vector<YAML::Node>> sequence(std::string_view key, Need need = Need::Optional);

  // Reports a bad value of `key` at its place: "'KEY' in WHAT MESSAGE".
  void badValue(std::string_view key, std::string_view message);

 private:
  struct Entry {
    std::string key;
    YAML::Node key_node;
    YAML::Node value;
  };
  const Entry* find(std::string_view key) const;
  bool missing(std::string_view key, Need need);

  DiagnosticSink& sink_;
  std::string what_;
  SourceLocation at_;
  std::vector<Entry> entries_;
};

}  // namespace dr
