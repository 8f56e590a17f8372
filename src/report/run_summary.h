// RunSummary: what happened in one run, computed from its plan and its journal alone. It is the single source the
// report files (report.json, report.md, junit.xml, timeline.svg; see run_report.h) are drawn from, so they never
// disagree. Pure: summarizeRun reads nothing from disk and depends on nothing but its inputs, so the same plan and
// journal always give the same summary (tests compare outputs byte for byte).
//
// A run may span several sessions of drctl (apply, then resume after a halt or a kill -9, then maybe rollback):
// the journal holds them all, each opened by a RunStarted record. A step's final state is the state its last
// record says; its attempts are counted over every session.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "exec/journal.h"
#include "plan/plan.h"

namespace dr {

// Where a step ended up. Names in report.json are the kebab-case spellings of stepStateLabel.
enum class ReportStepState {
  Done,        // its last attempt finished with success
  Failed,      // its last attempt failed (and nothing later ran it again)
  Skipped,     // a resume found it already done (its check passed) and did not run it
  InDoubt,     // it started and no record says how it ended (drctl died mid-step)
  NotStarted,  // no record of it at all
};
const char* stepStateLabel(ReportStepState state);  // "done", "failed", "skipped", "in-doubt", "not-started"

// One try of a step: a StepStarted and the record that ended it (none when drctl died in between).
struct AttemptSummary {
  int session = 0;  // index into RunSummary::sessions
  int attempt = 0;  // as journaled (restarts at 1 in each session)
  std::int64_t start_ms = 0;
  std::optional<std::int64_t> end_ms;  // time of the ending record
  std::int64_t duration_ms = 0;        // as journaled by the executor (0 while unknown)
  std::optional<int> exit_code;
  bool ok = false;
  std::string output_sha256;
  std::string message;
};

// The undo of a step during a rollback.
struct UndoSummary {
  std::string state;  // "done", "failed", "skipped", "in-doubt"
  std::int64_t start_ms = 0;
  std::int64_t end_ms = 0;
  std::int64_t duration_ms = 0;
  std::optional<int> exit_code;
  std::string message;
};

struct StepSummary {
  std::string id;
  std::string action;
  std::string host;
  std::string member;
  std::string description;
  std::vector<std::string> needs;
  ReportStepState state = ReportStepState::NotStarted;
  std::vector<AttemptSummary> attempts;
  std::optional<std::int64_t> start_ms;  // the first attempt's start (or the skip record's time)
  std::optional<std::int64_t> end_ms;    // the last record's time
  std::int64_t duration_ms = 0;          // the last attempt's duration
  std::int64_t total_ms = 0;             // every attempt's duration added up
  std::optional<int> exit_code;          // of the last attempt (or of the check that skipped it)
  std::string output_sha256;             // of the last attempt's output
  std::string message;                   // why it failed or was skipped
  std::optional<UndoSummary> undo;
  std::string output_tail;  // filled by attachOutputTails from the step's log; empty otherwise
};

// One invocation of drctl on this run: from a RunStarted to its end record (or to the journal's end).
struct SessionSummary {
  std::string mode;  // "apply", "resume", "rollback", ... as journaled
  std::int64_t start_ms = 0;
  std::optional<std::int64_t> end_ms;
  std::string end;  // "finished", "halted", "rollback-finished", or "none" (drctl died, or still running)
  std::string message;
  std::string fingerprint;
};

struct HostTimeline {
  std::string host;
  std::vector<std::size_t> steps;  // indices into RunSummary::steps, in plan order
  int done = 0, failed = 0, skipped = 0, in_doubt = 0, not_started = 0;
  std::optional<std::int64_t> start_ms, end_ms;
};

// Recovery time: from the start of the first step that took anything down (stop-apiserver or stop-etcd) until
// verify-apiserver finished (or, in a plan without one, the last step). While the service is not back (the run
// failed, halted or is still going) `complete` is false and `ms` is the outage so far, until the last record.
struct RtoSummary {
  bool complete = false;
  std::string start_step, end_step;
  std::int64_t start_ms = 0, end_ms = 0, ms = 0;
};

struct RunSummary {
  std::string run_id;
  std::string cluster;
  std::string plan_name;
  std::string fingerprint;  // the plan's
  bool fingerprint_mismatch = false;  // some session ran under another fingerprint (resume --force)
  // "succeeded", "failed", "halted" (stopped without a failed step), "incomplete" (no end record: drctl died or
  // is running), "rolled-back", "rollback-failed", "not-started" (an empty journal).
  std::string outcome;
  std::string reason;  // the last end record's message
  std::int64_t start_ms = 0;  // the first record's time: offsets in the report count from here
  std::int64_t end_ms = 0;    // the last record's time
  std::vector<SessionSummary> sessions;
  std::vector<StepSummary> steps;  // in plan order
  std::vector<HostTimeline> hosts;  // in order of each host's first step in the plan
  std::optional<RtoSummary> rto;    // none when nothing was taken down
  std::size_t records = 0;
  bool torn_tail = false;
  std::string tail_note;
  // Journal records naming a step the plan does not have: counted and shown, never trusted.
  std::vector<std::string> unknown_steps;

  const StepSummary* find(std::string_view id) const;
  int count(ReportStepState state) const;
};

// `run_id` and `cluster` are left empty: the caller knows them (writeRunReport fills them from the run directory).
RunSummary summarizeRun(const Plan& plan, const JournalContents& journal);

// The last attempt's section of a step log (the executor writes "--- STEP attempt N on HOST ---" before each
// attempt), cut to its last `max_lines` lines and `max_bytes` bytes. The result is valid UTF-8 without control
// characters other than newline and tab, so every renderer can embed it after its own escaping.
std::string logTail(std::string_view log, std::string_view step_id, std::size_t max_lines = 20,
                    std::size_t max_bytes = 4096);

// Valid UTF-8: every malformed byte and every control character except '\n' and '\t' becomes U+FFFD; "\r\n" is
// "\n". Keeps XML, SVG and Markdown outputs well-formed whatever a command printed.
std::string sanitizeText(std::string_view text);

}  // namespace dr
