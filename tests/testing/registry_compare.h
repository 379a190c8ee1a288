// Unit-for-unit comparison of two registries, for tests.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>

#include "address/registry.h"

namespace pingan::testing {

// Codes, names, parents, figures, boxes, buildings, children, ancestors, roads and compounds all
// equal.
inline void ExpectSameRegistry(const Registry& a, const Registry& b) {
  ASSERT_EQ(a.size(), b.size());
  for (uint32_t index = 0; index < a.size(); ++index) {
    UnitId id{index};
    ASSERT_EQ(a.code(id), b.code(id)) << index;
    ASSERT_EQ(a.level(id), b.level(id)) << index;
    ASSERT_EQ(a.name(id), b.name(id)) << index;
    ASSERT_EQ(a.short_name(id), b.short_name(id)) << index;
    ASSERT_EQ(a.parent(id), b.parent(id)) << index;
    ASSERT_EQ(a.stat_parent(id), b.stat_parent(id)) << index;
    ASSERT_EQ(a.own_figures(id), b.own_figures(id)) << index;
    ASSERT_EQ(a.figures(id), b.figures(id)) << index;
    ASSERT_EQ(a.box(id), b.box(id)) << index;
    if (a.level(id) == Level::kBuilding) {
      ASSERT_EQ(a.building(id), b.building(id)) << index;
    }
    const auto a_kids = a.children(id), b_kids = b.children(id);
    ASSERT_TRUE(std::equal(a_kids.begin(), a_kids.end(), b_kids.begin(), b_kids.end())) << index;
    for (int level = 0; level < kLevelCount; ++level) {
      ASSERT_EQ(a.AncestorAt(id, static_cast<Level>(level)), b.AncestorAt(id, static_cast<Level>(level))) << index;
    }
  }
  EXPECT_EQ(a.roads(), b.roads());
  EXPECT_EQ(a.compounds(), b.compounds());
}

}  // namespace pingan::testing
