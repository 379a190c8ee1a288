#include "core/lazy.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace pingan {
namespace {

TEST(Lazy, IsMadeOnceOnFirstUseWhateverTheThreads) {
  std::atomic<int> made{0};
  Lazy<int> value([&]() -> absl::StatusOr<std::unique_ptr<int>> {
    ++made;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the others arrive meanwhile
    return std::make_unique<int>(42);
  });
  EXPECT_FALSE(value.made());
  EXPECT_EQ(made, 0);
  std::vector<const int*> seen(8);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < seen.size(); ++t) threads.emplace_back([&, t] { seen[t] = value.Get(); });
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(made, 1);
  EXPECT_TRUE(value.made());
  for (const int* pointer : seen) {
    ASSERT_NE(pointer, nullptr);
    EXPECT_EQ(pointer, seen[0]);
    EXPECT_EQ(*pointer, 42);
  }
  EXPECT_TRUE(value.status().ok());
}

TEST(Lazy, KeepsItsMakersErrorForEveryCaller) {
  int made = 0;
  Lazy<int> value([&]() -> absl::StatusOr<std::unique_ptr<int>> {
    ++made;
    return absl::NotFoundError("no such thing");
  });
  EXPECT_TRUE(value.status().ok());  // not asked yet
  EXPECT_EQ(value.Get(), nullptr);
  EXPECT_EQ(value.Get(), nullptr);
  EXPECT_EQ(made, 1);
  EXPECT_EQ(value.status().code(), absl::StatusCode::kNotFound);
  Lazy<int> empty([]() -> absl::StatusOr<std::unique_ptr<int>> { return std::unique_ptr<int>(); });
  EXPECT_EQ(empty.Get(), nullptr);
  EXPECT_FALSE(empty.status().ok());
}

}  // namespace
}  // namespace pingan
