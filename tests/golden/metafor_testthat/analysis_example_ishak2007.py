"""Port of metafor's test_analysis_example_ishak2007.r: every analysis in it is a multivariate or multilevel
model (rma.mv), which bayesmeta's front door does not offer; all its values are listed out of scope."""

OUT_OF_SCOPE: dict[int, str] = {}
DEFAULT_REASON = ("rma.mv (multivariate / multilevel models, the covariance matrices built for them, their comparisons "
                  "and plots): not on bayesmeta's front door")


def compute() -> dict:
    return {}
