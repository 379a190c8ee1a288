// `pingan assess --input FILE.csv [--json]`: the empirical Bayes rates (src/assess/eb.h) of any
// table of units (src/assess/unit_table.h), so that the smoothing can be checked against other
// tools such as R's spdep. Needs no data directory.
// `pingan assess --data DIR [--period P] [--level town] [--json] [--raise]`: the five-colour risk
// map of the city's own units (src/assess/risk.h) for a period; with --raise, the warnings it
// raises are stored (src/assess/warnings.h) and listed.
#include <fmt/format.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <span>

#include "absl/time/clock.h"
#include "assess/eb.h"
#include "assess/risk.h"
#include "assess/risk_json.h"
#include "assess/warnings.h"
#include "assess/unit_table.h"
#include "auth/auth.h"
#include "loop/task_store.h"
#include "cli/commands.h"
#include "core/strings.h"
#include "report/report.h"
#include "report/report_env.h"

namespace pingan::cli {
namespace {

// Per unit: the table's values and the three rates (eb_local empty without neighbours).
struct TableAssessment {
  const UnitTable& table;
  std::vector<double> raw;
  GlobalEb global;
  std::optional<LocalEb> local;
};

// The shortest text that reads back as the same double; "-" for none (a unit without exposure).
std::string Number(double value) { return std::isnan(value) ? "-" : fmt::format("{}", value); }

// Columns of numbers, then the id (last, so that ids of any width keep the columns aligned).
void PrintText(std::ostream& out, const TableAssessment& assessment) {
  const UnitTable& table = assessment.table;
  out << fmt::format("{} units; global prior: mean {}, variance {}\n", table.ids.size(),
                     Number(assessment.global.prior_mean),
                     Number(assessment.global.prior_variance));
  constexpr std::string_view kRow = "{:>12} {:>14} {:>24} {:>24} {:>24}  {}\n";
  out << fmt::format(kRow, "count", "exposure", "raw", "eb_global",
                     assessment.local ? "eb_local" : "", "id");
  std::string buffer;
  for (size_t unit = 0; unit < table.ids.size(); ++unit) {
    fmt::format_to(
        std::back_inserter(buffer), kRow, Number(table.counts[unit]), Number(table.exposures[unit]),
        Number(assessment.raw[unit]), Number(assessment.global.estimate[unit]),
        assessment.local ? Number(assessment.local->estimate[unit]) : "", table.ids[unit]);
    if (buffer.size() >= (1 << 16)) {
      out << buffer;
      buffer.clear();
    }
  }
  out << buffer;
}

// A JSON list, one object a line; NaN (no exposure, or no neighbours column) as null.
void PrintJson(std::ostream& out, const TableAssessment& assessment) {
  const UnitTable& table = assessment.table;
  out << "[";
  for (size_t unit = 0; unit < table.ids.size(); ++unit) {
    const nlohmann::ordered_json object = {
        {"id", table.ids[unit]},
        {"count", table.counts[unit]},
        {"exposure", table.exposures[unit]},
        {"raw", assessment.raw[unit]},
        {"eb_global", assessment.global.estimate[unit]},
        {"eb_local",
         assessment.local ? nlohmann::ordered_json(assessment.local->estimate[unit]) : nullptr}};
    out << (unit == 0 ? "\n" : ",\n") << object.dump();
  }
  out << "\n]\n";
}

}  // namespace

// The city's own units: one level's table for a period, and with `raise` the warnings stored.
int RunAssessData(const Context& context, const AssessOptions& options) {
  auto config_dir = ResolveConfigDir(context);
  if (!config_dir.ok()) return Fail(context, Message(config_dir.status()));
  auto env = OpenReportEnv(*config_dir, context.data_dir);
  if (!env.ok()) return Fail(context, Message(env.status()));
  const Cube& cube = *(*env)->cube;
  const Registry& registry = *(*env)->registry;
  const Catalog& catalog = (*env)->catalog;
  auto settings = LoadRiskSettings(*config_dir, catalog);
  if (!settings.ok()) return Fail(context, Message(settings.status()));
  auto period = ResolvePeriod(cube, options.period, "--period");
  if (!period.ok()) return Fail(context, Message(period.status()));
  std::optional<Level> level;
  for (Level candidate : RiskEngine::kLevels) {
    if (LevelName(candidate) == (options.level.empty() ? "town" : options.level)) level = candidate;
  }
  if (!level) return Fail(context, "--level: district, town, community or grid");
  auto engine = RiskEngine::Create(cube, *settings);
  if (!engine.ok()) return Fail(context, Message(engine.status()));
  auto all = (*engine)->AssessAll(cube, *period);
  if (!all.ok()) return Fail(context, Message(all.status()));
  const Assessment* assessment = nullptr;
  for (const Assessment& one : *all) {
    if (one.level == *level) assessment = &one;
  }
  std::vector<const UnitRisk*> units;
  for (const UnitRisk& unit : assessment->units) units.push_back(&unit);
  std::stable_sort(units.begin(), units.end(), [](const UnitRisk* a, const UnitRisk* b) { return a->score > b->score; });
  if (options.json) {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const UnitRisk* unit : units) list.push_back(UnitRiskJson(registry, catalog, engine->get()->settings(), *unit, true));
    *context.out << list.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
  } else {
    *context.out << fmt::format("{} {}: {} units; 红 {} 橙 {} 黄 {} 蓝 {} 绿 {}\n", FormatPeriod(*period),
                                LevelName(*level), units.size(), assessment->counts[0], assessment->counts[1],
                                assessment->counts[2], assessment->counts[3], assessment->counts[4]);
    for (const UnitRisk* unit : units) {
      std::string drivers;
      for (size_t k : unit->drivers) drivers += Cat(drivers.empty() ? "" : ",", catalog.key_types[k].zh);
      *context.out << fmt::format("{}  {:<6} {:>7.3f} {:>10.2f}  {}  {}{}\n", registry.code(unit->unit).ToString(),
                                  GradeName(unit->grade), unit->score, unit->exposure, registry.name(unit->unit),
                                  drivers, unit->previous && *unit->previous != unit->grade
                                               ? Cat("  (was ", GradeName(*unit->previous), ")")
                                               : std::string());
    }
  }
  if (options.raise) {
    auto store = WarningStore::Open(context.data_dir);
    if (!store.ok()) return Fail(context, Message(store.status()));
    auto raised = (*store)->Raise(cube, **engine, *all, absl::ToUnixSeconds(absl::Now()));
    if (!raised.ok()) return Fail(context, Message(raised.status()));
    size_t on_grid = 0;
    for (const Warning& warning : *raised) on_grid += !warning.grids.empty();
    *context.err << fmt::format("pingan: {} warnings raised for {} ({} routed to grids)\n", raised->size(),
                                FormatPeriod(*period), on_grid);
    // Those of the grades config/loop.toml dispatches at once become patrol tasks.
    auto loop_settings = LoadLoopSettings(*config_dir, catalog);
    if (!loop_settings.ok()) return Fail(context, Message(loop_settings.status()));
    auto tasks = TaskStore::Open(context.data_dir, *std::move(loop_settings));
    if (!tasks.ok()) return Fail(context, Message(tasks.status()));
    auto auth = AuthStore::Open(context.data_dir);
    if (!auth.ok()) return Fail(context, Message(auth.status()));
    auto users = (*auth)->ListUsers();
    if (!users.ok()) return Fail(context, Message(users.status()));
    auto made = (*tasks)->AutoDispatch(*raised, *users);
    if (!made.ok()) return Fail(context, Message(made.status()));
    size_t queued = 0;
    for (const Task& task : *made) queued += task.in_town_queue() ? 1 : 0;
    *context.err << fmt::format("pingan: {} patrol tasks made ({} waiting in a town official's queue)\n", made->size(),
                                queued);
  }
  return 0;
}

int RunAssess(const Context& context, const AssessOptions& options) {
  if (options.input.empty()) return RunAssessData(context, options);
  auto table = ReadUnitTable(options.input);
  if (!table.ok()) return Fail(context, Message(table.status()));
  auto global = EbGlobal(table->counts, table->exposures);
  if (!global.ok()) return Fail(context, Cat(options.input, ": ", Message(global.status())));
  TableAssessment assessment{.table = *table,
                        .raw = RawRates(table->counts, table->exposures),
                        .global = std::move(*global)};
  if (table->has_neighbours) {
    auto local = EbLocal(table->counts, table->exposures, table->neighbours);
    if (!local.ok()) return Fail(context, Cat(options.input, ": ", Message(local.status())));
    assessment.local = std::move(*local);
  }
  if (options.json) {
    PrintJson(*context.out, assessment);
  } else {
    PrintText(*context.out, assessment);
  }
  return 0;
}

}  // namespace pingan::cli
