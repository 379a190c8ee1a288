// Warnings (预警) from the risk map: a unit that enters a warning grade (red, orange) raises one
// naming the unit, the key type that drives it most, the period and the evidence, routed down to
// the grids that contribute most to that key type. Stored durably in the data directory's
// pingan.db (table warnings; one per (unit, key type, period)); the closed loop turns them into
// patrol tasks.
//
// Rules (config/risk.toml [warnings]):
//   - only units whose grade is a warning grade and whose previous grade was not (entering);
//     a unit that stays raises again once `repeat_after` periods have passed since its last
//     warning for that key type;
//   - the key type is the unit's top driver (dimension index above 1);
//   - routed to up to `route_grids` grids inside the unit with the most events of that key type
//     in the period (the unit itself when it is a grid);
//   - at most `cap_per_town` warnings per town and period, highest scores first (a district's
//     warning counts against the town of its first grid).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "assess/risk.h"

struct sqlite3;
struct sqlite3_stmt;

namespace pingan {

struct Warning {
  int64_t id = 0;
  std::string unit;       // 27 digits
  std::string unit_name;
  std::string level;      // district, town, community, grid
  std::string key_type;   // key.*
  std::string period;     // canonical period text
  std::string grade;      // red, orange, ...
  double score = 0;
  std::string evidence;   // JSON: count, expected, index, eb rates, previous grade, drivers
  std::vector<std::string> grids;  // 27-digit codes the warning is routed to
  int64_t created_at = 0;
};

// The warnings the assessments of one period (any levels) raise, not yet stored, capped per
// town across the levels: `recent` answers whether a warning for (unit, key type) exists in one
// of the `repeat_after` periods before this one.
std::vector<Warning> WarningsOf(const Cube& cube, const RiskEngine& engine, const std::vector<Assessment>& assessments,
                                const std::function<bool(const std::string& unit, const std::string& key_type)>& recent);

class WarningStore {
 public:
  // Opens (creating the table when absent) the warnings of DIR/pingan.db on its own connection.
  static absl::StatusOr<std::unique_ptr<WarningStore>> Open(const std::filesystem::path& data_dir);
  ~WarningStore();

  // Raises the warnings of `assessments` (every level of one period): stores those not stored
  // yet, in one transaction. Returns the newly stored ones.
  absl::StatusOr<std::vector<Warning>> Raise(const Cube& cube, const RiskEngine& engine,
                                             const std::vector<Assessment>& assessments, int64_t now);
  // Stored warnings, latest period first and highest score first within one; `period` and
  // `unit_prefix` filter ("" for any).
  absl::StatusOr<std::vector<Warning>> List(const std::string& period, const std::string& unit_prefix, int64_t limit);
  // One stored warning; none when there is no such id.
  absl::StatusOr<std::optional<Warning>> Get(int64_t id);

 private:
  explicit WarningStore(sqlite3* db) : db_(db) {}
  absl::StatusOr<std::vector<Warning>> Select(const std::string& where, const std::function<void(sqlite3_stmt*)>& bind);
  sqlite3* db_;
};

}  // namespace pingan
