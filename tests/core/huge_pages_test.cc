#include "core/huge_pages.h"

#include <gtest/gtest.h>

namespace pingan {
namespace {

TEST(HugePagesTest, AddsTheTunableToWhateverIsSet) {
  EXPECT_EQ(TunablesWithHugePages(""), "glibc.malloc.hugetlb=1");
  EXPECT_EQ(TunablesWithHugePages("glibc.malloc.check=3"), "glibc.malloc.check=3:glibc.malloc.hugetlb=1");
  EXPECT_EQ(TunablesWithHugePages("a=1:b=2"), "a=1:b=2:glibc.malloc.hugetlb=1");
}

TEST(HugePagesTest, LeavesAnOperatorsOwnChoiceAlone) {
  EXPECT_EQ(TunablesWithHugePages("glibc.malloc.hugetlb=0"), "glibc.malloc.hugetlb=0");
  EXPECT_EQ(TunablesWithHugePages("x=1:glibc.malloc.hugetlb=2"), "x=1:glibc.malloc.hugetlb=2");
  // A longer name that merely starts the same is another tunable.
  EXPECT_EQ(TunablesWithHugePages("glibc.malloc.hugetlbx=1"), "glibc.malloc.hugetlbx=1:glibc.malloc.hugetlb=1");
}

TEST(HugePagesTest, AdvisesOnlyWhereTheKernelWaitsForAdvice) {
  EXPECT_TRUE(HugePagesNeedAdvice("always [madvise] never\n"));
  EXPECT_FALSE(HugePagesNeedAdvice("[always] madvise never\n"));
  EXPECT_FALSE(HugePagesNeedAdvice("always madvise [never]\n"));
  EXPECT_FALSE(HugePagesNeedAdvice(""));
}

}  // namespace
}  // namespace pingan
