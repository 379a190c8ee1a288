#include "core/mappable_allocator.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace pingan {
namespace {

struct Slot {
  int32_t day = -1;  // not all zero: default construction must be seen where it should happen
  uint32_t value = 7;
};
using Slots = std::vector<Slot, MappableAllocator<Slot>>;

// A file of `count` slots with day = index, value = 2 * index.
std::string WriteSlots(size_t count) {
  std::string path = ::testing::TempDir() + "/mappable_" + std::to_string(::getpid()) + ".bin";
  std::vector<Slot> slots(count);
  for (size_t at = 0; at < count; ++at) slots[at] = Slot{static_cast<int32_t>(at), static_cast<uint32_t>(2 * at)};
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(slots.data()), count * sizeof(Slot));
  return path;
}

TEST(MappableAllocatorTest, AVectorTakesOverAMappedFileRegionWithoutWritingIt) {
  const size_t count = (size_t{4} << 20) / sizeof(Slot);  // 4 MiB
  const std::string path = WriteSlots(count);
  const int fd = ::open(path.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  const size_t bytes = count * sizeof(Slot);
  void* region = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  ::close(fd);
  ASSERT_NE(region, MAP_FAILED);
  {
    Slots slots;
    MappableAllocator<Slot>::AdoptNext(region, bytes);
    slots.resize(count);
    MappableAllocator<Slot>::EndAdoption();
    ASSERT_EQ(static_cast<void*>(slots.data()), region);
    EXPECT_EQ(slots[0].day, 0);  // the file's values, not Slot{}
    EXPECT_EQ(slots[count - 1].day, static_cast<int32_t>(count - 1));
    EXPECT_EQ(slots[count - 1].value, 2 * (count - 1));
    slots[5].value = 99;  // copied on write: the file keeps its bytes
    // Growing moves the values into fresh storage, constructs the new ones, and unmaps the region.
    slots.resize(count + 10);
    EXPECT_NE(static_cast<void*>(slots.data()), region);
    EXPECT_EQ(slots[5].value, 99u);
    EXPECT_EQ(slots[count - 1].day, static_cast<int32_t>(count - 1));
    EXPECT_EQ(slots[count].day, -1);
    EXPECT_EQ(slots[count + 9].value, 7u);
  }
  std::ifstream file(path, std::ios::binary);
  Slot fifth;
  file.seekg(5 * sizeof(Slot));
  file.read(reinterpret_cast<char*>(&fifth), sizeof fifth);
  EXPECT_EQ(fifth.value, 10u);
  std::remove(path.c_str());
}

TEST(MappableAllocatorTest, WithoutAHintOrWithAnotherSizeElementsAreConstructedAsUsual) {
  Slots small(3);
  EXPECT_EQ(small[2].day, -1);
  Slots large((size_t{2} << 20) / sizeof(Slot));  // mapped storage
  EXPECT_EQ(large.back().day, -1);
  EXPECT_EQ(large.back().value, 7u);
  // A hint for another size is not taken, and EndAdoption forgets it.
  std::vector<char> unrelated(16);
  MappableAllocator<Slot>::AdoptNext(unrelated.data(), size_t{8} << 20);
  Slots other((size_t{1} << 20) / sizeof(Slot));
  MappableAllocator<Slot>::EndAdoption();
  EXPECT_NE(static_cast<void*>(other.data()), static_cast<void*>(unrelated.data()));
  EXPECT_EQ(other.front().day, -1);
}

TEST(MappableAllocatorTest, MapOrCopyMapsLargeArraysAndCopiesSmallOnes) {
  const size_t count = (size_t{256} << 10) / sizeof(Slot);  // 256 KiB
  const std::string path = WriteSlots(count);
  const std::string bytes = [&] {
    std::ifstream file(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(file), {});
  }();
  const int fd = ::open(path.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  Slots large;
  EXPECT_TRUE(MapOrCopy(large, fd, 0, count, bytes.data()));
  ASSERT_EQ(large.size(), count);
  EXPECT_EQ(large[count - 1].value, 2 * (count - 1));
  // From the second page on, 100 slots: too small to map, copied from the bytes given.
  Slots small;
  EXPECT_FALSE(MapOrCopy(small, fd, 4096, 100, bytes.data() + 4096));
  ASSERT_EQ(small.size(), 100u);
  EXPECT_EQ(small[0].day, static_cast<int32_t>(4096 / sizeof(Slot)));
  // A mapping the kernel refuses (an offset off a page boundary): copied instead.
  Slots refused;
  EXPECT_FALSE(MapOrCopy(refused, fd, sizeof(Slot), count - 1, bytes.data() + sizeof(Slot)));
  ASSERT_EQ(refused.size(), count - 1);
  EXPECT_EQ(refused[0].day, 1);
  EXPECT_EQ(refused[count - 2].value, 2 * (count - 1));
  ::close(fd);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace pingan
