#include "core/csv.h"

#include <csv.h>

#include <cstdio>
#include <memory>
#include <optional>

#include "core/strings.h"

namespace pingan {
namespace {

struct ParseState {
  const CsvRowCallback* on_row;
  CsvLimits limits;
  std::vector<std::string> storage;
  CsvRow row;
  size_t field_count = 0;
  bool oversized = false;
  absl::Status status;
  std::string_view name;
};

void OnField(void* data, size_t length, void* context) {
  auto* state = static_cast<ParseState*>(context);
  if (!state->status.ok()) return;
  if (length > state->limits.max_field_bytes && state->limits.lenient) {
    state->oversized = true;
    length = state->limits.max_field_bytes;
  } else if (length > state->limits.max_field_bytes) {
    state->status = absl::InvalidArgumentError(Cat(
        state->name, ": record ", state->row.number + 1, ": field of ", length,
        " bytes is over the limit of ", state->limits.max_field_bytes));
    return;
  }
  if (state->field_count >= state->limits.max_fields && state->limits.lenient) {
    state->oversized = true;
    return;
  }
  if (state->field_count >= state->limits.max_fields) {
    state->status = absl::InvalidArgumentError(
        Cat(state->name, ": record ", state->row.number + 1, ": too many fields"));
    return;
  }
  if (state->storage.size() <= state->field_count) state->storage.emplace_back();
  state->storage[state->field_count].assign(static_cast<const char*>(data), length);
  ++state->field_count;
}

void OnRow(int /*terminator*/, void* context) {
  auto* state = static_cast<ParseState*>(context);
  if (!state->status.ok()) return;
  ++state->row.number;
  state->row.fields.clear();
  for (size_t index = 0; index < state->field_count; ++index) {
    state->row.fields.emplace_back(state->storage[index]);
  }
  state->field_count = 0;
  state->row.oversized = state->oversized;
  state->oversized = false;
  state->status = (*state->on_row)(state->row);
}

class Parser {
 public:
  Parser(std::string_view name, const CsvRowCallback& on_row, CsvLimits limits) {
    state_.on_row = &on_row;
    state_.limits = limits;
    state_.name = name;
    csv_init(&parser_, limits.lenient ? CSV_APPEND_NULL : CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL);
  }
  ~Parser() { csv_free(&parser_); }
  Parser(const Parser&) = delete;
  Parser& operator=(const Parser&) = delete;

  bool Feed(const char* data, size_t size) {
    if (csv_parse(&parser_, data, size, OnField, OnRow, &state_) != size) {
      SetParserError();
      return false;
    }
    return state_.status.ok();
  }
  absl::Status Finish() {
    if (state_.status.ok() && csv_fini(&parser_, OnField, OnRow, &state_) != 0) SetParserError();
    return state_.status;
  }

 private:
  void SetParserError() {
    if (state_.status.ok()) {
      state_.status = absl::InvalidArgumentError(Cat(
          state_.name, ": record ", state_.row.number + 1, ": ", csv_strerror(csv_error(&parser_))));
    }
  }
  csv_parser parser_{};
  ParseState state_;
};

}  // namespace

struct CsvStreamParser::State {
  CsvRowCallback on_row;
  std::optional<Parser> parser;
};

CsvStreamParser::CsvStreamParser(std::string_view name, const CsvRowCallback& on_row, CsvLimits limits)
    : state_(std::make_unique<State>()) {
  state_->on_row = on_row;
  state_->parser.emplace(name, state_->on_row, limits);
}

CsvStreamParser::~CsvStreamParser() = default;

absl::Status CsvStreamParser::Feed(const char* data, size_t size) {
  if (state_->parser->Feed(data, size)) return absl::OkStatus();
  return state_->parser->Finish();
}

absl::Status CsvStreamParser::Finish() { return state_->parser->Finish(); }

absl::Status ReadCsvFile(const std::string& path, const CsvRowCallback& on_row, CsvLimits limits) {
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) return absl::NotFoundError(Cat(path, ": cannot open"));
  Parser parser(path, on_row, limits);
  std::vector<char> buffer(1 << 16);
  size_t read = 0;
  while ((read = std::fread(buffer.data(), 1, buffer.size(), file.get())) > 0) {
    if (!parser.Feed(buffer.data(), read)) break;
  }
  if (std::ferror(file.get())) return absl::DataLossError(Cat(path, ": read error"));
  return parser.Finish();
}

absl::Status ReadCsvText(std::string_view text, std::string_view name, const CsvRowCallback& on_row,
                         CsvLimits limits) {
  Parser parser(name, on_row, limits);
  if (!text.empty()) parser.Feed(text.data(), text.size());
  return parser.Finish();
}

}  // namespace pingan
