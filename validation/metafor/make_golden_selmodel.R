# Golden reference values from metafor for the step-function selection model (Vevea & Hedges 1995):
# selmodel(rma(yi, vi, method = "ML"), type = "stepfun", steps = ..., alternative = ...), one-sided
# (greater, less) and two-sided; and ("families") for the continuous selection functions
# selmodel(rma(yi, vi, method = "ML"), type = "beta" | "halfnorm" | "negexp" | "logistic" | "power" |
# "negexppow") on dat.hackshaw1998 and dat.bangertdrowns2004 (metafor's defaults: alternative
# "greater", no steps, no prec).
#
# Run from the repository root:  Rscript validation/metafor/make_golden_selmodel.R   (~10 min: metafor
# integrates every study's normalising constant with integrate() at every likelihood evaluation)
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
# --- continuous selection functions -------------------------------------------------------------
# "default": metafor's defaults (optim BFGS on (beta, log tau2, logit delta), reltol ~1.5e-8;
#            integrate() rel.tol = .Machine$double.eps^0.25 ~ 1.2e-4 per study);
# "tight":   control = list(reltol = 1e-12, maxit = 10000): BFGS run to its limit on metafor's likelihood
#            (a tighter integrate() rel.tol inside selmodel() fails: "Could not integrate over density").
# "ll_precise": metafor's own log-likelihood function evaluated at the default estimates with
#            integrate() rel.tol 1e-10, i.e. how far metafor's reported ll is from the exact integral;
# "se_precise": SEs of (beta, tau2, delta) by numDeriv::hessian (r = 6) as metafor, at metafor's
#            estimates, of that precisely integrated likelihood.
llfun <- function(s, es, rel.tol) {
  k <- length(es$yi)
  function(par) metafor:::.selmodel.ll.cont(par, yi = as.numeric(es$yi), vi = as.numeric(es$vi),
    X = cbind(rep(1, k)), preci = rep(1, k), k = k, pX = 1, pvals = s$pvals, deltas = s$deltas,
    delta.val = rep(NA, s$deltas), delta.transf = FALSE, mapfun = rep(NA, s$deltas), delta.min = s$delta.min,
    delta.max = s$delta.max, tau2.val = NA, tau2.transf = FALSE, tau2.max = Inf, beta.val = NA, wi.fun = s$wi.fun,
    steps = s$steps, pgrp = NA, alternative = s$alternative, pval.min = s$pval.min,
    intCtrl = list(lower = -Inf, upper = Inf, subdivisions = 1000L, rel.tol = rel.tol), verbose = FALSE,
    digits = c(est = 4))
}
llprecise <- function(s, es) {
  v <- try(-llfun(s, es, 1e-10)(c(s$beta, s$tau2, s$delta)), silent = TRUE)
  if (inherits(v, "try-error")) NA_real_ else v
}
# SEs as metafor computes them (numDeriv::hessian, r = 6, on (beta, tau2, delta) at metafor's estimates)
# but of the likelihood integrated at rel.tol 1e-10
seprecise <- function(s, es) {
  H <- try(numDeriv::hessian(llfun(s, es, 1e-10), c(s$beta, s$tau2, s$delta), method.args = list(r = 6)), silent = TRUE)
  if (inherits(H, "try-error")) return(rep(NA_real_, 2 + s$deltas))
  v <- try(sqrt(diag(chol2inv(chol(H)))), silent = TRUE)
  if (inherits(v, "try-error")) rep(NA_real_, 2 + s$deltas) else v
}
famfit <- function(es, type, control) {
  r <- rma(yi, vi, data = es, method = "ML")
  s <- if (is.null(control)) suppressWarnings(selmodel(r, type = type)) else suppressWarnings(selmodel(r, type = type, control = control))
  list(beta = num(s$beta), se = num(s$se), tau2 = num(s$tau2), se_tau2 = num(s$se.tau2), delta = num(s$delta),
       se_delta = num(s$se.delta), LRT = num(s$LRT), LRTdf = num(s$LRTdf), LRTp = num(s$LRTp), ll = num(s$ll),
       ll0 = num(s$ll0), LRT_tau2 = num(s$LRT.tau2), ll_precise = llprecise(s, es),
       se_precise = if (is.null(control)) seprecise(s, es) else NA_real_, time = num(s$time))
}
fcases <- list(
  list(data = "hackshaw1998", types = c("beta", "halfnorm", "negexp", "logistic", "power", "negexppow")),
  list(data = "bangertdrowns2004", types = c("beta", "halfnorm", "negexp", "logistic", "power")))
out$families <- list()
for (fc in fcases) for (ty in fc$types) {
  es <- sets[[fc$data]]$es
  cat(fc$data, ty, "\n")
  out$families[[length(out$families) + 1]] <- list(
    data = fc$data, type = ty, alternative = "greater",
    call = sprintf("selmodel(rma(yi, vi, method='ML'), type='%s')", ty),
    default = famfit(es, ty, NULL),
    tight = famfit(es, ty, list(reltol = 1e-12, maxit = 10000)))
}

# --- which beta-model optimum is right (issue 18) --------------------------------------------------
# A first Python implementation reported LRT 10.6 for the beta model on the Baskerville et al. (2012)
# data of metafor's test_misc_selmodel.r (metafor: 7.85). metafor's own log-likelihood
# (metafor:::.selmodel.ll.cont, the function selmodel() maximises) evaluated at both parameter vectors:
# the LRT-10.6 vector (mu 2.76551, tau2 0.112451, delta 2.15130, 0.300185) is the optimum only when the
# p-values are NOT clamped to [1e-5, 1 - 1e-5]; with metafor's clamp (pval.min = 1e-5) it is far lower.
bask_yi  <- c(1.01, 0.82, 0.59, 0.44, 0.84, 0.73, 1.12, 0.04, 0.24, 0.32, 1.04, 1.31, 0.59, 0.66, 0.62, 0.47, 1.08, 0.98, 0.26, 0.39, 0.60, 0.94, 0.11)
bask_sei <- c(0.52, 0.46, 0.23, 0.18, 0.29, 0.29, 0.36, 0.37, 0.15, 0.40, 0.32, 0.57, 0.29, 0.19, 0.31, 0.27, 0.32, 0.32, 0.18, 0.18, 0.31, 0.53, 0.27)
betall <- function(par, pval.min, rel.tol = .Machine$double.eps^0.25) {
  k <- length(bask_yi); vi <- bask_sei^2
  pv <- pnorm(bask_yi / bask_sei, lower.tail = FALSE); pv <- pmin(pmax(pv, pval.min), 1 - pval.min)
  wi.fun <- function(x, delta, yi, vi, preci, alternative, steps) x^(delta[1]-1) * (1-x)^(delta[2]-1)
  -metafor:::.selmodel.ll.cont(par, yi = bask_yi, vi = vi, X = cbind(rep(1, k)), preci = rep(1, k), k = k, pX = 1,
    pvals = pv, deltas = 2, delta.val = c(NA, NA), delta.transf = FALSE, mapfun = c(NA, NA), delta.min = c(1e-5, 1e-5),
    delta.max = c(100, 100), tau2.val = NA, tau2.transf = FALSE, tau2.max = Inf, beta.val = NA, wi.fun = wi.fun,
    steps = NA, pgrp = NA, alternative = "greater", pval.min = pval.min,
    intCtrl = list(lower = -Inf, upper = Inf, subdivisions = 1000L, rel.tol = rel.tol), verbose = FALSE, digits = c(est = 4))
}
bres <- rma(bask_yi, bask_sei^2, method = "ML")
bsav <- selmodel(bres, type = "beta")
alt <- c(2.76551227, 0.11245149, 2.15129816, 0.30018512)
mf <- c(num(bsav$beta), num(bsav$tau2), num(bsav$delta))
out$beta_optimum <- list(
  data = list(yi = bask_yi, vi = bask_sei^2, source = "Baskerville et al. (2012), metafor 3.8-1/5.0-1 tests/testthat/test_misc_selmodel.r lines 65-66"),
  metafor_fit = list(par = mf, LRT = num(bsav$LRT), ll = num(bsav$ll), ll0 = num(bsav$ll0)),
  alternative_par = alt,
  ll_metafor_par_clamped = betall(mf, 1e-5, 1e-10),
  ll_alternative_par_clamped = betall(alt, 1e-5, 1e-10),
  ll_alternative_par_unclamped = betall(alt, 1e-12, 1e-10),
  note = "par = (mu, tau2, delta1, delta2); ll_* = metafor:::.selmodel.ll.cont (integrate rel.tol 1e-10) with pval.min 1e-5 (metafor's) or 1e-12 (no clamp)")

# --- metafor's SEs against its own likelihood integrated precisely ------------------------------------
# test_misc_selmodel.r lines 130-160 (Preston et al. 2004 data, EE, alternative "less"): metafor's SE of
# delta is numDeriv::hessian of its likelihood, each value an integrate() at rel.tol 1.2e-4. The same
# Hessian (same estimates, same numDeriv settings) of the same function with integrate() at rel.tol
# 1e-10 gives the SE of the exact likelihood.
pr_ai  <- c(4,0,34,7,6,1,0,11,2,0,0,33); pr_n1i <- c(19,18,341,71,45,94,22,88,82,33,15,221)
pr_ci  <- c(5,0,50,16,5,8,0,12,7,0,1,43); pr_n2i <- c(19,18,334,69,44,96,22,82,84,30,20,218)
pdat <- escalc(measure = "OR", ai = pr_ai, n1i = pr_n1i, ci = pr_ci, n2i = pr_n2i, drop00 = TRUE)
pres <- suppressWarnings(rma(yi, vi, data = pdat, method = "EE"))
pcases <- list(list(type = "halfnorm"), list(type = "negexp"), list(type = "logistic"), list(type = "power"),
               list(type = "logistic", prec = "sei", steps = 0.05), list(type = "power", prec = "sei", steps = 0.05, r = 8))
out$preston_se <- lapply(pcases, function(cs) {
  r <- if (is.null(cs$r)) 6 else cs$r
  args <- list(pres, type = cs$type, alternative = "less", control = list(hessianCtrl = list(r = r)))
  if (!is.null(cs$prec)) args$prec <- cs$prec
  if (!is.null(cs$steps)) args$steps <- cs$steps
  s <- do.call(selmodel, args)
  yi <- as.numeric(pres$yi); vi <- pres$vi; k <- length(yi)
  preci <- if (is.null(cs$prec)) rep(1, k) else sqrt(vi) / max(sqrt(vi))
  f <- function(par, rt) metafor:::.selmodel.ll.cont(c(par[1], 0, par[2]), yi = yi, vi = vi, X = cbind(rep(1, k)),
    preci = preci, k = k, pX = 1, pvals = s$pvals, deltas = 1, delta.val = NA, delta.transf = FALSE, mapfun = NA,
    delta.min = 0, delta.max = 100, tau2.val = 0, tau2.transf = FALSE, tau2.max = Inf, beta.val = NA,
    wi.fun = s$wi.fun, steps = s$steps, pgrp = NA, alternative = "less", pval.min = s$pval.min,
    intCtrl = list(lower = -Inf, upper = Inf, subdivisions = 1000L, rel.tol = rt), verbose = FALSE, digits = c(est = 4))
  x <- c(s$beta, s$delta)
  se_default <- sqrt(diag(solve(numDeriv::hessian(f, x, method.args = list(r = r), rt = .Machine$double.eps^0.25))))
  se_precise <- sqrt(diag(solve(numDeriv::hessian(f, x, method.args = list(r = r), rt = 1e-10))))
  list(type = cs$type, prec = if (is.null(cs$prec)) NA else cs$prec, steps = if (is.null(cs$steps)) NA else cs$steps,
       beta = num(s$beta), delta = num(s$delta), se = num(s$se), se_delta = num(s$se.delta),
       se_default_recomputed = se_default, se_precise = se_precise, ll = num(s$ll))
})
out$preston_se_data <- list(yi = as.numeric(pres$yi), vi = as.numeric(pres$vi),
  source = "Preston, Ashby & Smyth (2004) via metafor tests/testthat/test_misc_selmodel.r lines 120-124 (escalc OR, drop00 = TRUE; 3 all-zero studies dropped)")

# --- profile-likelihood CIs (confint) of continuous selection models -------------------------------
out$confint <- lapply(c("negexp", "logistic"), function(ty) {
  r <- rma(yi, vi, data = dat.hackshaw1998, method = "ML")
  s <- suppressWarnings(selmodel(r, type = ty))
  ci <- suppressWarnings(confint(s))
  list(data = "hackshaw1998", type = ty, tau2 = as.numeric(ci[[1]]$random[1, ]), delta = as.numeric(ci[[2]]$random[1, ]),
       note = "rows (estimate, ci.lb, ci.ub); uniroot tol .Machine$double.eps^0.25")
})

out$versions <- list(R = R.version.string, metafor = as.character(packageVersion("metafor")),
                     metadat = as.character(packageVersion("metadat")), jsonlite = as.character(packageVersion("jsonlite")))
write_json(out, "tests/golden/metafor_selmodel.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
cat("wrote tests/golden/metafor_selmodel.json\n")
