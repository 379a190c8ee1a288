#include "cube/cube.h"

#include <algorithm>
#include <bit>
#include <cmath>

#include "core/status.h"
#include "core/strings.h"

namespace pingan {
namespace {

// Whether `def`'s conditions hold for an event with these numbers (catalog.h MeasureContribution:
// a condition on a missing attribute does not hold).
bool ConditionsHold(const MeasureDef& def, std::span<const std::pair<uint16_t, double>> numbers) {
  for (const Condition& condition : def.where) {
    const double* value = nullptr;
    for (const auto& [index, number] : numbers) {
      if (index == condition.attribute_index) {
        value = &number;
        break;
      }
    }
    if (value == nullptr || !ConditionHolds(condition, *value)) return false;
  }
  return true;
}

size_t DayIndex(CubeDay day, CubeDay chunk0) { return static_cast<size_t>(day - chunk0); }

}  // namespace

Cube::Cube(const Registry& registry, const Catalog& catalog, UnitId home_city)
    : registry_(registry), catalog_(catalog), home_city_(home_city) {}

Cube::~Cube() = default;

absl::StatusOr<std::unique_ptr<Cube>> Cube::Create(const Registry& registry, const Catalog& catalog,
                                                   UnitId home_city) {
  if (!registry.Contains(home_city) || registry.level(home_city) != Level::kCity) {
    return absl::InvalidArgumentError("the cube's home unit must be a city of the registry");
  }
  std::unique_ptr<Cube> cube(new Cube(registry, catalog, home_city));
  PA_RETURN_IF_ERROR(cube->Compile());
  return cube;
}

absl::Status Cube::Compile() {
  const size_t indicator_count = catalog_.indicators.size();
  measures_ = indicator_count + catalog_.key_types.size();
  if (measures_ > 64) {
    return absl::InvalidArgumentError(
        Cat("the cube holds at most 64 measures; the catalog defines ", measures_));
  }
  type_measures_.assign(catalog_.types.size(), {});
  auto add_measure = [&](const MeasureDef& def, CubeColumn::Kind kind, size_t index) {
    CubeColumn column{.kind = kind, .index = static_cast<uint16_t>(index)};
    column.is_sum = def.measure.kind == Measure::Kind::kSum;
    column.scale = column.is_sum ? 100 : 1;
    const uint16_t column_index = static_cast<uint16_t>(columns_.size());
    columns_.push_back(column);
    for (uint16_t type : def.type_indexes) type_measures_[type].push_back({column_index, &def});
    if (column.is_sum && std::find(sum_attributes_.begin(), sum_attributes_.end(),
                                   def.measure.attribute_index) == sum_attributes_.end()) {
      sum_attributes_.push_back(def.measure.attribute_index);
    }
  };
  for (size_t i = 0; i < indicator_count; ++i) add_measure(catalog_.indicators[i], CubeColumn::Kind::kIndicator, i);
  for (size_t i = 0; i < catalog_.key_types.size(); ++i) {
    add_measure(catalog_.key_types[i], CubeColumn::Kind::kKeyType, i);
  }
  for (size_t type = 0; type < catalog_.types.size(); ++type) {
    columns_.push_back({.kind = CubeColumn::Kind::kTypeCount, .index = static_cast<uint16_t>(type)});
  }
  column_sum_slot_.assign(measures_, 0);
  for (size_t c = 0; c < measures_; ++c) {
    if (!columns_[c].is_sum) continue;
    const MeasureDef& def = columns_[c].kind == CubeColumn::Kind::kIndicator
                                ? catalog_.indicators[columns_[c].index]
                                : catalog_.key_types[columns_[c].index];
    column_sum_slot_[c] = static_cast<uint8_t>(
        std::find(sum_attributes_.begin(), sum_attributes_.end(), def.measure.attribute_index) -
        sum_attributes_.begin());
  }
  type_major_.assign(catalog_.types.size(), {});
  for (const MeasureDef& rule : catalog_.major_rules) {
    for (uint16_t type : rule.type_indexes) {
      if (type >= type_major_.size()) return absl::InvalidArgumentError(Cat("major rule '", rule.id, "': bad type"));
      type_major_[type].push_back(&rule);
    }
  }

  dense_slot_.assign(registry_.size(), UINT32_MAX);
  sparse_slot_.assign(registry_.size(), UINT32_MAX);
  auto add_unit = [&](UnitId unit) {
    if (registry_.level(unit) <= kDenseLevel) {
      dense_slot_[unit.value] = static_cast<uint32_t>(dense_.size());
      dense_.emplace_back();
    } else {
      sparse_slot_[unit.value] = static_cast<uint32_t>(postings_.size());
      postings_.emplace_back();
    }
  };
  add_unit(home_city_);
  for (Level level = Level::kDistrict; level <= kLeafLevel; level = static_cast<Level>(static_cast<int>(level) + 1)) {
    for (UnitId unit : registry_.Descendants(home_city_, level)) add_unit(unit);
  }
  latest_by_source_.assign(catalog_.sources.size(), CubeEvent::kAbsent);
  source_days_.assign(catalog_.sources.size(), {});
  events_.resize(1);
  return absl::OkStatus();
}

bool Cube::Covers(UnitId unit) const {
  return unit.valid() && unit.value < dense_slot_.size() &&
         (dense_slot_[unit.value] != UINT32_MAX || sparse_slot_[unit.value] != UINT32_MAX);
}

UnitId Cube::CountingUnit(UnitId placed) const {
  if (!registry_.Contains(placed)) return kNoUnit;
  const int deepest = std::min(static_cast<int>(registry_.level(placed)), static_cast<int>(kLeafLevel));
  for (int level = deepest; level >= static_cast<int>(Level::kCity); --level) {
    const UnitId ancestor = registry_.AncestorAt(placed, static_cast<Level>(level));
    if (ancestor.valid() && Covers(ancestor)) return ancestor;
  }
  return kNoUnit;
}

uint32_t Cube::AllocateSums() {
  if (!free_sums_.empty()) {
    const uint32_t slot = free_sums_.back();
    free_sums_.pop_back();
    return slot;
  }
  const size_t stride = sum_attributes_.size();
  const uint32_t slot = static_cast<uint32_t>(stride == 0 ? 0 : sums_.size() / stride);
  sums_.resize(sums_.size() + stride, 0);
  return slot;
}

std::span<const int64_t> Cube::SumValues(const CubeEvent& event) const {
  if (event.sums == 0) return {};
  const size_t stride = sum_attributes_.size();
  return {sums_.data() + static_cast<size_t>(event.sums - 1) * stride, stride};
}

void Cube::Put(int64_t id, const CubeEventInput& input) {
  if (id <= 0 || id >= static_cast<int64_t>(UINT32_MAX)) return;
  const auto index = static_cast<uint32_t>(id);
  if (events_.size() <= index) events_.resize(std::max<size_t>(index + 1, events_.size() * 3 / 2));
  CubeEvent& slot = events_[index];
  if (slot.day != CubeEvent::kAbsent) {
    Apply(index, slot, -1);
    if (slot.sums != 0) free_sums_.push_back(slot.sums - 1);
  } else {
    ++event_count_;
  }
  CubeEvent event;
  event.day = input.day;
  event.hour = input.hour;
  event.type = input.type;
  event.source = input.source;
  event.level = input.level;
  const bool valid_type = input.type < type_measures_.size();
  const UnitId unit = input.in_home_city ? CountingUnit(input.placed) : kNoUnit;
  event.unit = unit.value;
  const bool in_range = input.day >= kFirstDay && input.day <= kLastDay;
  if (input.active && unit.valid() && in_range && valid_type) {
    event.flags |= CubeEvent::kCounted;
    for (const TypeMeasure& measure : type_measures_[input.type]) {
      if (ConditionsHold(*measure.def, input.numbers)) event.mask |= uint64_t{1} << measure.column;
    }
    bool has_sums = false;
    for (size_t c = 0; c < measures_ && !has_sums; ++c) has_sums = columns_[c].is_sum && (event.mask >> c & 1);
    if (has_sums) {
      const uint32_t sums = AllocateSums();
      event.sums = sums + 1;
      int64_t* values = sums_.data() + static_cast<size_t>(sums) * sum_attributes_.size();
      for (size_t s = 0; s < sum_attributes_.size(); ++s) {
        values[s] = 0;
        for (const auto& [attribute, number] : input.numbers) {
          if (attribute == sum_attributes_[s] && std::isfinite(number)) {
            values[s] = std::llround(std::clamp(number, -9e15, 9e15) * 100);
          }
        }
      }
    }
    for (const MeasureDef* rule : type_major_[input.type]) {
      if (ConditionsHold(*rule, input.numbers)) {
        event.flags |= CubeEvent::kMajor;
        break;
      }
    }
  }
  if (in_range && input.source < latest_by_source_.size()) {
    latest_by_source_[input.source] = std::max(latest_by_source_[input.source], input.day);
  }
  slot = event;
  Apply(index, slot, +1);
}

void Cube::Remove(int64_t id) {
  if (id <= 0 || id >= static_cast<int64_t>(events_.size())) return;
  CubeEvent& slot = events_[static_cast<size_t>(id)];
  if (slot.day == CubeEvent::kAbsent) return;
  Apply(static_cast<uint32_t>(id), slot, -1);
  if (slot.sums != 0) free_sums_.push_back(slot.sums - 1);
  slot = CubeEvent{};
  --event_count_;
}

const CubeEvent* Cube::Find(int64_t id) const {
  if (id <= 0 || id >= static_cast<int64_t>(events_.size())) return nullptr;
  const CubeEvent& event = events_[static_cast<size_t>(id)];
  return event.day == CubeEvent::kAbsent ? nullptr : &event;
}

void Cube::AddEvent(const CubeEvent& event, std::span<int64_t> out) const {
  if (!event.counted()) return;
  const int64_t* sums = event.sums == 0 ? nullptr
                                        : sums_.data() + static_cast<size_t>(event.sums - 1) * sum_attributes_.size();
  for (uint64_t mask = event.mask; mask != 0; mask &= mask - 1) {
    const int c = std::countr_zero(mask);
    out[c] += columns_[c].is_sum ? (sums == nullptr ? 0 : sums[column_sum_slot_[c]]) : 1;
  }
  out[measures_ + event.type] += 1;
}

int64_t* Cube::DenseRow(Dense& dense, CubeDay day, bool create, int64_t** total) {
  const size_t chunk = DayIndex(day, chunk0_) / kChunkDays;
  if (dense.chunks.size() <= chunk) {
    if (!create) return nullptr;
    dense.chunks.resize(chunk + 1);
    dense.totals.resize(chunk + 1);
  }
  const size_t width = columns_.size();
  if (!dense.chunks[chunk]) {
    if (!create) return nullptr;
    dense.chunks[chunk] = std::make_unique<int64_t[]>(width * kChunkDays);
    dense.totals[chunk] = std::make_unique<int64_t[]>(width);
  }
  *total = dense.totals[chunk].get();
  return dense.chunks[chunk].get() + (DayIndex(day, chunk0_) % kChunkDays) * width;
}

void Cube::AddToDense(uint32_t slot, CubeDay day, const CubeEvent& event, int64_t sign) {
  int64_t* total = nullptr;
  int64_t* row = DenseRow(dense_[slot], day, /*create=*/true, &total);
  const int64_t* sums = event.sums == 0 ? nullptr
                                        : sums_.data() + static_cast<size_t>(event.sums - 1) * sum_attributes_.size();
  for (uint64_t mask = event.mask; mask != 0; mask &= mask - 1) {
    const int c = std::countr_zero(mask);
    const int64_t value = sign * (columns_[c].is_sum ? (sums == nullptr ? 0 : sums[column_sum_slot_[c]]) : 1);
    row[c] += value;
    total[c] += value;
  }
  row[measures_ + event.type] += sign;
  total[measures_ + event.type] += sign;
}

void Cube::Apply(uint32_t id, const CubeEvent& event, int sign) {
  if (!event.counted()) return;
  UnitId ancestors[kLevelCount];
  const int count = registry_.Ancestors(UnitId{event.unit}, ancestors);
  for (int i = 0; i < count; ++i) {
    const UnitId unit = ancestors[i];
    if (const uint32_t slot = dense_slot_[unit.value]; slot != UINT32_MAX) {
      AddToDense(slot, event.day, event, sign);
    } else if (const uint32_t sparse = sparse_slot_[unit.value]; sparse != UINT32_MAX) {
      std::vector<Posting>& postings = postings_[sparse];
      const Posting posting{event.day, id};
      if (bulk_) {
        if (sign > 0) {
          postings.push_back(posting);
        } else if (auto it = std::find_if(postings.begin(), postings.end(),
                                          [&](const Posting& p) { return p.id == id; });
                   it != postings.end()) {
          postings.erase(it);
        }
      } else if (sign > 0) {
        if (postings.empty() || !(posting < postings.back())) {
          postings.push_back(posting);
        } else {
          postings.insert(std::lower_bound(postings.begin(), postings.end(), posting), posting);
        }
      } else {
        auto it = std::lower_bound(postings.begin(), postings.end(), posting);
        if (it != postings.end() && it->id == id && it->day == event.day) postings.erase(it);
      }
    }
  }
  const size_t day_index = DayIndex(event.day, chunk0_);
  if (sign > 0) {
    if (day_lists_.size() <= day_index) day_lists_.resize(day_index + 1);
    day_lists_[day_index].push_back(id);
  } else if (day_index < day_lists_.size()) {
    std::vector<uint32_t>& list = day_lists_[day_index];
    if (auto it = std::find(list.begin(), list.end(), id); it != list.end()) {
      *it = list.back();
      list.pop_back();
    }
  }
  std::vector<int64_t>& source_days = source_days_[event.source];
  if (source_days.size() <= day_index) source_days.resize(day_index + 1, 0);
  source_days[day_index] += sign;
  if ((event.flags & CubeEvent::kMajor) != 0) {
    const Posting posting{event.day, id};
    if (bulk_) {
      if (sign > 0) {
        major_events_.push_back(posting);
      } else {
        std::erase_if(major_events_, [&](const Posting& p) { return p.id == id; });
      }
      return;
    }
    auto it = std::lower_bound(major_events_.begin(), major_events_.end(), posting);
    if (sign > 0) {
      major_events_.insert(it, posting);
    } else if (it != major_events_.end() && it->id == id) {
      major_events_.erase(it);
    }
  }
}

void Cube::EndBulk() {
  bulk_ = false;
  for (auto& postings : postings_) std::sort(postings.begin(), postings.end());
  std::sort(major_events_.begin(), major_events_.end());
}

void Cube::AddRowsTo(const Dense& dense, CubeDay first, CubeDay last, std::span<int64_t> out) const {
  const size_t width = columns_.size();
  const size_t first_index = DayIndex(first, chunk0_);
  const size_t last_index = DayIndex(last, chunk0_);
  const size_t last_chunk = std::min(last_index / kChunkDays, dense.chunks.size() - 1);
  int64_t* __restrict sink = out.data();
  for (size_t chunk = first_index / kChunkDays; chunk <= last_chunk && !dense.chunks.empty(); ++chunk) {
    if (!dense.chunks[chunk]) continue;
    const size_t begin = std::max(first_index, chunk * kChunkDays) - chunk * kChunkDays;
    const size_t end = std::min(last_index, chunk * kChunkDays + kChunkDays - 1) - chunk * kChunkDays;
    if (begin == 0 && end == kChunkDays - 1) {
      const int64_t* total = dense.totals[chunk].get();
      for (size_t c = 0; c < width; ++c) sink[c] += total[c];
      continue;
    }
    const int64_t* row = dense.chunks[chunk].get() + begin * width;
    for (size_t day = begin; day <= end; ++day, row += width) {
      for (size_t c = 0; c < width; ++c) sink[c] += row[c];
    }
  }
}

void Cube::AddPostingsTo(const std::vector<Posting>& postings, CubeDay first, CubeDay last,
                         std::span<int64_t> out) const {
  auto it = std::lower_bound(postings.begin(), postings.end(), Posting{first, 0});
  for (; it != postings.end() && it->day <= last; ++it) AddEvent(events_[it->id], out);
}

void Cube::Sum(UnitId unit, CubeDay first, CubeDay last, std::span<int64_t> out) const {
  first = std::max(first, kFirstDay);
  last = std::min(last, kLastDay);
  if (first > last || !Covers(unit)) return;
  if (const uint32_t slot = dense_slot_[unit.value]; slot != UINT32_MAX) {
    AddRowsTo(dense_[slot], first, last, out);
  } else {
    AddPostingsTo(postings_[sparse_slot_[unit.value]], first, last, out);
  }
}

std::pair<CubeDay, CubeDay> Cube::DayRange() const {
  size_t first = 0;
  while (first < day_lists_.size() && day_lists_[first].empty()) ++first;
  if (first == day_lists_.size()) return {CubeEvent::kAbsent, CubeEvent::kAbsent};
  size_t last = day_lists_.size() - 1;
  while (day_lists_[last].empty()) --last;
  return {chunk0_ + static_cast<CubeDay>(first), chunk0_ + static_cast<CubeDay>(last)};
}

int64_t Cube::SourceEvents(size_t source, CubeDay first, CubeDay last) const {
  if (source >= source_days_.size()) return 0;
  const std::vector<int64_t>& days = source_days_[source];
  int64_t total = 0;
  for (CubeDay day = std::max(first, kFirstDay); day <= last; ++day) {
    const size_t index = DayIndex(day, chunk0_);
    if (index >= days.size()) break;
    total += days[index];
  }
  return total;
}

std::vector<int64_t> Cube::MajorEvents(UnitId unit, CubeDay first, CubeDay last, size_t limit) const {
  std::vector<int64_t> ids;
  if (!Covers(unit)) return ids;
  const Level level = registry_.level(unit);
  auto it = std::upper_bound(major_events_.begin(), major_events_.end(), Posting{last, UINT32_MAX});
  while (it != major_events_.begin() && ids.size() < limit) {
    --it;
    if (it->day < first) break;
    const CubeEvent& event = events_[it->id];
    if (registry_.AncestorAt(UnitId{event.unit}, level) == unit) ids.push_back(it->id);
  }
  return ids;
}

absl::Status Cube::Restore(std::vector<CubeEvent> events, std::vector<int64_t> sums) {
  const size_t stride = sum_attributes_.size();
  if (stride != 0 && sums.size() % stride != 0) return absl::InvalidArgumentError("cube snapshot: bad sum table");
  for (const CubeEvent& event : events) {
    if (event.day == CubeEvent::kAbsent) continue;
    if (event.sums != 0 && static_cast<size_t>(event.sums) * stride > sums.size()) {
      return absl::InvalidArgumentError("cube snapshot: an event's sums lie outside the sum table");
    }
    if (event.counted() && (event.unit >= registry_.size() || !Covers(UnitId{event.unit}) ||
                            event.type >= catalog_.types.size() || event.source >= catalog_.sources.size() ||
                            event.day < kFirstDay || event.day > kLastDay ||
                            (event.mask >> measures_) != 0)) {
      return absl::InvalidArgumentError("cube snapshot: an event does not fit this registry and catalog");
    }
  }
  for (Dense& dense : dense_) dense = Dense{};
  for (auto& postings : postings_) postings.clear();
  day_lists_.clear();
  major_events_.clear();
  for (auto& days : source_days_) days.clear();
  latest_by_source_.assign(catalog_.sources.size(), CubeEvent::kAbsent);
  events_ = std::move(events);
  if (events_.empty()) events_.resize(1);
  sums_ = std::move(sums);
  free_sums_.clear();
  event_count_ = 0;
  // Bulk: append postings and major events unsorted, sort once at the end.
  std::vector<uint8_t> used(stride == 0 ? 0 : sums_.size() / stride, 0);
  for (size_t id = 1; id < events_.size(); ++id) {
    const CubeEvent& event = events_[id];
    if (event.day == CubeEvent::kAbsent) continue;
    ++event_count_;
    if (event.sums != 0) used[event.sums - 1] = 1;
    if (event.day >= kFirstDay && event.day <= kLastDay && event.source < latest_by_source_.size()) {
      latest_by_source_[event.source] = std::max(latest_by_source_[event.source], event.day);
    }
    if (!event.counted()) continue;
    UnitId ancestors[kLevelCount];
    const int count = registry_.Ancestors(UnitId{event.unit}, ancestors);
    for (int i = 0; i < count; ++i) {
      const UnitId unit = ancestors[i];
      if (const uint32_t slot = dense_slot_[unit.value]; slot != UINT32_MAX) {
        AddToDense(slot, event.day, event, +1);
      } else if (const uint32_t sparse = sparse_slot_[unit.value]; sparse != UINT32_MAX) {
        postings_[sparse].push_back({event.day, static_cast<uint32_t>(id)});
      }
    }
    const size_t day_index = DayIndex(event.day, chunk0_);
    if (day_lists_.size() <= day_index) day_lists_.resize(day_index + 1);
    day_lists_[day_index].push_back(static_cast<uint32_t>(id));
    std::vector<int64_t>& source_days = source_days_[event.source];
    if (source_days.size() <= day_index) source_days.resize(day_index + 1, 0);
    source_days[day_index] += 1;
    if ((event.flags & CubeEvent::kMajor) != 0) major_events_.push_back({event.day, static_cast<uint32_t>(id)});
  }
  for (auto& postings : postings_) std::sort(postings.begin(), postings.end());
  std::sort(major_events_.begin(), major_events_.end());
  for (uint32_t slot = 0; slot < used.size(); ++slot) {
    if (!used[slot]) free_sums_.push_back(slot);
  }
  return absl::OkStatus();
}

size_t Cube::MemoryBytes() const {
  size_t bytes = events_.capacity() * sizeof(CubeEvent) + sums_.capacity() * sizeof(int64_t);
  const size_t width = columns_.size();
  for (const Dense& dense : dense_) {
    for (const auto& chunk : dense.chunks) {
      if (chunk) bytes += (kChunkDays + 1) * width * sizeof(int64_t);
    }
    bytes += dense.chunks.capacity() * 2 * sizeof(void*);
  }
  for (const auto& postings : postings_) bytes += postings.capacity() * sizeof(Posting) + sizeof(postings);
  for (const auto& list : day_lists_) bytes += list.capacity() * sizeof(uint32_t) + sizeof(list);
  for (const auto& days : source_days_) bytes += days.capacity() * sizeof(int64_t);
  bytes += major_events_.capacity() * sizeof(Posting);
  bytes += (dense_slot_.capacity() + sparse_slot_.capacity()) * sizeof(uint32_t);
  return bytes;
}

}  // namespace pingan
