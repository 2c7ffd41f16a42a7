r"""Multivariate and multilevel random-effects models, as metafor's ``rma.mv``.

The marginal model (Viechtbauer 2010, doi:10.18637/jss.v036.i03; Berkey et al. 1998,
doi:10.1002/(SICI)1097-0258(19981130)17:22<2537::AID-SIM953>3.0.CO;2-C; Konstantopoulos 2011,
doi:10.1002/jrsm.35; Jackson, Riley & White 2011, doi:10.1002/sim.4172) is

.. math::
    y \sim N\!\left(X\beta,\; M\right),\qquad
    M = V + \sum_j \sigma^2_j Z_jZ_j^\top + \sum_l \left(Z^{in}_l G_l Z^{in\top}_l\right)\circ
    \left(Z^{out}_l Z^{out\top}_l\right),

with ``V`` the (block-diagonal) variance-covariance matrix of the sampling errors, one variance
component :math:`\sigma^2_j` per random intercept ``~ 1 | g`` (``~ 1 | a/b`` gives one for ``a`` and one
for ``b`` within ``a``), and for each ``~ inner | outer`` term a matrix :math:`G_l` over the levels of
``inner``, shared by rows of the same ``outer`` level, with structure (metafor's ``struct``; L levels):

* ``"ID"`` :math:`\tau^2 I`; ``"DIAG"`` :math:`\mathrm{diag}(\tau^2_1..\tau^2_L)`;
* ``"CS"`` :math:`\tau^2\{(1-\rho)I + \rho J\}`; ``"HCS"`` :math:`D^{1/2}\{(1-\rho)I + \rho J\}D^{1/2}`;
* ``"UN"`` :math:`\tau^2_i` and :math:`\rho_{ij}` free (positive definite);
* ``"AR"`` :math:`\tau^2\rho^{|i-j|}` over the sorted levels; ``"HAR"`` with :math:`\tau^2_i`;
  ``"CAR"`` :math:`\tau^2\rho^{|t_i-t_j|}` over the numeric values of ``inner``.

The first such term carries metafor's names ``tau2``/``rho``, a second ``gamma2``/``phi``.

Given the variance components, :math:`\hat\beta = (X^\top M^{-1}X)^{-1}X^\top M^{-1}y` (generalised
least squares) with :math:`\mathrm{Var}(\hat\beta) = (X^\top M^{-1}X)^{-1}`. The components maximise
(Harville 1977, doi:10.1080/01621459.1977.10480998) the log-likelihood

.. math::
    \ell_{ML} = -\tfrac12\{n\log 2\pi + \log|M| + r^\top M^{-1}r\},\qquad
    \ell_{REML} = -\tfrac12\{(n-p)\log 2\pi - \log|X^\top X| + \log|M| + \log|X^\top M^{-1}X| + r^\top M^{-1}r\},

:math:`r = y - X\hat\beta` (metafor's constants, including :math:`\log|X^\top X|`), maximised with
BFGS over square-root variances and atanh correlations (logit for CAR) with the analytic gradient
:math:`\partial\ell/\partial\theta = -\tfrac12\mathrm{tr}(P\dot M) + \tfrac12 y^\top P\dot MPy` (P the REML
projection, :math:`M^{-1}` and :math:`M^{-1}r` for ML).

Cochran's generalised :math:`Q_E = r_0^\top V^{-1}r_0` (residuals of the fit with :math:`M = V`) on
:math:`n-p` df; :math:`Q_M = \hat\beta_b^\top\mathrm{Var}(\hat\beta_b)^{-1}\hat\beta_b` (``test="t"``:
:math:`F = Q_M/m` on :math:`(m, n-p)` df, t tests on :math:`n-p` df). Fit statistics as metafor:
``parms`` = p + the number of estimated components; AIC, BIC (:math:`n-p` observations for REML) and
AICc; the ML deviance against the saturated model :math:`-2(\ell_{ML} - \ell_{sat})`,
:math:`\ell_{sat} = -\tfrac12(n\log 2\pi + \log|V|)`, the REML deviance :math:`-2\ell_{REML}`.

Profile-likelihood CIs of each component (as metafor's ``confint.rma.mv``): the values where
:math:`2\{\ell(\hat\theta) - \max_{\text{others}}\ell\} = \chi^2_{1,level}`. BLUPs of the random
intercepts (``ranef``): :math:`\hat u_j = \sigma^2_jZ_j^\top M^{-1}r` with
:math:`\mathrm{Var}(\hat u_j - u_j) = \sigma^2_jI - \sigma^4_jZ_j^\top M^{-1}(I-H)Z_j`, H the hat matrix.

References
----------
Viechtbauer W (2010). Conducting meta-analyses in R with the metafor package. J Stat Softw 36(3):1-48.
Konstantopoulos S (2011). Fixed effects and variance components estimation in three-level meta-analysis.
Res Synth Methods 2:61-76.
Berkey CS, Hoaglin DC, Antczak-Bouckoms A, Mosteller F, Colditz GA (1998). Meta-analysis of multiple
outcomes by regression with random effects. Stat Med 17:2537-2550.
Harville DA (1977). Maximum likelihood approaches to variance component estimation and to related
problems. J Am Stat Assoc 72:320-338.
Jackson D, Riley R, White IR (2011). Multivariate meta-analysis: potential and promise. Stat Med
30:2481-2498.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from scipy import optimize, stats

from bayesmeta._blas import one_blas_thread
from bayesmeta.frequentist._display import Displayed

__all__ = ["STRUCTS", "RMAMVResult", "SigmaTerm", "StructTerm", "anova_mv", "confint_mv", "cooks_distance_mv", "fit_rma_mv", "fitstats_mv",
           "hatvalues_mv", "predict_mv", "profile_confint", "ranef_mv", "robust_mv", "rstandard_mv", "rstudent_mv"]

STRUCTS = ("ID", "DIAG", "CS", "HCS", "UN", "AR", "HAR", "CAR")


def _single_thread(fn):
    """Run ``fn`` with one BLAS thread: the fits multiply many small (n x n) matrices, for which a
    threaded BLAS on busy cores is ~100x slower (15 ms against 0.13 ms for 82 x 82 under load)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with one_blas_thread():
            return fn(*args, **kwargs)

    return wrapper


_LOG2PI = float(np.log(2 * np.pi))


@dataclass(frozen=True)
class SigmaTerm:
    """A random intercept ``~ 1 | name``: ``groups`` are integer codes (n,) into ``levels``."""

    name: str
    groups: np.ndarray
    levels: tuple[str, ...]

    @property
    def D(self) -> np.ndarray:
        g = self.groups
        return (g[:, None] == g[None, :]).astype(float)


@dataclass(frozen=True)
class StructTerm:
    """A term ``~ inner | outer`` with structure ``struct``: ``inner`` codes (n,) into ``inner_levels``
    (numeric ``inner_values`` for AR/HAR/CAR), ``outer`` codes (n,)."""

    inner_name: str
    outer_name: str
    struct: str
    inner: np.ndarray
    outer: np.ndarray
    inner_levels: tuple[str, ...]
    inner_values: np.ndarray
    outer_levels: tuple[str, ...] = ()

    @property
    def L(self) -> int:
        return len(self.inner_levels)

    @property
    def n_var(self) -> int:
        return self.L if self.struct in ("DIAG", "HCS", "UN", "HAR") else 1

    @property
    def n_cor(self) -> int:
        if self.struct in ("ID", "DIAG"):
            return 0
        if self.struct == "UN":
            return self.L * (self.L - 1) // 2
        return 1

    @property
    def S(self) -> np.ndarray:
        o = self.outer
        return (o[:, None] == o[None, :]).astype(float)

    def G(self, var: np.ndarray, cor: np.ndarray) -> np.ndarray:
        """The L x L matrix at variances ``var`` (n_var,) and correlations ``cor`` (n_cor,)."""
        L = self.L
        v = np.broadcast_to(np.asarray(var, float), (L,)) if self.n_var == 1 else np.asarray(var, float)
        s = np.sqrt(np.maximum(v, 0.0))
        return s[:, None] * self.R(cor) * s[None, :]

    def R(self, cor: np.ndarray) -> np.ndarray:
        """The L x L correlation matrix at ``cor``."""
        L = self.L
        st = self.struct
        if st in ("ID", "DIAG"):
            R = np.eye(L)
        elif st in ("CS", "HCS"):
            R = np.full((L, L), float(cor[0]))
            np.fill_diagonal(R, 1.0)
        elif st == "UN":
            R = np.eye(L)
            iu = np.triu_indices(L, 1)
            R[iu] = cor
            R[(iu[1], iu[0])] = cor
        elif st in ("AR", "HAR"):
            idx = np.arange(L)
            R = float(cor[0]) ** np.abs(idx[:, None] - idx[None, :])
        else:  # CAR
            t = self.inner_values
            R = float(cor[0]) ** np.abs(t[:, None] - t[None, :])
        return R


Term = SigmaTerm | StructTerm


@dataclass(frozen=True)
class _Spec:
    """Everything a refit needs (profile likelihood, LRT): data, design, terms, fixed components."""

    yi: np.ndarray
    V: np.ndarray
    X: np.ndarray
    terms: tuple[Term, ...]
    reml: bool
    fixed: np.ndarray  # natural-scale values (NaN = estimated), in the order of _par_layout

    def layout(self) -> list[tuple[str, int, int, str]]:
        return _par_layout(self.terms)


def _par_layout(terms: Sequence[Term]) -> list[tuple[str, int, int, str]]:
    """One row per parameter: (kind, term index, index within kind, transform)."""
    out: list[tuple[str, int, int, str]] = []
    st_terms = [t for t in terms if isinstance(t, StructTerm)]
    sig = [i for i, t in enumerate(terms) if isinstance(t, SigmaTerm)]
    for j, i in enumerate(sig):
        out.append(("sigma2", i, j, "sq"))
    for m, t in enumerate(st_terms):
        i = terms.index(t)
        vname, cname = ("tau2", "rho") if m == 0 else ("gamma2", "phi")
        for j in range(t.n_var):
            out.append((vname, i, j, "sq"))
        for j in range(t.n_cor):
            out.append((cname, i, j, "logit" if t.struct == "CAR" else "atanh"))
    return out


def _to_nat(theta: np.ndarray, tr: Sequence[str]) -> np.ndarray:
    out = np.empty_like(theta)
    for j, kind in enumerate(tr):
        x = theta[j]
        out[j] = x * x if kind == "sq" else (np.tanh(x) if kind == "atanh" else 1.0 / (1.0 + np.exp(-x)))
    return out


def _to_theta(nat: np.ndarray, tr: Sequence[str]) -> np.ndarray:
    out = np.empty_like(nat)
    for j, kind in enumerate(tr):
        x = nat[j]
        if kind == "sq":
            out[j] = np.sqrt(max(x, 0.0))
        elif kind == "atanh":
            out[j] = np.arctanh(np.clip(x, -0.999999, 0.999999))
        else:
            x = np.clip(x, 1e-6, 1 - 1e-6)
            out[j] = np.log(x / (1 - x))
    return out


class _Engine:
    """Marginal covariance, (restricted) log-likelihood and its gradient for one spec."""

    def __init__(self, spec: _Spec):
        self.spec = spec
        self.lay = spec.layout()
        self.terms = spec.terms
        self.base = {i: (t.D if isinstance(t, SigmaTerm) else t.S) for i, t in enumerate(spec.terms)}
        self.n, self.p = spec.X.shape
        self.logdet_xx = float(np.linalg.slogdet(spec.X.T @ spec.X)[1])

    def split(self, nat: np.ndarray) -> dict[int, tuple[list[float], list[float]]]:
        per: dict[int, tuple[list[float], list[float]]] = {i: ([], []) for i in range(len(self.terms))}
        for (kind, i, _, _), v in zip(self.lay, nat, strict=True):
            (per[i][1] if kind in ("rho", "phi") else per[i][0]).append(float(v))
        return per

    def term_cov(self, i: int, var: Sequence[float], cor: Sequence[float]) -> np.ndarray:
        t = self.terms[i]
        if isinstance(t, SigmaTerm):
            return var[0] * self.base[i]
        G = t.G(np.asarray(var), np.asarray(cor))
        return G[np.ix_(t.inner, t.inner)] * self.base[i]

    def marginal(self, nat: np.ndarray) -> np.ndarray:
        M = self.spec.V.copy()
        for i, (var, cor) in self.split(nat).items():
            M += self.term_cov(i, var, cor)
        return M

    def dM(self, nat: np.ndarray, theta: np.ndarray, tr: Sequence[str], free: np.ndarray) -> list[np.ndarray]:
        """Derivatives of M in the free transformed parameters (analytic, through the small G)."""
        out = []
        for j in np.flatnonzero(free):
            _, i, _, _ = self.lay[j]
            t = self.terms[i]
            if isinstance(t, SigmaTerm):
                out.append(2 * theta[j] * self.base[i])  # d theta^2 / d theta
                continue
            kind = self.lay[j][0]
            if kind not in ("rho", "phi"):  # G = s R s with s = |theta|: d G / d theta
                var, cor = self.split(nat)[i]
                R = t.R(np.asarray(cor))
                if t.n_var == 1:
                    dG = 2 * theta[j] * R
                else:
                    w = self.lay[j][2]
                    sv = np.sqrt(np.maximum(np.asarray(var, float), 0.0))
                    sg = 1.0 if theta[j] >= 0 else -1.0
                    dG = np.zeros_like(R)
                    dG[w, :] += sg * R[w, :] * sv
                    dG[:, w] += sg * R[:, w] * sv
                out.append(dG[np.ix_(t.inner, t.inner)] * self.base[i])
                continue
            var, cor = self.split(nat)[i]
            w = self.lay[j][2]
            x = float(cor[w])
            dx = (1 - x * x) if tr[int(j)] == "atanh" else x * (1 - x)  # d cor / d theta
            L = t.L
            if t.struct in ("CS", "HCS"):
                dR = np.ones((L, L)) - np.eye(L)
            elif t.struct == "UN":
                iu = np.triu_indices(L, 1)
                dR = np.zeros((L, L))
                dR[iu[0][w], iu[1][w]] = dR[iu[1][w], iu[0][w]] = 1.0
            else:  # AR, HAR (lags between level positions), CAR (between the values)
                pos = np.arange(L, dtype=float) if t.struct != "CAR" else t.inner_values
                lag = np.abs(pos[:, None] - pos[None, :])
                with np.errstate(divide="ignore", invalid="ignore"):
                    dR = np.where(lag > 0, lag * x ** np.maximum(lag - 1, 0.0), 0.0)
            v = np.broadcast_to(np.asarray(var, float), (L,))
            sv = np.sqrt(np.maximum(v, 0.0))
            dG = sv[:, None] * dR * sv[None, :] * dx
            out.append(dG[np.ix_(t.inner, t.inner)] * self.base[i])
        return out

    def solve(self, M: np.ndarray, reml: bool):
        """GLS pieces at M: beta, vb, residuals, W, and the log-likelihoods (ML, REML)."""
        X, y = self.spec.X, self.spec.yi
        c = np.linalg.cholesky(M)
        Ci = np.linalg.inv(c)
        W = Ci.T @ Ci
        XtW = X.T @ W
        A = XtW @ X
        vb = np.linalg.inv(A)
        vb = (vb + vb.T) / 2
        beta = vb @ (XtW @ y)
        r = y - X @ beta
        rss = float(r @ W @ r)
        logdet_m = 2 * float(np.sum(np.log(np.diag(c))))
        ll_ml = -0.5 * (self.n * _LOG2PI + logdet_m + rss)
        ll_reml = -0.5 * ((self.n - self.p) * _LOG2PI - self.logdet_xx + logdet_m + float(np.linalg.slogdet(A)[1])
                          + rss)
        return beta, vb, r, W, ll_ml, ll_reml

    def objective(self, theta_free: np.ndarray, theta_all: np.ndarray, tr: Sequence[str], free: np.ndarray):
        theta = theta_all.copy()
        theta[free] = theta_free
        nat = _to_nat(theta, tr)
        fixed = self.spec.fixed
        nat[~free] = fixed[~free]
        M = self.marginal(nat)
        try:
            _, vb, r, W, ll_ml, ll_reml = self.solve(M, self.spec.reml)
        except np.linalg.LinAlgError:
            return 1e10, np.zeros(int(free.sum()))
        if self.spec.reml:
            WX = W @ self.spec.X
            P = W - WX @ vb @ WX.T
            ll = ll_reml
        else:
            P = W
            ll = ll_ml
        Py = W @ r
        grad = np.array([-0.5 * float(np.sum(P * d)) + 0.5 * float(Py @ d @ Py)
                         for d in self.dM(nat, theta, tr, free)])
        return -ll, -grad


def _start(spec: _Spec, lay, tr) -> np.ndarray:
    """Start values: the residual heterogeneity of an OLS fit shared out among the variances; rho 0.5."""
    X, y = spec.X, spec.yi
    b = np.linalg.lstsq(X, y, rcond=None)[0]
    tot = float(np.var(y - X @ b, ddof=min(X.shape[1], len(y) - 1)))
    n_var = sum(1 for k, *_ in lay if k not in ("rho", "phi"))
    v0 = max(tot - float(np.mean(np.diag(spec.V))), 0.1 * tot, 1e-4) / max(n_var, 1)
    nat = np.array([0.5 if k in ("rho", "phi") else v0 for k, *_ in lay], float)
    fx = np.isfinite(spec.fixed)
    nat[fx] = spec.fixed[fx]
    return nat


def _optimise(spec: _Spec, start: np.ndarray | None = None, ftol: float = 1e-15, gtol: float = 1e-9):
    """Maximise the (restricted) likelihood over the free components; returns (natural values, converged, ll)."""
    lay = spec.layout()
    tr = [t for *_, t in lay]
    free = ~np.isfinite(spec.fixed)
    eng = _Engine(spec)
    nat0 = _start(spec, lay, tr) if start is None else start.copy()
    nat0[~free] = spec.fixed[~free]
    theta0 = _to_theta(nat0, tr)
    if not free.any():
        return nat0, True, -eng.objective(np.array([]), theta0, tr, free)[0]
    scale = max(float(np.var(spec.yi)), float(np.mean(np.diag(spec.V))), 1e-8)
    bounds = [(-1e3 * np.sqrt(scale), 1e3 * np.sqrt(scale)) if tr[j] == "sq" else (-12.0, 12.0)
              for j in np.flatnonzero(free)]
    lo, hi = np.array([b[0] for b in bounds]), np.array([b[1] for b in bounds])

    def obj(x):  # the bounds by clipping (BFGS: numpy-only steps, no thread start-up of a compiled optimiser)
        xc = np.clip(x, lo, hi)
        f, g = eng.objective(xc, theta0, tr, free)
        return f, np.where((x < lo) | (x > hi), x - xc, g)

    res = optimize.minimize(obj, np.clip(theta0[free], lo, hi), jac=True, method="BFGS",
                            options={"gtol": gtol, "maxiter": 2000})
    theta = theta0.copy()
    theta[free] = np.clip(res.x, lo, hi)
    nat = _to_nat(theta, tr)
    nat[~free] = spec.fixed[~free]
    # as metafor: variance components below 10 machine epsilon are zero
    nat[(np.array(tr) == "sq") & (nat <= 10 * np.finfo(float).eps)] = 0.0
    ok = bool(res.success)
    if not ok:  # BFGS stops on precision loss at a flat maximum or a bound: check the projected gradient
        xc = theta[free]
        _, g = eng.objective(xc, theta0, tr, free)
        at_hi, at_lo = xc >= hi - 1e-6 * (1 + np.abs(hi)), xc <= lo + 1e-6 * (1 + np.abs(lo))
        g = np.where((at_hi & (g < 0)) | (at_lo & (g > 0)), 0.0, g)
        ok = float(np.max(np.abs(g))) < 1e-4
    return nat, ok, float(-res.fun)


@dataclass(frozen=True, repr=False)
class RMAMVResult(Displayed):
    """A multivariate / multilevel model fitted by :func:`fit_rma_mv` (metafor's ``rma.mv`` object).

    Coefficients ``beta``, ``se``, ``zval`` (t values for ``test="t"``), ``pval``, ``ci_lb``, ``ci_ub``,
    ``vb`` and ``names``; variance components ``sigma2`` (one per random intercept, named by
    ``sigma2_names``), ``tau2``/``rho`` (first ``~ inner | outer`` term, struct ``struct[0]``),
    ``gamma2``/``phi`` (second term); tests ``QE``, ``QE_df``, ``QE_p`` (generalised Cochran's Q),
    ``QM``, ``QM_df``, ``QM_p``; fit statistics ``logLik``, ``deviance``, ``AIC``, ``BIC``, ``AICc``,
    ``n_par`` (metafor's ``parms``), ``ll_ML``, ``ll_REML``; data ``yi``, ``V``, ``X``, marginal ``M``,
    ``fitted``, ``residuals``.
    """

    names: tuple[str, ...]
    beta: np.ndarray
    se: np.ndarray
    zval: np.ndarray
    pval: np.ndarray
    ci_lb: np.ndarray
    ci_ub: np.ndarray
    vb: np.ndarray
    sigma2: np.ndarray
    sigma2_names: tuple[str, ...]
    tau2: np.ndarray
    rho: np.ndarray
    gamma2: np.ndarray
    phi: np.ndarray
    struct: tuple[str, ...]
    method: str
    test: str
    level: float
    k: int
    p: int
    df: int | None
    QE: float
    QE_df: int
    QE_p: float
    QM: float
    QM_df: int
    QM_p: float
    btt: tuple[int, ...]
    logLik: float
    deviance: float
    AIC: float
    BIC: float
    AICc: float
    n_par: int
    ll_ML: float
    ll_REML: float
    yi: np.ndarray
    V: np.ndarray
    X: np.ndarray
    M: np.ndarray
    labels: tuple[str, ...]
    random: tuple[str, ...]
    converged: bool
    spec: _Spec = field(compare=False)

    @property
    def G(self) -> np.ndarray:
        """The var-cov matrix of the first ``~ inner | outer`` term over its inner levels (metafor's ``G``)."""
        return self._struct_matrix(0, self.tau2, self.rho)

    @property
    def H(self) -> np.ndarray:
        """The var-cov matrix of the second ``~ inner | outer`` term (metafor's ``H``)."""
        return self._struct_matrix(1, self.gamma2, self.phi)

    def _struct_matrix(self, m: int, var: np.ndarray, cor: np.ndarray) -> np.ndarray:
        st = [t for t in self.spec.terms if isinstance(t, StructTerm)]
        if len(st) <= m:
            return np.empty((0, 0))
        return st[m].G(var, cor)

    @property
    def fitted(self) -> np.ndarray:
        return self.X @ self.beta

    @property
    def residuals(self) -> np.ndarray:
        return self.yi - self.fitted

    @property
    def stat_name(self) -> str:
        return "zval" if self.df is None else "tval"

    def summary(self) -> pd.DataFrame:
        """The coefficient table (``estimate``, ``se``, ``zval``/``tval``, ``pval``, ``ci_lb``, ``ci_ub``)."""
        return pd.DataFrame({"term": list(self.names), "estimate": self.beta, "se": self.se,
                             self.stat_name: self.zval, "pval": self.pval, "ci_lb": self.ci_lb,
                             "ci_ub": self.ci_ub})

    def variance_components(self) -> pd.DataFrame:
        """One row per component (``component``, ``estimate``, ``sqrt``, ``n_levels``, ``factor``, ``fixed``): for a
        term with one variance per inner level, ``n_levels`` is the number of rows at that level and
        ``factor`` the level (metafor's ``k.lvl`` and ``level``)."""
        rows = []
        for j, (nm, t) in enumerate(zip(self.sigma2_names, [t for t in self.spec.terms if isinstance(t, SigmaTerm)],
                                        strict=True)):
            rows.append({"component": f"sigma2.{j + 1}", "estimate": self.sigma2[j],
                         "sqrt": np.sqrt(self.sigma2[j]), "n_levels": len(t.levels), "factor": nm})
        st = [t for t in self.spec.terms if isinstance(t, StructTerm)]
        for tt, (vn, cn, v, c) in zip(st, (("tau2", "rho", self.tau2, self.rho),
                                          ("gamma2", "phi", self.gamma2, self.phi)), strict=False):
            for j, x in enumerate(v):
                rows.append({"component": vn if len(v) == 1 else f"{vn}.{j + 1}", "estimate": x, "sqrt": np.sqrt(x),
                             "n_levels": int(np.sum(tt.inner == j)) if len(v) > 1 else tt.L,
                             "factor": tt.inner_name if len(v) == 1 else tt.inner_levels[j]})
            for j, x in enumerate(c):
                rows.append({"component": cn if len(c) == 1 else f"{cn}.{j + 1}", "estimate": x, "sqrt": np.nan,
                             "n_levels": tt.L, "factor": tt.outer_name})
        out = pd.DataFrame(rows)
        if len(out):  # rows follow the parameter layout: sigma2, then per term its variances and correlations
            out["fixed"] = np.where(np.isfinite(self.spec.fixed), "yes", "no")
        return out

    def __str__(self) -> str:
        kind = {"ML": "maximum likelihood", "REML": "restricted maximum likelihood"}[self.method]
        lines = [f"Multivariate meta-analysis model (k = {self.k}; method: {self.method}, {kind})",
                 f"  random: {'; '.join(self.random) or 'none (common effects with V)'}"
                 + (f"; struct: {', '.join(self.struct)}" if self.struct else ""),
                 f"  logLik = {self.logLik:.4f}, deviance = {self.deviance:.4f}, AIC = {self.AIC:.4f}, "
                 f"BIC = {self.BIC:.4f}, AICc = {self.AICc:.4f}"]
        vc = self.variance_components()
        if len(vc):
            lines.append("Variance components:")
            lines += ["  " + s for s in vc.to_string(index=False, float_format=lambda v: f"{v:.4f}").splitlines()]
        lines.append(f"Test for residual heterogeneity: QE({self.QE_df}) = {self.QE:.4f}, p = {self.QE_p:.4g}")
        if self.QM_df:
            how = (f"QM({self.QM_df})" if self.df is None else f"F({self.QM_df}, {self.df})")
            lines.append(f"Test of moderators (coefficients {', '.join(str(b + 1) for b in self.btt)}): "
                         f"{how} = {self.QM:.4f}, p = {self.QM_p:.4g}")
        lines.append(f"Model results ({100 * self.level:g}% CI, {'z' if self.df is None else 't'} tests):")
        lines += ["  " + s for s in self.summary().to_string(index=False, float_format=lambda v: f"{v:.4f}")
                  .splitlines()]
        if not self.converged:
            lines.append("Warning: the optimiser did not report convergence; check the variance components.")
        return "\n".join(lines)


def _qe(yi, V, X) -> tuple[float, float]:
    try:
        c = np.linalg.cholesky(V)
    except np.linalg.LinAlgError:
        return float("nan"), float("nan")
    Ci = np.linalg.inv(c)
    sy, sX = Ci @ yi, Ci @ X
    b = np.linalg.lstsq(sX, sy, rcond=None)[0]
    qe = float(np.sum((sy - sX @ b) ** 2))
    ll_sat = -0.5 * (len(yi) * _LOG2PI + 2 * float(np.sum(np.log(np.diag(c)))))
    return qe, ll_sat


@_single_thread
def fit_rma_mv(yi, V, X, terms: Sequence[Term] = (), *, names: Sequence[str] | None = None,
               method: str = "REML", test: str = "z", level: float = 0.95, btt: Sequence[int] | None = None,
               fixed: dict[str, np.ndarray] | None = None, labels: Sequence[str] | None = None,
               random: Sequence[str] = ()) -> RMAMVResult:
    """Fit the multivariate / multilevel model (see the module docstring) to arrays.

    Parameters
    ----------
    yi : array_like (n,)
    V : array_like (n, n)
        Variance-covariance matrix of the sampling errors (symmetric, positive semi-definite).
    X : array_like (n, p)
        Design matrix of full column rank.
    terms : sequence of SigmaTerm / StructTerm
        The random effects (at most two StructTerms).
    names : sequence of str, optional
        Coefficient names (default ``intrcpt`` / ``X1``...).
    method : {"REML", "ML"}
    test : {"z", "t"}
    level : float
        Confidence level in (0, 1).
    btt : sequence of int, optional
        Coefficients of the omnibus test (default all but an intercept column).
    fixed : dict, optional
        Fixed values by metafor's names (``{"sigma2": [nan, 0.1], "rho": [0.0]}``; NaN = estimated).
    labels, random : sequence of str, optional
        Row labels and the random-effects formulas (for display).

    Returns
    -------
    RMAMVResult
    """
    yi = np.asarray(yi, float)
    V = np.asarray(V, float)
    X = np.asarray(X, float)
    method = method.upper()
    if method not in ("REML", "ML"):
        raise ValueError(f"method must be 'REML' or 'ML' (as metafor's rma.mv), got {method!r}")
    if test not in ("z", "t"):
        raise ValueError(f"test must be 'z' or 't', got {test!r}")
    terms = tuple(terms)
    if sum(isinstance(t, StructTerm) for t in terms) > 2:
        raise ValueError("random: at most two '~ inner | outer' terms (metafor's tau2/rho and gamma2/phi)")
    lay = _par_layout(terms)
    fx = np.full(len(lay), np.nan)
    for key, vals in (fixed or {}).items():
        pos = [j for j, (kind, *_rest) in enumerate(lay) if kind == key]
        if not pos:
            raise ValueError(f"{key}=: the model has no {key} component")
        arr = np.broadcast_to(np.asarray(vals, float), (len(pos),))
        fx[pos] = arr
    spec = _Spec(yi=yi, V=V, X=X, terms=terms, reml=method == "REML", fixed=fx)
    nat, ok, _ = _optimise(spec)
    if not ok:
        import warnings

        warnings.warn("rma_mv: the optimiser did not converge (gradient not small at the end); check the "
                      "variance components, simplify the random structure or fix a component", RuntimeWarning,
                      stacklevel=3)
    return _result(spec, nat, ok, names=names, method=method, test=test, level=level, btt=btt, labels=labels,
                   random=random)


def _result(spec: _Spec, nat: np.ndarray, ok: bool, *, names, method, test, level, btt, labels, random):
    eng = _Engine(spec)
    yi, V, X = spec.yi, spec.V, spec.X
    n, p = X.shape
    M = eng.marginal(nat)
    beta, vb, _, _, ll_ml, ll_reml = eng.solve(M, spec.reml)
    se = np.sqrt(np.diag(vb))
    z = beta / se
    df = None if test == "z" else n - p
    if df is None:
        pval = 2 * stats.norm.sf(np.abs(z))
        crit = stats.norm.ppf(0.5 + level / 2)
    else:
        pval = 2 * stats.t.sf(np.abs(z), df)
        crit = stats.t.ppf(0.5 + level / 2, df)
    names = tuple(names) if names is not None else (
        ("intrcpt",) if p == 1 else tuple(f"X{j + 1}" for j in range(p)))
    has_int = [j for j in range(p) if np.all(X[:, j] == 1.0)]
    # as metafor: all but the intercept, or the intercept alone in an intercept-only model
    b = tuple(btt) if btt is not None else (
        tuple(j for j in range(p) if j not in has_int[:1]) if has_int and p > 1 else tuple(range(p)))
    if b:
        QM = float(beta[list(b)] @ np.linalg.solve(vb[np.ix_(b, b)], beta[list(b)]))
        m = len(b)
        if df is None:
            QM_p = float(stats.chi2.sf(QM, m))
        else:
            QM = QM / m
            QM_p = float(stats.f.sf(QM, m, df))
    else:
        QM, m, QM_p = float("nan"), 0, float("nan")
    QE, ll_sat = _qe(yi, V, X)
    QE_df = n - p
    QE_p = float(stats.chi2.sf(QE, QE_df)) if QE_df > 0 else 1.0
    if QE_df == 0:
        QE = 0.0
    lay = spec.layout()
    free = ~np.isfinite(spec.fixed)
    n_par = p + int(free.sum())
    ll = ll_reml if spec.reml else ll_ml
    nn = n - p if spec.reml else n
    dev = -2 * ll_reml if spec.reml else (-2 * (ll_ml - ll_sat) if np.isfinite(ll_sat) else -2 * ll_ml)
    aicc = -2 * ll + 2 * n_par * max(nn, n_par + 2) / (max(nn, n_par + 2) - n_par - 1)

    def pick(kind: str) -> np.ndarray:
        return np.array([v for (k, *_), v in zip(lay, nat, strict=True) if k == kind], float)

    sig_terms = [t for t in spec.terms if isinstance(t, SigmaTerm)]
    return RMAMVResult(
        names=names, beta=beta, se=se, zval=z, pval=pval, ci_lb=beta - crit * se, ci_ub=beta + crit * se, vb=vb,
        sigma2=pick("sigma2"), sigma2_names=tuple(t.name for t in sig_terms), tau2=pick("tau2"), rho=pick("rho"),
        gamma2=pick("gamma2"), phi=pick("phi"),
        struct=tuple(t.struct for t in spec.terms if isinstance(t, StructTerm)), method=method, test=test,
        level=level, k=n, p=p, df=df, QE=QE, QE_df=QE_df, QE_p=QE_p, QM=QM, QM_df=m, QM_p=QM_p, btt=b,
        logLik=ll, deviance=float(dev), AIC=-2 * ll + 2 * n_par, BIC=-2 * ll + n_par * np.log(nn), AICc=float(aicc),
        n_par=n_par, ll_ML=ll_ml, ll_REML=ll_reml, yi=yi, V=V, X=X, M=M,
        labels=tuple(labels) if labels is not None else tuple(str(i + 1) for i in range(n)), random=tuple(random),
        converged=ok, spec=spec)


def _nat_of(fit: RMAMVResult) -> np.ndarray:
    lay = fit.spec.layout()
    vals = {"sigma2": list(fit.sigma2), "tau2": list(fit.tau2), "rho": list(fit.rho), "gamma2": list(fit.gamma2),
            "phi": list(fit.phi)}
    return np.array([vals[k].pop(0) for k, *_ in lay], float)


def profile_loglik(fit: RMAMVResult, j: int, value: float) -> float:
    """The (restricted) log-likelihood maximised over the other components with component ``j`` at ``value``."""
    fx = fit.spec.fixed.copy()
    fx[j] = value
    spec = replace(fit.spec, fixed=fx)
    nat0 = _nat_of(fit)
    nat0[j] = value
    return _optimise(spec, start=nat0, ftol=1e-12, gtol=1e-7)[2]


@_single_thread
def profile_confint(fit: RMAMVResult, level: float | None = None) -> pd.DataFrame:
    """Profile-likelihood CIs of every estimated variance component and correlation (metafor's
    ``confint.rma.mv``): rows ``sigma^2.j``/``sigma.j``, ``tau^2``/``tau``, ``rho``, ... with columns
    ``estimate``, ``ci_lb``, ``ci_ub`` (NaN where the search leaves the parameter space unresolved).

    Each profile point is a local maximisation started at the fit. With correlated components the
    profile can have several maxima (a variance at 0 frees its correlation), so a bound can differ
    from metafor's, whose search is local too: for berkey1998's UN model the lower bound of tau^2_1 is
    0.00788 here, 0.00787 in metafor, and rho's lower bound is -1 here, -0.834 in metafor, though with
    tau^2_2 = 0 every rho lies within the critical value (2 x difference 2.45 < 3.84)."""
    level = fit.level if level is None else level
    crit = float(stats.chi2.ppf(level, 1))
    lay = fit.spec.layout()
    nat = _nat_of(fit)
    ll0 = fit.logLik
    rows: dict[str, tuple[float, float, float]] = {}
    counts = {k: sum(1 for kk, *_ in lay if kk == k) for k in ("sigma2", "tau2", "rho", "gamma2", "phi")}
    free = ~np.isfinite(fit.spec.fixed)
    for j, (kind, _i, w, _tr) in enumerate(lay):
        if not free[j]:
            continue
        est = float(nat[j])

        def f(v, j=j):
            return 2 * (ll0 - profile_loglik(fit, j, v)) - crit

        if kind in ("rho", "phi"):
            car = getattr(fit.spec.terms[lay[j][1]], "struct", "") == "CAR"
            lo_lim, hi_lim = (0.0, 1.0) if car else (-1.0, 1.0)
            lo_lim, hi_lim = lo_lim + 1e-6 * (lo_lim != 0.0), hi_lim - 1e-6
        else:
            lo_lim, hi_lim = 0.0, max(10.0, 100 * est)
        lb, ub = _bound(f, est, lo_lim), _bound(f, est, hi_lim)
        suffix = "" if counts[kind] == 1 else f".{w + 1}"  # metafor: "sigma^2" alone, "sigma^2.1", ... if several
        if kind in ("rho", "phi"):
            rows[f"{kind}{suffix}"] = (est, lb, ub)
        else:
            base = {"sigma2": "sigma", "tau2": "tau", "gamma2": "gamma"}[kind]
            rows[f"{base}^2{suffix}"] = (est, lb, ub)
            rows[f"{base}{suffix}"] = (np.sqrt(est), np.sqrt(lb), np.sqrt(ub))
    return pd.DataFrame.from_dict(rows, orient="index", columns=["estimate", "ci_lb", "ci_ub"])


def _bound(f, est: float, lim: float) -> float:
    """Root of ``f`` between ``est`` and ``lim`` (``lim`` itself when ``f`` stays negative there)."""
    try:
        flim = f(lim)
    except np.linalg.LinAlgError:
        return float("nan")
    if not np.isfinite(flim):
        return float("nan")
    if flim < 0:
        return float(lim)
    a, b = (lim, est) if lim < est else (est, lim)
    return float(optimize.brentq(f, a, b, xtol=1e-6 * max(abs(est), 1e-3), rtol=1e-6))


@_single_thread
def ranef_mv(fit: RMAMVResult, level: float | None = None) -> dict[str, pd.DataFrame]:
    """Predicted random effects (BLUPs), as metafor's ``ranef.rma.mv``: one DataFrame per term (keyed
    ``"g"`` for ``~ 1 | g``, ``"inner | outer"`` for a structured term; index: its levels, or the
    ``inner | outer`` combinations present; columns ``intrcpt``, ``se``, ``pi_lb``, ``pi_ub``)."""
    level = fit.level if level is None else level
    crit = stats.norm.ppf(0.5 + level / 2) if fit.df is None else stats.t.ppf(0.5 + level / 2, fit.df)
    W = np.linalg.inv(fit.M)
    X = fit.X
    H = X @ fit.vb @ X.T @ W
    e = fit.residuals
    n = len(e)
    out = {}
    sig = iter(fit.sigma2)
    st = iter([(fit.tau2, fit.rho), (fit.gamma2, fit.phi)])
    for t in fit.spec.terms:
        if isinstance(t, SigmaTerm):
            s2 = float(next(sig))
            Z = np.zeros((n, len(t.levels)))
            Z[np.arange(n), t.groups] = 1.0
            D = s2 * np.eye(len(t.levels))
            key, index = t.name, list(t.levels)
        else:
            # one effect per (outer, inner) combination present, ordered by outer then inner level
            var, cor = next(st)
            G = t.G(var, cor)
            combos = sorted(set(zip(t.outer.tolist(), t.inner.tolist(), strict=True)))
            pos = {c: j for j, c in enumerate(combos)}
            Z = np.zeros((n, len(combos)))
            Z[np.arange(n), [pos[c] for c in zip(t.outer.tolist(), t.inner.tolist(), strict=True)]] = 1.0
            o = np.array([c[0] for c in combos])
            i_ = np.array([c[1] for c in combos])
            D = G[np.ix_(i_, i_)] * (o[:, None] == o[None, :])
            outer_levels = _outer_levels(t)
            key = f"{t.inner_name} | {t.outer_name}"
            index = [f"{t.inner_levels[c[1]]} | {outer_levels[c[0]]}" for c in combos]
        DZtW = D @ Z.T @ W
        pred = DZtW @ e
        vpred = D - DZtW @ (np.eye(n) - H) @ Z @ D
        se = np.sqrt(np.maximum(np.diag(vpred), 0.0))
        out[key] = pd.DataFrame({"intrcpt": pred, "se": se, "pi_lb": pred - crit * se, "pi_ub": pred + crit * se},
                                index=index)
    return out


def _outer_levels(t: StructTerm) -> tuple[str, ...]:
    return t.outer_levels or tuple(str(j + 1) for j in range(int(t.outer.max()) + 1))


def predict_mv(fit: RMAMVResult, newmods=None, level: float | None = None, intercept: bool = True,
               tau2_levels: Sequence[int] | None = None, gamma2_levels: Sequence[int] | None = None,
               hetvar: float | None = None) -> pd.DataFrame:
    """Predicted average effects with CI and prediction interval, as metafor's ``predict.rma.mv``.

    The prediction interval adds :math:`\\sum_j\\sigma^2_j` and the ``tau2`` (``gamma2``) of the level
    given by ``tau2_levels`` (0-based positions in the inner levels; needed when a term has several
    tau^2) to :math:`\\mathrm{SE}^2`; ``hetvar`` replaces that sum (e.g. the heterogeneity of a
    contrast of two correlated levels, :math:`\\tau^2_1 + \\tau^2_2 - 2\\tau_{12}`).
    """
    level = fit.level if level is None else level
    crit = stats.norm.ppf(0.5 + level / 2) if fit.df is None else stats.t.ppf(0.5 + level / 2, fit.df)
    has_int = fit.p > 0 and bool(np.all(fit.X[:, 0] == 1.0)) and fit.names[0] == "intrcpt"
    if newmods is None:
        Xn = fit.X[:1] if (fit.p == 1 and has_int) else fit.X
    else:
        arr = np.asarray(newmods, float)
        q = fit.p - (1 if has_int else 0)
        arr = arr.reshape(-1, q) if q > 0 else arr.reshape(-1, 0)
        Xn = np.column_stack([np.full(len(arr), 1.0 if intercept else 0.0), arr]) if has_int else arr
    pred = Xn @ fit.beta
    se = np.sqrt(np.einsum("ij,jk,ik->i", Xn, fit.vb, Xn))
    extra = np.full(len(pred), float(np.sum(fit.sigma2)))
    for var, lev in ((fit.tau2, tau2_levels), (fit.gamma2, gamma2_levels)):
        if len(var) == 1:
            extra += var[0]
        elif len(var) > 1:
            if lev is None:
                extra[:] = np.nan
            else:
                extra += var[np.broadcast_to(np.asarray(lev, int), (len(pred),))]
    if hetvar is not None:
        extra[:] = float(hetvar)
    h = crit * np.sqrt(se**2 + extra)
    return pd.DataFrame({"pred": pred, "se": se, "ci_lb": pred - crit * se, "ci_ub": pred + crit * se,
                         "pi_lb": pred - h, "pi_ub": pred + h})


def fitstats_mv(fit: RMAMVResult, reml: bool | None = None) -> dict:
    """logLik, deviance, AIC, BIC, AICc of the fit (metafor's ``fitstats``; ``reml`` defaults to the method)."""
    reml = fit.method == "REML" if reml is None else reml
    if reml == (fit.method == "REML"):
        return {"logLik": fit.logLik, "deviance": fit.deviance, "AIC": fit.AIC, "BIC": fit.BIC, "AICc": fit.AICc,
                "n_par": fit.n_par, "reml": reml}
    ll = fit.ll_REML if reml else fit.ll_ML
    nn = fit.k - fit.p if reml else fit.k
    q = fit.n_par
    _, ll_sat = _qe(fit.yi, fit.V, fit.X)
    dev = -2 * ll if reml else (-2 * (ll - ll_sat) if np.isfinite(ll_sat) else -2 * ll)
    return {"logLik": ll, "deviance": float(dev), "AIC": -2 * ll + 2 * q, "BIC": -2 * ll + q * np.log(nn),
            "AICc": -2 * ll + 2 * q * max(nn, q + 2) / (max(nn, q + 2) - q - 1), "n_par": q, "reml": reml}


def anova_mv(fit: RMAMVResult, fit2: RMAMVResult | None = None, *, btt=None, L=None, rhs=0.0):
    """Wald test of coefficients (``btt``) or linear combinations (``L``), or the likelihood-ratio test
    between two nested fits to the same data (metafor's ``anova.rma``)."""
    from bayesmeta.frequentist.anova import AnovaResult, _wald, linear_combinations, resolve_btt

    if fit2 is not None:
        if fit.yi.shape != fit2.yi.shape or not np.allclose(fit.yi, fit2.yi) or not np.allclose(fit.V, fit2.V):
            raise ValueError("anova: the two fits are not to the same data (yi and V must agree)")
        if fit.method != fit2.method:
            raise ValueError("anova: a likelihood-ratio test needs two ML fits or two REML fits")
        if fit.method == "REML" and (fit.X.shape != fit2.X.shape or not np.allclose(fit.X, fit2.X)):
            import warnings

            warnings.warn("REML likelihoods of models with different fixed effects are not comparable: refit "
                          "both with method='ML'", UserWarning, stacklevel=2)
        full, red = (fit, fit2) if fit.n_par >= fit2.n_par else (fit2, fit)
        lrt = max(0.0, 2 * (full.logLik - red.logLik))
        dfd = full.n_par - red.n_par
        pv = float(stats.chi2.sf(lrt, dfd)) if dfd > 0 else float("nan")
        fits = pd.DataFrame([{"n_par": f.n_par, "AIC": f.AIC, "BIC": f.BIC, "AICc": f.AICc, "logLik": f.logLik,
                              "LRT": v, "pval": q, "QE": f.QE}
                             for f, v, q in ((full, np.nan, np.nan), (red, lrt, pv))], index=["full", "reduced"])
        return AnovaResult(kind="lrt", LRT=lrt, df=float(dfd), pval=pv, fits=fits)
    if L is not None:
        return linear_combinations(fit.beta, fit.vb, fit.names, fit.df, L, rhs)
    b = fit.btt if btt is None else resolve_btt(btt, fit.names)
    if not b:
        raise ValueError("nothing to test: the model has only an intercept (give btt= or L=)")
    QM, QM_df, QM_p = _wald(fit.beta[list(b)], fit.vb[np.ix_(b, b)], fit.df)
    return AnovaResult(kind="wald", QM=QM, QM_df=QM_df, QM_p=QM_p, df=fit.df, btt=tuple(b),
                       names=tuple(fit.names[j] for j in b))


def confint_mv(fit: RMAMVResult, level: float | None = None):
    """Profile-likelihood CIs of the variance components and Wald CIs of the coefficients."""
    from bayesmeta.frequentist.confint import ConfintResult

    level = fit.level if level is None else level
    crit = stats.norm.ppf(0.5 + level / 2) if fit.df is None else stats.t.ppf(0.5 + level / 2, fit.df)
    fixed = pd.DataFrame({"estimate": fit.beta, "ci_lb": fit.beta - crit * fit.se, "ci_ub": fit.beta + crit * fit.se},
                         index=list(fit.names))
    return ConfintResult(random=profile_confint(fit, level), fixed=fixed, type="PL", level=level)


def hatvalues_mv(fit: RMAMVResult, type: str = "diagonal") -> np.ndarray:
    """The hat matrix :math:`H = X(X^\\top M^{-1}X)^{-1}X^\\top M^{-1}` (``"matrix"``) or its diagonal."""
    H = fit.X @ fit.vb @ fit.X.T @ np.linalg.inv(fit.M)
    if type == "diagonal":
        return np.diag(H).copy()
    if type == "matrix":
        return H
    raise ValueError("type must be 'diagonal' or 'matrix'")


def _clusters(fit: RMAMVResult, cluster) -> tuple[np.ndarray, list]:
    cl = np.asarray(list(cluster), dtype=object)
    if cl.size != fit.k:
        raise ValueError(f"cluster: one label per row of the fit ({fit.k}), got {cl.size}")
    return cl, sorted(set(cl.tolist()), key=lambda x: (str(type(x)), x))


def _x2(e: np.ndarray, V: np.ndarray) -> float:
    try:
        return float(e @ np.linalg.solve(V, e))
    except np.linalg.LinAlgError:
        return float("nan")


def rstandard_mv(fit: RMAMVResult, cluster=None):
    r"""Standardised residuals, as metafor's ``rstandard.rma.mv``: :math:`e_i/\sqrt{[(I-H)M(I-H)^\top]_{ii}}`
    (columns ``resid``, ``se``, ``z``); with ``cluster`` also, per cluster (sorted), the quadratic form
    :math:`X^2_c = e_c^\top[(I-H)M(I-H)^\top]_{cc}^{-1}e_c` and its number of rows: a dict
    ``{"obs": ..., "cluster": ...}`` (metafor's ``$obs``, ``$cluster``)."""
    ImH = np.eye(fit.k) - hatvalues_mv(fit, "matrix")
    ve = ImH @ fit.M @ ImH.T
    se = np.sqrt(np.diag(ve))
    e = fit.residuals
    e = np.where(np.abs(e) < 100 * np.finfo(float).eps, 0.0, e)
    obs = pd.DataFrame({"resid": e, "se": se, "z": e / se})
    if cluster is None:
        return obs
    cl, ids = _clusters(fit, cluster)
    rows = [{"cluster": c, "X2": _x2(e[cl == c], ve[np.ix_(cl == c, cl == c)]), "k": int(np.sum(cl == c))}
            for c in ids]
    return {"obs": obs, "cluster": pd.DataFrame(rows)}


@_single_thread
def rstudent_mv(fit: RMAMVResult, cluster=None, reestimate: bool = True):
    r"""Studentised deleted residuals, as metafor's ``rstudent.rma.mv``: each row (or ``cluster``) left out,
    the model refitted (variance components re-estimated, or held with ``reestimate=False``),
    :math:`e_{(i)} = y_i - x_i\hat\beta_{(-i)}` with SE from :math:`M_{(-i),ii} + x_iV_{(-i)}x_i^\top` (M at
    the refit's components); with ``cluster`` also :math:`X^2_c` of the deleted residuals (see
    :func:`rstandard_mv` for the return)."""
    cl, ids = (np.arange(fit.k).astype(object), list(range(fit.k))) if cluster is None else _clusters(fit, cluster)
    nat = _nat_of(fit)
    eng_full = _Engine(fit.spec)
    resid, se = np.full(fit.k, np.nan), np.full(fit.k, np.nan)
    rows = []
    for c in ids:
        out = cl == c
        keep = ~out
        spec = _subset_spec(fit.spec, keep)
        if np.linalg.matrix_rank(spec.X) < spec.X.shape[1]:
            rows.append({"cluster": c, "X2": np.nan, "k": int(out.sum())})
            continue
        nat_i = _optimise(spec, start=nat.copy())[0] if reestimate else nat
        eng = _Engine(spec)
        beta, vb = eng.solve(eng.marginal(nat_i), spec.reml)[:2]
        Xi = fit.X[out]
        d = fit.yi[out] - Xi @ beta
        Vd = eng_full.marginal(nat_i)[np.ix_(out, out)] + Xi @ vb @ Xi.T
        resid[out], se[out] = d, np.sqrt(np.diag(Vd))
        rows.append({"cluster": c, "X2": _x2(d, Vd), "k": int(out.sum())})
    resid = np.where(np.abs(resid) < 100 * np.finfo(float).eps, 0.0, resid)
    obs = pd.DataFrame({"resid": resid, "se": se, "z": resid / se})
    return obs if cluster is None else {"obs": obs, "cluster": pd.DataFrame(rows)}



def _subset_spec(spec: _Spec, keep: np.ndarray) -> _Spec:
    terms: list[Term] = []
    for t in spec.terms:
        if isinstance(t, SigmaTerm):
            terms.append(replace(t, groups=t.groups[keep]))
        else:
            terms.append(replace(t, inner=t.inner[keep], outer=t.outer[keep]))
    return replace(spec, yi=spec.yi[keep], V=spec.V[np.ix_(keep, keep)], X=spec.X[keep], terms=tuple(terms))


@_single_thread
def cooks_distance_mv(fit: RMAMVResult, cluster=None, reestimate: bool = True) -> np.ndarray:
    r"""Cook's distances, as metafor's ``cooks.distance.rma.mv``: for each row (or each ``cluster``)
    left out, :math:`(\hat\beta - \hat\beta_{(-i)})^\top\mathrm{Var}(\hat\beta)^{-1}(\hat\beta - \hat\beta_{(-i)})`
    with the variance components re-estimated (``reestimate=True``) or held at the fit's values;
    clusters in sorted order (as metafor)."""
    cl = np.arange(fit.k) if cluster is None else np.asarray(cluster)
    if cl.shape != (fit.k,):
        raise ValueError(f"cluster: one label per row of the fit ({fit.k}), got {cl.shape[0]}")
    ids = sorted(set(cl.tolist()), key=lambda x: (str(type(x)), x))
    svb = np.linalg.inv(fit.vb)
    nat = _nat_of(fit)
    out = np.full(len(ids), np.nan)
    for j, g in enumerate(ids):
        keep = cl != g
        spec = _subset_spec(fit.spec, keep)
        if np.linalg.matrix_rank(spec.X) < spec.X.shape[1]:
            continue
        if reestimate:
            nat_i = _optimise(spec, start=nat.copy())[0]
        else:
            nat_i = nat
            spec = replace(spec, fixed=nat.copy())
        beta = _Engine(spec).solve(_Engine(spec).marginal(nat_i), spec.reml)[0]
        d = fit.beta - beta
        out[j] = float(d @ svb @ d)
    return out


def robust_mv(fit: RMAMVResult, cluster, adjust: bool = True, clubSandwich: bool = False):
    r"""Cluster-robust (sandwich) inference for an ``rma_mv`` fit, as metafor's ``robust.rma.mv``.

    * default (Hedges, Tipton & Johnson 2010, doi:10.1002/jrsm.5):
      :math:`V_R = B\{\sum_c e_ce_c^\top\}B^\top` with bread :math:`B = (X^\top M^{-1}X)^{-1}X^\top M^{-1}`
      (the sum block-diagonal over the clusters), times :math:`n/(n-p)` when ``adjust`` (n clusters);
      t tests on :math:`n-p` df and :math:`F = Q_M/m` on :math:`(m, n-p)` df for the fit's ``btt``.
    * ``clubSandwich=True`` (Pustejovsky & Tipton 2018, doi:10.1080/07350015.2017.1283241; as R's
      clubSandwich ``vcovCR(type="CR2")`` with its defaults for ``rma.mv``, which metafor calls): working
      model :math:`\Phi = M` (its random effects must be nested in the clusters, so M is block-diagonal
      by cluster), :math:`A_c = R_c^\top G_c^{-1/2}R_c` with :math:`M_c = R_c^\top R_c` (Cholesky) and
      :math:`G_c = R_c(M_c - X_cV_\beta X_c^\top)R_c^\top`;
      :math:`V_{CR2} = V_\beta\{\sum_c X_c^\top M_c^{-1}A_ce_ce_c^\top A_cM_c^{-1}X_c\}V_\beta`; each coefficient's
      t test on Satterthwaite df :math:`\nu = (\sum_c g_c^\top\Phi g_c)^2/\sum_{c,d}(g_c^\top\Phi g_d)^2`,
      :math:`g_c = (I-H)_{c\cdot}^\top A_cM_c^{-1}X_cV_\beta e_j`. The omnibus F uses :math:`(m, n-p)` df (with
      one coefficient tested: its Satterthwaite df), not clubSandwich's HTZ test.
    """
    from bayesmeta.frequentist.robust import RobustResult, _inv_sqrt

    cl = np.asarray(list(cluster), dtype=object)
    if cl.size != fit.k:
        raise ValueError(f"cluster must have one entry per row of the fit ({fit.k}); got {cl.size}")
    ids = list(dict.fromkeys(cl.tolist()))
    n, p = len(ids), fit.p
    if n <= p and not clubSandwich:
        raise ValueError(f"too few clusters ({n}) for {p} coefficients")
    W = np.linalg.inv(fit.M)
    e = fit.residuals
    groups = [np.flatnonzero(cl == c) for c in ids]
    if not clubSandwich:
        bread = fit.vb @ fit.X.T @ W
        vb = np.zeros((p, p))
        for g in groups:
            u = bread[:, g] @ e[g]
            vb += np.outer(u, u)
        if adjust:
            vb *= n / (n - p)
        dfs = np.full(p, float(n - p))
        kind = "CR1" if adjust else "CR0"
    else:
        same = cl[:, None] == cl[None, :]
        if np.any(np.abs(fit.M[~same]) > 1e-12 * np.max(np.abs(fit.M))):
            raise ValueError("cluster: the random effects (and V) are not nested within the clusters, so the "
                             "CR2 working model is not block-diagonal; cluster at the outermost level")
        X, vb0 = fit.X, fit.vb
        IH = np.eye(fit.k) - X @ vb0 @ X.T @ W
        meat = np.zeros((p, p))
        Gs = np.zeros((p, fit.k, n))  # per coefficient j: g_c as columns
        for ci, g in enumerate(groups):
            Mc = fit.M[np.ix_(g, g)]
            R = np.linalg.cholesky(Mc).T  # upper: Mc = R'R
            Gc = R @ (Mc - X[g] @ vb0 @ X[g].T) @ R.T
            A = R.T @ _inv_sqrt((Gc + Gc.T) / 2) @ R
            Wc = np.linalg.inv(Mc)
            E = X[g].T @ Wc @ A  # (p, k_c)
            u = E @ e[g]
            meat += np.outer(u, u)
            Gs[:, :, ci] = (vb0 @ E @ IH[g])  # (p, k): g_c' for every coefficient
        vb = vb0 @ meat @ vb0
        dfs = np.empty(p)
        for j in range(p):
            Gj = Gs[j]  # (k, n)
            Pj = Gj.T @ fit.M @ Gj
            dfs[j] = np.trace(Pj) ** 2 / np.sum(Pj**2)
        kind = "CR2"
    se = np.sqrt(np.diag(vb))
    t = fit.beta / se
    crit = stats.t.ppf(0.5 + fit.level / 2, dfs)
    b = list(fit.btt)
    if b:
        QM = float(fit.beta[b] @ np.linalg.solve(vb[np.ix_(b, b)], fit.beta[b])) / len(b)
        ddf = float(dfs[b[0]]) if (clubSandwich and len(b) == 1) else float(n - p)
        QM_p = float(stats.f.sf(QM, len(b), ddf))
    else:
        QM, ddf, QM_p = float("nan"), float("nan"), float("nan")
    return RobustResult(names=fit.names, beta=fit.beta, se=se, tval=t, df=dfs, pval=2 * stats.t.sf(np.abs(t), dfs),
                        ci_lb=fit.beta - crit * se, ci_ub=fit.beta + crit * se, vb=vb, QM=QM, QM_df=len(b), QM_ddf=ddf,
                        QM_p=QM_p, n_clusters=n, kind=kind, level=fit.level, tau2=float("nan"))
