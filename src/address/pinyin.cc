#include "address/pinyin.h"

#include <algorithm>
#include <array>
#include <iterator>

namespace pingan {
namespace {

struct PinyinPair {
  uint16_t code_point;
  uint16_t syllable;
};

// kPinyinSyllables, kPinyinPrimary, kPinyinSecondary, kPinyinFirst, kPinyinLast,
// kPinyinCharacters: generated from Unihan by tools/pinyin_table/generate.sh.
#include "address/pinyin_table.inc"

constexpr size_t kPinyinSpan = kPinyinLast - kPinyinFirst + 1;
static_assert(sizeof(kPinyinPrimary) == 2 * kPinyinSpan + 1, "two characters per code point");
static_assert(std::size(kPinyinSyllables) <= 26 * 26);
static_assert(kPinyinLast < 0x10000, "secondary pairs hold 16-bit code points");
static_assert(std::is_sorted(std::begin(kPinyinSecondary), std::end(kPinyinSecondary),
                             [](const PinyinPair& a, const PinyinPair& b) {
                               return a.code_point < b.code_point;
                             }));

// A bit per code point of the span: whether it has a second syllable, so that the common
// answer (none) needs no binary search. Computed by the compiler.
constexpr auto kHasSecondary = [] {
  std::array<uint64_t, (kPinyinSpan + 63) / 64> bits{};
  for (const PinyinPair& pair : kPinyinSecondary) {
    const size_t at = pair.code_point - kPinyinFirst;
    bits[at / 64] |= uint64_t{1} << (at % 64);
  }
  return bits;
}();

}  // namespace

uint16_t SyllableOf(char32_t c) {
  if (c < kPinyinFirst || c > kPinyinLast) return 0;
  const char* digits = kPinyinPrimary + 2 * (c - kPinyinFirst);
  return static_cast<uint16_t>((digits[0] - 'a') * 26 + (digits[1] - 'a'));
}

uint16_t SecondSyllableOf(char32_t c) {
  if (c < kPinyinFirst || c > kPinyinLast) return 0;
  const size_t at = c - kPinyinFirst;
  if ((kHasSecondary[at / 64] >> (at % 64) & 1) == 0) return 0;
  const PinyinPair* it =
      std::lower_bound(std::begin(kPinyinSecondary), std::end(kPinyinSecondary), c,
                       [](const PinyinPair& pair, char32_t key) { return pair.code_point < key; });
  return it != std::end(kPinyinSecondary) && it->code_point == c ? it->syllable : 0;
}

std::string_view SyllableName(uint16_t syllable) {
  return syllable < std::size(kPinyinSyllables) ? kPinyinSyllables[syllable] : std::string_view();
}

size_t SyllableCount() { return std::size(kPinyinSyllables) - 1; }

size_t PinyinCharacterCount() { return kPinyinCharacters; }

bool PinyinKey(std::string_view utf8, std::u16string& out) {
  out.clear();
  // Every character of the table (U+3400-9FFF) is a three-byte sequence with a lead byte
  // E3-E9, so anything else (ASCII, two- and four-byte sequences, stray continuation bytes)
  // fails at once. Overlong forms need lead E0 and surrogates ED A0-BF (U+D800 and up, past the
  // table), so a sequence decoded here is either well-formed or has no syllable.
  const auto* p = reinterpret_cast<const unsigned char*>(utf8.data());
  const auto* end = p + utf8.size();
  while (p != end) {
    if (end - p < 3 || p[0] < 0xE3 || p[0] > 0xE9 || (p[1] & 0xC0) != 0x80 ||
        (p[2] & 0xC0) != 0x80) {
      return false;
    }
    char32_t c = (char32_t{p[0] & 0x0Fu} << 12) | (char32_t{p[1] & 0x3Fu} << 6) | (p[2] & 0x3Fu);
    uint16_t syllable = SyllableOf(c);
    if (syllable == 0) return false;
    out.push_back(static_cast<char16_t>(syllable));
    p += 3;
  }
  return true;
}

}  // namespace pingan
