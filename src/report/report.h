// The real-time report (平安法治实时报表): pure functions over the cube and the catalog
// (ARCHITECTURE.md `report`, docs/report.md).
//
//   - Report: every indicator and key type for a unit and period, with the same period last
//     year (同比) and the previous period (环比): values, % change, "new" for a zero base, and
//     the exact Poisson test for counts (significance.h);
//   - Series (an indicator over the last N periods) and Breakdown (by sub-unit, with the
//     unplaced remainder, 未落地);
//   - League (平安赛马榜): the district-level units ranked by a weighted composite score;
//   - Bulletin: the report in sentences; Clusters: composition by type, hour, weekday and
//     sub-unit for each domain; Freshness: each source's latest record and whether it went quiet.
//
// "Now" is the latest day holding any record (the data's clock, not the wall clock), so a
// historical data set reads sensibly: a period running past it is reported through that day and
// compared with the same number of days of the comparison periods (`through`, `complete`); an
// indicator fed by a source that went quiet is reported through the source's last day, flagged
// `stale`, so a late feed does not read as a fall of 100%.
//
// Thread-safety: the functions read the cube; callers hold its read lock.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/period.h"
#include "cube/cube.h"

namespace pingan {

struct LeagueWeight {
  size_t indicator = 0;  // Catalog::indicators index
  double weight = 1;
};
struct BulletinFigure {
  size_t column = 0;  // cube column (an indicator or a key type)
  bool value = true;  // say the value
  bool yoy = true;    // and its change on last year
  bool mom = false;   // and on the previous period
  std::string zh, en; // the words used for it (default: the indicator's name)
};

// config/report.toml.
struct ReportSettings {
  double alpha = 0.05;               // significance level of the Poisson test
  int min_quiet_days = 1;            // a source is never called quiet sooner
  double quiet_probability = 0.001;  // silence this unlikely at the source's recent rate is "quiet"
  int recent_days = 90;              // the window the recent rate is measured over
  std::vector<LeagueWeight> league;  // weights of the composite score
  std::vector<BulletinFigure> bulletin;
  size_t cluster_top_units = 5;
};
// Loads CONFIG_DIR/report.toml against the catalog; errors name file, line and key.
absl::StatusOr<ReportSettings> LoadReportSettings(const std::filesystem::path& config_dir, const Catalog& catalog);

struct Change {
  Period period;             // the comparison span (after truncation to the same length)
  double value = 0;
  std::optional<double> change_pct;  // null when the base is 0 and the value is not
  bool is_new = false;               // base 0, value not 0
  std::optional<bool> significant;   // counts only
  double p_value = 1;                // counts only
};

struct ReportLine {
  size_t column = 0;       // cube column
  double value = 0;
  Change yoy;
  std::optional<Change> mom;  // none for year to date
  Day through = 0;            // last day counted (the period's end, or earlier: see above)
  bool stale = false;         // a source feeding it went quiet before the period's end
};

struct SourceFreshness {
  size_t source = 0;
  std::optional<Day> latest;  // its latest record's day
  double daily_rate = 0;      // records per day over the recent window
  int silent_days = 0;        // days from its latest record to the data's latest
  bool quiet = false;
};

struct Report {
  UnitId unit;
  Period period;
  Day through = 0;           // the last day counted (≤ period.last)
  bool complete = true;      // the data reach the period's end
  std::vector<ReportLine> indicators;  // the catalog's indicators, in order
  std::vector<ReportLine> key_types;
  std::vector<SourceFreshness> freshness;
};

// The data's "now": the latest day with any record; nullopt for an empty cube.
std::optional<Day> DataNow(const Cube& cube);
std::vector<SourceFreshness> Freshness(const Cube& cube, const ReportSettings& settings);
Report BuildReport(const Cube& cube, const ReportSettings& settings, UnitId unit, const Period& period);

// Percent change (value - base) / base * 100; nullopt for base 0 and value not 0; 0 for 0 -> 0.
std::optional<double> ChangePct(double value, double base);

struct SeriesPoint {
  Period period;
  double value = 0;
};
// Column `column` over the `count` periods ending with `period` (oldest first).
std::vector<SeriesPoint> Series(const Cube& cube, UnitId unit, size_t column, const Period& period, int count);
// The same for each of `columns` at once (one sum per period for all of them): by column, in
// the order of `columns`.
std::vector<std::vector<SeriesPoint>> SeriesOf(const Cube& cube, UnitId unit, const std::vector<size_t>& columns,
                                               const Period& period, int count);

struct BreakdownRow {
  UnitId unit;        // kNoUnit: the unplaced remainder (未落地)
  double value = 0;
};
// Column `column` of each governance child of `unit` that the cube covers, in code order, then
// the remainder counted at `unit` but on none of them (always present, possibly 0).
std::vector<BreakdownRow> Breakdown(const Cube& cube, UnitId unit, size_t column, const Period& period);

struct LeagueRow {
  UnitId unit;
  double residents = 0;
  std::vector<double> values;      // per weight: the indicator's value
  std::vector<double> rates;       // per weight: per 10,000 residents
  double score = 0;                // composite: higher is better
  int rank = 0;                    // 1 = best
  std::optional<int> previous_rank;  // in the previous period (none for ytd)
  std::optional<int> rank_change;    // previous_rank - rank (positive: moved up)
};
struct League {
  Period period;
  Day through = 0;
  std::vector<LeagueRow> rows;  // by rank
};
// The district-level units of the home city ranked for `period`. Score: the weighted mean over
// the configured indicators of the z-score of the rate per 10,000 residents across the units,
// negated for lower-is-better indicators (docs/report.md).
League BuildLeague(const Cube& cube, const ReportSettings& settings, const Period& period);

// The bulletin: the report in sentences (zh: "2024年6月，全市命案0起，……"; en likewise).
std::string Bulletin(const Cube& cube, const ReportSettings& settings, const Report& report, bool chinese);

struct DomainCluster {
  size_t domain = 0;               // Catalog::domains index
  int64_t events = 0;
  std::vector<std::pair<size_t, int64_t>> by_type;  // (type index, events), largest first
  std::array<int64_t, 24> by_hour{};
  std::array<int64_t, 7> by_weekday{};              // Monday first
  std::vector<std::pair<UnitId, int64_t>> top_units;  // governance children, largest first
};
std::vector<DomainCluster> Clusters(const Cube& cube, const ReportSettings& settings, UnitId unit,
                                    const Period& period);

// Period label for people: zh "2024年6月", en "June 2024".
std::string PeriodLabel(const Period& period, bool chinese);

}  // namespace pingan
