// How a command is wrapped before it is sent to sshd, so that it can be timed out for real. OpenSSH does not
// deliver signals to exec channels reliably and closing a channel does not end the command, so the wrapper first
// prints the process group id of the command (sshd makes each exec channel's shell a session and group leader),
// and on timeout a second channel kills that whole group (TERM, a short grace, then KILL).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "inventory/inventory.h"

namespace dr::ssh {

// The first line the wrapper prints, followed by the group id.
inline constexpr std::string_view kGroupMarker = "@@dr-pgid ";

// `printf MARKER $$; exec [sudo -n] /bin/sh -c QUOTED </dev/null 2>&1`: stdin closed, stderr merged into stdout
// at the source so the output keeps its real order.
std::string wrapCommand(std::string_view command, Become become);

// Ends process group `pgid`: TERM, up to half a second for it to go, then KILL.
std::string killGroupCommand(long pgid, Become become);

// Signal number of an SSH exit-signal name ("TERM" -> 15); 0 when unknown.
int signalNumber(std::string_view name);

// Strips the marker line from the start of the output stream and remembers the group id.
class GroupMarkerFilter {
 public:
  // Returns the part of `chunk` that belongs to the command's own output.
  std::string feed(std::string_view chunk);
  // Text held back while waiting for the end of the first line (returned when the stream ends early).
  std::string flush();
  std::optional<long> groupId() const { return group_id_; }

 private:
  bool done_ = false;
  std::string pending_;
  std::optional<long> group_id_;
};

}  // namespace dr::ssh
