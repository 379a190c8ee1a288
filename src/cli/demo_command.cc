// `pingan demo`: a data directory with the demo city and years of its history: init when
// needed, the seven source feeds into DIR/feeds/ (kept when an earlier run made the same ones),
// then every feed file through the ingester.
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <ostream>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/ingest_env.h"
#include "core/status.h"
#include "core/strings.h"
#include "ingest/ingest.h"
#include "sim/feeds.h"

namespace pingan::cli {
namespace {

absl::StatusOr<absl::CivilDay> DayOption(std::string_view name, const std::string& text) {
  absl::CivilDay day;
  if (!absl::ParseCivilTime(text, &day) || absl::FormatCivilTime(day) != text) {
    return absl::InvalidArgumentError(Cat("--", name, " must be a date YYYY-MM-DD, not '", text, "'"));
  }
  return day;
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

}  // namespace

int RunDemo(const Context& context, const DemoOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  std::ostream& out = *context.out;
  auto from = DayOption("from", options.from);
  if (!from.ok()) return Fail(context, Message(from.status()));
  auto to = DayOption("to", options.to);
  if (!to.ok()) return Fail(context, Message(to.status()));
  if (*to < *from) return Fail(context, "--to is before --from");
  if (options.threads < 1) return Fail(context, "--threads must be at least 1");

  if (!DataDir::Exists(context.data_dir)) {
    if (int code = RunInit(context, options.seed, options.scale, /*rebuild=*/false, /*demo=*/true, ""); code != 0) return code;
  }
  // A demo already ingested with these feeds is left as it is (`make run` calls this each time).
  const std::string signature = fmt::format("seed={} from={} to={}", options.seed, options.from, options.to);
  {
    auto data = DataDir::Open(context.data_dir, SqliteStore::Mode::kReadOnly);
    if (!data.ok()) return Fail(context, Message(data.status()));
    auto done = data->store->GetMeta("demo_ingested");
    if (!done.ok()) return Fail(context, Message(done.status()));
    if (*done == signature) {
      out << fmt::format("demo already in {} ({})\n", context.data_dir.string(), signature);
      return 0;
    }
  }
  auto opened = OpenIngestEnv(context, options.threads, /*need_geocoder=*/true);
  if (!opened.ok()) return Fail(context, Message(opened.status()));
  const Registry& registry = *(*opened)->registry;
  const Catalog& catalog = (*opened)->catalog;

  // The feeds: the registry's own scale when it records one (the city they are drawn from).
  const Deployment& deployment = (*opened)->data.deployment;
  FeedOptions feed_options{.seed = options.seed,
                           .scale = deployment.demo ? deployment.demo->scale : options.scale,
                           .from = *from,
                           .to = *to,
                           .home_city = deployment.home_city};
  const std::filesystem::path feeds_dir = context.data_dir / "feeds";
  auto ingester = Ingester::Create((*opened)->env);
  if (!ingester.ok()) return Fail(context, Message(ingester.status()));
  IngestSummary summary;
  auto ingest = [&](const FeedFile& file) -> absl::Status {
    if (file.source == "truth") return absl::OkStatus();
    IngestSummary one;
    PA_RETURN_IF_ERROR((*ingester)->IngestFile(file.path, &one, file.source));
    summary.Add(one);
    return absl::OkStatus();
  };

  const auto generating = std::chrono::steady_clock::now();
  std::optional<std::vector<FeedFile>> files = ExistingDemoFeeds(feed_options, feeds_dir);
  const bool fresh = !files.has_value();
  double generation_seconds = 0;
  if (fresh) {
    // The generator (one core) writes file after file; each is ingested as soon as it is
    // complete, on this thread, while the next is written.
    std::mutex mutex;
    std::condition_variable changed;
    std::deque<FeedFile> ready;
    bool finished = false;
    absl::StatusOr<std::vector<FeedFile>> written = std::vector<FeedFile>();
    std::thread generator([&] {
      written = WriteDemoFeeds(registry, catalog, feed_options, feeds_dir, [&](const FeedFile& file) {
        std::lock_guard lock(mutex);
        ready.push_back(file);
        changed.notify_all();
        return absl::OkStatus();
      });
      generation_seconds = Seconds(generating);
      std::lock_guard lock(mutex);
      finished = true;
      changed.notify_all();
    });
    absl::Status ingested;
    while (true) {
      std::unique_lock lock(mutex);
      changed.wait(lock, [&] { return !ready.empty() || finished; });
      if (ready.empty()) break;
      FeedFile file = ready.front();
      ready.pop_front();
      lock.unlock();
      if (ingested.ok()) ingested = ingest(file);  // after an error, let the generator finish
    }
    generator.join();
    if (!written.ok()) return Fail(context, Message(written.status()));
    if (!ingested.ok()) return Fail(context, Message(ingested));
    files = *std::move(written);
  } else {
    for (const FeedFile& file : *files) {
      if (absl::Status status = ingest(file); !status.ok()) return Fail(context, Message(status));
    }
  }
  int64_t records = 0;
  for (const FeedFile& file : *files) records += file.source == "truth" ? 0 : file.records;
  out << fmt::format("feeds: {} records in {} files under {} ({})\n", records, files->size() - 1,
                     feeds_dir.string(),
                     fresh ? fmt::format("generated in {:.1f} s, ingested as they were written", generation_seconds)
                           : std::string("up to date, kept"));
  out << summary.Text();
  if (auto status = (*opened)->data.store->SetMeta("demo_ingested", signature); !status.ok()) {
    return Fail(context, Message(status));
  }
  out << fmt::format("demo ready in {} ({:.1f} s)\n", context.data_dir.string(), Seconds(started));
  return 0;
}

}  // namespace pingan::cli
