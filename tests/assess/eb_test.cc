#include "assess/eb.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <iostream>
#include <limits>
#include <numeric>
#include <vector>

#include "assess/eb_reference.h"
#include "core/rng.h"

namespace pingan {
namespace {

using ::pingan::testing::Compare;
using ::pingan::testing::LoadEbReference;
using ::testing::HasSubstr;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

TEST(EmpiricalBayes, AgreesWithSpdepOnNcSids) {
  auto reference = LoadEbReference(::pingan::testing::NcSidsReferencePath());
  ASSERT_TRUE(reference.ok()) << reference.status();
  const UnitTable& table = reference->table;
  ASSERT_EQ(table.ids.size(), 100u);
  ASSERT_TRUE(table.has_neighbours);
  EXPECT_EQ(table.neighbours.total(), 492u);  // ncCR85.nb: 492 links

  auto global = EbGlobal(table.counts, table.exposures);
  ASSERT_TRUE(global.ok()) << global.status();
  auto local = EbLocal(table.counts, table.exposures, table.neighbours);
  ASSERT_TRUE(local.ok()) << local.status();
  const std::vector<double> raw = RawRates(table.counts, table.exposures);

  double worst_absolute = 0, worst_relative = 0;
  using Column = std::tuple<const char*, const std::vector<double>*, const std::vector<double>*>;
  for (const auto& [name, got, want] :
       {Column{"raw", &raw, &reference->raw},
        Column{"eb_global", &global->estimate, &reference->eb_global},
        Column{"eb_local", &local->estimate, &reference->eb_local}}) {
    const auto agreement = Compare(*got, *want);
    EXPECT_THAT(agreement.failures, ::testing::IsEmpty()) << name;
    worst_absolute = std::max(worst_absolute, agreement.max_absolute);
    worst_relative = std::max(worst_relative, agreement.max_relative);
    std::cout << name << ": max |difference| " << agreement.max_absolute << ", max relative "
              << agreement.max_relative << "\n";
  }
  // Far inside the required 1e-9 (only R's own double rounding remains).
  EXPECT_LT(worst_relative, 1e-13);
  RecordProperty("max_absolute_difference", std::to_string(worst_absolute));
  RecordProperty("max_relative_difference", std::to_string(worst_relative));

  // spdep's attributes: EBest's parameters b = 0.002021445, a = 7.692931e-07 (as R prints them).
  EXPECT_DOUBLE_EQ(global->prior_mean,
                   std::accumulate(table.counts.begin(), table.counts.end(), 0.0) /
                       std::accumulate(table.exposures.begin(), table.exposures.end(), 0.0));
  EXPECT_NEAR(global->prior_mean, 0.002021445, 5e-10);
  EXPECT_NEAR(global->prior_variance, 7.692931e-07, 5e-14);
  // 51 of the 100 local variances are negative and clamped at 0 (R: sum(a == 0) is 51).
  EXPECT_EQ(std::count(local->prior_variance.begin(), local->prior_variance.end(), 0.0), 51);
}

// R's formulas transcribed literally in double (EBest and EBlocal with geoda = FALSE): the
// oracle for random maps with directed neighbour lists of varied sizes.
struct Naive {
  std::vector<double> global, local;
};
Naive NaiveEb(const std::vector<double>& c, const std::vector<double>& x,
              const std::vector<std::vector<uint32_t>>& lists) {
  const size_t n = c.size();
  Naive naive;
  double csum = 0, xsum = 0;
  for (size_t i = 0; i < n; ++i) csum += c[i], xsum += x[i];
  const double b = csum / xsum;
  double s2 = 0;
  for (size_t i = 0; i < n; ++i) s2 += x[i] * ((c[i] / x[i] - b) * (c[i] / x[i] - b) / xsum);
  const double a = std::max(0.0, s2 - b / (xsum / n));
  for (size_t i = 0; i < n; ++i) naive.global.push_back(b + a * (c[i] / x[i] - b) / (a + b / x[i]));
  std::vector<double> m(n);
  for (size_t i = 0; i < n; ++i) {
    double r = c[i], e = x[i];
    for (uint32_t j : lists[i]) r += c[j], e += x[j];
    m[i] = r / e;
  }
  for (size_t i = 0; i < n; ++i) {
    double e = x[i], spread = x[i] * std::pow(c[i] / x[i] - m[i], 2);
    for (uint32_t j : lists[i]) e += x[j], spread += x[j] * std::pow(c[j] / x[j] - m[j], 2);
    const double xbar = e / (lists[i].size() + 1);
    const double ai = std::max(0.0, spread / e - m[i] / xbar);
    naive.local.push_back(m[i] + (c[i] / x[i] - m[i]) * (ai / (ai + m[i] / x[i])));
  }
  return naive;
}

TEST(EmpiricalBayes, AgreesWithRsFormulasOnRandomDirectedMaps) {
  Rng rng(17);
  for (int map = 0; map < 50; ++map) {
    const size_t n = static_cast<size_t>(rng.Int(2, 300));
    std::vector<double> counts(n), exposures(n);
    std::vector<std::vector<uint32_t>> lists(n);
    for (size_t i = 0; i < n; ++i) {
      exposures[i] = std::round(rng.Uniform(1, 3) * std::pow(10.0, rng.Uniform(0, 5)));
      counts[i] = std::round(exposures[i] * 0.002 * rng.LogNormal(0.8) + (rng.Chance(0.3) ? 1 : 0));
      const int64_t degree = rng.Int(0, std::min<int64_t>(9, static_cast<int64_t>(n) - 1));
      while (static_cast<int64_t>(lists[i].size()) < degree) {
        const auto j = static_cast<uint32_t>(rng.Int(0, static_cast<int64_t>(n) - 1));
        if (j != i && std::find(lists[i].begin(), lists[i].end(), j) == lists[i].end())
          lists[i].push_back(j);
      }
    }
    counts[0] += 1;  // never an all-zero map (R's 0/0)
    const Naive naive = NaiveEb(counts, exposures, lists);
    auto global = EbGlobal(counts, exposures);
    auto local = EbLocal(counts, exposures, Neighbours::FromLists(lists));
    ASSERT_TRUE(global.ok() && local.ok());
    for (size_t i = 0; i < n; ++i) {
      if (std::isnan(naive.local[i])) {
        EXPECT_EQ(local->estimate[i], 0) << "an all-zero neighbourhood: 0 where R has NaN";
        continue;
      }
      ASSERT_NEAR(global->estimate[i], naive.global[i], 1e-9 * naive.global[i])
          << "map " << map << " unit " << i;
      ASSERT_NEAR(local->estimate[i], naive.local[i], 1e-9 * naive.local[i])
          << "map " << map << " unit " << i;
    }
  }
}

TEST(EmpiricalBayes, EbBothGivesEachMeasuresGlobalAndLocalEstimates) {
  // Several measures per unit at once (the risk map's key types) against EbGlobal and EbLocal
  // run on each measure alone: the same estimates, to double rounding.
  Rng rng(29);
  for (int map = 0; map < 30; ++map) {
    const size_t n = static_cast<size_t>(rng.Int(2, 400));
    const size_t measures = static_cast<size_t>(rng.Int(1, 9));
    std::vector<double> exposures(n), rows(n * measures);
    std::vector<std::vector<uint32_t>> lists(n);
    for (size_t i = 0; i < n; ++i) {
      // Some units without data (exposure 0, no events): left out everywhere.
      exposures[i] = rng.Chance(0.05) ? 0 : std::round(rng.Uniform(1, 3) * std::pow(10.0, rng.Uniform(0, 5)));
      for (size_t m = 0; m < measures; ++m) {
        rows[i * measures + m] =
            exposures[i] == 0 ? 0 : std::round(exposures[i] * 0.001 * (m + 1) * rng.LogNormal(0.8));
      }
      const int64_t degree = rng.Int(0, std::min<int64_t>(9, static_cast<int64_t>(n) - 1));
      while (static_cast<int64_t>(lists[i].size()) < degree) {
        const auto j = static_cast<uint32_t>(rng.Int(0, static_cast<int64_t>(n) - 1));
        if (j != i && std::find(lists[i].begin(), lists[i].end(), j) == lists[i].end())
          lists[i].push_back(j);
      }
    }
    exposures[0] = 1000;
    const Neighbours neighbours = Neighbours::FromLists(lists);
    auto both = EbBoth(rows, measures, exposures, neighbours);
    ASSERT_TRUE(both.ok()) << both.status();
    ASSERT_EQ(both->measures, measures);
    ASSERT_EQ(both->global.size(), n * measures);
    ASSERT_EQ(both->local.size(), n * measures);
    for (size_t m = 0; m < measures; ++m) {
      std::vector<double> column(n);
      for (size_t i = 0; i < n; ++i) column[i] = rows[i * measures + m];
      auto global = EbGlobal(column, exposures);
      auto local = EbLocal(column, exposures, neighbours);
      ASSERT_TRUE(global.ok() && local.ok());
      for (size_t i = 0; i < n; ++i) {
        const double g = both->global[i * measures + m], l = both->local[i * measures + m];
        if (exposures[i] == 0) {
          EXPECT_TRUE(std::isnan(g) && std::isnan(l)) << "map " << map << " unit " << i;
          continue;
        }
        ASSERT_NEAR(g, global->estimate[i], 1e-12 * std::abs(global->estimate[i]))
            << "map " << map << " unit " << i << " measure " << m;
        ASSERT_NEAR(l, local->estimate[i], 1e-12 * std::abs(local->estimate[i]))
            << "map " << map << " unit " << i << " measure " << m;
      }
    }
  }
}

TEST(EmpiricalBayes, EbBothRejectsWhatEbLocalRejectsNamingTheMeasure) {
  const std::vector<double> exposures = {10, 20, 30};
  const auto ring = Neighbours::FromLists({{1, 2}, {0, 2}, {0, 1}});
  struct Case {
    std::vector<double> rows;
    size_t measures;
    const char* message;
  };
  for (const Case& bad : std::vector<Case>{
           {{1, 2, 3, -1, 5, 6}, 2, "unit 1, measure 1: count -1 is negative"},
           {{1, 2, 3, 4, kNaN, 6}, 2, "unit 2, measure 0: count nan is not a finite number"},
           {{1, 2, 3, 4, 5}, 2, "5 counts but 3 exposures of 2 measures"},
           {{1, 2, 3}, 0, "no measures"},
       }) {
    const absl::Status status = EbBoth(bad.rows, bad.measures, exposures, ring).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad.message;
    EXPECT_THAT(std::string(status.message()), HasSubstr(bad.message));
  }
  const absl::Status status =
      EbBoth(std::vector<double>{1, 2, 3}, 1, exposures, Neighbours::FromLists({{1}, {3}, {}})).status();
  EXPECT_THAT(std::string(status.message()), HasSubstr("unit 1: neighbour 3 is out of range (3 units)"));
}

TEST(EmpiricalBayes, TinyUnitWithOneEventIsPulledTowardsTheMean) {
  // 99 ordinary grids of 2,000 people with 1 to 21 events (rates vary beyond chance), and one
  // of 12 people with 1 event.
  std::vector<double> counts, exposures;
  std::vector<std::vector<uint32_t>> lists;
  for (uint32_t i = 0; i < 100; ++i) {
    counts.push_back(i == 42 ? 1 : 1 + 5 * (i % 5));
    exposures.push_back(i == 42 ? 12 : 2000);
    lists.push_back({(i + 99) % 100, (i + 1) % 100});  // a ring
  }
  auto global = EbGlobal(counts, exposures);
  auto local = EbLocal(counts, exposures, Neighbours::FromLists(lists));
  ASSERT_TRUE(global.ok() && local.ok());
  const double raw = 1.0 / 12;
  EXPECT_GT(raw, 15 * global->prior_mean);
  EXPECT_GE(global->estimate[42], global->prior_mean);
  EXPECT_LT(global->estimate[42], 1.5 * global->prior_mean);
  EXPECT_GE(local->estimate[42], local->prior_mean[42]);
  EXPECT_LT(local->estimate[42], 1.5 * local->prior_mean[42]);
  EXPECT_GT(global->prior_variance, 0);
  // A large unit keeps close to its own rate.
  EXPECT_GT(global->estimate[4] - global->prior_mean, 0.7 * (21.0 / 2000 - global->prior_mean));
  EXPECT_LT(global->estimate[4], 21.0 / 2000);
}

TEST(EmpiricalBayes, UnitWithoutNeighboursKeepsItsRawRateLocally) {
  // As spdep: the neighbourhood is the unit itself, so m = p and a = 0. A unit with no events
  // gets 0 (R: NaN, from 0/0).
  const std::vector<double> counts = {3, 0, 5, 7};
  const std::vector<double> exposures = {1000, 400, 2000, 1500};
  auto local = EbLocal(counts, exposures, Neighbours::FromLists({{}, {}, {3}, {2}}));
  ASSERT_TRUE(local.ok()) << local.status();
  EXPECT_DOUBLE_EQ(local->estimate[0], 3.0 / 1000);
  EXPECT_EQ(local->prior_variance[0], 0);
  EXPECT_EQ(local->estimate[1], 0);
  EXPECT_EQ(local->prior_mean[1], 0);
  EXPECT_DOUBLE_EQ(local->prior_mean[2], 12.0 / 3500);
}

TEST(EmpiricalBayes, AllCountsZero) {
  const std::vector<double> counts(5, 0.0);
  const std::vector<double> exposures = {10, 20, 30, 40, 50};
  auto global = EbGlobal(counts, exposures);
  auto local =
      EbLocal(counts, exposures, Neighbours::FromLists({{1}, {0, 2}, {1, 3}, {2, 4}, {3}}));
  ASSERT_TRUE(global.ok() && local.ok());
  EXPECT_EQ(global->prior_mean, 0);
  EXPECT_EQ(global->prior_variance, 0);
  EXPECT_THAT(global->estimate, ::testing::Each(0.0));  // R: NaN (0/0)
  EXPECT_THAT(local->estimate, ::testing::Each(0.0));
  EXPECT_THAT(RawRates(counts, exposures), ::testing::Each(0.0));
}

TEST(EmpiricalBayes, ZeroExposureIsNoDataAsIfTheUnitWereDeleted) {
  const std::vector<double> counts = {3, 0, 5, 7, 1};
  const std::vector<double> exposures = {1000, 0, 2000, 1500, 90};
  const auto lists =
      std::vector<std::vector<uint32_t>>{{1, 2}, {0, 2, 3}, {0, 1, 3}, {1, 2, 4}, {3}};
  auto global = EbGlobal(counts, exposures);
  auto local = EbLocal(counts, exposures, Neighbours::FromLists(lists));
  ASSERT_TRUE(global.ok() && local.ok());
  EXPECT_TRUE(std::isnan(RawRates(counts, exposures)[1]));
  EXPECT_TRUE(std::isnan(global->estimate[1]));
  EXPECT_TRUE(std::isnan(local->estimate[1]));
  EXPECT_TRUE(std::isnan(local->prior_mean[1]));

  // The same map without unit 1.
  const std::vector<double> kept_counts = {3, 5, 7, 1}, kept_exposures = {1000, 2000, 1500, 90};
  auto kept_global = EbGlobal(kept_counts, kept_exposures);
  auto kept_local =
      EbLocal(kept_counts, kept_exposures, Neighbours::FromLists({{1}, {0, 2}, {1, 3}, {2}}));
  ASSERT_TRUE(kept_global.ok() && kept_local.ok());
  EXPECT_EQ(global->prior_mean, kept_global->prior_mean);
  EXPECT_EQ(global->prior_variance, kept_global->prior_variance);
  for (const auto& [unit, kept] : {std::pair{0, 0}, {2, 1}, {3, 2}, {4, 3}}) {
    EXPECT_EQ(global->estimate[unit], kept_global->estimate[kept]) << unit;
    EXPECT_EQ(local->estimate[unit], kept_local->estimate[kept]) << unit;
    EXPECT_EQ(local->prior_variance[unit], kept_local->prior_variance[kept]) << unit;
  }
}

TEST(EmpiricalBayes, InvalidInputIsRejected) {
  const std::vector<double> exposures = {10, 20, 30};
  const auto ring = Neighbours::FromLists({{1, 2}, {0, 2}, {0, 1}});
  struct Case {
    std::vector<double> counts, exposures;
    const char* message;
  };
  for (const Case& bad : std::vector<Case>{
           {{1, -1, 0}, exposures, "unit 1: count -1 is negative"},
           {{1, kNaN, 0}, exposures, "unit 1: count nan is not a finite number"},
           {{1, 2, HUGE_VAL}, exposures, "unit 2: count inf is not a finite number"},
           {{1, 2, 2e15}, exposures, "unit 2: count 2000000000000000 is over the limit of 1e+15"},
           {{1, 2, 3}, {10, -20, 30}, "unit 1: exposure -20 is negative"},
           {{1, 2, 3}, {10, kNaN, 30}, "unit 1: exposure nan is not a finite number"},
           {{1, 2, 3}, {10, 1e-17, 30}, "unit 1: exposure 1e-17 is positive but below"},
           {{1, 2, 3}, {10, 0, 30}, "unit 1: count 2 with exposure 0"},
           {{1, 2}, exposures, "2 counts but 3 exposures"},
           {{0, 0, 0}, {0, 0, 0}, "no unit has a positive exposure"},
           {{}, {}, "no unit has a positive exposure"},
       }) {
    for (const absl::Status& status : {EbGlobal(bad.counts, bad.exposures).status(),
                                       EbLocal(bad.counts, bad.exposures, ring).status()}) {
      EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad.message;
      EXPECT_THAT(std::string(status.message()), HasSubstr(bad.message));
    }
  }
  const std::vector<double> counts = {1, 2, 3};
  for (const auto& [lists, message] :
       std::vector<std::pair<std::vector<std::vector<uint32_t>>, const char*>>{
           {{{1}, {0}}, "neighbour lists for 2 units, but there are 3"},
           {{{1}, {3}, {}}, "unit 1: neighbour 3 is out of range (3 units)"},
           {{{1}, {1}, {}}, "unit 1: lists itself as a neighbour"},
           {{{1, 2, 1}, {}, {}}, "unit 0: neighbour 1 is listed twice"},
       }) {
    const absl::Status status = EbLocal(counts, exposures, Neighbours::FromLists(lists)).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << message;
    EXPECT_THAT(std::string(status.message()), HasSubstr(message));
  }
}

TEST(EmpiricalBayes, NeighboursInCompressedRows) {
  Neighbours neighbours;
  EXPECT_EQ(neighbours.units(), 0u);
  const std::vector<uint32_t> first = {2, 1};
  neighbours.Add(first);
  neighbours.Add({});
  neighbours.Add(std::vector<uint32_t>{0});
  EXPECT_EQ(neighbours.units(), 3u);
  EXPECT_EQ(neighbours.total(), 3u);
  EXPECT_THAT(neighbours.of(0), ::testing::ElementsAre(2, 1));
  EXPECT_THAT(neighbours.of(1), ::testing::IsEmpty());
  EXPECT_THAT(neighbours.of(2), ::testing::ElementsAre(0));
  EXPECT_TRUE(neighbours.Check(3).ok());
}

}  // namespace
}  // namespace pingan
