#include "core/diagnostic.h"

#include <algorithm>

#include <fmt/format.h>

namespace dr {

std::string Diagnostic::str() const {
  return fmt::format("{}:{}:{}: {}{}", where.file, where.line, where.column,
                     severity == Severity::Warning ? "warning: " : "", message);
}

bool hasErrors(const std::vector<Diagnostic>& diagnostics) {
  return std::any_of(diagnostics.begin(), diagnostics.end(),
                     [](const Diagnostic& d) { return d.severity == Severity::Error; });
}

}  // namespace dr
