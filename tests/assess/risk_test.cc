// The risk map's engine and warnings on a copy of the report fixture (the national registry with
// a year and a half of demo feeds): grades by bands, hysteresis, drivers, warnings routed to
// grids, deduplicated, capped per town and repeated only after the configured periods.
#include <cmath>
#include <map>
#include <optional>
#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "assess/risk.h"
#include "assess/warnings.h"
#include "report/report_env.h"
#include "testing/temp_dir.h"

namespace pingan {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class RiskTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    data_ = dir_->path() / "data";
    fs::copy(std::string(PINGAN_TEST_DATA) + "/report_demo", data_, fs::copy_options::recursive);
    auto env = OpenReportEnv(fs::path(PINGAN_SOURCE_DIR) / "config", data_);
    ASSERT_TRUE(env.ok()) << env.status();
    env_ = env->release();
  }
  static void TearDownTestSuite() {
    delete env_;
    delete dir_;
    env_ = nullptr, dir_ = nullptr;
  }
  static RiskSettings Settings() {
    auto settings = LoadRiskSettings(fs::path(PINGAN_SOURCE_DIR) / "config", env_->catalog);
    EXPECT_TRUE(settings.ok()) << settings.status();
    return *settings;
  }
  static Period Month(const char* text) { return *ParsePeriod(text); }

  static testing::TempDir* dir_;
  static fs::path data_;
  static ReportEnv* env_;
};
testing::TempDir* RiskTest::dir_ = nullptr;
fs::path RiskTest::data_;
ReportEnv* RiskTest::env_ = nullptr;

TEST_F(RiskTest, GradesFollowTheBandsAndCountsFollowTheCube) {
  const Cube& cube = *env_->cube;
  auto engine = RiskEngine::Create(cube, Settings());
  ASSERT_TRUE(engine.ok()) << engine.status();
  auto all = (*engine)->AssessAll(cube, Month("2024-05"));
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 4u);
  for (const Assessment& assessment : *all) {
    ASSERT_FALSE(assessment.units.empty()) << LevelName(assessment.level);
    int with_events = 0;
    int counted[kGrades] = {};
    for (const UnitRisk& unit : assessment.units) {
      double events = 0;
      for (const Dimension& d : unit.dimensions) events += d.count;
      if (events > 0) ++with_events;
      if (events == 0) {
        EXPECT_EQ(unit.raw_grade, Grade::kGreen);
      }
      ++counted[static_cast<int>(unit.grade)];
      // Each dimension's count is the cube's figure for the unit and period.
      std::vector<int64_t> totals(cube.columns(), 0);
      cube.Sum(unit.unit, assessment.period.first, assessment.period.last, totals);
      for (size_t k = 0; k < unit.dimensions.size(); ++k) {
        const size_t column = cube.KeyTypeColumn(k);
        ASSERT_DOUBLE_EQ(unit.dimensions[k].count, cube.Value(column, totals[column]))
            << cube.registry().name(unit.unit) << " " << env_->catalog.key_types[k].id;
      }
      // Drivers have more events than expected and an index above 1, heaviest first.
      for (size_t k : unit.drivers) {
        EXPECT_GT(unit.dimensions[k].count, unit.dimensions[k].expected);
        EXPECT_GT(unit.dimensions[k].index, 1.0);
      }
    }
    for (int g = 0; g < kGrades; ++g) EXPECT_EQ(assessment.counts[g], counted[g]);
    // Quantile bands: red is the top 5 % of the units with any key event (before hysteresis).
    int red = 0;
    for (const UnitRisk& unit : assessment.units) red += unit.raw_grade == Grade::kRed;
    EXPECT_LE(red, static_cast<int>(std::ceil(0.05 * with_events)) + 1) << LevelName(assessment.level);
    if (with_events >= 40) {
      EXPECT_GE(red, 1) << LevelName(assessment.level);
    }
  }
}

// Every unit's key-type counts equal the cube's own sums for the period.
void ExpectCountsAreTheCubes(const Cube& cube, const std::vector<Assessment>& all, const char* when) {
  for (const Assessment& assessment : all) {
    for (const UnitRisk& unit : assessment.units) {
      std::vector<int64_t> totals(cube.columns(), 0);
      cube.Sum(unit.unit, assessment.period.first, assessment.period.last, totals);
      for (size_t k = 0; k < unit.dimensions.size(); ++k) {
        const size_t column = cube.KeyTypeColumn(k);
        ASSERT_DOUBLE_EQ(unit.dimensions[k].count, cube.Value(column, totals[column]))
            << when << ": " << FormatPeriod(assessment.period) << " " << cube.registry().name(unit.unit) << " key type " << k;
      }
    }
  }
}

TEST_F(RiskTest, CachedMonthCountsFollowEveryChangeOfTheCube) {
  // Whole months come from the engine's month cache, partial ones from the events: a year, a
  // quarter and a range that cuts two months stay equal to the cube's sums before and after an
  // event is added to and taken out of one of their months, and after the cache is dropped.
  Cube& cube = *env_->cube;
  auto engine = RiskEngine::Create(cube, Settings());
  ASSERT_TRUE(engine.ok()) << engine.status();
  const std::vector<Period> periods = {Month("2023"), Month("2023Q2"), *ParsePeriod("2023-04-10..2023-06-20")};
  for (const Period& period : periods) {
    auto all = (*engine)->AssessAll(cube, period);
    ASSERT_TRUE(all.ok()) << all.status();
    ExpectCountsAreTheCubes(cube, *all, "first");
  }
  // A key-type event of 2023-05 put again under a new id, then taken out.
  std::optional<CubeEvent> sample;
  const Period may = Month("2023-05");
  cube.ForEachEvent(cube.home_city(), may.first, may.last, [&](int64_t, const CubeEvent& event) {
    for (size_t k = 0; k < env_->catalog.key_types.size() && !sample; ++k) {
      if (event.sums == 0 && ((event.mask >> cube.KeyTypeColumn(k)) & 1) != 0) sample = event;
    }
  });
  ASSERT_TRUE(sample.has_value());
  const uint64_t stamp = cube.MonthStamp(may.first), april = cube.MonthStamp(may.first - 1);
  const int64_t id = static_cast<int64_t>(cube.event_states().size()) + 10;
  auto grid_count = [&](const Period& period) {
    auto all = (*engine)->AssessAll(cube, period);
    EXPECT_TRUE(all.ok());
    ExpectCountsAreTheCubes(cube, *all, "after a change");
    // The counting unit's own row (a grid, or a unit above where the event was placed higher).
    const UnitId unit{sample->unit};
    const int64_t at = (*engine)->IndexOf(unit);
    double events = 0;
    for (const Assessment& assessment : *all) {
      if (assessment.level != cube.registry().level(unit) || at < 0) continue;
      for (const Dimension& d : assessment.units[static_cast<size_t>(at)].dimensions) events += d.count;
    }
    return events;
  };
  const double before = grid_count(periods[0]);
  cube.PutCompiled(id, *sample, nullptr);
  EXPECT_NE(cube.MonthStamp(may.first), stamp) << "the month's stamp moves with its events";
  EXPECT_EQ(cube.MonthStamp(may.first - 1), april) << "other months keep theirs";
  for (const Period& period : periods) grid_count(period);
  ASSERT_GE((*engine)->IndexOf(UnitId{sample->unit}), 0) << "the event counts at a graded unit";
  EXPECT_GT(grid_count(periods[0]), before);
  cube.Remove(id);
  for (const Period& period : periods) grid_count(period);
  EXPECT_EQ(grid_count(periods[0]), before);
  (*engine)->DropCountCache();
  for (const Period& period : periods) grid_count(period);
}

TEST_F(RiskTest, HysteresisOnlyKeepsThePreviousGrade) {
  const Cube& cube = *env_->cube;
  RiskSettings settings = Settings();
  settings.hysteresis = 0;
  auto plain = RiskEngine::Create(cube, settings);
  settings.hysteresis = 0.5;
  auto sticky = RiskEngine::Create(cube, settings);
  ASSERT_TRUE(plain.ok() && sticky.ok());
  auto a = (*plain)->Assess(cube, Level::kCommunity, Month("2024-05"));
  auto b = (*sticky)->Assess(cube, Level::kCommunity, Month("2024-05"));
  ASSERT_TRUE(a.ok() && b.ok());
  int kept = 0, moved_plain = 0, moved_sticky = 0;
  for (size_t at = 0; at < a->units.size(); ++at) {
    EXPECT_EQ(a->units[at].grade, a->units[at].raw_grade);  // no hysteresis: the raw grade
    EXPECT_EQ(b->units[at].raw_grade, a->units[at].raw_grade);
    if (b->units[at].grade != b->units[at].raw_grade) {
      ++kept;
      EXPECT_EQ(b->units[at].grade, *b->units[at].previous);
    }
    moved_plain += a->units[at].grade != a->units[at].previous;
    moved_sticky += b->units[at].grade != b->units[at].previous;
  }
  EXPECT_GT(kept, 0);
  EXPECT_LT(moved_sticky, moved_plain);
}

TEST_F(RiskTest, WarningsLandOnGridsOnceAndRespectTheCapAndTheRepeatRule) {
  const Cube& cube = *env_->cube;
  RiskSettings settings = Settings();
  settings.cap_per_town = 3;
  auto engine = RiskEngine::Create(cube, settings);
  ASSERT_TRUE(engine.ok());
  auto store = WarningStore::Open(data_);
  ASSERT_TRUE(store.ok()) << store.status();
  std::map<std::string, std::set<std::pair<std::string, std::string>>> raised_by_period;
  for (const char* month : {"2024-03", "2024-04", "2024-05"}) {
    auto all = (*engine)->AssessAll(cube, Month(month));
    ASSERT_TRUE(all.ok());
    auto raised = (*store)->Raise(cube, **engine, *all, 1000);
    ASSERT_TRUE(raised.ok()) << raised.status();
    ASSERT_FALSE(raised->empty()) << month;
    size_t on_grid = 0;
    std::map<std::string, int> per_town;
    for (const Warning& warning : *raised) {
      EXPECT_TRUE(warning.grade == "red" || warning.grade == "orange") << warning.grade;
      EXPECT_EQ(warning.period, month);
      EXPECT_THAT(warning.key_type, ::testing::StartsWith("key."));
      on_grid += !warning.grids.empty();
      const Registry& registry = cube.registry();
      const UnitId unit = *registry.Find(*AddressCode::Parse(warning.unit));
      UnitId town;
      for (const std::string& code : warning.grids) {
        // Routed inside the unit (governance tree: a management unit holds other codes), to grids.
        const UnitId grid = *registry.Find(*AddressCode::Parse(code));
        EXPECT_EQ(registry.level(grid), Level::kGrid);
        EXPECT_TRUE(registry.IsWithin(grid, unit)) << warning.unit_name;
        if (!town.valid()) town = registry.AncestorAt(grid, Level::kTown);
      }
      if (registry.level(unit) >= Level::kTown) town = registry.AncestorAt(unit, Level::kTown);
      EXPECT_LE(++per_town[std::to_string(town.value)], settings.cap_per_town) << warning.unit_name;
      const nlohmann::json evidence = nlohmann::json::parse(warning.evidence);
      EXPECT_GT(evidence["count"].get<double>(), evidence["expected"].get<double>());
      // Staying red: raised again only when no warning for (unit, key type) in the periods before.
      if (!evidence["entering"].get<bool>()) {
        for (const auto& [period, keys] : raised_by_period) {
          EXPECT_EQ(keys.count({warning.unit, warning.key_type}), 0u) << warning.unit_name << " " << period;
        }
      }
      raised_by_period[month].emplace(warning.unit, warning.key_type);
    }
    EXPECT_GE(on_grid, raised->size() * 9 / 10) << month;
    // The same assessment again stores nothing new (one warning per unit, key type, period).
    auto again = (*store)->Raise(cube, **engine, *all, 2000);
    ASSERT_TRUE(again.ok());
    EXPECT_TRUE(again->empty());
  }
  // Durable: a second store on the same database lists them.
  auto reopened = WarningStore::Open(data_);
  ASSERT_TRUE(reopened.ok());
  auto listed = (*reopened)->List("2024-05", "3301", 100000);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), raised_by_period["2024-05"].size());
}

TEST(RiskSettingsTest, BadSettingsNameTheFileLineAndKey) {
  testing::TempDir dir;
  const fs::path config = testing::CopyConfig(dir);
  auto catalog = LoadCatalog(config);
  ASSERT_TRUE(catalog.ok());
  struct Case {
    std::string text, expect;
  };
  for (const Case& test : {Case{"[weights]\n\"key.nope\" = 1\n", "risk.toml:2: key.nope"},
                           Case{"[weights]\n\"key.theft\" = -1\n", "risk.toml:2"},
                           Case{"[bands]\nmethod = \"quantile\"\nred = 0.3\norange = 0.1\n", "bands"},
                           Case{"[bands]\nmethod = \"sometimes\"\n", "quantile or fixed"},
                           Case{"[warnings]\ngrades = [\"purple\"]\n", "warnings.grades"},
                           Case{"[warnings]\nrepeat_after = 0\n", "repeat_after"},
                           Case{"[complexity]\nper = 0\n", "complexity.per"},
                           Case{"[mystery]\n", "not a setting"},
                           Case{"[bands\n", "risk.toml:1"}}) {
    dir.Write("config/risk.toml", test.text);
    auto settings = LoadRiskSettings(config, *catalog);
    ASSERT_FALSE(settings.ok()) << test.text;
    EXPECT_THAT(std::string(settings.status().message()), HasSubstr(test.expect)) << test.text;
  }
  dir.Write("config/risk.toml", "[bands]\nmethod = \"fixed\"\nred = 3\norange = 2\nyellow = 1.5\nblue = 1.2\n");
  auto fixed = LoadRiskSettings(config, *catalog);
  ASSERT_TRUE(fixed.ok()) << fixed.status();
  EXPECT_FALSE(fixed->quantile);
  EXPECT_EQ(fixed->bands[0], 3);
}

}  // namespace
}  // namespace pingan
