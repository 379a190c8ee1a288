# Reference p-values for src/report/significance.h from R's own binom.test: the exact
# conditional test of two Poisson counts x (exposure dx days) and y (exposure dy days), i.e.
# X | X+Y ~ Binomial(X+Y, dx/(dx+dy)), two-sided. Regenerate with
#
#   Rscript tests/report/significance_reference.R > tests/report/significance_reference.csv
#
# (R 4.2.2 made the committed file; R is a tool for this script only, not a build dependency.)
# Output: CSV with a header, columns x, y, dx, dy, p; numbers with 17 significant digits.

poisson_rate_p <- function(x, y, dx, dy) {
  if (x + y == 0) return(1)  # no events on either side: nothing to test
  binom.test(x, x + y, p = dx / (dx + dy))$p.value
}

cases <- list()
add <- function(x, y, dx, dy) cases[[length(cases) + 1L]] <<- c(x, y, dx, dy)

# Small counts, equal exposures and a 28- against a 31-day month.
for (exposure in list(c(30, 30), c(28, 31))) {
  for (x in 0:10) for (y in 0:10) add(x, y, exposure[1], exposure[2])
}

# The report's examples: 2 -> 4 and 200 -> 400 over a month.
add(4, 2, 30, 30); add(2, 4, 30, 30); add(4, 2, 31, 30); add(2, 4, 31, 30)
add(400, 200, 30, 30); add(200, 400, 30, 30); add(400, 200, 31, 30); add(200, 400, 31, 30)

# Zeros on one side.
for (n in c(1, 2, 5, 20, 100, 1000, 100000, 500000)) {
  add(0, n, 30, 30); add(n, 0, 30, 30); add(0, n, 365, 366); add(n, 0, 28, 31)
}

# Equal rates.
add(100, 100, 30, 30); add(1000, 1000, 30, 30); add(500000, 500000, 365, 365)
add(28, 31, 28, 31); add(280, 310, 28, 31); add(365, 366, 365, 366); add(31000, 28000, 31, 28)

# x equal to its expectation m = n * p exactly (p a binary fraction).
add(5, 15, 1, 3); add(1, 3, 1, 3); add(3, 1, 3, 1); add(100000, 300000, 90, 270)
add(250000, 250000, 7, 7); add(7, 7, 1, 1); add(12, 4, 3, 1)

# Very unequal exposures.
add(10, 3, 1, 365); add(3, 300, 1, 365); add(0, 365, 1, 365); add(1, 365, 1, 365)
add(2, 365, 1, 365); add(50, 40, 7, 365); add(1, 0, 1, 3650); add(0, 1, 3650, 1)
add(5, 100, 7, 366); add(100, 120, 28, 31); add(12, 10, 30.5, 31.25)

# Large counts, near and far from equal rates.
add(10000, 10300, 30, 31); add(10000, 10500, 30, 30); add(100000, 101000, 365, 365)
add(100000, 101500, 365, 365); add(500000, 501500, 365, 366); add(499000, 500000, 365, 365)
add(500000, 498000, 366, 365); add(123456, 130000, 181, 184); add(300000, 310000, 90, 92)
add(1000, 1090, 30, 30); add(1000, 1100, 30, 30); add(500000, 400000, 365, 365)
add(500000, 5000, 365, 365); add(45, 500000, 7, 365)

# Random cases: totals log-uniform up to a million, exposures of real periods, rates near equal
# (so that both significant and not occur).
set.seed(20240615)
exposures <- c(1, 7, 28, 29, 30, 31, 90, 91, 92, 181, 182, 365, 366)
for (draw in 1:150) {
  total <- round(10^runif(1, 0, 6))
  dx <- sample(exposures, 1); dy <- sample(exposures, 1)
  share <- min(0.999, dx / (dx + dy) * exp(rnorm(1, 0, 0.05)))
  x <- rbinom(1, total, share)
  add(x, total - x, dx, dy)
}

cat("x,y,dx,dy,p\n")
for (case in cases) {
  p <- poisson_rate_p(case[1], case[2], case[3], case[4])
  cat(sprintf("%.0f,%.0f,%.17g,%.17g,%.17g\n", case[1], case[2], case[3], case[4], p))
}
