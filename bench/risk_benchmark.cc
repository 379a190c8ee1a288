// The risk map on a data directory: every unit of every level (districts, towns, communities,
// grids) assessed for one period — the counts from the cube, empirical Bayes global and local for
// the 9 key types, scores, grades, and the previous period's grades for hysteresis — as the
// server computes it after the cube moves. Prints p50/p99 over repeated runs for a month, a
// quarter and a year.
//   build/release/bench/risk_benchmark --data DIR [--period 2024-06] [--runs 30]
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
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
  for (const Period& period : {month, PeriodContaining(PeriodKind::kQuarter, month.last),
                               PeriodContaining(PeriodKind::kYear, month.last)}) {
    std::vector<double> samples;
    for (int run = 0; run < runs; ++run) {
      const auto start = std::chrono::steady_clock::now();
      auto all = (*engine)->AssessAll(cube, period);
      samples.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
      if (!all.ok()) return 1;
    }
    std::sort(samples.begin(), samples.end());
    fmt::print("assess_all_ms period={} p50={:.1f} p99={:.1f}\n", FormatPeriod(period), samples[samples.size() / 2],
               samples[std::min(samples.size() - 1, samples.size() * 99 / 100)]);
  }
  return 0;
}

}  // namespace
}  // namespace pingan

int main(int argc, char** argv) { return pingan::Run(argc, argv); }
