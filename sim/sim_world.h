// The simulated world: the cluster model a plan's commands act on. Each command is matched to its step (by the
// step id the executor passes), read (script.h) and applied to the model (model.h) while the invariant monitor
// watches. The same world injects the simulator's faults (a step fails: non-zero exit, host unreachable, timeout
// after its effect) and crashes of the orchestrator (before, during or after a step), and keeps the journal's
// bytes, written with the real journal encoding so that a resume reads them back with the real journal code.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "exec/clock.h"
#include "exec/journal_sink.h"
#include "plan/plan.h"
#include "sim/invariants.h"
#include "sim/model.h"
#include "transport/transport.h"

namespace dr::sim {

enum class FaultKind { Exit = 0, Unreachable = 1, Timeout = 2 };
const char* faultKindName(FaultKind kind);

struct FaultSpec {
  std::string step_id;
  FaultKind kind = FaultKind::Exit;
};

// Where the orchestrator dies: at the step_number-th step start of the session (1-based), before its command runs
// (its start record is durable), during it (the command took effect, its end record is torn), or after it (its
// end record is durable).
enum class CrashPhase { Before = 0, During = 1, After = 2 };
const char* crashPhaseName(CrashPhase phase);
struct CrashSpec {
  int step_number = 1;
  CrashPhase phase = CrashPhase::Before;
};

// The simulated world: model state, invariant monitor, faults, crash, trace and journal bytes. One per scenario.
class SimWorld {
 public:
  SimWorld(ClusterFacts facts, const Plan& plan);

  // Set up the next session (the apply, a resume, a rollback).
  void beginSession(const std::string& label, bool undo, const Plan* session_plan);

  const ClusterFacts& facts() const { return facts_; }
  ModelState& state() { return state_; }
  const ModelState& initial() const { return initial_; }
  const std::vector<Violation>& violations() const { return violations_; }
  const std::vector<std::string>& trace() const { return trace_; }
  void note(const std::string& line) { trace_.push_back(line); }
  void violate(const char* invariant, const std::string& detail);
  std::uint64_t transitions() const { return transitions_; }

  std::optional<FaultSpec> fault;
  std::optional<CrashSpec> crash;
  bool crashed() const { return crashed_; }

  // The journal: records appended by the executor (through journal()), as the bytes JournalWriter would write.
  JournalSink& journal() { return journal_; }
  std::string& journalBytes() { return journal_.bytes; }

  // Transport entry points (SimSession forwards here).
  Result<CommandResult> run(const std::string& host, const CommandRequest& request);
  Status upload(const std::string& host, const UploadRequest& request);

 private:
  struct Journal final : JournalSink {
    SimWorld* world = nullptr;
    std::string bytes;
    Status append(const JournalRecord& record) override;
  };

  CommandResult interpret(const std::string& host, const Step& step, CommandPurpose purpose,
                          const std::string& command);
  int check(HostModel& h, const Step& step);
  int applyScript(HostModel& h, const Step& step, const std::string& command, std::string& output);
  int restore(HostModel& h, const Step& step, const struct RestoreCall& call, std::string& output);
  void stopApi(HostModel& h, const Step& step);
  void startApi(HostModel& h, const Step& step);
  void stopEtcd(HostModel& h, const Step& step);
  int startEtcd(HostModel& h, const Step& step, std::string& output);
  int verifyEtcd(const Step& step, bool waits, std::string& output);
  // replace-member's operations
  HostModel* memberHost(const std::string& member);
  void fence(HostModel& h, const Step& step);
  int memberRemove(const Step& step, std::string& output);
  int memberAdd(const Step& step, std::string& output);
  int joinEtcd(HostModel& h, const Step& step, std::string& output);
  int memberPromote(const Step& step, std::string& output);
  int verifyReplacement(const Step& step, std::string& output);
  void requireAllPreflights(const HostModel& h, const Step& step, const char* what);
  void requireAllLocked(const std::string& host, const Step& step);
  void lock(HostModel& h, const Step& step);
  void unlock(HostModel& h, const Step& step);
  void afterOperation(const Step& step);
  bool anyApiRunning(std::string* which = nullptr) const;
  // Controller managers, schedulers and kubelets: the component a step is about (its key is the step's instance),
  // what one started now would cache, and starting one.
  ComponentModel* componentOf(HostModel& h, const Step& step);
  CacheOf servedNow() const;
  void startComponent(ComponentModel& c);
  bool anyEtcdRunning(std::string* which = nullptr) const;
  std::string where(const Step& step) const;

  ClusterFacts facts_;
  const Plan& plan_;
  const Plan* session_plan_ = nullptr;
  ModelState state_;
  ModelState initial_;
  std::vector<Violation> violations_;
  std::vector<std::string> trace_;
  std::uint64_t transitions_ = 0;
  bool undo_ = false;
  std::string failed_step_;  // the step that failed in this session (halt-is-safe)
  std::string first_token_;  // of the first restore in the scenario (same-snapshot-same-token)
  bool crashed_ = false;
  bool torn_pending_ = false;
  int started_ = 0;  // StepStarted records in this session
  Journal journal_;
};

// Virtual time: every reading advances it by 1 ms, sleeping advances it by the duration; nothing waits.
class SimClock final : public Clock {
 public:
  std::int64_t wallMs() override { return kEpochMs + (ticks_ += 1); }
  std::chrono::steady_clock::time_point now() override {
    return std::chrono::steady_clock::time_point(std::chrono::milliseconds(ticks_ += 1));
  }
  void sleepFor(std::chrono::milliseconds duration) override { ticks_ += duration.count(); }

 private:
  static constexpr std::int64_t kEpochMs = 1'800'000'000'000;
  std::int64_t ticks_ = 0;
};

}  // namespace dr::sim
