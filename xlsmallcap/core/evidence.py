"""Nadig's rule as a test against chance, and the verdict as a state machine with hysteresis.

The question: have small caps outperformed *consistently* for about three months, more than a
pair with no relative drift would by luck? Two statistics on relative log returns
``x_t = ln(S_t/S_{t-1}) - ln(B_t/B_{t-1})`` (one column per benchmark):

* **lookback z** ``R_t``: mean over benchmarks of ``sum(x, last 63 days) / (sd * sqrt(63))``,
  where ``sd`` is the column's daily standard deviation over the 756 days ending at ``t``;
* **persistence** ``P_t``: mean over benchmarks of the share of the last 63 days on which the
  trailing 21-day sum of ``x`` was positive (Nadig's "consistently");
* and, for the short-window states, the **21-day z** ``Z_t`` (as ``R_t`` over 21 days).

**The null** is "no relative drift, with the pair's own volatility and autocorrelation": the 756
daily relative returns ending on the last trading day of the month before ``t``,
each column demeaned and scaled to unit variance, resampled by a stationary bootstrap (mean block
10 days, 1,000 paths of 84 days, the same rows for every benchmark so their correlation is kept,
fixed seed so the same data always give the same p-value). One-sided p-values are
``(1 + #{null >= observed}) / 1001``. A small-cap lead needs *both* statistics to be unlikely
(intersection-union test: ``p_small = max(p_R, p_P)``), and so does a large-cap lead
(``p_large`` with the lower tails). Averaging the statistics over benchmarks, with the null drawn
jointly, is one test across several benchmarks rather than several tests.

**The verdict** is a state machine run over the 126 trading days before ``as_of`` from the
neutral state (a fixed warm-up, so the answer never depends on where a series starts), evaluated
each day in this order:

1. *Rotation* is entered when ``p_small < 0.05`` (and at least 2/3 of benchmarks are beaten over
   63 days) on 3 consecutive days; *Large-cap leadership* likewise with ``p_large``.
2. Either is left only on evidence of reversal: its p-value rises to 0.15 or more, or the
   21-day statistic is significant the other way (one-sided p <= 0.05).
3. *Emerging rotation*: ``p_small <= 0.20`` and small caps ahead of the null median over 21 days;
   kept while ``p_small < 0.50`` and no significant 21-day reversal.
4. *Diversification*: a significant 21-day surge (``p <= 0.05``) that the three-month test does
   not (yet) support; kept while the 21-day statistic stays above the null median.
5. *Bobbling* otherwise: no leadership that chance would not explain; surges come and go.

Why these levels (docs/methodology.md): on driftless noise pairs the rule reads Rotation on about
3% of days (entry at p < 0.05 without confirmation and exit at 0.50 reads it on about 8%); on
IWM vs SPY/QQQ/DIA it changes about 5 times a year with a median run of about 21 days.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from xlsmallcap.core.frame import aligned
from xlsmallcap.core.stats import lower_p, stationary_bootstrap_indices, upper_p

LOOKBACK = 63
SHORT = 21
NULL_DAYS = 756
REPS = 1000
MEAN_BLOCK = 10
SEED = 20240716
WARM_UP = 126
BREADTH = 2 / 3


@dataclass(frozen=True)
class Rule:
    """The levels of the verdict's state machine (see the module docstring)."""

    enter_p: float = 0.05        # Rotation / Large-cap leadership entered below this p-value
    confirm_days: int = 3        # ... on this many consecutive days
    exit_p: float = 0.15         # ... and left when the p-value rises to this level
    building_p: float = 0.20     # Emerging rotation entered at or below this p-value
    building_exit_p: float = 0.50
    surge_p: float = 0.05        # a 21-day surge (or reversal) is significant at this level


RULE = Rule()

ROTATION, EMERGING, DIVERSIFICATION, BOBBLING, LEADERSHIP = (
    "Rotation", "Emerging rotation", "Diversification", "Bobbling", "Large-cap leadership")
STATES = (ROTATION, EMERGING, DIVERSIFICATION, BOBBLING, LEADERSHIP)
_ROT, _EMG, _DIV, _BOB, _LCL = range(5)

#: Trading days of history the test needs before its first answer (null sample, statistics,
#: anchor lag and warm-up).
MIN_DAYS = NULL_DAYS + WARM_UP + 24


@dataclass(frozen=True)
class Evidence:
    """The test and the verdict for one date, with what they rest on."""

    as_of: pd.Timestamp
    verdict: str            # "" when there is not enough history
    since: pd.Timestamp     # first day of the current state inside the warm-up (NaT if none)
    held_all_warm_up: bool  # the state already held on the first day of the warm-up
    p_small: float          # max(p_return, p_persistence): small caps lead beyond chance
    p_return: float
    p_persistence: float
    p_large: float          # the same test for large caps leading
    p_short_up: float       # 21-day surge of small caps
    p_short_down: float
    lookback_z: float
    persistence: float
    breadth: float
    null_days: int
    null_end: pd.Timestamp  # last day of the null sample
    reps: int = REPS


def relative_log_returns(small: pd.Series, benchmarks: Mapping[str, pd.Series],
                         as_of: object = None) -> pd.DataFrame:
    """Daily ``ln(S_t/S_{t-1}) - ln(B_t/B_{t-1})`` per benchmark on the common calendar."""
    df = aligned(small, *benchmarks.values(), as_of=as_of)
    logs = np.log(df.to_numpy(dtype="float64"))
    x = np.diff(logs[:, :1] - logs[:, 1:], axis=0)
    return pd.DataFrame(x, index=df.index[1:], columns=list(benchmarks))


@dataclass(frozen=True)
class _Null:
    lookback_z: np.ndarray
    persistence: np.ndarray
    short_z: np.ndarray
    days: int


@functools.lru_cache(maxsize=4)
def _resample_rows(n: int) -> np.ndarray:
    """The bootstrap's row indices. With a fixed seed they depend only on the sample size, so
    they are drawn once per process (read-only) instead of on every call."""
    rng = np.random.default_rng(SEED)
    idx = stationary_bootstrap_indices(n, LOOKBACK + SHORT, REPS, MEAN_BLOCK, rng)
    idx.flags.writeable = False
    return idx


def _bootstrap_null(sample: np.ndarray) -> _Null | None:
    """Sorted null distributions of (R, P, Z) from a demeaned, unit-variance resample."""
    n = sample.shape[0]
    if n < NULL_DAYS:
        return None
    sd = sample.std(axis=0, ddof=1)
    if not np.all(np.isfinite(sd)) or np.any(sd <= 0):
        return None
    u = (sample - sample.mean(axis=0)) / sd
    c = np.cumsum(u[_resample_rows(n)], axis=1)         # REPS x 84 x k, running sums
    lookback = (c[:, -1] - c[:, -1 - LOOKBACK]).mean(axis=1) / np.sqrt(LOOKBACK)
    subs = c[:, SHORT:] - c[:, : LOOKBACK]              # the 63 trailing 21-day sums
    pers = (subs > 0).mean(axis=1).mean(axis=1)
    short = (c[:, -1] - c[:, -1 - SHORT]).mean(axis=1) / np.sqrt(SHORT)
    return _Null(np.sort(lookback), np.sort(pers), np.sort(short), n)


def _anchors(dates: pd.DatetimeIndex) -> np.ndarray:
    """Per day, the index of the last day of an earlier calendar month (-1 if none)."""
    months = dates.year.to_numpy() * 12 + dates.month.to_numpy()
    return np.searchsorted(months, months, side="left") - 1


def _day_statistics(x: np.ndarray, lo: int, hi: int) -> dict[str, np.ndarray]:
    """R, P, Z and breadth for days ``lo..hi-1`` (NaN where history is too short).

    Every figure is computed from its own window of rows (sliding windows, not running sums),
    so a day's value does not depend on where the array starts.
    """
    days = np.arange(lo, hi)
    out = {name: np.full(days.size, np.nan) for name in ("R", "P", "Z", "breadth")}
    first = max(lo, NULL_DAYS - 1)
    if first >= hi:
        return out
    sel = slice(first - lo, hi - lo)
    sd = sliding_window_view(x[first + 1 - NULL_DAYS: hi], NULL_DAYS, axis=0).std(axis=-1, ddof=1)
    sums_l = sliding_window_view(x[first + 1 - LOOKBACK: hi], LOOKBACK, axis=0).sum(axis=-1)
    sums_s = sliding_window_view(x[first + 1 - LOOKBACK - SHORT + 1: hi], SHORT,
                                 axis=0).sum(axis=-1)
    pos = sliding_window_view(sums_s > 0, LOOKBACK, axis=0).mean(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["R"][sel] = (sums_l / (sd * np.sqrt(LOOKBACK))).mean(axis=1)
        out["Z"][sel] = (sums_s[-(hi - first):] / (sd * np.sqrt(SHORT))).mean(axis=1)
    out["P"][sel] = pos.mean(axis=1)
    out["breadth"][sel] = (sums_l > 0).mean(axis=1)
    return out


def _step(state: int, up: int, down: int, i: int, pu, pdn, su, sd, br, rule: Rule
          ) -> tuple[int, int, int]:
    """One day of the state machine: (state, days in a row with small-cap evidence, the same
    for large caps) after day ``i``."""
    up = up + 1 if (pu[i] <= rule.enter_p and br[i] >= BREADTH - 1e-9) else 0
    down = down + 1 if pdn[i] <= rule.enter_p else 0
    surge = rule.surge_p
    if up >= rule.confirm_days:
        return _ROT, up, down
    if down >= rule.confirm_days:
        return _LCL, up, down
    if state == _ROT and pu[i] < rule.exit_p and sd[i] > surge:
        return _ROT, up, down
    if state == _LCL and pdn[i] < rule.exit_p and su[i] > surge:
        return _LCL, up, down
    if (state == _EMG and pu[i] < rule.building_exit_p and sd[i] > surge) \
            or (pu[i] <= rule.building_p and su[i] <= 0.5):
        return _EMG, up, down
    if (state == _DIV and su[i] < 0.5) or su[i] <= surge:
        return _DIV, up, down
    return _BOB, up, down


def _runs(ends: list[int], inputs: tuple, rule: Rule) -> list[tuple[int, int]]:
    """For each day ``e`` in ``ends`` (ascending), the state machine run from the neutral state
    over days ``e - WARM_UP .. e``: (final state, index where it was entered, or -1 when it held
    from the first day).

    Consecutive days' runs share all but their first and last day, and two runs that reach the
    same (state, up, down) on the same day agree from then on; so each run is computed only
    until it meets the previous one, and takes the rest from it. The result is exactly that of
    running every day from scratch.
    """
    out: list[tuple[int, int]] = []
    prev: list[tuple[int, int, int]] = []   # the previous run's tuples, by day
    prev_start = 0
    for e in ends:
        start = e - WARM_UP
        traj: list[tuple[int, int, int]] = []
        t = (_BOB, 0, 0)
        i = start
        while i <= e:
            t = _step(*t, i, *inputs, rule)
            traj.append(t)
            k = i - prev_start
            if 0 <= k < len(prev) and prev[k] == t:
                traj.extend(prev[k + 1:])   # from here on the runs agree
                i = prev_start + len(prev)
                while i <= e:               # the new last day(s)
                    traj.append(_step(*traj[-1], i, *inputs, rule))
                    i += 1
                break
            i += 1
        states = [s for s, _, _ in traj]
        since = -1
        for j in range(len(states) - 1, 0, -1):
            if states[j] != states[j - 1]:
                since = j
                break
        out.append((states[-1], since))
        prev, prev_start = traj, start
    return out


def _evaluate_group(x: np.ndarray, dates: pd.DatetimeIndex, days: np.ndarray, anchor: int,
                    rule: Rule) -> list[Evidence]:
    """Evidence for ``days`` that share one null (their month's anchor)."""
    nan = np.nan
    lo, hi = max(0, int(days[0]) - WARM_UP), int(days[-1]) + 1
    stamps = list(dates[lo:hi])   # boxed once: scalar indexing of an index is slow
    empty = {int(d): Evidence(stamps[int(d) - lo], "", pd.NaT, False, nan, nan, nan, nan, nan,
                              nan, nan, nan, nan, 0, pd.NaT) for d in days}
    null = _bootstrap_null(x[max(0, anchor + 1 - NULL_DAYS): anchor + 1])
    if null is None:   # fewer than NULL_DAYS rows up to the anchor (none when it is -1)
        return list(empty.values())
    st = _day_statistics(x, lo, hi)
    p_r_up, p_r_dn = upper_p(null.lookback_z, st["R"]), lower_p(null.lookback_z, st["R"])
    p_p_up, p_p_dn = upper_p(null.persistence, st["P"]), lower_p(null.persistence, st["P"])
    su, sd = upper_p(null.short_z, st["Z"]), lower_p(null.short_z, st["Z"])
    pu, pdn = np.maximum(p_r_up, p_p_up), np.maximum(p_r_dn, p_p_dn)
    valid = np.isfinite(pu) & np.isfinite(su)
    # A day has a verdict when its whole warm-up (WARM_UP + 1 days) has p-values.
    run_ok = np.convolve(valid, np.ones(WARM_UP + 1, dtype=int), "full")[: valid.size] \
        == WARM_UP + 1
    ends = [int(d) - lo for d in days if run_ok[int(d) - lo]]
    inputs = tuple(v.tolist() for v in (pu, pdn, su, sd, st["breadth"]))
    runs = dict(zip(ends, _runs(ends, inputs, rule), strict=True))
    null_end = dates[anchor]
    out = []
    for d in days:
        j = int(d) - lo
        if j not in runs:
            out.append(empty[int(d)])
            continue
        state, since = runs[j]
        first = j - WARM_UP
        out.append(Evidence(
            as_of=stamps[j], verdict=STATES[state],
            since=stamps[first + max(since, 0)],   # since < 0: held the whole warm-up
            held_all_warm_up=since < 0,
            p_small=float(pu[j]), p_return=float(p_r_up[j]), p_persistence=float(p_p_up[j]),
            p_large=float(pdn[j]), p_short_up=float(su[j]), p_short_down=float(sd[j]),
            lookback_z=float(st["R"][j]), persistence=float(st["P"][j]),
            breadth=float(st["breadth"][j]), null_days=null.days, null_end=null_end))
    return out


def rotation_evidence(x: pd.DataFrame, rule: Rule = RULE) -> Evidence:
    """The test and the verdict on the last date of ``x`` (relative log returns, one column per
    benchmark, see :func:`relative_log_returns`). Uses only the rows it needs, so the answer
    does not depend on how much earlier history ``x`` holds. With fewer than about
    :data:`MIN_DAYS` rows the verdict is "" and the p-values NaN.
    """
    if x.empty:
        raise ValueError("no relative returns")
    dates = pd.DatetimeIndex(x.index)
    t = len(dates) - 1
    anchor = int(_anchors(dates)[t])
    # the warm-up's p-values reach NULL_DAYS back from its first day; the month's null ends at
    # ``anchor`` (a month holds fewer than WARM_UP rows), so it starts later than this
    start = max(0, t - WARM_UP + 1 - NULL_DAYS)
    values = x.to_numpy(dtype="float64")[start:]
    return _evaluate_group(values, dates[start:], np.array([t - start]), anchor - start,
                           rule)[0]


def evidence_path(x: pd.DataFrame, start: object = None, end: object = None,
                  rule: Rule = RULE) -> list[Evidence]:
    """:func:`rotation_evidence` for every date of ``x`` from ``start`` on, each as if it were
    ``as_of`` (days sharing a month share their null, so this costs one bootstrap a month)."""
    dates = pd.DatetimeIndex(x.index)
    values = x.to_numpy(dtype="float64")
    anchors = _anchors(dates)
    first = 0 if start is None else int(dates.searchsorted(pd.Timestamp(start)))
    last = len(dates) if end is None else int(dates.searchsorted(pd.Timestamp(end), "right"))
    out: list[Evidence] = []
    for a in np.unique(anchors[first:last]):
        days = np.flatnonzero(anchors == a)
        days = days[(days >= first) & (days < last)]
        out.extend(_evaluate_group(values, dates, days, int(a), rule))
    return out
