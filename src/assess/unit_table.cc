#include "assess/unit_table.h"

#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "core/csv.h"
#include "core/status.h"
#include "core/strings.h"
#include "core/text.h"

namespace pingan {
namespace {

constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";

std::string_view Trim(std::string_view text) {
  const absl::string_view stripped =
      absl::StripAsciiWhitespace(absl::string_view(text.data(), text.size()));
  return {stripped.data(), stripped.size()};
}

// A quoted, printable rendering of untrusted text for a message.
std::string Quoted(std::string_view text) { return Cat("'", Printable(text), "'"); }

class TableReader {
 public:
  TableReader(std::string_view name, const UnitTableColumns& columns)
      : name_(name), columns_(columns) {}

  absl::Status OnRow(const CsvRow& row) {
    if (row.number == 1) return ReadHeader(row.fields);
    const size_t line = row.number;
    if (row.fields.size() != header_fields_) {
      return Error(line, "",
                   Cat(row.fields.size(), row.fields.size() == 1 ? " field" : " fields",
                       " where the header has ", header_fields_));
    }
    if (table_.ids.size() >= kMaxTableUnits) {
      return Error(line, "", Cat("more than ", kMaxTableUnits, " units"));
    }
    const std::string_view id = Trim(row.fields[id_column_]);
    if (id.empty()) return Error(line, columns_.id, "empty id");
    const auto [at, inserted] =
        index_of_.try_emplace(std::string(id), static_cast<uint32_t>(table_.ids.size()));
    if (!inserted) {
      return Error(line, columns_.id,
                   Cat(Quoted(id), " again (first on line ", lines_[at->second], ")"));
    }
    PA_ASSIGN_OR_RETURN(const double count,
                        Number(line, columns_.count, row.fields[count_column_]));
    PA_ASSIGN_OR_RETURN(const double exposure,
                        Number(line, columns_.exposure, row.fields[exposure_column_]));
    if (const absl::Status status = CheckCount(count); !status.ok()) {
      return Error(line, columns_.count, Message(status));
    }
    if (const absl::Status status = CheckExposure(exposure); !status.ok()) {
      return Error(line, columns_.exposure, Message(status));
    }
    if (exposure == 0 && count > 0) {
      return Error(line, columns_.exposure,
                   Cat("0 with ", count, " events (a unit without exposure has none)"));
    }
    table_.ids.emplace_back(id);
    table_.counts.push_back(count);
    table_.exposures.push_back(exposure);
    lines_.push_back(line);
    if (neighbours_column_) neighbour_text_.emplace_back(row.fields[*neighbours_column_]);
    return absl::OkStatus();
  }

  absl::StatusOr<UnitTable> Finish() {
    if (header_fields_ == 0)
      return absl::InvalidArgumentError(Cat(name_, ": empty file, no header"));
    if (table_.ids.empty())
      return absl::InvalidArgumentError(Cat(name_, ": no units below the header"));
    table_.has_neighbours = neighbours_column_.has_value();
    const size_t units = table_.ids.size();
    std::vector<uint32_t> list;
    std::vector<uint32_t> last_listed(table_.has_neighbours ? units : 0, 0);  // unit + 1
    for (uint32_t unit = 0; unit < units; ++unit) {
      list.clear();
      if (table_.has_neighbours) {
        for (const absl::string_view piece : absl::StrSplit(neighbour_text_[unit], ';')) {
          const std::string_view other = Trim(std::string_view(piece.data(), piece.size()));
          if (other.empty()) continue;
          const auto found = index_of_.find(absl::string_view(other.data(), other.size()));
          if (found == index_of_.end()) {
            return Error(lines_[unit], columns_.neighbours, Cat("unknown id ", Quoted(other)));
          }
          if (found->second == unit) {
            return Error(lines_[unit], columns_.neighbours,
                         Cat(Quoted(other), " is the unit itself"));
          }
          if (last_listed[found->second] == unit + 1) {
            return Error(lines_[unit], columns_.neighbours, Cat(Quoted(other), " listed twice"));
          }
          last_listed[found->second] = unit + 1;
          list.push_back(found->second);
        }
      }
      table_.neighbours.Add(list);
    }
    return std::move(table_);
  }

 private:
  absl::Status ReadHeader(const std::vector<std::string_view>& fields) {
    header_fields_ = fields.size();
    std::optional<size_t> id, exposure, count;
    for (size_t column = 0; column < fields.size(); ++column) {
      std::string_view name = fields[column];
      if (column == 0 && name.starts_with(kByteOrderMark))
        name.remove_prefix(kByteOrderMark.size());
      name = Trim(name);
      for (auto [wanted, slot] :
           {std::pair{&columns_.id, &id}, std::pair{&columns_.exposure, &exposure},
            std::pair{&columns_.count, &count},
            std::pair{&columns_.neighbours, &neighbours_column_}}) {
        if (name != *wanted) continue;
        if (slot->has_value()) return Error(1, name, "the column appears twice");
        *slot = column;
      }
    }
    for (auto [wanted, slot] :
         {std::pair{&columns_.id, &id}, std::pair{&columns_.exposure, &exposure},
          std::pair{&columns_.count, &count}}) {
      if (!slot->has_value()) {
        return absl::InvalidArgumentError(Cat(name_, ": line 1: no column ", Quoted(*wanted),
                                              " (the header must name ", columns_.id, ", ",
                                              columns_.exposure, " and ", columns_.count, ")"));
      }
    }
    id_column_ = *id;
    exposure_column_ = *exposure;
    count_column_ = *count;
    return absl::OkStatus();
  }

  absl::StatusOr<double> Number(size_t line, std::string_view column,
                                std::string_view field) const {
    const std::string_view text = Trim(field);
    if (text.empty()) return Error(line, column, "empty");
    double value = 0;
    if (!absl::SimpleAtod(absl::string_view(text.data(), text.size()), &value)) {
      return Error(line, column, Cat(Quoted(text), " is not a number"));
    }
    return value;
  }

  absl::Status Error(size_t line, std::string_view column, std::string_view message) const {
    return absl::InvalidArgumentError(Cat(name_, ": line ", line, column.empty() ? "" : ", column ",
                                          column.empty() ? "" : Quoted(column), ": ", message));
  }

  std::string name_;
  UnitTableColumns columns_;
  size_t header_fields_ = 0;
  size_t id_column_ = 0, exposure_column_ = 0, count_column_ = 0;
  std::optional<size_t> neighbours_column_;
  UnitTable table_;
  std::vector<size_t> lines_;  // per unit, its line in the file
  std::vector<std::string> neighbour_text_;
  absl::flat_hash_map<std::string, uint32_t> index_of_;
};

CsvLimits Limits() {
  CsvLimits limits;
  limits.max_field_bytes = kMaxTableFieldBytes;
  limits.max_fields = 1024;
  return limits;
}

}  // namespace

absl::StatusOr<UnitTable> ReadUnitTable(const std::string& path, const UnitTableColumns& columns) {
  TableReader reader(path, columns);
  PA_RETURN_IF_ERROR(ReadCsvFile(
      path, [&](const CsvRow& row) { return reader.OnRow(row); }, Limits()));
  return reader.Finish();
}

absl::StatusOr<UnitTable> ReadUnitTableText(std::string_view text, std::string_view name,
                                            const UnitTableColumns& columns) {
  TableReader reader(name, columns);
  PA_RETURN_IF_ERROR(ReadCsvText(
      text, name, [&](const CsvRow& row) { return reader.OnRow(row); }, Limits()));
  return reader.Finish();
}

}  // namespace pingan
