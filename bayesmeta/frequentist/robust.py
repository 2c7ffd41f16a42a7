r"""Cluster-robust (sandwich) inference for a fitted model, as metafor's ``robust``.

With :math:`W = \mathrm{diag}\{1/(v_i + \hat\tau^2)\}`, :math:`M = (X^\top WX)^{-1}`, residuals
:math:`e = y - X\hat\beta` and clusters :math:`c = 1..n`:

* ``clubSandwich=False`` (metafor's default; Hedges, Tipton & Johnson 2010, doi:10.1002/jrsm.5):
  :math:`V_R = M\{\sum_c X_c^\top W_c e_c e_c^\top W_c X_c\}M`, times :math:`n/(n-p)` when ``adjust``
  (CR1), t tests on :math:`n - p` df, :math:`F = Q_M/m` on :math:`(m, n-p)` df.
* ``clubSandwich=True`` (Pustejovsky & Tipton 2018, doi:10.1080/07350015.2017.1283241; R's
  clubSandwich ``vcovCR(type="CR2")`` and ``coef_test(test="Satterthwaite")``): the bias-reduced
  :math:`V_{CR2} = M\{\sum_c X_c^\top W_c A_c e_c e_c^\top A_c W_c X_c\}M` with
  :math:`A_c = D_c^\top B_c^{-1/2}D_c`, :math:`B_c = D_c(\Phi_c - X_cMX_c^\top)D_c^\top`, working model
  :math:`\Phi = W^{-1}` and :math:`D_c` its Cholesky factor; each coefficient's t test uses
  Satterthwaite degrees of freedom
  :math:`\nu_j = (\sum_c g_c^\top\Phi g_c)^2/\sum_{c,d}(g_c^\top\Phi g_d)^2`,
  :math:`g_c = (I-H)_{c\cdot}^\top A_c W_c X_c M e_j`.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from bayesmeta.frequentist.model import model_of

__all__ = ["RobustResult", "robust"]


@dataclass(frozen=True, repr=False)
class RobustResult:
    """Cluster-robust coefficients: ``beta``, ``se``, ``tval``, ``df`` (per coefficient), ``pval``,
    ``ci_lb``, ``ci_ub``, ``vb``; omnibus ``QM`` (F), ``QM_df``, ``QM_p``; ``n_clusters``, ``kind``
    (``"CR1"``, ``"CR0"`` or ``"CR2"``)."""

    names: tuple[str, ...]
    beta: np.ndarray
    se: np.ndarray
    tval: np.ndarray
    df: np.ndarray
    pval: np.ndarray
    ci_lb: np.ndarray
    ci_ub: np.ndarray
    vb: np.ndarray
    QM: float
    QM_df: int
    QM_ddf: float
    QM_p: float
    n_clusters: int
    kind: str
    level: float
    tau2: float

    def coefficients(self) -> pd.DataFrame:
        return pd.DataFrame({"estimate": self.beta, "se": self.se, "tval": self.tval, "df": self.df,
                             "pval": self.pval, "ci_lb": self.ci_lb, "ci_ub": self.ci_ub}, index=list(self.names))

    def __str__(self) -> str:
        how = {"CR2": "CR2 with Satterthwaite df (clubSandwich)", "CR1": "CR1 (n/(n-p) adjustment)",
               "CR0": "CR0 (no adjustment)"}[self.kind]
        het = f"; tau^2 = {self.tau2:.4f}" if np.isfinite(self.tau2) else ""  # rma_mv fits: several components
        lines = [f"Cluster-robust inference: {self.n_clusters} clusters, {how}{het}"]
        if self.QM_df:
            lines.append(f"  test of moderators: F({self.QM_df}, {self.QM_ddf:.2f}) = {self.QM:.4f}, p = {self.QM_p:.4g}")
        lines.append(self.coefficients().to_string(float_format=lambda v: f"{v:.4f}"))
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(str(self).splitlines()[0])}</pre>" + self.coefficients().to_html()


def _inv_sqrt(B):
    val, vec = np.linalg.eigh(B)
    val = np.where(val > 1e-12 * val.max(), val, np.inf)
    return (vec / np.sqrt(val)) @ vec.T


def robust(fit, cluster, adjust: bool = True, clubSandwich: bool = False) -> RobustResult:
    """Cluster-robust tests and CIs for the coefficients of an ``rma`` fit (metafor ``robust``).

    Parameters
    ----------
    fit : RMAResult or MetaRegResult
    cluster : sequence
        Cluster label per study (in the fit's order).
    adjust : bool
        The n/(n - p) small-sample factor (ignored with ``clubSandwich``).
    clubSandwich : bool
        CR2 with Satterthwaite degrees of freedom, as R's clubSandwich.

    Returns
    -------
    RobustResult
    """
    m = model_of(fit)
    cl = np.asarray(list(cluster), dtype=object)
    if cl.size != m.k:
        raise ValueError(f"cluster must have one entry per study in the fit ({m.k}); got {cl.size}")
    ids = list(dict.fromkeys(cl.tolist()))
    n, p, k = len(ids), m.p, m.k
    if n <= p:
        raise ValueError(f"too few clusters ({n}) for {p} coefficients")
    X, y = m.X, m.yi
    w = 1.0 / (m.vi + m.tau2)
    M = np.linalg.inv((X.T * w) @ X)
    beta = M @ ((X.T * w) @ y)
    e = y - X @ beta
    groups = [np.flatnonzero(cl == c) for c in ids]
    if not clubSandwich:
        meat = np.zeros((p, p))
        for g in groups:
            u = X[g].T @ (w[g] * e[g])
            meat += np.outer(u, u)
        vb = M @ meat @ M
        kind = "CR1" if adjust else "CR0"
        if adjust:
            vb *= n / (n - p)
        dfs = np.full(p, float(n - p))
    else:
        kind = "CR2"
        phi = 1.0 / w
        H = X @ M @ (X.T * w)
        IH = np.eye(k) - H
        meat = np.zeros((p, p))
        G = np.zeros((p, n, k))  # g_c for every coefficient j
        for ci, g in enumerate(groups):
            D = np.diag(np.sqrt(phi[g]))
            B = D @ (np.diag(phi[g]) - X[g] @ M @ X[g].T) @ D.T
            A = D.T @ _inv_sqrt(B) @ D
            u = X[g].T @ (w[g][:, None] * A) @ e[g]
            meat += np.outer(u, u)
            # u_c = M X_c' W_c A_c (I-H)_{c.} y  ->  g_c (k-vector) per coefficient
            Gc = (M @ X[g].T @ (w[g][:, None] * A) @ IH[g]).T  # (k, p)
            G[:, ci, :] = Gc.T
        vb = M @ meat @ M
        dfs = np.empty(p)
        for j in range(p):
            Pj = G[j] * phi[None, :] @ G[j].T  # (n, n): g_c' Phi g_d
            dfs[j] = np.trace(Pj) ** 2 / np.sum(Pj**2)
    se = np.sqrt(np.diag(vb))
    t = beta / se
    pv = 2 * stats.t.sf(np.abs(t), dfs)
    c = stats.t.ppf(0.5 + m.level / 2, dfs)
    btt = [j for j in range(p) if not np.all(X[:, j] == 1.0)]
    if btt:
        b = beta[btt]
        QM = float(b @ np.linalg.solve(vb[np.ix_(btt, btt)], b)) / len(btt)
        # one coefficient: its Satterthwaite df under CR2 (clubSandwich's HTZ test reduces to it)
        ddf = float(dfs[btt[0]]) if (clubSandwich and len(btt) == 1) else float(n - p)
        QM_p = float(stats.f.sf(QM, len(btt), ddf))
    else:
        QM, ddf, QM_p = float("nan"), float("nan"), float("nan")
    return RobustResult(names=m.names, beta=beta, se=se, tval=t, df=dfs, pval=pv, ci_lb=beta - c * se,
                        ci_ub=beta + c * se, vb=vb, QM=QM, QM_df=len(btt), QM_ddf=ddf, QM_p=QM_p, n_clusters=n,
                        kind=kind, level=m.level, tau2=m.tau2)
