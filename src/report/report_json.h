// The report's outputs: JSON (as `pingan report --json` and GET /api/report answer) and tables
// for CSV and XLSX export (export.h). Labels in Chinese or English.
//
// Report JSON:
//   {"unit","unit_name","period","kind","first","last","through","complete",
//    "indicators":[{"id","zh","en","unit","value","yoy":{"period","value","change_pct","new",
//                   "significant","p_value"},"mom":{...}|null,"through","stale"}],   // the 33
//    "key_types":[...], "freshness":[{"source","latest","silent_days","daily_rate","quiet"}]}
// change_pct is in percent (−54.41), null with "new": true when the base is 0; significant is
// null for sums of money; mom is null for year to date.
//
// Thread-safety: pure functions; callers hold the cube's read lock.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "report/export.h"
#include "report/report.h"

namespace pingan {

std::string DayText(Day day);  // 2024-06-15

nlohmann::ordered_json ReportJson(const Cube& cube, const Report& report);
nlohmann::ordered_json FreshnessJson(const Cube& cube, const std::vector<SourceFreshness>& freshness);
nlohmann::ordered_json SeriesJson(const Cube& cube, UnitId unit, size_t column, const std::vector<SeriesPoint>& points);
nlohmann::ordered_json BreakdownJson(const Cube& cube, UnitId unit, size_t column, const Period& period,
                                     const std::vector<BreakdownRow>& rows);
nlohmann::ordered_json LeagueJson(const Cube& cube, const ReportSettings& settings, const League& league);
nlohmann::ordered_json ClustersJson(const Cube& cube, UnitId unit, const Period& period,
                                    const std::vector<DomainCluster>& clusters);

// Tables for export: one row per indicator (report), per period (series), per unit (league).
Table ReportTable(const Cube& cube, const Report& report, bool chinese);
Table SeriesTable(const Cube& cube, UnitId unit, size_t column, const std::vector<SeriesPoint>& points, bool chinese);
Table LeagueTable(const Cube& cube, const ReportSettings& settings, const League& league, bool chinese);

// The id of a cube column (indicator or key type id).
const std::string& ColumnId(const Cube& cube, size_t column);
// A cube column by indicator or key type id.
std::optional<size_t> ColumnById(const Cube& cube, std::string_view id);

}  // namespace pingan
