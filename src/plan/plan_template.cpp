// Loads plan templates (plans/*.yaml) and checks everything that can be checked without an inventory, reporting
// every problem at once with its FILE:LINE:COLUMN: unknown keys (did-you-mean), missing or ill-typed fields, a bad
// foreach or duration, duplicate ids, unknown ids in needs, cycles (named: "a -> b -> a"), unknown or misplaced
// variables. The language is described in docs/plan-templates.md.
#include "plan/plan_template.h"

#include "core/file_io.h"

#include <yaml-cpp/yaml.h>

#include "inventory/yaml_reader.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <functional>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include "core/sha256.h"
#include "core/suggest.h"
#include "plan/builtin_plans.h"
#include "plan/planner.h"
#include "plan/template_text.h"

namespace dr {

const char* foreachName(Foreach foreach) {
  switch (foreach) {
    case Foreach::Once:
      return "once";
    case Foreach::EtcdMembers:
      return "etcd_members";
    case Foreach::ApiServers:
      return "api_servers";
    case Foreach::ReplacedMembers:
      return "replaced_members";
    case Foreach::Components:
      return "components";
    case Foreach::Kubelets:
      return "kubelets";
  }
  return "once";
}

bool variableAvailable(Foreach only_in, Foreach foreach) {
  if (only_in == Foreach::EtcdMembers && foreach == Foreach::ReplacedMembers) return true;
  return only_in == foreach;
}

const StepTemplate* PlanTemplate::find(std::string_view id) const {
  for (const auto& step : steps) {
    if (step.id == id) return &step;
  }
  return nullptr;
}

std::optional<std::chrono::seconds> parseDuration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  long long total = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    long long number = 0;
    auto [end, ec] = std::from_chars(text.data() + i, text.data() + text.size(), number);
    if (ec != std::errc{} || end == text.data() + i || number < 0) return std::nullopt;
    i = static_cast<std::size_t>(end - text.data());
    long long unit = 1;
    if (i < text.size()) {
      switch (text[i]) {
        case 'h': unit = 3600; break;
        case 'm': unit = 60; break;
        case 's': unit = 1; break;
        default: return std::nullopt;
      }
      ++i;
    } else if (total != 0) {
      return std::nullopt;  // "1m30" is ambiguous: a bare number only on its own
    }
    total += number * unit;
    if (total > 7 * 24 * 3600) return std::nullopt;  // a week: surely a typo
  }
  if (total <= 0) return std::nullopt;
  return std::chrono::seconds(total);
}

namespace {

const std::vector<std::string> kTopKeys = {"name", "description", "steps"};
const std::vector<std::string> kStepKeys = {"id",      "action",  "description", "foreach",    "needs",  "run",
                                            "check",   "undo",    "upload",      "timeout",    "retries", "idempotent",
                                            "serial",  "on"};
const std::vector<std::string> kUploadKeys = {"from", "to", "sha256"};
const std::vector<std::string> kForeachNames = {"once",       "etcd_members", "api_servers", "replaced_members",
                                                "components", "kubelets"};

class TemplateParser {
 public:
  TemplateParser(std::string_view text, std::string file) : text_(text), file_(std::move(file)) {
    line_starts_.push_back(0);
    for (std::size_t i = 0; i < text_.size(); ++i) {
      if (text_[i] == '\n') line_starts_.push_back(i + 1);
    }
  }

  TemplateLoad parse() {
    TemplateLoad load;
    YAML::Node root;
    try {
      const SingleDocument document = loadSingleDocument(text_);
      if (document.second_document) {
        error(at(*document.second_document), "a second YAML document starts here: a plan template is one document");
        load.diagnostics = std::move(diagnostics_);
        return load;
      }
      root = document.root;
    } catch (const YAML::ParserException& e) {
      error(at(e.mark), "not valid YAML: " + e.msg);
      load.diagnostics = std::move(diagnostics_);
      return load;
    }
    PlanTemplate result;
    result.source = file_;
    result.source_sha256 = sha256Hex(text_);
    if (!root.IsMap()) {
      error({file_, 1, 1}, "a plan template is a mapping with the keys name, description and steps");
      load.diagnostics = std::move(diagnostics_);
      return load;
    }
    auto fields = keysOf(root, kTopKeys, "plan template");
    if (auto it = fields.find("name"); it != fields.end()) {
      result.name = scalar(it->second, "name");
      if (result.name.empty()) error(at(it->second.Mark()), "name must not be empty");
    } else {
      error(at(root.Mark()), "missing field 'name' (the template's name, e.g. full-restore)");
    }
    if (auto it = fields.find("description"); it != fields.end()) result.description = scalar(it->second, "description");
    if (auto it = fields.find("steps"); it != fields.end()) {
      if (!it->second.IsSequence() || it->second.size() == 0) {
        error(at(it->second.Mark()), "steps must be a non-empty list of steps");
      } else {
        for (const auto& node : it->second) {
          if (auto step = parseStep(node)) result.steps.push_back(std::move(*step));
        }
      }
    } else {
      error(at(root.Mark()), "missing field 'steps' (the list of steps)");
    }
    checkIdsAndNeeds(result);
    checkCycles(result);
    for (const auto& step : result.steps) {
      result.replaces_members = result.replaces_members || step.foreach == Foreach::ReplacedMembers;
      result.uses_snapshot = result.uses_snapshot || step.upload.has_value();
      for (const auto* command : {&step.run, &step.check, &step.undo}) {
        for (const auto& use : scanVariables(command->text).uses) {
          result.uses_snapshot = result.uses_snapshot || use.name.rfind("snapshot.", 0) == 0 ||
                                 use.name == "member.restore_command";
        }
      }
    }
    if (!hasErrors(diagnostics_)) load.plan_template = std::move(result);
    load.diagnostics = std::move(diagnostics_);
    return load;
  }

 private:
  SourceLocation at(const YAML::Mark& mark) const {
    if (mark.line < 0) return {file_, 0, 0};
    return {file_, mark.line + 1, mark.column + 1};
  }
  SourceLocation atOffset(std::size_t offset) const {
    auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
    const std::size_t line = static_cast<std::size_t>(it - line_starts_.begin());
    return {file_, static_cast<int>(line), static_cast<int>(offset - line_starts_[line - 1] + 1)};
  }
  void error(SourceLocation where, std::string message) {
    diagnostics_.push_back({Severity::Error, std::move(where), std::move(message)});
  }

  // The keys of a mapping, reporting unknown ones (with a did-you-mean) and duplicates.
  std::map<std::string, YAML::Node> keysOf(const YAML::Node& map, const std::vector<std::string>& known,
                                           const std::string& what) {
    std::map<std::string, YAML::Node> out;
    for (auto it = map.begin(); it != map.end(); ++it) {
      const std::string key = it->first.IsScalar() ? it->first.Scalar() : "";
      if (std::find(known.begin(), known.end(), key) == known.end()) {
        std::string message = unknownKeyText(key) + " in " + what;
        if (auto guess = looksLikeKeyName(key) ? closestMatch(key, known) : std::nullopt) {
          message += "; did you mean '" + *guess + "'?";
        }
        error(at(it->first.Mark()), message);
        continue;
      }
      if (out.count(key)) {
        error(at(it->first.Mark()), "key '" + key + "' appears twice in " + what);
        continue;
      }
      out.emplace(key, it->second);
    }
    return out;
  }

  std::string scalar(const YAML::Node& node, const std::string& key) {
    if (node.IsNull()) return "";
    if (!node.IsScalar()) {
      error(at(node.Mark()), key + " must be a string");
      return "";
    }
    return node.Scalar();
  }

  std::optional<StepTemplate> parseStep(const YAML::Node& node) {
    if (!node.IsMap()) {
      error(at(node.Mark()), "each step must be a mapping (id, action, foreach, needs, run, ...)");
      return std::nullopt;
    }
    StepTemplate step;
    step.where = at(node.Mark());
    auto fields = keysOf(node, kStepKeys, "a step");
    const std::string where_name = [&] {
      auto it = fields.find("id");
      return it != fields.end() && it->second.IsScalar() ? "step '" + it->second.Scalar() + "'" : "a step";
    }();

    if (auto it = fields.find("id"); it != fields.end()) {
      step.id = scalar(it->second, "id");
      const bool valid = !step.id.empty() && std::all_of(step.id.begin(), step.id.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
      });
      if (!valid) error(at(it->second.Mark()), "step id '" + step.id + "' must be letters, digits, '-' and '_' only");
    } else {
      error(step.where, "a step is missing its 'id'");
    }
    step.action = step.id;
    if (auto it = fields.find("action"); it != fields.end()) step.action = scalar(it->second, "action");
    if (auto it = fields.find("description"); it != fields.end()) step.description = scalar(it->second, "description");
    if (auto it = fields.find("foreach"); it != fields.end()) {
      const std::string value = scalar(it->second, "foreach");
      if (value == "once") {
        step.foreach = Foreach::Once;
      } else if (value == "etcd_members") {
        step.foreach = Foreach::EtcdMembers;
      } else if (value == "api_servers") {
        step.foreach = Foreach::ApiServers;
      } else if (value == "replaced_members") {
        step.foreach = Foreach::ReplacedMembers;
      } else if (value == "components") {
        step.foreach = Foreach::Components;
      } else if (value == "kubelets") {
        step.foreach = Foreach::Kubelets;
      } else {
        std::string message = "bad foreach '" + value + "' in " + where_name +
                              ": expected etcd_members, api_servers, replaced_members, components, kubelets or once";
        if (auto guess = closestMatch(value, kForeachNames)) message += "; did you mean '" + *guess + "'?";
        error(at(it->second.Mark()), message);
      }
    }
    if (auto it = fields.find("needs"); it != fields.end()) parseNeeds(it->second, step);
    for (auto [key, command] : {std::pair{"run", &step.run}, {"check", &step.check}, {"undo", &step.undo}}) {
      if (auto it = fields.find(key); it != fields.end()) {
        command->text = trimTrailing(scalar(it->second, key));
        command->where = at(it->second.Mark());
        checkVariables(it->second, command->text, step.foreach, where_name, false);
        checkQuoting(it->second, command->text);
        checkHeredocs(it->second, command->text);
      }
    }
    if (auto it = fields.find("upload"); it != fields.end()) parseUpload(it->second, step, where_name);
    if (step.run.empty() && !step.upload) {
      error(step.where, where_name + " has nothing to do: give it a 'run' command or an 'upload'");
    }
    if (auto it = fields.find("timeout"); it != fields.end()) {
      const std::string value = scalar(it->second, "timeout");
      if (auto duration = parseDuration(value)) {
        step.timeout = *duration;
      } else {
        error(at(it->second.Mark()), "bad duration '" + value + "' for timeout: write e.g. 90s, 5m, 1h or 1m30s");
      }
    }
    if (auto it = fields.find("retries"); it != fields.end()) {
      const std::string value = scalar(it->second, "retries");
      int retries = -1;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), retries);
      if (ec != std::errc{} || end != value.data() + value.size() || retries < 0 || retries > 100) {
        error(at(it->second.Mark()), "retries must be a whole number from 0 to 100, not '" + value + "'");
      } else {
        step.retries = retries;
      }
    }
    for (auto [key, flag] : {std::pair{"idempotent", &step.idempotent}, {"serial", &step.serial}}) {
      auto it = fields.find(key);
      if (it == fields.end()) continue;
      const std::string value = scalar(it->second, key);
      if (value == "true") {
        *flag = true;
      } else if (value == "false") {
        *flag = false;
      } else if (flag == &step.serial && !value.empty() && value != step.id) {
        // serial: STEP_ID (checked against the template's ids once every step is read)
        step.serial = true;
        step.serial_after = value;
      } else {
        error(at(it->second.Mark()), std::string(key) + " must be true or false, not '" + value + "'");
      }
    }
    if (auto it = fields.find("on"); it != fields.end()) {
      const std::string value = scalar(it->second, "on");
      if (value == "controller") {
        step.on_controller = true;
      } else if (value != "host") {
        error(at(it->second.Mark()), "on must be controller or host, not '" + value + "'");
      }
      if (step.foreach == Foreach::Once && step.on_controller) {
        error(at(it->second.Mark()), "on: controller is for per-instance steps; " + where_name + " runs once, "
                                     "on the controller already");
      }
    }
    if (step.serial && step.foreach == Foreach::Once) {
      error(at(fields.find("serial")->second.Mark()),
            "serial orders the instances of a per-member or per-API-server step; " + where_name + " runs once");
    }
    return step;
  }

  void parseNeeds(const YAML::Node& node, StepTemplate& step) {
    auto add = [&](const YAML::Node& entry) {
      if (!entry.IsScalar()) {
        error(at(entry.Mark()), "each entry of needs is a step id (or all:STEP_ID)");
        return;
      }
      NeedTemplate need;
      need.where = at(entry.Mark());
      std::string value = entry.Scalar();
      if (value.rfind("all:", 0) == 0) {
        need.every_instance = true;
        value = value.substr(4);
      }
      need.step_id = value;
      step.needs.push_back(std::move(need));
    };
    if (node.IsSequence()) {
      for (const auto& entry : node) add(entry);
    } else if (node.IsScalar()) {
      add(node);
    } else if (!node.IsNull()) {
      error(at(node.Mark()), "needs must be a list of step ids");
    }
  }

  void parseUpload(const YAML::Node& node, StepTemplate& step, const std::string& where_name) {
    if (!node.IsMap()) {
      error(at(node.Mark()), "upload must be a mapping: {from: LOCAL_PATH, to: REMOTE_PATH}");
      return;
    }
    auto fields = keysOf(node, kUploadKeys, "upload");
    UploadTemplate upload;
    bool complete = true;
    for (auto [key, value, where] : {std::tuple{"from", &upload.from, &upload.from_where},
                                     {"to", &upload.to, &upload.to_where},
                                     {"sha256", &upload.sha256, &upload.sha256_where}}) {
      auto it = fields.find(key);
      if (it == fields.end()) {
        if (std::string_view(key) != "sha256") {
          error(at(node.Mark()), std::string("upload is missing '") + key + "'");
          complete = false;
        }
        continue;
      }
      *value = scalar(it->second, key);
      *where = at(it->second.Mark());
      checkVariables(it->second, *value, step.foreach, where_name, true);
    }
    // A remote path the SFTP server would resolve against the login user's home, or a hash no file can have, are
    // template mistakes to report here, not surprises on a host. A variable's value is checked when it is planned.
    if (!upload.to.empty() && upload.to.front() != '/' && upload.to.rfind("${", 0) != 0) {
      error(upload.to_where, "upload 'to' must be an absolute path (or start with a ${...} path variable), not '" +
                                 upload.to + "'");
    }
    if (!upload.sha256.empty() && !isSha256Hex(upload.sha256) && !isOneVariable(upload.sha256)) {
      error(upload.sha256_where, "upload 'sha256' must be 64 hex digits or one ${...} variable (e.g. ${snapshot.sha256})");
    }
    if (complete) step.upload = std::move(upload);
  }

  static bool isSha256Hex(std::string_view text) {
    return text.size() == 64 && std::all_of(text.begin(), text.end(), [](unsigned char c) {
             return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
           });
  }

  static bool isOneVariable(std::string_view text) {
    const VariableScan scan = scanVariables(text);
    return scan.errors.empty() && scan.uses.size() == 1 && scan.uses[0].offset == 0 &&
           scan.uses[0].length == text.size();
  }

  static std::string trimTrailing(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ' || text.back() == '\t')) text.pop_back();
    return text;
  }

  // Where in the file the n-th `${name}` of a scalar is: searched in the raw text from the scalar's start, so
  // the column is right for plain, quoted and block scalars alike.
  SourceLocation locate(const YAML::Mark& mark, std::string_view literal, int occurrence) const {
    if (mark.pos < 0) return at(mark);
    std::size_t from = static_cast<std::size_t>(mark.pos);
    for (int i = 0; i <= occurrence; ++i) {
      const std::size_t found = text_.find(literal, from);
      if (found == std::string_view::npos) return at(mark);
      if (i == occurrence) return atOffset(found);
      from = found + literal.size();
    }
    return at(mark);
  }

  void checkVariables(const YAML::Node& node, const std::string& text, Foreach foreach,
                      const std::string& where_name, bool in_upload) {
    const VariableScan scan = scanVariables(text);
    for (const auto& problem : scan.errors) {
      const std::string snippet = text.substr(problem.offset, std::min<std::size_t>(8, text.size() - problem.offset));
      error(locate(node.Mark(), snippet, 0), problem.message);
    }
    std::map<std::string, int> seen;
    for (const auto& use : scan.uses) {
      const std::string literal = text.substr(use.offset, use.length);
      const SourceLocation where = locate(node.Mark(), literal, seen[literal]++);
      const auto& table = templateVariables();
      auto info = std::find_if(table.begin(), table.end(), [&](const VariableInfo& v) { return v.name == use.name; });
      if (info == table.end()) {
        std::vector<std::string> available;
        for (const auto& v : table) {
          if (!v.only_in || variableAvailable(*v.only_in, foreach)) available.push_back(v.name);
        }
        std::string message = "unknown variable ${" + use.name + "} in " + where_name;
        if (auto guess = closestMatch(use.name, available)) message += "; did you mean ${" + *guess + "}?";
        error(where, message);
      } else if (info->only_in && !variableAvailable(*info->only_in, foreach)) {
        error(where, "${" + use.name + "} is only available in steps with foreach: " + foreachName(*info->only_in) +
                         " (" + where_name + " is foreach: " + foreachName(foreach) + ")");
      } else if (in_upload && info->command_valued) {
        error(where, "${" + use.name + "} is a command; upload takes paths and hashes");
      }
    }
  }

  void checkQuoting(const YAML::Node& node, const std::string& text) {
    for (const auto& use : variablesInsideQuotes(text)) {
      const std::string literal = text.substr(use.offset, use.length);
      error(locate(node.Mark(), literal, countBefore(text, literal, use.offset)),
            "${" + use.name + "} is inside quotes: its value is already quoted as one shell word, and inside \"...\" "
            "the shell would still run a $(...) in it; write the variable outside the quotes");
    }
  }

  void checkHeredocs(const YAML::Node& node, const std::string& text) {
    for (const auto& use : variablesInsideHeredocs(text)) {
      const std::string literal = text.substr(use.offset, use.length);
      error(locate(node.Mark(), literal, countBefore(text, literal, use.offset)),
            "${" + use.name + "} is inside a here-document: its quotes are literal text there and the shell would "
            "still run a $(...) in its value; pass the value as a command argument instead");
    }
  }

  static int countBefore(const std::string& text, const std::string& literal, std::size_t offset) {
    int count = 0;
    for (std::size_t at = text.find(literal); at != std::string::npos && at < offset; at = text.find(literal, at + 1)) {
      ++count;
    }
    return count;
  }

  void checkIdsAndNeeds(const PlanTemplate& plan) {
    std::map<std::string, const StepTemplate*> first;
    std::vector<std::string> ids;
    for (const auto& step : plan.steps) {
      if (step.id.empty()) continue;
      auto [it, inserted] = first.emplace(step.id, &step);
      if (!inserted) {
        error(step.where, "duplicate step id '" + step.id + "' (first defined at line " +
                              std::to_string(it->second->where.line) + ")");
      } else {
        ids.push_back(step.id);
      }
    }
    for (const auto& step : plan.steps) {
      if (!step.serial_after.empty()) {
        const StepTemplate* other = plan.find(step.serial_after);
        if (!other) {
          std::string message = "unknown step id '" + step.serial_after + "' in serial of step '" + step.id + "'";
          if (auto guess = closestMatch(step.serial_after, ids)) message += "; did you mean '" + *guess + "'?";
          error(step.where, message);
        } else if (other->foreach != step.foreach) {
          error(step.where, "serial: " + step.serial_after + " of step '" + step.id + "' names a step with another "
                            "foreach (" + foreachName(other->foreach) + ", not " + foreachName(step.foreach) + ")");
        }
      }
      for (const auto& need : step.needs) {
        if (first.count(need.step_id)) continue;
        std::string message = "unknown step id '" + need.step_id + "' in the needs of step '" + step.id + "'";
        if (auto guess = closestMatch(need.step_id, ids)) message += "; did you mean '" + *guess + "'?";
        error(need.where, message);
      }
    }
  }

  // Depth-first search over needs in file order; a back edge is a cycle, reported once with its path.
  void checkCycles(const PlanTemplate& plan) {
    std::map<std::string, int> index;
    for (std::size_t i = 0; i < plan.steps.size(); ++i) index.emplace(plan.steps[i].id, static_cast<int>(i));
    enum class Mark { New, Active, Done };
    std::vector<Mark> marks(plan.steps.size(), Mark::New);
    std::vector<int> path;
    std::function<void(int)> visit = [&](int v) {
      marks[v] = Mark::Active;
      path.push_back(v);
      for (const auto& need : plan.steps[v].needs) {
        auto it = index.find(need.step_id);
        if (it == index.end()) continue;
        const int w = it->second;
        if (marks[w] == Mark::Active) {
          std::string cycle;
          auto start = std::find(path.begin(), path.end(), w);
          for (auto p = start; p != path.end(); ++p) cycle += plan.steps[*p].id + " -> ";
          cycle += plan.steps[w].id;
          error(need.where, "cycle in needs: " + cycle);
        } else if (marks[w] == Mark::New) {
          visit(w);
        }
      }
      path.pop_back();
      marks[v] = Mark::Done;
    };
    for (std::size_t i = 0; i < plan.steps.size(); ++i) {
      if (marks[i] == Mark::New) visit(static_cast<int>(i));
    }
  }

  std::string_view text_;
  std::string file_;
  std::vector<std::size_t> line_starts_;
  std::vector<Diagnostic> diagnostics_;
};

}  // namespace

TemplateLoad parsePlanTemplate(std::string_view yaml_text, const std::filesystem::path& file_name) {
  return TemplateParser(yaml_text, file_name.string()).parse();
}

TemplateLoad loadPlanTemplate(const std::filesystem::path& path) {
  auto bytes = readRegularFile(path, kMaxConfigFileBytes, "plan template");
  if (!bytes) {
    TemplateLoad load;
    load.diagnostics.push_back({Severity::Error, {path.string(), 0, 0}, messageWithoutPath(bytes.error(), path)});
    return load;
  }
  return parsePlanTemplate(*bytes, path);
}

std::vector<std::string> builtinPlanTemplateNames() {
  std::vector<std::string> names;
  for (std::size_t i = 0; i < builtin_plans::kCount; ++i) names.emplace_back(builtin_plans::kEntries[i].name);
  std::sort(names.begin(), names.end());
  return names;
}

bool namesTemplateFile(std::string_view name_or_path) {
  return name_or_path.find('/') != std::string_view::npos || name_or_path.ends_with(".yaml") ||
         name_or_path.ends_with(".yml");
}

TemplateLoad loadPlanTemplateByNameOrPath(std::string_view name_or_path) {
  if (namesTemplateFile(name_or_path)) return loadPlanTemplate(std::filesystem::path(name_or_path));
  for (std::size_t i = 0; i < builtin_plans::kCount; ++i) {
    const auto& entry = builtin_plans::kEntries[i];
    if (entry.name == name_or_path) {
      TemplateLoad load = parsePlanTemplate(entry.text, "builtin:" + std::string(entry.name));
      return load;
    }
  }
  TemplateLoad load;
  const auto names = builtinPlanTemplateNames();
  std::string message = "no built-in plan template named '" + std::string(name_or_path) + "'";
  if (auto guess = closestMatch(name_or_path, names)) message += "; did you mean '" + *guess + "'?";
  std::string list;
  for (const auto& name : names) list += (list.empty() ? "" : ", ") + name;
  message += " (built-ins: " + list + "; a file path must contain a '/' or end in .yaml)";
  load.diagnostics.push_back({Severity::Error, {std::string(name_or_path), 0, 0}, message});
  return load;
}

}  // namespace dr
