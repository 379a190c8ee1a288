#include "address/names.h"

#include <array>

#include "core/text.h"

namespace pingan {
namespace {

// Committee suffixes of village/community entries (longest first).
constexpr std::array<std::string_view, 8> kCommitteeSuffixes = {
    "社区居民委员会", "村民委员会", "居民委员会", "社区居委会", "村委会", "居委会",
    "委员会", "管委会"};

// Level suffixes, longest first. Minority names before 自治州/自治县 are kept: 恩施土家族苗族
// is how people write it; the short form drops only the administrative word.
constexpr std::array<std::string_view, 20> kLevelSuffixes = {
    "特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "自治州", "自治县",
    "自治旗", "街道办事处", "街道", "办事处", "社区", "地区", "新区", "省", "市", "区",
    "县", "镇", "乡"};

bool StripSuffix(std::string& name, std::string_view suffix, size_t min_chars) {
  if (!EndsWith(name, suffix)) return false;
  std::string_view rest(name.data(), name.size() - suffix.size());
  if (Utf8Length(rest) < min_chars) return false;
  name.resize(rest.size());
  return true;
}

}  // namespace

std::string DisplayName(std::string_view official) {
  std::string name(official);
  std::string_view first_removed;  // the outermost committee suffix, as written
  bool stripped = true;
  while (stripped) {
    stripped = false;
    for (std::string_view suffix : kCommitteeSuffixes) {
      if (StripSuffix(name, suffix, 1)) {
        if (first_removed.empty()) first_removed = suffix;
        stripped = true;
        break;
      }
    }
  }
  if (first_removed.empty()) return name;
  // Say what kind of place it is again: 多福巷社区居委会 -> 多福巷社区, 东山村民委员会 -> 东山村.
  const bool village = first_removed == "村委会" || first_removed == "村民委员会";
  if (village) {
    if (!EndsWith(name, "村")) name += "村";
  } else if (first_removed != "委员会" && first_removed != "管委会" && !EndsWith(name, "社区")) {
    name += "社区";
  }
  return name;
}

std::string ShortName(std::string_view official, Level level) {
  std::string name = DisplayName(official);
  if (level == Level::kCommunity) {
    if (!StripSuffix(name, "社区", 2)) StripSuffix(name, "村", 2);
    return name;
  }
  for (std::string_view suffix : kLevelSuffixes) {
    if (StripSuffix(name, suffix, 2)) break;
  }
  return name;
}

}  // namespace pingan
