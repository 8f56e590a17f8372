// The command wrapper that makes remote timeouts enforceable (see remote_command.h).
#include "transport/remote_command.h"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <utility>

#include "core/shell.h"

namespace dr::ssh {
namespace {

std::string runner(Become become) { return become == Become::Sudo ? "sudo -n /bin/sh -c" : "/bin/sh -c"; }

}  // namespace

std::string wrapCommand(std::string_view command, Become become) {
  return fmt::format("printf '{}%s\\n' \"$$\"; exec {} {} </dev/null 2>&1", kGroupMarker, runner(become),
                     shellQuote(command));
}

std::string killGroupCommand(long pgid, Become become) {
  std::string script = fmt::format(
      "kill -TERM -{0} 2>/dev/null || exit 0; i=0; "
      "while [ $i -lt 10 ] && kill -0 -{0} 2>/dev/null; do sleep 0.05; i=$((i+1)); done; "
      "kill -KILL -{0} 2>/dev/null; exit 0",
      pgid);
  // The group's processes belong to root when the command ran under sudo: only root can signal them.
  return become == Become::Sudo ? "sudo -n /bin/sh -c " + shellQuote(script) : script;
}

int signalNumber(std::string_view name) {
  static constexpr std::array<std::pair<std::string_view, int>, 15> kSignals{{{"HUP", 1},
                                                                              {"INT", 2},
                                                                              {"QUIT", 3},
                                                                              {"ILL", 4},
                                                                              {"TRAP", 5},
                                                                              {"ABRT", 6},
                                                                              {"BUS", 7},
                                                                              {"FPE", 8},
                                                                              {"KILL", 9},
                                                                              {"USR1", 10},
                                                                              {"SEGV", 11},
                                                                              {"USR2", 12},
                                                                              {"PIPE", 13},
                                                                              {"ALRM", 14},
                                                                              {"TERM", 15}}};
  if (name.starts_with("SIG")) name.remove_prefix(3);
  for (const auto& [signal_name, number] : kSignals) {
    if (signal_name == name) return number;
  }
  return 0;
}

std::string GroupMarkerFilter::feed(std::string_view chunk) {
  if (done_) return std::string(chunk);
  pending_.append(chunk);
  auto newline = pending_.find('\n');
  if (newline == std::string::npos) {
    // Still inside the first line; a line that cannot be the marker is not held back.
    bool could_be_marker = pending_.size() < kGroupMarker.size() + 24 &&
                           std::string_view(kGroupMarker).substr(0, std::min(pending_.size(), kGroupMarker.size())) ==
                               std::string_view(pending_).substr(0, std::min(pending_.size(), kGroupMarker.size()));
    if (could_be_marker) return {};
    return flush();
  }
  done_ = true;
  std::string_view first(pending_.data(), newline);
  if (first.starts_with(kGroupMarker)) {
    std::string_view digits = first.substr(kGroupMarker.size());
    long value = 0;
    auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (error == std::errc() && end == digits.data() + digits.size() && value > 1) group_id_ = value;
    std::string rest = pending_.substr(newline + 1);
    pending_.clear();
    return rest;
  }
  return flush();
}

std::string GroupMarkerFilter::flush() {
  done_ = true;
  return std::exchange(pending_, std::string());
}

}  // namespace dr::ssh
