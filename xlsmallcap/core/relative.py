"""Relative performance of small caps against large caps, and the series behind the charts."""

from __future__ import annotations

import numpy as np
import pandas as pd

from xlsmallcap.core.frame import aligned, check_window, window_return


def relative_performance(small: pd.Series, bench: pd.Series, window: int,
                         as_of: object = None) -> float:
    """Relative total return of ``small`` against ``bench`` over the last ``window`` trading days.

    Formula: ``(1 + r_small) / (1 + r_bench) - 1`` with ``r = P[t] / P[t - window] - 1`` on the
    dates both series have, up to ``as_of``. Prices are adjusted closes, so ``r`` is a total
    return. Returns NaN when fewer than ``window + 1`` common dates exist; raises
    ``AnalysisError`` when ``window`` is not a whole number >= 1.
    """
    w = check_window(window)
    df = aligned(small, bench, as_of=as_of)
    rs = window_return(df[0].to_numpy(), w)
    rb = window_return(df[1].to_numpy(), w)
    return (1.0 + rs) / (1.0 + rb) - 1.0


def total_return(prices: pd.Series, window: int, as_of: object = None) -> float:
    """``P[t] / P[t - window] - 1`` over the last ``window`` trading days; NaN if too short."""
    w = check_window(window)
    return window_return(aligned(prices, as_of=as_of)[0].to_numpy(), w)


def rolling_relative_performance(small: pd.Series, bench: pd.Series, window: int,
                                 as_of: object = None) -> pd.Series:
    """Relative performance over a trailing ``window`` on every date (NaN for the first ones).

    Each value uses only prices up to its own date: ``(S_t/S_{t-w}) / (B_t/B_{t-w}) - 1``.
    """
    w = check_window(window)
    df = aligned(small, bench, as_of=as_of)
    ratio = df[0] / df[1]
    return (ratio / ratio.shift(w) - 1.0).rename("relative_performance")


def relative_strength(small: pd.Series, bench: pd.Series, ma_window: int = 50,
                      as_of: object = None, start: object = None) -> pd.DataFrame:
    """The relative-strength line ``small / bench`` and its trailing moving average.

    The line is scaled to 100 on its first date shown (``start``, or the first common date); the
    moving average is a trailing mean over ``ma_window`` days computed before the cut, so it has
    values from the first date shown. Columns: ``rs``, ``rs_ma``.
    """
    w = check_window(ma_window, "ma_window")
    df = aligned(small, bench, as_of=as_of)
    ratio = df[0] / df[1]
    ma = ratio.rolling(w, min_periods=w).mean()
    out = pd.DataFrame({"rs": ratio, "rs_ma": ma})
    if start is not None:
        out = out.loc[pd.Timestamp(start):]
    if out.empty:
        return out
    base = out["rs"].iloc[0]
    return out * (100.0 / base)


def persistence(small: pd.Series, bench: pd.Series, lookback: int = 63, sub_window: int = 21,
                as_of: object = None) -> float:
    """Share of the last ``lookback`` days on which small caps led over the trailing ``sub_window``.

    Formula: mean over the last ``lookback`` dates t of ``1[RP_sub(t) > 0]``, where ``RP_sub(t)`` is
    :func:`rolling_relative_performance` over ``sub_window`` days. 1.0 means small caps were ahead
    on a one-month view every day for three months (Nadig's "consistently"); a driftless pair
    averages 0.5, and the one-week surge of July 2024 scored 0.29 (about 18/63). NaN when fewer
    than ``lookback + sub_window + 1`` common dates exist.
    """
    lb = check_window(lookback, "lookback")
    sw = check_window(sub_window, "sub_window")
    rp = rolling_relative_performance(small, bench, sw, as_of=as_of).to_numpy()
    if rp.size < lb + sw + 1:
        return np.nan
    return float(np.mean(rp[-lb:] > 0.0))


def return_index(returns_percent: pd.DataFrame | pd.Series, base: float = 100.0) -> pd.Series:
    """A total-return index from daily returns in percent (Fama-French files).

    Several columns are an equal-weighted mix rebalanced daily: ``r_t = mean of the columns``.
    Index: ``base * prod(1 + r_t / 100)``, dated on each return's day, on the dates where every
    column has a value. NaN-free input in, NaN-free index out.
    """
    frame = returns_percent.to_frame() if isinstance(returns_percent, pd.Series) \
        else returns_percent
    r = frame.dropna().mean(axis=1) / 100.0
    return base * np.cumprod(1.0 + r)
