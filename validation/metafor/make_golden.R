# Golden reference values from metafor for bayesmeta's frequentist engine.
# Run: ./dev golden   (needs: apt-get install -y r-base-core r-cran-metafor r-cran-metadat r-cran-jsonlite)
# Writes tests/golden/metafor.json with the R and package versions and the exact calls.
suppressPackageStartupMessages({library(metafor); library(metadat); library(jsonlite)})

ctrl <- list(threshold = 1e-12, tol = 1e-12, maxiter = 10000, stepadj = 0.5)
methods <- c("EE", "DL", "REML", "PM", "ML")

fit_all <- function(es) {
  out <- list()
  for (m in methods) for (tst in c("z", "knha")) {
    if (m == "EE" && tst == "knha") next
    r <- rma(yi, vi, data = es, method = m, test = tst, control = ctrl)
    p <- predict(r)
    ci <- if (m == "EE") c(NA, NA) else confint(r, control = list(tol = 1e-12, tau2.max = 1e6))$random[1, 2:3]
    out[[paste(m, tst, sep = "_")]] <- list(
      call = sprintf("rma(yi, vi, method='%s', test='%s', control=list(threshold=1e-12, tol=1e-12))", m, tst),
      beta = as.numeric(r$beta), se = r$se, zval = r$zval, pval = r$pval, ci_lb = r$ci.lb, ci_ub = r$ci.ub,
      tau2 = r$tau2, I2 = r$I2, H2 = r$H2, QE = r$QE, QEp = r$QEp, k = r$k,
      pi_lb = p$pi.lb, pi_ub = p$pi.ub, tau2_lb = ci[1], tau2_ub = ci[2])
  }
  out
}

mh_all <- function(d) {
  out <- list()
  for (meas in c("RR", "OR", "RD")) {
    r <- rma.mh(ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = d, measure = meas, drop00 = TRUE)
    out[[meas]] <- list(call = sprintf("rma.mh(ai, n1i, ci, n2i, measure='%s', drop00=TRUE)", meas),
                        beta = as.numeric(r$beta), se = r$se, zval = r$zval, pval = r$pval,
                        ci_lb = r$ci.lb, ci_ub = r$ci.ub, QE = r$QE, QEp = r$QEp, k = r$k, I2 = r$I2)
  }
  out
}

cases <- list()
bin_case <- function(id, d, measure, source) {
  es <- escalc(measure, ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = d, drop00 = TRUE)
  list(id = id, source = source, measure = measure,
       call = sprintf("escalc('%s', ai, n1i, ci, n2i, drop00=TRUE)  # add=1/2, to='only0' (defaults)", measure),
       data = list(ai = d$ai, n1i = d$n1i, ci = d$ci, n2i = d$n2i),
       yi = as.numeric(es$yi), vi = as.numeric(es$vi), rma = fit_all(es), mh = mh_all(d))
}
cont_case <- function(id, d, measure, source) {
  es <- escalc(measure, m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i, data = d)
  list(id = id, source = source, measure = measure, call = sprintf("escalc('%s', m1i, sd1i, n1i, m2i, sd2i, n2i)", measure),
       data = list(m1i = d$m1i, sd1i = d$sd1i, n1i = d$n1i, m2i = d$m2i, sd2i = d$sd2i, n2i = d$n2i),
       yi = as.numeric(es$yi), vi = as.numeric(es$vi), rma = fit_all(es))
}

bcg <- with(dat.bcg, data.frame(ai = tpos, n1i = tpos + tneg, ci = cpos, n2i = cpos + cneg))
cases[[1]] <- bin_case("bcg_RR", bcg, "RR", "dat.bcg (Colditz et al. 1994): large heterogeneity")
cases[[2]] <- bin_case("bcg_OR", bcg, "OR", "dat.bcg (Colditz et al. 1994)")
cases[[3]] <- bin_case("nielweise2007_RR", dat.nielweise2007, "RR", "dat.nielweise2007: single-zero and one double-zero study")
cases[[4]] <- bin_case("nielweise2007_OR", dat.nielweise2007, "OR", "dat.nielweise2007")
cases[[5]] <- cont_case("normand1999_MD", dat.normand1999, "MD", "dat.normand1999: continuous, large heterogeneity")
cases[[6]] <- cont_case("normand1999_SMD", dat.normand1999, "SMD", "dat.normand1999: continuous SMD (Hedges g)")
li <- dat.li2007[complete.cases(dat.li2007[, c("ai", "n1i", "ci", "n2i")]), ]
cases[[7]] <- bin_case("li2007_OR", li, "OR", "dat.li2007 (magnesium, mortality): rare events, zeros")

# subgroup analysis (RevMan style): separate DL fits by allocation, then the test for subgroup
# differences = EE heterogeneity Q across the subgroup estimates
es <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
subs <- lapply(split(es, es$alloc), function(d) rma(yi, vi, data = d, method = "DL"))
est <- sapply(subs, function(r) as.numeric(r$beta)); sei <- sapply(subs, function(r) r$se)
tsd <- rma(est, sei = sei, method = "EE")
subgroups <- list(id = "bcg_RR_by_alloc", call = "lapply(split(es, es$alloc), rma(method='DL')); rma(est, sei=se, method='EE')$QE",
                  groups = as.character(es$alloc), yi = as.numeric(es$yi), vi = as.numeric(es$vi),
                  estimates = as.list(est), se = as.list(sei), QM = tsd$QE, QMp = tsd$QEp)

out <- list(R = R.version.string, subgroups = subgroups, metafor = as.character(packageVersion("metafor")),
            metadat = as.character(packageVersion("metadat")), control = ctrl, cases = cases)
dir.create("tests/golden", showWarnings = FALSE, recursive = TRUE)
write_json(out, "tests/golden/metafor.json", digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null")
cat("wrote tests/golden/metafor.json\n")
