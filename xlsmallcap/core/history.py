"""Price history for a date range, daily or sampled weekly/monthly (as Excel's STOCKHISTORY)."""

from __future__ import annotations

import pandas as pd

from xlsmallcap.core.frame import AnalysisError

INTERVALS = {0: None, 1: "W", 2: "M"}


def history(prices: pd.Series, start: object, end: object, interval: int) -> pd.Series:
    """Observations from ``start`` to ``end`` inclusive.

    ``interval`` 0 keeps every observation; 1 (weekly) and 2 (monthly) keep the last
    observation of each calendar week / month, under its real date. Empty when nothing falls
    in the range.
    """
    if interval not in INTERVALS:
        raise AnalysisError(f"interval must be 0, 1 or 2 (got {interval!r})")
    s = prices.dropna().loc[pd.Timestamp(start): pd.Timestamp(end)]
    freq = INTERVALS[interval]
    if freq is None or s.empty:
        return s
    return s.groupby(s.index.to_period(freq)).tail(1)
