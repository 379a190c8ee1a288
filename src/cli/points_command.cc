// `pingan geocode --points`: `lon,lat` lines on stdin, one JSON object per line on stdout, in
// input order (docs/points.md).
#include <unistd.h>

#include <chrono>
#include <ostream>
#include <span>
#include <vector>

#include "cli/commands.h"
#include "cli/line_io.h"
#include "core/datum.h"
#include "core/strings.h"
#include "geocode/point_answer.h"
#include "geocode/point_index.h"
#include "store/data_dir.h"

namespace pingan::cli {
namespace {

// Answers lines; one per thread, each with its own cache of grid paths.
class Worker {
 public:
  Worker(const Registry& registry, const PointIndex& index, Datum datum)
      : index_(index), datum_(datum), writer_(registry) {}

  // Answers lines [begin, end): parsed first, then located together (LocateMany overlaps the
  // memory reads of many points), then written.
  void Answer(std::span<const std::string> lines, std::span<const uint8_t> too_long, std::span<std::string> answers) {
    parsed_.clear();
    points_.clear();
    for (size_t at = 0; at < lines.size(); ++at) {
      parsed_.push_back(ParsePointLine(lines[at], too_long[at] != 0));
      if (parsed_.back().problem != nullptr) continue;
      const LonLat wgs = ToWgs84(datum_, LonLat{parsed_.back().lon, parsed_.back().lat});
      points_.push_back(Point{wgs.lon, wgs.lat});
    }
    places_.resize(points_.size());
    index_.LocateMany(points_, places_);
    size_t next_place = 0;
    for (size_t at = 0; at < lines.size(); ++at) {
      const ParsedPoint& parsed = parsed_[at];
      writer_.Write(lines[at], parsed, parsed.problem == nullptr ? places_[next_place++] : PointResult{}, answers[at]);
    }
  }

 private:
  const PointIndex& index_;
  const Datum datum_;
  PointAnswerWriter writer_;
  std::vector<ParsedPoint> parsed_;
  std::vector<Point> points_;
  std::vector<PointResult> places_;
};

}  // namespace

int RunGeocodePoints(const Context& context, int threads, bool timing, Datum datum) {
  if (threads < 1) return Fail(context, "--threads must be at least 1");
  const auto started = std::chrono::steady_clock::now();
  auto data = DataDir::Open(context.data_dir, SqliteStore::Mode::kReadOnly);
  if (!data.ok()) return Fail(context, Message(data.status()));
  auto registry = data->store->LoadRegistry();
  if (!registry.ok()) return Fail(context, Message(registry.status()));
  std::optional<UnitId> city = registry->Find(data->deployment.home_city);
  if (!city) {
    return Fail(context, Cat("home city ", data->deployment.home_city.ToString().substr(0, 4),
                             " of the deployment is not in the registry"));
  }
  auto index = PointIndex::Create(*registry, *city,
                                  PointIndexOptions{.building_distance_m = data->deployment.geocode.building_distance_m});
  if (!index.ok()) return Fail(context, Message(index.status()));

  std::vector<Worker> workers;
  for (int at = 0; at < threads; ++at) workers.emplace_back(*registry, **index, datum);
  LineReader reader(STDIN_FILENO);
  const auto ready = std::chrono::steady_clock::now();
  const size_t answered =
      AnswerInBlocks(reader, threads, *context.out,
                     [&](size_t worker, std::span<const std::string> lines, std::span<const uint8_t> too_long,
                         std::span<std::string> answers) { workers[worker].Answer(lines, too_long, answers); });
  if (timing) ReportTiming(*context.err, "geocode --points", started, ready, answered);
  return 0;
}

}  // namespace pingan::cli
