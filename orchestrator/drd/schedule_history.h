// drd's schedule results, kept on disk so they outlive drd: STATE_DIR/schedules/history.jsonl, one result per line
// (protobuf's JSON of ScheduleResult), appended and fsynced before the result is reported anywhere. At start-up drd
// reads it back: each schedule's last result and recent history (ListSchedules) and the metrics derived from them
// (runs, failures, last success, last RTO) are what they were before the restart.
//
// A crash in the middle of an append leaves a torn last line: it is skipped (and said so), never fatal. The file is
// bounded: when it holds more than twice `keep` results, it is rewritten atomically with the newest `keep`.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/file_io.h"
#include "core/result.h"
#include "drd.pb.h"

namespace dr::drd {

class ScheduleHistory {
 public:
  static constexpr std::size_t kDefaultKeep = 5000;

  // Reads the file when it exists (a file that is not a regular file, or bigger than its bound, is an error).
  static Result<std::unique_ptr<ScheduleHistory>> open(const std::filesystem::path& file,
                                                       std::size_t keep = kDefaultKeep);

  // Durable when it returns: appended and fsynced.
  Status append(const v1::ScheduleResult& result);
  // Oldest first.
  std::vector<v1::ScheduleResult> results() const;
  // What reading the file noticed (a torn line skipped, a rewrite).
  const std::vector<std::string>& warnings() const { return warnings_; }
  const std::filesystem::path& file() const { return file_; }

 private:
  ScheduleHistory(std::filesystem::path file, std::size_t keep) : file_(std::move(file)), keep_(keep) {}
  Status rewrite();

  std::filesystem::path file_;
  std::size_t keep_;
  mutable std::mutex mutex_;
  std::vector<v1::ScheduleResult> results_;
  std::vector<std::string> warnings_;
  UniqueFd fd_;  // O_APPEND
};

}  // namespace dr::drd
