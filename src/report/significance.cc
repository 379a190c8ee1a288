#include "report/significance.h"

#include <algorithm>
#include <array>
#include <boost/math/policies/policy.hpp>
#include <boost/math/special_functions/beta.hpp>
#include <cmath>
#include <limits>

namespace pingan {
namespace {

namespace policies = boost::math::policies;

// Inputs are checked before Boost sees them, so no error policy can fire; should one anyway, it
// yields a NaN or an infinity rather than an exception. Doubles are not promoted to long double:
// against R's values (tests/report/significance_reference.csv) double evaluation agrees to
// 3e-11 relative at worst, long double to 3e-13, at 2.5 to 4.5 times the cost; a decision at
// alpha = 0.05 needs neither, and a league table may test thousands of cells.
using Policy = policies::policy<
    policies::domain_error<policies::ignore_error>, policies::pole_error<policies::ignore_error>,
    policies::overflow_error<policies::ignore_error>,
    policies::underflow_error<policies::ignore_error>,
    policies::denorm_error<policies::ignore_error>,
    policies::evaluation_error<policies::ignore_error>,
    policies::rounding_error<policies::ignore_error>,
    policies::indeterminate_result_error<policies::ignore_error>, policies::promote_double<false>>;

constexpr double kLogTwoPi = 1.8378770664093454836;  // log(2 pi)
// R's binom.test treats probabilities within this relative tolerance of the observed one as
// equal (relErr <- 1 + 1e-7), so that ties survive rounding.
constexpr double kLogRelErr = 1e-7 - 0.5e-14 + 1e-21 / 3;  // log1p(1e-7), by its series

// log(n!) - log(sqrt(2 pi n) (n/e)^n), the error of Stirling's formula, for an integer n >= 1.
double StirlingError(double n) {
  if (n <= 15) {
    static const std::array<double, 16> kSmall = [] {
      std::array<double, 16> values{};
      double log_factorial = 0;
      for (int k = 1; k < 16; ++k) {
        log_factorial += std::log(k);
        values[k] = log_factorial - (k + 0.5) * std::log(k) + k - 0.5 * kLogTwoPi;
      }
      return values;
    }();
    return kSmall[static_cast<size_t>(n)];
  }
  // The asymptotic series 1/(12n) - 1/(360n^3) + 1/(1260n^5) - ..., to as many terms as the
  // double needs at this n.
  constexpr double kS0 = 1.0 / 12, kS1 = 1.0 / 360, kS2 = 1.0 / 1260, kS3 = 1.0 / 1680,
                   kS4 = 1.0 / 1188;
  const double nn = n * n;
  if (n > 500) return (kS0 - kS1 / nn) / n;
  if (n > 80) return (kS0 - (kS1 - kS2 / nn) / nn) / n;
  if (n > 35) return (kS0 - (kS1 - (kS2 - kS3 / nn) / nn) / nn) / n;
  return (kS0 - (kS1 - (kS2 - (kS3 - kS4 / nn) / nn) / nn) / nn) / n;
}

// x log(x / mean) + mean - x, the deviance term, without the cancellation the plain formula
// suffers when x is close to mean (a series in v = (x - mean) / (x + mean)).
double Deviance(double x, double mean) {
  const double diff = x - mean;
  if (std::fabs(diff) < 0.1 * (x + mean)) {
    const double v = diff / (x + mean);
    const double v2 = v * v;
    double sum = diff * v;
    double term = 2 * x * v;
    for (int j = 1; j < 1000; ++j) {
      term *= v2;
      const double next = sum + term / (2 * j + 1);
      if (next == sum) return next;
      sum = next;
    }
    return sum;
  }
  return x * std::log(x / mean) + mean - x;
}

// The binomial distribution Binomial(n, p) with what the test needs of it.
class Binomial {
 public:
  Binomial(double n, double p) : n_(n), p_(p), q_(1 - p) {}

  // log P(X = k), by Loader's saddle-point form ("Fast and accurate computation of binomial
  // probabilities", 2000): accurate to a few ulps of the log at any n, and never underflows,
  // which comparing probabilities far in a tail of a large n needs.
  double LogPmf(double k) const {
    if (k == 0) return p_ < 0.1 ? -Deviance(n_, n_ * q_) - n_ * p_ : n_ * std::log(q_);
    if (k == n_) return q_ < 0.1 ? -Deviance(n_, n_ * p_) - n_ * q_ : n_ * std::log(p_);
    const double log_core = StirlingError(n_) - StirlingError(k) - StirlingError(n_ - k) -
                            Deviance(k, n_ * p_) - Deviance(n_ - k, n_ * q_);
    return log_core - 0.5 * (kLogTwoPi + std::log(k) + std::log1p(-k / n_));
  }

  // P(X <= k).
  double Lower(double k) const {
    if (k < 0) return 0;
    if (k >= n_) return 1;
    return boost::math::ibetac(k + 1, n_ - k, p_, Policy());
  }
  // P(X >= k).
  double Upper(double k) const {
    if (k <= 0) return 1;
    if (k > n_) return 0;
    return boost::math::ibeta(k, n_ - k + 1, p_, Policy());
  }

 private:
  double n_, p_, q_;
};

}  // namespace

double PoissonRatePValue(int64_t x, int64_t y, double dx, double dy) {
  if (x < 0 || y < 0 || x > kMaxPoissonCount || y > kMaxPoissonCount || !std::isfinite(dx) ||
      !std::isfinite(dy) || !(dx > 0) || !(dy > 0)) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  if (x + y == 0) return 1;
  const double n = static_cast<double>(x + y);
  const double observed = static_cast<double>(x);
  const double p = dx / (dx + dy);
  // Exposures a factor of ~1e16 apart round p to 0 or 1, where all the mass sits at one end.
  if (p == 0) return x == 0 ? 1 : 0;
  if (p == 1) return y == 0 ? 1 : 0;

  const Binomial binomial(n, p);
  const double mean = n * p;
  if (observed == mean) return 1;
  const double log_cut = binomial.LogPmf(observed) + kLogRelErr;
  double p_value;
  if (observed < mean) {
    // The other side: the outcomes in [ceil(mean), n] no more likely than the observed one.
    // The probability does not increase beyond the mean, so they are a suffix [first, n];
    // bisect for its first element (n + 1 when there is none).
    double low = std::ceil(mean), high = n + 1;
    while (low < high) {
      const double mid = std::floor(low + (high - low) / 2);
      if (binomial.LogPmf(mid) <= log_cut) {
        high = mid;
      } else {
        low = mid + 1;
      }
    }
    p_value = binomial.Lower(observed) + binomial.Upper(low);
  } else {
    // The outcomes in [0, floor(mean)] no more likely than the observed one: the probability
    // does not decrease up to the mean, so they are a prefix [0, end); bisect for its end.
    double low = 0, high = std::floor(mean) + 1;
    while (low < high) {
      const double mid = std::floor(low + (high - low) / 2);
      if (binomial.LogPmf(mid) > log_cut) {
        high = mid;
      } else {
        low = mid + 1;
      }
    }
    p_value = binomial.Lower(low - 1) + binomial.Upper(observed);
  }
  return std::min(1.0, p_value);
}

bool SignificantChange(int64_t x, int64_t y, double dx, double dy, double alpha) {
  return PoissonRatePValue(x, y, dx, dy) < alpha;
}

}  // namespace pingan
