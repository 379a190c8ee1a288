// The five-colour risk map (五色图): every unit of a level graded by its key events weighed
// against its complexity (config/risk.toml, docs/risk-map.md).
//
// For a level (district, town, community, grid) and a period:
//   count_k    key type k's events counted under the unit (the cube's counting units rolled up);
//              for a key type that sums an attribute (交通亡人: deaths), that sum
//   exposure   the complexity index: Σ weight × figure / per (resident, floating, enterprises, houses)
//   raw, eb_global, eb_local   count / exposure, and its empirical Bayes smoothings (eb.h) over the
//              level's units, the local one over neighbours (units whose boxes touch)
//   index_k    eb_local / the level's overall rate (1: as expected for the unit's complexity),
//              at most 1 unless the unit has more events than expected (smoothing damps small
//              numbers; it does not lend a unit its neighbours' events)
//   score      Σ w_k index_k / Σ w_k;  grade from the bands over the score
// With hysteresis, a unit keeps the previous period's grade unless its score passes the boundary
// between the two grades by the configured fraction.
//
// Thread-safety: a RiskEngine is immutable after Create; Assess is const and reads the cube
// under the caller's lock.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "address/registry.h"
#include "assess/eb.h"
#include "catalog/catalog.h"
#include "core/period.h"
#include "cube/cube.h"

namespace pingan {

enum class Grade : uint8_t { kRed, kOrange, kYellow, kBlue, kGreen };
inline constexpr int kGrades = 5;
std::string_view GradeName(Grade grade);  // red, orange, yellow, blue, green
std::string_view GradeZh(Grade grade);    // 红, 橙, 黄, 蓝, 绿
std::optional<Grade> ParseGrade(std::string_view name);

struct RiskSettings {
  double per = 10000;
  double resident = 1, floating = 1.5, enterprises = 20, houses = 0.5;
  std::vector<double> weights;  // per key type, in catalog order
  bool quantile = true;
  std::array<double, 4> bands = {0.05, 0.10, 0.20, 0.30};  // red, orange, yellow, blue
  double hysteresis = 0;
  std::vector<Grade> warn_grades = {Grade::kRed, Grade::kOrange};
  int repeat_after = 3;
  int cap_per_town = 20;
  int route_grids = 3;
};

// Reads config/risk.toml (absent: the defaults above). InvalidArgument naming file, line and key
// for an unknown key type, a negative weight, bands out of order or outside [0, 1] (quantile),
// an unknown grade.
absl::StatusOr<RiskSettings> LoadRiskSettings(const std::filesystem::path& config_dir, const Catalog& catalog);

struct Dimension {
  double count = 0, expected = 0;
  double raw = 0, eb_global = 0, eb_local = 0;
  double index = 0;  // eb_local over the level's rate
};

struct UnitRisk {
  UnitId unit;
  double exposure = 0;          // complexity index
  bool exposure_imputed = false;  // no figures: the level's median complexity stands in
  std::vector<Dimension> dimensions;  // per key type
  double score = 0;
  Grade grade = Grade::kGreen;
  Grade raw_grade = Grade::kGreen;  // before hysteresis
  std::optional<Grade> previous;    // the previous period's grade
  std::optional<double> previous_score;
  // Key types by their share of the score's excess over 1, largest first (index above 1 and
  // more events than expected).
  std::vector<size_t> drivers;
};

struct Assessment {
  Level level = Level::kTown;
  Period period;
  std::vector<double> level_rate;      // per key type: Σ count / Σ exposure
  std::array<double, 4> thresholds{};  // score at or above which: red, orange, yellow, blue
  std::array<int, kGrades> counts{};   // units per grade
  std::vector<UnitRisk> units;         // in the level's unit order
};

class RiskEngine {
 public:
  // Prepares the units of every level under the cube's home city and their neighbours.
  static absl::StatusOr<std::unique_ptr<RiskEngine>> Create(const Cube& cube, RiskSettings settings);

  // The assessment of `level` (district, town, community or grid) for `period`, with the previous
  // period's grades (hysteresis and change). InvalidArgument for another level.
  absl::StatusOr<Assessment> Assess(const Cube& cube, Level level, const Period& period) const;
  // Every level at once (one pass over the period's events).
  absl::StatusOr<std::vector<Assessment>> AssessAll(const Cube& cube, const Period& period) const;

  const RiskSettings& settings() const { return settings_; }
  const std::vector<UnitId>& units(Level level) const;
  const Neighbours& neighbours(Level level) const;
  // The unit's position in its level's list, or -1.
  int64_t IndexOf(UnitId unit) const;
  static constexpr std::array<Level, 4> kLevels = {Level::kDistrict, Level::kTown, Level::kCommunity, Level::kGrid};

  // Forgets the key-type counts kept per calendar month (benchmarks: the cost from scratch).
  void DropCountCache() const;
  // The most months of counts kept (about 0.7 MB each at scale 1).
  static constexpr size_t kCachedMonths = 48;

 private:
  RiskEngine() = default;
  // Key-type counts per unit of each level over [first, last] (rows of key_types() values):
  // whole calendar months from the month cache, the rest by a pass over the events.
  std::array<std::vector<double>, 4> Count(const Cube& cube, CubeDay first, CubeDay last) const;
  // Tallies of the key types in every cell, before the roll-up: events of the counted key
  // types (cells × key types), and the sums of the summed ones (cells × summed key types).
  struct Tallies {
    uint64_t stamp = 0;  // the cube's MonthStamp when counted (cached months)
    std::vector<uint32_t> events;
    std::vector<double> sums;
  };
  // Adds the events of [first, last] to `into`.
  void Tally(const Cube& cube, CubeDay first, CubeDay last, Tallies& into) const;
  // The tallies of the calendar month [first, last], from the cache while the cube's stamp for
  // the month is unchanged.
  std::shared_ptr<const Tallies> MonthTallies(const Cube& cube, CubeDay first, CubeDay last) const;
  // Whether the month starting on `first` is cached and current.
  bool HasMonth(const Cube& cube, CubeDay first) const;
  // `full`: with each unit's dimensions and drivers; without, only scores and grades (what the
  // previous period lends the current one).
  Assessment Grade1(const Cube& cube, size_t level_slot, const Period& period, const std::vector<double>& counts,
                    bool full) const;
  // The assessments of the levels whose bit (1 << slot) is set in `slots`, in level order.
  std::vector<Assessment> AssessSlots(const Cube& cube, const Period& period, uint32_t slots) const;

  RiskSettings settings_;
  size_t key_types_ = 0;
  std::vector<size_t> key_columns_;
  bool has_sums_ = false;  // a key type sums an attribute (traffic deaths)
  std::array<std::vector<UnitId>, 4> units_;
  std::array<std::vector<double>, 4> exposure_;
  std::array<std::vector<bool>, 4> imputed_;
  std::array<Neighbours, 4> neighbours_;
  std::vector<uint8_t> sum_key_;        // per key type: sums an attribute
  std::vector<size_t> sum_slot_;        // per key type: its place among the summed ones
  size_t summed_keys_ = 0;
  struct CachedMonth {
    std::shared_ptr<const Tallies> tallies;
    uint64_t used = 0;  // the cache clock at its last use (the least recently used goes first)
  };
  mutable std::mutex cache_mutex_;  // guards months_ and cache_clock_
  mutable absl::flat_hash_map<CubeDay, CachedMonth> months_;  // by the month's first day
  mutable uint64_t cache_clock_ = 0;
  std::vector<int32_t> global_;         // by UnitId: its cell (all levels in one array), -1 outside
  std::vector<size_t> offsets_;         // first cell of each level, and the total
  std::vector<int32_t> parent_cell_;    // per cell: the nearest graded ancestor's cell, -1 none
  std::vector<int32_t> index_;  // by UnitId: position in its level's list, -1 outside
};

}  // namespace pingan
