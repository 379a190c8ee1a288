#include "core/text.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

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

// A reference decoder, one sequence at a time (the rules of the header: no overlong forms, no
// surrogates, nothing above U+10FFFF).
bool ReferenceValidUtf8(std::string_view text) {
  for (size_t at = 0; at < text.size();) {
    const auto lead = static_cast<uint8_t>(text[at]);
    size_t length = 0;
    uint32_t code = 0, min_code = 0;
    if (lead < 0x80) length = 1, code = lead;
    else if ((lead & 0xE0) == 0xC0) length = 2, code = lead & 0x1F, min_code = 0x80;
    else if ((lead & 0xF0) == 0xE0) length = 3, code = lead & 0x0F, min_code = 0x800;
    else if ((lead & 0xF8) == 0xF0) length = 4, code = lead & 0x07, min_code = 0x10000;
    else return false;
    if (at + length > text.size()) return false;
    for (size_t index = 1; index < length; ++index) {
      const auto byte = static_cast<uint8_t>(text[at + index]);
      if ((byte & 0xC0) != 0x80) return false;
      code = (code << 6) | (byte & 0x3F);
    }
    if (code < min_code || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return false;
    at += length;
  }
  return true;
}

// IsValidUtf8 (simdjson's validator) agrees with the reference on random texts made of valid
// characters and broken pieces, short and longer than the validator's 64-byte blocks.
TEST(Utf8, AgreesWithAReferenceDecoder) {
  const std::vector<std::string> pieces = {
      "a", "~", "\x7F", "é", "西", "\xF0\x9F\x98\x80", "\xF4\x8F\xBF\xBF", "\xEF\xBF\xBF",
      "\x80", "\xBF", "\xC0\xAF", "\xC1\xBF", "\xE0\x80\xAF", "\xED\xA0\x80", "\xED\x9F\xBF",
      "\xF4\x90\x80\x80", "\xF8\x88\x80\x80\x80", "\xE6\x9D", "\xF0\x9F", "\xFF", "\xFE"};
  std::mt19937 random(11);
  size_t valid = 0, invalid = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string text;
    const size_t count = random() % 90;
    const bool mostly_valid = random() % 2 == 0;
    for (size_t at = 0; at < count; ++at) {
      const size_t piece = mostly_valid && random() % 40 != 0 ? random() % 8 : random() % pieces.size();
      text += pieces[piece];
    }
    const bool expected = ReferenceValidUtf8(text);
    ASSERT_EQ(IsValidUtf8(text), expected) << Printable(text, 400);
    (expected ? valid : invalid)++;
  }
  EXPECT_GT(valid, 5000u);
  EXPECT_GT(invalid, 5000u);
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

// The digits of each phone or ID number found, as text (full-width digits as written).
std::vector<std::string> Numbers(std::string_view text) {
  std::vector<std::string> out;
  for (const PersonalNumber& number : FindPersonalNumbers(text)) {
    std::string digits;
    for (const DigitRange& d : number.digits) digits.append(text.substr(d.begin, d.end - d.begin));
    out.push_back(digits);
  }
  return out;
}

TEST(PersonalNumbers, FindsPhonesAndIdsHoweverTheyAreWritten) {
  using V = std::vector<std::string>;
  EXPECT_EQ(Numbers("西湖区 电话13812345678"), V{"13812345678"});
  EXPECT_EQ(Numbers("卢超 189 1234 5678 天水街道"), V{"18912345678"});
  EXPECT_EQ(Numbers("138-1234-5678"), V{"13812345678"});
  EXPECT_EQ(Numbers("0571-8888 6666"), V{"057188886666"});
  EXPECT_EQ(Numbers("0571 88886666"), V{"057188886666"});
  EXPECT_EQ(Numbers("电话１３８１２３４５６７８"), V{"１３８１２３４５６７８"});
  EXPECT_EQ(Numbers("１３８　１２３４　５６７８"), V{"１３８１２３４５６７８"});  // U+3000 between
  EXPECT_EQ(Numbers("身份证33010619900101123X"), V{"33010619900101123X"});
  EXPECT_EQ(Numbers("330106 19900101 1234"), V{"330106199001011234"});
  EXPECT_EQ(Numbers("8888666"), V{"8888666"});  // 7 digits in one run, as before
  // A house number before a phone: the phone alone.
  EXPECT_EQ(Numbers("文北路102 158 0000 0001"), V{"15800000001"});
  EXPECT_EQ(Numbers("3 13812345678"), V{"13812345678"});
}

TEST(PersonalNumbers, LeavesHouseBuildingAndRoomNumbersAlone) {
  for (const char* text : {"文三路478号", "12幢3单元1203室", "12-3-1203", "101-2-2001", "３２号", "2024-06-01 10:00",
                           "3-1-502 旁边", "浙江省杭州市西湖区文三路478号12幢3单元1203室", "第3组", "1 2 3 4 5 6 7",
                           "123456", "12 34 56 78 90 12"}) {
    EXPECT_TRUE(Numbers(text).empty()) << text << ": " << (Numbers(text).empty() ? "" : Numbers(text)[0]);
  }
}

}  // namespace
}  // namespace pingan
