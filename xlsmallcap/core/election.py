"""Nadig's premise that markets get more volatile in the months before a US presidential
election, tested on Fama-French daily market returns since 1926."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from xlsmallcap.core.frame import upto

#: The three months before an early-November election.
MONTHS = (8, 9, 10)
PERMUTATIONS = 20_000
SEED = 1928


@dataclass(frozen=True)
class ElectionVol:
    ratio: float            # geometric mean vol, election years / other years
    p_value: float          # one-sided permutation p-value (election years more volatile)
    elections: int
    other_years: int
    vol_election: float     # geometric mean of annualised vol, election years
    vol_other: float
    last_year: int


def election_vol(market_percent: pd.Series, as_of: object = None) -> ElectionVol:
    """Realised volatility of August-October in presidential-election years against the same
    months of every other year.

    Per year whose August-October holds at least 40 daily returns and ends in the data:
    ``vol = stdev(daily log return) * sqrt(252)`` over August 1 - October 31
    (``market_percent`` is the daily market return in percent, Mkt-RF + RF).
    ``ratio = exp(mean ln vol over election years - mean ln vol over the other years)``
    (geometric means, so 1929 or 2008 cannot dominate). p-value: the share of 20,000 random
    relabellings of which years are "election years" (fixed seed) whose difference of
    mean log vol is at least the observed one, ``(1 + k) / (1 + 20,000)``. Only years whose
    October is in ``market_percent`` up to ``as_of``. NaN with fewer than 3 of either kind.
    """
    r = upto(market_percent.dropna(), as_of)
    logr = np.log1p(r / 100.0)
    sel = logr[logr.index.month.isin(MONTHS)]
    by_year = sel.groupby(sel.index.year)
    counts = by_year.size()
    last_day = r.index[-1] if r.size else pd.Timestamp.min
    years = [y for y in counts.index if counts[y] >= 40
             and pd.Timestamp(year=int(y), month=10, day=31) <= last_day]
    vol = by_year.std(ddof=1).loc[years] * np.sqrt(252.0)
    is_election = np.array([y % 4 == 0 for y in years])
    nan = np.nan
    if is_election.sum() < 3 or (~is_election).sum() < 3:
        return ElectionVol(nan, nan, int(is_election.sum()), int((~is_election).sum()), nan,
                           nan, int(years[-1]) if years else 0)
    lv = np.log(vol.to_numpy())
    diff = lv[is_election].mean() - lv[~is_election].mean()
    rng = np.random.default_rng(SEED)
    k = int(is_election.sum())
    perms = np.argsort(rng.random((PERMUTATIONS, lv.size)), axis=1)[:, :k]
    chosen = lv[perms].mean(axis=1)
    rest = (lv.sum() - lv[perms].sum(axis=1)) / (lv.size - k)
    p = (1 + int(np.sum(chosen - rest >= diff - 1e-12))) / (PERMUTATIONS + 1)
    return ElectionVol(float(np.exp(diff)), float(p), k, int(lv.size - k),
                       float(np.exp(lv[is_election].mean())),
                       float(np.exp(lv[~is_election].mean())), int(years[-1]))
