# Golden values for tests/test_rma_mv.py: metafor's rma.mv on the data the ports use
# (tests/golden/metafor_testthat/data/*.csv, exported from metadat by export_metadat.R).
# Run from the repository root: Rscript validation/metafor/make_golden_rma_mv.R
# Writes tests/golden/metafor_rma_mv.json (R is not needed in CI).
suppressPackageStartupMessages({library(metafor); library(jsonlite)})
dd <- "tests/golden/metafor_testthat/data"
kon <- read.csv(file.path(dd, "konstantopoulos2011.csv"))
ber <- read.csv(file.path(dd, "berkey1998.csv"))
Vb <- bldiag(lapply(split(ber[, c("v1i", "v2i")], ber$trial), as.matrix))
ish <- read.csv(file.path(dd, "ishak2007.csv"))
long <- reshape(ish, direction = "long", idvar = "study", v.names = c("yi", "vi"),
                varying = list(c(2, 4, 6, 8), c(3, 5, 7, 9)))
long <- long[order(long$study, long$time), ]
miss <- is.na(long$yi)
Vi <- lapply(split(with(ish, cbind(v1i, v2i, v3i, v4i)), ish$study), diag)
Vi <- lapply(Vi, function(v) sqrt(v) %*% toeplitz(ARMAacf(ar = .97, lag.max = 3)) %*% sqrt(v))
Vi <- bldiag(Vi)[!miss, !miss]
long <- long[!miss, ]

fit <- function(res) {
  out <- list(beta = unname(c(coef(res))), se = unname(res$se), zval = unname(res$zval), pval = unname(res$pval),
              ci_lb = unname(res$ci.lb), ci_ub = unname(res$ci.ub), vb = unname(vcov(res)),
              QE = res$QE, QEp = res$QEp, QM = res$QM, QMp = res$QMp,
              logLik = c(logLik(res)), deviance = c(deviance(res)), AIC = AIC(res), BIC = BIC(res),
              AICc = fitstats(res)[["AICc:", 1]], parms = res$parms)
  if (res$withS) out$sigma2 <- res$sigma2
  if (res$withG) { out$tau2 <- res$tau2; out$rho <- res$rho }
  out
}
ci <- function(res) {
  s <- confint(res)
  if (!is.null(s$random)) s <- list(s) else s <- Filter(function(x) is.list(x) && !is.null(x$random), s)
  lapply(s, function(x) list(rows = rownames(x$random), estimate = unname(x$random[, 1]),
                             ci_lb = unname(x$random[, 2]), ci_ub = unname(x$random[, 3])))
}
g <- list()
r <- rma.mv(yi, vi, random = ~ 1 | district/study, data = kon)
rb <- robust(r, cluster = kon$district)
g$kon_reml_robust <- list(beta = unname(c(rb$beta)), se = unname(rb$se), zval = unname(rb$zval),
                          pval = unname(rb$pval), ci_lb = unname(rb$ci.lb), ci_ub = unname(rb$ci.ub), df = rb$ddf)
g$kon_reml <- c(fit(r), list(confint = ci(r), ranef_district = unname(ranef(r)[[1]]$intrcpt),
                             ranef_district_se = unname(ranef(r)[[1]]$se),
                             ml = unname(unlist(fitstats(r, REML = FALSE)[1:5, 1]))))
r <- rma.mv(yi, vi, random = ~ 1 | district/study, data = kon, method = "ML")
g$kon_ml <- c(fit(r), list(confint = ci(r)))
r <- rma.mv(yi, vi, mods = ~ I(year - mean(year)), random = ~ 1 | district/study, data = kon, method = "ML",
            test = "t")
rb <- robust(r, cluster = kon$district, clubSandwich = TRUE)
g$kon_ml_t_cr2 <- list(se = unname(rb$se), df = unname(rb$ddf), pval = unname(rb$pval), ci_lb = unname(rb$ci.lb),
                       QM = rb$QM, QMdf = rb$QMdf, QMp = rb$QMp)
p <- predict(r, newmods = c(-10, 0, 10))
g$kon_ml_t <- c(fit(r), list(QMdf = r$QMdf, pred = p$pred, pred_se = p$se, pred_ci_lb = p$ci.lb,
                             pred_pi_lb = p$pi.lb, pred_pi_ub = p$pi.ub))
r <- rma.mv(yi, vi, random = ~ factor(study) | district, data = kon)
g$kon_cs <- c(fit(r), list(confint = ci(r)))
r <- rma.mv(yi, vi, random = list(~ 1 | district, ~ factor(district) | study), struct = "DIAG", data = kon,
            control = list(optimizer = "optim"))
g$kon_diag <- fit(r)
r <- rma.mv(yi, Vb, mods = ~ 0 + outcome + outcome:I(year - 1983), random = ~ outcome | trial, struct = "UN",
            data = ber, method = "ML")
a <- anova(r, X = rbind(c(1, -1, 0, 0), c(0, 0, 1, -1)))
rb <- robust(r, cluster = ber$trial)
g$ber_un_robust <- list(beta = unname(c(rb$beta)), se = unname(rb$se), pval = unname(rb$pval), QM = rb$QM,
                        QMp = rb$QMp, QMdf = rb$QMdf)
rb0 <- robust(r, cluster = ber$trial, adjust = FALSE)
g$ber_un_robust$se_unadjusted <- unname(rb0$se)
g$ber_un <- c(fit(r), list(confint = ci(r), L_QM = a$QM, L_QMp = a$QMp, L_est = unname(c(a$Xb)),
                           L_se = unname(a$se)))
r1 <- rma.mv(yi, Vb, mods = ~ 0 + outcome, random = ~ outcome | trial, struct = "UN", data = ber)
r0 <- rma.mv(yi, Vb, mods = ~ 0 + outcome, random = ~ outcome | trial, struct = "CS", data = ber)
a <- anova(r0, r1)
p <- predict(r1, newmods = rbind(c(1, 0), c(0, 1)), tau2.levels = c(1, 2))
g$ber_lrt_reml <- list(LRT = a$LRT, pval = a$pval, un = fit(r1), cs = fit(r0),
                       pred = p$pred, pi_lb = p$pi.lb, pi_ub = p$pi.ub)
r <- rma.mv(yi, Vb, mods = ~ 0 + outcome, random = ~ outcome | trial, struct = "HCS", data = ber)
g$ber_hcs <- fit(r)
r <- rma.mv(yi, Vb, mods = ~ 0 + outcome, random = ~ outcome | trial, struct = "UN", data = ber, test = "t")
g$ber_un_t <- c(fit(r), list(QMdf = r$QMdf))
r <- rma.mv(yi, Vi, mods = ~ 0 + factor(time), random = ~ time | study, struct = "AR", data = long)
rb <- robust(r, cluster = long$study, clubSandwich = TRUE)
g$ish_ar <- c(fit(r), list(confint = ci(r), cr2_se = unname(rb$se), cr2_df = unname(rb$ddf),
                           cr2_pval = unname(rb$pval)))
r <- rma.mv(yi, Vi, mods = ~ 0 + factor(time), random = ~ time | study, struct = "HCS", data = long, method = "ML")
g$ish_hcs_ml <- fit(r)
r <- rma.mv(yi, Vi, random = ~ 1 | study, data = long)
g$ish_sigma <- fit(r)
g$versions <- list(R = as.character(getRversion()), metafor = as.character(packageVersion("metafor")))
writeLines(toJSON(g, digits = NA, auto_unbox = TRUE, pretty = TRUE, matrix = "rowmajor"),
           "tests/golden/metafor_rma_mv.json")
