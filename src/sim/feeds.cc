#include "sim/feeds.h"

#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <map>
#include <queue>
#include <span>

#include "absl/time/time.h"
#include "address/names.h"
#include "core/rng.h"
#include "core/status.h"
#include "core/strings.h"
#include "core/text.h"
#include "nlohmann/json.hpp"
#include "sim/fake_text.h"

namespace pingan {
namespace {

namespace fs = std::filesystem;

// Bumped whenever the generator's output changes, so that `pingan demo` regenerates.
constexpr int kFeedsVersion = 1;
constexpr double kChangedResend = 0.03, kIdenticalResend = 0.01, kBadShare = 0.005;

// ---------------------------------------------------------------------------------------------
// Event types: rates (INDICATORS.md, per 1,000 residents per year) and patterns

enum class Hours : uint8_t { kDay, kEvening, kNight, kOffice, kTraffic };
enum class Season : uint8_t { kNone, kSummer, kWinter };
enum class Week : uint8_t { kFlat, kWeekend, kOffice };
enum class Where : uint8_t { kHome, kWork, kStreet, kCommunity };

struct TypeSpec {
  std::string_view type;
  std::string_view source;
  double rate;            // per 1,000 residents per year
  double floating;        // weight of a floating resident relative to a resident when placing
  double enterprises;     // weight of an enterprise when placing
  Hours hours;
  Season season;
  Week week;
  Where where;
};

constexpr TypeSpec kTypes[] = {
    {"criminal.homicide", "police", 0.005, 0.6, 0, Hours::kNight, Season::kNone, Week::kFlat, Where::kHome},
    {"criminal.telecom_fraud", "police", 1.225, 0.5, 0, Hours::kDay, Season::kNone, Week::kFlat, Where::kHome},
    {"criminal.theft", "police", 1.05, 2.0, 0, Hours::kDay, Season::kNone, Week::kFlat, Where::kStreet},
    {"criminal.robbery", "police", 0.10, 1.5, 0, Hours::kNight, Season::kNone, Week::kFlat, Where::kStreet},
    {"criminal.vice", "police", 0.30, 1.5, 0, Hours::kNight, Season::kNone, Week::kWeekend, Where::kWork},
    {"criminal.other", "police", 0.82, 0.8, 0, Hours::kDay, Season::kNone, Week::kFlat, Where::kHome},
    {"dispute.call", "police", 50, 2.0, 0, Hours::kEvening, Season::kNone, Week::kWeekend, Where::kHome},
    {"death.suicide", "police", 0.08, 0.5, 0, Hours::kNight, Season::kNone, Week::kFlat, Where::kHome},
    {"death.drowning", "police", 0.04, 0.5, 0, Hours::kDay, Season::kSummer, Week::kWeekend, Where::kCommunity},
    {"death.other", "police", 0.03, 0.5, 0, Hours::kDay, Season::kNone, Week::kFlat, Where::kHome},
    {"petition.visit", "petition", 4, 0.4, 0, Hours::kOffice, Season::kNone, Week::kOffice, Where::kCommunity},
    {"petition.letter", "petition", 6, 0.4, 0, Hours::kDay, Season::kNone, Week::kFlat, Where::kCommunity},
    {"litigation.civil", "court", 17, 0.6, 0, Hours::kOffice, Season::kNone, Week::kOffice, Where::kHome},
    {"litigation.administrative", "court", 1, 0.3, 0, Hours::kOffice, Season::kNone, Week::kOffice, Where::kHome},
    {"litigation.criminal", "court", 2, 1.0, 0, Hours::kOffice, Season::kNone, Week::kOffice, Where::kHome},
    {"litigation.mediation", "court", 5, 0.6, 0, Hours::kOffice, Season::kNone, Week::kOffice, Where::kHome},
    {"traffic.accident", "traffic", 5, 0.5, 0, Hours::kTraffic, Season::kNone, Week::kFlat, Where::kStreet},
    {"fire.fire", "fire", 0.6, 0.5, 2, Hours::kEvening, Season::kWinter, Week::kFlat, Where::kHome},
    {"fire.alarm", "fire", 2, 0.5, 2, Hours::kEvening, Season::kWinter, Week::kFlat, Where::kHome},
    {"safety.accident", "safety", 0.03, 0.5, 20, Hours::kOffice, Season::kNone, Week::kOffice, Where::kWork},
    {"labour.wage_arrears", "labour", 1, 2.0, 10, Hours::kOffice, Season::kNone, Week::kOffice, Where::kWork},
};
constexpr size_t kTypeCount = std::size(kTypes);

size_t TypeNumber(std::string_view type) {
  for (size_t index = 0; index < kTypeCount; ++index) {
    if (kTypes[index].type == type) return index;
  }
  return kTypeCount;
}

// Hour-of-day weights.
constexpr std::array<double, 24> HourWeights(Hours hours) {
  switch (hours) {
    case Hours::kDay:
      return {1, 1, 1, 1, 1, 1, 2, 4, 6, 8, 9, 9, 8, 8, 9, 9, 9, 8, 7, 6, 5, 4, 3, 2};
    case Hours::kEvening:
      return {4, 3, 2, 1, 1, 1, 1, 2, 3, 4, 5, 6, 6, 6, 6, 6, 7, 8, 10, 12, 12, 11, 9, 6};
    case Hours::kNight:
      return {8, 8, 7, 6, 4, 2, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3, 3, 4, 5, 6, 7, 8, 9, 9};
    case Hours::kOffice:
      return {0, 0, 0, 0, 0, 0, 0, 0, 2, 10, 10, 8, 3, 6, 10, 10, 8, 2, 0, 0, 0, 0, 0, 0};
    case Hours::kTraffic:
      return {2, 1, 1, 1, 1, 2, 4, 10, 12, 7, 5, 5, 5, 5, 5, 6, 8, 11, 12, 8, 5, 4, 3, 2};
  }
  return {};
}

// Spring Festival (春节) dates: the dip around it.
constexpr absl::CivilDay kSpringFestivals[] = {
    absl::CivilDay(2018, 2, 16), absl::CivilDay(2019, 2, 5),  absl::CivilDay(2020, 1, 25), absl::CivilDay(2021, 2, 12), absl::CivilDay(2022, 2, 1),  absl::CivilDay(2023, 1, 22),
    absl::CivilDay(2024, 2, 10), absl::CivilDay(2025, 1, 29), absl::CivilDay(2026, 2, 17), absl::CivilDay(2027, 2, 6),  absl::CivilDay(2028, 1, 26), absl::CivilDay(2029, 2, 13),
    absl::CivilDay(2030, 2, 3)};

// Days from the nearest Spring Festival (negative before it).
int64_t DaysFromFestival(absl::CivilDay day) {
  int64_t best = 1000;
  for (absl::CivilDay festival : kSpringFestivals) {
    int64_t delta = day - festival;
    if (std::abs(delta) < std::abs(best)) best = delta;
  }
  return best;
}

// The pattern of a type on a day, before normalisation and trend.
double DayFactor(const TypeSpec& spec, absl::CivilDay day) {
  double factor = 1;
  const int month = day.month();
  if (spec.season == Season::kSummer) {
    factor *= month >= 6 && month <= 8 ? 3.0 : (month == 5 || month == 9) ? 1.5 : month <= 2 || month == 12 ? 0.3 : 0.7;
  } else if (spec.season == Season::kWinter) {
    factor *= month <= 2 || month == 12 ? 1.6 : month >= 6 && month <= 8 ? 0.7 : 1.0;
  }
  const absl::Weekday weekday = absl::GetWeekday(day);
  const bool weekend = weekday == absl::Weekday::saturday || weekday == absl::Weekday::sunday;
  if (spec.week == Week::kWeekend && weekend) factor *= 1.4;
  if (spec.week == Week::kOffice && weekend) factor *= 0.08;
  const int64_t festival = DaysFromFestival(day);
  if (spec.type == "fire.alarm" || spec.type == "fire.fire") {
    if (festival >= -1 && festival <= 5) factor *= 2.0;  // fireworks
  } else if (spec.type == "labour.wage_arrears" && festival >= -30 && festival < -7) {
    factor *= 2.5;  // wages claimed before the holiday
  } else if (festival >= -7 && festival <= 14) {
    factor *= spec.week == Week::kOffice && festival >= -2 && festival <= 7 ? 0.1 : 0.55;  // people go home
  }
  return factor;
}

// Telecom fraud halves over the last 12 months of the window (a campaign), within a month.
double Trend(const TypeSpec& spec, absl::CivilDay day, absl::CivilDay to) {
  if (spec.type != "criminal.telecom_fraud") return 1;
  const int64_t into = day - (to - 365);
  if (into <= 0) return 1;
  return into >= 30 ? 0.5 : 1 - 0.5 * static_cast<double>(into) / 30;
}

uint64_t Poisson(Rng& rng, double mean) {
  if (mean <= 0) return 0;
  if (mean > 30) return static_cast<uint64_t>(std::max(0.0, std::round(mean + std::sqrt(mean) * rng.Normal())));
  const double limit = std::exp(-mean);
  uint64_t count = 0;
  for (double product = rng.Uniform(); product > limit; product *= rng.Uniform()) ++count;
  return count;
}

uint64_t KeyOf(std::string_view text) {
  uint64_t key = 1469598103934665603ULL;
  for (char c : text) key = (key ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  return key;
}

// ---------------------------------------------------------------------------------------------
// The city: grids with their names, buildings by kind and placing weights per type

struct GridInfo {
  UnitId grid, community, town, district;
  uint32_t town_slot = 0;
  bool named_community = true;
  std::vector<UnitId> homes, workplaces, houses;  // compound buildings, road buildings, village houses
};

struct TownInfo {
  std::string text;      // 西湖街道
  std::string district;  // the district as named today
  // Until each date (exclusive), the district name records used then (江干区 until 2021-04-09).
  std::vector<std::pair<absl::CivilDay, std::string>> former;
  const std::string& DistrictOn(absl::CivilDay day) const {
    for (const auto& [until, name] : former) {
      if (day < until) return name;
    }
    return district;
  }
};

// The towns of a merged district when the history names none (its piece takes "all of it"):
// 下城区's streets, listed in config/history.toml's comment.
struct MergedTowns {
  std::string_view code;
  std::initializer_list<std::string_view> towns;
};
const MergedTowns kMergedTowns[] = {{"330103", {"天水", "武林", "长庆", "潮鸣", "朝晖", "文晖", "东新", "石桥"}}};

absl::CivilDay ParseDay(std::string_view text) {
  absl::CivilDay day;
  return absl::ParseCivilTime(absl::string_view(text.data(), text.size()), &day) ? day : absl::CivilDay(1900, 1, 1);
}

class City {
 public:
  City(const Registry& registry, UnitId city, uint64_t seed) : registry_(registry) {
    absl::flat_hash_map<uint32_t, uint32_t> town_slots;
    for (UnitId grid : registry.Descendants(city, Level::kGrid)) {
      GridInfo info{.grid = grid};
      info.community = registry.AncestorAt(grid, Level::kCommunity);
      if (!info.community.valid()) continue;
      info.town = registry.stat_parent(info.community);
      info.district = registry.stat_parent(info.town);
      if (registry.level(info.town) != Level::kTown || registry.level(info.district) != Level::kDistrict) continue;
      info.named_community = registry.short_name(info.community).find("虚拟") == std::string_view::npos;
      auto [slot, fresh] = town_slots.try_emplace(info.town.value, static_cast<uint32_t>(towns_.size()));
      if (fresh) towns_.push_back(TownInfo{.text = TownText(registry, info.town), .district = registry.name(info.district)});
      info.town_slot = slot->second;
      for (UnitId building : registry.children(grid)) {
        if (registry.level(building) != Level::kBuilding) continue;
        const BuildingInfo& made = registry.building(building);
        if (made.compound != UINT32_MAX) {
          info.homes.push_back(building);
        } else if (made.road != UINT32_MAX && EndsWith(registry.roads()[made.road].name, "村")) {
          info.houses.push_back(building);
        } else {
          info.workplaces.push_back(building);
        }
      }
      grids_.push_back(std::move(info));
    }
    AddFormerNames(town_slots);
    for (const GridInfo& info : grids_) community_names_.try_emplace(info.community.value, DisplayName(registry.name(info.community)));
    // Hot spots: a few communities 3-5 times worse in one type.
    std::vector<UnitId> communities;
    for (const GridInfo& info : grids_) {
      if (communities.empty() || communities.back() != info.community) communities.push_back(info.community);
    }
    for (size_t type = 0; type < kTypeCount; ++type) {
      std::string_view id = kTypes[type].type;
      if (id != "criminal.theft" && id != "dispute.call" && id != "criminal.telecom_fraud" && id != "criminal.vice" &&
          id != "petition.visit" && id != "fire.alarm" && id != "labour.wage_arrears") {
        continue;
      }
      Rng rng = Rng::Derive(seed, KeyOf(id) ^ 0x407590);
      const size_t count = std::max<size_t>(3, communities.size() / 400);
      for (size_t index = 0; index < count && !communities.empty(); ++index) {
        hot_spots_.push_back({type, communities[rng.Int(0, communities.size() - 1)], rng.Uniform(3, 5)});
      }
    }
    // Cumulative placing weights per type.
    for (size_t type = 0; type < kTypeCount; ++type) {
      std::vector<double>& cumulative = cumulative_[type];
      cumulative.reserve(grids_.size());
      double sum = 0;
      for (const GridInfo& info : grids_) {
        const UnitFigures& figures = registry.own_figures(info.grid);
        double weight = static_cast<double>(figures.resident) + kTypes[type].floating * static_cast<double>(figures.floating) +
                        kTypes[type].enterprises * static_cast<double>(figures.enterprises);
        for (const HotSpot& spot : hot_spots_) {
          if (spot.type == type && spot.community == info.community) weight *= spot.factor;
        }
        sum += std::max(weight, 1e-3);
        cumulative.push_back(sum);
      }
    }
  }

  bool empty() const { return grids_.empty(); }
  int64_t residents() const {
    int64_t sum = 0;
    for (const GridInfo& info : grids_) sum += registry_.own_figures(info.grid).resident;
    return sum;
  }
  const GridInfo& PickGrid(Rng& rng, size_t type) const {
    const std::vector<double>& cumulative = cumulative_[type];
    const double at = rng.Uniform() * cumulative.back();
    size_t index = static_cast<size_t>(std::upper_bound(cumulative.begin(), cumulative.end(), at) - cumulative.begin());
    return grids_[std::min(index, grids_.size() - 1)];
  }
  const TownInfo& town(const GridInfo& info) const { return towns_[info.town_slot]; }
  const std::string& community_name(const GridInfo& info) const { return community_names_.at(info.community.value); }
  const Registry& registry() const { return registry_; }

 private:
  struct HotSpot {
    size_t type;
    UnitId community;
    double factor;
  };

  void AddFormerNames(const absl::flat_hash_map<uint32_t, uint32_t>& town_slots) {
    const Registry& r = registry_;
    for (const HistoryChange& change : r.history().changes()) {
      if (change.level != Level::kDistrict) continue;
      const absl::CivilDay until = ParseDay(change.date);
      for (const HistoryPiece& piece : change.pieces) {
        std::optional<UnitId> successor = r.Find(piece.successor);
        if (!successor) continue;
        std::vector<std::string> names(piece.towns.begin(), piece.towns.end());
        std::vector<UnitId> towns;
        if (names.empty() && change.kind == ChangeKind::kRenamed) {
          for (UnitId town : r.children(*successor)) towns.push_back(town);
        } else if (names.empty()) {
          for (const MergedTowns& merged : kMergedTowns) {
            if (change.code.ToString().substr(0, 6) == merged.code) names.assign(merged.towns.begin(), merged.towns.end());
          }
        }
        for (const std::string& name : names) {
          if (auto town = r.ChildNamed(*successor, name)) towns.push_back(*town);
        }
        for (UnitId town : towns) {
          if (auto slot = town_slots.find(town.value); slot != town_slots.end()) {
            auto& former = towns_[slot->second].former;
            former.emplace_back(until, change.name);
            std::sort(former.begin(), former.end());
          }
        }
      }
    }
  }

  const Registry& registry_;
  std::vector<GridInfo> grids_;
  std::vector<TownInfo> towns_;
  absl::flat_hash_map<uint32_t, std::string> community_names_;
  std::vector<HotSpot> hot_spots_;
  std::array<std::vector<double>, kTypeCount> cumulative_;
};

// ---------------------------------------------------------------------------------------------
// One record as generated (the canonical content; each source writes it in its own style)

enum class Bad : uint8_t {
  kNone, kMissingId, kUnknownType, kBadTime, kFutureTime, kInvalidUtf8, kOversized, kBrokenJson,
  kNotObject, kWrongKind, kTooFewColumns,
};

struct Event {
  uint8_t type = 0;
  absl::CivilSecond at;     // occurred, city time
  absl::CivilSecond sent;   // when this version is sent (orders the file)
  uint64_t order = 0;       // ties
  std::string id;
  std::string address;
  size_t admin_bytes = 0;   // the leading part of `address` naming units (浙江省杭州市西湖区...)
  std::optional<std::pair<double, double>> point;
  std::string code;         // a 27-digit code sent with the record
  std::string truth;        // 27-digit code of the place generated
  // Attributes (negative / empty: absent).
  int8_t solved = -1, succeeded = -1, collective = -1, beyond_level = -1, repeat = -1;
  int32_t deaths = -1, injuries = -1, workers = -1;
  double loss_yuan = -1, amount_yuan = -1;
  std::string reporter_name, reporter_phone, subject_name, id_number;
  uint8_t closing = 0;      // court: 0 审理中, 1 判决, 2 调解; police: 0 在办, 1 已破案
  bool withdrawn = false;
  Bad bad = Bad::kNone;
  std::string_view wrong_attribute;  // kWrongKind: the numeric attribute written as text
};

struct PendingLater {
  bool operator()(const Event& a, const Event& b) const { return std::tie(a.sent, a.order) > std::tie(b.sent, b.order); }
};

// ---------------------------------------------------------------------------------------------
// Writing: time formats, CSV and JSON fields, gzip files

// absl::FormatTime's %Y (%E4Y) %m %d %H %M %S for a city time; other characters as they are.
void FormatTime(std::string_view format, absl::CivilSecond at, std::string& out) {
  char buffer[8];
  for (size_t index = 0; index < format.size(); ++index) {
    if (format[index] != '%' || index + 1 == format.size()) {
      out.push_back(format[index]);
      continue;
    }
    int value = 0, width = 2;
    if (format.substr(index + 1, 3) == "E4Y") index += 2;  // %E4Y: the year in four digits, as %Y
    switch (format[++index]) {
      case 'Y': value = static_cast<int>(at.year()), width = 4; break;
      case 'm': value = at.month(); break;
      case 'd': value = at.day(); break;
      case 'H': value = at.hour(); break;
      case 'M': value = at.minute(); break;
      case 'S': value = at.second(); break;
      default: out.push_back(format[index]); continue;
    }
    for (int digit = width - 1; digit >= 0; --digit, value /= 10) buffer[digit] = static_cast<char>('0' + value % 10);
    out.append(buffer, width);
  }
}

constexpr std::string_view kIsoFormat = "%Y-%m-%dT%H:%M:%S+08:00";

void AppendCsvField(std::string& out, std::string_view value) {
  const bool plain = std::none_of(value.begin(), value.end(), [](char c) { return c == ',' || c == '"' || c == '\r' || c == '\n'; });
  if (plain) {
    out.append(value);
    return;
  }
  out.push_back('"');
  for (char c : value) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

void AppendJsonString(std::string& out, std::string_view value) {
  out.push_back('"');
  for (char c : value) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<int>(c));
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

std::string Number(double value) {
  if (value == std::floor(value) && std::fabs(value) < 1e15) return std::to_string(static_cast<int64_t>(value));
  return fmt::format("{:.2f}", value);
}

// A gzip file written under a temporary name and renamed when closed.
class GzipFile {
 public:
  absl::Status Open(const fs::path& path, int level) {
    path_ = path;
    lines_ = 0;
    ok_ = true;
    temporary_ = path.string() + ".tmp-" + std::to_string(getpid());
    file_ = gzopen(temporary_.c_str(), Cat("wb", level).c_str());
    if (file_ == nullptr) return absl::UnavailableError(Cat("cannot write ", temporary_));
    gzbuffer(file_, 1 << 20);
    return absl::OkStatus();
  }
  bool is_open() const { return file_ != nullptr; }
  // Appends a line (a newline is added).
  void Line(std::string_view line) {
    buffer_.append(line);
    buffer_.push_back('\n');
    ++lines_;
    if (buffer_.size() >= (1 << 20)) Flush();
  }
  absl::Status Close() {
    Flush();
    const int closed = gzclose(file_);
    file_ = nullptr;
    if (!ok_ || closed != Z_OK) return absl::DataLossError(Cat("writing ", temporary_, " failed"));
    std::error_code error;
    fs::rename(temporary_, path_, error);
    if (error) return absl::UnavailableError(Cat("cannot rename ", temporary_, ": ", error.message()));
    return absl::OkStatus();
  }
  int64_t lines() const { return lines_; }
  ~GzipFile() {
    if (file_ != nullptr) {
      gzclose(file_);
      std::error_code ignored;
      fs::remove(temporary_, ignored);
    }
  }

 private:
  void Flush() {
    if (!buffer_.empty() && gzwrite(file_, buffer_.data(), static_cast<unsigned>(buffer_.size())) <= 0) ok_ = false;
    buffer_.clear();
  }

  fs::path path_;
  std::string temporary_;
  gzFile file_ = nullptr;
  std::string buffer_;
  int64_t lines_ = 0;
  bool ok_ = true;
};

// ---------------------------------------------------------------------------------------------
// A source's style: its format, its columns in order and the words it writes, with every name
// and value taken from (and checked against) the catalog's mapping

enum class Format : uint8_t { kCsv, kJsonLines };

// What a column holds: a canonical field or an attribute.
struct Column {
  std::string canonical;  // source_id, type, ..., or an attribute name
  bool attribute = false;
  std::string name;       // as the source writes it
  bool nested = false;    // JSON: inside "attributes" (a canonical attribute the mapping does not name)
};

struct SourceWords {
  std::string_view source;
  Format format;
  std::initializer_list<std::string_view> fields;      // canonical fields, in order
  std::initializer_list<std::string_view> attributes;  // in order
  // Status words: open, closed in the source's way (solved, judged), mediated, withdrawn.
  std::string_view open, closed, mediated, withdrawn;
  std::string_view false_word;
};

const SourceWords kSources[] = {
    {"police", Format::kCsv, {"source_id", "type", "occurred_at", "address", "lon", "lat", "status"},
     {"solved", "loss_yuan", "reporter_name", "reporter_phone"}, "在办", "已破案", "", "已撤案", "否"},
    {"traffic", Format::kJsonLines, {"source_id", "type", "occurred_at", "address", "lon", "lat"},
     {"deaths", "injuries", "loss_yuan"}, "", "", "", "", ""},
    {"court", Format::kCsv, {"source_id", "type", "occurred_at", "address", "status"},
     {"succeeded", "subject_name", "id_number"}, "审理中", "判决", "调解", "撤诉", "失败"},
    {"petition", Format::kJsonLines, {"source", "source_id", "type", "occurred_at", "address"},
     {"collective", "beyond_level", "repeat", "reporter_name", "reporter_phone"}, "", "", "", "", "false"},
    {"fire", Format::kJsonLines, {"source_id", "type", "occurred_at", "address", "code"},
     {"deaths", "injuries", "loss_yuan"}, "", "", "", "", ""},
    {"safety", Format::kCsv, {"source", "source_id", "type", "occurred_at", "address", "lon", "lat", "code", "status"},
     {"deaths", "injuries"}, "active", "active", "", "withdrawn", ""},
    {"labour", Format::kJsonLines, {"source_id", "occurred_at", "address"},
     {"workers", "amount_yuan", "reporter_name", "reporter_phone"}, "", "", "", "", ""},
};

struct Style {
  const SourceWords* words = nullptr;
  std::string source;
  std::string time_format;
  std::vector<Column> columns;
  std::array<std::string, kTypeCount> type_codes;  // canonical type -> the source's value
  std::string true_word = "true";
  std::string extension;
};

absl::StatusOr<Style> StyleOf(const Catalog& catalog, const SourceWords& words) {
  const SourceDef* def = nullptr;
  for (const SourceDef& source : catalog.sources) {
    if (source.id == words.source) def = &source;
  }
  if (def == nullptr) return absl::FailedPreconditionError(Cat("the catalog has no source '", words.source, "'"));
  Style style{.words = &words, .source = def->id};
  style.extension = words.format == Format::kCsv ? "csv" : "jsonl";
  const SourceMapping empty;
  const SourceMapping& mapping = def->mapping ? *def->mapping : empty;
  auto drift = [&](std::string_view what) {
    return absl::FailedPreconditionError(Cat("the catalog's mapping of source '", def->id, "' (", mapping.where,
                                             ") does not match the demo feeds: ", what));
  };
  style.time_format = mapping.time_format.empty() ? std::string(kIsoFormat) : mapping.time_format;
  if (!mapping.true_values.empty()) style.true_word = mapping.true_values.front();
  for (std::string_view field : words.fields) {
    Column column{.canonical = std::string(field), .name = std::string(field)};
    if (auto it = mapping.fields.find(column.canonical); it != mapping.fields.end()) column.name = it->second;
    style.columns.push_back(std::move(column));
  }
  for (std::string_view attribute : words.attributes) {
    Column column{.canonical = std::string(attribute), .attribute = true};
    for (const auto& [own, canonical] : mapping.attributes) {
      if (canonical == attribute) column.name = own;
    }
    if (column.name.empty()) {
      column.nested = words.format == Format::kJsonLines;
      column.name = column.nested ? std::string(attribute) : Cat("attr.", attribute);
    }
    style.columns.push_back(std::move(column));
  }
  // Type values: the mapping's codes, or the canonical ids.
  for (size_t type = 0; type < kTypeCount; ++type) {
    if (kTypes[type].source != words.source) continue;
    std::string& code = style.type_codes[type];
    if (std::find(words.fields.begin(), words.fields.end(), "type") == words.fields.end()) {
      // No type field: every record is of the mapping's default type.
      if (mapping.default_type != kTypes[type].type) return drift(Cat("default_type is not ", kTypes[type].type));
      code = mapping.default_type;
      continue;
    }
    if (mapping.types.empty()) code = std::string(kTypes[type].type);
    for (const auto& [own, canonical] : mapping.types) {
      if (canonical == kTypes[type].type && code.empty()) code = own;
    }
    if (code.empty()) return drift(Cat("no type code for ", kTypes[type].type));
  }
  // Status words.
  for (std::string_view word : {words.open, words.closed, words.mediated, words.withdrawn}) {
    if (word.empty() || mapping.statuses.empty()) continue;
    auto it = mapping.statuses.find(std::string(word));
    const std::string_view expected = word == words.withdrawn ? "withdrawn" : "active";
    if (it == mapping.statuses.end() || it->second != expected) return drift(Cat("status '", word, "' is not ", expected));
  }
  if (!words.false_word.empty() && std::find(mapping.true_values.begin(), mapping.true_values.end(),
                                             words.false_word) != mapping.true_values.end()) {
    return drift(Cat("'", words.false_word, "' is a true value"));
  }
  return style;
}

// ---------------------------------------------------------------------------------------------
// The generator

struct Counters {
  std::map<std::string, int64_t> records;
};

class FeedMaker {
 public:
  FeedMaker(const City& city, const FeedOptions& options, const FeedFileCallback& on_file)
      : city_(city), registry_(city.registry()), options_(options), on_file_(on_file) {
    residents_ = static_cast<double>(city.residents());
    const absl::CivilDay now_day =
        options.now > 0 ? absl::ToCivilDay(absl::FromUnixSeconds(options.now), absl::FixedTimeZone(8 * 3600)) : options.to;
    future_base_ = std::max(now_day, options.to);
  }

  // Writes one source's files (by year) and its truth rows.
  absl::Status WriteSource(const Style& style, const fs::path& out_dir, GzipFile& truth, std::vector<FeedFile>& files) {
    style_ = &style;
    std::vector<size_t> types;
    for (size_t type = 0; type < kTypeCount; ++type) {
      if (kTypes[type].source == style.source) types.push_back(type);
    }
    // Per type: the mean pattern over the window, so that the rates hold on average.
    std::vector<double> mean(kTypeCount, 0);
    const int64_t days = options_.to - options_.from + 1;
    for (size_t type : types) {
      for (absl::CivilDay day = options_.from; day <= options_.to; ++day) mean[type] += DayFactor(kTypes[type], day);
      mean[type] /= static_cast<double>(days);
    }
    std::priority_queue<Event, std::vector<Event>, PendingLater> later;
    GzipFile file;
    int64_t year = 0;
    std::vector<Event> today;
    std::string line;
    for (absl::CivilDay day = options_.from; day <= options_.to; ++day) {
      if (day.year() != year) {
        if (file.is_open()) {
          PA_RETURN_IF_ERROR(CloseFile(file, style, year, out_dir, files));
        }
        year = day.year();
        PA_RETURN_IF_ERROR(file.Open(FilePath(style, year, out_dir), options_.gzip_level));
        WriteHeader(file);
      }
      Rng rng = Rng::Derive(options_.seed, KeyOf(style.source) ^ static_cast<uint64_t>(day - absl::CivilDay(1970, 1, 1)) * 0x9E3779B1ULL);
      today.clear();
      for (size_t type : types) {
        const double expected = kTypes[type].rate * residents_ / 1000 / 365.25 * DayFactor(kTypes[type], day) /
                                mean[type] * Trend(kTypes[type], day, options_.to);
        const uint64_t count = Poisson(rng, expected);
        for (uint64_t index = 0; index < count; ++index) today.push_back(Make(rng, type, day));
      }
      std::sort(today.begin(), today.end(), [](const Event& a, const Event& b) { return a.sent < b.sent; });
      for (Event& event : today) event.order = next_order_++;
      const absl::CivilSecond end_of_day = absl::CivilSecond(day + 1);
      size_t next = 0;
      while (next < today.size() || (!later.empty() && later.top().sent < end_of_day)) {
        const bool take_later = !later.empty() && later.top().sent < end_of_day &&
                                (next == today.size() || later.top().sent <= today[next].sent);
        if (take_later) {
          Render(later.top(), line);
          later.pop();
          file.Line(line);
          continue;
        }
        Event& event = today[next++];
        if (rng.Chance(kBadShare)) {
          MakeBad(rng, event);
          Render(event, line);
          file.Line(line);
          continue;
        }
        const double fate = rng.Uniform();
        if (fate < kChangedResend) {
          Event resent = event;
          resent.sent = event.sent + rng.Int(3 * 86400, 120 * 86400);
          if (resent.sent < absl::CivilSecond(options_.to + 1) && Change(rng, event, resent)) {
            resent.order = next_order_++;
            WriteTruth(truth, resent);
            Render(event, line);
            file.Line(line);
            later.push(std::move(resent));
            continue;
          }
        }
        WriteTruth(truth, event);
        if (fate >= kChangedResend && fate < kChangedResend + kIdenticalResend) {
          Event resent = event;
          resent.sent = event.sent + rng.Int(600, 10 * 86400);
          resent.order = next_order_++;
          if (resent.sent < absl::CivilSecond(options_.to + 1)) later.push(std::move(resent));
        }
        Render(event, line);
        file.Line(line);
      }
    }
    return file.is_open() ? CloseFile(file, style, year, out_dir, files) : absl::OkStatus();
  }

 private:
  static fs::path FilePath(const Style& style, int64_t year, const fs::path& out_dir) {
    return out_dir / Cat(style.source, "-", year, ".", style.extension, ".gz");
  }

  absl::Status CloseFile(GzipFile& file, const Style& style, int64_t year, const fs::path& out_dir,
                         std::vector<FeedFile>& files) {
    const int64_t records = file.lines() - (style.words->format == Format::kCsv ? 1 : 0);
    PA_RETURN_IF_ERROR(file.Close());
    files.push_back(FeedFile{style.source, FilePath(style, year, out_dir), records});
    return on_file_ ? on_file_(files.back()) : absl::OkStatus();
  }

  void WriteHeader(GzipFile& file) {
    if (style_->words->format != Format::kCsv) return;
    std::string header;
    for (const Column& column : style_->columns) {
      if (!header.empty()) header.push_back(',');
      AppendCsvField(header, column.name);
    }
    file.Line(header);
  }

  void WriteTruth(GzipFile& truth, const Event& event) {
    truth_line_.clear();
    CatTo(truth_line_, style_->source, ",", event.id, ",", event.truth, ",", kTypes[event.type].type);
    truth.Line(truth_line_);
  }

  // ---- Making one record

  Event Make(Rng& rng, size_t type, absl::CivilDay day) {
    const TypeSpec& spec = kTypes[type];
    Event event;
    event.type = static_cast<uint8_t>(type);
    static const auto kHourTables = [] {
      std::array<std::array<double, 24>, 5> tables{};
      for (int hours = 0; hours < 5; ++hours) tables[hours] = HourWeights(static_cast<Hours>(hours));
      return tables;
    }();
    const auto& weights = kHourTables[static_cast<int>(spec.hours)];
    double total = 0;
    for (double weight : weights) total += weight;
    double at = rng.Uniform() * total;
    int hour = 0;
    while (hour < 23 && at >= weights[hour]) at -= weights[hour++];
    event.at = absl::CivilSecond(day.year(), day.month(), day.day(), hour, static_cast<int>(rng.Int(0, 59)),
                                 static_cast<int>(rng.Int(0, 59)));
    event.sent = event.at + rng.Int(60, 4 * 3600);
    if (event.sent >= absl::CivilSecond(day + 1)) event.sent = absl::CivilSecond(day + 1) - 1;
    event.id = NextId(style_->source, spec.type, day);
    const GridInfo& grid = city_.PickGrid(rng, type);
    Place(rng, spec, grid, day, event);
    Attributes(rng, spec, event);
    return event;
  }

  std::string NextId(std::string_view source, std::string_view type, absl::CivilDay day) {
    const int64_t sequence = ++sequence_;
    if (source == "police") return fmt::format("A3301{:04d}{:08d}", day.year(), sequence);
    if (source == "traffic") return fmt::format("SG{:04d}{:02d}{:02d}{:07d}", day.year(), day.month(), day.day(), sequence);
    if (source == "court") {
      const std::string_view kind = type == "litigation.administrative" ? "行初" : type == "litigation.criminal" ? "刑初"
                                    : type == "litigation.mediation" ? "民诉前调" : "民初";
      return fmt::format("({}){}{}{:06d}号", day.year(), "浙01", kind, sequence);
    }
    if (source == "petition") return fmt::format("XF{:04d}{:08d}", day.year(), sequence);
    if (source == "fire") return fmt::format("HJ{:04d}{:02d}{:07d}", day.year(), day.month(), sequence);
    if (source == "safety") return fmt::format("AQ{:04d}{:06d}", day.year(), sequence);
    return fmt::format("LD{:04d}{:07d}", day.year(), sequence);
  }

  // The admin part of an address: none, the district, city + district, province + city +
  // district; with the town; with the community.
  struct Admin {
    int upper = 1;  // 0 none, 1 district, 2 city + district, 3 province + city + district
    bool town = true;
    bool community = false;
  };

  void AppendAdmin(const GridInfo& grid, absl::CivilDay day, const Admin& admin, std::string& out) const {
    if (admin.upper >= 3) out += "浙江省";
    if (admin.upper >= 2) out += "杭州市";
    if (admin.upper >= 1) out += city_.town(grid).DistrictOn(day);
    if (admin.town) out += city_.town(grid).text;
    if (admin.community && grid.named_community) out += city_.community_name(grid);
  }

  // The place of a record: a building (with entrance and room for some), a road and house
  // number, or the community; written in the source's style.
  void Place(Rng& rng, const TypeSpec& spec, const GridInfo& grid, absl::CivilDay day, Event& event) {
    const std::string_view source = style_->source;
    const Registry& r = registry_;
    if (source == "petition") {
      // Community-level text, often just 街道 + 社区.
      Admin admin{.upper = static_cast<int>(rng.Int(0, 4) == 0 ? 1 : 0), .town = true, .community = grid.named_community};
      event.truth = r.code(grid.named_community ? grid.community : grid.town).ToString();
      AppendAdmin(grid, day, admin, event.address);
      return;
    }
    const std::vector<UnitId>* pool = &grid.homes;
    if (spec.where == Where::kWork && !grid.workplaces.empty()) pool = &grid.workplaces;
    if (spec.where == Where::kStreet && !grid.workplaces.empty() && rng.Chance(0.5)) pool = &grid.workplaces;
    if (pool->empty() || (spec.where == Where::kHome && !grid.houses.empty() && rng.Chance(0.3))) pool = &grid.houses;
    if (pool->empty()) pool = !grid.workplaces.empty() ? &grid.workplaces : !grid.homes.empty() ? &grid.homes : &grid.houses;
    if (pool->empty()) {  // a grid without buildings: the community
      event.truth = r.code(grid.community).ToString();
      AppendAdmin(grid, day, Admin{.upper = 2, .town = true, .community = true}, event.address);
      return;
    }
    const UnitId building = (*pool)[rng.Int(0, static_cast<int64_t>(pool->size()) - 1)];
    const BuildingInfo& info = r.building(building);
    pingan::Place place{.unit = building, .level = Level::kBuilding};
    const double room_share = source == "court" ? 0.85 : source == "police" ? 0.45 : source == "fire" ? 0.3 : 0.05;
    if (info.entrances > 0 && rng.Chance(room_share)) {
      place.level = Level::kRoom;
      place.entrance = static_cast<uint32_t>(rng.Int(1, info.entrances));
      place.room = static_cast<uint32_t>(rng.Int(1, info.floors) * 100 + rng.Int(1, info.rooms_per_floor));
    } else if (info.entrances == 0 && info.compound == UINT32_MAX && rng.Chance(room_share / 3)) {
      place.level = Level::kRoom;
      place.room = static_cast<uint32_t>(rng.Int(1, info.floors) * 100 + rng.Int(1, info.rooms_per_floor));
    }
    event.truth = r.PlaceCode(place).ToString();

    // The detail: compound + 幢 (+ 单元 + 室), or road + 号 (+ 室).
    std::string detail;
    if (info.compound != UINT32_MAX) {
      detail = r.compounds()[info.compound].name;
      if (info.number > 0) CatTo(detail, info.number, rng.Chance(0.7) ? "幢" : "栋");
      if (place.level == Level::kRoom) CatTo(detail, place.entrance, "单元", place.room, "室");
    } else if (info.road != UINT32_MAX) {
      CatTo(detail, r.roads()[info.road].name, info.house_number, "号");
      if (place.level == Level::kRoom) CatTo(detail, place.room, "室");
    }
    const bool village = !grid.houses.empty() && pool == &grid.houses;
    Admin admin;
    if (source == "police") {
      admin = Admin{.upper = static_cast<int>(rng.Int(0, 2)), .town = rng.Chance(0.8), .community = rng.Chance(0.2)};
    } else if (source == "court") {
      admin = Admin{.upper = 3, .town = true, .community = false};
    } else if (source == "traffic") {
      admin = Admin{.upper = 0, .town = false};
    } else {
      admin = Admin{.upper = static_cast<int>(rng.Int(1, 2)), .town = true};
    }
    if (village) admin.town = true;  // a village lane is named after the village: keep its town
    if (source == "traffic") {
      // A point inside the grid's box, with the road's name: placed by the point.
      const BoundingBox& box = r.box(grid.grid);
      if (!box.empty() && rng.Chance(0.9)) {
        event.point = {rng.Uniform(box.min_lon, box.max_lon), rng.Uniform(box.min_lat, box.max_lat)};
        event.truth = r.code(grid.grid).ToString();
        const uint32_t road = info.road != UINT32_MAX ? info.road
                              : info.compound != UINT32_MAX ? r.compounds()[info.compound].road : UINT32_MAX;
        if (road != UINT32_MAX) {
          event.address = r.roads()[road].name;
          if (rng.Chance(0.2)) event.address += "附近";
        }
        return;
      }
      AppendAdmin(grid, day, Admin{.upper = 1, .town = true}, event.address);
      event.address += detail;
      event.truth = r.code(building).ToString();
      return;
    }
    if (source == "fire" && kTypes[event.type].type == "fire.alarm") {
      // Sensors: the building's (or room's) code, usually without text.
      event.code = event.truth;
      if (rng.Chance(0.3)) {
        AppendAdmin(grid, day, admin, event.address);
        event.address += detail;
      }
      return;
    }
    if (source == "safety" && rng.Chance(0.2)) {
      event.code = event.truth;
    } else if ((source == "police" || source == "safety") && rng.Chance(0.06)) {
      // A point near the building instead of a good address.
      event.point = {info.lon + rng.Uniform(-2e-5, 2e-5), info.lat + rng.Uniform(-2e-5, 2e-5)};
      event.truth = r.code(building).ToString();
      if (rng.Chance(0.5)) event.address = rng.Chance(0.5) ? "不详" : city_.town(grid).text + "附近";
      return;
    }
    AppendAdmin(grid, day, admin, event.address);
    event.admin_bytes = event.address.size();
    event.address += detail;
    if (source == "police") Noise(rng, event.address);
  }

  // People's writing: phone numbers, 附近/对面, full-width digits.
  static void Noise(Rng& rng, std::string& address) {
    const double draw = rng.Uniform();
    if (draw < 0.05) {
      address += Cat(" ", PhoneNumber(rng));
    } else if (draw < 0.10) {
      static constexpr std::string_view kNear[] = {"附近", "对面", "旁边", "门口"};
      address += kNear[rng.Int(0, 3)];
    } else if (draw < 0.14) {
      address = ToFullwidth(address);
    }
  }

  void Attributes(Rng& rng, const TypeSpec& spec, Event& event) {
    const std::string_view type = spec.type;
    const std::string_view source = style_->source;
    if (source == "police") {
      if (type.starts_with("criminal.")) {
        const double solve = type == "criminal.homicide" ? 0.95 : type == "criminal.vice" ? 0.9
                           : type == "criminal.robbery" ? 0.8 : type == "criminal.theft" ? 0.45
                           : type == "criminal.telecom_fraud" ? 0.25 : 0.6;
        event.solved = rng.Chance(solve) ? 1 : 0;
        event.closing = static_cast<uint8_t>(event.solved);
      }
      if (type == "criminal.telecom_fraud") event.loss_yuan = std::round(8000 * rng.LogNormal(1.2));
      if (type == "criminal.theft") event.loss_yuan = std::round(1500 * rng.LogNormal(1.0));
      event.withdrawn = rng.Chance(0.01);
      if (rng.Chance(0.35)) {
        event.reporter_name = PersonName(rng);
        event.reporter_phone = PhoneNumber(rng);
      }
    } else if (source == "traffic") {
      const double draw = rng.Uniform();
      event.deaths = draw < 0.0001 ? static_cast<int>(rng.Int(3, 6)) : draw < 0.0006 ? 2 : draw < 0.0081 ? 1 : 0;
      event.injuries = rng.Chance(0.35) ? static_cast<int>(rng.Int(1, 3)) : 0;
      event.loss_yuan = std::round(3000 * rng.LogNormal(1.0));
    } else if (source == "court") {
      event.subject_name = PersonName(rng);
      event.id_number = IdNumber(rng, event.truth.substr(0, 6));
      if (type == "litigation.mediation") {
        event.succeeded = rng.Chance(0.55) ? 1 : 0;
        event.closing = event.succeeded ? 2 : 1;
      } else {
        const double draw = rng.Uniform();
        event.closing = draw < 0.15 ? 0 : draw < 0.6 ? 1 : 2;
        event.withdrawn = draw > 0.97;
      }
    } else if (source == "petition") {
      event.collective = rng.Chance(0.05);
      event.beyond_level = rng.Chance(0.08);
      event.repeat = rng.Chance(0.2);
      if (rng.Chance(0.5)) {
        event.reporter_name = PersonName(rng);
        event.reporter_phone = PhoneNumber(rng);
      }
    } else if (source == "fire" && type == "fire.fire") {
      const double draw = rng.Uniform();
      event.deaths = draw < 0.0005 ? static_cast<int>(rng.Int(3, 5)) : draw < 0.01 ? 1 : 0;
      event.injuries = rng.Chance(0.05) ? static_cast<int>(rng.Int(1, 4)) : 0;
      event.loss_yuan = std::round(20000 * rng.LogNormal(1.3));
    } else if (source == "safety") {
      const double draw = rng.Uniform();
      event.deaths = draw < 0.04 ? static_cast<int>(rng.Int(3, 5)) : draw < 0.1 ? 2 : draw < 0.55 ? 1 : 0;
      event.injuries = static_cast<int>(rng.Int(0, 3));
    } else if (source == "labour") {
      const double draw = rng.Uniform();
      event.workers = draw < 0.4 ? 1 : draw < 0.9 ? static_cast<int>(rng.Int(2, 10)) : static_cast<int>(rng.Int(11, 60));
      event.amount_yuan = std::round(event.workers * 8000 * rng.LogNormal(0.6));
      event.reporter_name = PersonName(rng);
      event.reporter_phone = PhoneNumber(rng);
    }
  }

  // An 18-digit ID number: the district's code, a birth date, a sequence, the ISO 7064 check.
  static std::string IdNumber(Rng& rng, std::string_view region) {
    std::string id = fmt::format("{}{:04d}{:02d}{:02d}9{:02d}", region, rng.Int(1950, 2004), rng.Int(1, 12),
                                 rng.Int(1, 28), rng.Int(0, 99));
    static constexpr int kWeights[] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    int sum = 0;
    for (size_t index = 0; index < 17 && index < id.size(); ++index) sum += (id[index] - '0') * kWeights[index];
    id.push_back("10X98765432"[sum % 11]);
    return id;
  }

  // Makes `first` (sent now) and `final` (re-sent later) two versions of one record that a
  // source would send: solved later, withdrawn later, reclassified, judged later, a corrected
  // count or address. False when the source has nothing to change on this record.
  bool Change(Rng& rng, Event& first, Event& final) {
    const std::string_view source = style_->source;
    const std::string_view type = kTypes[final.type].type;
    const double draw = rng.Uniform();
    if (source == "police") {
      if (draw < 0.35 && final.solved == 1) {  // solved later
        first.solved = 0, first.closing = 0;
        return true;
      }
      if (draw < 0.5 && !final.withdrawn) {  // withdrawn later (撤案)
        final.withdrawn = true;
        return true;
      }
      if (draw < 0.75 && type.starts_with("criminal.") && type != "criminal.other") {  // reclassified
        first.type = static_cast<uint8_t>(TypeNumber("criminal.other"));
        first.loss_yuan = -1;
        return true;
      }
    }
    if (source == "court" && final.closing != 0 && !final.withdrawn && draw < 0.6) {  // judged later
      first.closing = 0, first.succeeded = -1;
      return true;
    }
    if (source == "traffic" && final.injuries > 0 && draw < 0.5) {  // one more injured
      first.injuries -= 1;
      return true;
    }
    if (final.admin_bytes == 0 || final.admin_bytes >= final.address.size() || !final.code.empty() || final.point) {
      return false;
    }
    // A corrected address: the first version named only the units, the detail to be checked.
    first.address = Cat(std::string_view(final.address).substr(0, final.admin_bytes), "（地址待核实）");
    return true;
  }

  bool HasColumn(std::string_view canonical) const {
    for (const Column& column : style_->columns) {
      if (column.canonical == canonical) return true;
    }
    return false;
  }

  void MakeBad(Rng& rng, Event& event) {
    const bool csv = style_->words->format == Format::kCsv;
    std::vector<Bad> kinds = {Bad::kMissingId, Bad::kBadTime, Bad::kFutureTime, Bad::kInvalidUtf8};
    if (HasColumn("type")) kinds.push_back(Bad::kUnknownType);
    if (csv) {
      kinds.push_back(Bad::kTooFewColumns);
    } else {
      kinds.push_back(Bad::kBrokenJson);
      kinds.push_back(Bad::kNotObject);
    }
    for (std::string_view name : {"deaths", "workers", "loss_yuan"}) {
      if (event.wrong_attribute.empty() && HasColumn(name) &&
          (name == "deaths" ? event.deaths : name == "workers" ? event.workers : event.loss_yuan) >= 0) {
        event.wrong_attribute = name;
        kinds.push_back(Bad::kWrongKind);
      }
    }
    event.bad = rng.Chance(0.002) ? Bad::kOversized : kinds[rng.Int(0, static_cast<int64_t>(kinds.size()) - 1)];
    switch (event.bad) {
      case Bad::kMissingId: event.id.clear(); break;
      case Bad::kFutureTime:
        event.at = absl::CivilSecond(future_base_ + rng.Int(3650, 3 * 3650)) + rng.Int(0, 86399);
        break;
      case Bad::kInvalidUtf8: event.address += "\xE6\x9D\xFF\xFE"; break;
      case Bad::kOversized: {
        std::string big;
        while (big.size() <= 70 * 1024) big += event.address.empty() ? "地址不详" : event.address;
        event.address = std::move(big);
        break;
      }
      default: break;
    }
  }

  // ---- Rendering

  // The text of one column (empty: absent); `quoted` false for JSON numbers and booleans.
  std::string_view Value(const Event& event, const Column& column, bool& quoted) {
    quoted = true;
    value_.clear();
    const std::string_view name = column.canonical;
    const SourceWords& words = *style_->words;
    auto boolean = [&](int8_t value) {
      if (value < 0) return std::string_view();
      if (words.format == Format::kJsonLines && words.false_word == "false") quoted = false;
      value_ = value ? style_->true_word : std::string(words.false_word.empty() ? "false" : words.false_word);
      return std::string_view(value_);
    };
    auto number = [&](double value) {
      if (event.bad == Bad::kWrongKind && event.wrong_attribute == name) {
        value_ = Cat("约", Number(value), name == "loss_yuan" ? "元" : "人");
        return std::string_view(value_);
      }
      if (value < 0) return std::string_view();
      quoted = words.format == Format::kCsv;
      value_ = Number(value);
      return std::string_view(value_);
    };
    if (!column.attribute) {
      if (name == "source") return style_->source;
      if (name == "source_id") return event.id;
      if (name == "type") {
        if (event.bad == Bad::kUnknownType) return words.format == Format::kCsv && words.source == "police" ? "0999" : "未知类别";
        return style_->type_codes[event.type];
      }
      if (name == "occurred_at") {
        if (event.bad == Bad::kBadTime) return event.order % 2 ? "待补录" : "2021-13-45 25:61";
        FormatTime(style_->time_format, event.at, value_);
        return value_;
      }
      if (name == "address") return event.address;
      if (name == "lon" || name == "lat") {
        if (!event.point) return {};
        quoted = words.format == Format::kCsv;
        value_ = fmt::format("{:.6f}", name == "lon" ? event.point->first : event.point->second);
        return value_;
      }
      if (name == "code") return event.code;
      if (name == "status") {
        if (event.withdrawn) return words.withdrawn;
        if (event.closing == 2 && !words.mediated.empty()) return words.mediated;
        return event.closing ? words.closed : words.open;
      }
      return {};
    }
    if (name == "solved") return boolean(event.solved);
    if (name == "succeeded") return boolean(event.succeeded);
    if (name == "collective") return boolean(event.collective);
    if (name == "beyond_level") return boolean(event.beyond_level);
    if (name == "repeat") return boolean(event.repeat);
    if (name == "deaths") return number(event.deaths);
    if (name == "injuries") return number(event.injuries);
    if (name == "workers") return number(event.workers);
    if (name == "loss_yuan") return number(event.loss_yuan);
    if (name == "amount_yuan") return number(event.amount_yuan);
    if (name == "reporter_name") return event.reporter_name;
    if (name == "reporter_phone") return event.reporter_phone;
    if (name == "subject_name") return event.subject_name;
    if (name == "id_number") return event.id_number;
    return {};
  }

  void Render(const Event& event, std::string& line) {
    line.clear();
    const auto& columns = style_->columns;
    bool quoted = true;
    if (style_->words->format == Format::kCsv) {
      size_t count = columns.size();
      if (event.bad == Bad::kTooFewColumns) count = std::max<size_t>(2, count / 2);
      for (size_t index = 0; index < count; ++index) {
        if (index > 0) line.push_back(',');
        AppendCsvField(line, Value(event, columns[index], quoted));
      }
      return;
    }
    if (event.bad == Bad::kNotObject) {
      line = Cat("[\"", event.id, "\"]");
      return;
    }
    line.push_back('{');
    // Top-level keys first, then the canonical attributes the mapping does not name, nested.
    for (bool nested : {false, true}) {
      bool opened = false;
      for (const Column& column : columns) {
        if (column.nested != nested) continue;
        std::string_view value = Value(event, column, quoted);
        if (value.empty()) continue;
        if (line.back() != '{') line.push_back(',');
        if (nested && !opened) {
          line += "\"attributes\":{";
          opened = true;
        }
        AppendJsonString(line, column.name);
        line.push_back(':');
        if (quoted) {
          AppendJsonString(line, value);
        } else {
          line.append(value);
        }
      }
      if (opened) line.push_back('}');
    }
    line.push_back('}');
    if (event.bad == Bad::kBrokenJson) line.resize(line.size() / 2);
  }

  const City& city_;
  const Registry& registry_;
  const FeedOptions& options_;
  const FeedFileCallback& on_file_;
  const Style* style_ = nullptr;
  double residents_ = 0;
  absl::CivilDay future_base_;
  int64_t sequence_ = 0;
  uint64_t next_order_ = 0;
  std::string value_, truth_line_;
};

std::string ManifestJson(const FeedOptions& options, const std::vector<FeedFile>& files) {
  nlohmann::json manifest{{"version", kFeedsVersion},
                          {"seed", options.seed},
                          {"scale", options.scale},
                          {"from", absl::FormatCivilTime(options.from)},
                          {"to", absl::FormatCivilTime(options.to)},
                          {"home_city", options.home_city.ToString()}};
  nlohmann::json list = nlohmann::json::array();
  for (const FeedFile& file : files) {
    list.push_back({{"source", file.source}, {"file", file.path.filename().string()}, {"records", file.records}});
  }
  manifest["files"] = std::move(list);
  return manifest.dump(2) + "\n";
}

}  // namespace

absl::StatusOr<std::vector<FeedFile>> WriteDemoFeeds(const Registry& registry, const Catalog& catalog,
                                                     const FeedOptions& options, const fs::path& out_dir,
                                                     const FeedFileCallback& on_file) {
  if (options.to < options.from) return absl::InvalidArgumentError("the feeds' window ends before it starts");
  if (options.gzip_level < 1 || options.gzip_level > 9) return absl::InvalidArgumentError("gzip level must be 1..9");
  std::optional<UnitId> home = registry.Find(options.home_city);
  if (!home || registry.level(*home) != Level::kCity) {
    return absl::InvalidArgumentError(Cat("home city ", options.home_city.ToString(), " is not a city of the registry"));
  }
  std::vector<Style> styles;
  for (const SourceWords& words : kSources) {
    PA_ASSIGN_OR_RETURN(Style style, StyleOf(catalog, words));
    styles.push_back(std::move(style));
  }
  const City city(registry, *home, options.seed);
  if (city.empty()) return absl::FailedPreconditionError("the home city has no grids: build it with the demo city");

  std::error_code error;
  fs::create_directories(out_dir, error);
  if (error) return absl::UnavailableError(Cat("cannot create ", out_dir.string(), ": ", error.message()));
  fs::remove(out_dir / "manifest.json", error);

  std::vector<FeedFile> files;
  GzipFile truth;
  PA_RETURN_IF_ERROR(truth.Open(out_dir / "truth.csv.gz", options.gzip_level));
  truth.Line("source,source_id,code,type");
  FeedMaker maker(city, options, on_file);
  for (const Style& style : styles) PA_RETURN_IF_ERROR(maker.WriteSource(style, out_dir, truth, files));
  const int64_t truth_rows = truth.lines() - 1;
  PA_RETURN_IF_ERROR(truth.Close());
  files.push_back(FeedFile{"truth", out_dir / "truth.csv.gz", truth_rows});

  const fs::path manifest = out_dir / "manifest.json";
  const std::string temporary = Cat(manifest.string(), ".tmp-", getpid());
  {
    std::ofstream out(temporary, std::ios::binary);
    out << ManifestJson(options, files);
    if (!out.flush()) return absl::UnavailableError(Cat("cannot write ", temporary));
  }
  fs::rename(temporary, manifest, error);
  if (error) return absl::UnavailableError(Cat("cannot rename ", temporary, ": ", error.message()));
  return files;
}

std::optional<std::vector<FeedFile>> ExistingDemoFeeds(const FeedOptions& options, const fs::path& out_dir) {
  std::ifstream in(out_dir / "manifest.json");
  if (!in) return std::nullopt;
  nlohmann::json manifest = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!manifest.is_object()) return std::nullopt;
  const nlohmann::json expected = nlohmann::json::parse(ManifestJson(options, {}));
  for (const char* key : {"version", "seed", "scale", "from", "to", "home_city"}) {
    if (!manifest.contains(key) || manifest[key] != expected[key]) return std::nullopt;
  }
  std::vector<FeedFile> files;
  if (!manifest.contains("files") || !manifest["files"].is_array()) return std::nullopt;
  for (const nlohmann::json& entry : manifest["files"]) {
    if (!entry.is_object() || !entry.value("file", nlohmann::json()).is_string()) return std::nullopt;
    FeedFile file{entry.value("source", ""), out_dir / entry["file"].get<std::string>(), entry.value("records", int64_t{0})};
    std::error_code error;
    if (!fs::is_regular_file(file.path, error)) return std::nullopt;
    files.push_back(std::move(file));
  }
  return files;
}

}  // namespace pingan
