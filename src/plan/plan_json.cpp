// The plan <-> JSON mapping and the canonical form behind the fingerprint. planFromJson is strict (every field
// present, with its type) because a plan.json read back from a run directory must be exactly the plan that ran.
#include "plan/plan_json.h"

#include "core/utf8.h"

#include "core/sha256.h"

namespace dr {

namespace {

using nlohmann::json;

json stepToJson(const Step& step) {
  json upload = nullptr;
  if (step.upload) {
    upload = {{"local_path", step.upload->local_path},
              {"remote_path", step.upload->remote_path},
              {"sha256", step.upload->sha256}};
  }
  return {{"id", step.id},
          {"template_id", step.template_id},
          {"action", step.action},
          {"description", step.description},
          {"host", step.host},
          {"member", step.member},
          {"needs", step.needs},
          {"upload", upload},
          {"command", step.command},
          {"check", step.check},
          {"undo", step.undo},
          {"timeout_seconds", step.timeout.count()},
          {"retries", step.retries},
          {"idempotent", step.idempotent}};
}

json planWithoutFingerprint(const Plan& plan) {
  json steps = json::array();
  for (const auto& step : plan.steps) steps.push_back(stepToJson(step));
  return {{"plan", plan.name}, {"steps", steps}, {"warnings", plan.warnings}, {"inputs", plan.inputs}};
}

// Reads one field with its expected type; the first problem found is kept in `error`.
class FieldReader {
 public:
  FieldReader(const json& object, std::string context) : object_(object), context_(std::move(context)) {}

  template <typename T>
  T get(const char* key) {
    if (error_) return T{};
    auto it = object_.find(key);
    if (it == object_.end()) {
      error_ = fail("{}: missing field \"{}\"", context_, key);
      return T{};
    }
    try {
      return it->template get<T>();
    } catch (const json::exception&) {
      error_ = fail("{}: field \"{}\" has the wrong type ({})", context_, key, it->type_name());
      return T{};
    }
  }
  const json* raw(const char* key) {
    if (error_) return nullptr;
    auto it = object_.find(key);
    if (it == object_.end()) {
      error_ = fail("{}: missing field \"{}\"", context_, key);
      return nullptr;
    }
    return &*it;
  }
  void setError(Error e) {
    if (!error_) error_ = std::move(e);
  }
  const std::optional<Error>& error() const { return error_; }

 private:
  const json& object_;
  std::string context_;
  std::optional<Error> error_;
};

Result<Step> stepFromJson(const json& object, std::size_t index) {
  if (!object.is_object()) return fail("plan.json: steps[{}] is not an object", index);
  FieldReader in(object, fmt::format("plan.json: steps[{}]", index));
  Step step;
  step.id = in.get<std::string>("id");
  step.template_id = in.get<std::string>("template_id");
  step.action = in.get<std::string>("action");
  step.description = in.get<std::string>("description");
  step.host = in.get<std::string>("host");
  step.member = in.get<std::string>("member");
  step.needs = in.get<std::vector<std::string>>("needs");
  if (const json* upload = in.raw("upload"); upload && !upload->is_null()) {
    if (!upload->is_object()) {
      in.setError(fail("plan.json: steps[{}]: field \"upload\" must be an object or null", index));
    } else {
      FieldReader up(*upload, fmt::format("plan.json: steps[{}].upload", index));
      FileUpload file{up.get<std::string>("local_path"), up.get<std::string>("remote_path"),
                      up.get<std::string>("sha256")};
      if (up.error()) in.setError(*up.error());
      step.upload = std::move(file);
    }
  }
  step.command = in.get<std::string>("command");
  step.check = in.get<std::string>("check");
  step.undo = in.get<std::string>("undo");
  step.timeout = std::chrono::seconds(in.get<std::int64_t>("timeout_seconds"));
  step.retries = in.get<int>("retries");
  step.idempotent = in.get<bool>("idempotent");
  if (in.error()) return *in.error();
  return step;
}

}  // namespace

nlohmann::json planToJson(const Plan& plan) {
  json out = planWithoutFingerprint(plan);
  out["fingerprint"] = plan.fingerprint;
  return out;
}

Result<Plan> planFromJson(const nlohmann::json& object) {
  if (!object.is_object()) return fail("plan.json: not a JSON object");
  FieldReader in(object, "plan.json");
  Plan plan;
  plan.name = in.get<std::string>("plan");
  plan.fingerprint = in.get<std::string>("fingerprint");
  plan.warnings = in.get<std::vector<std::string>>("warnings");
  plan.inputs = in.get<std::map<std::string, std::string>>("inputs");
  const json* steps = in.raw("steps");
  if (in.error()) return *in.error();
  if (!steps->is_array()) return fail("plan.json: field \"steps\" must be an array");
  for (std::size_t i = 0; i < steps->size(); ++i) {
    auto step = stepFromJson((*steps)[i], i);
    if (!step) return step.error();
    plan.steps.push_back(std::move(step).value());
  }
  return plan;
}

std::string planJsonText(const Plan& plan, int indent) {
  return jsonText(planToJson(plan), indent) + (indent >= 0 ? "\n" : "");
}

std::string canonicalPlanJson(const Plan& plan) {
  // nlohmann::json objects are std::map-backed: keys come out sorted, and dump() without indent has no whitespace.
  return planWithoutFingerprint(plan).dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string computeFingerprint(const Plan& plan) { return sha256Hex(canonicalPlanJson(plan)); }

}  // namespace dr
