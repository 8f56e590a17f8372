// Small formatting helpers shared by the report renderers and `drctl report`.
#pragma once

#include <cstdint>
#include <string>

#include "report/run_summary.h"

namespace dr {

std::string formatSeconds(std::int64_t ms);    // "12.345", exact (integer arithmetic: same bytes everywhere)
std::string formatUtc(std::int64_t epoch_ms);  // "2026-11-23T09:15:00.123Z"
std::string stateClass(ReportStepState state);  // "done", "in_doubt", ...: a class name for mermaid and SVG

}  // namespace dr
