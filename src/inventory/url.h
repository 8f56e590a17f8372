// URLs and host addresses as the inventory uses them: etcd peer and client URLs (SCHEME://HOST:PORT), API server
// readyz URLs (with a path), and the check that a host is a plausible address (an IPv4 or IPv6 literal or a DNS
// name). Deliberately small: the inventory needs to split a URL and compare its host, not a general URL library.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace dr {

struct Url {
  std::string scheme;  // lower-case: "http" or "https"
  std::string host;    // without brackets, even for IPv6
  int port = 0;        // 0: not given
  std::string path;    // "" or starting with '/', query included

  // "SCHEME://HOST[:PORT]PATH", IPv6 hosts in brackets.
  std::string str() const;
};

// Parses an http or https URL. The message of a failure says what is wrong, without repeating the URL.
Result<Url> parseUrl(std::string_view text);

bool isIpv4Literal(std::string_view text);
bool isIpv6Literal(std::string_view text);
// An RFC 1123 host name: dot-separated labels of letters, digits and '-', each 1..63 long, not starting or ending
// with '-', at most 253 characters in all, not all digits (that would be a mistyped IPv4 address).
bool isDnsName(std::string_view text);
// What SSH can connect to and a URL can hold: an IPv4 or IPv6 literal or a DNS name.
bool isPlausibleAddress(std::string_view text);

// Two host spellings name the same host: equal ignoring case (DNS names are case-insensitive).
bool sameHost(std::string_view a, std::string_view b);

// HOST for IPv4 and names, [HOST] for IPv6: the form a URL needs.
std::string hostForUrl(std::string_view host);

}  // namespace dr
