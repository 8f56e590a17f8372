// The run directory: layout, atomic file replacement, run ids and step log names (see run_dir.h).
#include "exec/run_dir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "core/file_io.h"
#include "core/sha256.h"

namespace dr {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

constexpr std::size_t kMaxStepFileName = 200;

std::string errnoText(int err) {
  return std::strerror(err);
}

// Relative names inside the run directory only: no absolute paths, no "..", no empty components.
Status validateRelativeName(std::string_view name) {
  if (name.empty()) return fail("empty file name");
  fs::path p{std::string(name)};
  if (p.is_absolute()) return fail("{}: must be relative to the run directory", name);
  for (const auto& part : p) {
    if (part == ".." || part == "." || part.empty()) return fail("{}: must not contain '.', '..' or empty parts", name);
  }
  return {};
}

std::string randomHex(std::size_t digits) {
  static thread_local std::mt19937_64 generator{std::random_device{}()};
  std::uniform_int_distribution<int> nibble(0, 15);
  std::string out;
  for (std::size_t i = 0; i < digits; ++i) out.push_back("0123456789abcdef"[nibble(generator)]);
  return out;
}

bool isSafeIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

// run.json's options. Runs made before the options were typed stored every value as a string ("3", "true"): a
// resume after an upgrade must still read them.
Result<RunOptions> runOptionsFromJson(const Json& j) {
  if (!j.is_object()) return fail("options: expected an object");
  RunOptions options;
  if (auto it = j.find("per_host"); it != j.end()) {
    const std::string text = it->is_string() ? it->get<std::string>() : "";
    const bool digits = !text.empty() && text.size() < 6 &&
                        std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (it->is_number_integer()) {
      options.per_host = it->get<int>();
    } else if (digits) {
      options.per_host = std::stoi(text);
    } else {
      return fail("options.per_host: expected a number, got {}", it->dump());
    }
    if (options.per_host < 1 || options.per_host > 1000) {
      return fail("options.per_host: {} is out of range (1..1000)", options.per_host);
    }
  }
  if (auto it = j.find("accept_new_host_keys"); it != j.end()) {
    if (it->is_boolean()) {
      options.accept_new_host_keys = it->get<bool>();
    } else if (it->is_string() && (*it == "true" || *it == "false")) {
      options.accept_new_host_keys = *it == "true";
    } else {
      return fail("options.accept_new_host_keys: expected true or false, got {}", it->dump());
    }
  }
  if (auto it = j.find("replace_members"); it != j.end()) {
    if (!it->is_array()) return fail("options.replace_members: expected a list of member names, got {}", it->dump());
    for (const auto& name : *it) {
      if (!name.is_string()) return fail("options.replace_members: expected member names, got {}", name.dump());
      options.replace_members.push_back(name.get<std::string>());
    }
  }
  for (auto [key, field] : {std::pair{"skip_hash_check", &options.skip_hash_check},
                            std::pair{"disarm_alarms", &options.disarm_alarms}}) {
    if (auto it = j.find(key); it != j.end()) {
      if (!it->is_boolean()) return fail("options.{}: expected true or false, got {}", key, it->dump());
      *field = it->get<bool>();
    }
  }
  for (auto [key, field] : {std::pair{"token", &options.token}, std::pair{"started_by", &options.started_by},
                            std::pair{"from_member", &options.from_member},
                            std::pair{"members_fetch", &options.members_fetch}}) {
    if (auto it = j.find(key); it != j.end()) {
      if (!it->is_string()) return fail("options.{}: expected a string, got {}", key, it->dump());
      *field = it->get<std::string>();
    }
  }
  return options;
}

}  // namespace

std::string runInfoToJson(const RunInfo& info) {
  Json j = {{"run_id", info.run_id},
            {"cluster", info.cluster},
            {"inventory_path", info.inventory_path},
            {"snapshot_path", info.snapshot_path},
            {"plan_template", info.plan_template},
            {"fingerprint", info.fingerprint},
            {"created_ms", info.created_ms},
            {"options",
             {{"per_host", info.options.per_host},
              {"accept_new_host_keys", info.options.accept_new_host_keys},
              {"token", info.options.token},
              {"started_by", info.options.started_by},
              {"skip_hash_check", info.options.skip_hash_check}}}};
  // Only a replacement names members: every other run.json stays as it was.
  if (!info.options.replace_members.empty()) j["options"]["replace_members"] = info.options.replace_members;
  if (!info.options.from_member.empty()) j["options"]["from_member"] = info.options.from_member;
  if (info.options.disarm_alarms) j["options"]["disarm_alarms"] = true;
  if (!info.options.members_fetch.empty()) j["options"]["members_fetch"] = info.options.members_fetch;
  return j.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

Result<RunInfo> runInfoFromJson(std::string_view json, std::string_view source) {
  Json j = Json::parse(json, nullptr, false);
  if (j.is_discarded()) return fail("{}: not valid JSON", source);
  if (!j.is_object()) return fail("{}: expected a JSON object", source);
  try {
    RunInfo info;
    info.run_id = j.at("run_id").get<std::string>();
    info.cluster = j.value("cluster", "");
    info.inventory_path = j.value("inventory_path", "");
    info.snapshot_path = j.value("snapshot_path", "");
    info.plan_template = j.value("plan_template", "");
    info.fingerprint = j.value("fingerprint", "");
    info.created_ms = j.value("created_ms", std::int64_t{0});
    if (auto it = j.find("options"); it != j.end()) {
      auto options = runOptionsFromJson(*it);
      if (!options) return fail("{}: {}", source, options.error().message);
      info.options = std::move(options).value();
    }
    return info;
  } catch (const Json::exception& e) {
    return fail("{}: bad run info: {}", source, e.what());
  }
}

RunDirectory::RunDirectory(fs::path path, std::string run_id) : path_(std::move(path)), run_id_(std::move(run_id)) {}

Result<RunDirectory> RunDirectory::create(const fs::path& runs_root, const std::string& run_id) {
  if (auto valid = validateRunId(run_id); !valid) return valid.error();
  std::error_code ec;
  if (!fs::exists(runs_root, ec)) {
    fs::create_directories(runs_root, ec);
    if (!ec) ::chmod(runs_root.c_str(), 0700);  // made here: owner-only, like everything in it
  }
  if (ec) return fail("{}: cannot create the runs directory: {}", runs_root.string(), ec.message());
  fs::path dir = runs_root / run_id;
  // mkdir, not create_directories: its EEXIST is what makes two runs with one id impossible.
  if (::mkdir(dir.c_str(), 0700) != 0) {
    if (errno == EEXIST) return fail("{}: run {} exists already", dir.string(), run_id);
    return fail("{}: cannot create the run directory: {}", dir.string(), errnoText(errno));
  }
  for (const char* sub : {"logs", "report"}) {
    if (::mkdir((dir / sub).c_str(), 0700) != 0) {
      return fail("{}: cannot create: {}", (dir / sub).string(), errnoText(errno));
    }
  }
  if (auto synced = fsyncDirectory(dir); !synced) return synced.error();
  if (auto synced = fsyncDirectory(runs_root); !synced) return synced.error();
  return RunDirectory(dir, run_id);
}

Result<RunDirectory> RunDirectory::open(const fs::path& runs_root, const std::string& run_id) {
  if (auto valid = validateRunId(run_id); !valid) return valid.error();
  fs::path dir = runs_root / run_id;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    std::string known;
    if (auto runs = listRuns(runs_root); runs && !runs->empty()) {
      known = fmt::format(" (the latest there: {})", runs->back());
    }
    return fail("{}: no such run{}", dir.string(), known);
  }
  return RunDirectory(dir, run_id);
}

fs::path RunDirectory::journalPath() const {
  return path_ / "journal";
}
fs::path RunDirectory::planPath() const {
  return path_ / "plan.json";
}
fs::path RunDirectory::runInfoPath() const {
  return path_ / "run.json";
}
fs::path RunDirectory::stepLogPath(std::string_view step_id) const {
  return path_ / "logs" / (stepFileName(step_id) + ".log");
}
fs::path RunDirectory::reportDir() const {
  return path_ / "report";
}

Status RunDirectory::writeFileAtomically(std::string_view name, std::string_view contents) {
  if (auto valid = validateRelativeName(name); !valid) return fail("{}: {}", path_.string(), valid.error().message);
  // Owner-only: plans, journals, logs and reports name every host and command of a cluster.
  return dr::writeFileAtomically(path_ / std::string(name), contents, 0600);
}

Result<std::string> RunDirectory::readFile(std::string_view name) const {
  if (auto valid = validateRelativeName(name); !valid) return fail("{}: {}", path_.string(), valid.error().message);
  return readRegularFile(path_ / std::string(name), kMaxRunFileBytes, std::string(name));
}

Status RunDirectory::writeRunInfo(const RunInfo& info) {
  return writeFileAtomically("run.json", runInfoToJson(info));
}

Result<RunInfo> RunDirectory::readRunInfo() const {
  auto text = readFile("run.json");
  if (!text) return text.error();
  return runInfoFromJson(*text, runInfoPath().string());
}

std::string newRunId() {
  auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  ::gmtime_r(&now, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &utc);
  return fmt::format("{}-{}", stamp, randomHex(6));
}

Status validateRunId(std::string_view run_id) {
  if (run_id.empty()) return fail("a run id must not be empty");
  if (run_id.size() > 128) return fail("run id '{}...' is longer than 128 characters", run_id.substr(0, 32));
  if (run_id.front() == '.') return fail("run id '{}' must not start with '.'", run_id);
  if (!std::all_of(run_id.begin(), run_id.end(), isSafeIdChar)) {
    return fail("run id '{}' may contain only letters, digits, '.', '_' and '-'", run_id);
  }
  return {};
}

Result<std::vector<std::string>> listRuns(const fs::path& runs_root) {
  std::vector<std::string> runs;
  std::error_code ec;
  if (!fs::exists(runs_root, ec)) return runs;
  if (!fs::is_directory(runs_root, ec)) return fail("{}: not a directory", runs_root.string());
  fs::directory_iterator it(runs_root, ec);
  if (ec) return fail("{}: cannot list runs: {}", runs_root.string(), ec.message());
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) return fail("{}: cannot list runs: {}", runs_root.string(), ec.message());
    std::string name = it->path().filename().string();
    // locks/ lives beside the runs, and decrypted/ held plaintext copies before they moved to .plaintext/: neither is
    // a run. A run is a directory with a valid id (never starting with '.').
    if (name == "locks" || name == "decrypted" || !it->is_directory(ec) || !validateRunId(name)) continue;
    runs.push_back(std::move(name));
  }
  std::sort(runs.begin(), runs.end());
  return runs;
}

std::string stepFileName(std::string_view id) {
  std::string out;
  for (std::size_t i = 0; i < id.size(); ++i) {
    char c = id[i];
    bool keep = isSafeIdChar(c) && !(c == '.' && i == 0);
    if (keep) {
      out.push_back(c);
    } else {
      out += fmt::format("%{:02X}", static_cast<unsigned char>(c));
    }
  }
  if (out.empty()) out = "%";  // the empty id; no other id encodes to a lone '%'
  if (out.size() > kMaxStepFileName) {
    // '~' never appears in an encoded name, so a shortened name cannot equal a plain one.
    out = out.substr(0, kMaxStepFileName - 65) + "~" + sha256Hex(id);
  }
  return out;
}

}  // namespace dr
