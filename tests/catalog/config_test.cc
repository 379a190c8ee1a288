#include "catalog/config.h"

#include <gtest/gtest.h>

#include "testing/temp_dir.h"

namespace pingan {
namespace {

using testing::CopyConfig;
using testing::ReadFile;
using testing::TempDir;

std::filesystem::path ProjectConfigDir() { return std::filesystem::path(PINGAN_SOURCE_DIR) / "config"; }

TEST(ProjectConfig, LoadsTheShippedConfig) {
  auto config = LoadProjectConfig(ProjectConfigDir());
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->management_units.size(), 1u);
  const ManagementUnitConfig& scenic = config->management_units[0];
  EXPECT_EQ(scenic.name, "西湖风景名胜区");
  EXPECT_EQ(scenic.code.ToString().substr(0, 6), "330190");
  ASSERT_EQ(scenic.administers.size(), 1u);
  EXPECT_EQ(scenic.administers[0].ToString().substr(0, 9), "330106008");
  EXPECT_GE(config->history.size(), 6u);
  EXPECT_EQ(config->demo.home_city.ToString().substr(0, 4), "3301");
  EXPECT_EQ(config->demo.districts.size(), 14u);
  ASSERT_GE(config->aliases.size(), 3u);
  EXPECT_EQ(config->aliases[0].name, "下沙");
  int64_t total = 0;
  for (const auto& [code, district] : config->demo.districts) total += district.resident;
  EXPECT_GT(total, 11'000'000);
  EXPECT_LT(total, 13'000'000);
}

TEST(ProjectConfig, HistoryPiecesUseShortTownNames) {
  auto config = LoadProjectConfig(ProjectConfigDir());
  ASSERT_TRUE(config.ok());
  const HistoryChange* jianggan = nullptr;
  for (const HistoryChange& change : config->history) {
    if (change.name == "江干区") jianggan = &change;
  }
  ASSERT_NE(jianggan, nullptr);
  EXPECT_EQ(jianggan->kind, ChangeKind::kSplit);
  EXPECT_TRUE(jianggan->abolished);
  ASSERT_EQ(jianggan->pieces.size(), 2u);
  EXPECT_EQ(History::PieceForTown(*jianggan, "九堡")->successor.ToString().substr(0, 6), "330102");
  EXPECT_EQ(History::PieceForTown(*jianggan, "下沙")->successor.ToString().substr(0, 6), "330114");
  EXPECT_EQ(History::PieceForTown(*jianggan, "西溪"), nullptr);
}

// Replaces `from` by `to` in one file of a config copy and returns the load error.
absl::Status BreakConfig(const std::string& file, const std::string& from, const std::string& to) {
  TempDir dir;
  auto config_dir = CopyConfig(dir);
  std::string text = ReadFile(config_dir / file);
  size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  text.replace(at, from.size(), to);
  dir.Write("config/" + file, text);
  return LoadProjectConfig(config_dir).status();
}

TEST(ProjectConfig, ErrorsNameFileLineAndKey) {
  absl::Status bad_code = BreakConfig("units.toml", "parent = \"3301\"", "parent = \"33x1\"");
  EXPECT_EQ(bad_code.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad_code.message().find("config/units.toml:12: key 'parent'"), absl::string_view::npos) << bad_code;

  absl::Status unknown_key = BreakConfig("units.toml", "level = \"district\"", "level = \"district\"\ncolour = 1");
  EXPECT_NE(unknown_key.message().find("key 'colour': unknown key"), absl::string_view::npos) << unknown_key;

  absl::Status reserved = BreakConfig("units.toml", "code = \"330190\"", "code = \"330107\"");
  EXPECT_NE(reserved.message().find("reserved ranges"), absl::string_view::npos) << reserved;

  absl::Status syntax = BreakConfig("history.toml", "kind = \"merged\"", "kind = merged");
  EXPECT_NE(syntax.message().find("config/history.toml:"), absl::string_view::npos) << syntax;

  absl::Status kind = BreakConfig("history.toml", "kind = \"merged\"", "kind = \"vanished\"");
  EXPECT_NE(kind.message().find("key 'kind'"), absl::string_view::npos) << kind;

  absl::Status date = BreakConfig("history.toml", "date = \"2014-12-13\"", "date = \"13/12/2014\"");
  EXPECT_NE(date.message().find("key 'date': must be YYYY-MM-DD"), absl::string_view::npos) << date;

  absl::Status scale = BreakConfig("demo.toml", "households_per_grid = 400", "households_per_grid = -4");
  EXPECT_NE(scale.message().find("key 'households_per_grid': must be between"), absl::string_view::npos) << scale;

  absl::Status alias = BreakConfig("aliases.toml", "unit = \"330114001\"", "unit = \"33x\"");
  EXPECT_NE(alias.message().find("config/aliases.toml:6: key 'unit'"), absl::string_view::npos) << alias;
  absl::Status short_alias = BreakConfig("aliases.toml", "name = \"下沙\"", "name = \"下\"");
  EXPECT_NE(short_alias.message().find("key 'name'"), absl::string_view::npos) << short_alias;

  absl::Status box = BreakConfig("demo.toml", "max_lon = 120.72", "max_lon = 100.0");
  EXPECT_NE(box.message().find("empty"), absl::string_view::npos) << box;
}

TEST(ProjectConfig, MissingDirectoryOrFileIsNotFound) {
  EXPECT_EQ(LoadProjectConfig("/nonexistent/config").status().code(), absl::StatusCode::kNotFound);
  TempDir dir;
  auto config_dir = CopyConfig(dir);
  std::filesystem::remove(config_dir / "history.toml");
  EXPECT_EQ(LoadProjectConfig(config_dir).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace pingan
