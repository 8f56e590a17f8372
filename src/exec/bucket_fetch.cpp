// See bucket_fetch.h.
#include "exec/bucket_fetch.h"

#include <fmt/format.h>

#include "core/sha256.h"
#include "core/shell.h"

namespace dr {

bool isBucketSource(const std::filesystem::path& source) { return source.string().starts_with("s3://"); }

// The member fetches the snapshot itself (drctl apply --members-fetch). curl reads the presigned URL from its stdin
// as a config line (printf is the shell's builtin), so it is in no argument of curl's; the command reaches the host
// as every step's does, through the session, and is neither journaled nor logged. The staging file is hashed on the
// host and renamed into place only when its SHA-256 is the planned one, as an SFTP upload's is.
std::string bucketFetchCommand(const UploadRequest& upload, const std::string& url) {
  const std::string part = upload.remote_path + ".part";
  std::string escaped;  // inside the double quotes of curl's config syntax
  for (char c : url) {
    if (c == '"' || c == '\\') escaped += '\\';
    escaped += c;
  }
  return fmt::format(
      "set -e\n"
      "command -v curl >/dev/null || {{ echo 'curl is not installed on this host: it cannot fetch the snapshot "
      "(run without --members-fetch)' >&2; exit 3; }}\n"
      "mkdir -p -m 700 {dir}\n"
      "printf '%s\\n' {config} | curl --fail --silent --show-error --location --retry 3 --connect-timeout 10 "
      "--config - --output {part}\n"
      "sum=$({sha256} < {part})\n"
      "if [ \"${{sum%% *}}\" != {expected} ]; then rm -f {part}; echo \"the fetched snapshot has sha256 ${{sum%% *}}, "
      "not the planned {expected_plain}\" >&2; exit 4; fi\n"
      "sync {part} 2>/dev/null || sync\n"
      "mv -f {part} {remote}\n",
      fmt::arg("dir", shellQuote(upload.remote_path.substr(0, upload.remote_path.rfind('/')))),
      fmt::arg("config", shellQuote("url = \"" + escaped + "\"")), fmt::arg("part", shellQuote(part)),
      fmt::arg("sha256", kHostSha256Command), fmt::arg("expected", shellQuote(upload.expected_sha256)),
      fmt::arg("expected_plain", upload.expected_sha256), fmt::arg("remote", shellQuote(upload.remote_path)));
}

}  // namespace dr
