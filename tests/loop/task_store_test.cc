// The closed loop's task store: a task's life, who may act, conflicts, idempotency, photos,
// escalation, the loop's figures and config/loop.toml.
#include "loop/task_store.h"

#include <atomic>
#include <fstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "assess/warnings.h"
#include "auth/auth.h"
#include "catalog/catalog.h"
#include "store/sqlite_store.h"
#include "testing/temp_dir.h"

namespace pingan {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr char kGridA[] = "330106001001001000000000000";
constexpr char kGridB[] = "330106001001002000000000000";
constexpr char kTown[] = "330106001000000000000000000";

Principal As(const std::string& name, Role role, std::vector<std::string> scopes) {
  return Principal{.user_id = 1, .name = name, .role = role, .scopes = std::move(scopes)};
}

class TaskStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = SqliteStore::Create(dir_.path() / "pingan.db");
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE((*store)->Finish().ok());
    Reopen();
    users_ = {User{.id = 1, .name = "wa", .role = Role::kGridWorker, .scopes = {"330106001001001"}},
              User{.id = 2, .name = "wa2", .role = Role::kGridWorker, .scopes = {"330106001001001"}},
              User{.id = 3, .name = "wb", .role = Role::kGridWorker, .scopes = {"330106001001002"}},
              User{.id = 4, .name = "off", .role = Role::kGridWorker, .scopes = {"330106001001002"}, .disabled = true},
              User{.id = 5, .name = "town", .role = Role::kTownOfficial, .scopes = {"330106001"}}};
  }
  void Reopen() {
    store_.reset();
    LoopSettings settings;
    settings.photo_max_bytes = 2048;
    settings.photo_max_per_task = 2;
    auto store = TaskStore::Open(dir_.path(), settings, TaskStoreOptions{.clock = [this] { return now_.load(); }});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  Warning MakeWarning(int64_t id, const std::string& unit, const std::string& grade = "red") {
    return Warning{.id = id, .unit = unit, .level = "grid", .key_type = "key.theft", .period = "2024-06",
                   .grade = grade, .score = 2.5};
  }
  Task Create(const std::string& grid, int64_t warning_id = 1) {
    auto made = store_->CreateFromWarning(MakeWarning(warning_id, grid), {grid}, users_, "system");
    EXPECT_TRUE(made.ok()) << made.status();
    EXPECT_EQ(made->size(), 1u);
    return made->front();
  }
  TaskOutcome Act(int64_t id, TaskAction action, const Principal& who, std::optional<int64_t> version,
                  std::string key = "", std::function<void(TaskRequest&)> fill = nullptr) {
    TaskRequest request{.task_id = id, .action = action, .actor = who, .idempotency_key = std::move(key),
                        .expected_version = version};
    if (fill) fill(request);
    return store_->Apply(std::move(request));
  }
  static void Feedback(TaskRequest& request) {
    request.outcome = "resolved";
    request.feedback = "门禁已修复";
  }

  testing::TempDir dir_;
  std::atomic<int64_t> now_{1'700'000'000};
  std::vector<User> users_;
  std::unique_ptr<TaskStore> store_;
  const Principal wa_ = As("wa", Role::kGridWorker, {"330106001001001"});
  const Principal wa2_ = As("wa2", Role::kGridWorker, {"330106001001001"});
  const Principal wb_ = As("wb", Role::kGridWorker, {"330106001001002"});
  const Principal town_ = As("town", Role::kTownOfficial, {"330106001"});
  const Principal other_town_ = As("town2", Role::kTownOfficial, {"330106002"});
  const Principal analyst_ = As("ana", Role::kDistrictAnalyst, {"330106"});
};

TEST_F(TaskStoreTest, CreatesOneTaskPerGridOfferedToItsActiveWorkers) {
  auto made = store_->CreateFromWarning(MakeWarning(7, kTown), {kGridA, kGridB}, users_, "system");
  ASSERT_TRUE(made.ok()) << made.status();
  ASSERT_EQ(made->size(), 2u);
  EXPECT_EQ((*made)[0].candidates, (std::vector<std::string>{"wa", "wa2"}));
  EXPECT_EQ((*made)[1].candidates, (std::vector<std::string>{"wb"}));  // "off" is disabled
  EXPECT_EQ((*made)[0].town, kTown);
  EXPECT_EQ((*made)[0].deadline, now_ + 24 * 3600);  // red: 24 h
  EXPECT_EQ((*made)[0].state, TaskState::kIssued);
  // A repeat makes nothing twice.
  auto again = store_->CreateFromWarning(MakeWarning(7, kTown), {kGridA, kGridB}, users_, "system");
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->empty());
  // A grid with no worker: the town official's queue.
  auto lonely = store_->CreateFromWarning(MakeWarning(8, "330106001001009000000000000", "orange"),
                                          {"330106001001009000000000000"}, users_, "town");
  ASSERT_TRUE(lonely.ok() && lonely->size() == 1);
  EXPECT_TRUE(lonely->front().in_town_queue());
  EXPECT_EQ(lonely->front().deadline, now_ + 72 * 3600);
}

TEST_F(TaskStoreTest, ALifeFromIssuedToClosedThroughAReturn) {
  const Task task = Create(kGridA);
  auto step = [&](TaskAction action, const Principal& who, int64_t version, TaskState after,
                  std::function<void(TaskRequest&)> fill = nullptr) {
    now_ += 60;
    TaskOutcome out = Act(task.id, action, who, version, "", fill);
    ASSERT_TRUE(out.status.ok()) << TaskActionName(action) << ": " << out.status;
    EXPECT_EQ(out.task->state, after);
    EXPECT_EQ(out.task->version, version + 1);
  };
  step(TaskAction::kAccept, wa_, 1, TaskState::kAccepted);
  step(TaskAction::kStart, wa_, 2, TaskState::kInProgress);
  step(TaskAction::kSubmit, wa_, 3, TaskState::kSubmitted, Feedback);
  step(TaskAction::kReturn, town_, 4, TaskState::kReturned, [](TaskRequest& r) { r.note = "补拍照片"; });
  step(TaskAction::kStart, wa_, 5, TaskState::kInProgress);
  step(TaskAction::kSubmit, wa_, 6, TaskState::kSubmitted, Feedback);
  step(TaskAction::kClose, town_, 7, TaskState::kClosed);
  auto got = store_->Get(task.id);
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->assignee, "wa");
  EXPECT_EQ((*got)->returns, 1);
  EXPECT_EQ((*got)->outcome, "resolved");
  EXPECT_EQ((*got)->accepted_at, task.created_at + 60);
  EXPECT_EQ((*got)->closed_at, task.created_at + 7 * 60);
  auto history = store_->History(task.id);
  ASSERT_TRUE(history.ok());
  std::vector<std::string> actions;
  for (const auto& entry : *history) actions.push_back(entry.action + ":" + entry.actor);
  EXPECT_EQ(actions, (std::vector<std::string>{"create:system", "accept:wa", "start:wa", "submit:wa", "return:town",
                                               "start:wa", "submit:wa", "close:town"}));
  EXPECT_EQ((*history)[4].detail, "补拍照片");  // the worker sees why it came back
  // The same transitions are in the audit chain, which still verifies.
  auto auth = AuthStore::Open(dir_.path(), AuthOptions{.pwhash_opslimit = 1, .pwhash_memlimit = 8192});
  ASSERT_TRUE(auth.ok());
  auto audit = (*auth)->ListAudit(AuditFilter{.limit = -1});
  ASSERT_TRUE(audit.ok());
  int task_entries = 0;
  for (const AuditEntry& entry : *audit) {
    if (entry.target != "task:" + std::to_string(task.id)) continue;
    ++task_entries;
    EXPECT_THAT(entry.detail, ::testing::Not(HasSubstr("补拍照片")));  // free text stays out of the audit log
  }
  EXPECT_EQ(task_entries, 8);
  EXPECT_TRUE((*auth)->VerifyAudit().ok());
}

TEST_F(TaskStoreTest, OnlyTheAssignedWorkerAndTheTownsOfficialsAct) {
  const Task task = Create(kGridA);
  EXPECT_EQ(Act(task.id, TaskAction::kAccept, wb_, 1).status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Act(task.id, TaskAction::kAccept, town_, 1).status.code(), absl::StatusCode::kPermissionDenied);
  ASSERT_TRUE(Act(task.id, TaskAction::kAccept, wa_, 1).status.ok());
  ASSERT_TRUE(Act(task.id, TaskAction::kStart, wa_, 2).status.ok());
  ASSERT_TRUE(Act(task.id, TaskAction::kSubmit, wa_, 3, "", Feedback).status.ok());
  EXPECT_EQ(Act(task.id, TaskAction::kClose, wa_, 4).status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Act(task.id, TaskAction::kClose, other_town_, 4).status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Act(task.id, TaskAction::kClose, analyst_, 4).status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(Act(task.id, TaskAction::kClose, town_, 4).status.ok());
}

TEST_F(TaskStoreTest, TwoAtOnceOneWinsTheOtherGetsAConflictWithTheCurrentState) {
  // Two candidates accept the same task from two threads, many times over.
  for (int round = 0; round < 20; ++round) {
    const Task task = Create(kGridA, 100 + round);
    TaskOutcome first, second;
    std::thread a([&] { first = Act(task.id, TaskAction::kAccept, wa_, 1, "a" + std::to_string(round)); });
    std::thread b([&] { second = Act(task.id, TaskAction::kAccept, wa2_, 1, "b" + std::to_string(round)); });
    a.join();
    b.join();
    ASSERT_NE(first.status.ok(), second.status.ok()) << first.status << " / " << second.status;
    const TaskOutcome& lost = first.status.ok() ? second : first;
    EXPECT_EQ(lost.status.code(), absl::StatusCode::kAborted);
    ASSERT_TRUE(lost.task.has_value());
    EXPECT_EQ(lost.task->state, TaskState::kAccepted);
    EXPECT_EQ(lost.task->version, 2);
  }
  // A stale version is a conflict, and changes nothing.
  const Task task = Create(kGridB, 500);
  ASSERT_TRUE(Act(task.id, TaskAction::kAccept, wb_, 1).status.ok());
  TaskOutcome stale = Act(task.id, TaskAction::kStart, wb_, 1);
  EXPECT_EQ(stale.status.code(), absl::StatusCode::kAborted);
  EXPECT_THAT(std::string(stale.status.message()), HasSubstr("version 2"));
  EXPECT_EQ(stale.task->state, TaskState::kAccepted);
  // An action the state does not allow is a conflict too.
  TaskOutcome early = Act(task.id, TaskAction::kSubmit, wb_, 2, "", Feedback);
  EXPECT_EQ(early.status.code(), absl::StatusCode::kAborted);
}

TEST_F(TaskStoreTest, ARetriedKeyDoesNothingTwice) {
  const Task task = Create(kGridA);
  TaskOutcome first = Act(task.id, TaskAction::kAccept, wa_, std::nullopt, "key-1");
  ASSERT_TRUE(first.status.ok());
  EXPECT_FALSE(first.replayed);
  TaskOutcome again = Act(task.id, TaskAction::kAccept, wa_, std::nullopt, "key-1");
  ASSERT_TRUE(again.status.ok()) << again.status;
  EXPECT_TRUE(again.replayed);
  EXPECT_EQ(again.task->version, 2);
  auto history = store_->History(task.id);
  EXPECT_EQ(history->size(), 2u);
  // The same key for another action is refused; the key is per user.
  EXPECT_EQ(Act(task.id, TaskAction::kStart, wa_, std::nullopt, "key-1").status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Act(task.id, TaskAction::kStart, wa_, std::nullopt, "key-2").status.ok());
  // Neither a key nor a version: refused.
  EXPECT_EQ(Act(task.id, TaskAction::kSubmit, wa_, std::nullopt, "", Feedback).status.code(),
            absl::StatusCode::kInvalidArgument);
  // The keys survive a restart.
  Reopen();
  TaskOutcome after = Act(task.id, TaskAction::kStart, wa_, std::nullopt, "key-2");
  EXPECT_TRUE(after.status.ok() && after.replayed);
}

TEST_F(TaskStoreTest, FeedbackAndNotesAreChecked) {
  const Task task = Create(kGridA);
  ASSERT_TRUE(Act(task.id, TaskAction::kAccept, wa_, 1).status.ok());
  ASSERT_TRUE(Act(task.id, TaskAction::kStart, wa_, 2).status.ok());
  auto bad = [&](std::function<void(TaskRequest&)> fill) { return Act(task.id, TaskAction::kSubmit, wa_, 3, "", fill).status; };
  EXPECT_EQ(bad([](TaskRequest& r) { r.outcome = "maybe"; r.feedback = "x"; }).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad([](TaskRequest& r) { r.outcome = "resolved"; }).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad([](TaskRequest& r) { r.outcome = "resolved"; r.feedback = std::string(2001, 'x'); }).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad([](TaskRequest& r) { r.outcome = "resolved"; r.feedback = "\xff\xfe"; }).code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(Act(task.id, TaskAction::kSubmit, wa_, 3, "", Feedback).status.ok());
  // Returning needs a note saying what is missing.
  EXPECT_EQ(Act(task.id, TaskAction::kReturn, town_, 4).status.code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(TaskStoreTest, PhotosOfBoundedTypeSizeAndCount) {
  const Task task = Create(kGridA);
  const std::string png = std::string("\x89PNG\r\n\x1A\n", 8) + std::string(100, 'p');
  const std::string jpeg = std::string("\xFF\xD8\xFF\xE0", 4) + std::string(100, 'j');
  auto upload = [&](const std::string& mime, const std::string& bytes, const std::string& key) {
    return Act(task.id, TaskAction::kPhoto, wa_, std::nullopt, key, [&](TaskRequest& r) {
      r.photo_mime = mime;
      r.photo_bytes = bytes;
    });
  };
  // Not before acceptance (a conflict with the state), and never by a worker of another grid.
  EXPECT_EQ(upload("image/png", png, "p0").status.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(Act(task.id, TaskAction::kPhoto, wb_, std::nullopt, "p00", [&](TaskRequest& r) {
              r.photo_mime = "image/png";
              r.photo_bytes = png;
            }).status.code(),
            absl::StatusCode::kPermissionDenied);
  ASSERT_TRUE(Act(task.id, TaskAction::kAccept, wa_, 1).status.ok());
  EXPECT_EQ(upload("image/gif", "GIF89a....", "p1").status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(upload("image/jpeg", png, "p2").status.code(), absl::StatusCode::kInvalidArgument);  // bytes lie
  EXPECT_EQ(upload("image/png", png + std::string(4096, 'x'), "p3").status.code(), absl::StatusCode::kInvalidArgument);
  TaskOutcome one = upload("image/png", png, "p4");
  ASSERT_TRUE(one.status.ok()) << one.status;
  EXPECT_EQ(one.photo_seq, 1);
  TaskOutcome replay = upload("image/png", png, "p4");
  EXPECT_TRUE(replay.replayed);
  EXPECT_EQ(replay.photo_seq, 1);
  ASSERT_TRUE(upload("image/jpeg", jpeg, "p5").status.ok());
  EXPECT_EQ(upload("image/jpeg", jpeg, "p6").status.code(), absl::StatusCode::kInvalidArgument);  // at most 2
  auto photo = store_->Photo(task.id, 2);
  ASSERT_TRUE(photo.ok());
  EXPECT_EQ(photo->second, jpeg);
  EXPECT_EQ(photo->first.mime, "image/jpeg");
  EXPECT_EQ(store_->Photos(task.id)->size(), 2u);
  EXPECT_EQ(store_->Photo(task.id, 3).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(TaskStoreTest, ReassignToAWorkerOfTheGridOrTheTownQueue) {
  const Task task = Create(kGridA);
  ASSERT_TRUE(Act(task.id, TaskAction::kAccept, wa_, 1).status.ok());
  // wb's area does not hold grid A.
  TaskOutcome wrong = Act(task.id, TaskAction::kReassign, town_, 2, "", [&](TaskRequest& r) { r.assignee = users_[2]; });
  EXPECT_EQ(wrong.status.code(), absl::StatusCode::kInvalidArgument);
  TaskOutcome moved = Act(task.id, TaskAction::kReassign, town_, 2, "", [&](TaskRequest& r) { r.assignee = users_[1]; });
  ASSERT_TRUE(moved.status.ok()) << moved.status;
  EXPECT_EQ(moved.task->state, TaskState::kIssued);
  EXPECT_EQ(moved.task->candidates, std::vector<std::string>{"wa2"});
  EXPECT_EQ(Act(task.id, TaskAction::kStart, wa_, 3).status.code(), absl::StatusCode::kPermissionDenied);
  ASSERT_TRUE(Act(task.id, TaskAction::kAccept, wa2_, 3).status.ok());
  TaskOutcome queued = Act(task.id, TaskAction::kReassign, town_, 4);
  ASSERT_TRUE(queued.status.ok());
  EXPECT_TRUE(queued.task->in_town_queue());
  auto mine = store_->List(TaskFilter{.mine = "wa2"});
  ASSERT_TRUE(mine.ok());
  EXPECT_TRUE(mine->empty());
}

TEST_F(TaskStoreTest, OverdueTasksEscalateOnce) {
  const Task task = Create(kGridA);
  auto none = store_->EscalateOverdue();
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  now_ += 24 * 3600 + 1;
  auto escalated = store_->EscalateOverdue();
  ASSERT_TRUE(escalated.ok());
  ASSERT_EQ(escalated->size(), 1u);
  EXPECT_EQ(escalated->front().id, task.id);
  EXPECT_EQ(escalated->front().escalated_at, now_.load());
  EXPECT_TRUE(store_->EscalateOverdue()->empty());
  auto overdue = store_->List(TaskFilter{.state = "overdue"});
  ASSERT_TRUE(overdue.ok());
  EXPECT_EQ(overdue->size(), 1u);
}

TEST_F(TaskStoreTest, ListsMineInRiskAndDeadlineOrder) {
  auto made = store_->CreateFromWarning(MakeWarning(1, kGridA, "orange"), {kGridA}, users_, "system");
  ASSERT_TRUE(made.ok());
  now_ += 10;
  const Task red = Create(kGridA, 2);
  auto mine = store_->List(TaskFilter{.mine = "wa"});
  ASSERT_TRUE(mine.ok());
  ASSERT_EQ(mine->size(), 2u);
  EXPECT_EQ(mine->front().id, red.id);  // red before orange, though created later
  EXPECT_TRUE(store_->List(TaskFilter{.mine = "wb"})->empty());
  auto scoped = store_->List(TaskFilter{.unit_prefixes = {"330106001001002"}});
  EXPECT_TRUE(scoped->empty());
  EXPECT_EQ(store_->List(TaskFilter{.state = "nonsense"}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->List(TaskFilter{.unit_prefixes = {"33' OR 1"}}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(TaskStoreTest, FiguresCountOnTimeOverdueMediansAndOutcomes) {
  // Three warnings in the period; tasks: one closed on time, one closed late, one open.
  auto run_to_close = [&](const Task& task, int64_t accept_after, int64_t close_after) {
    now_ = task.created_at + accept_after;
    ASSERT_TRUE(Act(task.id, TaskAction::kAccept, wa_, 1).status.ok());
    ASSERT_TRUE(Act(task.id, TaskAction::kStart, wa_, 2).status.ok());
    ASSERT_TRUE(Act(task.id, TaskAction::kSubmit, wa_, 3, "", Feedback).status.ok());
    now_ = task.created_at + close_after;
    ASSERT_TRUE(Act(task.id, TaskAction::kClose, town_, 4).status.ok());
  };
  const int64_t start = now_;
  const Task on_time = Create(kGridA, 1);
  run_to_close(on_time, 600, 3600);
  now_ = start;
  const Task late = Create(kGridA, 2);
  run_to_close(late, 1800, 2 * 24 * 3600);
  now_ = start;
  auto queued = store_->CreateFromWarning(MakeWarning(3, "330106001001009000000000000"), {"330106001001009000000000000"},
                                          users_, "system");
  ASSERT_TRUE(queued.ok());
  auto figures = store_->Figures("2024-06", {"330106001", "330106001001001", "330107"});
  ASSERT_TRUE(figures.ok()) << figures.status();
  const LoopFigures& town = (*figures)[0];
  EXPECT_EQ(town.tasks, 3);
  EXPECT_EQ(town.closed, 2);
  EXPECT_EQ(town.open, 1);
  EXPECT_EQ(town.on_time, 1);
  EXPECT_EQ(town.overdue, 1);  // closed late; the open one is not past its deadline yet
  EXPECT_EQ(town.median_accept_seconds, (600 + 1800) / 2);
  EXPECT_EQ(town.median_close_seconds, (3600 + 2 * 24 * 3600) / 2);
  EXPECT_EQ(town.outcomes.at("resolved"), 2);
  // Warnings come from the warnings table (none stored here): landed counts only stored ones.
  EXPECT_EQ(town.warnings, 0);
  EXPECT_EQ((*figures)[1].tasks, 2);
  EXPECT_EQ((*figures)[2].tasks, 0);
}

TEST_F(TaskStoreTest, ManyConcurrentTransitionsAllCommitted) {
  constexpr int kThreads = 8, kPerThread = 25;
  std::vector<Task> tasks;
  for (int i = 0; i < kThreads * kPerThread; ++i) tasks.push_back(Create(kGridA, 1000 + i));
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const Task& task = tasks[static_cast<size_t>(t * kPerThread + i)];
        if (!Act(task.id, TaskAction::kAccept, wa_, 1).status.ok()) ++failures;
        if (!Act(task.id, TaskAction::kStart, wa_, 2).status.ok()) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures, 0);
  Reopen();
  auto all = store_->List(TaskFilter{.state = "in_progress", .limit = 1000});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), tasks.size());
}

// --- config/loop.toml ---------------------------------------------------------------------

Catalog TestCatalog() {
  Catalog catalog;
  MeasureDef theft;
  theft.id = "key.theft";
  catalog.key_types.push_back(theft);
  return catalog;
}

absl::StatusOr<LoopSettings> LoadText(const testing::TempDir& dir, const std::string& text) {
  std::ofstream(dir.path() / "loop.toml") << text;
  return LoadLoopSettings(dir.path(), TestCatalog());
}

TEST(LoopSettingsTest, TheProjectsConfigLoadsWithATemplatePerKeyType) {
  auto catalog = LoadCatalog(fs::path(PINGAN_SOURCE_DIR) / "config");
  ASSERT_TRUE(catalog.ok()) << catalog.status();
  auto settings = LoadLoopSettings(fs::path(PINGAN_SOURCE_DIR) / "config", *catalog);
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_EQ(settings->templates.size(), catalog->key_types.size());
  EXPECT_EQ(settings->DeadlineSeconds("red"), 24 * 3600);
  EXPECT_EQ(settings->DeadlineSeconds("orange"), 72 * 3600);
  EXPECT_TRUE(settings->auto_dispatch.contains("red"));
  EXPECT_FALSE(settings->auto_dispatch.contains("orange"));
  for (const auto& [id, plan] : settings->templates) {
    EXPECT_FALSE(plan.checklist.empty()) << id;
    EXPECT_EQ(plan.checklist.size(), plan.checklist_en.size()) << id;
  }
}

TEST(LoopSettingsTest, ErrorsNameFileLineAndKey) {
  testing::TempDir dir;
  auto check = [&](const std::string& text, const std::string& expected) {
    auto settings = LoadText(dir, text);
    ASSERT_FALSE(settings.ok()) << text;
    EXPECT_THAT(std::string(settings.status().message()), HasSubstr(expected)) << text;
    EXPECT_THAT(std::string(settings.status().message()), HasSubstr("loop.toml:"));
  };
  check("[deadlines]\npurple = 3\n", "deadlines.purple");
  check("[deadlines]\nred = 0\n", "deadlines.red");
  check("[deadlines]\nred = \"soon\"\n", "deadlines.red");
  check("[dispatch]\nauto = [\"crimson\"]\n", "dispatch.auto");
  check("[photos]\ntypes = [\"image/gif\"]\n", "photos.types");
  check("[photos]\nmax_bytes = 10\n", "photos.max_bytes");
  check("[templates.\"key.nothing\"]\ntitle = \"x\"\nchecklist = [\"a\"]\n", "templates.key.nothing");
  check("[templates.\"key.theft\"]\ntitle = \"x\"\nchecklist = []\n", "templates.key.theft.checklist");
  check("[templates.\"key.theft\"]\ntitle = \"x\"\n", "needs title and checklist");
  check("[bands]\nred = 1\n", "unknown section");
  check("[deadlines\n", "loop.toml:");
  auto fine = LoadText(dir, "[deadlines]\nred = 12\n[dispatch]\nauto = []\n");
  ASSERT_TRUE(fine.ok()) << fine.status();
  EXPECT_EQ(fine->DeadlineSeconds("red"), 12 * 3600);
  EXPECT_TRUE(fine->auto_dispatch.empty());
}

}  // namespace
}  // namespace pingan
