// Whether a count changed beyond chance: the exact conditional test for two Poisson counts.
//
// The report compares counts (events, deaths, injuries) of a period with those of a base period
// (year on year, period on period). With X ~ Poisson(rate * dx) and Y ~ Poisson(rate' * dy) for
// exposures dx and dy in days, under equal rates X | X+Y ~ Binomial(X+Y, dx/(dx+dy)); the
// two-sided p-value is computed exactly as R's binom.test does (the probability of every outcome
// no more likely than the observed one, with R's relative tolerance 1 + 1e-7), so the figures
// agree with what an analyst gets in R, binom.test(x, x + y, dx / (dx + dy))$p.value: to 3e-11
// relative at worst over tests/report/significance_reference.csv.
//
// The cost grows only with the logarithm of the counts (a city-year reaches hundreds of
// thousands): the tails come from the regularised incomplete beta function (Boost.Math), and the
// cut on the opposite side from a bisection over the unimodal probability function evaluated in
// log space, so a call makes two incomplete-beta evaluations and about log2(x + y)
// log-probabilities (release build: ~0.3 us at x + y = 10, ~2.6 us at 10^4, ~4.7 us at 10^6;
// bench/significance_benchmark).
//
// Example:
//   // 2 events in May (31 days) against 4 in June (30 days): not significant.
//   bool changed = SignificantChange(/*x=*/4, /*y=*/2, /*dx=*/30, /*dy=*/31);  // false
//
// Pure functions, thread-safe.
#pragma once

#include <cstdint>

namespace pingan {

// Largest count accepted by PoissonRatePValue (so that x + y stays exact in a double).
inline constexpr int64_t kMaxPoissonCount = int64_t{1} << 51;

// Two-sided p-value of the exact conditional test comparing Poisson counts x (exposure dx days)
// and y (exposure dy days): X | X+Y ~ Binomial(X+Y, dx/(dx+dy)), as R's binom.test computes it.
// 1 when x + y == 0. NaN when a count is negative or above kMaxPoissonCount, or an exposure is
// not a finite positive number.
double PoissonRatePValue(int64_t x, int64_t y, double dx, double dy);

// True when PoissonRatePValue(x, y, dx, dy) < alpha (false for a NaN p-value).
bool SignificantChange(int64_t x, int64_t y, double dx, double dy, double alpha = 0.05);

}  // namespace pingan
