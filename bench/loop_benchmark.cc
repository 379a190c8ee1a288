// Task transitions through the HTTP API with durable commits: `pingan serve` (Release) on a copy
// of a data directory, N keep-alive clients on this machine, each a grid worker cycling its own
// task through start → submit → return (the town official) for S seconds, every request with
// an idempotency key and the version it expects. Two runs on the same data:
//   group commit  the server as it ships (one writer commits the transitions queued meanwhile
//                 together, synchronous=FULL);
//   baseline      --task-batch 1: the same writer committing each transition on its own.
// Prints transitions/s and latency percentiles of each.
//
//   build/release/bench/loop_benchmark [--data DIR] [--clients 16] [--seconds 10]
#include "core/huge_pages.h"
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "testing/loop_driver.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Result {
  int64_t transitions = 0, errors = 0;
  double seconds = 0;
  std::vector<double> latencies_ms;
};

double Percentile(std::vector<double>& values, double p) {
  if (values.empty()) return 0;
  const size_t at = std::min(values.size() - 1, static_cast<size_t>(p * static_cast<double>(values.size())));
  std::nth_element(values.begin(), values.begin() + static_cast<ptrdiff_t>(at), values.end());
  return values[at];
}

Result RunOnce(const fs::path& source, const fs::path& work, int clients, int seconds, std::vector<std::string> extra) {
  Result result;
  std::error_code ec;
  fs::remove_all(work, ec);
  fs::create_directories(work);
  const fs::path data = work / "data";
  fs::copy(source, data, fs::copy_options::recursive);
  const pingan::testing::LoopSeed seed = pingan::testing::SeedLoop(data, clients, clients);
  if (seed.tasks.size() != static_cast<size_t>(clients)) {
    std::cerr << "loop_benchmark: could not seed the tasks\n";
    result.errors = 1;
    return result;
  }
  pingan::testing::ServerProcess server(PINGAN_BINARY, data, std::move(extra));
  if (!server.Start(pingan::testing::FreePort())) {
    std::cerr << "loop_benchmark: the server did not start (see " << work.string() << ")\n";
    result.errors = 1;
    return result;
  }
  std::atomic<bool> go{false}, stop{false};
  std::atomic<int> ready{0};
  std::vector<Result> parts(static_cast<size_t>(clients));
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      Result& mine = parts[static_cast<size_t>(c)];
      pingan::testing::LoopClient client(server.port());
      const std::string worker = client.Login(seed.workers[static_cast<size_t>(c)], seed.password);
      const std::string official = client.Login(seed.official, seed.password);
      const int64_t task = seed.tasks[static_cast<size_t>(c)];
      int64_t version = 1;
      int64_t sequence = 0;
      auto act = [&](const std::string& token, const char* action, nlohmann::json body, bool timed) {
        const std::string key = "bench-" + std::to_string(task) + "-" + std::to_string(sequence++);
        const auto started = Clock::now();
        const pingan::testing::ActReply reply = client.Act(token, task, action, key, version, std::move(body));
        const double ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
        if (reply.status != 200) {
          ++mine.errors;
          return false;
        }
        version = reply.version;
        if (timed) {
          ++mine.transitions;
          mine.latencies_ms.push_back(ms);
        }
        return true;
      };
      const bool accepted = !worker.empty() && !official.empty() && act(worker, "accept", nlohmann::json::object(), false);
      ++ready;
      while (!go) std::this_thread::yield();
      if (!accepted) return;
      while (!stop) {
        if (!act(worker, "start", nlohmann::json::object(), true)) break;
        if (!act(worker, "submit", {{"outcome", "resolved"}, {"feedback", "handled on site"}}, true)) break;
        if (!act(official, "return", {{"note", "check again"}}, true)) break;
      }
    });
  }
  while (ready < clients) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  const auto started = Clock::now();
  go = true;
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  stop = true;
  for (auto& thread : threads) thread.join();
  result.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  for (Result& part : parts) {
    result.transitions += part.transitions;
    result.errors += part.errors;
    result.latencies_ms.insert(result.latencies_ms.end(), part.latencies_ms.begin(), part.latencies_ms.end());
  }
  server.Stop();
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  pingan::UseHugePagesForHeap(argv);  // as the pingan binary does
  fs::path data = fs::path(PINGAN_TEST_DATA) / "report_demo";
  int clients = 16, seconds = 10;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--data") {
      data = argv[i + 1];
    } else if (flag == "--clients") {
      clients = std::clamp(std::atoi(argv[i + 1]), 1, 256);
    } else if (flag == "--seconds") {
      seconds = std::clamp(std::atoi(argv[i + 1]), 1, 600);
    } else {
      std::cerr << "usage: loop_benchmark [--data DIR] [--clients N] [--seconds S]\n";
      return 2;
    }
  }
  if (!fs::exists(data / "pingan.db")) {
    std::cerr << "loop_benchmark: no data directory at " << data.string()
              << " (--data DIR, or build the test fixture: ctest -R testdata_report_demo)\n";
    return 2;
  }
  const fs::path work = fs::temp_directory_path() / ("pingan-loop-bench-" + std::to_string(getpid()));
  std::printf("task transitions over HTTP, %d clients, %d s each, data %s\n", clients, seconds, data.c_str());
  std::printf("%-44s %12s %9s %9s %9s %7s\n", "server", "transitions/s", "p50 ms", "p99 ms", "max ms", "errors");
  int status = 0;
  for (const auto& [name, extra] : std::vector<std::pair<std::string, std::vector<std::string>>>{
           {"group commit (as shipped)", {}}, {"baseline: a commit per transition (--task-batch 1)", {"--task-batch", "1"}}}) {
    Result result = RunOnce(data, work, clients, seconds, extra);
    const double rate = result.seconds > 0 ? static_cast<double>(result.transitions) / result.seconds : 0;
    const double p50 = Percentile(result.latencies_ms, 0.50), p99 = Percentile(result.latencies_ms, 0.99);
    const double max = result.latencies_ms.empty() ? 0 : *std::max_element(result.latencies_ms.begin(), result.latencies_ms.end());
    std::printf("%-44s %12.0f %9.2f %9.2f %9.2f %7lld\n", name.c_str(), rate, p50, p99, max,
                static_cast<long long>(result.errors));
    std::fflush(stdout);
    if (result.errors > 0) status = 1;
  }
  std::error_code ec;
  fs::remove_all(work, ec);
  return status;
}
