"""The statistics every metric shares: bootstrap nulls, HAC standard errors, Wilson intervals.

Pure numpy; no I/O. One module so that each metric states its uncertainty the same way instead
of growing its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: z of a two-sided 95% interval.
Z95 = 1.959963984540054


def stationary_bootstrap_indices(n: int, length: int, reps: int, mean_block: float,
                                 rng: np.random.Generator) -> np.ndarray:
    """Politis-Romano stationary bootstrap: ``reps`` x ``length`` row indices into ``0..n-1``.

    Each path is glued from blocks that start at a uniform random row and whose lengths are
    geometric with mean ``mean_block``; blocks wrap around the sample. Keeping whole blocks keeps
    the sample's short-range autocorrelation; drawing the same rows for every column keeps the
    cross-correlation between columns.
    """
    if n < 1 or length < 1 or reps < 1 or mean_block < 1:
        raise ValueError("n, length, reps and mean_block must be positive")
    start = rng.integers(0, n, size=(reps, length))
    new_block = rng.random((reps, length)) < 1.0 / mean_block
    steps = np.arange(length)
    # step 0 always starts a block: where no new block begins the start is 0 until one does
    block_start = np.maximum.accumulate(np.where(new_block, steps, 0), axis=1)
    first_row = np.take_along_axis(start, block_start, axis=1)
    return (first_row + (steps - block_start)) % n


def upper_p(null_sorted: np.ndarray, observed: np.ndarray | float) -> np.ndarray:
    """One-sided p-value ``(1 + #{null >= observed}) / (B + 1)`` against a sorted null sample.

    The ``+1`` counts the observation itself, so a p-value is never 0 (Davison-Hinkley);
    ties count against the observation (conservative). NaN stays NaN.
    """
    obs = np.asarray(observed, dtype="float64")
    b = null_sorted.size
    ge = b - np.searchsorted(null_sorted, obs - 1e-12, side="left")
    return np.where(np.isfinite(obs), (1.0 + ge) / (b + 1.0), np.nan)


def lower_p(null_sorted: np.ndarray, observed: np.ndarray | float) -> np.ndarray:
    """One-sided p-value ``(1 + #{null <= observed}) / (B + 1)``; see :func:`upper_p`."""
    obs = np.asarray(observed, dtype="float64")
    b = null_sorted.size
    le = np.searchsorted(null_sorted, obs + 1e-12, side="right")
    return np.where(np.isfinite(obs), (1.0 + le) / (b + 1.0), np.nan)


def newey_west_lags(n: int) -> int:
    """The usual automatic bandwidth ``floor(4 (n / 100) ^ (2/9))`` (Newey-West 1994)."""
    return int(math.floor(4.0 * (max(n, 1) / 100.0) ** (2.0 / 9.0)))


@dataclass(frozen=True)
class Estimate:
    """A figure with its uncertainty: value, standard error, t-statistic, 95% interval, n."""

    value: float
    se: float
    n: int
    lags: int = 0

    @property
    def t(self) -> float:
        return self.value / self.se if self.se > 0 and math.isfinite(self.se) else np.nan

    @property
    def low(self) -> float:
        return self.value - Z95 * self.se

    @property
    def high(self) -> float:
        return self.value + Z95 * self.se

    @property
    def significant(self) -> bool:
        """``|t| >= 2``: the house rule for calling a figure significant."""
        return math.isfinite(self.t) and abs(self.t) >= 2.0


NAN_ESTIMATE = Estimate(np.nan, np.nan, 0)


def _bartlett_long_run(u: np.ndarray, lags: int) -> float:
    """Newey-West long-run variance of a zero-mean series: ``g0 + 2 sum w_j g_j``."""
    n = u.size
    lrv = float(u @ u) / n
    for j in range(1, min(lags, n - 1) + 1):
        lrv += 2.0 * (1.0 - j / (lags + 1.0)) * float(u[j:] @ u[:-j]) / n
    return lrv


def hac_mean(x: np.ndarray, lags: int | None = None) -> Estimate:
    """Mean of ``x`` with a Newey-West (Bartlett kernel) standard error.

    ``se = sqrt(LRV / n)`` where LRV is the Bartlett-weighted long-run variance with ``lags``
    lags (default :func:`newey_west_lags`); for overlapping h-day returns use ``lags = h - 1``.
    NaN values are dropped; fewer than 3 values give NaN.
    """
    v = np.asarray(x, dtype="float64")
    v = v[np.isfinite(v)]
    n = v.size
    if n < 3:
        return Estimate(np.nan, np.nan, n)
    q = newey_west_lags(n) if lags is None else max(0, int(lags))
    m = float(v.mean())
    lrv = max(_bartlett_long_run(v - m, q), 0.0)
    return Estimate(m, math.sqrt(lrv / n), n, q)


def cluster_mean_se(x: np.ndarray, groups: np.ndarray) -> float:
    """Standard error of the mean of ``x`` with observations clustered in ``groups`` (CR0).

    ``se = sqrt(sum_g (sum_{i in g} (x_i - mean))^2) / n``: each cluster (for example one spell
    of a verdict) counts as one independent draw, however many days it holds. Fewer than two
    clusters give NaN: one spell carries no information about its own variability.
    """
    v = np.asarray(x, dtype="float64")
    g = np.asarray(groups)
    ok = np.isfinite(v)
    v, g = v[ok], g[ok]
    labels = np.unique(g)
    if labels.size < 2:
        return np.nan
    dev = v - v.mean()
    sums = np.array([dev[g == k].sum() for k in labels])
    return float(np.sqrt(sums @ sums) / v.size)


def hac_slope(y: np.ndarray, x: np.ndarray, lags: int | None = None) -> Estimate:
    """OLS slope of ``y`` on ``x`` (with intercept) and its Newey-West standard error.

    ``beta = cov(x, y) / var(x)``; ``se^2 = LRV(x_c * e) / (n * var(x)^2)`` with ``x_c`` the
    demeaned regressor and ``e`` the residuals (the HAC sandwich for one regressor). Pairs with
    a NaN are dropped; fewer than 3 pairs or a constant ``x`` give NaN.
    """
    ya = np.asarray(y, dtype="float64")
    xa = np.asarray(x, dtype="float64")
    ok = np.isfinite(ya) & np.isfinite(xa)
    ya, xa = ya[ok], xa[ok]
    n = ya.size
    if n < 3:
        return Estimate(np.nan, np.nan, n)
    xc = xa - xa.mean()
    sxx = float(xc @ xc) / n
    if sxx <= 0:
        return Estimate(np.nan, np.nan, n)
    beta = float(xc @ (ya - ya.mean())) / n / sxx
    resid = (ya - ya.mean()) - beta * xc
    q = newey_west_lags(n) if lags is None else max(0, int(lags))
    lrv = max(_bartlett_long_run(xc * resid, q), 0.0)
    return Estimate(beta, math.sqrt(lrv / n) / sxx, n, q)


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a proportion ``successes / n`` (NaN, NaN when ``n == 0``).

    ``(p + z^2/2n -/+ z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n)``: unlike ``p +/- z se`` it
    stays inside [0, 1] and is honest for small ``n`` and for ``p`` near 0 or 1.
    """
    if n <= 0:
        return np.nan, np.nan
    p = successes / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)
