"""The verdict's track record: what small caps did relative to large caps after each verdict.

Pure functions of relative log returns and a verdict path (see
:func:`xlsmallcap.core.evidence.evidence_path`); no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from xlsmallcap.core.evidence import STATES, Evidence
from xlsmallcap.core.stats import Z95, cluster_mean_se, hac_mean

HORIZONS = (21, 63, 126)
ALL_DAYS = "All days"


@dataclass(frozen=True)
class TrackRow:
    """Forward relative return after one verdict, at one horizon.

    ``mean`` is the average of ``exp(sum of the next h daily relative log returns) - 1``
    (averaged over benchmarks) on the days with that verdict; ``se`` is the larger of its
    Newey-West standard error with ``h - 1`` lags (consecutive days share ``h - 1`` days of their
    windows) and its standard error clustered by spell (each spell of the verdict one draw:
    a handful of spells gives a wide interval however many days they span; one spell gives NaN),
    ``hit_rate`` the share of those days followed by a positive relative return, ``days`` how
    many days and ``runs`` how many separate spells of the verdict they come from. ``edge`` is
    ``mean`` minus the all-days mean of the same period.
    """

    verdict: str
    horizon: int
    days: int
    runs: int
    mean: float
    se: float
    hit_rate: float
    edge: float

    @property
    def low(self) -> float:
        return self.mean - Z95 * self.se

    @property
    def high(self) -> float:
        return self.mean + Z95 * self.se

    @property
    def edge_t(self) -> float:
        return self.edge / self.se if self.se > 0 else np.nan


def forward_relative_returns(x: pd.DataFrame, horizon: int) -> pd.Series:
    """Per day t: mean over benchmarks of ``exp(x[t+1] + ... + x[t+h]) - 1``; NaN at the end."""
    v = x.to_numpy(dtype="float64")
    c = np.vstack([np.zeros((1, v.shape[1])), np.cumsum(v, axis=0)])
    out = np.full(v.shape[0], np.nan)
    k = max(v.shape[0] - horizon, 0)   # days whose next ``horizon`` days are all known
    out[:k] = np.expm1(c[horizon + 1: horizon + 1 + k] - c[1: 1 + k]).mean(axis=1)
    return pd.Series(out, index=x.index)


def verdict_series(path: Sequence[Evidence]) -> pd.Series:
    """The verdict on each date of a path ("" dropped)."""
    s = pd.Series([e.verdict for e in path], index=pd.DatetimeIndex([e.as_of for e in path]))
    return s[s != ""]


def stability(verdicts: pd.Series) -> tuple[float, float, int]:
    """(changes per year of 252 trading days, median run in trading days, days)."""
    v = verdicts.to_numpy()
    if v.size == 0:
        return np.nan, np.nan, 0
    changes = np.flatnonzero(v[1:] != v[:-1])
    runs = np.diff(np.concatenate([[0], changes + 1, [v.size]]))
    return changes.size / (v.size / 252.0), float(np.median(runs)), int(v.size)


def track_record(x: pd.DataFrame, verdicts: pd.Series, horizons: Sequence[int] = HORIZONS
                 ) -> list[TrackRow]:
    """One :class:`TrackRow` per verdict and horizon, then the all-days row per horizon.

    Days whose forward window runs past the data, and days without a verdict (""), are left
    out. A verdict never seen gives a row with ``days == 0`` and NaN figures.
    """
    rows: list[TrackRow] = []
    v = verdicts.reindex(x.index)
    for h in horizons:
        fwd = forward_relative_returns(x, h)
        known = fwd.notna() & v.notna() & (v != "")
        base = hac_mean(fwd[known].to_numpy(), lags=h - 1)
        for name in (*STATES, ALL_DAYS):
            mask = (known if name == ALL_DAYS else known & (v == name)).to_numpy()
            values = fwd.to_numpy()[mask]
            est = base if name == ALL_DAYS else hac_mean(values, lags=h - 1)
            spell = np.cumsum(np.concatenate([[True], mask[1:] != mask[:-1]]))[mask]
            se = est.se
            if name != ALL_DAYS:
                se = max(se, cluster_mean_se(values, spell)) if np.unique(spell).size > 1 \
                    else np.nan
            hit = float(np.mean(values > 0)) if values.size else np.nan
            rows.append(TrackRow(name, h, int(values.size), int(np.unique(spell).size), est.value,
                                 se, hit, est.value - base.value))
    return rows
