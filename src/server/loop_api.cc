#include "server/loop_api.h"

#include <httplib.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <iostream>

#include "absl/strings/numbers.h"
#include "address/code.h"
#include "address/registry.h"
#include "assess/warnings.h"
#include "catalog/catalog.h"
#include "core/civil_time.h"
#include "core/status.h"
#include "core/strings.h"
#include "core/text.h"
#include "server/api_util.h"

namespace pingan {
namespace {

using Json = nlohmann::ordered_json;

void SetJson(httplib::Response& response, const Json& body, int status = 200) {
  response.status = status;
  response.set_content(body.dump(-1, ' ', false, Json::error_handler_t::replace), "application/json");
}

absl::StatusOr<int64_t> IdParam(const std::string& text, std::string_view what) {
  int64_t id = 0;
  if (text.empty() || text.size() > 18 || !absl::SimpleAtoi(text, &id) || id <= 0) {
    return absl::InvalidArgumentError(Cat(what, ": a positive integer"));
  }
  return id;
}

bool Offered(const Task& task, std::string_view name) {
  return task.state == TaskState::kIssued && !task.assignee &&
         std::find(task.candidates.begin(), task.candidates.end(), name) != task.candidates.end();
}

bool Assigned(const Task& task, std::string_view name) { return task.assignee && *task.assignee == name; }

bool Official(const Task& task, const Principal& who) {
  return who.role == Role::kTownOfficial && InScope(who, task.town);
}

// Who may see a task: its worker (or a worker it is offered to), and the town officials and
// analysts whose area holds it; admins. Auditors read the audit log, not the tasks.
bool CanSee(const Task& task, const Principal& who) {
  switch (who.role) {
    case Role::kAdmin: return true;
    case Role::kAuditor: return false;
    case Role::kGridWorker: return Assigned(task, who.name) || Offered(task, who.name);
    default: return InScope(who, task.unit);
  }
}

// The actions `who` may take on `task` now.
std::vector<std::string> ActionsFor(const Task& task, const Principal& who) {
  std::vector<std::string> actions;
  if (Offered(task, who.name)) actions.emplace_back("accept");
  if (Assigned(task, who.name)) {
    if (task.state == TaskState::kAccepted || task.state == TaskState::kReturned) actions.emplace_back("start");
    if (task.state == TaskState::kInProgress) actions.emplace_back("submit");
  }
  if (Official(task, who)) {
    if (task.state == TaskState::kSubmitted) {
      actions.emplace_back("close");
      actions.emplace_back("return");
    } else if (task.open()) {
      actions.emplace_back("reassign");
    }
  }
  return actions;
}

// A conflict answer: the error and the task as it is now.
void SetConflict(httplib::Response& response, const absl::Status& status, const Json& task) {
  SetJson(response,
          Json{{"error", {{"code", "conflict"}, {"message", std::string(status.message())}}}, {"task", task}}, 409);
}

}  // namespace

struct LoopApi::Impl {
  // One live-feed subscriber.
  struct Subscriber : server_internal::EventQueue {
    Principal who;
  };

  Env env;
  std::mutex subscribers_mutex;
  std::vector<std::shared_ptr<Subscriber>> subscribers;

  const Registry& registry() const { return *env.registry; }

  std::string Time(int64_t at) const { return at == 0 ? std::string() : FormatTime(at, env.zone); }
  Json TimeOrNull(int64_t at) const { return at == 0 ? Json(nullptr) : Json(Time(at)); }

  Json PathOf(const std::string& code, std::string* name) const {
    Json path = Json::array();
    auto parsed = AddressCode::Parse(code);
    if (!parsed.ok()) return path;
    const std::optional<UnitId> unit = registry().Find(*parsed);
    if (!unit) return path;
    *name = registry().name(*unit);
    UnitId chain[kLevelCount];
    const int count = registry().Ancestors(*unit, chain);
    for (int i = 0; i < count; ++i) {
      if (registry().level(chain[i]) < Level::kDistrict) continue;
      path.push_back(Json{{"level", std::string(LevelName(registry().level(chain[i])))},
                          {"code", registry().code(chain[i]).ToString()},
                          {"name", registry().name(chain[i])}});
    }
    return path;
  }

  Json TaskJson(const Task& task, const Principal& who, int64_t now) const {
    std::string unit_name, town_name;
    Json path = PathOf(task.unit, &unit_name);
    (void)PathOf(task.town, &town_name);
    const TaskTemplate& plan = env.tasks->settings().TemplateFor(task.key_type);
    std::string key_zh = task.key_type, key_en = task.key_type;
    for (const auto& key_type : env.catalog->key_types) {
      if (key_type.id == task.key_type) key_zh = key_type.zh, key_en = key_type.en;
    }
    Json candidates = Json::array();
    for (const std::string& name : task.candidates) candidates.push_back(name);
    Json actions = Json::array();
    for (std::string& action : ActionsFor(task, who)) actions.push_back(std::move(action));
    return Json{{"id", task.id},
                {"version", task.version},
                {"state", std::string(TaskStateName(task.state))},
                {"origin", task.origin},
                {"warning_id", task.warning_id == 0 ? Json(nullptr) : Json(task.warning_id)},
                {"unit", task.unit},
                {"unit_name", unit_name},
                {"path", std::move(path)},
                {"town", task.town},
                {"town_name", town_name},
                {"key_type", task.key_type},
                {"key_type_name", key_zh},
                {"key_type_name_en", key_en},
                {"grade", task.grade},
                {"score", task.score},
                {"period", task.period},
                {"title", plan.title},
                {"title_en", plan.title_en},
                {"checklist", plan.checklist},
                {"checklist_en", plan.checklist_en},
                {"assignee", task.assignee ? Json(*task.assignee) : Json(nullptr)},
                {"candidates", std::move(candidates)},
                {"queue", task.in_town_queue() ? "town" : "worker"},
                {"created_at", Time(task.created_at)},
                {"deadline", Time(task.deadline)},
                {"overdue", task.Overdue(now)},
                {"escalated", task.escalated_at != 0},
                {"accepted_at", TimeOrNull(task.accepted_at)},
                {"submitted_at", TimeOrNull(task.submitted_at)},
                {"closed_at", TimeOrNull(task.closed_at)},
                {"outcome", task.outcome.empty() ? Json(nullptr) : Json(task.outcome)},
                {"feedback", task.feedback.empty() ? Json(nullptr) : Json(task.feedback)},
                {"returns", task.returns},
                {"photo_count", task.photos},
                {"actions", std::move(actions)}};
  }

  // The task with its photos and, with `history`, its log (which grows with every transition:
  // the detail page asks for it, a transition's answer does not carry it).
  absl::StatusOr<Json> FullTaskJson(const Task& task, const Principal& who, bool history = true) const {
    Json body = TaskJson(task, who, env.tasks->Now());
    std::vector<TaskPhoto> photos;
    if (task.photos > 0) {
      PA_ASSIGN_OR_RETURN(photos, env.tasks->Photos(task.id));
    }
    Json photo_items = Json::array();
    for (const TaskPhoto& photo : photos) {
      photo_items.push_back(Json{{"id", photo.seq},
                                 {"mime", photo.mime},
                                 {"bytes", photo.bytes},
                                 {"uploaded_by", photo.uploaded_by},
                                 {"at", Time(photo.at)},
                                 {"url", Cat("/api/tasks/", task.id, "/photos/", photo.seq)}});
    }
    body["photos"] = std::move(photo_items);
    if (!history) return body;
    PA_ASSIGN_OR_RETURN(std::vector<TaskLogEntry> log, env.tasks->History(task.id));
    Json entries = Json::array();
    for (const TaskLogEntry& entry : log) {
      entries.push_back(Json{{"version", entry.version},
                             {"action", entry.action},
                             {"from", entry.from.empty() ? Json(nullptr) : Json(entry.from)},
                             {"to", entry.to},
                             {"actor", entry.actor},
                             {"at", Time(entry.at)},
                             {"detail", entry.detail}});
    }
    body["history"] = std::move(entries);
    return body;
  }

  // The task a request's path names, visible to `who`.
  absl::StatusOr<Task> VisibleTask(const httplib::Request& request, const Principal& who) {
    PA_ASSIGN_OR_RETURN(int64_t id, IdParam(request.matches.size() > 1 ? std::string(request.matches[1]) : "", "task id"));
    PA_ASSIGN_OR_RETURN(std::optional<Task> task, env.tasks->Get(id));
    if (!task) return absl::NotFoundError(Cat("no task ", id));
    if (!CanSee(*task, who)) return absl::PermissionDeniedError(Cat("task ", id, " is not yours to see"));
    return *std::move(task);
  }

  // Answers a transition's outcome: 200 with the task, 409 with the current task, or an error.
  absl::Status Answer(httplib::Response& response, const TaskOutcome& outcome, const Principal& who, int ok_status,
                      Json extra = Json::object()) {
    if (outcome.status.code() == absl::StatusCode::kAborted && outcome.task) {
      SetConflict(response, outcome.status, TaskJson(*outcome.task, who, env.tasks->Now()));
      return absl::OkStatus();
    }
    if (!outcome.status.ok()) return outcome.status;
    PA_ASSIGN_OR_RETURN(Json task, FullTaskJson(*outcome.task, who, /*history=*/false));
    Json body{{"task", std::move(task)}, {"replayed", outcome.replayed}};
    for (auto& [key, value] : extra.items()) body[key] = value;
    SetJson(response, body, outcome.replayed ? 200 : ok_status);
    return absl::OkStatus();
  }

  static absl::StatusOr<std::string> IdempotencyKey(const httplib::Request& request) {
    if (request.get_header_value_count("Idempotency-Key") > 1) return absl::InvalidArgumentError("Idempotency-Key: given twice");
    std::string key = request.get_header_value("Idempotency-Key");
    if (key.size() > 128) return absl::InvalidArgumentError("Idempotency-Key: at most 128 characters");
    for (char c : key) {
      if (c < 0x21 || c > 0x7e) return absl::InvalidArgumentError("Idempotency-Key: printable ASCII without spaces");
    }
    return key;
  }

  void Push(const std::vector<TaskChange>& changes) {
    std::vector<std::shared_ptr<Subscriber>> listeners;
    {
      std::lock_guard lock(subscribers_mutex);
      listeners = subscribers;
    }
    if (listeners.empty()) return;
    const int64_t now = env.tasks->Now();
    for (const auto& subscriber : listeners) {
      std::vector<std::string> events;
      for (const TaskChange& change : changes) {
        const Task& task = change.task;
        const bool former =
            std::find(change.former.begin(), change.former.end(), subscriber->who.name) != change.former.end();
        if (!CanSee(task, subscriber->who) && !former) continue;
        events.push_back(TaskJson(task, subscriber->who, now).dump(-1, ' ', false, Json::error_handler_t::replace));
      }
      if (events.empty()) continue;
      std::lock_guard lock(subscriber->mutex);
      for (std::string& event : events) {
        if (subscriber->queue.size() < 1000) subscriber->queue.push_back(std::move(event));
      }
      subscriber->ready.notify_all();
    }
  }
};

LoopApi::LoopApi(Env env) : impl_(std::make_unique<Impl>()) {
  impl_->env = std::move(env);
  Impl* impl = impl_.get();
  impl_->env.tasks->SetListener([impl](const std::vector<TaskChange>& changes) { impl->Push(changes); });
}

LoopApi::~LoopApi() {
  impl_->env.tasks->SetListener(nullptr);
  Close();
}

void LoopApi::Close() {
  std::lock_guard lock(impl_->subscribers_mutex);
  for (const auto& subscriber : impl_->subscribers) {
    std::lock_guard queue_lock(subscriber->mutex);
    subscriber->closed = true;
    subscriber->ready.notify_all();
  }
}

absl::Status LoopApi::List(const httplib::Request& request, httplib::Response& response, const Principal& who) {
  using server_internal::Bounded;
  using server_internal::BoundedInt;
  PA_ASSIGN_OR_RETURN(std::string view, Bounded(request, "view", 16));
  PA_ASSIGN_OR_RETURN(std::string state, Bounded(request, "state", 16));
  PA_ASSIGN_OR_RETURN(std::string unit, Bounded(request, "unit", 27));
  PA_ASSIGN_OR_RETURN(int64_t limit, BoundedInt(request, "limit", 100, 1, 1000));
  PA_ASSIGN_OR_RETURN(std::string after, Bounded(request, "after", 18));
  int64_t offset = 0;
  if (!after.empty() && (!absl::SimpleAtoi(after, &offset) || offset < 0)) {
    return absl::InvalidArgumentError("after: the cursor of a previous page");
  }
  if (view.empty()) view = who.role == Role::kGridWorker ? "mine" : "town";
  TaskFilter filter{.state = state, .offset = offset, .limit = limit + 1};
  if (view == "mine") {
    filter.mine = who.name;
  } else if (view == "town") {
    if (who.role == Role::kGridWorker) return absl::PermissionDeniedError("grid workers see their own tasks (view=mine)");
    if (who.role != Role::kAdmin) filter.unit_prefixes = who.scopes;
  } else {
    return absl::InvalidArgumentError("view: mine or town");
  }
  if (!unit.empty()) {
    PA_ASSIGN_OR_RETURN(std::string prefix, NormalizeScope(unit));
    if (!InScope(who, prefix)) return absl::PermissionDeniedError(Cat("unit ", unit, " is outside your area"));
    filter.unit_prefixes = {prefix};
  }
  PA_ASSIGN_OR_RETURN(std::vector<Task> tasks, impl_->env.tasks->List(filter));
  const bool more = static_cast<int64_t>(tasks.size()) > limit;
  if (more) tasks.pop_back();
  const int64_t now = impl_->env.tasks->Now();
  Json items = Json::array();
  for (const Task& task : tasks) {
    if (CanSee(task, who)) items.push_back(impl_->TaskJson(task, who, now));
  }
  SetJson(response, Json{{"items", std::move(items)},
                         {"next", more ? Json(std::to_string(offset + limit)) : Json(nullptr)}});
  return absl::OkStatus();
}

absl::Status LoopApi::Get(const httplib::Request& request, httplib::Response& response, const Principal& who) {
  PA_ASSIGN_OR_RETURN(Task task, impl_->VisibleTask(request, who));
  PA_ASSIGN_OR_RETURN(Json body, impl_->FullTaskJson(task, who));
  SetJson(response, body);
  return absl::OkStatus();
}

absl::Status LoopApi::Act(const httplib::Request& request, httplib::Response& response, const Principal& who) {
  PA_ASSIGN_OR_RETURN(int64_t id, IdParam(request.matches.size() > 1 ? std::string(request.matches[1]) : "", "task id"));
  const std::string action_name = request.matches.size() > 2 ? std::string(request.matches[2]) : "";
  const std::optional<TaskAction> action = ParseTaskAction(action_name);
  if (!action || *action == TaskAction::kPhoto) {
    return absl::NotFoundError("no such action (accept, start, submit, close, return, reassign)");
  }
  TaskRequest task_request{.task_id = id, .action = *action, .actor = who};
  PA_ASSIGN_OR_RETURN(task_request.idempotency_key, Impl::IdempotencyKey(request));
  const Json body = request.body.empty() ? Json::object() : Json::parse(request.body, nullptr, false);
  if (!body.is_object()) return absl::InvalidArgumentError("body: a JSON object");
  for (const auto& [key, value] : body.items()) {
    if (key == "version") {
      if (!value.is_number_integer() || value.get<int64_t>() < 1) return absl::InvalidArgumentError("version: a positive integer");
      task_request.expected_version = value.get<int64_t>();
    } else if (key == "feedback" || key == "outcome" || key == "note") {
      if (!value.is_string()) return absl::InvalidArgumentError(Cat(key, ": a string"));
      std::string text = value.get<std::string>();
      if (text.size() > 64 * 1024) return absl::InvalidArgumentError(Cat(key, ": too long"));
      (key == "feedback" ? task_request.feedback : key == "outcome" ? task_request.outcome : task_request.note) = std::move(text);
    } else if (key == "assignee") {
      if (value.is_null()) continue;
      if (!value.is_string() || value.get<std::string>().empty() || value.get<std::string>().size() > 64) {
        return absl::InvalidArgumentError("assignee: a username, or null for the town official's queue");
      }
      PA_ASSIGN_OR_RETURN(std::optional<User> user, impl_->env.auth->FindUser(value.get<std::string>()));
      if (!user) return absl::InvalidArgumentError(Cat("assignee: no user '", Printable(value.get<std::string>(), 64), "'"));
      task_request.assignee = *std::move(user);
    } else {
      return absl::InvalidArgumentError(Cat("body: unknown field '", Printable(key, 40), "' (version, feedback, outcome, note, assignee)"));
    }
  }
  // The store answers 403 before anything that would show the task's state to a caller who may
  // not act on it (a conflict's current state goes only to its workers and officials).
  return impl_->Answer(response, impl_->env.tasks->Apply(std::move(task_request)), who, 200);
}

absl::Status LoopApi::UploadPhoto(const httplib::Request& request, httplib::Response& response, const Principal& who) {
  PA_ASSIGN_OR_RETURN(Task task, impl_->VisibleTask(request, who));
  TaskRequest task_request{.task_id = task.id, .action = TaskAction::kPhoto, .actor = who};
  PA_ASSIGN_OR_RETURN(task_request.idempotency_key, Impl::IdempotencyKey(request));
  if (task_request.idempotency_key.empty()) task_request.expected_version = task.version;
  std::string type = request.get_header_value("Content-Type");
  if (const size_t semicolon = type.find(';'); semicolon != std::string::npos) type.resize(semicolon);
  task_request.photo_mime = type;
  if (request.body.empty()) return absl::InvalidArgumentError("photo: the body is empty");
  task_request.photo_bytes = request.body;
  TaskOutcome outcome = impl_->env.tasks->Apply(std::move(task_request));
  const int64_t seq = outcome.photo_seq;
  Json extra = Json::object();
  if (outcome.status.ok()) extra["photo"] = Json{{"id", seq}, {"url", Cat("/api/tasks/", task.id, "/photos/", seq)}};
  return impl_->Answer(response, outcome, who, 201, std::move(extra));
}

absl::Status LoopApi::GetPhoto(const httplib::Request& request, httplib::Response& response, const Principal& who) {
  PA_ASSIGN_OR_RETURN(Task task, impl_->VisibleTask(request, who));
  PA_ASSIGN_OR_RETURN(int64_t seq, IdParam(request.matches.size() > 2 ? std::string(request.matches[2]) : "", "photo id"));
  PA_ASSIGN_OR_RETURN(auto photo, impl_->env.tasks->Photo(task.id, seq));
  response.set_header("Cache-Control", "private, max-age=86400");
  response.set_content(photo.second, photo.first.mime);
  return absl::OkStatus();
}

absl::Status LoopApi::Assignees(const httplib::Request& request, httplib::Response& response, const Principal& who) {
  PA_ASSIGN_OR_RETURN(std::string text, server_internal::Bounded(request, "task", 18));
  PA_ASSIGN_OR_RETURN(int64_t id, IdParam(text, "task"));
  PA_ASSIGN_OR_RETURN(std::optional<Task> task, impl_->env.tasks->Get(id));
  if (!task) return absl::NotFoundError(Cat("no task ", id));
  if (!Official(*task, who)) return absl::PermissionDeniedError("only town officials of the task's town may reassign it");
  PA_ASSIGN_OR_RETURN(std::vector<User> users, impl_->env.auth->ListUsers());
  Json items = Json::array();
  for (const User& user : users) {
    if (user.disabled || (user.role != Role::kGridWorker && user.role != Role::kTownOfficial)) continue;
    Principal as{.user_id = user.id, .name = user.name, .role = user.role, .scopes = user.scopes};
    if (!InScope(as, task->unit)) continue;
    items.push_back(Json{{"name", user.name}, {"role", std::string(RoleName(user.role))}});
  }
  SetJson(response, Json{{"items", std::move(items)}});
  return absl::OkStatus();
}

absl::Status LoopApi::Stream(const httplib::Request&, httplib::Response& response, const Principal& who) {
  std::atomic<int>& streams = *impl_->env.streams;
  if (streams.fetch_add(1) >= impl_->env.max_streams) {
    streams.fetch_sub(1);
    return absl::UnavailableError("too many live streams open; try again later");
  }
  auto subscriber = std::make_shared<Impl::Subscriber>();
  subscriber->who = who;
  {
    std::lock_guard lock(impl_->subscribers_mutex);
    impl_->subscribers.push_back(subscriber);
  }
  Impl* impl = impl_.get();
  server_internal::ServeEvents(response, subscriber, "task", [impl, subscriber] {
    {
      std::lock_guard lock(impl->subscribers_mutex);
      auto& list = impl->subscribers;
      list.erase(std::remove(list.begin(), list.end(), subscriber), list.end());
    }
    impl->env.streams->fetch_sub(1);
  });
  return absl::OkStatus();
}

absl::Status LoopApi::Dispatch(const httplib::Request& request, httplib::Response& response, const Principal& who) {
  PA_ASSIGN_OR_RETURN(int64_t id, IdParam(request.matches.size() > 1 ? std::string(request.matches[1]) : "", "warning id"));
  std::optional<Warning> warning;
  {
    std::lock_guard lock(*impl_->env.warnings_mutex);
    PA_ASSIGN_OR_RETURN(warning, impl_->env.warnings->Get(id));
  }
  if (!warning) return absl::NotFoundError(Cat("no warning ", id));
  const Json body = request.body.empty() ? Json::object() : Json::parse(request.body, nullptr, false);
  if (!body.is_object()) return absl::InvalidArgumentError("body: a JSON object");
  std::vector<std::string> wanted;
  for (const auto& [key, value] : body.items()) {
    if (key != "grids") return absl::InvalidArgumentError(Cat("body: unknown field '", Printable(key, 40), "' (grids)"));
    if (!value.is_array() || value.size() > 100) return absl::InvalidArgumentError("grids: an array of at most 100 codes");
    for (const Json& grid : value) {
      if (!grid.is_string()) return absl::InvalidArgumentError("grids: codes as strings");
      const std::string code = grid.get<std::string>();
      if (std::find(warning->grids.begin(), warning->grids.end(), code) == warning->grids.end()) {
        return absl::InvalidArgumentError(Cat("grids: ", Printable(code, 27), " is not a grid of warning ", id));
      }
      wanted.push_back(code);
    }
  }
  if (!body.contains("grids")) wanted = warning->grids.empty() ? std::vector<std::string>{warning->unit} : warning->grids;
  std::vector<std::string> mine;
  for (const std::string& grid : wanted) {
    if (InScope(who, grid)) mine.push_back(grid);
  }
  if (mine.empty()) return absl::PermissionDeniedError(Cat("warning ", id, " has no grid in your area"));
  PA_ASSIGN_OR_RETURN(std::vector<User> users, impl_->env.auth->ListUsers());
  PA_ASSIGN_OR_RETURN(std::vector<Task> made, impl_->env.tasks->CreateFromWarning(*warning, mine, users, who.name));
  const int64_t now = impl_->env.tasks->Now();
  Json items = Json::array();
  for (const Task& task : made) items.push_back(impl_->TaskJson(task, who, now));
  SetJson(response, Json{{"tasks", std::move(items)}, {"created", made.size()}});
  return absl::OkStatus();
}

absl::StatusOr<nlohmann::ordered_json> LoopApi::Metrics(const std::string& code, const std::vector<std::string>& children,
                                                        const std::string& period) {
  std::vector<std::string> prefixes;
  auto prefix_of = [](const std::string& full) -> std::string {
    auto scope = NormalizeScope(full);
    return scope.ok() ? *scope : full;
  };
  prefixes.push_back(prefix_of(code));
  for (const std::string& child : children) prefixes.push_back(prefix_of(child));
  PA_ASSIGN_OR_RETURN(std::vector<LoopFigures> figures, impl_->env.tasks->Figures(period, prefixes));
  auto to_json = [](const LoopFigures& f) {
    Json outcomes = Json::object();
    for (const char* outcome : kTaskOutcomes) {
      const auto it = f.outcomes.find(outcome);
      outcomes[outcome] = it == f.outcomes.end() ? 0 : it->second;
    }
    return Json{{"warnings", f.warnings},
                {"landed", f.landed},
                {"landed_share", f.warnings == 0 ? Json(nullptr) : Json(static_cast<double>(f.landed) / static_cast<double>(f.warnings))},
                {"tasks", f.tasks},
                {"open", f.open},
                {"closed", f.closed},
                {"on_time", f.on_time},
                {"overdue", f.overdue},
                {"median_accept_seconds", f.median_accept_seconds ? Json(*f.median_accept_seconds) : Json(nullptr)},
                {"median_close_seconds", f.median_close_seconds ? Json(*f.median_close_seconds) : Json(nullptr)},
                {"outcomes", std::move(outcomes)}};
  };
  std::string name;
  impl_->PathOf(code, &name);
  Json rows = Json::array();
  for (size_t i = 0; i < children.size(); ++i) {
    std::string child_name;
    impl_->PathOf(children[i], &child_name);
    Json row = to_json(figures[i + 1]);
    row["code"] = children[i];
    row["name"] = child_name;
    rows.push_back(std::move(row));
  }
  return Json{{"unit", code}, {"unit_name", name}, {"period", period}, {"total", to_json(figures[0])}, {"rows", std::move(rows)}};
}

absl::StatusOr<std::map<int64_t, int64_t>> LoopApi::TaskCounts(const std::vector<int64_t>& warning_ids) {
  return impl_->env.tasks->TaskCounts(warning_ids);
}

void LoopApi::AutoDispatch(const std::vector<Warning>& warnings) {
  // Only those of a grade that dispatches itself and without any task yet.
  std::vector<int64_t> ids;
  for (const Warning& warning : warnings) {
    if (impl_->env.tasks->settings().auto_dispatch.contains(warning.grade)) ids.push_back(warning.id);
  }
  if (ids.empty()) return;
  absl::StatusOr<std::map<int64_t, int64_t>> counts = impl_->env.tasks->TaskCounts(ids);
  absl::Status status = counts.status();
  std::vector<Warning> waiting;
  if (counts.ok()) {
    for (const Warning& warning : warnings) {
      const auto it = counts->find(warning.id);
      if (it != counts->end() && it->second == 0) waiting.push_back(warning);
    }
  }
  if (status.ok() && !waiting.empty()) {
    absl::StatusOr<std::vector<User>> users = impl_->env.auth->ListUsers();
    status = users.status();
    if (users.ok()) status = impl_->env.tasks->AutoDispatch(waiting, *users).status();
  }
  if (!status.ok()) std::cerr << "pingan serve: tasks: " << status.message() << "\n";
}

void LoopApi::Escalate() {
  auto escalated = impl_->env.tasks->EscalateOverdue();
  if (!escalated.ok()) std::cerr << "pingan serve: tasks: " << escalated.status().message() << "\n";
}

}  // namespace pingan
