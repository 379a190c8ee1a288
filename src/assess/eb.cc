#include "assess/eb.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <utility>

#include "core/status.h"
#include "core/strings.h"

namespace pingan {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The shrunken rate: mean + (rate - mean) a / (a + mean / exposure), with the weight 0 when
// a == 0 (R: 0/0 = NaN when the mean is 0 too; the estimate is then the mean either way).
template <typename Real>
Real Shrink(Real rate, Real mean, Real variance, double exposure) {
  if (variance == 0) return mean;
  return mean + (rate - mean) * variance / (variance + mean / exposure);
}

// CheckUnit's conditions without building a status (the common case: every value is fine).
bool UnitOk(double count, double exposure) {
  return count >= 0 && count <= kMaxEbValue && exposure >= 0 && exposure <= kMaxEbValue &&
         (exposure == 0 ? count == 0 : exposure >= kMinEbExposure);
}

// Sizes and every unit's values for `measures` measures per unit; the number of units with data
// (exposure > 0).
absl::StatusOr<size_t> CheckInputs(std::span<const double> counts, size_t measures,
                                   std::span<const double> exposures) {
  if (measures == 0) return absl::InvalidArgumentError("no measures");
  if (counts.size() != exposures.size() * measures) {
    return absl::InvalidArgumentError(
        measures == 1 ? Cat(counts.size(), " counts but ", exposures.size(), " exposures")
                      : Cat(counts.size(), " counts but ", exposures.size(), " exposures of ",
                            measures, " measures"));
  }
  if (exposures.size() > kMaxEbUnits) {
    return absl::InvalidArgumentError(
        Cat(exposures.size(), " units, over the limit of ", kMaxEbUnits));
  }
  size_t with_data = 0;
  for (size_t unit = 0; unit < exposures.size(); ++unit) {
    for (size_t m = 0; m < measures; ++m) {
      const double count = counts[unit * measures + m];
      if (UnitOk(count, exposures[unit])) continue;
      const absl::Status status = CheckUnit(count, exposures[unit]);
      return absl::InvalidArgumentError(measures == 1 ? Cat("unit ", unit, ": ", status.message())
                                                      : Cat("unit ", unit, ", measure ", m, ": ",
                                                            status.message()));
    }
    with_data += exposures[unit] > 0;
  }
  if (with_data == 0) return absl::InvalidArgumentError("no unit has a positive exposure");
  return with_data;
}

// The global prior of measure m (of `measures` per row): mean b and variance a.
template <typename Real>
std::pair<Real, Real> GlobalPrior(std::span<const double> counts, size_t measures,
                                                size_t m, std::span<const double> exposures,
                                                size_t with_data) {
  const size_t units = exposures.size();
  Real count_sum = 0, exposure_sum = 0;
  for (size_t unit = 0; unit < units; ++unit) {
    count_sum += counts[unit * measures + m];
    exposure_sum += exposures[unit];
  }
  const Real mean = count_sum / exposure_sum;
  Real spread = 0;  // sum(x (p - b)^2)
  for (size_t unit = 0; unit < units; ++unit) {
    if (exposures[unit] == 0) continue;
    const Real deviation =
        static_cast<Real>(counts[unit * measures + m]) / exposures[unit] - mean;
    spread += exposures[unit] * deviation * deviation;
  }
  Real variance = spread / exposure_sum - mean / (exposure_sum / with_data);
  if (variance < 0) variance = 0;
  return {mean, variance};
}

// The local estimates of every measure (rows of `measures`, as `counts`) into `estimate`, with
// the priors into `prior_mean` and `prior_variance` when given; NaN for units without data.
// Inputs checked.
template <typename Real>
void LocalRows(std::span<const double> counts, size_t measures, std::span<const double> exposures,
               const Neighbours& neighbours, std::vector<double>& estimate,
               std::vector<double>* prior_mean, std::vector<double>* prior_variance) {
  const size_t units = exposures.size();
  // Pass 1: each neighbourhood's mean m_i, and each unit's own term x_i (p_i - m_i)^2. A unit's
  // sums of every measure are one row, and each neighbour's row is added to it whole: the rows
  // are contiguous (one cache line or two), where a pass per measure reads each neighbour's row
  // once per measure. Each measure's sum still adds the unit first, then its neighbours in order.
  std::vector<Real> mean(units * measures, 0), term(units * measures, 0);
  std::vector<Real> sums(measures);
  for (size_t unit = 0; unit < units; ++unit) {
    if (exposures[unit] == 0) continue;
    const std::span<const uint32_t> around = neighbours.of(unit);
    Real exposure_sum = exposures[unit];
    for (const uint32_t other : around) exposure_sum += exposures[other];
    // Per unit, the reciprocals of its exposure and of its neighbourhood's (a division per unit,
    // not per unit and measure).
    const Real per_exposure = Real{1} / exposures[unit], per_sum = Real{1} / exposure_sum;
    const double* own = &counts[unit * measures];
    for (size_t m = 0; m < measures; ++m) sums[m] = own[m];
    for (const uint32_t other : around) {
      const double* row = &counts[other * measures];
      for (size_t m = 0; m < measures; ++m) sums[m] += row[m];
    }
    for (size_t m = 0; m < measures; ++m) {
      const size_t at = unit * measures + m;
      const Real local_mean = sums[m] * per_sum;
      const Real deviation = own[m] * per_exposure - local_mean;
      mean[at] = local_mean;
      term[at] = exposures[unit] * deviation * deviation;
    }
  }
  // Pass 2: C_i, a_i and the estimate.
  estimate.assign(units * measures, kNaN);
  if (prior_mean) prior_mean->assign(units * measures, kNaN);
  if (prior_variance) prior_variance->assign(units * measures, kNaN);
  std::vector<uint32_t> members_of;  // the neighbours with data
  for (size_t unit = 0; unit < units; ++unit) {
    const double exposure = exposures[unit];
    if (exposure == 0) continue;
    Real exposure_sum = exposure;
    members_of.clear();
    for (const uint32_t other : neighbours.of(unit)) {
      if (exposures[other] == 0) continue;  // no data: not a member
      exposure_sum += exposures[other];
      members_of.push_back(other);
    }
    const Real per_sum = Real{1} / exposure_sum, per_exposure = Real{1} / exposure;
    const Real per_mean_exposure = (members_of.size() + 1) * per_sum;  // 1 / (e_i / k_i)
    const Real* own = &term[unit * measures];
    for (size_t m = 0; m < measures; ++m) sums[m] = own[m];
    for (const uint32_t other : members_of) {
      const Real* row = &term[other * measures];
      for (size_t m = 0; m < measures; ++m) sums[m] += row[m];
    }
    for (size_t m = 0; m < measures; ++m) {
      const size_t at = unit * measures + m;
      Real variance = sums[m] * per_sum - mean[at] * per_mean_exposure;
      if (variance < 0) variance = 0;
      if (prior_mean) (*prior_mean)[at] = static_cast<double>(mean[at]);
      if (prior_variance) (*prior_variance)[at] = static_cast<double>(variance);
      // Shrink, with the unit's reciprocal exposure.
      const Real rate = counts[at] * per_exposure;
      estimate[at] = static_cast<double>(
          variance == 0 ? mean[at] : mean[at] + (rate - mean[at]) * variance / (variance + mean[at] * per_exposure));
    }
  }
}

}  // namespace

Neighbours Neighbours::FromLists(const std::vector<std::vector<uint32_t>>& lists) {
  Neighbours neighbours;
  for (const std::vector<uint32_t>& list : lists) neighbours.Add(list);
  return neighbours;
}

void Neighbours::Add(std::span<const uint32_t> list) {
  indexes_.insert(indexes_.end(), list.begin(), list.end());
  offsets_.push_back(indexes_.size());
}

absl::Status Neighbours::Check(size_t units) const {
  if (this->units() != units) {
    return absl::InvalidArgumentError(
        Cat("neighbour lists for ", this->units(), " units, but there are ", units));
  }
  // last_listed[j] == u + 1 once u's list has named j.
  std::vector<uint32_t> last_listed(units, 0);
  for (size_t unit = 0; unit < units; ++unit) {
    for (const uint32_t neighbour : of(unit)) {
      if (neighbour >= units) {
        return absl::InvalidArgumentError(
            Cat("unit ", unit, ": neighbour ", neighbour, " is out of range (", units, " units)"));
      }
      if (neighbour == unit) {
        return absl::InvalidArgumentError(Cat("unit ", unit, ": lists itself as a neighbour"));
      }
      if (last_listed[neighbour] == unit + 1) {
        return absl::InvalidArgumentError(
            Cat("unit ", unit, ": neighbour ", neighbour, " is listed twice"));
      }
      last_listed[neighbour] = static_cast<uint32_t>(unit + 1);
    }
  }
  return absl::OkStatus();
}

absl::Status CheckCount(double count) {
  if (!std::isfinite(count))
    return absl::InvalidArgumentError(Cat(count, " is not a finite number"));
  if (count < 0) return absl::InvalidArgumentError(Cat(count, " is negative"));
  if (count > kMaxEbValue) {
    return absl::InvalidArgumentError(
        Cat(count, " is over the limit of ", fmt::format("{:g}", kMaxEbValue)));
  }
  return absl::OkStatus();
}

absl::Status CheckExposure(double exposure) {
  PA_RETURN_IF_ERROR(CheckCount(exposure));
  if (exposure > 0 && exposure < kMinEbExposure) {
    return absl::InvalidArgumentError(Cat(exposure, " is positive but below ", kMinEbExposure));
  }
  return absl::OkStatus();
}

absl::Status CheckUnit(double count, double exposure) {
  absl::Status status = CheckCount(count);
  if (!status.ok()) return absl::InvalidArgumentError(Cat("count ", status.message()));
  status = CheckExposure(exposure);
  if (!status.ok()) return absl::InvalidArgumentError(Cat("exposure ", status.message()));
  if (exposure == 0 && count > 0) {
    return absl::InvalidArgumentError(Cat("count ", count, " with exposure 0"));
  }
  return absl::OkStatus();
}

std::vector<double> RawRates(std::span<const double> counts, std::span<const double> exposures) {
  std::vector<double> rates(counts.size());
  for (size_t unit = 0; unit < counts.size(); ++unit) {
    rates[unit] = exposures[unit] > 0 ? counts[unit] / exposures[unit] : kNaN;
  }
  return rates;
}

absl::StatusOr<GlobalEb> EbGlobal(std::span<const double> counts,
                                  std::span<const double> exposures) {
  PA_ASSIGN_OR_RETURN(const size_t with_data, CheckInputs(counts, 1, exposures));
  const auto [mean, variance] = GlobalPrior<long double>(counts, 1, 0, exposures, with_data);
  GlobalEb result;
  result.prior_mean = static_cast<double>(mean);
  result.prior_variance = static_cast<double>(variance);
  result.estimate.resize(counts.size());
  for (size_t unit = 0; unit < counts.size(); ++unit) {
    const double exposure = exposures[unit];
    result.estimate[unit] =
        exposure == 0
            ? kNaN
            : static_cast<double>(Shrink(static_cast<long double>(counts[unit]) / exposure, mean,
                                         variance, exposure));
  }
  return result;
}

absl::StatusOr<LocalEb> EbLocal(std::span<const double> counts, std::span<const double> exposures,
                                const Neighbours& neighbours) {
  PA_RETURN_IF_ERROR(CheckInputs(counts, 1, exposures).status());
  PA_RETURN_IF_ERROR(neighbours.Check(counts.size()));
  LocalEb result;
  LocalRows<long double>(counts, 1, exposures, neighbours, result.estimate, &result.prior_mean,
            &result.prior_variance);
  return result;
}

absl::StatusOr<EbRows> EbBoth(std::span<const double> counts, size_t measures,
                              std::span<const double> exposures, const Neighbours& neighbours) {
  PA_ASSIGN_OR_RETURN(const size_t with_data, CheckInputs(counts, measures, exposures));
  PA_RETURN_IF_ERROR(neighbours.Check(exposures.size()));
  EbRows rows;
  rows.measures = measures;
  rows.global.assign(counts.size(), kNaN);
  for (size_t m = 0; m < measures; ++m) {
    const auto [mean, variance] = GlobalPrior<double>(counts, measures, m, exposures, with_data);
    for (size_t unit = 0; unit < exposures.size(); ++unit) {
      const double exposure = exposures[unit];
      if (exposure == 0) continue;
      const size_t at = unit * measures + m;
      rows.global[at] = Shrink(counts[at] / exposure, mean, variance, exposure);
    }
  }
  LocalRows<double>(counts, measures, exposures, neighbours, rows.local, nullptr, nullptr);
  return rows;
}

}  // namespace pingan
