// The plan templates compiled into the library (plans/*.yaml, embedded at build time by src/plan/CMakeLists.txt
// into builtin_plans.cpp), so drctl finds "full-restore" from any directory.
#pragma once

#include <cstddef>
#include <string_view>

namespace dr::builtin_plans {

struct Entry {
  std::string_view name;  // the file name without .yaml
  std::string_view text;  // the file's bytes
};

extern const Entry kEntries[];
extern const std::size_t kCount;

}  // namespace dr::builtin_plans
