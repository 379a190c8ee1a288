#include "loop/task_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <future>
#include <mutex>
#include <set>
#include <thread>
#include <type_traits>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "assess/warnings.h"
#include "core/status.h"
#include "core/strings.h"
#include "core/text.h"
#include "store/data_dir.h"
#include "store/sqlite_util.h"
#include "store/write_gate.h"

namespace pingan {
namespace {

namespace fs = std::filesystem;
using sqlite::Statement;

constexpr std::string_view kSchema = R"sql(
CREATE TABLE IF NOT EXISTS tasks(
  id INTEGER PRIMARY KEY,
  version INTEGER NOT NULL,
  state TEXT NOT NULL,
  origin TEXT NOT NULL,
  warning_id INTEGER,
  unit TEXT NOT NULL,
  town TEXT NOT NULL,
  key_type TEXT NOT NULL,
  grade TEXT NOT NULL,
  grade_rank INTEGER NOT NULL,
  score REAL NOT NULL,
  period TEXT NOT NULL,
  assignee TEXT,
  candidates TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  deadline INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  accepted_at INTEGER,
  submitted_at INTEGER,
  closed_at INTEGER,
  escalated_at INTEGER,
  outcome TEXT,
  feedback TEXT,
  returns INTEGER NOT NULL DEFAULT 0,
  photos INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX IF NOT EXISTS tasks_warning_unit ON tasks(warning_id, unit) WHERE warning_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS tasks_assignee ON tasks(assignee);
CREATE INDEX IF NOT EXISTS tasks_unit ON tasks(unit);
CREATE INDEX IF NOT EXISTS tasks_period ON tasks(period);
CREATE INDEX IF NOT EXISTS tasks_due ON tasks(deadline) WHERE escalated_at IS NULL AND state <> 'closed';
CREATE TABLE IF NOT EXISTS task_candidates(
  name TEXT NOT NULL,
  task_id INTEGER NOT NULL,
  PRIMARY KEY(name, task_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS task_candidates_task ON task_candidates(task_id);
CREATE TABLE IF NOT EXISTS task_log(
  task_id INTEGER NOT NULL,
  version INTEGER NOT NULL,
  action TEXT NOT NULL,
  from_state TEXT NOT NULL,
  to_state TEXT NOT NULL,
  actor TEXT NOT NULL,
  at INTEGER NOT NULL,
  detail TEXT NOT NULL,
  PRIMARY KEY(task_id, version)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS task_idempotency(
  actor TEXT NOT NULL,
  key TEXT NOT NULL,
  task_id INTEGER NOT NULL,
  action TEXT NOT NULL,
  photo_seq INTEGER NOT NULL DEFAULT 0,
  at INTEGER NOT NULL,
  PRIMARY KEY(actor, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS task_photos(
  task_id INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  mime TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  data BLOB NOT NULL,
  uploaded_by TEXT NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY(task_id, seq)
);
)sql";

#define PA_TASK_COLUMNS                                                                                         \
  "id, version, state, origin, warning_id, unit, town, key_type, grade, score, period, assignee, candidates, " \
  "created_at, deadline, updated_at, accepted_at, submitted_at, closed_at, escalated_at, outcome, feedback, "  \
  "returns, photos"

int GradeRank(std::string_view grade) {
  static constexpr std::string_view kGrades[] = {"red", "orange", "yellow", "blue", "green"};
  for (int i = 0; i < 5; ++i) {
    if (grade == kGrades[i]) return i;
  }
  return 5;
}

Task ReadTask(const Statement& row) {
  Task task;
  task.id = row.Int(0);
  task.version = row.Int(1);
  task.state = ParseTaskState(row.Text(2)).value_or(TaskState::kIssued);
  task.origin = std::string(row.Text(3));
  task.warning_id = row.IsNull(4) ? 0 : row.Int(4);
  task.unit = std::string(row.Text(5));
  task.town = std::string(row.Text(6));
  task.key_type = std::string(row.Text(7));
  task.grade = std::string(row.Text(8));
  task.score = row.Double(9);
  task.period = std::string(row.Text(10));
  if (!row.IsNull(11)) task.assignee = std::string(row.Text(11));
  if (const std::string_view candidates = row.Text(12); !candidates.empty()) {
    task.candidates = absl::StrSplit(absl::string_view(candidates.data(), candidates.size()), ',');
  }
  task.created_at = row.Int(13);
  task.deadline = row.Int(14);
  task.updated_at = row.Int(15);
  task.accepted_at = row.IsNull(16) ? 0 : row.Int(16);
  task.submitted_at = row.IsNull(17) ? 0 : row.Int(17);
  task.closed_at = row.IsNull(18) ? 0 : row.Int(18);
  task.escalated_at = row.IsNull(19) ? 0 : row.Int(19);
  task.outcome = std::string(row.Text(20));
  task.feedback = std::string(row.Text(21));
  task.returns = static_cast<int>(row.Int(22));
  task.photos = static_cast<int>(row.Int(23));
  return task;
}

absl::Status SqlError(sqlite3* db, std::string_view what) {
  return absl::InternalError(Cat("tasks: ", what, ": ", sqlite3_errmsg(db)));
}

absl::Status Exec(sqlite3* db, std::string_view sql) {
  char* message = nullptr;
  if (sqlite3_exec(db, std::string(sql).c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    absl::Status status = absl::InternalError(Cat("tasks: ", message == nullptr ? "sqlite error" : message));
    sqlite3_free(message);
    return status;
  }
  return absl::OkStatus();
}

// The image type `bytes` starts like, "" when none of the accepted ones.
std::string SniffImage(std::string_view bytes) {
  if (bytes.size() >= 3 && bytes.substr(0, 3) == "\xFF\xD8\xFF") return "image/jpeg";
  if (bytes.size() >= 8 && bytes.substr(0, 8) == std::string_view("\x89PNG\r\n\x1A\n", 8)) return "image/png";
  if (bytes.size() >= 12 && bytes.substr(0, 4) == "RIFF" && bytes.substr(8, 4) == "WEBP") return "image/webp";
  return "";
}

// A 27-digit code's town (its first 9 digits, padded), or the code itself above town level.
std::string TownOf(const std::string& code) {
  if (code.size() != 27 || code.substr(6, 3) == "000") return code;
  return code.substr(0, 9) + std::string(18, '0');
}

bool Holds(const std::vector<std::string>& scopes, std::string_view code) {
  for (const std::string& scope : scopes) {
    if (code.size() >= scope.size() && code.substr(0, scope.size()) == scope) return true;
  }
  return false;
}

std::optional<int64_t> Median(std::vector<int64_t> values) {
  if (values.empty()) return std::nullopt;
  const size_t mid = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + static_cast<ptrdiff_t>(mid), values.end());
  if (values.size() % 2 == 1) return values[mid];
  const int64_t upper = values[mid];
  const int64_t lower = *std::max_element(values.begin(), values.begin() + static_cast<ptrdiff_t>(mid));
  return (lower + upper) / 2;
}

}  // namespace

std::string_view TaskStateName(TaskState state) {
  switch (state) {
    case TaskState::kIssued: return "issued";
    case TaskState::kAccepted: return "accepted";
    case TaskState::kInProgress: return "in_progress";
    case TaskState::kSubmitted: return "submitted";
    case TaskState::kReturned: return "returned";
    case TaskState::kClosed: return "closed";
  }
  return "issued";
}

std::optional<TaskState> ParseTaskState(std::string_view name) {
  for (TaskState state : {TaskState::kIssued, TaskState::kAccepted, TaskState::kInProgress, TaskState::kSubmitted,
                          TaskState::kReturned, TaskState::kClosed}) {
    if (TaskStateName(state) == name) return state;
  }
  return std::nullopt;
}

std::string_view TaskActionName(TaskAction action) {
  switch (action) {
    case TaskAction::kAccept: return "accept";
    case TaskAction::kStart: return "start";
    case TaskAction::kSubmit: return "submit";
    case TaskAction::kClose: return "close";
    case TaskAction::kReturn: return "return";
    case TaskAction::kReassign: return "reassign";
    case TaskAction::kPhoto: return "photo";
  }
  return "accept";
}

std::optional<TaskAction> ParseTaskAction(std::string_view name) {
  for (TaskAction action : {TaskAction::kAccept, TaskAction::kStart, TaskAction::kSubmit, TaskAction::kClose,
                            TaskAction::kReturn, TaskAction::kReassign, TaskAction::kPhoto}) {
    if (TaskActionName(action) == name) return action;
  }
  return std::nullopt;
}

bool IsTaskOutcome(std::string_view name) {
  for (const char* outcome : kTaskOutcomes) {
    if (name == outcome) return true;
  }
  return false;
}

struct TaskStore::Impl {
  struct Command {
    std::function<absl::Status()> apply;         // on the writer, inside the group's transaction
    std::function<void(const absl::Status&)> done;  // after the commit (its status)
  };

  LoopSettings settings;
  TaskStoreOptions options;
  fs::path path;
  sqlite3* writer_db = nullptr;

  std::mutex queue_mutex;
  std::condition_variable queue_cv;
  std::deque<Command> queue;
  bool stopping = false;
  std::thread writer;
  std::vector<TaskChange> changed;  // writer thread only: what the current group changed

  std::mutex listener_mutex;
  std::function<void(const std::vector<TaskChange>&)> listener;

  std::mutex readers_mutex;
  std::vector<sqlite3*> readers;

  // Statements the writer reuses.
  std::unique_ptr<Statement> load, idem_find, idem_put, log_put, save;
  std::unique_ptr<AuditAppender> audit;

  ~Impl() {
    audit.reset();
    save.reset();
    load.reset();
    idem_find.reset();
    idem_put.reset();
    log_put.reset();
    for (sqlite3* db : readers) sqlite3_close(db);
    sqlite3_close(writer_db);
  }

  int64_t Now() const { return options.clock ? options.clock() : static_cast<int64_t>(std::time(nullptr)); }

  // --- the writer ------------------------------------------------------------------------------

  void Enqueue(Command command) {
    {
      std::lock_guard lock(queue_mutex);
      queue.push_back(std::move(command));
    }
    queue_cv.notify_one();
  }

  // Runs `body` on the writer inside a group commit; returns its result once committed (a
  // failed commit turns an OK result into Unavailable).
  template <typename Result>
  Result Write(std::function<Result()> body, std::function<Result(absl::Status)> failed) {
    auto promise = std::make_shared<std::promise<Result>>();
    std::future<Result> future = promise->get_future();
    auto result = std::make_shared<std::optional<Result>>();
    Enqueue(Command{
        .apply =
            [&body, result]() -> absl::Status {
              *result = body();
              return absl::OkStatus();
            },
        .done =
            [promise, &failed, result](const absl::Status& commit) {
              if (!commit.ok() || !result->has_value()) {
                promise->set_value(failed(commit.ok() ? absl::InternalError("tasks: not applied") : commit));
              } else {
                promise->set_value(std::move(**result));
              }
            }});
    return future.get();
  }

  void Run() {
    std::vector<Command> batch;
    while (true) {
      {
        std::unique_lock lock(queue_mutex);
        queue_cv.wait(lock, [&] { return stopping || !queue.empty(); });
        if (queue.empty()) return;  // stopping, nothing left
        while (!queue.empty() && batch.size() < options.max_batch) {
          batch.push_back(std::move(queue.front()));
          queue.pop_front();
        }
      }
      changed.clear();
      std::optional<WriteTurn> turn(std::in_place);
      absl::Status status = Exec(writer_db, "BEGIN IMMEDIATE");
      if (status.ok()) {
        for (Command& command : batch) {
          if (!Exec(writer_db, "SAVEPOINT one").ok()) continue;
          const size_t changed_before = changed.size();
          if (command.apply().ok()) {
            (void)Exec(writer_db, "RELEASE one");
          } else {
            (void)Exec(writer_db, "ROLLBACK TO one");
            (void)Exec(writer_db, "RELEASE one");
            changed.resize(changed_before);
          }
        }
        status = Exec(writer_db, "COMMIT");
        if (!status.ok()) (void)Exec(writer_db, "ROLLBACK");
      }
      turn.reset();
      const absl::Status commit = status.ok() ? absl::OkStatus()
                                              : absl::UnavailableError(Cat("the task store could not commit (",
                                                                           status.message(), "); retry"));
      for (Command& command : batch) command.done(commit);
      batch.clear();
      if (commit.ok() && !changed.empty()) {
        std::lock_guard lock(listener_mutex);
        if (listener) listener(changed);
      }
    }
  }

  // --- helpers on the writer connection (inside a transaction) -------------------------------

  absl::StatusOr<std::optional<Task>> Load(int64_t id) {
    load->Reset();
    load->Bind(1, id);
    const int rc = load->Step();
    if (rc == SQLITE_DONE) return std::optional<Task>();
    if (rc != SQLITE_ROW) return SqlError(writer_db, "load");
    std::optional<Task> task = ReadTask(*load);
    load->Reset();
    return task;
  }

  // Logs a transition, and audits it. The log's detail may hold a note (the reason a task was
  // returned, shown to its worker); the audit entry gets `audit_detail`, never free text.
  absl::Status Log(const Task& task, std::string_view action, std::string_view from, std::string_view actor,
                   std::string_view detail, std::optional<std::string_view> audit_detail = std::nullopt) {
    const std::string_view audited = audit_detail.value_or(detail);
    log_put->Bind(1, task.id);
    log_put->Bind(2, task.version);
    log_put->Bind(3, action);
    log_put->Bind(4, from);
    log_put->Bind(5, TaskStateName(task.state));
    log_put->Bind(6, actor);
    log_put->Bind(7, task.updated_at);
    log_put->Bind(8, detail);
    PA_RETURN_IF_ERROR(log_put->Run());
    return audit->Append(task.updated_at, actor, Cat("task_", action), Cat("task:", task.id),
                            Cat(from.empty() ? "" : Cat(from, "->"), TaskStateName(task.state), " v", task.version,
                                audited.empty() ? "" : " ", audited));
  }

  // Writes the mutable columns of `task`.
  absl::Status Save(const Task& task) {
    Statement& update = *save;
    update.Bind(1, task.id);
    update.Bind(2, task.version);
    update.Bind(3, TaskStateName(task.state));
    if (task.assignee) {
      update.Bind(4, std::string_view(*task.assignee));
    } else {
      update.BindNull(4);
    }
    update.Bind(5, std::string_view(absl::StrJoin(task.candidates, ",")));
    update.Bind(6, task.updated_at);
    auto bind_time = [&](int index, int64_t value) {
      if (value == 0) {
        update.BindNull(index);
      } else {
        update.Bind(index, value);
      }
    };
    bind_time(7, task.accepted_at);
    bind_time(8, task.submitted_at);
    bind_time(9, task.closed_at);
    bind_time(10, task.escalated_at);
    update.Bind(11, std::string_view(task.outcome));
    update.Bind(12, std::string_view(task.feedback));
    update.Bind(13, static_cast<int64_t>(task.returns));
    update.Bind(14, static_cast<int64_t>(task.photos));
    return update.Run();
  }

  absl::Status SetCandidates(int64_t task_id, const std::vector<std::string>& names) {
    Statement clear(writer_db, "DELETE FROM task_candidates WHERE task_id = ?");
    PA_RETURN_IF_ERROR(clear.status());
    clear.Bind(1, task_id);
    PA_RETURN_IF_ERROR(clear.Run());
    Statement insert(writer_db, "INSERT OR IGNORE INTO task_candidates(name, task_id) VALUES(?, ?)");
    PA_RETURN_IF_ERROR(insert.status());
    for (const std::string& name : names) {
      insert.Bind(1, std::string_view(name));
      insert.Bind(2, task_id);
      PA_RETURN_IF_ERROR(insert.Run());
    }
    return absl::OkStatus();
  }

  absl::StatusOr<bool> WasCandidate(int64_t task_id, std::string_view name) {
    Statement find(writer_db, "SELECT 1 FROM task_candidates WHERE name = ? AND task_id = ?");
    PA_RETURN_IF_ERROR(find.status());
    find.Bind(1, name);
    find.Bind(2, task_id);
    return find.Step() == SQLITE_ROW;
  }

  // The transition itself (on the writer, inside the transaction). A rejected request changes
  // nothing and returns OK with the rejection in the outcome; a database error returns non-OK.
  absl::StatusOr<TaskOutcome> Transition(const TaskRequest& request) {
    TaskOutcome out;
    const std::string action(TaskActionName(request.action));
    const std::string& actor = request.actor.name;
    if (!request.idempotency_key.empty()) {
      idem_find->Reset();
      idem_find->Bind(1, std::string_view(actor));
      idem_find->Bind(2, std::string_view(request.idempotency_key));
      const int rc = idem_find->Step();
      if (rc == SQLITE_ROW) {
        const int64_t task_id = idem_find->Int(0);
        const std::string done_action(idem_find->Text(1));
        out.photo_seq = idem_find->Int(2);
        idem_find->Reset();
        if (task_id != request.task_id || done_action != action) {
          out.status = absl::InvalidArgumentError(
              "Idempotency-Key: this key was used for another request; use a new key for each action");
          return out;
        }
        PA_ASSIGN_OR_RETURN(out.task, Load(task_id));
        out.replayed = true;
        return out;
      }
      idem_find->Reset();
      if (rc != SQLITE_DONE) return SqlError(writer_db, "idempotency");
    }
    PA_ASSIGN_OR_RETURN(std::optional<Task> loaded, Load(request.task_id));
    if (!loaded) {
      out.status = absl::NotFoundError(Cat("no task ", request.task_id));
      return out;
    }
    Task task = *std::move(loaded);
    const Task before = task;
    const bool official = request.actor.role == Role::kTownOfficial && InScope(request.actor, task.town);
    const bool worker_action = request.action == TaskAction::kAccept || request.action == TaskAction::kStart ||
                               request.action == TaskAction::kSubmit || request.action == TaskAction::kPhoto;
    auto conflict = [&](std::string message) {
      out.status = absl::AbortedError(std::move(message));
      out.task = task;
      return out;
    };
    if (worker_action) {
      const bool offered = task.state == TaskState::kIssued && !task.assignee &&
                           std::find(task.candidates.begin(), task.candidates.end(), actor) != task.candidates.end();
      const bool assigned = task.assignee && *task.assignee == actor;
      if (!assigned && !(offered && request.action == TaskAction::kAccept)) {
        PA_ASSIGN_OR_RETURN(const bool was_candidate, WasCandidate(task.id, actor));
        if (was_candidate || offered) {
          return conflict(task.assignee ? Cat("task ", task.id, " was taken by ", *task.assignee)
                                        : Cat("task ", task.id, " is ", TaskStateName(task.state)));
        }
        out.status = absl::PermissionDeniedError(Cat("only the grid worker assigned to task ", task.id, " may ", action, " it"));
        return out;
      }
    } else if (!official) {
      out.status = absl::PermissionDeniedError(Cat("only town officials of the task's town may ", action, " task ", task.id));
      return out;
    }
    // Inputs.
    const size_t max_chars = settings.feedback_max_chars;
    auto text_ok = [&](const std::string& text, std::string_view field, bool required) -> bool {
      if (required && text.empty()) {
        out.status = absl::InvalidArgumentError(Cat(field, ": required"));
        return false;
      }
      if (!IsValidUtf8(text) || Utf8Length(text) > max_chars) {
        out.status = absl::InvalidArgumentError(Cat(field, ": valid UTF-8 text of at most ", max_chars, " characters"));
        return false;
      }
      return true;
    };
    std::string detail;
    switch (request.action) {
      case TaskAction::kSubmit:
        if (!IsTaskOutcome(request.outcome)) {
          out.status = absl::InvalidArgumentError("outcome: one of confirmed, false_alarm, resolved, needs_escalation");
          return out;
        }
        if (!text_ok(request.feedback, "feedback", true)) return out;
        detail = Cat("outcome=", request.outcome);
        break;
      case TaskAction::kReturn:
        if (!text_ok(request.note, "note", true)) return out;
        break;
      case TaskAction::kClose:
        if (!text_ok(request.note, "note", false)) return out;
        break;
      case TaskAction::kReassign:
        if (request.assignee) {
          const User& user = *request.assignee;
          if (user.disabled || (user.role != Role::kGridWorker && user.role != Role::kTownOfficial) ||
              !Holds(user.scopes, task.unit)) {
            out.status = absl::InvalidArgumentError(
                Cat("assignee: ", user.name, " is not an active grid worker or town official whose area holds the task's unit"));
            return out;
          }
          detail = Cat("to=", user.name);
        } else {
          detail = "to=town queue";
        }
        break;
      case TaskAction::kPhoto: {
        const std::string sniffed = SniffImage(request.photo_bytes);
        if (!settings.photo_types.contains(request.photo_mime)) {
          out.status = absl::InvalidArgumentError(Cat("photo: the type must be one of ", absl::StrJoin(settings.photo_types, ", ")));
          return out;
        }
        if (sniffed != request.photo_mime) {
          out.status = absl::InvalidArgumentError(Cat("photo: the bytes are not an image of type ", request.photo_mime));
          return out;
        }
        if (static_cast<int64_t>(request.photo_bytes.size()) > settings.photo_max_bytes) {
          out.status = absl::InvalidArgumentError(Cat("photo: over ", settings.photo_max_bytes, " bytes"));
          return out;
        }
        break;
      }
      default: break;
    }
    if (request.expected_version && *request.expected_version != task.version) {
      return conflict(Cat("task ", task.id, " has changed (version ", task.version, ", not ", *request.expected_version,
                          "): reload it"));
    }
    // States.
    const TaskState from = task.state;
    auto from_any = [&](std::initializer_list<TaskState> states) {
      return std::find(states.begin(), states.end(), from) != states.end();
    };
    const int64_t now = Now();
    bool fits = true;
    switch (request.action) {
      case TaskAction::kAccept:
        fits = from == TaskState::kIssued;
        if (fits) {
          task.state = TaskState::kAccepted;
          task.assignee = actor;
          task.accepted_at = now;
        }
        break;
      case TaskAction::kStart:
        fits = from_any({TaskState::kAccepted, TaskState::kReturned});
        if (fits) task.state = TaskState::kInProgress;
        break;
      case TaskAction::kSubmit:
        fits = from == TaskState::kInProgress;
        if (fits) {
          task.state = TaskState::kSubmitted;
          task.submitted_at = now;
          task.outcome = request.outcome;
          task.feedback = request.feedback;
        }
        break;
      case TaskAction::kClose:
        fits = from == TaskState::kSubmitted;
        if (fits) {
          task.state = TaskState::kClosed;
          task.closed_at = now;
        }
        break;
      case TaskAction::kReturn:
        fits = from == TaskState::kSubmitted;
        if (fits) {
          task.state = TaskState::kReturned;
          ++task.returns;
        }
        break;
      case TaskAction::kReassign:
        fits = from_any({TaskState::kIssued, TaskState::kAccepted, TaskState::kInProgress, TaskState::kReturned});
        if (fits) {
          task.state = TaskState::kIssued;
          task.assignee.reset();
          task.accepted_at = 0;
          task.candidates.clear();
          if (request.assignee) task.candidates.push_back(request.assignee->name);
          PA_RETURN_IF_ERROR(SetCandidates(task.id, task.candidates));
        }
        break;
      case TaskAction::kPhoto:
        fits = from_any({TaskState::kAccepted, TaskState::kInProgress, TaskState::kReturned});
        if (fits && task.photos >= settings.photo_max_per_task) {
          out.status = absl::InvalidArgumentError(Cat("photo: at most ", settings.photo_max_per_task, " per task"));
          return out;
        }
        if (fits) {
          ++task.photos;
          out.photo_seq = task.photos;
          Statement insert(writer_db,
                           "INSERT INTO task_photos(task_id, seq, mime, bytes, data, uploaded_by, at) VALUES(?,?,?,?,?,?,?)");
          PA_RETURN_IF_ERROR(insert.status());
          insert.Bind(1, task.id);
          insert.Bind(2, out.photo_seq);
          insert.Bind(3, std::string_view(request.photo_mime));
          insert.Bind(4, static_cast<int64_t>(request.photo_bytes.size()));
          insert.BindBlob(5, request.photo_bytes);
          insert.Bind(6, std::string_view(actor));
          insert.Bind(7, now);
          PA_RETURN_IF_ERROR(insert.Run());
          detail = Cat("photo=", out.photo_seq, " ", request.photo_mime, " ", request.photo_bytes.size(), " bytes");
        }
        break;
    }
    if (!fits) return conflict(Cat("cannot ", action, " task ", task.id, ": it is ", TaskStateName(from)));
    ++task.version;
    task.updated_at = now;
    PA_RETURN_IF_ERROR(Save(task));
    std::string audit_detail = detail;
    if (request.action == TaskAction::kReturn || request.action == TaskAction::kClose) {
      detail = request.note;
      audit_detail = request.note.empty() ? "" : Cat("note=", Utf8Length(request.note), " characters");
    }
    PA_RETURN_IF_ERROR(Log(task, action, TaskStateName(from), actor, detail, audit_detail));
    if (!request.idempotency_key.empty()) {
      idem_put->Bind(1, std::string_view(actor));
      idem_put->Bind(2, std::string_view(request.idempotency_key));
      idem_put->Bind(3, task.id);
      idem_put->Bind(4, std::string_view(action));
      idem_put->Bind(5, out.photo_seq);
      idem_put->Bind(6, now);
      PA_RETURN_IF_ERROR(idem_put->Run());
    }
    std::vector<std::string> former;
    if (request.action == TaskAction::kReassign) {
      for (const std::string& name : before.candidates) former.push_back(name);
      if (before.assignee) former.push_back(*before.assignee);
      std::erase_if(former, [&](const std::string& name) {
        return std::find(task.candidates.begin(), task.candidates.end(), name) != task.candidates.end();
      });
    }
    changed.push_back(TaskChange{task, std::move(former)});
    out.task = std::move(task);
    return out;
  }

  absl::StatusOr<std::vector<Task>> Create(const Warning& warning, const std::vector<std::string>& grids,
                                           const std::vector<User>& users, std::string_view actor) {
    std::vector<Task> made;
    std::vector<std::string> targets = grids;
    if (targets.empty()) targets.push_back(warning.unit);
    const int64_t now = Now();
    for (const std::string& unit : targets) {
      Statement exists(writer_db, "SELECT 1 FROM tasks WHERE warning_id = ? AND unit = ?");
      PA_RETURN_IF_ERROR(exists.status());
      exists.Bind(1, warning.id);
      exists.Bind(2, std::string_view(unit));
      if (exists.Step() == SQLITE_ROW) continue;
      Task task;
      task.version = 1;
      task.state = TaskState::kIssued;
      task.origin = "risk";
      task.warning_id = warning.id;
      task.unit = unit;
      task.town = TownOf(unit);
      task.key_type = warning.key_type;
      task.grade = warning.grade;
      task.score = warning.score;
      task.period = warning.period;
      task.created_at = task.updated_at = now;
      task.deadline = now + settings.DeadlineSeconds(warning.grade);
      for (const User& user : users) {
        if (user.role == Role::kGridWorker && !user.disabled && Holds(user.scopes, unit)) task.candidates.push_back(user.name);
      }
      Statement insert(writer_db,
                       "INSERT INTO tasks(version, state, origin, warning_id, unit, town, key_type, grade, grade_rank, "
                       "score, period, candidates, created_at, deadline, updated_at) "
                       "VALUES(1, 'issued', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
      PA_RETURN_IF_ERROR(insert.status());
      insert.Bind(1, std::string_view(task.origin));
      insert.Bind(2, task.warning_id);
      insert.Bind(3, std::string_view(task.unit));
      insert.Bind(4, std::string_view(task.town));
      insert.Bind(5, std::string_view(task.key_type));
      insert.Bind(6, std::string_view(task.grade));
      insert.Bind(7, static_cast<int64_t>(GradeRank(task.grade)));
      insert.Bind(8, task.score);
      insert.Bind(9, std::string_view(task.period));
      insert.Bind(10, std::string_view(absl::StrJoin(task.candidates, ",")));
      insert.Bind(11, task.created_at);
      insert.Bind(12, task.deadline);
      insert.Bind(13, task.updated_at);
      PA_RETURN_IF_ERROR(insert.Run());
      task.id = sqlite3_last_insert_rowid(writer_db);
      PA_RETURN_IF_ERROR(SetCandidates(task.id, task.candidates));
      PA_RETURN_IF_ERROR(Log(task, "create", "", actor,
                             Cat("warning=", warning.id, " ",
                                 task.candidates.empty() ? std::string("to=town queue") : Cat("to=", absl::StrJoin(task.candidates, ",")))));
      changed.push_back(TaskChange{task, {}});
      made.push_back(std::move(task));
    }
    return made;
  }

  absl::StatusOr<std::vector<Task>> Escalate() {
    const int64_t now = Now();
    std::vector<int64_t> due;
    {
      Statement find(writer_db, "SELECT id FROM tasks WHERE escalated_at IS NULL AND state <> 'closed' AND deadline < ?");
      PA_RETURN_IF_ERROR(find.status());
      find.Bind(1, now);
      while (find.Step() == SQLITE_ROW) due.push_back(find.Int(0));
    }
    std::vector<Task> escalated;
    for (int64_t id : due) {
      PA_ASSIGN_OR_RETURN(std::optional<Task> task, Load(id));
      if (!task) continue;
      task->escalated_at = now;
      ++task->version;
      task->updated_at = now;
      PA_RETURN_IF_ERROR(Save(*task));
      PA_RETURN_IF_ERROR(Log(*task, "escalate", TaskStateName(task->state), "system",
                             Cat("overdue since ", task->deadline, "; to the town official")));
      changed.push_back(TaskChange{*task, {}});
      escalated.push_back(*std::move(task));
    }
    return escalated;
  }

  // --- readers --------------------------------------------------------------------------------

  absl::StatusOr<sqlite3*> TakeReader() {
    {
      std::lock_guard lock(readers_mutex);
      if (!readers.empty()) {
        sqlite3* db = readers.back();
        readers.pop_back();
        return db;
      }
    }
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
      sqlite3_close(db);
      return absl::UnavailableError("tasks: cannot open the store for reading");
    }
    sqlite3_busy_timeout(db, 5000);
    return db;
  }
  void GiveReader(sqlite3* db) {
    std::lock_guard lock(readers_mutex);
    if (readers.size() < 8) {
      readers.push_back(db);
    } else {
      sqlite3_close(db);
    }
  }
  template <typename Fn>
  auto WithReader(Fn fn) -> decltype(fn(static_cast<sqlite3*>(nullptr))) {
    auto db = TakeReader();
    if (!db.ok()) return db.status();
    auto result = fn(*db);
    GiveReader(*db);
    return result;
  }
};

TaskStore::TaskStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

TaskStore::~TaskStore() {
  {
    std::lock_guard lock(impl_->queue_mutex);
    impl_->stopping = true;
  }
  impl_->queue_cv.notify_all();
  if (impl_->writer.joinable()) impl_->writer.join();
}

absl::StatusOr<std::unique_ptr<TaskStore>> TaskStore::Open(const fs::path& data_dir, LoopSettings settings,
                                                           TaskStoreOptions options) {
  const fs::path path = data_dir / kDatabaseFile;
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    return absl::FailedPreconditionError(Cat(data_dir.string(), " holds no pingan database (run `pingan init` first)"));
  }
  // The warnings table is the loop's input and the audit table takes its transitions: make sure
  // both exist.
  PA_ASSIGN_OR_RETURN(auto warnings, WarningStore::Open(data_dir));
  warnings.reset();
  PA_ASSIGN_OR_RETURN(auto auth, AuthStore::Open(data_dir));
  auth.reset();
  auto impl = std::make_unique<Impl>();
  impl->settings = std::move(settings);
  impl->options = std::move(options);
  if (impl->options.max_batch == 0) impl->options.max_batch = 1;
  impl->path = path;
  if (sqlite3_open_v2(path.c_str(), &impl->writer_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
    return absl::UnavailableError(Cat("tasks: cannot open ", path.string()));
  }
  sqlite3* db = impl->writer_db;
  sqlite3_busy_timeout(db, 10000);
  // Durable before acknowledged: every commit syncs the WAL.
  PA_RETURN_IF_ERROR(Exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"));
  PA_RETURN_IF_ERROR(Exec(db, "BEGIN IMMEDIATE"));
  absl::Status created = Exec(db, kSchema);
  if (created.ok()) {
    created = Exec(db, "COMMIT");
  } else {
    (void)Exec(db, "ROLLBACK");
  }
  PA_RETURN_IF_ERROR(created);
  impl->load = std::make_unique<Statement>(db, "SELECT " PA_TASK_COLUMNS " FROM tasks WHERE id = ?");
  impl->idem_find = std::make_unique<Statement>(db, "SELECT task_id, action, photo_seq FROM task_idempotency WHERE actor = ? AND key = ?");
  impl->idem_put = std::make_unique<Statement>(
      db, "INSERT INTO task_idempotency(actor, key, task_id, action, photo_seq, at) VALUES(?,?,?,?,?,?)");
  impl->save = std::make_unique<Statement>(
      db, "UPDATE tasks SET version=?2, state=?3, assignee=?4, candidates=?5, updated_at=?6, accepted_at=?7, "
          "submitted_at=?8, closed_at=?9, escalated_at=?10, outcome=?11, feedback=?12, returns=?13, photos=?14 "
          "WHERE id=?1");
  impl->audit = std::make_unique<AuditAppender>(db);
  impl->log_put = std::make_unique<Statement>(
      db, "INSERT INTO task_log(task_id, version, action, from_state, to_state, actor, at, detail) VALUES(?,?,?,?,?,?,?,?)");
  for (const Statement* statement :
       {impl->load.get(), impl->idem_find.get(), impl->idem_put.get(), impl->log_put.get(), impl->save.get()}) {
    PA_RETURN_IF_ERROR(statement->status());
  }
  Impl* raw = impl.get();
  impl->writer = std::thread([raw] { raw->Run(); });
  return std::unique_ptr<TaskStore>(new TaskStore(std::move(impl)));
}

const LoopSettings& TaskStore::settings() const { return impl_->settings; }
int64_t TaskStore::Now() const { return impl_->Now(); }

void TaskStore::SetListener(std::function<void(const std::vector<TaskChange>&)> listener) {
  std::lock_guard lock(impl_->listener_mutex);
  impl_->listener = std::move(listener);
}

absl::StatusOr<std::vector<Task>> TaskStore::CreateFromWarning(const Warning& warning, const std::vector<std::string>& grids,
                                                               const std::vector<User>& users, std::string_view actor) {
  using Result = absl::StatusOr<std::vector<Task>>;
  const std::string who(actor);
  return impl_->Write<Result>([&]() -> Result { return impl_->Create(warning, grids, users, who); },
                              [](absl::Status status) -> Result { return status; });
}

absl::StatusOr<std::vector<Task>> TaskStore::AutoDispatch(const std::vector<Warning>& raised,
                                                          const std::vector<User>& users) {
  std::vector<Task> made;
  for (const Warning& warning : raised) {
    if (!impl_->settings.auto_dispatch.contains(warning.grade)) continue;
    PA_ASSIGN_OR_RETURN(std::vector<Task> tasks, CreateFromWarning(warning, warning.grids, users, "system"));
    made.insert(made.end(), tasks.begin(), tasks.end());
  }
  return made;
}

absl::StatusOr<std::vector<Task>> TaskStore::EscalateOverdue() {
  using Result = absl::StatusOr<std::vector<Task>>;
  return impl_->Write<Result>([&]() -> Result { return impl_->Escalate(); },
                              [](absl::Status status) -> Result { return status; });
}

TaskOutcome TaskStore::Apply(TaskRequest request) {
  if (request.idempotency_key.empty() && !request.expected_version) {
    return TaskOutcome{.status = absl::InvalidArgumentError(
                           "send the version you expect (\"version\") or an Idempotency-Key header, so that a retry "
                           "cannot act twice")};
  }
  if (request.idempotency_key.size() > 128 || !IsValidUtf8(request.idempotency_key)) {
    return TaskOutcome{.status = absl::InvalidArgumentError("Idempotency-Key: at most 128 bytes of text")};
  }
  // A database error inside the transition is an outcome too; the savepoint is rolled back.
  using Result = absl::StatusOr<TaskOutcome>;
  Result result = impl_->Write<Result>([&]() -> Result { return impl_->Transition(request); },
                                       [](absl::Status status) -> Result { return status; });
  if (!result.ok()) return TaskOutcome{.status = result.status()};
  return *std::move(result);
}

absl::StatusOr<std::optional<Task>> TaskStore::Get(int64_t id) {
  return impl_->WithReader([&](sqlite3* db) -> absl::StatusOr<std::optional<Task>> {
    Statement select(db, "SELECT " PA_TASK_COLUMNS " FROM tasks WHERE id = ?");
    PA_RETURN_IF_ERROR(select.status());
    select.Bind(1, id);
    const int rc = select.Step();
    if (rc == SQLITE_DONE) return std::optional<Task>();
    if (rc != SQLITE_ROW) return SqlError(db, "get");
    return std::optional<Task>(ReadTask(select));
  });
}

absl::StatusOr<std::vector<Task>> TaskStore::List(const TaskFilter& filter) {
  return impl_->WithReader([&](sqlite3* db) -> absl::StatusOr<std::vector<Task>> {
    std::string sql = "SELECT " PA_TASK_COLUMNS " FROM tasks WHERE 1";
    if (!filter.mine.empty()) {
      sql += " AND (assignee = ?1 OR (assignee IS NULL AND state = 'issued' AND id IN "
             "(SELECT task_id FROM task_candidates WHERE name = ?1)))";
    }
    if (!filter.unit_prefixes.empty()) {
      std::vector<std::string> parts;
      for (const std::string& prefix : filter.unit_prefixes) {
        if (prefix.empty() || prefix.find_first_not_of("0123456789") != std::string::npos) {
          return absl::InvalidArgumentError("unit prefixes are digits");
        }
        parts.push_back(Cat("substr(unit, 1, ", prefix.size(), ") = '", prefix, "'"));
      }
      sql += Cat(" AND (", absl::StrJoin(parts, " OR "), ")");
    }
    if (filter.state == "open") {
      sql += " AND state <> 'closed'";
    } else if (filter.state == "overdue") {
      sql += " AND state <> 'closed' AND deadline < ?2";
    } else if (!filter.state.empty()) {
      if (!ParseTaskState(filter.state)) {
        return absl::InvalidArgumentError("state: open, closed, overdue, issued, accepted, in_progress, submitted or returned");
      }
      sql += " AND state = ?3";
    }
    sql += " ORDER BY state = 'closed', grade_rank, deadline, id LIMIT ?4 OFFSET ?5";
    Statement select(db, sql);
    PA_RETURN_IF_ERROR(select.status());
    if (!filter.mine.empty()) select.Bind(1, std::string_view(filter.mine));
    select.Bind(2, impl_->Now());
    select.Bind(3, std::string_view(filter.state));
    select.Bind(4, std::clamp<int64_t>(filter.limit, 0, 10000));
    select.Bind(5, std::max<int64_t>(filter.offset, 0));
    std::vector<Task> tasks;
    int rc;
    while ((rc = select.Step()) == SQLITE_ROW) tasks.push_back(ReadTask(select));
    if (rc != SQLITE_DONE) return SqlError(db, "list");
    return tasks;
  });
}

absl::StatusOr<std::vector<TaskLogEntry>> TaskStore::History(int64_t id) {
  return impl_->WithReader([&](sqlite3* db) -> absl::StatusOr<std::vector<TaskLogEntry>> {
    Statement select(db, "SELECT version, action, from_state, to_state, actor, at, detail FROM task_log WHERE task_id = ? "
                         "ORDER BY version");
    PA_RETURN_IF_ERROR(select.status());
    select.Bind(1, id);
    std::vector<TaskLogEntry> entries;
    while (select.Step() == SQLITE_ROW) {
      entries.push_back(TaskLogEntry{.version = select.Int(0),
                                     .action = std::string(select.Text(1)),
                                     .from = std::string(select.Text(2)),
                                     .to = std::string(select.Text(3)),
                                     .actor = std::string(select.Text(4)),
                                     .at = select.Int(5),
                                     .detail = std::string(select.Text(6))});
    }
    return entries;
  });
}

absl::StatusOr<std::vector<TaskPhoto>> TaskStore::Photos(int64_t id) {
  return impl_->WithReader([&](sqlite3* db) -> absl::StatusOr<std::vector<TaskPhoto>> {
    Statement select(db, "SELECT seq, mime, bytes, uploaded_by, at FROM task_photos WHERE task_id = ? ORDER BY seq");
    PA_RETURN_IF_ERROR(select.status());
    select.Bind(1, id);
    std::vector<TaskPhoto> photos;
    while (select.Step() == SQLITE_ROW) {
      photos.push_back(TaskPhoto{.seq = select.Int(0),
                                 .mime = std::string(select.Text(1)),
                                 .bytes = select.Int(2),
                                 .uploaded_by = std::string(select.Text(3)),
                                 .at = select.Int(4)});
    }
    return photos;
  });
}

absl::StatusOr<std::pair<TaskPhoto, std::string>> TaskStore::Photo(int64_t id, int64_t seq) {
  return impl_->WithReader([&](sqlite3* db) -> absl::StatusOr<std::pair<TaskPhoto, std::string>> {
    Statement select(db, "SELECT seq, mime, bytes, uploaded_by, at, data FROM task_photos WHERE task_id = ? AND seq = ?");
    PA_RETURN_IF_ERROR(select.status());
    select.Bind(1, id);
    select.Bind(2, seq);
    if (select.Step() != SQLITE_ROW) return absl::NotFoundError(Cat("task ", id, " has no photo ", seq));
    return std::pair{TaskPhoto{.seq = select.Int(0),
                               .mime = std::string(select.Text(1)),
                               .bytes = select.Int(2),
                               .uploaded_by = std::string(select.Text(3)),
                               .at = select.Int(4)},
                     std::string(select.Blob(5))};
  });
}

absl::StatusOr<std::map<int64_t, int64_t>> TaskStore::TaskCounts(const std::vector<int64_t>& warning_ids) {
  return impl_->WithReader([&](sqlite3* db) -> absl::StatusOr<std::map<int64_t, int64_t>> {
    std::map<int64_t, int64_t> counts;
    Statement select(db, "SELECT count(*) FROM tasks WHERE warning_id = ?");
    PA_RETURN_IF_ERROR(select.status());
    for (int64_t id : warning_ids) {
      select.Bind(1, id);
      counts[id] = select.Step() == SQLITE_ROW ? select.Int(0) : 0;
      select.Reset();
    }
    return counts;
  });
}

absl::StatusOr<std::vector<LoopFigures>> TaskStore::Figures(const std::string& period,
                                                            const std::vector<std::string>& prefixes) {
  const int64_t now = impl_->Now();
  return impl_->WithReader([&](sqlite3* db) -> absl::StatusOr<std::vector<LoopFigures>> {
    struct Row {
      int64_t warning_id;
      std::string unit;
      Task task;
    };
    std::vector<Row> rows;
    {
      Statement select(db, "SELECT " PA_TASK_COLUMNS " FROM tasks WHERE period = ?");
      PA_RETURN_IF_ERROR(select.status());
      select.Bind(1, std::string_view(period));
      while (select.Step() == SQLITE_ROW) {
        Task task = ReadTask(select);
        rows.push_back(Row{task.warning_id, task.unit, std::move(task)});
      }
    }
    std::map<int64_t, std::string> warnings;  // id -> unit
    {
      Statement select(db, "SELECT id, unit FROM warnings WHERE period = ?");
      PA_RETURN_IF_ERROR(select.status());
      select.Bind(1, std::string_view(period));
      while (select.Step() == SQLITE_ROW) warnings[select.Int(0)] = std::string(select.Text(1));
    }
    std::vector<LoopFigures> out;
    for (const std::string& prefix : prefixes) {
      auto under = [&](const std::string& code) { return code.compare(0, prefix.size(), prefix) == 0; };
      LoopFigures figures;
      std::set<int64_t> landed;
      std::vector<int64_t> accept, close;
      for (const auto& [id, unit] : warnings) figures.warnings += under(unit) ? 1 : 0;
      for (const Row& row : rows) {
        const Task& task = row.task;
        if (!under(task.unit)) continue;
        ++figures.tasks;
        if (task.open()) {
          ++figures.open;
        } else {
          ++figures.closed;
          ++figures.outcomes[task.outcome];
          close.push_back(task.closed_at - task.created_at);
        }
        if (task.Overdue(now)) {
          ++figures.overdue;
        } else if (!task.open()) {
          ++figures.on_time;
        }
        if (task.accepted_at != 0) accept.push_back(task.accepted_at - task.created_at);
        const auto warning = warnings.find(task.warning_id);
        if (warning != warnings.end() && under(warning->second) && !task.in_town_queue()) landed.insert(task.warning_id);
      }
      figures.landed = static_cast<int64_t>(landed.size());
      figures.median_accept_seconds = Median(std::move(accept));
      figures.median_close_seconds = Median(std::move(close));
      out.push_back(std::move(figures));
    }
    return out;
  });
}

}  // namespace pingan
