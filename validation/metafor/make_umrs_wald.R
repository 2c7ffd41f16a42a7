# metafor's Wald-type heterogeneity test of the UM.RS GLMM (rma.glmm model="UM.RS"), for
# tests/test_metafor_testthat_umrs.py. Run: Rscript validation/metafor/make_umrs_wald.R (repository root).
suppressMessages({library(metafor); library(jsonlite)})
fit <- function(ai, n1i, ci, n2i, method) {
  r <- suppressWarnings(rma.glmm(measure="OR", ai=ai, n1i=n1i, ci=ci, n2i=n2i, model="UM.RS", method=method))
  list(QE_Wld=r$QE.Wld, QE_Wld_p=r$QEp.Wld, QE_LRT=r$QE.LRT, QE_df=r$QE.df, mu=c(r$beta), tau2=r$tau2)
}
n <- dat.nielweise2007
b <- dat.bcg
out <- list(
  R=R.version.string, metafor=as.character(packageVersion("metafor")), lme4=as.character(packageVersion("lme4")),
  call="rma.glmm(measure='OR', ai, n1i, ci, n2i, model='UM.RS', method=M)",
  nielweise2007=list(EE=fit(n$ai, n$n1i, n$ci, n$n2i, "EE"), ML=fit(n$ai, n$n1i, n$ci, n$n2i, "ML")),
  bcg=list(ML=fit(b$tpos, b$tpos + b$tneg, b$cpos, b$cpos + b$cneg, "ML")))
writeLines(toJSON(out, auto_unbox=TRUE, digits=NA, pretty=TRUE), "tests/golden/metafor_umrs_wald.json")
