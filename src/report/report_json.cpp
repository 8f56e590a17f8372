// report.json: the RunSummary for machines (schema in docs/report.md). Keys are written in a fixed order
// (nlohmann::ordered_json) so the same run always gives the same bytes.
#include <nlohmann/json.hpp>

#include "report/run_report.h"

namespace dr {
namespace {

using Json = nlohmann::ordered_json;

template <typename T>
Json optional(const std::optional<T>& value) {
  return value ? Json(*value) : Json(nullptr);
}

Json attemptJson(const AttemptSummary& a) {
  return Json{{"session", a.session},         {"attempt", a.attempt},     {"start_ms", a.start_ms},
              {"end_ms", optional(a.end_ms)}, {"duration_ms", a.duration_ms}, {"exit_code", optional(a.exit_code)},
              {"ok", a.ok},                   {"output_sha256", a.output_sha256}, {"message", sanitizeText(a.message)}};
}

Json stepJson(const RunSummary& summary, const StepSummary& s) {
  Json attempts = Json::array();
  for (const auto& a : s.attempts) attempts.push_back(attemptJson(a));
  Json undo = nullptr;
  if (s.undo) {
    undo = Json{{"state", s.undo->state},         {"start_ms", s.undo->start_ms},
                {"end_ms", s.undo->end_ms},       {"duration_ms", s.undo->duration_ms},
                {"exit_code", optional(s.undo->exit_code)}, {"message", sanitizeText(s.undo->message)}};
  }
  Json offset = s.start_ms ? Json(*s.start_ms - summary.start_ms) : Json(nullptr);
  return Json{{"id", s.id},
              {"action", s.action},
              {"host", s.host},
              {"member", s.member},
              {"needs", s.needs},
              {"state", stepStateLabel(s.state)},
              {"attempts", s.attempts.size()},
              {"start_ms", optional(s.start_ms)},
              {"end_ms", optional(s.end_ms)},
              {"offset_ms", offset},
              {"duration_ms", s.duration_ms},
              {"total_ms", s.total_ms},
              {"exit_code", optional(s.exit_code)},
              {"output_sha256", s.output_sha256},
              {"message", sanitizeText(s.message)},
              {"output_tail", s.output_tail},
              {"attempt_log", attempts},
              {"undo", undo}};
}

}  // namespace

std::string renderReportJson(const RunSummary& summary) {
  Json sessions = Json::array();
  for (const auto& s : summary.sessions) {
    sessions.push_back(Json{{"mode", s.mode},
                            {"start_ms", s.start_ms},
                            {"end_ms", optional(s.end_ms)},
                            {"end", s.end},
                            {"message", sanitizeText(s.message)},
                            {"fingerprint", s.fingerprint}});
  }
  Json steps = Json::array();
  for (const auto& s : summary.steps) steps.push_back(stepJson(summary, s));
  Json hosts = Json::array();
  for (const auto& h : summary.hosts) {
    Json ids = Json::array();
    for (std::size_t i : h.steps) ids.push_back(summary.steps[i].id);
    hosts.push_back(Json{{"host", h.host},
                         {"steps", ids},
                         {"done", h.done},
                         {"failed", h.failed},
                         {"skipped", h.skipped},
                         {"in_doubt", h.in_doubt},
                         {"not_started", h.not_started},
                         {"start_ms", optional(h.start_ms)},
                         {"end_ms", optional(h.end_ms)}});
  }
  Json rto = nullptr;
  if (summary.rto) {
    const RtoSummary& r = *summary.rto;
    rto = Json{{"complete", r.complete}, {"start_step", r.start_step}, {"end_step", r.end_step},
               {"start_ms", r.start_ms}, {"end_ms", r.end_ms},         {"ms", r.ms}};
  }
  Json verified = Json::array();
  for (const auto& s : summary.steps) {
    if (s.action.rfind("verify-", 0) == 0 && s.state == ReportStepState::Done) verified.push_back(s.id);
  }
  Json report{
      {"format", "drctl-run-report/1"},
      {"run_id", summary.run_id},
      {"cluster", summary.cluster},
      {"plan", summary.plan_name},
      {"fingerprint", summary.fingerprint},
      {"fingerprint_mismatch", summary.fingerprint_mismatch},
      {"outcome", summary.outcome},
      {"reason", sanitizeText(summary.reason)},
      {"start_ms", summary.start_ms},
      {"end_ms", summary.end_ms},
      {"duration_ms", summary.end_ms - summary.start_ms},
      {"rto", rto},
      {"counts",
       Json{{"steps", summary.steps.size()},
            {"done", summary.count(ReportStepState::Done)},
            {"failed", summary.count(ReportStepState::Failed)},
            {"skipped", summary.count(ReportStepState::Skipped)},
            {"in_doubt", summary.count(ReportStepState::InDoubt)},
            {"not_started", summary.count(ReportStepState::NotStarted)}}},
      {"verified", verified},
      {"journal", Json{{"records", summary.records},
                       {"torn_tail", summary.torn_tail},
                       {"tail_note", summary.tail_note},
                       {"unknown_steps", summary.unknown_steps}}},
      {"sessions", sessions},
      {"hosts", hosts},
      {"steps", steps},
  };
  // Strings were sanitized to valid UTF-8, so dump cannot throw on them; `replace` is belt and braces.
  return report.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace dr
