# A synthetic RevMan 5 review whose stored results are computed by metafor 3.8 (independent of
# bayesmeta), to test reading and recomputing what Fleiss1993 lacks: random effects, subgroups and
# the test for subgroup differences, zero-cell and double-zero studies, Peto, RR and RD by
# Mantel-Haenszel, RevMan's SMD, O-E and variance, generic inverse variance.
#
# The data are invented (labelled so in the file); the XML mimics RevMan 5.4's element and attribute
# names (as in meta's inst/extdata/Fleiss1993.rm5 and R/read.rm5-internal.R). The stored numbers
# follow RevMan 5's algorithms (Deeks & Higgins 2010) computed with metafor:
#   MH (RR, RD): rma.mh on tables with 0.5 added to every cell of a zero-cell table (RevMan adds it
#     in the MH sums; metafor adds it only to yi/vi, so the corrected tables are passed in), double
#     zeros dropped; Q from rma.mh ($QE: around the MH estimate with IV weights);
#   MH random effects: DerSimonian-Laird tau^2 from that Q, then rma(yi, vi, tau2 = tau2);
#   Peto: rma.peto; SMD: RevMan's Hedges' g (J = 1 - 3/(4N - 9), var = N/(n1 n2) + g^2/(2(N - 3.94)))
#     pooled by rma(method = "DL"); O-E: rma(yi = OE/V, vi = 1/V, method = "FE"); GIV: rma(method = "DL");
#   subgroup differences: rma(subgroup estimates, their SEs, method = "FE")$QE.
# Run: Rscript validation/revman/make_synthetic_review.R  (writes data/revman_synthetic/Synthetic.rm5)
suppressMessages(library(metafor))
f17 <- function(x) ifelse(is.na(x), "", sprintf("%.17g", x))
i2 <- function(Q, df) if (df > 0 && Q > 0) 100 * max(0, (Q - df) / Q) else 0
z95 <- qnorm(0.975)

studies <- list()
add_study <- function(id, name, year) studies[[length(studies) + 1]] <<- c(id, name, year)

pooled_attrs <- function(est, se, Q, df, tau2, ratio, k, extra = "") {
  lb <- est - z95 * se; ub <- est + z95 * se; z <- abs(est / se)
  tr <- if (ratio) exp else identity
  sprintf(paste0('CHI2="%s" CI_END="%s" CI_START="%s" DF="%d" EFFECT_SIZE="%s" I2="%s" P_CHI2="%s" P_Z="%s" ',
                 'STUDIES="%d" TAU2="%s" Z="%s"%s'),
          f17(Q), f17(tr(ub)), f17(tr(lb)), df, f17(tr(est)), f17(i2(Q, df)),
          f17(if (df > 0) pchisq(Q, df, lower.tail = FALSE) else NA), f17(2 * pnorm(-z)), k, f17(tau2), f17(z), extra)
}

# ---------------------------------------------------------------- 1.1 RR, MH, random, 2 subgroups
d11 <- data.frame(
  id = c("S01", "S02", "S03", "S04", "S05", "S06", "S07"),
  name = c("Adams", "Baker", "Chen", "Dubois", "Evans", "Fischer", "Garcia"),
  year = c(2001, 2003, 2005, 2007, 2009, 2011, 2013),
  g = c(1, 1, 1, 2, 2, 2, 2),
  ai = c(12, 0, 30, 8, 0, 15, 22), n1 = c(100, 40, 210, 60, 25, 90, 150),
  ci = c(20, 3, 41, 9, 0, 28, 25), n2 = c(102, 38, 205, 62, 24, 88, 149))
mh_rr <- function(d) {
  dz <- d$ai == 0 & d$ci == 0
  d <- d[!dz, ]
  zc <- d$ai == 0 | d$ci == 0 | d$ai == d$n1 | d$ci == d$n2
  a <- d$ai + 0.5 * zc; b <- d$n1 - d$ai + 0.5 * zc; c <- d$ci + 0.5 * zc; dd <- d$n2 - d$ci + 0.5 * zc
  m <- rma.mh(ai = a, bi = b, ci = c, di = dd, measure = "RR")
  es <- escalc("RR", ai = a, bi = b, ci = c, di = dd)
  w <- 1 / es$vi
  tau2 <- max(0, (m$QE - (nrow(d) - 1)) / (sum(w) - sum(w^2) / sum(w)))
  re <- rma(es$yi, es$vi, tau2 = tau2)
  list(re = re, Q = m$QE, df = nrow(d) - 1, tau2 = tau2, yi = es$yi, vi = es$vi, keep = !dz, k = nrow(d))
}
tot <- mh_rr(d11)
subs <- lapply(1:2, function(j) mh_rr(d11[d11$g == j, ]))
qint <- rma(sapply(subs, function(s) coef(s$re)), sei = sapply(subs, function(s) s$re$se), method = "FE")$QE
w_all <- rep(NA, nrow(d11)); w_all[tot$keep] <- 100 * (1 / (tot$vi + tot$tau2)) / sum(1 / (tot$vi + tot$tau2))
y_all <- rep(NA, nrow(d11)); v_all <- y_all; y_all[tot$keep] <- tot$yi; v_all[tot$keep] <- tot$vi

dich_data <- function(d, y, v, w, i) {
  est <- !is.na(y[i])
  sprintf(paste0('<DICH_DATA CI_END="%s" CI_START="%s" EFFECT_SIZE="%s" ESTIMABLE="%s" EVENTS_1="%d" EVENTS_2="%d" ',
                 'LOG_CI_END="%s" LOG_CI_START="%s" LOG_EFFECT_SIZE="%s" ORDER="%d" O_E="0.0" SE="%s" STUDY_ID="STD-%s" ',
                 'TOTAL_1="%d" TOTAL_2="%d" VAR="%s" WEIGHT="%s"/>'),
          f17(exp(y[i] + z95 * sqrt(v[i]))), f17(exp(y[i] - z95 * sqrt(v[i]))), f17(exp(y[i])),
          if (est) "YES" else "NO", d$ai[i], d$ci[i], f17(y[i] + z95 * sqrt(v[i])), f17(y[i] - z95 * sqrt(v[i])),
          f17(y[i]), i, f17(sqrt(v[i])), d$id[i], d$n1[i], d$n2[i], f17(v[i]), if (est) f17(w[i]) else "0.0")
}
xml <- c()
o11 <- c(sprintf(paste0('<DICH_OUTCOME %s CI_STUDY="95" CI_TOTAL="95" EFFECT_MEASURE="RR" ESTIMABLE="YES" ',
                        'ID="CMP-001.01" METHOD="MH" NO="1" RANDOM="YES" SUBGROUPS="YES" SUBGROUP_TEST="YES" ',
                        'SWAP_EVENTS="NO" TOTALS="YES" TOTAL_1="%d" TOTAL_2="%d" WEIGHT="100.0">'),
                 pooled_attrs(coef(tot$re), tot$re$se, tot$Q, tot$df, tot$tau2, TRUE, tot$k,
                              sprintf(' Q="%s" P_Q="%s" I2_Q="%s"', f17(qint), f17(pchisq(qint, 1, lower.tail = FALSE)),
                                      f17(i2(qint, 1)))),
                 sum(d11$n1), sum(d11$n2)),
         "<NAME>Death (synthetic)</NAME>", "<GROUP_LABEL_1>Drug</GROUP_LABEL_1>", "<GROUP_LABEL_2>Placebo</GROUP_LABEL_2>",
         "<GRAPH_LABEL_1>Favours drug</GRAPH_LABEL_1>", "<GRAPH_LABEL_2>Favours placebo</GRAPH_LABEL_2>")
for (j in 1:2) {
  s <- subs[[j]]
  o11 <- c(o11, sprintf('<DICH_SUBGROUP %s ID="CMP-001.01.0%d" NO="%d">', pooled_attrs(coef(s$re), s$re$se, s$Q, s$df, s$tau2, TRUE, s$k), j, j),
           sprintf("<NAME>%s</NAME>", c("Low dose", "High dose")[j]))
  for (i in which(d11$g == j)) o11 <- c(o11, dich_data(d11, y_all, v_all, w_all, i))
  o11 <- c(o11, "</DICH_SUBGROUP>")
}
o11 <- c(o11, "</DICH_OUTCOME>")
for (i in seq_len(nrow(d11))) add_study(d11$id[i], d11$name[i], d11$year[i])

# ---------------------------------------------------------------- 1.2 Peto OR, fixed
d12 <- data.frame(id = c("S01", "S02", "S03", "S08"), name = c("Adams", "Baker", "Chen", "Hughes"), year = c(2001, 2003, 2005, 2015),
                  ai = c(2, 0, 5, 1), n1 = c(100, 40, 210, 80), ci = c(6, 2, 9, 4), n2 = c(102, 38, 205, 79))
pt <- rma.peto(ai = d12$ai, n1i = d12$n1, ci = d12$ci, n2i = d12$n2)
esp <- escalc("PETO", ai = d12$ai, n1i = d12$n1, ci = d12$ci, n2i = d12$n2, add = 0)  # Peto needs no correction (RevMan, rma.peto)
wp <- 100 * (1 / esp$vi) / sum(1 / esp$vi)
o12 <- c(sprintf(paste0('<DICH_OUTCOME %s CI_STUDY="95" CI_TOTAL="95" EFFECT_MEASURE="PETO_OR" ESTIMABLE="YES" ',
                        'ID="CMP-001.02" METHOD="PETO" NO="2" RANDOM="NO" SUBGROUPS="NO" SUBGROUP_TEST="NO" ',
                        'SWAP_EVENTS="NO" TOTALS="YES" WEIGHT="100.0">'),
                 pooled_attrs(coef(pt), pt$se, pt$QE, 3, 0, TRUE, 4)),
         "<NAME>Serious adverse events (synthetic)</NAME>", "<GROUP_LABEL_1>Drug</GROUP_LABEL_1>",
         "<GROUP_LABEL_2>Placebo</GROUP_LABEL_2>", "<GRAPH_LABEL_1>Favours drug</GRAPH_LABEL_1>",
         "<GRAPH_LABEL_2>Favours placebo</GRAPH_LABEL_2>")
for (i in seq_len(nrow(d12))) o12 <- c(o12, dich_data(d12, esp$yi, esp$vi, wp, i))
o12 <- c(o12, "</DICH_OUTCOME>")
add_study("S08", "Hughes", 2015)

# ---------------------------------------------------------------- 1.3 SMD (RevMan's g), IV random
d13 <- data.frame(id = c("S01", "S03", "S04", "S06", "S07"), m1 = c(10.2, 12.5, 9.8, 11.1, 13.0), sd1 = c(3.1, 4.0, 2.5, 3.3, 4.4),
                  n1 = c(50, 100, 30, 45, 75), m2 = c(11.5, 12.9, 12.0, 11.3, 15.2), sd2 = c(3.4, 4.2, 2.9, 3.0, 4.1),
                  n2 = c(52, 98, 31, 44, 74))
N <- d13$n1 + d13$n2
sp <- sqrt(((d13$n1 - 1) * d13$sd1^2 + (d13$n2 - 1) * d13$sd2^2) / (N - 2))
g <- (d13$m1 - d13$m2) / sp * (1 - 3 / (4 * N - 9))
vg <- N / (d13$n1 * d13$n2) + g^2 / (2 * (N - 3.94))
r13 <- rma(g, vg, method = "DL")
w13 <- 100 * weights(r13) / sum(weights(r13))
o13 <- c(sprintf(paste0('<CONT_OUTCOME %s CI_STUDY="95" CI_TOTAL="95" EFFECT_MEASURE="SMD" ESTIMABLE="YES" ',
                        'ID="CMP-001.03" NO="3" RANDOM="YES" SUBGROUPS="NO" SUBGROUP_TEST="NO" TOTALS="YES" ',
                        'UNITS="points" WEIGHT="100.0">'),
                 pooled_attrs(coef(r13), r13$se, r13$QE, 4, r13$tau2, FALSE, 5)),
         "<NAME>Pain score (synthetic)</NAME>", "<GROUP_LABEL_1>Drug</GROUP_LABEL_1>", "<GROUP_LABEL_2>Placebo</GROUP_LABEL_2>",
         "<GRAPH_LABEL_1>Favours drug</GRAPH_LABEL_1>", "<GRAPH_LABEL_2>Favours placebo</GRAPH_LABEL_2>")
for (i in seq_len(nrow(d13))) o13 <- c(o13, sprintf(paste0(
  '<CONT_DATA CI_END="%s" CI_START="%s" EFFECT_SIZE="%s" ESTIMABLE="YES" MEAN_1="%s" MEAN_2="%s" ORDER="%d" ',
  'SD_1="%s" SD_2="%s" SE="%s" STUDY_ID="STD-%s" TOTAL_1="%d" TOTAL_2="%d" WEIGHT="%s"/>'),
  f17(g[i] + z95 * sqrt(vg[i])), f17(g[i] - z95 * sqrt(vg[i])), f17(g[i]), f17(d13$m1[i]), f17(d13$m2[i]), 20 + i,
  f17(d13$sd1[i]), f17(d13$sd2[i]), f17(sqrt(vg[i])), d13$id[i], d13$n1[i], d13$n2[i], f17(w13[i])))
o13 <- c(o13, "</CONT_OUTCOME>")

# ---------------------------------------------------------------- 1.4 O-E and variance (HR), fixed
d14 <- data.frame(id = c("S02", "S05", "S08"), oe = c(-3.2, -1.1, 0.8), v = c(10.5, 6.2, 8.9))
r14 <- rma(d14$oe / d14$v, 1 / d14$v, method = "FE")
w14 <- 100 * d14$v / sum(d14$v)
o14 <- c(sprintf(paste0('<IPD_OUTCOME %s CI_STUDY="95" CI_TOTAL="95" ESTIMABLE="YES" ID="CMP-001.04" NO="4" RANDOM="NO" ',
                        'SUBGROUPS="NO" SUBGROUP_TEST="NO" TOTALS="YES" WEIGHT="100.0">'),
                 pooled_attrs(coef(r14), r14$se, r14$QE, 2, 0, TRUE, 3)),
         "<NAME>Time to relapse (synthetic)</NAME>", "<GROUP_LABEL_1>Drug</GROUP_LABEL_1>", "<GROUP_LABEL_2>Placebo</GROUP_LABEL_2>",
         "<GRAPH_LABEL_1>Favours drug</GRAPH_LABEL_1>", "<GRAPH_LABEL_2>Favours placebo</GRAPH_LABEL_2>",
         "<EFFECT_MEASURE>Hazard Ratio</EFFECT_MEASURE>")
for (i in seq_len(nrow(d14))) {
  y <- d14$oe[i] / d14$v[i]; s <- 1 / sqrt(d14$v[i])
  o14 <- c(o14, sprintf(paste0('<IPD_DATA CI_END="%s" CI_START="%s" EFFECT_SIZE="%s" ESTIMABLE="YES" O_E="%s" ORDER="%d" ',
                               'SE="%s" STUDY_ID="STD-%s" VAR="%s" WEIGHT="%s"/>'),
                        f17(exp(y + z95 * s)), f17(exp(y - z95 * s)), f17(exp(y)), f17(d14$oe[i]), 30 + i, f17(s), d14$id[i],
                        f17(d14$v[i]), f17(w14[i])))
}
o14 <- c(o14, "</IPD_OUTCOME>")

# ---------------------------------------------------------------- 1.5 generic inverse variance (log HR), random
d15 <- data.frame(id = c("S01", "S04", "S06", "S07"), y = c(-0.35, -0.05, -0.60, 0.10), se = c(0.15, 0.20, 0.25, 0.12))
r15 <- rma(d15$y, sei = d15$se, method = "DL")
w15 <- 100 * weights(r15) / sum(weights(r15))
o15 <- c(sprintf(paste0('<IV_OUTCOME %s CI_STUDY="95" CI_TOTAL="95" ESTIMABLE="YES" ID="CMP-001.05" LOG_DATA="YES" NO="5" ',
                        'RANDOM="YES" SUBGROUPS="NO" SUBGROUP_TEST="NO" TOTALS="YES" WEIGHT="100.0">'),
                 pooled_attrs(coef(r15), r15$se, r15$QE, 3, r15$tau2, TRUE, 4)),
         "<NAME>Progression (synthetic)</NAME>", "<GROUP_LABEL_1>Drug</GROUP_LABEL_1>", "<GROUP_LABEL_2>Placebo</GROUP_LABEL_2>",
         "<GRAPH_LABEL_1>Favours drug</GRAPH_LABEL_1>", "<GRAPH_LABEL_2>Favours placebo</GRAPH_LABEL_2>",
         "<EFFECT_MEASURE>Hazard Ratio</EFFECT_MEASURE>")
for (i in seq_len(nrow(d15))) o15 <- c(o15, sprintf(paste0(
  '<IV_DATA CI_END="%s" CI_START="%s" EFFECT_SIZE="%s" ESTIMABLE="YES" LOG_CI_END="%s" LOG_CI_START="%s" ',
  'LOG_EFFECT_SIZE="%s" ORDER="%d" SE="%s" STUDY_ID="STD-%s" WEIGHT="%s"/>'),
  f17(exp(d15$y[i] + z95 * d15$se[i])), f17(exp(d15$y[i] - z95 * d15$se[i])), f17(exp(d15$y[i])),
  f17(d15$y[i] + z95 * d15$se[i]), f17(d15$y[i] - z95 * d15$se[i]), f17(d15$y[i]), 40 + i, f17(d15$se[i]), d15$id[i], f17(w15[i])))
o15 <- c(o15, "</IV_OUTCOME>")

# ---------------------------------------------------------------- 1.6 RD, MH, fixed
d16 <- data.frame(id = c("S03", "S04", "S06"), ai = c(30, 8, 15), n1 = c(210, 60, 90), ci = c(41, 9, 28), n2 = c(205, 62, 88))
m16 <- rma.mh(ai = d16$ai, n1i = d16$n1, ci = d16$ci, n2i = d16$n2, measure = "RD")
# RevMan 5's RD variance is Greenland-Robins; metafor's rma.mh uses Sato's, so compute GR here
a <- d16$ai; b <- d16$n1 - a; c <- d16$ci; dd <- d16$n2 - c; n1 <- d16$n1; n2 <- d16$n2; Nt <- n1 + n2
W <- sum(n1 * n2 / Nt)
var_gr <- sum((a * b * n2^3 + c * dd * n1^3) / (n1 * n2 * Nt^2)) / W^2
es16 <- escalc("RD", ai = a, n1i = n1, ci = c, n2i = n2)
w16 <- 100 * (n1 * n2 / Nt) / W
o16 <- c(sprintf(paste0('<DICH_OUTCOME %s CI_STUDY="95" CI_TOTAL="95" EFFECT_MEASURE="RD" ESTIMABLE="YES" ',
                        'ID="CMP-001.06" METHOD="MH" NO="6" RANDOM="NO" SUBGROUPS="NO" SUBGROUP_TEST="NO" ',
                        'SWAP_EVENTS="NO" TOTALS="YES" WEIGHT="100.0">'),
                 pooled_attrs(coef(m16), sqrt(var_gr), m16$QE, 2, 0, FALSE, 3)),
         "<NAME>Response (synthetic)</NAME>", "<GROUP_LABEL_1>Drug</GROUP_LABEL_1>", "<GROUP_LABEL_2>Placebo</GROUP_LABEL_2>",
         "<GRAPH_LABEL_1>Favours placebo</GRAPH_LABEL_1>", "<GRAPH_LABEL_2>Favours drug</GRAPH_LABEL_2>")
for (i in seq_len(nrow(d16))) o16 <- c(o16, sprintf(paste0(
  '<DICH_DATA CI_END="%s" CI_START="%s" EFFECT_SIZE="%s" ESTIMABLE="YES" EVENTS_1="%d" EVENTS_2="%d" ORDER="%d" O_E="0.0" ',
  'SE="%s" STUDY_ID="STD-%s" TOTAL_1="%d" TOTAL_2="%d" VAR="%s" WEIGHT="%s"/>'),
  f17(es16$yi[i] + z95 * sqrt(es16$vi[i])), f17(es16$yi[i] - z95 * sqrt(es16$vi[i])), f17(es16$yi[i]), a[i], c[i], 50 + i,
  f17(sqrt(es16$vi[i])), d16$id[i], n1[i], n2[i], f17(es16$vi[i]), f17(w16[i])))
o16 <- c(o16, "</DICH_OUTCOME>")

# ---------------------------------------------------------------- 1.7 MD, IV fixed, subtotals only (TOTALS="SUB")
d17 <- data.frame(id = c("S01", "S02", "S03", "S04", "S05"), g = c(1, 1, 2, 2, 2),
                  m1 = c(5.1, 4.8, 6.0, 5.5, 5.9), sd1 = c(1.2, 1.5, 1.1, 1.4, 1.3), n1 = c(40, 35, 60, 50, 45),
                  m2 = c(5.6, 5.0, 6.1, 6.2, 6.0), sd2 = c(1.3, 1.4, 1.2, 1.5, 1.2), n2 = c(42, 33, 58, 52, 47))
e17 <- escalc("MD", m1i = d17$m1, sd1i = d17$sd1, n1i = d17$n1, m2i = d17$m2, sd2i = d17$sd2, n2i = d17$n2)
s17 <- lapply(1:2, function(j) rma(e17$yi[d17$g == j], e17$vi[d17$g == j], method = "FE"))
q17 <- rma(sapply(s17, coef), sei = sapply(s17, function(r) r$se), method = "FE")$QE
o17 <- c(sprintf(paste0('<CONT_OUTCOME CHI2="" CI_END="" CI_START="" CI_STUDY="95" CI_TOTAL="95" DF="4" EFFECT_MEASURE="MD" ',
                        'EFFECT_SIZE="" ESTIMABLE="YES" I2="" I2_Q="%s" ID="CMP-001.07" NO="7" P_CHI2="" P_Q="%s" P_Z="" Q="%s" ',
                        'RANDOM="NO" SUBGROUPS="YES" SUBGROUP_TEST="YES" TAU2="" TOTALS="SUB" UNITS="kg" Z="">'),
                 f17(i2(q17, 1)), f17(pchisq(q17, 1, lower.tail = FALSE)), f17(q17)),
         "<NAME>Weight (synthetic)</NAME>", "<GROUP_LABEL_1>Drug</GROUP_LABEL_1>", "<GROUP_LABEL_2>Placebo</GROUP_LABEL_2>",
         "<GRAPH_LABEL_1>Favours drug</GRAPH_LABEL_1>", "<GRAPH_LABEL_2>Favours placebo</GRAPH_LABEL_2>")
for (j in 1:2) {
  r <- s17[[j]]; ii <- which(d17$g == j)
  w <- 100 * (1 / e17$vi[ii]) / sum(1 / e17$vi[ii])  # subtotals only: weights within the subgroup
  o17 <- c(o17, sprintf('<CONT_SUBGROUP %s ID="CMP-001.07.0%d" NO="%d">',
                        pooled_attrs(coef(r), r$se, r$QE, length(ii) - 1, 0, FALSE, length(ii)), j, j),
           sprintf("<NAME>%s</NAME>", c("Adults", "Children")[j]))
  for (n in seq_along(ii)) {
    i <- ii[n]
    o17 <- c(o17, sprintf(paste0('<CONT_DATA CI_END="%s" CI_START="%s" EFFECT_SIZE="%s" ESTIMABLE="YES" MEAN_1="%s" MEAN_2="%s" ',
                                 'ORDER="%d" SD_1="%s" SD_2="%s" SE="%s" STUDY_ID="STD-%s" TOTAL_1="%d" TOTAL_2="%d" WEIGHT="%s"/>'),
                          f17(e17$yi[i] + z95 * sqrt(e17$vi[i])), f17(e17$yi[i] - z95 * sqrt(e17$vi[i])), f17(e17$yi[i]),
                          f17(d17$m1[i]), f17(d17$m2[i]), 60 + i, f17(d17$sd1[i]), f17(d17$sd2[i]), f17(sqrt(e17$vi[i])),
                          d17$id[i], d17$n1[i], d17$n2[i], f17(w[n])))
  }
  o17 <- c(o17, "</CONT_SUBGROUP>")
}
o17 <- c(o17, "</CONT_OUTCOME>")

st <- sapply(studies[!duplicated(sapply(studies, `[`, 1))], function(s)
  sprintf('<STUDY DATA_SOURCE="PUB" ID="STD-%s" NAME="%s" YEAR="%s"><IDENTIFIERS/></STUDY>', s[1], s[2], s[3]))
out <- c('<?xml version="1.0" encoding="UTF-8" standalone="no"?>',
         '<COCHRANE_REVIEW DESCRIPTION="synthetic test review, invented data" ID="0" REVMAN_SUB_VERSION="5.4.1" REVMAN_VERSION="5" STAGE="R" STATUS="A" TYPE="INTERVENTION">',
         '<COVER_SHEET><TITLE>Synthetic review for bayesmeta tests (invented data; results by metafor 3.8)</TITLE></COVER_SHEET>',
         '<STUDIES_AND_REFERENCES><STUDIES><INCLUDED_STUDIES>', st, '</INCLUDED_STUDIES></STUDIES></STUDIES_AND_REFERENCES>',
         '<ANALYSES_AND_DATA CALCULATED_DATA="YES">', '<COMPARISON ID="CMP-001" NO="1">', '<NAME>Drug versus placebo</NAME>',
         o11, o12, o13, o14, o15, o16, o17, '</COMPARISON>', '</ANALYSES_AND_DATA>', '</COCHRANE_REVIEW>')
dir.create("data/revman_synthetic", showWarnings = FALSE, recursive = TRUE)
writeLines(out, "data/revman_synthetic/Synthetic.rm5")
cat("R", R.version.string, "metafor", as.character(packageVersion("metafor")), "\n")
