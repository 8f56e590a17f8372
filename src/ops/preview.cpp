// Building and rendering a plan for the operator (see preview.h).
#include "ops/preview.h"

#include "exec/run_dir.h"
#include "exec/run_session.h"
#include "ops/apply.h"
#include "plan/plan_json.h"
#include "plan/plan_render.h"

namespace dr::ops {

Outcome<PlanPreview> previewPlan(const PreviewRequest& request) {
  using Out = Outcome<PlanPreview>;
  const std::string& format = request.format;
  if (format != "text" && format != "json" && format != "dot" && format != "mermaid") {
    return Out::refused(refuse(RefusalKind::BadInput, "format must be text, json, dot or mermaid, not '" + format + "'"));
  }
  if (Status valid = validateRunId(request.run_id); !valid) {
    return Out::refused(refuse(RefusalKind::BadInput, valid.error().message));
  }
  PlanningOutcome planned = planRun({request.inventory, request.snapshot, templateArgument(request.plan_template),
                                     request.run_id, "", request.skip_hash_check, request.replace_members,
                                     request.disarm_alarms, request.members_fetch});
  if (!planned.run) return Out::refused(refuse(RefusalKind::BadInput, "nothing was planned", planned.problemLines()));
  Out out;
  out.notes = planned.warningLines();
  const Plan& plan = planned.run->plan;
  PlanContext context;
  context.cluster = planned.run->inventory.cluster_name;
  context.inventory_path = request.inventory;
  context.template_source = planned.run->plan_template.source.string();
  context.run_id = request.run_id;
  context.snapshot = planned.run->snapshot;
  Result<std::string> rendered = std::string();
  if (format == "json") {
    rendered = planJsonText(plan);
  } else if (format == "dot") {
    rendered = renderPlanDot(plan, context);
  } else if (format == "mermaid") {
    rendered = renderPlanMermaid(plan);
  } else {
    rendered = renderPlanText(plan, context, TextRenderOptions{.verbose = request.verbose});
  }
  // The planner never makes a plan a renderer refuses; if it did, saying so beats printing a wrong drawing.
  if (!rendered) return Out::refused(refuse(RefusalKind::Failed, "internal error: " + rendered.error().message));
  out.value = PlanPreview{std::move(planned.run->plan), std::move(rendered).value()};
  return out;
}

}  // namespace dr::ops
