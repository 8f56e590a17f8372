// Refusals and their exit codes (see outcome.h).
#include "ops/outcome.h"

namespace dr::ops {

int exitCodeOf(RefusalKind kind) {
  switch (kind) {
    case RefusalKind::BadInput:
    case RefusalKind::NotFound:
    case RefusalKind::InputsChanged:
      return 2;
    case RefusalKind::NothingToDo:
      return 0;
    case RefusalKind::Unsafe:
    case RefusalKind::Conflict:
    case RefusalKind::Failed:
      break;
  }
  return 1;
}

std::vector<std::string> Refusal::lines() const {
  std::vector<std::string> out = diagnostics;
  std::size_t start = 0;
  while (start <= message.size() && !message.empty()) {
    const auto end = message.find('\n', start);
    out.push_back(message.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

Refusal refuse(RefusalKind kind, std::string message, std::vector<std::string> diagnostics) {
  return Refusal{kind, std::move(diagnostics), std::move(message)};
}

}  // namespace dr::ops
