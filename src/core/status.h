// Error helpers over absl::Status (Debian's abseil 20220623 has no RETURN_IF_ERROR macros).
//
// Example:
//   absl::StatusOr<Registry> LoadRegistry(const std::string& path) {
//     PA_ASSIGN_OR_RETURN(auto store, SqliteStore::Open(path));
//     PA_RETURN_IF_ERROR(store.Check());
//     ...
//   }
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define PA_STATUS_CONCAT_INNER_(a, b) a##b
#define PA_STATUS_CONCAT_(a, b) PA_STATUS_CONCAT_INNER_(a, b)

// Returns the status from the enclosing function when `expr` is not OK.
#define PA_RETURN_IF_ERROR(expr)                 \
  do {                                           \
    ::absl::Status pa_status_ = (expr);          \
    if (!pa_status_.ok()) return pa_status_;     \
  } while (false)

// Evaluates `rexpr` (a StatusOr<T>); on error returns its status, else moves the value into `lhs`.
#define PA_ASSIGN_OR_RETURN(lhs, rexpr) \
  PA_ASSIGN_OR_RETURN_IMPL_(PA_STATUS_CONCAT_(pa_statusor_, __LINE__), lhs, rexpr)
#define PA_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                              \
  if (!statusor.ok()) return statusor.status();         \
  lhs = std::move(statusor).value()
