// etcd's alarms after a restore: a snapshot carries the alarms raised when it was taken (NOSPACE most often), and
// a cluster with NOSPACE refuses every write. The full restore's `alarms` step lists them once a leader is elected,
// and disarms them when the operator asked (`drctl etcd alarm list|disarm`); verify-etcd then refuses any left.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "etcd/etcd_client.h"
#include "inventory/inventory.h"

namespace dr {

struct AlarmOptions {
  ClientOptions client;
  bool disarm = false;
  // Keep asking this long while no member answers (a restored cluster electing its leader); 0: one attempt.
  std::chrono::milliseconds wait{0};
  std::chrono::milliseconds interval{200};
};

struct AlarmOutcome {
  bool ok = false;
  std::vector<std::string> raised;    // "NOSPACE on etcd-1", as listed before anything was disarmed
  std::vector<std::string> disarmed;  // the same, once disarmed and listed again as gone
  std::string error;                  // why not ok: nothing answered, a disarm refused, an alarm that came back
  std::string answered_by;            // the endpoint that listed them
};

// Lists the cluster's alarms (an alarm list goes through Raft: an answer means a quorum); with `disarm`, disarms
// each one and lists again to confirm none is left.
AlarmOutcome handleAlarms(const Inventory& inventory, const AlarmOptions& options);

}  // namespace dr
