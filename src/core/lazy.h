// A value made on first use: by whichever thread asks first, exactly once, while the others
// wait. The maker's error is kept and is what every later caller sees.
//
//   Lazy<Matcher> matcher([&] { return Matcher::Create(registry, city, aliases); });
//   if (const Matcher* m = matcher.Get()) ...; else return matcher.status();
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace pingan {

template <typename T>
class Lazy {
 public:
  using Maker = std::function<absl::StatusOr<std::unique_ptr<T>>()>;

  explicit Lazy(Maker make) : make_(std::move(make)) {}
  Lazy(const Lazy&) = delete;
  Lazy& operator=(const Lazy&) = delete;

  // The value, made now if nobody asked before; null when the maker failed (see status()).
  const T* Get() const {
    std::call_once(once_, [this] {
      absl::StatusOr<std::unique_ptr<T>> made = make_();
      if (!made.ok()) {
        status_ = made.status();
      } else if (*made == nullptr) {
        status_ = absl::InternalError("a lazy value's maker returned nothing");
      } else {
        value_ = *std::move(made);
      }
      made_.store(true, std::memory_order_release);
    });
    return value_.get();
  }

  // Whether Get ran (and so whether the value cost anything).
  bool made() const { return made_.load(std::memory_order_acquire); }
  // OK until Get ran, then the maker's outcome.
  absl::Status status() const { return made() ? status_ : absl::OkStatus(); }

 private:
  Maker make_;
  mutable std::once_flag once_;
  mutable std::unique_ptr<T> value_;
  mutable absl::Status status_;
  mutable std::atomic<bool> made_{false};
};

}  // namespace pingan
