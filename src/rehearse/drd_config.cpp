// Loading drd's configuration (see drd_config.h and docs/rehearsals.md). Built on the inventory's YAML reader, so
// messages, did-you-means and locations read the same as `drctl validate`'s.
#include "rehearse/drd_config.h"

#include "core/file_io.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include "core/suggest.h"
#include "inventory/yaml_reader.h"
#include "plan/plan_template.h"
#include "storage/s3_client.h"

namespace dr {
namespace {

const std::vector<std::string> kTopKeys = {"schedules", "metrics_listen", "tls",       "etcd",
                                           "etcdctl",   "input_dirs",     "object_store"};
const std::vector<std::string> kTlsKeys = {"ca", "cert", "key"};
const std::vector<std::string> kObjectStoreKeys = {"endpoint", "region", "credentials_file", "ca_file"};
const std::vector<std::string> kScheduleKeys = {"name",       "cron", "mode",          "inventory",
                                                "snapshot",   "backup_dir", "plan",    "encryption_key_file",
                                                "bucket",     "retention"};
const std::vector<std::string> kRetentionKeys = {"keep_last", "keep_hourly", "keep_daily", "keep_weekly"};
const std::vector<std::string> kModes = {"dry-run", "test-restore", "backup"};

bool isSafeName(std::string_view text) {
  if (text.empty() || text.front() == '-' || text.front() == '.') return false;
  return std::all_of(text.begin(), text.end(),
                     [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '_' || c == '.'; });
}

bool looksLikePlanPath(std::string_view plan) {
  return plan.find('/') != std::string_view::npos || plan.ends_with(".yaml") || plan.ends_with(".yml");
}

// "HOST:PORT" with a port in 0..65535 (0: any free port, for tests); "[::1]:PORT" for IPv6.
std::optional<std::string> listenProblem(const std::string& listen) {
  const std::size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) return "must be HOST:PORT, e.g. 127.0.0.1:9464";
  const std::string port = listen.substr(colon + 1);
  const bool digits = !port.empty() && port.size() <= 5 &&
                      std::all_of(port.begin(), port.end(), [](unsigned char c) { return std::isdigit(c); });
  if (!digits || std::stoi(port) > 65535) return fmt::format("has port '{}': expected a number in 0..65535", port);
  return std::nullopt;
}

class ConfigParser {
 public:
  ConfigParser(DiagnosticSink& sink, std::filesystem::path base_dir) : sink_(sink), base_dir_(std::move(base_dir)) {}

  DrdConfig parse(const YAML::Node& root) {
    DrdConfig config;
    MappingReader top(sink_, root, "the drd config", kTopKeys);
    if (auto listen = top.string("metrics_listen")) {
      if (auto problem = listenProblem(*listen)) {
        top.badValue("metrics_listen", *problem);
      } else {
        config.metrics_listen = *listen;
      }
    }
    if (auto etcd = top.string("etcd")) config.etcd = *etcd;
    if (auto etcdctl = top.string("etcdctl")) config.etcdctl = *etcdctl;
    if (auto tls = top.mapping("tls")) readTls(*tls, config);
    if (auto store = top.mapping("object_store")) readObjectStore(*store, config);
    if (auto dirs = top.sequence("input_dirs")) {
      for (const YAML::Node& item : *dirs) {
        std::error_code ec;
        if (!item.IsScalar() || item.Scalar().empty() || item.Scalar().front() != '/' ||
            !std::filesystem::is_directory(item.Scalar(), ec)) {
          sink_.error(sink_.at(item), "each of input_dirs must be the absolute path of an existing directory");
          continue;
        }
        config.input_dirs.push_back(std::filesystem::path(item.Scalar()).lexically_normal().string());
      }
    }
    if (auto schedules = top.sequence("schedules")) {
      for (const YAML::Node& item : *schedules) {
        if (!item.IsMap()) {
          sink_.error(sink_.at(item),
                      fmt::format("a schedule must be a mapping (name, cron, mode, ...), not {}", describeNode(item)));
          continue;
        }
        if (auto schedule = readSchedule(item)) config.schedules.push_back(std::move(*schedule));
      }
    }
    return config;
  }

 private:
  // A path value, resolved against the config file's directory and checked to exist.
  std::optional<std::string> path(MappingReader& map, std::string_view key, bool directory) {
    auto text = map.string(key);
    if (!text) return std::nullopt;
    std::filesystem::path resolved(*text);
    if (resolved.is_relative()) resolved = base_dir_ / resolved;
    resolved = resolved.lexically_normal();
    std::error_code ec;
    const bool exists =
        directory ? std::filesystem::is_directory(resolved, ec) : std::filesystem::is_regular_file(resolved, ec);
    if (!exists) {
      map.badValue(
          key, fmt::format("names {} {} that does not exist", directory ? "a directory" : "a file", resolved.string()));
      return std::nullopt;
    }
    return resolved.string();
  }

  void readTls(const YAML::Node& node, DrdConfig& config) {
    MappingReader tls(sink_, node, "tls", kTlsKeys);
    const std::size_t errors_before = sink_.errorCount();
    auto ca = path(tls, "ca", false);
    auto cert = path(tls, "cert", false);
    auto key = path(tls, "key", false);
    if (sink_.errorCount() != errors_before) return;
    // mTLS needs all three: the CA to check clients, and the server's own certificate and key.
    if (!ca || !cert || !key) {
      sink_.error(tls.at(), "tls needs all of 'ca' (to check client certificates), 'cert' and 'key'");
      return;
    }
    config.tls_ca = *ca;
    config.tls_cert = *cert;
    config.tls_key = *key;
  }

  void readObjectStore(const YAML::Node& node, DrdConfig& config) {
    MappingReader store(sink_, node, "object_store", kObjectStoreKeys);
    if (auto endpoint = store.string("endpoint")) {
      if (!endpoint->starts_with("http://") && !endpoint->starts_with("https://")) {
        store.badValue("endpoint", "must be http://HOST[:PORT] or https://HOST[:PORT]");
      } else {
        config.object_store.endpoint = *endpoint;
      }
    }
    if (auto region = store.string("region")) config.object_store.region = *region;
    if (auto file = path(store, "credentials_file", false)) config.object_store.credentials_file = *file;
    if (auto file = path(store, "ca_file", false)) config.object_store.ca_file = *file;
  }

  // How many backups a keep rule keeps: a whole number, 0 (the rule is off) to 100000.
  std::optional<int> count(MappingReader& map, std::string_view key) {
    auto text = map.string(key);
    if (!text) return std::nullopt;
    const bool digits = !text->empty() && text->size() <= 6 &&
                        std::all_of(text->begin(), text->end(), [](unsigned char c) { return std::isdigit(c); });
    if (!digits || std::stoi(*text) > 100000) {
      map.badValue(key, fmt::format("'{}' is not a count of backups (a whole number, 0 to 100000)", *text));
      return std::nullopt;
    }
    return std::stoi(*text);
  }

  void readRetention(const YAML::Node& node, ScheduleConfig& schedule) {
    MappingReader map(sink_, node, "retention", kRetentionKeys);
    if (auto n = count(map, "keep_last")) schedule.retention.keep_last = *n;
    if (auto n = count(map, "keep_hourly")) schedule.retention.keep_hourly = *n;
    if (auto n = count(map, "keep_daily")) schedule.retention.keep_daily = *n;
    if (auto n = count(map, "keep_weekly")) schedule.retention.keep_weekly = *n;
    if (schedule.retention.empty()) {
      sink_.error(map.at(), "retention keeps nothing: give at least one of keep_last, keep_hourly, keep_daily, "
                            "keep_weekly above 0 (without 'retention' nothing is pruned)");
    }
  }

  std::optional<ScheduleConfig> readSchedule(const YAML::Node& node) {
    const std::size_t errors_before = sink_.errorCount();
    ScheduleConfig schedule;
    // Messages name the schedule when it has a readable name, so a long config's problems are easy to place.
    const YAML::Node name_node = node["name"];  // an absent key gives an invalid node: ask IsDefined() first
    const std::string what = name_node.IsDefined() && name_node.IsScalar() && !name_node.Scalar().empty()
                                 ? fmt::format("schedule '{}'", name_node.Scalar())
                                 : std::string("schedule");
    MappingReader map(sink_, node, what, kScheduleKeys);
    if (auto name = map.string("name", Need::Required)) {
      if (!isSafeName(*name)) {
        map.badValue("name", "may hold only letters, digits, '-', '_' and '.' (not first): it becomes a metric label");
      } else if (auto [it, inserted] = first_name_line_.emplace(*name, map.keyAt("name").line); !inserted) {
        map.badValue("name", fmt::format("is already used by another schedule (first at line {})", it->second));
      } else {
        schedule.name = *name;
      }
    }
    if (auto cron = map.string("cron", Need::Required)) {
      schedule.cron = *cron;
      if (auto parsed = CronSchedule::parse(*cron)) {
        schedule.schedule = std::move(*parsed);
      } else {
        sink_.error(map.valueAt("cron"), fmt::format("'cron' in {}: {}", what, parsed.error().message));
      }
    }
    const auto mode = map.choice("mode", kModes);
    if (mode) {
      schedule.mode = *mode == "test-restore" ? ScheduleMode::TestRestore
                      : *mode == "backup"     ? ScheduleMode::Backup
                                              : ScheduleMode::DryRun;
    }
    if (auto inventory = path(map, "inventory", false)) schedule.inventory = *inventory;
    if (auto snapshot = path(map, "snapshot", false)) schedule.snapshot = *snapshot;
    if (auto backup_dir = path(map, "backup_dir", true)) schedule.backup_dir = *backup_dir;
    if (auto plan = map.string("plan")) readPlan(map, *plan, schedule);
    if (auto key = path(map, "encryption_key_file", false)) schedule.encryption_key_file = *key;
    if (auto bucket = map.string("bucket")) {
      if (auto parsed = parseS3Url(*bucket); !parsed) {
        map.badValue("bucket", parsed.error().message);
      } else {
        schedule.bucket = *bucket;
      }
    }
    if (auto retention = map.mapping("retention")) readRetention(*retention, schedule);

    if (map.has("mode") && !mode) {
      // The mode was misspelt (reported above): which keys it needs is unknown, so say nothing more about them.
    } else if (schedule.mode == ScheduleMode::DryRun) {
      if (!map.has("inventory"))
        sink_.error(map.at(), fmt::format("{} (dry-run) is missing required key 'inventory'", what));
      if (!map.has("snapshot") && !map.has("backup_dir")) {
        sink_.error(map.at(), fmt::format("{} (dry-run) needs 'snapshot' or 'backup_dir' (its newest snapshot)", what));
      }
    } else if (schedule.mode == ScheduleMode::Backup) {
      if (!map.has("inventory")) {
        sink_.error(map.at(), fmt::format("{} (backup) is missing required key 'inventory' (the cluster to save)", what));
      }
      if (!map.has("backup_dir")) {
        sink_.error(map.at(), fmt::format("{} (backup) is missing required key 'backup_dir' (where backups go)", what));
      }
      for (const char* ignored : {"snapshot", "plan"}) {
        if (map.has(ignored)) {
          sink_.error(map.keyAt(ignored),
                      fmt::format("'{}' has no effect in backup mode (it saves a new snapshot of the cluster)", ignored));
        }
      }
    } else {
      if (!map.has("backup_dir")) {
        sink_.error(map.at(), fmt::format("{} (test-restore) is missing required key 'backup_dir'", what));
      }
      for (const char* ignored : {"bucket", "retention"}) {
        if (map.has(ignored)) {
          sink_.error(map.keyAt(ignored),
                      fmt::format("'{}' belongs to a backup schedule (mode: backup), not a test-restore", ignored));
        }
      }
      // A test-restore always proves the newest backup; keys it would ignore are refused rather than misleading.
      for (const char* ignored : {"snapshot", "plan"}) {
        if (map.has(ignored)) {
          sink_.error(map.keyAt(ignored),
                      fmt::format("'{}' has no effect in test-restore mode (it restores the newest snapshot of "
                                  "backup_dir into a throwaway etcd)",
                                  ignored));
        }
      }
    }
    if (sink_.errorCount() != errors_before) return std::nullopt;
    return schedule;
  }

  void readPlan(MappingReader& map, const std::string& plan, ScheduleConfig& schedule) {
    if (looksLikePlanPath(plan)) {
      if (auto resolved = path(map, "plan", false)) schedule.plan = *resolved;
      return;
    }
    const std::vector<std::string> names = builtinPlanTemplateNames();
    if (std::find(names.begin(), names.end(), plan) != names.end()) {
      schedule.plan = plan;
      return;
    }
    std::string message = fmt::format("'{}' is not a built-in plan template ({})", plan, fmt::join(names, ", "));
    if (auto guess = closestMatch(plan, names)) message += fmt::format("; did you mean '{}'?", *guess);
    map.badValue("plan", message + "; a file path must contain a '/' or end in .yaml");
  }

  DiagnosticSink& sink_;
  std::filesystem::path base_dir_;
  std::map<std::string, int> first_name_line_;
};

Result<DrdConfig> fromDiagnostics(std::vector<Diagnostic> diagnostics, std::optional<DrdConfig> config) {
  std::vector<std::string> lines;
  for (const Diagnostic& d : diagnostics) {
    if (d.severity == Severity::Error) lines.push_back(d.str());
  }
  if (!lines.empty() || !config) return Error{fmt::format("{}", fmt::join(lines, "\n"))};
  return std::move(*config);
}

}  // namespace

const char* scheduleModeName(ScheduleMode mode) {
  switch (mode) {
    case ScheduleMode::DryRun:
      return "dry-run";
    case ScheduleMode::TestRestore:
      return "test-restore";
    case ScheduleMode::Backup:
      return "backup";
  }
  return "unknown";
}

Result<DrdConfig> parseDrdConfig(const std::string& yaml_text, const std::filesystem::path& file) {
  DiagnosticSink sink(file.string());
  std::optional<DrdConfig> config;
  try {
    const SingleDocument document = loadSingleDocument(yaml_text);
    const YAML::Node& root = document.root;
    if (document.second_document) {
      sink.error(sink.at(document.second_document->line, document.second_document->column),
                 "a second YAML document starts here: the drd config is one document");
    } else if (root.IsNull()) {
      config = DrdConfig{};  // an empty file: nothing scheduled, no metrics endpoint
    } else if (!root.IsMap()) {
      sink.error(sink.at(root), fmt::format("the drd config must be a mapping (schedules, metrics_listen, ...), not {}",
                                            describeKind(root)));
    } else {
      std::filesystem::path base = file.parent_path();
      if (base.empty()) base = ".";
      config = ConfigParser(sink, std::filesystem::absolute(base)).parse(root);
    }
  } catch (const YAML::Exception& e) {
    sink.error(sink.at(e.mark.line, e.mark.column), fmt::format("YAML syntax error: {}", e.msg));
  }
  return fromDiagnostics(sink.take(), std::move(config));
}

Result<DrdConfig> loadDrdConfig(const std::filesystem::path& file) {
  auto text = readRegularFile(file, kMaxConfigFileBytes, "config file");
  if (!text) return text.error();
  return parseDrdConfig(*text, file);
}

}  // namespace dr
