#include "core/sparse_column.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace pingan {
namespace {

struct Pair {
  int64_t a = 0, b = 0;
  Pair& operator+=(const Pair& other) {
    a += other.a, b += other.b;
    return *this;
  }
  friend bool operator==(const Pair&, const Pair&) = default;
};

TEST(SparseColumnTest, AbsentEntriesReadAsZeroAndZeroesAreNotStored) {
  SparseColumn<Pair> column;
  EXPECT_EQ(column[7], Pair{});
  column.Set(7, Pair{1, 2});
  column.Set(3'000'000, Pair{5, 0});
  column.Set(9, Pair{});  // zero: nothing stored
  EXPECT_EQ(column.entries(), 2u);
  EXPECT_EQ(column[7], (Pair{1, 2}));
  EXPECT_EQ(column[3'000'000], (Pair{5, 0}));
  EXPECT_EQ(column[8], Pair{});
  column.Set(7, Pair{});  // set back to zero: removed
  EXPECT_EQ(column.entries(), 1u);
  EXPECT_EQ(column[7], Pair{});
}

TEST(SparseColumnTest, AddSumsIntoAnEntryAndSortedIsInIdOrder) {
  SparseColumn<Pair> column;
  column.Add(4, Pair{1, 1});
  column.Add(4, Pair{2, 3});
  column.Add(2, Pair{});  // adding zero stores nothing
  column.Add(1, Pair{0, 9});
  EXPECT_EQ(column[4], (Pair{3, 4}));
  EXPECT_EQ(column.entries(), 2u);
  const auto sorted = column.Sorted();
  ASSERT_EQ(sorted.size(), 2u);
  EXPECT_EQ(sorted[0].first, 1u);
  EXPECT_EQ(sorted[1].first, 4u);
  EXPECT_EQ(sorted[1].second, (Pair{3, 4}));
}

}  // namespace
}  // namespace pingan
