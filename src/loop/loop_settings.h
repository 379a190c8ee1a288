// The closed loop's settings (config/loop.toml): deadlines by grade, which grades dispatch
// themselves, photo bounds and the patrol-task templates per key type. Validated at load: an
// unknown key, grade or key type, a bad number or an empty checklist is InvalidArgument naming
// file:line and key.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace pingan {

struct Catalog;

struct TaskTemplate {
  std::string title, title_en;
  std::vector<std::string> checklist, checklist_en;
};

struct LoopSettings {
  // Seconds from creation to deadline by grade name (red, orange, yellow, blue, green).
  std::map<std::string, int64_t> deadline_seconds{{"red", 24 * 3600},     {"orange", 72 * 3600},
                                                  {"yellow", 168 * 3600}, {"blue", 336 * 3600},
                                                  {"green", 336 * 3600}};
  std::set<std::string> auto_dispatch{"red"};
  int64_t photo_max_bytes = 5 << 20;
  int photo_max_per_task = 6;
  std::set<std::string> photo_types{"image/jpeg", "image/png", "image/webp"};
  size_t feedback_max_chars = 2000;
  TaskTemplate default_template;
  std::map<std::string, TaskTemplate> templates;  // by key type id

  const TaskTemplate& TemplateFor(const std::string& key_type) const;
  int64_t DeadlineSeconds(const std::string& grade) const;
};

// Reads config_dir/loop.toml (the built-in defaults above and a generic template when the file
// is absent). `catalog` names the key types a template may be for.
absl::StatusOr<LoopSettings> LoadLoopSettings(const std::filesystem::path& config_dir, const Catalog& catalog);

}  // namespace pingan
