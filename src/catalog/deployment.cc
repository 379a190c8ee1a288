#include "catalog/deployment.h"

#include "core/strings.h"
#include "absl/strings/str_format.h"
#include "catalog/toml_util.h"
#include "core/status.h"

namespace pingan {
namespace {
namespace tu = toml_util;

bool KnownTimeZone(const std::string& name) {
  if (name.empty() || name.size() > 64 || name.find("..") != std::string::npos || name[0] == '/') {
    return false;
  }
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '_' || c == '-' || c == '+')) {
      return false;
    }
  }
  std::error_code ec;
  return std::filesystem::exists(std::filesystem::path("/usr/share/zoneinfo") / name, ec) ||
         name == "UTC" || name == "Asia/Shanghai";
}

}  // namespace

absl::StatusOr<Deployment> LoadDeployment(const std::filesystem::path& file) {
  std::string shown = file.filename().string();
  PA_ASSIGN_OR_RETURN(toml::table root, tu::ParseFile(file.string(), shown));
  PA_RETURN_IF_ERROR(tu::OnlyKeys(shown, root, {"home_city", "time_zone", "demo", "geocode"}));
  Deployment deployment;
  PA_ASSIGN_OR_RETURN(deployment.home_city, tu::Code(shown, root, "home_city"));
  if (deployment.home_city.SignificantBoundary() != 4) {
    return tu::Error(shown, *root.get("home_city"), "home_city", "must be a city's 4-digit code (3301)");
  }
  PA_ASSIGN_OR_RETURN(deployment.time_zone, tu::String(shown, root, "time_zone"));
  if (!KnownTimeZone(deployment.time_zone)) {
    return tu::Error(shown, *root.get("time_zone"), "time_zone",
                     "unknown time zone (an IANA name such as Asia/Shanghai)");
  }
  if (const toml::node* node = root.get("demo")) {
    const toml::table* demo = node->as_table();
    if (demo == nullptr) return tu::Error(shown, *node, "demo", "must be a table");
    PA_RETURN_IF_ERROR(tu::OnlyKeys(shown, *demo, {"seed", "scale"}));
    DemoSettings settings;
    PA_ASSIGN_OR_RETURN(int64_t seed, tu::Number<int64_t>(shown, *demo, "seed", 1, 0, INT64_MAX));
    settings.seed = static_cast<uint64_t>(seed);
    PA_ASSIGN_OR_RETURN(settings.scale, tu::Number<double>(shown, *demo, "scale", 1.0, 0.0001, 10));
    deployment.demo = settings;
  }
  if (const toml::node* node = root.get("geocode")) {
    const toml::table* geocode = node->as_table();
    if (geocode == nullptr) return tu::Error(shown, *node, "geocode", "must be a table");
    PA_RETURN_IF_ERROR(tu::OnlyKeys(shown, *geocode, {"building_distance_m"}));
    PA_ASSIGN_OR_RETURN(deployment.geocode.building_distance_m,
                        tu::Number<double>(shown, *geocode, "building_distance_m", 30.0, 0.0, 1000.0));
  }
  return deployment;
}

std::string DeploymentToml(const Deployment& deployment) {
  std::string out =
      "# pingan deployment settings for this data directory (written by pingan init).\n"
      "# The catalog lives in the project's config/; this file holds what differs per city.\n";
  CatTo(out, "home_city = \"", deployment.home_city.ToString().substr(0, 4), "\"\n");
  CatTo(out, "time_zone = \"", deployment.time_zone, "\"\n");
  if (deployment.demo) {
    CatTo(out, "\n# The synthetic demo city below the communities.\n[demo]\n");
    CatTo(out, "seed = ", deployment.demo->seed, "\n");
    CatTo(out, "scale = ", absl::StrFormat("%.6g", deployment.demo->scale), "\n");
  }
  CatTo(out, "\n# pingan geocode --points: a point this close to a building (metres) is placed at it.\n");
  CatTo(out, "[geocode]\nbuilding_distance_m = ", absl::StrFormat("%.6g", deployment.geocode.building_distance_m), "\n");
  return out;
}

}  // namespace pingan
