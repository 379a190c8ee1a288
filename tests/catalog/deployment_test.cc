#include "catalog/deployment.h"

#include <gtest/gtest.h>

#include "testing/temp_dir.h"

namespace pingan {
namespace {

using testing::TempDir;

TEST(Deployment, RoundTripsThroughItsFile) {
  TempDir dir;
  Deployment written{.home_city = *AddressCode::ParsePrefix("3301"),
                     .demo = DemoSettings{.seed = 42, .scale = 0.25},
                     .geocode = GeocodeSettings{.building_distance_m = 12.5}};
  auto file = dir.Write("pingan.toml", DeploymentToml(written));
  auto read = LoadDeployment(file);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->home_city, written.home_city);
  EXPECT_EQ(read->time_zone, "Asia/Shanghai");
  ASSERT_TRUE(read->demo.has_value());
  EXPECT_EQ(read->demo->seed, 42u);
  EXPECT_DOUBLE_EQ(read->demo->scale, 0.25);
  EXPECT_DOUBLE_EQ(read->geocode.building_distance_m, 12.5);
  // Without the table, the default.
  auto plain = LoadDeployment(dir.Write("plain.toml", "home_city = \"3301\"\ntime_zone = \"UTC\"\n"));
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_DOUBLE_EQ(plain->geocode.building_distance_m, 30);
}

TEST(Deployment, BadValuesNameLineAndKey) {
  TempDir dir;
  auto check = [&](const std::string& text, const std::string& expected) {
    auto status = LoadDeployment(dir.Write("pingan.toml", text)).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_NE(status.message().find(expected), absl::string_view::npos) << status << " / " << expected;
  };
  check("home_city = \"330106\"\ntime_zone = \"Asia/Shanghai\"\n", "pingan.toml:1: key 'home_city'");
  check("home_city = \"3301\"\ntime_zone = \"Mars/Olympus\"\n", "pingan.toml:2: key 'time_zone'");
  check("home_city = \"3301\"\ntime_zone = \"../../etc/passwd\"\n", "key 'time_zone'");
  check("home_city = \"3301\"\ntime_zone = \"Asia/Shanghai\"\nsecret = 1\n", "key 'secret': unknown key");
  check("home_city = \"3301\"\ntime_zone = \"Asia/Shanghai\"\n[demo]\nscale = \"big\"\n", "key 'scale'");
  check("home_city = 3301\n", "key 'home_city': must be a string");
  check("time_zone = \"Asia/Shanghai\"\n", "key 'home_city' is missing");
  check("home_city = \"3301\n", "pingan.toml:1");
  const std::string base = "home_city = \"3301\"\ntime_zone = \"UTC\"\n";
  check(base + "[geocode]\nbuilding_distance_m = -1\n", "pingan.toml:4: key 'building_distance_m'");
  check(base + "[geocode]\nbuilding_distance_m = 1e9\n", "key 'building_distance_m'");
  check(base + "[geocode]\nbuilding_distance_m = \"near\"\n", "key 'building_distance_m'");
  check(base + "[geocode]\nradius = 5\n", "key 'radius': unknown key");
  check(base + "geocode = 5\n", "key 'geocode'");
}

}  // namespace
}  // namespace pingan
