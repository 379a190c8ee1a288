#include "address/names.h"

#include <algorithm>
#include <array>

#include "core/strings.h"
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

std::vector<std::string> ZoneNames(std::string_view display, std::span<const std::string> places) {
  // Kinds of zone, longest first, and what they are called for short.
  struct Kind {
    std::string_view suffix;
    std::array<std::string_view, 3> short_forms;
    bool area;  // the zone's own name + 区 is in use (新站区, 净月区)
  };
  static constexpr Kind kKinds[] = {
      {"高新技术产业开发区", {"高新区"}, true},
      {"高技术产业开发区", {"高新区"}, true},
      {"新技术产业开发区", {"高新区"}, true},
      {"高新技术开发区", {"高新区"}, true},
      {"新技术开发区", {"高新区"}, true},
      {"经济技术开发区", {"经开区", "经济开发区", "开发区"}, false},
      {"经济开发区", {"经开区", "开发区"}, false},
      {"产业开发区", {"开发区"}, false},
      {"工业园区", {}, false},
      {"开发区", {}, false},
  };
  std::vector<std::string> out;
  const Kind* kind = nullptr;
  for (const Kind& candidate : kKinds) {
    if (EndsWith(display, candidate.suffix)) {
      kind = &candidate;
      break;
    }
  }
  if (kind == nullptr) return out;
  // The places written first (河北唐山芦台经济开发区: 河北, 唐山), longest match first.
  std::string_view core = display;
  for (bool stripped = true; stripped;) {
    stripped = false;
    size_t longest = 0;
    for (const std::string& place : places) {
      if (place.size() > longest && Utf8Length(place) >= 2 && core.size() >= place.size() + kind->suffix.size() &&
          core.starts_with(place)) {
        longest = place.size();
      }
    }
    if (longest > 0) {
      core.remove_prefix(longest);
      stripped = true;
    }
  }
  const std::string_view own = core.substr(0, core.size() - kind->suffix.size());  // 新站, 芦台, or nothing
  auto add = [&](std::string name) {
    if (name != display && Utf8Length(name) >= 2 && std::find(out.begin(), out.end(), name) == out.end()) {
      out.push_back(std::move(name));
    }
  };
  add(std::string(core));
  for (std::string_view short_form : kind->short_forms) {
    if (!short_form.empty()) add(Cat(own, short_form));
  }
  if (kind->area && Utf8Length(own) >= 2) add(Cat(own, "区"));
  return out;
}

std::vector<std::string> AutonomousNames(std::string_view display) {
  // The 55 peoples, as the names of autonomous areas write them (most with 族 after them).
  static constexpr std::string_view kPeoples[] = {
      "蒙古", "回", "藏", "维吾尔", "苗", "彝", "壮", "布依", "朝鲜", "满", "侗", "瑶", "白", "土家",
      "哈尼", "哈萨克", "傣", "黎", "傈僳", "佤", "畲", "高山", "拉祜", "水", "东乡", "纳西", "景颇",
      "柯尔克孜", "土", "达斡尔", "仫佬", "羌", "布朗", "撒拉", "毛南", "仡佬", "锡伯", "阿昌", "普米",
      "塔吉克", "怒", "乌孜别克", "俄罗斯", "鄂温克", "德昂", "保安", "裕固", "京", "塔塔尔", "独龙",
      "鄂伦春", "赫哲", "门巴", "珞巴", "基诺"};
  static constexpr std::pair<std::string_view, std::string_view> kKinds[] = {
      {"自治州", "州"}, {"自治县", "县"}, {"自治旗", "旗"}};
  std::vector<std::string> out;
  for (const auto& [suffix, last] : kKinds) {
    if (!EndsWith(display, suffix)) continue;
    const std::string_view rest = display.substr(0, display.size() - suffix.size());
    // The place ends where the first people's name begins (after two characters at least):
    // 红河哈尼族彝族 -> 红河; 巴音郭楞蒙古 -> 巴音郭楞.
    size_t place_end = std::string_view::npos;
    for (size_t at = 0, chars = 0; at < rest.size() && place_end == std::string_view::npos; ++chars) {
      if (chars >= 2) {
        for (std::string_view people : kPeoples) {
          const std::string_view after = rest.substr(at);
          if (after.starts_with(people) &&
              (after.substr(people.size()).starts_with("族") || people == "蒙古" || people == "哈萨克" ||
               people == "柯尔克孜")) {
            place_end = at;
            break;
          }
        }
      }
      // Next character (the names are UTF-8 Han characters of three bytes; step by lead bytes).
      ++at;
      while (at < rest.size() && (static_cast<unsigned char>(rest[at]) & 0xC0) == 0x80) ++at;
    }
    if (place_end == std::string_view::npos) break;
    const std::string_view place = rest.substr(0, place_end);
    out.push_back(Cat(place, last));
    out.emplace_back(place);
    break;
  }
  return out;
}

}  // namespace pingan
