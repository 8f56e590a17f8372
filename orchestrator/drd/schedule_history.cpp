// See schedule_history.h.
#include "drd/schedule_history.h"

#include <fcntl.h>
#include <google/protobuf/util/json_util.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace dr::drd {

namespace {

namespace fs = std::filesystem;

std::string toJsonLine(const v1::ScheduleResult& result) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string line;
  (void)google::protobuf::util::MessageToJsonString(result, &line, options);
  return line + "\n";
}

Status writeAll(int fd, std::string_view bytes, const fs::path& file) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail("{}: cannot write: {}", file.string(), std::strerror(errno));
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

}  // namespace

Result<std::unique_ptr<ScheduleHistory>> ScheduleHistory::open(const fs::path& file, std::size_t keep) {
  std::unique_ptr<ScheduleHistory> history(new ScheduleHistory(file, keep));
  std::error_code ec;
  fs::create_directories(file.parent_path(), ec);
  if (ec) return fail("{}: cannot create: {}", file.parent_path().string(), ec.message());
  if (fs::exists(fs::symlink_status(file, ec))) {
    auto text = readRegularFile(file, kMaxRunFileBytes, "schedule history");
    if (!text) return text.error();
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = true;  // a history written by a newer drd
    std::size_t line_number = 0;
    std::string_view rest = *text;
    while (!rest.empty()) {
      const std::size_t end = rest.find('\n');
      const std::string_view line = rest.substr(0, end);
      rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
      ++line_number;
      if (line.empty()) continue;
      v1::ScheduleResult result;
      const auto parsed = google::protobuf::util::JsonStringToMessage(std::string(line), &result, options);
      if (!parsed.ok() || end == std::string_view::npos) {
        // The last line without its newline is an append a crash cut short, whatever it parses as.
        history->warnings_.push_back(fmt::format("{}:{}: {} skipped", file.string(), line_number,
                                                 end == std::string_view::npos ? "a torn last result (drd stopped "
                                                                                 "while writing it)"
                                                                               : "an unreadable result"));
        continue;
      }
      history->results_.push_back(std::move(result));
    }
    if (!history->warnings_.empty() || history->results_.size() > 2 * keep) {
      if (history->results_.size() > keep) {
        history->results_.erase(history->results_.begin(),
                                history->results_.end() - static_cast<std::ptrdiff_t>(keep));
      }
      if (auto rewritten = history->rewrite(); !rewritten) return rewritten.error();
    }
  }
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return fail("{}: cannot open for appending: {}", file.string(), std::strerror(errno));
  history->fd_ = UniqueFd(fd);
  return history;
}

Status ScheduleHistory::rewrite() {
  std::string text;
  for (const auto& result : results_) text += toJsonLine(result);
  return writeFileAtomically(file_, text);
}

Status ScheduleHistory::append(const v1::ScheduleResult& result) {
  std::lock_guard lock(mutex_);
  if (auto written = writeAll(fd_.get(), toJsonLine(result), file_); !written) return written;
  if (::fsync(fd_.get()) != 0) return fail("{}: cannot fsync: {}", file_.string(), std::strerror(errno));
  results_.push_back(result);
  if (results_.size() > 2 * keep_) {
    results_.erase(results_.begin(), results_.end() - static_cast<std::ptrdiff_t>(keep_));
    if (auto rewritten = rewrite(); !rewritten) return rewritten;
    // The rename replaced the file the descriptor appends to: reopen the new one.
    const int fd = ::open(file_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return fail("{}: cannot reopen: {}", file_.string(), std::strerror(errno));
    fd_ = UniqueFd(fd);
  }
  return {};
}

std::vector<v1::ScheduleResult> ScheduleHistory::results() const {
  std::lock_guard lock(mutex_);
  return results_;
}

}  // namespace dr::drd
