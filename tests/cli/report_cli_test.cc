// `pingan report`, `series`, `breakdown`, `league`, `bulletin`, `clusters`, `major` and `cube`
// through the binary, on a copy of the report fixture (the national fixture with a year and a
// half of demo feeds ingested).
#include <sqlite3.h>

#include <cmath>
#include <fstream>
#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "testing/pingan_cli.h"
#include "testing/temp_dir.h"

namespace pingan {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::RunPingan;
using testing::TempDir;
using Json = nlohmann::json;

class ReportCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    data_ = (dir_->path() / "data").string();
    // testdata_report_demo: the national fixture with `pingan demo --seed 5 --from 2023-01-01
    // --to 2024-06-30` ingested, made once per test run.
    fs::copy(std::string(PINGAN_TEST_DATA) + "/report_demo", data_, fs::copy_options::recursive);
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static Json RunJson(const std::string& args) {
    const testing::Output run = RunPingan(args + " --json", data_);
    EXPECT_EQ(run.exit_code, 0) << args << ": " << run.err;
    return Json::parse(run.out, nullptr, false);
  }
  static std::string CatalogIndicator(size_t index) {
    static const Json catalog = Json::parse(RunPingan("catalog --json", "").out, nullptr, false);
    return catalog["indicators"][index]["id"];
  }
  static TempDir* dir_;
  static std::string data_;
};
TempDir* ReportCliTest::dir_ = nullptr;
std::string ReportCliTest::data_;

TEST_F(ReportCliTest, ReportJsonHoldsThe33IndicatorsInOrderWithYoyAndMom) {
  const Json report = RunJson("report --unit 330106 --period 2024-05");
  ASSERT_TRUE(report.is_object());
  EXPECT_EQ(report["unit"], "330106000000000000000000000");
  EXPECT_EQ(report["period"], "2024-05");
  EXPECT_EQ(report["complete"], true);
  ASSERT_EQ(report["indicators"].size(), 33u);
  for (size_t i = 0; i < 33; ++i) {
    const Json& line = report["indicators"][i];
    EXPECT_EQ(line["id"], CatalogIndicator(i));
    EXPECT_TRUE(line["value"].is_number());
    EXPECT_EQ(line["yoy"]["period"], "2023-05");
    EXPECT_EQ(line["mom"]["period"], "2024-04");
    const double value = line["value"], base = line["yoy"]["value"];
    if (base != 0) {
      EXPECT_NEAR(line["yoy"]["change_pct"].get<double>(), (value - base) / base * 100, 0.006) << line["id"];
      EXPECT_FALSE(line["yoy"]["new"].get<bool>());
    } else if (value != 0) {
      EXPECT_TRUE(line["yoy"]["change_pct"].is_null());
      EXPECT_TRUE(line["yoy"]["new"].get<bool>());
    }
  }
  ASSERT_EQ(report["key_types"].size(), 9u);
  EXPECT_EQ(report["freshness"].size(), 7u);
  // Money carries no significance; counts do.
  for (const Json& line : report["indicators"]) {
    if (line["id"] == "traffic.loss_yuan") {
      EXPECT_TRUE(line["yoy"]["significant"].is_null());
    }
    if (line["id"] == "criminal.filed") {
      EXPECT_TRUE(line["yoy"]["significant"].is_boolean());
    }
  }
  // The city's criminal.filed is the sum over its breakdown, unplaced remainder included.
  const Json city = RunJson("report --period 2024-05");
  const Json breakdown = RunJson("breakdown --indicator criminal.filed --period 2024-05");
  double sum = 0;
  for (const Json& row : breakdown["rows"]) sum += row["value"].get<double>();
  EXPECT_EQ(sum, city["indicators"][0]["value"].get<double>());
  EXPECT_EQ(breakdown["rows"].back()["unplaced"], true);
}

TEST_F(ReportCliTest, YearToDateHasNoMomAndAPeriodPastTheDataIsReportedThroughItsLastDay) {
  const Json ytd = RunJson("report --period ytd:2024-03-31");
  EXPECT_TRUE(ytd["indicators"][0]["mom"].is_null());
  EXPECT_EQ(ytd["indicators"][0]["yoy"]["period"], "ytd:2023-03-31");
  // The data end on 2024-06-30: the third quarter is empty and incomplete, not a fall of 100%.
  const Json later = RunJson("report --period 2024Q3");
  EXPECT_EQ(later["complete"], false);
  for (const Json& line : later["indicators"]) {
    EXPECT_EQ(line["value"], 0);
    EXPECT_EQ(line["yoy"]["value"], 0) << "compared over as many days as the period has data";
  }
  // Half a year counted: compared with the same half of last year.
  const Json half = RunJson("report --period 2024");
  EXPECT_EQ(half["complete"], false);
  EXPECT_EQ(half["through"], "2024-06-30");
  EXPECT_EQ(half["indicators"][0]["yoy"]["period"], "2023-01-01..2023-06-30");
}

TEST_F(ReportCliTest, SeriesLeagueBulletinClustersAndMajor) {
  const Json series = RunJson("series --indicator key.dispute --period 2024-06 --count 6");
  ASSERT_EQ(series["points"].size(), 6u);
  EXPECT_EQ(series["points"][0]["period"], "2024-01");
  EXPECT_EQ(series["points"][5]["period"], "2024-06");
  const Json june = RunJson("report --period 2024-06");
  EXPECT_EQ(series["points"][5]["value"], june["key_types"][3]["value"]);  // key.dispute

  const Json league = RunJson("league --period 2024-05");
  ASSERT_EQ(league["rows"].size(), 14u);
  for (size_t i = 0; i < league["rows"].size(); ++i) {
    EXPECT_GE(league["rows"][i]["rank"].get<int>(), 1);
    if (i > 0) {
      EXPECT_GE(league["rows"][i - 1]["score"].get<double>(), league["rows"][i]["score"].get<double>());
    }
    EXPECT_TRUE(league["rows"][i]["rank_change"].is_number());
  }

  const testing::Output bulletin = RunPingan("bulletin --period 2024-05", data_);
  EXPECT_EQ(bulletin.exit_code, 0);
  EXPECT_THAT(bulletin.out, HasSubstr("2024年5月，全市命案"));
  EXPECT_THAT(bulletin.out, HasSubstr("同比"));
  const testing::Output english = RunPingan("bulletin --period 2024-05 --lang en", data_);
  EXPECT_THAT(english.out, HasSubstr("May 2024, the city: "));

  const Json clusters = RunJson("clusters --unit 3301 --period 2024-05");
  ASSERT_EQ(clusters["domains"].size(), 7u);
  for (const Json& domain : clusters["domains"]) {
    int64_t by_hour = 0, by_weekday = 0;
    for (const Json& n : domain["by_hour"]) by_hour += n.get<int64_t>();
    for (const Json& n : domain["by_weekday"]) by_weekday += n.get<int64_t>();
    EXPECT_EQ(by_hour, domain["events"].get<int64_t>());
    EXPECT_EQ(by_weekday, domain["events"].get<int64_t>());
  }

  const testing::Output major = RunPingan("major --period 2023-01-01..2024-06-30 --json --limit 20", data_);
  ASSERT_EQ(major.exit_code, 0) << major.err;
  std::string previous = "9999";
  std::istringstream lines(major.out);
  for (std::string line; std::getline(lines, line);) {
    const Json event = Json::parse(line);
    EXPECT_LE(event["occurred_at"].get<std::string>(), previous) << "newest first";
    previous = event["occurred_at"];
    EXPECT_FALSE(event["rules"].empty());
    // Each rule listed holds for the event (config/catalog/major.toml).
    for (const Json& rule : event["rules"]) {
      const Json& attributes = event["attributes"];
      if (rule == "homicide") {
        EXPECT_EQ(event["type"], "criminal.homicide");
      }
      if (rule == "mass_casualty") {
        EXPECT_GE(attributes.value("deaths", 0), 3) << event.dump();
      }
      if (rule == "fatal_fire") {
        EXPECT_GE(attributes.value("deaths", 0), 1) << event.dump();
      }
      if (rule == "large_fraud") {
        EXPECT_GE(attributes.value("loss_yuan", 0.0), 1e6) << event.dump();
      }
      if (rule == "collective_beyond_level") {
        EXPECT_TRUE(attributes.value("collective", false) && attributes.value("beyond_level", false)) << event.dump();
      }
    }
    EXPECT_THAT(event.dump(), ::testing::Not(HasSubstr("测试人")));
  }
}

TEST_F(ReportCliTest, ExportsCsvAndXlsx) {
  const testing::Output csv = RunPingan("report --period 2024-05 --format csv", data_);
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_THAT(csv.out, HasSubstr("criminal.filed"));
  int lines = 0;
  for (char c : csv.out) lines += c == '\n';
  EXPECT_EQ(lines, 1 + 33 + 9);
  const std::string xlsx = (dir_->path() / "league.xlsx").string();
  const testing::Output league = RunPingan("league --period 2024-05 --format xlsx --output " + xlsx, data_);
  ASSERT_EQ(league.exit_code, 0) << league.err;
  std::ifstream file(xlsx, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(file)), {});
  EXPECT_EQ(bytes.substr(0, 2), "PK");  // a zip container
  const testing::Output no_output = RunPingan("league --period 2024-05 --format xlsx", data_);
  EXPECT_NE(no_output.exit_code, 0);
  EXPECT_THAT(no_output.err, HasSubstr("--output"));
}

TEST_F(ReportCliTest, RejectsBadUnitsPeriodsAndIndicatorsWithClearErrors) {
  struct Case {
    std::string args, message;
  };
  const Case cases[] = {
      {"report --period 2024-13", "2024-13"},
      {"report --period 2024-02-30", "2024-02-30"},
      {"report --period 'x; DROP TABLE events'", "period"},
      {"report --period 2024-W54", "W54"},
      {"report --unit 3302 --period 2024-05", "not a city, district"},   // Ningbo: outside the home city
      {"report --unit 12345 --period 2024-05", "unit"},
      {"report --unit 330106999 --period 2024-05", "no unit"},
      {"report --unit 330104 --period 2020-05", "上城区"},  // 江干区, split in 2021
      {"series --indicator criminal.nothing --period 2024-05", "criminal.nothing"},
      {"report --period 2024-05 --format pdf", "format"},
      {"report --period 2024-05 --lang fr", "lang"},
  };
  for (const Case& c : cases) {
    const testing::Output run = RunPingan(c.args, data_);
    EXPECT_NE(run.exit_code, 0) << c.args;
    EXPECT_THAT(run.err, HasSubstr(c.message)) << c.args;
    EXPECT_TRUE(run.out.empty()) << c.args;
  }
}

TEST_F(ReportCliTest, SnapshotIsReusedCaughtUpAfterAnIngestAndRebuiltWhenDamaged) {
  const Json first = RunJson("cube");
  const Json second = RunJson("cube");
  EXPECT_EQ(second["from_snapshot"], true);
  EXPECT_EQ(second["events"], first["events"]);
  const Json before = RunJson("report --period 2024-06-01..2024-06-30");
  // Five more thefts placed at the city (a separate ingest): the next report counts them.
  const fs::path feed = dir_->path() / "more.jsonl";
  {
    std::ofstream out(feed);
    for (int i = 0; i < 5; ++i) {
      out << R"({"source":"police","source_id":"LATE)" << i
          << R"(","type":"criminal.theft","occurred_at":"2024-06-20T10:00:00+08:00","code":"3301"})" << "\n";
    }
  }
  ASSERT_EQ(RunPingan("ingest " + feed.string(), data_).exit_code, 0);
  const Json after = RunJson("report --period 2024-06-01..2024-06-30");
  EXPECT_EQ(after["indicators"][3]["value"].get<int>(), before["indicators"][3]["value"].get<int>() + 5);
  const Json caught_up = RunJson("cube");
  EXPECT_EQ(caught_up["from_snapshot"], true);
  EXPECT_EQ(caught_up["events"].get<int64_t>(), first["events"].get<int64_t>() + 5);
  // A damaged snapshot is ignored and the cube rebuilt, with the same figures.
  {
    std::fstream file(fs::path(data_) / "pingan.db.cube", std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(200);
    file.put('\x01');
    file.put('\x02');
  }
  const Json rebuilt = RunJson("cube");
  EXPECT_EQ(rebuilt["from_snapshot"], false);
  EXPECT_THAT(rebuilt["snapshot_note"].get<std::string>(), HasSubstr("checksum"));
  EXPECT_EQ(RunJson("report --period 2024-06-01..2024-06-30"), after);
}

TEST_F(ReportCliTest, AssessGradesTheCitysUnitsAndRaisesWarningsOnce) {
  const testing::Output run = RunPingan("assess --period 2024-05 --level town --json", data_);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const Json units = Json::parse(run.out, nullptr, false);
  ASSERT_TRUE(units.is_array());
  ASSERT_GT(units.size(), 100u);
  const std::set<std::string> grades = {"red", "orange", "yellow", "blue", "green"};
  double last = HUGE_VAL;
  for (const Json& unit : units) {
    EXPECT_EQ(grades.count(unit["grade"].get<std::string>()), 1u);
    EXPECT_EQ(unit["dimensions"].size(), 9u);
    EXPECT_LE(unit["score"].get<double>(), last);  // highest score first
    last = unit["score"].get<double>();
  }
  EXPECT_EQ(units.front()["grade"], "red");
  const testing::Output raised = RunPingan("assess --period 2024-05 --level district --raise", data_);
  ASSERT_EQ(raised.exit_code, 0) << raised.err;
  EXPECT_THAT(raised.err, ::testing::ContainsRegex("[1-9][0-9]* warnings raised for 2024-05"));
  EXPECT_THAT(raised.err, ::testing::ContainsRegex("[1-9][0-9]* patrol tasks made"));
  // Red warnings became tasks (config/loop.toml dispatches red at once), orange ones wait.
  auto count = [&](const char* sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2((data_ + "/pingan.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* statement = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &statement, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    const int64_t value = sqlite3_step(statement) == SQLITE_ROW ? sqlite3_column_int64(statement, 0) : -1;
    sqlite3_finalize(statement);
    sqlite3_close(db);
    return value;
  };
  const int64_t red = count("SELECT count(*) FROM warnings WHERE period = '2024-05' AND grade = 'red'");
  EXPECT_GT(red, 0);
  EXPECT_EQ(count("SELECT count(DISTINCT warning_id) FROM tasks WHERE period = '2024-05'"), red);
  EXPECT_EQ(count("SELECT count(*) FROM tasks t JOIN warnings w ON w.id = t.warning_id WHERE w.grade <> 'red'"), 0);
  const testing::Output again = RunPingan("assess --period 2024-05 --level district --raise", data_);
  EXPECT_THAT(again.err, HasSubstr(" 0 warnings raised for 2024-05"));
  EXPECT_THAT(again.err, HasSubstr(" 0 patrol tasks made"));
  const testing::Output bad = RunPingan("assess --level room", data_);
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.err, HasSubstr("--level"));
}

}  // namespace
}  // namespace pingan
