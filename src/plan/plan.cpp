#include "plan/plan.h"

namespace dr {

const Step* Plan::find(const std::string& id) const {
  for (const auto& step : steps) {
    if (step.id == id) return &step;
  }
  return nullptr;
}

}  // namespace dr
