#include "server/api_util.h"

#include <httplib.h>

#include <toml++/toml.h>

#include "absl/strings/numbers.h"
#include "auth/auth.h"
#include "core/strings.h"
#include "core/text.h"

namespace pingan::server_internal {

absl::StatusOr<std::string> Bounded(const httplib::Request& request, std::string_view name, size_t max_bytes) {
  const std::string key(name);
  const size_t count = request.get_param_value_count(key);
  if (count == 0) return std::string();
  if (count > 1) return absl::InvalidArgumentError(Cat(name, ": given more than once"));
  std::string value = request.get_param_value(key);
  if (value.size() > max_bytes) return absl::InvalidArgumentError(Cat(name, ": longer than ", max_bytes, " bytes"));
  if (!IsValidUtf8(value)) return absl::InvalidArgumentError(Cat(name, ": not valid UTF-8"));
  for (unsigned char c : value) {
    if (c < 0x20 || c == 0x7f) return absl::InvalidArgumentError(Cat(name, ": holds a control character"));
  }
  return value;
}

absl::StatusOr<int64_t> BoundedInt(const httplib::Request& request, std::string_view name, int64_t fallback,
                                   int64_t min, int64_t max) {
  auto text = Bounded(request, name, 20);
  if (!text.ok()) return text.status();
  if (text->empty()) return fallback;
  int64_t value = 0;
  if (!absl::SimpleAtoi(*text, &value) || value < min || value > max) {
    return absl::InvalidArgumentError(Cat(name, ": an integer from ", min, " to ", max, " (got '", Printable(*text, 20), "')"));
  }
  return value;
}

absl::StatusOr<std::vector<std::string>> LoadUnmaskedRoles(const std::filesystem::path& config_dir) {
  const std::filesystem::path file = config_dir / "policy.toml";
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return std::vector<std::string>{};
  toml::table table;
  try {
    table = toml::parse_file(file.string());
  } catch (const toml::parse_error& error) {
    return absl::InvalidArgumentError(Cat(file.string(), ":", error.source().begin.line, ": ", error.description()));
  }
  std::vector<std::string> roles;
  const toml::array* list = table["personal_data"]["unmasked_roles"].as_array();
  if (list == nullptr) return roles;
  for (const toml::node& node : *list) {
    const auto name = node.value<std::string>();
    if (!name || !ParseRole(*name)) {
      return absl::InvalidArgumentError(Cat(file.string(), ":", node.source().begin.line,
                                            ": personal_data.unmasked_roles: not a role (admin, city_analyst, "
                                            "district_analyst, town_official, grid_worker, auditor)"));
    }
    roles.push_back(*name);
  }
  return roles;
}

void ServeEvents(httplib::Response& response, std::shared_ptr<EventQueue> events, std::string name,
                 std::function<void()> on_done) {
  response.set_header("Cache-Control", "no-cache");
  response.set_header("X-Accel-Buffering", "no");  // nginx: pass events through at once
  response.set_chunked_content_provider(
      "text/event-stream",
      [events, name](size_t, httplib::DataSink& sink) {
        std::unique_lock lock(events->mutex);
        if (!events->greeted) {
          events->greeted = true;
          static constexpr std::string_view kHello = ": connected\n\n";
          return sink.write(kHello.data(), kHello.size());
        }
        events->ready.wait_for(lock, std::chrono::seconds(15), [&] { return events->closed || !events->queue.empty(); });
        if (events->closed) {
          sink.done();
          return true;
        }
        if (events->queue.empty()) {
          static constexpr std::string_view kPing = ": keep-alive\n\n";
          return sink.write(kPing.data(), kPing.size());
        }
        std::string text;
        while (!events->queue.empty()) {
          text += "event: " + name + "\ndata: " + events->queue.front() + "\n\n";
          events->queue.pop_front();
        }
        lock.unlock();
        return sink.write(text.data(), text.size());
      },
      [on_done = std::move(on_done)](bool) { on_done(); });
}

}  // namespace pingan::server_internal
