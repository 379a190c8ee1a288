// End-to-end tests of the `pingan` binary over the national registry fixture (the whole of
// China and a scale-0.01 demo city, built by the `testdata_national` CTest fixture).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "address/code.h"
#include "testing/pingan_cli.h"
#include "testing/temp_dir.h"

namespace pingan {
namespace {

using nlohmann::json;
using testing::Output;
using testing::TempDir;

const std::string kData = testing::NationalData();
Output Pingan(const std::string& args, const std::string& data = kData) { return testing::RunPingan(args, data); }

// The geocoder's index file beside the database: written by the first run that builds the
// index, read by the next, rebuilt when damaged; the answers the same every time. On a copy of
// the fixture, which other tests read at the same time.
TEST(Cli, GeocodeKeepsItsIndexBesideTheDatabaseAndReadsItBack) {
  TempDir dir;
  const std::filesystem::path data = dir.path() / "data";
  std::filesystem::create_directories(data);
  for (const char* name : {"pingan.db", "pingan.db.registry", "pingan.toml"}) {
    std::filesystem::copy_file(std::filesystem::path(kData) / name, data / name);
  }
  const std::filesystem::path index = data / "pingan.db.matcher";
  ASSERT_FALSE(std::filesystem::exists(index));
  auto lines = dir.Write("lines.txt", "浙江省杭州市西湖区西溪街道石灰桥社区\n五常\n江干区下沙\n肖山区\n北京市海淀区\n火星\n");
  ::setenv("PINGAN_CUBE_TIMING", "1", 1);  // the start-up stages, on stderr
  const Output built = Pingan("geocode < '" + lines.string() + "'", data.string());
  const Output read = Pingan("geocode < '" + lines.string() + "'", data.string());
  std::filesystem::resize_file(index, std::filesystem::file_size(index) / 2);  // damaged
  const Output rebuilt = Pingan("geocode < '" + lines.string() + "'", data.string());
  const Output read_again = Pingan("geocode < '" + lines.string() + "'", data.string());
  ::unsetenv("PINGAN_CUBE_TIMING");
  for (const Output* run : {&built, &read, &rebuilt, &read_again}) {
    ASSERT_EQ(run->exit_code, 0) << run->err;
    EXPECT_EQ(run->out, built.out);
  }
  EXPECT_EQ(std::count(built.out.begin(), built.out.end(), '\n'), 6);
  EXPECT_NE(built.err.find("matcher index: "), std::string::npos) << built.err;   // built
  EXPECT_NE(read.err.find("matcher index file: "), std::string::npos) << read.err;  // read
  EXPECT_EQ(read.err.find("matcher index: "), std::string::npos) << read.err;
  EXPECT_NE(rebuilt.err.find("matcher index: "), std::string::npos) << rebuilt.err;
  EXPECT_NE(read_again.err.find("matcher index file: "), std::string::npos) << read_again.err;
}

TEST(Cli, CatalogSaysHowEachSourceIsRead) {
  TempDir dir;
  const std::filesystem::path config = testing::CopyConfig(dir);
  std::string sources = testing::ReadFile(config / "catalog" / "sources.toml");
  const std::string police_format = "time_format = \"%Y-%m-%d %H:%M:%S\"";
  ASSERT_NE(sources.find(police_format), std::string::npos);
  sources.replace(sources.find(police_format), police_format.size(),
                  police_format + "\nencoding = \"GB18030\"\ncoordinates = \"BD-09\"");
  dir.Write("config/catalog/sources.toml", sources);
  Output run = Pingan("catalog --config '" + config.string() + "'", "");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  std::istringstream lines(run.out);
  std::string police, court;
  for (std::string line; std::getline(lines, line);) {
    if (line.find("; domains: ") == std::string::npos) continue;  // the sources' lines
    if (line.rfind("  police ", 0) == 0) police = line;
    if (line.rfind("  court ", 0) == 0) court = line;
  }
  EXPECT_NE(police.find("mapped fields; files in GB18030; points in BD-09"), std::string::npos) << police;
  ASSERT_FALSE(court.empty()) << run.out;
  EXPECT_EQ(court.find("points in"), std::string::npos) << court;
}

TEST(Cli, UnitsOfTheNationListsTheProvinces) {
  Output run = Pingan("units --json");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  json tree = json::parse(run.out);
  EXPECT_EQ(tree["code"], std::string(27, '0'));
  EXPECT_EQ(tree["level"], "nation");
  ASSERT_EQ(tree["children"].size(), 31u);
  EXPECT_EQ(tree["children"][0]["name"], "北京市");
  EXPECT_EQ(tree["children"][0]["level"], "province");
}

TEST(Cli, HangzhouHasFourteenDistrictLevelUnits) {
  Output run = Pingan("units 3301 --json");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  json tree = json::parse(run.out);
  EXPECT_EQ(tree["name"], "杭州市");
  EXPECT_EQ(tree["level"], "city");
  ASSERT_EQ(tree["children"].size(), 14u);
  std::vector<std::string> names;
  for (const json& child : tree["children"]) {
    names.push_back(child["name"]);
    EXPECT_EQ(child["level"], "district");
    EXPECT_EQ(child["code"].get<std::string>().size(), 27u);
  }
  EXPECT_NE(std::find(names.begin(), names.end(), "西湖风景名胜区"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "钱塘区"), names.end());
  EXPECT_EQ(std::find(names.begin(), names.end(), "江干区"), names.end());
  // 西湖街道 is under the scenic area, not under 西湖区.
  json scenic = json::parse(Pingan("units 330190 --json").out);
  ASSERT_EQ(scenic["children"].size(), 1u);
  EXPECT_EQ(scenic["children"][0]["name"], "西湖街道");
  json west_lake = json::parse(Pingan("units 330106 --json").out);
  for (const json& town : west_lake["children"]) EXPECT_NE(town["name"], "西湖街道");
}

TEST(Cli, UnitsWithoutJsonPrintsATable) {
  Output run = Pingan("units 330106004");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("西溪街道"), std::string::npos);
  EXPECT_NE(run.out.find("community"), std::string::npos);
}

TEST(Cli, DongguanTownsHangUnderTheCity) {
  json tree = json::parse(Pingan("units 4419 --json").out);
  EXPECT_EQ(tree["name"], "东莞市");
  ASSERT_GT(tree["children"].size(), 20u);
  EXPECT_EQ(tree["children"][0]["level"], "town");
}

TEST(Cli, CodeWalksDownToTheRoom) {
  // Find a real building of the demo city and one of its rooms.
  json grid_list = json::parse(Pingan("units 330106004 --json --depth 2").out);
  std::string community = grid_list["children"][0]["code"];
  json grids = json::parse(Pingan("units " + community.substr(0, 12) + " --json --depth 2").out);
  std::string building = grids["children"][0]["children"][0]["code"];
  json rooms = json::parse(Pingan("units " + building.substr(0, 20) + " --json --depth 2").out);
  json first = rooms["children"][0];
  std::string room_code = first.contains("children") && !first["children"].empty() ? first["children"][0]["code"]
                                                                                    : first["code"];
  Output run = Pingan("code " + room_code + " --json");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  json answer = json::parse(run.out);
  EXPECT_EQ(answer["level"], "room");
  ASSERT_GE(answer["path"].size(), 8u);
  EXPECT_EQ(answer["path"][0]["name"], "浙江省");
  EXPECT_EQ(answer["path"][2]["name"], "西湖区");
  EXPECT_EQ(answer["path"][3]["name"], "西溪街道");
  EXPECT_EQ(answer["path"].back()["code"], room_code);
}

TEST(Cli, CodeRejectsMalformedAndUnknownCodesWithExitOne) {
  Output short_code = Pingan("code 330106");
  EXPECT_EQ(short_code.exit_code, 1);
  EXPECT_NE(short_code.err.find("exactly 27 digits"), std::string::npos) << short_code.err;
  EXPECT_EQ(std::count(short_code.err.begin(), short_code.err.end(), '\n'), 1);
  Output letters = Pingan("code 33010600400300100012030120X");
  EXPECT_EQ(letters.exit_code, 1);
  EXPECT_NE(letters.err.find("not a digit"), std::string::npos);
  Output unknown = Pingan("code 330106999000000000000000000");
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("under 西湖区"), std::string::npos) << unknown.err;
  Output hostile = Pingan("code \"$(printf '\\x01\\xff')\"");
  EXPECT_EQ(hostile.exit_code, 1);
}

TEST(Cli, FormerUnitsLandOnTodaysUnits) {
  Output xiacheng = Pingan("code 330103000000000000000000000");
  EXPECT_EQ(xiacheng.exit_code, 1);
  EXPECT_NE(xiacheng.err.find("下城区"), std::string::npos);
  EXPECT_NE(xiacheng.err.find("拱墅区"), std::string::npos) << xiacheng.err;

  auto resolve = [](const std::string& args) { return json::parse(Pingan("history --json " + args).out); };
  json jiubao = resolve("--former 江干区 --town 九堡街道");
  EXPECT_EQ(jiubao["code"].get<std::string>().substr(0, 9), "330102018");  // 上城区 九堡街道
  EXPECT_TRUE(jiubao["exact"]);
  json xiasha = resolve("--former 江干区 --town 下沙");
  EXPECT_EQ(xiasha["code"].get<std::string>().substr(0, 9), "330114001");  // 钱塘区 下沙街道
  json jianggan = resolve("--former 330104");
  EXPECT_EQ(jianggan["code"].get<std::string>().substr(0, 6), "330102");
  EXPECT_FALSE(jianggan["exact"]);
  json linping = resolve("--former 余杭区 --town 临平街道");
  EXPECT_EQ(linping["code"].get<std::string>().substr(0, 9), "330113001");  // 临平区 临平街道
  json wuchang = resolve("--former 余杭区 --town 五常");
  EXPECT_EQ(wuchang["code"].get<std::string>().substr(0, 9), "330110005");  // still 余杭区
  json fuyang = resolve("--former 富阳市 --town 富春街道");
  EXPECT_EQ(fuyang["code"].get<std::string>().substr(0, 9), "330111001");
  json linan = resolve("--former 临安市");
  EXPECT_EQ(linan["code"].get<std::string>().substr(0, 6), "330112");
  json wuling = resolve("--former 下城区 --town 武林");
  EXPECT_EQ(wuling["code"].get<std::string>().substr(0, 9), "330105013");  // 拱墅区 武林街道
  json henzhuang = resolve("--former 萧山区 --town 河庄街道");
  EXPECT_EQ(henzhuang["code"].get<std::string>().substr(0, 9), "330114003");
  Output nothing = Pingan("history --former 不存在区");
  EXPECT_EQ(nothing.exit_code, 1);
}

TEST(Cli, BadDataDirectoriesAndConfigsFailWithOneLine) {
  TempDir dir;
  Output missing = Pingan("units 3301", (dir.path() / "nowhere").string());
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("is not a pingan data directory"), std::string::npos) << missing.err;
  EXPECT_EQ(std::count(missing.err.begin(), missing.err.end(), '\n'), 1);

  dir.Write("corrupt/pingan.toml", "home_city = \"3301\"\ntime_zone = \"Asia/Shanghai\"\n");
  dir.Write("corrupt/pingan.db", std::string(4096, 'x'));
  Output corrupt = Pingan("units 3301", (dir.path() / "corrupt").string());
  EXPECT_EQ(corrupt.exit_code, 1);
  EXPECT_NE(corrupt.err.find("is not a pingan database"), std::string::npos) << corrupt.err;
  EXPECT_EQ(testing::ReadFile(dir.path() / "corrupt/pingan.db"), std::string(4096, 'x'));

  dir.Write("config/units.toml", "[[management_unit]\n");
  Output broken = Pingan("init --province 33 --scale 0.001 --config " + (dir.path() / "config").string(),
                      (dir.path() / "fresh").string());
  EXPECT_EQ(broken.exit_code, 1);
  EXPECT_NE(broken.err.find("units.toml:1"), std::string::npos) << broken.err;
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "fresh/pingan.db"));

  Output usage = Pingan("units 3301 --depth 9");
  EXPECT_EQ(usage.exit_code, 2);
  Output refused = Pingan("init --scale 0.001 --province 33");
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("--rebuild"), std::string::npos) << refused.err;
}

TEST(Cli, InfoCountsTheNationAndTheCity) {
  Output run = Pingan("info --json");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  json info = json::parse(run.out);
  EXPECT_EQ(info["levels"]["province"]["nation"], 31);
  EXPECT_EQ(info["levels"]["district"]["home_city"], 14);
  EXPECT_EQ(info["levels"]["town"]["home_city"], 196);
  EXPECT_EQ(info["levels"]["community"]["home_city"], 3320);
  EXPECT_GT(info["levels"]["community"]["nation"].get<int>(), 600000);
  EXPECT_EQ(info["home_city_name"], "杭州市");
}

}  // namespace
}  // namespace pingan

namespace pingan {
namespace {

// kill -9 at any moment of an init leaves either no data directory or a complete one that
// opens and holds the whole registry; an interrupted rebuild leaves the old one intact.
TEST(CliDurability, KillDuringInitLeavesNothingHalfBuilt) {
  TempDir dir;
  const std::string data = (dir.path() / "data").string();
  const std::string init = std::string(PINGAN_BINARY) + " init --province 33 --scale 0.002 --data '" + data + "'";
  int complete = 0;
  for (int attempt = 0; attempt < 6; ++attempt) {
    const int delay_ms = 150 + attempt * 400;
    std::string command = "ASAN_OPTIONS=detect_leaks=0 " + init + (attempt % 2 ? " --rebuild" : "") +
                          " >/dev/null 2>&1 & pid=$!; sleep " + std::to_string(delay_ms / 1000.0) +
                          "; kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null; true";
    ASSERT_EQ(std::system(command.c_str()), 0);
    if (std::filesystem::exists(dir.path() / "data/pingan.db")) {
      Output units = Pingan("units 3301 --json", data);
      ASSERT_EQ(units.exit_code, 0) << "after a kill at " << delay_ms << " ms: " << units.err;
      EXPECT_EQ(json::parse(units.out)["children"].size(), 14u);
      ++complete;
    }
  }
  // Converges: a plain re-run completes, and temporary files of killed runs do not count.
  Output rerun = Pingan("init --province 33 --scale 0.002 --rebuild", data);
  ASSERT_EQ(rerun.exit_code, 0) << rerun.err;
  EXPECT_EQ(json::parse(Pingan("units 3301 --json", data).out)["children"].size(), 14u);
  for (const auto& entry : std::filesystem::directory_iterator(dir.path() / "data")) {
    EXPECT_EQ(entry.path().filename().string().find(".tmp-"), std::string::npos)
        << "a killed run's temporary file was left: " << entry.path();
  }
  RecordProperty("complete_after_kill", complete);
}

}  // namespace
}  // namespace pingan

namespace pingan {
namespace {

// One JSON value per line of `out`.
std::vector<json> JsonLines(const std::string& out) {
  std::vector<json> lines;
  std::istringstream stream(out);
  for (std::string line; std::getline(stream, line);) lines.push_back(json::parse(line));
  return lines;
}

TEST(CliGeocode, AnswersOneJsonLinePerInputLineInOrder) {
  TempDir dir;
  // Lines: a full address, a former name, nothing known, an empty line, a control byte, bad
  // UTF-8, a CRLF line, a phone number that must not be echoed.
  std::string input = "浙江省杭州市西湖区西溪街道\n江干区九堡街道\nqwerty\n\nab\x01" "cd\n\xff\xfe\n下城区\r\n九堡街道13800000000\n";
  auto file = dir.Write("in.txt", input);
  Output run = Pingan("geocode --timing < '" + file.string() + "'");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  // --timing: one line on stderr (stdout keeps only the answers), counting every line read.
  EXPECT_TRUE(std::regex_match(run.err, std::regex("pingan geocode: start-up [0-9.]+ s; 8 lines answered in [0-9.]+ s "
                                                   "\\([0-9]+ lines/s\\)\n")))
      << run.err;
  const std::vector<json> lines = JsonLines(run.out);
  ASSERT_EQ(lines.size(), 8u);
  EXPECT_EQ(lines[0]["status"], "matched");
  EXPECT_EQ(lines[0]["code"].get<std::string>().substr(0, 9), "330106004");
  EXPECT_EQ(lines[0]["path"][0]["name"], "浙江省");
  EXPECT_EQ(lines[1]["formerly"]["name"], "江干区");
  EXPECT_EQ(lines[1]["code"].get<std::string>().substr(0, 9), "330102018");
  EXPECT_EQ(lines[2]["status"], "unmatched");
  EXPECT_FALSE(lines[2]["reason"].get<std::string>().empty());
  EXPECT_EQ(lines[3]["status"], "invalid");
  EXPECT_EQ(lines[4]["status"], "invalid");
  EXPECT_EQ(lines[4]["reason"], "control character");
  EXPECT_EQ(lines[5]["status"], "invalid");
  EXPECT_EQ(lines[6]["code"].get<std::string>().substr(0, 6), "330105");  // \r dropped
  EXPECT_EQ(lines[7]["input"].get<std::string>().find("13800000000"), std::string::npos);
}

TEST(CliGeocode, RealAddressFormsNationally) {
  // Forms real records use that the labelled sets missed (docs/geocoder.md): zones by their
  // abbreviation, autonomous prefectures by their place, a 街道办事处 as 街道, a county with no
  // town of the name written, a zone the registry does not list, a district merged away.
  TempDir dir;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"长春市高新区", "220173"},               // 长春高新技术产业开发区, not 常州's 高新区
      {"合肥市经开区", "340177"},               // 合肥经济技术开发区, not 天津's 南开区
      {"湖北恩施州利川市", "422802"},           // not 恩施市
      {"阿拉善左旗王府街道", "152921405"},      // 王府街道办事处
      {"安徽省阜阳市临泉县城关镇", "341221"},   // 临泉县, not 太和县's 城关镇
      {"成都市高新区", "5101"},                 // 成都市: no 高新区 of 成都 is registered
      {"上海市卢湾区", "31"},                   // not 温州's 龙湾区
      {"靖江街道玫瑰新村5栋", "330109"},        // the town written, not a 玫瑰新村 in 四川
      {"桐君街道东方小区2幢", "330122"},        // not 道东 (a 道东街道 of 河北) across 街道|东方
      // Village names shared by hundreds (李庄村: 335 in China): found in the town written, not
      // cut off after the first 64 of the province written.
      {"河南省桐柏县毛集镇李庄村", "411330104214"},
      {"山东省菏泽市定陶区半堤镇王庄村建设路248号", "371703108222"},
      {"新疆维吾尔自治区双河市博河镇七连生活区", "659007102505"},
      // A village with its town's name, after the town: the village, not the town twice.
      {"庆阳市宁县中村镇中村", "621026108211"},
      {"平乡县田付村镇田付村健康路105号", "130532103201"},
      // A committee written another way than the registry's 幸福村委会 (幸福村村村民委员会 is a
      // village's official name elsewhere, so 幸福村村 is a key that must not take the 村 of
      // 村民小组); an official name with a committee word inside it is still read whole.
      {"长春市宽城区长德街道幸福村村民委员会", "220103011203"},
      {"长春市宽城区长德街道幸福村村委会", "220103011203"},
      {"长春市宽城区长德街道幸福村民委员会", "220103011203"},
      {"长春市宽城区长德街道幸福村村民小组", "220103011203"},
      {"北京市东城区多福巷居委会", "110101001001"},
      {"黑龙江鸡西市虎林市东方红林业局第十七居民委员会社区", "230381400416"},
  };
  std::string input;
  for (const auto& [text, code] : cases) input += text + "\n";
  Output run = Pingan("geocode < '" + dir.Write("in.txt", input).string() + "'");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  std::istringstream stream(run.out);
  for (const auto& [text, code] : cases) {
    std::string line;
    ASSERT_TRUE(std::getline(stream, line)) << text;
    const json answer = json::parse(line);
    EXPECT_EQ(answer["code"].get<std::string>().substr(0, code.size()), code) << text << ": " << line;
  }
  // A town's short name that begins a road's name is not the town (中关村 of 中关村南大街 is no
  // 中关村街道, though the same characters officially name villages elsewhere; 陆家嘴环路), nor
  // is a community's that ends one: the road is not in the registry, so the answer is the
  // district, partial.
  Output roads = Pingan("geocode < '" +
                        dir.Write("roads.txt", "北京市海淀区中关村南大街5号\n上海市浦东新区陆家嘴环路1000号\n"
                                               "北京市海淀区中关村大街27号\n北京市海淀区中关村\n"
                                               // 北路 ends the road 中华北路: no 北路社区 by its short name;
                                               // after the town, it is that community.
                                               "贵州省贵阳市云岩区中华北路\n贵阳市云岩区三桥路街道北路\n").string() + "'");
  ASSERT_EQ(roads.exit_code, 0) << roads.err;
  std::istringstream road_lines(roads.out);
  const std::pair<const char*, const char*> expected[] = {{"110108", "district"}, {"310115", "district"},
                                                          {"110108", "district"}, {"110108", "town"},
                                                          {"520103", "district"}, {"520103", "community"}};
  for (const auto& [code, level] : expected) {
    std::string line;
    ASSERT_TRUE(std::getline(road_lines, line));
    const json answer = json::parse(line);
    EXPECT_EQ(answer["code"].get<std::string>().substr(0, 6), code) << line;
    EXPECT_EQ(answer["level"], level) << line;
  }
}

TEST(CliGeocode, EvalScoresALabelledSet) {
  TempDir dir;
  auto file = dir.Write("eval.jsonl",
                        "{\"text\":\"西湖区西溪街道\",\"expect\":{\"district\":\"西湖区\",\"town\":\"330106004\"}}\n"
                        "{\"text\":\"江干区九堡\",\"expect\":{\"district\":\"上城区\"}}\n"
                        "{\"text\":\"西湖区\",\"expect\":{\"district\":\"滨江区\"}}\n");
  Output run = Pingan("geocode --eval '" + file.string() + "'");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("district     66.67%  (2 of 3)"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("town        100.00%  (1 of 1)"), std::string::npos) << run.out;
  Output timed = Pingan("geocode --timing --eval '" + file.string() + "'");  // --timing is for answering lines
  EXPECT_NE(timed.exit_code, 0);
  EXPECT_NE(timed.err.find("excludes"), std::string::npos) << timed.err;
  auto bad = dir.Write("bad.jsonl", "{\"text\": 5}\n");
  Output refused = Pingan("geocode --eval '" + bad.string() + "'");
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("bad.jsonl:1"), std::string::npos) << refused.err;
  // A line over 1 MiB is refused by its number, never read whole.
  auto huge = dir.Write("huge.jsonl", "{\"text\":\"西湖区\",\"expect\":{\"district\":\"西湖区\"}}\n{\"text\":\"" +
                                          std::string((1 << 20) + 10, 'a') + "\"}\n");
  Output too_long = Pingan("geocode --eval '" + huge.string() + "'");
  EXPECT_EQ(too_long.exit_code, 1);
  EXPECT_NE(too_long.err.find("huge.jsonl:2: line longer than"), std::string::npos) << too_long.err;
  // An expectation at an unknown level is refused too.
  auto level = dir.Write("level.jsonl", "{\"text\":\"西湖区\",\"expect\":{\"galaxy\":\"西湖区\"}}\n");
  Output bad_level = Pingan("geocode --eval '" + level.string() + "'");
  EXPECT_EQ(bad_level.exit_code, 1);
  EXPECT_NE(bad_level.err.find("level.jsonl:1: bad expectation 'galaxy'"), std::string::npos) << bad_level.err;
}


TEST(CliGeocode, HostileLinesAreAnsweredInvalidInOrder) {
  TempDir dir;
  std::string input = "西湖区\n";
  input += std::string((1 << 20) + 100, 'a') + "\n";  // over 1 MiB
  input += "西湖区\n";
  std::string noise;
  for (int byte = 0; byte < 256; ++byte) noise.push_back(static_cast<char>((byte * 37 + 11) % 256 == 10 ? 0 : (byte * 37 + 11) % 256));
  input += noise + "\n";
  input += std::string("\0\0", 2) + "\n";
  input += "滨江区";  // no final newline
  auto file = dir.Write("hostile.txt", input);
  Output run = Pingan("geocode < '" + file.string() + "'");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::vector<json> lines = JsonLines(run.out);
  ASSERT_EQ(lines.size(), 6u);
  EXPECT_EQ(lines[0]["status"], "matched");
  EXPECT_EQ(lines[1]["status"], "invalid");
  EXPECT_EQ(lines[1]["reason"], "too long");
  EXPECT_LE(lines[1]["input"].get<std::string>().size(), 256u);
  EXPECT_EQ(lines[2]["status"], "matched");
  EXPECT_EQ(lines[3]["status"], "invalid");
  EXPECT_EQ(lines[4]["status"], "invalid");
  EXPECT_EQ(lines[5]["code"].get<std::string>().substr(0, 6), "330108");
}

TEST(CliGeocode, AddressesInGbkAreReadWithEncoding) {
  TempDir dir;
  // 浙江省杭州市西湖区 and 滨江区 in GBK, byte by byte from the GB 2312 chart; then a line that is
  // not GBK (0xFF), and 滨江区 again without a final newline.
  const std::string gbk = "\xD5\xE3\xBD\xAD\xCA\xA1\xBA\xBC\xD6\xDD\xCA\xD0\xCE\xF7\xBA\xFE\xC7\xF8\r\n"
                          "\xB1\xF5\xBD\xAD\xC7\xF8\n\xFF\n\xB1\xF5\xBD\xAD\xC7\xF8";
  auto file = dir.Write("gbk.txt", gbk);
  Output run = Pingan("geocode --encoding GBK < '" + file.string() + "'");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::vector<json> lines = JsonLines(run.out);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0]["input"], "浙江省杭州市西湖区");
  EXPECT_EQ(lines[0]["code"].get<std::string>().substr(0, 6), "330106");
  EXPECT_EQ(lines[1]["code"].get<std::string>().substr(0, 6), "330108");
  EXPECT_EQ(lines[2]["status"], "invalid");
  EXPECT_EQ(lines[2]["reason"], "not valid GBK");
  EXPECT_EQ(lines[3]["code"].get<std::string>().substr(0, 6), "330108");
  // Read as UTF-8, the same bytes are invalid; an unknown encoding, or one for points, stops.
  Output as_utf8 = Pingan("geocode < '" + file.string() + "'");
  EXPECT_NE(as_utf8.out.find("\"status\":\"invalid\""), std::string::npos);
  Output unknown = Pingan("geocode --encoding klingon < '" + file.string() + "'");
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("unknown encoding 'klingon'"), std::string::npos) << unknown.err;
  EXPECT_EQ(Pingan("geocode --points --encoding GBK < '" + file.string() + "'").exit_code, 1);
}

// The labelled sets init wrote: threads keep the order, and the answers reach the rooms.
TEST(CliGeocode, ThreadsKeepTheOrderAndTheSetsScore) {
  const std::string clean = kData + "/eval/clean.jsonl";
  std::ifstream in(clean);
  ASSERT_TRUE(in) << clean;
  TempDir dir;
  std::string texts;
  size_t count = 0;
  for (std::string line; std::getline(in, line) && count < 4000; ++count) texts += json::parse(line)["text"].get<std::string>() + "\n";
  auto file = dir.Write("texts.txt", texts);
  Output one = Pingan("geocode < '" + file.string() + "'");
  Output two = Pingan("geocode --threads 2 < '" + file.string() + "'");
  ASSERT_EQ(one.exit_code, 0) << one.err;
  ASSERT_EQ(two.exit_code, 0) << two.err;
  EXPECT_EQ(one.out, two.out);
  EXPECT_EQ(static_cast<size_t>(std::count(one.out.begin(), one.out.end(), '\n')), count);
  EXPECT_NE(one.out.find(R"("level":"room")"), std::string::npos);
  Output eval = Pingan("geocode --eval '" + clean + "'");
  ASSERT_EQ(eval.exit_code, 0) << eval.err;
  // Every level at 99 % or better on the clean set (scale 0.01: a small demo city).
  std::istringstream report(eval.out);
  size_t levels = 0;
  for (std::string line; std::getline(report, line);) {
    double percent = 0;
    char level[32];
    if (std::sscanf(line.c_str(), " %31s %lf%%", level, &percent) == 2 && ParseLevel(level)) {
      ++levels;
      EXPECT_GE(percent, 99.0) << line;
    }
  }
  EXPECT_GE(levels, 5u) << eval.out;
  Output refused = Pingan("geocode --threads 0 < '" + file.string() + "'");
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_TRUE(refused.out.empty());
}

}  // namespace
}  // namespace pingan
