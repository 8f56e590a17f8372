// Where the store and the credentials come from: the environment and AWS's shared-credentials file (s3_client.h).
// Nothing read here is ever quoted back in a message: a line of a credentials file may be a secret.
#include <openssl/crypto.h>
#include <sys/stat.h>

#include <cstdlib>

#include "core/file_io.h"
#include "storage/s3_client.h"
#include "storage/s3_text.h"

namespace dr {

namespace {

// A credentials file holds a few profiles of three short lines each.
constexpr std::uint64_t kMaxCredentialsFileBytes = 64u << 10;

std::string environmentValue(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r");
  return text.substr(first, last - first + 1);
}

// The secret is read into a buffer that is wiped when it goes, whatever happens to the parse.
class WipedBuffer {
 public:
  explicit WipedBuffer(std::string text) : text_(std::move(text)) {}
  WipedBuffer(const WipedBuffer&) = delete;
  WipedBuffer& operator=(const WipedBuffer&) = delete;
  ~WipedBuffer() { OPENSSL_cleanse(text_.data(), text_.size()); }
  std::string_view view() const { return text_; }

 private:
  std::string text_;
};

Result<std::string> readCredentialsFile(const std::filesystem::path& path) {
  auto fd = openRegularFile(path, "credentials file");
  if (!fd) return fd.error();
  struct stat st {};
  if (::fstat(fd->get(), &st) != 0) return fail("{}: cannot stat the credentials file", path.string());
  if ((st.st_mode & 077) != 0) {
    return fail("{}: the credentials file is readable or writable by others (mode {:04o}): refused; chmod 600 it",
                path.string(), st.st_mode & 07777);
  }
  if (static_cast<std::uint64_t>(st.st_size) > kMaxCredentialsFileBytes) {
    return fail("{}: the credentials file is larger than {} bytes, more than any real one: refused", path.string(),
                kMaxCredentialsFileBytes);
  }
  // One byte more than the cap is read, so a file that grew since fstat is still caught.
  std::string content(kMaxCredentialsFileBytes + 1, '\0');
  auto got = readFull(fd->get(), content.data(), content.size(), path);
  if (!got) return got.error();
  if (*got > kMaxCredentialsFileBytes) {
    OPENSSL_cleanse(content.data(), content.size());
    return fail("{}: the credentials file is larger than {} bytes, more than any real one: refused", path.string(),
                kMaxCredentialsFileBytes);
  }
  content.resize(*got);
  return content;
}

// AWS's shared-credentials INI: "[profile]" sections of "name = value" lines, '#' and ';' comments.
Result<S3Credentials> parseCredentials(std::string_view text, const std::string& profile,
                                       const std::filesystem::path& path) {
  S3Credentials credentials;
  bool found = false;
  bool in_profile = false;
  int line_number = 0;
  while (!text.empty()) {
    const auto end = text.find('\n');
    const std::string_view line = trim(text.substr(0, end));
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    ++line_number;
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (line.front() == '[') {
      if (line.back() != ']') return fail("{}:{}: a section header without its ']'", path.string(), line_number);
      in_profile = trim(line.substr(1, line.size() - 2)) == profile;
      found = found || in_profile;
      continue;
    }
    const auto equals = line.find('=');
    if (equals == std::string_view::npos) {
      return fail("{}:{}: expected NAME = VALUE (the line is not shown: it may hold a secret)", path.string(),
                  line_number);
    }
    if (!in_profile) continue;
    const std::string_view name = trim(line.substr(0, equals));
    const std::string_view value = trim(line.substr(equals + 1));
    if (s3::hasControlCharacter(value)) {
      return fail("{}:{}: a value holds a control character", path.string(), line_number);
    }
    if (name == "aws_access_key_id") credentials.access_key_id = std::string(value);
    if (name == "aws_secret_access_key") credentials.secret_access_key = std::string(value);
    if (name == "aws_session_token") credentials.session_token = std::string(value);
  }
  if (!found) return fail("{}: no [{}] profile", path.string(), profile);
  if (credentials.access_key_id.empty() || credentials.secret_access_key.empty()) {
    return fail("{}: the [{}] profile needs both aws_access_key_id and aws_secret_access_key", path.string(), profile);
  }
  return credentials;
}

bool isProfileName(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

}  // namespace

S3Credentials::~S3Credentials() {
  OPENSSL_cleanse(secret_access_key.data(), secret_access_key.size());
  OPENSSL_cleanse(session_token.data(), session_token.size());
}

Result<S3Config> s3ConfigFromEnvironment(const std::filesystem::path& credentials_file) {
  S3Config config;
  for (const char* name : {"DR_S3_ENDPOINT", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"}) {
    config.endpoint = environmentValue(name);
    if (!config.endpoint.empty()) break;
  }
  for (const char* name : {"AWS_REGION", "AWS_DEFAULT_REGION"}) {
    if (auto region = environmentValue(name); !region.empty()) {
      config.region = region;
      break;
    }
  }
  config.ca_file = environmentValue("DR_S3_CA_FILE");
  if (!credentials_file.empty()) {
    std::string profile = environmentValue("AWS_PROFILE");
    if (profile.empty()) profile = "default";
    if (!isProfileName(profile)) {
      return fail("AWS_PROFILE is not a profile name (letters, digits, '-', '_', '.')");
    }
    auto content = readCredentialsFile(credentials_file);
    if (!content) return content.error();
    const WipedBuffer text(std::move(*content));
    auto credentials = parseCredentials(text.view(), profile, credentials_file);
    if (!credentials) return credentials.error();
    config.credentials = std::move(*credentials);
    return config;
  }
  config.credentials.access_key_id = environmentValue("AWS_ACCESS_KEY_ID");
  config.credentials.secret_access_key = environmentValue("AWS_SECRET_ACCESS_KEY");
  config.credentials.session_token = environmentValue("AWS_SESSION_TOKEN");
  if (config.credentials.access_key_id.empty() || config.credentials.secret_access_key.empty()) {
    return fail(
        "no S3 credentials: give a credentials file (AWS's INI format, section [default] or $AWS_PROFILE's) or set "
        "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary credentials)");
  }
  return config;
}

}  // namespace dr
