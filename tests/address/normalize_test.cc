#include "address/normalize.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "core/rng.h"
#include "core/text.h"

// All names and numbers below are made up (13800000000-style phone numbers, ID numbers with
// an invented birth date); the places are real Hangzhou places.

namespace pingan {
namespace {

std::string Norm(std::string_view line) {
  absl::StatusOr<NormalizedAddress> result = NormalizeAddress(line);
  EXPECT_TRUE(result.ok()) << result.status();
  return result.ok() ? result->text : "<error>";
}

InputProblem ProblemOf(std::string_view line, const NormalizeOptions& options = {}) {
  absl::StatusOr<NormalizedAddress> result = NormalizeAddress(line, options);
  if (!result.ok()) {
    EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  }
  return InputProblemOf(result.status());
}

// --- validation -------------------------------------------------------------------------------

TEST(NormalizeValidation, EmptyAndBlankLinesAreEmpty) {
  EXPECT_EQ(ProblemOf(""), InputProblem::kEmpty);
  EXPECT_EQ(ProblemOf("   "), InputProblem::kEmpty);
  EXPECT_EQ(ProblemOf("\t \t"), InputProblem::kEmpty);
  EXPECT_EQ(ProblemOf("　　"), InputProblem::kEmpty);                      // U+3000
  EXPECT_EQ(ProblemOf("\xE2\x80\x8B\xEF\xBB\xBF"), InputProblem::kEmpty);  // ZWSP, BOM
  // Punctuation is content: the line is valid, its text empty.
  absl::StatusOr<NormalizedAddress> punctuation = NormalizeAddress("，，、——");
  ASSERT_TRUE(punctuation.ok());
  EXPECT_EQ(punctuation->text, "");
}

TEST(NormalizeValidation, ControlCharactersAndNulMakeTheLineInvalidNotSplit) {
  using namespace std::string_literals;
  const std::string cases[] = {
      "文三路\0"
      "478号"s,
      "文三路\n478号",
      "文三路\r",
      "\x1B[31m文三路",
      "文三路\x7F",
      "文三路\xC2\x85",        // U+0085 NEL (C1)
      "文三路\xC2\x9F",        // U+009F (C1)
      "文三路\xE2\x80\xA8号",  // U+2028 LINE SEPARATOR
      "文三路\xE2\x80\xA9号",  // U+2029 PARAGRAPH SEPARATOR
      "\x01",
  };
  for (const std::string& line : cases) {
    EXPECT_EQ(ProblemOf(line), InputProblem::kControlCharacter) << Printable(line);
    EXPECT_EQ(CheckAddressLine(line).problem, InputProblem::kControlCharacter) << Printable(line);
  }
  absl::StatusOr<NormalizedAddress> nul = NormalizeAddress(
      "文三路\0"
      "478号"s);
  EXPECT_EQ(CheckAddressLine("文三路\0"
                             "478号"s)
                .byte,
            9u);
  EXPECT_NE(nul.status().message().find("U+0000"), absl::string_view::npos) << nul.status();
  EXPECT_NE(nul.status().message().find("byte 9"), absl::string_view::npos) << nul.status();
}

TEST(NormalizeValidation, TabIsWhiteSpace) {
  EXPECT_EQ(Norm("文三路\t478号"), "文三路478号");
  EXPECT_EQ(Norm("12\t3\t1203"), "12-3-1203");
}

TEST(NormalizeValidation, InvalidUtf8) {
  struct Case {
    std::string line;
    size_t byte;
  };
  const Case cases[] = {
      {"\xC0\xAF", 0},                // overlong '/'
      {"文三路\xE0\x80\xAF", 9},      // overlong 3-byte
      {"\xF0\x80\x80\xAF", 0},        // overlong 4-byte
      {"文\xED\xA0\x80路", 3},        // surrogate U+D800
      {"文三路\xE6\x96", 9},          // truncated at the end
      {"文\xE6\x96三路", 3},          // truncated in the middle
      {"\x80文三路", 0},              // stray continuation byte
      {"文三路\xF4\x90\x80\x80", 9},  // above U+10FFFF
      {"文三路\xFF", 9},              // never valid
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ProblemOf(c.line), InputProblem::kInvalidUtf8) << Printable(c.line);
    LineCheck check = CheckAddressLine(c.line);
    EXPECT_EQ(check.problem, InputProblem::kInvalidUtf8) << Printable(c.line);
    EXPECT_EQ(check.byte, c.byte) << Printable(c.line);
  }
}

TEST(NormalizeValidation, TooLongIsRejectedBeforeReadingTheLine) {
  std::string huge(1 << 20, 'a');
  huge[5] = '\0';  // never reached: the length is checked first
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(ProblemOf(huge), InputProblem::kTooLong);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(50));
  EXPECT_EQ(CheckAddressLine(huge).problem, InputProblem::kTooLong);

  NormalizeOptions small{.max_bytes = 12};
  EXPECT_EQ(ProblemOf("文三路478号", small), InputProblem::kTooLong);  // 14 bytes
  EXPECT_TRUE(NormalizeAddress("文三路478", small).ok());              // 12 bytes
  std::string at_limit(NormalizeOptions::kDefaultMaxBytes, 'a');
  EXPECT_TRUE(NormalizeAddress(at_limit).ok());
  EXPECT_EQ(ProblemOf(at_limit + "a"), InputProblem::kTooLong);
  // A long line may be allowed.
  absl::StatusOr<NormalizedAddress> allowed =
      NormalizeAddress(std::string(1 << 20, 'a'), {.max_bytes = 1 << 20});
  ASSERT_TRUE(allowed.ok());
  EXPECT_EQ(allowed->text.size(), size_t{1} << 20);
}

TEST(NormalizeValidation, MessagesNeverEchoTheText) {
  const std::string lines[] = {
      std::string("张三13800000000\xFF"),
      std::string("张三13800000000\x01"),
      std::string(2000, '8'),
  };
  for (const std::string& line : lines) {
    absl::StatusOr<NormalizedAddress> result = NormalizeAddress(line);
    ASSERT_FALSE(result.ok());
    std::string message(result.status().message());
    EXPECT_EQ(message.find("138"), std::string::npos) << message;
    EXPECT_EQ(message.find("888"), std::string::npos) << message;
    EXPECT_EQ(message.find("张"), std::string::npos) << message;
  }
}

TEST(NormalizeValidation, ProblemNamesAndOtherStatuses) {
  EXPECT_EQ(InputProblemOf(absl::OkStatus()), InputProblem::kNone);
  EXPECT_EQ(InputProblemOf(absl::InvalidArgumentError("empty")), InputProblem::kNone);
  EXPECT_EQ(InputProblemName(InputProblem::kInvalidUtf8), "invalid UTF-8");
  EXPECT_EQ(CheckAddressLine("杭州市西湖区").problem, InputProblem::kNone);
}

TEST(NormalizeValidation, IntoClearsTheOutputOnError) {
  NormalizedAddress out;
  ASSERT_TRUE(NormalizeAddressInto("文三路478号附近", {.record_offsets = true}, out).ok());
  EXPECT_FALSE(out.text.empty());
  EXPECT_FALSE(out.removed_noise.empty());
  EXPECT_FALSE(NormalizeAddressInto("\xFF", {}, out).ok());
  EXPECT_TRUE(out.text.empty());
  EXPECT_TRUE(out.offsets.empty());
  EXPECT_TRUE(out.removed_noise.empty());
}

// --- folding ----------------------------------------------------------------------------------

TEST(NormalizeFolding, FullWidthToHalfWidthAndLowerCase) {
  EXPECT_EQ(Norm("ＡＢＣ１２３"), "abc123");
  EXPECT_EQ(Norm("文三路４７８号"), "文三路478号");
  EXPECT_EQ(Norm("华星时代广场Ａ座"), "华星时代广场a座");
  EXPECT_EQ(Norm("Wensan Road"), "wensanroad");
  EXPECT_EQ(Norm("杭州市　西湖区"), "杭州市西湖区");  // U+3000
  EXPECT_EQ(Norm("文三路（４７８号）；"), "文三路478号");
  EXPECT_EQ(Norm("３＃楼"), "3#楼");
}

TEST(NormalizeFolding, CompatibilityForms) {
  EXPECT_EQ(Norm("①号楼"), "1号楼");
  EXPECT_EQ(Norm("Ⅻ区"), "xii区");
  EXPECT_EQ(Norm("\xE2\xBC\x80"), "一");  // U+2F00 KANGXI RADICAL ONE
  // U+F900 CJK COMPATIBILITY IDEOGRAPH -> U+8C48 豈 -> (traditional -> simplified) 岂.
  EXPECT_EQ(Norm("\xEF\xA4\x80"), "岂");
  EXPECT_EQ(Norm("100㎡"), "100m2");
  EXPECT_EQ(Norm("ｎｏ．５"), "no5");
}

TEST(NormalizeFolding, InvisibleCharactersAreDropped) {
  EXPECT_EQ(Norm("文三\xE2\x80\x8B路"), "文三路");  // ZERO WIDTH SPACE
  EXPECT_EQ(Norm("\xEF\xBB\xBF文三路"), "文三路");  // BOM
  EXPECT_EQ(Norm("文三\xC2\xAD路"), "文三路");      // SOFT HYPHEN
  EXPECT_EQ(Norm("文三\xE2\x80\xAE路"), "文三路");  // RIGHT-TO-LEFT OVERRIDE
}

TEST(NormalizeFolding, TraditionalToSimplified) {
  EXPECT_EQ(Norm("蕭山區金城路"), "萧山区金城路");
  EXPECT_EQ(Norm("臺"), "台");
  EXPECT_EQ(Norm("縣"), "县");
  EXPECT_EQ(Norm("體育場路"), "体育场路");
  EXPECT_EQ(Norm("杭州市西湖區文三路４７８號華星時代廣場"), "杭州市西湖区文三路478号华星时代广场");
  // Simplified text is left alone.
  EXPECT_EQ(Norm("萧山区金城路"), "萧山区金城路");
  EXPECT_EQ(Norm("余杭区仓前街道"), "余杭区仓前街道");
}

TEST(NormalizeFolding, CharactersOfMainlandPlaceNamesStay) {
  // OpenCC maps 於 -> 于 and 乾 -> 干; both are living forms in Hangzhou's own town names.
  EXPECT_EQ(Norm("临安区於潜镇"), "临安区於潜镇");
  EXPECT_EQ(Norm("建德市乾潭镇"), "建德市乾潭镇");
}

TEST(NormalizeFolding, NeverMoreThanFourTimesTheInput) {
  const std::string lines[] = {"㍿", "ﷺ", "⑴", "㎡", "ǆ", "Ⅻ", "…"};
  for (const std::string& line : lines) {
    absl::StatusOr<NormalizedAddress> result = NormalizeAddress(line);
    ASSERT_TRUE(result.ok()) << line;
    EXPECT_LE(result->text.size(), 4 * line.size()) << line;
  }
  EXPECT_EQ(Norm("ﷺ"), "ﷺ");  // its 18-letter form would be 11 times longer: kept as it is
}

// --- separators -------------------------------------------------------------------------------

TEST(NormalizeSeparators, DashBetweenDigitsIsKept) {
  EXPECT_EQ(Norm("12-3-1203"), "12-3-1203");
  EXPECT_EQ(Norm("12—3—1203"), "12-3-1203");
  EXPECT_EQ(Norm("12－3－1203"), "12-3-1203");
  EXPECT_EQ(Norm("12/3/1203"), "12-3-1203");
  EXPECT_EQ(Norm("12 3 1203"), "12-3-1203");
  EXPECT_EQ(Norm("12 - 3 -- 1203"), "12-3-1203");
  EXPECT_EQ(Norm("华星时代广场5-3-1702室"), "华星时代广场5-3-1702室");
}

TEST(NormalizeSeparators, OtherSeparatorsAreRemoved) {
  EXPECT_EQ(Norm("浙江省-杭州市-西湖区"), "浙江省杭州市西湖区");
  EXPECT_EQ(Norm("浙江省，杭州市、西湖区/文三路"), "浙江省杭州市西湖区文三路");
  EXPECT_EQ(Norm("文三路·478号"), "文三路478号");
  EXPECT_EQ(Norm("【华星】《时代》「广场」(a座)"), "华星时代广场a座");
  EXPECT_EQ(Norm("3幢-2单元-601"), "3幢2单元601");
  EXPECT_EQ(Norm("-12-"), "12");
  EXPECT_EQ(Norm("杭州市 西湖区 文三路 478 号"), "杭州市西湖区文三路478号");
}

TEST(NormalizeSeparators, LeadingLabelIsRemovedOnlyBeforeASeparator) {
  absl::StatusOr<NormalizedAddress> labelled = NormalizeAddress("收货地址：浙江省杭州市");
  ASSERT_TRUE(labelled.ok());
  EXPECT_EQ(labelled->text, "浙江省杭州市");
  EXPECT_EQ(labelled->removed_noise, std::vector<std::string>{"收货地址"});
  EXPECT_EQ(Norm(" 地址: 杭州市西湖区"), "杭州市西湖区");
  EXPECT_EQ(Norm("地址杭州市"), "地址杭州市");
  EXPECT_EQ(Norm("杭州市地址：西湖区"), "杭州市地址西湖区");  // only at the start
  EXPECT_EQ(Norm("案发地点：杭州市上城区"), "杭州市上城区");
  EXPECT_EQ(Norm("户籍地 江苏省南京市"), "江苏省南京市");
  EXPECT_EQ(Norm("居住地：杭州市"), "杭州市");  // 居住地址 is tried first and does not match
  EXPECT_EQ(Norm("居住地杭州市"), "居住地杭州市");
}

TEST(NormalizeSeparators, TheCountrysNameAtTheStartIsRemoved) {
  absl::StatusOr<NormalizedAddress> court = NormalizeAddress("住所地：中华人民共和国浙江省杭州市西湖区");
  ASSERT_TRUE(court.ok());
  EXPECT_EQ(court->text, "浙江省杭州市西湖区");
  EXPECT_EQ(court->removed_noise, (std::vector<std::string>{"住所地", "中华人民共和国"}));
  EXPECT_EQ(Norm("中华人民共和国 浙江省杭州市"), "浙江省杭州市");
  absl::StatusOr<NormalizedAddress> labelled = NormalizeAddress("地址：中华人民共和国杭州市");
  ASSERT_TRUE(labelled.ok());
  EXPECT_EQ(labelled->text, "杭州市");
  EXPECT_EQ(labelled->removed_noise, (std::vector<std::string>{"地址", "中华人民共和国"}));
  EXPECT_EQ(Norm("中华路人民共和国"), "中华路人民共和国");       // not the country's name
  EXPECT_EQ(Norm("杭州市中华人民共和国"), "杭州市中华人民共和国");  // only at the start
  EXPECT_EQ(Norm("中华人民共和"), "中华人民共和");
}

// --- Chinese numerals -------------------------------------------------------------------------

TEST(NormalizeNumerals, ConvertedBeforeAnAddressUnit) {
  const std::pair<const char*, const char*> cases[] = {
      {"三十二号", "32号"},  {"一〇二室", "102室"},   {"一零二室", "102室"},
      {"十二幢", "12幢"},    {"二单元", "2单元"},     {"第三网格", "第3网格"},
      {"五楼", "5楼"},       {"十层", "10层"},        {"六组", "6组"},
      {"两百号", "200号"},   {"一百零二号", "102号"}, {"二十弄", "20弄"},
      {"三座", "3座"},       {"七栋", "7栋"},         {"四楼层", "4楼层"},
      {"十号", "10号"},      {"一百二十号", "120号"}, {"一千零一号", "1001号"},
      {"二十三幢", "23幢"},  {"九十九号", "99号"},    {"三 号", "3号"},
      {"一二〇号", "120号"},    {"二期", "2期"},        {"第三期", "第3期"},
  };
  for (const auto& [input, expected] : cases) EXPECT_EQ(Norm(input), expected) << input;
  absl::StatusOr<NormalizedAddress> traditional = NormalizeAddress("三十二號");
  ASSERT_TRUE(traditional.ok());
  EXPECT_EQ(traditional->text, "32号");
}

TEST(NormalizeNumerals, LeftAloneInNames) {
  const char* names[] = {"三墩镇",       "五常街道", "六和塔",   "九堡", "十里坪",       "三里亭路",
                         "第三人民医院", "翠苑一区", "千岛湖镇", "一百", "九堡客运中心", "四季青"};
  for (const char* name : names) EXPECT_EQ(Norm(name), name) << name;
}

TEST(NormalizeNumerals, NotANumberOrAfterADigitStays) {
  EXPECT_EQ(Norm("十十号"), "十十号");
  EXPECT_EQ(Norm("一百零号"), "一百零号");
  EXPECT_EQ(Norm("百号"), "百号");
  EXPECT_EQ(Norm("1三号"), "1三号");           // mixed with Arabic digits: not a number we read
  EXPECT_EQ(Norm("12幢三单元"), "12幢3单元");  // a unit suffix before it is fine
}

// --- personal data ----------------------------------------------------------------------------

struct Masked {
  const char* input;
  const char* expected;
  bool phone;
  bool id;
};

TEST(NormalizePersonalData, NumbersAreRemovedWithTheWordsThatIntroduceThem) {
  const Masked cases[] = {
      {"文三路478号13800000000", "文三路478号", true, false},
      {"文三路478号 138 0000 0000", "文三路478号", true, false},
      {"文三路478号 138-0000-0000", "文三路478号", true, false},
      {"文三路478号 +86 13800000000", "文三路478号", true, false},
      {"文三路478号 +86-138-0000-0000", "文三路478号", true, false},
      {"文三路478号 008613800000000", "文三路478号", true, false},
      {"文三路478号 8613800000000", "文三路478号", true, false},
      {"文三路478号 1380000 0000", "文三路478号", true, false},
      {"文三路478号 0571-8888 8888", "文三路478号", true, false},
      {"文三路478号 0571-88888888", "文三路478号", true, false},
      {"文三路478号 (0571)88888888", "文三路478号", true, false},
      {"文三路478号 057188888888", "文三路478号", true, false},
      {"文三路478号 010-62345678", "文三路478号", true, false},
      {"文三路478号 0571-888-8888", "文三路478号", true, false},
      {"文三路478号 330106199001011234", "文三路478号", false, true},
      {"文三路478号 33010619900101123X", "文三路478号", false, true},
      {"文三路478号 330106 19900101 123x", "文三路478号", false, true},
      {"张三13812345678", "张三", true, false},
      {"文三路478号 电话：13800000000", "文三路478号", true, false},
      {"文三路478号 手机13800000000", "文三路478号", true, false},
      {"文三路478号 电联13800000000", "文三路478号", true, false},
      {"文三路478号 联系电话:0571-86001234", "文三路478号", true, false},
      {"文三路478号 TEL:13800000000", "文三路478号", true, false},
      {"文三路478号 李四收13900000000", "文三路478号李四", true, false},
      {"文三路478号 身份证号330106199001011234", "文三路478号", false, true},
      {"联系人13800000000文三路", "文三路", true, false},
      {"联系人张三13800000000", "联系人张三", true, false},  // names are not removed
      {"13800000000 杭州市西湖区", "杭州市西湖区", true, false},
      {"12-3-1203-13800000000", "12-3-1203", true, false},
      {"12-13800000000-3", "12-3", true, false},
      {"１３８００００００００", "", true, false},
      {"电话13800000000 身份证330106199001011234", "", true, true},
  };
  for (const Masked& c : cases) {
    absl::StatusOr<NormalizedAddress> result = NormalizeAddress(c.input);
    ASSERT_TRUE(result.ok()) << c.input;
    EXPECT_EQ(result->text, c.expected) << c.input;
    EXPECT_EQ(result->had_phone, c.phone) << c.input;
    EXPECT_EQ(result->had_id_number, c.id) << c.input;
    for (const std::string& noise : result->removed_noise) {
      EXPECT_EQ(noise.find_first_of("0123456789"), std::string::npos) << c.input;
    }
  }
}

TEST(NormalizePersonalData, AddressNumbersStay) {
  const char* kept[] = {
      "文三路478号",
      "12-3-1203",
      "12幢3单元1203室",
      "邮编310012",
      "330106004003001000120301203",  // a 27-digit address code
      "1380000000",                   // 10 digits: not a mobile number
      "138000000000",                 // 12 digits
      "88888888",                     // a local number without its area code is not recognised
      "33010619900101123",            // 17 digits
      "3301061990010112345",          // 19 digits
      "收费站3号",
      "手机城3号",
  };
  for (const char* line : kept) {
    absl::StatusOr<NormalizedAddress> result = NormalizeAddress(line);
    ASSERT_TRUE(result.ok()) << line;
    EXPECT_EQ(result->text, line) << line;
    EXPECT_FALSE(result->had_phone) << line;
    EXPECT_FALSE(result->had_id_number) << line;
  }
}

TEST(NormalizePersonalData, RemovalDoesNotLeaveAnythingToNormaliseAgain) {
  // The stages run again after a removal, so the result is a fixed point.
  EXPECT_EQ(Norm("三13800000000号"), "3号");
  EXPECT_EQ(Norm("文三路附13800000000近"), "文三路");
  EXPECT_EQ(Norm("一三八〇〇〇〇〇〇〇〇号"), "号");  // numerals that spell a phone number
}

// --- noise ------------------------------------------------------------------------------------

TEST(NormalizeNoise, WordsAreRemovedAndReported) {
  const std::pair<const char*, const char*> cases[] = {
      {"文三路478号附近", "文三路478号"},
      {"华星时代广场对面", "华星时代广场"},
      {"华星时代广场斜对面", "华星时代广场"},
      {"华星时代广场旁边", "华星时代广场"},
      {"华星时代广场隔壁", "华星时代广场"},
      {"西溪诚园门口", "西溪诚园"},
      {"文三路与学院路交叉口", "文三路与学院路"},
      {"文三路学院路十字路口", "文三路学院路"},
      {"478号东侧", "478号"},
      {"478号西侧", "478号"},
      {"478号南侧", "478号"},
      {"478号北侧", "478号"},
      {"华星时代广场周边", "华星时代广场"},
      {"附附近近", ""},
      {"小区门口东侧", "小区"},
  };
  for (const auto& [input, expected] : cases) EXPECT_EQ(Norm(input), expected) << input;
  absl::StatusOr<NormalizedAddress> result = NormalizeAddress("文三路口附近 华星时代广场对面");
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->text, "文三路华星时代广场");
  EXPECT_EQ(result->removed_noise, (std::vector<std::string>{"路口", "附近", "对面"}));
}

TEST(NormalizeNoise, RoadJunctionKeepsTheRoad) {
  EXPECT_EQ(Norm("文三路口"), "文三路");
  EXPECT_EQ(Norm("文三路口东"), "文三路东");
  EXPECT_EQ(Norm("路口"), "");
}

TEST(NormalizeNoise, PlaceNamesWithNoiseWordsStay) {
  const char* names[] = {"路口村",     "两路口村", "石门口村3组", "路口镇",
                         "两路口社区", "龙门口村", "东门口社区"};
  for (const char* name : names) EXPECT_EQ(Norm(name), name) << name;
}

TEST(NormalizeNoise, NearAfterAHouseNumber) {
  absl::StatusOr<NormalizedAddress> result = NormalizeAddress("文三路478号近华星时代广场");
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->text, "文三路478号华星时代广场");
  EXPECT_EQ(result->removed_noise, std::vector<std::string>{"近"});
  EXPECT_EQ(Norm("文三路478号（近华星时代广场）"), "文三路478号华星时代广场");
  EXPECT_EQ(Norm("12幢 近学院路"), "12幢学院路");
  // Not after a house number, or a place called 近...
  EXPECT_EQ(Norm("文二路近学院路"), "文二路近学院路");
  EXPECT_EQ(Norm("上城区 近江家园"), "上城区近江家园");
  EXPECT_EQ(Norm("秋涛路258号近江家园"), "秋涛路258号近江家园");
  EXPECT_EQ(Norm("往东100米"), "往东100米");
}

// --- offsets ----------------------------------------------------------------------------------

TEST(NormalizeOffsets, PointIntoTheInput) {
  const std::string line = "浙江省 杭州市";
  absl::StatusOr<NormalizedAddress> result = NormalizeAddress(line, {.record_offsets = true});
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->text, "浙江省杭州市");
  EXPECT_EQ(result->offsets, (std::vector<uint32_t>{0, 3, 6, 10, 13, 16}));
  EXPECT_TRUE(NormalizeAddress(line)->offsets.empty());  // only when asked for
}

TEST(NormalizeOffsets, MapMatchesBackToWhatWasWritten) {
  const std::string line = "解放路　三十二号 ，近华星";
  absl::StatusOr<NormalizedAddress> result = NormalizeAddress(line, {.record_offsets = true});
  ASSERT_TRUE(result.ok());
  ASSERT_EQ(result->text, "解放路32号华星");
  ASSERT_EQ(result->offsets.size(), Utf8Length(result->text));
  for (size_t k = 1; k < result->offsets.size(); ++k) {
    EXPECT_LE(result->offsets[k - 1], result->offsets[k]);
  }
  size_t number = result->text.find("32号");
  ByteRange range = InputRangeOf(*result, line, number, number + std::string("32号").size());
  EXPECT_EQ(line.substr(range.begin, range.end - range.begin), "三十二号");
  size_t place = result->text.find("华星");
  range = InputRangeOf(*result, line, place, result->text.size());
  EXPECT_EQ(line.substr(range.begin, range.end - range.begin), "华星");
  // Full-width digits map to themselves.
  const std::string wide = "４７８号";
  result = NormalizeAddress(wide, {.record_offsets = true});
  ASSERT_TRUE(result.ok());
  range = InputRangeOf(*result, wide, 1, 2);  // "7"
  EXPECT_EQ(wide.substr(range.begin, range.end - range.begin), "７");
  // Without offsets, or for an empty range, the range is empty.
  absl::StatusOr<NormalizedAddress> plain = NormalizeAddress(wide);
  ASSERT_TRUE(plain.ok());
  range = InputRangeOf(*plain, wide, 0, 1);
  EXPECT_EQ(range.end - range.begin, 0u);
  range = InputRangeOf(*result, wide, 2, 2);
  EXPECT_EQ(range.end - range.begin, 0u);
}

// --- realistic lines --------------------------------------------------------------------------

struct Realistic {
  const char* input;
  const char* expected;
};

const Realistic kRealistic[] = {
    {"浙江省-杭州市-西湖区　文三路４７８号　近华星时代广场",
     "浙江省杭州市西湖区文三路478号华星时代广场"},
    {"杭州市西湖区文三路478号华星时代广场A座1203室",
     "杭州市西湖区文三路478号华星时代广场a座1203室"},
    {"浙江省杭州市蕭山區金城路３５８號", "浙江省杭州市萧山区金城路358号"},
    {"杭州市拱墅区莫干山路100号 电话13800000000", "杭州市拱墅区莫干山路100号"},
    {"杭州市上城区解放路 三十二号 二单元 一〇二室", "杭州市上城区解放路32号2单元102室"},
    {"西湖区三墩镇振华路 十二幢3单元1203室", "西湖区三墩镇振华路12幢3单元1203室"},
    {"余杭区五常街道 五常大道 181号（阿里巴巴西溪园区）附近",
     "余杭区五常街道五常大道181号阿里巴巴西溪园区"},
    {"上城区九堡街道 九堡客运中心对面", "上城区九堡街道九堡客运中心"},
    {"西湖区之江路 六和塔 门口", "西湖区之江路六和塔"},
    {"滨江区江南大道与江虹路交叉口", "滨江区江南大道与江虹路"},
    {"西湖区文三路口附近", "西湖区文三路"},
    {"杭州市西湖区留下街道十里坪村", "杭州市西湖区留下街道十里坪村"},
    {"萧山区宁围街道 市心北路 2-1-502", "萧山区宁围街道市心北路2-1-502"},
    {"拱墅区 湖墅南路 ５２号 ３幢－２单元－６０１", "拱墅区湖墅南路52号3幢2单元601"},
    {"杭州市西湖区古墩路 第三网格", "杭州市西湖区古墩路第3网格"},
    {"杭州市临平区南苑街道 联系人：王小明 手机：139-0000-1111", "杭州市临平区南苑街道联系人王小明"},
    {"收货地址：浙江省杭州市滨江区长河街道 江南大道1088号 13700001111",
     "浙江省杭州市滨江区长河街道江南大道1088号"},
    {"杭州市上城区望江街道 秋涛路258号 近江家园3幢", "杭州市上城区望江街道秋涛路258号近江家园3幢"},
    {"杭州市钱塘区下沙街道 6号大街 452号 东侧", "杭州市钱塘区下沙街道6号大街452号"},
    {"杭州市西湖区 翠苑一区 十五幢 一单元 301室", "杭州市西湖区翠苑一区15幢1单元301室"},
    {"杭州市拱墅区 大关路 (0571)88880000", "杭州市拱墅区大关路"},
    {"杭州市余杭区仓前街道 文一西路 969号 身份证330106199001011234",
     "杭州市余杭区仓前街道文一西路969号"},
    {"杭州市富阳区富春街道 桂花路 十八号 四楼", "杭州市富阳区富春街道桂花路18号4楼"},
    {"杭州市临安区 於潜镇 人民路 一百零二号", "杭州市临安区於潜镇人民路102号"},
    {"杭州市建德市 乾潭镇 幸福路 三号", "杭州市建德市乾潭镇幸福路3号"},
    {"杭州市桐庐县 分水镇 ，，， 胜利路 ２０号 旁边", "杭州市桐庐县分水镇胜利路20号"},
    {"杭州市淳安县千岛湖镇 新安大街 1号 隔壁", "杭州市淳安县千岛湖镇新安大街1号"},
    {"杭州市西湖区 文二路 【近学院路】", "杭州市西湖区文二路近学院路"},
    {"杭州市上城区 清波街道 河坊街 ９８号 ＃３楼", "杭州市上城区清波街道河坊街98号#3楼"},
    {"杭州市拱墅区 武林街道 体育场路 ２８８号 ３＃楼 ５０２",
     "杭州市拱墅区武林街道体育场路288号3#楼502"},
    {"HANGZHOU 西湖区 Wensan Rd. No.478", "hangzhou西湖区wensanrdno478"},
    {"杭州市滨江区西兴街道 江陵路 2028号 星耀城 1幢 2单元 1501",
     "杭州市滨江区西兴街道江陵路2028号星耀城1幢2单元1501"},
    {"杭州市萧山区 北干街道 金城路 438号 附近 电联 13600002222", "杭州市萧山区北干街道金城路438号"},
    {"杭州市上城区 九堡 客运中心 二楼", "杭州市上城区九堡客运中心2楼"},
    {"杭州市西湖区　西溪路５５６号　（西溪湿地南门）　斜对面",
     "杭州市西湖区西溪路556号西溪湿地南门"},
    {"杭州市拱墅区 小河路 十字路口", "杭州市拱墅区小河路"},
    {"杭州市余杭区良渚街道 良渚文化村 玉鸟路 七号 北侧", "杭州市余杭区良渚街道良渚文化村玉鸟路7号"},
    {"杭州市临平区 塘栖镇 水南路 ５６弄 ３号", "杭州市临平区塘栖镇水南路56弄3号"},
    {"杭州市西湖区 转塘街道 之江路 三十六号 四幢 二单元 一〇一室",
     "杭州市西湖区转塘街道之江路36号4幢2单元101室"},
    {"杭州市钱塘区 白杨街道 2号大街 5-2-803 联系电话:0571-86001234",
     "杭州市钱塘区白杨街道2号大街5-2-803"},
    {"杭州市西湖區文三路４７８號華星時代廣場", "杭州市西湖区文三路478号华星时代广场"},
    {"杭州市江干区 九堡镇 九堡大道 一二〇号", "杭州市江干区九堡镇九堡大道120号"},
    {"地址：杭州市上城区 近江家园 7幢", "杭州市上城区近江家园7幢"},
};

TEST(NormalizeRealistic, NoisyHangzhouAddresses) {
  for (const Realistic& c : kRealistic) EXPECT_EQ(Norm(c.input), c.expected) << c.input;
}

// --- invariants -------------------------------------------------------------------------------

void ExpectFixedPoint(std::string_view line) {
  absl::StatusOr<NormalizedAddress> once = NormalizeAddress(line);
  if (!once.ok()) return;
  EXPECT_TRUE(IsValidUtf8(once->text)) << Printable(line);
  EXPECT_LE(once->text.size(), 4 * line.size()) << Printable(line);
  if (once->text.empty()) return;
  absl::StatusOr<NormalizedAddress> twice = NormalizeAddress(once->text);
  ASSERT_TRUE(twice.ok()) << Printable(line) << " -> " << Printable(once->text);
  EXPECT_EQ(twice->text, once->text) << Printable(line);
  EXPECT_FALSE(twice->had_phone) << Printable(line);
  EXPECT_FALSE(twice->had_id_number) << Printable(line);
  EXPECT_TRUE(twice->removed_noise.empty()) << Printable(line) << " -> " << once->text;
}

TEST(NormalizeInvariants, RealisticLinesAreFixedPoints) {
  for (const Realistic& c : kRealistic) ExpectFixedPoint(c.input);
}

// Every BMP character alone, and between a digit and a unit suffix, normalises to valid UTF-8
// without control characters, and the result normalises to itself.
TEST(NormalizeInvariants, EveryBmpCharacterIsAFixedPointAfterOneRound) {
  std::string line;
  for (uint32_t cp = 0x20; cp < 0x10000; ++cp) {
    if ((cp >= 0x7F && cp <= 0x9F) || (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0x2028 ||
        cp == 0x2029) {
      continue;
    }
    std::string ch;
    if (cp < 0x80) {
      ch = std::string(1, static_cast<char>(cp));
    } else if (cp < 0x800) {
      ch = {static_cast<char>(0xC0 | (cp >> 6)), static_cast<char>(0x80 | (cp & 0x3F))};
    } else {
      ch = {static_cast<char>(0xE0 | (cp >> 12)), static_cast<char>(0x80 | ((cp >> 6) & 0x3F)),
            static_cast<char>(0x80 | (cp & 0x3F))};
    }
    for (const std::string& candidate : {ch, "1" + ch + "号", "三" + ch + "号"}) {
      absl::StatusOr<NormalizedAddress> once = NormalizeAddress(candidate);
      if (!once.ok()) {
        ASSERT_EQ(InputProblemOf(once.status()), InputProblem::kEmpty) << cp;
        continue;
      }
      ASSERT_TRUE(IsValidUtf8(once->text)) << cp;
      for (unsigned char c : once->text) ASSERT_FALSE(c < 0x20 || c == 0x7F) << cp;
      if (once->text.empty()) continue;
      absl::StatusOr<NormalizedAddress> twice = NormalizeAddress(once->text);
      ASSERT_TRUE(twice.ok()) << cp;
      ASSERT_EQ(twice->text, once->text) << "U+" << std::hex << cp;
    }
  }
}

// Lines made of the pieces the rules look for, in random order: numerals, unit suffixes, noise
// words and their parts, phone and ID numbers and their words, separators, digits.
TEST(NormalizeInvariants, RandomLinesOfRulePiecesAreFixedPoints) {
  // clang-format off
  const char* pieces[] = {
      "三", "十", "二", "一", "〇", "两", "百", "千", "零", "第", "号", "幢", "单元", "单", "元",
      "室", "楼", "层", "网格", "组", "附", "近", "附近", "对面", "路", "口", "路口", "门口",
      "十字", "交叉口", "东侧", "村", "江", "地址", ":", "电话", "手机", "收", "联系人", "身份证",
      "13800000000", "138", "0000", "0571", "88888888", "330106199001011234", "x", "X", "86", "+",
      "-", "—", " ", "，", "（", "）", "1", "2", "12", "478", "#", "蕭", "區", "Ａ", "１", "①",
      "\xE2\x80\x8B", "a", "杭州", "华星",
  };
  // clang-format on
  Rng rng(20240607);
  for (int line_number = 0; line_number < 20000; ++line_number) {
    std::string line;
    const int count = static_cast<int>(rng.Int(1, 12));
    for (int k = 0; k < count; ++k) line += pieces[rng.Int(0, std::size(pieces) - 1)];
    ExpectFixedPoint(line);
    if (HasFailure()) break;
  }
}

TEST(NormalizeInvariants, ThreadsShareTheTables) {
  std::vector<std::string> results(4);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < results.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 200; ++round) {
        absl::StatusOr<NormalizedAddress> result = NormalizeAddress(kRealistic[round % 40].input);
        if (round == 199) results[t] = result.ok() ? result->text : "";
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const std::string& result : results) EXPECT_EQ(result, kRealistic[199 % 40].expected);
}

}  // namespace
}  // namespace pingan
