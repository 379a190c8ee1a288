#include "geocode/matcher.h"

#include <xxhash.h>

#include <algorithm>
#include <bit>
#include <limits>
#include <span>
#include <thread>

#include "absl/container/flat_hash_set.h"
#include "address/names.h"
#include "address/pinyin.h"
#include "address/normalize.h"
#include "core/binary_file.h"
#include "core/stage_timer.h"
#include "core/status.h"
#include "geocode/number_index.h"
#include "core/strings.h"
#include "core/text.h"

namespace pingan {
namespace {

// Words that, right after a short place name, make it part of a road, compound or institution's
// name: 杭州路, 西湖大道, 滨江花园 are not 杭州, 西湖, 滨江; 中级人民法院 is no 人民社区.
constexpr std::u32string_view kNameContinuations[] = {
    U"东路", U"西路", U"南路", U"北路", U"中路", U"东大街", U"西大街", U"南大街", U"北大街", U"中大街",
    U"东大道", U"西大道", U"南大道", U"北大道", U"环路", U"东环路", U"西环路", U"南环路", U"北环路",
    U"路", U"街", U"大道", U"大街", U"巷", U"弄", U"道",
    U"桥", U"公园", U"广场", U"花园", U"小区", U"苑", U"公寓", U"大厦", U"中学", U"小学", U"大学",
    U"医院", U"宾馆", U"酒店", U"饭店", U"商场", U"市场", U"法院", U"检察院", U"政府"};
// Of those, the ones that make a road name: its whole span is skipped.
constexpr std::u32string_view kRoadWords[] = {
    U"东路",   U"西路",   U"南路",   U"北路",   U"中路", U"东大街", U"西大街", U"南大街", U"北大街", U"中大街",
    U"东大道", U"西大道", U"南大道", U"北大道", U"环路", U"东环路", U"西环路", U"南环路", U"北环路", U"大道",
    U"大街",   U"路",     U"街",     U"巷",     U"弄"};
// Signs that the text names something below what was resolved (村 and 社区: a village or
// community the registry does not hold, 西溪街道子虚村).
constexpr std::u32string_view kDetailMarkers[] = {U"路", U"街", U"巷", U"弄", U"道", U"号", U"幢", U"栋",
                                                  U"单元", U"室", U"小区", U"花园", U"苑", U"公寓", U"大厦",
                                                  U"楼", U"#", U"村", U"社区"};
// Level suffixes that end a name worth a second, fuzzy look (肖山区, 余航区, 五长街道).
constexpr std::u32string_view kFuzzySuffixes[] = {U"省", U"市", U"区", U"县", U"旗", U"街道", U"镇", U"乡"};

constexpr size_t kWideList = 64;        // more readings than this: only where other mentions place them
constexpr size_t kMaxScored = 512;      // readings scored per address at most
constexpr size_t kMaxMentions = 64;     // mentions kept per address at most
constexpr size_t kMaxCodePoints = 2048; // text longer than this is cut (normalised lines are short)

enum EntryKind : uint8_t { kUnitEntry = 0, kRoadEntry = 1, kCompoundEntry = 2 };
enum EntryFlags : uint8_t { kShortForm = 1, kGovDiffers = 2 };

bool GenericName(std::string_view name) {
  return name == "市辖区" || name == "县" || name.find("直辖") != std::string_view::npos ||
         name == "社区居委会" || name == "村委会" || name == "居委会" || name == "社区居民委员会" ||
         name == "村民委员会";
}

// Replaces `cps` with the code points of UTF-8 `text` (valid: the normaliser's output), at most
// kMaxCodePoints of them.
void Decode(std::string_view text, std::vector<char32_t>& cps) {
  cps.resize(std::min(text.size(), kMaxCodePoints));  // at least a byte a code point
  size_t at = 0, count = 0;
  while (at < text.size() && count < cps.size()) {
    const auto lead = static_cast<unsigned char>(text[at]);
    char32_t cp;
    size_t length;
    if (lead < 0x80) {
      cp = lead, length = 1;
    } else if ((lead & 0xE0) == 0xC0 && at + 1 < text.size()) {
      cp = ((lead & 0x1F) << 6) | (text[at + 1] & 0x3F), length = 2;
    } else if ((lead & 0xF0) == 0xE0 && at + 2 < text.size()) {
      cp = ((lead & 0x0F) << 12) | ((text[at + 1] & 0x3F) << 6) | (text[at + 2] & 0x3F), length = 3;
    } else if (at + 3 < text.size()) {
      cp = ((lead & 0x07) << 18) | ((text[at + 1] & 0x3F) << 12) | ((text[at + 2] & 0x3F) << 6) |
           (text[at + 3] & 0x3F);
      length = 4;
    } else {
      break;  // truncated: not from the normaliser
    }
    cps[count++] = cp;
    at += length;
  }
  cps.resize(count);
}

// Whether FoldCommittees may change `cps`: it holds 委 or 组 after a first character.
bool HasCommittee(const std::vector<char32_t>& cps) {
  return cps.size() > 1 && std::any_of(cps.begin() + 1, cps.end(), [](char32_t cp) { return cp == U'委' || cp == U'组'; });
}

// A village's or community's committee written out (幸福村村民委员会, 幸福村村委会, 幸福村民委员会,
// 多福巷社区居民委员会, 多福巷居委会) becomes the place's display name (幸福村, 多福巷社区): the
// registry names each committee one way (幸福村委会), and the text's way may be another; and a
// key such as 幸福村村 (the display name of a 幸福村村村民委员会 elsewhere) must not take the 村 of
// 村民小组. Rewrites `cps` in place.
void FoldCommittees(std::vector<char32_t>& cps) {
  struct Form {
    std::u32string_view written, display;
  };
  static constexpr Form kForms[] = {
      {U"村村民委员会", U"村"},     {U"村民委员会", U"村"},   {U"村村委会", U"村"},    {U"村委会", U"村"},
      {U"社区居民委员会", U"社区"}, {U"社区居委会", U"社区"}, {U"居民委员会", U"社区"}, {U"居委会", U"社区"},
      // A villager group (村民小组, not in the registry) after its village: the village.
      {U"村村民小组", U"村"},       {U"村民小组", U"组"}};
  size_t out = 0;
  for (size_t at = 0; at < cps.size();) {
    bool folded = false;
    if (at > 0 && (cps[at] == U'村' || cps[at] == U'社' || cps[at] == U'居')) {
      for (const Form& form : kForms) {
        if (cps.size() - at >= form.written.size() &&
            std::equal(form.written.begin(), form.written.end(), cps.begin() + static_cast<std::ptrdiff_t>(at))) {
          for (char32_t cp : form.display) cps[out++] = cp;
          at += form.written.size();
          folded = true;
          break;
        }
      }
    }
    if (!folded) cps[out++] = cps[at++];
  }
  cps.resize(out);
}

bool StartsWith(std::span<const char32_t> text, std::u32string_view word) {
  if (text.size() < word.size()) return false;
  for (size_t index = 0; index < word.size(); ++index) {
    if (text[index] != word[index]) return false;
  }
  return true;
}

// Whether some word of the list starts with `cp` (a bitmap of the BMP per list, built once):
// most characters start none of the words.
template <const auto& kWords>
bool MayStart(char32_t cp) {
  static const std::vector<uint64_t> bitmap = [] {
    std::vector<uint64_t> bits(0x10000 / 64, 0);
    for (std::u32string_view word : kWords) {
      if (word.front() < 0x10000) bits[word.front() >> 6] |= uint64_t{1} << (word.front() & 63);
    }
    return bits;
  }();
  return cp >= 0x10000 || (bitmap[cp >> 6] >> (cp & 63) & 1);
}

// The words of a list that start with `cp`, in the list's order (a list sorted by first
// character, built once): only those are compared.
template <const auto& kWords>
std::span<const std::u32string_view> WordsStartingWith(char32_t cp) {
  static const std::vector<std::u32string_view> sorted = [] {
    std::vector<std::u32string_view> words(std::begin(kWords), std::end(kWords));
    std::stable_sort(words.begin(), words.end(), [](std::u32string_view a, std::u32string_view b) { return a.front() < b.front(); });
    return words;
  }();
  auto first = std::lower_bound(sorted.begin(), sorted.end(), cp,
                                [](std::u32string_view word, char32_t c) { return word.front() < c; });
  auto last = first;
  while (last != sorted.end() && last->front() == cp) ++last;
  return {first, last};
}

template <const auto& kWords>
bool StartsWithAny(std::span<const char32_t> text) {
  if (text.empty() || !MayStart<kWords>(text.front())) return false;
  for (std::u32string_view word : WordsStartingWith<kWords>(text.front())) {
    if (StartsWith(text, word)) return true;
  }
  return false;
}

// Whether `text` is one of the words.
template <const auto& kWords>
bool IsWord(std::u32string_view text) {
  if (text.empty() || !MayStart<kWords>(text.front())) return false;
  for (std::u32string_view word : WordsStartingWith<kWords>(text.front())) {
    if (word == text) return true;
  }
  return false;
}

bool IsHan(char32_t cp) { return (cp >= 0x3400 && cp <= 0x9FFF) || (cp >= 0x20000 && cp <= 0x3134F); }
bool IsDigit(char32_t cp) { return cp >= '0' && cp <= '9'; }

// 10^(12 - digits of the level): the width of a unit's range of admin codes.
uint64_t AdminSpan(Level level) {
  static constexpr uint64_t kSpan[] = {1'000'000'000'000ULL, 10'000'000'000ULL, 100'000'000ULL, 1'000'000ULL,
                                       1'000ULL, 1ULL};
  const int index = static_cast<int>(level);
  return index < 6 ? kSpan[index] : 1;
}

// What the index was built from besides the registry: the configured aliases, in order.
uint64_t AliasesFingerprint(const std::vector<Alias>& aliases) {
  BinaryWriter writer;
  for (const Alias& alias : aliases) writer.PutString(alias.name), writer.Put(alias.unit.admin()), writer.Put(alias.unit.local());
  return XXH3_64bits(writer.out().data(), writer.out().size());
}

}  // namespace

struct Matcher::Impl {
  struct Entry {
    uint64_t admin = 0;          // admin digits of `unit`'s code: entries of a key sort by it
    uint32_t unit = 0;           // the unit it stands for (roads, compounds: the smallest unit holding them)
    uint32_t detail = UINT32_MAX;  // road or compound index
    uint16_t former = 0;         // 1 + index of the history change whose former name this is
    uint8_t kind = kUnitEntry;
    uint8_t flags = 0;
    Level level = Level::kNation;  // of `unit`
  };
  struct Mention {
    uint32_t begin = 0, end = 0;  // code point range in the text
    uint32_t first = 0, count = 0;  // entries_[first, first + count)
    bool typo = false;       // read with one character wrong
    bool homophone = false;  // ... by a character that sounds the same (肖 for 萧)
    // Inside a road or compound name (中关村南大街): only its official readings (a village 中关村
    // somewhere), not the short ones (中关村街道's).
    bool official_only = false;
  };
  struct Scored {
    const Entry* entry;
    uint32_t mention;
    uint64_t agrees = 0, others = 0;  // mention bits: supporting; not overlapping this one
    uint64_t agrees_now = 0;          // ... supporting by a name in use today (not only a former one)
    int support = 0, contradictions = 0;
    double score = 0;
    bool detail_pending = false;  // a road or compound whose numbers are still to be read
  };
  struct Scratch {
    std::vector<char32_t> cps;
    std::vector<char32_t> folded;  // cps with committees folded (FoldCommittees)
    std::vector<Mention> mentions;
    std::vector<Mention> kept;
    std::vector<Scored> scored;
    std::vector<const Entry*> wide;
    std::string key;
    // Per unit named in this text: which mentions name it, and which name it or a unit under it.
    static constexpr size_t kSlots = 1024;
    // A slot's unit and the mentions that name it (by any name; by a name in use today; by a
    // name that is not a short one), side by side: one cache line holds a slot.
    struct SlotData {
      uint64_t unit = UINT64_MAX;
      uint64_t named = 0, named_now = 0, named_official = 0;
    };
    std::vector<SlotData> slots = std::vector<SlotData>(kSlots);
    std::vector<uint32_t> used;
    uint64_t overlap[64];
    Level official[64];  // per mention: the largest unit its readings name by an official name
    Level largest[64];   // per mention: the largest unit any of its readings names
    Level written[64];   // per mention: the largest unit it names by its full name (not a typo)
    std::vector<uint32_t> gate_roads, gate_compounds;  // FindGates
    std::vector<uint8_t> covered;  // FindTypos: characters read by an exact mention
    std::vector<uint32_t> uncovered_before, not_han_before;  // FindTypos: prefix counts
    std::u32string key32;
    // The slot of `unit`, added if absent; kSlots when the table is full.
    size_t Slot(uint64_t unit) {
      size_t slot = (unit * 0x9E3779B97F4A7C15ULL) >> 54;  // 10 bits
      for (size_t probe = 0; probe < kSlots; ++probe, slot = (slot + 1) & (kSlots - 1)) {
        if (slots[slot].unit == unit) return slot;
        if (slots[slot].unit == UINT64_MAX) {
          if (used.size() >= kSlots / 2) return kSlots;
          slots[slot] = SlotData{unit};
          used.push_back(static_cast<uint32_t>(slot));
          return slot;
        }
      }
      return kSlots;
    }
    size_t Find(uint64_t unit) const {
      size_t slot = (unit * 0x9E3779B97F4A7C15ULL) >> 54;
      for (size_t probe = 0; probe < kSlots; ++probe, slot = (slot + 1) & (kSlots - 1)) {
        if (slots[slot].unit == unit) return slot;
        if (slots[slot].unit == UINT64_MAX) return kSlots;
      }
      return kSlots;
    }
    void ResetSlots() {
      for (uint32_t slot : used) slots[slot].unit = UINT64_MAX;
      used.clear();
    }
  };

  const Registry& registry;
  AddressCode home_city_code;  // as asked of Create (the nation: no preference)
  uint64_t aliases_fingerprint = 0;
  UnitId home_city, home_province;
  uint64_t home_city_admin = 0, home_city_end = 0;          // the home city's admin codes: [admin, end)
  uint64_t home_province_admin = 0, home_province_end = 0;
  // The names: a trie over code points, in breadth-first order (BuildTrie). The root's children
  // are also found by code point in `root_children` (the BMP).
  struct Node {
    uint32_t key = UINT32_MAX;    // the key ending here, or none
    uint32_t first = 0, count = 0;  // children: nodes[first, first + count), sorted by cp
    char32_t cp = 0;              // the character leading here
  };
  std::vector<Node> nodes;
  std::vector<uint32_t> root_children;
  // (node << 21 | cp) -> child, for nodes of > 8 children: open addressing with linear probing
  // and a multiplicative hash, at most half full. A probe costs a multiplication and a compare
  // or two (absl's map hashed and matched control bytes: a fifth of FindMentions).
  struct EdgeTable {
    struct Slot {
      uint64_t key = UINT64_MAX;
      uint32_t child = 0;
    };
    std::vector<Slot> slots;
    int shift = 64;
    size_t size = 0;
    void Reserve(size_t count) {
      size_t capacity = 16;
      while (capacity < 2 * count) capacity *= 2;
      std::vector<Slot> old = std::move(slots);
      slots.assign(capacity, Slot{});
      shift = 64 - std::countr_zero(capacity);
      size = 0;
      for (const Slot& slot : old) {
        if (slot.key != UINT64_MAX) Insert(slot.key, slot.child);
      }
    }
    size_t Home(uint64_t key) const { return static_cast<size_t>((key * 0x9E3779B97F4A7C15ULL) >> shift); }
    void Insert(uint64_t key, uint32_t child) {
      if (2 * (size + 1) > slots.size()) Reserve(std::max<size_t>(16, 2 * (size + 1)));
      const size_t mask = slots.size() - 1;
      for (size_t at = Home(key);; at = (at + 1) & mask) {
        if (slots[at].key == key) return;  // the first insertion stands (as emplace)
        if (slots[at].key == UINT64_MAX) {
          slots[at] = Slot{key, child};
          ++size;
          return;
        }
      }
    }
    uint32_t Find(uint64_t key) const {
      if (slots.empty()) return 0;
      const size_t mask = slots.size() - 1;
      for (size_t at = Home(key);; at = (at + 1) & mask) {
        if (slots[at].key == key) return slots[at].child;
        if (slots[at].key == UINT64_MAX) return 0;
      }
    }
  };
  EdgeTable wide_edges;
  std::vector<uint32_t> key_offsets;               // key -> entries_ range (CSR)
  std::vector<Entry> entries;
  std::vector<uint32_t> entry_units;  // per key (same ranges as entries): the units, sorted
  size_t trie_nodes = 1;
  // One character wrong: the name with that character replaced by U+FFFF -> keys.
  absl::flat_hash_map<std::u32string, std::vector<uint32_t>> fuzzy;
  absl::flat_hash_map<uint32_t, std::u32string> key_chars;  // fuzzy key index -> its characters
  // Short names of the home province's districts and towns with one character as U+FFFF -> keys
  // (homophones only: two characters leave too many readings for any other typo).
  absl::flat_hash_map<std::u32string, std::vector<uint32_t>> sounds_like;
  // The same, as FindTypos reads it (PrepareHomophones, from the two maps above): the variant's
  // characters packed in an integer (ShortKey) -> homophones[first, end), each with the
  // character the name has where the variant has U+FFFF and that character's syllables; and,
  // for each length, place of the U+FFFF and place of another character, a bit per BMP
  // character found there in some variant, so that most stretches are passed over without a
  // lookup (HomophoneSlot).
  struct Homophone {
    uint32_t key_index = 0;
    char32_t meant = 0;
    uint16_t sound = 0, sound2 = 0;
  };
  absl::flat_hash_map<uint64_t, std::pair<uint32_t, uint32_t>> homophone_lists;
  std::vector<Homophone> homophones;
  static constexpr size_t kHomophoneSlots = 8;  // length 2: 2 (wrong, other) places; length 3: 6
  std::vector<uint64_t> homophone_chars = std::vector<uint64_t>(kHomophoneSlots * 0x10000 / 64);
  static uint64_t ShortKey(std::span<const char32_t> chars) {
    uint64_t packed = 0;
    for (size_t at = 0; at < chars.size(); ++at) packed |= static_cast<uint64_t>(chars[at] & 0x1FFFFF) << (21 * at);
    return packed;
  }
  static size_t HomophoneSlot(size_t length, size_t wrong, size_t other) {
    return length == 2 ? wrong : 2 + wrong * 2 + (other > wrong ? other - 1 : other);
  }
  // Whether some variant of `length` characters with U+FFFF at `wrong` has `cp` at `other`.
  bool MayBeHomophoneChar(size_t length, size_t wrong, size_t other, char32_t cp) const {
    if (cp >= 0x10000) return true;
    const size_t bit = HomophoneSlot(length, wrong, other) * 0x10000 + cp;
    return (homophone_chars[bit >> 6] >> (bit & 63) & 1) != 0;
  }
  void PrepareHomophones();
  // Of each key with more than kWideList entries, the districts, cities and provinces it names
  // (长春: 长春市 among 89 villages and towns), keyed by the key's first entry: always read,
  // wherever the text is (PrepareWideLarge, after Create and LoadIndex).
  absl::flat_hash_map<uint32_t, std::pair<uint32_t, uint32_t>> wide_large;
  std::vector<uint32_t> wide_large_entries;
  void PrepareWideLarge();
  // Detail below the community.
  // What a number leads to: a building and its shape (read here rather than from the registry's
  // record: a number read costs one cache miss, not three), or the gate of a compound.
  struct Target {
    uint32_t id = 0;  // building id, or compound | 1<<31 (road_numbers)
    uint16_t floors = 0;
    uint8_t entrances = 0, rooms_per_floor = 0;
  };
  static Target TargetOf(uint32_t id, const BuildingInfo& info) {
    return Target{id, info.floors, info.entrances, info.rooms_per_floor};
  }
  // The numbers of each road (house numbers) or compound (幢 numbers) and what they lead to
  // (geocode/number_index.h).
  NumberIndex<Target> road_numbers;        // (road, house number) -> building, or compound | 1<<31
  NumberIndex<Target> compound_buildings;  // (compound, 幢 number) -> building
  std::vector<uint32_t> compound_holder;  // compound -> the smallest unit holding its buildings
  std::vector<uint8_t> stat_differs;  // the statistical chain differs from the governance one above

  explicit Impl(const Registry& r) : registry(r) {}

  // --- building the index ---------------------------------------------------------------------
  // Names collected before the trie is built: flat records sorted once (a hash map of
  // strings to vectors costs seconds at the national registry's 2.8 million names).
  struct PendingKeys {
    struct Item {
      uint32_t offset, length;
      // The key's first three code points, 21 bits each, the first highest (0 past the end):
      // ordering by it first is the keys' order, and most comparisons end there without
      // reading the pool (the sort of ~1 M keys was a fifth of an ingest's start-up).
      uint64_t prefix;
      Entry entry;
    };
    std::vector<char32_t> pool;
    std::vector<Item> items;
    std::u32string_view Key(const Item& item) const { return {pool.data() + item.offset, item.length}; }
  };

  // The normalised form of a registry name, as code points, into `out`.
  static void KeyOf(std::string_view raw, std::u32string& out) {
    thread_local NormalizedAddress normalized;
    thread_local std::vector<char32_t> cps;
    out.clear();
    if (!NormalizeAddressInto(raw, NormalizeOptions{}, normalized).ok()) return;
    Decode(normalized.text, cps);
    out.assign(cps.begin(), cps.end());
  }

  void Add(PendingKeys& pending, std::string_view raw, Entry entry) const {
    thread_local std::u32string key;
    KeyOf(raw, key);
    AddKey(pending, key, entry);
  }
  void AddKey(PendingKeys& pending, std::u32string_view key, Entry entry) const {
    if (key.size() < 2 || key.size() > 64) return;
    entry.admin = registry.code(UnitId{entry.unit}).admin();
    entry.level = registry.level(UnitId{entry.unit});
    if (stat_differs[entry.unit]) entry.flags |= kGovDiffers;
    uint64_t prefix = 0;
    for (size_t at = 0; at < 3; ++at) prefix = (prefix << 21) | (at < key.size() ? (key[at] & 0x1FFFFF) : 0);
    pending.items.push_back({static_cast<uint32_t>(pending.pool.size()), static_cast<uint32_t>(key.size()), prefix, entry});
    pending.pool.insert(pending.pool.end(), key.begin(), key.end());
  }

  // The smallest unit holding all of `units` (governance tree).
  UnitId CommonAncestor(UnitId a, UnitId b) const {
    if (!a.valid()) return b;
    UnitId rows_a[kLevelCount], rows_b[kLevelCount];
    const int count_a = registry.Ancestors(a, rows_a), count_b = registry.Ancestors(b, rows_b);
    UnitId common = registry.nation();
    for (int index = 0; index < std::min(count_a, count_b) && rows_a[index] == rows_b[index]; ++index) {
      common = rows_a[index];
    }
    return common;
  }

  // Builds the trie and the entry lists; returns each key's characters (views into `pending`).
  // The order of the index's keys and readings: by key, then by the reading's fields. A total
  // order on what an item holds (not where it lies in the pool), so that parts sorted apart and
  // merged come out as one sort of the whole would.
  static bool ItemLess(const PendingKeys& pending, const PendingKeys::Item& a, const PendingKeys::Item& b) {
    if (a.prefix != b.prefix) return a.prefix < b.prefix;
    const int order = pending.Key(a).compare(pending.Key(b));
    if (order != 0) return order < 0;
    const Entry &x = a.entry, &y = b.entry;
    return std::tie(x.admin, x.unit, x.former, x.kind, x.detail, x.flags) <
           std::tie(y.admin, y.unit, y.former, y.kind, y.detail, y.flags);
  }
  static void SortItems(PendingKeys& pending, size_t begin, size_t end) {
    std::sort(pending.items.begin() + begin, pending.items.begin() + end,
              [&](const PendingKeys::Item& a, const PendingKeys::Item& b) { return ItemLess(pending, a, b); });
  }

  // Builds the index from `pending`, whose items are sorted runs ending at `run_ends` (the last
  // ends at items.size()).
  std::vector<std::u32string_view> Build(PendingKeys& pending, const std::vector<size_t>& run_ends) {
    auto& items = pending.items;
    auto same_reading = [](const Entry& a, const Entry& b) {
      return a.unit == b.unit && a.former == b.former && a.kind == b.kind && a.detail == b.detail;
    };
    auto less = [&](const PendingKeys::Item& a, const PendingKeys::Item& b) { return ItemLess(pending, a, b); };
    for (size_t run = 1; run < run_ends.size(); ++run) {
      std::inplace_merge(items.begin(), items.begin() + run_ends[run - 1], items.begin() + run_ends[run], less);
    }
    std::vector<std::u32string_view> key_views;
    // At most one entry per item: reserved, so that growing by doubling does not fault in and
    // copy about twice the final size (fresh pages are what a start costs here).
    entries.reserve(items.size());
    entry_units.reserve(items.size());
    key_offsets.push_back(0);
    for (size_t at = 0; at < items.size();) {
      const std::u32string_view key = pending.Key(items[at]);
      size_t group_end = at;
      while (group_end < items.size() && pending.Key(items[group_end]) == key) ++group_end;
      const size_t first = entries.size();
      for (size_t index = at; index < group_end; ++index) {
        const Entry& entry = items[index].entry;
        // One reading named twice (official and short form alike): an official reading wins.
        if (entries.size() > first && same_reading(entries.back(), entry)) {
          entries.back().flags &= entry.flags;
        } else {
          entries.push_back(entry);
        }
      }
      for (size_t index = first; index < entries.size(); ++index) entry_units.push_back(entries[index].unit);
      std::sort(entry_units.begin() + first, entry_units.end());
      key_offsets.push_back(static_cast<uint32_t>(entries.size()));
      key_views.push_back(key);
      at = group_end;
    }
    BuildTrie(key_views);
    return key_views;
  }

  // The trie in breadth-first order, so that the children of a node are consecutive nodes and
  // a step reads one node and scans its children's records. Built level by level from the
  // sorted keys: at each depth, the distinct prefixes in key order are that level's nodes, and
  // the children of one parent come together.
  void BuildTrie(const std::vector<std::u32string_view>& keys) {
    size_t characters = 0;
    for (std::u32string_view key : keys) characters += key.size();
    nodes.clear();
    nodes.reserve(characters + 1);  // at most a node per character: no reallocation
    nodes.push_back(Node{});
    std::vector<uint32_t> at_node(keys.size(), 0);  // each key's node at the current depth
    // The keys still as long as the depth, in key order: each pass reads only those (a pass over
    // every key at every depth read the ~1 M keys ~30 times).
    std::vector<uint32_t> active(keys.size());
    for (uint32_t k = 0; k < active.size(); ++k) active[k] = k;
    for (size_t depth = 1; !active.empty(); ++depth) {
      uint32_t previous_parent = UINT32_MAX;
      char32_t previous_cp = 0;
      size_t kept = 0;
      for (const uint32_t k : active) {
        if (keys[k].size() < depth) continue;  // only the empty key, at depth 1
        const uint32_t parent = at_node[k];
        const char32_t cp = keys[k][depth - 1];
        if (parent != previous_parent || cp != previous_cp) {
          const auto id = static_cast<uint32_t>(nodes.size());
          nodes.push_back(Node{.cp = cp});
          if (nodes[parent].count == 0) nodes[parent].first = id;
          ++nodes[parent].count;
          previous_parent = parent;
          previous_cp = cp;
        }
        at_node[k] = static_cast<uint32_t>(nodes.size() - 1);
        if (keys[k].size() == depth) {
          nodes[at_node[k]].key = k;
        } else {
          active[kept++] = k;
        }
      }
      active.resize(kept);
    }
    for (uint32_t node = 1; node < nodes.size(); ++node) {
      if (nodes[node].count <= 8) continue;
      for (uint32_t child = nodes[node].first; child < nodes[node].first + nodes[node].count; ++child) {
        wide_edges.Insert((static_cast<uint64_t>(node) << 21) | nodes[child].cp, child);
      }
    }
    for (uint32_t child = nodes[0].first; child < nodes[0].first + nodes[0].count; ++child) {
      if (nodes[child].cp >= 0x10000) wide_edges.Insert(nodes[child].cp, child);
    }
    root_children.assign(0x10000, 0);
    for (uint32_t child = nodes[0].first; child < nodes[0].first + nodes[0].count; ++child) {
      if (nodes[child].cp < 0x10000) root_children[nodes[child].cp] = child;
    }
    trie_nodes = nodes.size();
  }

  uint32_t Child(uint32_t node, char32_t cp) const {
    if (node == 0 && cp < 0x10000) return root_children[cp];
    const Node& parent = nodes[node];
    const Node* begin = nodes.data() + parent.first;
    const Node* end = begin + parent.count;
    if (parent.count <= 8) {
      for (const Node* child = begin; child < end; ++child) {
        if (child->cp == cp) return static_cast<uint32_t>(child - nodes.data());
      }
      return 0;
    }
    // A node of many children (most are one or two characters deep): one probe of a hash map.
    return wide_edges.Find((static_cast<uint64_t>(node) << 21) | cp);
  }



  // A reading through the former name of a unit that still exists, of a piece it gave away
  // (钱塘区's towns for 萧山区).
  bool IsPieceOfAUnitInPlace(const Entry& e) const {
    return e.former != 0 && !registry.history().changes()[e.former - 1].abolished;
  }

  std::span<const Entry> EntriesOf(const Mention& mention) const {
    return {entries.data() + mention.first, mention.count};
  }

  // --- relations ------------------------------------------------------------------------------

  // True when `ancestor` is `unit` or above it, in the governance or the statistical tree.
  bool Agrees(UnitId ancestor, UnitId unit) const {
    if (ancestor == unit || registry.IsWithin(unit, ancestor)) return true;
    if (!stat_differs[unit.value]) return false;
    for (UnitId at = unit; at.valid() && at != registry.nation(); at = registry.stat_parent(at)) {
      if (at == ancestor) return true;
    }
    return false;
  }

  // A village turned community (村改居) written by its old name: of 留下街道东岳村, where the
  // registry has no village 东岳村 but the town's 东岳社区, that community; and the other way, a
  // village the registry still has written as the community it has become since (三墩镇绕城社区
  // for 绕城村). `at` is where the text after the town begins; the stem before 村 or 社区 (1-6 Han
  // characters) + the other suffix must be the display name of exactly one community or village
  // inside `town`. Sets `end` past the suffix written.
  UnitId FormerVillage(const Scratch& s, uint32_t at, UnitId town, uint32_t& end) const {
    const std::vector<char32_t>& cps = s.cps;
    uint32_t stop = at;
    auto community_at = [&](uint32_t i) { return i + 1 < cps.size() && cps[i] == U'社' && cps[i + 1] == U'区'; };
    while (stop < cps.size() && stop - at <= 6 && IsHan(cps[stop]) && cps[stop] != U'村' && !community_at(stop)) ++stop;
    if (stop == at || stop >= cps.size() || (cps[stop] != U'村' && !community_at(stop))) return UnitId{};
    // 横村镇元村社区: the village 元村 (its 村 is its name's), written as a community.
    const bool village_name_as_community = cps[stop] == U'村' && community_at(stop + 1);
    const bool written_village = cps[stop] == U'村' && !village_name_as_community;
    uint32_t node = 0;  // the trie's root; 0 again means no such child
    bool walked = true;
    auto step = [&](char32_t cp) {
      node = walked ? Child(node, cp) : 0;
      walked = node != 0;
    };
    for (uint32_t i = at; i < stop; ++i) step(cps[i]);
    if (written_village) {
      step(U'社');
      step(U'区');
    } else {
      step(U'村');
      if (village_name_as_community) ++stop;
    }
    if (!walked || nodes[node].key == UINT32_MAX) return UnitId{};
    const uint32_t key = nodes[node].key;
    UnitId found;
    for (uint32_t i = key_offsets[key]; i < key_offsets[key + 1]; ++i) {
      const Entry& e = entries[i];
      if (e.kind != kUnitEntry || e.level != Level::kCommunity || e.former != 0 || (e.flags & kShortForm) ||
          !Agrees(town, UnitId{e.unit})) {
        continue;
      }
      if (found.valid() && found != UnitId{e.unit}) return UnitId{};  // two: the text does not say which
      found = UnitId{e.unit};
    }
    if (found.valid()) end = stop + (written_village ? 1 : 2);
    return found;
  }

  // A unit's governance row as Registry::Ancestors gives it (the nation first, the unit last),
  // then its statistical ancestors below the nation: what Agrees(x, unit) reads, read once, for
  // the many x an answer is checked against. (Chain, below, is a candidate's: the nation left out
  // and no duplicates, for the support keys.) Each tree is at most kLevelCount deep.
  struct Lineage {
    UnitId unit;
    UnitId units[2 * kLevelCount];
    int count = 0;
  };
  void LineageOf(UnitId unit, Lineage& out) const {
    UnitId rows[kLevelCount];
    out.unit = unit;
    out.count = registry.Ancestors(unit, rows);
    std::copy(rows, rows + out.count, out.units);
    if (!stat_differs[unit.value]) return;
    for (UnitId at = registry.stat_parent(unit);
         at.valid() && at != registry.nation() && out.count < static_cast<int>(std::size(out.units));
         at = registry.stat_parent(at)) {
      out.units[out.count++] = at;
    }
  }
  // Agrees(ancestor, lineage.unit).
  static bool Holds(const Lineage& lineage, UnitId ancestor) {
    return ancestor == lineage.unit || std::find(lineage.units, lineage.units + lineage.count, ancestor) !=
                                           lineage.units + lineage.count;
  }

  // A unit and everything above it, in both trees: read once per candidate.
  struct Chain {
    UnitId units[2 * kLevelCount];
    int count = 0;
    Level level = Level::kNation;
    bool Has(UnitId unit) const {
      for (int index = 0; index < count; ++index) {
        if (units[index] == unit) return true;
      }
      return false;
    }
  };
  void ChainOf(UnitId unit, Chain& chain) const {
    UnitId rows[kLevelCount];
    const int count = registry.Ancestors(unit, rows);
    chain.level = registry.level(unit);
    chain.count = 0;
    for (int index = count - 1; index >= 1; --index) chain.units[chain.count++] = rows[index];  // unit first, nation left out
    if (stat_differs[unit.value]) {
      for (UnitId at = registry.stat_parent(unit); at.valid() && at != registry.nation() && chain.count < 2 * kLevelCount;
           at = registry.stat_parent(at)) {
        if (!chain.Has(at)) chain.units[chain.count++] = at;
      }
    }
  }
  // A unit and the units above it as (admin code, level) keys, read from the code itself:
  // no memory is touched but the entry's, except for the few units a management unit governs.
  static uint64_t LevelKey(uint64_t admin, Level level) { return admin * 16 + static_cast<uint64_t>(level); }
  struct CodeChain {
    uint64_t keys[2 * kLevelCount + 2];
    int count = 0;
    bool Has(uint64_t key) const {
      for (int index = 0; index < count; ++index) {
        if (keys[index] == key) return true;
      }
      return false;
    }
  };
  void CodeChainOf(const Entry& e, CodeChain& chain) const {
    chain.count = 0;
    // Constant divisors (the compiler turns them into multiplications), unrolled.
    const uint64_t admin = e.admin;
    const Level level = e.level;
    if (level >= Level::kProvince) chain.keys[chain.count++] = LevelKey(admin / 10'000'000'000 * 10'000'000'000, Level::kProvince);
    if (level >= Level::kCity) chain.keys[chain.count++] = LevelKey(admin / 100'000'000 * 100'000'000, Level::kCity);
    if (level >= Level::kDistrict) chain.keys[chain.count++] = LevelKey(admin / 1'000'000 * 1'000'000, Level::kDistrict);
    if (level >= Level::kTown) chain.keys[chain.count++] = LevelKey(admin / 1'000 * 1'000, Level::kTown);
    if (level >= Level::kCommunity) chain.keys[chain.count++] = LevelKey(admin, Level::kCommunity);
    if (e.level > Level::kCommunity) chain.keys[chain.count++] = LevelKey(e.admin, e.level);
    if (e.flags & kGovDiffers) {
      Chain units;
      ChainOf(UnitId{e.unit}, units);
      for (int index = 0; index < units.count && chain.count < 2 * kLevelCount + 2; ++index) {
        const uint64_t key = LevelKey(registry.code(units.units[index]).admin(), registry.level(units.units[index]));
        if (!chain.Has(key)) chain.keys[chain.count++] = key;
      }
    }
  }
  // Whether a (wide) mention names the unit of these admin digits and level, by code.
  bool NamesKey(const Mention& mention, uint64_t admin, Level level) const {
    std::span<const Entry> list = EntriesOf(mention);
    for (const Entry* e = LowerBound(list, admin); e != list.data() + list.size() && e->admin == admin; ++e) {
      if (e->level == level) return true;
    }
    return false;
  }
  // Whether a (wide) mention names a unit of the chain, by code.
  bool NamesCodeChain(const Mention& mention, const CodeChain& chain) const {
    for (int index = 0; index < chain.count; ++index) {
      if (NamesKey(mention, chain.keys[index] / 16, static_cast<Level>(chain.keys[index] % 16))) return true;
    }
    return false;
  }

  // Whether some entry of `list` lies strictly inside the unit with these admin digits (by code).
  static bool HasInside(std::span<const Entry> list, uint64_t admin, uint64_t span, uint32_t unit) {
    for (const Entry* e = LowerBound(list, admin); e != list.data() + list.size() && e->admin < admin + span; ++e) {
      if (e->unit != unit) return true;
    }
    return false;
  }

  // The first entry of a key whose admin code is `low` or more (the end if none): one binary
  // search, where InRange makes two.
  static const Entry* LowerBound(std::span<const Entry> list, uint64_t low) {
    const auto at = std::lower_bound(list.begin(), list.end(), low, [](const Entry& e, uint64_t value) { return e.admin < value; });
    return list.data() + (at - list.begin());
  }

  // Entries of a key whose admin code lies in [low, high).
  static std::span<const Entry> InRange(std::span<const Entry> list, uint64_t low, uint64_t high) {
    auto begin = std::lower_bound(list.begin(), list.end(), low,
                                  [](const Entry& e, uint64_t value) { return e.admin < value; });
    auto end = std::lower_bound(begin, list.end(), high, [](const Entry& e, uint64_t value) { return e.admin < value; });
    return {begin, end};
  }

  // Whether some entry of `list` is an ancestor of (or is) `unit`.
  bool HasAncestorOf(std::span<const Entry> list, const Lineage& lineage) const {
    if (list.size() <= 8) {
      for (const Entry& e : list) {
        if (Holds(lineage, UnitId{e.unit})) return true;
      }
      return false;
    }
    // A long list (a name many places share): each unit of the lineage below the top of its
    // governance row, looked up by its code.
    for (int index = 1; index < lineage.count; ++index) {
      const UnitId at = lineage.units[index];
      const uint64_t admin = registry.code(at).admin();
      for (const Entry& e : InRange(list, admin, admin + 1)) {
        if (e.unit == at.value) return true;
      }
    }
    return false;
  }

  // Whether some entry of `list` lies strictly inside `unit` (by code).
  bool HasInside(std::span<const Entry> list, UnitId unit) const {
    const uint64_t admin = registry.code(unit).admin();
    for (const Entry& e : InRange(list, admin, admin + AdminSpan(registry.level(unit)))) {
      if (e.unit != unit.value) return true;
    }
    return false;
  }

  // --- matching -------------------------------------------------------------------------------
  void FindMentions(Scratch& s) const;
  void FindTypos(Scratch& s) const;
  static bool SoundsTheSame(char32_t written, char32_t meant);
  // `written` sounds like a character of syllables `sound` (and `sound2`, 0 for none).
  static bool SoundsLike(char32_t written, uint16_t sound, uint16_t sound2);
  MatchResult Match(std::string_view text) const;
  // Match on the code points in `s.cps` (decoded).
  MatchResult MatchDecoded(Scratch& s) const;
  // Reads house number, building, entrance and room after the detail mentions that agree with
  // `unit`. Returns the place and the code point where the reading stopped; `elsewhere` when
  // the only detail read lies outside `unit` (and was not taken).
  Place ReadDetail(const Scratch& s, const Lineage& lineage, uint32_t& consumed_end, bool& detail_missing,
                   bool& elsewhere) const;
  // Road gates that agree with a compound named right after them (文三路478号金色花园: 478 of
  // that 文三路 is 金色花园's gate): the roads and the compounds of such pairs, found once per
  // address, sorted.
  void FindGates(Scratch& s) const {
    const std::vector<char32_t>& cps = s.cps;
    s.gate_roads.clear();
    s.gate_compounds.clear();
    for (const Mention& road : s.mentions) {
      if (road.typo) continue;
      uint32_t at = road.end;
      uint64_t number = 0;
      while (at < cps.size() && IsDigit(cps[at]) && number < 100'000'000) number = number * 10 + (cps[at++] - '0');
      if (at == road.end) continue;
      if (at < cps.size() && cps[at] == U'号') ++at;
      const Mention* compound_mention = nullptr;
      for (const Mention& other : s.mentions) {
        if (other.begin == at && !other.typo) compound_mention = &other;
      }
      if (compound_mention == nullptr) continue;
      for (const Entry& re : EntriesOf(road)) {
        if (re.kind != kRoadEntry) continue;
        const Target* target = road_numbers.Find(re.detail, static_cast<uint32_t>(number));
        if (target == nullptr || !(target->id & 0x80000000u)) continue;
        const uint32_t compound = target->id & 0x7FFFFFFFu;
        for (const Entry& ce : EntriesOf(*compound_mention)) {
          if (ce.kind == kCompoundEntry && ce.detail == compound) {
            s.gate_roads.push_back(re.detail);
            s.gate_compounds.push_back(compound);
          }
        }
      }
    }
    std::sort(s.gate_roads.begin(), s.gate_roads.end());
    std::sort(s.gate_compounds.begin(), s.gate_compounds.end());
  }
  bool InHomeCity(const Entry& e) const {
    return home_city.valid() && ((e.admin >= home_city_admin && e.admin < home_city_end) ||
                                 ((e.flags & kGovDiffers) && registry.IsWithin(UnitId{e.unit}, home_city)));
  }

  // Whether a mention other than `mention`, not overlapping it, names the unit of `e` by a name
  // that is not a short one (中村镇 in 中村镇中村, for the reading 中村镇 of 中村).
  static bool NamedInFullElsewhere(const Scratch& s, const Entry& e, uint32_t mention) {
    const size_t slot = s.Find(LevelKey(e.admin, e.level));
    return slot != Scratch::kSlots && (s.slots[slot].named_official & ~(uint64_t{1} << mention) & ~s.overlap[mention]) != 0;
  }

  static bool GateAgrees(const Scratch& s, const Entry& e) {
    if (e.kind == kRoadEntry) return std::binary_search(s.gate_roads.begin(), s.gate_roads.end(), e.detail);
    if (e.kind == kCompoundEntry) return std::binary_search(s.gate_compounds.begin(), s.gate_compounds.end(), e.detail);
    return false;
  }

  // The place a road or compound entry leads to with the numbers written after its mention.
  Place ReadEntry(const Scratch& s, const Mention& mention, const Entry& e, uint32_t& end, bool& detail_missing) const;
};

void Matcher::Impl::FindMentions(Scratch& s) const {
  const std::vector<char32_t>& cps = s.cps;
  s.mentions.clear();
  const uint32_t size = static_cast<uint32_t>(cps.size());
  // A road word after a bare short name (西湖大道, 区东新路) starts no name of its own: 大道 is
  // not a village there. The characters before it may still start one (东新路).
  uint32_t blocked_from = 0, blocked_to = 0;
  for (uint32_t start = 0; start < size && s.mentions.size() < kMaxMentions;) {
    if (cps[start] < 0x80) {
      ++start;
      continue;
    }
    // At a blocked road word only official names start (路边村 after 杨村桥镇 stands; the village
    // short name 大道 in 西湖大道 does not).
    const bool blocked = start >= blocked_from && start < blocked_to;
    // Walk the trie, remembering every key that ends on the way (longest last).
    uint32_t ends[32], keys[32];
    int found = 0;
    uint32_t node = 0;
    for (uint32_t at = start; at < size; ++at) {
      node = Child(node, cps[at]);
      if (node == 0) break;
      if (nodes[node].key != UINT32_MAX && found < 32) {
        ends[found] = at + 1;
        keys[found] = nodes[node].key;
        ++found;
      }
    }
    bool skipped = false;
    for (int index = found - 1; index >= 0; --index) {
      const uint32_t end = ends[index];
      const uint32_t key = keys[index];
      uint32_t first = key_offsets[key], count = key_offsets[key + 1] - first;
      std::span<const char32_t> after(cps.data() + end, size - end);
      // The tail of a road's name (中华北路: 北路 there is no 北路社区 by its short name): a road
      // word right after a Han character at which no name read ends.
      bool road_tail = false;
      if (end - start <= 3 && start > 0) {
        const char32_t last = cps[end - 1];
        if ((last == U'路' || last == U'街' || last == U'道' || last == U'巷' || last == U'弄') &&
            IsHan(cps[start - 1]) && IsWord<kRoadWords>(std::u32string_view(cps.data() + start, end - start))) {
          road_tail = true;
          for (const Mention& m : s.mentions) road_tail = road_tail && m.end != start;
        }
      }
      const bool inside_road = blocked || road_tail || StartsWithAny<kNameContinuations>(after);
      if (inside_road) {
        // Inside a road or compound name: only full official names stand. Entries of one key
        // are sorted by code, not by form, so count the official ones.
        bool any_official = false;
        for (const Entry& e : std::span<const Entry>(entries.data() + first, count)) {
          if (!(e.flags & kShortForm)) any_official = true;
        }
        if (!any_official) {
          for (std::u32string_view word : kRoadWords) {
            if (StartsWith(after, word)) {
              blocked_from = end;  // 西湖大道 is neither 西湖 nor 大道
              blocked_to = end + static_cast<uint32_t>(word.size());
              skipped = true;
              break;
            }
          }
          if (skipped) break;
          continue;  // a shorter key may still stand (滨江花园: not 滨江, but maybe 滨)
        }
      }
      s.mentions.push_back(Mention{start, end, first, count});
      s.mentions.back().official_only = inside_road;
      break;
    }
    // Then one character on, not past the match: names may overlap where short forms run
    // together (湖滨东平巷社区: 湖滨 and 东平巷社区), and scoring picks the consistent reading.
    ++start;
  }
  // A mention inside a longer one (湖区 inside 西湖区) is not a reading of its own — unless the
  // longer one is itself a rival of a third (中洲镇南庄村: 镇南庄村, a village elsewhere,
  // overlaps 中洲镇, so 南庄村 stays a reading).
  s.kept.clear();
  auto overlaps = [](const Mention& a, const Mention& b) { return a.begin < b.end && b.begin < a.end; };
  for (size_t index = 0; index < s.mentions.size(); ++index) {
    const Mention& m = s.mentions[index];
    bool contained = false;
    // Mentions are in order of their start, one a start: only an earlier one can hold this one.
    for (size_t other = 0; other < index && !contained; ++other) {
      const Mention& o = s.mentions[other];
      if (!(m.end <= o.end && o.end - o.begin > m.end - m.begin)) continue;
      bool contested = false;
      for (size_t third = 0; third < s.mentions.size() && !contested; ++third) {
        const Mention& t = s.mentions[third];
        contested = third != other && third != index && overlaps(t, o) && !overlaps(t, m) &&
                    !(o.begin <= t.begin && t.end <= o.end);
      }
      contained = !contested;
    }
    if (!contained) s.kept.push_back(m);
  }
  s.mentions.swap(s.kept);
}

bool Matcher::Impl::SoundsTheSame(char32_t written, char32_t meant) {
  if (written == meant) return false;  // not a typo: the exact name was set aside on purpose
  return SoundsLike(written, SyllableOf(meant), SecondSyllableOf(meant));
}

bool Matcher::Impl::SoundsLike(char32_t written, uint16_t sound, uint16_t sound2) {
  const uint16_t heard = SyllableOf(written);
  if (heard == 0 || sound == 0) return false;
  if (heard == sound || heard == sound2) return true;
  const uint16_t heard2 = SecondSyllableOf(written);  // a binary search: only when needed
  return heard2 != 0 && heard2 == sound;
}

void Matcher::Impl::PrepareHomophones() {
  homophone_lists.clear();
  homophones.clear();
  std::fill(homophone_chars.begin(), homophone_chars.end(), 0);
  homophone_lists.reserve(sounds_like.size());
  for (const auto& [variant, keys] : sounds_like) {
    if (variant.empty() || variant.size() > 3) continue;  // the index holds 2-3 characters
    if (variant.size() < 2) continue;
    const size_t wrong = variant.find(U'\uFFFF');
    if (wrong == std::u32string::npos) continue;
    for (size_t at = 0; at < variant.size(); ++at) {
      if (at == wrong || variant[at] >= 0x10000) continue;
      const size_t bit = HomophoneSlot(variant.size(), wrong, at) * 0x10000 + variant[at];
      homophone_chars[bit >> 6] |= uint64_t{1} << (bit & 63);
    }
    const uint32_t first = static_cast<uint32_t>(homophones.size());
    for (uint32_t key_index : keys) {
      auto chars = key_chars.find(key_index);
      if (chars == key_chars.end() || chars->second.size() != variant.size()) continue;
      const char32_t meant = chars->second[wrong];
      homophones.push_back(Homophone{key_index, meant, SyllableOf(meant), SecondSyllableOf(meant)});
    }
    homophone_lists.emplace(ShortKey(variant), std::pair{first, static_cast<uint32_t>(homophones.size())});
  }
}

void Matcher::Impl::PrepareWideLarge() {
  wide_large.clear();
  wide_large_entries.clear();
  for (size_t key = 0; key + 1 < key_offsets.size(); ++key) {
    const uint32_t first = key_offsets[key], end = key_offsets[key + 1];
    if (end - first <= kWideList) continue;
    const auto begin = static_cast<uint32_t>(wide_large_entries.size());
    for (uint32_t at = first; at < end; ++at) {
      if (entries[at].kind == kUnitEntry && entries[at].level <= Level::kDistrict) wide_large_entries.push_back(at);
    }
    if (wide_large_entries.size() > begin) {
      wide_large.emplace(first, std::pair{begin, static_cast<uint32_t>(wide_large_entries.size())});
    }
  }
}

void Matcher::Impl::FindTypos(Scratch& s) const {
  if (fuzzy.empty() && sounds_like.empty()) return;
  const std::vector<char32_t>& cps = s.cps;
  const uint32_t size = static_cast<uint32_t>(cps.size());
  // Characters read by an exact mention of two or more characters; then, as prefix counts,
  // the characters not so read and those that are not Han characters.
  s.covered.assign(size, 0);
  for (const Mention& mention : s.mentions) {
    if (mention.end - mention.begin < 2) continue;
    for (uint32_t at = mention.begin; at < mention.end; ++at) s.covered[at] = 1;
  }
  s.uncovered_before.resize(size + 1);
  s.not_han_before.resize(size + 1);
  s.uncovered_before[0] = s.not_han_before[0] = 0;
  for (uint32_t at = 0; at < size; ++at) {
    s.uncovered_before[at + 1] = s.uncovered_before[at] + (s.covered[at] == 0);
    s.not_han_before[at + 1] = s.not_han_before[at] + !IsHan(cps[at]);
  }
  // Short names that sound the same, in stretches no exact mention reads (五长 for 五常).
  if (!homophone_lists.empty()) {
    // Only stretches with a Han character no exact name reads: those that begin at most two
    // characters before one, in the order of their beginning, then of their length.
    uint32_t begin = 0;
    for (uint32_t unread = 0; unread < size; ++unread) {
      if (s.covered[unread] || !IsHan(cps[unread])) continue;
      for (begin = std::max(begin, unread >= 2 ? unread - 2 : 0); begin <= unread && begin + 2 <= size; ++begin) {
        for (uint32_t length = 2; length <= 3 && begin + length <= size; ++length) {
          const uint32_t end = begin + length;
          if (s.not_han_before[end] != s.not_han_before[begin]) break;
          for (uint32_t wrong = begin; wrong < end; ++wrong) {
            if (s.covered[wrong]) continue;  // the wrong character is one no exact name reads
            // Every other character must be one some name has in its place.
            bool may = true;
            for (uint32_t other = begin; other < end && may; ++other) {
              may = other == wrong || MayBeHomophoneChar(length, wrong - begin, other - begin, cps[other]);
            }
            if (!may) continue;
            char32_t window[3];
            std::copy(cps.begin() + begin, cps.begin() + end, window);
            window[wrong - begin] = 0xFFFF;
            auto it = homophone_lists.find(ShortKey(std::span<const char32_t>(window, length)));
            if (it == homophone_lists.end()) continue;
            for (uint32_t at = it->second.first; at < it->second.second; ++at) {
              const Homophone& h = homophones[at];
              if (cps[wrong] == h.meant || !SoundsLike(cps[wrong], h.sound, h.sound2)) continue;
              if (s.mentions.size() >= kMaxMentions) return;
              const uint32_t first = key_offsets[h.key_index];
              s.mentions.push_back(Mention{begin, end, first, key_offsets[h.key_index + 1] - first, true, true});
            }
          }
        }
      }
    }
  }
  for (uint32_t end = 1; end <= size; ++end) {
    // Every character of the longest stretch read by exact mentions (checked again below, for
    // the stretch of the suffix found): nothing to look up.
    if (s.uncovered_before[end] == s.uncovered_before[end - std::min<uint32_t>(end, 7)]) continue;
    switch (cps[end - 1]) {
      case U'省': case U'市': case U'区': case U'县': case U'旗': case U'道': case U'镇': case U'乡': break;
      default: continue;
    }
    // Does a level suffix end at `end`?
    uint32_t suffix = 0;
    for (std::u32string_view word : kFuzzySuffixes) {
      if (end >= word.size() && StartsWith(std::span<const char32_t>(cps.data() + (end - word.size()), word.size()), word)) {
        suffix = static_cast<uint32_t>(word.size());
        break;
      }
    }
    if (suffix == 0) continue;
    // Exact mentions that read every character of the longest stretch read all the shorter.
    const uint32_t widest = end - std::min(end, suffix + 5);
    if (s.uncovered_before[end] == s.uncovered_before[widest]) continue;
    std::u32string& key = s.key32;
    for (uint32_t length = suffix + 2; length <= suffix + 5 && length <= end; ++length) {
      const uint32_t begin = end - length;
      if (s.not_han_before[end] != s.not_han_before[begin]) break;
      // Exact mentions covering these characters already read them.
      if (s.uncovered_before[end] == s.uncovered_before[begin]) continue;
      for (uint32_t wrong = begin; wrong < end - suffix; ++wrong) {
        key.assign(cps.begin() + begin, cps.begin() + end);
        key[wrong - begin] = 0xFFFF;
        auto it = fuzzy.find(key);
        if (it == fuzzy.end()) continue;
        for (uint32_t key_index : it->second) {
          if (s.mentions.size() >= kMaxMentions) return;
          const uint32_t first = key_offsets[key_index];
          auto chars = key_chars.find(key_index);
          const char32_t meant = chars != key_chars.end() ? chars->second[wrong - begin] : 0;
          if (meant == cps[wrong]) continue;  // the exact name, set aside on purpose (西湖大道)
          const bool homophone = SoundsTheSame(cps[wrong], meant);
          s.mentions.push_back(Mention{begin, end, first, key_offsets[key_index + 1] - first, true, homophone});
        }
      }
    }
  }
}

Place Matcher::Impl::ReadEntry(const Scratch& s, const Mention& mention, const Entry& e, uint32_t& end,
                                bool& detail_missing) const {
  const std::vector<char32_t>& cps = s.cps;
  const uint32_t size = static_cast<uint32_t>(cps.size());
  auto read_number = [&](uint32_t& at, uint32_t& value) {
    if (at >= size || !IsDigit(cps[at])) return false;
    uint64_t number = 0;
    uint32_t digits = 0;
    while (at < size && IsDigit(cps[at])) {
      number = number * 10 + (cps[at] - '0');
      if (++digits > 9) return false;
      ++at;
    }
    value = static_cast<uint32_t>(number);
    return true;
  };
  auto word_at = [&](uint32_t at, std::u32string_view word) {
    return at <= size && StartsWith(std::span<const char32_t>(cps.data() + at, size - at), word);
  };
  auto skip_word = [&](uint32_t& at, std::initializer_list<std::u32string_view> words) {
    for (std::u32string_view word : words) {
      if (word_at(at, word)) {
        at += static_cast<uint32_t>(word.size());
        return true;
      }
    }
    return false;
  };


  // Entrance and room of a building, from `at`: 3单元1203室, -3-1203, 1203室.
  auto read_inside = [&](const Target& info, uint32_t at, Place& place, uint32_t& end) {
    const UnitId building{info.id};
    place = Place{building, Level::kBuilding};
    end = at;
    uint32_t p = at, number = 0;
    uint32_t entrance = 0;
    const bool dash = p < size && cps[p] == '-';
    if (dash) ++p;
    uint32_t q = p;
    if (read_number(q, number) && (skip_word(q, {U"单元"}) || (dash && q < size && cps[q] == '-'))) {
      if (number >= 1 && number <= info.entrances) {
        entrance = number;
        place = Place{building, Level::kUnit, entrance};
        end = q;
      } else {
        detail_missing = true;
        return;
      }
      p = q;
      if (p < size && cps[p] == '-') ++p;
    } else if (dash) {
      p = at + 1;
    } else {
      p = at;
    }
    // A floor written before its room (3楼301室, 3层301): the room's number says the floor again.
    uint32_t written_floor = 0;
    q = p;
    if (read_number(q, number) && skip_word(q, {U"楼", U"层"}) && q < size && IsDigit(cps[q])) {
      written_floor = number;
      p = q;
    }
    q = p;
    if (!read_number(q, number)) return;
    const bool marked = skip_word(q, {U"室", U"房", U"号房", U"号"});
    if (!marked && !(dash || entrance != 0) && q < size) return;  // a bare number in running text
    if (!marked && q < size && IsDigit(cps[q])) return;
    const uint32_t floor = number / 100, room = number % 100;
    if (entrance == 0 && info.entrances > 1) {
      detail_missing = true;  // a room without its entrance in a building of several
      return;
    }
    if (floor < 1 || floor > info.floors || room < 1 || room > info.rooms_per_floor ||
        (written_floor != 0 && written_floor != floor)) {
      detail_missing = true;
      return;
    }
    place = Place{building, Level::kRoom, entrance != 0 ? entrance : (info.entrances == 1 ? 1u : 0u), number};
    end = q;
  };
  // A building of a compound from `at`: 12幢, 12栋, 12号楼, 12#, 12-3-1203, then what is inside.
  auto read_compound = [&](uint32_t compound, uint32_t at, Place& place, uint32_t& end) {
    uint32_t p = at, number = 0;
    skip_word(p, {U"第"});
    if (!read_number(p, number)) return false;
    uint32_t q = p;
    const bool marked = skip_word(q, {U"幢", U"栋", U"号楼", U"#楼", U"#", U"号", U"座", U"楼"});
    if (!marked && !(q < size && cps[q] == '-')) return false;
    const Target* target = compound_buildings.Find(compound, number);
    if (target == nullptr) {
      detail_missing = true;
      return false;
    }
    read_inside(*target, q, place, end);
    return true;
  };

  const UnitId holder{e.unit};
  Place place{holder, e.level};  // the entry holds its unit's level
  end = mention.end;
  if (e.kind == kCompoundEntry) {
    read_compound(e.detail, mention.end, place, end);
    return place;
  }
  uint32_t p = mention.end, number = 0;
  if (!read_number(p, number)) return place;
  if (p < size && cps[p] == U'组') return place;  // a villager group (良渚村3组), not a house number
  const bool marked = skip_word(p, {U"号"});
  const Target* target = road_numbers.Find(e.detail, number);
  // 文三路478 without 号: a house number only at the end of the text or before a dash.
  if (!marked && !(p < size && cps[p] == '-') && p < size) target = nullptr;
  if (target == nullptr) {
    detail_missing = true;
  } else if (target->id & 0x80000000u) {
    // The gate of a compound: its buildings may follow (478号12幢), its name written or not.
    const uint32_t compound = target->id & 0x7FFFFFFFu;
    place = Place{UnitId{compound_holder[compound]}, registry.level(UnitId{compound_holder[compound]})};
    end = p;
    uint32_t q = p;
    for (const Mention& other : s.mentions) {
      if (other.begin != q || other.typo) continue;
      for (const Entry& oe : EntriesOf(other)) {
        if (oe.kind == kCompoundEntry && oe.detail == compound) q = other.end;
      }
    }
    end = q;
    read_compound(compound, q, place, end);
  } else {
    place = Place{UnitId{target->id}, Level::kBuilding};
    end = p;
    read_inside(*target, p, place, end);
  }
  return place;
}

Place Matcher::Impl::ReadDetail(const Scratch& s, const Lineage& lineage, uint32_t& consumed_end, bool& detail_missing,
                                bool& elsewhere) const {
  const UnitId unit = lineage.unit;
  Place best{unit, registry.level(unit)};
  uint32_t best_end = 0;
  bool best_missing = false, found_elsewhere = false;
  const UnitId town = registry.level(unit) >= Level::kTown ? registry.AncestorAt(unit, Level::kTown) : UnitId{};
  // Roads and compounds are registered in the demo city's statistical tree: their codes say
  // where they lie, so most namesakes elsewhere are passed over without touching the registry.
  const uint64_t admin = registry.code(unit).admin();
  const uint64_t span = AdminSpan(registry.level(unit));
  const uint64_t town_admin = town.valid() ? registry.code(town).admin() : 0;
  for (const Mention& mention : s.mentions) {
    if (mention.typo) continue;
    for (const Entry& e : EntriesOf(mention)) {
      if (e.kind == kUnitEntry) continue;
      const bool near = (e.admin >= admin && e.admin < admin + span) ||
                        (admin >= e.admin && admin < e.admin + AdminSpan(e.level)) ||
                        (town.valid() && e.admin >= town_admin && e.admin < town_admin + AdminSpan(Level::kTown));
      if (!near && !(e.flags & kGovDiffers) && !stat_differs[unit.value]) continue;
      const UnitId holder{e.unit};
      // The road or compound must lie in the resolved unit, or run through its town.
      const bool agrees = Agrees(unit, holder) || Holds(lineage, holder) ||
                          (town.valid() && e.kind == kRoadEntry && registry.IsWithin(holder, town));
      if (!agrees) continue;
      uint32_t end = mention.end;
      bool missing = false;
      Place place = ReadEntry(s, mention, e, end, missing);
      // A road runs through its town: its number may name a building (or a compound's grid) in
      // another community or grid than the one resolved (蚕花园社区市心南路78号, with the
      // registry's 78号 in 文澜社区). The text puts the place in the unit resolved, so that is
      // not its detail.
      if (place.level > registry.level(unit) && !Agrees(unit, place.unit)) {
        found_elsewhere = true;
        continue;
      }
      if (place.level > best.level || (place.level == best.level && end > best_end)) {
        best = place;
        best_end = end;
        best_missing = missing;
      }
    }
  }
  detail_missing = detail_missing || best_missing;
  elsewhere = found_elsewhere && best_end == 0;
  consumed_end = std::max(consumed_end, best_end);
  return best;
}

// The reason given for an address in Hong Kong, Macao or Taiwan (see Match).
constexpr std::string_view kOutsideTheCodes = "Hong Kong, Macao and Taiwan are not in the registry's division codes";

MatchResult Matcher::Impl::Match(std::string_view text) const {
  // Hong Kong, Macao and Taiwan have no codes in the national division scheme (GB/T 2260 lists
  // them as provinces without a level below): written by their names, an address there is
  // answered unmatched, never forced into a namesake (香港特别行政区九龙城区 was 辽宁's 龙城区).
  for (std::string_view region : {"香港特别行政区", "澳门特别行政区", "香港特区", "澳门特区", "台湾省", "中国香港",
                                   "中国澳门", "中国台湾"}) {
    if (text.starts_with(region)) {
      MatchResult outside;
      outside.reason = kOutsideTheCodes;
      return outside;
    }
  }
  thread_local Scratch s;
  Decode(text, s.cps);
  if (!HasCommittee(s.cps)) return MatchDecoded(s);
  // A committee written out (幸福村村民委员会): read as written, then with the committee folded
  // into the place's display name (幸福村), and the second answer taken only where its status
  // is better (matched over partial over ambiguous over unmatched). Some official names hold a
  // committee word inside them (第十七居民委员会社区, 烧锅村委会（德惠经济开发区）): read as
  // written, they are found whole.
  std::vector<char32_t>& folded_cps = s.folded;
  folded_cps = s.cps;
  FoldCommittees(folded_cps);
  if (folded_cps.size() == s.cps.size()) return MatchDecoded(s);  // nothing folded
  MatchResult as_written = MatchDecoded(s);
  if (as_written.status == MatchStatus::kMatched) return as_written;
  s.cps.swap(folded_cps);
  MatchResult folded = MatchDecoded(s);
  auto rank = [](MatchStatus status) {
    switch (status) {
      case MatchStatus::kMatched: return 3;
      case MatchStatus::kPartial: return 2;
      case MatchStatus::kAmbiguous: return 1;
      default: return 0;
    }
  };
  return rank(folded.status) > rank(as_written.status) ? folded : as_written;
}

// On x86-64, a copy of the matching for processors with POPCNT (every one since 2008), chosen when
// the program loads: std::popcount is otherwise a call into libgcc's table-driven version, 3 % of
// Match's instructions.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("popcnt", "default")))
#endif
MatchResult Matcher::Impl::MatchDecoded(Scratch& s) const {
  MatchResult result;
  FindMentions(s);
  FindTypos(s);

  if (s.mentions.empty()) {
    result.reason = "no place name of the registry found";
    return result;
  }
  const size_t mention_count = std::min<size_t>(s.mentions.size(), 64);
  s.scored.clear();
  int max_support = 0;
  size_t considered = 0;  // readings that reached the support filter (s.scored keeps some)
  uint64_t wide_mentions = 0;  // mentions of more than kWideList readings (not in the table)
  // Which mentions name each unit (short lists only; the wide ones are asked directly).
  s.ResetSlots();
  std::fill(s.overlap, s.overlap + mention_count, uint64_t{0});
  for (uint32_t index = 0; index < mention_count; ++index) {
    const Mention& mention = s.mentions[index];
    for (uint32_t other = index + 1; other < mention_count; ++other) {  // each pair once, both ways
      const Mention& o = s.mentions[other];
      if (o.begin < mention.end && mention.begin < o.end) {
        s.overlap[index] |= uint64_t{1} << other;
        s.overlap[other] |= uint64_t{1} << index;
      }
    }
    if (mention.count > kWideList) {
      wide_mentions |= uint64_t{1} << index;
      continue;
    }
    const uint64_t bit = uint64_t{1} << index;
    for (const Entry& e : EntriesOf(mention)) {
      if (mention.official_only && (e.flags & kShortForm)) continue;
      const size_t slot = s.Slot(LevelKey(e.admin, e.level));
      if (slot == Scratch::kSlots) break;
      s.slots[slot].named |= bit;
      if (e.former == 0) s.slots[slot].named_now |= bit;
      if (!(e.flags & kShortForm)) s.slots[slot].named_official |= bit;
    }
  }
  // Mentions that straddle two names written side by side (道东 across 桐君街道|东方小区, 市西
  // across 杭州市|西湖区): their characters are read by those two. Unsupported, they are no
  // reading of their own (they overlap both, so neither would contradict them).
  // One that begins with the level suffix ending an official name before it (镇中 across
  // 瓜沥镇|中沙社区: that 镇 is 瓜沥镇's; 市中 of 杭州市中级人民法院) is no reading, whatever its
  // support (萧山区 holds a 镇中村): a character is not written once for two names.
  uint64_t straddling = 0, suffix_shared = 0;
  for (uint32_t index = 0; index < mention_count; ++index) {
    const Mention& m = s.mentions[index];
    if (m.typo || std::popcount(s.overlap[index]) < 2) continue;  // it overlaps both
    for (uint32_t a = 0; a < mention_count && !(straddling >> index & 1); ++a) {
      const Mention& left = s.mentions[a];
      if (a == index || left.typo || !(left.begin < m.begin && m.begin < left.end && left.end < m.end)) continue;
      for (uint32_t b = 0; b < mention_count; ++b) {
        const Mention& right = s.mentions[b];
        if (b != index && b != a && !right.typo && right.begin == left.end && right.end > m.end) {
          straddling |= uint64_t{1} << index;
          break;
        }
      }
    }
  }
  for (uint32_t index = 0; index < mention_count; ++index) {
    const Mention& m = s.mentions[index];
    if (m.typo || m.begin == 0) continue;
    const char32_t shared = s.cps[m.begin];
    if (shared != U'镇' && shared != U'乡' && shared != U'区' && shared != U'县' && shared != U'市' && shared != U'省' &&
        shared != U'道') {
      continue;
    }
    for (uint32_t a = 0; a < mention_count && !(suffix_shared >> index & 1); ++a) {
      const Mention& left = s.mentions[a];
      if (a == index || left.typo || left.end != m.begin + 1 || left.begin >= m.begin) continue;
      // The name before must stand on its own, not begin inside a third (道县 inside
      // 玉城街道|县前社区 is itself such a stray, and says nothing of 县前社区).
      bool stands = true;
      for (uint32_t o = 0; o < mention_count && stands; ++o) {
        const Mention& other = s.mentions[o];
        stands = o == a || other.typo || !(other.begin < left.begin && left.begin < other.end);
      }
      if (!stands) continue;
      for (const Entry& e : EntriesOf(left)) {
        if (!(e.flags & kShortForm) && e.kind == kUnitEntry) {
          suffix_shared |= uint64_t{1} << index;
          break;
        }
      }
    }
  }
  for (uint32_t index = 0; index < mention_count; ++index) {
    if (suffix_shared >> index & 1) continue;
    const Mention& mention = s.mentions[index];
    std::span<const Entry> list = EntriesOf(mention);
    // The readings to score: all of a short list; of a wide one (新村, 城东街道 across China),
    // those inside another mention's reading or inside the home city.
    s.wide.clear();
    // A number right after the mention (文化路131号, 桂花城苑3幢): roads and compounds whose
    // numbers do not exist are not taken, unless none of them has it (the text is then partial).
    uint32_t number = 0;
    bool numbered = false;
    uint32_t after_number = mention.end;
    for (; after_number < s.cps.size() && IsDigit(s.cps[after_number]) && number < 100'000'000; ++after_number) {
      number = number * 10 + (s.cps[after_number] - '0');
      numbered = true;
    }
    if (after_number < s.cps.size() && s.cps[after_number] == U'组') numbered = false;  // a villager group
    auto fits_number = [&](const Entry& e) {
      if (mention.official_only && (e.flags & kShortForm)) return false;
      if (!numbered || e.kind == kUnitEntry) return true;
      if (e.kind == kRoadEntry) return road_numbers.Has(e.detail, number);
      return compound_buildings.Has(e.detail, number);
    };
    if (list.size() <= kWideList) {
      for (const Entry& e : list) {
        if (fits_number(e)) s.wide.push_back(&e);
      }
      if (s.wide.empty()) {
        for (const Entry& e : list) {
          if (!(mention.official_only && (e.flags & kShortForm))) s.wide.push_back(&e);
        }
      }
    } else {
      auto take = [&](uint64_t low, uint64_t high) {
        const Entry* const end = list.data() + list.size();
        for (const Entry* e = LowerBound(list, low); e != end && e->admin < high && s.wide.size() < kWideList; ++e) {
          if (fits_number(*e)) s.wide.push_back(e);
        }
      };
      // Inside the areas other mentions name, the smallest first (they fill the kWideList
      // places before a province's could: of 河南省桐柏县毛集镇李庄村, the 李庄村 of 毛集镇, not
      // the first 64 of 335 in 河南省); failing that, inside the home city.
      for (int level = static_cast<int>(Level::kCommunity); level >= static_cast<int>(Level::kProvince); --level) {
        for (uint32_t other = 0; other < mention_count && s.wide.size() < kWideList; ++other) {
          const Mention& o = s.mentions[other];
          if (other == index || o.count > kWideList) continue;
          for (const Entry& peer : EntriesOf(o)) {
            // Areas that hold places: units, not roads or compounds.
            if (peer.kind != kUnitEntry || static_cast<int>(peer.level) != level) continue;
            take(peer.admin, peer.admin + AdminSpan(peer.level));
          }
        }
      }
      if (s.wide.empty() && home_city.valid()) take(home_city_admin, home_city_admin + AdminSpan(Level::kCity));
      // The large units of the name, wherever they are: 长春 is 长春市 before any 长春村.
      if (auto large = wide_large.find(mention.first); large != wide_large.end()) {
        for (uint32_t at = large->second.first; at < large->second.second && s.wide.size() < kWideList; ++at) {
          const Entry& e = entries[wide_large_entries[at]];
          if (fits_number(e)) s.wide.push_back(&e);
        }
      }
      std::sort(s.wide.begin(), s.wide.end());
      s.wide.erase(std::unique(s.wide.begin(), s.wide.end()), s.wide.end());
    }
    // One name for a unit and a unit inside it (五常街道 and its 五常社区 for 五常): the text
    // names the larger area.
    // A short reading of a smaller unit beside an official one of the same characters (朝阳区:
    // 北京's 朝阳区, or the short form of some 朝阳区街道) comes second.
    Level official_level = Level::kRoom;  // the largest unit read by an official name
    Level largest = Level::kRoom, written = Level::kRoom;
    int large = 0;  // readings of a district or above
    for (const Entry* e : s.wide) {
      if (!(e->flags & kShortForm)) official_level = std::min(official_level, e->level);
      if (e->kind == kUnitEntry && !mention.typo) {
        largest = std::min(largest, e->level);
        large += e->level <= Level::kDistrict;
        if (!(e->flags & kShortForm)) written = std::min(written, e->level);
      }
    }
    s.official[index] = official_level;
    s.written[index] = written;
    // A name of many districts (经济开发区: dozens of zones across China) says no place.
    s.largest[index] = large <= 4 ? largest : Level::kRoom;
    bool outer_only = s.wide.size() > 1 && s.wide.size() <= 16;
    Level outer_level = Level::kRoom;
    if (outer_only) {
      for (const Entry* e : s.wide) {
        if (e->kind == kUnitEntry) outer_level = std::min(outer_level, e->level);
      }
    }
    // Readings below the district, in the statistical tree alone: their support read from the
    // keys of their town and below, and from those of their district and above, looked up once
    // per district (a long list, 山水府 in 35 communities, is sorted by code: its readings come
    // district by district). A wide mention (街道, 花园: not in the table) names one of those keys
    // when it has an entry of that code and level: the upper three looked up once per district,
    // the lower ones in one search (their codes lie between the town's and the reading's).
    const uint64_t wide_others = wide_mentions & ~(uint64_t{1} << index);
    const bool by_district = !outer_only;
    uint64_t district_seen = UINT64_MAX, district_agrees = 0, district_agrees_now = 0;
    // Inlined by hand: GCC outlined it once the loop below grew (3 % more instructions).
    auto named_by = [&](uint64_t key, uint64_t& agrees, uint64_t& agrees_now) __attribute__((always_inline)) {
      const size_t slot = s.Find(key);
      if (slot != Scratch::kSlots) agrees |= s.slots[slot].named, agrees_now |= s.slots[slot].named_now;
    };
    for (const Entry* e : s.wide) {
      if (considered >= kMaxScored) break;
      // Support: the other mentions that name an area above (or the unit itself). Overlapping
      // mentions are rival readings of the same characters, not evidence.
      uint64_t agrees = 0, agrees_now = 0;
      // A town or community is not supported by another mention of the same unit where one of
      // the two is its short name: written after the full name, the short one is a village's or
      // community's of the same name, as town seats often are (庆阳市宁县中村镇中村: the village
      // 中村, not 中村镇 twice).
      const bool own_short_apart = e->kind == kUnitEntry && (e->level == Level::kTown || e->level == Level::kCommunity);
      auto named_by_own = [&](uint64_t key) __attribute__((always_inline)) {
        const size_t slot = s.Find(key);
        if (slot == Scratch::kSlots) return;
        const uint64_t by = (e->flags & kShortForm) ? 0 : s.slots[slot].named_official;
        agrees |= by, agrees_now |= s.slots[slot].named_now & by;
      };
      if (by_district && e->level > Level::kDistrict && !(e->flags & kGovDiffers)) {
        const uint64_t admin = e->admin;
        const uint64_t district = admin / 1'000'000 * 1'000'000;
        const uint64_t province = admin / 10'000'000'000 * 10'000'000'000, city = admin / 100'000'000 * 100'000'000;
        if (district != district_seen) {
          district_seen = district;
          district_agrees = district_agrees_now = 0;
          named_by(LevelKey(province, Level::kProvince), district_agrees, district_agrees_now);
          named_by(LevelKey(city, Level::kCity), district_agrees, district_agrees_now);
          named_by(LevelKey(district, Level::kDistrict), district_agrees, district_agrees_now);
          for (uint64_t rest = wide_others; rest != 0; rest &= rest - 1) {
            const int other = std::countr_zero(rest);
            const Mention& o = s.mentions[other];
            if (NamesKey(o, province, Level::kProvince) || NamesKey(o, city, Level::kCity) ||
                NamesKey(o, district, Level::kDistrict)) {
              district_agrees |= uint64_t{1} << other;
              district_agrees_now |= uint64_t{1} << other;
            }
          }
        }
        agrees = district_agrees, agrees_now = district_agrees_now;
        const uint64_t town = admin / 1'000 * 1'000;
        if (!own_short_apart) {
          named_by(LevelKey(town, Level::kTown), agrees, agrees_now);
          if (e->level >= Level::kCommunity) named_by(LevelKey(admin, Level::kCommunity), agrees, agrees_now);
          if (e->level > Level::kCommunity) named_by(LevelKey(admin, e->level), agrees, agrees_now);
        } else if (e->level == Level::kTown) {
          named_by_own(LevelKey(town, Level::kTown));
        } else {
          named_by(LevelKey(town, Level::kTown), agrees, agrees_now);
          named_by_own(LevelKey(admin, Level::kCommunity));
        }
        for (uint64_t rest = wide_others & ~agrees; rest != 0; rest &= rest - 1) {
          const int other = std::countr_zero(rest);
          std::span<const Entry> list = EntriesOf(s.mentions[other]);
          for (const Entry* w = LowerBound(list, town); w != list.data() + list.size() && w->admin <= admin; ++w) {
            if (own_short_apart && w->level == e->level && ((w->flags | e->flags) & kShortForm)) continue;
            if ((w->admin == town && w->level == Level::kTown) ||
                (w->admin == admin && ((w->level == Level::kCommunity && e->level >= Level::kCommunity) ||
                                       (w->level == e->level && e->level > Level::kCommunity)))) {
              agrees |= uint64_t{1} << other;
              agrees_now |= uint64_t{1} << other;
              break;
            }
          }
        }
      } else {
        CodeChain chain;
        CodeChainOf(*e, chain);
        if (outer_only && e->kind == kUnitEntry && e->level > outer_level) {
          bool inside_another = false;
          for (const Entry* other : s.wide) {
            if (other != e && other->kind == kUnitEntry && other->level < e->level &&
                chain.Has(LevelKey(other->admin, other->level)) && !NamedInFullElsewhere(s, *other, index)) {
              inside_another = true;
              break;
            }
          }
          if (inside_another) continue;
        }
        // The reading's own key is the chain's at its level (province first).
        const int own_at = own_short_apart ? static_cast<int>(e->level) - 1 : chain.count;
        for (int at = 0; at < own_at; ++at) named_by(chain.keys[at], agrees, agrees_now);
        if (own_at < chain.count) named_by_own(chain.keys[own_at]);
        for (int at = own_at + 1; at < chain.count; ++at) named_by(chain.keys[at], agrees, agrees_now);
        for (uint64_t rest = wide_others; rest != 0; rest &= rest - 1) {
          const int other = std::countr_zero(rest);
          const Mention& o = s.mentions[other];
          if (NamesCodeChain(o, chain)) {
            agrees |= uint64_t{1} << other;
            agrees_now |= uint64_t{1} << other;
          }
        }
      }
      Scored entry{e, index};
      const uint64_t all = mention_count == 64 ? ~uint64_t{0} : (uint64_t{1} << mention_count) - 1;
      entry.others = all & ~(uint64_t{1} << index) & ~s.overlap[index];
      entry.agrees = agrees & entry.others;
      entry.support = std::popcount(entry.agrees);
      entry.agrees_now = agrees_now;
      if (entry.support == 0) {
        // A village's bare short name outside the home city (大道, 新村) counts only where other
        // mentions place it: too common to stand alone.
        const bool in_home = InHomeCity(*e);
        if (list.size() > kWideList && !in_home && e->level > Level::kDistrict) continue;
        if ((e->flags & kShortForm) && e->level == Level::kCommunity && !in_home) continue;
        // Pieces a still-existing unit gave away (余杭区's 临平) count only with a town of the piece.
        if (IsPieceOfAUnitInPlace(*e)) continue;
        if (straddling >> index & 1) continue;
      }
      // The score is worked out below, for the readings whose support can still win (about a
      // fifth of them).
      // A reading already two below the best support is dropped below whatever comes after: it
      // is counted (towards kMaxScored) but not kept.
      ++considered;
      max_support = std::max(max_support, entry.support);
      if (entry.support + 1 >= max_support) s.scored.push_back(entry);
    }
  }
  FindGates(s);
  // Contradictions and detail, for the readings that can still win: a mention that neither
  // names an area above nor something inside contradicts — unless a rival reading of the same
  // characters does (of 杭州市西湖区, the stray 市西 is not evidence against 西湖区).
  size_t kept = 0;
  double sure = -std::numeric_limits<double>::infinity();  // the best score some reading is sure of
  for (size_t index = 0; index < s.scored.size(); ++index) {
    if (s.scored[index].support + 1 < max_support) continue;
    Scored entry = s.scored[index];
    const Entry* e = entry.entry;
    {
      const Mention& mention = s.mentions[entry.mention];
      const bool in_home = InHomeCity(*e);
      const bool in_province = home_province.valid() && e->admin >= home_province_admin && e->admin < home_province_end;
      const int depth = static_cast<int>(e->level);
      const double home = in_home ? 5 : in_province ? 3 : 0;
      // Support through a former name counts less where the name still names a unit today
      // (余杭区: today's 余杭区, or the towns it gave to 临平区).
      const int former_only = entry.support - std::popcount(entry.agrees_now & entry.others);
      // A bare short name names the larger of the units it can mean (西湖: 西湖区 before some
      // 西湖村; 东湖: 东湖街道 before some 东湖社区), and any official name before it.
      const double depth_score = (e->flags & kShortForm) && e->kind == kUnitEntry
                                     ? 30.0 + 3.0 * (static_cast<double>(Level::kCommunity) - depth)
                                     : depth * 10.0;
      entry.score = (entry.support - former_only) * 100.0 + former_only * 60.0 + depth_score + home -
                    ((e->flags & kShortForm) ? (e->level > s.official[entry.mention] ? 15.0 : 0.5) : 0.0) -
                    (mention.typo ? (mention.homophone ? 15.0 : 30.0) : 0.0) + (e->kind != kUnitEntry ? 0.25 : 0.0);
      // A piece that a unit still in place gave away (钱塘区's towns, once 萧山区's) is what its
      // former name means only where more of the text points there (a town of the piece);
      // otherwise the unit of that name today is (浙江省杭州市萧山区).
      if (IsPieceOfAUnitInPlace(*e)) entry.score -= 5;
    }
    uint64_t fits = 0;
    for (uint64_t rest = entry.others & ~entry.agrees; rest != 0; rest &= rest - 1) {
      const int other = std::countr_zero(rest);
      if (HasInside(EntriesOf(s.mentions[other]), e->admin, AdminSpan(e->level), e->unit)) fits |= uint64_t{1} << other;
    }
    const uint64_t related = entry.agrees | fits;
    uint64_t against = 0;  // the contradicting mentions counted
    for (uint64_t rest = entry.others & ~related; rest != 0; rest &= rest - 1) {
      const int other = std::countr_zero(rest);
      // Rival readings of the same characters (城关镇 and its 关镇; five typo readings of 卢湾区)
      // are one contradiction, not one each.
      if ((s.overlap[other] & (related | against)) == 0) {
        against |= uint64_t{1} << other;
        ++entry.contradictions;
        // A larger area written elsewhere (成都市 before a 高新区 of another city) puts the
        // reading out of the place the text is about: that costs as much as a support gains. A
        // smaller one not found inside (成都市's reading, against that 高新区) is only detail
        // that was not found.
        if (s.largest[other] < e->level && s.largest[other] <= Level::kDistrict) entry.score -= 40.0;
        // So does a town written elsewhere by its full name (a short name such as 人民路, of
        // some 人民路街道, is too often a street's) against a smaller unit (靖江街道玫瑰新村: not
        // a 玫瑰新村 in 四川); and a town or community so written against a road or compound
        // even of its own level, since a street's name is shared by many places and a town's or
        // community's seldom (北山街道北山街, where the registry's 北山街 lies in another town:
        // the text is about 北山街道).
        else if (e->kind != kUnitEntry ? s.written[other] <= Level::kCommunity && s.written[other] <= e->level
                                        : s.written[other] <= Level::kTown && s.written[other] < e->level) {
          entry.score -= 40.0;
        }
      }
    }
    entry.score -= entry.contradictions * 60.0;
    // A road or compound whose numbers lead somewhere real (its 12幢 has a 3单元 with a 501室)
    // is likelier than a namesake whose numbers lead nowhere: read below, where it can matter.
    entry.detail_pending = e->kind != kUnitEntry && entry.support == max_support;
    if (entry.detail_pending && GateAgrees(s, *e)) entry.score += 40;
    // What reading the numbers can add: from -2 (they lead nowhere) to 3 a level down to a room.
    sure = std::max(sure, entry.score - (entry.detail_pending ? 2.0 : 0.0));
    s.scored[kept++] = entry;
  }
  s.scored.resize(kept);
  // Reading the numbers costs a few cache misses a reading (the building's record, its number in
  // the compound); a reading that cannot come within 3 of the best even with a room is neither
  // the answer nor a rival of it (the rivals below), so it is dropped unread. Scores are sums of
  // quarters, exact in a double, so the order of the additions changes nothing.
  kept = 0;
  for (size_t index = 0; index < s.scored.size(); ++index) {
    Scored entry = s.scored[index];
    const Entry* e = entry.entry;
    const double ceiling =
        entry.score + (entry.detail_pending ? 3.0 * (static_cast<int>(Level::kRoom) - static_cast<int>(e->level)) : 0.0);
    if (ceiling < sure - 3) continue;
    if (entry.detail_pending) {
      const Mention& mention = s.mentions[entry.mention];
      uint32_t end = mention.end;
      bool missing = false;
      const Place place = ReadEntry(s, mention, *e, end, missing);
      entry.score += 3.0 * (static_cast<int>(place.level) - static_cast<int>(e->level)) - (missing ? 2 : 0);
    }
    s.scored[kept++] = entry;
  }
  s.scored.resize(kept);
  if (s.scored.empty()) {
    result.reason = "place names found, but none can be placed";
    return result;
  }
  // Best first, ties in the order found. Few readings are left here (one to five, as a rule): an
  // insertion sort, where std::stable_sort allocated a buffer for each address.
  if (s.scored.size() <= 32) {
    for (size_t at = 1; at < s.scored.size(); ++at) {
      const Scored moving = s.scored[at];
      size_t to = at;
      for (; to > 0 && s.scored[to - 1].score < moving.score; --to) s.scored[to] = s.scored[to - 1];
      s.scored[to] = moving;
    }
  } else {
    std::stable_sort(s.scored.begin(), s.scored.end(), [](const Scored& a, const Scored& b) { return a.score > b.score; });
  }
  const Scored& best = s.scored.front();
  const UnitId best_unit{best.entry->unit};
  Lineage lineage;
  LineageOf(best_unit, lineage);
  // Rivals: other units whose score differs only by the home preference and the short form.
  // Between two roads or compounds read from the same characters (namesakes), the depth of the
  // smallest unit holding each (a village's road lies in one grid when the village has one)
  // says nothing about the text and is left out: 光明村 alone, where three villages of Hangzhou
  // have a road of that name, one of them in a village of one grid, is ambiguous, not that
  // village's grid.
  auto street_depth = [](const Scored& sc) {
    const int level = static_cast<int>(sc.entry->level), community = static_cast<int>(Level::kCommunity);
    return sc.entry->kind != kUnitEntry && level > community ? (level - community) * 10.0 : 0.0;
  };
  std::vector<UnitId> rivals;
  double rival_gap = 0;
  for (size_t index = 1; index < s.scored.size(); ++index) {
    const Scored& other = s.scored[index];
    const UnitId other_unit{other.entry->unit};
    if (other_unit == best_unit) continue;
    double gap = best.score - other.score;
    if (other.mention == best.mention && best.entry->kind != kUnitEntry && other.entry->kind != kUnitEntry) {
      gap = std::min(gap, gap - street_depth(best) + street_depth(other));
    }
    if (gap >= 3) continue;
    // A road or compound inside the answer, or the answer's own area, is no rival.
    if (Holds(lineage, other_unit) || Agrees(best_unit, other_unit)) continue;
    if (rivals.empty()) rival_gap = gap;
    if (std::find(rivals.begin(), rivals.end(), other_unit) == rivals.end()) rivals.push_back(other_unit);
  }
  const bool home_decided = home_city.valid() && (registry.IsWithin(best_unit, home_city) ||
                                                  (home_province.valid() && registry.IsWithin(best_unit, home_province)));
  const bool decided_by_home = !rivals.empty() && home_decided && rival_gap >= 1;
  result.place = Place{best_unit, registry.level(best_unit)};
  // A name read with a character wrong on the way to the answer (肖山区 for 萧山区).
  for (const Mention& mention : s.mentions) {
    if (mention.typo && (&mention == &s.mentions[best.mention] || HasAncestorOf(EntriesOf(mention), lineage))) {
      result.corrected = true;
    }
  }
  if (!rivals.empty() && !decided_by_home) {
    result.status = MatchStatus::kAmbiguous;
    result.alternatives.assign(rivals.begin(), rivals.begin() + std::min<size_t>(rivals.size(), 5));
    result.common = best_unit;
    for (UnitId rival : rivals) {
      UnitId a = result.common, b = rival;
      while (a.valid() && b.valid() && a != b) {
        if (registry.level(a) >= registry.level(b)) a = registry.parent(a);
        else b = registry.parent(b);
      }
      result.common = a == b ? a : UnitId{};
    }
    // The likeliest of several: on the labelled sets right about as often as one in (1 + rivals)
    // (56 % of 228 ambiguous answers, mean confidence 0.4-0.5).
    result.confidence = 1.0 / static_cast<double>(1 + rivals.size());
  } else {
    result.status = MatchStatus::kMatched;
    // Calibrated on the labelled sets (docs/geocoder.md, `pingan geocode --eval`): one reading
    // that every mention supports is right 99.9 % of the time; with a short name 99-100 %; with
    // a mention that contradicts it (often a word of an unregistered road) about 99 %.
    double confidence = best.contradictions > 0 ? 0.9 : (best.entry->flags & kShortForm) ? 0.95 : 0.99;
    if (decided_by_home) {
      // Only the home city (or province) decided between namesakes: a prior, not a measurement
      // (the labelled sets are Hangzhou records by construction).
      confidence = registry.IsWithin(best_unit, home_city) ? 0.7 : 0.55;
      result.alternatives.assign(rivals.begin(), rivals.begin() + std::min<size_t>(rivals.size(), 5));
    }
    if (result.corrected) confidence = std::min(confidence, 0.9);
    result.confidence = confidence;
  }
  // A former name in the chain that led here.
  for (const Mention& mention : s.mentions) {
    for (const Entry& e : EntriesOf(mention)) {
      if (e.former != 0 && Holds(lineage, UnitId{e.unit})) {
        result.formerly = &registry.history().changes()[e.former - 1];
        break;
      }
    }
    if (result.formerly != nullptr) break;
  }
  // Below: house numbers, buildings, entrances and rooms.
  // What the answer explains: the mentions that name it or an area above it. Words of other
  // mentions (现代城 after 建国路88号) explain nothing, so detail before them still counts.
  uint32_t consumed = s.mentions[best.mention].end;
  for (const Mention& mention : s.mentions) {
    if (mention.end > consumed && HasAncestorOf(EntriesOf(mention), lineage)) consumed = mention.end;
  }
  bool detail_missing = false, detail_elsewhere = false;
  if (result.status == MatchStatus::kMatched && result.place.level == Level::kTown) {
    uint32_t village_end = 0;
    if (const UnitId community = FormerVillage(s, consumed, best_unit, village_end); community.valid()) {
      result.place = Place{community, Level::kCommunity};
      result.confidence = std::min(result.confidence, 0.9);  // read by a name the registry no longer has
      LineageOf(community, lineage);
      consumed = village_end;
    }
  } else if (result.status == MatchStatus::kMatched && result.place.level == Level::kCommunity &&
             (best.entry->flags & kShortForm) && s.mentions[best.mention].end == consumed &&
             consumed < s.cps.size() && (s.cps[consumed] == U'村' || s.cps[consumed] == U'社')) {
    // The same, read by the short name (清波门村: 清波门 of 清波门社区; 绕城社区: 绕城 of 绕城村):
    // the suffix is the other name's, not a village or community the registry lacks.
    const bool community = s.cps[consumed] == U'社';
    if (!community || (consumed + 1 < s.cps.size() && s.cps[consumed + 1] == U'区')) {
      result.confidence = std::min(result.confidence, 0.9);
      consumed += community ? 2 : 1;
    }
  }
  if (result.status == MatchStatus::kMatched) {
    uint32_t detail_end = 0;
    Place detail = ReadDetail(s, lineage, detail_end, detail_missing, detail_elsewhere);
    if (detail.level > result.place.level || detail.unit != best_unit) {
      if (detail.level >= result.place.level) result.place = detail;
    }
    if (detail_end > 0) consumed = std::max(consumed, detail_end);
  }
  if (result.status == MatchStatus::kMatched) {
    std::span<const char32_t> rest(s.cps.data() + std::min<size_t>(consumed, s.cps.size()),
                                   s.cps.size() - std::min<size_t>(consumed, s.cps.size()));
    bool more = detail_missing || detail_elsewhere;
    for (size_t at = 0; at < rest.size() && !more; ++at) more = StartsWithAny<kDetailMarkers>(rest.subspan(at));
    // A district, town or zone written after the answer that is not inside it (成都市高新区: no
    // 高新区 of 成都 is registered) is a place named and not found.
    bool elsewhere = false;
    for (size_t at = 0; at < s.mentions.size() && !more && !elsewhere; ++at) {
      const Mention& mention = s.mentions[at];
      if (mention.typo || mention.begin < consumed) continue;
      const char32_t last = s.cps[mention.end - 1];
      if (last != U'区' && last != U'县' && last != U'镇' && last != U'乡' && last != U'道') continue;
      for (const Entry& e : EntriesOf(mention)) {
        if (e.kind == kUnitEntry && e.level > result.place.level && e.level <= Level::kTown) {
          elsewhere = true;
          break;
        }
      }
    }
    // A villager group (3组, 第3组, 第3村民小组): below the village, and not in the registry.
    bool group = false;
    for (size_t at = 0; at + 1 < rest.size() && !group; ++at) {
      group = IsDigit(rest[at]) && (rest[at + 1] == U'组' || StartsWith(rest.subspan(at + 1), U"村民小组"));
    }
    if (group) {
      result.status = MatchStatus::kPartial;
      result.reason = "a villager group (组) is not in the registry";
    } else if (more || elsewhere) {
      result.status = MatchStatus::kPartial;
      result.reason = detail_elsewhere ? "the house number named lies outside the community or grid named"
                      : detail_missing ? "the house number, building or room is not in the registry"
                      : more         ? "a road, compound, building, village or community named is not in the registry"
                                     : "a district, town or zone named is not inside the place found";
    }
  }
  return result;
}

std::string_view MatchStatusName(MatchStatus status) {
  switch (status) {
    case MatchStatus::kMatched: return "matched";
    case MatchStatus::kPartial: return "partial";
    case MatchStatus::kAmbiguous: return "ambiguous";
    case MatchStatus::kUnmatched: return "unmatched";
    case MatchStatus::kInvalid: return "invalid";
  }
  return "unknown";
}

Matcher::Matcher(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Matcher::~Matcher() = default;

MatchResult Matcher::Match(std::string_view text) const { return impl_->Match(text); }

Matcher::Stats Matcher::stats() const {
  return Stats{.keys = impl_->key_offsets.empty() ? 0 : impl_->key_offsets.size() - 1,
               .entries = impl_->entries.size(),
               .trie_nodes = impl_->trie_nodes,
               .fuzzy_keys = impl_->fuzzy.size()};
}

absl::StatusOr<std::unique_ptr<Matcher>> Matcher::Create(const Registry& registry, AddressCode home_city,
                                                         const std::vector<Alias>& aliases) {
  StageTimer timer("matcher index");
  auto impl = std::make_unique<Impl>(registry);
  impl->home_city_code = home_city;
  impl->aliases_fingerprint = AliasesFingerprint(aliases);
  if (!home_city.IsNation()) {
    std::optional<UnitId> city = registry.Find(home_city);
    if (!city) return absl::NotFoundError(Cat("home city ", home_city.ToString().substr(0, 4), " is not in the registry"));
    impl->home_city = *city;
    impl->home_province = registry.AncestorAt(*city, Level::kProvince);
    impl->home_city_admin = registry.code(*city).admin();
    impl->home_city_end = impl->home_city_admin + AdminSpan(Level::kCity);
    impl->home_province_admin = impl->home_city_admin / AdminSpan(Level::kProvince) * AdminSpan(Level::kProvince);
    impl->home_province_end = impl->home_province_admin + AdminSpan(Level::kProvince);
  }
  impl->stat_differs.assign(registry.size(), 0);
  // Statistical parents may come after their children (management units): iterate to a fixed point.
  for (bool changed = true; changed;) {
    changed = false;
    for (uint32_t index = 1; index < registry.size(); ++index) {
      UnitId stat = registry.stat_parent(UnitId{index});
      const uint8_t differs = stat != registry.parent(UnitId{index}) || (stat.valid() && impl->stat_differs[stat.value]);
      if (differs != impl->stat_differs[index]) impl->stat_differs[index] = differs, changed = true;
    }
  }

  timer.Mark("governance chains");
  // The units' names, normalised and sorted on up to 4 threads (most of the start-up), then
  // merged: the order is a total order on the items, so the index does not depend on the
  // thread count.
  // Room reserved up front (address space only; pages are touched as they fill): growing by
  // doubling faulted in and copied about twice the final size, and fresh memory is what a
  // start costs here (docs/architecture.md). The first part gets room for every part and the
  // keys added after them, so that the others are appended to it in place.
  const size_t extra = registry.roads().size() + registry.compounds().size() + aliases.size() +
                       4 * registry.history().changes().size() + 1024;
  auto add_units = [&](uint32_t begin, uint32_t end, Impl::PendingKeys& out) {
    const size_t room = begin <= 1 ? registry.size() + extra : static_cast<size_t>(end - begin);
    out.items.reserve(room * 3);  // official, display and short name at most
    out.pool.reserve(room * 3 * 12);
    for (uint32_t index = begin; index < end; ++index) {
      UnitId id{index};
      Level level = registry.level(id);
      if (level > Level::kCommunity || registry.retired(id)) continue;
      const std::string official = registry.name(id);
      if (GenericName(official)) continue;
      impl->Add(out, official, Impl::Entry{.unit = index});
      std::string display = DisplayName(official);
      if (display != official) impl->Add(out, display, Impl::Entry{.unit = index});
      std::string short_name(registry.short_name(id));
      if (short_name != display) impl->Add(out, short_name, Impl::Entry{.unit = index, .flags = kShortForm});
      // 王府街道办事处 is written 王府街道.
      if (level == Level::kTown && display.ends_with("街道办事处")) {
        impl->Add(out, std::string_view(display).substr(0, display.size() - std::string_view("办事处").size()),
                  Impl::Entry{.unit = index});
      }
      // Autonomous prefectures, counties and banners by their place (恩施州, 景宁县).
      if (level == Level::kCity || level == Level::kDistrict) {
        for (const std::string& name : AutonomousNames(display)) {
          if (name != short_name) impl->Add(out, name, Impl::Entry{.unit = index, .flags = kShortForm});
        }
      }
      // Development zones by the names people write (高新区, 经开区).
      if ((level == Level::kDistrict || level == Level::kTown) && display.ends_with("区")) {
        std::vector<std::string> places;
        for (UnitId above = registry.parent(id); above.valid() && registry.level(above) >= Level::kProvince;
             above = registry.parent(above)) {
          places.push_back(registry.name(above));
          places.emplace_back(registry.short_name(above));
        }
        for (const std::string& name : ZoneNames(display, places)) {
          if (name != short_name) impl->Add(out, name, Impl::Entry{.unit = index, .flags = kShortForm});
        }
      }
    }
    // Sorted here, on the worker: the index's sort, split over the workers (merged in Build).
    Impl::SortItems(out, 0, out.items.size());
  };
  const uint32_t units = static_cast<uint32_t>(registry.size());
  const uint32_t workers = std::clamp<uint32_t>(std::thread::hardware_concurrency(), 1, 4);
  std::vector<Impl::PendingKeys> parts(workers);
  {
    std::vector<std::thread> pool;
    const uint32_t share = (units + workers - 1) / workers;
    for (uint32_t worker = 1; worker < workers; ++worker) {
      pool.emplace_back(add_units, std::max(1u, std::min(units, worker * share)),
                        std::min(units, (worker + 1) * share), std::ref(parts[worker]));
    }
    add_units(1, std::min(units, share), parts[0]);
    for (std::thread& thread : pool) thread.join();
  }
  timer.Mark("names");
  Impl::PendingKeys pending = std::move(parts[0]);
  std::vector<size_t> run_ends{pending.items.size()};  // the sorted runs: the parts, then the rest
  for (Impl::PendingKeys& part : std::span(parts).subspan(1)) {
    const auto offset = static_cast<uint32_t>(pending.pool.size());
    pending.pool.insert(pending.pool.end(), part.pool.begin(), part.pool.end());
    for (Impl::PendingKeys::Item item : part.items) {
      item.offset += offset;
      pending.items.push_back(item);
    }
    run_ends.push_back(pending.items.size());
    part = Impl::PendingKeys{};
  }
  const auto& changes = registry.history().changes();
  for (size_t change_index = 0; change_index < changes.size(); ++change_index) {
    const HistoryChange& change = changes[change_index];
    for (const std::string& name : {change.name, ShortName(change.name, change.level)}) {
      for (const HistoryPiece& piece : change.pieces) {
        if (std::optional<UnitId> successor = registry.Find(piece.successor)) {
          impl->Add(pending, name,
                    Impl::Entry{.unit = successor->value, .former = static_cast<uint16_t>(change_index + 1),
                                .flags = static_cast<uint8_t>(name != change.name ? kShortForm : 0)});
        }
      }
    }
  }
  for (const Alias& alias : aliases) {
    std::optional<UnitId> unit = registry.Find(alias.unit);
    if (!unit) return absl::InvalidArgumentError(Cat("alias ", alias.name, ": no unit ", alias.unit.ToString()));
    impl->Add(pending, alias.name, Impl::Entry{.unit = unit->value, .flags = kShortForm});
  }

  timer.Mark("joined, former names, aliases");
  // Roads and compounds: the smallest unit holding their buildings, and the number indexes.
  const auto& roads = registry.roads();
  const auto& compounds = registry.compounds();
  std::vector<UnitId> road_holder(roads.size()), compound_holder(compounds.size());
  std::vector<NumberIndex<Impl::Target>::Item> road_items, compound_items;
  road_items.reserve(registry.size());  // address space only: pages are touched as they fill
  compound_items.reserve(registry.size());
  for (uint32_t index = 1; index < registry.size(); ++index) {
    UnitId id{index};
    if (registry.level(id) != Level::kBuilding || registry.retired(id)) continue;
    const BuildingInfo& info = registry.building(id);
    const UnitId grid = registry.parent(id);
    if (info.road < roads.size()) {
      road_holder[info.road] = impl->CommonAncestor(road_holder[info.road], grid);
      if (info.compound < compounds.size()) {
        road_items.push_back({info.road, info.house_number, Impl::Target{info.compound | 0x80000000u}});
      } else {
        road_items.push_back({info.road, info.house_number, Impl::TargetOf(index, info)});
      }
    }
    if (info.compound < compounds.size()) {
      compound_holder[info.compound] = impl->CommonAncestor(compound_holder[info.compound], grid);
      if (info.number != 0) compound_items.push_back({info.compound, info.number, Impl::TargetOf(index, info)});
    }
  }
  impl->road_numbers.Build(road_items, roads.size());
  impl->compound_buildings.Build(compound_items, compounds.size());
  impl->compound_holder.resize(compounds.size());
  for (uint32_t index = 0; index < roads.size(); ++index) {
    UnitId holder = road_holder[index].valid() ? road_holder[index] : roads[index].town;
    if (!holder.valid()) continue;
    impl->Add(pending, roads[index].name,
              Impl::Entry{.unit = holder.value, .detail = index, .kind = kRoadEntry});
  }
  for (uint32_t index = 0; index < compounds.size(); ++index) {
    UnitId holder = compound_holder[index].valid() ? compound_holder[index] : compounds[index].community;
    if (!holder.valid()) continue;
    impl->compound_holder[index] = holder.value;
    impl->Add(pending, compounds[index].name,
              Impl::Entry{.unit = holder.value, .detail = index, .kind = kCompoundEntry});
  }

  timer.Mark("roads, compounds");
  Impl::SortItems(pending, run_ends.back(), pending.items.size());  // former names, aliases, roads, compounds
  run_ends.push_back(pending.items.size());
  const std::vector<std::u32string_view> keys = impl->Build(pending, run_ends);
  timer.Mark("sorted keys, trie");
  // Keys read with one character wrong: names of at least 3 characters ending in a level suffix,
  // of provinces, cities and districts everywhere and of towns in the home province.
  // Short names (2-3 characters, no suffix) of the home province's districts and towns, read
  // with one character replaced by one that sounds the same (肖山 for 萧山, 五长 for 五常).
  for (uint32_t key_index = 0; key_index < keys.size() && impl->home_province.valid(); ++key_index) {
    const std::u32string_view key = keys[key_index];
    if (key.size() < 2 || key.size() > 3) continue;
    bool wanted = false;
    for (uint32_t at = impl->key_offsets[key_index]; at < impl->key_offsets[key_index + 1]; ++at) {
      const Impl::Entry& e = impl->entries[at];
      wanted = wanted || (e.kind == kUnitEntry && (e.flags & kShortForm) && e.level >= Level::kDistrict &&
                          e.level <= Level::kTown && e.admin >= impl->home_province_admin &&
                          e.admin < impl->home_province_end);
    }
    if (!wanted) continue;
    impl->key_chars[key_index] = std::u32string(key);
    for (size_t wrong = 0; wrong < key.size(); ++wrong) {
      std::u32string variant(key);
      variant[wrong] = 0xFFFF;
      impl->sounds_like[variant].push_back(key_index);
    }
  }
  for (uint32_t key_index = 0; key_index < keys.size(); ++key_index) {
    const std::u32string_view key = keys[key_index];
    if (key.size() < 3) continue;
    size_t suffix = 0;
    for (std::u32string_view word : kFuzzySuffixes) {
      if (key.size() >= word.size() + 2 && key.ends_with(word)) suffix = std::max(suffix, word.size());
    }
    if (suffix == 0) continue;
    bool wanted = false;
    for (uint32_t at = impl->key_offsets[key_index]; at < impl->key_offsets[key_index + 1]; ++at) {
      const Impl::Entry& e = impl->entries[at];
      const UnitId unit{e.unit};
      const Level level = registry.level(unit);
      if (e.kind != kUnitEntry || level > Level::kTown) continue;
      wanted = wanted || level <= Level::kDistrict ||
               (impl->home_province.valid() && registry.IsWithin(unit, impl->home_province));
    }
    if (!wanted) continue;
    impl->key_chars[key_index] = std::u32string(key);
    for (size_t wrong = 0; wrong + suffix < key.size(); ++wrong) {
      std::u32string variant(key);
      variant[wrong] = 0xFFFF;
      std::vector<uint32_t>& list = impl->fuzzy[variant];
      if (std::find(list.begin(), list.end(), key_index) == list.end()) list.push_back(key_index);
    }
  }
  impl->PrepareHomophones();
  impl->PrepareWideLarge();
  timer.Mark("typo keys");
  return std::unique_ptr<Matcher>(new Matcher(std::move(impl)));
}


// --- the index file ------------------------------------------------------------------------------
//
// Layout: magic, version, then the key (the program's build id, the registry's generation and
// unit count, the home city, the aliases' fingerprint), then the index's arrays and maps as
// BinaryWriter writes them, then an XXH3-64 of everything before it. The key is checked before
// anything else is read; then the checksum; then every index the arrays hold, against the
// registry and each other, so that a damaged or hostile file is refused rather than read out
// of bounds.

namespace {

constexpr char kIndexMagic[8] = {'P', 'I', 'N', 'G', 'A', 'N', 'M', 'X'};
constexpr uint32_t kIndexVersion = 1;

struct IndexKey {
  std::string build_id;
  uint64_t generation = 0, units = 0, home_admin = 0, home_local = 0, aliases = 0;
};

void PutKey(BinaryWriter& writer, const IndexKey& key) {
  writer.out().append(kIndexMagic, sizeof kIndexMagic);
  writer.Put(kIndexVersion);
  writer.PutString(key.build_id);
  for (uint64_t value : {key.generation, key.units, key.home_admin, key.home_local, key.aliases}) writer.Put(value);
}

// Keys of a map from strings of code points to lists, as (size, characters) then the list.
using U32Lists = absl::flat_hash_map<std::u32string, std::vector<uint32_t>>;
void PutLists(BinaryWriter& writer, const U32Lists& lists) {
  writer.Put<uint64_t>(lists.size());
  for (const auto& [key, list] : lists) {
    writer.PutArray(key);
    writer.PutArray(list);
  }
}
bool GetLists(BinaryReader& reader, U32Lists& lists, uint32_t key_count) {
  uint64_t count = 0;
  if (!reader.Get(count) || count > reader.rest().size() / 16) return false;
  lists.reserve(count);
  std::vector<char32_t> key;
  std::vector<uint32_t> list;
  for (uint64_t i = 0; i < count; ++i) {
    if (!reader.GetArray(key) || !reader.GetArray(list)) return false;
    for (uint32_t value : list) {
      if (value >= key_count) return false;
    }
    lists.emplace(std::u32string(key.begin(), key.end()), std::move(list));
  }
  return true;
}

}  // namespace

absl::Status Matcher::SaveIndex(const std::filesystem::path& path, uint64_t registry_generation) const {
  const Impl& impl = *impl_;
  const std::string_view build_id = ProgramBuildId();
  if (build_id.empty()) return absl::FailedPreconditionError("the program has no build id to key the index by");
  BinaryWriter writer;
  PutKey(writer, IndexKey{std::string(build_id), registry_generation, impl.registry.size(),
                          impl.home_city_code.admin(), impl.home_city_code.local(), impl.aliases_fingerprint});
  writer.Put(impl.home_city.value), writer.Put(impl.home_province.value);
  for (uint64_t value : {impl.home_city_admin, impl.home_city_end, impl.home_province_admin, impl.home_province_end}) {
    writer.Put(value);
  }
  writer.PutArray(impl.nodes);
  writer.PutArray(impl.root_children);
  std::vector<uint64_t> wide;
  for (const Impl::EdgeTable::Slot& slot : impl.wide_edges.slots) {
    if (slot.key != UINT64_MAX) wide.push_back(slot.key), wide.push_back(slot.child);
  }
  writer.PutArray(wide);
  writer.PutArray(impl.key_offsets);
  writer.PutArray(impl.entries);
  writer.PutArray(impl.entry_units);
  writer.Put<uint64_t>(impl.trie_nodes);
  PutLists(writer, impl.fuzzy);
  writer.Put<uint64_t>(impl.key_chars.size());
  for (const auto& [key, chars] : impl.key_chars) writer.Put(key), writer.PutArray(chars);
  PutLists(writer, impl.sounds_like);
  impl.road_numbers.Save(writer);
  impl.compound_buildings.Save(writer);
  writer.PutArray(impl.compound_holder);
  writer.PutArray(impl.stat_differs);
  const uint64_t checksum = XXH3_64bits(writer.out().data(), writer.out().size());
  writer.Put(checksum);
  return WriteFileAtomically(path, {writer.out()}, "the matcher's index");
}

absl::StatusOr<std::unique_ptr<Matcher>> Matcher::LoadIndex(const Registry& registry, AddressCode home_city,
                                                            const std::vector<Alias>& aliases,
                                                            const std::filesystem::path& path,
                                                            uint64_t registry_generation) {
  StageTimer timer("matcher index file");
  const std::string_view build_id = ProgramBuildId();
  if (build_id.empty()) return absl::FailedPreconditionError("the program has no build id to key the index by");
  PA_ASSIGN_OR_RETURN(MappedFile file, MappedFile::Open(path, sizeof kIndexMagic + 8, size_t{4} << 30));
  const std::string_view bytes = file.bytes();
  auto damaged = [&](std::string_view what) { return absl::DataLossError(Cat(path.string(), ": ", what)); };
  BinaryWriter expected;
  PutKey(expected, IndexKey{std::string(build_id), registry_generation, registry.size(), home_city.admin(),
                            home_city.local(), AliasesFingerprint(aliases)});
  if (!bytes.starts_with(expected.out())) {
    return bytes.starts_with(std::string_view(kIndexMagic, sizeof kIndexMagic))
               ? absl::FailedPreconditionError("the matcher's index was built from another registry, configuration or program")
               : damaged("not a matcher index");
  }
  uint64_t stored_checksum = 0;
  std::memcpy(&stored_checksum, bytes.data() + bytes.size() - 8, 8);
  if (XXH3_64bits(bytes.data(), bytes.size() - 8) != stored_checksum) return damaged("checksum mismatch");
  timer.Mark("map, checksum");

  auto impl = std::make_unique<Impl>(registry);
  impl->home_city_code = home_city;
  impl->aliases_fingerprint = AliasesFingerprint(aliases);
  BinaryReader reader(bytes.substr(expected.out().size(), bytes.size() - expected.out().size() - 8));
  const uint32_t units = static_cast<uint32_t>(registry.size());
  const size_t roads = registry.roads().size(), compounds = registry.compounds().size();
  const size_t changes = registry.history().changes().size();
  bool ok = reader.Get(impl->home_city.value) && reader.Get(impl->home_province.value) &&
            reader.Get(impl->home_city_admin) && reader.Get(impl->home_city_end) &&
            reader.Get(impl->home_province_admin) && reader.Get(impl->home_province_end);
  ok = ok && (!impl->home_city.valid() || impl->home_city.value < units) &&
       (!impl->home_province.valid() || impl->home_province.value < units);
  // The trie: every child range and key within bounds.
  std::vector<uint64_t> wide;
  ok = ok && reader.GetArray(impl->nodes) && !impl->nodes.empty() && reader.GetArray(impl->root_children, 0x10000) &&
       reader.GetArray(wide) && wide.size() % 2 == 0 && reader.GetArray(impl->key_offsets) &&
       !impl->key_offsets.empty() && reader.GetArray(impl->entries) &&
       reader.GetArray(impl->entry_units, impl->entries.size());
  if (!ok) return damaged("truncated or misshapen arrays");
  const size_t node_count = impl->nodes.size();
  const auto key_count = static_cast<uint32_t>(impl->key_offsets.size() - 1);
  for (const Impl::Node& node : impl->nodes) {
    if (node.first > node_count || node.count > node_count - node.first) return damaged("a trie node out of bounds");
    if (node.key != UINT32_MAX && node.key >= key_count) return damaged("a trie key out of bounds");
  }
  for (uint32_t child : impl->root_children) {
    if (child >= node_count) return damaged("a root child out of bounds");
  }
  impl->wide_edges.Reserve(wide.size() / 2);
  for (size_t i = 0; i < wide.size(); i += 2) {
    if (wide[i + 1] >= node_count) return damaged("a trie edge out of bounds");
    if (wide[i] == UINT64_MAX) return damaged("a bad trie edge");
    impl->wide_edges.Insert(wide[i], static_cast<uint32_t>(wide[i + 1]));
  }
  if (impl->key_offsets.front() != 0 || impl->key_offsets.back() != impl->entries.size()) return damaged("bad key offsets");
  for (uint32_t key = 0; key < key_count; ++key) {
    if (impl->key_offsets[key] > impl->key_offsets[key + 1]) return damaged("bad key offsets");
  }
  for (size_t at = 0; at < impl->entries.size(); ++at) {
    const Impl::Entry& e = impl->entries[at];
    const bool detail_ok = e.kind == kUnitEntry ? e.detail == UINT32_MAX
                           : e.kind == kRoadEntry ? e.detail < roads
                           : e.kind == kCompoundEntry && e.detail < compounds;
    if (e.unit >= units || !detail_ok || e.former > changes || e.level > Level::kRoom ||
        impl->entry_units[at] >= units) {
      return damaged("an entry out of bounds");
    }
  }
  uint64_t trie_nodes = 0;
  if (!reader.Get(trie_nodes) || trie_nodes != node_count) return damaged("bad trie size");
  impl->trie_nodes = node_count;
  // The typo keys.
  uint64_t chars_count = 0;
  if (!GetLists(reader, impl->fuzzy, key_count) || !reader.Get(chars_count) || chars_count > key_count) {
    return damaged("bad typo keys");
  }
  std::vector<char32_t> chars;
  for (uint64_t i = 0; i < chars_count; ++i) {
    uint32_t key = 0;
    if (!reader.Get(key) || key >= key_count || !reader.GetArray(chars)) return damaged("bad typo keys");
    impl->key_chars.emplace(key, std::u32string(chars.begin(), chars.end()));
  }
  if (!GetLists(reader, impl->sounds_like, key_count)) return damaged("bad homophone keys");
  // The numbers.
  auto is_building = [&](uint32_t id) { return id != 0 && id < units && registry.level(UnitId{id}) == Level::kBuilding; };
  auto road_target_ok = [&](const Impl::Target& target) {
    return (target.id & 0x80000000u) ? (target.id & 0x7FFFFFFFu) < compounds : is_building(target.id);
  };
  auto building_ok = [&](const Impl::Target& target) { return is_building(target.id); };
  if (!impl->road_numbers.Load(reader, roads, road_target_ok) ||
      !impl->compound_buildings.Load(reader, compounds, building_ok)) {
    return damaged("bad house or building numbers");
  }
  if (!reader.GetArray(impl->compound_holder, compounds) || !reader.GetArray(impl->stat_differs, units) ||
      !reader.done()) {
    return damaged("bad compounds or trailing bytes");
  }
  for (uint32_t holder : impl->compound_holder) {
    if (holder >= units) return damaged("a compound's holder out of bounds");
  }
  impl->PrepareHomophones();
  impl->PrepareWideLarge();
  timer.Mark("read, checked");
  return std::unique_ptr<Matcher>(new Matcher(std::move(impl)));
}

absl::StatusOr<std::unique_ptr<Matcher>> Matcher::Open(const Registry& registry, AddressCode home_city,
                                                       const std::vector<Alias>& aliases, const MatcherIndexFile& file,
                                                       MatcherOpened* opened) {
  MatcherOpened ignored;
  MatcherOpened& how = opened != nullptr ? *opened : ignored;
  how = MatcherOpened{};
  if (file.path.empty() || file.registry_generation == 0) return Create(registry, home_city, aliases);
  auto loaded = LoadIndex(registry, home_city, aliases, file.path, file.registry_generation);
  if (loaded.ok()) {
    how.read = true;
    return loaded;
  }
  PA_ASSIGN_OR_RETURN(std::unique_ptr<Matcher> made, Create(registry, home_city, aliases));
  // A cache: when it cannot be written, the next start builds the index again.
  if (file.write) how.saved = made->SaveIndex(file.path, file.registry_generation);
  return made;
}

}  // namespace pingan
