// A graded unit as JSON, as the API (/api/risk, /api/risk/unit) and `pingan assess --json` give
// it: {code, name, grade, grade_zh, score, complexity, previous, drivers} and, in full, every
// dimension (count, expected, raw, eb_global, eb_local, index, weight) with the raw grade and the
// previous score; otherwise the counts and indexes as two arrays in key-type order.
#pragma once

#include <nlohmann/json.hpp>

#include "assess/risk.h"

namespace pingan {

nlohmann::ordered_json UnitRiskJson(const Registry& registry, const Catalog& catalog, const RiskSettings& settings,
                                    const UnitRisk& unit, bool full);

}  // namespace pingan
