// Diagnostic: one problem found in a user's file, with the place it was found. Validation collects every
// diagnostic at once instead of stopping at the first, so the operator fixes a file in one pass.
#pragma once

#include <string>
#include <vector>

namespace dr {

// 1-based line and column, as editors and compilers show them; 0 means unknown.
struct SourceLocation {
  std::string file;
  int line = 0;
  int column = 0;
};

enum class Severity { Error, Warning };

struct Diagnostic {
  Severity severity = Severity::Error;
  SourceLocation where;
  std::string message;

  // "FILE:LINE:COLUMN: message" for errors and "FILE:LINE:COLUMN: warning: message" for warnings
  // (the contract of `drctl validate`, see docs/design.md).
  std::string str() const;
};

bool hasErrors(const std::vector<Diagnostic>& diagnostics);

}  // namespace dr
