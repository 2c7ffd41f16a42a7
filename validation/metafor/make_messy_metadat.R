# Five real data sets of metadat written as a new user would prepare them from the papers (issue 19,
# item 4: messy real files), and metafor's results on them.
# Run from the repository root: Rscript validation/metafor/make_messy_metadat.R
# Writes tests/data/metadat/{pagliaro1992,yusuf1985,curtis1998,fine1993,molloy2014}.csv and
# tests/data/metadat/metafor_messy.json (read by tests/test_messy_metadat.py).
#
# What makes each file messy (and what bayesmeta must do with it):
#   pagliaro1992  arm rows of a multi-arm review (beta-blockers, sclerotherapy, control; 2- and 3-arm
#                 trials): two arms are chosen, the third arm and the trials without both are left out
#                 with a note (metafor: escalc on the trials with both arms).
#   yusuf1985     one row per trial and table of the paper, not-reported trials written "NA" (kept out
#                 with a note, as metafor's rma drops NA rows), zero and double-zero cells (metafor's
#                 escalc defaults: 0.5 added, double zeros kept).
#   curtis1998    one row per study with many characteristic columns, "." for a missing level, SMD; a
#                 categorical moderator (fungrp) for a meta-regression (analyse --mods).
#   fine1993      four outcomes of the same trials (the user reshaped e1i..e4i into rows), a zero cell.
#   molloy2014    correlations as Fisher z (yi, vi) with moderator columns (meanage), author-year labels.
suppressPackageStartupMessages({library(metafor); library(metadat); library(jsonlite)})
dir.create("tests/data/metadat", showWarnings = FALSE, recursive = TRUE)
ctrl <- list(threshold = 1e-12, tol = 1e-12, maxiter = 10000, stepadj = 0.5)
fit <- function(f) list(k = f$k, mu = unname(coef(f))[1], se = f$se[1], tau2 = f$tau2, ci_lb = f$ci.lb[1],
                        ci_ub = f$ci.ub[1], I2 = f$I2, QE = f$QE)
reml <- function(es) fit(rma(yi, vi, data = es, method = "REML", control = ctrl))
w <- function(d, name) write.csv(d, file.path("tests/data/metadat", name), row.names = FALSE, na = "NA")

# --- pagliaro1992: arm rows, three treatments
p <- dat.pagliaro1992
w(data.frame(study = p$study, arm = p$trt, events = p$xi, n = p$ni,
             source = "metadat dat.pagliaro1992 (Pagliaro et al. 1992, Ann Intern Med 117:59)"), "pagliaro1992.csv")
pair <- function(e, c) {
  ids <- intersect(p$study[p$trt == e], p$study[p$trt == c])
  a <- p[p$trt == e & p$study %in% ids, ]; b <- p[p$trt == c & p$study %in% ids, ]
  b <- b[match(a$study, b$study), ]
  escalc("RR", ai = a$xi, n1i = a$ni, ci = b$xi, n2i = b$ni, slab = a$study)
}
# --- yusuf1985: one row per trial and table, NA for not reported
y <- dat.yusuf1985
# the paper's trial names repeat within a table (two "Barber" trials in table 6): the label carries
# the paper's id, as a user must do after bayesmeta's duplicate-key message
w(data.frame(outcome = paste0("table", y$table), study = paste0(y$trial, " (", y$id, ")"), ai = y$ai, n1i = y$n1i, ci = y$ci, n2i = y$n2i,
             source = paste0("metadat dat.yusuf1985 (Yusuf et al. 1985), id ", y$id)), "yusuf1985.csv")
ytab <- function(t, m) { d <- y[y$table == t, ]; escalc(m, ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = d) }
# --- curtis1998: one row per study, many columns, "." as a level
cu <- dat.curtis1998
w(data.frame(study = cu$id, paper = cu$paper, genus = cu$genus, species = cu$species, fungrp = cu$fungrp,
             co2_ambi = cu$co2.ambi, co2_elev = cu$co2.elev, time = cu$time, method = cu$method, xtrt = cu$xtrt,
             level = cu$level, m1i = cu$m1i, sd1i = cu$sd1i, n1i = cu$n1i, m2i = cu$m2i, sd2i = cu$sd2i,
             n2i = cu$n2i, source = paste0("metadat dat.curtis1998 (Curtis & Wang 1998), paper ", cu$paper)),
  "curtis1998.csv")
ces <- escalc("SMD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i, data = cu)
# --- fine1993: four outcomes of the same trials, reshaped into rows
f <- dat.fine1993
fl <- do.call(rbind, lapply(1:4, function(j) data.frame(study = f$study, outcome = paste0("e", j),
  ai = f[[paste0("e", j, "i")]], n1i = f$nei, ci = f[[paste0("c", j, "i")]], n2i = f$nci,
  source = "metadat dat.fine1993 (Fine et al. 1993)")))
w(fl, "fine1993.csv")
fes <- function(j) escalc("RR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = fl[fl$outcome == paste0("e", j), ])
# --- molloy2014: Fisher z of correlations
mo <- dat.molloy2014
mes <- escalc("ZCOR", ri = ri, ni = ni, data = mo)
w(data.frame(study = paste(mo$authors, mo$year), year = mo$year, n = mo$ni, r = mo$ri, yi = round(mes$yi, 10),
             vi = round(mes$vi, 12), design = mo$design, meanage = mo$meanage, quality = mo$quality,
             source = "metadat dat.molloy2014 (Molloy et al. 2014)"), "molloy2014.csv")
mes$yi <- round(mes$yi, 10); mes$vi <- round(mes$vi, 12)
mreg <- rma(yi, vi, mods = ~ meanage, data = mes, method = "REML", control = ctrl)

out <- list(
  R = R.version.string, metafor = as.character(packageVersion("metafor")),
  metadat = as.character(packageVersion("metadat")), created = format(Sys.time(), tz = "UTC", usetz = TRUE),
  script = "validation/metafor/make_messy_metadat.R",
  control = "ctrl = list(threshold = 1e-12, tol = 1e-12, maxiter = 10000, stepadj = 0.5) for REML",
  pagliaro1992 = list(
    call = "escalc('RR') on the trials with both arms; rma(yi, vi, method = 'REML', control = ctrl)",
    sclerotherapy_vs_control = c(reml(pair("sclerotherapy", "control")),
                                 list(studies = I(as.character(attr(pair("sclerotherapy", "control"), "slab"))))),
    betablockers_vs_control = c(reml(pair("beta-blockers", "control")),
                                list(studies = I(as.character(attr(pair("beta-blockers", "control"), "slab")))))),
  yusuf1985 = list(
    call = "escalc(M, ai, n1i, ci, n2i, data = table t) (add = 1/2, to = 'only0', drop00 = FALSE); rma REML (NA rows dropped)",
    table6_RR = reml(ytab(6, "RR")), table6_OR = reml(ytab(6, "OR")), table9_RR = reml(ytab(9, "RR")),
    table6_double_zero = I(paste0(y$trial, " (", y$id, ")")[y$table == 6 & !is.na(y$ai) & y$ai == 0 & y$ci == 0]),
    table6_na = I(paste0(y$trial, " (", y$id, ")")[y$table == 6 & is.na(y$ai)])),
  curtis1998 = list(
    call = "escalc('SMD', m1i, sd1i, n1i, m2i, sd2i, n2i); rma REML; rma(mods = ~ fungrp) REML",
    SMD = reml(ces),
    mods_fungrp = local({ r <- rma(yi, vi, mods = ~ fungrp, data = ces, method = "REML", control = ctrl)
      list(coef = as.list(coef(r)), se = as.list(setNames(r$se, names(coef(r)))), tau2 = r$tau2, QM = r$QM) })),
  fine1993 = list(
    call = "escalc('RR') per outcome e1..e4 (0.5 added to zero-cell studies); rma REML",
    e1 = reml(fes(1)), e4 = reml(fes(4)),
    e4_zero_cell = I(as.character(fl$study[fl$outcome == "e4" & !is.na(fl$ai) & (fl$ai == 0 | fl$ci == 0)]))),
  molloy2014 = list(
    call = "escalc('ZCOR', ri, ni) (yi, vi written to the CSV rounded to 1e-10 / 1e-12); rma REML; rma(mods = ~ meanage)",
    ZCOR = reml(mes),
    mods_meanage = list(coef = as.list(coef(mreg)), se = as.list(setNames(mreg$se, names(coef(mreg)))),
                        tau2 = mreg$tau2))
)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "tests/data/metadat/metafor_messy.json")
