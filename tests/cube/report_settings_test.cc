// config/report.toml and config/catalog/major.toml: the shipped files load; broken ones are
// errors naming file, line and key.
#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "report/report.h"
#include "testing/temp_dir.h"

namespace pingan {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const fs::path kConfig = fs::path(PINGAN_SOURCE_DIR) / "config";

// A copy of config/ with report.toml (and optionally catalog/major.toml) replaced.
struct BrokenConfig {
  testing::TempDir dir;
  fs::path config;
  BrokenConfig(const std::string& report, const std::string& major = "") {
    config = dir.path() / "config";
    fs::copy(kConfig, config, fs::copy_options::recursive);
    std::ofstream(config / "report.toml") << report;
    if (!major.empty()) std::ofstream(config / "catalog" / "major.toml") << major;
  }
};

TEST(ReportSettingsTest, TheShippedSettingsLoad) {
  const Catalog catalog = *LoadCatalog(kConfig);
  const ReportSettings settings = *LoadReportSettings(kConfig, catalog);
  EXPECT_EQ(settings.alpha, 0.05);
  EXPECT_FALSE(settings.league.empty());
  EXPECT_FALSE(settings.bulletin.empty());
  EXPECT_FALSE(catalog.major_rules.empty());
}

TEST(ReportSettingsTest, BrokenSettingsNameFileLineAndKey) {
  struct Case {
    std::string text, message;
  };
  const Case cases[] = {
      {"[comparison]\nalpha = 2\n", "report.toml:2: key 'alpha': must be between"},
      {"[comparison]\nbeta = 1\n", "key 'beta': unknown key"},
      {"[freshness]\nmin_quiet_days = 0\n", "min_quiet_days"},
      {"[[league.weight]]\nindicator = \"criminal.nothing\"\n", "unknown indicator or key type 'criminal.nothing'"},
      {"[[league.weight]]\nindicator = \"key.theft\"\n", "not key types"},
      {"[[league.weight]]\nindicator = \"criminal.filed\"\n[[league.weight]]\nindicator = \"criminal.filed\"\n",
       "weighed twice"},
      {"[[league.weight]]\nindicator = \"criminal.filed\"\nweight = -1\n", "weight"},
      {"[[bulletin.figure]]\nindicator = \"criminal.filed\"\nsay = [\"loudly\"]\n", "'loudly' is not value, yoy or mom"},
      {"[[bulletin.figure]]\nindicator = \"criminal.filed\"\nlabel = \"x\"\n", "key 'label'"},
      {"[clusters]\ntop_units = 0\n", "top_units"},
      {"unknown = 1\n", "key 'unknown': unknown key"},
      {"[comparison\n", "report.toml:1"},
  };
  for (const Case& c : cases) {
    BrokenConfig broken(c.text);
    const Catalog catalog = *LoadCatalog(broken.config);
    const absl::StatusOr<ReportSettings> settings = LoadReportSettings(broken.config, catalog);
    ASSERT_FALSE(settings.ok()) << c.text;
    EXPECT_EQ(settings.status().code(), absl::StatusCode::kInvalidArgument) << c.text;
    EXPECT_THAT(std::string(settings.status().message()), HasSubstr(c.message)) << c.text;
  }
  BrokenConfig missing("");
  fs::remove(missing.config / "report.toml");
  EXPECT_EQ(LoadReportSettings(missing.config, *LoadCatalog(missing.config)).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(ReportSettingsTest, BrokenMajorRulesNameFileLineAndKey) {
  struct Case {
    std::string text, message;
  };
  const Case cases[] = {
      {"[[major]]\nid = \"x\"\nzh = \"x\"\nen = \"x\"\ntypes = [\"crimnal.*\"]\n", "major.toml:5: key 'types'"},
      {"[[major]]\nid = \"x\"\nzh = \"x\"\nen = \"x\"\ntypes = [\"fire.fire\"]\nwhere = [\"deaths >> 3\"]\n",
       "key 'where'"},
      {"[[major]]\nid = \"x\"\nzh = \"x\"\nen = \"x\"\ntypes = [\"fire.fire\"]\nmeasure = \"count\"\n",
       "key 'measure': unknown key"},
      {"[[major]]\nid = \"x\"\nzh = \"x\"\nen = \"x\"\ntypes = [\"fire.fire\"]\n[[major]]\nid = \"x\"\nzh = \"y\"\nen = "
       "\"y\"\ntypes = [\"fire.fire\"]\n",
       "duplicate id 'x'"},
  };
  for (const Case& c : cases) {
    BrokenConfig broken("", c.text);
    const absl::StatusOr<Catalog> catalog = LoadCatalog(broken.config);
    ASSERT_FALSE(catalog.ok()) << c.text;
    EXPECT_THAT(std::string(catalog.status().message()), HasSubstr(c.message)) << c.text;
  }
}

}  // namespace
}  // namespace pingan
