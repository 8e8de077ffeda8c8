"""Money-market fund flows: net of reinvested interest, level breaks, policy cycles, stickiness.

Pure functions of weekly fund assets ($bn), a short yield (percent p.a.) and the fed funds rate.
Everything takes the series as they were public on ``as_of`` (the store cuts them); nothing here
reads a clock or a file.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from xlsmallcap.core.frame import AnalysisError, check_window, upto

#: A weekly change is a level break (a reclassification, not money moving) when it is more than
#: BREAK_Z robust standard deviations from the trailing year's median and above BREAK_MIN.
BREAK_Z = 8.0
BREAK_MIN = 0.04
#: Policy cycles from the fed funds rate (30-day median): an easing cycle starts when the rate is
#: 0.25 pp below its 270-day peak, after a hiking phase of at least 0.75 pp since the last one.
CUT_SIZE = 0.25
HIKE_SIZE = 0.75


def net_flows(assets: pd.Series, short_rate: pd.Series, as_of: object = None) -> pd.DataFrame:
    """Weekly net flows into money funds: the change in assets minus the interest earned.

    ``interest_t = A_{t-1} * y_{t-1} / 100 * days / 365`` with ``y`` the short yield (DGS3MO or
    ^IRX, percent p.a.) on or before the previous week, ``days`` the days between the two
    weeks; ``flow_t = A_t - A_{t-1} - interest_t`` ($bn), ``flow_pct = flow_t / A_{t-1}``.
    Reinvested interest is therefore not new money. A week whose log change is a level break
    (see :data:`BREAK_Z`, :data:`BREAK_MIN`) has ``break = True`` and NaN flows: a
    reclassification of funds is not a flow. Columns: assets, change, interest, flow,
    flow_pct, break. Empty when fewer than two weeks exist; NaN interest where the yield does
    not reach back.
    """
    a = upto(assets.dropna(), as_of)
    cols = ["assets", "change", "interest", "flow", "flow_pct", "break"]
    if a.size < 2:
        return pd.DataFrame(columns=cols, dtype="float64")
    if (a <= 0).any():
        raise AnalysisError("money-fund assets must be positive")
    y = upto(short_rate.dropna(), as_of)
    prev_date = a.index[:-1]
    y_prev = y.reindex(y.index.union(prev_date)).ffill().reindex(prev_date).to_numpy()
    days = np.diff(a.index.to_numpy()).astype("timedelta64[D]").astype(float)
    a0, a1 = a.to_numpy()[:-1], a.to_numpy()[1:]
    interest = a0 * y_prev / 100.0 * days / 365.0
    logd = pd.Series(np.log(a1 / a0), index=a.index[1:])
    med = logd.rolling(52, min_periods=26).median().shift(1)
    mad = (logd - med).abs().rolling(52, min_periods=26).median().shift(1) * 1.4826
    brk = ((logd - med).abs() > BREAK_Z * mad) & (logd.abs() > BREAK_MIN)
    flow = np.where(brk.to_numpy(), np.nan, a1 - a0 - interest)
    return pd.DataFrame({"assets": a1, "change": a1 - a0, "interest": interest, "flow": flow,
                         "flow_pct": flow / a0, "break": brk.to_numpy()}, index=a.index[1:])


@dataclass(frozen=True)
class Cycle:
    """One policy cycle: the hiking phase and the first cut that started the easing."""

    hike_start: pd.Timestamp
    peak: pd.Timestamp
    first_cut: pd.Timestamp
    peak_rate: float


def policy_cycles(fed_funds: pd.Series, as_of: object = None) -> list[Cycle]:
    """Easing cycles from the daily fed funds rate up to ``as_of``, each with the hiking phase
    before it (see :func:`cycle_detections`); none from fewer than 60 days."""
    r = upto(fed_funds.dropna(), as_of)
    return cycles_known(cycle_detections(r), r.size)


def cycles_known(detections: list[tuple[int, Cycle]], n: int) -> list[Cycle]:
    """The cycles that the first ``n`` observations of the rate show: every step of
    :func:`cycle_detections` looks only backwards, so this equals detecting on those ``n``
    days alone (a memo can run the whole history once). None when ``n`` < 60."""
    return [] if n < 60 else [c for i, c in detections if i < n]


def cycle_detections(r: pd.Series) -> list[tuple[int, Cycle]]:
    """Easing cycles in the daily rate ``r`` (no NaN), each with the position in ``r`` of the
    day it becomes known; none for an empty or flat rate.

    On the 30-day rolling median ``m`` of the rate: an easing cycle starts on the first day
    ``m`` is :data:`CUT_SIZE` below its peak of the last 270 days (``m`` needs 20 days, the
    peak 30 values of ``m``), if ``m`` rose by :data:`HIKE_SIZE` or more from its low since the
    previous cycle started (a hiking phase in between, and at least 180 days after the last
    first cut; otherwise it is the same easing continuing). A peak from before that low (an
    earlier easing's peak still inside the 270 days) is the same easing continuing too.
    ``first_cut`` is the first day of the first run of 5 days on which the rate stayed 0.15 pp
    or more below that peak; ``peak`` the day of the peak (the first day of its plateau, even
    one that began before the 270 days: the day the hikes topped out); ``hike_start`` the first
    day after the low before the peak when ``m`` was 0.2 pp above it.
    """
    dates = pd.DatetimeIndex(r.index).as_unit("ns")    # pandas 3 dates are often in us
    rate = r.to_numpy(dtype="float64")
    med = r.rolling(30, min_periods=20).median()
    m = med.to_numpy()
    hit = m <= med.rolling(270, min_periods=30).max().to_numpy() - CUT_SIZE
    out: list[Cycle] = []
    known: list[int] = []
    last_start, low, low_at, rise = 0, np.inf, 0, 0.0
    m_list, hit_list = m.tolist(), hit.tolist()   # plain floats: a fast loop
    ns = dates.asi8.tolist()                      # and plain nanoseconds, not Timestamps
    min_gap = 180 * 86_400 * 10**9
    for i in range(rate.size):
        mi = m_list[i]
        if mi != mi:                                  # NaN: too early for the median
            continue
        if mi < low:
            low, low_at = mi, i
        rise = max(rise, mi - low)                    # the largest rise since the last cycle
        if not hit_list[i]:
            continue
        if out and (ns[i] - out[-1].first_cut.value < min_gap or rise < HIKE_SIZE):
            continue
        lo = max(0, i - 269)                          # the 270 days the peak is of
        pk_pos = lo + int(np.nanargmax(m[lo: i + 1]))
        while pk_pos > 0 and m[pk_pos - 1] == m[pk_pos]:
            pk_pos -= 1     # a plateau that began before the 270 days: the peak is its first day
        if out and pk_pos <= low_at:
            continue  # the peak is from before the hike: this easing continues
        pk = float(m[pk_pos])
        below = (rate[pk_pos: i + 1] <= pk - 0.15).astype(int)
        run5 = np.flatnonzero(np.convolve(below, np.ones(5, dtype=int), "valid") == 5)
        first_cut = dates[pk_pos + int(run5[0])] if run5.size else dates[i]
        start = min(last_start, pk_pos)
        before = m[start: pk_pos + 1]
        low_pos = int(np.nanargmin(before))
        up = np.flatnonzero(before[low_pos:] >= before[low_pos] + 0.2)
        hike_start = dates[start + low_pos + int(up[0])] if up.size else dates[start]
        out.append(Cycle(hike_start, dates[pk_pos], first_cut, pk))
        known.append(i)
        last_start, low, low_at, rise = i, m[i], i, 0.0
    return list(zip(known, out, strict=True))


def window_flow(flows: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp
                ) -> tuple[float, float]:
    """Net flow of the weeks after ``start`` up to ``end``: ($bn, % of assets at ``start``)."""
    f = flows.loc[(flows.index > start) & (flows.index <= end)]
    base = flows["assets"].loc[:start]
    if f.empty or base.empty:
        return np.nan, np.nan
    total = float(np.nansum(f["flow"].to_numpy()))
    return total, total / float(base.iloc[-1])


@dataclass(frozen=True)
class Stickiness:
    """How much of the cash stays, from the data."""

    as_of: pd.Timestamp
    value: float            # percentile of the last ``weeks`` weeks' net flow among all past
    flow_bn: float          # net flow over the window, $bn
    flow_pct: float         # ... as a share of assets at its start
    windows: int            # how many past windows the percentile ranks against
    weeks: int
    retained: float         # share of the last hiking phase's net inflow still there
    hike_inflow_bn: float
    cycle: Cycle | None


def stickiness(flows: pd.DataFrame, cycles: list[Cycle], weeks: int = 52,
               as_of: object = None) -> Stickiness:
    """Cash stickiness defined by the data, 0-1, with the retained share beside it.

    * ``value``: the percentile rank (``(#less + #equal / 2) / n``) of the net flow over the last
      ``weeks`` weeks, as a share of assets, among every earlier ``weeks``-week window since
      the flows begin (all known by ``as_of``). 1 = more cash stayed than in any past window,
      0 = it left faster than ever, 0.5 = a typical year. No hand-set constants: it moves
      with the data and needs at least 52 earlier windows (NaN otherwise).
    * ``flow_bn``, ``flow_pct``: the net flow over the last ``weeks`` weeks; with fewer weeks of
      flows than that, NaN and no cycle.
    * ``retained``: of the net inflow during the last hiking phase (``hike_start`` to ``peak``),
      the share still there: ``(inflow + net flow since the peak) / inflow``. Above 1 means more
      came in after the peak; NaN when the hiking phase saw no net inflow.
    """
    w = check_window(weeks, "weeks", unit="weeks")
    f = upto(flows, as_of)
    nan = np.nan
    if f.shape[0] < w:   # not one window of w weeks yet
        return Stickiness(pd.NaT if f.empty else f.index[-1], nan, nan, nan, 0, w, nan, nan,
                          None)
    pct = f["flow_pct"].to_numpy()
    flow = f["flow"].to_numpy()
    growth = np.log1p(np.where(np.isnan(pct), 0.0, pct))   # breaks count as no flow
    csum = np.concatenate([[0.0], np.cumsum(growth)])
    rolling = np.expm1(csum[w:] - csum[:-w])               # window of w weeks ending at each
    now, past = rolling[-1], rolling[:-w]                  # past windows end before this one
    value = nan
    if past.size >= 52:
        value = float((np.sum(past < now) + 0.5 * np.sum(past == now)) / past.size)
    flow_bn = float(np.nansum(flow[-w:]))
    retained, inflow, cycle = nan, nan, None
    done = [c for c in cycles if c.peak <= f.index[-1]]
    if done:
        cycle = done[-1]
        inflow, _ = window_flow(f, cycle.hike_start, cycle.peak)
        after, _ = window_flow(f, cycle.peak, f.index[-1])
        if np.isfinite(inflow) and inflow > 0:
            retained = (inflow + (after if np.isfinite(after) else 0.0)) / inflow
    return Stickiness(f.index[-1], value, flow_bn, float(now), int(past.size), w, retained,
                      inflow, cycle)


@dataclass(frozen=True)
class EasingCycle:
    """Net flows into money funds around one easing cycle's first cut."""

    cycle: Cycle
    hike_inflow_bn: float           # net inflow during the hiking phase before it
    hike_inflow_pct: float
    after: dict[int, tuple[float, float]]   # weeks after the first cut -> ($bn, % of assets)
    elapsed_weeks: int              # weeks of flows known after the first cut (as_of)
    now_bn: float                   # net flow from the first cut to as_of
    now_pct: float
    percentile: float               # now_pct among earlier cycles at the same elapsed weeks
    compared: int                   # how many earlier cycles that compares with


HORIZONS_WEEKS = (13, 26, 52)


def easing_cycles(flows: pd.DataFrame, cycles: list[Cycle], as_of: object = None,
                  horizons: tuple[int, ...] = HORIZONS_WEEKS) -> list[EasingCycle]:
    """Each easing cycle whose first cut falls inside the flow data, with the net flows 13, 26
    and 52 weeks after the first cut ($bn and % of assets at the first cut), NaN where that
    horizon is not known by ``as_of``. For every cycle, also the flow from its first cut to
    ``as_of`` (capped at 52 weeks) and its percentile among the earlier cycles over the same
    number of weeks: for the current cycle that is "today's percentile among them".
    """
    f = upto(flows, as_of)
    if f.empty:
        return []
    end = f.index[-1]
    out: list[EasingCycle] = []
    for c in cycles:
        if c.first_cut <= f.index[0] or c.first_cut > end:
            continue
        hike_bn, hike_pct = window_flow(f, c.hike_start, c.peak) \
            if c.hike_start >= f.index[0] else (np.nan, np.nan)
        after = {}
        for h in horizons:
            stop = c.first_cut + pd.Timedelta(weeks=h)
            after[h] = window_flow(f, c.first_cut, stop) if stop <= end \
                else (np.nan, np.nan)
        weeks = int(min((end - c.first_cut).days // 7, max(horizons)))
        now_bn, now_pct = window_flow(f, c.first_cut, c.first_cut + pd.Timedelta(weeks=weeks))
        earlier = [window_flow(f, e.cycle.first_cut,
                               e.cycle.first_cut + pd.Timedelta(weeks=weeks))[1]
                   for e in out]
        earlier = [x for x in earlier if np.isfinite(x)]
        pct = np.nan
        if earlier and np.isfinite(now_pct):
            arr = np.array(earlier)
            pct = float((np.sum(arr < now_pct) + 0.5 * np.sum(arr == now_pct)) / arr.size)
        out.append(EasingCycle(c, hike_bn, hike_pct, after, weeks, now_bn, now_pct, pct,
                               len(earlier)))
    return out


def weekly_relative_returns(small: pd.Series, large: pd.Series, weeks: pd.DatetimeIndex
                            ) -> pd.Series:
    """Small-minus-large log return over each flow week (between consecutive ``weeks``),
    from each price's last close on or before the week's date."""
    both = pd.concat([small, large], axis=1, join="inner").dropna()
    at = both.reindex(both.index.union(weeks)).ffill().reindex(weeks)
    rel = np.log(at.iloc[:, 0]) - np.log(at.iloc[:, 1])
    return rel.diff().rename("relative")


@dataclass(frozen=True)
class FlowEffect:
    """Nadig's claim as a regression: small-minus-large return on money-fund outflows."""

    slope: float     # relative return (decimal) per 1% of assets leaving money funds
    se: float        # Newey-West
    low: float
    high: float
    t: float
    correlation: float
    n: int
    horizon: int     # 0 = the same week, h = the h following weeks together
    in_easing: bool

    @property
    def significant(self) -> bool:
        return bool(np.isfinite(self.t) and abs(self.t) >= 2.0)

    @property
    def answer(self) -> str:
        """The result in words, whatever it is."""
        if not np.isfinite(self.t):
            return "not enough weeks to tell"
        when = "the same week" if self.horizon == 0 else f"the next {self.horizon} weeks"
        if not self.significant:
            return (f"no: outflows and small-cap outperformance in {when} are unrelated "
                    f"(t {self.t:+.1f}, n {self.n})")
        sign = "yes" if self.slope > 0 else "the opposite"
        return (f"{sign}: {self.slope:+.2%} small-minus-large in {when} per 1% of assets "
                f"leaving (t {self.t:+.1f}, n {self.n})")


def flow_effect(flows: pd.DataFrame, relative: pd.Series, horizon: int = 0,
                mask: pd.Series | None = None) -> FlowEffect:
    """Regress the small-minus-large return on the money-fund outflow of the same week
    (``horizon`` 0) or on the return of the ``horizon`` following weeks together.

    ``x_t = -flow_pct_t * 100`` (percent of assets that left; negative = inflow),
    ``y_t = sum of relative[t + 1 .. t + h]`` (or ``relative[t]`` for h = 0). Slope and
    Newey-West standard error (``max(h, automatic)`` lags, as overlapping sums need), 95%
    interval, correlation and n. ``mask`` restricts the weeks (e.g. inside easing cycles).
    Level-break weeks have no flow and are left out.
    """
    from xlsmallcap.core.stats import Z95, hac_slope, newey_west_lags

    x = -flows["flow_pct"] * 100.0
    rel = relative.reindex(flows.index)
    y = rel if horizon == 0 else sum(rel.shift(-k) for k in range(1, horizon + 1))
    keep = x.notna() & y.notna()
    if mask is not None:
        keep &= mask.reindex(flows.index).fillna(False).astype(bool)
    xs, ys = x[keep].to_numpy(), y[keep].to_numpy()
    lags = max(horizon, newey_west_lags(xs.size))
    est = hac_slope(ys, xs, lags=lags)
    corr = float(np.corrcoef(xs, ys)[0, 1]) if xs.size > 2 else np.nan
    return FlowEffect(est.value, est.se, est.value - Z95 * est.se, est.value + Z95 * est.se,
                      est.t, corr, int(xs.size), horizon, mask is not None)


def easing_mask(index: pd.DatetimeIndex, cycles: list[Cycle], weeks: int = 52) -> pd.Series:
    """True for dates within ``weeks`` weeks after an easing cycle's first cut."""
    m = pd.Series(False, index=index)
    for c in cycles:
        m |= (index >= c.first_cut) & (index < c.first_cut + pd.Timedelta(weeks=weeks))
    return m
