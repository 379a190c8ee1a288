// The closed loop (闭环): patrol tasks (巡查任务书) made from warnings, their life, and the loop's
// metrics — kept durably in the data directory's pingan.db (tables tasks, task_candidates,
// task_log, task_idempotency, task_photos; docs/loop.md).
//
// A task's life:
//
//   issued ──accept──► accepted ──start──► in_progress ──submit──► submitted ──close──► closed
//     ▲                                        ▲                       │
//     └──────── reassign (official) ───────────┼── start ── returned ◄─┘ return (official)
//
//   - accept, start, submit and photo uploads: the assigned worker only (before acceptance, any
//     of the task's candidates: the grid workers whose scope holds the grid; the first to
//     accept takes it). A task with no candidate waits in the town official's queue.
//   - close, return and reassign: town officials whose scope holds the task's town only.
//   - An overdue task (past its deadline, not closed) is escalated once to the town official.
//
// Every change is one transition: applied by one writer thread that commits the changes queued
// meanwhile in one transaction (group commit, synchronous=FULL), so each is durable before it
// is acknowledged and a burst costs one fsync. Each transition bumps the task's version, is
// logged (who, when, from, to) and appended to the audit chain in the same transaction. A
// request names the version it expects and/or carries an idempotency key: a stale version is a
// conflict (Aborted, with the current task), and a retried key returns what the first attempt
// did without doing it again.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "auth/auth.h"
#include "loop/loop_settings.h"

namespace pingan {

struct Warning;

enum class TaskState : uint8_t { kIssued, kAccepted, kInProgress, kSubmitted, kReturned, kClosed };
enum class TaskAction : uint8_t { kAccept, kStart, kSubmit, kClose, kReturn, kReassign, kPhoto };

// "issued", "accepted", "in_progress", "submitted", "returned", "closed".
std::string_view TaskStateName(TaskState state);
std::optional<TaskState> ParseTaskState(std::string_view name);
// "accept", "start", "submit", "close", "return", "reassign", "photo".
std::string_view TaskActionName(TaskAction action);
std::optional<TaskAction> ParseTaskAction(std::string_view name);

// The outcomes a worker reports: confirmed (属实), false_alarm (误报), resolved (已处置),
// needs_escalation (需上报).
bool IsTaskOutcome(std::string_view name);
inline constexpr const char* kTaskOutcomes[] = {"confirmed", "false_alarm", "resolved", "needs_escalation"};

struct Task {
  int64_t id = 0;
  int64_t version = 0;
  TaskState state = TaskState::kIssued;
  std::string origin;      // "risk" (the risk map); later sensors, check-ins, rules
  int64_t warning_id = 0;  // 0: none
  std::string unit;        // 27 digits: the grid (or unit) to patrol
  std::string town;        // 27 digits: the town holding it
  std::string key_type;
  std::string grade;
  double score = 0;
  std::string period;      // the period whose assessment raised the warning
  std::optional<std::string> assignee;
  std::vector<std::string> candidates;  // who may accept it while issued
  int64_t created_at = 0, deadline = 0, updated_at = 0;  // Unix seconds
  int64_t accepted_at = 0, submitted_at = 0, closed_at = 0, escalated_at = 0;  // 0: not yet
  std::string outcome, feedback;
  int returns = 0;
  int photos = 0;

  bool open() const { return state != TaskState::kClosed; }
  bool Overdue(int64_t now) const { return open() ? now > deadline : closed_at > deadline; }
  // In the town official's queue rather than a worker's.
  bool in_town_queue() const { return !assignee.has_value() && candidates.empty(); }
};

// A change the writer committed: the task as it is now, and the workers it was assigned or
// offered to before and no longer is (a reassignment), who should hear that it left them.
struct TaskChange {
  Task task;
  std::vector<std::string> former;
};

struct TaskLogEntry {
  int64_t version = 0;
  std::string action;  // create, accept, ..., photo, escalate
  std::string from, to;  // states ("" for create's from)
  std::string actor;     // username or "system"
  int64_t at = 0;
  std::string detail;
};

struct TaskPhoto {
  int64_t seq = 0;  // 1, 2, ... within the task
  std::string mime;
  int64_t bytes = 0;
  std::string uploaded_by;
  int64_t at = 0;
};

struct TaskRequest {
  int64_t task_id = 0;
  TaskAction action = TaskAction::kAccept;
  Principal actor;
  std::string idempotency_key;               // "" for none
  std::optional<int64_t> expected_version;   // at least one of the two is required
  std::string feedback, outcome;             // submit
  std::string note;                          // close, return
  // reassign: the user to give it to (looked up by the caller), or none for the town queue.
  std::optional<User> assignee;
  std::string photo_mime, photo_bytes;       // photo
};

struct TaskOutcome {
  // OK; Aborted (a conflict: stale version, or the action does not fit the task's state, with
  // `task` its current state); PermissionDenied; NotFound; InvalidArgument; Unavailable when
  // the commit failed (nothing was stored: retry with the same idempotency key).
  absl::Status status;
  std::optional<Task> task;
  bool replayed = false;
  int64_t photo_seq = 0;
};

struct TaskFilter {
  std::string mine;                        // a username: tasks assigned to them or offered to them
  std::vector<std::string> unit_prefixes;  // any of these code prefixes (scope); empty: all
  std::string state;                       // "", "open", "closed", "overdue" or a state name
  int64_t offset = 0, limit = 100;
};

// The loop's figures for one area and period (tasks of warnings of that period).
struct LoopFigures {
  int64_t warnings = 0;       // raised in the period
  int64_t landed = 0;         // of those, with a task that reached a grid worker
  int64_t tasks = 0, open = 0, closed = 0;
  int64_t on_time = 0;        // closed by the deadline
  int64_t overdue = 0;        // closed late, or open past the deadline
  std::optional<int64_t> median_accept_seconds, median_close_seconds;
  std::map<std::string, int64_t> outcomes;  // of closed tasks
};

struct TaskStoreOptions {
  std::function<int64_t()> clock;  // Unix seconds; empty: the system clock
  size_t max_batch = 512;          // transitions per group commit at most
};

class TaskStore {
 public:
  // Opens (creating the tables when absent) the loop tables of DIR/pingan.db on connections of
  // its own, and starts the writer.
  static absl::StatusOr<std::unique_ptr<TaskStore>> Open(const std::filesystem::path& data_dir, LoopSettings settings,
                                                         TaskStoreOptions options = {});
  ~TaskStore();  // finishes the queued transitions, then stops the writer

  const LoopSettings& settings() const;
  int64_t Now() const;

  // Makes tasks of a warning: one per grid in `grids` (the warning's own unit when empty), each
  // offered to the users in `users` who are grid workers with a scope holding the grid (none:
  // the town official's queue). A (warning, grid) that has a task already is skipped, so a
  // repeat makes nothing twice. Returns the new tasks.
  absl::StatusOr<std::vector<Task>> CreateFromWarning(const Warning& warning, const std::vector<std::string>& grids,
                                                      const std::vector<User>& users, std::string_view actor);
  // Makes the tasks of those newly raised warnings whose grade dispatches itself
  // (config/loop.toml [dispatch] auto), as the user "system"; returns them.
  absl::StatusOr<std::vector<Task>> AutoDispatch(const std::vector<Warning>& raised, const std::vector<User>& users);
  // Applies one transition (blocking until its group is committed).
  TaskOutcome Apply(TaskRequest request);
  // Escalates the open tasks past their deadline that are not escalated yet; returns them.
  absl::StatusOr<std::vector<Task>> EscalateOverdue();

  absl::StatusOr<std::optional<Task>> Get(int64_t id);
  absl::StatusOr<std::vector<Task>> List(const TaskFilter& filter);
  absl::StatusOr<std::vector<TaskLogEntry>> History(int64_t id);
  absl::StatusOr<std::vector<TaskPhoto>> Photos(int64_t id);
  // The bytes of one photo; NotFound when there is none.
  absl::StatusOr<std::pair<TaskPhoto, std::string>> Photo(int64_t id, int64_t seq);
  // Tasks per warning id (for the "to dispatch" list).
  absl::StatusOr<std::map<int64_t, int64_t>> TaskCounts(const std::vector<int64_t>& warning_ids);
  // The figures of `period` under each of `prefixes` (code prefixes: the area and its parts).
  absl::StatusOr<std::vector<LoopFigures>> Figures(const std::string& period, const std::vector<std::string>& prefixes);

  // Called on the writer thread after each group commit with the tasks it changed (in order).
  void SetListener(std::function<void(const std::vector<TaskChange>&)> listener);

  struct Impl;

 private:
  explicit TaskStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace pingan
