#include "report/report.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "catalog/toml_util.h"
#include "core/status.h"
#include "core/strings.h"
#include "report/significance.h"

namespace pingan {
namespace tu = toml_util;
namespace {

const MeasureDef& ColumnDef(const Cube& cube, size_t column) {
  const CubeColumn& info = cube.column(column);
  return info.kind == CubeColumn::Kind::kIndicator ? cube.catalog().indicators[info.index]
                                                   : cube.catalog().key_types[info.index];
}

// Whether a measure's changes get the Poisson test: counts of events, and sums of whole counts
// (deaths, injuries); not sums of money.
bool Testable(const Cube& cube, size_t column) {
  if (!cube.column(column).is_sum) return true;
  const MeasureDef& def = ColumnDef(cube, column);
  return cube.catalog().attributes[def.measure.attribute_index].kind == AttrKind::kInt;
}

// The sources feeding a measure (its types' sources), as catalog indexes.
std::vector<size_t> FeedingSources(const Cube& cube, size_t column) {
  const Catalog& catalog = cube.catalog();
  std::set<size_t> sources;
  for (uint16_t type : ColumnDef(cube, column).type_indexes) {
    if (auto it = catalog.source_index.find(catalog.types[type].source); it != catalog.source_index.end()) {
      sources.insert(it->second);
    }
  }
  return {sources.begin(), sources.end()};
}

// `period` cut to its first `days` days (the whole period when it is not longer).
Period Truncated(const Period& period, int days) {
  if (days >= period.days()) return period;
  if (days <= 0) return RangePeriod(period.first, period.first - 1 + std::max(days, 1));
  return RangePeriod(period.first, period.first + days - 1);
}

std::vector<int64_t> Totals(const Cube& cube, UnitId unit, Day first, Day last) {
  std::vector<int64_t> totals(cube.columns(), 0);
  if (last >= first) cube.Sum(unit, first, last, totals);
  return totals;
}

std::string NumberText(double value, bool is_sum) {
  if (!is_sum || value == std::floor(value)) return fmt::format("{:.0f}", value);
  std::string text = fmt::format("{:.2f}", value);
  while (text.back() == '0') text.pop_back();
  if (text.back() == '.') text.pop_back();
  return text;
}

std::string UnitLabel(const Cube& cube, UnitId unit, bool chinese) {
  if (unit == cube.home_city()) return chinese ? "全市" : "the city";
  return cube.registry().name(unit);
}

}  // namespace

absl::StatusOr<ReportSettings> LoadReportSettings(const std::filesystem::path& config_dir, const Catalog& catalog) {
  const std::filesystem::path path = config_dir / "report.toml";
  const std::filesystem::path base = config_dir.filename().empty() ? config_dir.parent_path() : config_dir;
  const std::string shown = Cat(base.filename().string(), "/report.toml");
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return absl::NotFoundError(Cat(path.string(), ": missing"));
  PA_ASSIGN_OR_RETURN(toml::table root, tu::ParseFile(path.string(), shown));
  PA_RETURN_IF_ERROR(tu::OnlyKeys(shown, root, {"comparison", "freshness", "league", "bulletin", "clusters"}));
  ReportSettings settings;
  auto table_at = [&](std::string_view key) -> absl::StatusOr<const toml::table*> {
    const toml::node* node = root.get(key);
    if (node == nullptr) return static_cast<const toml::table*>(nullptr);
    if (!node->is_table()) return tu::Error(shown, *node, key, "must be a table");
    return node->as_table();
  };
  auto column_of = [&](const toml::table& table, std::string_view key) -> absl::StatusOr<size_t> {
    PA_ASSIGN_OR_RETURN(std::string id, tu::String(shown, table, key));
    if (auto it = catalog.indicator_index.find(id); it != catalog.indicator_index.end()) return size_t{it->second};
    if (auto it = catalog.key_type_index.find(id); it != catalog.key_type_index.end()) {
      return catalog.indicators.size() + it->second;
    }
    return tu::Error(shown, *table.get(key), key, Cat("unknown indicator or key type '", id, "'"));
  };
  PA_ASSIGN_OR_RETURN(const toml::table* comparison, table_at("comparison"));
  if (comparison != nullptr) {
    PA_RETURN_IF_ERROR(tu::OnlyKeys(shown, *comparison, {"alpha"}));
    PA_ASSIGN_OR_RETURN(settings.alpha, tu::Number<double>(shown, *comparison, "alpha", 0.05, 1e-9, 0.5));
  }
  PA_ASSIGN_OR_RETURN(const toml::table* freshness, table_at("freshness"));
  if (freshness != nullptr) {
    PA_RETURN_IF_ERROR(tu::OnlyKeys(shown, *freshness, {"min_quiet_days", "quiet_probability", "recent_days"}));
    PA_ASSIGN_OR_RETURN(settings.min_quiet_days, tu::Number<int>(shown, *freshness, "min_quiet_days", 1, 1, 3650));
    PA_ASSIGN_OR_RETURN(settings.quiet_probability,
                        tu::Number<double>(shown, *freshness, "quiet_probability", 0.001, 1e-12, 0.5));
    PA_ASSIGN_OR_RETURN(settings.recent_days, tu::Number<int>(shown, *freshness, "recent_days", 90, 7, 3650));
  }
  PA_ASSIGN_OR_RETURN(const toml::table* league, table_at("league"));
  if (league != nullptr) {
    PA_RETURN_IF_ERROR(tu::OnlyKeys(shown, *league, {"weight"}));
    PA_RETURN_IF_ERROR(tu::ForEachTable(shown, *league, "weight", [&](const toml::table& table) -> absl::Status {
      PA_RETURN_IF_ERROR(tu::OnlyKeys(shown, table, {"indicator", "weight"}));
      PA_ASSIGN_OR_RETURN(size_t column, column_of(table, "indicator"));
      if (column >= catalog.indicators.size()) {
        return tu::Error(shown, *table.get("indicator"), "indicator", "the league weighs indicators, not key types");
      }
      for (const LeagueWeight& existing : settings.league) {
        if (existing.indicator == column) return tu::Error(shown, *table.get("indicator"), "indicator", "weighed twice");
      }
      PA_ASSIGN_OR_RETURN(double weight, tu::Number<double>(shown, table, "weight", 1.0, 1e-6, 1e6));
      settings.league.push_back({column, weight});
      return absl::OkStatus();
    }));
  }
  PA_ASSIGN_OR_RETURN(const toml::table* bulletin, table_at("bulletin"));
  if (bulletin != nullptr) {
    PA_RETURN_IF_ERROR(tu::OnlyKeys(shown, *bulletin, {"figure"}));
    PA_RETURN_IF_ERROR(tu::ForEachTable(shown, *bulletin, "figure", [&](const toml::table& table) -> absl::Status {
      PA_RETURN_IF_ERROR(tu::OnlyKeys(shown, table, {"indicator", "say", "label"}));
      BulletinFigure figure;
      PA_ASSIGN_OR_RETURN(figure.column, column_of(table, "indicator"));
      if (const toml::node* label = table.get("label")) {
        if (!label->is_table()) return tu::Error(shown, *label, "label", "must be a table { zh = \"...\", en = \"...\" }");
        PA_RETURN_IF_ERROR(tu::OnlyKeys(shown, *label->as_table(), {"zh", "en"}));
        PA_ASSIGN_OR_RETURN(figure.zh, tu::String(shown, *label->as_table(), "zh"));
        PA_ASSIGN_OR_RETURN(figure.en, tu::String(shown, *label->as_table(), "en"));
      }
      PA_ASSIGN_OR_RETURN(std::vector<std::string> say, tu::Strings(shown, table, "say"));
      if (!say.empty()) {
        figure.value = figure.yoy = figure.mom = false;
        for (const std::string& part : say) {
          if (part == "value") figure.value = true;
          else if (part == "yoy") figure.yoy = true;
          else if (part == "mom") figure.mom = true;
          else return tu::Error(shown, *table.get("say"), "say", Cat("'", part, "' is not value, yoy or mom"));
        }
      }
      settings.bulletin.push_back(figure);
      return absl::OkStatus();
    }));
  }
  PA_ASSIGN_OR_RETURN(const toml::table* clusters, table_at("clusters"));
  if (clusters != nullptr) {
    PA_RETURN_IF_ERROR(tu::OnlyKeys(shown, *clusters, {"top_units"}));
    PA_ASSIGN_OR_RETURN(settings.cluster_top_units, tu::Number<size_t>(shown, *clusters, "top_units", 5, 1, 100));
  }
  return settings;
}

std::optional<double> ChangePct(double value, double base) {
  if (base == 0) return value == 0 ? std::optional<double>(0.0) : std::nullopt;
  return (value - base) / base * 100.0;
}

std::optional<Day> DataNow(const Cube& cube) {
  std::optional<Day> now;
  for (CubeDay day : cube.LatestDayBySource()) {
    if (day != CubeEvent::kAbsent && (!now || day > *now)) now = day;
  }
  return now;
}

std::vector<SourceFreshness> Freshness(const Cube& cube, const ReportSettings& settings) {
  const std::optional<Day> now = DataNow(cube);
  std::vector<SourceFreshness> out;
  for (size_t source = 0; source < cube.catalog().sources.size(); ++source) {
    SourceFreshness row{.source = source};
    const CubeDay latest = cube.LatestDayBySource()[source];
    if (latest != CubeEvent::kAbsent) {
      row.latest = latest;
      row.daily_rate = static_cast<double>(cube.SourceEvents(source, latest - settings.recent_days + 1, latest)) /
                       settings.recent_days;
      row.silent_days = now ? *now - latest : 0;
      // Silence of s days at rate r has probability exp(-r s) under a Poisson feed.
      row.quiet = row.silent_days >= settings.min_quiet_days &&
                  std::exp(-row.daily_rate * row.silent_days) < settings.quiet_probability;
    } else {
      row.quiet = now.has_value();  // nothing at all from it while others report
    }
    out.push_back(row);
  }
  return out;
}

Report BuildReport(const Cube& cube, const ReportSettings& settings, UnitId unit, const Period& period) {
  Report report;
  report.unit = unit;
  report.period = period;
  const std::optional<Day> now = DataNow(cube);
  report.through = now ? std::min(period.last, *now) : period.last;
  report.complete = report.through >= period.last;
  report.freshness = Freshness(cube, settings);
  const Period year_ago = YearAgo(period);
  const std::optional<Period> previous = PreviousPeriod(period);

  // Each column's last counted day: the report's, or earlier for a quiet source.
  std::vector<Day> through(cube.measures(), report.through);
  for (size_t column = 0; column < cube.measures(); ++column) {
    for (size_t source : FeedingSources(cube, column)) {
      const SourceFreshness& fresh = report.freshness[source];
      if (!fresh.quiet) continue;
      const Day source_last = fresh.latest ? *fresh.latest : period.first - 1;
      through[column] = std::min(through[column], source_last);
    }
  }
  // One set of window totals per distinct last day.
  struct Windows {
    Period current, yoy;
    std::optional<Period> mom;
    std::vector<int64_t> now, year, prev;
  };
  std::map<Day, Windows> windows;
  for (Day last : through) {
    if (windows.contains(last)) continue;
    Windows w;
    // A period counted to its end compares with whole periods (May has 31 days, June 30); one
    // counted only partly compares with the same number of days from the comparison periods' starts.
    const bool whole = last >= period.last;
    const int days = whole ? period.days() : std::max(0, last - period.first + 1);
    w.current = Truncated(period, days);
    // The same calendar days a year earlier (29 Feb -> 28 Feb); for an ISO week, the first days of
    // the same week of the previous ISO year.
    w.yoy = whole || days == 0 || period.kind == PeriodKind::kWeek
                ? Truncated(year_ago, days)
                : YearAgo(RangePeriod(period.first, period.first + days - 1));
    if (previous) w.mom = whole ? *previous : Truncated(*previous, days);
    const bool empty = days == 0;
    w.now = empty ? std::vector<int64_t>(cube.columns(), 0) : Totals(cube, unit, w.current.first, w.current.last);
    w.year = empty ? std::vector<int64_t>(cube.columns(), 0) : Totals(cube, unit, w.yoy.first, w.yoy.last);
    if (w.mom) {
      w.prev = empty ? std::vector<int64_t>(cube.columns(), 0) : Totals(cube, unit, w.mom->first, w.mom->last);
    }
    windows.emplace(last, std::move(w));
  }
  auto change = [&](size_t column, int64_t x, int64_t y, const Period& current, const Period& base,
                    bool empty) {
    Change out;
    out.period = base;
    out.value = cube.Value(column, y);
    const double value = cube.Value(column, x);
    out.change_pct = ChangePct(value, out.value);
    out.is_new = out.value == 0 && value != 0;
    if (Testable(cube, column) && !empty) {
      // Sums of whole counts are stored in hundredths: test the counts themselves.
      const int64_t scale = cube.column(column).scale;
      out.p_value = PoissonRatePValue(x / scale, y / scale, current.days(), base.days());
      out.significant = out.p_value < settings.alpha;
    } else if (Testable(cube, column)) {
      out.significant = false;
    }
    return out;
  };
  for (size_t column = 0; column < cube.measures(); ++column) {
    const Windows& w = windows.at(through[column]);
    const bool empty = through[column] < period.first;
    ReportLine line;
    line.column = column;
    line.through = std::max(through[column], period.first - 1);
    line.stale = through[column] < report.through;
    line.value = cube.Value(column, w.now[column]);
    line.yoy = change(column, w.now[column], w.year[column], w.current, w.yoy, empty);
    if (w.mom) line.mom = change(column, w.now[column], w.prev[column], w.current, *w.mom, empty);
    (cube.column(column).kind == CubeColumn::Kind::kIndicator ? report.indicators : report.key_types)
        .push_back(std::move(line));
  }
  return report;
}

std::vector<SeriesPoint> Series(const Cube& cube, UnitId unit, size_t column, const Period& period, int count) {
  return std::move(SeriesOf(cube, unit, {column}, period, count).front());
}

std::vector<std::vector<SeriesPoint>> SeriesOf(const Cube& cube, UnitId unit, const std::vector<size_t>& columns,
                                               const Period& period, int count) {
  std::vector<std::vector<SeriesPoint>> series(columns.size());
  std::vector<int64_t> totals(cube.columns());
  for (int back = count - 1; back >= 0; --back) {
    const Period p = PeriodBefore(period, back);
    std::fill(totals.begin(), totals.end(), 0);
    cube.Sum(unit, p.first, p.last, totals);
    for (size_t at = 0; at < columns.size(); ++at) series[at].push_back({p, cube.Value(columns[at], totals[columns[at]])});
  }
  return series;
}

std::vector<BreakdownRow> Breakdown(const Cube& cube, UnitId unit, size_t column, const Period& period) {
  std::vector<BreakdownRow> rows;
  std::vector<int64_t> totals(cube.columns());
  cube.Sum(unit, period.first, period.last, totals);
  int64_t remainder = totals[column];
  for (UnitId child : cube.registry().children(unit)) {
    if (!cube.Covers(child)) continue;
    std::fill(totals.begin(), totals.end(), 0);
    cube.Sum(child, period.first, period.last, totals);
    remainder -= totals[column];
    rows.push_back({child, cube.Value(column, totals[column])});
  }
  rows.push_back({kNoUnit, cube.Value(column, remainder)});
  return rows;
}

namespace {

// Scores and ranks `units` over [first, last] (League's rule).
std::vector<LeagueRow> Rank(const Cube& cube, const ReportSettings& settings, const std::vector<UnitId>& units,
                            Day first, Day last) {
  std::vector<LeagueRow> rows;
  for (UnitId unit : units) {
    LeagueRow row;
    row.unit = unit;
    row.residents = static_cast<double>(cube.registry().figures(unit).resident);
    const std::vector<int64_t> totals = Totals(cube, unit, first, last);
    for (const LeagueWeight& weight : settings.league) {
      const double value = cube.Value(weight.indicator, totals[weight.indicator]);
      row.values.push_back(value);
      row.rates.push_back(row.residents > 0 ? value / row.residents * 10000.0 : 0.0);
    }
    rows.push_back(std::move(row));
  }
  double weight_total = 0;
  for (const LeagueWeight& weight : settings.league) weight_total += weight.weight;
  for (size_t w = 0; w < settings.league.size(); ++w) {
    double mean = 0;
    for (const LeagueRow& row : rows) mean += row.rates[w];
    mean /= std::max<size_t>(rows.size(), 1);
    double variance = 0;
    for (const LeagueRow& row : rows) variance += (row.rates[w] - mean) * (row.rates[w] - mean);
    const double sd = std::sqrt(variance / std::max<size_t>(rows.size(), 1));
    const bool higher_is_better = cube.catalog().indicators[settings.league[w].indicator].higher_is_better;
    for (LeagueRow& row : rows) {
      const double z = sd > 0 ? (row.rates[w] - mean) / sd : 0.0;
      row.score += settings.league[w].weight * (higher_is_better ? z : -z) / weight_total;
    }
  }
  std::vector<size_t> order(rows.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return rows[a].score > rows[b].score; });
  for (size_t position = 0; position < order.size(); ++position) {
    // Equal scores share a rank.
    const LeagueRow& row = rows[order[position]];
    rows[order[position]].rank =
        position > 0 && rows[order[position - 1]].score == row.score ? rows[order[position - 1]].rank
                                                                      : static_cast<int>(position + 1);
  }
  return rows;
}

}  // namespace

League BuildLeague(const Cube& cube, const ReportSettings& settings, const Period& period) {
  League league;
  league.period = period;
  const std::optional<Day> now = DataNow(cube);
  league.through = now ? std::min(period.last, *now) : period.last;
  std::vector<UnitId> units;
  for (UnitId child : cube.registry().children(cube.home_city())) {
    if (cube.Covers(child) && cube.registry().level(child) == Level::kDistrict) units.push_back(child);
  }
  league.rows = Rank(cube, settings, units, period.first, league.through);
  if (const std::optional<Period> previous = PreviousPeriod(period)) {
    const std::vector<LeagueRow> before = Rank(cube, settings, units, previous->first, previous->last);
    for (size_t i = 0; i < league.rows.size(); ++i) {
      league.rows[i].previous_rank = before[i].rank;
      league.rows[i].rank_change = before[i].rank - league.rows[i].rank;
    }
  }
  std::stable_sort(league.rows.begin(), league.rows.end(),
                   [](const LeagueRow& a, const LeagueRow& b) { return a.rank < b.rank; });
  return league;
}

std::string PeriodLabel(const Period& period, bool chinese) {
  int year, month, day;
  CivilFromDay(period.first, &year, &month, &day);
  int last_year, last_month, last_day;
  CivilFromDay(period.last, &last_year, &last_month, &last_day);
  static constexpr const char* kMonths[] = {"January", "February", "March",     "April",   "May",      "June",
                                            "July",    "August",   "September", "October", "November", "December"};
  auto zh_date = [](int y, int m, int d) { return fmt::format("{}年{}月{}日", y, m, d); };
  auto en_date = [&](int y, int m, int d) { return fmt::format("{} {} {}", d, kMonths[m - 1], y); };
  switch (period.kind) {
    case PeriodKind::kDay: return chinese ? zh_date(year, month, day) : en_date(year, month, day);
    case PeriodKind::kWeek: {
      int iso_year, week;
      IsoWeekOf(period.first, &iso_year, &week);
      return chinese ? fmt::format("{}年第{}周", iso_year, week) : fmt::format("week {} of {}", week, iso_year);
    }
    case PeriodKind::kMonth:
      return chinese ? fmt::format("{}年{}月", year, month) : fmt::format("{} {}", kMonths[month - 1], year);
    case PeriodKind::kQuarter:
      return chinese ? fmt::format("{}年第{}季度", year, (month - 1) / 3 + 1)
                     : fmt::format("Q{} {}", (month - 1) / 3 + 1, year);
    case PeriodKind::kYear: return chinese ? fmt::format("{}年", year) : fmt::format("{}", year);
    case PeriodKind::kYearToDate:
      return chinese ? fmt::format("{}年1月1日至{}月{}日", year, last_month, last_day)
                     : fmt::format("1 January to {} {} {}", last_day, kMonths[last_month - 1], year);
    case PeriodKind::kRange: break;
  }
  return chinese ? zh_date(year, month, day) + "至" + zh_date(last_year, last_month, last_day)
                 : en_date(year, month, day) + " to " + en_date(last_year, last_month, last_day);
}

std::string Bulletin(const Cube& cube, const ReportSettings& settings, const Report& report, bool chinese) {
  std::vector<std::string> parts;
  auto line_of = [&](size_t column) -> const ReportLine* {
    const auto& lines = cube.column(column).kind == CubeColumn::Kind::kIndicator ? report.indicators : report.key_types;
    for (const ReportLine& line : lines) {
      if (line.column == column) return &line;
    }
    return nullptr;
  };
  auto describe = [&](const Change& change, bool yoy) {
    const char* zh_word = yoy ? "同比" : "环比";
    const char* en_word = yoy ? "year on year" : "on the previous period";
    std::string text;
    if (change.is_new) {
      text = chinese ? fmt::format("{}上升（{}为0）", zh_word, yoy ? "去年同期" : "上期")
                     : fmt::format("up from 0 {}", en_word);
    } else if (!change.change_pct || *change.change_pct == 0) {
      text = chinese ? fmt::format("{}持平", zh_word) : fmt::format("unchanged {}", en_word);
    } else {
      const double pct = *change.change_pct;
      text = chinese ? fmt::format("{}{}{:.2f}%", zh_word, pct > 0 ? "上升" : "下降", std::fabs(pct))
                     : fmt::format("{} {:.2f}% {}", pct > 0 ? "up" : "down", std::fabs(pct), en_word);
    }
    if (change.significant.has_value() && !*change.significant && !change.is_new && change.change_pct &&
        *change.change_pct != 0) {
      text += chinese ? "（变化不显著）" : " (not significant)";
    }
    return text;
  };
  for (const BulletinFigure& figure : settings.bulletin) {
    const ReportLine* line = line_of(figure.column);
    if (line == nullptr) continue;
    const MeasureDef& def = ColumnDef(cube, figure.column);
    const bool is_sum = cube.column(figure.column).is_sum;
    std::string part = chinese ? (figure.zh.empty() ? def.zh : figure.zh) : (figure.en.empty() ? def.en : figure.en);
    if (figure.value) {
      part += chinese ? fmt::format("{}{}", NumberText(line->value, is_sum), def.unit_zh)
                      : fmt::format(" {} {}", NumberText(line->value, is_sum), def.unit_en);
    }
    if (figure.yoy) part += (chinese ? "，" : ", ") + describe(line->yoy, true);
    if (figure.mom && line->mom) part += (chinese ? "，" : ", ") + describe(*line->mom, false);
    if (line->stale) {
      int y, m, d;
      CivilFromDay(line->through, &y, &m, &d);
      part += chinese ? fmt::format("（数据截至{}月{}日）", m, d) : fmt::format(" (data to {}-{:02}-{:02})", y, m, d);
    }
    parts.push_back(std::move(part));
  }
  std::string head = PeriodLabel(report.period, chinese);
  if (!report.complete) {
    int y, m, d;
    CivilFromDay(report.through, &y, &m, &d);
    head += chinese ? fmt::format("（截至{}月{}日）", m, d) : fmt::format(" (to {}-{:02}-{:02})", y, m, d);
  }
  std::string text = chinese ? head + "，" + UnitLabel(cube, report.unit, true)
                             : head + ", " + UnitLabel(cube, report.unit, false) + ": ";
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) text += chinese ? "；" : "; ";
    text += parts[i];
  }
  text += chinese ? "。" : ".";
  return text;
}

std::vector<DomainCluster> Clusters(const Cube& cube, const ReportSettings& settings, UnitId unit,
                                    const Period& period) {
  const Catalog& catalog = cube.catalog();
  std::vector<int> type_domain(catalog.types.size(), -1);
  for (size_t type = 0; type < catalog.types.size(); ++type) {
    for (size_t domain = 0; domain < catalog.domains.size(); ++domain) {
      if (catalog.domains[domain].id == catalog.types[type].domain) type_domain[type] = static_cast<int>(domain);
    }
  }
  std::vector<DomainCluster> clusters(catalog.domains.size());
  std::vector<std::vector<int64_t>> by_type(catalog.domains.size(), std::vector<int64_t>(catalog.types.size()));
  const Registry& registry = cube.registry();
  const std::span<const UnitId> children = registry.children(unit);
  const Level child_level = children.empty() ? Level::kRoom : registry.level(children.front());
  std::vector<std::map<uint32_t, int64_t>> by_child(catalog.domains.size());
  cube.ForEachEvent(unit, period.first, period.last, [&](int64_t, const CubeEvent& event) {
    if (!event.counted()) return;
    const int domain = type_domain[event.type];
    if (domain < 0) return;
    DomainCluster& cluster = clusters[static_cast<size_t>(domain)];
    ++cluster.events;
    ++by_type[static_cast<size_t>(domain)][event.type];
    ++cluster.by_hour[event.hour % 24];
    ++cluster.by_weekday[static_cast<size_t>(Weekday(event.day) - 1)];
    if (!children.empty()) {
      const UnitId child = registry.AncestorAt(UnitId{event.unit}, child_level);
      if (child.valid() && child != unit) ++by_child[static_cast<size_t>(domain)][child.value];
    }
  });
  for (size_t domain = 0; domain < clusters.size(); ++domain) {
    DomainCluster& cluster = clusters[domain];
    cluster.domain = domain;
    for (size_t type = 0; type < catalog.types.size(); ++type) {
      if (type_domain[type] == static_cast<int>(domain)) cluster.by_type.emplace_back(type, by_type[domain][type]);
    }
    std::stable_sort(cluster.by_type.begin(), cluster.by_type.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    for (const auto& [child, count] : by_child[domain]) cluster.top_units.emplace_back(UnitId{child}, count);
    std::stable_sort(cluster.top_units.begin(), cluster.top_units.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    if (cluster.top_units.size() > settings.cluster_top_units) cluster.top_units.resize(settings.cluster_top_units);
  }
  return clusters;
}

}  // namespace pingan
