#include "address/normalize.h"

#include <utf8proc.h>

#include <algorithm>
#include <cassert>
#include <memory>

#include "absl/strings/cord.h"
#include "core/strings.h"

namespace pingan {
namespace {

// ---------------------------------------------------------------------------------------------
// Traditional -> simplified: {traditional, simplified} code point pairs, sorted, generated from
// OpenCC by tools/t2s_table/generate.sh.
struct T2SPair {
  uint32_t from;
  uint32_t to;
};
constexpr T2SPair kT2S[] = {
#include "address/t2s_table.inc"
};
static_assert(std::is_sorted(std::begin(kT2S), std::end(kT2S),
                             [](const T2SPair& a, const T2SPair& b) { return a.from < b.from; }));

uint32_t ToSimplified(uint32_t cp) {
  const T2SPair* it =
      std::lower_bound(std::begin(kT2S), std::end(kT2S), cp,
                       [](const T2SPair& pair, uint32_t key) { return pair.from < key; });
  return it != std::end(kT2S) && it->from == cp ? it->to : cp;
}

// ---------------------------------------------------------------------------------------------
// Code points as the stages see them: the folded code point, its class, and the byte offset of
// the input character it came from.

enum Class : uint8_t {
  kOther = 0,  // symbols, '#', letters other than a-z, ...
  kSpace,      // white space (TAB, Zs)
  kSep,        // punctuation and ASCII symbols other than '#': separators
  kDigit,      // 0-9
  kLatin,      // a-z
  kHan,        // CJK ideographs and 〇
};

// A unit packs the code point (bits 0-20), its class (bits 21-23) and flags (bits 24-27) that
// let the stages skip what they do not look at. Entries of the fold table use bits 29-31 too.
constexpr uint32_t kCpMask = 0x1FFFFF;
constexpr int kClassShift = 21;
constexpr uint32_t kClassMask = 0x7;
constexpr uint32_t kNumeralFlag = 1u << 24;  // 〇零一二两三四五六七八九十百千
constexpr uint32_t kTriggerFlag = 1u << 25;  // last character of a noise word: 近面边壁口侧
constexpr uint32_t kDigitFlag = 1u << 26;    // 0-9
constexpr uint32_t kContentFlag = 1u << 27;  // not white space
constexpr uint32_t kFlagMask = kNumeralFlag | kTriggerFlag | kDigitFlag | kContentFlag;

bool IsNumeral(uint32_t cp);
bool IsNoiseTrigger(uint32_t cp);
Class ClassOf(uint32_t cp);

uint32_t Pack(uint32_t cp) {
  const Class cls = ClassOf(cp);
  return cp | (static_cast<uint32_t>(cls) << kClassShift) | (IsNumeral(cp) ? kNumeralFlag : 0) |
         (IsNoiseTrigger(cp) ? kTriggerFlag : 0) | (cls == kDigit ? kDigitFlag : 0) |
         (cls != kSpace ? kContentFlag : 0);
}

// A digit as a unit: what Pack gives for '0'..'9'.
constexpr uint32_t PackedDigit(char digit) {
  return static_cast<uint32_t>(digit) | (static_cast<uint32_t>(kDigit) << kClassShift) |
         kDigitFlag | kContentFlag;
}

struct Unit {
  uint32_t packed;  // code point | class | flags
  uint32_t offset;  // byte offset in the input line
  uint32_t cp() const { return packed & kCpMask; }
  Class cls() const { return static_cast<Class>((packed >> kClassShift) & kClassMask); }
  bool is(uint32_t code_point) const { return cp() == code_point; }
  bool digit() const { return (packed & kDigitFlag) != 0; }
  bool numeral() const { return (packed & kNumeralFlag) != 0; }
  bool trigger() const { return (packed & kTriggerFlag) != 0; }
};

// A growable array of units without the initialisation and checks of std::vector.
class UnitBuffer {
 public:
  Unit* data() { return data_.get(); }
  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  bool empty() const { return size_ == 0; }
  Unit& back() { return data_[size_ - 1]; }
  void clear() { size_ = 0; }
  // REQUIRES: size <= capacity().
  void resize(size_t size) { size_ = size; }
  // Room for `more` units beyond size(), keeping the contents.
  void Reserve(size_t more) {
    if (size_ + more <= capacity_) return;
    size_t capacity = std::max<size_t>({64, capacity_ * 2, size_ + more});
    std::unique_ptr<Unit[]> grown(new Unit[capacity]);
    std::copy(data_.get(), data_.get() + size_, grown.get());
    data_ = std::move(grown);
    capacity_ = capacity;
  }
  // REQUIRES: Reserve made room.
  void push_back(Unit unit) { data_[size_++] = unit; }
  void swap(UnitBuffer& other) {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
    std::swap(capacity_, other.capacity_);
  }
  void Release() { *this = UnitBuffer(); }

 private:
  std::unique_ptr<Unit[]> data_;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

bool IsHan(uint32_t cp) {
  return cp == 0x3007 || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x4E00 && cp <= 0x9FFF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x20000 && cp <= 0x323AF);
}

Class ClassOf(uint32_t cp) {
  if (cp < 0x80) {
    if (cp >= '0' && cp <= '9') return kDigit;
    if (cp >= 'a' && cp <= 'z') return kLatin;
    if (cp >= 'A' && cp <= 'Z') return kOther;  // never produced: folding lower-cases
    if (cp == ' ' || cp == '\t') return kSpace;
    if (cp == '#') return kOther;
    return cp < 0x20 || cp == 0x7F ? kOther : kSep;
  }
  if (IsHan(cp)) return kHan;
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(cp))) {
    case UTF8PROC_CATEGORY_ZS:
      return kSpace;
    case UTF8PROC_CATEGORY_PC:
    case UTF8PROC_CATEGORY_PD:
    case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE:
    case UTF8PROC_CATEGORY_PI:
    case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO:
      return kSep;
    default:
      return kOther;
  }
}

bool IsControl(uint32_t cp) {
  return (cp < 0x20 && cp != '\t') || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029;
}

size_t Utf8Bytes(uint32_t cp) { return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4; }

// Writes `cp` as UTF-8 at `p`; returns the end.
char* WriteUtf8(char* p, uint32_t cp) {
  if (cp < 0x80) {
    *p++ = static_cast<char>(cp);
  } else if (cp < 0x800) {
    *p++ = static_cast<char>(0xC0 | (cp >> 6));
    *p++ = static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *p++ = static_cast<char>(0xE0 | (cp >> 12));
    *p++ = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *p++ = static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    *p++ = static_cast<char>(0xF0 | (cp >> 18));
    *p++ = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    *p++ = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *p++ = static_cast<char>(0x80 | (cp & 0x3F));
  }
  return p;
}

void AppendUtf8(std::string& out, uint32_t cp) {
  char buffer[4];
  out.append(buffer, WriteUtf8(buffer, cp) - buffer);
}

// Decodes the UTF-8 sequence at the start of [p, p + available): its length, or 0 when it is
// not well-formed (overlong, surrogate, above U+10FFFF, truncated, stray continuation byte).
inline size_t DecodeUtf8(const uint8_t* p, size_t available, uint32_t& cp) {
  const uint8_t lead = p[0];
  if (lead < 0x80) {
    cp = lead;
    return 1;
  }
  size_t length;
  uint32_t min;
  if ((lead & 0xE0) == 0xC0) {
    length = 2, min = 0x80, cp = lead & 0x1F;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3, min = 0x800, cp = lead & 0x0F;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4, min = 0x10000, cp = lead & 0x07;
  } else {
    return 0;
  }
  if (available < length) return 0;
  for (size_t k = 1; k < length; ++k) {
    if ((p[k] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (p[k] & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return length;
}

// ---------------------------------------------------------------------------------------------
// Folding one code point: NFKC compatibility forms (full-width -> half-width, ① -> 1, ㎡ -> m2,
// CJK compatibility ideographs and Kangxi radicals -> unified ideographs), case folding, the
// lumping of dashes, spaces and quotes to ASCII, default-ignorable characters (zero-width
// space, BOM, soft hyphen, bidi controls, variation selectors) dropped, traditional ->
// simplified; repeated until nothing changes. A form more than four times the bytes of the
// character (ﷺ has 18 letters) is not used: the character is kept as it is.

constexpr int kMaxFold = 16;

// One round over one code point into out (at most kMaxFold); the count, or -1 when too long.
int FoldRound(uint32_t cp, uint32_t* out) {
  constexpr utf8proc_option_t kOptions =
      static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_COMPOSE |
                                     UTF8PROC_IGNORE | UTF8PROC_CASEFOLD | UTF8PROC_LUMP);
  utf8proc_int32_t buffer[32];
  int boundclass = UTF8PROC_BOUNDCLASS_START;
  utf8proc_ssize_t length =
      utf8proc_decompose_char(static_cast<utf8proc_int32_t>(cp), buffer, 32, kOptions, &boundclass);
  if (length < 0 || length > 32) {
    out[0] = cp;
    return 1;
  }
  if (length > 1) {
    length = utf8proc_normalize_utf32(
        buffer, length, static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
    if (length < 0) {
      out[0] = cp;
      return 1;
    }
  }
  if (length > kMaxFold) return -1;
  for (utf8proc_ssize_t k = 0; k < length; ++k)
    out[k] = ToSimplified(static_cast<uint32_t>(buffer[k]));
  return static_cast<int>(length);
}

// The folded form of `cp` into out (at most kMaxFold code points); the count (0: dropped).
int FoldCodePoint(uint32_t cp, uint32_t* out) {
  uint32_t current[kMaxFold];
  int count = 1;
  current[0] = cp;
  for (int round = 0; round < 4; ++round) {
    uint32_t next[kMaxFold];
    int next_count = 0;
    bool changed = false;
    for (int k = 0; k < count; ++k) {
      uint32_t piece[kMaxFold];
      int pieces = FoldRound(current[k], piece);
      if (pieces < 0 || next_count + pieces > kMaxFold) {
        out[0] = cp;
        return 1;
      }
      if (pieces != 1 || piece[0] != current[k]) changed = true;
      for (int m = 0; m < pieces; ++m) next[next_count++] = piece[m];
    }
    std::copy(next, next + next_count, current);
    count = next_count;
    if (!changed) break;
  }
  size_t bytes = 0;
  for (int k = 0; k < count; ++k) {
    if (IsControl(current[k])) {  // never produced by NFKC; kept out of the output regardless
      out[0] = cp;
      return 1;
    }
    bytes += Utf8Bytes(current[k]);
  }
  if (bytes > 4 * Utf8Bytes(cp)) {
    out[0] = cp;
    return 1;
  }
  std::copy(current, current + count, out);
  return count;
}

// The BMP folded once, at first use: an entry per code point, either a packed unit, kDrop,
// kControlEntry, or kMulti | index into `pool` (pool[index] = count, then the packed units).

struct FoldTable {
  std::vector<uint32_t> bmp;
  std::vector<uint32_t> pool;
};

// Fold table entries that are not units.
constexpr uint32_t kControlEntry = 1u << 29;  // the line is invalid
constexpr uint32_t kDrop = 1u << 30;          // folds to nothing
constexpr uint32_t kMulti = 1u << 31;         // folds to several units: index into the pool
constexpr uint32_t kNotUnit = kControlEntry | kDrop | kMulti;

const FoldTable& Table() {
  static const FoldTable* table = [] {
    auto* t = new FoldTable;
    t->bmp.resize(0x10000);
    for (uint32_t cp = 0; cp < 0x10000; ++cp) {
      if (cp >= 0xD800 && cp <= 0xDFFF) {
        t->bmp[cp] = Pack(0xFFFD);  // never looked up: surrogates are invalid UTF-8
        continue;
      }
      if (IsControl(cp)) {
        t->bmp[cp] = kControlEntry;
        continue;
      }
      uint32_t out[kMaxFold];
      const int count = FoldCodePoint(cp, out);
      if (count == 0) {
        t->bmp[cp] = kDrop;
      } else if (count == 1) {
        t->bmp[cp] = Pack(out[0]);
      } else {
        t->bmp[cp] = kMulti | static_cast<uint32_t>(t->pool.size());
        t->pool.push_back(static_cast<uint32_t>(count));
        for (int k = 0; k < count; ++k) t->pool.push_back(Pack(out[k]));
      }
    }
    for (char digit = '0'; digit <= '9'; ++digit) {
      assert(t->bmp[static_cast<uint8_t>(digit)] == PackedDigit(digit));
    }
    return t;
  }();
  return *table;
}

// ---------------------------------------------------------------------------------------------
// Per-thread scratch space, reused across calls.

struct Group {
  uint32_t begin;  // index of the first digit
  uint32_t end;    // one past the last character (an ID number's trailing 'x' included)
  bool removed;
};

struct Scratch {
  UnitBuffer units;
  UnitBuffer spare;
  std::vector<Group> groups;
  std::string run;  // the characters of the digit run being examined
};

Scratch& ThreadScratch() {
  thread_local Scratch scratch;
  return scratch;
}

// ---------------------------------------------------------------------------------------------
// What Fold learns of the line on the way.
struct FoldFacts {
  uint32_t flags = 0;        // the flags of all units, ORed
  uint32_t gaps = 0;         // bit k: a separator run was removed after k units (k < 32)
  uint32_t longest_run = 0;  // the most digits in a run of digits joined by '-'
};

// Validates, folds and handles separators in one pass over the bytes: a run of white space
// and punctuation between two digits becomes one '-' (12-3-1203, 138 0000 0000 ->
// 138-0000-0000); any other run is removed.
LineCheck Fold(std::string_view line, UnitBuffer& units, FoldFacts& facts) {
  const FoldTable& table = Table();
  const uint32_t* const bmp = table.bmp.data();
  const auto* bytes = reinterpret_cast<const uint8_t*>(line.data());
  const size_t size = line.size();
  // At most 4 units per input byte (a folded form is at most 4 times the bytes of the original),
  // and one '-' per separator run.
  units.clear();
  units.Reserve(4 * size + kMaxFold);
  Unit* const start = units.data();
  Unit* out = start;
  const uint32_t dash = bmp[uint32_t{'-'}];
  uint32_t flags = 0;
  uint32_t gaps = 0;
  uint32_t run = 0;  // digits in the current run
  uint32_t longest_run = 0;
  bool pending = false;  // a separator run not yet resolved
  uint32_t pending_offset = 0;
  const auto add = [&](uint32_t packed, uint32_t offset) {
    const auto cls = static_cast<Class>((packed >> kClassShift) & kClassMask);
    if (cls == kSpace || cls == kSep) {
      if (!pending) pending = true, pending_offset = offset;
      flags |= packed & kContentFlag;  // punctuation is content (though removed), space is not
      return;
    }
    if (pending) {
      pending = false;
      const size_t count = static_cast<size_t>(out - start);
      if (count > 0 && (out[-1].packed & packed & kDigitFlag)) {
        *out++ = Unit{dash, pending_offset};
      } else if (count < 32) {
        gaps |= 1u << count;
      }
    }
    if (packed & kDigitFlag) {
      run = out != start && (out[-1].packed & kDigitFlag || out[-1].packed == dash) ? run + 1 : 1;
      longest_run = std::max(longest_run, run);
    }
    *out++ = Unit{packed, offset};
    flags |= packed;
  };
  for (size_t i = 0; i < size;) {
    const uint8_t b = bytes[i];
    const auto offset = static_cast<uint32_t>(i);
    uint32_t cp;
    if (b < 0x80) {
      cp = b;
      i += 1;
    } else if ((b & 0xF0) == 0xE0 && i + 2 < size && (bytes[i + 1] & 0xC0) == 0x80 &&
               (bytes[i + 2] & 0xC0) == 0x80) {
      cp = ((b & 0x0Fu) << 12) | ((bytes[i + 1] & 0x3Fu) << 6) | (bytes[i + 2] & 0x3Fu);
      if (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF)) return {InputProblem::kInvalidUtf8, i};
      i += 3;
    } else {
      const size_t length = DecodeUtf8(bytes + i, size - i, cp);
      if (length == 0) return {InputProblem::kInvalidUtf8, i};
      i += length;
    }
    if (cp < 0x10000) {
      const uint32_t entry = bmp[cp];
      if ((entry & kNotUnit) == 0) {
        add(entry, offset);
      } else if (entry & kMulti) {
        const uint32_t* seq = &table.pool[entry & ~kMulti];
        for (uint32_t k = 1; k <= seq[0]; ++k) add(seq[k], offset);
      } else if (entry & kControlEntry) {
        return {InputProblem::kControlCharacter, offset};
      }
      continue;
    }
    uint32_t folded[kMaxFold];
    int count = FoldCodePoint(cp, folded);
    for (int k = 0; k < count; ++k) add(Pack(folded[k]), offset);
  }
  const size_t count = static_cast<size_t>(out - start);
  if (pending && count < 32) gaps |= 1u << count;
  units.resize(count);
  facts.flags = flags & kFlagMask;
  facts.gaps = gaps;
  facts.longest_run = longest_run;
  if (!(flags & kContentFlag)) return {InputProblem::kEmpty, 0};
  return {};
}

// ---------------------------------------------------------------------------------------------
// Word lists. All as normalised text (simplified, lower case).

using Word = std::u32string_view;

bool TailIs(const Unit* units, size_t end, Word word) {
  if (end < word.size()) return false;
  const Unit* start = units + end - word.size();
  for (size_t k = 0; k < word.size(); ++k) {
    if (start[k].cp() != word[k]) return false;
  }
  return true;
}

bool HeadIs(const Unit* units, size_t begin, size_t end, Word word) {
  if (end - begin < word.size()) return false;
  for (size_t k = 0; k < word.size(); ++k) {
    if (units[begin + k].cp() != word[k]) return false;
  }
  return true;
}

void AppendWord(std::string& out, Word word) {
  for (char32_t cp : word) AppendUtf8(out, cp);
}

void RecordNoise(NormalizedAddress& out, Word word) {
  out.removed_noise.emplace_back();
  AppendWord(out.removed_noise.back(), word);
}

// A label at the start of the line, followed by a separator: "地址:", "收货地址 ", and the
// labels of court papers and police reports ("住所地：", "案发地点：").
constexpr Word kLabels[] = {U"户籍所在地", U"经常居住地", U"详细地址", U"收货地址", U"家庭住址",
                            U"户籍地址",   U"居住地址",   U"联系地址", U"通讯地址", U"案发地点",
                            U"发案地点",   U"案发地址",   U"事发地点", U"现住址",   U"住所地",
                            U"户籍地",     U"居住地",     U"地址",     U"住址"};

// Noise words, longest first among those sharing a last character.
constexpr Word kNoise[] = {U"十字路口", U"斜对面", U"交叉口", U"附近", U"对面", U"旁边", U"隔壁",
                           U"门口",     U"路口",   U"东侧",   U"西侧", U"南侧", U"北侧", U"周边"};
constexpr char32_t kRoadJunction[] = U"路口";

// A noise word directly followed by one of these is part of a place name (路口村, 石门口村,
// 两路口社区, 路口镇) and stays.
bool ContinuesName(const Unit* follower) {
  constexpr Word kNameEnds = U"村镇乡社街居站区苑园庄屯寨湾坪坝桥巷路组";
  return follower != nullptr && kNameEnds.find(static_cast<char32_t>(follower->cp())) != Word::npos;
}

// Characters after which "近" means "near" (478号近华星时代广场).
bool IsNearAnchor(const Unit& unit) {
  constexpr Word kAnchors = U"号弄幢栋楼座室层元";
  return unit.digit() || kAnchors.find(static_cast<char32_t>(unit.cp())) != Word::npos;
}

bool IsNoiseTrigger(uint32_t cp) {
  return cp == U'近' || cp == U'面' || cp == U'边' || cp == U'壁' || cp == U'口' || cp == U'侧';
}

// The Chinese numerals and their values: 〇零 0, 一 1, 二两 2, ... 九 9, 十 10, 百 100, 千 1000.
constexpr Word kNumerals = U"〇零一二两三四五六七八九十百千";
constexpr int kNumeralValues[] = {0, 0, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9, 10, 100, 1000};
static_assert(std::size(kNumeralValues) == kNumerals.size());

bool IsNumeral(uint32_t cp) { return kNumerals.find(static_cast<char32_t>(cp)) != Word::npos; }

// The value of a Chinese numeral, or -1.
int NumeralValue(uint32_t cp) {
  const size_t index = kNumerals.find(static_cast<char32_t>(cp));
  return index == Word::npos ? -1 : kNumeralValues[index];
}

// Length of the address unit suffix at units[at], or 0.
size_t SuffixAt(const Unit* units, size_t at, size_t size) {
  constexpr Word kSuffixes = U"号弄幢栋楼座室层组期";
  if (at >= size) return 0;
  if (kSuffixes.find(static_cast<char32_t>(units[at].cp())) != Word::npos) return 1;
  if (HeadIs(units, at, size, U"单元") || HeadIs(units, at, size, U"网格")) return 2;
  return 0;
}

// Words that introduce a phone number and go with it, longest first.
constexpr Word kPhoneWords[] = {U"身份证号码", U"联系电话", U"联系方式", U"手机号码", U"电话号码",
                                U"身份证号",   U"联系人",   U"手机号",   U"身份证",   U"证件号",
                                U"电联",       U"电话",     U"手机",     U"座机",     U"联系",
                                U"tel",        U"收"};

// ---------------------------------------------------------------------------------------------
// The stages after folding. Each rewrites `units` in place (or through `spare`).

// A label such as "地址:" at the start of the line, followed by a separator, is removed.
void Labels(UnitBuffer& units, uint32_t gaps, NormalizedAddress& out) {
  Unit* u = units.data();
  const size_t n = units.size();
  for (Word label : kLabels) {
    if ((gaps >> label.size()) & 1 && HeadIs(u, 0, n, label)) {
      RecordNoise(out, label);
      std::copy(u + label.size(), u + n, u);
      units.resize(n - label.size());
      return;
    }
  }
}

// The country's name at the start of the line, after any label (中华人民共和国浙江省..., as court
// papers write it): no place is named so, and its 人民 and 共和 are short names of communities
// (杭州's 人民社区, 共和村) that would stand against the places written after it.
void Country(UnitBuffer& units, NormalizedAddress& out) {
  constexpr Word kCountry = U"中华人民共和国";
  Unit* u = units.data();
  const size_t n = units.size();
  if (!HeadIs(u, 0, n, kCountry)) return;
  RecordNoise(out, kCountry);
  std::copy(u + kCountry.size(), u + n, u);
  units.resize(n - kCountry.size());
}

// Removes the noise word ending at units[w - 1] given what follows it; true when it did.
bool RemoveNoiseAtTail(Unit* u, size_t& w, const Unit* follower, NormalizedAddress& out) {
  if (w == 0) return false;
  const uint32_t last = u[w - 1].cp();
  if (!u[w - 1].trigger()) return false;
  if (last == U'近' && w >= 2 && IsNearAnchor(u[w - 2]) && follower != nullptr &&
      follower->cls() == kHan && !follower->is(U'江')) {  // 近江 is a place in Hangzhou
    --w;
    RecordNoise(out, U"近");
    return true;
  }
  if (ContinuesName(follower)) return false;
  for (Word word : kNoise) {
    if (!TailIs(u, w, word)) continue;
    if (word == kRoadJunction && w >= 3 && u[w - 3].cls() == kHan) {
      --w;  // 文三路口 -> 文三路
    } else {
      w -= word.size();
    }
    RecordNoise(out, word);
    return true;
  }
  return false;
}

// Noise words, as a stack: each character is checked against the words ending before it, so
// that removing one word cannot leave another behind (附附近近 -> ""). True when it removed any.
bool Noise(UnitBuffer& units, NormalizedAddress& out) {
  Unit* u = units.data();
  const size_t n = units.size();
  // Nothing changes before the first character a noise word can end with.
  size_t first = 0;
  while (first < n && !u[first].trigger()) ++first;
  size_t w = first;
  for (size_t i = first; i <= n; ++i) {
    const Unit* follower = i < n ? &u[i] : nullptr;
    while (RemoveNoiseAtTail(u, w, follower, out)) {
    }
    if (i < n) u[w++] = u[i];
  }
  units.resize(w);
  return w != n;
}

// The Arabic digits of a run of Chinese numerals into `digits`; their count, or 0 when the run
// is not a number: digit by digit without 十/百/千 (一〇二 -> 102; at most 32 of them), else
// positional (三十二 -> 32, 十二 -> 12, 一百零二 -> 102, 一百二 -> 120).
constexpr size_t kMaxNumeralDigits = 32;
size_t NumeralDigits(const Unit* run, size_t length, char (&digits)[kMaxNumeralDigits]) {
  bool positional = false;
  for (size_t k = 0; k < length; ++k) positional |= NumeralValue(run[k].cp()) >= 10;
  if (!positional) {
    if (length > sizeof digits) return 0;
    for (size_t k = 0; k < length; ++k)
      digits[k] = static_cast<char>('0' + NumeralValue(run[k].cp()));
    return length;
  }
  int total = 0;
  int pending = -1;  // a digit waiting for its unit
  int last_unit = 10000;
  bool zero = false;
  for (size_t k = 0; k < length; ++k) {
    const int value = NumeralValue(run[k].cp());
    if (value == 0) {
      if (pending != -1 || total == 0) return 0;
      zero = true;
    } else if (value < 10) {
      if (pending != -1) return 0;
      pending = value;
    } else {
      if (value >= last_unit) return 0;
      if (pending == -1) {
        if (value != 10 || (total != 0 && !zero)) return 0;
        pending = 1;  // 十二 = 12, 一百零十 = 110
      }
      total += pending * value;
      last_unit = value;
      pending = -1;
      zero = false;
    }
  }
  if (pending != -1) {
    // 三十二, 一百零二: units; 一百二 = 120, 三千五 = 3500: the next unit down.
    total += zero || last_unit == 10 ? pending : pending * (last_unit / 10);
  } else if (zero) {
    return 0;  // 一百零
  }
  // total is 1..9999.
  size_t count = 0;
  for (int divisor = total >= 1000  ? 1000
                     : total >= 100 ? 100
                     : total >= 10  ? 10
                                    : 1;
       divisor > 0; divisor /= 10) {
    digits[count++] = static_cast<char>('0' + total / divisor % 10);
  }
  return count;
}

// Chinese numerals directly before an address unit suffix become Arabic digits, unless a digit
// precedes them: 三十二号 -> 32号, 第三网格 -> 第3网格; 三墩镇, 九堡, 十里坪 stay. True when
// it converted any.
bool Numerals(UnitBuffer& units, UnitBuffer& spare) {
  const Unit* u = units.data();
  const size_t n = units.size();
  size_t first = 0;
  while (first < n && !u[first].numeral()) ++first;
  if (first == n) return false;
  spare.clear();
  spare.Reserve(2 * n);  // 十 -> 10 is the largest growth
  Unit* const start = spare.data();
  Unit* out = std::copy(u, u + first, start);
  bool converted = false;
  char digits[kMaxNumeralDigits];
  for (size_t i = first; i < n;) {
    if (!u[i].numeral()) {
      *out++ = u[i++];
      continue;
    }
    size_t j = i;
    while (j < n && u[j].numeral()) ++j;
    const bool after_digit = out != start && out[-1].digit();
    size_t count = 0;
    if (!after_digit && SuffixAt(u, j, n) > 0 &&
        (count = NumeralDigits(u + i, j - i, digits)) > 0) {
      converted = true;
      for (size_t k = 0; k < count; ++k) {
        const size_t source = k + 1 == count ? j - 1 : std::min(i + k, j - 1);
        *out++ = Unit{PackedDigit(digits[k]), u[source].offset};
      }
    } else {
      out = std::copy(u + i, u + j, out);
    }
    i = j;
  }
  spare.resize(static_cast<size_t>(out - start));
  units.swap(spare);
  return converted;
}

bool AllDigits(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool IsMobile(std::string_view digits) {
  return digits.size() == 11 && digits[0] == '1' && digits[1] >= '3' && digits[1] <= '9' &&
         AllDigits(digits);
}

// Matches personal numbers on the '-'-joined groups of one digit run.
class RunMatcher {
 public:
  RunMatcher(const std::string& run, const std::vector<Group>& groups, uint32_t run_begin)
      : run_(run), groups_(groups), base_(run_begin) {}

  std::string_view group(size_t g) const {
    return std::string_view(run_).substr(groups_[g].begin - base_,
                                         groups_[g].end - groups_[g].begin);
  }
  size_t size(size_t g) const { return groups_[g].end - groups_[g].begin; }
  size_t count() const { return groups_.size(); }
  // The digits of groups [g, g + k) as one string, when they exist and have these sizes.
  bool Sizes(size_t g, std::initializer_list<size_t> sizes, std::string& joined) const {
    if (g + sizes.size() > count()) return false;
    joined.clear();
    size_t k = g;
    for (size_t expected : sizes) {
      if (size(k) != expected) return false;
      joined.append(group(k++));
    }
    return true;
  }

  // 18-digit ID number (17 digits and a digit or x), whole or as 6-8-4: the groups taken, or 0.
  size_t Id(size_t g) const {
    std::string joined;
    const auto is_id = [](std::string_view text) {
      return text.size() == 18 && AllDigits(text.substr(0, 17)) &&
             ((text[17] >= '0' && text[17] <= '9') || text[17] == 'x');
    };
    if (is_id(group(g))) return 1;
    if (Sizes(g, {6, 8, 4}, joined) && is_id(joined)) return 3;
    return 0;
  }

  // Mobile number 1[3-9]xxxxxxxxx, whole, as 3-4-4, 3-8 or 7-4, after an optional 86 or 0086
  // (glued or as its own group).
  size_t Mobile(size_t g) const {
    std::string_view first = group(g);
    if ((first == "86" || first == "0086") && g + 1 < count()) {
      if (size_t taken = MobileBody(g + 1)) return taken + 1;
    }
    if (first.size() == 13 && first.substr(0, 2) == "86" && IsMobile(first.substr(2))) return 1;
    if (first.size() == 15 && first.substr(0, 4) == "0086" && IsMobile(first.substr(4))) return 1;
    return MobileBody(g);
  }

  // Landline with its area code (0 + 2-3 digits, then 7-8 digits, the number whole or 3-4 or
  // 4-4), or glued to it (10-12 digits starting with 0 and a non-zero digit).
  size_t Landline(size_t g) const {
    std::string_view first = group(g);
    if (first.size() < 3 || first[0] != '0' || first[1] == '0' || !AllDigits(first)) return 0;
    if (first.size() >= 10 && first.size() <= 12) return 1;
    if (first.size() > 4) return 0;
    const auto local_start = [&](size_t k) { return group(k)[0] >= '2' && group(k)[0] <= '9'; };
    std::string joined;
    if (g + 1 < count() && (size(g + 1) == 7 || size(g + 1) == 8) && AllDigits(group(g + 1)) &&
        local_start(g + 1)) {
      return 2;
    }
    if ((Sizes(g + 1, {3, 4}, joined) || Sizes(g + 1, {4, 4}, joined)) && AllDigits(joined) &&
        local_start(g + 1)) {
      return 3;
    }
    return 0;
  }

 private:
  size_t MobileBody(size_t g) const {
    std::string joined;
    if (IsMobile(group(g))) return 1;
    if ((Sizes(g, {3, 8}, joined) || Sizes(g, {7, 4}, joined)) && IsMobile(joined)) return 2;
    if (Sizes(g, {3, 4, 4}, joined) && IsMobile(joined)) return 3;
    return 0;
  }

  const std::string& run_;
  const std::vector<Group>& groups_;
  uint32_t base_;
};

// The shortest personal number has 10 digits (a landline with a 3-digit area code).
constexpr uint32_t kMinPersonalDigits = 10;

// Personal numbers: mobile and landline numbers and ID numbers are removed, with a word that
// introduces them (电话, 手机, 联系人, 收, ...). Each maximal run of digits (joined by '-') is
// split into groups; the groups forming a number go, the rest stay joined by '-'. True when
// anything was removed.
bool PersonalData(UnitBuffer& units, Scratch& scratch, NormalizedAddress& out) {
  Unit* u = units.data();
  const size_t n = units.size();
  size_t first = 0;
  while (first < n && !u[first].digit()) ++first;
  size_t w = first;
  bool removed_any = false;
  for (size_t i = first; i < n;) {
    if (!u[i].digit()) {
      u[w++] = u[i++];
      continue;
    }
    // The run: digit groups joined by single '-', an ID number's final 'x' included.
    size_t j = i;
    size_t digit_count = 0;
    while (true) {
      while (j < n && u[j].digit()) ++j, ++digit_count;
      if (j + 1 < n && u[j].is('-') && u[j + 1].digit()) {
        ++j;
        continue;
      }
      break;
    }
    if (j < n && u[j].is('x') && (j + 1 == n || (u[j + 1].cls() != kLatin && !u[j + 1].digit())))
      ++j;
    if (digit_count < kMinPersonalDigits) {
      for (size_t k = i; k < j; ++k) u[w++] = u[k];
      i = j;
      continue;
    }
    std::vector<Group>& groups = scratch.groups;
    std::string& run = scratch.run;
    groups.clear();
    run.clear();
    for (size_t k = i; k < j; ++k) {
      const char c = static_cast<char>(u[k].cp());
      if (c != '-' && (k == i || u[k - 1].is('-'))) {
        groups.push_back({static_cast<uint32_t>(k), static_cast<uint32_t>(k), false});
      }
      if (c != '-') groups.back().end = static_cast<uint32_t>(k + 1);
      run.push_back(c);
    }
    RunMatcher match(run, groups, static_cast<uint32_t>(i));
    bool removed = false;
    for (size_t g = 0; g < groups.size();) {
      size_t taken = 0;
      if ((taken = match.Id(g)) > 0) {
        out.had_id_number = true;
      } else if ((taken = match.Mobile(g)) > 0 || (taken = match.Landline(g)) > 0) {
        out.had_phone = true;
      }
      if (taken == 0) {
        ++g;
        continue;
      }
      for (size_t k = g; k < g + taken; ++k) groups[k].removed = true;
      removed = true;
      g += taken;
    }
    if (removed) {
      removed_any = true;
      if (groups[0].removed) {
        for (Word word : kPhoneWords) {
          if (TailIs(u, w, word)) {
            w -= word.size();
            break;
          }
        }
      }
      bool leading = true;
      for (const Group& group : groups) {
        if (group.removed) continue;
        if (!leading) u[w++] = u[group.begin - 1];  // the '-' before it
        leading = false;
        for (uint32_t k = group.begin; k < group.end; ++k) u[w++] = u[k];
      }
    } else {
      for (size_t k = i; k < j; ++k) u[w++] = u[k];
    }
    i = j;
  }
  units.resize(w);
  return removed_any;
}

// ---------------------------------------------------------------------------------------------

constexpr std::string_view kProblemPayload = "type.pingan.dev/pingan.InputProblem";

absl::Status ProblemStatus(LineCheck check, size_t size, size_t max_bytes, uint32_t control) {
  std::string message;
  switch (check.problem) {
    case InputProblem::kEmpty:
      message = "address line is empty";
      break;
    case InputProblem::kTooLong:
      message = Cat("address line has ", size, " bytes, more than the limit of ", max_bytes);
      break;
    case InputProblem::kInvalidUtf8:
      message = Cat("address line is not valid UTF-8 (byte ", check.byte, ")");
      break;
    case InputProblem::kControlCharacter:
      message = Cat("address line has a control character (", fmt::format("U+{:04X}", control),
                    ") at byte ", check.byte);
      break;
    case InputProblem::kNone:
      return absl::OkStatus();
  }
  absl::Status status = absl::InvalidArgumentError(message);
  std::string_view name = InputProblemName(check.problem);
  status.SetPayload(absl::string_view(kProblemPayload.data(), kProblemPayload.size()),
                    absl::Cord(absl::string_view(name.data(), name.size())));
  return status;
}

}  // namespace

std::string_view InputProblemName(InputProblem problem) {
  switch (problem) {
    case InputProblem::kNone:
      return "none";
    case InputProblem::kEmpty:
      return "empty";
    case InputProblem::kInvalidUtf8:
      return "invalid UTF-8";
    case InputProblem::kControlCharacter:
      return "control character";
    case InputProblem::kTooLong:
      return "too long";
  }
  return "unknown";
}

void NormalizedAddress::Clear() {
  text.clear();
  offsets.clear();
  had_phone = false;
  had_id_number = false;
  removed_noise.clear();
}

LineCheck CheckAddressLine(std::string_view line, size_t max_bytes) {
  if (line.empty()) return {InputProblem::kEmpty, 0};
  if (line.size() > max_bytes || line.size() > UINT32_MAX) return {InputProblem::kTooLong, 0};
  FoldFacts facts;
  return Fold(line, ThreadScratch().units, facts);
}

absl::Status NormalizeAddressInto(std::string_view line, const NormalizeOptions& options,
                                  NormalizedAddress& out) {
  out.Clear();
  if (line.empty()) return ProblemStatus({InputProblem::kEmpty, 0}, 0, options.max_bytes, 0);
  if (line.size() > options.max_bytes || line.size() > UINT32_MAX) {
    return ProblemStatus({InputProblem::kTooLong, 0}, line.size(), options.max_bytes, 0);
  }
  Scratch& scratch = ThreadScratch();
  UnitBuffer& units = scratch.units;
  FoldFacts facts;
  LineCheck check = Fold(line, units, facts);
  if (check.problem != InputProblem::kNone) {
    uint32_t control = 0;
    if (check.problem == InputProblem::kControlCharacter) {
      DecodeUtf8(reinterpret_cast<const uint8_t*>(line.data()) + check.byte,
                 line.size() - check.byte, control);
    }
    return ProblemStatus(check, line.size(), options.max_bytes, control);
  }

  if (facts.gaps != 0) Labels(units, facts.gaps, out);
  if (!units.empty() && units.data()[0].is(U'中')) Country(units, out);
  // Removing a personal number can bring together what the earlier stages look for (三 + phone
  // + 号, 附 + phone + 近): they run again until nothing more is removed, so that the result is
  // a fixed point. Each further round follows a removal, so there are at most n rounds; in
  // practice one or two. Stages with nothing to look at are skipped: personal numbers need a
  // run of at least 10 digits, unless removing noise or converting numerals made one.
  const uint32_t flags = facts.flags;
  bool long_run = facts.longest_run >= kMinPersonalDigits;
  while (true) {
    if (flags & kTriggerFlag) long_run |= Noise(units, out) && (flags & kDigitFlag);
    if (flags & kNumeralFlag) long_run |= Numerals(units, scratch.spare);
    if (!long_run || !PersonalData(units, scratch, out)) break;
  }

  const Unit* u = units.data();
  const size_t n = units.size();
  out.text.resize(4 * n);
  char* const text = out.text.data();
  char* p = text;
  for (size_t k = 0; k < n; ++k) {
    const uint32_t cp = u[k].cp();
    if (cp < 0x80) {
      *p++ = static_cast<char>(cp);
    } else if (cp >= 0x800 && cp < 0x10000) {
      p[0] = static_cast<char>(0xE0 | (cp >> 12));
      p[1] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      p[2] = static_cast<char>(0x80 | (cp & 0x3F));
      p += 3;
    } else {
      p = WriteUtf8(p, cp);
    }
  }
  out.text.resize(static_cast<size_t>(p - text));
  if (options.record_offsets) {
    out.offsets.resize(n);
    for (size_t k = 0; k < n; ++k) out.offsets[k] = u[k].offset;
  }
  // Do not keep a huge line's buffers for the rest of the thread's life.
  constexpr size_t kKeep = 1 << 16;
  if (units.capacity() > kKeep || scratch.spare.capacity() > kKeep) {
    units.Release();
    scratch.spare.Release();
  }
  return absl::OkStatus();
}

absl::StatusOr<NormalizedAddress> NormalizeAddress(std::string_view line,
                                                   const NormalizeOptions& options) {
  NormalizedAddress out;
  absl::Status status = NormalizeAddressInto(line, options, out);
  if (!status.ok()) return status;
  return out;
}

InputProblem InputProblemOf(const absl::Status& status) {
  if (status.ok()) return InputProblem::kNone;
  auto payload =
      status.GetPayload(absl::string_view(kProblemPayload.data(), kProblemPayload.size()));
  if (!payload.has_value()) return InputProblem::kNone;
  for (InputProblem problem : {InputProblem::kEmpty, InputProblem::kInvalidUtf8,
                               InputProblem::kControlCharacter, InputProblem::kTooLong}) {
    std::string_view name = InputProblemName(problem);
    if (*payload == absl::string_view(name.data(), name.size())) return problem;
  }
  return InputProblem::kNone;
}

ByteRange InputRangeOf(const NormalizedAddress& normalized, std::string_view line,
                       size_t text_begin, size_t text_end) {
  const auto count = [&](size_t begin, size_t end) {
    size_t points = 0;
    for (size_t k = begin; k < end; ++k)
      points += (static_cast<uint8_t>(normalized.text[k]) & 0xC0) != 0x80;
    return points;
  };
  if (text_begin >= text_end || text_end > normalized.text.size()) return {};
  const size_t first = count(0, text_begin);
  const size_t last = first + count(text_begin, text_end) - 1;
  if (last >= normalized.offsets.size() || normalized.offsets[last] >= line.size()) return {};
  ByteRange range{normalized.offsets[first], normalized.offsets[last]};
  uint32_t cp;
  size_t length = DecodeUtf8(reinterpret_cast<const uint8_t*>(line.data()) + range.end,
                             line.size() - range.end, cp);
  range.end += length == 0 ? 1 : length;
  return range;
}

void WarmUpNormalizer() { Table(); }

}  // namespace pingan
