#include "assess/eb.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "core/status.h"
#include "core/strings.h"

namespace pingan {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The shrunken rate: mean + (rate - mean) a / (a + mean / exposure), with the weight 0 when
// a == 0 (R: 0/0 = NaN when the mean is 0 too; the estimate is then the mean either way).
long double Shrink(long double rate, long double mean, long double variance, double exposure) {
  if (variance == 0) return mean;
  return mean + (rate - mean) * variance / (variance + mean / exposure);
}

// Sizes and every unit's values; the number of units with data (exposure > 0).
absl::StatusOr<size_t> CheckInputs(std::span<const double> counts,
                                   std::span<const double> exposures) {
  if (counts.size() != exposures.size()) {
    return absl::InvalidArgumentError(
        Cat(counts.size(), " counts but ", exposures.size(), " exposures"));
  }
  if (counts.size() > kMaxEbUnits) {
    return absl::InvalidArgumentError(
        Cat(counts.size(), " units, over the limit of ", kMaxEbUnits));
  }
  size_t with_data = 0;
  for (size_t unit = 0; unit < counts.size(); ++unit) {
    const absl::Status status = CheckUnit(counts[unit], exposures[unit]);
    if (!status.ok()) return absl::InvalidArgumentError(Cat("unit ", unit, ": ", status.message()));
    with_data += exposures[unit] > 0;
  }
  if (with_data == 0) return absl::InvalidArgumentError("no unit has a positive exposure");
  return with_data;
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
  PA_ASSIGN_OR_RETURN(const size_t with_data, CheckInputs(counts, exposures));
  const size_t units = counts.size();
  long double count_sum = 0, exposure_sum = 0;
  for (size_t unit = 0; unit < units; ++unit) {
    count_sum += counts[unit];
    exposure_sum += exposures[unit];
  }
  const long double mean = count_sum / exposure_sum;
  long double spread = 0;  // sum(x (p - b)^2)
  for (size_t unit = 0; unit < units; ++unit) {
    if (exposures[unit] == 0) continue;
    const long double deviation = static_cast<long double>(counts[unit]) / exposures[unit] - mean;
    spread += exposures[unit] * deviation * deviation;
  }
  long double variance = spread / exposure_sum - mean / (exposure_sum / with_data);
  if (variance < 0) variance = 0;

  GlobalEb result;
  result.prior_mean = static_cast<double>(mean);
  result.prior_variance = static_cast<double>(variance);
  result.estimate.resize(units);
  for (size_t unit = 0; unit < units; ++unit) {
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
  PA_RETURN_IF_ERROR(CheckInputs(counts, exposures).status());
  PA_RETURN_IF_ERROR(neighbours.Check(counts.size()));
  const size_t units = counts.size();

  // Pass 1: each neighbourhood's mean m_i, and each unit's own term x_i (p_i - m_i)^2.
  std::vector<long double> mean(units, 0), term(units, 0);
  for (size_t unit = 0; unit < units; ++unit) {
    if (exposures[unit] == 0) continue;
    long double count_sum = counts[unit], exposure_sum = exposures[unit];
    for (const uint32_t other : neighbours.of(unit)) {
      count_sum += counts[other];
      exposure_sum += exposures[other];
    }
    mean[unit] = count_sum / exposure_sum;
    const long double deviation =
        static_cast<long double>(counts[unit]) / exposures[unit] - mean[unit];
    term[unit] = exposures[unit] * deviation * deviation;
  }

  // Pass 2: C_i, a_i and the estimate.
  LocalEb result;
  result.prior_mean.assign(units, kNaN);
  result.prior_variance.assign(units, kNaN);
  result.estimate.assign(units, kNaN);
  for (size_t unit = 0; unit < units; ++unit) {
    const double exposure = exposures[unit];
    if (exposure == 0) continue;
    long double spread = term[unit], exposure_sum = exposure;
    size_t members = 1;
    for (const uint32_t other : neighbours.of(unit)) {
      if (exposures[other] == 0) continue;  // no data: not a member
      spread += term[other];
      exposure_sum += exposures[other];
      ++members;
    }
    const long double mean_exposure = exposure_sum / members;
    long double variance = spread / exposure_sum - mean[unit] / mean_exposure;
    if (variance < 0) variance = 0;
    result.prior_mean[unit] = static_cast<double>(mean[unit]);
    result.prior_variance[unit] = static_cast<double>(variance);
    result.estimate[unit] = static_cast<double>(
        Shrink(static_cast<long double>(counts[unit]) / exposure, mean[unit], variance, exposure));
  }
  return result;
}

}  // namespace pingan
