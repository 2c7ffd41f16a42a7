"""metafor's testthat expectations ported as golden values (see README.md)."""
