"""Base rate since 1926: how often did a small-cap surge turn into sustained outperformance?"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from xlsmallcap.core.frame import AnalysisError, check_window, upto


@dataclass(frozen=True)
class BaseRateResult:
    as_of: pd.Timestamp
    share: float
    events: int
    successes: int
    mean_forward: float
    current_surge: float
    threshold: float
    surge_days: int
    horizon: int
    last_event: pd.Timestamp


def base_rate(smb: pd.Series, surge_days: int = 5, threshold: float = 0.03, horizon: int = 63,
              sub_window: int = 21, min_persistence: float = 0.70, as_of: object = None
              ) -> BaseRateResult:
    """Of past surges like the current one, the share that became sustained outperformance.

    ``smb`` is the daily small-minus-big return as a decimal (Fama-French SMB / 100).

    * Surge at day t: compounded SMB over the ``surge_days`` days ending at t is >= ``threshold``.
      Events are the first day of a surge; a new event needs ``horizon`` days since the last.
    * Sustained: over the next ``horizon`` days the compounded SMB is > 0 **and** on at least
      ``min_persistence`` of the days ``t+sub_window .. t+horizon`` the compounded SMB of the
      trailing ``sub_window`` days (all after t) is > 0 - Nadig's "consistently", as in the
      rotation score.
    * Only events whose outcome is known by ``as_of`` count (t + horizon <= as_of).

    Returns the share (NaN with no events), the sample size, the mean forward compounded SMB and
    the surge measured at ``as_of`` itself.
    """
    sd = check_window(surge_days, "surge_days")
    hz = check_window(horizon, "horizon", minimum=2)
    sw = check_window(sub_window, "sub_window")
    if sw > hz:
        raise AnalysisError(f"sub_window must be <= horizon (got {sw} > {hz})")
    if not np.isfinite(threshold):
        raise AnalysisError(f"threshold must be a number (got {threshold!r})")
    r = upto(smb.dropna(), as_of)
    nan = float("nan")
    if r.size < sd + 1:
        return BaseRateResult(pd.NaT if r.empty else r.index[-1], nan, 0, 0, nan, nan,
                              float(threshold), sd, hz, pd.NaT)
    logr = np.log1p(r.to_numpy())
    csum = np.concatenate([[0.0], np.cumsum(logr)])  # csum[i] = sum of logr[:i]
    n = logr.size
    surge = np.full(n, np.nan)
    surge[sd - 1:] = csum[sd:] - csum[:-sd]
    hits = np.flatnonzero(surge >= np.log1p(threshold))
    events: list[int] = []
    for i in hits:
        if i + hz >= n:
            break
        if not events or i - events[-1] >= hz:
            events.append(int(i))
    forwards, wins = [], 0
    for i in events:
        fwd = csum[i + 1 + hz] - csum[i + 1]
        ks = np.arange(sw, hz + 1)
        trailing = csum[i + 1 + ks] - csum[i + 1 + ks - sw]
        persistent = np.mean(trailing > 0) >= min_persistence
        forwards.append(np.expm1(fwd))
        wins += int(fwd > 0 and persistent)
    share = wins / len(events) if events else nan
    return BaseRateResult(
        as_of=r.index[-1], share=float(share), events=len(events), successes=wins,
        mean_forward=float(np.mean(forwards)) if forwards else nan,
        current_surge=float(np.expm1(surge[-1])), threshold=float(threshold), surge_days=sd,
        horizon=hz, last_event=r.index[events[-1]] if events else pd.NaT)
