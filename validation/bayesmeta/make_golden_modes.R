# Golden values for issue 11 item 3: posterior modes and the joint MAP of the normal-normal model,
# from R bayesmeta (Röver 2020, J Stat Softw 93(6), doi:10.18637/jss.v093.i06).
#
# Run from the repository root:  Rscript validation/bayesmeta/make_golden_modes.R
# Needs (Debian + CRAN): r-base-core, bayesmeta 3.4, metafor, metadat, jsonlite. Runs ~20 minutes (each refined mode of mu, theta_new, theta_1 takes ~300 adaptive integrals).
# Writes tests/golden/bayesmeta_modes.json (all numbers at full precision, write_json(digits = NA)).
#
# Per case (data set x tau prior x mu prior) it records
#   "default": what bayesmeta() itself reports with its default settings: $summary["mode", ]
#              (tau, mu, theta = theta_new), $MAP (rows joint, marginal; columns tau, mu) and the
#              study-level modes $theta["mode", ] (all studies; "refined" has study 1 only);
#   "refined": the same quantities from bayesmeta's own densities with tight optimiser
#              tolerances, so that they are accurate to ~1e-8 (bayesmeta's defaults are not:
#              optimize() with tol = .Machine$double.eps^0.25 = 1.2e-4 absolute, optim()'s
#              Nelder-Mead with reltol 1e-8 on the density value, and the mixture approximation of
#              mu's marginal with delta = 0.01, epsilon = 1e-4):
#     tau mode  : optimize(dposterior(tau = x), tol = 1e-12) on [0, qposterior(tau = 0.99)], and 0
#                 when dposterior(tau = 0) is infinite or not below the interior maximum
#                 (bayesmeta's own rule); dposterior(tau = .) is exact up to its normalising constant.
#     mu, theta_new and theta_i modes : optimize(..., tol = 1e-10) of their marginal densities,
#                 computed by adaptive quadrature (integrate(), rel.tol 1e-10) over log(tau) of the
#                 conjugate normal given tau times bayesmeta's exact dposterior(tau = .) (bayesmeta's
#                 own marginals are mixtures with delta = 0.01, and a finer mixture, delta = 1e-5,
#                 takes minutes per fit).
#     joint MAP : nested optimize(): max over tau in [0, qposterior(tau = 0.999)] of
#                 max over mu of dposterior(tau, mu, log = TRUE) (exact up to a constant), tol 1e-12;
#                 tau = 0 when the density is infinite there (bayesmeta's rule).
#
# Measured agreement of bayesmeta (Python, bayesmeta/bayes/exact.py) with these values, in posterior
# SDs of each marginal (36 cases; tests/test_modes_map.py):
#   refined: tau mode 7.8e-8, mu 3.3e-9, theta_new 1.5e-8, theta_1 2.6e-8, joint MAP tau 5.9e-8, mu 7.9e-8;
#            every boundary mode (tau = 0: HinksEtAl2010, Rubin1981) is 0 on both sides.
#   default: tau mode 7.7e-5, joint MAP 1.3e-4, mu 1.07e-3, theta_new 4.0e-4, theta_i 5.3e-3 (within
#            mu's 10%-90% quantiles, where bayesmeta searches theta_i's mode; outside it reports the end).
suppressPackageStartupMessages({library(bayesmeta); library(metafor); library(metadat); library(jsonlite)})

# ---------------------------------------------------------------------------- data sets
norm <- escalc("SMD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i,
               data = dat.normand1999)
cold <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.colditz1994)
data("HinksEtAl2010", package = "bayesmeta")
data("Rubin1981", package = "bayesmeta")
sets <- list(
  normand1999_SMD = list(y = as.numeric(norm$yi), s = sqrt(as.numeric(norm$vi)), scale = 1,
    priors = c("halfnormal", "halfcauchy", "uniform", "lognormal_tau2", "exponential", "flat", "jeffreys"),
    src = "metadat dat.normand1999, escalc('SMD', m1i, sd1i, n1i, m2i, sd2i, n2i) (Hedges' g)"),
  colditz1994_RR = list(y = as.numeric(cold$yi), s = sqrt(as.numeric(cold$vi)), scale = 1,
    priors = c("halfcauchy", "lognormal_tau2", "jeffreys"),
    src = "metadat dat.colditz1994, escalc('RR', ai=tpos, bi=tneg, ci=cpos, di=cneg) (log RR)"),
  hinks2010_k3 = list(y = HinksEtAl2010$log.or, s = HinksEtAl2010$log.or.se, scale = 1,
    priors = c("halfnormal", "uniform", "exponential", "flat"),
    src = "bayesmeta HinksEtAl2010 (k = 3, log OR, log.or and log.or.se)"),
  rubin1981_8schools = list(y = Rubin1981$effect, s = Rubin1981$stderr, scale = 20,
    priors = c("halfnormal", "halfcauchy", "uniform", "flat"),
    src = "bayesmeta Rubin1981 (eight schools, k = 8, effect and stderr; tau mode at 0 under most priors)")
)

# ---------------------------------------------------------------------------- priors
# each: our Prior (family, params, target) and the R density (scale multiplies the scale parameters)
tau_priors <- function(sc, keep) list(
  halfnormal = list(py = list(family = "halfnormal", params = list(scale = 0.5 * sc), target = "tau"),
                    r = function(t) dhalfnormal(t, scale = 0.5 * sc)),
  halfcauchy = list(py = list(family = "halfcauchy", params = list(scale = 0.5 * sc), target = "tau"),
                    r = function(t) dhalfcauchy(t, scale = 0.5 * sc)),
  uniform = list(py = list(family = "uniform", params = list(upper = 2 * sc), target = "tau"),
                 r = function(t) dunif(t, 0, 2 * sc)),
  # Turner et al. 2015 (all outcomes / all comparisons): log tau^2 ~ N(-2.56, 1.74^2) (scale: tau * sc)
  lognormal_tau2 = list(py = list(family = "lognormal_tau2",
                                  params = list(mean = -2.56 + 2 * log(sc), sd = 1.74), target = "tau"),
                        r = function(t) ifelse(t > 0, dlnorm(t^2, -2.56 + 2 * log(sc), 1.74) * 2 * t, 0)),
  # exponential: density decreasing at tau = 0, so the mode is at 0 whenever the data are homogeneous
  # (a log-t prior on tau^2, whose density is infinite at 0, makes bayesmeta's integrate() fail:
  # "the integral is probably divergent"; its tau = 0 rule is tested in tests/test_modes_map.py)
  exponential = list(py = list(family = "exponential", params = list(rate = 2 / sc), target = "tau"),
                     r = function(t) dexp(t, rate = 2 / sc)),
  flat = list(py = list(family = "flat", params = setNames(list(), character(0)), target = "tau"), r = "uniform"),
  jeffreys = list(py = list(family = "jeffreys", params = setNames(list(), character(0)), target = "tau"),
                  r = "Jeffreys")
)[keep]
mu_priors <- function(sc) list(
  normal = list(py = list(family = "normal", params = list(loc = 0, scale = 4 * sc), target = "mu"),
                r = c(mean = 0, sd = 4 * sc)),
  flat = list(py = list(family = "flat", params = setNames(list(), character(0)), target = "mu"),
              r = c(mean = NA, sd = NA))
)

TOL <- 1e-12
opt_max <- function(f, lo, hi) optimize(f, lower = lo, upper = hi, maximum = TRUE, tol = TOL)

# mean and SD of mu given tau (conjugate normal or flat mu prior; Röver 2020, sec. 2)
cond <- function(t, y, s, mp) {
  w <- 1 / (s^2 + t^2)
  p0 <- if (is.na(mp[2])) 0 else 1 / mp[2]^2
  m0 <- if (is.na(mp[1])) 0 else mp[1]
  V <- 1 / (sum(w) + p0)
  c(mean = unname(V * (sum(w * y) + p0 * m0)), sd = unname(sqrt(V)))
}

refined <- function(bm, y, s, mp) {
  # tau: marginal mode
  t_hi <- bm$qposterior(tau.p = 0.99)
  d0 <- bm$dposterior(tau = 0)
  if (!is.finite(d0)) {
    tau_mode <- 0
  } else {
    mx <- opt_max(function(x) bm$dposterior(tau = x, log = TRUE), 0, t_hi)
    tau_mode <- if (d0 > 0 && log(d0) >= mx$objective) 0 else mx$maximum
  }
  # marginal densities of mu, theta_new and theta_i by adaptive quadrature over u = log(tau) of
  # (conditional normal given tau) x (bayesmeta's exact dposterior(tau)), split at the tau median
  u_med <- log(bm$qposterior(tau.p = 0.5))
  dens <- function(x, which) {
    f <- function(u) sapply(u, function(uu) {
      t <- exp(uu); m <- cond(t, y, s, mp)
      mean <- m[["mean"]]; sd <- m[["sd"]]
      if (which == "theta_new") sd <- sqrt(sd^2 + t^2)
      if (is.numeric(which)) {
        B <- s[which]^2 / (s[which]^2 + t^2)
        mean <- B * m[["mean"]] + (1 - B) * y[which]
        sd <- sqrt(s[which]^2 * (1 - B) + B^2 * m[["sd"]]^2)
      }
      v <- bm$dposterior(tau = t) * t * dnorm(x, mean, sd)
      if (is.finite(v)) v else 0  # tau^2 overflows far in the tail, where the density is 0
    })
    integrate(f, -Inf, u_med, rel.tol = 1e-10, subdivisions = 1000L)$value +
      integrate(f, u_med, Inf, rel.tol = 1e-10, subdivisions = 1000L)$value
  }
  mode_of <- function(which, start, sd) {
    g <- seq(start - 0.25 * sd, start + 0.25 * sd, length.out = 11)  # the default mode is within 1e-3 SD
    v <- sapply(g, function(x) dens(x, which))
    j <- which.max(v)
    optimize(function(x) dens(x, which), lower = g[max(j - 1, 1)], upper = g[min(j + 1, length(g))],
             maximum = TRUE, tol = 1e-10)$maximum
  }
  sm <- bm$summary
  mu_mode <- mode_of("mu", sm["mode", "mu"], sm["sd", "mu"])
  pred_mode <- mode_of("theta_new", sm["mode", "theta"], sm["sd", "theta"])
  # (study 1 only: each refined mode costs ~500 adaptive integrals)
  th_mode <- sapply(1L, function(i) mode_of(i, bm$theta["mode", i], bm$theta["sd", i]))
  # joint MAP: nested optimisation of the exact joint density
  prof <- function(t) {
    m <- cond(t, y, s, mp)
    c0 <- m[["mean"]]; s0 <- m[["sd"]]
    opt_max(function(mu) bm$dposterior(tau = t, mu = mu, log = TRUE), c0 - 10 * s0, c0 + 10 * s0)
  }
  if (!is.finite(bm$dposterior(tau = 0, mu = cond(0, y, s, mp)[["mean"]]))) {
    map_tau <- 0
  } else {
    t_hi <- bm$qposterior(tau.p = 0.999)
    g <- seq(0, t_hi, length.out = 401)
    v <- sapply(g, function(t) prof(t)$objective)
    j <- which.max(v)
    if (j == 1) {
      mx <- opt_max(function(t) prof(t)$objective, 0, g[2])
      map_tau <- if (v[1] >= mx$objective) 0 else mx$maximum
    } else {
      map_tau <- opt_max(function(t) prof(t)$objective, g[j - 1], g[min(j + 1, length(g))])$maximum
    }
  }
  map_mu <- prof(map_tau)$maximum
  list(mode = list(tau = tau_mode, mu = mu_mode, theta_new = pred_mode), theta_mode = th_mode,
       MAP = list(joint = list(tau = map_tau, mu = map_mu), marginal = list(tau = tau_mode, mu = mu_mode)))
}

cases <- list()
t_start <- Sys.time()
for (dn in names(sets)) {
  d <- sets[[dn]]
  tps <- tau_priors(d$scale, d$priors); mps <- mu_priors(d$scale)
  for (tn in names(tps)) for (mn in names(mps)) {
    tp <- tps[[tn]]; mp <- mps[[mn]]
    call <- function(...) bayesmeta(y = d$y, sigma = d$s, labels = paste0("study ", seq_along(d$y)),
                                    tau.prior = tp$r, mu.prior = mp$r, ...)
    bm <- call()
    sm <- bm$summary
    cases[[length(cases) + 1]] <- list(
      data = dn, tau_prior_name = tn, mu_prior_name = mn,
      tau_prior = tp$py, mu_prior = mp$py, yi = d$y, sei = d$s,
      default = list(mode = list(tau = sm["mode", "tau"], mu = sm["mode", "mu"], theta_new = sm["mode", "theta"]),
                     theta_mode = as.numeric(bm$theta["mode", ]),
                     MAP = list(joint = list(tau = bm$MAP["joint", "tau"], mu = bm$MAP["joint", "mu"]),
                                marginal = list(tau = bm$MAP["marginal", "tau"], mu = bm$MAP["marginal", "mu"])),
                     sd = list(tau = sm["sd", "tau"], mu = sm["sd", "mu"], theta_new = sm["sd", "theta"])),
      refined = refined(bm, d$y, d$s, mp$r))
    cat(sprintf("%-20s %-15s %-7s tau mode %.6g mu mode %.6g MAP (%.6g, %.6g)\n", dn, tn, mn,
                cases[[length(cases)]]$refined$mode$tau, cases[[length(cases)]]$refined$mode$mu,
                cases[[length(cases)]]$refined$MAP$joint$tau, cases[[length(cases)]]$refined$MAP$joint$mu))
  }
}
out <- list(
  made_by = "validation/bayesmeta/make_golden_modes.R",
  versions = list(R = R.version.string, bayesmeta = as.character(packageVersion("bayesmeta")),
                  metafor = as.character(packageVersion("metafor")), metadat = as.character(packageVersion("metadat"))),
  sources = lapply(sets, function(d) d$src),
  note = paste("default: bayesmeta() output with default settings; refined: bayesmeta's exact tau density",
               "and joint density with tight optimisers, marginals of mu, theta_new, theta_i by integrate(); see the script header"),
  seconds = as.numeric(difftime(Sys.time(), t_start, units = "secs")),
  cases = cases)
write_json(out, "tests/golden/bayesmeta_modes.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
cat("wrote tests/golden/bayesmeta_modes.json,", length(cases), "cases\n")
