# Golden reference values from R bayesmeta's bmr() (Bayesian meta-regression; Roever & Friede 2022,
# doi:10.1002/jrsm.1541) for bayesmeta.bayes.metareg.bmr (issue 11).
#
# Run from the repository root:  Rscript validation/bayesmeta/make_golden_bmr.R
# Needs: R bayesmeta (3.4), metafor, metadat, jsonlite. Runs ~1 minute.
# Writes tests/golden/bayesmeta_bmr.json: versions, the exact call of every case, and
#   tau: median, mean, sd and the 2.5% / 97.5% quantiles (bmr's $summary and $qposterior);
#   every coefficient: mean, sd, median and 2.5% / 97.5% quantiles.
#
# Accuracy of these numbers (what the test tolerances rest on):
# * tau's posterior is normalised, integrated and inverted by integrate()/uniroot() with
#   rel.tol.integrate = tol.uniroot = 2^16 * .Machine$double.eps = 1.5e-11 (bmr's defaults).
# * The coefficients' marginals are bmr's DIRECT discrete mixture over tau (Roever & Friede 2017,
#   doi:10.1080/10618600.2016.1276840), whose accuracy is set by delta (bound on the symmetrised
#   KL divergence per mixture component) and epsilon (tail mass left out). The defaults
#   (delta = 0.01, epsilon = 1e-4) give about 3 digits (delta 1e-3 -> 1e-4 moves the ablat SD by
#   8e-5 relative); here delta = 1e-5 and epsilon = 1e-7. The change of every coefficient number
#   from delta = 1e-4 to 1e-5 is written per case (delta_drift_in_sd, in posterior SDs) and bounds
#   the remaining error of these values; the test tolerances are set from it. (delta = 1e-6 ran
#   for over 30 minutes.)
suppressPackageStartupMessages({library(bayesmeta); library(metafor); library(metadat); library(jsonlite)})

DELTA <- 1e-5
EPS <- 1e-7
col <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.colditz1994)
y <- as.numeric(col$yi)
s <- sqrt(as.numeric(col$vi))

turner <- function(t) ifelse(t > 0, dlnorm(t^2, meanlog = -2.56, sdlog = 1.74) * 2 * t, 0)
cases <- list(
  ablat_halfnormal = list(
    X = cbind(intrcpt = 1, ablat = col$ablat), prior = function(t) dhalfnormal(t, scale = 0.5),
    prior_py = list(family = "halfnormal", params = list(scale = 0.5)),
    call = "bmr(y, s, X = cbind(intrcpt = 1, ablat), tau.prior = function(t) dhalfnormal(t, scale = 0.5))"),
  alloc_halfnormal = list(
    X = model.matrix(~ alloc, data = col), prior = function(t) dhalfnormal(t, scale = 0.5),
    prior_py = list(family = "halfnormal", params = list(scale = 0.5)),
    call = "bmr(y, s, X = model.matrix(~ alloc), tau.prior = function(t) dhalfnormal(t, scale = 0.5)) [alloc: alternate (reference), random, systematic]"),
  ablat_turner = list(
    X = cbind(intrcpt = 1, ablat = col$ablat), prior = turner,
    prior_py = list(family = "lognormal_tau2", params = list(mean = -2.56, sd = 1.74)),
    call = "bmr(y, s, X = cbind(intrcpt = 1, ablat), tau.prior = log tau^2 ~ N(-2.56, 1.74^2) (Turner et al. 2015, all/all): spike near tau = 0"),
  ablat_normalbeta_halfcauchy = list(
    X = cbind(intrcpt = 1, ablat = col$ablat), prior = function(t) dhalfcauchy(t, scale = 0.3),
    beta_mean = c(0, 0), beta_sd = c(1, 0.05),
    prior_py = list(family = "halfcauchy", params = list(scale = 0.3)),
    call = "bmr(y, s, X = cbind(intrcpt = 1, ablat), tau.prior = halfcauchy(0.3), beta.prior.mean = c(0, 0), beta.prior.sd = c(1, 0.05))")
)

fit <- function(cs, delta, epsilon) {
  if (is.null(cs$beta_mean)) {
    bmr(y, s, X = cs$X, tau.prior = cs$prior, interval.type = "central", delta = delta, epsilon = epsilon)
  } else {
    bmr(y, s, X = cs$X, tau.prior = cs$prior, beta.prior.mean = cs$beta_mean, beta.prior.sd = cs$beta_sd,
        interval.type = "central", delta = delta, epsilon = epsilon)
  }
}

out <- list(versions = list(R = R.version.string, bayesmeta = as.character(packageVersion("bayesmeta")),
                            metafor = as.character(packageVersion("metafor")),
                            metadat = as.character(packageVersion("metadat"))),
            data = list(source = "dat.colditz1994 (metadat), escalc('RR', ai=tpos, bi=tneg, ci=cpos, di=cneg)",
                        yi = y, sei = s, ablat = col$ablat, alloc = as.character(col$alloc)),
            settings = list(delta = DELTA, epsilon = EPS, interval_type = "central",
                            rel_tol_integrate = 2^16 * .Machine$double.eps),
            cases = list())
for (nm in names(cases)) {
  cs <- cases[[nm]]
  r <- fit(cs, DELTA, EPS)
  r5 <- fit(cs, 1e-4, EPS)
  p <- c(0.025, 0.5, 0.975)
  coefs <- list()
  drift <- 0
  for (j in seq_len(ncol(cs$X))) {
    b <- list(mean = r$summary["mean", j + 1], sd = r$summary["sd", j + 1],
              median = r$qposterior(beta.p = 0.5, which.beta = j),
              q025 = r$qposterior(beta.p = 0.025, which.beta = j),
              q975 = r$qposterior(beta.p = 0.975, which.beta = j))
    b5 <- c(r5$summary["mean", j + 1], r5$summary["sd", j + 1], r5$qposterior(beta.p = p, which.beta = j))
    drift <- max(drift, abs(c(b$mean, b$sd, b$q025, b$median, b$q975) - b5[c(1, 2, 3, 4, 5)]) / b$sd)
    coefs[[colnames(cs$X)[j]]] <- b
  }
  out$cases[[nm]] <- list(call = cs$call, X = unname(cs$X), names = colnames(cs$X), tau_prior = cs$prior_py,
                          beta_mean = cs$beta_mean, beta_sd = cs$beta_sd,
                          tau = list(mean = r$summary["mean", 1], sd = r$summary["sd", 1],
                                     median = r$qposterior(tau.p = 0.5),
                                     q025 = r$qposterior(tau.p = 0.025), q975 = r$qposterior(tau.p = 0.975)),
                          beta = coefs, delta_drift_in_sd = drift)
  cat(sprintf("%s: beta changes by %.2g posterior SDs from delta = 1e-4 to 1e-5\n", nm, drift))
}
write_json(out, "tests/golden/bayesmeta_bmr.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
