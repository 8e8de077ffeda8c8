"""The rate-cut catalyst: how small-vs-large relative returns move with short rates."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from xlsmallcap.core.frame import aligned, check_window, upto
from xlsmallcap.core.stats import hac_slope

#: A rate "moved" in a step when it changed by at least 5 bp; fewer than 3 such moves -> NaN.
MIN_MOVE = 0.05
MIN_MOVES = 3


@dataclass(frozen=True)
class Sensitivity:
    """Relative return of small vs large per +1 percentage point of a rate, over one window.

    ``se`` is the Newey-West (HAC) standard error of ``beta``; ``t = beta / se``.
    """

    rate: str
    beta: float
    correlation: float
    observations: int
    se: float = np.nan

    @property
    def t(self) -> float:
        return self.beta / self.se if np.isfinite(self.se) and self.se > 0 else np.nan

    @property
    def significant(self) -> bool:
        """``|t| >= 2``; below that the figure is reported as "not significant"."""
        return bool(np.isfinite(self.t) and abs(self.t) >= 2.0)

    @property
    def per_cut(self) -> float:
        """Relative return for a 1 pp *cut* (``-beta``): positive = cuts favour small caps."""
        return -self.beta


def rate_sensitivity(small: pd.Series, large: pd.Series, rates: Mapping[str, pd.Series],
                     window: int = 252, step: int = 5, as_of: object = None
                     ) -> list[Sensitivity]:
    """Regress small-vs-large relative returns on rate changes over the last ``window`` days.

    On the small/large common calendar up to ``as_of``, take every ``step``-th date counting
    back from the last (non-overlapping weekly steps by default). For each step:
    ``x = ln(S_t/S_{t-1}) - ln(L_t/L_{t-1})`` and ``dy = y_t - y_{t-1}`` (pp; each rate's last
    value on or before the date). Then ``beta = cov(x, dy) / var(dy)`` (relative log return per
    +1 pp), its Newey-West standard error (Bartlett kernel, ``floor(4 (n/100)^(2/9))`` lags, see
    :func:`xlsmallcap.core.stats.hac_slope`) and the correlation. A negative beta means small caps
    gain on large caps when the rate falls: the rate-cut catalyst. NaN when the rate did not move
    in the window (fewer than 3 steps with a change of at least 5 bp, e.g. fed funds on hold) or
    fewer than 3 steps exist.
    """
    w = check_window(window, minimum=2)
    st = check_window(step, "step")
    df = aligned(small, large, as_of=as_of)
    dates = df.index[-(w + 1):][::-1][::st][::-1]
    rel = np.log(df[0].reindex(dates).to_numpy()) - np.log(df[1].reindex(dates).to_numpy())
    x = np.diff(rel)
    out = []
    for name, series in rates.items():
        y = upto(series.dropna(), as_of)
        lvl = y.reindex(y.index.union(dates)).ffill().reindex(dates).to_numpy()
        dy = np.diff(lvl)
        ok = np.isfinite(x) & np.isfinite(dy)
        xs, ys = x[ok], dy[ok]
        if xs.size < 3 or np.sum(np.abs(ys) >= MIN_MOVE) < MIN_MOVES:
            out.append(Sensitivity(name, np.nan, np.nan, int(xs.size)))
            continue
        est = hac_slope(xs, ys)
        corr = float(np.corrcoef(xs, ys)[0, 1]) if np.std(xs) > 0 else np.nan
        out.append(Sensitivity(name, est.value, corr, int(xs.size), est.se))
    return out
