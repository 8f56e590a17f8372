// timeline.svg: a Gantt chart of a run. One lane per host (in plan order); every attempt of a step is a bar from its
// start to its end, coloured by how it ended; a lane grows extra rows when steps overlap on one host. The time axis
// counts seconds from the run's first record, and the RTO window is marked. Each bar has a <title>, so hovering
// shows the step, its state and duration. Plain SVG 1.1 with an inline style sheet: opens in any browser.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/utf8.h"
#include "report/report_format.h"
#include "report/run_report.h"

namespace dr {
namespace {

constexpr double kWidth = 1000, kChartLeft = 200, kChartRight = 980;
constexpr double kTop = 58, kRowHeight = 22, kLanePadding = 6;

struct Bar {
  std::int64_t start = 0, end = 0;
  std::string css;    // state class
  std::string label;  // the step id
  std::string title;  // tooltip
};

// A round tick interval (1, 2 or 5 times a power of ten, in ms) giving at most ten ticks over `span_ms`.
std::int64_t tickInterval(std::int64_t span_ms) {
  for (std::int64_t scale = 1;; scale *= 10) {
    for (std::int64_t base : {1, 2, 5}) {
      if (span_ms / (base * scale) <= 10) return base * scale;
    }
  }
}

std::string num(double value) { return fmt::format("{:.1f}", value); }

std::vector<Bar> barsOf(const RunSummary& s, const StepSummary& step) {
  std::vector<Bar> bars;
  for (const auto& a : step.attempts) {
    Bar bar;
    bar.start = a.start_ms;
    // An attempt nobody saw end (drctl died) is drawn up to the end of its session.
    std::int64_t open_end = s.end_ms;
    if (a.session >= 0 && static_cast<std::size_t>(a.session) < s.sessions.size() && s.sessions[a.session].end_ms) {
      open_end = *s.sessions[a.session].end_ms;
    }
    bar.end = a.end_ms.value_or(std::max(open_end, a.start_ms));
    bar.css = a.end_ms ? (a.ok ? "done" : "failed") : "in_doubt";
    bar.label = step.id;
    bar.title = fmt::format("{} on {}: attempt {} {} in {} s{}", step.id, step.host, a.attempt,
                            a.end_ms ? (a.ok ? "done" : "failed") : "in doubt", formatSeconds(bar.end - bar.start),
                            a.message.empty() ? "" : " — " + a.message);
    bars.push_back(std::move(bar));
  }
  if (step.state == ReportStepState::Skipped && step.end_ms) {
    bars.push_back(Bar{*step.end_ms, *step.end_ms, "skipped", step.id,
                       fmt::format("{} on {}: skipped, {}", step.id, step.host, step.message)});
  }
  if (step.undo && step.undo->state != "skipped") {
    bars.push_back(Bar{step.undo->start_ms, std::max(step.undo->end_ms, step.undo->start_ms), "undo",
                       "undo " + step.id,
                       fmt::format("undo of {} on {}: {} in {} s", step.id, step.host, step.undo->state,
                                   formatSeconds(step.undo->duration_ms))});
  }
  return bars;
}

}  // namespace

std::string renderTimelineSvg(const RunSummary& s) {
  const std::int64_t span = std::max<std::int64_t>(s.end_ms - s.start_ms, 1000);
  const double scale = (kChartRight - kChartLeft) / static_cast<double>(span);
  auto x = [&](std::int64_t ms) { return kChartLeft + static_cast<double>(ms - s.start_ms) * scale; };

  // Lay out each host's bars into rows: a bar goes into the first row where it overlaps nothing.
  struct Lane {
    std::string host;
    std::vector<std::pair<Bar, int>> bars;
    int rows = 1;
  };
  std::vector<Lane> lanes;
  for (const auto& host : s.hosts) {
    Lane lane{host.host, {}, 1};
    std::vector<std::int64_t> row_end;
    std::vector<Bar> bars;
    for (std::size_t i : host.steps) {
      auto more = barsOf(s, s.steps[i]);
      bars.insert(bars.end(), more.begin(), more.end());
    }
    std::stable_sort(bars.begin(), bars.end(), [](const Bar& a, const Bar& b) { return a.start < b.start; });
    for (auto& bar : bars) {
      std::size_t row = 0;
      while (row < row_end.size() && row_end[row] > bar.start) ++row;
      if (row == row_end.size()) row_end.push_back(0);
      row_end[row] = std::max(bar.end, bar.start + 1);
      lane.bars.emplace_back(std::move(bar), static_cast<int>(row));
    }
    lane.rows = std::max<int>(1, static_cast<int>(row_end.size()));
    lanes.push_back(std::move(lane));
  }
  double height = kTop;
  for (const auto& lane : lanes) height += lane.rows * kRowHeight + 2 * kLanePadding;
  const double chart_bottom = height;
  height += 40;  // legend

  std::string out;
  out += fmt::format("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                     "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"{0}\" height=\"{1}\" "
                     "viewBox=\"0 0 {0} {1}\" font-family=\"sans-serif\" font-size=\"11\">\n",
                     num(kWidth), num(height));
  out += "<style>\n"
         ".done{fill:#66bb6a}.failed{fill:#e53935}.skipped{fill:#aed581}.in_doubt{fill:#ffa726}"
         ".undo{fill:#7e57c2}.lane{fill:#f5f5f5}.grid{stroke:#dddddd}.rto{stroke:#1565c0;stroke-dasharray:4 3}"
         ".bar-label{fill:#ffffff;font-size:10px}\n</style>\n";
  const std::string rto_text =
      !s.rto ? "nothing taken down"
             : s.rto->complete ? fmt::format("RTO {} s", formatSeconds(s.rto->ms))
                               : fmt::format("not recovered, down {} s so far", formatSeconds(s.rto->ms));
  out += fmt::format("<title>{}</title>\n", xmlEscape(fmt::format("Run {} — {}", s.run_id, s.outcome)));
  out += fmt::format("<text x=\"10\" y=\"18\" font-size=\"14\" font-weight=\"bold\">{}</text>\n",
                     xmlEscape(fmt::format("{} {} — {} — {}", s.plan_name, s.run_id, s.outcome, rto_text)));

  // Time axis: ticks in seconds from the first record.
  const std::int64_t tick = tickInterval(span);
  for (std::int64_t t = 0; t <= span; t += tick) {
    const double tx = x(s.start_ms + t);
    out += fmt::format("<line class=\"grid\" x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\"/>\n", num(tx), num(kTop - 12),
                       num(chart_bottom));
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}s</text>\n", num(tx), num(kTop - 16),
                       tick % 1000 == 0 ? std::to_string(t / 1000) : formatSeconds(t));
  }

  double y = kTop;
  for (const auto& lane : lanes) {
    const double lane_height = lane.rows * kRowHeight + 2 * kLanePadding;
    out += fmt::format("<rect class=\"lane\" x=\"0\" y=\"{}\" width=\"{}\" height=\"{}\"/>\n", num(y), num(kWidth),
                       num(lane_height - 2));
    out += fmt::format("<text x=\"8\" y=\"{}\" font-weight=\"bold\">{}</text>\n", num(y + kLanePadding + 14),
                       xmlEscape(lane.host.size() > 28 ? std::string(utf8Prefix(lane.host, 27)) + "…" : lane.host));
    for (const auto& [bar, row] : lane.bars) {
      const double bx = x(bar.start);
      const double bw = std::max(2.0, x(bar.end) - bx);
      const double by = y + kLanePadding + row * kRowHeight;
      out += fmt::format("<g><title>{}</title><rect class=\"{}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"2\"/>",
                         xmlEscape(bar.title), bar.css, num(bx), num(by), num(bw), num(kRowHeight - 4));
      // A label only where it fits (about 6 px per character at this size).
      if (bw > 6.0 * static_cast<double>(bar.label.size()) + 6) {
        out += fmt::format("<text class=\"bar-label\" x=\"{}\" y=\"{}\">{}</text>", num(bx + 3), num(by + 13),
                           xmlEscape(bar.label));
      }
      out += "</g>\n";
    }
    y += lane_height;
  }
  if (s.rto) {
    for (std::int64_t at : {s.rto->start_ms, s.rto->end_ms}) {
      out += fmt::format("<line class=\"rto\" x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\"/>\n", num(x(at)),
                         num(kTop - 8), num(chart_bottom));
    }
    out += fmt::format("<text x=\"{}\" y=\"{}\" fill=\"#1565c0\">{}</text>\n", num(x(s.rto->start_ms) + 3),
                       num(kTop - 2), xmlEscape(rto_text));
  }

  // Legend.
  double lx = 10;
  const double ly = chart_bottom + 14;
  for (const auto& [css, text] : std::initializer_list<std::pair<const char*, const char*>>{
           {"done", "done"}, {"failed", "failed"}, {"in_doubt", "in doubt"}, {"skipped", "skipped (already done)"},
           {"undo", "undo"}}) {
    out += fmt::format("<rect class=\"{}\" x=\"{}\" y=\"{}\" width=\"12\" height=\"12\"/>"
                       "<text x=\"{}\" y=\"{}\">{}</text>\n",
                       css, num(lx), num(ly), num(lx + 16), num(ly + 10), text);
    lx += 30 + 6.5 * std::char_traits<char>::length(text);
  }
  out += "</svg>\n";
  return out;
}

}  // namespace dr
