// The registry's history: units renamed, merged or split, with their old names, codes and
// dates, and which unit holds each former piece, town by town.
//
// Example (the 2021 re-districting of Hangzhou, config/history.toml):
//   江干区 330104 (until 2021-04-09) split: 凯旋, 采荷, ... 九堡 -> 上城区 330102;
//                                          下沙, 白杨 -> 钱塘区 330114.
//   余杭区 330110 (still exists) gave 临平, 南苑, ... 塘栖 -> 临平区 330113.
//
// Thread-safety: immutable after construction; const methods are thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "address/code.h"

namespace pingan {

enum class ChangeKind : uint8_t { kRenamed, kMerged, kSplit, kTransferred };
std::string_view ChangeKindName(ChangeKind kind);

struct HistoryPiece {
  // Short names (names.h ShortName) of the towns this piece consists of; empty means "all of
  // the former unit not named in another piece".
  std::vector<std::string> towns;
  AddressCode successor;  // the unit (district) that holds this piece today
};

struct HistoryChange {
  std::string date;      // YYYY-MM-DD: the first day of the new arrangement
  ChangeKind kind = ChangeKind::kRenamed;
  AddressCode code;      // the former unit's code (may be reused by a unit that still exists)
  std::string name;      // the former unit's official name (下城区, 富阳市)
  Level level = Level::kDistrict;
  bool abolished = false;  // false when the unit lives on and only gave away pieces
  std::vector<HistoryPiece> pieces;
  std::string source;    // file:line it was configured at, for messages
};

class History {
 public:
  History() = default;
  explicit History(std::vector<HistoryChange> changes) : changes_(std::move(changes)) {}

  const std::vector<HistoryChange>& changes() const { return changes_; }

  // Changes whose former unit had this code (district prefix), newest first.
  std::vector<const HistoryChange*> ByCode(const AddressCode& code) const;
  // Changes whose former unit had this name, matched on the official or short form.
  std::vector<const HistoryChange*> ByName(std::string_view name) const;

  // Which piece of `change` a town (short name) belongs to; nullptr when no piece names it and
  // there is no catch-all piece.
  static const HistoryPiece* PieceForTown(const HistoryChange& change, std::string_view town);

 private:
  std::vector<HistoryChange> changes_;
};

}  // namespace pingan
