// Helpers for reading validated TOML with errors that name file, line and key.
// Internal to the catalog module.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

#include "absl/status/statusor.h"
#include "core/strings.h"
#include "address/code.h"
#include "core/text.h"
#include "core/strings.h"

namespace pingan::toml_util {

inline std::string Where(std::string_view file, const toml::node& node) {
  return pingan::Cat(file, ":", node.source().begin.line);
}

inline absl::Status Error(std::string_view file, const toml::node& node, std::string_view key,
                          std::string_view message) {
  return absl::InvalidArgumentError(
      pingan::Cat(Where(file, node), ": key '", key, "': ", message));
}

inline absl::StatusOr<toml::table> ParseFile(const std::string& path, std::string_view shown) {
  try {
    return toml::parse_file(path);
  } catch (const toml::parse_error& error) {
    return absl::InvalidArgumentError(pingan::Cat(shown, ":", error.source().begin.line, ": ",
                                                   error.description()));
  }
}

// Rejects keys of `table` not in `allowed`.
inline absl::Status OnlyKeys(std::string_view file, const toml::table& table,
                             std::initializer_list<std::string_view> allowed) {
  for (const auto& [key, value] : table) {
    bool known = false;
    for (std::string_view name : allowed) known |= key.str() == name;
    if (!known) return Error(file, value, key.str(), "unknown key");
  }
  return absl::OkStatus();
}

inline absl::StatusOr<std::string> String(std::string_view file, const toml::table& table,
                                          std::string_view key, bool required = true) {
  const toml::node* node = table.get(key);
  if (node == nullptr) {
    if (!required) return std::string();
    return absl::InvalidArgumentError(
        pingan::Cat(file, ":", table.source().begin.line, ": key '", key, "' is missing"));
  }
  const auto* value = node->as_string();
  if (value == nullptr) return Error(file, *node, key, "must be a string");
  if (!IsValidUtf8(value->get())) return Error(file, *node, key, "is not valid UTF-8");
  return value->get();
}

inline absl::StatusOr<AddressCode> Code(std::string_view file, const toml::table& table,
                                        std::string_view key) {
  auto text = String(file, table, key);
  if (!text.ok()) return text.status();
  auto code = AddressCode::ParsePrefix(*text);
  if (!code.ok()) return Error(file, *table.get(key), key, Message(code.status()));
  return *code;
}

template <typename T>
absl::StatusOr<T> Number(std::string_view file, const toml::table& table, std::string_view key,
                         T default_value, T min_value, T max_value) {
  const toml::node* node = table.get(key);
  if (node == nullptr) return default_value;
  std::optional<T> value;
  if constexpr (std::is_floating_point_v<T>) {
    if (auto as_float = node->value<double>()) value = static_cast<T>(*as_float);
  } else {
    if (node->is_integer()) value = static_cast<T>(node->as_integer()->get());
  }
  if (!value) return Error(file, *node, key, "must be a number");
  if (*value < min_value || *value > max_value) {
    return Error(file, *node, key, pingan::Cat("must be between ", min_value, " and ", max_value));
  }
  return *value;
}

inline absl::StatusOr<std::vector<std::string>> Strings(std::string_view file,
                                                        const toml::table& table,
                                                        std::string_view key) {
  std::vector<std::string> out;
  const toml::node* node = table.get(key);
  if (node == nullptr) return out;
  const toml::array* array = node->as_array();
  if (array == nullptr) return Error(file, *node, key, "must be an array of strings");
  for (const toml::node& item : *array) {
    const auto* text = item.as_string();
    if (text == nullptr) return Error(file, item, key, "must be an array of strings");
    if (!IsValidUtf8(text->get())) return Error(file, item, key, "is not valid UTF-8");
    out.push_back(text->get());
  }
  return out;
}

// Calls `visit` for each table of the array of tables `root[key]` ([[key]] in the file); a
// missing key is an empty array. Stops at the first error.
template <typename Visit>
absl::Status ForEachTable(std::string_view file, const toml::table& root, std::string_view key, Visit visit) {
  const toml::node* list = root.get(key);
  if (list == nullptr) return absl::OkStatus();
  const toml::array* array = list->as_array();
  if (array == nullptr) return Error(file, *list, key, pingan::Cat("must be [[", key, "]] tables"));
  for (const toml::node& item : *array) {
    const toml::table* table = item.as_table();
    if (table == nullptr) return Error(file, item, key, "must be a table");
    if (absl::Status status = visit(*table); !status.ok()) return status;
  }
  return absl::OkStatus();
}

}  // namespace pingan::toml_util
