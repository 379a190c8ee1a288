#include "address/history.h"

#include <algorithm>

#include "address/names.h"

namespace pingan {

std::string_view ChangeKindName(ChangeKind kind) {
  switch (kind) {
    case ChangeKind::kRenamed: return "renamed";
    case ChangeKind::kMerged: return "merged";
    case ChangeKind::kSplit: return "split";
    case ChangeKind::kTransferred: return "transferred";
  }
  return "unknown";
}

std::vector<const HistoryChange*> History::ByCode(const AddressCode& code) const {
  std::vector<const HistoryChange*> out;
  for (const HistoryChange& change : changes_) {
    if (change.code == code) out.push_back(&change);
  }
  std::sort(out.begin(), out.end(),
            [](const HistoryChange* a, const HistoryChange* b) { return a->date > b->date; });
  return out;
}

std::vector<const HistoryChange*> History::ByName(std::string_view name) const {
  std::vector<const HistoryChange*> out;
  for (const HistoryChange& change : changes_) {
    if (change.name == name || ShortName(change.name, change.level) == name) out.push_back(&change);
  }
  std::sort(out.begin(), out.end(),
            [](const HistoryChange* a, const HistoryChange* b) { return a->date > b->date; });
  return out;
}

const HistoryPiece* History::PieceForTown(const HistoryChange& change, std::string_view town) {
  const HistoryPiece* rest = nullptr;
  for (const HistoryPiece& piece : change.pieces) {
    if (piece.towns.empty()) rest = &piece;
    for (const std::string& name : piece.towns) {
      if (name == town) return &piece;
    }
  }
  return rest;
}

}  // namespace pingan
