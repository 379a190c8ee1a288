// `pingan geocode`: one address per line on stdin, one JSON object per line on stdout.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <fstream>
#include <map>
#include <ostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "absl/container/flat_hash_map.h"
#include "address/names.h"
#include "address/normalize.h"
#include "catalog/config.h"
#include "cli/commands.h"
#include "cli/line_io.h"
#include "core/paths.h"
#include "core/strings.h"
#include "core/text.h"
#include "geocode/answer.h"
#include "geocode/matcher.h"
#include "store/data_dir.h"

namespace pingan::cli {
namespace {

using nlohmann::json;

struct Geocoder {
  DataDir data;
  std::unique_ptr<Registry> registry;
  std::unique_ptr<Matcher> matcher;

  MatchResult Run(std::string_view line, bool too_long, NormalizedAddress& normalized) const {
    return GeocodeLine(*matcher, line, too_long, normalized);
  }
};

absl::StatusOr<Geocoder> OpenGeocoder(const Context& context) {
  auto data = DataDir::Open(context.data_dir, SqliteStore::Mode::kReadOnly);
  if (!data.ok()) return data.status();
  auto registry = data->store->LoadRegistry();
  if (!registry.ok()) return registry.status();
  auto config_dir = ResolveConfigDir(context);
  if (!config_dir.ok()) return config_dir.status();
  auto config = LoadProjectConfig(*config_dir);
  if (!config.ok()) return config.status();
  std::vector<Alias> aliases;
  for (const AliasConfig& alias : config->aliases) aliases.push_back(Alias{alias.name, alias.unit});
  Geocoder geocoder{*std::move(data), std::make_unique<Registry>(*std::move(registry)), nullptr};
  // The index file is a cache beside the database: written even by this read-only command.
  const MatcherIndexFile index{geocoder.data.store->matcher_index_path(),
                               geocoder.data.store->loaded_registry_generation()};
  auto matcher = Matcher::Open(*geocoder.registry, geocoder.data.deployment.home_city, aliases, index);
  if (!matcher.ok()) return matcher.status();
  geocoder.matcher = *std::move(matcher);
  // The normaliser's tables (about 10 ms to build) are part of the start-up, not of the first line.
  WarmUpNormalizer();
  return geocoder;
}

// True when the place at `level` on the path of `place` is named or coded `expected`.
bool PathHas(const Registry& registry, const Place& place, Level level, const std::string& expected) {
  if (level >= Level::kBuilding) {
    if (place.level < level) return false;
    Place at_level = place;
    at_level.level = level;
    if (level == Level::kBuilding) at_level.entrance = 0, at_level.room = 0;
    if (level == Level::kUnit) at_level.room = 0;
    const std::string code = registry.PlaceCode(at_level).ToString();
    return expected == code || (level == Level::kBuilding && expected == registry.name(place.unit));
  }
  for (UnitId at = place.unit; at.valid() && at != registry.nation(); at = registry.stat_parent(at)) {
    if (registry.level(at) != level) continue;
    const std::string name = registry.name(at);
    if (expected == name || expected == DisplayName(name) || expected == registry.short_name(at)) return true;
    std::string code = registry.code(at).ToString();
    return !expected.empty() && code.compare(0, expected.size(), expected) == 0 &&
           expected.size() >= static_cast<size_t>(LevelDigits(level));
  }
  return false;
}

}  // namespace

int RunGeocode(const Context& context, const std::string& eval_file, int threads, bool timing,
               const std::string& encoding) {
  const auto started = std::chrono::steady_clock::now();
  std::unique_ptr<Transcoder> transcoder;
  if (!Transcoder::IsUtf8(encoding)) {
    if (!eval_file.empty()) return Fail(context, "--encoding: for addresses on stdin, not --eval (its lines are JSON, UTF-8)");
    absl::StatusOr<std::unique_ptr<Transcoder>> opened = Transcoder::Open(encoding);
    if (!opened.ok()) return Fail(context, Cat("--encoding: ", Message(opened.status())));
    transcoder = std::move(*opened);
  }
  auto geocoder = OpenGeocoder(context);
  if (!geocoder.ok()) return Fail(context, Message(geocoder.status()));
  const Registry& registry = *geocoder->registry;
  NormalizedAddress normalized;
  if (eval_file.empty()) {
    if (threads < 1) return Fail(context, "--threads must be at least 1");
    struct Worker {
      NormalizedAddress normalized;
      GeocodeAnswerWriter writer;
      std::vector<MatchResult> results;
    };
    std::vector<std::unique_ptr<Worker>> workers;
    for (int at = 0; at < threads; ++at) workers.push_back(std::make_unique<Worker>(Worker{{}, GeocodeAnswerWriter(registry)}));
    const std::string not_in_encoding = transcoder != nullptr ? Cat("not valid ", transcoder->name()) : "";
    LineReader reader(STDIN_FILENO, transcoder.get());
    const auto ready = std::chrono::steady_clock::now();
    const size_t answered = AnswerInBlocks(reader, threads, *context.out,
                   [&](size_t index, std::span<const std::string> lines, std::span<const uint8_t> too_long,
                       std::span<std::string> answers) {
                     Worker& worker = *workers[index];
                     // Matching all the lines, then writing all the answers: each phase's code
                     // stays in the instruction cache.
                     worker.results.resize(lines.size());
                     for (size_t at = 0; at < lines.size(); ++at) {
                       worker.results[at] = geocoder->Run(lines[at], too_long[at] != 0, worker.normalized);
                       // A byte the input's encoding does not have became one that is never UTF-8.
                       if (transcoder != nullptr && worker.results[at].reason == "invalid UTF-8") {
                         worker.results[at].reason = not_in_encoding;
                       }
                     }
                     for (size_t at = 0; at < lines.size(); ++at) {
                       std::string_view echo = lines[at];
                       if (too_long[at]) echo = echo.substr(0, 256);
                       worker.writer.Write(echo, worker.results[at], answers[at]);
                     }
                   });
    if (timing) ReportTiming(*context.err, "geocode", started, ready, answered);
    return 0;
  }
  const int fd = ::open(eval_file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Fail(context, Cat(eval_file, ": cannot open"));
  LineReader reader(fd);
  std::map<Level, std::pair<size_t, size_t>> per_level;  // level -> (right, total)
  std::map<std::string, std::pair<size_t, size_t>> per_noise;  // noise kind -> (right, total) at the deepest level
  std::map<std::string, size_t> statuses;
  // Calibration: per band of confidence, the answers and how many are right at their own level
  // (or at the deepest level expected, when the answer goes deeper).
  constexpr double kBands[] = {0, 0.5, 0.7, 0.8, 0.9, 0.95, 1.0001};
  constexpr size_t kBandCount = std::size(kBands) - 1;
  size_t band_total[kBandCount] = {}, band_right[kBandCount] = {};
  double band_confidence[kBandCount] = {};
  std::string line;
  bool too_long = false;
  size_t line_number = 0;
  int status = 0;
  while (reader.Next(line, too_long)) {
    ++line_number;
    if (line.empty()) continue;
    if (too_long) {
      status = Fail(context, Cat(eval_file, ":", line_number, ": line longer than ", kMaxLineBytes, " bytes"));
      break;
    }
    json item = json::parse(line, nullptr, false);
    if (item.is_discarded() || !item.is_object() || !item.contains("text") || !item["text"].is_string() ||
        !item.contains("expect") || !item["expect"].is_object() || item["expect"].empty()) {
      status = Fail(context, Cat(eval_file, ":", line_number, ": expected {\"text\": ..., \"expect\": {level: name-or-code}}"));
      break;
    }
    const std::string text = item["text"];
    const MatchResult result = geocoder->Run(text, text.size() > kMaxLineBytes, normalized);
    ++statuses[std::string(MatchStatusName(result.status))];
    Level deepest = Level::kNation;
    std::map<Level, std::string> expect;
    for (const auto& [level_name, expected] : item["expect"].items()) {
      auto level = ParseLevel(level_name);
      if (!level || *level == Level::kNation || !expected.is_string()) {
        status = Fail(context, Cat(eval_file, ":", line_number, ": bad expectation '", Printable(level_name, 64), "'"));
        break;
      }
      expect[*level] = expected.get<std::string>();
      deepest = std::max(deepest, *level);
    }
    if (status != 0) break;
    for (const auto& [level, expected] : expect) {
      auto& [right, total] = per_level[level];
      ++total;
      if (result.unit().valid() && PathHas(registry, result.place, level, expected)) ++right;
    }
    if (item.contains("noise") && item["noise"].is_string()) {
      auto& [right, total] = per_noise[Printable(item["noise"].get<std::string>(), 64)];
      ++total;
      if (result.unit().valid() && PathHas(registry, result.place, deepest, expect[deepest])) ++right;
    }
    if (result.unit().valid()) {
      // The answer's own level, or the deepest expected above it.
      Level level = std::min(result.level(), deepest);
      while (level > Level::kNation && !expect.contains(level)) level = static_cast<Level>(static_cast<int>(level) - 1);
      if (level != Level::kNation) {
        size_t band = 0;
        while (band + 1 < kBandCount && result.confidence >= kBands[band + 1]) ++band;
        ++band_total[band];
        band_confidence[band] += result.confidence;
        if (PathHas(registry, result.place, level, expect[level])) ++band_right[band];
      }
    }
  }
  ::close(fd);
  if (status != 0) return status;
  std::ostream& out = *context.out;
  out << fmt::format("{}: {} addresses\n", eval_file, line_number);
  for (const auto& [level, counts] : per_level) {
    out << fmt::format("  {:<10} {:>7.2f}%  ({} of {})\n", LevelName(level),
                       counts.second ? 100.0 * counts.first / counts.second : 0.0, counts.first, counts.second);
  }
  for (const auto& [status_name, count] : statuses) out << fmt::format("  status {:<10} {}\n", status_name, count);
  if (!per_noise.empty()) {
    out << "  at the deepest level expected, by noise:\n";
    for (const auto& [noise, counts] : per_noise) {
      out << fmt::format("    {:<16} {:>7.2f}%  ({} of {})\n", noise, 100.0 * counts.first / counts.second, counts.first,
                         counts.second);
    }
  }
  out << "  calibration (confidence band: answers, mean confidence, right at their level):\n";
  for (size_t band = 0; band < kBandCount; ++band) {
    if (band_total[band] == 0) continue;
    out << fmt::format("    [{:.2f}, {:.2f})  {:>6}  {:.3f}  {:>7.2f}%\n", kBands[band], std::min(1.0, kBands[band + 1]),
                       band_total[band], band_confidence[band] / band_total[band],
                       100.0 * band_right[band] / band_total[band]);
  }
  return 0;
}

}  // namespace pingan::cli
