// libFuzzer target for one record of ingest (src/ingest/record.h): the input is a JSON line, or
// (when it starts with "csv\n") a CSV header and rows, converted as `pingan ingest` converts
// them against Zhejiang's registry with a small demo city, the project's catalog and its source
// mappings. Built with clang only; `make fuzz` runs it on the seeds in fuzz/corpus/ingest/.
//
// Invariants checked on every record:
//   - conversion is deterministic (the same record twice gives the same answer), and converting
//     into a reused record (the one the previous input filled) gives what a fresh one gets;
//   - an event names a source and a type of the catalog, a non-empty source_id, a well-formed
//     27-digit unit that the registry resolves, a level from province to room (city or below when
//     counted in the home city), an attributes object that parses as JSON and that nlohmann
//     writes back byte for byte (ingest writes it without nlohmann, and the content hash needs
//     nlohmann's bytes), and a time no later than the clock allows;
//   - a quarantine entry has a known reason, a message, and raw text within its bound.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <set>
#include <string_view>

#include <nlohmann/json.hpp>

#include "catalog/config.h"
#include "core/csv.h"
#include "fuzz_check.h"
#include "fuzz_registry.h"
#include "geocode/matcher.h"
#include "ingest/record.h"
#include "sim/init.h"

namespace {

constexpr int64_t kNow = 1719792000;  // 2024-07-01T00:00:00Z

struct World {
  pingan::Catalog catalog;
  pingan::Deployment deployment;
  std::unique_ptr<pingan::Registry> registry;
  std::unique_ptr<pingan::Matcher> matcher;
  pingan::IngestEnv env;
  std::unique_ptr<pingan::RecordConverter> converter;
};
World* world = nullptr;

const std::set<std::string> kReasons = {"bad_utf8",    "oversized",    "bad_json",      "not_object",
                                         "bad_columns", "missing_field", "unknown_source", "unknown_type",
                                         "bad_time",    "future_time",  "bad_status",     "bad_point",
                                         "bad_code",    "bad_attribute", "bad_field"};

// One conversion's answer: the event, or the quarantine entry.
struct Answer {
  bool valid = false;
  pingan::EventRecord event;
  pingan::QuarantineEntry entry;
};

void Check(const Answer& answer) {
  using namespace pingan;
  if (!answer.valid) {
    const QuarantineEntry* entry = &answer.entry;
    FUZZ_CHECK(kReasons.count(entry->reason) == 1);
    FUZZ_CHECK(!entry->message.empty());
    FUZZ_CHECK(entry->raw.size() <= (16u << 10));
    return;
  }
  const EventRecord& event = answer.event;
  FUZZ_CHECK(world->catalog.FindSource(event.source) != nullptr);
  FUZZ_CHECK(world->catalog.FindType(event.type) != nullptr);
  FUZZ_CHECK(!event.source_id.empty());
  FUZZ_CHECK(event.occurred_at <= kNow + 600);
  const Placement& placement = event.placement;
  FUZZ_CHECK(placement.level >= static_cast<uint8_t>(Level::kProvince) && placement.level <= static_cast<uint8_t>(Level::kRoom));
  FUZZ_CHECK(!placement.in_home_city || placement.level >= static_cast<uint8_t>(Level::kCity));
  auto code = AddressCode::Parse(placement.unit);
  FUZZ_CHECK(code.ok());
  auto place = world->registry->Resolve(*code);
  FUZZ_CHECK(place.ok() && static_cast<uint8_t>(place->level) == placement.level);
  const nlohmann::json attributes = nlohmann::json::parse(event.attributes_json, nullptr, false);
  FUZZ_CHECK(attributes.is_object());
  FUZZ_CHECK(attributes.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) == event.attributes_json);
}

bool Same(const Answer& a, const Answer& b) {
  if (a.valid != b.valid) return false;
  if (!a.valid) {
    return a.entry.reason == b.entry.reason && a.entry.raw == b.entry.raw && a.entry.source_id == b.entry.source_id;
  }
  const pingan::EventRecord& x = a.event;
  const pingan::EventRecord& y = b.event;
  return x.source == y.source && x.source_id == y.source_id && x.type == y.type && x.occurred_at == y.occurred_at &&
         x.address == y.address && x.lon == y.lon && x.lat == y.lat && x.code == y.code && x.status == y.status &&
         x.attributes_json == y.attributes_json && x.numbers == y.numbers && x.placement.method == y.placement.method &&
         x.placement.unit == y.placement.unit && x.placement.level == y.placement.level &&
         x.placement.geocode_status == y.placement.geocode_status && x.placement.confidence == y.placement.confidence &&
         x.placement.in_home_city == y.placement.in_home_city;
}

Answer ConvertInto(const pingan::RawRecord& record, pingan::ConverterScratch& scratch, Answer answer) {
  answer.valid = world->converter->Convert(record, scratch, answer.event, answer.entry);
  return answer;
}

// The record the previous input was converted into: reused, as ingest reuses its batches.
Answer& Reused() {
  static Answer* reused = new Answer;
  return *reused;
}

void Convert(const pingan::RawRecord& record) {
  pingan::ConverterScratch scratch, other;
  const Answer first = ConvertInto(record, scratch, Answer{});
  Check(first);
  FUZZ_CHECK(Same(first, ConvertInto(record, other, Answer{})));
  FUZZ_CHECK(Same(first, ConvertInto(record, scratch, Answer{})));  // from the cache
  Answer& reused = Reused();
  reused = ConvertInto(record, other, std::move(reused));
  FUZZ_CHECK(Same(first, reused));
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  using namespace pingan;
  auto catalog = LoadCatalog(std::filesystem::path(PINGAN_SOURCE_DIR) / "config");
  if (!catalog.ok()) std::fprintf(stderr, "%s\n", std::string(catalog.status().message()).c_str()), std::abort();
  fuzz::FuzzRegistry built = fuzz::BuildFuzzRegistry();
  world = new World;
  world->catalog = *std::move(catalog);
  world->deployment.home_city = *AddressCode::ParsePrefix("3301");
  world->registry.reset(built.registry);
  std::vector<Alias> aliases;
  for (const AliasConfig& alias : built.config.aliases) aliases.push_back(Alias{alias.name, alias.unit});
  auto matcher = Matcher::Create(*world->registry, world->deployment.home_city, aliases);
  if (!matcher.ok()) std::abort();
  world->matcher = *std::move(matcher);
  world->env = IngestEnv{.catalog = &world->catalog, .registry = world->registry.get(),
                         .deployment = &world->deployment, .matcher = world->matcher.get(), .now = kNow};
  auto converter = RecordConverter::Create(world->env);
  if (!converter.ok()) std::abort();
  world->converter = std::make_unique<RecordConverter>(*std::move(converter));
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pingan;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  // The file's source: none, a canonical one, or a mapped one, chosen by the input's length.
  static constexpr std::string_view kSources[] = {"", "petition", "police", "court", "traffic", "labour"};
  const std::string_view source = kSources[size % 6];
  if (input.substr(0, 4) != "csv\n") {
    RawRecord record;
    record.SetJsonLine(input, false, source, "fuzz", 1);
    Convert(record);
    return 0;
  }
  std::shared_ptr<std::vector<std::string>> header;
  CsvStreamParser parser("fuzz", [&](const CsvRow& row) -> absl::Status {
    if (header == nullptr) {
      header = std::make_shared<std::vector<std::string>>(row.fields.begin(), row.fields.end());
      return absl::OkStatus();
    }
    RawRecord record;
    record.SetCsvRow(header, row.fields, row.oversized, source, "fuzz", static_cast<int64_t>(row.number));
    Convert(record);
    return absl::OkStatus();
  }, CsvLimits{.max_field_bytes = 64 << 10, .max_fields = 1024, .lenient = true});
  (void)parser.Feed(input.data() + 4, input.size() - 4);
  (void)parser.Finish();
  return 0;
}
