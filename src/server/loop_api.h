// The closed loop's part of the HTTP API (docs/loop.md): patrol tasks, their transitions,
// photos, the task live feed, dispatching warnings by hand and the loop's figures. The task
// store decides every transition; this layer parses and bounds the input, checks who may see
// what, and writes the JSON.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "auth/auth.h"
#include "loop/task_store.h"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace pingan {

class Registry;
struct Catalog;
class WarningStore;
struct Warning;

class LoopApi {
 public:
  struct Env {
    const Registry* registry = nullptr;
    const Catalog* catalog = nullptr;
    AuthStore* auth = nullptr;
    TaskStore* tasks = nullptr;
    WarningStore* warnings = nullptr;
    std::mutex* warnings_mutex = nullptr;  // guards `warnings`
    absl::TimeZone zone;
    std::atomic<int>* streams = nullptr;   // SSE streams open on the server, shared with the others
    int max_streams = 16;
  };
  explicit LoopApi(Env env);
  ~LoopApi();

  // GET /api/tasks, GET /api/tasks/{id}, POST /api/tasks/{id}/{action},
  // POST /api/tasks/{id}/photos, GET /api/tasks/{id}/photos/{n}, GET /api/tasks/assignees,
  // GET /api/tasks/stream, POST /api/warnings/{id}/dispatch.
  absl::Status List(const httplib::Request& request, httplib::Response& response, const Principal& who);
  absl::Status Get(const httplib::Request& request, httplib::Response& response, const Principal& who);
  absl::Status Act(const httplib::Request& request, httplib::Response& response, const Principal& who);
  absl::Status UploadPhoto(const httplib::Request& request, httplib::Response& response, const Principal& who);
  absl::Status GetPhoto(const httplib::Request& request, httplib::Response& response, const Principal& who);
  absl::Status Assignees(const httplib::Request& request, httplib::Response& response, const Principal& who);
  absl::Status Stream(const httplib::Request& request, httplib::Response& response, const Principal& who);
  absl::Status Dispatch(const httplib::Request& request, httplib::Response& response, const Principal& who);

  // The loop's figures of `period` for the unit `code` (27 digits) and each of `children`.
  absl::StatusOr<nlohmann::ordered_json> Metrics(const std::string& code, const std::vector<std::string>& children,
                                                 const std::string& period);
  // Tasks per warning, for the warnings list.
  absl::StatusOr<std::map<int64_t, int64_t>> TaskCounts(const std::vector<int64_t>& warning_ids);

  // Makes tasks of those of `warnings` whose grade dispatches itself (config/loop.toml) and that
  // have no task yet.
  void AutoDispatch(const std::vector<Warning>& warnings);
  // Escalates overdue tasks (the server's watcher calls it).
  void Escalate();
  // Ends the live streams (the server is stopping).
  void Close();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace pingan
