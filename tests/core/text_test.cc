#include "core/text.h"

#include <gtest/gtest.h>

#include "core/rng.h"

namespace pingan {
namespace {

TEST(Utf8, AcceptsWellFormedText) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("杭州市西湖区"));
  EXPECT_TRUE(IsValidUtf8("\xF0\x9F\x98\x80"));  // U+1F600
}

TEST(Utf8, RejectsMalformedText) {
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xE6\x9D"));          // truncated
  EXPECT_FALSE(IsValidUtf8("abc\xFF"));
}

TEST(Utf8, CountsCodePoints) {
  EXPECT_EQ(Utf8Length("西湖"), 2u);
  EXPECT_EQ(Utf8Length("a西b"), 3u);
}

TEST(Printable, EscapesControlAndInvalidBytesAndCuts) {
  EXPECT_EQ(Printable("a\nb"), "a\\x0Ab");
  EXPECT_EQ(Printable("\xFFok"), "\\xFFok");
  std::string long_text(200, 'x');
  std::string shown = Printable(long_text, 10);
  EXPECT_EQ(shown, "xxxxxxxxxx...");
  EXPECT_EQ(Printable("西湖区", 7), "西湖...");  // never splits a code point
}

TEST(Rng, IsDeterministicAndDerivesIndependentStreams) {
  Rng a(42), b(42), c(43);
  uint64_t first = a.Next();
  EXPECT_EQ(first, b.Next());
  EXPECT_NE(first, c.Next());
  Rng x = Rng::Derive(1, 330106), y = Rng::Derive(1, 330105);
  EXPECT_NE(x.Next(), y.Next());
  Rng range(9);
  for (int draw = 0; draw < 1000; ++draw) {
    int64_t value = range.Int(3, 5);
    ASSERT_GE(value, 3);
    ASSERT_LE(value, 5);
    double unit = range.Uniform();
    ASSERT_GE(unit, 0.0);
    ASSERT_LT(unit, 1.0);
  }
}

}  // namespace
}  // namespace pingan
