#include "cube/cube.h"

#include <algorithm>
#include <cassert>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstring>
#include <thread>

#include "core/period.h"
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
  counting_ = std::make_unique<std::atomic<uint32_t>[]>(registry_.size());
  for (size_t unit = 0; unit < registry_.size(); ++unit) counting_[unit].store(kUnknownCounting, std::memory_order_relaxed);
  if (sum_attributes_.size() > kMaxSumSlots) return absl::InvalidArgumentError("the catalog sums too many attributes");
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
  dense_chain_.resize(dense_.size());
  sparse_chain_.resize(postings_.size());
  for (uint32_t unit = 0; unit < dense_slot_.size(); ++unit) {
    if (dense_slot_[unit] == UINT32_MAX && sparse_slot_[unit] == UINT32_MAX) continue;
    Chain& chain = dense_slot_[unit] != UINT32_MAX ? dense_chain_[dense_slot_[unit]] : sparse_chain_[sparse_slot_[unit]];
    UnitId ancestors[kLevelCount];
    const int count = registry_.Ancestors(UnitId{unit}, ancestors);
    for (int i = 0; i < count; ++i) {
      if (const uint32_t slot = dense_slot_[ancestors[i].value]; slot != UINT32_MAX) {
        if (chain.dense_count == std::size(chain.dense)) return absl::InvalidArgumentError("the unit tree is too deep for the cube");
        chain.dense[chain.dense_count++] = slot;
      } else if (const uint32_t sparse = sparse_slot_[ancestors[i].value]; sparse != UINT32_MAX) {
        if (chain.sparse_count == std::size(chain.sparse)) return absl::InvalidArgumentError("the unit tree is too deep for the cube");
        chain.sparse[chain.sparse_count++] = sparse;
      }
    }
  }
  latest_by_source_.assign(catalog_.sources.size(), CubeEvent::kAbsent);
  source_days_.assign(catalog_.sources.size(), {});
  events_.resize(1);
  StampAllMonths();
  return absl::OkStatus();
}

bool Cube::Covers(UnitId unit) const {
  // Sparse first: most placements are grids.
  return unit.valid() && unit.value < dense_slot_.size() &&
         (sparse_slot_[unit.value] != UINT32_MAX || dense_slot_[unit.value] != UINT32_MAX);
}

UnitId Cube::CountingUnit(UnitId placed) const {
  if (!registry_.Contains(placed)) return kNoUnit;
  std::atomic<uint32_t>& known = counting_[placed.value];
  uint32_t unit = known.load(std::memory_order_relaxed);
  if (unit == kUnknownCounting) {
    unit = FindCountingUnit(placed).value;
    known.store(unit, std::memory_order_relaxed);
  }
  return UnitId{unit};
}

UnitId Cube::FindCountingUnit(UnitId placed) const {
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

CubeEvent Cube::Compile(const CubeEventInput& input, int64_t* sum_values) const {
  CubeEvent event;
  event.day = input.day;
  event.hour = input.hour;
  event.type = input.type;
  event.source = input.source;
  event.level = input.level;
  const bool valid_type = input.type < type_measures_.size();
  // A placement the caller knows to be a cube unit is taken as it is (a loader of millions of
  // rows checks each grid once, not each row: the lookup misses the cache).
  assert(!input.placed_counts || Covers(input.placed));
  const UnitId unit = !input.in_home_city ? kNoUnit
                      : input.placed_counts ? input.placed
                                            : CountingUnit(input.placed);
  event.unit = unit.value;
  const bool in_range = input.day >= kFirstDay && input.day <= kLastDay;
  if (!input.active || !unit.valid() || !in_range || !valid_type) return event;
  event.flags |= CubeEvent::kCounted;
  bool has_sums = false;
  for (const TypeMeasure& measure : type_measures_[input.type]) {
    if (ConditionsHold(*measure.def, input.numbers)) {
      event.mask |= uint64_t{1} << measure.column;
      has_sums = has_sums || columns_[measure.column].is_sum;
    }
  }
  if (has_sums) {
    event.sums = 1;  // the caller stores sum_values and sets the real index
    for (size_t s = 0; s < sum_attributes_.size(); ++s) {
      sum_values[s] = 0;
      for (const auto& [attribute, number] : input.numbers) {
        if (attribute == sum_attributes_[s] && std::isfinite(number)) {
          sum_values[s] = std::llround(std::clamp(number, -9e15, 9e15) * 100);
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
  return event;
}

void Cube::Put(int64_t id, const CubeEventInput& input) {
  int64_t sum_values[kMaxSumSlots];
  const CubeEvent event = Compile(input, sum_values);
  PutCompiled(id, event, sum_values);
}

void Cube::PutCompiled(int64_t id, CubeEvent event, const int64_t* sum_values) {
  if (id <= 0 || id >= static_cast<int64_t>(UINT32_MAX)) return;
  const auto index = static_cast<uint32_t>(id);
  if (events_.size() <= index) events_.resize(std::max<size_t>(index + 1, events_.size() * 3 / 2));
  CubeEvent& slot = events_[index];
  if (slot.day != CubeEvent::kAbsent) {
    if (!bulk_) Apply(index, slot, -1);
    if (slot.sums != 0) free_sums_.push_back(slot.sums - 1);
  } else {
    ++event_count_;
  }
  if (event.sums != 0) {
    const uint32_t sums = AllocateSums();
    event.sums = sums + 1;
    std::copy(sum_values, sum_values + sum_attributes_.size(),
              sums_.begin() + static_cast<ptrdiff_t>(static_cast<size_t>(sums) * sum_attributes_.size()));
  }
  if (event.day >= kFirstDay && event.day <= kLastDay && event.source < latest_by_source_.size()) {
    latest_by_source_[event.source] = std::max(latest_by_source_[event.source], event.day);
  }
  slot = event;
  if (!bulk_) Apply(index, slot, +1);
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
  StampMonth(event.day);
  const Chain& chain = ChainOf(event.unit);
  for (int i = 0; i < chain.dense_count; ++i) AddToDense(chain.dense[i], event.day, event, sign);
  for (int i = 0; i < chain.sparse_count; ++i) {
    std::vector<Posting>& postings = postings_[chain.sparse[i]];
    const Posting posting{event.day, id};
    if (sign > 0) {
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
  RebuildAggregates();
}

void Cube::RebuildAggregates() {
  StampAllMonths();
  for (Dense& dense : dense_) dense = Dense{};
  for (auto& postings : postings_) postings.clear();
  day_lists_.clear();
  major_events_.clear();
  for (auto& days : source_days_) days.clear();
  latest_by_source_.assign(catalog_.sources.size(), CubeEvent::kAbsent);
  // Counting sort of the counted events by day: the day tables of all units for one day are then
  // touched together (a few MB) instead of at random (hundreds of MB), and postings come out in
  // (day, id) order with no sort.
  const size_t days = static_cast<size_t>(kLastDay - chunk0_) + 1;
  std::vector<uint32_t> starts(days + 1, 0);
  event_count_ = 0;
  for (size_t id = 1; id < events_.size(); ++id) {
    const CubeEvent& event = events_[id];
    if (event.day == CubeEvent::kAbsent) continue;
    ++event_count_;
    if (event.day >= kFirstDay && event.day <= kLastDay && event.source < latest_by_source_.size()) {
      latest_by_source_[event.source] = std::max(latest_by_source_[event.source], event.day);
    }
    if (event.counted()) ++starts[DayIndex(event.day, chunk0_) + 1];
  }
  for (size_t day = 0; day < days; ++day) starts[day + 1] += starts[day];
  std::vector<uint32_t> order(starts[days]);
  // The counted events themselves in day order too: the passes below then read them in order
  // (by id they would miss the cache on nearly every event).
  std::vector<CubeEvent> by_day(starts[days]);
  {
    std::vector<uint32_t> next(starts.begin(), starts.end() - 1);
    for (size_t id = 1; id < events_.size(); ++id) {
      const CubeEvent& event = events_[id];
      if (event.day != CubeEvent::kAbsent && event.counted()) {
        const uint32_t at = next[DayIndex(event.day, chunk0_)]++;
        order[at] = static_cast<uint32_t>(id);
        by_day[at] = event;
      }
    }
  }
  size_t last_day = 0;
  for (size_t day = 0; day < days; ++day) {
    if (starts[day + 1] > starts[day]) last_day = day + 1;
  }
  day_lists_.resize(last_day);
  for (size_t day = 0; day < last_day; ++day) {
    if (starts[day + 1] == starts[day]) continue;
    day_lists_[day].assign(order.begin() + starts[day], order.begin() + starts[day + 1]);
  }
  // The day tables on one thread, the postings and the rest on another: they touch disjoint
  // members, both in day order. Each event's unit, chain and lists are a chain of dependent
  // loads that miss L2; events go in batches whose loads are prefetched stage by stage, so the
  // misses of a batch overlap.
  constexpr size_t kBatch = 16;
  // Calls `visit(begin, end, chains)` for each batch of by_day, with the batch's chains loaded.
  auto batches = [&](auto&& visit) {
    const Chain* chains[kBatch];
    for (size_t begin = 0; begin < by_day.size(); begin += kBatch) {
      const size_t end = std::min(by_day.size(), begin + kBatch);
      for (size_t at = begin; at < end; ++at) {
        __builtin_prefetch(&dense_slot_[by_day[at].unit]);
        __builtin_prefetch(&sparse_slot_[by_day[at].unit]);
      }
      for (size_t at = begin; at < end; ++at) {
        chains[at - begin] = &ChainOf(by_day[at].unit);
        __builtin_prefetch(chains[at - begin]);
      }
      visit(begin, end, chains);
    }
  };
  std::thread dense_thread([&] {
    batches([&](size_t begin, size_t end, const Chain* const* chains) {
      for (size_t at = begin; at < end; ++at) {
        const Chain& chain = *chains[at - begin];
        for (int i = 0; i < chain.dense_count; ++i) AddToDense(chain.dense[i], by_day[at].day, by_day[at], +1);
      }
    });
  });
  batches([&](size_t begin, size_t end, const Chain* const* chains) {
    for (size_t at = begin; at < end; ++at) {
      const Chain& chain = *chains[at - begin];
      for (int i = 0; i < chain.sparse_count; ++i) __builtin_prefetch(&postings_[chain.sparse[i]]);
    }
    for (size_t at = begin; at < end; ++at) {
      const Chain& chain = *chains[at - begin];
      for (int i = 0; i < chain.sparse_count; ++i) {
        const std::vector<Posting>& postings = postings_[chain.sparse[i]];
        __builtin_prefetch(postings.data() + postings.size(), 1);
      }
    }
    for (size_t at = begin; at < end; ++at) {
      const uint32_t id = order[at];
      const CubeEvent& event = by_day[at];
      const Chain& chain = *chains[at - begin];
      for (int i = 0; i < chain.sparse_count; ++i) postings_[chain.sparse[i]].push_back({event.day, id});
      const size_t day_index = DayIndex(event.day, chunk0_);
      std::vector<int64_t>& source_days = source_days_[event.source];
      if (source_days.size() <= day_index) source_days.resize(day_index + 1, 0);
      source_days[day_index] += 1;
      if ((event.flags & CubeEvent::kMajor) != 0) major_events_.push_back({event.day, id});
    }
  });
  dense_thread.join();
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
  if (!Covers(unit) || limit == 0) return ids;
  const Level level = registry_.level(unit);
  auto it = std::upper_bound(major_events_.begin(), major_events_.end(), Posting{last, UINT32_MAX});
  CubeDay last_day = CubeEvent::kAbsent;  // the day of the limit-th event: taken whole
  while (it != major_events_.begin()) {
    --it;
    if (it->day < first || (ids.size() >= limit && it->day != last_day)) break;
    const CubeEvent& event = events_[it->id];
    if (registry_.AncestorAt(UnitId{event.unit}, level) != unit) continue;
    ids.push_back(it->id);
    if (ids.size() == limit) last_day = it->day;
  }
  std::stable_sort(ids.begin(), ids.end(), [&](int64_t a, int64_t b) {
    const CubeEvent& x = events_[static_cast<size_t>(a)];
    const CubeEvent& y = events_[static_cast<size_t>(b)];
    return x.day != y.day ? x.day > y.day : x.hour > y.hour;
  });
  return ids;
}

absl::Status Cube::ValidateEvents(const CubeEvents& events, const std::vector<int64_t>& sums) const {
  const size_t stride = sum_attributes_.size();
  if (stride != 0 && sums.size() % stride != 0) return absl::InvalidArgumentError("cube snapshot: bad sum table");
  // Covers() as a bitmap (a few hundred KB that stay in cache; the slot tables are 8 bytes per
  // registry unit, a cache miss per event at ten million events).
  std::vector<uint64_t> covered((dense_slot_.size() + 63) / 64, 0);
  for (size_t unit = 0; unit < dense_slot_.size(); ++unit) {
    if (dense_slot_[unit] != UINT32_MAX || sparse_slot_[unit] != UINT32_MAX) covered[unit / 64] |= uint64_t{1} << (unit % 64);
  }
  auto covers = [&](uint32_t unit) { return unit < dense_slot_.size() && ((covered[unit / 64] >> (unit % 64)) & 1) != 0; };
  for (const CubeEvent& event : events) {
    if (event.day == CubeEvent::kAbsent) continue;
    if (event.sums != 0 && static_cast<size_t>(event.sums) * stride > sums.size()) {
      return absl::InvalidArgumentError("cube snapshot: an event's sums lie outside the sum table");
    }
    if (event.counted() && (event.unit >= registry_.size() || !covers(event.unit) ||
                            event.type >= catalog_.types.size() || event.source >= catalog_.sources.size() ||
                            event.day < kFirstDay || event.day > kLastDay || (event.mask >> measures_) != 0)) {
      return absl::InvalidArgumentError("cube snapshot: an event does not fit this registry and catalog");
    }
  }
  return absl::OkStatus();
}

absl::Status Cube::Restore(CubeEvents events, std::vector<int64_t> sums) {
  const size_t stride = sum_attributes_.size();
  PA_RETURN_IF_ERROR(ValidateEvents(events, sums));
  events_ = std::move(events);
  if (events_.empty()) events_.resize(1);
  sums_ = std::move(sums);
  free_sums_.clear();
  std::vector<uint8_t> used(stride == 0 ? 0 : sums_.size() / stride, 0);
  for (const CubeEvent& event : events_) {
    if (event.day != CubeEvent::kAbsent && event.sums != 0) used[event.sums - 1] = 1;
  }
  for (uint32_t slot = 0; slot < used.size(); ++slot) {
    if (!used[slot]) free_sums_.push_back(slot);
  }
  RebuildAggregates();
  return absl::OkStatus();
}

namespace {

// Appends plain values and arrays; reads them back with bounds checks.
class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}
  template <typename T>
  void Put(const T& value) {
    out_.append(reinterpret_cast<const char*>(&value), sizeof value);
  }
  template <typename T>
  void PutArray(const T* data, size_t count) {
    Put<uint64_t>(count);
    if (count > 0) out_.append(reinterpret_cast<const char*>(data), count * sizeof(T));
  }

 private:
  std::string& out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  template <typename T>
  bool Get(T* value) {
    if (in_.size() < sizeof(T)) return false;
    std::memcpy(value, in_.data(), sizeof(T));
    in_.remove_prefix(sizeof(T));
    return true;
  }
  template <typename T>
  bool GetArray(std::vector<T>* out, uint64_t max_count) {
    uint64_t count = 0;
    if (!Get(&count) || count > max_count || in_.size() / sizeof(T) < count) return false;
    out->resize(count);
    if (count == 0) return true;
    std::memcpy(out->data(), in_.data(), count * sizeof(T));
    in_.remove_prefix(count * sizeof(T));
    return true;
  }
  bool GetBytes(void* out, size_t size) {
    if (in_.size() < size) return false;
    std::memcpy(out, in_.data(), size);
    in_.remove_prefix(size);
    return true;
  }
  bool done() const { return in_.empty(); }

 private:
  std::string_view in_;
};

}  // namespace

std::string Cube::SaveAggregates() const {
  std::string out;
  Writer writer(out);
  const size_t width = columns_.size();
  writer.Put<uint64_t>(dense_.size());
  for (const Dense& dense : dense_) {
    writer.Put<uint64_t>(dense.chunks.size());
    for (size_t chunk = 0; chunk < dense.chunks.size(); ++chunk) {
      const bool present = dense.chunks[chunk] != nullptr;
      writer.Put<uint8_t>(present);
      if (!present) continue;
      out.append(reinterpret_cast<const char*>(dense.chunks[chunk].get()), kChunkDays * width * sizeof(int64_t));
      out.append(reinterpret_cast<const char*>(dense.totals[chunk].get()), width * sizeof(int64_t));
    }
  }
  writer.Put<uint64_t>(postings_.size());
  for (const auto& postings : postings_) writer.PutArray(postings.data(), postings.size());
  writer.Put<uint64_t>(day_lists_.size());
  for (const auto& list : day_lists_) writer.PutArray(list.data(), list.size());
  writer.PutArray(major_events_.data(), major_events_.size());
  writer.Put<uint64_t>(source_days_.size());
  for (const auto& days : source_days_) writer.PutArray(days.data(), days.size());
  writer.PutArray(latest_by_source_.data(), latest_by_source_.size());
  writer.PutArray(free_sums_.data(), free_sums_.size());
  writer.Put<uint64_t>(event_count_);
  return out;
}

size_t Cube::ColumnsOf(const Catalog& catalog) {
  return catalog.indicators.size() + catalog.key_types.size() + catalog.types.size();
}

absl::Status Cube::AdoptAggregates(CubeEvents events, std::vector<int64_t> sums, std::string_view bytes) {
  PA_ASSIGN_OR_RETURN(ParsedAggregates parsed, ParseAggregates(bytes, columns_.size(), events.size()));
  return AdoptParsed(std::move(events), std::move(sums), std::move(parsed));
}

absl::StatusOr<Cube::ParsedAggregates> Cube::ParseAggregates(std::string_view bytes, size_t columns, size_t events) {
  auto bad = [](std::string_view what) { return absl::InvalidArgumentError(Cat("cube snapshot: ", what)); };
  const size_t width = columns;
  const uint64_t max_days = static_cast<uint64_t>(kLastDay - chunk0_) + 1;
  const uint64_t max_ids = events;
  ParsedAggregates parsed;
  parsed.columns = columns;
  Reader reader(bytes);
  uint64_t count = 0;
  // (Each table and each list takes at least its 8-byte count: bounds before any allocation.)
  if (!reader.Get(&count) || count > bytes.size() / 8) return bad("bad day table count");
  parsed.dense.resize(count);
  for (Dense& table : parsed.dense) {
    uint64_t chunks = 0;
    if (!reader.Get(&chunks) || chunks > max_days / kChunkDays + 1) return bad("bad day table");
    table.chunks.resize(chunks);
    table.totals.resize(chunks);
    for (size_t chunk = 0; chunk < chunks; ++chunk) {
      uint8_t present = 0;
      if (!reader.Get(&present)) return bad("short day table");
      if (present == 0) continue;
      table.chunks[chunk] = std::make_unique<int64_t[]>(kChunkDays * width);
      table.totals[chunk] = std::make_unique<int64_t[]>(width);
      if (!reader.GetBytes(table.chunks[chunk].get(), kChunkDays * width * sizeof(int64_t)) ||
          !reader.GetBytes(table.totals[chunk].get(), width * sizeof(int64_t))) {
        return bad("short day table");
      }
    }
  }
  if (!reader.Get(&count) || count > bytes.size() / 8) return bad("bad postings count");
  parsed.postings.resize(count);
  for (auto& list : parsed.postings) {
    if (!reader.GetArray(&list, max_ids * kLevelCount)) return bad("bad postings");
  }
  if (!reader.Get(&count) || count > max_days) return bad("bad day lists");
  parsed.day_lists.resize(count);
  for (auto& list : parsed.day_lists) {
    if (!reader.GetArray(&list, max_ids)) return bad("bad day list");
  }
  if (!reader.GetArray(&parsed.major, max_ids)) return bad("bad major events");
  if (!reader.Get(&count) || count > 255) return bad("bad source count");
  parsed.source_days.resize(count);
  for (auto& days : parsed.source_days) {
    if (!reader.GetArray(&days, max_days)) return bad("bad source days");
  }
  if (!reader.GetArray(&parsed.latest, parsed.source_days.size()) || parsed.latest.size() != parsed.source_days.size()) {
    return bad("bad latest days");
  }
  if (!reader.GetArray(&parsed.free_sums, bytes.size())) return bad("bad free sums");
  if (!reader.Get(&parsed.event_count) || parsed.event_count > max_ids || !reader.done()) return bad("bad tail");
  // Ids must point inside the snapshot's events.
  for (const auto& list : parsed.postings) {
    for (const Posting& posting : list) {
      if (posting.id >= max_ids) return bad("a posting names no event");
    }
  }
  for (const auto& list : parsed.day_lists) {
    for (uint32_t id : list) {
      if (id >= max_ids) return bad("a day list names no event");
    }
  }
  for (const Posting& posting : parsed.major) {
    if (posting.id >= max_ids) return bad("a major event names no event");
  }
  return parsed;
}

absl::Status Cube::AdoptParsed(CubeEvents events, std::vector<int64_t> sums, ParsedAggregates parsed) {
  auto bad = [](std::string_view what) { return absl::InvalidArgumentError(Cat("cube snapshot: ", what)); };
  if (parsed.columns != columns_.size()) return bad("parsed for another number of columns");
  if (parsed.dense.size() != dense_.size()) return bad("day tables do not fit this registry");
  if (parsed.postings.size() != postings_.size()) return bad("postings do not fit this registry");
  if (parsed.source_days.size() != source_days_.size() || parsed.latest.size() != latest_by_source_.size()) {
    return bad("sources do not fit this catalog");
  }
  if (parsed.event_count > events.size()) return bad("bad tail");
  const size_t stride = sum_attributes_.size();
  for (uint32_t slot : parsed.free_sums) {
    if (stride == 0 || (static_cast<size_t>(slot) + 1) * stride > sums.size()) return bad("a free sum slot is out of range");
  }
  PA_RETURN_IF_ERROR(ValidateEvents(events, sums));
  dense_ = std::move(parsed.dense);
  postings_ = std::move(parsed.postings);
  day_lists_ = std::move(parsed.day_lists);
  major_events_ = std::move(parsed.major);
  source_days_ = std::move(parsed.source_days);
  latest_by_source_ = std::move(parsed.latest);
  free_sums_ = std::move(parsed.free_sums);
  event_count_ = parsed.event_count;
  events_ = std::move(events);
  if (events_.empty()) events_.resize(1);
  sums_ = std::move(sums);
  StampAllMonths();
  return absl::OkStatus();
}

namespace {
// The entry of month_stamps_ for `day`: months since 1900-01, the last entry for days outside.
size_t MonthSlot(CubeDay day, size_t slots) {
  if (day < Cube::kFirstDay || day > Cube::kLastDay) return slots - 1;
  int year = 0, month = 0, day_of_month = 0;
  CivilFromDay(day, &year, &month, &day_of_month);
  return static_cast<size_t>((year - 1900) * 12 + month - 1);
}
}  // namespace

uint64_t Cube::MonthStamp(CubeDay day) const { return month_stamps_[MonthSlot(day, month_stamps_.size())]; }

namespace {
// Stamps are unique in the process, so that a stamp of one cube never matches another cube's.
uint64_t NextStamp() {
  static std::atomic<uint64_t> clock{0};
  return clock.fetch_add(1, std::memory_order_relaxed) + 1;
}
}  // namespace

void Cube::StampMonth(CubeDay day) { month_stamps_[MonthSlot(day, month_stamps_.size())] = NextStamp(); }

void Cube::StampAllMonths() {
  // 1900-01 .. 2169-12, and one for the days outside.
  month_stamps_.assign(270 * 12 + 1, NextStamp());
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
