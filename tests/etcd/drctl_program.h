// The built drctl, run as a program by the etcd tests (the real binary against a real cluster).
#pragma once

#include <string>
#include <vector>

#include "fixtures/etcd_fixture.h"

namespace dr::test {

inline const std::string kDrctl = std::string(DR_BINARY_DIR) + "/orchestrator/drctl";

// drctl ARGS..., waited for; `env` ("NAME=value") is added to the inherited environment.
inline ProgramOutput drctl(std::vector<std::string> args, const std::vector<std::string>& env = {}) {
  args.insert(args.begin(), kDrctl);
  return runProgram(args, env);
}

}  // namespace dr::test
