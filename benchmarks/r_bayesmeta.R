# Timings of R bayesmeta (Roever 2020) for benchmarks/run_benchmarks.py: the same fits, same priors.
#
# run_benchmarks.py uses R bayesmeta from the system library when it loads there (R bayesmeta 3.4
# is installed system-wide on the development machine). Otherwise: bayesmeta is not on Debian and CRAN
# may not be reachable; install version 3.4
# from the CRAN GitHub mirror (github.com/cran/bayesmeta, with its dependency forestplot from
# github.com/cran/forestplot; metafor, mvtnorm, numDeriv, checkmate and abind come from Debian)
# into .cache/Rlib with `R CMD INSTALL -l .cache/Rlib <source>`, then runs
#   R_LIBS=.cache/Rlib Rscript benchmarks/r_bayesmeta.R <cases.json> <out.json>
# Each case: yi, sei, repeat. Priors: tau ~ half-normal(0.5), mu ~ N(0, 1). A fit is a call of
# bayesmeta() (which computes the posterior summary with 95% shortest intervals) plus the
# quantiles of tau, mu and theta_new (qposterior / qposterior(predict = TRUE)).
suppressPackageStartupMessages({
  library(bayesmeta)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
cases <- fromJSON(args[1], simplifyVector = FALSE)
out <- list(version = as.character(packageVersion("bayesmeta")), R = R.version.string, cases = list())
for (name in names(cases)) {
  cs <- cases[[name]]
  y <- unlist(cs$yi)
  s <- unlist(cs$sei)
  fit <- function() {
    b <- bayesmeta(y = y, sigma = s, mu.prior.mean = 0, mu.prior.sd = 1,
                   tau.prior = function(t) dhalfnormal(t, scale = 0.5))
    q <- c(0.025, 0.5, 0.975)
    list(b = b, tau = b$qposterior(tau.p = q), mu = b$qposterior(mu.p = q),
         new = b$qposterior(mu.p = q, predict = TRUE))
  }
  r <- fit()  # warm-up
  n <- cs$`repeat`
  st <- system.time(for (i in seq_len(n)) fit())
  out$cases[[name]] <- list(seconds = st[["elapsed"]] / n, cpu_seconds = (st[["user.self"]] + st[["sys.self"]]) / n,
                            k = length(y), n = n,
                            tau_median = r$tau[2], mu_median = r$mu[2], mu_lo = r$mu[1], mu_hi = r$mu[3],
                            mu_hdi = unname(r$b$summary[c("95% lower", "95% upper"), "mu"]))
}
write_json(out, args[2], auto_unbox = TRUE, digits = NA)
