// JournalSink: where the executor writes its step records. The executor appends through this interface and never
// opens files itself, so a test can keep records in memory, a dry-run has no journal at all, and a real run writes
// the run directory's journal (JournalWriter, fsync'd on every append).
#pragma once

#include <mutex>
#include <vector>

#include "core/result.h"
#include "exec/journal.h"

namespace dr {

class JournalSink {
 public:
  virtual ~JournalSink() = default;
  // Durable when it returns ok: the executor starts a dependent step only after its needs' records are appended.
  // Called from several threads.
  virtual Status append(const JournalRecord& record) = 0;
};

// Forwards to a JournalWriter. `*writer` must outlive the sink.
class JournalWriterSink final : public JournalSink {
 public:
  explicit JournalWriterSink(JournalWriter& writer) : writer_(writer) {}
  Status append(const JournalRecord& record) override { return writer_.append(record); }

 private:
  JournalWriter& writer_;
};

// Keeps records in memory (tests, the simulator).
class MemoryJournal final : public JournalSink {
 public:
  Status append(const JournalRecord& record) override {
    std::lock_guard lock(mutex_);
    records_.push_back(record);
    return {};
  }
  std::vector<JournalRecord> records() const {
    std::lock_guard lock(mutex_);
    return records_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<JournalRecord> records_;
};

}  // namespace dr
