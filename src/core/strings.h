// String building for messages. Debian's abseil has its own absl::string_view (not
// std::string_view), so absl::StrCat does not take std::string_view; Cat takes both.
//
// Example:
//   return absl::InvalidArgumentError(Cat("row ", row_number, ": unknown parent ", code));
#pragma once

#include <string>
#include <string_view>
#include <type_traits>

#include <fmt/format.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace pingan {

namespace strings_internal {
inline void Append(std::string& out, std::string_view piece) { out.append(piece); }
inline void Append(std::string& out, const char* piece) { out.append(piece); }
inline void Append(std::string& out, const std::string& piece) { out.append(piece); }
inline void Append(std::string& out, absl::string_view piece) { out.append(piece.data(), piece.size()); }
inline void Append(std::string& out, char piece) { out.push_back(piece); }
template <typename T, typename = std::enable_if_t<std::is_arithmetic_v<T>>>
void Append(std::string& out, T value) {
  if constexpr (std::is_floating_point_v<T>) {
    out.append(fmt::format("{}", value));
  } else {
    out.append(std::to_string(value));
  }
}
}  // namespace strings_internal

template <typename... Pieces>
std::string Cat(const Pieces&... pieces) {
  std::string out;
  (strings_internal::Append(out, pieces), ...);
  return out;
}

template <typename... Pieces>
void CatTo(std::string& out, const Pieces&... pieces) {
  (strings_internal::Append(out, pieces), ...);
}

// A status's message as a std::string.
inline std::string Message(const absl::Status& status) { return std::string(status.message()); }

}  // namespace pingan
