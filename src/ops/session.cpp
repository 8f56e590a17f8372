// Starting and running a session of a run (see session.h).
#include "ops/session.h"

#include "exec/run_session.h"
#include "plan/plan_json.h"

namespace dr::ops {

std::filesystem::path plaintextPathFor(const std::filesystem::path& runs_root, const std::string& run_id) {
  return runs_root / ".plaintext" / (run_id + ".db");
}

std::filesystem::path survivorPathFor(const std::filesystem::path& runs_root, const std::string& run_id) {
  return runs_root / ".survivor" / (run_id + ".db");
}

RunSession::RunSession(PreparedSession prepared, RunDirectory dir, JournalWriter journal, RunLock lock)
    : prepared_(std::move(prepared)), dir_(std::move(dir)), journal_(std::move(journal)), lock_(std::move(lock)) {}

RunSession::RunSession(RunSession&& other) noexcept
    : prepared_(std::move(other.prepared_)),
      dir_(std::move(other.dir_)),
      journal_(std::move(other.journal_)),
      lock_(std::move(other.lock_)) {
  other.journal_.reset();
  other.lock_.reset();
}

RunSession::~RunSession() { release(); }

void RunSession::release() {
  lock_.reset();  // RunLock's destructor releases it
  journal_.reset();
  prepared_.snapshot.plaintext.remove();
}

Result<ExecutionResult> RunSession::execute(const Hooks& hooks) {
  if (!journal_) return fail("run {}: this session has already run", runId());
  JournalWriterSink file_sink(*journal_);
  std::unique_ptr<JournalSink> wrapped;
  if (hooks.wrap_journal) wrapped = hooks.wrap_journal(file_sink);
  HostRouting routing(prepared_.inventory, prepared_.info.options.accept_new_host_keys);
  RunExecution execution;
  execution.plan = &prepared_.plan;
  execution.directives = prepared_.directives;
  execution.run_dir = &dir_;
  execution.journal = wrapped ? wrapped.get() : static_cast<JournalSink*>(&file_sink);
  execution.endpoints = routing.endpoints(prepared_.plan);
  execution.options = prepared_.executor;
  execution.observer = hooks.observer;
  execution.attach = hooks.attach;
  execution.fetch_url = hooks.fetch_url;
  auto result = executeRun(execution);
  wrapped.reset();
  // The run is over (restored, or rolled back): the snapshot taken from a survivor, every Secret in plaintext, goes.
  if (result && result->outcome == RunOutcome::Finished && !prepared_.info.options.from_member.empty()) {
    std::error_code ignored;
    std::filesystem::remove(prepared_.info.snapshot_path, ignored);
  }
  release();
  return result;
}

Outcome<RunSession> startSession(PreparedSession prepared) {
  std::vector<std::string> notes;
  std::string took_over;
  const bool new_run = prepared.kind == SessionKind::Apply;
  // A new run that does not start leaves no snapshot taken from a survivor behind.
  PlaintextCopy survivor;
  if (new_run && !prepared.info.options.from_member.empty()) {
    survivor = PlaintextCopy(prepared.info.snapshot_path, false);
  }
  auto lock = new_run ? RunLock::acquire(prepared.runs_root, prepared.info.cluster, prepared.info.run_id)
                      : lockClusterForRun(prepared.runs_root, prepared.info.cluster, prepared.info.run_id, &took_over);
  if (!lock) return Outcome<RunSession>::refused(refuse(RefusalKind::Conflict, lock.error().message));
  if (!took_over.empty()) notes.push_back(took_over);

  std::optional<RunDirectory> dir;
  std::optional<JournalWriter> journal;
  auto failed = [&notes](const Error& error) {
    return Outcome<RunSession>::refused(refuse(RefusalKind::Failed, error.message), notes);
  };
  if (new_run) {
    auto created = createRun(prepared.runs_root, prepared.info, prepared.plan);
    if (!created) return failed(created.error());
    dir.emplace(std::move(created->dir));
    journal.emplace(std::move(created->journal));
  } else {
    dir.emplace(std::move(*prepared.dir));
    prepared.dir.reset();
    if (prepared.plan_changed) {
      prepared.info.fingerprint = prepared.plan.fingerprint;
      Status written = dir->writeFileAtomically("plan.json", planJsonText(prepared.plan));
      if (written) written = dir->writeRunInfo(prepared.info);
      if (!written) return failed(written.error());
    }
    auto opened = startJournalSession(*dir, /*new_run=*/false, prepared.info, prepared.info.fingerprint,
                                      prepared.mode);
    if (!opened) return failed(opened.error());
    journal.emplace(std::move(opened).value());
  }
  Outcome<RunSession> out;
  out.notes = std::move(notes);
  out.value.emplace(std::move(prepared), std::move(*dir), std::move(*journal), std::move(lock).value());
  survivor.keep();
  return out;
}

}  // namespace dr::ops
