#include "geocode/number_index.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <utility>

namespace pingan {
namespace {

using Index = NumberIndex<uint32_t>;

// Random numbers (word boundaries, the bitmap's end and beyond it, repeats) against a map that
// keeps the first value of each (detail, number): every number asked gives the map's answer.
TEST(NumberIndex, AnswersAsAMapKeepingTheFirstOfEachNumber) {
  std::mt19937 random(7);
  constexpr uint32_t kDetails = 40;
  std::vector<Index::Item> items;
  std::map<std::pair<uint32_t, uint32_t>, uint32_t> reference;
  const uint32_t special[] = {0, 1, 63, 64, 65, 127, 128, Index::kMaxBits - 1, Index::kMaxBits, Index::kMaxBits + 1,
                              1'000'000, 999'999'999};
  for (uint32_t value = 1; value <= 5000; ++value) {
    const uint32_t detail = random() % (kDetails - 5);  // the last five details have no numbers
    const uint32_t number = random() % 4 == 0 ? special[random() % std::size(special)] : random() % 700;
    items.push_back({detail, number, value});
    reference.emplace(std::pair{detail, number}, value);  // the first stays
  }
  ASSERT_LT(reference.size(), items.size());  // some repeats
  Index index;
  index.Build(items, kDetails);
  size_t found = 0;
  for (uint32_t detail = 0; detail < kDetails; ++detail) {
    for (uint32_t number : {0u, 1u, 63u, 64u, 65u, 127u, 128u, 699u, 700u, Index::kMaxBits - 1, Index::kMaxBits,
                            Index::kMaxBits + 1, 1'000'000u, 999'999'999u, 4'294'967'295u}) {
      auto it = reference.find({detail, number});
      const uint32_t* value = index.Find(detail, number);
      EXPECT_EQ(index.Has(detail, number), it != reference.end()) << detail << " " << number;
      ASSERT_EQ(value != nullptr, it != reference.end()) << detail << " " << number;
      if (value != nullptr) {
        EXPECT_EQ(*value, it->second) << detail << " " << number;
      }
    }
    for (uint32_t number = 0; number < 800; ++number) {
      auto it = reference.find({detail, number});
      const uint32_t* value = index.Find(detail, number);
      ASSERT_EQ(value != nullptr, it != reference.end()) << detail << " " << number;
      EXPECT_EQ(index.Has(detail, number), value != nullptr);
      if (value != nullptr) {
        EXPECT_EQ(*value, it->second) << detail << " " << number;
        ++found;
      }
    }
  }
  EXPECT_GT(found, 1000u);
}

TEST(NumberIndex, EmptyAndRebuilt) {
  Index index;
  index.Build({}, 3);
  EXPECT_FALSE(index.Has(2, 0));
  EXPECT_EQ(index.Find(0, Index::kMaxBits), nullptr);
  index.Build({{.detail = 1, .number = 478, .value = 12}, {.detail = 1, .number = 70'000, .value = 13}}, 2);
  EXPECT_TRUE(index.Has(1, 478));
  EXPECT_EQ(*index.Find(1, 478), 12u);
  EXPECT_EQ(*index.Find(1, 70'000), 13u);
  EXPECT_FALSE(index.Has(0, 478));
  EXPECT_FALSE(index.Has(1, 477));
  index.Build({{.detail = 0, .number = 5, .value = 1}}, 2);  // a rebuild forgets what was there
  EXPECT_FALSE(index.Has(1, 478));
  EXPECT_FALSE(index.Has(1, 70'000));
  EXPECT_EQ(*index.Find(0, 5), 1u);
}

}  // namespace
}  // namespace pingan
