#include <xxhash.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "catalog/config.h"
#include "core/binary_file.h"
#include "core/strings.h"
#include "geocode/matcher.h"
#include "testing/demo_registry.h"
#include "testing/temp_dir.h"

namespace pingan {
namespace {

namespace fs = std::filesystem;

// The matcher's index file (Matcher::SaveIndex, LoadIndex, Open) on Zhejiang and the demo city.
class MatcherIndexTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto demo = testing::ZhejiangDemoRegistry(0.002);
    ASSERT_TRUE(demo.ok()) << demo.status();
    registry_ = new Registry(std::move(demo->registry));
    aliases_ = new std::vector<Alias>;
    for (const AliasConfig& alias : demo->config.aliases) aliases_->push_back(Alias{alias.name, alias.unit});
    auto matcher = Matcher::Create(*registry_, Home(), *aliases_);
    ASSERT_TRUE(matcher.ok()) << matcher.status();
    built_ = matcher->release();
  }
  static void TearDownTestSuite() {
    delete built_;
    delete aliases_;
    delete registry_;
  }
  static AddressCode Home() { return *AddressCode::ParsePrefix("3301"); }

  static std::string Read(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  // Rewrites the file's trailing XXH3-64 over what precedes it, as a writer would.
  static void Reseal(std::string& bytes) {
    const uint64_t checksum = XXH3_64bits(bytes.data(), bytes.size() - 8);
    std::memcpy(bytes.data() + bytes.size() - 8, &checksum, 8);
  }

  // Texts of every kind the index answers: units, roads with house numbers, compounds with
  // buildings, entrances and rooms, typos, former names, aliases, the unmatched.
  static std::vector<std::string> Texts() {
    std::vector<std::string> texts = {"浙江省杭州市西湖区西溪街道石灰桥社区", "新生社区", "五常", "西湖", "下沙",
                                      "钱江世纪城", "江干区九堡街道", "江干区下沙", "蕭山區", "肖山区", "余航区",
                                      "杭州路", "西湖大道", "城东街道", "火星路1号", ""};
    const auto& roads = registry_->roads();
    const auto& compounds = registry_->compounds();
    int buildings = 0;
    for (uint32_t index = 1; index < registry_->size() && buildings < 600; ++index) {
      const UnitId id{index};
      if (registry_->level(id) != Level::kBuilding) continue;
      ++buildings;
      const BuildingInfo& b = registry_->building(id);
      if (b.road < roads.size() && b.house_number != 0) {
        texts.push_back(Cat(roads[b.road].name, b.house_number, "号"));
        texts.push_back(Cat(registry_->name(roads[b.road].town), roads[b.road].name, b.house_number, "号", 1, "单元"));
      }
      if (b.compound < compounds.size() && b.number != 0) {
        const std::string name = compounds[b.compound].name;
        texts.push_back(Cat(name, b.number, "幢", b.entrances ? 1 : 0, "单元", b.floors, "01室"));
        texts.push_back(Cat(b.number, "幢", name));
      }
    }
    for (uint32_t index = 1; index < registry_->size(); index += 97) {
      const UnitId id{index};
      if (registry_->level(id) > Level::kCommunity) continue;
      const std::string name = registry_->name(id);
      texts.push_back(name);
      if (name.size() > 6) texts.push_back(name.substr(0, 3) + "冇" + name.substr(6));  // one character wrong
    }
    return texts;
  }

  static void ExpectSameAnswers(const Matcher& a, const Matcher& b) {
    const auto as = a.stats(), bs = b.stats();
    EXPECT_EQ(as.keys, bs.keys);
    EXPECT_EQ(as.entries, bs.entries);
    EXPECT_EQ(as.trie_nodes, bs.trie_nodes);
    EXPECT_EQ(as.fuzzy_keys, bs.fuzzy_keys);
    int matched = 0;
    for (const std::string& text : Texts()) {
      const MatchResult x = a.Match(text), y = b.Match(text);
      matched += x.status == MatchStatus::kMatched;
      EXPECT_EQ(x.status, y.status) << text;
      EXPECT_EQ(x.place.unit, y.place.unit) << text;
      EXPECT_EQ(x.place.level, y.place.level) << text;
      EXPECT_EQ(x.place.entrance, y.place.entrance) << text;
      EXPECT_EQ(x.place.room, y.place.room) << text;
      EXPECT_EQ(x.confidence, y.confidence) << text;
      EXPECT_EQ(x.alternatives, y.alternatives) << text;
      EXPECT_EQ(x.common, y.common) << text;
      EXPECT_EQ(x.formerly, y.formerly) << text;
      EXPECT_EQ(x.corrected, y.corrected) << text;
      EXPECT_EQ(x.reason, y.reason) << text;
    }
    EXPECT_GT(matched, 300);
  }

  static Registry* registry_;
  static std::vector<Alias>* aliases_;
  static Matcher* built_;
  testing::TempDir dir_;
};
Registry* MatcherIndexTest::registry_ = nullptr;
std::vector<Alias>* MatcherIndexTest::aliases_ = nullptr;
Matcher* MatcherIndexTest::built_ = nullptr;

TEST_F(MatcherIndexTest, ALoadedIndexAnswersAsTheBuiltOne) {
  ASSERT_FALSE(ProgramBuildId().empty()) << "the test binary has no GNU build id";
  const fs::path path = dir_.path() / "pingan.db.matcher";
  ASSERT_TRUE(built_->SaveIndex(path, 42).ok());
  auto loaded = Matcher::LoadIndex(*registry_, Home(), *aliases_, path, 42);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ExpectSameAnswers(*built_, **loaded);
}

TEST_F(MatcherIndexTest, AnIndexForAnotherRegistryCityOrAliasesIsNotUsed) {
  const fs::path path = dir_.path() / "pingan.db.matcher";
  EXPECT_EQ(Matcher::LoadIndex(*registry_, Home(), *aliases_, path, 42).status().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(built_->SaveIndex(path, 42).ok());
  EXPECT_EQ(Matcher::LoadIndex(*registry_, Home(), *aliases_, path, 43).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Matcher::LoadIndex(*registry_, *AddressCode::ParsePrefix("3302"), *aliases_, path, 42).status().code(),
            absl::StatusCode::kFailedPrecondition);
  std::vector<Alias> more = *aliases_;
  more.push_back(Alias{"新地名", *AddressCode::ParsePrefix("330106")});
  EXPECT_EQ(Matcher::LoadIndex(*registry_, Home(), more, path, 42).status().code(),
            absl::StatusCode::kFailedPrecondition);
  std::vector<Alias> renamed = *aliases_;
  ASSERT_FALSE(renamed.empty());
  renamed.front().name += "区";
  EXPECT_FALSE(Matcher::LoadIndex(*registry_, Home(), renamed, path, 42).ok());
  EXPECT_TRUE(Matcher::LoadIndex(*registry_, Home(), *aliases_, path, 42).ok());
}

TEST_F(MatcherIndexTest, ADamagedOrHostileFileIsRefused) {
  const fs::path path = dir_.path() / "pingan.db.matcher";
  ASSERT_TRUE(built_->SaveIndex(path, 42).ok());
  const std::string good = Read(path);
  auto load = [&](const std::string& bytes) {
    dir_.Write("pingan.db.matcher", bytes);
    return Matcher::LoadIndex(*registry_, Home(), *aliases_, path, 42).status();
  };
  ASSERT_TRUE(load(good).ok());
  // Not an index at all; empty; cut short; one bit flipped.
  EXPECT_EQ(load("SQLite format 3\n" + std::string(100, 'x')).code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(load("").code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(load(good.substr(0, good.size() / 2)).code(), absl::StatusCode::kDataLoss);
  std::string flipped = good;
  flipped[flipped.size() / 3] ^= 0x10;
  EXPECT_EQ(load(flipped).code(), absl::StatusCode::kDataLoss);
  // A file sealed with a valid checksum whose trie points past its end: the root node (the
  // first of the nodes array, after the key, two unit ids, four admin bounds and the count)
  // claims more children than there are nodes.
  BinaryWriter key;
  key.out().append("PINGANMX");
  key.Put<uint32_t>(1);
  key.PutString(ProgramBuildId());
  const size_t nodes_at = key.out().size() + 5 * 8 + 2 * 4 + 4 * 8 + 8;
  std::string hostile = good;
  const uint32_t huge = 0x7FFFFFFF;
  std::memcpy(hostile.data() + nodes_at + 8, &huge, 4);  // Node{key, first, count, cp}: count
  Reseal(hostile);
  const absl::Status refused = load(hostile);
  EXPECT_EQ(refused.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(refused.message().find("out of bounds"), std::string::npos) << refused;
  // The trie's wide edges (after the nodes and the root's 65,536 children, each array behind its
  // 64-bit count): pairs of (node << 21 | character, child). A key equal to the table's empty
  // marker, and a child past the last node, each sealed again.
  uint64_t node_count = 0;
  std::memcpy(&node_count, good.data() + nodes_at - 8, 8);
  const size_t roots_at = nodes_at + node_count * 16 + 8;
  uint64_t root_count = 0, wide_count = 0;
  std::memcpy(&root_count, good.data() + roots_at - 8, 8);
  ASSERT_EQ(root_count, 0x10000u);
  const size_t wide_at = roots_at + root_count * 4 + 8;
  std::memcpy(&wide_count, good.data() + wide_at - 8, 8);
  ASSERT_GE(wide_count, 2u);  // the index of Zhejiang and the demo city has nodes of many children
  ASSERT_EQ(wide_count % 2, 0u);
  uint64_t first_child = 0;
  std::memcpy(&first_child, good.data() + wide_at + 8, 8);
  ASSERT_LT(first_child, node_count);  // the offsets found are those of the edges
  for (const auto& [offset, value] : {std::pair<size_t, uint64_t>{0, UINT64_MAX}, {8, node_count}}) {
    std::string bad_edge = good;
    std::memcpy(bad_edge.data() + wide_at + offset, &value, 8);
    Reseal(bad_edge);
    const absl::Status edge_refused = load(bad_edge);
    EXPECT_EQ(edge_refused.code(), absl::StatusCode::kDataLoss) << offset;
    EXPECT_NE(edge_refused.message().find("trie edge"), std::string::npos) << edge_refused;
  }
  // An entry naming a unit past the registry's end, found by its unit field and sealed again.
  std::string bad_entry = good;
  const size_t entries_at = bad_entry.size() / 2;  // somewhere in the arrays; the checks must hold anywhere
  for (size_t at = entries_at; at < entries_at + 64; ++at) bad_entry[at] = '\xFF';
  Reseal(bad_entry);
  EXPECT_EQ(load(bad_entry).code(), absl::StatusCode::kDataLoss);
  // Whatever was refused, the good file still loads.
  EXPECT_TRUE(load(good).ok());
}

TEST_F(MatcherIndexTest, OpenBuildsAndKeepsTheIndexThenReadsIt) {
  const MatcherIndexFile file{dir_.path() / "pingan.db.matcher", 7, true};
  MatcherOpened opened;
  auto first = Matcher::Open(*registry_, Home(), *aliases_, file, &opened);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(fs::exists(file.path));
  EXPECT_FALSE(opened.read);
  EXPECT_TRUE(opened.saved.ok()) << opened.saved;
  const auto written_at = fs::last_write_time(file.path);
  auto second = Matcher::Open(*registry_, Home(), *aliases_, file, &opened);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_TRUE(opened.read);
  EXPECT_EQ(fs::last_write_time(file.path), written_at);  // read, not rebuilt and rewritten
  ExpectSameAnswers(**first, **second);
  // A new registry generation: rebuilt and rewritten.
  const MatcherIndexFile next{file.path, 8, true};
  ASSERT_TRUE(Matcher::Open(*registry_, Home(), *aliases_, next).ok());
  EXPECT_TRUE(Matcher::LoadIndex(*registry_, Home(), *aliases_, file.path, 8).ok());
  EXPECT_FALSE(Matcher::LoadIndex(*registry_, Home(), *aliases_, file.path, 7).ok());
  // No generation (a database without one), or no write: nothing is kept.
  const MatcherIndexFile none{dir_.path() / "other.matcher", 0, true};
  ASSERT_TRUE(Matcher::Open(*registry_, Home(), *aliases_, none).ok());
  EXPECT_FALSE(fs::exists(none.path));
  const MatcherIndexFile read_only{dir_.path() / "other.matcher", 9, false};
  ASSERT_TRUE(Matcher::Open(*registry_, Home(), *aliases_, read_only).ok());
  EXPECT_FALSE(fs::exists(read_only.path));
  // A file that cannot be written: the matcher is still made, and the failure reported.
  const MatcherIndexFile unwritable{dir_.path() / "no such directory" / "pingan.db.matcher", 7, true};
  ASSERT_TRUE(Matcher::Open(*registry_, Home(), *aliases_, unwritable, &opened).ok());
  EXPECT_FALSE(opened.read);
  EXPECT_FALSE(opened.saved.ok());
  // A damaged file is replaced by a good one.
  dir_.Write("pingan.db.matcher", "PINGANMX garbage");
  ASSERT_TRUE(Matcher::Open(*registry_, Home(), *aliases_, next).ok());
  EXPECT_TRUE(Matcher::LoadIndex(*registry_, Home(), *aliases_, file.path, 8).ok());
}

}  // namespace
}  // namespace pingan
