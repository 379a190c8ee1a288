// The geocoder (normalise + match) on a scale-1 data directory: the national registry and the
// demo city at scale 1 loaded, as the geocoder issue asks.
//   PINGAN_BENCH_DATA=DIR      the data directory (scripts/bench.sh creates it)
//   PINGAN_BENCH_LINES=FILE    addresses, one per line; a .jsonl file gives its "text" fields.
//                              Default: DIR/eval/clean.jsonl and DIR/eval/noisy.jsonl.
// Reports addresses/s on one core (BM_Geocode), with 2 threads (BM_Geocode/threads:2), and the
// latency percentiles of single addresses (BM_GeocodeLatency: p50, p99, max as counters; and
// p99_least_of_5_us, the p99 of each address's least of five timings).
#include "benchmark_main.h"
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <limits>

#include <nlohmann/json.hpp>

#include "address/normalize.h"
#include "catalog/config.h"
#include "core/paths.h"
#include "geocode/matcher.h"
#include "bench_data.h"

namespace pingan {
namespace {

struct Loaded {
  std::unique_ptr<Registry> registry;
  std::unique_ptr<Matcher> matcher;
  std::vector<std::string> lines;
};

void ReadLines(const std::string& path, std::vector<std::string>& out) {
  std::ifstream in(path);
  if (!in) return;
  const bool jsonl = path.ends_with(".jsonl");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (!jsonl) {
      out.push_back(line);
      continue;
    }
    auto item = nlohmann::json::parse(line, nullptr, false);
    if (item.is_object() && item.contains("text") && item["text"].is_string()) out.push_back(item["text"]);
  }
}

const Loaded& Data() {
  static const Loaded* loaded = [] {
    BenchData data = LoadBenchData();
    const std::string& dir = data.dir;
    auto* out = new Loaded{std::move(data.registry)};
    auto root = ResourceRoot();
    if (!root.ok()) std::cerr << root.status() << "\n", std::exit(2);
    auto config = LoadProjectConfig(*root / "config");
    if (!config.ok()) std::cerr << config.status() << "\n", std::exit(2);
    std::vector<Alias> aliases;
    for (const AliasConfig& alias : config->aliases) aliases.push_back(Alias{alias.name, alias.unit});
    auto start = std::chrono::steady_clock::now();
    auto matcher = Matcher::Create(*out->registry, data.deployment.home_city, aliases);
    if (!matcher.ok()) std::cerr << matcher.status() << "\n", std::exit(2);
    out->matcher = *std::move(matcher);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const Matcher::Stats stats = out->matcher->stats();
    std::cerr << "matcher built in " << seconds << " s: " << stats.keys << " keys, " << stats.entries
              << " entries, " << stats.trie_nodes << " trie nodes, " << stats.fuzzy_keys << " fuzzy keys\n";
    if (const char* lines = std::getenv("PINGAN_BENCH_LINES"); lines != nullptr && *lines != '\0') {
      ReadLines(lines, out->lines);
    } else {
      ReadLines(dir + "/eval/clean.jsonl", out->lines);
      ReadLines(dir + "/eval/noisy.jsonl", out->lines);
    }
    if (out->lines.empty()) std::cerr << "no address lines (PINGAN_BENCH_LINES)\n", std::exit(2);
    std::cerr << out->lines.size() << " address lines\n";
    WarmUpNormalizer();
    return out;
  }();
  return *loaded;
}

// Normalise and match, as `pingan geocode` does for each line.
void BM_Geocode(benchmark::State& state) {
  const Loaded& data = Data();
  NormalizedAddress normalized;
  const NormalizeOptions options{.max_bytes = 4096};
  size_t index = state.thread_index() * 7919, matched = 0;
  for (auto _ : state) {
    const std::string& line = data.lines[index++ % data.lines.size()];
    if (!NormalizeAddressInto(line, options, normalized).ok()) continue;
    MatchResult result = data.matcher->Match(normalized.text);
    matched += result.unit().valid();
    benchmark::DoNotOptimize(result);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["matched_share"] = static_cast<double>(matched) / std::max<double>(1, state.iterations());
}
BENCHMARK(BM_Geocode)->Threads(1)->Threads(2)->UseRealTime();

// The matcher alone, on normalised text.
void BM_MatchOnly(benchmark::State& state) {
  const Loaded& data = Data();
  static const std::vector<std::string>* texts = [&] {
    auto* out = new std::vector<std::string>;
    for (const std::string& line : data.lines) {
      auto normalized = NormalizeAddress(line, NormalizeOptions{.max_bytes = 4096});
      if (normalized.ok()) out->push_back(normalized->text);
    }
    return out;
  }();
  size_t index = 0;
  for (auto _ : state) {
    MatchResult result = data.matcher->Match((*texts)[index++ % texts->size()]);
    benchmark::DoNotOptimize(result);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MatchOnly);

// Latency per address: each timed alone, percentiles over all lines.
void BM_GeocodeLatency(benchmark::State& state) {
  const Loaded& data = Data();
  NormalizedAddress normalized;
  const NormalizeOptions options{.max_bytes = 4096};
  auto micros_for = [&](const std::string& line) {  // one address, normalised and matched
    const auto start = std::chrono::steady_clock::now();
    if (NormalizeAddressInto(line, options, normalized).ok()) {
      MatchResult result = data.matcher->Match(normalized.text);
      benchmark::DoNotOptimize(result);
    }
    return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
  };
  std::vector<double> micros;
  micros.reserve(data.lines.size());
  for (auto _ : state) {
    micros.clear();
    for (const std::string& line : data.lines) micros.push_back(micros_for(line));
  }
  std::sort(micros.begin(), micros.end());
  auto at = [&](double q) { return micros[std::min(micros.size() - 1, static_cast<size_t>(q * micros.size()))]; };
  state.counters["p50_us"] = at(0.5);
  state.counters["p99_us"] = at(0.99);
  state.counters["p999_us"] = at(0.999);
  state.counters["max_us"] = micros.back();
  // Each address's own cost: the least of five timings, which this virtual machine's interrupts
  // and stolen time do not inflate (they do the single timings above). Its p99 says which
  // addresses are slow by themselves; the gap to p99_us is the machine.
  std::vector<double> least(data.lines.size(), std::numeric_limits<double>::infinity());
  for (int round = 0; round < 5; ++round) {
    for (size_t index = 0; index < data.lines.size(); ++index) least[index] = std::min(least[index], micros_for(data.lines[index]));
  }
  std::sort(least.begin(), least.end());
  state.counters["p99_least_of_5_us"] = least[std::min(least.size() - 1, least.size() * 99 / 100)];
  state.SetItemsProcessed(state.iterations() * data.lines.size());
}
BENCHMARK(BM_GeocodeLatency)->Iterations(3)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace pingan

PINGAN_BENCHMARK_MAIN();
