// Small text rules shared by storage/: what is printable in a message, what a key may hold. Internal to storage/.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace dr::s3 {

// Text from outside (the store, a user) made safe for a message: valid UTF-8, control characters as '?', at most
// `max_bytes` (then "..." marks the cut).
std::string printableText(std::string_view text, std::size_t max_bytes = 300);
bool hasControlCharacter(std::string_view text);
std::string lowerCase(std::string_view text);

}  // namespace dr::s3
