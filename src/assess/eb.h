// Empirical Bayes smoothing of rates (Marshall 1991), global and local, as R's spdep computes
// them (EBest and EBlocal with their defaults), so that one event in a tiny grid does not turn
// it red.
//
// A unit i has a count c_i (events) and an exposure x_i (the population at risk, or any
// positive measure of it); its raw rate is p_i = c_i / x_i. The smoothed rate pulls p_i towards
// a prior mean, the more the less exposure the unit has and the less the rates vary beyond
// Poisson noise. The moment estimators, exactly as spdep 1.2-7 writes them:
//
// Global (spdep::EBest(n = c, x = x), family = "poisson"), over the M units:
//   b   = sum(c) / sum(x)                          the prior mean
//   s^2 = sum(x_i (p_i - b)^2) / sum(x)            the exposure-weighted variance of the rates
//   a   = s^2 - b / (sum(x) / M), 0 when negative  the prior variance
//   eb_i = b + a (p_i - b) / (a + b / x_i)
//
// Local (spdep::EBlocal(ri = c, ni = x, nb), geoda = FALSE): the neighbourhood of i is
// K_i = {i} + the neighbours of i (spdep adds the unit itself with include.self), k_i = |K_i|:
//   r_i  = sum over K_i of c_j,  e_i = sum over K_i of x_j
//   m_i  = r_i / e_i                               the local prior mean
//   xbar_i = e_i / k_i                             the mean exposure of the neighbourhood
//   C_i  = sum over j in K_i of x_j (p_j - m_j)^2  (m_j: each member's OWN local mean, as
//                                                   spdep's lag of x (p - m) does; GeoDa's
//                                                   variant, geoda = TRUE, uses m_i)
//   a_i  = C_i / e_i - m_i / xbar_i, 0 when negative
//   eb_i = m_i + (p_i - m_i) a_i / (a_i + m_i / x_i)
// A unit without neighbours is its own neighbourhood: m_i = p_i, a_i = 0, eb_i = p_i.
// Neighbour lists are directed as given (spdep does not require symmetry).
//
// Where this deliberately differs from R (R gives NaN or stops):
//   - a = 0 with a prior mean of 0 (every count of the neighbourhood, or of the map, is zero):
//     R computes 0/0 = NaN; here the weight a / (a + m / x) is taken as 0 whenever a = 0, so
//     eb_i is the prior mean, 0.
//   - a unit with exposure 0 and count 0 (a lake, an empty industrial grid) carries no data:
//     R stops; here its raw rate and estimates are NaN and it is left out of every sum and
//     every neighbourhood, exactly as if it and the references to it were deleted.
// Everywhere else (positive exposures, at least one event in each neighbourhood or a positive
// a_i) the results agree with R's to 1e-9 relative, and far better in practice (2.7e-16 at worst
// on the North Carolina SIDS data, tests/assess/eb_test.cc; docs/risk-map.md).
//
// Numerics: every sum, and every per-unit term, is formed in long double (64-bit significand),
// and results are rounded to double once at the end, so the only difference from R is R's own
// double rounding.
//
// Example:
//   std::vector<double> counts = {1, 40, 55}, exposures = {100, 20000, 30000};
//   PA_ASSIGN_OR_RETURN(GlobalEb global, EbGlobal(counts, exposures));
//   // global.estimate[0] lies between 1/100 and the city's rate global.prior_mean.
//   PA_ASSIGN_OR_RETURN(LocalEb local,
//                       EbLocal(counts, exposures, Neighbours::FromLists({{1}, {0, 2}, {1}})));
//
// Pure functions, thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace pingan {

// The largest count or exposure accepted (squares of rates stay far from overflow).
inline constexpr double kMaxEbValue = 1e15;
// The smallest positive exposure accepted (R's EBest refuses x < .Machine$double.eps).
inline constexpr double kMinEbExposure = std::numeric_limits<double>::epsilon();
// The most units (neighbour indexes are 32-bit).
inline constexpr size_t kMaxEbUnits = uint32_t{0xFFFFFFFF};

// Neighbour lists in compressed rows: unit u's neighbours are the indexes of OTHER units,
// indexes[offsets[u] .. offsets[u + 1]).
class Neighbours {
 public:
  Neighbours() = default;
  static Neighbours FromLists(const std::vector<std::vector<uint32_t>>& lists);

  // Appends the list of the next unit.
  void Add(std::span<const uint32_t> list);
  size_t units() const { return offsets_.size() - 1; }
  size_t total() const { return indexes_.size(); }
  std::span<const uint32_t> of(size_t unit) const {
    return {indexes_.data() + offsets_[unit], indexes_.data() + offsets_[unit + 1]};
  }

  // InvalidArgument unless there are `units` lists and every index names another unit below
  // `units`, at most once per list.
  absl::Status Check(size_t units) const;

 private:
  std::vector<size_t> offsets_{0};
  std::vector<uint32_t> indexes_;
};

// InvalidArgument (with a message naming the value) unless the count is finite, >= 0 and
// <= kMaxEbValue.
absl::Status CheckCount(double count);
// InvalidArgument unless the exposure is 0 or finite in [kMinEbExposure, kMaxEbValue].
absl::Status CheckExposure(double exposure);
// Both, and not a positive count over exposure 0.
absl::Status CheckUnit(double count, double exposure);

// count / exposure; NaN for a unit without data (exposure 0).
std::vector<double> RawRates(std::span<const double> counts, std::span<const double> exposures);

struct GlobalEb {
  double prior_mean = 0;         // b
  double prior_variance = 0;     // a, after clamping at 0
  std::vector<double> estimate;  // per unit; NaN for units without data
};

struct LocalEb {
  std::vector<double> prior_mean;      // m_i; NaN for units without data
  std::vector<double> prior_variance;  // a_i, after clamping at 0; NaN for units without data
  std::vector<double> estimate;        // NaN for units without data
};

// Global empirical Bayes rates. InvalidArgument when the sizes differ, a unit fails CheckUnit
// (the message names its index), there are more than kMaxEbUnits, or no unit has exposure.
absl::StatusOr<GlobalEb> EbGlobal(std::span<const double> counts,
                                  std::span<const double> exposures);

// Local empirical Bayes rates over each unit and its neighbours. InvalidArgument as EbGlobal,
// and when `neighbours` has another number of units or fails Neighbours::Check.
absl::StatusOr<LocalEb> EbLocal(std::span<const double> counts, std::span<const double> exposures,
                                const Neighbours& neighbours);

// Both estimates of several measures over the same units, exposures and neighbours at once —
// what the risk map needs for its key types — in one pass over the neighbour lists for them all.
// `counts` holds one row of `measures` values per unit (row-major: unit u's value of measure m is
// counts[u * measures + m]). The results are EbGlobal's and EbLocal's for each measure, summed in
// double rather than long double (three times faster here): they agree to about 1e-15 relative,
// far inside the 1e-9 the R comparison asks for.
// InvalidArgument as EbLocal (the message names the unit and, with several, the measure), and
// when `measures` is 0 or counts is not units × measures long.
struct EbRows {
  size_t measures = 0;
  std::vector<double> global;  // units × measures, as `counts`: EbGlobal's estimates
  std::vector<double> local;   // units × measures: EbLocal's estimates
};
absl::StatusOr<EbRows> EbBoth(std::span<const double> counts, size_t measures,
                              std::span<const double> exposures, const Neighbours& neighbours);

}  // namespace pingan
