# Reference empirical Bayes rates for src/assess/eb.h from R's spdep, on the North Carolina SIDS
# data of spData: SID74 (sudden infant deaths, 1974-78) over BIR74 (births) of the 100
# counties, with the neighbour lists ncCR85.nb, smoothed by spdep's defaults:
#
#   EBest(SID74, BIR74)               family = "poisson"   -> eb_global (its estmm)
#   EBlocal(SID74, BIR74, ncCR85.nb)  geoda = FALSE        -> eb_local (its est)
#
# Regenerate (Debian: apt-get install r-cran-spdep r-cran-spdata) with
#
#   Rscript tests/assess/eb_reference.R [FILE]
#
# FILE defaults to nc_sids_eb.csv beside this script. R 4.2.2 with spdep 1.2-7 and spData 2.2.1
# made the committed file; R is a tool for this script and the test labelled `r`, not a build
# dependency. Output: CSV with the header id,SID74,BIR74,neighbours,raw,eb_global,eb_local: the
# county's name, its neighbours' names separated by ';', and numbers with 17 significant digits.

suppressPackageStartupMessages({
  library(spdep)
})
data(nc.sids, package = "spData")  # also loads ncCR85.nb

args <- commandArgs(trailingOnly = TRUE)
if (length(args) >= 1) {
  out_file <- args[1]
} else {
  script <- sub("^--file=", "", grep("^--file=", commandArgs(trailingOnly = FALSE), value = TRUE))
  out_file <- file.path(dirname(script), "nc_sids_eb.csv")
}

nb <- ncCR85.nb
stopifnot(length(nb) == nrow(nc.sids), all(attr(nb, "region.id") == nc.sids$CNTY.ID))
ids <- row.names(nc.sids)
stopifnot(!anyDuplicated(ids), !any(grepl("[;,\"]", ids)))

global <- EBest(nc.sids$SID74, nc.sids$BIR74)
local <- EBlocal(nc.sids$SID74, nc.sids$BIR74, nb)
stopifnot(isTRUE(all.equal(global$raw, local$raw)))

neighbours <- vapply(seq_along(nb), function(i) {
  j <- nb[[i]]
  j <- j[j > 0]  # spdep writes 0L for a unit without neighbours
  paste(ids[j], collapse = ";")
}, character(1))

number <- function(x) sprintf("%.17g", x)
lines <- c("id,SID74,BIR74,neighbours,raw,eb_global,eb_local",
           paste(ids, number(nc.sids$SID74), number(nc.sids$BIR74), neighbours,
                 number(global$raw), number(global$estmm), number(local$est), sep = ","))
writeLines(lines, out_file)
