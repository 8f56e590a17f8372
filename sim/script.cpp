// Reading the planner's shell text: see script.h.
#include "sim/script.h"

#include <cctype>

namespace dr::sim {

namespace {

bool isSeparator(const std::string& word) {
  static const char* const kSeparators[] = {";", "&&", "||", "|", "\n", "then", "fi", "do", "done", "else",
                                            "if", "{", "}", "(", ")", "!", "elif"};
  for (const char* s : kSeparators) {
    if (word == s) return true;
  }
  return false;
}

}  // namespace

std::vector<std::string> shellWords(const std::string& script) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  auto flush = [&] {
    if (in_word) words.push_back(word);
    word.clear();
    in_word = false;
  };
  for (std::size_t i = 0; i < script.size(); ++i) {
    const char c = script[i];
    if (c == '\\' && i + 1 < script.size()) {
      if (script[i + 1] == '\n') {  // continuation: the line goes on
        ++i;
        continue;
      }
      word += script[++i];
      in_word = true;
    } else if (c == '\'') {
      const auto end = script.find('\'', i + 1);
      word += script.substr(i + 1, (end == std::string::npos ? script.size() : end) - i - 1);
      in_word = true;
      i = end == std::string::npos ? script.size() : end;
    } else if (c == '"') {
      std::size_t j = i + 1;
      for (; j < script.size() && script[j] != '"'; ++j) {
        if (script[j] == '\\' && j + 1 < script.size()) ++j;
        word += script[j];
      }
      in_word = true;
      i = j;
    } else if (c == '#' && !in_word) {
      while (i + 1 < script.size() && script[i + 1] != '\n') ++i;
    } else if (c == '\n' || c == ';') {
      flush();
      words.emplace_back(1, c);
    } else if ((c == '&' || c == '|') && i + 1 < script.size() && script[i + 1] == c) {
      flush();
      words.emplace_back(2, c);
      ++i;
    } else if (c == '|') {
      flush();
      words.emplace_back("|");
    } else if (std::isspace(static_cast<unsigned char>(c))) {
      flush();
    } else {
      word += c;
      in_word = true;
    }
  }
  flush();
  return words;
}

std::vector<ScriptOp> scriptOps(const std::string& script) {
  const auto words = shellWords(script);
  std::vector<ScriptOp> ops;
  // A command starts after a separator; only its first word names it (so "echo rm -rf x" is not a removal).
  bool command_start = true;
  for (std::size_t i = 0; i < words.size(); ++i) {
    const std::string& w = words[i];
    if (isSeparator(w)) {
      command_start = true;
      continue;
    }
    // Leading VAR=value assignments (ETCDCTL_API=3 etcdctl ...) do not end the command's start.
    if (command_start && w.find('=') != std::string::npos && w.front() != '-' && w.front() != '=') continue;
    const bool starts = command_start;
    command_start = false;
    if (!starts) continue;
    std::vector<std::string> args;
    for (std::size_t j = i + 1; j < words.size() && !isSeparator(words[j]); ++j) args.push_back(words[j]);
    if (w == "mv" || w.ends_with("/mv")) {
      std::vector<std::string> paths;
      for (const auto& a : args) {
        if (!a.starts_with("-")) paths.push_back(a);
      }
      if (paths.size() == 2) ops.push_back({ScriptOp::Kind::Move, paths[0], paths[1], {}});
    } else if (w == "rm" || w.ends_with("/rm")) {
      for (const auto& a : args) {
        if (!a.starts_with("-")) ops.push_back({ScriptOp::Kind::Remove, a, "", {}});
      }
    } else if (args.size() >= 2 && args[0] == "snapshot" && args[1] == "restore") {
      ScriptOp op;
      op.kind = ScriptOp::Kind::Restore;
      for (std::size_t k = 2; k < args.size(); ++k) {
        const std::string& a = args[k];
        auto value = [&](std::string& out) {
          if (const auto eq = a.find('='); eq != std::string::npos) {
            out = a.substr(eq + 1);
          } else if (k + 1 < args.size()) {
            out = args[++k];
          }
        };
        if (a.starts_with("--name")) value(op.restore.name);
        else if (a.starts_with("--initial-cluster-token")) value(op.restore.token);
        else if (a.starts_with("--initial-cluster")) value(op.restore.initial_cluster);
        else if (a.starts_with("--initial-advertise-peer-urls")) value(op.restore.peer_url);
        else if (a.starts_with("--data-dir")) value(op.restore.data_dir);
        else if (a.starts_with("--")) continue;  // flags without a value the model cares about
        else if (op.restore.snapshot_path.empty()) op.restore.snapshot_path = a;
      }
      ops.push_back(std::move(op));
    }
  }
  return ops;
}

std::vector<std::string> sha256Words(const std::string& script) {
  std::vector<std::string> hashes;
  for (const auto& w : shellWords(script)) {
    if (w.size() != 64) continue;
    bool hex = true;
    for (char c : w) hex = hex && std::isxdigit(static_cast<unsigned char>(c));
    if (hex) hashes.push_back(w);
  }
  return hashes;
}

std::vector<std::pair<std::string, std::string>> moves(const std::string& script) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& op : scriptOps(script)) {
    if (op.kind == ScriptOp::Kind::Move) out.emplace_back(op.from, op.to);
  }
  return out;
}

}  // namespace dr::sim
