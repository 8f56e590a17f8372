// How drctl shows a run's progress: a live view when stderr is a terminal and the format is text, plain log lines
// otherwise, one JSON object per event on stdout for --log-format json. Used for local runs and for runs in drd
// (`drctl --server`), whose events arrive over Watch.
#pragma once

#include <memory>
#include <string>

#include "core/result.h"
#include "exec/execution_observer.h"
#include "plan/plan.h"

namespace dr::cli {

enum class LogFormat { Text, Json };
Result<LogFormat> parseLogFormat(const std::string& text);

std::unique_ptr<ExecutionObserver> makeProgressObserver(LogFormat format, const Plan& plan);

// One JSON object as a line on stdout (flushed): invalid UTF-8 in any string is replaced, never an abort.
void printJsonLine(const std::string& json_text);

}  // namespace dr::cli
