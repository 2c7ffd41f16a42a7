# Export the metadat data sets used by tests/golden/metafor_testthat/ (metafor's testthat files) to CSV.
# Run: Rscript validation/metafor/export_metadat.R   (from the repository root; R is not needed in CI)
library(metadat)
out <- "tests/golden/metafor_testthat/data"
dir.create(out, showWarnings = FALSE, recursive = TRUE)
sets <- c("dat.bcg", "dat.raudenbush1985", "dat.normand1999", "dat.hine1989", "dat.yusuf1985",
          "dat.collins1985a", "dat.collins1985b", "dat.hackshaw1998", "dat.henmi2010", "dat.lee2004", "dat.li2007",
          "dat.pritz1997", "dat.nielweise2007", "dat.nielweise2008", "dat.egger2001", "dat.dersimonian2007",
          "dat.hart1999", "dat.molloy2014", "dat.linde2005", "dat.viechtbauer2021", "dat.bangertdrowns2004",
          "dat.lipsey2001", "dat.morris2008", "dat.vanhowe1999", "dat.laopaiboon2015",
          "dat.konstantopoulos2011", "dat.colditz1994", "dat.curtis1998", "dat.hasselblad1998",
          "dat.pagliaro1992", "dat.hahn2001", "dat.kalaian1996", "dat.gibson2002", "dat.cohen1981",
          "dat.mcdaniel1994", "dat.baskerville2012", "dat.landenberger2005", "dat.debruin2009", "dat.aloe2013",
          "dat.berkey1998", "dat.ishak2007")
for (s in sets) {
  d <- tryCatch(get(s), error = function(e) NULL)
  if (is.null(d)) { message("missing: ", s); next }
  d <- as.data.frame(d)
  for (j in seq_along(d)) if (is.factor(d[[j]])) d[[j]] <- as.character(d[[j]])
  write.csv(d, file.path(out, paste0(sub("^dat\\.", "", s), ".csv")), row.names = FALSE, na = "")
}
writeLines(c(paste("R", getRversion()), paste("metadat", packageVersion("metadat"))), file.path(out, "VERSIONS.txt"))
