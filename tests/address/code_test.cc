#include "address/code.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace pingan {
namespace {

// Any 27 digits read back as written, zeros and nines at every place included; AppendTo adds
// them after what the string holds.
TEST(AddressCode, AnyDigitsRoundTripAndAppend) {
  std::mt19937_64 random(27);
  for (int round = 0; round < 20000; ++round) {
    std::string digits(AddressCode::kDigits, '0');
    for (char& digit : digits) {
      const uint64_t pick = random() % 4;
      digit = pick == 0 ? '0' : pick == 1 ? '9' : static_cast<char>('0' + random() % 10);
    }
    auto code = AddressCode::Parse(digits);
    ASSERT_TRUE(code.ok()) << digits;
    ASSERT_EQ(code->ToString(), digits);
    std::string out = "x,";
    code->AppendTo(out);
    ASSERT_EQ(out, "x," + digits);
  }
}

TEST(AddressCode, ParsesAndFormats27Digits) {
  auto code = AddressCode::Parse("330106004003001000120301203");
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(code->ToString(), "330106004003001000120301203");
  EXPECT_EQ(code->Digits(0, 6), 330106u);
  EXPECT_EQ(code->Digits(6, 3), 4u);
  EXPECT_EQ(code->Digits(12, 3), 1u);
  EXPECT_EQ(code->Digits(15, 5), 12u);
  EXPECT_EQ(code->Digits(20, 2), 3u);
  EXPECT_EQ(code->Digits(22, 5), 1203u);
  EXPECT_EQ(code->SignificantDigits(), 27);
}

TEST(AddressCode, RejectsWrongLengthAndNonDigitsWithTheReason) {
  auto short_code = AddressCode::Parse("3301060040030010001203012");
  EXPECT_EQ(short_code.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(short_code.status().message().find("has 25 characters"), absl::string_view::npos);
  auto letter = AddressCode::Parse("33010600400300100012030120X");
  EXPECT_NE(letter.status().message().find("character 27 is not a digit"), absl::string_view::npos)
      << letter.status();
  auto full_width = AddressCode::Parse("３３０１０６００４００３００１０００１２０３０１２０３");
  EXPECT_FALSE(full_width.ok());
  EXPECT_FALSE(AddressCode::Parse("").ok());
  EXPECT_FALSE(AddressCode::Parse(std::string(10000, '1')).ok());
}

TEST(AddressCode, PrefixesArePaddedAtLevelBoundariesOnly) {
  for (const char* prefix : {"33", "3301", "330106", "330106004", "330106004003", "330106004003001",
                             "33010600400300100012", "3301060040030010001203"}) {
    auto code = AddressCode::ParsePrefix(prefix);
    ASSERT_TRUE(code.ok()) << prefix;
    EXPECT_EQ(code->ToString().substr(0, strlen(prefix)), prefix);
    EXPECT_EQ(code->ToString().size(), 27u);
  }
  for (const char* bad : {"3", "330", "33010", "3301060", "33010600401"}) {
    auto code = AddressCode::ParsePrefix(bad);
    EXPECT_EQ(code.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(AddressCode, SignificantBoundaryRoundsUpToALevel) {
  EXPECT_EQ(AddressCode().SignificantBoundary(), 0);
  EXPECT_EQ(AddressCode::ParsePrefix("33")->SignificantBoundary(), 2);
  EXPECT_EQ(AddressCode::ParsePrefix("330100")->SignificantBoundary(), 4);
  EXPECT_EQ(AddressCode::ParsePrefix("441900003")->SignificantBoundary(), 9);
  EXPECT_EQ(AddressCode::ParsePrefix("330106004003001")->SignificantBoundary(), 15);
  EXPECT_EQ(AddressCode::Parse("330106004003001000120000000")->SignificantBoundary(), 20);
  EXPECT_EQ(AddressCode::Parse("330106004003001000120100000")->SignificantBoundary(), 22);
  EXPECT_EQ(AddressCode::Parse("330106004003001000120000101")->SignificantBoundary(), 27);
}

TEST(AddressCode, TruncateZeroesTheTail) {
  auto code = *AddressCode::Parse("330106004003001000120301203");
  EXPECT_EQ(code.Truncate(6).ToString(), "330106000000000000000000000");
  EXPECT_EQ(code.Truncate(15).ToString(), "330106004003001000000000000");
  EXPECT_EQ(code.Truncate(22).ToString(), "330106004003001000120300000");
  EXPECT_EQ(code.Truncate(27), code);
}

TEST(Level, NamesRoundTrip) {
  for (int index = 0; index < kLevelCount; ++index) {
    Level level = static_cast<Level>(index);
    EXPECT_EQ(ParseLevel(LevelName(level)), level);
  }
  EXPECT_FALSE(ParseLevel("county").has_value());
  EXPECT_EQ(LevelDigits(Level::kTown), 9);
  EXPECT_EQ(LevelDigits(Level::kRoom), 27);
}

}  // namespace
}  // namespace pingan
