# Repeated time points: dat.ishak2007 (Ishak et al. 2007, Clin Trials 4:525), long format, and the
# metafor multilevel fit used as a frequentist reference for bayesmeta's multilevel model.
# Run: Rscript validation/metafor/make_ishak2007.R
suppressPackageStartupMessages({library(metafor); library(metadat); library(jsonlite)})
d <- reshape(dat.ishak2007, direction = "long", idvar = "study", v.names = c("yi", "vi"),
             varying = list(c("y1i", "y2i", "y3i", "y4i"), c("v1i", "v2i", "v3i", "v4i")))
d <- d[order(d$study, d$time), ]
d <- d[!is.na(d$yi), ]
d$timepoint <- c("3m", "6m", "12m", "12m+")[d$time]
d$source <- "Ishak KJ et al. 2007, Clin Trials 4:525-539, Table 1 (R package metadat 1.2-0, dat.ishak2007)"
write.csv(d[, c("study", "timepoint", "yi", "vi", "source")], "data/ishak2007/contrasts.csv", row.names = FALSE)
rho <- 0.8
V <- vcalc(vi, cluster = study, time1 = time, phi = rho, data = d)
r <- rma.mv(yi, V, mods = ~ factor(time) - 1, random = ~ 1 | study/time, data = d, method = "REML")
out <- list(R = R.version.string, metafor = as.character(packageVersion("metafor")),
            call = "rma.mv(yi, V = vcalc(vi, cluster=study, time1=time, phi=0.8), mods=~factor(time)-1, random=~1|study/time, method='REML')",
            rho_ar1 = rho, beta = as.numeric(r$beta), se = r$se, sigma2 = r$sigma2)
write_json(out, "tests/golden/ishak2007_rma_mv.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
cat("ok\n")
