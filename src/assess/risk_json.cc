#include "assess/risk_json.h"

#include <cmath>

namespace pingan {

using Json = nlohmann::ordered_json;

Json UnitRiskJson(const Registry& registry, const Catalog& catalog, const RiskSettings& settings, const UnitRisk& unit,
                bool full) {
  Json body{{"code", registry.code(unit.unit).ToString()},
            {"name", registry.name(unit.unit)},
            {"grade", std::string(GradeName(unit.grade))},
            {"grade_zh", std::string(GradeZh(unit.grade))},
            {"score", unit.score},
            {"complexity", unit.exposure},
            {"previous", unit.previous ? Json(std::string(GradeName(*unit.previous))) : Json(nullptr)}};
  Json drivers = Json::array();
  for (size_t k : unit.drivers) drivers.push_back(catalog.key_types[k].id);
  body["drivers"] = std::move(drivers);
  if (full) {
    Json dimensions = Json::array();
    for (size_t k = 0; k < unit.dimensions.size(); ++k) {
      const Dimension& d = unit.dimensions[k];
      dimensions.push_back(Json{{"key_type", catalog.key_types[k].id},
                                {"zh", catalog.key_types[k].zh},
                                {"en", catalog.key_types[k].en},
                                {"weight", settings.weights[k]},
                                {"count", d.count},
                                {"expected", d.expected},
                                {"raw", d.raw},
                                {"eb_global", d.eb_global},
                                {"eb_local", d.eb_local},
                                {"index", d.index}});
    }
    body["dimensions"] = std::move(dimensions);
    body["complexity_imputed"] = unit.exposure_imputed;
    body["previous_score"] = unit.previous_score ? Json(*unit.previous_score) : Json(nullptr);
    body["raw_grade"] = std::string(GradeName(unit.raw_grade));
  } else {
    Json counts = Json::array(), indexes = Json::array();
    for (const Dimension& d : unit.dimensions) counts.push_back(d.count), indexes.push_back(std::round(d.index * 1000) / 1000);
    body["counts"] = std::move(counts);
    body["indexes"] = std::move(indexes);
  }
  return body;
}

}  // namespace pingan
