"""Money-fund assets for charts. Cash stickiness itself is in :mod:`xlsmallcap.core.flows`:
it is defined by net flows (assets minus reinvested interest), not by hand-set constants."""

from __future__ import annotations

import pandas as pd

from xlsmallcap.core.frame import upto


def asset_series(weekly: pd.Series, monthly: pd.Series, as_of: object = None) -> pd.Series:
    """Money-fund assets for charts: the weekly series, extended back with the monthly one.

    Months before the weekly series starts come from ``monthly`` (same units); the two are not
    blended where they overlap. Only observations up to ``as_of``.
    """
    w = upto(weekly.dropna(), as_of)
    m = upto(monthly.dropna(), as_of)
    if w.empty:
        return m
    return pd.concat([m.loc[: w.index[0] - pd.Timedelta(days=1)], w])
