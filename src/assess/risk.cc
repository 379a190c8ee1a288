#include "assess/risk.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <numeric>
#include <thread>

#include <toml++/toml.h>

#include "core/status.h"
#include "core/strings.h"

namespace pingan {
namespace {

constexpr std::string_view kGradeNames[kGrades] = {"red", "orange", "yellow", "blue", "green"};
constexpr std::string_view kGradeZh[kGrades] = {"红", "橙", "黄", "蓝", "绿"};

absl::Status ConfigError(const std::filesystem::path& file, const toml::source_region& where, std::string_view key,
                         std::string_view what) {
  return absl::InvalidArgumentError(Cat(file.string(), ":", where.begin.line, ": ", key, ": ", what));
}

// Reads a non-negative number at `key` of `table` into `out` (absent: unchanged).
absl::Status ReadNumber(const std::filesystem::path& file, const toml::table& table, std::string_view key,
                        double* out) {
  const toml::node* node = table.get(key);
  if (node == nullptr) return absl::OkStatus();
  const std::optional<double> value = node->value<double>();
  if (!value || !std::isfinite(*value) || *value < 0) return ConfigError(file, node->source(), key, "a number >= 0");
  *out = *value;
  return absl::OkStatus();
}

absl::Status ReadInt(const std::filesystem::path& file, const toml::table& table, std::string_view key, int min,
                     int max, int* out) {
  const toml::node* node = table.get(key);
  if (node == nullptr) return absl::OkStatus();
  const std::optional<int64_t> value = node->value<int64_t>();
  if (!value || *value < min || *value > max) {
    return ConfigError(file, node->source(), key, Cat("an integer from ", min, " to ", max));
  }
  *out = static_cast<int>(*value);
  return absl::OkStatus();
}

bool Touch(const BoundingBox& a, const BoundingBox& b) {
  constexpr double kSlack = 1e-9;  // shared edges of a tessellation, up to rounding
  return a.min_lon <= b.max_lon + kSlack && b.min_lon <= a.max_lon + kSlack && a.min_lat <= b.max_lat + kSlack &&
         b.min_lat <= a.max_lat + kSlack;
}

// Neighbours of each unit: the other units of the list whose boxes touch or overlap its own
// (queen contiguity of the tessellation); units without a box have none.
Neighbours BoxNeighbours(const Registry& registry, const std::vector<UnitId>& units) {
  std::vector<uint32_t> order(units.size());
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    return registry.box(units[a]).min_lon < registry.box(units[b]).min_lon;
  });
  std::vector<std::vector<uint32_t>> lists(units.size());
  for (size_t at = 0; at < order.size(); ++at) {
    const BoundingBox& box = registry.box(units[order[at]]);
    if (box.empty()) continue;
    for (size_t next = at + 1; next < order.size(); ++next) {
      const BoundingBox& other = registry.box(units[order[next]]);
      if (other.min_lon > box.max_lon + 1e-9) break;
      if (other.empty() || !Touch(box, other)) continue;
      lists[order[at]].push_back(order[next]);
      lists[order[next]].push_back(order[at]);
    }
  }
  for (auto& list : lists) std::sort(list.begin(), list.end());
  return Neighbours::FromLists(lists);
}

}  // namespace

std::string_view GradeName(Grade grade) { return kGradeNames[static_cast<int>(grade)]; }
std::string_view GradeZh(Grade grade) { return kGradeZh[static_cast<int>(grade)]; }
std::optional<Grade> ParseGrade(std::string_view name) {
  for (int at = 0; at < kGrades; ++at) {
    if (kGradeNames[at] == name) return static_cast<Grade>(at);
  }
  return std::nullopt;
}

absl::StatusOr<RiskSettings> LoadRiskSettings(const std::filesystem::path& config_dir, const Catalog& catalog) {
  RiskSettings settings;
  settings.weights.assign(catalog.key_types.size(), 1.0);
  const std::filesystem::path file = config_dir / "risk.toml";
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return settings;
  toml::table root;
  try {
    root = toml::parse_file(file.string());
  } catch (const toml::parse_error& error) {
    return absl::InvalidArgumentError(Cat(file.string(), ":", error.source().begin.line, ": ", error.description()));
  }
  for (const auto& [key, node] : root) {
    if (key != "complexity" && key != "weights" && key != "bands" && key != "warnings" && key != "hysteresis") {
      return ConfigError(file, node.source(), key.str(), "not a setting (complexity, weights, bands, hysteresis, warnings)");
    }
  }
  if (const toml::table* complexity = root["complexity"].as_table()) {
    for (auto [name, out] : {std::pair{"per", &settings.per}, std::pair{"resident", &settings.resident},
                             std::pair{"floating", &settings.floating}, std::pair{"enterprises", &settings.enterprises},
                             std::pair{"houses", &settings.houses}}) {
      PA_RETURN_IF_ERROR(ReadNumber(file, *complexity, name, out));
    }
    if (settings.per <= 0) return ConfigError(file, complexity->source(), "complexity.per", "must be > 0");
  }
  if (const toml::table* weights = root["weights"].as_table()) {
    for (const auto& [key, node] : *weights) {
      size_t at = 0;
      while (at < catalog.key_types.size() && catalog.key_types[at].id != key.str()) ++at;
      if (at == catalog.key_types.size()) return ConfigError(file, node.source(), key.str(), "not a key type of the catalog");
      PA_RETURN_IF_ERROR(ReadNumber(file, *weights, key.str(), &settings.weights[at]));
    }
  }
  if (const toml::table* bands = root["bands"].as_table()) {
    if (const toml::node* method = bands->get("method")) {
      const auto name = method->value<std::string>();
      if (!name || (*name != "quantile" && *name != "fixed")) {
        return ConfigError(file, method->source(), "bands.method", "quantile or fixed");
      }
      settings.quantile = *name == "quantile";
    }
    const char* names[] = {"red", "orange", "yellow", "blue"};
    for (int at = 0; at < 4; ++at) PA_RETURN_IF_ERROR(ReadNumber(file, *bands, names[at], &settings.bands[at]));
    for (int at = 1; at < 4; ++at) {
      const bool ordered = settings.quantile ? settings.bands[at] >= settings.bands[at - 1]
                                             : settings.bands[at] <= settings.bands[at - 1];
      if (!ordered) {
        return ConfigError(file, bands->source(), "bands",
                           settings.quantile ? "shares must grow from red to blue (cumulative)"
                                             : "thresholds must fall from red to blue");
      }
    }
    if (settings.quantile && settings.bands[3] > 1) return ConfigError(file, bands->source(), "bands", "shares <= 1");
    PA_RETURN_IF_ERROR(ReadNumber(file, *bands, "hysteresis", &settings.hysteresis));
  }
  PA_RETURN_IF_ERROR(ReadNumber(file, root, "hysteresis", &settings.hysteresis));
  if (const toml::table* warnings = root["warnings"].as_table()) {
    if (const toml::array* grades = (*warnings)["grades"].as_array()) {
      settings.warn_grades.clear();
      for (const toml::node& node : *grades) {
        const auto name = node.value<std::string>();
        const std::optional<Grade> grade = name ? ParseGrade(*name) : std::nullopt;
        if (!grade) return ConfigError(file, node.source(), "warnings.grades", "red, orange, yellow, blue or green");
        settings.warn_grades.push_back(*grade);
      }
    }
    PA_RETURN_IF_ERROR(ReadInt(file, *warnings, "repeat_after", 1, 1000, &settings.repeat_after));
    PA_RETURN_IF_ERROR(ReadInt(file, *warnings, "cap_per_town", 1, 1000000, &settings.cap_per_town));
    PA_RETURN_IF_ERROR(ReadInt(file, *warnings, "route_grids", 1, 100, &settings.route_grids));
  }
  return settings;
}

absl::StatusOr<std::unique_ptr<RiskEngine>> RiskEngine::Create(const Cube& cube, RiskSettings settings) {
  const Registry& registry = cube.registry();
  const Catalog& catalog = cube.catalog();
  std::unique_ptr<RiskEngine> engine(new RiskEngine());
  engine->key_types_ = catalog.key_types.size();
  if (settings.weights.size() != engine->key_types_) settings.weights.assign(engine->key_types_, 1.0);
  for (size_t k = 0; k < engine->key_types_; ++k) {
    const size_t column = cube.KeyTypeColumn(k);
    if (cube.column(column).is_sum) engine->has_sums_ = true;
    engine->key_columns_.push_back(column);
  }
  engine->settings_ = std::move(settings);
  engine->index_.assign(registry.size(), -1);
  const RiskSettings& s = engine->settings_;
  for (size_t slot = 0; slot < kLevels.size(); ++slot) {
    std::vector<UnitId>& units = engine->units_[slot];
    units = registry.Descendants(cube.home_city(), kLevels[slot]);
    std::vector<double>& exposure = engine->exposure_[slot];
    std::vector<bool>& imputed = engine->imputed_[slot];
    exposure.resize(units.size());
    imputed.assign(units.size(), false);
    std::vector<double> known;
    for (size_t at = 0; at < units.size(); ++at) {
      engine->index_[units[at].value] = static_cast<int32_t>(at);
      const UnitFigures& f = registry.figures(units[at]);
      exposure[at] = (s.resident * static_cast<double>(f.resident) + s.floating * static_cast<double>(f.floating) +
                      s.enterprises * static_cast<double>(f.enterprises) + s.houses * static_cast<double>(f.houses)) /
                     s.per;
      if (exposure[at] > 0) known.push_back(exposure[at]);
    }
    // A unit without figures (a park, a unit not surveyed) takes the level's median complexity,
    // flagged, rather than an infinite rate or a silent green.
    double median = 1;
    if (!known.empty()) {
      std::nth_element(known.begin(), known.begin() + static_cast<ptrdiff_t>(known.size() / 2), known.end());
      median = known[known.size() / 2];
    }
    for (size_t at = 0; at < units.size(); ++at) {
      if (exposure[at] <= 0) exposure[at] = median, imputed[at] = true;
    }
    engine->neighbours_[slot] = BoxNeighbours(registry, units);
  }
  // Cells: the units of every level in one array, districts first; each event's counting unit
  // maps to its cell, each cell to its nearest graded ancestor's.
  engine->global_.assign(registry.size(), -1);
  engine->offsets_ = {0};
  for (size_t slot = 0; slot < kLevels.size(); ++slot) {
    for (size_t at = 0; at < engine->units_[slot].size(); ++at) {
      engine->global_[engine->units_[slot][at].value] = static_cast<int32_t>(engine->offsets_.back() + at);
    }
    engine->offsets_.push_back(engine->offsets_.back() + engine->units_[slot].size());
  }
  engine->parent_cell_.assign(engine->offsets_.back(), -1);
  for (size_t slot = 1; slot < kLevels.size(); ++slot) {
    for (size_t at = 0; at < engine->units_[slot].size(); ++at) {
      UnitId up = registry.parent(engine->units_[slot][at]);
      while (up.valid() && engine->global_[up.value] < 0 && registry.level(up) > Level::kCity) up = registry.parent(up);
      if (up.valid()) engine->parent_cell_[engine->offsets_[slot] + at] = engine->global_[up.value];
    }
  }
  for (size_t k = 0; k < engine->key_types_; ++k) {
    engine->sum_key_.push_back(cube.column(engine->key_columns_[k]).is_sum);
    engine->sum_slot_.push_back(engine->sum_key_.back() ? engine->summed_keys_++ : 0);
  }
  return engine;
}

const std::vector<UnitId>& RiskEngine::units(Level level) const {
  for (size_t slot = 0; slot < kLevels.size(); ++slot) {
    if (kLevels[slot] == level) return units_[slot];
  }
  static const std::vector<UnitId> kNone;
  return kNone;
}

const Neighbours& RiskEngine::neighbours(Level level) const {
  for (size_t slot = 0; slot < kLevels.size(); ++slot) {
    if (kLevels[slot] == level) return neighbours_[slot];
  }
  static const Neighbours kNone;
  return kNone;
}

int64_t RiskEngine::IndexOf(UnitId unit) const {
  return unit.valid() && unit.value < index_.size() ? index_[unit.value] : -1;
}

namespace {

// The days of [first, last] in each calendar month it touches; empty when the period spans more
// months than the engine caches in half its cache, or leaves the cube's days (counted in one pass).
struct MonthSpan {
  CubeDay first, last;
  bool whole;  // the whole calendar month
};
std::vector<MonthSpan> MonthsOf(CubeDay first, CubeDay last) {
  std::vector<MonthSpan> spans;
  if (first > last || first < Cube::kFirstDay || last > Cube::kLastDay) return spans;
  int year = 0, month = 0, last_year = 0, last_month = 0, unused = 0;
  CivilFromDay(first, &year, &month, &unused);
  CivilFromDay(last, &last_year, &last_month, &unused);
  if ((last_year - year) * 12 + (last_month - month) + 1 > static_cast<int>(RiskEngine::kCachedMonths / 2)) return spans;
  for (;;) {
    const CubeDay month_first = DayFromCivil(year, month, 1);
    const CubeDay month_last = month_first + DaysInMonth(year, month) - 1;
    const CubeDay from = std::max(first, month_first), to = std::min(last, month_last);
    spans.push_back({from, to, from == month_first && to == month_last});
    if (year == last_year && month == last_month) break;
    if (++month == 13) month = 1, ++year;
  }
  return spans;
}

}  // namespace

void RiskEngine::Tally(const Cube& cube, CubeDay first, CubeDay last, Tallies& into) const {
  // One pass over the period's events into their counting cells: one add per counted key type
  // the event matches, and an event that matches a summed key type (traffic deaths) adds its
  // contribution (AddEvent) to the summed ones.
  uint64_t key_mask = 0, count_mask = 0, sum_mask = 0;
  std::array<uint8_t, 64> key_of_column{};
  for (size_t k = 0; k < key_types_; ++k) {
    key_mask |= uint64_t{1} << key_columns_[k];
    (sum_key_[k] ? sum_mask : count_mask) |= uint64_t{1} << key_columns_[k];
    key_of_column[key_columns_[k]] = static_cast<uint8_t>(k);
  }
  std::vector<int64_t> contribution(has_sums_ ? cube.columns() : 0);
  // The cell map (by unit id) and the tallies are larger than a core's L2, so events go in
  // batches: the batch's cells are prefetched, then its tallies, and only then added to, so the
  // misses overlap instead of following one another.
  constexpr size_t kBatch = 32;
  std::array<const CubeEvent*, kBatch> batch;
  std::array<int32_t, kBatch> cells;
  size_t held = 0;
  const size_t units = global_.size();
  auto flush = [&] {
    for (size_t at = 0; at < held; ++at) __builtin_prefetch(&global_[batch[at]->unit]);
    for (size_t at = 0; at < held; ++at) {
      cells[at] = global_[batch[at]->unit];
      if (cells[at] >= 0) __builtin_prefetch(&into.events[static_cast<size_t>(cells[at]) * key_types_], 1);
    }
    for (size_t at = 0; at < held; ++at) {
      if (cells[at] < 0) continue;
      const CubeEvent& event = *batch[at];
      const auto cell = static_cast<size_t>(cells[at]);
      for (uint64_t bits = event.mask & count_mask; bits != 0; bits &= bits - 1) {
        ++into.events[cell * key_types_ + key_of_column[static_cast<size_t>(std::countr_zero(bits))]];
      }
      if ((event.mask & sum_mask) != 0 && event.sums != 0) {
        std::fill(contribution.begin(), contribution.end(), 0);
        cube.AddEvent(event, contribution);
        for (size_t k = 0; k < key_types_; ++k) {
          if (sum_key_[k]) {
            into.sums[cell * summed_keys_ + sum_slot_[k]] += cube.Value(key_columns_[k], contribution[key_columns_[k]]);
          }
        }
      }
    }
    held = 0;
  };
  cube.ForEachEvent(cube.home_city(), first, last, [&](int64_t, const CubeEvent& event) {
    if ((event.mask & key_mask) == 0 || event.unit >= units) return;
    batch[held++] = &event;
    if (held == kBatch) flush();
  });
  flush();
}

std::shared_ptr<const RiskEngine::Tallies> RiskEngine::MonthTallies(const Cube& cube, CubeDay first,
                                                                    CubeDay last) const {
  const uint64_t stamp = cube.MonthStamp(first);
  {
    std::lock_guard lock(cache_mutex_);
    if (auto found = months_.find(first); found != months_.end() && found->second.tallies->stamp == stamp) {
      found->second.used = ++cache_clock_;
      return found->second.tallies;
    }
  }
  // Counted outside the lock (the two periods of an assessment count on two threads); two
  // readers that miss the same month both count it, and the later one is kept.
  auto tallies = std::make_shared<Tallies>();
  tallies->stamp = stamp;
  tallies->events.assign(offsets_.back() * key_types_, 0);
  tallies->sums.assign(offsets_.back() * summed_keys_, 0.0);
  Tally(cube, first, last, *tallies);
  std::lock_guard lock(cache_mutex_);
  months_[first] = CachedMonth{tallies, ++cache_clock_};
  if (months_.size() > kCachedMonths) {
    auto oldest = months_.begin();
    for (auto it = months_.begin(); it != months_.end(); ++it) {
      if (it->second.used < oldest->second.used) oldest = it;
    }
    months_.erase(oldest);
  }
  return tallies;
}

bool RiskEngine::HasMonth(const Cube& cube, CubeDay first) const {
  const uint64_t stamp = cube.MonthStamp(first);
  std::lock_guard lock(cache_mutex_);
  auto found = months_.find(first);
  return found != months_.end() && found->second.tallies->stamp == stamp;
}

void RiskEngine::DropCountCache() const {
  std::lock_guard lock(cache_mutex_);
  months_.clear();
}

std::array<std::vector<double>, 4> RiskEngine::Count(const Cube& cube, CubeDay first, CubeDay last) const {
  // Whole calendar months come from the month cache (a year is twelve of them, and after new
  // events only their month is counted again); the days of a partial month, and periods longer
  // than the cache holds, by a pass over their events. Then a roll-up from the grids to the
  // districts.
  const size_t total = offsets_.back();
  Tallies tallies;
  tallies.events.assign(total * key_types_, 0);
  tallies.sums.assign(total * summed_keys_, 0.0);
  const std::vector<MonthSpan> months = MonthsOf(first, last);
  if (months.empty()) {
    Tally(cube, first, last, tallies);
  } else {
    for (const MonthSpan& month : months) {
      if (month.whole) {
        const std::shared_ptr<const Tallies> cached = MonthTallies(cube, month.first, month.last);
        for (size_t at = 0; at < tallies.events.size(); ++at) tallies.events[at] += cached->events[at];
        for (size_t at = 0; at < tallies.sums.size(); ++at) tallies.sums[at] += cached->sums[at];
      } else {
        Tally(cube, month.first, month.last, tallies);
      }
    }
  }
  std::vector<double> all(total * key_types_);
  for (size_t cell = 0; cell < total; ++cell) {
    for (size_t k = 0; k < key_types_; ++k) {
      all[cell * key_types_ + k] = sum_key_[k] ? tallies.sums[cell * summed_keys_ + sum_slot_[k]]
                                               : static_cast<double>(tallies.events[cell * key_types_ + k]);
    }
  }
  for (size_t cell = total; cell-- > 0;) {  // deepest level first: children before parents
    const int32_t parent = parent_cell_[cell];
    if (parent < 0) continue;
    for (size_t k = 0; k < key_types_; ++k) all[static_cast<size_t>(parent) * key_types_ + k] += all[cell * key_types_ + k];
  }
  std::array<std::vector<double>, 4> counts;
  for (size_t slot = 0; slot < kLevels.size(); ++slot) {
    counts[slot].assign(all.begin() + static_cast<ptrdiff_t>(offsets_[slot] * key_types_),
                        all.begin() + static_cast<ptrdiff_t>(offsets_[slot + 1] * key_types_));
  }
  return counts;
}

Assessment RiskEngine::Grade1(const Cube&, size_t slot, const Period& period, const std::vector<double>& counts,
                              bool full) const {
  const std::vector<UnitId>& units = units_[slot];
  const std::vector<double>& exposure = exposure_[slot];
  const size_t n = units.size();
  Assessment out;
  out.level = kLevels[slot];
  out.period = period;
  out.level_rate.assign(key_types_, 0);
  out.units.resize(n);
  const double total_exposure = std::accumulate(exposure.begin(), exposure.end(), 0.0);
  // Both smoothings of every key type in one pass over the neighbour lists.
  absl::StatusOr<EbRows> eb = EbBoth(counts, key_types_, exposure, neighbours_[slot]);
  std::vector<double> per_rate(key_types_, 0);  // 1 / level_rate (0 for a rate of 0)
  for (size_t k = 0; k < key_types_; ++k) {
    double total = 0;
    for (size_t at = 0; at < n; ++at) total += counts[at * key_types_ + k];
    out.level_rate[k] = total_exposure > 0 ? total / total_exposure : 0;
    if (out.level_rate[k] > 0) per_rate[k] = 1 / out.level_rate[k];
  }
  const double weight_sum = std::accumulate(settings_.weights.begin(), settings_.weights.end(), 0.0);
  std::vector<double> scores;
  std::vector<bool> has_events(n);
  Dimension scratch;
  // Unit by unit, in one pass: its dimensions (one block of memory), its score and its drivers.
  // Without `full` (the previous period: only its grades and scores are read) the dimensions
  // are computed but not kept.
  for (size_t at = 0; at < n; ++at) {
    UnitRisk& unit = out.units[at];
    unit.unit = units[at];
    unit.exposure = exposure[at];
    unit.exposure_imputed = imputed_[slot][at];
    if (full) unit.dimensions.resize(key_types_);
    double score = 0, events = 0;
    for (size_t k = 0; k < key_types_; ++k) {
      Dimension& d = full ? unit.dimensions[k] : scratch;
      const size_t cell = at * key_types_ + k;
      const double rate = out.level_rate[k];
      d.count = counts[cell];
      d.expected = exposure[at] * rate;
      d.raw = counts[cell] / exposure[at];
      d.eb_global = eb.ok() && std::isfinite(eb->global[cell]) ? eb->global[cell] : d.raw;
      d.eb_local = eb.ok() && std::isfinite(eb->local[cell]) ? eb->local[cell] : d.eb_global;
      // The smoothed rate over the level's: a dimension weighs above 1 only with more events
      // than the unit's complexity leads one to expect (smoothing damps a small number; it does
      // not lend a unit its neighbours' events).
      d.index = d.eb_local * per_rate[k];
      if (d.count <= d.expected) d.index = std::min(d.index, 1.0);
      score += settings_.weights[k] * d.index;
      events += d.count;
      // A driver is a key type above what the unit's complexity leads one to expect, both
      // observed and smoothed (a unit with no events of a type is not driven by it, whatever
      // its neighbours do).
      if (full && d.index > 1 && d.count > d.expected && settings_.weights[k] > 0) unit.drivers.push_back(k);
    }
    unit.score = weight_sum > 0 ? score / weight_sum : 0;
    has_events[at] = events > 0;
    if (events > 0) scores.push_back(unit.score);
    if (unit.drivers.size() > 1) {
      std::sort(unit.drivers.begin(), unit.drivers.end(), [&](size_t a, size_t b) {
        return settings_.weights[a] * (unit.dimensions[a].index - 1) >
               settings_.weights[b] * (unit.dimensions[b].index - 1);
      });
    }
  }
  // Thresholds: quantiles of the scores of units with any key event, or the fixed ones.
  if (settings_.quantile) {
    // The take-th largest score per band; the shares grow from red to blue, so each selection
    // only reorders what lies past the one before (linear time, where a sort is n log n).
    size_t done = 0;
    for (int band = 0; band < 4; ++band) {
      const size_t take = static_cast<size_t>(std::floor(settings_.bands[band] * static_cast<double>(scores.size())));
      if (take == 0) {
        out.thresholds[band] = HUGE_VAL;
        continue;
      }
      std::nth_element(scores.begin() + static_cast<ptrdiff_t>(done), scores.begin() + static_cast<ptrdiff_t>(take - 1),
                       scores.end(), std::greater<>());
      out.thresholds[band] = scores[take - 1];
      done = take;
    }
  } else {
    out.thresholds = settings_.bands;
  }
  for (size_t at = 0; at < n; ++at) {
    UnitRisk& unit = out.units[at];
    Grade grade = Grade::kGreen;
    if (has_events[at]) {
      for (int band = 3; band >= 0; --band) {
        if (unit.score >= out.thresholds[band] && unit.score > 0) grade = static_cast<Grade>(band);
      }
    }
    unit.grade = unit.raw_grade = grade;
  }
  return out;
}

std::vector<Assessment> RiskEngine::AssessSlots(const Cube& cube, const Period& period, uint32_t slots) const {
  // The previous period (for hysteresis and the change) is graded on a second thread while this
  // one grades the period itself: both are a pass over the events and the smoothing.
  const std::optional<Period> previous = PreviousPeriod(period);
  // First the whole months either period needs and the cache lacks, on two threads (the months
  // of a year so far and of the whole year before are uneven halves).
  std::vector<MonthSpan> missing;
  for (const std::optional<Period>& which : {std::optional<Period>(period), previous}) {
    if (!which) continue;
    for (const MonthSpan& month : MonthsOf(which->first, which->last)) {
      if (month.whole && !HasMonth(cube, month.first)) missing.push_back(month);
    }
  }
  if (missing.size() > 1) {
    std::atomic<size_t> next{0};
    auto count = [&] {
      for (size_t at; (at = next.fetch_add(1)) < missing.size();) MonthTallies(cube, missing[at].first, missing[at].last);
    };
    std::thread second(count);
    count();
    second.join();
  }
  std::vector<Assessment> earlier;
  std::thread helper;
  if (previous) {
    helper = std::thread([&] {
      const std::array<std::vector<double>, 4> before = Count(cube, previous->first, previous->last);
      for (size_t slot = 0; slot < kLevels.size(); ++slot) {
        if (((slots >> slot) & 1) != 0) earlier.push_back(Grade1(cube, slot, *previous, before[slot], false));
      }
    });
  }
  const std::array<std::vector<double>, 4> counts = Count(cube, period.first, period.last);
  std::vector<Assessment> out;
  for (size_t slot = 0; slot < kLevels.size(); ++slot) {
    if (((slots >> slot) & 1) != 0) out.push_back(Grade1(cube, slot, period, counts[slot], true));
  }
  if (helper.joinable()) helper.join();
  for (size_t at_level = 0; at_level < out.size(); ++at_level) {
    Assessment& now = out[at_level];
    if (previous) {
      const Assessment& then = earlier[at_level];
      for (size_t at = 0; at < now.units.size(); ++at) {
        UnitRisk& unit = now.units[at];
        unit.previous = then.units[at].grade;
        unit.previous_score = then.units[at].score;
        // Hysteresis: a move to a neighbouring grade needs the score past the boundary by the margin.
        const int from = static_cast<int>(*unit.previous), to = static_cast<int>(unit.raw_grade);
        if (settings_.hysteresis > 0 && std::abs(from - to) == 1) {
          const int boundary = std::min(from, to);  // thresholds[boundary] separates them
          const double edge = now.thresholds[boundary];
          if (std::isfinite(edge) && std::abs(unit.score - edge) < settings_.hysteresis * std::abs(edge)) {
            unit.grade = *unit.previous;
          }
        }
      }
    }
    for (const UnitRisk& unit : now.units) ++now.counts[static_cast<int>(unit.grade)];
  }
  return out;
}

absl::StatusOr<std::vector<Assessment>> RiskEngine::AssessAll(const Cube& cube, const Period& period) const {
  return AssessSlots(cube, period, 0xf);
}

absl::StatusOr<Assessment> RiskEngine::Assess(const Cube& cube, Level level, const Period& period) const {
  size_t slot = 0;
  while (slot < kLevels.size() && kLevels[slot] != level) ++slot;
  if (slot == kLevels.size()) {
    return absl::InvalidArgumentError(Cat("level: ", LevelName(level), " is not assessed (district, town, community, grid)"));
  }
  std::vector<Assessment> one = AssessSlots(cube, period, 1u << slot);
  return std::move(one.front());
}

}  // namespace pingan
