// `pingan geocode --points` end to end, over the national registry fixture (the whole of China
// and a scale-0.01 demo city, built by the `testdata_national` CTest fixture).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>

#include "core/datum.h"
#include "testing/pingan_cli.h"
#include "testing/temp_dir.h"

namespace pingan {
namespace {

using nlohmann::json;
using testing::Output;
using testing::TempDir;

const std::string kData = testing::NationalData();
Output Pingan(const std::string& args) { return testing::RunPingan(args, kData); }

std::vector<json> JsonLines(const std::string& text) {
  std::vector<json> lines;
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);) lines.push_back(json::parse(line));
  return lines;
}

json GeoJson(const std::string& code) {
  Output run = Pingan("units " + code + " --geojson");
  EXPECT_EQ(run.exit_code, 0) << run.err;
  return json::parse(run.out);
}

// The first building of the first grid of the first community under `town` (9 digits):
// its code and "lon,lat" exactly as stored.
std::pair<std::string, std::string> FirstBuilding(const std::string& town) {
  json communities = GeoJson(town);
  std::string community = communities["features"][0]["properties"]["code"];
  json grids = GeoJson(community.substr(0, 12));
  std::string grid = grids["features"][0]["properties"]["code"];
  json buildings = GeoJson(grid.substr(0, 15));
  const json& first = buildings["features"][0];
  const json& coordinates = first["geometry"]["coordinates"];
  return {first["properties"]["code"], coordinates[0].dump() + "," + coordinates[1].dump()};
}

TEST(CliPoints, AnswersOneJsonLinePerInputLineInOrder) {
  auto [building, point] = FirstBuilding("330106004");  // 西溪街道
  // 西湖街道, governed by the scenic area 西湖风景名胜区.
  const std::string west_lake = GeoJson("330190")["features"][0]["properties"]["code"];
  auto [scenic_building, scenic_point] = FirstBuilding(west_lake.substr(0, 9));
  TempDir dir;
  const std::vector<std::string> lines = {
      point,                        // 0 a building's own point
      "hello",                      // 1
      "NaN,30",                     // 2
      "1e400,30",                   // 3
      "120,30,5",                   // 4
      "",                           // 5
      std::string(2 << 20, '7'),    // 6 a 2 MB line
      "\x01\x02,\x03",              // 7 control bytes
      "\xff\xfe,30",                // 8 invalid UTF-8
      "0,0",                        // 9 outside every grid
      "200,30",                     // 10
      "120.1,-95",                  // 11
      "inf,30",                     // 12
      " 120.1 , 30.2 ",             // 13 spaces around the numbers
      "120.1,30.2\r",               // 14 CRLF
      "+120,30",                    // 15
      "0x10,30",                    // 16
      std::string("120.1\0,30", 9), // 17 a NUL byte
      scenic_point,                 // 18
      "120.2,30.3",                 // 19 the last line has no newline
  };
  std::string input;
  for (size_t at = 0; at < lines.size(); ++at) input += lines[at] + (at + 1 < lines.size() ? "\n" : "");
  auto file = dir.Write("points.txt", input);
  Output run = Pingan("geocode --points --timing < '" + file.string() + "'");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  std::vector<json> out = JsonLines(run.out);
  ASSERT_EQ(out.size(), lines.size()) << run.out.substr(0, 2000);
  EXPECT_TRUE(std::regex_match(run.err, std::regex("pingan geocode --points: start-up [0-9.]+ s; " +
                                                   std::to_string(lines.size()) +
                                                   " lines answered in [0-9.]+ s \\([0-9]+ lines/s\\)\n")))
      << run.err;

  EXPECT_EQ(out[0]["status"], "matched");
  EXPECT_EQ(out[0]["input"], point);
  EXPECT_EQ(out[0]["level"], "building");
  EXPECT_EQ(out[0]["code"], building);
  EXPECT_EQ(out[0]["confidence"], 1);
  EXPECT_EQ(out[0]["distance_m"], 0);
  const json& path = out[0]["path"];
  ASSERT_EQ(path.size(), 7u);  // province, city, district, town, community, grid, building
  EXPECT_EQ(path[0]["name"], "浙江省");
  EXPECT_EQ(path[0]["level"], "province");
  EXPECT_EQ(path[3]["name"], "西溪街道");
  EXPECT_EQ(path[5]["level"], "grid");
  EXPECT_EQ(path[5]["code"].get<std::string>().substr(0, 15), building.substr(0, 15));
  EXPECT_EQ(path[6]["code"], building);

  const std::vector<std::pair<int, std::string>> invalid = {
      {1, "expected lon,lat"}, {2, "not a finite number"}, {3, "number out of range"}, {4, "expected lon,lat"},
      {5, "empty"}, {6, "too long"}, {7, "control character"}, {8, "invalid UTF-8"},
      {10, "longitude outside [-180, 180]"}, {11, "latitude outside [-90, 90]"}, {12, "not a finite number"},
      {15, "not a number"}, {16, "not a number"}, {17, "control character"}};
  for (const auto& [line, reason] : invalid) {
    EXPECT_EQ(out[line]["status"], "invalid") << line;
    EXPECT_EQ(out[line]["reason"], reason) << line;
    EXPECT_FALSE(out[line].contains("code")) << line;
  }
  EXPECT_LE(out[6]["input"].get<std::string>().size(), 300u);  // echoed in part
  EXPECT_EQ(out[9]["status"], "unmatched");
  EXPECT_EQ(out[9]["reason"], "outside");
  for (int line : {13, 14, 19}) {
    EXPECT_EQ(out[line]["status"], "matched") << line;
    EXPECT_EQ(out[line]["path"][1]["name"], "杭州市") << line;
  }
  EXPECT_EQ(out[13]["code"], out[14]["code"]);
  EXPECT_EQ(out[14]["input"], "120.1,30.2");  // \r dropped

  // 西湖街道 is governed by 西湖风景名胜区 but sits under 西湖区 in the statistical tree.
  EXPECT_EQ(out[18]["code"], scenic_building);
  const json& scenic_path = out[18]["path"];
  ASSERT_GE(scenic_path.size(), 4u);
  EXPECT_EQ(scenic_path[2]["name"], "西湖区");
  EXPECT_EQ(scenic_path[3]["name"], "西湖街道");
  EXPECT_EQ(scenic_path[3]["governed_by"]["code"].get<std::string>().substr(0, 6), "330190");
}

TEST(CliPoints, ThreadsKeepTheOrder) {
  TempDir dir;
  std::string input;
  for (int64_t at = 0; at < 40000; ++at) {
    if (at % 97 == 0) {
      input += "garbage " + std::to_string(at) + "\n";
    } else {
      input += std::to_string(118.3 + 2.5 * ((at * 7919) % 10007) / 10007.0) + "," +
               std::to_string(29.1 + 1.5 * ((at * 104729) % 10009) / 10009.0) + "\n";
    }
  }
  auto file = dir.Write("many.txt", input);
  Output one = Pingan("geocode --points < '" + file.string() + "'");
  Output three = Pingan("geocode --points --threads 3 < '" + file.string() + "'");
  ASSERT_EQ(one.exit_code, 0) << one.err;
  ASSERT_EQ(three.exit_code, 0) << three.err;
  EXPECT_EQ(std::count(one.out.begin(), one.out.end(), '\n'), 40000);
  EXPECT_TRUE(one.out == three.out);
  std::vector<json> out = JsonLines(one.out);
  size_t matched = 0;
  for (const json& line : out) matched += line["status"] == "matched";
  EXPECT_GT(matched, 30000u);
  EXPECT_EQ(out[97]["status"], "invalid");
  EXPECT_EQ(out[97]["input"], "garbage 97");
}

TEST(CliPoints, PointsInGcj02OrBd09AreReadInTheirCoordinates) {
  // A building's own point, as AutoNavi (GCJ-02) and Baidu (BD-09) maps give it: some 500 m off,
  // read as WGS-84; with --coordinates, the building again.
  auto [building, point] = FirstBuilding("330106004");
  const double lon = std::stod(point.substr(0, point.find(','))), lat = std::stod(point.substr(point.find(',') + 1));
  char gcj[64], bd[64];
  const LonLat g = FromWgs84(Datum::kGcj02, {lon, lat}), b = FromWgs84(Datum::kBd09, {lon, lat});
  std::snprintf(gcj, sizeof gcj, "%.9f,%.9f", g.lon, g.lat);
  std::snprintf(bd, sizeof bd, "%.9f,%.9f", b.lon, b.lat);
  TempDir dir;
  auto file = [&](const char* line) { return dir.Write("p.txt", std::string(line) + "\n").string(); };
  auto code_of = [&](const std::string& args) {
    Output run = Pingan(args);
    EXPECT_EQ(run.exit_code, 0) << run.err;
    std::vector<json> out = JsonLines(run.out);
    EXPECT_EQ(out.size(), 1u);
    return out.empty() || !out[0].contains("code") ? std::string() : out[0]["code"].get<std::string>();
  };
  EXPECT_EQ(code_of("geocode --points --coordinates GCJ-02 < '" + file(gcj) + "'"), building);
  EXPECT_EQ(code_of("geocode --points --coordinates bd09 < '" + file(bd) + "'"), building);
  EXPECT_EQ(code_of("geocode --points --coordinates WGS-84 < '" + file(point.c_str()) + "'"), building);
  EXPECT_NE(code_of("geocode --points < '" + file(gcj) + "'"), building);
  Output unknown = Pingan("geocode --points --coordinates mars < '" + file(gcj) + "'");
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("unknown coordinate system 'mars'"), std::string::npos) << unknown.err;
  EXPECT_EQ(Pingan("geocode --coordinates GCJ-02 < '" + file("杭州市") + "'").exit_code, 1);
}

TEST(CliPoints, RefusesEvalWithPoints) {
  Output run = Pingan("geocode --points --eval x.jsonl");
  EXPECT_NE(run.exit_code, 0);
}

}  // namespace
}  // namespace pingan
