// RunManager: drd's runs. It plans, starts, resumes, rolls back and cancels runs kept in STATE_DIR/runs/RUN_ID
// (the layout of drctl's runs directory, so `drctl status --runs STATE_DIR/runs` reads them), each session on a
// thread of its own through the same use cases as drctl (ops/: apply, resume, rollback, the restore gate). Different
// clusters run at once; one cluster has at most one run (the lock). A run left without an end record by a drd that
// died is listed as interrupted and can be resumed.
//
// Its answers are gRPC statuses: the code says what kind of problem it is and the message what is wrong, and the
// binary details hold the exit code `drctl` gives for the same problem.
#pragma once

#include <grpcpp/grpcpp.h>

#include <filesystem>
#include <map>
#include <vector>
#include <memory>
#include <mutex>
#include <string>

#include "drd.pb.h"
#include "drd/event_log.h"
#include "drd/answers.h"
#include "exec/run_session.h"
#include "ops/session.h"
#include "storage/object_store.h"

namespace dr::drd {

class RunManager {
 public:
  // `input_dirs`: the only directories a client's Plan or Apply may name files in (see ops/input_paths.h).
  // `object_store`: where an s3:// snapshot a client names is downloaded from (into STATE_DIR/downloads/) and what
  // members fetching it themselves get presigned URLs of.
  explicit RunManager(std::filesystem::path state_dir, std::vector<std::filesystem::path> input_dirs = {},
                      ObjectStoreConfig object_store = {});
  ~RunManager();  // stops the live runs and waits for them
  RunManager(const RunManager&) = delete;
  RunManager& operator=(const RunManager&) = delete;

  grpc::Status plan(const v1::PlanRequest& request, v1::PlanResponse* response);
  grpc::Status apply(const v1::ApplyRequest& request, v1::RunStarted* response);
  grpc::Status resume(const v1::ResumeRequest& request, v1::RunStarted* response);
  grpc::Status rollback(const v1::RollbackRequest& request, v1::RunStarted* response);
  grpc::Status cancel(const v1::CancelRequest& request, v1::CancelResponse* response);
  grpc::Status listRuns(v1::ListRunsResponse* response);
  grpc::Status getRun(const v1::GetRunRequest& request, v1::Run* response);
  // The log a Watch follows (the live one, or one rebuilt from the journal and closed) and the seq to start at.
  grpc::Status watchLog(const v1::WatchRequest& request, std::shared_ptr<RunEventLog>& log, std::int64_t& from);

  // Stops every live run (nothing new starts; they journal RunHalted with `reason`) and waits for them.
  void stopAll(const std::string& reason);
  // How many runs are in each state ("running", "finished", "failed", "interrupted", ...), for the metrics.
  std::map<std::string, int> runStateCounts();
  const std::filesystem::path& runsDir() const { return runs_dir_; }
  const std::vector<std::filesystem::path>& inputDirs() const { return input_dirs_; }

 private:
  struct Live;
  // Starts the prepared session (lock, run directory, journal) and runs it on a thread of its own; answers with the
  // run id, the plan, the notes and the first event's seq. A refusal to start is the answer instead.
  grpc::Status startSession(ops::Outcome<ops::PreparedSession> prepared, v1::RunStarted* response);
  void runSession(std::shared_ptr<Live> live, std::unique_ptr<ops::RunSession> session);
  bool isLive(const std::string& run_id);
  // Refuses a run that is running in this process now (resume and rollback start a session on an idle run).
  grpc::Status refuseLive(const std::string& run_id);
  void fillRun(const OpenedRun& run, bool with_steps, v1::Run* out);
  // A Plan's or Apply's snapshot as a file: an s3:// URL is downloaded into downloads_dir_ (`note` says so); a file
  // is checked against the input dirs with the inventory and template.
  struct LocalInputs {
    std::string snapshot;
    std::string members_fetch;  // the s3:// URL the members fetch from, when the request asked for it
    std::string note;
  };
  template <typename Request>
  grpc::Status localInputs(const Request& request, LocalInputs& out);

  std::filesystem::path runs_dir_;
  std::vector<std::filesystem::path> input_dirs_;
  ObjectStoreConfig object_store_;
  std::filesystem::path downloads_dir_;
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<Live>> runs_;  // runs this process has run, by id
  bool stopping_ = false;
};

}  // namespace dr::drd
