#include "report/report_json.h"

#include <fmt/format.h>

namespace pingan {
namespace {

using Json = nlohmann::ordered_json;

const MeasureDef& Def(const Cube& cube, size_t column) {
  const CubeColumn& info = cube.column(column);
  return info.kind == CubeColumn::Kind::kIndicator ? cube.catalog().indicators[info.index]
                                                   : cube.catalog().key_types[info.index];
}

// Counts as integers, sums as numbers.
Json Number(const Cube& cube, size_t column, double value) {
  if (!cube.column(column).is_sum) return static_cast<int64_t>(value);
  return value;
}

Cell NumberCell(const Cube& cube, size_t column, double value) {
  if (!cube.column(column).is_sum) return Cell::Integer(static_cast<int64_t>(value));
  return Cell::Real(value, 2);
}

Cell PctCell(const std::optional<double>& pct) { return pct ? Cell::Real(*pct, 2) : Cell::Null(); }

Json ChangeJson(const Cube& cube, size_t column, const Change& change) {
  Json json;
  json["period"] = FormatPeriod(change.period);
  json["value"] = Number(cube, column, change.value);
  json["change_pct"] = change.change_pct ? Json(std::round(*change.change_pct * 100) / 100) : Json(nullptr);
  json["new"] = change.is_new;
  json["significant"] = change.significant ? Json(*change.significant) : Json(nullptr);
  json["p_value"] = change.significant ? Json(change.p_value) : Json(nullptr);
  return json;
}

Json LineJson(const Cube& cube, const ReportLine& line) {
  const MeasureDef& def = Def(cube, line.column);
  Json json;
  json["id"] = def.id;
  json["zh"] = def.zh;
  json["en"] = def.en;
  json["unit"] = {{"zh", def.unit_zh}, {"en", def.unit_en}};
  json["higher_is_better"] = def.higher_is_better;
  json["value"] = Number(cube, line.column, line.value);
  json["yoy"] = ChangeJson(cube, line.column, line.yoy);
  json["mom"] = line.mom ? ChangeJson(cube, line.column, *line.mom) : Json(nullptr);
  json["through"] = DayText(line.through);
  json["stale"] = line.stale;
  return json;
}

Json UnitJson(const Cube& cube, UnitId unit) {
  if (!unit.valid()) return Json{{"code", nullptr}, {"name", "未落地"}, {"name_en", "unplaced"}};
  return Json{{"code", cube.registry().code(unit).ToString()}, {"name", cube.registry().name(unit)}};
}

std::string UnitName(const Cube& cube, UnitId unit, bool chinese) {
  if (!unit.valid()) return chinese ? "未落地" : "unplaced";
  return cube.registry().name(unit);
}

}  // namespace

std::string DayText(Day day) {
  int year, month, dom;
  CivilFromDay(day, &year, &month, &dom);
  return fmt::format("{:04}-{:02}-{:02}", year, month, dom);
}

const std::string& ColumnId(const Cube& cube, size_t column) { return Def(cube, column).id; }

std::optional<size_t> ColumnById(const Cube& cube, std::string_view id) {
  const Catalog& catalog = cube.catalog();
  if (auto it = catalog.indicator_index.find(std::string(id)); it != catalog.indicator_index.end()) {
    return cube.IndicatorColumn(it->second);
  }
  if (auto it = catalog.key_type_index.find(std::string(id)); it != catalog.key_type_index.end()) {
    return cube.KeyTypeColumn(it->second);
  }
  return std::nullopt;
}

Json FreshnessJson(const Cube& cube, const std::vector<SourceFreshness>& freshness) {
  Json out = Json::array();
  for (const SourceFreshness& row : freshness) {
    const SourceDef& source = cube.catalog().sources[row.source];
    out.push_back({{"source", source.id},
                   {"zh", source.zh},
                   {"en", source.en},
                   {"latest", row.latest ? Json(DayText(*row.latest)) : Json(nullptr)},
                   {"silent_days", row.silent_days},
                   {"daily_rate", std::round(row.daily_rate * 100) / 100},
                   {"quiet", row.quiet}});
  }
  return out;
}

Json ReportJson(const Cube& cube, const Report& report) {
  Json json;
  json["unit"] = cube.registry().code(report.unit).ToString();
  json["unit_name"] = cube.registry().name(report.unit);
  json["level"] = std::string(LevelName(cube.registry().level(report.unit)));
  json["period"] = FormatPeriod(report.period);
  json["first"] = DayText(report.period.first);
  json["last"] = DayText(report.period.last);
  json["through"] = DayText(std::max(report.through, report.period.first - 1));
  json["complete"] = report.complete;
  Json indicators = Json::array();
  for (const ReportLine& line : report.indicators) indicators.push_back(LineJson(cube, line));
  json["indicators"] = std::move(indicators);
  Json key_types = Json::array();
  for (const ReportLine& line : report.key_types) key_types.push_back(LineJson(cube, line));
  json["key_types"] = std::move(key_types);
  json["freshness"] = FreshnessJson(cube, report.freshness);
  return json;
}

Json SeriesJson(const Cube& cube, UnitId unit, size_t column, const std::vector<SeriesPoint>& points) {
  Json json;
  json["unit"] = cube.registry().code(unit).ToString();
  json["unit_name"] = cube.registry().name(unit);
  json["indicator"] = ColumnId(cube, column);
  Json list = Json::array();
  for (const SeriesPoint& point : points) {
    list.push_back({{"period", FormatPeriod(point.period)}, {"value", Number(cube, column, point.value)}});
  }
  json["points"] = std::move(list);
  return json;
}

Json BreakdownJson(const Cube& cube, UnitId unit, size_t column, const Period& period,
                   const std::vector<BreakdownRow>& rows) {
  Json json;
  json["unit"] = cube.registry().code(unit).ToString();
  json["unit_name"] = cube.registry().name(unit);
  json["indicator"] = ColumnId(cube, column);
  json["period"] = FormatPeriod(period);
  Json list = Json::array();
  for (const BreakdownRow& row : rows) {
    Json item = UnitJson(cube, row.unit);
    item["value"] = Number(cube, column, row.value);
    item["unplaced"] = !row.unit.valid();
    list.push_back(std::move(item));
  }
  json["rows"] = std::move(list);
  return json;
}

Json LeagueJson(const Cube& cube, const ReportSettings& settings, const League& league) {
  Json json;
  json["period"] = FormatPeriod(league.period);
  json["through"] = DayText(std::max(league.through, league.period.first - 1));
  Json weights = Json::array();
  for (const LeagueWeight& weight : settings.league) {
    weights.push_back({{"indicator", cube.catalog().indicators[weight.indicator].id}, {"weight", weight.weight}});
  }
  json["weights"] = std::move(weights);
  Json rows = Json::array();
  for (const LeagueRow& row : league.rows) {
    Json item = UnitJson(cube, row.unit);
    item["rank"] = row.rank;
    item["previous_rank"] = row.previous_rank ? Json(*row.previous_rank) : Json(nullptr);
    item["rank_change"] = row.rank_change ? Json(*row.rank_change) : Json(nullptr);
    item["score"] = std::round(row.score * 10000) / 10000;
    item["residents"] = static_cast<int64_t>(row.residents);
    Json values = Json::object();
    for (size_t w = 0; w < settings.league.size(); ++w) {
      const size_t column = cube.IndicatorColumn(settings.league[w].indicator);
      values[ColumnId(cube, column)] = {{"value", Number(cube, column, row.values[w])},
                                        {"per_10k", std::round(row.rates[w] * 10000) / 10000}};
    }
    item["indicators"] = std::move(values);
    rows.push_back(std::move(item));
  }
  json["rows"] = std::move(rows);
  return json;
}

Json ClustersJson(const Cube& cube, UnitId unit, const Period& period, const std::vector<DomainCluster>& clusters) {
  const Catalog& catalog = cube.catalog();
  Json json;
  json["unit"] = cube.registry().code(unit).ToString();
  json["unit_name"] = cube.registry().name(unit);
  json["period"] = FormatPeriod(period);
  Json domains = Json::array();
  for (const DomainCluster& cluster : clusters) {
    const DomainDef& domain = catalog.domains[cluster.domain];
    Json item{{"domain", domain.id}, {"zh", domain.zh}, {"en", domain.en}, {"events", cluster.events}};
    Json types = Json::array();
    for (const auto& [type, count] : cluster.by_type) {
      types.push_back({{"type", catalog.types[type].id}, {"zh", catalog.types[type].zh}, {"events", count}});
    }
    item["by_type"] = std::move(types);
    item["by_hour"] = cluster.by_hour;
    item["by_weekday"] = cluster.by_weekday;
    Json top = Json::array();
    for (const auto& [child, count] : cluster.top_units) {
      Json unit_json = UnitJson(cube, child);
      unit_json["events"] = count;
      top.push_back(std::move(unit_json));
    }
    item["top_units"] = std::move(top);
    domains.push_back(std::move(item));
  }
  json["domains"] = std::move(domains);
  return json;
}

Table ReportTable(const Cube& cube, const Report& report, bool chinese) {
  Table table;
  table.title = fmt::format("{} {} {}", chinese ? "平安法治实时报表" : "Safety report",
                            cube.registry().name(report.unit), FormatPeriod(report.period));
  table.columns = chinese ? std::vector<std::string>{"指标", "指标名称", "本期", "单位", "去年同期", "同比%",
                                                     "同比显著", "上期", "环比%", "环比显著", "数据截至"}
                          : std::vector<std::string>{"indicator", "name", "value", "unit", "last year", "yoy %",
                                                     "yoy significant", "previous", "mom %", "mom significant",
                                                     "through"};
  auto significance = [&](const Change& change) {
    if (!change.significant) return Cell::Null();
    return Cell::Text(*change.significant ? (chinese ? "是" : "yes") : (chinese ? "否" : "no"));
  };
  auto add = [&](const ReportLine& line) {
    const MeasureDef& def = Def(cube, line.column);
    std::vector<Cell> row{Cell::Text(def.id), Cell::Text(chinese ? def.zh : def.en),
                          NumberCell(cube, line.column, line.value), Cell::Text(chinese ? def.unit_zh : def.unit_en),
                          NumberCell(cube, line.column, line.yoy.value), PctCell(line.yoy.change_pct),
                          significance(line.yoy)};
    if (line.mom) {
      row.push_back(NumberCell(cube, line.column, line.mom->value));
      row.push_back(PctCell(line.mom->change_pct));
      row.push_back(significance(*line.mom));
    } else {
      row.insert(row.end(), {Cell::Null(), Cell::Null(), Cell::Null()});
    }
    row.push_back(Cell::Text(DayText(line.through)));
    table.rows.push_back(std::move(row));
  };
  for (const ReportLine& line : report.indicators) add(line);
  for (const ReportLine& line : report.key_types) add(line);
  return table;
}

Table SeriesTable(const Cube& cube, UnitId unit, size_t column, const std::vector<SeriesPoint>& points, bool chinese) {
  const MeasureDef& def = Def(cube, column);
  Table table;
  table.title = fmt::format("{} {}", cube.registry().name(unit), chinese ? def.zh : def.en);
  table.columns = chinese ? std::vector<std::string>{"期间", "起", "止", def.zh}
                          : std::vector<std::string>{"period", "first", "last", def.en};
  for (const SeriesPoint& point : points) {
    table.rows.push_back({Cell::Text(FormatPeriod(point.period)), Cell::Text(DayText(point.period.first)),
                          Cell::Text(DayText(point.period.last)), NumberCell(cube, column, point.value)});
  }
  return table;
}

Table LeagueTable(const Cube& cube, const ReportSettings& settings, const League& league, bool chinese) {
  Table table;
  table.title = fmt::format("{} {}", chinese ? "平安赛马榜" : "League", FormatPeriod(league.period));
  table.columns = chinese ? std::vector<std::string>{"名次", "上期名次", "名次变化", "单位", "代码", "综合得分", "常住人口"}
                          : std::vector<std::string>{"rank", "previous rank", "rank change", "unit", "code", "score",
                                                     "residents"};
  for (const LeagueWeight& weight : settings.league) {
    const MeasureDef& def = cube.catalog().indicators[weight.indicator];
    table.columns.push_back(chinese ? def.zh : def.en);
    table.columns.push_back(chinese ? def.zh + "（每万人）" : def.en + " per 10k");
  }
  for (const LeagueRow& row : league.rows) {
    std::vector<Cell> cells{Cell::Integer(row.rank),
                            row.previous_rank ? Cell::Integer(*row.previous_rank) : Cell::Null(),
                            row.rank_change ? Cell::Integer(*row.rank_change) : Cell::Null(),
                            Cell::Text(UnitName(cube, row.unit, chinese)),
                            Cell::Text(cube.registry().code(row.unit).ToString()),
                            Cell::Real(row.score, 4),
                            Cell::Integer(static_cast<int64_t>(row.residents))};
    for (size_t w = 0; w < settings.league.size(); ++w) {
      const size_t column = cube.IndicatorColumn(settings.league[w].indicator);
      cells.push_back(NumberCell(cube, column, row.values[w]));
      cells.push_back(Cell::Real(row.rates[w], 4));
    }
    table.rows.push_back(std::move(cells));
  }
  return table;
}

}  // namespace pingan
