# Golden values for every effect measure of bayesmeta's escalc that metafor's escalc() computes
# (issue 18, item 2): correlations, proportions, incidence rates, ratio of means, SMDH, SMD1,
# change scores, AS, MN/MNLN, (semi-)partial correlations, with metafor's add / to / drop00 / vtype
# arguments; metafor's back-transformations (transf.ztor, transf.ilogit, transf.iarcsin,
# transf.ipft.hm, transf.iirft, exp); summary(escalc) columns (sei, zi, pval, ci.lb, ci.ub).
#
# Run from the repository root:  Rscript validation/metafor/make_golden_measures.R
# Needs: metafor, metadat, jsonlite, gsl (UCOR). Writes tests/golden/metafor_measures.json with
# the R, metafor and metadat versions, the exact call of each case and every number at full
# precision (digits = NA). Read by tests/test_measures_golden.py (rtol 1e-10: the same closed
# forms; the hypergeometric function of UCOR comes from gsl in R and scipy in Python).
suppressPackageStartupMessages({library(metafor); library(metadat); library(jsonlite)})

cases <- list()
add_case <- function(id, measure, data, opts = list()) {
  call <- c(list(measure = measure), data, opts)
  es <- suppressWarnings(do.call(escalc, call))
  opts_txt <- if (length(opts)) paste0(", ", paste(names(opts), sapply(opts, deparse), sep = "=", collapse = ", ")) else ""
  cases[[length(cases) + 1]] <<- list(
    id = id, measure = measure, data = data, options = opts,
    call = paste0("escalc(measure=\"", measure, "\", ", paste(names(data), collapse = ", "), opts_txt, ")"),
    yi = as.numeric(es$yi), vi = as.numeric(es$vi))
}

## two-group continuous: dat.normand1999 (Normand 1999, length of stay)
nd <- dat.normand1999
cont <- list(m1i = nd$m1i, sd1i = nd$sd1i, n1i = nd$n1i, m2i = nd$m2i, sd2i = nd$sd2i, n2i = nd$n2i)
for (vt in c("LS", "UB", "LS2", "AV")) add_case(paste0("normand_SMD_", vt), "SMD", cont, list(vtype = vt))
for (vt in c("LS", "LS2")) add_case(paste0("normand_SMDH_", vt), "SMDH", cont, list(vtype = vt))
for (vt in c("LS", "UB", "LS2", "AV")) add_case(paste0("normand_SMD1_", vt), "SMD1", cont, list(vtype = vt))
for (vt in c("LS", "HO", "AV", "AVHO")) add_case(paste0("normand_ROM_", vt), "ROM", cont, list(vtype = vt))
for (vt in c("LS", "HO")) add_case(paste0("normand_MD_", vt), "MD", cont, list(vtype = vt))

## two-group binary: dat.bcg with two zero-cell rows appended
bcg <- dat.bcg
bin <- list(ai = c(bcg$tpos, 0, 0), bi = c(bcg$tneg, 30, 20), ci = c(bcg$cpos, 3, 0), di = c(bcg$cneg, 27, 25))
add_case("bcg_AS", "AS", bin)
add_case("bcg_AS_add", "AS", bin, list(add = 0.5))
for (vt in c("LS", "UB", "AV")) add_case(paste0("bcg_RD_", vt), "RD", bin, list(vtype = vt))
add_case("bcg_PETO", "PETO", bin)
add_case("bcg_RR_if0all", "RR", bin, list(to = "if0all"))
add_case("bcg_OR_all_add1", "OR", bin, list(to = "all", add = 1))
add_case("bcg_RR_drop00", "RR", bin, list(drop00 = TRUE))
add_case("bcg_RD_none", "RD", bin, list(to = "none"))

## two-group incidence rates: dat.hart1999 with a zero row and a double-zero row appended
hr <- dat.hart1999
rates <- list(x1i = c(hr$x1i, 0, 0), t1i = c(hr$t1i, 120, 80), x2i = c(hr$x2i, 4, 0), t2i = c(hr$t2i, 110, 90))
for (m in c("IRR", "IRD", "IRSD")) add_case(paste0("hart_", m), m, rates)
add_case("hart_IRR_drop00", "IRR", rates, list(drop00 = TRUE))
add_case("hart_IRR_all", "IRR", rates, list(to = "all"))
add_case("hart_IRD_none", "IRD", rates, list(to = "none"))

## correlations: dat.mcdaniel1994 (first 40 rows and metafor's test rows 1, 13, 33, 102) plus small n
mc <- dat.mcdaniel1994[c(1:40, 13, 33, 102), ]
corr <- list(ri = c(mc$ri, 0.3, 0.4, 0.5), ni = c(mc$ni, 3, 4, 5))
for (m in c("COR", "ZCOR")) add_case(paste0("mcdaniel_", m), m, corr)
add_case("mcdaniel_COR_AV", "COR", corr, list(vtype = "AV"))
for (vt in c("LS", "UB", "AV")) add_case(paste0("mcdaniel_UCOR_", vt), "UCOR", corr, list(vtype = vt))

## partial correlations: dat.aloe2013
al <- dat.aloe2013
pc <- list(ti = al$tval, ni = al$n, mi = al$preds)
add_case("aloe_PCOR", "PCOR", pc)
add_case("aloe_PCOR_AV", "PCOR", pc, list(vtype = "AV"))
add_case("aloe_ZPCOR", "ZPCOR", pc)
add_case("aloe_SPCOR", "SPCOR", c(pc, list(r2i = al$R2)))

## proportions: dat.pritz1997 with 0 events and all events appended
pr <- dat.pritz1997
props <- list(xi = c(pr$xi, 0, 12), ni = c(pr$ni, 25, 12))
for (m in c("PR", "PLN", "PLO", "PAS", "PFT")) add_case(paste0("pritz_", m), m, props)
add_case("pritz_PR_UB", "PR", props, list(vtype = "UB"))
add_case("pritz_PR_AV", "PR", props, list(vtype = "AV"))
add_case("pritz_PLO_AV", "PLO", props, list(vtype = "AV"))
add_case("pritz_PLN_AV", "PLN", props, list(vtype = "AV"))
add_case("pritz_PLO_all", "PLO", props, list(to = "all"))
add_case("pritz_PR_none", "PR", props, list(to = "none"))
add_case("pritz_PFT_add", "PFT", props, list(add = 0.5))

## single-group rates: dat.hart1999 experimental arms plus a zero count
ir <- list(xi = c(hr$x1i, 0), ti = c(hr$t1i, 75))
for (m in c("IR", "IRLN", "IRS", "IRFT")) add_case(paste0("hart_", m), m, ir)
add_case("hart_IRLN_all", "IRLN", ir, list(to = "all", add = 1))

## single-group means: dat.normand1999 experimental arms
mn <- list(mi = nd$m1i, sdi = nd$sd1i, ni = nd$n1i)
for (m in c("MN", "MNLN")) add_case(paste0("normand_", m), m, mn)

## paired changes: metafor's test_misc_escalc.r example (26, 22, sqrt(30), sqrt(20), 60, 0.7) and four more
pair <- list(m1i = c(26, 30.2, 12.5, 8.1, 101), m2i = c(22, 27.9, 13.1, 6.0, 95),
             sd1i = c(sqrt(30), 6.1, 3.3, 2.2, 15), sd2i = c(sqrt(20), 5.8, 3.0, 2.5, 14),
             ni = c(60, 25, 40, 12, 80), ri = c(0.7, 0.5, 0.8, 0.3, 0.6))
for (m in c("MC", "SMCC", "SMCRH", "ROMC")) add_case(paste0("paired_", m), m, pair)
add_case("paired_SMCR", "SMCR", pair[c("m1i", "m2i", "sd1i", "ni", "ri")])
add_case("paired_SMCR_LS2", "SMCR", pair[c("m1i", "m2i", "sd1i", "ni", "ri")], list(vtype = "LS2"))
add_case("paired_SMCC_LS2", "SMCC", pair, list(vtype = "LS2"))

## back-transformations (metafor's transf functions)
x <- c(-1.2, -0.3, 0, 0.4, 1.1)
xa <- c(-0.1, 0.2, 0.7, 1.2, 1.7)
nn <- c(12, 40, 25, 100)
tt <- c(20, 55, 80)
back <- list(
  list(measure = "ZCOR", x = x, out = transf.ztor(x), call = "transf.ztor(x)"),
  list(measure = "PLO", x = x, out = transf.ilogit(x), call = "transf.ilogit(x)"),
  list(measure = "RR", x = x, out = exp(x), call = "exp(x)"),
  list(measure = "PLN", x = x, out = exp(x), call = "exp(x)"),
  list(measure = "PAS", x = xa, out = transf.iarcsin(xa), call = "transf.iarcsin(x)"),
  list(measure = "PFT", x = xa, ni = nn, out = transf.ipft.hm(xa, targs = list(ni = nn)),
       call = "transf.ipft.hm(x, targs=list(ni=ni))"),
  list(measure = "IRFT", x = c(0.01, 0.1, 0.3, 0.6), ni = 40, out = transf.iirft(c(0.01, 0.1, 0.3, 0.6), 40),
       call = "transf.iirft(x, ti=40)"),
  list(measure = "IRS", x = c(0.1, 0.3, 0.6), out = c(0.1, 0.3, 0.6)^2, call = "x^2"))

## summary(escalc): the per-study table
s <- summary(escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg))
s90 <- summary(escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg), level = 90)
sz <- summary(escalc(measure = "ZCOR", ri = ri, ni = ni, data = dat.mcdaniel1994[1:10, ]), transf = transf.ztor)
summ <- list(
  bcg_RR = list(call = "summary(escalc('RR', ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg))",
                tpos = dat.bcg$tpos, tneg = dat.bcg$tneg, cpos = dat.bcg$cpos, cneg = dat.bcg$cneg,
                yi = s$yi, vi = s$vi, sei = s$sei, zi = s$zi, pval = s$pval, ci_lb = s$ci.lb, ci_ub = s$ci.ub),
  bcg_RR_90 = list(call = "summary(..., level=90)", ci_lb = s90$ci.lb, ci_ub = s90$ci.ub),
  mcdaniel_ZCOR_ztor = list(call = "summary(escalc('ZCOR', ri, ni, data=dat.mcdaniel1994[1:10,]), transf=transf.ztor)",
                            ri = dat.mcdaniel1994$ri[1:10], ni = dat.mcdaniel1994$ni[1:10],
                            yi = as.numeric(sz$yi), ci_lb = sz$ci.lb, ci_ub = sz$ci.ub))

out <- list(
  r_version = R.version.string, metafor = as.character(packageVersion("metafor")),
  metadat = as.character(packageVersion("metadat")), gsl = as.character(packageVersion("gsl")),
  script = "validation/metafor/make_golden_measures.R", cases = cases, back_transform = back, summary = summ)
write_json(out, "tests/golden/metafor_measures.json", digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null")
cat("wrote", length(cases), "escalc cases,", length(back), "back-transforms\n")
