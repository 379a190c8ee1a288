// The risk map on a data directory: every unit of every level (districts, towns, communities,
// grids) assessed for one period — the counts from the cube, empirical Bayes global and local for
// the 9 key types, scores, grades, and the previous period's grades for hysteresis — as the
// server computes it after the cube moves. Prints p50/p99 over repeated runs for a month, a
// quarter and a year: from scratch (the engine's month counts dropped before each run) and after
// a new event (one more event in the period's last month before each run, as a live feed does).
//   build/release/bench/risk_benchmark --data DIR [--period 2024-06] [--runs 30]
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "assess/risk.h"
#include "cli/commands.h"
#include "report/report.h"
#include "report/report_env.h"

namespace pingan {
namespace {

int Run(int argc, char** argv) {
  cli::Context context{.out = &std::cout, .err = &std::cerr};
  std::string period_text;
  int runs = 30;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : std::string(); };
    if (arg == "--data") context.data_dir = value();
    else if (arg == "--period") period_text = value();
    else if (arg == "--runs") runs = std::max(3, std::atoi(value().c_str()));
    else {
      std::cerr << "usage: risk_benchmark --data DIR [--period 2024-06] [--runs N]\n";
      return 2;
    }
  }
  auto config_dir = cli::ResolveConfigDir(context);
  if (!config_dir.ok()) return 1;
  auto env = OpenReportEnv(*config_dir, context.data_dir);
  if (!env.ok()) {
    std::cerr << "risk_benchmark: " << env.status().message() << "\n";
    return 1;
  }
  const Cube& cube = *(*env)->cube;
  auto settings = LoadRiskSettings(*config_dir, (*env)->catalog);
  if (!settings.ok()) return 1;
  const auto created = std::chrono::steady_clock::now();
  auto engine = RiskEngine::Create(cube, *settings);
  if (!engine.ok()) {
    std::cerr << "risk_benchmark: " << engine.status().message() << "\n";
    return 1;
  }
  const double create_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - created).count();
  size_t units = 0;
  for (Level level : RiskEngine::kLevels) units += (*engine)->units(level).size();
  fmt::print("units {} (districts {}, towns {}, communities {}, grids {}); engine created in {:.0f} ms\n", units,
             (*engine)->units(Level::kDistrict).size(), (*engine)->units(Level::kTown).size(),
             (*engine)->units(Level::kCommunity).size(), (*engine)->units(Level::kGrid).size(), create_ms);
  Period month = period_text.empty() ? PeriodContaining(PeriodKind::kMonth, *DataNow(cube)) : *ParsePeriod(period_text);
  // An event of the month, put again under new ids: a feed that goes on while the map is read.
  Cube& live = *(*env)->cube;
  int64_t next_id = static_cast<int64_t>(live.event_states().size());
  std::optional<CubeEvent> sample;
  live.ForEachEvent(live.home_city(), month.first, month.last, [&](int64_t, const CubeEvent& event) {
    if (!sample && event.counted() && event.sums == 0 && event.mask != 0) sample = event;
  });
  if (!sample) {
    std::cerr << "risk_benchmark: no event in " << FormatPeriod(month) << "\n";
    return 1;
  }
  auto percentile = [](std::vector<double> samples, size_t p) {
    std::sort(samples.begin(), samples.end());
    return samples[std::min(samples.size() - 1, samples.size() * p / 100)];
  };
  for (const Period& period : {month, PeriodContaining(PeriodKind::kQuarter, month.last),
                               PeriodContaining(PeriodKind::kYear, month.last)}) {
    // From scratch: the month counts dropped before each run (a server's first map of the
    // period). After a new event: one more event in the period's last month before each run (the
    // server's map after the cube moved: that month is counted again, the others come from the
    // cache).
    for (const bool scratch : {true, false}) {
      std::vector<double> samples;
      for (int run = 0; run < runs; ++run) {
        if (scratch) {
          (*engine)->DropCountCache();
        } else {
          live.PutCompiled(next_id++, *sample, nullptr);
        }
        const auto start = std::chrono::steady_clock::now();
        auto all = (*engine)->AssessAll(live, period);
        samples.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
        if (!all.ok()) return 1;
      }
      fmt::print("assess_all_ms period={} {} p50={:.1f} p99={:.1f}\n", FormatPeriod(period),
                 scratch ? "from_scratch" : "after_new_event", percentile(samples, 50), percentile(samples, 99));
    }
  }
  return 0;
}

}  // namespace
}  // namespace pingan

int main(int argc, char** argv) { return pingan::Run(argc, argv); }
