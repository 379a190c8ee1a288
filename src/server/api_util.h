// Small pieces of the HTTP API kept apart from the dispatcher so that tests can reach them:
// bounded query parameters and the personal-data policy.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace httplib {
struct Request;
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

}  // namespace pingan::server_internal
