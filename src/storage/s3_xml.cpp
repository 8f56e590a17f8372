// The store's XML answers (see s3_xml.h).
#include "storage/s3_xml.h"

#include <charconv>
#include <cstdio>
#include <ctime>
#include <pugixml.hpp>

#include "core/utf8.h"
#include "storage/s3_text.h"

namespace dr::s3 {

namespace {

constexpr std::size_t kMaxKeyBytes = 1024;
constexpr std::size_t kMaxTokenBytes = 4096;

Result<pugi::xml_document> parseXml(std::string_view body, std::string_view what) {
  pugi::xml_document document;
  const auto parsed = document.load_buffer(body.data(), body.size(), pugi::parse_default, pugi::encoding_utf8);
  if (!parsed) {
    return fail("the store's {} is not well-formed XML ({} at byte {})", what, parsed.description(), parsed.offset);
  }
  return document;
}

std::string_view childText(const pugi::xml_node& node, const char* name) {
  return node.child(name).text().get();
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// encoding-type=url: percent-escapes, and '+' for a space (as S3 writes them).
Result<std::string> urlDecode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%') {
      if (i + 2 >= text.size()) return fail("a bad percent-escape");
      const int high = hexValue(text[i + 1]);
      const int low = hexValue(text[i + 2]);
      if (high < 0 || low < 0) return fail("a bad percent-escape");
      out += static_cast<char>(high * 16 + low);
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

std::string keyProblem(std::string_view key) {
  if (key.empty()) return "an empty key";
  if (key.size() > kMaxKeyBytes) return "a key longer than 1024 bytes";
  if (!isValidUtf8(key)) return "a key that is not valid UTF-8";
  if (hasControlCharacter(key)) return "a key with a control character";
  return {};
}

std::string unquoted(std::string_view etag) {
  std::string out;
  for (char c : etag) {
    if (c != '"') out += c;
  }
  return out;
}

}  // namespace

std::optional<StoreError> parseStoreError(std::string_view body) {
  pugi::xml_document document;
  if (!document.load_buffer(body.data(), body.size(), pugi::parse_default, pugi::encoding_utf8)) return std::nullopt;
  const auto error = document.child("Error");
  if (!error) return std::nullopt;
  return StoreError{printableText(childText(error, "Code"), 80), printableText(childText(error, "Message"))};
}

Result<ListPage> parseListPage(std::string_view body) {
  auto document = parseXml(body, "listing");
  if (!document) return document.error();
  const auto result = document->child("ListBucketResult");
  if (!result) return fail("the store's listing has no <ListBucketResult>");
  const bool url_encoded = childText(result, "EncodingType") == "url";
  ListPage page;
  for (const auto& contents : result.children("Contents")) {
    S3Object object;
    object.key = childText(contents, "Key");
    if (url_encoded) {
      auto decoded = urlDecode(object.key);
      if (!decoded) return fail("the store listed a key with {}", decoded.error().message);
      object.key = std::move(*decoded);
    }
    if (const auto problem = keyProblem(object.key); !problem.empty()) return fail("the store listed {}", problem);
    const std::string_view size = childText(contents, "Size");
    const auto [end, status] = std::from_chars(size.data(), size.data() + size.size(), object.size);
    if (size.empty() || status != std::errc() || end != size.data() + size.size()) {
      return fail("the store listed {} with a bad <Size>", printableText(object.key));
    }
    object.last_modified_ms = parseIsoTimeMs(childText(contents, "LastModified")).value_or(0);
    object.etag = printableText(unquoted(childText(contents, "ETag")), 100);
    page.objects.push_back(std::move(object));
  }
  const std::string_view truncated = childText(result, "IsTruncated");
  page.truncated = truncated == "true";
  if (page.truncated) {
    const std::string_view token = childText(result, "NextContinuationToken");
    if (token.empty()) return fail("the store's listing is truncated but gives no NextContinuationToken");
    if (token.size() > kMaxTokenBytes) {
      return fail("the store's continuation token is longer than {} bytes", kMaxTokenBytes);
    }
    page.next_token = std::string(token);
  }
  return page;
}

Result<std::string> parseUploadId(std::string_view body) {
  auto document = parseXml(body, "answer to CreateMultipartUpload");
  if (!document) return document.error();
  const std::string_view id = childText(document->child("InitiateMultipartUploadResult"), "UploadId");
  if (id.empty()) return fail("the store's answer to CreateMultipartUpload has no UploadId");
  if (id.size() > kMaxTokenBytes) return fail("the store's UploadId is longer than {} bytes", kMaxTokenBytes);
  return std::string(id);
}

Result<std::string> parseCompleteResult(std::string_view body) {
  if (const auto error = parseStoreError(body)) return fail("({}): {}", error->code, error->message);
  auto document = parseXml(body, "answer to CompleteMultipartUpload");
  if (!document) return document.error();
  const auto result = document->child("CompleteMultipartUploadResult");
  if (!result) return fail("the store's answer to CompleteMultipartUpload has no <CompleteMultipartUploadResult>");
  return printableText(unquoted(childText(result, "ETag")), 100);
}

std::string completeRequestBody(const std::vector<std::string>& etags) {
  std::string body = "<CompleteMultipartUpload>";
  for (std::size_t i = 0; i < etags.size(); ++i) {
    body += fmt::format("<Part><PartNumber>{}</PartNumber><ETag>\"{}\"</ETag></Part>", i + 1, etags[i]);
  }
  return body + "</CompleteMultipartUpload>";
}

std::optional<std::int64_t> parseIsoTimeMs(std::string_view text) {
  std::tm time{};
  int milliseconds = 0;
  const std::string copy(text.substr(0, 40));
  int consumed = 0;
  if (std::sscanf(copy.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &time.tm_year, &time.tm_mon, &time.tm_mday, &time.tm_hour,
                  &time.tm_min, &time.tm_sec, &consumed) != 6) {
    return std::nullopt;
  }
  std::string_view rest = std::string_view(copy).substr(static_cast<std::size_t>(consumed));
  if (rest.starts_with('.')) {
    std::size_t digits = 1;
    int scale = 100;
    while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') {
      milliseconds += (rest[digits] - '0') * scale;
      scale /= 10;
      ++digits;
    }
    rest.remove_prefix(digits);
  }
  if (rest != "Z") return std::nullopt;
  time.tm_year -= 1900;
  time.tm_mon -= 1;
  return static_cast<std::int64_t>(timegm(&time)) * 1000 + milliseconds;
}

}  // namespace dr::s3
