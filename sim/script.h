// What the simulator reads out of a step's shell text: the few operations that change a member's directories
// (mv, rm, snapshot restore) and the hashes a command compares against. Plans are data (templates expanded by the
// planner, every value shell-quoted), so the sim transport interprets the commands themselves instead of trusting
// the step's name: a mutated or hand-written plan that deletes a dir or passes another token is seen doing it.
//
// Written by hand because no Debian library splits POSIX shell words without also expanding them (wordexp(3)
// runs or refuses the `$(...)` the plans contain); the subset here is the planner's own output: words, '...'
// and "..." quoting, backslash-newline continuations, and the separators ; && || | and newlines.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace dr::sim {

// A shell word, or a separator token (";", "&&", "||", "|", "\n", "then", "fi", ...) kept as its own word.
std::vector<std::string> shellWords(const std::string& script);

struct RestoreCall {
  std::string snapshot_path;
  std::string name;
  std::string initial_cluster;
  std::string token;
  std::string peer_url;
  std::string data_dir;
};

// One directory operation, in script order.
struct ScriptOp {
  enum class Kind { Move, Remove, Restore } kind = Kind::Move;
  std::string from;  // Move: source; Remove: the path
  std::string to;    // Move: destination
  RestoreCall restore;
};

std::vector<ScriptOp> scriptOps(const std::string& script);

// Every 64-hex-digit word in the script (lowercase): the hashes it compares a file against.
std::vector<std::string> sha256Words(const std::string& script);

// The paths of `mv A B` in order (used by mutants and checks that need a member's old and restore dirs).
std::vector<std::pair<std::string, std::string>> moves(const std::string& script);

}  // namespace dr::sim
