// `drctl --server`: plan, apply, resume, rollback and status through drd (see remote_client.h).
#include "remote_client.h"

#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "commands.h"
#include "drd.grpc.pb.h"
#include "drd/answers.h"
#include "etcd/certificates.h"
#include "ops/apply.h"
#include "plan/plan_json.h"
#include "cli_support.h"
#include "run_output.h"
#include "status_view.h"
#include "storage/s3_client.h"

namespace dr::cli {

RemoteOptions& remoteOptions() {
  static RemoteOptions options;
  return options;
}

namespace {

// The snapshot as drd takes it: a path made absolute (drd's working directory is not ours), an s3:// URL as it is.
std::string snapshotArgument(const std::string& snapshot) {
  return isS3Url(snapshot) ? snapshot : ops::absolutePath(snapshot);
}

namespace v1 = dr::drd::v1;


// A stub for drd at --server. TCP is always TLS with this client's certificate: drd refuses anything else.
std::unique_ptr<v1::Drd::Stub> connect(const char* who) {
  const RemoteOptions& o = remoteOptions();
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  std::string target;
  if (o.server.starts_with("unix://")) {
    credentials = grpc::InsecureChannelCredentials();
    target = o.server;
  } else if (o.server.starts_with("tcp://")) {
    if (o.tls_ca.empty() || o.tls_cert.empty() || o.tls_key.empty()) {
      std::fprintf(stderr,
                   "%s: --server %s: drd on TCP requires mutual TLS: give --tls-ca (drd's CA), --tls-cert and "
                   "--tls-key (this client's certificate and key)\n",
                   who, o.server.c_str());
      return nullptr;
    }
    grpc::SslCredentialsOptions ssl;
    auto ca = readPemFile(o.tls_ca, "--tls-ca");
    auto cert = readPemFile(o.tls_cert, "--tls-cert");
    auto key = readPemFile(o.tls_key, "--tls-key");
    for (const auto* read : {&ca, &cert, &key}) {
      if (!*read) {
        std::fprintf(stderr, "%s: %s\n", who, read->error().message.c_str());
        return nullptr;
      }
    }
    ssl.pem_root_certs = *ca;
    ssl.pem_cert_chain = *cert;
    ssl.pem_private_key = *key;
    credentials = grpc::SslCredentials(ssl);
    target = o.server.substr(6);
  } else {
    std::fprintf(stderr, "%s: --server %s: expected unix:///path or tcp://host:port\n", who, o.server.c_str());
    return nullptr;
  }
  return v1::Drd::NewStub(grpc::CreateChannel(target, credentials));
}

// Every unary call gets a deadline: a drd that does not answer must not hang the operator.
void setDeadline(grpc::ClientContext& context, std::chrono::seconds seconds = std::chrono::seconds(120)) {
  context.set_deadline(std::chrono::system_clock::now() + seconds);
}

// Prints drd's error as the local command would and returns the local exit code (drd puts it in the details).
// The notes drd found before it refused (the quorum verdict, warnings) come first, as a local command prints them;
// drd sends them as trailing metadata, since an error status carries no response.
int reportError(const char* who, const grpc::Status& status, const grpc::ClientContext& context) {
  const auto& trailers = context.GetServerTrailingMetadata();
  for (auto [it, end] = trailers.equal_range(drd::kNotesMetadataKey); it != end; ++it) {
    std::fprintf(stderr, "%.*s\n", static_cast<int>(it->second.size()), it->second.data());
  }
  int code = kExitFailed;
  if (!status.error_details().empty()) {
    code = std::atoi(status.error_details().c_str());
  } else if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT ||
             status.error_code() == grpc::StatusCode::NOT_FOUND) {
    code = kExitBadInput;
  }
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE ||
      status.error_code() == grpc::StatusCode::UNAUTHENTICATED ||
      status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    std::fprintf(stderr, "%s: cannot reach drd at %s: %s\n", who, remoteOptions().server.c_str(),
                 status.error_message().c_str());
    return kExitFailed;
  }
  // Bad input comes as FILE:LINE:COLUMN lines, printed as they are, like the local diagnostics.
  if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
    std::fprintf(stderr, "%s\n", status.error_message().c_str());
  } else {
    std::fprintf(stderr, "%s: %s\n", who, status.error_message().c_str());
  }
  return code;
}

std::string remoteCommand(const std::string& verb, const std::string& run_id) {
  return fmt::format("drctl --server {} {} {}", remoteOptions().server, verb, run_id);
}

Step stepFor(const Plan& plan, const v1::RunEvent& event) {
  if (const Step* step = plan.find(event.step_id())) return *step;
  Step step;
  step.id = event.step_id();
  step.host = event.host();
  return step;
}

AttemptOutcome attemptOf(const v1::RunEvent& event) {
  AttemptOutcome outcome;
  outcome.attempt = event.attempt();
  if (event.has_exit_code()) outcome.exit_code = event.exit_code();
  outcome.timed_out = event.timed_out();
  outcome.duration_ms = event.duration_ms();
  outcome.output_sha256 = event.output_sha256();
  outcome.message = event.message();
  return outcome;
}

void dispatch(ExecutionObserver& observer, const Plan& plan, const v1::RunEvent& event) {
  switch (event.kind()) {
    case v1::RunEvent::STEP_STARTED:
      observer.onStepStarted(stepFor(plan, event), event.attempt());
      break;
    case v1::RunEvent::STEP_FINISHED:
      observer.onStepFinished(stepFor(plan, event), attemptOf(event));
      break;
    case v1::RunEvent::STEP_FAILED:
      observer.onStepFailed(stepFor(plan, event), attemptOf(event), event.will_retry());
      break;
    case v1::RunEvent::STEP_SKIPPED:
      observer.onStepSkipped(stepFor(plan, event), event.message());
      break;
    case v1::RunEvent::HOST_ACTIVITY:
      for (auto activity : {HostActivity::Connecting, HostActivity::Running, HostActivity::Idle, HostActivity::Finished,
                            HostActivity::Failed, HostActivity::Stopped}) {
        if (event.activity() == hostActivityName(activity))
          observer.onHostActivity(event.host(), activity, event.step_id());
      }
      break;
    default:
      break;
  }
}

ExecutionResult resultOf(const v1::RunEvent& end) {
  ExecutionResult result;
  result.outcome = end.outcome() == "finished"      ? RunOutcome::Finished
                   : end.outcome() == "interrupted" ? RunOutcome::Stopped
                                                    : RunOutcome::Failed;
  result.reason = end.reason();
  for (const auto& s : end.steps()) {
    StepOutcome step;
    step.id = s.step_id();
    step.host = s.host();
    step.message = s.message();
    for (auto state :
         {StepState::NotStarted, StepState::Running, StepState::Done, StepState::AlreadyDone, StepState::Failed}) {
      if (s.state() == stepStateName(state)) step.state = state;
    }
    result.steps.push_back(std::move(step));
  }
  for (const auto& h : end.hosts()) {
    HostSummary host;
    host.host = h.host();
    for (auto outcome : {HostOutcome::Finished, HostOutcome::Failed, HostOutcome::Stopped}) {
      if (h.outcome() == hostOutcomeName(outcome)) host.outcome = outcome;
    }
    host.done = h.done();
    host.total = h.total();
    host.failed = h.failed();
    host.failed_step = h.failed_step();
    host.next_step = h.next_step();
    result.hosts.push_back(std::move(host));
  }
  return result;
}

Result<Plan> planOf(const std::string& json_text) {
  auto json = nlohmann::json::parse(json_text, nullptr, false);
  if (json.is_discarded()) return fail("drd sent a plan that is not JSON");
  return planFromJson(json);
}

// Shows a session's progress from drd's Watch stream with drctl's own observers, then its end as executePlan does.
int followRun(v1::Drd::Stub& stub, const v1::RunStarted& started, LogFormat format, const char* who) {
  auto plan = planOf(started.plan_json());
  if (!plan) {
    std::fprintf(stderr, "%s: %s\n", who, plan.error().message.c_str());
    return kExitFailed;
  }
  grpc::ClientContext context;
  v1::WatchRequest request;
  request.set_run_id(started.run_id());
  request.set_from_seq(started.first_seq());
  std::optional<v1::RunEvent> end;
  grpc::Status status;
  {
    auto observer = makeProgressObserver(format, *plan);
    auto reader = stub.Watch(&context, request);
    v1::RunEvent event;
    while (reader->Read(&event)) {
      if (event.kind() == v1::RunEvent::RUN_ENDED) {
        end = event;
      } else {
        dispatch(*observer, *plan, event);
      }
    }
    status = reader->Finish();
  }
  if (!end) {
    std::fprintf(stderr, "%s: lost drd while watching run %s (%s); the run may go on in drd: %s\n", who,
                 started.run_id().c_str(), status.error_message().c_str(),
                 remoteCommand("status", started.run_id()).c_str());
    return kExitFailed;
  }
  RunEndReport report;
  report.run_id = started.run_id();
  report.undo = end->undo();
  report.log_format = format;
  report.logs_dir = std::filesystem::path(started.run_dir()) / "logs";
  report.resume_command = remoteCommand("resume", started.run_id());
  report.rollback_command = remoteCommand("rollback", started.run_id());
  return reportRunEnd(resultOf(*end), report);
}

void printNotes(const v1::RunStarted& started) {
  for (const auto& note : started.notes()) std::fprintf(stderr, "%s\n", note.c_str());
}

int showDryRun(const v1::RunStarted& started, const char* who) {
  auto plan = planOf(started.plan_json());
  if (!plan) {
    std::fprintf(stderr, "%s: %s\n", who, plan.error().message.c_str());
    return kExitFailed;
  }
  DryRunReport report;
  for (const auto& h : started.dry_run()) {
    DryRunHost host;
    host.host = h.host();
    host.connect_error = h.connect_error();
    for (const auto& s : h.steps()) {
      const Step* step = plan->find(s.step_id());
      if (step == nullptr) continue;
      DryRunStep item;
      item.step = step;
      for (auto verdict : {DryRunVerdict::WouldRun, DryRunVerdict::AlreadyDone, DryRunVerdict::PreflightOk,
                           DryRunVerdict::PreflightFailed, DryRunVerdict::Error, DryRunVerdict::Unreachable}) {
        if (s.verdict() == dryRunVerdictName(verdict)) item.verdict = verdict;
      }
      item.has_check = s.has_check();
      if (s.has_exit_code()) item.exit_code = s.exit_code();
      item.message = s.message();
      host.steps.push_back(std::move(item));
    }
    report.hosts.push_back(std::move(host));
  }
  return printDryRun(*plan, report);
}

bool confirmRemote(v1::Drd::Stub& stub, const RemoteApplyArgs& args) {
  v1::PlanRequest request;
  request.set_inventory(ops::absolutePath(args.inventory));
  request.set_snapshot(snapshotArgument(args.snapshot));
  request.set_plan_template(ops::templateArgument(args.plan_template));
  request.set_format("json");
  request.set_skip_hash_check(args.skip_hash_check);
  for (const auto& member : args.replace_members) request.add_replace_members(member);
  request.set_disarm_alarms(args.disarm_alarms);
  request.set_members_fetch(args.members_fetch);
  v1::PlanResponse response;
  grpc::ClientContext context;
  setDeadline(context);
  if (!args.from_member.empty()) {
    // The snapshot is taken by drd from the member when the run starts: there is nothing to plan before.
    std::fprintf(stderr, "About to restore every member through drd at %s from a snapshot of member %s's own data, "
                         "taken now. This stops the API servers and etcd and replaces etcd's data. Type 'yes' to "
                         "proceed: ",
                 remoteOptions().server.c_str(), args.from_member.c_str());
    std::string answer;
    std::getline(std::cin, answer);
    return answer == "yes";
  }
  if (!stub.Plan(&context, request, &response).ok()) return true;  // Apply itself reports the problem
  auto plan = planOf(response.plan_json());
  if (!plan) return false;
  std::map<std::string, int> per_host;
  for (const auto& step : plan->steps) ++per_host[step.host];
  std::fprintf(stderr, "About to run %s through drd at %s: %zu steps on %zu hosts.\n", plan->name.c_str(),
               remoteOptions().server.c_str(), plan->steps.size(), per_host.size());
  for (const auto& [host, count] : per_host) std::fprintf(stderr, "  %-22s %d steps\n", host.c_str(), count);
  std::fprintf(stderr, "%s Type 'yes' to proceed: ",
               plan->name == "replace-member"
                   ? "This replaces the members one at a time, setting their data aside; the others keep serving."
                   : "This stops the API servers and etcd and replaces etcd's data.");
  std::string answer;
  std::getline(std::cin, answer);
  return answer == "yes";
}

}  // namespace

int remotePlan(const RemotePlanArgs& args) {
  const char* who = "drctl plan";
  auto stub = connect(who);
  if (!stub) return kExitBadInput;
  v1::PlanRequest request;
  request.set_inventory(ops::absolutePath(args.inventory));
  request.set_snapshot(snapshotArgument(args.snapshot));
  request.set_plan_template(ops::templateArgument(args.plan_template));
  request.set_format(args.output);
  request.set_run_id(args.run_id);
  request.set_verbose(args.verbose);
  request.set_skip_hash_check(args.skip_hash_check);
  for (const auto& member : args.replace_members) request.add_replace_members(member);
  request.set_disarm_alarms(args.disarm_alarms);
  request.set_members_fetch(args.members_fetch);
  v1::PlanResponse response;
  grpc::ClientContext context;
  setDeadline(context);
  if (grpc::Status status = stub->Plan(&context, request, &response); !status.ok()) return reportError(who, status, context);
  for (const auto& warning : response.warnings()) std::fprintf(stderr, "%s\n", warning.c_str());
  std::fwrite(response.rendered().data(), 1, response.rendered().size(), stdout);
  return std::fflush(stdout) == 0 ? kExitOk : kExitFailed;
}

int remoteApply(const RemoteApplyArgs& args) {
  const char* who = "drctl apply";
  auto format = parseLogFormat(args.log_format);
  if (!format) {
    std::fprintf(stderr, "%s: %s\n", who, format.error().message.c_str());
    return kExitBadInput;
  }
  if (args.per_host < 1) {
    std::fprintf(stderr, "%s: --per-host must be at least 1\n", who);
    return kExitBadInput;
  }
  auto stub = connect(who);
  if (!stub) return kExitBadInput;
  if (!args.dry_run && !args.yes) {
    if (!stdinIsTerminal()) {
      std::fprintf(stderr, "%s: no terminal to confirm on: pass --yes to run without confirmation\n", who);
      return kExitBadInput;
    }
    if (!confirmRemote(*stub, args)) {
      std::fprintf(stderr, "%s: not confirmed; nothing was run\n", who);
      return kExitFailed;
    }
  }
  v1::ApplyRequest request;
  request.set_inventory(ops::absolutePath(args.inventory));
  request.set_snapshot(snapshotArgument(args.snapshot));
  request.set_plan_template(ops::templateArgument(args.plan_template));
  request.set_dry_run(args.dry_run);
  request.set_per_host(args.per_host);
  request.set_accept_new_host_keys(args.accept_new_host_keys);
  request.set_force(args.force);
  request.set_skip_hash_check(args.skip_hash_check);
  for (const auto& member : args.replace_members) request.add_replace_members(member);
  request.set_from_member(args.from_member);
  request.set_disarm_alarms(args.disarm_alarms);
  request.set_members_fetch(args.members_fetch);
  v1::RunStarted started;
  grpc::ClientContext context;
  setDeadline(context, std::chrono::seconds(600));  // a dry-run contacts every host before answering
  if (grpc::Status status = stub->Apply(&context, request, &started); !status.ok()) return reportError(who, status, context);
  printNotes(started);
  if (started.nothing_to_do()) return kExitOk;  // a replacement with every member healthy: nothing was run
  if (args.dry_run) return showDryRun(started, who);
  if (*format == LogFormat::Text) {
    auto plan = planOf(started.plan_json());
    std::fprintf(stderr, "run %s: %zu steps, journal %s/journal (on drd's host)\n", started.run_id().c_str(),
                 plan ? plan->steps.size() : 0, started.run_dir().c_str());
  }
  return followRun(*stub, started, *format, who);
}

int remoteResume(const std::string& run_id, bool force, int per_host, const std::string& log_format) {
  const char* who = "drctl resume";
  auto format = parseLogFormat(log_format);
  if (!format) {
    std::fprintf(stderr, "%s: %s\n", who, format.error().message.c_str());
    return kExitBadInput;
  }
  auto stub = connect(who);
  if (!stub) return kExitBadInput;
  v1::ResumeRequest request;
  request.set_run_id(run_id);
  request.set_force(force);
  request.set_per_host(per_host);
  v1::RunStarted started;
  grpc::ClientContext context;
  setDeadline(context);
  if (grpc::Status status = stub->Resume(&context, request, &started); !status.ok()) return reportError(who, status, context);
  printNotes(started);
  if (started.nothing_to_do()) return kExitOk;
  return followRun(*stub, started, *format, who);
}

int remoteRollback(const std::string& run_id, bool yes, const std::string& log_format) {
  const char* who = "drctl rollback";
  auto format = parseLogFormat(log_format);
  if (!format) {
    std::fprintf(stderr, "%s: %s\n", who, format.error().message.c_str());
    return kExitBadInput;
  }
  if (!yes && !stdinIsTerminal()) {
    std::fprintf(stderr, "%s: no terminal to confirm on: pass --yes to roll back without confirmation\n", who);
    return kExitBadInput;
  }
  if (!yes) {
    std::fprintf(stderr, "Roll back run %s through drd at %s. Type 'yes' to proceed: ", run_id.c_str(),
                 remoteOptions().server.c_str());
    std::string answer;
    std::getline(std::cin, answer);
    if (answer != "yes") {
      std::fprintf(stderr, "%s: not confirmed; nothing was run\n", who);
      return kExitFailed;
    }
  }
  auto stub = connect(who);
  if (!stub) return kExitBadInput;
  v1::RollbackRequest request;
  request.set_run_id(run_id);
  v1::RunStarted started;
  grpc::ClientContext context;
  setDeadline(context);
  if (grpc::Status status = stub->Rollback(&context, request, &started); !status.ok()) return reportError(who, status, context);
  printNotes(started);
  if (started.nothing_to_do()) return kExitOk;
  return followRun(*stub, started, *format, who);
}

int remoteStatus(const std::string& run_id) {
  const char* who = "drctl status";
  auto stub = connect(who);
  if (!stub) return kExitBadInput;
  grpc::ClientContext context;
  setDeadline(context, std::chrono::seconds(30));
  if (run_id.empty()) {
    v1::ListRunsResponse response;
    if (grpc::Status status = stub->ListRuns(&context, {}, &response); !status.ok()) return reportError(who, status, context);
    std::vector<RunStatusRow> rows;
    for (const auto& run : response.runs()) {
      if (!run.error().empty()) {
        std::fprintf(stderr, "%s: %s\n", who, run.error().c_str());
        rows.push_back({run.run_id(), "?", "?", "unreadable (see above)"});
        continue;
      }
      rows.push_back({run.run_id(), run.cluster(), fmt::format("{}/{}", run.done(), run.total()), run.state_text()});
    }
    printRunList(rows, response.runs_dir());
    return kExitOk;
  }
  v1::GetRunRequest request;
  request.set_run_id(run_id);
  v1::Run run;
  if (grpc::Status status = stub->GetRun(&context, request, &run); !status.ok()) return reportError(who, status, context);
  RunStatusView view;
  view.run_id = run.run_id();
  view.cluster = run.cluster();
  view.plan_name = run.plan_name();
  view.fingerprint = run.fingerprint();
  view.state_text = run.state_text();
  view.reason = run.reason();
  view.tail_note = run.tail_note();
  for (const auto& step : run.steps()) {
    view.steps.push_back({step.step_id(), step.host(), step.state(), step.attempts(), step.duration_ms(),
                          step.has_exit_code() ? std::optional<int>(step.exit_code()) : std::nullopt,
                          step.state() == "failed" ? step.message() : "", step.done()});
  }
  view.ended = run.phase() == "finished" || run.phase() == "rolled back";
  view.resume_command = remoteCommand("resume", run.run_id());
  view.rollback_command = remoteCommand("rollback", run.run_id());
  printRunStatus(view);
  return kExitOk;
}

}  // namespace dr::cli
