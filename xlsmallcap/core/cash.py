"""Cash stickiness: is money-market fund cash leaving, or staying put?"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from xlsmallcap.core.frame import AnalysisError, upto

#: Growth of money-fund assets (log, over the window) that maps to 0 (-20%) and 1 (+20%).
GROWTH_SPAN = 0.20
#: A 1 pp rise in the fed funds rate "explains" 2% asset growth (cash chasing yield).
RATE_ELASTICITY = 0.02
#: Cash that stays through an equity rally is stickier: 10% of the equity return is credited.
EQUITY_CREDIT = 0.10


@dataclass(frozen=True)
class CashResult:
    as_of: pd.Timestamp
    stickiness: float
    asset_growth: float
    rate_change: float
    equity_return: float
    assets: float
    weeks: int


def _change_over(s: pd.Series, start: pd.Timestamp, end: pd.Timestamp) -> tuple[float, float]:
    """(value at or before ``start``, value at or before ``end``); NaN where there is none."""
    a = s.loc[:start]
    b = s.loc[:end]
    return (float(a.iloc[-1]) if a.size else float("nan"),
            float(b.iloc[-1]) if b.size else float("nan"))


def cash_stickiness(assets: pd.Series, policy_rate: pd.Series, equity: pd.Series,
                    weeks: int = 52, as_of: object = None) -> CashResult:
    """How sticky money-market fund cash is, 0 (flowing out) to 1 (fully sticky).

    Formula, over the last ``weeks`` weeks up to ``as_of`` (each input's last observation on or
    before each end of the window):

        g   = ln(A_end / A_start)                        money-fund asset growth
        dr  = r_end - r_start                            policy-rate change, pp
        eq  = E_end / E_start - 1                        equity return
        adj = g - 0.02 * dr + 0.10 * eq
        stickiness = clip(0.5 + adj / (2 * 0.20), 0, 1)

    Growth during rate cuts (dr < 0) or an equity rally (eq > 0), when cash has reasons to move,
    counts as stickier; growth during hikes is partly yield-chasing and counts for less.
    Assets shrinking by 20% a year net of those effects gives 0, flat 0.5, growing 20% gives 1.
    Returns NaN when ``assets`` has no observation before the window starts; raises
    ``AnalysisError`` for ``weeks`` < 1 or non-positive assets.
    """
    if weeks is None or float(weeks) != int(weeks) or weeks < 1:
        raise AnalysisError(f"weeks must be a whole number of weeks >= 1 (got {weeks!r})")
    a = upto(assets.dropna(), as_of)
    nan = float("nan")
    if a.empty:
        return CashResult(pd.Timestamp(as_of) if as_of is not None else pd.NaT,
                          nan, nan, nan, nan, nan, int(weeks))
    end = a.index[-1]
    start = end - pd.Timedelta(weeks=int(weeks))
    a0, a1 = _change_over(a, start, end)
    if not (a0 > 0 and a1 > 0):
        return CashResult(end, nan, nan, nan, nan, a1, int(weeks))
    g = float(np.log(a1 / a0))
    r0, r1 = _change_over(upto(policy_rate.dropna(), end), start, end)
    e0, e1 = _change_over(upto(equity.dropna(), end), start, end)
    dr = r1 - r0
    eq = e1 / e0 - 1.0
    adj = g - RATE_ELASTICITY * (dr if np.isfinite(dr) else 0.0) \
        + EQUITY_CREDIT * (eq if np.isfinite(eq) else 0.0)
    st = float(np.clip(0.5 + adj / (2 * GROWTH_SPAN), 0.0, 1.0))
    return CashResult(end, st, g, dr, eq, a1, int(weeks))


def asset_series(weekly: pd.Series, monthly: pd.Series, as_of: object = None) -> pd.Series:
    """Money-fund assets for charts: the weekly series, extended back with the monthly one.

    Months before the weekly series starts come from ``monthly`` (same units); the two are not
    blended where they overlap. Only observations up to ``as_of``.
    """
    w = upto(weekly.dropna(), as_of)
    m = upto(monthly.dropna(), as_of)
    if w.empty:
        return m
    return pd.concat([m.loc[: w.index[0] - pd.Timedelta(days=1)], w]).rename("assets")
