// `pingan assess --input FILE.csv [--json]`: the empirical Bayes rates (src/assess/eb.h) of any
// table of units (src/assess/unit_table.h), so that the smoothing can be checked against other
// tools such as R's spdep. Needs no data directory. `--data DIR --period P --level L` will assess
// the city's own units; not built yet.
#include <cmath>
#include <optional>
#include <ostream>
#include <span>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "assess/eb.h"
#include "assess/unit_table.h"
#include "cli/commands.h"
#include "core/strings.h"

namespace pingan::cli {
namespace {

// Per unit: the table's values and the three rates (eb_local empty without neighbours).
struct Assessment {
  const UnitTable& table;
  std::vector<double> raw;
  GlobalEb global;
  std::optional<LocalEb> local;
};

// The shortest text that reads back as the same double; "-" for none (a unit without exposure).
std::string Number(double value) { return std::isnan(value) ? "-" : fmt::format("{}", value); }

// Columns of numbers, then the id (last, so that ids of any width keep the columns aligned).
void PrintText(std::ostream& out, const Assessment& assessment) {
  const UnitTable& table = assessment.table;
  out << fmt::format("{} units; global prior: mean {}, variance {}\n", table.ids.size(),
                     Number(assessment.global.prior_mean), Number(assessment.global.prior_variance));
  constexpr std::string_view kRow = "{:>12} {:>14} {:>24} {:>24} {:>24}  {}\n";
  out << fmt::format(kRow, "count", "exposure", "raw", "eb_global", assessment.local ? "eb_local" : "", "id");
  std::string buffer;
  for (size_t unit = 0; unit < table.ids.size(); ++unit) {
    fmt::format_to(std::back_inserter(buffer), kRow, Number(table.counts[unit]), Number(table.exposures[unit]),
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
void PrintJson(std::ostream& out, const Assessment& assessment) {
  const UnitTable& table = assessment.table;
  out << "[";
  for (size_t unit = 0; unit < table.ids.size(); ++unit) {
    const nlohmann::ordered_json object = {
        {"id", table.ids[unit]},
        {"count", table.counts[unit]},
        {"exposure", table.exposures[unit]},
        {"raw", assessment.raw[unit]},
        {"eb_global", assessment.global.estimate[unit]},
        {"eb_local", assessment.local ? nlohmann::ordered_json(assessment.local->estimate[unit]) : nullptr}};
    out << (unit == 0 ? "\n" : ",\n") << object.dump();
  }
  out << "\n]\n";
}

}  // namespace

int RunAssess(const Context& context, const AssessOptions& options) {
  if (options.input.empty()) return Fail(context, "assess --data is not built yet; use --input");
  auto table = ReadUnitTable(options.input);
  if (!table.ok()) return Fail(context, Message(table.status()));
  auto global = EbGlobal(table->counts, table->exposures);
  if (!global.ok()) return Fail(context, Cat(options.input, ": ", Message(global.status())));
  Assessment assessment{.table = *table,
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
