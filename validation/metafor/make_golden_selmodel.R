# Golden reference values from metafor for the step-function selection model (Vevea & Hedges 1995):
# selmodel(rma(yi, vi, method = "ML"), type = "stepfun", steps = ..., alternative = ...), one-sided
# (greater, less) and two-sided.
#
# Run from the repository root:  Rscript validation/metafor/make_golden_selmodel.R   (~5 s)
# Needs (Debian): r-base-core r-cran-metafor r-cran-metadat r-cran-jsonlite
# Writes tests/golden/metafor_selmodel.json (all numbers at full precision, write_json(digits = NA)).
#
# Every case is fitted twice:
#   "default": metafor's defaults (optim BFGS, reltol = sqrt(.Machine$double.eps) ~ 1.5e-8 on the
#              log-likelihood), i.e. what a user of metafor sees;
#   "tight":   the same call with control = list(reltol = 1e-15, maxit = 10000),
#              so that the ML optimum is found to the precision of the likelihood itself.
# The difference between the two measures how far metafor's printed estimates sit from the optimum
# (the reason the tests compare the defaults at rtol 1e-4 and the tight fit much more closely).
# SEs are metafor's: numDeriv::hessian (Richardson, r = 6) of -logLik on the scale (beta, tau2, delta).
suppressPackageStartupMessages({library(metafor); library(metadat); library(jsonlite)})

num <- function(x) if (is.null(x)) NA_real_ else as.numeric(x)
norm <- escalc("MD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i, data = dat.normand1999)
bcg <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
sets <- list(
  hackshaw1998 = list(es = dat.hackshaw1998, src = "dat.hackshaw1998 (log OR; yi, vi as supplied); metafor's selmodel example data"),
  bangertdrowns2004 = list(es = dat.bangertdrowns2004, src = "dat.bangertdrowns2004 (SMD; yi, vi as supplied)"),
  normand1999 = list(es = norm, src = "dat.normand1999, escalc('MD', ...) (k = 9, small-k case)"),
  bcg = list(es = bcg, src = "dat.bcg, escalc('RR', ai=tpos, bi=tneg, ci=cpos, di=cneg) (k = 13)"),
  lehmann2018 = list(es = dat.lehmann2018, src = "dat.lehmann2018 (SMD; yi, vi as supplied; k = 81): the data of RoBMA's robust Bayesian meta-analysis vignette"))
cases <- list(
  list(data = "hackshaw1998", steps = c(0.025), alternative = "greater", method = "ML"),
  list(data = "hackshaw1998", steps = c(0.025, 0.5), alternative = "greater", method = "ML"),
  list(data = "bangertdrowns2004", steps = c(0.025), alternative = "greater", method = "ML"),
  list(data = "bangertdrowns2004", steps = c(0.025, 0.5), alternative = "greater", method = "ML"),
  list(data = "normand1999", steps = c(0.025), alternative = "less", method = "ML"),
  list(data = "bcg", steps = c(0.025), alternative = "less", method = "ML"),
  list(data = "bcg", steps = c(0.025, 0.5), alternative = "less", method = "ML"),
  list(data = "bcg", steps = c(0.025), alternative = "less", method = "EE"),
  list(data = "lehmann2018", steps = c(0.025), alternative = "greater", method = "ML"),
  list(data = "hackshaw1998", steps = c(0.05), alternative = "two.sided", method = "ML"),
  list(data = "bangertdrowns2004", steps = c(0.05, 0.10), alternative = "two.sided", method = "ML"),
  list(data = "bcg", steps = c(0.05), alternative = "two.sided", method = "ML"))

fit <- function(es, cs, control) {
  r <- rma(yi, vi, data = es, method = cs$method)
  s <- if (is.null(control)) selmodel(r, type = "stepfun", steps = cs$steps, alternative = cs$alternative)
       else selmodel(r, type = "stepfun", steps = cs$steps, alternative = cs$alternative, control = control)
  list(beta = num(s$beta), se = num(s$se), zval = num(s$zval), pval = num(s$pval), ci_lb = num(s$ci.lb), ci_ub = num(s$ci.ub),
       tau2 = num(s$tau2), se_tau2 = num(s$se.tau2), delta = num(s$delta), se_delta = num(s$se.delta),
       LRT = num(s$LRT), LRTdf = num(s$LRTdf), LRTp = num(s$LRTp), ll = num(s$ll), ll0 = num(logLik(r, REML = FALSE)),
       ptable_k = as.numeric(s$ptable$k), steps = num(s$steps))
}
out <- list()
out$data <- lapply(sets, function(s) list(yi = as.numeric(s$es$yi), vi = as.numeric(s$es$vi), source = s$src))
out$cases <- lapply(cases, function(cs) {
  es <- sets[[cs$data]]$es
  list(data = cs$data, steps = cs$steps, alternative = cs$alternative, method = cs$method,
       call = sprintf("selmodel(rma(yi, vi, method='%s'), type='stepfun', steps=c(%s), alternative='%s')",
                      cs$method, paste(cs$steps, collapse = ", "), cs$alternative),
       default = fit(es, cs, NULL),
       tight = fit(es, cs, list(reltol = 1e-15, maxit = 10000)))
})
out$versions <- list(R = R.version.string, metafor = as.character(packageVersion("metafor")),
                     metadat = as.character(packageVersion("metadat")), jsonlite = as.character(packageVersion("jsonlite")))
write_json(out, "tests/golden/metafor_selmodel.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
cat("wrote tests/golden/metafor_selmodel.json\n")
