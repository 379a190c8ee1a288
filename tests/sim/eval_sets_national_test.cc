// The sets `pingan init` writes into the shared national test data directory (fixture).
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>

#include "nlohmann/json.hpp"
#include "store/data_dir.h"

namespace pingan {
namespace {

const std::filesystem::path kData = std::filesystem::path(PINGAN_TEST_DATA) / "national";

std::vector<nlohmann::json> ReadLines(const std::filesystem::path& file) {
  std::vector<nlohmann::json> out;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) out.push_back(nlohmann::json::parse(line));
  return out;
}

TEST(EvalSetsNational, InitWritesAllThreeSets) {
  EXPECT_EQ(ReadLines(kData / "eval" / "clean.jsonl").size(), 10000u);
  EXPECT_EQ(ReadLines(kData / "eval" / "noisy.jsonl").size(), 10000u);
  EXPECT_EQ(ReadLines(kData / "eval" / "national.jsonl").size(), 20000u);
}

TEST(EvalSetsNational, CoverEveryProvinceWithRegisteredNames) {
  auto data = DataDir::Open(kData, SqliteStore::Mode::kReadOnly);
  ASSERT_TRUE(data.ok()) << data.status();
  auto registry = data->store->LoadRegistry();
  ASSERT_TRUE(registry.ok()) << registry.status();
  std::map<std::string, size_t> provinces;
  size_t checked = 0;
  for (const nlohmann::json& item : ReadLines(kData / "eval" / "national.jsonl")) {
    const auto& expect = item["expect"];
    ++provinces[expect["province"].get<std::string>()];
    // The deepest expectation names a unit whose statistical ancestors carry the other names.
    // (nlohmann::json sorts keys: find the deepest by level.)
    Level deepest = Level::kNation;
    for (const auto& [level, value] : expect.items()) deepest = std::max(deepest, *ParseLevel(level));
    const std::string deepest_level(LevelName(deepest));
    bool found = false;
    for (UnitId id : registry->FindByName(expect[deepest_level].get<std::string>())) {
      if (registry->level(id) != deepest) continue;
      bool all = true;
      for (const auto& [level, value] : expect.items()) {
        UnitId at = id;
        while (at.valid() && at != registry->nation() && LevelName(registry->level(at)) != level) at = registry->stat_parent(at);
        all &= at.valid() && at != registry->nation() && registry->name(at) == value.get<std::string>();
      }
      found |= all;
    }
    EXPECT_TRUE(found) << item.dump();
    ++checked;
  }
  EXPECT_EQ(checked, 20000u);
  EXPECT_EQ(provinces.size(), 31u);
  for (const auto& [name, count] : provinces) EXPECT_GE(count, 600u) << name;
  // 北京市 has no city level worth naming (市辖区): no line expects one.
  for (const nlohmann::json& item : ReadLines(kData / "eval" / "national.jsonl")) {
    if (item["expect"]["province"] == "北京市") {
      EXPECT_FALSE(item["expect"].contains("city")) << item.dump();
    }
  }
}

}  // namespace
}  // namespace pingan
