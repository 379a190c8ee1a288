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
      if (place.size() > longest && Utf8Length(place) >= 2 && core.size() > place.size() + kind->suffix.size() - 1 &&
          core.substr(0, place.size()) == place) {
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

}  // namespace pingan
