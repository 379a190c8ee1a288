#include "address/pinyin.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <string_view>

namespace pingan {
namespace {

std::string NameOf(char32_t c) { return std::string(SyllableName(SyllableOf(c))); }

TEST(Pinyin, HomophonesShareASyllable) {
  EXPECT_EQ(NameOf(U'萧'), "xiao");
  EXPECT_EQ(SyllableOf(U'萧'), SyllableOf(U'肖'));
  EXPECT_EQ(NameOf(U'杭'), "hang");
  EXPECT_EQ(SyllableOf(U'杭'), SyllableOf(U'航'));
  EXPECT_EQ(SyllableOf(U'滨'), SyllableOf(U'宾'));
  EXPECT_EQ(NameOf(U'墅'), "shu");
  EXPECT_EQ(SyllableOf(U'墅'), SyllableOf(U'树'));
  EXPECT_EQ(SyllableOf(U'江'), SyllableOf(U'姜'));
  EXPECT_NE(SyllableOf(U'西'), SyllableOf(U'东'));
  EXPECT_EQ(NameOf(U'绿'), "lv");   // ü is written v
  EXPECT_EQ(NameOf(U'㐀'), "qiu");  // extension A
}

TEST(Pinyin, NonHanHasNoSyllable) {
  for (char32_t c : {U'\0', U'a', U'Z', U'0', U'#', U'-', U'\x7f'}) EXPECT_EQ(SyllableOf(c), 0);
  EXPECT_EQ(SyllableOf(U'，'), 0);
  EXPECT_EQ(SyllableOf(U'あ'), 0);
  EXPECT_EQ(SyllableOf(U'\U00020000'), 0);  // extension B: outside the table
  EXPECT_EQ(SyllableOf(0x10FFFF), 0);
  EXPECT_EQ(SyllableOf(0xFFFFFFFF), 0);
  EXPECT_EQ(SyllableName(0), "");
  EXPECT_EQ(SyllableName(static_cast<uint16_t>(SyllableCount() + 1)), "");
}

TEST(Pinyin, SecondReadingsOfPolyphones) {
  auto second = [](char32_t c) { return std::string(SyllableName(SecondSyllableOf(c))); };
  EXPECT_EQ(NameOf(U'乐'), "le");
  EXPECT_EQ(second(U'乐'), "yue");
  EXPECT_EQ(NameOf(U'长'), "zhang");
  EXPECT_EQ(second(U'长'), "chang");
  EXPECT_EQ(second(U'会'), "kuai");
  EXPECT_EQ(second(U'重'), "chong");
  EXPECT_EQ(second(U'六'), "lu");
  EXPECT_EQ(second(U'厦'), "xia");
  EXPECT_EQ(second(U'番'), "pan");
  EXPECT_EQ(second(U'蚌'), "beng");
  EXPECT_EQ(second(U'铅'), "yan");
  EXPECT_EQ(SecondSyllableOf(U'萧'), 0);
  EXPECT_EQ(SecondSyllableOf(U'a'), 0);
  int with_second = 0;
  for (char32_t c = 0x3400; c <= 0x9FFF; ++c) {
    uint16_t other = SecondSyllableOf(c);
    if (other == 0) continue;
    ++with_second;
    EXPECT_NE(SyllableOf(c), 0) << static_cast<uint32_t>(c);
    EXPECT_NE(other, SyllableOf(c)) << static_cast<uint32_t>(c);
  }
  EXPECT_GT(with_second, 500);
}

TEST(Pinyin, TableCoversTheCommonRange) {
  size_t covered = 0;
  for (char32_t c = 0; c < 0x110000; ++c) covered += SyllableOf(c) != 0;
  EXPECT_GE(covered, 20000u);
  EXPECT_EQ(covered, PinyinCharacterCount());
  // Every syllable is used, and there are about as many as Mandarin has (~410).
  std::set<uint16_t> used;
  for (char32_t c = 0x3400; c <= 0x9FFF; ++c) {
    if (uint16_t s = SyllableOf(c)) used.insert(s);
    if (uint16_t s = SecondSyllableOf(c)) used.insert(s);
  }
  EXPECT_EQ(used.size(), SyllableCount());
  EXPECT_GE(SyllableCount(), 400u);
  EXPECT_LE(SyllableCount(), 450u);
}

TEST(Pinyin, SyllableNamesAreLowercaseLatin) {
  std::set<std::string_view> seen;
  for (uint16_t s = 1; s <= SyllableCount(); ++s) {
    std::string_view name = SyllableName(s);
    ASSERT_FALSE(name.empty()) << s;
    for (char ch : name) EXPECT_TRUE((ch >= 'a' && ch <= 'z')) << name;
    if (name.find('v') != std::string_view::npos) {  // ü only after l and n
      EXPECT_TRUE(name == "lv" || name == "lve" || name == "nv" || name == "nve") << name;
    }
    EXPECT_TRUE(seen.insert(name).second) << "duplicate " << name;
    if (s > 1) {
      EXPECT_LT(SyllableName(s - 1), name) << "not sorted";
    }
  }
}

TEST(Pinyin, HangzhouDistrictsHaveSyllables) {
  std::u16string key;
  for (std::string_view name :
       {"上城区", "拱墅区", "西湖区", "滨江区", "萧山区", "余杭区", "临平区", "钱塘区", "富阳区",
        "临安区", "桐庐县", "淳安县", "建德市"}) {
    EXPECT_TRUE(PinyinKey(name, key)) << name;
    EXPECT_EQ(key.size(), 3u) << name;
  }
}

TEST(Pinyin, KeysOfHomophoneTypos) {
  std::u16string a, b;
  ASSERT_TRUE(PinyinKey("萧山区", a));
  ASSERT_TRUE(PinyinKey("肖山区", b));
  EXPECT_EQ(a, b);
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(SyllableName(a[0]), "xiao");
  EXPECT_EQ(SyllableName(a[1]), "shan");
  EXPECT_EQ(SyllableName(a[2]), "qu");
  ASSERT_TRUE(PinyinKey("余航区", b));
  ASSERT_TRUE(PinyinKey("余杭区", a));
  EXPECT_EQ(a, b);
  ASSERT_TRUE(PinyinKey("西湖区", a));
  ASSERT_TRUE(PinyinKey("东湖区", b));
  EXPECT_NE(a, b);
  ASSERT_TRUE(PinyinKey("", a));
  EXPECT_TRUE(a.empty());
}

TEST(Pinyin, KeyFailsOnNonHanAndBadUtf8) {
  std::u16string key;
  EXPECT_FALSE(PinyinKey("文三路478号", key));
  EXPECT_FALSE(PinyinKey("abc", key));
  EXPECT_FALSE(PinyinKey("西湖 区", key));
  EXPECT_FALSE(PinyinKey("西湖，", key));
  EXPECT_FALSE(PinyinKey("\xe8\x90", key));                             // truncated 萧
  EXPECT_FALSE(PinyinKey("\xe8\x90\x27", key));                         // bad continuation byte
  EXPECT_FALSE(PinyinKey("\xed\xa0\x80", key));                         // a surrogate
  EXPECT_FALSE(PinyinKey("\xe0\x80\x80", key));                         // overlong
  EXPECT_FALSE(PinyinKey("\xf0\xa0\x80\x80", key));                     // U+20000, extension B
  EXPECT_FALSE(PinyinKey(std::string_view("\xe8\x90\xa7\0", 4), key));  // embedded NUL
  EXPECT_TRUE(PinyinKey("\xe8\x90\xa7", key));                          // 萧
}

}  // namespace
}  // namespace pingan
