// The ${ns.name} syntax inside command templates: finding the variables a text uses, and substituting them.
// `$${` is a literal `${` (so a command can still use the shell's own ${var} form); every other `${` opens a
// template variable. Used by the template loader (to report unknown variables where they are written) and by
// the Planner (to substitute them).
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace dr {

struct VariableUse {
  std::string name;         // "member.name"
  std::size_t offset = 0;   // of the `$` in the text
  std::size_t length = 0;   // of the whole `${...}`
};

struct VariableScanError {
  std::size_t offset = 0;
  std::string message;
};

struct VariableScan {
  std::vector<VariableUse> uses;
  std::vector<VariableScanError> errors;  // malformed or unterminated ${...}
};

VariableScan scanVariables(std::string_view text);

// The variables of a shell command template that sit inside '...' or "..." (a variable inside $(...) that is
// itself inside double quotes is fine: the command substitution starts a new quoting context). A substituted
// value is already quoted as one word; inside double quotes those quotes are literal and the shell would still
// expand a `$(...)` in the value, so the loader refuses it. Shell comments are skipped.
std::vector<VariableUse> variablesInsideQuotes(std::string_view text);

// The variables inside the body of a here-document (`cat <<EOF` ... `EOF`, also <<- and quoted delimiters). A
// substituted value is quoted as one shell word, but a here-document body is not parsed into words: its quotes are
// literal text and the shell still expands a `$(...)` in it (unless the delimiter is quoted, and then the value is
// wrong instead). The loader refuses both. A `<<` the scan cannot tell from a here-document (inside quotes, in
// arithmetic) errs on the side of refusing.
std::vector<VariableUse> variablesInsideHeredocs(std::string_view text);

// Replaces every ${name} with lookup(name) and every $${ with ${. An unknown name (lookup returns nullopt) is an
// Error naming it; the loader has normally reported it already with its location.
Result<std::string> substituteVariables(std::string_view text,
                                        const std::function<std::optional<std::string>(const std::string&)>& lookup);

}  // namespace dr
