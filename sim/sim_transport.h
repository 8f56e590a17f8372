// The sim transport: the executor's Transport over the simulated world (sim_world.h). A session per host forwards
// each command and upload to the world, which applies it to the model; nothing leaves the process.
#pragma once

#include <memory>

#include "sim/sim_world.h"
#include "transport/transport.h"

namespace dr::sim {

class SimTransport final : public Transport {
 public:
  explicit SimTransport(SimWorld& world) : world_(world) {}
  Result<std::unique_ptr<Session>> connect(const HostTarget& target) override;

 private:
  SimWorld& world_;
};

}  // namespace dr::sim
