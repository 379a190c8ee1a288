#include "loop/loop_settings.h"

#include <toml++/toml.h>

#include <system_error>

#include "catalog/catalog.h"
#include "core/status.h"
#include "core/strings.h"
#include "core/text.h"

namespace pingan {
namespace {

namespace fs = std::filesystem;

constexpr const char* kGrades[] = {"red", "orange", "yellow", "blue", "green"};

bool IsGrade(std::string_view name) {
  for (const char* grade : kGrades) {
    if (name == grade) return true;
  }
  return false;
}

absl::Status Error(const fs::path& file, const toml::node& node, std::string_view key, std::string_view message) {
  return absl::InvalidArgumentError(Cat(file.string(), ":", node.source().begin.line, ": key '", key, "': ", message));
}

absl::StatusOr<std::vector<std::string>> Strings(const fs::path& file, const toml::node& node, std::string_view key,
                                                 size_t max_items) {
  const toml::array* array = node.as_array();
  if (array == nullptr) return Error(file, node, key, "must be an array of strings");
  if (array->size() > max_items) return Error(file, node, key, Cat("at most ", max_items, " items"));
  std::vector<std::string> out;
  for (const toml::node& item : *array) {
    const auto* text = item.as_string();
    if (text == nullptr || text->get().empty() || !IsValidUtf8(text->get()) || text->get().size() > 400) {
      return Error(file, item, key, "each item: a non-empty string of valid UTF-8, at most 400 bytes");
    }
    out.push_back(text->get());
  }
  return out;
}

absl::StatusOr<int64_t> Integer(const fs::path& file, const toml::node& node, std::string_view key, int64_t min,
                                int64_t max) {
  const auto value = node.value_exact<int64_t>();
  if (!value || *value < min || *value > max) return Error(file, node, key, Cat("an integer from ", min, " to ", max));
  return *value;
}

absl::StatusOr<TaskTemplate> ReadTemplate(const fs::path& file, const toml::table& table, const std::string& name) {
  TaskTemplate out;
  for (const auto& [key, node] : table) {
    const std::string where = Cat("templates.", name, ".", key.str());
    if (key == "title" || key == "title_en") {
      const auto* text = node.as_string();
      if (text == nullptr || text->get().empty() || !IsValidUtf8(text->get()) || text->get().size() > 200) {
        return Error(file, node, where, "a non-empty string, at most 200 bytes");
      }
      (key == "title" ? out.title : out.title_en) = text->get();
    } else if (key == "checklist" || key == "checklist_en") {
      PA_ASSIGN_OR_RETURN(auto items, Strings(file, node, where, 20));
      if (items.empty()) return Error(file, node, where, "must not be empty");
      (key == "checklist" ? out.checklist : out.checklist_en) = std::move(items);
    } else {
      return Error(file, node, where, "unknown key (title, title_en, checklist, checklist_en)");
    }
  }
  if (out.title.empty() || out.checklist.empty()) {
    return Error(file, table, Cat("templates.", name), "needs title and checklist");
  }
  if (out.title_en.empty()) out.title_en = out.title;
  if (out.checklist_en.empty()) out.checklist_en = out.checklist;
  return out;
}

}  // namespace

const TaskTemplate& LoopSettings::TemplateFor(const std::string& key_type) const {
  const auto it = templates.find(key_type);
  return it == templates.end() ? default_template : it->second;
}

int64_t LoopSettings::DeadlineSeconds(const std::string& grade) const {
  const auto it = deadline_seconds.find(grade);
  return it == deadline_seconds.end() ? 336 * 3600 : it->second;
}

absl::StatusOr<LoopSettings> LoadLoopSettings(const fs::path& config_dir, const Catalog& catalog) {
  LoopSettings settings;
  settings.default_template = TaskTemplate{.title = "重点区域巡查",
                                           .title_en = "Patrol of a warned area",
                                           .checklist = {"到现场核实预警所指情况"},
                                           .checklist_en = {"Check on site what the warning points at"}};
  const fs::path file = config_dir / "loop.toml";
  std::error_code ec;
  if (!fs::exists(file, ec)) return settings;
  toml::table root;
  try {
    root = toml::parse_file(file.string());
  } catch (const toml::parse_error& error) {
    return absl::InvalidArgumentError(Cat(file.string(), ":", error.source().begin.line, ": ", error.description()));
  }
  for (const auto& [key, node] : root) {
    const toml::table* table = node.as_table();
    if (table == nullptr) return Error(file, node, key.str(), "must be a table");
    if (key == "deadlines") {
      for (const auto& [grade, hours] : *table) {
        if (!IsGrade(grade.str())) return Error(file, hours, Cat("deadlines.", grade.str()), "not a grade (red, orange, yellow, blue, green)");
        PA_ASSIGN_OR_RETURN(int64_t value, Integer(file, hours, Cat("deadlines.", grade.str()), 1, 24 * 365));
        settings.deadline_seconds[std::string(grade.str())] = value * 3600;
      }
    } else if (key == "dispatch") {
      for (const auto& [name, value] : *table) {
        if (name != "auto") return Error(file, value, Cat("dispatch.", name.str()), "unknown key (auto)");
        PA_ASSIGN_OR_RETURN(auto grades, Strings(file, value, "dispatch.auto", 5));
        settings.auto_dispatch.clear();
        for (const std::string& grade : grades) {
          if (!IsGrade(grade)) return Error(file, value, "dispatch.auto", Cat("'", grade, "' is not a grade"));
          settings.auto_dispatch.insert(grade);
        }
      }
    } else if (key == "photos") {
      for (const auto& [name, value] : *table) {
        const std::string where = Cat("photos.", name.str());
        if (name == "max_bytes") {
          PA_ASSIGN_OR_RETURN(settings.photo_max_bytes, Integer(file, value, where, 1024, 15 << 20));
        } else if (name == "max_per_task") {
          PA_ASSIGN_OR_RETURN(int64_t count, Integer(file, value, where, 0, 50));
          settings.photo_max_per_task = static_cast<int>(count);
        } else if (name == "types") {
          PA_ASSIGN_OR_RETURN(auto types, Strings(file, value, where, 3));
          settings.photo_types.clear();
          for (const std::string& type : types) {
            if (type != "image/jpeg" && type != "image/png" && type != "image/webp") {
              return Error(file, value, where, Cat("'", type, "': image/jpeg, image/png or image/webp"));
            }
            settings.photo_types.insert(type);
          }
        } else {
          return Error(file, value, where, "unknown key (max_bytes, max_per_task, types)");
        }
      }
    } else if (key == "feedback") {
      for (const auto& [name, value] : *table) {
        if (name != "max_chars") return Error(file, value, Cat("feedback.", name.str()), "unknown key (max_chars)");
        PA_ASSIGN_OR_RETURN(int64_t chars, Integer(file, value, "feedback.max_chars", 10, 20000));
        settings.feedback_max_chars = static_cast<size_t>(chars);
      }
    } else if (key == "templates") {
      for (const auto& [name, value] : *table) {
        const toml::table* one = value.as_table();
        if (one == nullptr) return Error(file, value, Cat("templates.", name.str()), "must be a table");
        const std::string id(name.str());
        if (id != "default") {
          bool known = false;
          for (const auto& key_type : catalog.key_types) known = known || key_type.id == id;
          if (!known) return Error(file, value, Cat("templates.", id), "not a key type of the catalog (or 'default')");
        }
        PA_ASSIGN_OR_RETURN(TaskTemplate read, ReadTemplate(file, *one, id));
        if (id == "default") {
          settings.default_template = std::move(read);
        } else {
          settings.templates[id] = std::move(read);
        }
      }
    } else {
      return Error(file, node, key.str(), "unknown section (deadlines, dispatch, photos, feedback, templates)");
    }
  }
  return settings;
}

}  // namespace pingan
