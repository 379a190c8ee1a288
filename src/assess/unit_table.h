// A table of units to assess, read from CSV (`pingan assess --input FILE.csv`): one row per
// unit with an id, an exposure, a count and optionally its neighbours, ids separated by ';'.
//
//   id,exposure,count,neighbours
//   a,1200,3,b;c
//   b,80,1,a
//   c,5000,9,a
//
// Columns are found by name in the header (any order; surrounding spaces and a UTF-8 byte-order
// mark are ignored; other columns are ignored). Errors name the file, the line (the CSV record:
// the same as the line unless a quoted field spans lines) and the column: a missing column, an
// empty or duplicate id, a count or exposure that is not a number, negative, over kMaxEbValue,
// or a positive count over exposure 0, a neighbour naming an unknown id, the unit itself or the
// same id twice. Bounded: at most kMaxTableUnits rows and fields of at most kMaxTableFieldBytes.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "assess/eb.h"

namespace pingan {

inline constexpr size_t kMaxTableUnits = 5'000'000;
inline constexpr size_t kMaxTableFieldBytes = 64 << 10;

// The header names of the columns read.
struct UnitTableColumns {
  std::string id = "id";
  std::string exposure = "exposure";
  std::string count = "count";
  std::string neighbours = "neighbours";  // optional
};

struct UnitTable {
  std::vector<std::string> ids;
  std::vector<double> counts;
  std::vector<double> exposures;
  bool has_neighbours = false;  // the header has the neighbours column
  Neighbours neighbours;        // one list per unit (empty lists without the column)
};

absl::StatusOr<UnitTable> ReadUnitTable(const std::string& path,
                                        const UnitTableColumns& columns = {});
// Same, over CSV text in memory; `name` stands for the file in messages.
absl::StatusOr<UnitTable> ReadUnitTableText(std::string_view text, std::string_view name,
                                            const UnitTableColumns& columns = {});

}  // namespace pingan
