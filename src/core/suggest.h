// Did-you-mean suggestions for unknown keys, subcommands, step ids and variables.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace dr {

// Levenshtein distance, case-sensitive.
std::size_t editDistance(std::string_view a, std::string_view b);

// The candidate closest to `word`, when it is close enough to be a plausible typo (distance at most a third of
// the word's length, and at least 1); nullopt otherwise.
std::optional<std::string> closestMatch(std::string_view word, std::span<const std::string> candidates);

}  // namespace dr
