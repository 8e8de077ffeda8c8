"""Risk of small caps against large caps: volatility ratio, drawdown, beta."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from xlsmallcap.core.frame import aligned, check_window

TRADING_DAYS = 252


@dataclass(frozen=True)
class RiskResult:
    as_of: pd.Timestamp
    vol_ratio: float
    vol_small: float
    vol_large: float
    max_drawdown: float
    beta: float
    window: int


def max_drawdown(prices: np.ndarray) -> float:
    """Largest peak-to-trough fall, ``min(P_t / max(P_0..P_t) - 1)`` (<= 0); NaN if empty."""
    if prices.size == 0:
        return np.nan
    return float(np.min(prices / np.maximum.accumulate(prices) - 1.0))


def risk(small: pd.Series, large: pd.Series, window: int = 63, as_of: object = None
         ) -> RiskResult:
    """Realized risk of ``small`` against ``large`` over the last ``window`` trading days.

    With daily log returns ``x`` (small) and ``y`` (large) on common dates:
    ``vol = std(x, ddof=1) * sqrt(252)`` (annualized), ``vol_ratio = vol_small / vol_large``,
    ``beta = cov(x, y) / var(y)``, and ``max_drawdown`` of the small-cap prices over the
    window. NaN when fewer than ``window + 1`` common dates exist or the large-cap series is
    flat (zero variance).
    """
    w = check_window(window, minimum=2)
    df = aligned(small, large, as_of=as_of)
    nan = np.nan
    last = df.index[-1] if len(df) else pd.NaT
    if len(df) < w + 1:
        return RiskResult(last, nan, nan, nan, nan, nan, w)
    p = df.to_numpy()[-(w + 1):]
    r = np.diff(np.log(p), axis=0)
    vs, vl = r.std(axis=0, ddof=1) * np.sqrt(TRADING_DAYS)
    var_l = float(np.var(r[:, 1], ddof=1))
    beta = float(np.cov(r[:, 0], r[:, 1], ddof=1)[0, 1] / var_l) if var_l > 0 else nan
    ratio = float(vs / vl) if vl > 0 else nan
    return RiskResult(last, ratio, float(vs), float(vl), max_drawdown(p[:, 0]), beta, w)
