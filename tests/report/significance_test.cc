#include "report/significance.h"

#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <string>
#include <string_view>
#include <vector>

#include "core/csv.h"
#include "core/rng.h"

namespace pingan {
namespace {

struct Reference {
  int64_t x, y;
  double dx, dy, p;
};

template <typename T>
bool ParseNumber(std::string_view text, T* value) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), *value);
  return error == std::errc() && end == text.data() + text.size();
}

// tests/report/significance_reference.csv, written by significance_reference.R from R's
// binom.test.
std::vector<Reference> LoadReference() {
  std::vector<Reference> cases;
  const std::string path =
      std::string(PINGAN_SOURCE_DIR) + "/tests/report/significance_reference.csv";
  const absl::Status status = ReadCsvFile(path, [&](const CsvRow& row) {
    if (row.number == 1) return absl::OkStatus();  // header
    Reference reference;
    if (row.fields.size() != 5 || !ParseNumber(row.fields[0], &reference.x) ||
        !ParseNumber(row.fields[1], &reference.y) || !ParseNumber(row.fields[2], &reference.dx) ||
        !ParseNumber(row.fields[3], &reference.dy) || !ParseNumber(row.fields[4], &reference.p)) {
      return absl::InvalidArgumentError("bad reference row " + std::to_string(row.number));
    }
    cases.push_back(reference);
    return absl::OkStatus();
  });
  EXPECT_TRUE(status.ok()) << status;
  return cases;
}

// Agreement to 1e-9 relative, or 1e-12 absolute for tiny p-values.
::testing::AssertionResult Agrees(double got, double expected) {
  if (std::fabs(got - expected) <= std::max(1e-9 * expected, 1e-12)) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "got " << got << ", expected " << expected;
}

TEST(PoissonRatePValue, AgreesWithRsBinomTest) {
  const std::vector<Reference> cases = LoadReference();
  ASSERT_GE(cases.size(), 400u);
  double worst_relative = 0;
  int64_t largest_count = 0;
  for (const Reference& reference : cases) {
    const double got = PoissonRatePValue(reference.x, reference.y, reference.dx, reference.dy);
    EXPECT_TRUE(Agrees(got, reference.p)) << "x=" << reference.x << " y=" << reference.y
                                          << " dx=" << reference.dx << " dy=" << reference.dy;
    if (reference.p > 1e-290) {
      worst_relative = std::max(worst_relative, std::fabs(got - reference.p) / reference.p);
    }
    largest_count = std::max({largest_count, reference.x, reference.y});
  }
  EXPECT_GE(largest_count, 500000);
  // Well inside the required 1e-9 wherever R's value is a normal number, tiny ones included
  // (3e-11 measured: Boost's incomplete beta in double at counts in the hundreds of thousands).
  EXPECT_LT(worst_relative, 1e-10);
  RecordProperty("worst_relative_error", std::to_string(worst_relative));
}

TEST(PoissonRatePValue, TheReportsExamples) {
  // 2 events in one month against 4 in the next: chance.
  EXPECT_NEAR(PoissonRatePValue(4, 2, 30, 30), 0.6875, 1e-15);
  EXPECT_FALSE(SignificantChange(4, 2, 30, 31));
  EXPECT_FALSE(SignificantChange(2, 4, 31, 30));
  // 200 against 400: not chance.
  EXPECT_LT(PoissonRatePValue(400, 200, 30, 31), 1e-10);
  EXPECT_TRUE(SignificantChange(400, 200, 30, 31));
  EXPECT_TRUE(SignificantChange(200, 400, 31, 30));
}

TEST(PoissonRatePValue, NoEventsAndEqualRates) {
  EXPECT_EQ(PoissonRatePValue(0, 0, 30, 31), 1);
  EXPECT_FALSE(SignificantChange(0, 0, 30, 31));
  EXPECT_EQ(PoissonRatePValue(0, 1, 30, 30), 1);
  EXPECT_EQ(PoissonRatePValue(7, 7, 30, 30), 1);
  EXPECT_EQ(PoissonRatePValue(500000, 500000, 365, 365), 1);
  EXPECT_EQ(PoissonRatePValue(5, 15, 1, 3), 1);  // x is exactly its expectation
  EXPECT_NEAR(PoissonRatePValue(0, 3, 30, 30), 0.25, 1e-15);
  EXPECT_TRUE(SignificantChange(0, 20, 30, 30));
}

TEST(PoissonRatePValue, SignificanceLevel) {
  const double p = PoissonRatePValue(1000, 1090, 30, 30);
  EXPECT_GT(p, 0.01);
  EXPECT_LT(p, 0.1);
  EXPECT_TRUE(SignificantChange(1000, 1090, 30, 30, p * 1.0001));
  EXPECT_FALSE(SignificantChange(1000, 1090, 30, 30, p));  // strictly below alpha
}

TEST(PoissonRatePValue, InvalidInputsGiveNaN) {
  const double nan = std::nan("");
  const double inf = HUGE_VAL;
  for (const auto& [x, y, dx, dy] :
       std::vector<std::tuple<int64_t, int64_t, double, double>>{{-1, 2, 30, 30},
                                                                 {2, -1, 30, 30},
                                                                 {kMaxPoissonCount + 1, 0, 30, 30},
                                                                 {1, 2, 0, 30},
                                                                 {1, 2, 30, -1},
                                                                 {1, 2, nan, 30},
                                                                 {1, 2, 30, inf},
                                                                 {0, 0, 0, 0}}) {
    EXPECT_TRUE(std::isnan(PoissonRatePValue(x, y, dx, dy))) << x << " " << y << " " << dx;
    EXPECT_FALSE(SignificantChange(x, y, dx, dy));
  }
}

TEST(PoissonRatePValue, ExposuresSoUnequalThatTheShareRounds) {
  // dx / (dx + dy) == 1: all events belong on x's side.
  EXPECT_EQ(PoissonRatePValue(5, 0, 1, 1e-300), 1);
  EXPECT_EQ(PoissonRatePValue(5, 1, 1, 1e-300), 0);
  EXPECT_EQ(PoissonRatePValue(0, 5, 1e-300, 1), 1);
}

TEST(PoissonRatePValue, HugeCountsFollowTheNormalApproximation) {
  const int64_t base = int64_t{1000000000000};  // 1e12 events on each side
  for (int64_t excess : {0, 1000, 1500000, 3000000}) {
    const double n = 2.0 * base + excess;
    const double z = excess / 2.0 / std::sqrt(n * 0.25);
    const double normal = std::erfc(z / std::sqrt(2.0));
    const double p = PoissonRatePValue(base + excess, base, 30, 30);
    EXPECT_GE(p, 0);
    EXPECT_LE(p, 1);
    EXPECT_NEAR(p, normal, 1e-3) << excess;
  }
  EXPECT_EQ(PoissonRatePValue(kMaxPoissonCount, kMaxPoissonCount, 1, 1), 1);
}

// R's algorithm verbatim, summing the probability function term by term in long double: slow
// (linear in n) and independent of the implementation's log-space bisection and Boost tails.
double BruteForcePValue(int64_t x, int64_t y, double dx, double dy) {
  const int64_t n = x + y;
  if (n == 0) return 1;
  const double p = dx / (dx + dy);
  const long double log_p = std::log(static_cast<long double>(p));
  const long double log_q = std::log1p(-static_cast<long double>(p));
  const long double log_n_factorial = std::lgamma(static_cast<long double>(n) + 1);
  const auto pmf = [&](int64_t k) {
    return std::exp(log_n_factorial - std::lgamma(static_cast<long double>(k) + 1) -
                    std::lgamma(static_cast<long double>(n - k) + 1) + k * log_p + (n - k) * log_q);
  };
  const double m = n * p;
  if (x == m) return 1;
  const long double cut = pmf(x) * (1 + 1e-7L);
  long double total = 0;
  for (int64_t k = 0; k <= n; ++k) {
    const bool same_side = x < m ? k <= x : k >= x;
    const bool other_side = x < m ? k >= std::ceil(m) : k <= std::floor(m);
    if (same_side || (other_side && pmf(k) <= cut)) total += pmf(k);
  }
  return std::min(1.0, static_cast<double>(total));
}

TEST(PoissonRatePValue, AgreesWithTermByTermSumming) {
  const double exposures[] = {1, 7, 28, 29, 30, 31, 90, 92, 365, 366};
  Rng rng(42);
  for (int sample = 0; sample < 3000; ++sample) {
    const int64_t n = rng.Int(0, sample < 2500 ? 60 : 3000);
    const double dx = exposures[rng.Int(0, 9)];
    const double dy = exposures[rng.Int(0, 9)];
    const double share = std::min(0.999, dx / (dx + dy) * rng.LogNormal(0.2));
    int64_t x = 0;
    for (int64_t trial = 0; trial < n; ++trial) x += rng.Chance(share);
    const double expected = BruteForcePValue(x, n - x, dx, dy);
    ASSERT_TRUE(Agrees(PoissonRatePValue(x, n - x, dx, dy), expected))
        << "x=" << x << " y=" << n - x << " dx=" << dx << " dy=" << dy;
  }
}

TEST(PoissonRatePValue, SwappingTheSidesGivesTheSameValue) {
  Rng rng(5);
  for (int sample = 0; sample < 2000; ++sample) {
    const int64_t x = rng.Int(0, 200000), y = rng.Int(0, 200000);
    const double dx = static_cast<double>(rng.Int(1, 366)),
                 dy = static_cast<double>(rng.Int(1, 366));
    ASSERT_TRUE(Agrees(PoissonRatePValue(x, y, dx, dy), PoissonRatePValue(y, x, dy, dx)))
        << x << " " << y << " " << dx << " " << dy;
  }
}

}  // namespace
}  // namespace pingan
