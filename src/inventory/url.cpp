// Splitting and checking the URLs and addresses of an inventory; see url.h.
#include "inventory/url.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace dr {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

bool allDigits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); });
}

}  // namespace

std::string Url::str() const {
  std::string out = scheme + "://" + hostForUrl(host);
  if (port != 0) out += ":" + std::to_string(port);
  return out + path;
}

Result<Url> parseUrl(std::string_view text) {
  const auto separator = text.find("://");
  if (separator == std::string_view::npos) return fail("not a URL: expected SCHEME://HOST:PORT");
  Url url;
  url.scheme = lower(text.substr(0, separator));
  if (url.scheme != "http" && url.scheme != "https") {
    return fail("scheme '{}' is not http or https", text.substr(0, separator));
  }
  std::string_view rest = text.substr(separator + 3);
  const auto path_start = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, path_start);
  if (path_start != std::string_view::npos) url.path = std::string(rest.substr(path_start));
  if (authority.find('@') != std::string_view::npos) return fail("user information ('@') is not allowed in the URL");

  std::string_view port_text;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return fail("IPv6 host has no closing ']'");
    url.host = std::string(authority.substr(1, close - 1));
    if (!isIpv6Literal(url.host)) return fail("'{}' is not an IPv6 address", url.host);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return fail("unexpected '{}' after the IPv6 host", after);
      port_text = after.substr(1);
      has_port = true;
    }
  } else {
    const auto colon = authority.rfind(':');
    if (colon != std::string_view::npos) {
      if (authority.find(':') != colon) return fail("an IPv6 host must be written in brackets, [ADDRESS]");
      port_text = authority.substr(colon + 1);
      has_port = true;
      authority = authority.substr(0, colon);
    }
    url.host = std::string(authority);
    if (url.host.empty()) return fail("the URL has no host");
    if (!isPlausibleAddress(url.host)) return fail("host '{}' is not an IP address or a DNS name", url.host);
  }
  if (has_port) {
    int port = 0;
    const auto [end, error] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (!allDigits(port_text) || error != std::errc{} || end != port_text.data() + port_text.size() || port < 1 ||
        port > 65535) {
      return fail("port '{}' is not an integer in 1..65535", port_text);
    }
    url.port = port;
  }
  return url;
}

bool isIpv4Literal(std::string_view text) {
  in_addr out{};
  return inet_pton(AF_INET, std::string(text).c_str(), &out) == 1;
}

bool isIpv6Literal(std::string_view text) {
  in6_addr out{};
  return inet_pton(AF_INET6, std::string(text).c_str(), &out) == 1;
}

bool isDnsName(std::string_view text) {
  if (text.empty() || text.size() > 253) return false;
  if (text.back() == '.') text.remove_suffix(1);  // a fully qualified name may end with the root's dot
  bool all_numeric = true;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto dot = std::min(text.find('.', start), text.size());
    const std::string_view label = text.substr(start, dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    for (const unsigned char c : label) {
      if (!std::isalnum(c) && c != '-') return false;
    }
    all_numeric = all_numeric && allDigits(label);
    start = dot + 1;
  }
  return !all_numeric;
}

bool isPlausibleAddress(std::string_view text) {
  return isIpv4Literal(text) || isIpv6Literal(text) || isDnsName(text);
}

bool sameHost(std::string_view a, std::string_view b) {
  return lower(a) == lower(b);
}

std::string hostForUrl(std::string_view host) {
  if (isIpv6Literal(host)) return "[" + std::string(host) + "]";
  return std::string(host);
}

}  // namespace dr
