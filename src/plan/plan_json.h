// The plan as JSON: what `drctl plan -o json` prints (the contract in docs/design.md: {"plan", "fingerprint",
// "steps": [{"id", "action", "host", "member", "needs", "command"}]}, plus every other field of a step and the
// plan's warnings and inputs), what a run directory stores as plan.json, and the canonical form the fingerprint
// is computed over.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "core/result.h"
#include "plan/plan.h"

namespace dr {

// Every field of the plan. Step fields: id, template_id, action, description, host, member, needs, command,
// check, undo, upload ({local_path, remote_path, sha256} or null), timeout_seconds, retries, idempotent.
nlohmann::json planToJson(const Plan& plan);
// The exact inverse of planToJson: planFromJson(planToJson(p)) == p. Reports the first malformed field.
Result<Plan> planFromJson(const nlohmann::json& json);
// planToJson as text (indent -1: one line), invalid UTF-8 in any string replaced: what is printed and stored.
std::string planJsonText(const Plan& plan, int indent = 2);
// planToJson without the fingerprint, keys sorted, no whitespace.
std::string canonicalPlanJson(const Plan& plan);
// SHA-256 (hex) of canonicalPlanJson.
std::string computeFingerprint(const Plan& plan);

}  // namespace dr
