"""Relative rotation quadrant: where small caps sit against large caps, from past data only."""

from __future__ import annotations

import numpy as np
import pandas as pd

from xlsmallcap.core.frame import aligned, check_window

QUADRANTS = ("Leading", "Weakening", "Lagging", "Improving")


def quadrant_label(ratio: float, momentum: float) -> str:
    """Leading (ratio > 100, momentum > 100), Weakening (> 100, <= 100), Lagging (<= 100,
    <= 100), Improving (<= 100, > 100); "" when either is NaN."""
    if not (np.isfinite(ratio) and np.isfinite(momentum)):
        return ""
    if ratio > 100:
        return "Leading" if momentum > 100 else "Weakening"
    return "Improving" if momentum > 100 else "Lagging"


def quadrant_trail(small: pd.Series, bench: pd.Series, ratio_window: int = 63,
                   momentum_window: int = 10, as_of: object = None) -> pd.DataFrame:
    """Relative-strength ratio and momentum on every date, with the quadrant.

    ``RS_t = S_t / B_t``; ``ratio_t = 100 * RS_t / mean(RS_{t-n+1..t})`` with ``n =
    ratio_window`` (a trailing mean, never a full-sample statistic); ``momentum_t = 100 *
    ratio_t / ratio_{t-m}`` with ``m = momentum_window``. Columns ``ratio``, ``momentum``,
    ``quadrant``; rows without enough history are dropped.
    """
    n = check_window(ratio_window, "ratio_window", minimum=2)
    m = check_window(momentum_window, "momentum_window")
    df = aligned(small, bench, as_of=as_of)
    rs = df[0] / df[1]
    ratio = 100.0 * rs / rs.rolling(n, min_periods=n).mean()
    mom = 100.0 * ratio / ratio.shift(m)
    out = pd.DataFrame({"ratio": ratio, "momentum": mom}).dropna()
    up, strong = out["momentum"].to_numpy() > 100, out["ratio"].to_numpy() > 100
    # The same rule as quadrant_label, for every row at once.
    out["quadrant"] = np.select([strong & up, strong, up], ["Leading", "Weakening", "Improving"],
                                "Lagging")
    return out


def quadrant(small: pd.Series, bench: pd.Series, ratio_window: int = 63,
             momentum_window: int = 10, as_of: object = None) -> tuple[str, float, float]:
    """(quadrant, ratio, momentum) at ``as_of``; ("", NaN, NaN) without enough history."""
    trail = quadrant_trail(small, bench, ratio_window, momentum_window, as_of)
    if trail.empty:
        return "", np.nan, np.nan
    last = trail.iloc[-1]
    return str(last["quadrant"]), float(last["ratio"]), float(last["momentum"])
