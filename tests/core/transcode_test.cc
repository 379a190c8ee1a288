#include "core/transcode.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace pingan {
namespace {

// 浙江省杭州市 in GBK (and GB18030), byte by byte from the GB 2312 code chart.
const std::string kGbk = "\xD5\xE3\xBD\xAD\xCA\xA1\xBA\xBC\xD6\xDD\xCA\xD0";

// Reads `data` through `transcoder` with `step` bytes a raw read and a `size`-byte buffer.
std::string ReadAll(Transcoder& transcoder, std::string_view data, size_t step, size_t size = 64) {
  size_t offset = 0;
  Transcoder::Read read = transcoder.Wrap([&](char* buffer, size_t room) -> absl::StatusOr<size_t> {
    const size_t take = std::min({room, step, data.size() - offset});
    std::copy_n(data.data() + offset, take, buffer);
    offset += take;
    return take;
  });
  std::string out, buffer(size, '\0');
  while (true) {
    absl::StatusOr<size_t> got = read(buffer.data(), buffer.size());
    EXPECT_TRUE(got.ok());
    if (!got.ok() || *got == 0) break;
    EXPECT_LE(*got, size);
    out.append(buffer.data(), *got);
  }
  return out;
}

TEST(Transcoder, ReadsGbkAsUtf8WhereverTheReadsCutIt) {
  absl::StatusOr<std::unique_ptr<Transcoder>> gb = Transcoder::Open("gb18030");
  ASSERT_TRUE(gb.ok()) << gb.status();
  EXPECT_EQ((*gb)->name(), "GB18030");
  std::string text;
  for (int i = 0; i < 40; ++i) text += kGbk + ",a\n";
  std::string expected;
  for (int i = 0; i < 40; ++i) expected += "浙江省杭州市,a\n";
  // Raw reads of one byte cut every two-byte character in half; 7 and 13 cut some.
  for (size_t step : {size_t{1}, size_t{7}, size_t{13}, size_t{4096}}) {
    EXPECT_EQ(ReadAll(**gb, text, step), expected) << step;
  }
  EXPECT_EQ(ReadAll(**gb, text, 5, 1 << 20), expected);
}

TEST(Transcoder, FourByteGb18030AndOtherEncodings) {
  // U+20000 (𠀀) is a four-byte sequence in GB18030: 0x95 0x32 0x82 0x36.
  absl::StatusOr<std::unique_ptr<Transcoder>> gb = Transcoder::Open("GB18030");
  ASSERT_TRUE(gb.ok());
  EXPECT_EQ(ReadAll(**gb, "\x95\x32\x82\x36-\x95\x32\x82\x36", 1), "𠀀-𠀀");
  // 蕭山區 in Big5.
  absl::StatusOr<std::unique_ptr<Transcoder>> big5 = Transcoder::Open("BIG5");
  ASSERT_TRUE(big5.ok());
  EXPECT_EQ(ReadAll(**big5, "\xBF\xBD\xA4\x73\xB0\xCF", 3), "蕭山區");
  // UTF-16LE with its byte-order mark: "杭州\n".
  absl::StatusOr<std::unique_ptr<Transcoder>> utf16 = Transcoder::Open("UTF-16");
  ASSERT_TRUE(utf16.ok());
  EXPECT_EQ(ReadAll(**utf16, std::string("\xFF\xFE\x6D\x67\xDE\x5D\x0A\x00", 8), 1), "杭州\n");
}

TEST(Transcoder, InvalidSequencesBecomeAByteThatIsNeverUtf8) {
  absl::StatusOr<std::unique_ptr<Transcoder>> gb = Transcoder::Open("GBK");
  ASSERT_TRUE(gb.ok());
  // 0xFF is no GBK lead byte (0x80 is: glibc reads it as the euro sign, as Windows does); a
  // lead byte before a newline has no trail; the text ends inside a character. Each bad byte is
  // one 0xFF, and what follows is read.
  const std::string text = std::string("a\xFF") + kGbk.substr(0, 2) + "\xFF\n\xD5\nb\n" + kGbk.substr(0, 3);
  const std::string expected = std::string("a\xFF") + "浙" + "\xFF\n\xFF\nb\n浙\xFF";
  for (size_t step : {size_t{1}, size_t{2}, size_t{100}}) EXPECT_EQ(ReadAll(**gb, text, step), expected) << step;
  std::string whole;
  (*gb)->ConvertAll(text, whole);
  EXPECT_EQ(whole, expected);
}

TEST(Transcoder, UnknownOrHostileNamesAreRefused) {
  for (std::string_view name : {"klingon", "GB18030//IGNORE", "../etc/passwd", "", "UTF-8 ", "gb18030;rm",
                                "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLMNOPQRSTUVWXYZ"}) {
    absl::StatusOr<std::unique_ptr<Transcoder>> opened = Transcoder::Open(name);
    EXPECT_FALSE(opened.ok()) << name;
    if (!opened.ok()) {
      EXPECT_EQ(opened.status().code(), absl::StatusCode::kInvalidArgument) << name;
    }
  }
  EXPECT_TRUE(Transcoder::IsUtf8(""));
  EXPECT_TRUE(Transcoder::IsUtf8("utf-8"));
  EXPECT_TRUE(Transcoder::IsUtf8("UTF8"));
  EXPECT_FALSE(Transcoder::IsUtf8("GBK"));
}

TEST(Transcoder, ASmallReadBufferIsAnErrorNotAnOverflow) {
  absl::StatusOr<std::unique_ptr<Transcoder>> gb = Transcoder::Open("GBK");
  ASSERT_TRUE(gb.ok());
  Transcoder::Read read = (*gb)->Wrap([](char*, size_t) -> absl::StatusOr<size_t> { return size_t{0}; });
  char buffer[32];
  EXPECT_FALSE(read(buffer, sizeof buffer).ok());
}

}  // namespace
}  // namespace pingan
