// The host's command shell and its reply parser (see command_shell.h).
#include "transport/command_shell.h"

#include <fmt/format.h>
#include <openssl/rand.h>

#include <algorithm>
#include <charconv>
#include <random>

#include "core/sha256.h"
#include "core/shell.h"

namespace dr::ssh {
namespace {

// Only builtins run per command besides `setsid` and the command's own /bin/sh: every process costs on these hosts.
// `read -r` with an empty IFS keeps each line byte for byte; the lines are joined with newlines, which restores the
// command exactly because the client appended one newline before splitting it. `wait`'s stderr is dropped: dash
// reports a job ended by a signal there ("Terminated"), which is not the command's output.
constexpr const char* kShellScript = R"(command -v setsid >/dev/null 2>&1 || { echo '@@dr-shell unavailable'; exit 0; }
echo '@@dr-shell ok'
while IFS= read -r h; do
  set -f; set -- $h; set +f
  [ $# -eq 4 ] && [ "$1" = run ] || { echo "@@dr-shell protocol error: $h"; exit 2; }
  case $3 in ''|*[!0-9]*) echo "@@dr-shell protocol error: $h"; exit 2 ;; esac
  t=$2 n=$3 b=$4 c= i=0
  while [ $i -lt $n ]; do
    IFS= read -r l || exit 2
    if [ $i -eq 0 ]; then c=$l; else c="$c
$l"; fi
    i=$((i+1))
  done
  echo "$t start"
  if [ "$b" = sudo ]; then
    setsid sudo -n /bin/sh -c "$c" </dev/null 2>&1 &
  else
    setsid /bin/sh -c "$c" </dev/null 2>&1 &
  fi
  p=$!
  echo "$t pgid $p"
  wait "$p" 2>/dev/null
  echo "$t end $?"
done
)";

// Held back at most while looking for the greeting: a login shell that prints more than this is not one we can use.
constexpr std::size_t kMaxGreetingNoise = 64 * 1024;

}  // namespace

std::string commandShellLaunch() {
  return "exec /bin/sh -c " + shellQuote(kShellScript) + " 2>&1";
}

std::string newCommandMarker() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    // Uniqueness, not secrecy, is what the marker needs; the standard generator is enough when OpenSSL has none.
    static thread_local std::mt19937_64 generator{std::random_device{}()};
    for (auto& byte : bytes) byte = static_cast<unsigned char>(generator());
  }
  return "@@dr-" + toHex(std::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
}

Result<std::string> commandShellRequest(std::string_view marker, std::string_view command, Become become) {
  if (command.find('\0') != std::string_view::npos) return fail("the command contains a NUL byte");
  std::string body(command);
  body.push_back('\n');
  const auto lines = std::count(body.begin(), body.end(), '\n');
  return fmt::format("run {} {} {}\n{}", marker, lines, become == Become::Sudo ? "sudo" : "plain", body);
}

ShellGreeting::State ShellGreeting::feed(std::string_view chunk, std::string& rest) {
  if (state_ != State::Waiting) {
    rest.append(chunk);
    return state_;
  }
  seen_.append(chunk);
  // The greeting is a whole line of its own: at the start of the stream or after a newline of some chatter.
  for (auto [text, state] : {std::pair{kShellReady, State::Ready}, std::pair{kShellUnavailable, State::Unavailable}}) {
    for (std::size_t at = seen_.find(text); at != std::string::npos; at = seen_.find(text, at + 1)) {
      if (at != 0 && seen_[at - 1] != '\n') continue;
      state_ = state;
      rest.append(seen_, at + text.size());
      seen_.clear();
      return state_;
    }
  }
  if (seen_.size() > kMaxGreetingNoise) {
    state_ = State::Unavailable;
    seen_.clear();
  }
  return state_;
}

std::string ShellReply::feed(std::string_view chunk) {
  if (finished()) return {};
  pending_.append(chunk);
  std::string output;
  // Text before the start line was written before the command existed: a process an earlier command left behind.
  auto take = [&](std::size_t count) {
    if (started_) output.append(pending_, 0, count);
    pending_.erase(0, count);
  };
  while (!finished()) {
    const auto at = pending_.find(marker_);
    if (at == std::string::npos) {
      // Keep back the longest tail that could still grow into the marker.
      std::size_t keep = std::min(pending_.size(), marker_.size() - 1);
      while (keep > 0 &&
             std::string_view(pending_).substr(pending_.size() - keep) != std::string_view(marker_).substr(0, keep)) {
        --keep;
      }
      take(pending_.size() - keep);
      break;
    }
    const auto newline = pending_.find('\n', at);
    take(at);
    if (newline == std::string::npos) break;  // the marker line is not complete yet
    parseLine(std::string_view(pending_).substr(marker_.size(), newline - at - marker_.size()));
    pending_.erase(0, newline - at + 1);
  }
  if (finished()) pending_.clear();
  return output;
}

void ShellReply::parseLine(std::string_view line) {
  auto number = [](std::string_view digits) -> std::optional<long> {
    long value = 0;
    auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (error != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
    return value;
  };
  if (line == " start") {
    started_ = true;
  } else if (line.starts_with(" pgid ")) {
    if (auto value = number(line.substr(6)); value && *value > 1) group_id_ = value;
  } else if (line.starts_with(" end ")) {
    exit_status_ = number(line.substr(5)).value_or(-1);
  }
}

std::string ShellReply::flush() {
  std::string held = std::exchange(pending_, std::string());
  return started_ ? held : std::string();
}

}  // namespace dr::ssh
