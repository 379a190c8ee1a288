// The real-time report over the cube on a data directory: start (registry, cube from the snapshot
// or rebuilt), a full rebuild from the store, memory, and per-call latency of the report (33
// indicators + 9 key types, YoY and MoM with their tests), the league table and a breakdown.
//
//   build/release/bench/report_benchmark --data DIR [--unit CODE] [--period 2024-06]
//                                        [--iterations 2000] [--rebuild]
//
// Prints one line per figure; bench/report_sql.sh reads `cube_report_us p50=.. p99=..` and puts
// it beside PostgreSQL and SQLite answering the same report by SQL.
#include "core/huge_pages.h"
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli/commands.h"
#include "report/report_env.h"
#include "report/report.h"
#include "report/report_json.h"

namespace pingan {
namespace {

using Clock = std::chrono::steady_clock;

double Micros(Clock::time_point start) {
  return std::chrono::duration<double, std::micro>(Clock::now() - start).count();
}

struct Percentiles {
  double p50 = 0, p99 = 0, max = 0;
};
Percentiles Summarise(std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  if (samples.empty()) return {};
  auto at = [&](double q) { return samples[std::min(samples.size() - 1, static_cast<size_t>(q * samples.size()))]; };
  return {at(0.50), at(0.99), samples.back()};
}

int Run(int argc, char** argv) {
  cli::Context context{.out = &std::cout, .err = &std::cerr};
  std::string unit_text, period_text;
  int iterations = 2000;
  bool rebuild = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : std::string(); };
    if (arg == "--data") context.data_dir = value();
    else if (arg == "--unit") unit_text = value();
    else if (arg == "--period") period_text = value();
    else if (arg == "--iterations") iterations = std::max(10, std::atoi(value().c_str()));
    else if (arg == "--rebuild") rebuild = true;
    else {
      std::cerr << "usage: report_benchmark --data DIR [--unit CODE] [--period P] [--iterations N] [--rebuild]\n";
      return 2;
    }
  }
  // Start as a server would: registry, then the cube from its snapshot plus the changes since.
  auto start = Clock::now();
  auto config_dir = cli::ResolveConfigDir(context);
  if (!config_dir.ok()) {
    std::cerr << "report_benchmark: " << config_dir.status().message() << "\n";
    return 1;
  }
  auto opened = OpenReportEnv(*config_dir, context.data_dir, /*rebuild=*/false);
  if (!opened.ok()) {
    std::cerr << "report_benchmark: " << opened.status().message() << "\n";
    return 1;
  }
  const double start_ms = Micros(start) / 1000;
  const ReportEnv& env = **opened;
  const Cube& cube = *env.cube;
  fmt::print("events {}\n", cube.events());
  fmt::print("start_ms {:.0f} (registry {:.0f} and, alongside, snapshot read {:.0f}; then cube adopt {:.0f}, "
             "catch-up {:.0f}, rebuild {:.0f}; from snapshot: {})\n",
             start_ms, env.registry_ms, env.snapshot_read_ms, env.stats.restore_ms, env.stats.catch_up_ms,
             env.stats.rebuild_ms, env.stats.from_snapshot ? "yes" : "no");
  fmt::print("cube_memory_mb {:.0f}\n", static_cast<double>(cube.MemoryBytes()) / 1e6);
  if (rebuild) {
    auto again = OpenReportEnv(*config_dir, context.data_dir, /*rebuild=*/true);
    if (!again.ok()) return 1;
    fmt::print("rebuild_ms {:.0f}\n", (*again)->stats.rebuild_ms);
  }

  UnitId unit = cube.home_city();
  if (!unit_text.empty()) {
    auto code = AddressCode::ParsePrefix(unit_text);
    std::optional<UnitId> found = code.ok() ? env.registry->Find(*code) : std::nullopt;
    if (!found || !cube.Covers(*found)) {
      std::cerr << "report_benchmark: --unit " << unit_text << " is not a unit of the cube\n";
      return 2;
    }
    unit = *found;
  }
  const std::optional<Day> now = DataNow(cube);
  if (!now) {
    std::cerr << "report_benchmark: no events\n";
    return 1;
  }
  Period period = PeriodContaining(PeriodKind::kMonth, *now);
  if (!period_text.empty()) {
    auto parsed = ParsePeriod(period_text);
    if (!parsed.ok()) {
      std::cerr << "report_benchmark: " << parsed.status().message() << "\n";
      return 2;
    }
    period = *parsed;
  }

  // The named report, repeatedly.
  std::vector<double> samples;
  double checksum = 0;
  for (int i = 0; i < iterations; ++i) {
    auto t = Clock::now();
    const Report report = BuildReport(cube, env.settings, unit, period);
    samples.push_back(Micros(t));
    checksum += report.indicators[0].value;
  }
  Percentiles named = Summarise(samples);
  fmt::print("cube_report_us p50={:.1f} p99={:.1f} max={:.1f} ({} {} x{})\n", named.p50, named.p99, named.max,
             env.registry->code(unit).ToString(), FormatPeriod(period), iterations);

  // Any unit and period: random units of every cube level, random kinds of period.
  std::vector<UnitId> units{cube.home_city()};
  for (Level level : {Level::kDistrict, Level::kTown, Level::kCommunity, Level::kGrid}) {
    for (UnitId id : env.registry->Descendants(cube.home_city(), level)) units.push_back(id);
  }
  std::mt19937_64 rng(1);
  const auto [first_day, last_day] = cube.DayRange();
  const PeriodKind kinds[] = {PeriodKind::kDay, PeriodKind::kWeek, PeriodKind::kMonth, PeriodKind::kQuarter,
                              PeriodKind::kYear};
  samples.clear();
  std::vector<double> by_kind[5];
  for (int i = 0; i < iterations; ++i) {
    const UnitId any = units[rng() % units.size()];
    const int kind = static_cast<int>(rng() % 5);
    const Day day = first_day + static_cast<Day>(rng() % static_cast<uint64_t>(last_day - first_day + 1));
    const Period p = PeriodContaining(kinds[kind], day);
    auto t = Clock::now();
    const Report report = BuildReport(cube, env.settings, any, p);
    const double us = Micros(t);
    samples.push_back(us);
    by_kind[kind].push_back(us);
    checksum += report.indicators[0].value;
  }
  Percentiles any = Summarise(samples);
  fmt::print("cube_report_any_us p50={:.1f} p99={:.1f} max={:.1f} (random unit of {} and period, x{})\n", any.p50,
             any.p99, any.max, units.size(), iterations);
  const char* names[] = {"day", "week", "month", "quarter", "year"};
  for (int kind = 0; kind < 5; ++kind) {
    Percentiles k = Summarise(by_kind[kind]);
    fmt::print("  {:<8} p50={:.1f} p99={:.1f}\n", names[kind], k.p50, k.p99);
  }

  // League table and a breakdown.
  samples.clear();
  for (int i = 0; i < std::max(10, iterations / 10); ++i) {
    auto t = Clock::now();
    const League league = BuildLeague(cube, env.settings, period);
    samples.push_back(Micros(t));
    checksum += league.rows.empty() ? 0 : league.rows[0].score;
  }
  Percentiles league = Summarise(samples);
  fmt::print("cube_league_us p50={:.1f} p99={:.1f}\n", league.p50, league.p99);
  samples.clear();
  for (int i = 0; i < std::max(10, iterations / 10); ++i) {
    auto t = Clock::now();
    const auto rows = Breakdown(cube, cube.home_city(), 0, period);
    samples.push_back(Micros(t));
    checksum += rows.back().value;
  }
  Percentiles breakdown = Summarise(samples);
  fmt::print("cube_breakdown_us p50={:.1f} p99={:.1f} (the city by district)\n", breakdown.p50, breakdown.p99);

  // The named report's figures, for comparison with bench/report_sql.sh's CSV.
  const Report report = BuildReport(cube, env.settings, unit, period);
  std::string csv = "indicator,current,yoy,mom\n";
  for (const ReportLine& line : report.indicators) {
    csv += fmt::format("{},{},{},{}\n", ColumnId(cube, line.column), line.value, line.yoy.value,
                       line.mom ? line.mom->value : 0.0);
  }
  if (const char* out = std::getenv("PINGAN_REPORT_CSV")) {
    if (FILE* file = std::fopen(out, "w")) {
      std::fputs(csv.c_str(), file);
      std::fclose(file);
    }
  }
  fmt::print("checksum {}\n", checksum);
  return 0;
}

}  // namespace
}  // namespace pingan

int main(int argc, char** argv) {
  pingan::UseHugePagesForHeap(argv);  // as the pingan binary does
  return pingan::Run(argc, argv);
}
