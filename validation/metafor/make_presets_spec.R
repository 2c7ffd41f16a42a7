# Golden values for the spec's `preset` key (issue 11 item 1, "selectable in the spec and the CLI"):
# the study-level frequentist reproduction of dat.normand1999 (length of stay, specialist vs routine
# care) with measure = "SMD" under each preset.
#
# Run from the repository root:  Rscript validation/metafor/make_presets_spec.R   (about 1 s)
# Needs (Debian): r-base-core r-cran-metafor r-cran-metadat r-cran-jsonlite
# Writes tests/golden/metafor_presets_spec.json (full precision, write_json(digits = NA)).
#
# The presets (bayesmeta/frequentist/presets.py) fix the SMD variant too:
#   metafor    : escalc("SMD") (Hedges' g with the exact J, vtype "LS"), rma REML, z CI, predict(),
#                I^2 from tau^2, Q-profile CI for tau^2;
#   revman5    : RevMan's Hedges' g, computed here by hand from Deeks & Higgins 2010 ("Statistical
#                algorithms in Review Manager 5"): g = d (1 - 3/(4N - 9)), v = N/(n1 n2) + g^2/(2(N - 3.94)),
#                d from the pooled SD; rma DL, Wald CI, PI b +/- qt(.975, k-2) sqrt(se^2 + tau2),
#                I^2 = max(0, (Q - (k-1))/Q);
#   revman2025 : the same RevMan g; rma REML with test = "knha", predict() (t(k-1), HK SE),
#                I^2 from tau^2, Q-profile CI for tau^2.
# Convergence: control(threshold = 1e-12, tol = 1e-12, maxiter = 10000, stepadj = 0.5), confint tol 1e-12.
suppressPackageStartupMessages({library(metafor); library(metadat); library(jsonlite)})

ctrl <- list(threshold = 1e-12, tol = 1e-12, maxiter = 10000, stepadj = 0.5)
d <- dat.normand1999
num <- function(x) as.numeric(x)

# metafor's SMD
es_mf <- escalc("SMD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i, data = d)
# RevMan's SMD (by hand)
N <- d$n1i + d$n2i
s <- sqrt(((d$n1i - 1) * d$sd1i^2 + (d$n2i - 1) * d$sd2i^2) / (N - 2))
g <- (d$m1i - d$m2i) / s * (1 - 3 / (4 * N - 9))
v <- N / (d$n1i * d$n2i) + g^2 / (2 * (N - 3.94))

fit <- function(yi, vi, method, test) rma(yi, vi, method = method, test = test, control = ctrl)
row <- function(r, pi_lb, pi_ub, I2, tau2_ci) list(
  mu = num(r$beta), se = r$se, ci_lb = r$ci.lb, ci_ub = r$ci.ub, pval = r$pval, tau2 = r$tau2, QE = r$QE,
  I2 = I2, pi_lb = num(pi_lb), pi_ub = num(pi_ub), tau2_lb = num(tau2_ci[1]), tau2_ub = num(tau2_ci[2]))

out <- list(R = R.version.string, metafor_version = as.character(packageVersion("metafor")),
            metadat_version = as.character(packageVersion("metadat")),
            data = "dat.normand1999 (metadat), group 1 = specialist (experimental), group 2 = routine (control)",
            study = as.character(d$source))

r <- fit(es_mf$yi, es_mf$vi, "REML", "z"); p <- predict(r); ci <- confint(r, control = list(tol = 1e-12))$random
out$metafor <- c(list(call = "escalc('SMD'); rma(yi, vi, method='REML', test='z'); predict(); confint()",
                      yi = num(es_mf$yi), vi = num(es_mf$vi)),
                 row(r, p$pi.lb, p$pi.ub, r$I2, ci[1, 2:3]))

r <- fit(g, v, "DL", "z"); half <- qt(0.975, r$k - 2) * sqrt(r$se^2 + r$tau2)
out$revman5 <- c(list(call = "RevMan g by hand; rma(g, v, method='DL'); PI b +/- qt(.975, k-2) sqrt(se^2+tau2); I2 from Q",
                      yi = g, vi = v),
                 row(r, num(r$beta) - half, num(r$beta) + half, max(0, (r$QE - (r$k - 1)) / r$QE) * 100, c(NA, NA)))

r <- fit(g, v, "REML", "knha"); p <- predict(r); ci <- confint(r, control = list(tol = 1e-12))$random
out$revman2025 <- c(list(call = "RevMan g by hand; rma(g, v, method='REML', test='knha'); predict(); confint()",
                         yi = g, vi = v),
                    row(r, p$pi.lb, p$pi.ub, r$I2, ci[1, 2:3]))

write_json(out, "tests/golden/metafor_presets_spec.json", auto_unbox = TRUE, digits = NA, pretty = TRUE, na = "null")
cat("wrote tests/golden/metafor_presets_spec.json\n")
