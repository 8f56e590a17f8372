// A session of a run: the apply that starts it, or a resume or rollback that continues it. Each use case
// (ops/apply.h, ops/resume.h, ops/rollback.h) decides, without touching anything, what the session will run and
// returns a PreparedSession; startSession then takes the cluster lock, makes or reopens the run directory and
// records the session's start in the journal; RunSession::execute runs the plan and releases what the session held.
// drctl and drd both go through these three steps: only what they show differs.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "exec/executor.h"
#include "exec/journal.h"
#include "exec/journal_sink.h"
#include "exec/run_dir.h"
#include "exec/run_lock.h"
#include "inventory/inventory.h"
#include "ops/outcome.h"
#include "ops/snapshot_input.h"
#include "plan/plan.h"

namespace dr::ops {

enum class SessionKind { Apply, Resume, Rollback };

struct PreparedSession {
  SessionKind kind = SessionKind::Apply;
  std::string mode;  // as journaled: apply, resume, resume --force, rollback
  std::filesystem::path runs_root;
  RunInfo info;  // run.json: written by an apply, rewritten by a resume whose plan changed (with --force)
  Inventory inventory;
  Plan plan;  // what the executor runs (a rollback: the rollback plan)
  bool plan_changed = false;  // resume --force: plan.json and run.json get the new plan's fingerprint
  std::map<std::string, StepDirective> directives;
  ExecutorOptions executor;
  std::optional<RunDirectory> dir;     // resume and rollback: the run's directory
  std::vector<JournalRecord> earlier;  // resume and rollback: the journal before this session
  UsableSnapshot snapshot;             // owns the plaintext copy of an encrypted snapshot, if any
  int already_done = 0;                // resume: steps done before this session
  int to_undo = 0;                     // rollback: steps whose undo will (or may) run

  const std::string& runId() const { return info.run_id; }
};

// Everything one session holds while it runs: the cluster lock, the run directory, the journal and the plaintext
// copy. execute() releases them all when the plan ends, in that order (the lock first, so whoever sees the end can
// resume or roll back at once); the destructor releases whatever execute() did not.
class RunSession {
 public:
  struct Hooks {
    ExecutionObserver* observer = nullptr;  // may be null
    // Called with the executor once it exists and with nullptr before it goes, so a signal watcher or an RPC can
    // stop it (Executor::requestStop, cancelInFlight) while it runs.
    std::function<void(Executor*)> attach;
    // Wraps the journal sink (the crash tests kill drctl after the K-th record); null: the journal itself.
    std::function<std::unique_ptr<JournalSink>(JournalSink& journal)> wrap_journal;
    // A run whose members fetch the snapshot from the bucket (RunOptions::members_fetch): the URL each fetches
    // (ExecutorEnv::fetch_url).
    std::function<Result<std::string>(const std::string& source)> fetch_url;
  };

  RunSession(PreparedSession prepared, RunDirectory dir, JournalWriter journal, RunLock lock);
  RunSession(RunSession&&) noexcept;
  RunSession& operator=(RunSession&&) = delete;
  RunSession(const RunSession&) = delete;
  ~RunSession();

  const std::string& runId() const { return prepared_.info.run_id; }
  const RunInfo& info() const { return prepared_.info; }
  const std::string& mode() const { return prepared_.mode; }
  bool undo() const { return prepared_.kind == SessionKind::Rollback; }
  const Plan& plan() const { return prepared_.plan; }
  const RunDirectory& dir() const { return dir_; }
  const std::vector<JournalRecord>& earlierRecords() const { return prepared_.earlier; }

  // Runs the session's plan to its end (finished, failed or stopped), then releases the lock, the journal and the
  // plaintext copy. Call once.
  Result<ExecutionResult> execute(const Hooks& hooks);

 private:
  void release();
  PreparedSession prepared_;
  RunDirectory dir_;
  std::optional<JournalWriter> journal_;
  std::optional<RunLock> lock_;
};

// Takes the cluster lock (a resume or rollback takes over a stale lock of its own run, saying so in a note),
// creates the run directory (apply) or rewrites a changed plan (resume --force), and journals RunStarted.
Outcome<RunSession> startSession(PreparedSession prepared);

// The private place of a run's plaintext snapshot copy: RUNS/.plaintext/RUN_ID.db (the same path every session, so
// the plan, whose upload names it, keeps its fingerprint across a resume; '.' keeps it out of the run list).
std::filesystem::path plaintextPathFor(const std::filesystem::path& runs_root, const std::string& run_id);

// Where a restore from a surviving member keeps the snapshot taken from it: RUNS/.survivor/RUN_ID.db (owner-only).
// Unlike a decrypted copy it cannot be made again (the survivor's etcd is stopped and its data set aside by the run),
// so it stays while the run may resume, and goes when the run finishes or is rolled back.
std::filesystem::path survivorPathFor(const std::filesystem::path& runs_root, const std::string& run_id);

}  // namespace dr::ops
