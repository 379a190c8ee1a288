// `pingan report | series | breakdown | league | bulletin | clusters | major | cube`: the
// real-time report over the cube, kept by a snapshot beside the database (DIR/pingan.db.cube)
// plus the store's changes since.
#include <sqlite3.h>

#include <fstream>
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "report/report_env.h"
#include "core/status.h"
#include "core/strings.h"
#include "report/export.h"
#include "report/report_json.h"

namespace pingan::cli {
namespace {

using Json = nlohmann::ordered_json;

absl::StatusOr<std::unique_ptr<ReportEnv>> OpenReportEnv(const Context& context, bool rebuild = false) {
  PA_ASSIGN_OR_RETURN(const std::filesystem::path config_dir, ResolveConfigDir(context));
  return pingan::OpenReportEnv(config_dir, context.data_dir, rebuild);
}

// The opened environment with the query's unit, period and (when `need_column`) column resolved.
struct Prepared {
  std::unique_ptr<ReportEnv> opened;
  UnitId unit;
  Period period;
  size_t column = 0;
};

absl::StatusOr<Prepared> Prepare(const Context& context, const ReportQuery& query, bool need_column) {
  Prepared prepared;
  PA_ASSIGN_OR_RETURN(prepared.opened, OpenReportEnv(context));
  const ReportEnv& env = *prepared.opened;
  PA_ASSIGN_OR_RETURN(prepared.unit, ResolveUnit(*env.registry, *env.cube, query.unit, "--unit"));
  PA_ASSIGN_OR_RETURN(prepared.period, ResolvePeriod(*env.cube, query.period, "--period"));
  if (need_column) {
    PA_ASSIGN_OR_RETURN(prepared.column, ResolveColumn(*env.cube, query.indicator, "--indicator"));
  }
  return prepared;
}

// Writes a table as CSV or XLSX to --output (or stdout for CSV).
int WriteTable(const Context& context, const ReportQuery& query, const Table& table) {
  absl::StatusOr<std::string> bytes =
      query.format == "xlsx" ? TableToXlsx(table) : TableToCsv(table, /*utf8_bom=*/!query.output.empty());
  if (!bytes.ok()) return Fail(context, Message(bytes.status()));
  if (query.output.empty()) {
    if (query.format == "xlsx") return Fail(context, "--format xlsx needs --output FILE.xlsx");
    *context.out << *bytes;
    return 0;
  }
  std::ofstream file(query.output, std::ios::binary | std::ios::trunc);
  file.write(bytes->data(), static_cast<std::streamsize>(bytes->size()));
  file.close();
  if (!file) return Fail(context, Cat("cannot write ", query.output));
  *context.err << "pingan: wrote " << query.output << " (" << bytes->size() << " bytes)\n";
  return 0;
}

std::string Pct(const std::optional<double>& pct, bool is_new) {
  if (is_new) return "new";
  if (!pct) return "-";
  return fmt::format("{:+.2f}%", *pct);
}

std::string Value(const Cube& cube, size_t column, double value) {
  return cube.column(column).is_sum ? fmt::format("{:.2f}", value) : fmt::format("{:.0f}", value);
}

void PrintReport(const Context& context, const ReportEnv& opened, const Report& report, bool chinese) {
  const Cube& cube = *opened.cube;
  std::ostream& out = *context.out;
  out << opened.registry->name(report.unit) << " " << opened.registry->code(report.unit).ToString() << "  "
      << FormatPeriod(report.period) << " (" << DayText(report.period.first) << ".." << DayText(report.period.last)
      << ")";
  if (!report.complete) out << (chinese ? "  数据截至 " : "  data through ") << DayText(report.through);
  out << "\n";
  out << fmt::format("{:<28} {:>14} {:>14} {:>10} {:>14} {:>10}\n", "indicator", chinese ? "本期" : "value",
                     chinese ? "去年同期" : "last year", chinese ? "同比" : "yoy", chinese ? "上期" : "previous",
                     chinese ? "环比" : "mom");
  auto print = [&](const ReportLine& line) {
    const std::string& id = ColumnId(cube, line.column);
    std::string yoy = Pct(line.yoy.change_pct, line.yoy.is_new) + (line.yoy.significant.value_or(false) ? "*" : "");
    std::string mom = line.mom ? Pct(line.mom->change_pct, line.mom->is_new) +
                                     (line.mom->significant.value_or(false) ? "*" : "")
                               : "-";
    out << fmt::format("{:<28} {:>14} {:>14} {:>10} {:>14} {:>10}{}\n", id, Value(cube, line.column, line.value),
                       Value(cube, line.column, line.yoy.value), yoy,
                       line.mom ? Value(cube, line.column, line.mom->value) : std::string("-"), mom,
                       line.stale ? "  (stale: through " + DayText(line.through) + ")" : "");
  };
  for (const ReportLine& line : report.indicators) print(line);
  out << "--\n";
  for (const ReportLine& line : report.key_types) print(line);
  out << (chinese ? "* 差异显著 (α=" : "* significant (α=") << opened.settings.alpha << ")\n";
  for (const SourceFreshness& fresh : report.freshness) {
    if (!fresh.quiet) continue;
    out << (chinese ? "数据源停报: " : "quiet source: ") << cube.catalog().sources[fresh.source].id
        << (fresh.latest ? " latest " + DayText(*fresh.latest) : std::string(" no records")) << "\n";
  }
}

}  // namespace

int RunReport(const Context& context, const ReportQuery& query) {
  auto prepared = Prepare(context, query, /*need_column=*/false);
  if (!prepared.ok()) return Fail(context, Message(prepared.status()));
  const auto& [opened, unit, period, column] = *prepared;
  const Cube& cube = *opened->cube;
  const bool chinese = query.lang != "en";
  const Report report = BuildReport(cube, opened->settings, unit, period);
  if (query.format == "csv" || query.format == "xlsx") return WriteTable(context, query, ReportTable(cube, report, chinese));
  if (query.json) {
    *context.out << ReportJson(cube, report).dump(2) << "\n";
  } else {
    PrintReport(context, *opened, report, chinese);
  }
  return 0;
}

int RunSeries(const Context& context, const ReportQuery& query) {
  auto prepared = Prepare(context, query, /*need_column=*/true);
  if (!prepared.ok()) return Fail(context, Message(prepared.status()));
  const auto& [opened, unit, period, column] = *prepared;
  const Cube& cube = *opened->cube;
  const std::vector<SeriesPoint> points = Series(cube, unit, column, period, query.count);
  if (query.format == "csv" || query.format == "xlsx") {
    return WriteTable(context, query, SeriesTable(cube, unit, column, points, query.lang != "en"));
  }
  if (query.json) {
    *context.out << SeriesJson(cube, unit, column, points).dump(2) << "\n";
  } else {
    for (const SeriesPoint& point : points) {
      *context.out << FormatPeriod(point.period) << "\t" << Value(cube, column, point.value) << "\n";
    }
  }
  return 0;
}

int RunBreakdown(const Context& context, const ReportQuery& query) {
  auto prepared = Prepare(context, query, /*need_column=*/true);
  if (!prepared.ok()) return Fail(context, Message(prepared.status()));
  const auto& [opened, unit, period, column] = *prepared;
  const Cube& cube = *opened->cube;
  const std::vector<BreakdownRow> rows = Breakdown(cube, unit, column, period);
  if (query.json) {
    *context.out << BreakdownJson(cube, unit, column, period, rows).dump(2) << "\n";
  } else {
    for (const BreakdownRow& row : rows) {
      *context.out << (row.unit.valid() ? cube.registry().code(row.unit).ToString() : std::string(27, '-')) << "\t"
                   << (row.unit.valid() ? cube.registry().name(row.unit) : std::string("未落地 (unplaced)")) << "\t"
                   << Value(cube, column, row.value) << "\n";
    }
  }
  return 0;
}

int RunLeague(const Context& context, const ReportQuery& query) {
  auto prepared = Prepare(context, query, /*need_column=*/false);
  if (!prepared.ok()) return Fail(context, Message(prepared.status()));
  const auto& [opened, unit, period, column] = *prepared;
  const Cube& cube = *opened->cube;
  const League league = BuildLeague(cube, opened->settings, period);
  if (query.format == "csv" || query.format == "xlsx") {
    return WriteTable(context, query, LeagueTable(cube, opened->settings, league, query.lang != "en"));
  }
  if (query.json) {
    *context.out << LeagueJson(cube, opened->settings, league).dump(2) << "\n";
  } else {
    for (const LeagueRow& row : league.rows) {
      *context.out << fmt::format("{:>2}  {:<10} {:>8.4f}  {}\n", row.rank,
                                  row.rank_change ? fmt::format("({:+d})", *row.rank_change) : std::string("-"),
                                  row.score, cube.registry().name(row.unit));
    }
  }
  return 0;
}

int RunBulletin(const Context& context, const ReportQuery& query) {
  auto prepared = Prepare(context, query, /*need_column=*/false);
  if (!prepared.ok()) return Fail(context, Message(prepared.status()));
  const auto& [opened, unit, period, column] = *prepared;
  const Cube& cube = *opened->cube;
  const Report report = BuildReport(cube, opened->settings, unit, period);
  const std::string zh = Bulletin(cube, opened->settings, report, true);
  const std::string en = Bulletin(cube, opened->settings, report, false);
  if (query.json) {
    *context.out << Json{{"unit", cube.registry().code(unit).ToString()},
                         {"period", FormatPeriod(period)},
                         {"zh", zh},
                         {"en", en}}
                        .dump(2)
                 << "\n";
  } else {
    *context.out << (query.lang == "en" ? en : zh) << "\n";
  }
  return 0;
}

int RunClusters(const Context& context, const ReportQuery& query) {
  auto prepared = Prepare(context, query, /*need_column=*/false);
  if (!prepared.ok()) return Fail(context, Message(prepared.status()));
  const auto& [opened, unit, period, column] = *prepared;
  const Cube& cube = *opened->cube;
  const std::vector<DomainCluster> clusters = Clusters(cube, opened->settings, unit, period);
  if (query.json) {
    *context.out << ClustersJson(cube, unit, period, clusters).dump(2) << "\n";
    return 0;
  }
  for (const DomainCluster& cluster : clusters) {
    *context.out << cube.catalog().domains[cluster.domain].zh << " " << cube.catalog().domains[cluster.domain].id
                 << ": " << cluster.events << "\n";
    for (const auto& [type, count] : cluster.by_type) {
      *context.out << "  " << cube.catalog().types[type].id << "\t" << count << "\n";
    }
    for (const auto& [child, count] : cluster.top_units) {
      *context.out << "  top " << cube.registry().name(child) << "\t" << count << "\n";
    }
  }
  return 0;
}

int RunMajor(const Context& context, const ReportQuery& query) {
  auto prepared = Prepare(context, query, /*need_column=*/false);
  if (!prepared.ok()) return Fail(context, Message(prepared.status()));
  const auto& [opened, unit, period, column] = *prepared;
  const Cube& cube = *opened->cube;
  auto incidents = MajorIncidents(cube, opened->db(), unit, period, static_cast<size_t>(query.limit),
                                  opened->data.deployment.time_zone);
  if (!incidents.ok()) return Fail(context, Message(incidents.status()));
  for (const Json& line : *incidents) {
    if (query.json) {
      *context.out << line.dump() << "\n";
    } else {
      *context.out << line["occurred_at"].get<std::string>() << "\t" << line["type"].get<std::string>() << "\t"
                   << line["unit_name"].get<std::string>() << "\t" << line["source"].get<std::string>() << "/"
                   << line["source_id"].get<std::string>() << "\n";
    }
  }
  return 0;
}

int RunCube(const Context& context, bool rebuild, bool json) {
  auto opened = OpenReportEnv(context, rebuild);
  if (!opened.ok()) return Fail(context, Message(opened.status()));
  const ReportEnv& report = **opened;
  const Cube& cube = *report.cube;
  const auto [first, last] = cube.DayRange();
  Json out{{"events", cube.events()},
           {"seq", report.seq},
           {"first_day", first == CubeEvent::kAbsent ? Json(nullptr) : Json(DayText(first))},
           {"last_day", last == CubeEvent::kAbsent ? Json(nullptr) : Json(DayText(last))},
           {"memory_bytes", cube.MemoryBytes()},
           {"from_snapshot", report.stats.from_snapshot},
           {"snapshot_note", report.stats.snapshot_note},
           {"changes_applied", report.stats.changes_applied},
           {"snapshot_saved", report.stats.snapshot_saved},
           {"registry_ms", std::round(report.registry_ms)},
           {"snapshot_read_ms", std::round(report.snapshot_read_ms)},
           {"restore_ms", std::round(report.stats.restore_ms)},
           {"catch_up_ms", std::round(report.stats.catch_up_ms)},
           {"rebuild_ms", std::round(report.stats.rebuild_ms)},
           {"save_ms", std::round(report.stats.save_ms)}};
  if (json) {
    *context.out << out.dump(2) << "\n";
  } else {
    for (const auto& [key, value] : out.items()) *context.out << key << "\t" << value.dump() << "\n";
  }
  return 0;
}

}  // namespace pingan::cli
