# Golden reference values from metafor for bayesmeta's effect sizes, frequentist engine,
# Mantel-Haenszel pooling and subgroup analyses.
#
# Run from the repository root:  ./dev golden   (= Rscript validation/metafor/make_golden.R)
# Needs: apt-get install -y r-base-core r-cran-metafor r-cran-metadat r-cran-jsonlite
# Writes tests/golden/metafor.json with the R, metafor and metadat versions, the exact calls and
# every number at full precision (write_json(digits = NA) keeps 15-17 significant digits).
#
# Convergence: metafor stops its Fisher scoring for REML/ML (and its root finding for PM) at a
# change in tau^2 below control$threshold = 1e-5 by default. That default alone would put metafor's
# tau^2 only ~1e-5 from the root, which is looser than the rtol = 1e-6 used in the Python tests. All
# calls below therefore pass control = list(threshold = 1e-12, tol = 1e-12, maxiter = 10000,
# stepadj = 0.5) (step halving keeps Fisher scoring stable at that threshold), and confint() gets
# control = list(tol = 1e-12). Both sides then solve the same estimating equations to ~1e-12.
#
# Measured agreement of bayesmeta with these values (R 4.2.2, metafor 3.8-1; tests/test_*):
#   escalc yi/vi (SMD, MD, RR, OR, RD, zero cells): <= 1e-13 relative (same closed forms)
#   rma EE/DL/HE/SJ: <= 1.3e-12; PM: <= 5e-10; REML: <= 4e-8; ML: <= 2e-7 (beta, se, tau2, CI,
#     PI, I2, Q-profile bounds; over 11 cases x tests z, t, knha, adhoc). The largest differences
#     are in mu for dat.nielweise2007 RD, where tau2 ~ 1e-4: metafor's threshold is an absolute
#     change in tau2 (1e-12), bayesmeta solves the score to 1e-14; bayesmeta's root has the
#     smaller score there.
#   rma.mh RR/OR/RD (Sato RD variance), Q, I2: <= 1e-14; RevMan MH+DL random effects: <= 1e-14;
#   subgroup Q_between: <= 1e-13; mixed-effects QM / tau2: <= 4e-12.
# Where the programs differ by design (documented in the Python docstrings): RevMan's SMD
# (approximate J, variance with N - 3.94; no R reference), RevMan's Greenland-Robins variance for
# the MH risk difference (metafor: Sato), RevMan's 0.5 correction inside the MH sums (metafor uses
# raw counts), and the t(k-2) prediction interval (metafor: z or t(k-1)).
suppressPackageStartupMessages({library(metafor); library(metadat); library(jsonlite)})

ctrl <- list(threshold = 1e-12, tol = 1e-12, maxiter = 10000, stepadj = 0.5)
ctrl_txt <- "control=list(threshold=1e-12, tol=1e-12, maxiter=10000, stepadj=0.5)"
methods <- c("EE", "DL", "REML", "PM", "ML", "HE", "SJ")
tests <- c("z", "t", "knha", "adhoc")
num <- function(x) if (is.null(x)) NA_real_ else as.numeric(x)

fit_one <- function(es, m, tst) {
  r <- rma(yi, vi, data = es, method = m, test = tst, control = ctrl)
  p <- predict(r)
  ci <- if (m == "EE") c(NA, NA) else
    confint(r, control = list(tol = 1e-12, tau2.max = 1e6))$random[1, 2:3]
  list(call = sprintf("rma(yi, vi, method='%s', test='%s', %s); predict(); confint(control=list(tol=1e-12))",
                      m, tst, ctrl_txt),
       beta = num(r$beta), se = r$se, zval = r$zval, pval = r$pval, ci_lb = r$ci.lb, ci_ub = r$ci.ub,
       ddf = if (tst == "z") NA_real_ else num(r$ddf), tau2 = r$tau2, I2 = r$I2, H2 = r$H2, QE = r$QE, QEp = r$QEp,
       k = r$k, pi_lb = num(p$pi.lb), pi_ub = num(p$pi.ub), tau2_lb = num(ci[1]), tau2_ub = num(ci[2]))
}

fit_all <- function(es) {
  out <- list()
  for (m in methods) for (tst in tests) out[[paste(m, tst, sep = "_")]] <- fit_one(es, m, tst)
  out
}

# rma.mh with metafor's defaults: the MH estimate from the raw counts; Q (and I^2) from the
# study-level estimates with add = 1/2 to = "only0", drop00 = TRUE. RD uses the Sato variance.
mh_all <- function(d) {
  out <- list()
  for (meas in c("RR", "OR", "RD")) {
    r <- rma.mh(ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = d, measure = meas)
    out[[meas]] <- list(call = sprintf("rma.mh(ai, n1i, ci, n2i, measure='%s')  # add=1/2, to='only0', drop00=TRUE", meas),
                        beta = num(r$beta), se = r$se, zval = r$zval, pval = r$pval, ci_lb = r$ci.lb,
                        ci_ub = r$ci.ub, QE = r$QE, QEp = r$QEp, k = r$k, k_pos = num(r$k.pos),
                        I2 = r$I2, H2 = r$H2)
    # RevMan 5 random effects for MH analyses (no R package implements it here): DerSimonian-Laird
    # with the MH-based Q (= rma.mh's QE), then the inverse-variance estimate with that tau^2.
    es <- escalc(meas, ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = d, drop00 = TRUE)
    es <- es[!is.na(es$yi), ]
    w <- 1 / es$vi
    tau2 <- max(0, (r$QE - (nrow(es) - 1)) / (sum(w) - sum(w^2) / sum(w)))
    re <- rma(yi, vi, data = es, tau2 = tau2, method = "DL")
    out[[meas]]$revman_re <- list(
      call = "tau2 <- max(0, (rma.mh(...)$QE - (k-1)) / (sum(w) - sum(w^2)/sum(w))); rma(yi, vi, tau2=tau2)  # escalc(drop00=TRUE), w = 1/vi",
      tau2 = tau2, beta = num(re$beta), se = re$se, ci_lb = re$ci.lb, ci_ub = re$ci.ub, pval = re$pval)
  }
  out
}

bin_case <- function(id, d, measure, source) {
  es <- escalc(measure, ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = d, drop00 = measure != "RD")
  list(id = id, source = source, measure = measure,
       call = sprintf("escalc('%s', ai, n1i, ci, n2i, drop00=%s)  # add=1/2, to='only0' (defaults)",
                      measure, if (measure == "RD") "FALSE" else "TRUE"),
       data = list(ai = d$ai, n1i = d$n1i, ci = d$ci, n2i = d$n2i),
       yi = as.numeric(es$yi), vi = as.numeric(es$vi), rma = fit_all(es[!is.na(es$yi), ]), mh = mh_all(d))
}
cont_case <- function(id, d, measure, source) {
  es <- escalc(measure, m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i, data = d)
  list(id = id, source = source, measure = measure,
       call = sprintf("escalc('%s', m1i, sd1i, n1i, m2i, sd2i, n2i)  # SMD: exact J (vtype='LS')", measure),
       data = list(m1i = d$m1i, sd1i = d$sd1i, n1i = d$n1i, m2i = d$m2i, sd2i = d$sd2i, n2i = d$n2i),
       yi = as.numeric(es$yi), vi = as.numeric(es$vi), rma = fit_all(es))
}

bcg <- with(dat.bcg, data.frame(ai = tpos, n1i = tpos + tneg, ci = cpos, n2i = cpos + cneg))
niel <- dat.nielweise2007[, c("ai", "n1i", "ci", "n2i")]
li <- dat.li2007[complete.cases(dat.li2007[, c("ai", "n1i", "ci", "n2i")]), c("ai", "n1i", "ci", "n2i")]
gib <- dat.gibson2002[complete.cases(dat.gibson2002[, c("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i")]), ]

cases <- list(
  bin_case("bcg_RR", bcg, "RR", "dat.bcg (Colditz et al. 1994, doi:10.1001/jama.1994.03510330076038): 13 trials, large heterogeneity (I2 ~ 92%)"),
  bin_case("bcg_OR", bcg, "OR", "dat.bcg (Colditz et al. 1994)"),
  bin_case("bcg_RD", bcg, "RD", "dat.bcg (Colditz et al. 1994)"),
  bin_case("nielweise2007_RR", niel, "RR", "dat.nielweise2007 (Niel-Weise et al. 2007, doi:10.1007/s00134-007-0863-9): 6 single-zero studies and one double-zero study (Yucel 2004)"),
  bin_case("nielweise2007_OR", niel, "OR", "dat.nielweise2007"),
  bin_case("nielweise2007_RD", niel, "RD", "dat.nielweise2007 (the double-zero study kept for RD, 1/2 added to its cells)"),
  bin_case("li2007_OR", li, "OR", "dat.li2007 (Li et al. 2007, magnesium and mortality): rare events, zero cells"),
  cont_case("normand1999_MD", dat.normand1999, "MD", "dat.normand1999 (Normand 1999, doi:10.1002/(SICI)1097-0258(19990215)18:3<321::AID-SIM28>3.0.CO;2-P): length of stay, large heterogeneity"),
  cont_case("normand1999_SMD", dat.normand1999, "SMD", "dat.normand1999: Hedges' g"),
  cont_case("gibson2002_SMD", gib, "SMD", "dat.gibson2002 (Gibson et al. 2002, Cochrane review of asthma self-management): complete rows, Hedges' g"),
  cont_case("gibson2002_MD", gib, "MD", "dat.gibson2002: complete rows, mean difference")
)

# Subgroups: dat.bcg log RR by allocation (random / alternate / systematic).
# (a) RevMan 5: a separate fit per subgroup (own tau^2), then the test for subgroup differences
#     = Cochran's Q across the subgroup estimates with their SEs = rma(est, sei, method='EE')$QE.
# (b) metafor's mixed-effects model with a common tau^2: rma(yi, vi, mods = ~ factor(alloc)), QM.
es <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
revman <- list()
for (m in c("EE", "DL", "REML", "PM")) {
  subs <- lapply(split(es, es$alloc), function(d) rma(yi, vi, data = d, method = m, control = ctrl))
  est <- sapply(subs, function(r) num(r$beta)); sei <- sapply(subs, function(r) r$se)
  tsd <- rma(est, sei = sei, method = "EE")
  revman[[m]] <- list(call = sprintf("lapply(split(es, es$alloc), function(d) rma(yi, vi, data=d, method='%s', %s)); rma(est, sei=se, method='EE')$QE", m, ctrl_txt),
                      estimates = as.list(est), se = as.list(sei), tau2 = as.list(sapply(subs, function(r) r$tau2)),
                      Q_between = tsd$QE, df = tsd$k - 1, p = tsd$QEp)
}
mixed <- list()
for (m in c("EE", "DL", "REML", "PM", "ML")) {
  r <- rma(yi, vi, mods = ~ factor(alloc), data = es, method = m, control = ctrl)
  mixed[[m]] <- list(call = sprintf("rma(yi, vi, mods=~factor(alloc), method='%s', %s)", m, ctrl_txt),
                     QM = r$QM, QMdf = num(r$QMdf[1]), QMp = r$QMp, tau2 = r$tau2, QE = r$QE, QEp = r$QEp,
                     beta = as.list(setNames(as.numeric(r$beta), rownames(r$beta))),
                     se = as.list(setNames(r$se, rownames(r$beta))))
}
subgroups <- list(id = "bcg_RR_by_alloc", escalc = "escalc('RR', ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg)",
                  groups = as.character(es$alloc), yi = as.numeric(es$yi), vi = as.numeric(es$vi),
                  revman = revman, mixed = mixed)

out <- list(R = R.version.string, metafor = as.character(packageVersion("metafor")),
            metadat = as.character(packageVersion("metadat")), jsonlite = as.character(packageVersion("jsonlite")),
            created = format(Sys.time(), "%Y-%m-%d", tz = "UTC"), script = "validation/metafor/make_golden.R",
            control = ctrl, cases = cases, subgroups = subgroups)
dir.create("tests/golden", showWarnings = FALSE, recursive = TRUE)
write_json(out, "tests/golden/metafor.json", digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null")
cat("wrote tests/golden/metafor.json\n")
