// libFuzzer target for one record of ingest (src/ingest/record.h): the input is a JSON line, or
// (when it starts with "csv\n") a CSV header and rows, converted as `pingan ingest` converts
// them against Zhejiang's registry with a small demo city, the project's catalog and its source
// mappings. Built with clang only; `make fuzz` runs it on the seeds in fuzz/corpus/ingest/.
//
// Invariants checked on every record:
//   - conversion is deterministic (the same record twice gives the same answer);
//   - an event names a source and a type of the catalog, a non-empty source_id, a well-formed
//     27-digit unit that the registry resolves, a level from province to room (city or below when
//     counted in the home city), an attributes object that parses as JSON, and a time no later
//     than the clock allows;
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

void Check(const pingan::ConvertResult& result) {
  using namespace pingan;
  if (const auto* entry = std::get_if<QuarantineEntry>(&result)) {
    FUZZ_CHECK(kReasons.count(entry->reason) == 1);
    FUZZ_CHECK(!entry->message.empty());
    FUZZ_CHECK(entry->raw.size() <= (16u << 10));
    return;
  }
  const EventRecord& event = std::get<EventRecord>(result);
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
  FUZZ_CHECK(nlohmann::json::parse(event.attributes_json, nullptr, false).is_object());
}

bool Same(const pingan::ConvertResult& a, const pingan::ConvertResult& b) {
  using namespace pingan;
  if (a.index() != b.index()) return false;
  if (const auto* x = std::get_if<QuarantineEntry>(&a)) {
    const auto& y = std::get<QuarantineEntry>(b);
    return x->reason == y.reason && x->raw == y.raw && x->source_id == y.source_id;
  }
  const auto& x = std::get<EventRecord>(a);
  const auto& y = std::get<EventRecord>(b);
  return x.type == y.type && x.occurred_at == y.occurred_at && x.attributes_json == y.attributes_json &&
         x.placement.unit == y.placement.unit && x.placement.level == y.placement.level &&
         x.status == y.status;
}

void Convert(const pingan::RawRecord& record) {
  pingan::ConverterScratch scratch, other;
  const pingan::ConvertResult first = world->converter->Convert(record, scratch);
  Check(first);
  FUZZ_CHECK(Same(first, world->converter->Convert(record, other)));
  FUZZ_CHECK(Same(first, world->converter->Convert(record, scratch)));  // from the cache
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
    Convert(RawRecord::JsonLine(input, false, source, "fuzz", 1));
    return 0;
  }
  std::shared_ptr<std::vector<std::string>> header;
  CsvStreamParser parser("fuzz", [&](const CsvRow& row) -> absl::Status {
    if (header == nullptr) {
      header = std::make_shared<std::vector<std::string>>(row.fields.begin(), row.fields.end());
      return absl::OkStatus();
    }
    Convert(RawRecord::CsvRow(header, row.fields, row.oversized, source, "fuzz", static_cast<int64_t>(row.number)));
    return absl::OkStatus();
  }, CsvLimits{.max_field_bytes = 64 << 10, .max_fields = 1024, .lenient = true});
  (void)parser.Feed(input.data() + 4, input.size() - 4);
  (void)parser.Finish();
  return 0;
}
