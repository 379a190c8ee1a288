// EventStore::WriteBatch in batches of 20,000 (no data needed): fresh events, identical
// re-sends and changed re-sends, into a pingan.db in $PINGAN_BENCH_TMP (default: the system's
// temporary directory; put it on the disk the data directory lives on). items/s = events/s.
//   build/h-store-rel/bench/event_store_benchmark
// time_index:1 adds an index on occurred_at (the schema has none), to show what it costs a write.
#include "benchmark_main.h"
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <unistd.h>

#include "core/rng.h"
#include "core/strings.h"
#include "store/event_store.h"
#include "store/sqlite_store.h"

namespace pingan {
namespace {

constexpr int kBatchSize = 20'000;
// As pingan's main() does, before anything opens a database.
const bool kSqliteConfigured = (ConfigureSqlite(), true);
constexpr const char* kTypes[] = {"criminal.theft", "criminal.telecom_fraud", "dispute.call", "traffic.accident",
                                  "fire.alarm", "petition.visit", "litigation.civil", "labour.wage_arrears"};

// One event of realistic width (Chinese address, a point, attributes, a text placement).
EventRecord MakeEvent(int64_t number, int version) {
  Rng rng(static_cast<uint64_t>(number));
  EventRecord event;
  event.source = "police";
  event.source_id = Cat("JJ", 330100000000 + number);
  event.type = kTypes[number % std::size(kTypes)];
  event.occurred_at = 1'600'000'000 + rng.Int(0, 100'000'000);
  event.address = Cat("浙江省杭州市西湖区文三路", rng.Int(1, 999), "号", rng.Int(1, 30), "幢", rng.Int(101, 2405), "室");
  event.lon = 120.0 + rng.Int(0, 1'000'000) * 1e-6;
  event.lat = 30.0 + rng.Int(0, 1'000'000) * 1e-6;
  event.attributes_json = Cat(R"({"loss_yuan":)", rng.Int(0, 50'000), R"(,"solved":false,"v":)", version, "}");
  event.placement = Placement{.method = PlaceMethod::kText,
                              .unit = Cat("330106", rng.Int(100, 999), "000000000000000000"),
                              .level = 8, .geocode_status = "matched", .confidence = 0.93f};
  return event;
}

std::vector<EventRecord> MakeBatch(int64_t first, int version) {
  std::vector<EventRecord> batch;
  batch.reserve(kBatchSize);
  for (int64_t index = 0; index < kBatchSize; ++index) batch.push_back(MakeEvent(first + index, version));
  return batch;
}

struct Bench {
  explicit Bench(bool time_index) {
    const char* tmp = std::getenv("PINGAN_BENCH_TMP");
    dir = std::filesystem::path(tmp && *tmp ? tmp : std::filesystem::temp_directory_path().c_str()) /
          Cat("pingan-event-bench-", ::getpid());
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    auto created = SqliteStore::Create(dir / "pingan.db");
    if (!created.ok() || !(*created)->Finish().ok()) Fail("create");
    created->reset();
    auto opened = SqliteStore::Open(dir / "pingan.db");
    if (!opened.ok()) Fail("open");
    store = *std::move(opened);
    if (time_index && !store->Exec("CREATE INDEX events_time ON events(occurred_at)").ok()) Fail("index");
    auto events_or = EventStore::Open(store->handle());
    if (!events_or.ok()) Fail("open events");
    events = *std::move(events_or);
  }
  ~Bench() {
    events.reset();
    store.reset();
    std::filesystem::remove_all(dir);
  }
  void Write(const std::vector<EventRecord>& batch) {
    if (!events->WriteBatch(batch, {}, &outcomes).ok()) Fail("write");
  }
  [[noreturn]] static void Fail(const char* what) {
    std::cerr << "event_store_benchmark: " << what << " failed\n";
    std::exit(1);
  }
  std::filesystem::path dir;
  std::unique_ptr<SqliteStore> store;
  std::unique_ptr<EventStore> events;
  std::vector<UpsertOutcome> outcomes;
};

// New keys every batch; the table grows through the run (to about a million rows).
void BM_WriteFresh(benchmark::State& state) {
  Bench bench(state.range(0) != 0);
  int64_t next = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto batch = MakeBatch(next, 0);
    next += kBatchSize;
    state.ResumeTiming();
    bench.Write(batch);
  }
  state.SetItemsProcessed(state.iterations() * kBatchSize);
  state.counters["rows"] = static_cast<double>(next);
}
BENCHMARK(BM_WriteFresh)->Arg(1)->ArgName("time_index")->Iterations(50)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_WriteFresh)->Arg(0)->ArgName("time_index")->Iterations(50)->UseRealTime()->Unit(benchmark::kMillisecond);

// Re-sends over 500,000 stored events: identical (range 1 = 0) or each one changed.
void WriteResends(benchmark::State& state, bool changed) {
  Bench bench(false);
  constexpr int kStoredBatches = 25;
  std::vector<std::vector<EventRecord>> batches;
  for (int index = 0; index < kStoredBatches; ++index) {
    batches.push_back(MakeBatch(int64_t{index} * kBatchSize, 0));
    bench.Write(batches.back());
  }
  int version = 0;
  size_t index = 0;
  for (auto _ : state) {
    if (changed) {
      state.PauseTiming();
      if (index % kStoredBatches == 0) ++version;
      batches[index % kStoredBatches] = MakeBatch(int64_t(index % kStoredBatches) * kBatchSize, version);
      state.ResumeTiming();
    }
    bench.Write(batches[index++ % kStoredBatches]);
    const UpsertOutcome expected = changed ? UpsertOutcome::kUpdated : UpsertOutcome::kUnchanged;
    if (bench.outcomes.back() != expected) Bench::Fail("unexpected outcome");
  }
  state.SetItemsProcessed(state.iterations() * kBatchSize);
}
void BM_WriteIdentical(benchmark::State& state) { WriteResends(state, false); }
void BM_WriteChanged(benchmark::State& state) { WriteResends(state, true); }
BENCHMARK(BM_WriteIdentical)->Iterations(50)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_WriteChanged)->Iterations(50)->UseRealTime()->Unit(benchmark::kMillisecond);

// Streaming a whole time range back: ListEvents over the first 500,000 events.
void BM_ListEvents(benchmark::State& state) {
  Bench bench(false);
  for (int index = 0; index < 25; ++index) bench.Write(MakeBatch(int64_t{index} * kBatchSize, 0));
  int64_t rows = 0;
  for (auto _ : state) {
    if (!bench.events->ListEvents({.from = 1'600'000'000, .to = 1'650'000'000}, [&](const StoredEvent&) {
          ++rows;
          return true;
        }).ok()) {
      Bench::Fail("list");
    }
  }
  state.SetItemsProcessed(rows);
}
BENCHMARK(BM_ListEvents)->Iterations(5)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace pingan

PINGAN_BENCHMARK_MAIN();
