"""Base rate since 1926: how often did a small-cap surge turn into sustained outperformance?"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from xlsmallcap.core.frame import AnalysisError, check_window, upto
from xlsmallcap.core.stats import wilson_interval

#: Surges "of similar size" to today's are within a factor of 1.5 either way.
SIMILAR_FACTOR = 1.5


@dataclass(frozen=True)
class BaseRateResult:
    as_of: pd.Timestamp
    share: float            # sustained share of all surges >= threshold
    events: int
    successes: int
    low: float              # Wilson 95% interval of ``share``
    high: float
    mean_forward: float
    current_surge: float
    threshold: float
    surge_days: int
    horizon: int
    last_event: pd.Timestamp
    similar_low_size: float   # the band of surge sizes counted as "similar" to today's
    similar_high_size: float
    similar_events: int
    similar_successes: int
    similar_share: float
    similar_low: float        # Wilson 95% interval of ``similar_share``
    similar_high: float
    unconditional: float      # share of *all* days whose next ``horizon`` days were sustained
    unconditional_days: int
    history_end: pd.Timestamp = pd.NaT  # last SMB day used for the history


def _declustered(mask: np.ndarray, gap: int) -> list[int]:
    """Days where ``mask`` holds, keeping a day only ``gap`` or more days after the last kept."""
    events: list[int] = []
    for i in np.flatnonzero(mask):
        if not events or i - events[-1] >= gap:
            events.append(int(i))
    return events


def base_rate(smb: pd.Series, surge_days: int = 5, threshold: float = 0.03, horizon: int = 63,
              sub_window: int = 21, min_persistence: float = 0.70, as_of: object = None,
              current_surge: float | None = None) -> BaseRateResult:
    """Of past surges like the current one, the share that became sustained outperformance.

    ``smb`` is the daily small-minus-big return as a decimal (Fama-French SMB / 100).

    * Surge at day t: compounded SMB over the ``surge_days`` days ending at t is >= ``threshold``.
      Events are the first day of a surge; a new event needs ``horizon`` days since the last.
    * Sustained: over the next ``horizon`` days the compounded SMB is > 0 **and** on at least
      ``min_persistence`` of the days ``t+sub_window .. t+horizon`` the compounded SMB of the
      trailing ``sub_window`` days (all after t) is > 0 - Nadig's "consistently".
    * Only outcomes known by ``as_of`` count (t + horizon <= as_of).
    * Surges of similar size: days whose surge is within a factor 1.5 of today's (at least the
      threshold: ``[max(thr, s/1.5), 2.25 max(thr, s/1.5)]``), declustered in the same way.
    * Unconditional rate: the sustained share over *every* day with a known outcome, the figure
      a surge must beat to carry information. Days overlap, so it carries no interval.

    Shares come with Wilson 95% intervals; no events give NaN shares and intervals.

    ``current_surge`` is today's surge when it is measured elsewhere (for example on the
    small/large price pair, because SMB is published a month or two late); by default the SMB
    surge of the last ``surge_days`` days in ``smb``.
    """
    sd = check_window(surge_days, "surge_days")
    hz = check_window(horizon, "horizon", minimum=2)
    sw = check_window(sub_window, "sub_window")
    if sw > hz:
        raise AnalysisError(f"sub_window must be <= horizon (got {sw} > {hz})")
    if not np.isfinite(threshold) or threshold <= -1:
        raise AnalysisError(f"threshold must be a number above -100% (got {threshold!r})")
    r = upto(smb.dropna(), as_of)
    nan = np.nan
    if r.size < sd + 1:
        return BaseRateResult(pd.NaT if r.empty else r.index[-1], nan, 0, 0, nan, nan, nan,
                              nan, float(threshold), sd, hz, pd.NaT, nan, nan, 0, 0, nan, nan,
                              nan, nan, 0, pd.NaT if r.empty else r.index[-1])
    logr = np.log1p(r.to_numpy())
    csum = np.concatenate([[0.0], np.cumsum(logr)])  # csum[i] = sum of logr[:i]
    n = logr.size
    surge = np.full(n, np.nan)
    surge[sd - 1:] = csum[sd:] - csum[:-sd]
    known = max(n - hz, 0)  # days 0..known-1 have their whole forward window before as_of
    sustained = np.zeros(known, dtype=bool)
    forward = np.full(known, np.nan)
    if known > 0:
        t = np.arange(known)
        forward = csum[t + 1 + hz] - csum[t + 1]
        # trailing sub_window sums ending at t+k for k = sw..hz, for every t
        sums = csum[sw:] - csum[:-sw]                   # sums[j] = sum of logr[j:j+sw]
        windows = sliding_window_view(sums[1:], hz - sw + 1)[:known]
        sustained = (forward > 0) & (np.mean(windows > 0, axis=1) >= min_persistence)
    in_surge = surge[:known] >= np.log1p(threshold)   # NaN (too early) compares False
    events = _declustered(in_surge, hz)
    wins = int(sustained[events].sum()) if events else 0
    current = float(np.expm1(surge[-1])) if current_surge is None else float(current_surge)
    lo_size = max(float(threshold), current / SIMILAR_FACTOR) if np.isfinite(current) \
        else float(threshold)
    hi_size = lo_size * SIMILAR_FACTOR ** 2
    band = (surge[:known] >= np.log1p(lo_size)) & (surge[:known] <= np.log1p(hi_size))
    similar = _declustered(band, hz)
    sim_wins = int(sustained[similar].sum()) if similar else 0
    low, high = wilson_interval(wins, len(events))
    s_low, s_high = wilson_interval(sim_wins, len(similar))
    return BaseRateResult(
        as_of=r.index[-1], share=wins / len(events) if events else nan, events=len(events),
        successes=wins, low=low, high=high,
        mean_forward=float(np.mean(np.expm1(forward[events]))) if events else nan,
        current_surge=current, threshold=float(threshold), surge_days=sd, horizon=hz,
        last_event=r.index[events[-1]] if events else pd.NaT,
        similar_low_size=lo_size, similar_high_size=hi_size, similar_events=len(similar),
        similar_successes=sim_wins, similar_share=sim_wins / len(similar) if similar else nan,
        similar_low=s_low, similar_high=s_high,
        unconditional=float(sustained.mean()) if known > 0 else nan,
        unconditional_days=known, history_end=r.index[-1])
