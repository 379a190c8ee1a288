#include "geocode/matcher.h"

#include <algorithm>

#include "address/names.h"
#include "address/normalize.h"
#include "core/strings.h"
#include "core/text.h"

namespace pingan {
namespace {

// Words that, right after a short place name, make it part of a road or compound name:
// 杭州路, 西湖大道, 滨江花园 are not 杭州, 西湖, 滨江.
constexpr std::string_view kNameContinuations[] = {
    "东路", "西路", "南路", "北路", "中路", "路", "街", "大道", "大街", "巷", "弄", "道", "桥", "公园", "广场", "花园", "小区", "苑", "公寓",
    "大厦", "中学", "小学", "大学", "医院", "宾馆", "酒店", "饭店", "商场", "市场"};
// Of those, the ones that make a road name: its whole span is skipped.
constexpr std::string_view kRoadWords[] = {"东路", "西路", "南路", "北路", "中路", "大道", "大街",
                                           "路", "街", "巷", "弄"};

// Signs of detail below the community that this version does not match yet.
constexpr std::string_view kDetailMarkers[] = {"路", "街", "巷", "弄", "大道", "号", "幢", "栋", "单元",
                                               "室", "小区", "花园", "苑", "公寓", "大厦", "楼"};

bool StartsWithAny(std::string_view text, std::span<const std::string_view> words) {
  for (std::string_view word : words) {
    if (text.substr(0, word.size()) == word) return true;
  }
  return false;
}

size_t CodePointLength(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  return 4;
}

bool GenericName(std::string_view name) {
  return name == "市辖区" || name == "县" || name.find("直辖") != std::string_view::npos ||
         name == "社区居委会" || name == "村委会" || name == "居委会" || name == "社区居民委员会" ||
         name == "村民委员会";
}

}  // namespace

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

void Matcher::AddName(const std::string& raw_key, Candidate candidate) {
  // Queries arrive normalised (simplified, half-width, no separators): so must the keys, or a
  // registry name the normaliser would change (東十里铺村) could never match.
  auto normalized = NormalizeAddress(raw_key);
  if (!normalized.ok() || normalized->text.empty()) return;
  const std::string& key = normalized->text;
  if (Utf8Length(key) < 2) return;
  std::vector<Candidate>& list = names_[key];
  for (Candidate& existing : list) {
    if (existing.unit == candidate.unit && existing.former == candidate.former) {
      existing.short_form = existing.short_form && candidate.short_form;
      return;
    }
  }
  list.push_back(candidate);
  max_name_bytes_ = std::max(max_name_bytes_, key.size());
}

absl::StatusOr<std::unique_ptr<Matcher>> Matcher::Create(const Registry& registry, AddressCode home_city,
                                                         const std::vector<Alias>& aliases) {
  std::unique_ptr<Matcher> matcher(new Matcher(registry));
  if (!home_city.IsNation()) {
    std::optional<UnitId> city = registry.Find(home_city);
    if (!city) return absl::NotFoundError(Cat("home city ", home_city.ToString().substr(0, 4), " is not in the registry"));
    matcher->home_city_ = *city;
    matcher->home_province_ = registry.AncestorAt(*city, Level::kProvince);
  }
  matcher->stat_differs_.assign(registry.size(), 0);
  for (uint32_t index = 1; index < registry.size(); ++index) {
    UnitId id{index};
    UnitId stat = registry.stat_parent(id);
    // Statistical parents precede their children (the national tree is imported in order).
    matcher->stat_differs_[index] = stat != registry.parent(id) || (stat.value < index && matcher->stat_differs_[stat.value]);
  }
  matcher->names_.reserve(registry.size());
  for (uint32_t index = 1; index < registry.size(); ++index) {
    UnitId id{index};
    Level level = registry.level(id);
    if (level > Level::kCommunity || registry.retired(id)) continue;
    const std::string official = registry.name(id);
    if (GenericName(official)) continue;
    matcher->AddName(official, Candidate{id, false});
    std::string display = DisplayName(official);
    if (display != official) matcher->AddName(display, Candidate{id, false});
    std::string short_name(registry.short_name(id));
    if (short_name != display) matcher->AddName(short_name, Candidate{id, true});
  }
  for (const HistoryChange& change : registry.history().changes()) {
    for (const std::string& key : {change.name, ShortName(change.name, change.level)}) {
      for (const HistoryPiece& piece : change.pieces) {
        if (std::optional<UnitId> successor = registry.Find(piece.successor)) {
          matcher->AddName(key, Candidate{*successor, key != change.name, &change});
        }
      }
    }
  }
  for (const Alias& alias : aliases) {
    std::optional<UnitId> unit = registry.Find(alias.unit);
    if (!unit) return absl::InvalidArgumentError(Cat("alias ", alias.name, ": no unit ", alias.unit.ToString()));
    matcher->AddName(alias.name, Candidate{*unit, true});
  }
  return matcher;
}

std::vector<Matcher::Mention> Matcher::FindMentions(std::string_view text) const {
  std::vector<Mention> mentions;
  // Code point boundaries, so that candidate keys never split a character.
  std::vector<size_t> bounds;
  bounds.reserve(text.size() + 1);
  for (size_t at = 0; at < text.size(); at += CodePointLength(static_cast<unsigned char>(text[at]))) bounds.push_back(at);
  bounds.push_back(text.size());
  size_t start_index = 0;
  while (start_index + 1 < bounds.size()) {
    const size_t begin = bounds[start_index];
    if (static_cast<unsigned char>(text[begin]) < 0x80) {
      ++start_index;
      continue;
    }
    bool skipped = false;
    // Longest match first.
    size_t end_index = start_index + 1;
    while (end_index + 1 < bounds.size() && bounds[end_index + 1] - begin <= max_name_bytes_) ++end_index;
    for (; end_index >= start_index + 2; --end_index) {
      const size_t end = bounds[end_index];
      std::string_view key = text.substr(begin, end - begin);
      auto it = names_.find(absl::string_view(key.data(), key.size()));
      if (it == names_.end()) continue;
      std::vector<Candidate> candidates;
      candidates.reserve(std::min<size_t>(it->second.size(), 16));
      candidates.assign(it->second.begin(), it->second.end());
      if (StartsWithAny(text.substr(end), kNameContinuations)) {
        // Inside a road or compound name: only full official names stand.
        candidates.erase(std::remove_if(candidates.begin(), candidates.end(),
                                        [](const Candidate& c) { return c.short_form; }),
                         candidates.end());
        if (candidates.empty()) {
          // Skip the whole road or compound name (西湖大道 is neither 西湖 nor 大道).
          for (std::string_view word : kRoadWords) {
            if (text.substr(end, word.size()) == word) {
              const size_t skip_to = end + word.size();
              while (start_index + 1 < bounds.size() && bounds[start_index] < skip_to) ++start_index;
              skipped = true;
              break;
            }
          }
          break;
        }
      }
      // One name for a unit and a unit inside it (五常街道 and its 五常社区 for 五常): the text
      // names the larger area.
      if (candidates.size() > 1 && candidates.size() <= 16) {
        std::vector<Candidate> outer;
        for (const Candidate& candidate : candidates) {
          bool inside_another = false;
          for (const Candidate& other : candidates) {
            if (other.unit != candidate.unit && Agrees(other.unit, candidate.unit)) inside_another = true;
          }
          if (!inside_another) outer.push_back(candidate);
        }
        if (!outer.empty()) candidates = std::move(outer);
      }
      mentions.push_back(Mention{begin, end, std::move(candidates)});
      break;
    }
    // Then one character on, not past the match: names may overlap where short forms run
    // together (湖滨东平巷社区: 湖滨 and 东平巷社区), and scoring picks the consistent reading.
    if (!skipped) ++start_index;
  }
  // A mention inside a longer one (湖区 inside 西湖区) is not a reading of its own.
  std::vector<Mention> kept;
  for (size_t index = 0; index < mentions.size(); ++index) {
    bool contained = false;
    for (size_t other = 0; other < mentions.size() && !contained; ++other) {
      contained = other != index && mentions[other].begin <= mentions[index].begin &&
                  mentions[index].end <= mentions[other].end &&
                  mentions[other].end - mentions[other].begin > mentions[index].end - mentions[index].begin;
    }
    if (!contained) kept.push_back(std::move(mentions[index]));
  }
  return kept;
}

bool Matcher::Agrees(UnitId ancestor, UnitId unit) const {
  if (ancestor == unit || registry_.IsWithin(unit, ancestor)) return true;
  if (!stat_differs_[unit.value]) return false;
  for (UnitId at = unit; at.valid() && at != registry_.nation(); at = registry_.stat_parent(at)) {
    if (at == ancestor) return true;
  }
  return false;
}

MatchResult Matcher::Match(std::string_view text) const {
  MatchResult result;
  std::vector<Mention> mentions = FindMentions(text);
  if (mentions.empty()) {
    result.reason = "no place name of the registry found";
    return result;
  }
  struct Scored {
    Candidate candidate;
    size_t mention;
    int support = 0, contradictions = 0;
    double score = 0;
  };
  std::vector<Scored> scored;
  constexpr size_t kWideList = 64;
  for (size_t index = 0; index < mentions.size(); ++index) {
    const Mention& mention = mentions[index];
    const bool wide = mention.candidates.size() > kWideList;
    for (const Candidate& candidate : mention.candidates) {
      Scored entry{candidate, index};
      for (size_t other = 0; other < mentions.size(); ++other) {
        if (other == index) continue;
        // Overlapping mentions are rival readings of the same characters, not evidence.
        if (mentions[other].begin < mention.end && mention.begin < mentions[other].end) continue;
        bool agrees = false, below = false;
        for (const Candidate& peer : mentions[other].candidates) {
          if (Agrees(peer.unit, candidate.unit)) {
            agrees = true;
            break;
          }
          if (!below && Agrees(candidate.unit, peer.unit)) below = true;
        }
        if (agrees) {
          ++entry.support;
        } else if (!below) {
          ++entry.contradictions;
        }
      }
      const bool in_home = home_city_.valid() && registry_.IsWithin(candidate.unit, home_city_);
      // A name shared by many places counts only where other mentions place it; so does a
      // village's bare short name outside the home city (大道, 新村: too common to stand alone).
      if (wide && entry.support == 0 && !in_home) continue;
      if (candidate.short_form && registry_.level(candidate.unit) == Level::kCommunity && entry.support == 0 &&
          !in_home) {
        continue;
      }
      // Pieces a still-existing unit gave away (余杭区's 临平) count only with a town of the piece.
      if (candidate.former != nullptr && !candidate.former->abolished && entry.support == 0) continue;
      const int depth = static_cast<int>(registry_.level(candidate.unit));
      double home = 0;
      if (home_city_.valid() && registry_.IsWithin(candidate.unit, home_city_)) {
        home = 2;
      } else if (home_province_.valid() && registry_.IsWithin(candidate.unit, home_province_)) {
        home = 1;
      }
      entry.score = entry.support * 100.0 - entry.contradictions * 60.0 + depth * 10.0 + home -
                    (candidate.short_form ? 0.5 : 0.0);
      scored.push_back(entry);
    }
  }
  if (scored.empty()) {
    result.reason = "place names found, but none can be placed";
    return result;
  }
  std::stable_sort(scored.begin(), scored.end(), [](const Scored& a, const Scored& b) { return a.score > b.score; });
  const Scored& best = scored.front();
  result.unit = best.candidate.unit;
  // Rivals: other units whose score differs only by the home preference and the short form.
  std::vector<UnitId> rivals;
  for (size_t index = 1; index < scored.size(); ++index) {
    const Scored& other = scored[index];
    if (other.candidate.unit == best.candidate.unit) continue;
    if (best.score - other.score >= 3) break;
    if (std::find(rivals.begin(), rivals.end(), other.candidate.unit) == rivals.end()) rivals.push_back(other.candidate.unit);
  }
  const bool home_decided = home_city_.valid() &&
                            (registry_.IsWithin(best.candidate.unit, home_city_) ||
                             (home_province_.valid() && registry_.IsWithin(best.candidate.unit, home_province_)));
  bool decided_by_home = false;
  if (!rivals.empty()) {
    double gap = best.score - scored[1].score;
    for (const Scored& other : scored) {
      if (other.candidate.unit == rivals.front()) {
        gap = best.score - other.score;
        break;
      }
    }
    decided_by_home = home_decided && gap >= 1;
  }
  if (!rivals.empty() && !decided_by_home) {
    result.status = MatchStatus::kAmbiguous;
    result.alternatives.assign(rivals.begin(), rivals.begin() + std::min<size_t>(rivals.size(), 5));
    result.confidence = 1.0 / static_cast<double>(1 + rivals.size());
  } else {
    result.status = MatchStatus::kMatched;
    double confidence = best.contradictions > 0 ? 0.5 : best.candidate.short_form ? 0.9 : 0.97;
    if (decided_by_home) {
      confidence = registry_.IsWithin(best.candidate.unit, home_city_) ? 0.7 : 0.55;
      result.alternatives.assign(rivals.begin(), rivals.begin() + std::min<size_t>(rivals.size(), 5));
    }
    result.confidence = confidence;
  }
  // A former name in the chain that led here.
  for (const Mention& mention : mentions) {
    for (const Candidate& candidate : mention.candidates) {
      if (candidate.former != nullptr && Agrees(candidate.unit, best.candidate.unit)) {
        result.formerly = candidate.former;
        break;
      }
    }
    if (result.formerly != nullptr) break;
  }
  // Detail below the community (roads, numbers, compounds) is not matched by this version.
  const std::string_view rest = text.substr(mentions[best.mention].end);
  for (size_t at = 0; at < rest.size() && result.status == MatchStatus::kMatched;
       at += CodePointLength(static_cast<unsigned char>(rest[at]))) {
    if (StartsWithAny(rest.substr(at), kDetailMarkers)) {
      result.status = MatchStatus::kPartial;
      result.reason = "below the community: roads, compounds and buildings are not matched yet";
    }
  }
  return result;
}

}  // namespace pingan
