// `drctl --server ADDRESS plan|apply|resume|rollback|status`: the same commands sent to drd over gRPC. The output and
// the exit codes are the local ones: drd's errors carry the exit code drctl would give (in the status details), the
// live progress comes from drd's Watch stream and is shown by drctl's own progress observers, and the end of a run
// is printed by the same reportRunEnd. Paths are sent absolute and read on drd's host.
#pragma once

#include <string>
#include <vector>

namespace dr::cli {

// The global options that send a command to drd. TCP needs a client certificate (drd requires one) and the CA
// that signs drd's certificate.
struct RemoteOptions {
  std::string server;  // unix:///path or tcp://host:port; empty: run locally
  std::string tls_ca;
  std::string tls_cert;
  std::string tls_key;
  bool active() const { return !server.empty(); }
};
// The process's remote options, filled by main.cpp's parser.
RemoteOptions& remoteOptions();

struct RemotePlanArgs {
  std::string inventory, snapshot, plan_template, output, run_id;
  bool verbose = false;
  bool skip_hash_check = false;
  std::vector<std::string> replace_members;
  bool disarm_alarms = false;
  bool members_fetch = false;
};
int remotePlan(const RemotePlanArgs& args);

struct RemoteApplyArgs {
  std::string inventory, snapshot, plan_template, log_format;
  bool dry_run = false, accept_new_host_keys = false, yes = false, force = false;
  int per_host = 1;
  bool skip_hash_check = false;
  std::vector<std::string> replace_members;
  std::string from_member;
  bool disarm_alarms = false;
  bool members_fetch = false;
};
int remoteApply(const RemoteApplyArgs& args);

int remoteResume(const std::string& run_id, bool force, int per_host, const std::string& log_format);

int remoteRollback(const std::string& run_id, bool yes, const std::string& log_format);

// Without a run id: the list of drd's runs.
int remoteStatus(const std::string& run_id);

}  // namespace dr::cli
