// Shell quoting. Every value substituted into a command that runs on a host passes through shellQuote, so a
// member name like `a;rm -rf /` or `$(reboot)` stays one inert word.
#pragma once

#include <string>
#include <string_view>

namespace dr {

// POSIX single-quote quoting: 'it'\''s'. Words made only of safe characters ([A-Za-z0-9_./:=@%+,-]) are returned
// as they are, so plans stay readable.
std::string shellQuote(std::string_view value);

}  // namespace dr
