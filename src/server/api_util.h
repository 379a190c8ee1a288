// Small pieces of the HTTP API kept apart from the dispatcher so that tests can reach them:
// bounded query parameters and the personal-data policy.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace httplib {
struct Request;
struct Response;
}

namespace pingan::server_internal {

// The value of query parameter `name` ("" when absent): InvalidArgument when it is longer than
// `max_bytes`, is not valid UTF-8, holds a control character, or is given twice.
absl::StatusOr<std::string> Bounded(const httplib::Request& request, std::string_view name, size_t max_bytes);
// An integer parameter in [min, max]; `fallback` when absent. InvalidArgument otherwise.
absl::StatusOr<int64_t> BoundedInt(const httplib::Request& request, std::string_view name, int64_t fallback,
                                   int64_t min, int64_t max);

// The roles config/policy.toml lets see personal data unmasked ([personal_data] unmasked_roles);
// none when the file is absent. InvalidArgument naming the file for an unknown role or a bad
// file.
absl::StatusOr<std::vector<std::string>> LoadUnmaskedRoles(const std::filesystem::path& config_dir);

// One Server-Sent Events subscriber's queue of event payloads (JSON text); producers push under
// `mutex` and notify `ready`; `closed` ends the stream.
struct EventQueue {
  std::mutex mutex;
  std::condition_variable ready;
  std::deque<std::string> queue;
  bool greeted = false;
  bool closed = false;
};

// Serves `events` on `response` as text/event-stream: ": connected" at once (the page shows it
// is live), each queued payload as `event: NAME`, a keep-alive comment after 15 quiet seconds;
// `on_done` runs when the stream ends (the client left or the queue closed).
void ServeEvents(httplib::Response& response, std::shared_ptr<EventQueue> events, std::string name,
                 std::function<void()> on_done);

}  // namespace pingan::server_internal
