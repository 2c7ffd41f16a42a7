# Golden values from metafor for meta-regression with every tau^2 estimator metafor offers with
# moderators (issue 11): DL, HE, HS, SJ, ML, REML, EB, PM, each with test = "z" and "knha".
#
# Run from the repository root:  Rscript validation/metafor/make_golden_metareg.R
# Writes tests/golden/metafor_metareg.json (full precision). Iterative estimators (ML, REML, EB, PM)
# are solved with control(threshold = 1e-12, tol = 1e-12, maxiter = 10000, stepadj = 0.5), so the
# reference tau^2 is converged to ~1e-12.
suppressPackageStartupMessages({library(metafor); library(metadat); library(jsonlite)})
ctrl <- list(threshold = 1e-12, tol = 1e-12, maxiter = 10000, stepadj = 0.5)
bcg <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
num <- function(x) if (is.null(x)) NA_real_ else as.numeric(x)
out <- list(versions = list(R = R.version.string, metafor = as.character(packageVersion("metafor")),
                            metadat = as.character(packageVersion("metadat"))),
            data = list(source = "dat.bcg (metadat), escalc('RR', ai=tpos, bi=tneg, ci=cpos, di=cneg)",
                        yi = as.numeric(bcg$yi), vi = as.numeric(bcg$vi), ablat = bcg$ablat,
                        alloc = as.character(bcg$alloc)),
            fits = list())
mods <- list(ablat = ~ ablat, alloc = ~ alloc, ablat_year = ~ ablat + year)
for (mn in names(mods)) for (m in c("DL", "HE", "HS", "SJ", "ML", "REML", "EB", "PM")) for (tt in c("z", "knha")) {
  r <- rma(yi, vi, mods = mods[[mn]], data = bcg, method = m, test = tt, control = ctrl)
  out$fits[[paste(mn, m, tt, sep = "_")]] <- list(
    call = sprintf("rma(yi, vi, mods = %s, data = bcg, method = '%s', test = '%s', control = ctrl)",
                   deparse(mods[[mn]]), m, tt),
    mods = mn, method = m, test = tt, X = unname(model.matrix(mods[[mn]], data = bcg)),
    names = rownames(r$beta), beta = num(r$beta), se = num(r$se), zval = num(r$zval), pval = num(r$pval),
    ci_lb = num(r$ci.lb), ci_ub = num(r$ci.ub), tau2 = r$tau2, se_tau2 = num(r$se.tau2),
    QE = r$QE, QEp = r$QEp, QM = r$QM, QMp = r$QMp, QMdf = num(r$QMdf), R2 = num(r$R2), I2 = r$I2, H2 = r$H2)
}
write_json(out, "tests/golden/metafor_metareg.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
