// kill -9 of `pingan serve` in the middle of a scripted run of many concurrent task actions:
// every task is left in a state it was committed to, and after a restart the run continues
// (each unacknowledged action re-sent with its idempotency key) with nothing lost or doubled.
#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "auth/auth.h"
#include "loop/task_store.h"
#include "testing/loop_driver.h"
#include "testing/temp_dir.h"

namespace pingan {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

struct Step {
  const char* action;
  bool official;
  const char* state_after;
};
// Seven transitions per task, through a return for more work.
constexpr Step kScript[] = {{"accept", false, "accepted"},  {"start", false, "in_progress"},
                            {"submit", false, "submitted"}, {"return", true, "returned"},
                            {"start", false, "in_progress"}, {"submit", false, "submitted"},
                            {"close", true, "closed"}};
constexpr size_t kSteps = std::size(kScript);

Json BodyOf(const Step& step) {
  if (std::string_view(step.action) == "submit") return Json{{"outcome", "resolved"}, {"feedback", "handled on site"}};
  if (std::string_view(step.action) == "return") return Json{{"note", "photograph the fixed lock"}};
  return Json::object();
}

TEST(LoopCrashTest, KillNineMidRunLosesAndDoublesNothing) {
  testing::TempDir dir;
  const fs::path data = dir.path() / "data";
  fs::copy(std::string(PINGAN_TEST_DATA) + "/report_demo", data, fs::copy_options::recursive);
  constexpr int kWorkers = 8, kTasks = 96;
  const testing::LoopSeed seed = testing::SeedLoop(data, kWorkers, kTasks);
  ASSERT_EQ(seed.tasks.size(), static_cast<size_t>(kTasks));

  // Per task: the next step, and what each acknowledged step answered.
  struct Progress {
    size_t next = 0;
    std::vector<int64_t> acked_versions;
  };
  std::vector<Progress> progress(seed.tasks.size());
  std::atomic<int64_t> acknowledged{0}, replays{0}, conflicts{0}, unexpected{0};

  // One client thread per worker, acting on that worker's tasks in turn (and, for the review
  // steps, as the town official); it stops at the first request without an answer.
  // With `resend_last`, each task's last acknowledged step is first sent again with its key, as
  // a client that never saw the answer would: it must come back replayed, changing nothing.
  std::atomic<int64_t> resent{0};
  auto run = [&](int port, std::atomic<bool>& stop, bool resend_last) {
    std::vector<std::thread> threads;
    for (int w = 0; w < kWorkers; ++w) {
      threads.emplace_back([&, w, port, resend_last] {
        testing::LoopClient client(port);
        const std::string worker = client.Login(seed.workers[static_cast<size_t>(w)], seed.password);
        const std::string official = client.Login(seed.official, seed.password);
        if (worker.empty() || official.empty()) {
          ++unexpected;
          ADD_FAILURE() << "login: " << client.last_error();
          return;
        }
        for (size_t i = 0; resend_last && i < seed.tasks.size(); ++i) {
          if (seed.worker_of[i] != static_cast<size_t>(w) || progress[i].next == 0) continue;
          const size_t last = progress[i].next - 1;
          const Step& step = kScript[last];
          const std::string key = "t" + std::to_string(seed.tasks[i]) + "-s" + std::to_string(last);
          const testing::ActReply reply = client.Act(step.official ? official : worker, seed.tasks[i], step.action, key,
                                                     std::nullopt, BodyOf(step));
          // (The task may be further on: the step in flight at the kill may have committed unanswered.)
          if (reply.status != 200 || !reply.replayed || reply.version < progress[i].acked_versions.back() ||
              reply.version > progress[i].acked_versions.back() + 1) {
            ++unexpected;
            ADD_FAILURE() << "task " << seed.tasks[i] << " re-sent " << step.action << ": HTTP " << reply.status
                          << " replayed " << reply.replayed << " version " << reply.version;
            return;
          }
          ++resent;
        }
        for (bool more = true; more && !stop;) {
          more = false;
          for (size_t i = 0; i < seed.tasks.size() && !stop; ++i) {
            if (seed.worker_of[i] != static_cast<size_t>(w) || progress[i].next == kSteps) continue;
            more = true;
            const Step& step = kScript[progress[i].next];
            const std::string key = "t" + std::to_string(seed.tasks[i]) + "-s" + std::to_string(progress[i].next);
            const testing::ActReply reply = client.Act(step.official ? official : worker, seed.tasks[i], step.action,
                                                       key, std::nullopt, BodyOf(step));
            if (reply.status == -1) return;  // the server is gone: the step stays unacknowledged
            if (reply.status == 409) ++conflicts;
            if (reply.status != 200 || reply.state != step.state_after) {
              ++unexpected;
              ADD_FAILURE() << "task " << seed.tasks[i] << " " << step.action << ": HTTP " << reply.status << " state "
                            << reply.state;
              return;
            }
            replays += reply.replayed ? 1 : 0;
            progress[i].acked_versions.push_back(reply.version);
            ++progress[i].next;
            ++acknowledged;
          }
        }
      });
    }
    return threads;
  };

  const std::string binary = PINGAN_BINARY;
  {
    testing::ServerProcess server(binary, data);
    ASSERT_TRUE(server.Start(testing::FreePort()));
    std::atomic<bool> stop{false};
    auto threads = run(server.port(), stop, false);
    // Kill it mid-run: once about a third of the transitions are acknowledged.
    const int64_t total = static_cast<int64_t>(kTasks * kSteps);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
    while (acknowledged < total / 3 && std::chrono::steady_clock::now() < deadline && unexpected == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    server.Kill9();
    for (auto& thread : threads) thread.join();
    ASSERT_EQ(unexpected, 0) << server.Log();
    ASSERT_GT(acknowledged, 0);
    ASSERT_LT(acknowledged, total) << "the run ended before the kill";
  }
  const int64_t before_restart = acknowledged;
  int64_t started_before_restart = 0;
  for (const Progress& one : progress) started_before_restart += one.next > 0 ? 1 : 0;
  ASSERT_GT(started_before_restart, 0);
  {
    testing::ServerProcess server(binary, data);
    ASSERT_TRUE(server.Start(testing::FreePort()));
    std::atomic<bool> stop{false};
    auto threads = run(server.port(), stop, true);
    for (auto& thread : threads) thread.join();
    server.Stop();
  }
  ASSERT_EQ(unexpected, 0);
  EXPECT_EQ(conflicts, 0);
  EXPECT_EQ(acknowledged, static_cast<int64_t>(kTasks * kSteps));
  EXPECT_EQ(resent, started_before_restart);
  std::cout << "acknowledged before the kill: " << before_restart << " of " << kTasks * kSteps
            << "; acknowledged steps re-sent after the restart, answered as replays: " << resent
            << "; unacknowledged steps found done: " << replays << "\n";

  // The store: each task closed at version 8 (created + 7), its log the script once, in order,
  // every acknowledged version among them; the audit chain whole, one entry per transition.
  auto store = TaskStore::Open(data, LoopSettings{});
  ASSERT_TRUE(store.ok()) << store.status();
  for (size_t i = 0; i < seed.tasks.size(); ++i) {
    auto task = (*store)->Get(seed.tasks[i]);
    ASSERT_TRUE(task.ok() && task->has_value());
    EXPECT_EQ((*task)->state, TaskState::kClosed) << seed.tasks[i];
    EXPECT_EQ((*task)->version, static_cast<int64_t>(kSteps) + 1) << seed.tasks[i];
    auto history = (*store)->History(seed.tasks[i]);
    ASSERT_TRUE(history.ok());
    ASSERT_EQ(history->size(), kSteps + 1) << seed.tasks[i];
    EXPECT_EQ((*history)[0].action, "create");
    for (size_t s = 0; s < kSteps; ++s) {
      EXPECT_EQ((*history)[s + 1].action, kScript[s].action) << seed.tasks[i];
      EXPECT_EQ((*history)[s + 1].version, static_cast<int64_t>(s) + 2);
    }
    EXPECT_EQ(progress[i].acked_versions.size(), kSteps);
    for (size_t s = 0; s < progress[i].acked_versions.size(); ++s) {
      // A replayed answer shows the task as it is now (it may have moved on since): never older.
      EXPECT_GE(progress[i].acked_versions[s], static_cast<int64_t>(s) + 2);
    }
  }
  auto auth = AuthStore::Open(data);
  ASSERT_TRUE(auth.ok());
  EXPECT_TRUE((*auth)->VerifyAudit().ok());
  auto entries = (*auth)->ListAudit(AuditFilter{.limit = -1});
  ASSERT_TRUE(entries.ok());
  // (The server also makes tasks of the warnings it raises on the demo data: not counted here.)
  std::map<std::string, int> per_task;
  for (int64_t id : seed.tasks) per_task["task:" + std::to_string(id)] = 0;
  for (const AuditEntry& entry : *entries) {
    if (entry.action.rfind("task_", 0) == 0 && per_task.contains(entry.target)) ++per_task[entry.target];
  }
  ASSERT_EQ(per_task.size(), seed.tasks.size());
  for (const auto& [target, count] : per_task) EXPECT_EQ(count, static_cast<int>(kSteps) + 1) << target;
}

}  // namespace
}  // namespace pingan
