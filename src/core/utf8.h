// Text that leaves the program (JSON, protobuf strings, terminals) must be valid UTF-8, but much of what it carries
// comes from outside: member names, paths, a command's output cut at a byte count. nlohmann::json throws on invalid
// UTF-8 when dumping and protobuf refuses to serialize such a string, so every such string passes through here.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace dr {

bool isValidUtf8(std::string_view text);
// `text` with every byte that starts no valid character replaced by U+FFFD.
std::string toValidUtf8(std::string_view text);
// The longest prefix of `text` of at most `max_bytes` bytes that does not end inside a UTF-8 character.
std::string_view utf8Prefix(std::string_view text, std::size_t max_bytes);
// The longest suffix of at most `max_bytes` bytes that does not start inside a UTF-8 character.
std::string_view utf8Suffix(std::string_view text, std::size_t max_bytes);

// json.dump(indent) with invalid UTF-8 replaced instead of thrown on.
std::string jsonText(const nlohmann::json& json, int indent = -1);
// The same for an ordered_json, whose keys keep the order they were added in.
std::string jsonText(const nlohmann::ordered_json& json, int indent = -1);

}  // namespace dr
