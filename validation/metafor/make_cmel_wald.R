# The Wald-type heterogeneity test of the conditional logistic model (rma.glmm model="CM.EL") of
# Rothman, Greenland & Lash 2008 Tables 15-1 and 15-5 (metafor's test_analysis_example_rothman2008.r,
# lines 141 and 388), for tests/test_cmel_wald.py. metafor prints 0.3480 and 0.1327 with its default
# optimiser; this script evaluates metafor's OWN saturated likelihood (metafor:::.dnchg, BiasedUrn's
# dFNCHypergeo at precision 1e-10) at its maximum (optim BFGS, reltol 1e-15) with numDeriv's Hessian,
# and also reruns rma.glmm with optimizer "optim"/BFGS: the statistic moves with the optimiser, and at
# the optimum it is the value bayesmeta computes.
# Needs: apt-get install -y r-cran-metafor r-cran-biasedurn r-cran-numderiv r-cran-jsonlite
# Run from the repository root: Rscript validation/metafor/make_cmel_wald.R
suppressMessages({library(metafor); library(BiasedUrn); library(numDeriv); library(jsonlite)})
one <- function(ai, bi, ci, di) {
  X <- cbind(1, c(0,1))
  nll <- function(par) metafor:::.dnchg(c(par,0), ai=ai, bi=bi, ci=ci, di=di, X.fit=X, random=FALSE, verbose=FALSE, digits=4, dnchgcalc="dFNCHypergeo", dnchgprec=1e-10)
  fit <- optim(c(0,0), nll, method="BFGS", control=list(reltol=1e-15))
  V <- solve(hessian(nll, fit$par))
  d <- rma.glmm(ai=ai, bi=bi, ci=ci, di=di, measure="OR", model="CM.EL", method="EE")
  b <- rma.glmm(ai=ai, bi=bi, ci=ci, di=di, measure="OR", model="CM.EL", method="EE", control=list(optimizer="optim", optmethod="BFGS"))
  list(wald_at_saturated_mle=fit$par[2]^2 / V[2,2], saturated_mle=fit$par, nll_at_mle=fit$value,
       metafor_default=d$QE.Wld, metafor_optim_bfgs=b$QE.Wld)
}
out <- list(table_15_1=one(c(8,22), c(98,76), c(5,16), c(115,69)),
            table_15_5=one(c(3,1), c(9,3), c(104,5), c(1059,86)),
            versions=list(metafor=as.character(packageVersion("metafor")), BiasedUrn=as.character(packageVersion("BiasedUrn"))))
writeLines(toJSON(out, digits=NA, auto_unbox=TRUE, pretty=TRUE), "tests/golden/metafor_cmel_wald.json")
