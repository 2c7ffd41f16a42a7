# Golden reference values from metafor for the study-level diagnostics and meta-regression that
# `bayesmeta reanalyze` runs on the public stand-ins (models/colditz1994.toml, models/normand1999.toml):
# influence() with metafor's influential flags (is.infl), leave1out(), baujat(), regtest(), trimfill()
# of rma(yi, vi) (REML, z: metafor's defaults), and rma(yi, vi, mods = ~ ablat) / ~ factor(alloc)
# (REML with the z test and with Knapp-Hartung) on dat.colditz1994.
#
# Run from the repository root:  Rscript validation/metafor/make_golden_study_level.R   (~2 s)
# Needs (Debian): r-base-core r-cran-metafor r-cran-metadat r-cran-jsonlite.
# Writes tests/golden/metafor_study_level.json (versions, exact calls, all numbers at full precision).
# Checked by tests/test_study_diagnostics.py (rtol 1e-6).
suppressPackageStartupMessages({library(metafor); library(metadat); library(jsonlite)})
pdf(NULL)  # baujat() draws; no Rplots.pdf

ctrl <- list(threshold = 1e-12, tol = 1e-12, maxiter = 10000, stepadj = 0.5)
ctrl_txt <- "control=list(threshold=1e-12, tol=1e-12, maxiter=10000, stepadj=0.5)"
num <- function(x) if (is.null(x)) NA_real_ else as.numeric(x)
out <- list()

col <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.colditz1994)
col$study <- paste(col$author, col$year)
nor <- escalc("SMD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i, data = dat.normand1999)
nor$study <- as.character(dat.normand1999$source)
sets <- list(colditz1994 = list(es = col, src = "escalc('RR', ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.colditz1994)"),
             normand1999 = list(es = nor, src = "escalc('SMD', m1i, sd1i, n1i, m2i, sd2i, n2i, data=dat.normand1999)"))

diag <- list()
for (nm in names(sets)) {
  es <- sets[[nm]]$es
  r <- rma(yi, vi, data = es, method = "REML", control = ctrl)
  inf <- influence(r)
  l1 <- leave1out(r)
  bj <- baujat(r, progbar = FALSE)
  blk <- list(
    call = sprintf("r <- rma(yi, vi, method='REML', %s); influence(r); leave1out(r); baujat(r)", ctrl_txt),
    data = sets[[nm]]$src, study = es$study, yi = as.numeric(es$yi), vi = as.numeric(es$vi),
    mu = as.numeric(r$beta), tau2 = r$tau2,
    influence = lapply(Filter(is.numeric, as.list(as.data.frame(inf$inf))), as.numeric), dfbetas = as.numeric(inf$dfbs$intrcpt),
    is_infl = as.logical(inf$is.infl),
    leave1out = lapply(as.list(as.data.frame(l1)), as.numeric),
    baujat = list(x = as.numeric(bj$x), y = as.numeric(bj$y)))
  if (r$k >= 10) {
    rt <- regtest(r)
    tf <- trimfill(r)
    blk$regtest <- list(call = "regtest(r)  # model='rma', predictor='sei'", zval = rt$zval, pval = rt$pval,
                        est = num(rt$est), ci_lb = num(rt$ci.lb), ci_ub = num(rt$ci.ub))
    blk$trimfill <- list(call = "trimfill(r)  # estimator='L0'", k0 = tf$k0, side = tf$side, beta = num(tf$beta),
                         se = tf$se, tau2 = tf$tau2)
  }
  diag[[nm]] <- blk
}
out$diagnostics <- diag

mr <- list()
ablat <- dat.colditz1994$ablat
alloc <- factor(dat.colditz1994$alloc)
for (f in c("ablat", "alloc")) for (tst in c("z", "knha")) {
  r <- if (f == "ablat") rma(yi, vi, mods = ~ ablat, data = col, method = "REML", test = tst, control = ctrl)
       else rma(yi, vi, mods = ~ factor(alloc), data = col, method = "REML", test = tst, control = ctrl)
  mr[[paste(f, tst, sep = "_")]] <- list(
    call = sprintf("rma(yi, vi, mods=~%s, data=<dat.colditz1994, escalc RR>, method='REML', test='%s', %s)",
                   if (f == "ablat") "ablat" else "factor(alloc)", tst, ctrl_txt),
    names = rownames(r$beta), beta = as.numeric(r$beta), se = r$se, pval = r$pval, ci_lb = r$ci.lb, ci_ub = r$ci.ub,
    tau2 = r$tau2, R2 = num(r$R2), QM = r$QM, QMp = r$QMp, s2w = r$s2w)
}
out$metareg <- mr

info <- list(R = R.version.string, metafor = as.character(packageVersion("metafor")),
             metadat = as.character(packageVersion("metadat")), control = ctrl)
write_json(c(info, out), "tests/golden/metafor_study_level.json", digits = NA, auto_unbox = TRUE, pretty = TRUE,
           na = "null")
cat("wrote tests/golden/metafor_study_level.json\n")
