"""Column headers in words: the one mapping from result column names to what a reader sees.

The pipeline's tables (and the CSVs in a report's ``tables/`` folder) keep their identifiers
(``ci95_lb``, ``p_noninferior@0.5``, ``hdi95_lb``); the report renderer shows every column header
through :func:`column_words`, so no identifier reaches a reader. Headers that are already words
pass through unchanged.
"""
from __future__ import annotations

import re

#: result column names -> words (exact matches; patterns below handle intervals and margins)
WORDS: dict[str, str] = {
    "QE_del": "Q without the study",
    "Q_p": "Q test p-value",
    "baseline_risk": "baseline risk",
    "box_p": "Box prior-predictive p",
    "ci_lb": "CI lower",
    "ci_ub": "CI upper",
    "ci_symmetric": "CI symmetric",
    "cook_d": "Cook's distance",
    "cov_r": "covariance ratio",
    "decision_flips": "verdict changes",
    "design_effect": "design effect",
    "dfbetas_intrcpt": "DFBETAS (intercept)",
    "ess_bulk": "ESS (bulk)",
    "ess_tail": "ESS (tail)",
    "inclusion_bf": "inclusion Bayes factor",
    "log_ml": "log marginal likelihood",
    "lpd_common_effect": "log predictive density, common effect",
    "lpd_random_effects": "log predictive density, random effects",
    "map_joint": "joint MAP",
    "margin_analysis_scale": "margin (analysis scale)",
    "mcse_mean": "MCSE of the mean",
    "mcse_median": "MCSE of the median",
    "mcse_sd": "MCSE of the SD",
    "mode_kde": "mode (KDE)",
    "mu_median": "mu, median",
    "mu_prior": "effect prior",
    "tau_prior": "heterogeneity prior",
    "p_benefit": "P(benefit)",
    "p_harm": "P(harm)",
    "p_consistent": "P(consistent)",
    "p_implied": "implied p-value",
    "p_implied_max": "implied p-value, largest",
    "p_implied_min": "implied p-value, smallest",
    "p_loo": "P(replicate <= observed | other studies)",
    "p_lower": "P(lower)",
    "p_ni": "P(no worse than the margin)",
    "p_noninferior": "P(no worse than the margin)",
    "p_two_sided": "two-sided p-value",
    "p_tau_gt_half_margin": "P(tau > half the margin)",
    "participants_effective": "participants, effective",
    "participants_implied": "participants, implied",
    "participants_reported": "participants, reported",
    "pi_method": "prediction interval method",
    "post_prob": "posterior probability",
    "posterior_prob": "posterior probability",
    "prior_prob": "prior probability",
    "posterior_p_ni": "posterior P(no worse)",
    "prior_p_ni": "prior P(no worse)",
    "re_posterior_p_ni": "posterior P(no worse), random effects",
    "prior_p_tau_below_005": "prior P(tau < 0.05)",
    "r_hat": "R-hat",
    "se_max": "SE, largest",
    "se_min": "SE, smallest",
    "shift_sd": "shift (SDs)",
    "tau2_del": "tau² without the study",
    "tau2_lb": "tau² lower",
    "tau2_ub": "tau² upper",
    "tau_median": "tau, median",
    "tau_no_moderator": "tau without the moderator",
    "tau_residual": "residual tau",
    "rd_per_1000_median": "risk difference per 1000, median",
    "rd_per_1000_lb": "risk difference per 1000, lower",
    "rd_per_1000_ub": "risk difference per 1000, upper",
    "theta_new - mu": "new study minus mu",
}

#: cell values that are identifiers of the pipeline, by column -> the words a reader sees
CELL_WORDS: dict[str, dict[str, str]] = {
    "scenario": {"as published": "tau fixed at the published value"},
}

_BOUND = {"lb": "lower", "ub": "upper"}
_INTERVAL = {"ci": "CI", "hdi": "HDI", "eti": "interval", "pi": "prediction interval"}
_PARAM = {"mu": "mu", "tau": "tau", "theta_new": "new study"}
_IV = re.compile(r"^(?:(mcse)_)?(?:(mu|tau|theta_new)_)?(ci|hdi|eti|pi)(\d+)_(lb|ub)$")
_MARGIN = re.compile(r"^p_(noninferior|noninferior_new|rope)@(.+)$")


def column_words(name: object) -> str:
    """The header a reader sees for the result column ``name``."""
    c = str(name)
    if c in WORDS:
        return WORDS[c]
    m = _IV.match(c)
    if m:
        mcse, par, kind, pct, bound = m.groups()
        words = f"{pct}% {_INTERVAL[kind]} {_BOUND[bound]}"
        if par:
            words = f"{_PARAM[par]}, {words}"
        return f"MCSE of the {words}" if mcse else words
    m = _MARGIN.match(c)
    if m:
        kind, margin = m.groups()
        return {"noninferior": f"P(no worse than {margin})",
                "noninferior_new": f"P(new study no worse than {margin})",
                "rope": f"P(within ±{margin})"}[kind]
    if "theta_new - mu" in c:
        return c.replace("theta_new - mu", "new study minus mu")
    if "@" in c:
        c = c.replace("@", " at ")
    if re.search(r"[A-Za-z0-9]_[A-Za-z0-9]", c):
        return c.replace("_", " ")
    return c


def cell_words(column: object, value: object) -> object:
    """The value a reader sees in ``column`` (identifiers of the pipeline in words; others unchanged)."""
    words = CELL_WORDS.get(str(column))
    return words.get(value, value) if words and isinstance(value, str) else value
