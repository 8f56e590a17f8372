// The executor's Transport over the simulated world (see sim_transport.h).
#include "sim/sim_transport.h"

namespace dr::sim {

namespace {

class SimSession final : public Session {
 public:
  SimSession(SimWorld& world, std::string host) : world_(world), host_(std::move(host)) {}
  Result<CommandResult> run(const CommandRequest& request) override { return world_.run(host_, request); }
  Status upload(const UploadRequest& request) override { return world_.upload(host_, request); }
  Result<std::string> readFile(const std::string& path, std::size_t) override {
    return fail("{}: the simulator has no file contents ({})", host_, path);
  }

 private:
  SimWorld& world_;
  std::string host_;
};

}  // namespace

Result<std::unique_ptr<Session>> SimTransport::connect(const HostTarget& target) {
  if (world_.crashed()) return fail("the orchestrator crashed");
  return std::unique_ptr<Session>(std::make_unique<SimSession>(world_, target.name));
}

}  // namespace dr::sim
