// Running scenarios through the real executor and exploring orders, crashes and faults: see explorer.h.
#include "sim/explorer.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <random>
#include <unordered_map>

#include "core/sha256.h"
#include "exec/executor.h"
#include "exec/journal.h"
#include "exec/run_state.h"

namespace dr::sim {

namespace {

constexpr std::uint64_t kValueBits = 42;
constexpr std::uint64_t kValueMask = (std::uint64_t{1} << kValueBits) - 1;
constexpr std::uint64_t kParamShift = 44;
constexpr std::uint64_t kParamMask = (std::uint64_t{1} << 18) - 1;

// The plan's DAG by index: what each step needs.
struct Dag {
  std::vector<std::vector<std::size_t>> needs;
  explicit Dag(const Plan& plan) : needs(plan.steps.size()) {
    std::map<std::string, std::size_t> index;
    for (std::size_t i = 0; i < plan.steps.size(); ++i) index[plan.steps[i].id] = i;
    for (std::size_t i = 0; i < plan.steps.size(); ++i) {
      for (const auto& n : plan.steps[i].needs) {
        if (auto it = index.find(n); it != index.end()) needs[i].push_back(it->second);
      }
    }
  }
  std::vector<bool> ancestors(std::size_t k) const {
    std::vector<bool> seen(needs.size(), false);
    std::vector<std::size_t> stack = {k};
    while (!stack.empty()) {
      const std::size_t s = stack.back();
      stack.pop_back();
      for (std::size_t n : needs[s]) {
        if (!seen[n]) {
          seen[n] = true;
          stack.push_back(n);
        }
      }
    }
    return seen;
  }
};

// Counts the orders (linearizations) of the DAG from a set of done steps, memoized on the set; saturates at
// cap + 1 and gives up (nullopt) when the sets to remember grow past a limit.
class OrderCounter {
 public:
  OrderCounter(const Dag& dag, std::uint64_t cap) : dag_(dag), cap_(cap) {}
  std::optional<std::uint64_t> count(std::vector<bool>& done) {
    if (gave_up_) return std::nullopt;
    std::string key(done.begin(), done.end());
    if (auto it = memo_.find(key); it != memo_.end()) return it->second;
    if (memo_.size() > 200000) {
      gave_up_ = true;
      return std::nullopt;
    }
    std::uint64_t total = 0;
    bool any = false;
    for (std::size_t i = 0; i < done.size(); ++i) {
      if (done[i] || !ready(done, i)) continue;
      any = true;
      done[i] = true;
      auto sub = count(done);
      done[i] = false;
      if (!sub) return std::nullopt;
      total = std::min(cap_ + 1, total + *sub);
    }
    if (!any) total = 1;
    memo_.emplace(std::move(key), total);
    return total;
  }
  bool ready(const std::vector<bool>& done, std::size_t i) const {
    return std::all_of(dag_.needs[i].begin(), dag_.needs[i].end(), [&](std::size_t n) { return done[n]; });
  }

 private:
  const Dag& dag_;
  std::uint64_t cap_;
  bool gave_up_ = false;
  std::unordered_map<std::string, std::uint64_t> memo_;
};

class OrderScheduler final : public StepScheduler {
 public:
  OrderScheduler(const Plan& plan, OrderSpec spec) : dag_(plan), spec_(spec), done_(plan.steps.size(), false) {
    if (spec.kind == OrderKind::Random) rng_.seed(spec.value);
    if (spec.kind == OrderKind::Directed) {
      target_ = static_cast<std::size_t>(spec.value / 2);
      lazy_ = spec.value % 2 == 1;
      if (target_ < plan.steps.size()) ancestors_ = dag_.ancestors(target_);
    }
  }
  std::optional<std::size_t> pick(const std::vector<std::size_t>& ready) override {
    const std::size_t choice = choose(ready);
    done_[ready[choice]] = true;
    return choice;
  }

 private:
  std::size_t choose(const std::vector<std::size_t>& ready) {
    switch (spec_.kind) {
      case OrderKind::Plan: return 0;
      case OrderKind::Random: return static_cast<std::size_t>(rng_() % ready.size());
      case OrderKind::Directed: {
        if (lazy_) {
          for (std::size_t i = 0; i < ready.size(); ++i) {
            if (ready[i] != target_) return i;
          }
          return 0;
        }
        for (std::size_t i = 0; i < ready.size(); ++i) {
          if (ready[i] == target_) return i;
        }
        for (std::size_t i = 0; i < ready.size(); ++i) {
          if (ready[i] < ancestors_.size() && ancestors_[ready[i]]) return i;
        }
        return 0;
      }
      case OrderKind::Ranked: {
        // Unranking: the orders starting with each candidate, in plan order, are counted; the rank falls into one.
        if (!counter_) counter_.emplace(dag_, UINT64_MAX - 1);
        for (std::size_t i = 0; i < ready.size(); ++i) {
          done_[ready[i]] = true;
          const auto n = counter_->count(done_);
          done_[ready[i]] = false;
          if (!n || rank_ < *n) return i;
          rank_ -= *n;
        }
        return 0;
      }
    }
    return 0;
  }

  Dag dag_;
  OrderSpec spec_;
  std::vector<bool> done_;
  std::mt19937_64 rng_;
  std::size_t target_ = 0;
  bool lazy_ = false;
  std::vector<bool> ancestors_;
  std::optional<OrderCounter> counter_;
  std::uint64_t rank_ = spec_.value;
};

const char* orderKindName(OrderKind kind) {
  switch (kind) {
    case OrderKind::Plan: return "plan order";
    case OrderKind::Ranked: return "order #";
    case OrderKind::Random: return "random order, seed ";
    case OrderKind::Directed: return "directed order ";
  }
  return "?";
}

}  // namespace

std::uint64_t Scenario::seed() const {
  std::uint64_t kind = 0, param = 0;
  if (crash) {
    kind = 1;
    param = static_cast<std::uint64_t>(crash->step_number) * 4 + static_cast<std::uint64_t>(crash->phase);
  } else if (fault_step) {
    kind = 2;
    param = *fault_step * 8 + static_cast<std::uint64_t>(fault_kind) * 2 + static_cast<std::uint64_t>(follow);
  }
  return kind << 62 | (param & kParamMask) << kParamShift | static_cast<std::uint64_t>(order.kind) << kValueBits |
         (order.value & kValueMask);
}

Result<Scenario> Scenario::fromSeed(std::uint64_t seed) {
  Scenario s;
  s.order.kind = static_cast<OrderKind>((seed >> kValueBits) & 3);
  s.order.value = seed & kValueMask;
  const std::uint64_t param = (seed >> kParamShift) & kParamMask;
  switch (seed >> 62) {
    case 0:
      if (param != 0) return fail("seed {}: an order seed has no crash or fault bits", formatSeed(seed));
      break;
    case 1:
      if (param % 4 > 2 || param / 4 == 0) return fail("seed {}: not a crash point", formatSeed(seed));
      s.crash = CrashSpec{static_cast<int>(param / 4), static_cast<CrashPhase>(param % 4)};
      break;
    case 2:
      if ((param % 8) / 2 > 2) return fail("seed {}: not a fault", formatSeed(seed));
      s.fault_step = param / 8;
      s.fault_kind = static_cast<FaultKind>((param % 8) / 2);
      s.follow = static_cast<FollowUp>(param % 2);
      break;
    default: return fail("seed {}: unknown scenario kind", formatSeed(seed));
  }
  return s;
}

std::string Scenario::describe(const Plan& plan) const {
  std::string order_text = orderKindName(order.kind);
  if (order.kind == OrderKind::Ranked || order.kind == OrderKind::Random) order_text += std::to_string(order.value);
  if (order.kind == OrderKind::Directed) {
    const std::size_t k = order.value / 2;
    order_text += fmt::format("({} {})", k < plan.steps.size() ? plan.steps[k].id : "?",
                              order.value % 2 ? "as late as possible" : "as early as possible");
  }
  if (crash) {
    return fmt::format("{}; the orchestrator crashes {} step #{} of the run, then resume", order_text,
                       crashPhaseName(crash->phase), crash->step_number);
  }
  if (fault_step) {
    const std::string step = *fault_step < plan.steps.size() ? plan.steps[*fault_step].id : "?";
    return fmt::format("{}; step {} fails ({}), then {}", order_text, step, faultKindName(fault_kind),
                       follow == FollowUp::Resume ? "resume" : "rollback");
  }
  return order_text;
}

std::string formatSeed(std::uint64_t seed) { return fmt::format("0x{:016x}", seed); }

Result<std::uint64_t> parseSeed(const std::string& text) {
  try {
    std::size_t used = 0;
    const std::uint64_t value = std::stoull(text, &used, 0);
    if (used != text.size()) throw std::invalid_argument(text);
    return value;
  } catch (const std::exception&) {
    return fail("'{}' is not a seed (a number such as 0x4000100000000003, as `drctl sim` prints it)", text);
  }
}

Explorer::Explorer(const Plan& plan, ClusterFacts facts) : plan_(plan), facts_(std::move(facts)) {}

std::optional<std::uint64_t> Explorer::countOrders(std::uint64_t bound) const {
  Dag dag(plan_);
  OrderCounter counter(dag, bound);
  std::vector<bool> done(plan_.steps.size(), false);
  auto n = counter.count(done);
  if (!n || *n > bound) return std::nullopt;
  return n;
}

ScenarioResult Explorer::run(const Scenario& scenario) {
  if (!reference_final_ && (scenario.crash || scenario.fault_step)) {
    reference_final_ = runWith(Scenario{}, nullptr).final_state;
  }
  return runWith(scenario, reference_final_ ? &*reference_final_ : nullptr);
}

namespace {

JournalRecord sessionStart(const Plan& plan, const char* mode) {
  JournalRecord r;
  r.type = RecordType::RunStarted;
  r.run_id = "sim";
  r.fingerprint = plan.fingerprint;
  r.mode = mode;
  return r;
}

// The first line where two canonical states differ, for a readable resume-equivalence message.
std::string firstDifference(const std::string& got, const std::string& want) {
  std::size_t a = 0, b = 0;
  while (a < got.size() || b < want.size()) {
    const std::size_t ea = std::min(got.find('\n', a), got.size());
    const std::size_t eb = std::min(want.find('\n', b), want.size());
    const std::string la = got.substr(a, ea - a), lb = want.substr(b, eb - b);
    if (la != lb) return fmt::format("got '{}' where the uninterrupted run has '{}'", la, lb);
    a = ea + 1;
    b = eb + 1;
  }
  return "states differ";
}

}  // namespace

ScenarioResult Explorer::runWith(const Scenario& scenario, const std::string* reference_final) {
  SimWorld world(facts_, plan_);
  SimTransport transport(world);
  SimClock clock;
  ExecutorEnv env;
  for (const auto& step : plan_.steps) {
    HostEndpoint endpoint;
    endpoint.transport = &transport;
    endpoint.target.name = step.host;
    endpoint.target.address = step.host;
    env.hosts.emplace(step.host, endpoint);
  }
  env.clock = &clock;
  env.journal = &world.journal();
  ExecutorOptions options;
  options.retry_backoff = std::chrono::milliseconds(1000);

  world.crash = scenario.crash;
  if (scenario.fault_step && *scenario.fault_step < plan_.steps.size()) {
    world.fault = FaultSpec{plan_.steps[*scenario.fault_step].id, scenario.fault_kind};
  }

  auto runSession = [&](const Plan& plan, const char* label, const char* mode, ExecutionMode exec_mode,
                        const std::map<std::string, StepDirective>& directives) -> std::optional<ExecutionResult> {
    world.beginSession(label, exec_mode == ExecutionMode::Undo, &plan);
    if (Status s = world.journal().append(sessionStart(plan_, mode)); !s) return std::nullopt;
    OrderScheduler scheduler(plan, std::string(mode) == "apply" ? scenario.order : OrderSpec{});
    ExecutorEnv session_env = env;
    session_env.scheduler = &scheduler;
    ExecutorOptions session_options = options;
    session_options.mode = exec_mode;
    Executor executor(plan, session_env, session_options);
    auto result = executor.run(directives);
    if (!result) {
      world.violate(kRecovers, fmt::format("the executor refused the plan: {}", result.error().message));
      return std::nullopt;
    }
    return std::move(result).value();
  };
  // What a resume or rollback reads: the journal's bytes through the real journal code, a torn tail cut off.
  auto readBack = [&]() -> std::optional<JournalSummary> {
    auto contents = parseJournal(world.journalBytes(), "the simulated journal");
    if (!contents) {
      world.violate(kResumeEquivalence, "the journal cannot be read back: " + contents.error().message);
      return std::nullopt;
    }
    world.journalBytes().resize(contents->valid_bytes);
    return summarizeJournal(contents->records, &plan_);
  };
  auto resume = [&] {
    world.fault.reset();
    world.crash.reset();
    auto summary = readBack();
    if (!summary) return;
    auto result = runSession(plan_, "resume", "resume", ExecutionMode::Apply, resumeDirectives(*summary));
    if (!result) return;
    if (result->outcome != RunOutcome::Finished) {
      world.violate(kResumeEquivalence, "the resume did not finish: " + result->reason);
    } else if (reference_final && world.state().canonical() != *reference_final) {
      world.violate(kResumeEquivalence,
                    "the resumed run ends elsewhere: " + firstDifference(world.state().canonical(), *reference_final));
    }
  };
  auto rollback = [&] {
    world.fault.reset();
    auto summary = readBack();
    if (!summary) return;
    RollbackPlan rb = buildRollbackPlan(plan_, *summary);
    auto result = runSession(rb.plan, "rollback", "rollback", ExecutionMode::Undo, rb.directives);
    if (!result) return;
    if (result->outcome != RunOutcome::Finished) {
      world.violate(kHaltIsSafe, "the rollback did not finish: " + result->reason);
    } else if (auto problem = facts_.replacing() ? replaceRolledBackProblem(world.state(), world.initial(), facts_)
                                                 : rolledBackProblem(world.state(), world.initial());
               !problem.empty()) {
      world.violate(kHaltIsSafe, "after the rollback " + problem);
    }
  };

  auto first = runSession(plan_, "apply", "apply", ExecutionMode::Apply, {});
  if (first) {
    if (scenario.crash) {
      if (!world.crashed()) world.note("(the crash point was not reached)");
      resume();
    } else if (scenario.fault_step) {
      if (first->outcome == RunOutcome::Finished) {
        world.violate(kHaltIsSafe, fmt::format("the run finished although {} failed", world.fault->step_id));
      }
      if (scenario.follow == FollowUp::Resume) {
        resume();
      } else {
        rollback();
      }
    } else if (first->outcome != RunOutcome::Finished) {
      world.violate(kRecovers, "the run did not finish: " + first->reason);
    } else if (auto problem = facts_.replacing() ? replacedProblem(world.state(), facts_)
                                                 : recoveredProblem(world.state(), facts_);
               !problem.empty()) {
      world.violate(kRecovers, "the run finished but " + problem);
    }
  }

  ScenarioResult out;
  out.violations = world.violations();
  out.trace = world.trace();
  out.final_state = world.state().canonical();
  out.transitions = world.transitions();
  Sha256 hash;
  for (const auto& line : out.trace) {
    hash.update(line);
    hash.update("\n");
  }
  hash.update(out.final_state);
  out.trace_hash = hash.finishHex();
  return out;
}

ExploreSummary Explorer::explore(const ExploreOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  ExploreSummary summary;
  reference_final_.reset();
  const ScenarioResult reference = runWith(Scenario{}, nullptr);
  reference_final_ = reference.final_state;

  std::map<std::string, FoundViolation> best;
  auto record = [&](const Scenario& scenario, const ScenarioResult& result) {
    ++summary.scenarios;
    summary.transitions += result.transitions;
    for (const auto& v : result.violations) {
      // The trace shown ends with the operation that broke the rule; the shortest one per invariant is kept.
      const std::size_t lines = std::min(v.trace_lines == 0 ? result.trace.size() : v.trace_lines, result.trace.size());
      auto it = best.find(v.invariant);
      if (it == best.end() || lines < it->second.trace.size()) {
        std::vector<std::string> trace(result.trace.begin(), result.trace.begin() + static_cast<std::ptrdiff_t>(lines));
        best[v.invariant] = FoundViolation{v, scenario.seed(), scenario.describe(plan_), std::move(trace)};
      }
    }
    return options.stop_at_first && !best.empty();
  };
  auto runOne = [&](const Scenario& scenario) { return record(scenario, runWith(scenario, &*reference_final_)); };

  // Orders.
  std::vector<OrderSpec> orders;
  summary.orders_total = countOrders(options.exhaustive_bound);
  if (summary.orders_total) {
    summary.exhaustive = true;
    for (std::uint64_t r = 1; r < *summary.orders_total; ++r) orders.push_back({OrderKind::Ranked, r});  // rank 0 is the plan order
  } else {
    orders.push_back({OrderKind::Plan, 0});
    if (options.directed_orders) {
      for (std::size_t k = 0; k < plan_.steps.size(); ++k) {
        orders.push_back({OrderKind::Directed, k * 2});
        orders.push_back({OrderKind::Directed, k * 2 + 1});
        summary.directed += 2;
      }
    }
    std::mt19937_64 master(options.seed);
    for (int i = 0; i < options.random_orders; ++i) orders.push_back({OrderKind::Random, master() & kValueMask});
    summary.random = static_cast<std::uint64_t>(std::max(0, options.random_orders));
  }
  bool stop = record(Scenario{}, reference);
  for (const auto& order : orders) {
    if (stop) break;
    if (order.kind == OrderKind::Plan) continue;  // the reference run
    Scenario s;
    s.order = order;
    stop = runOne(s);
    ++summary.orders;
  }
  ++summary.orders;  // the reference run in plan order

  // Crashes before, during and after every step of the plan-order run.
  if (options.crashes) {
    const int steps = static_cast<int>(plan_.steps.size());
    for (int n = 1; n <= steps && !stop; ++n) {
      for (CrashPhase phase : {CrashPhase::Before, CrashPhase::During, CrashPhase::After}) {
        if (stop) break;
        Scenario s;
        s.crash = CrashSpec{n, phase};
        stop = runOne(s);
        ++summary.crash_points;
      }
    }
  }
  // A failure of every step in every way, then resume, or rollback.
  if (options.faults) {
    for (std::size_t k = 0; k < plan_.steps.size() && !stop; ++k) {
      for (FaultKind kind : {FaultKind::Exit, FaultKind::Unreachable, FaultKind::Timeout}) {
        for (FollowUp follow : {FollowUp::Resume, FollowUp::Rollback}) {
          if (stop) break;
          Scenario s;
          s.fault_step = k;
          s.fault_kind = kind;
          s.follow = follow;
          stop = runOne(s);
          ++summary.faults;
        }
      }
    }
  }
  for (auto& [name, found] : best) summary.violations.push_back(std::move(found));
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return summary;
}

}  // namespace dr::sim
