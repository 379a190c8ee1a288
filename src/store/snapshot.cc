#include "store/snapshot.h"

#include <sys/mman.h>
#include <xxhash.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <thread>

#include "core/binary_file.h"
#include "core/status.h"
#include "core/stage_timer.h"
#include "core/strings.h"

namespace pingan {
namespace {

namespace fs = std::filesystem;
constexpr char kMagic[8] = {'P', 'I', 'N', 'G', 'A', 'N', 'R', 'S'};
// 2: the trailer is an XXH3-64 of everything before it (was a zlib CRC-32, 0.3 s of a
// 3-million-unit load); a version-1 snapshot is refused and the registry read from its tables.
// 3: the per-unit arrays, the buildings and the derived tables (ancestors, children, rolled-up
// figures) stored page-aligned as they lie in memory, and used in place by a load.
constexpr uint32_t kVersion = 3;
// Arrays stored in place start at a multiple of this (a page) in the file.
constexpr size_t kPage = 4096;

// BinaryWriter::PutArray's form with zero bytes after the count, up to the next page boundary
// of the file, so that a load can map the array in place.
template <typename Vector>
void PutAligned(BinaryWriter& writer, const Vector& values) {
  using T = typename Vector::value_type;
  static_assert(std::is_trivially_copyable_v<T>);
  std::string& out = writer.out();
  writer.Put<uint64_t>(values.size());
  out.append((kPage - out.size() % kPage) % kPage, '\0');
  out.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
}

// PutAligned's form into a vector on MappableAllocator: arrays of 64 KiB and more become a
// private writable mapping of their pages of the file (`fd`, mapped whole at `file_start`),
// used in place; smaller ones are copied.
template <typename T>
bool GetAligned(BinaryReader& reader, std::vector<T, MappableAllocator<T>>& values, uint64_t expected_size, int fd,
                const char* file_start) {
  uint64_t size = 0;
  if (!reader.Get(size) || (expected_size != UINT64_MAX && size != expected_size)) return false;
  const std::string_view data = reader.rest();
  const size_t offset = static_cast<size_t>(data.data() - file_start);
  const size_t skip = (kPage - offset % kPage) % kPage;
  if (skip > data.size() || size > (data.size() - skip) / sizeof(T)) return false;
  MapOrCopy(values, fd, offset + skip, size, data.data() + skip);
  reader.Skip(skip + size * sizeof(T));
  return true;
}

void PutStrings(BinaryWriter& writer, const StringColumn& strings) {
  writer.PutArray(strings.offsets());
  writer.Put<uint64_t>(strings.blob().size());
  writer.out().append(strings.blob());
}

bool GetStrings(BinaryReader& reader, StringColumn& strings, uint64_t count) {
  std::vector<uint32_t> offsets;
  if (!reader.GetArray(offsets, count + 1)) return false;
  std::string blob;
  if (!reader.GetBytes(blob)) return false;
  return strings.Adopt(std::move(offsets), std::move(blob));
}

}  // namespace

absl::Status RegistrySnapshot::Write(const Registry& registry, uint64_t generation,
                                     const fs::path& path) {
  BinaryWriter writer;
  writer.out().append(kMagic, sizeof kMagic);
  writer.Put(kVersion);
  writer.Put(generation);
  const uint64_t count = registry.size();
  writer.Put(count);
  PutAligned(writer, registry.levels_);
  PutAligned(writer, registry.kinds_);
  PutAligned(writer, registry.retired_);
  PutAligned(writer, registry.parents_);
  PutAligned(writer, registry.stat_parents_);
  PutAligned(writer, registry.codes_);
  PutStrings(writer, registry.names_);
  PutStrings(writer, registry.short_names_);
  // Sparse (id, value) pairs: own figures, boxes, and the figures rolled up the tree.
  auto put_sparse = [&writer](const auto& column) {
    const auto pairs = column.Sorted();
    writer.Put<uint64_t>(pairs.size());
    for (const auto& [id, value] : pairs) writer.Put(id), writer.Put(value);
  };
  put_sparse(registry.own_figures_);
  put_sparse(registry.boxes_);
  put_sparse(registry.figures_);
  PutAligned(writer, registry.building_index_);
  PutAligned(writer, registry.buildings_);
  // The derived tables, so that a load need not derive them again.
  PutAligned(writer, registry.ancestors_);
  PutAligned(writer, registry.child_offsets_);
  PutAligned(writer, registry.child_ids_);
  writer.Put<uint64_t>(registry.geometries_.size());
  for (const auto& [id, geometry] : registry.geometries_) writer.Put(id), writer.PutString(geometry);
  writer.Put<uint64_t>(registry.roads_.size());
  for (const Road& road : registry.roads_) writer.Put(road.town.value), writer.PutString(road.name);
  writer.Put<uint64_t>(registry.compounds_.size());
  for (const Compound& compound : registry.compounds_) {
    writer.Put(compound.community.value), writer.Put(compound.road), writer.Put(compound.house_number);
    writer.PutString(compound.name);
  }
  std::string& out = writer.out();
  const uint64_t checksum = XXH3_64bits(out.data(), out.size());
  writer.Put(checksum);

  return WriteFileAtomically(path, {out}, "the registry snapshot");
}

absl::StatusOr<Registry> RegistrySnapshot::Read(const fs::path& path, uint64_t generation, History history) {
  // Mapped, not read: the page cache is the buffer (a read copied it into as many freshly
  // zeroed pages, a fifth of the load at 3 million units).
  PA_ASSIGN_OR_RETURN(MappedFile file, MappedFile::Open(path, sizeof kMagic + 8, size_t{8} << 30));
  const std::string_view data = file.bytes();
  const int fd = file.fd();  // open while arrays are mapped from it in place
  ::madvise(const_cast<char*>(data.data()), data.size(), MADV_SEQUENTIAL);
  auto damaged = [&](std::string_view what) { return absl::DataLossError(Cat(path.string(), ": ", what)); };
  StageTimer timer("registry snapshot");
  timer.Mark("map");
  if (std::memcmp(data.data(), kMagic, sizeof kMagic) != 0) return damaged("not a registry snapshot");
  uint64_t stored_checksum = 0;
  std::memcpy(&stored_checksum, data.data() + data.size() - 8, 8);
  if (XXH3_64bits(data.data(), data.size() - 8) != stored_checksum) return damaged("checksum mismatch");
  BinaryReader reader(data.substr(sizeof kMagic, data.size() - sizeof kMagic - 8));
  uint32_t version = 0;
  uint64_t stored_generation = 0, count = 0;
  if (!reader.Get(version) || version != kVersion) return damaged("unknown version");
  if (!reader.Get(stored_generation)) return damaged("truncated");
  if (stored_generation != generation) return absl::FailedPreconditionError("stale snapshot");
  if (!reader.Get(count) || count == 0 || count > (1u << 30)) return damaged("bad unit count");
  timer.Mark("checksum");

  Registry registry;
  const char* file_start = data.data();
  bool ok = GetAligned(reader, registry.levels_, count, fd, file_start) &&
            GetAligned(reader, registry.kinds_, count, fd, file_start) &&
            GetAligned(reader, registry.retired_, count, fd, file_start) &&
            GetAligned(reader, registry.parents_, count, fd, file_start) &&
            GetAligned(reader, registry.stat_parents_, count, fd, file_start) &&
            GetAligned(reader, registry.codes_, count, fd, file_start) &&
            GetStrings(reader, registry.names_, count) && GetStrings(reader, registry.short_names_, count);
  if (!ok) return damaged("truncated unit arrays");
  timer.Mark("arrays and names");
  for (uint64_t index = 0; index < count; ++index) {
    if (static_cast<int>(registry.levels_[index]) >= kLevelCount) return damaged("bad level");
    if (index > 0 && (registry.parents_[index].value >= count || registry.stat_parents_[index].value >= count ||
                      registry.parents_[index].value == index ||
                      registry.levels_[registry.parents_[index].value] >= registry.levels_[index])) {
      return damaged("bad parent");
    }
  }
  timer.Mark("parents checked");
  // The code index (millions of random writes) builds from here, beside the rest of the read.
  absl::Status code_index = absl::OkStatus();
  std::jthread code_indexer([&] { code_index = registry.BuildCodeIndex(); });
  auto get_sparse = [&](auto& column) {
    using Value = std::decay_t<decltype(column[0])>;
    uint64_t sparse = 0;
    if (!reader.Get(sparse) || sparse > count) return false;
    column.Reserve(sparse);
    for (uint64_t item = 0; item < sparse; ++item) {
      uint32_t id = 0;
      Value value;
      if (!reader.Get(id) || !reader.Get(value) || id >= count) return false;
      column.Set(id, value);
    }
    return true;
  };
  if (!get_sparse(registry.own_figures_) || !get_sparse(registry.boxes_) || !get_sparse(registry.figures_)) {
    return damaged("bad figures or boxes");
  }
  timer.Mark("figures and boxes");
  if (!GetAligned(reader, registry.building_index_, count, fd, file_start) ||
      !GetAligned(reader, registry.buildings_, UINT64_MAX, fd, file_start)) {
    return damaged("bad buildings");
  }
  const uint64_t building_count = registry.buildings_.size();
  timer.Mark(Cat("buildings (", building_count, ")").c_str());
  for (uint64_t index = 0; index < count; ++index) {
    uint32_t slot = registry.building_index_[index];
    bool building = registry.levels_[index] == Level::kBuilding;
    if (building != (slot != UINT32_MAX) || (building && slot >= building_count)) return damaged("bad building index");
  }
  timer.Mark("buildings checked");
  // The derived tables, checked to name only units that exist (lookups index arrays with them).
  if (!GetAligned(reader, registry.ancestors_, count * Registry::kAncestorSlots, fd, file_start) ||
      !GetAligned(reader, registry.child_offsets_, count + 1, fd, file_start) ||
      !GetAligned(reader, registry.child_ids_, UINT64_MAX, fd, file_start)) {
    return damaged("bad tree tables");
  }
  for (const UnitId ancestor : registry.ancestors_) {
    if (ancestor.valid() && ancestor.value >= count) return damaged("bad ancestors");
  }
  if (registry.child_offsets_.front() != 0 || registry.child_offsets_.back() != registry.child_ids_.size()) {
    return damaged("bad children");
  }
  for (uint64_t index = 0; index < count; ++index) {
    if (registry.child_offsets_[index] > registry.child_offsets_[index + 1]) return damaged("bad children");
  }
  for (const UnitId kid : registry.child_ids_) {
    if (kid.value >= count) return damaged("bad children");
  }
  timer.Mark("tree tables");
  uint64_t sparse = 0;
  if (!reader.Get(sparse)) return damaged("truncated geometry");
  for (uint64_t item = 0; item < sparse; ++item) {
    uint32_t id = 0;
    std::string geometry;
    if (!reader.Get(id) || !reader.GetString(geometry) || id >= count) return damaged("bad geometry");
    registry.geometries_.emplace(id, std::move(geometry));
  }
  timer.Mark(Cat("geometry (", registry.geometries_.size(), ")").c_str());
  if (!reader.Get(sparse)) return damaged("truncated roads");
  for (uint64_t item = 0; item < sparse; ++item) {
    Road road;
    if (!reader.Get(road.town.value) || !reader.GetString(road.name)) return damaged("bad road");
    registry.roads_.push_back(std::move(road));
  }
  if (!reader.Get(sparse)) return damaged("truncated compounds");
  for (uint64_t item = 0; item < sparse; ++item) {
    Compound compound;
    if (!reader.Get(compound.community.value) || !reader.Get(compound.road) || !reader.Get(compound.house_number) ||
        !reader.GetString(compound.name)) {
      return damaged("bad compound");
    }
    registry.compounds_.push_back(std::move(compound));
  }
  if (!reader.done()) return damaged("trailing bytes");
  for (const BuildingInfo& info : registry.buildings_) {
    if ((info.road != UINT32_MAX && info.road >= registry.roads_.size()) ||
        (info.compound != UINT32_MAX && info.compound >= registry.compounds_.size())) {
      return damaged("building names an unknown road or compound");
    }
  }
  timer.Mark("buildings, geometry, roads, compounds");
  registry.history_ = std::make_unique<History>(std::move(history));
  code_indexer.join();
  timer.Mark("waited for the code index");
  if (!code_index.ok()) return damaged(Message(code_index));
  return registry;
}

}  // namespace pingan
