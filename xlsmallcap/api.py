"""The Python API: tickers and dates in, figures out.

A thin shell: it fetches series from the data store and calls one function of the functional
core (``xlsmallcap.core``). The Excel functions, the report and the workbook all go through here.
"""

from __future__ import annotations

import hashlib
import weakref
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from xlsmallcap.core.base_rate import BaseRateResult, base_rate
from xlsmallcap.core.cash import asset_series
from xlsmallcap.core.election import ElectionVol, election_vol
from xlsmallcap.core.evidence import evidence_path, relative_log_returns
from xlsmallcap.core.flows import (
    EasingCycle,
    FlowEffect,
    Stickiness,
    cycle_detections,
    cycles_known,
    easing_cycles,
    easing_mask,
    flow_effect,
    net_flows,
    stickiness,
    weekly_relative_returns,
    window_flow,
)
from xlsmallcap.core.frame import AnalysisError, dated, upto
from xlsmallcap.core.quadrant import quadrant, quadrant_trail
from xlsmallcap.core.rates import Sensitivity, rate_sensitivity
from xlsmallcap.core.relative import (
    relative_performance,
    relative_strength,
    return_index,
    rolling_relative_performance,
)
from xlsmallcap.core.risk import RiskResult, risk
from xlsmallcap.core.rotation import RotationResult, rotation
from xlsmallcap.core.track_record import TrackRow, stability, track_record, verdict_series
from xlsmallcap.data.store import DataStore, get_store

SMALL = "IWM"
BENCHMARKS: tuple[str, ...] = ("SPY", "QQQ", "DIA")
BENCHMARK_NAMES = {"SPY": "S&P 500", "QQQ": "Nasdaq-100", "DIA": "Dow"}
GROWTH = "QQQ"
MMF_WEEKLY, MMF_MONTHLY = "WRMFNS", "RMFNS"
POLICY_RATE, TWO_YEAR = "DFF", "DGS2"
#: The short yield that stands for what money funds earn (net flows exclude that interest).
SHORT_RATE = "DGS3MO"
SMB = "FF_SMB"
#: The Fama-French size pair the verdict's long track record runs on: an equal mix of the three
#: smallest size deciles against the largest decile (value-weighted within each decile).
FF_SMALL: tuple[str, ...] = ("FF_ME_LO10", "FF_ME_D02", "FF_ME_D03")
FF_LARGE = "FF_ME_HI10"


def _store(store: DataStore | None) -> DataStore:
    return store if store is not None else get_store()


def prices(ticker: str, store: DataStore | None = None) -> pd.Series:
    return _store(store).series(ticker)


def _bench(benchmarks: Sequence[str] | None) -> tuple[str, ...]:
    b = tuple(benchmarks) if benchmarks else BENCHMARKS
    if not b:
        raise AnalysisError("benchmarks must name at least one ticker")
    return b


def rel_perf(window: int, small: str = SMALL, benchmarks: Sequence[str] | None = None,
             as_of: object = None, store: DataStore | None = None) -> dict[str, float]:
    """Relative performance of ``small`` against each benchmark over ``window`` days."""
    st = _store(store)
    s = st.public(small, as_of)
    return {b: relative_performance(s, st.public(b, as_of), window, as_of)
            for b in _bench(benchmarks)}


def rel_perf_series(window: int = 63, small: str = SMALL, bench: str = "SPY",
                    as_of: object = None, start: object = None,
                    store: DataStore | None = None) -> pd.Series:
    st = _store(store)
    s = rolling_relative_performance(st.public(small, as_of), st.public(bench, as_of), window,
                                     as_of).dropna()
    return s.loc[pd.Timestamp(start):] if start is not None else s


def rs_line(small: str = SMALL, bench: str = "SPY", ma_window: int = 50, as_of: object = None,
            start: object = None, store: DataStore | None = None) -> pd.DataFrame:
    st = _store(store)
    return relative_strength(st.public(small, as_of), st.public(bench, as_of), ma_window, as_of,
                             start)


def rotation_score(small: str = SMALL, benchmarks: Sequence[str] | None = None,
                   as_of: object = None, lookback: int = 63, short_window: int = 21,
                   growth: str = GROWTH, store: DataStore | None = None) -> RotationResult:
    st = _store(store)
    bench = {b: st.public(b, as_of) for b in _bench(benchmarks)}
    return rotation_of(st.public(small, as_of), bench, as_of, lookback, short_window, growth, st)


#: Weeks of money-fund flows behind the score's funding component.
FUNDING_WEEKS = 13


def rotation_of(small: pd.Series, benchmarks: dict[str, pd.Series], as_of: object = None,
                lookback: int = 63, short_window: int = 21, growth: str = GROWTH,
                store: DataStore | None = None) -> RotationResult:
    """The rotation test on given series (tickers already resolved, or a user's own ranges);
    funding from money-fund net flows public on ``as_of``, QQQ where there are none."""
    st = _store(store)
    small = dated(small, "small")
    benchmarks = {k: dated(v, str(k)) for k, v in benchmarks.items()}

    def compute() -> RotationResult:
        # The flows of the day the figures are for: as_of, or else the last day the series
        # share (a user's own range may end long before the latest money-fund data).
        ends = [s.index[-1] for s in (small, *benchmarks.values()) if len(s)]
        when = as_of if as_of is not None else (min(ends) if ends else None)
        f = flows(when, st)
        pct = stickiness(f, [], FUNDING_WEEKS, when).value if len(f) else np.nan
        return rotation(small, benchmarks, st.public(growth, when), lookback, short_window,
                        as_of, flow_percentile=pct)

    # The score, verdict, p-value, quadrant and detail of one date all need the same test:
    # it runs once per series content (tickers or a user's ranges alike) and arguments.
    key = ("rotation", str(small.name), _digest(small),
           tuple((k, _digest(v)) for k, v in benchmarks.items()), lookback, short_window, growth)
    return _derived(key, st, as_of, compute)


def _digest(s: pd.Series) -> bytes:
    """A fingerprint of a series' dates and values (16 bytes; about 50 µs for 30 years)."""
    h = hashlib.blake2b(digest_size=16)
    h.update(np.asarray(s.index.values).tobytes())
    h.update(np.asarray(s.to_numpy(dtype="float64", na_value=np.nan)).tobytes())
    return h.digest()


#: Flows, policy cycles and rotation tests of recent (data version, as_of), per store: one
#: report, or one Excel recalculation, asks for the same ones several times. Keyed on the store
#: object itself (weakly), never on its id, which a new store may reuse.
_DERIVED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _derived(kind: object, st: DataStore, as_of: object, compute):
    memo = _DERIVED.setdefault(st, {})
    key = (kind, st.version(), None if as_of is None else pd.Timestamp(as_of))
    if key not in memo:
        if len(memo) > 256:
            memo.clear()
        memo[key] = compute()
    return memo[key]


def flows(as_of: object = None, store: DataStore | None = None) -> pd.DataFrame:
    """Weekly net flows into retail money funds, as public on ``as_of`` (see core.flows)."""
    st = _store(store)
    return _derived("flows", st, as_of, lambda: net_flows(
        st.public(MMF_WEEKLY, as_of), st.public(SHORT_RATE, as_of), as_of))


#: Policy cycles are dated from here on: money-fund flows start in 1985, and before the 1980s
#: the fed funds rate swung too much day to day to date cycles from it.
CYCLES_FROM = "1982-01-01"


def cycles(as_of: object = None, store: DataStore | None = None) -> list:
    """Policy cycles from the fed funds rate as public on ``as_of`` (since 1982)."""
    st = _store(store)

    def known_then() -> list:
        # the whole history once per data version; what was known on as_of is a prefix
        whole = _derived("cycle detections", st, None, lambda: cycle_detections(
            st.public(POLICY_RATE).loc[CYCLES_FROM:].dropna()))
        return cycles_known(whole, upto(st.public(POLICY_RATE, as_of).loc[CYCLES_FROM:]
                                        .dropna(), as_of).size)

    return _derived("cycles", st, as_of, known_then)


def cash(as_of: object = None, weeks: int = 52, store: DataStore | None = None) -> Stickiness:
    """Cash stickiness from retail money-fund net flows (percentile among past windows)."""
    st = _store(store)
    return stickiness(flows(as_of, st), cycles(as_of, st), weeks, as_of)


def cash_flows(weeks: int = 13, as_of: object = None, store: DataStore | None = None
               ) -> tuple[float, float, pd.Timestamp]:
    """Net flow into retail money funds over the last ``weeks`` weeks: ($bn, share of assets,
    last week used)."""
    f = flows(as_of, store)
    if f.shape[0] < weeks + 1:
        return np.nan, np.nan, f.index[-1] if len(f) else pd.NaT
    bn, pct = window_flow(f, f.index[-1 - weeks], f.index[-1])
    return bn, pct, f.index[-1]


def easing(as_of: object = None, store: DataStore | None = None) -> list[EasingCycle]:
    """Every easing cycle since money-fund flows begin (1985), with flows after its first cut."""
    st = _store(store)
    return easing_cycles(flows(as_of, st), cycles(as_of, st), as_of)


def cash_to_smallcaps(as_of: object = None, horizon: int = 0, sample: str = "all",
                      small: pd.Series | None = None, large: pd.Series | None = None,
                      french: bool = False, store: DataStore | None = None) -> FlowEffect:
    """Nadig's claim: do weeks when money leaves money funds see small caps beat large caps?

    The pair: ``small`` and ``large`` price series (default IWM vs SPY as public on
    ``as_of``), or with ``french`` the French size pair (deciles 1-3 vs 10), which covers the
    whole money-fund history since 1985. ``sample`` "easing": only the 52 weeks after each
    first cut.
    """
    st = _store(store)
    f = flows(as_of, st)
    if french:
        small, large = ff_size_pair(st, as_of)
    else:
        small = st.public(SMALL, as_of) if small is None else small
        large = st.public("SPY", as_of) if large is None else large
    rel = weekly_relative_returns(small, large, f.index)
    mask = easing_mask(f.index, cycles(as_of, st)) if sample == "easing" else None
    return flow_effect(f, rel, horizon, mask)


TOTAL_MMF = "MMMFFAQ027S"


def total_money_funds(as_of: object = None, store: DataStore | None = None
                      ) -> tuple[float, pd.Timestamp, float]:
    """All money-market fund assets (Z.1, $bn) as last public on ``as_of``, the quarter, and the
    retail (H.6) share of it at that quarter; NaN where Z.1 has nothing public yet."""
    st = _store(store)
    total = st.public(TOTAL_MMF, as_of).dropna()
    if total.empty:
        return np.nan, pd.NaT, np.nan
    quarter, value = total.index[-1], float(total.iloc[-1]) / 1000.0   # millions -> billions
    retail = st.series(MMF_WEEKLY).loc[:quarter + pd.offsets.QuarterEnd(0)]
    share = float(retail.iloc[-1]) / value if retail.size and value > 0 else np.nan
    return value, quarter, share


def election(as_of: object = None, store: DataStore | None = None) -> ElectionVol:
    """Volatility before presidential elections vs other years (French daily market)."""
    st = _store(store)
    market = st.public("FF_MKT_RF", as_of) + st.public("FF_RF", as_of)
    return election_vol(market.dropna(), as_of)


def mmf_assets(as_of: object = None, start: object = None,
               store: DataStore | None = None) -> pd.Series:
    st = _store(store)
    s = asset_series(st.public(MMF_WEEKLY, as_of), st.public(MMF_MONTHLY, as_of), as_of)
    return s.loc[pd.Timestamp(start):] if start is not None else s


def rate_sens(small: str = SMALL, large: str = "SPY", as_of: object = None, window: int = 252,
              store: DataStore | None = None) -> list[Sensitivity]:
    st = _store(store)
    rates = {TWO_YEAR: st.public(TWO_YEAR, as_of), POLICY_RATE: st.public(POLICY_RATE, as_of)}
    return rate_sensitivity(st.public(small, as_of), st.public(large, as_of), rates, window, 5,
                            as_of)


def vol(small: str = SMALL, large: str = "SPY", as_of: object = None, window: int = 63,
        store: DataStore | None = None) -> RiskResult:
    st = _store(store)
    return risk(st.public(small, as_of), st.public(large, as_of), window, as_of)


def rotation_quadrant(small: str = SMALL, bench: str = "SPY", as_of: object = None,
                      ratio_window: int = 63, momentum_window: int = 10,
                      store: DataStore | None = None) -> tuple[str, float, float]:
    st = _store(store)
    return quadrant(st.public(small, as_of), st.public(bench, as_of), ratio_window,
                    momentum_window, as_of)


def rotation_quadrant_trail(small: str = SMALL, bench: str = "SPY", as_of: object = None,
                            ratio_window: int = 63, momentum_window: int = 10,
                            store: DataStore | None = None) -> pd.DataFrame:
    st = _store(store)
    return quadrant_trail(st.public(small, as_of), st.public(bench, as_of), ratio_window,
                          momentum_window, as_of)


def base(as_of: object = None, surge_days: int = 5, threshold: float = 0.03,
         horizon: int = 63, small: str = SMALL, large: str = "SPY",
         store: DataStore | None = None) -> BaseRateResult:
    """Base rate of sustained small-cap outperformance after surges (Fama-French SMB).

    The history is SMB as it was public on ``as_of`` (the French library is a month or two
    late); today's surge is the ``small`` vs ``large`` price pair over ``surge_days`` (public the
    same day), or SMB's own last surge where the pair has no data.
    """
    st = _store(store)
    smb = st.public(SMB, as_of) / 100.0  # the French files are in percent per day
    today = relative_performance(st.public(small, as_of), st.public(large, as_of), surge_days,
                                 as_of)
    return base_rate(smb, surge_days, threshold, horizon, as_of=as_of,
                     current_surge=today if np.isfinite(today) else None)


def ff_size_pair(store: DataStore | None = None, as_of: object = None
                 ) -> tuple[pd.Series, pd.Series]:
    """Total-return indices (100 at the start) of the small and large Fama-French legs, from
    the data public on ``as_of``."""
    st = _store(store)
    small = return_index(pd.concat([st.public(c, as_of) for c in FF_SMALL], axis=1))
    return small.rename("FF small (deciles 1-3)"), \
        return_index(st.public(FF_LARGE, as_of)).rename("FF large (decile 10)")


@dataclass(frozen=True)
class TrackRecord:
    """The verdict's forward record on one pair over one period, with its stability."""

    pair: str
    period: str
    role: str               # "fitted" (levels checked here) or "reported" (out of sample)
    start: pd.Timestamp
    end: pd.Timestamp
    changes_per_year: float
    median_run: float
    days: int
    shares: dict[str, float]
    rows: list[TrackRow]


#: (pair, first day, last day, role) of the published track record.
TRACK_PERIODS: tuple[tuple[str, str | None, str | None, str], ...] = (
    ("etf", None, None, "reported"),
    ("ff", None, "1999-12-31", "fitted"),
    ("ff", "2000-01-01", None, "reported"),
)


def track_records(store: DataStore | None = None,
                  periods: Sequence[tuple[str, str | None, str | None, str]] = TRACK_PERIODS
                  ) -> list[TrackRecord]:
    """The verdict's track record on IWM vs the default benchmarks and on the French size pair.

    Every day's verdict is the one ``rotation_score(as_of=that day)`` gives (same state machine,
    same warm-up); forward returns come after it. See :mod:`xlsmallcap.core.track_record`.
    """
    st = _store(store)
    paths: dict[str, tuple[str, pd.DataFrame, pd.Series]] = {}
    out = []
    for pair, start, end, role in periods:
        if pair not in paths:
            if pair == "etf":
                x = relative_log_returns(st.series(SMALL), {b: st.series(b) for b in BENCHMARKS})
                label = f"{SMALL} vs {', '.join(BENCHMARKS)}"
            else:
                small, large = ff_size_pair(st)
                x = relative_log_returns(small, {FF_LARGE: large})
                label = "French size deciles 1-3 vs decile 10"
            paths[pair] = (label, x, verdict_series(evidence_path(x)))
        label, x, v = paths[pair]
        v = v.loc[pd.Timestamp(start) if start else None: pd.Timestamp(end) if end else None]
        chg, med, n = stability(v)
        shares = {k: float((v == k).mean()) for k in dict.fromkeys(v)} if n else {}
        out.append(TrackRecord(label, f"{v.index[0]:%Y-%m}..{v.index[-1]:%Y-%m}", role,
                               v.index[0], v.index[-1], chg, med, n, shares,
                               track_record(x, v)))
    return out


CHART_KINDS = ("rs", "relperf", "mmf", "quadrant")


def chart_series(kind: str, small: pd.Series, bench: pd.Series, as_of: object = None,
                 points: int = 252, store: DataStore | None = None) -> pd.DataFrame:
    """The last ``points`` rows of a chart's data, indexed by date.

    ``rs``: relative-strength line and its 50-day average (100 = first point shown);
    ``relperf``: rolling 63-day relative return (the chart's own axis is the zero line);
    ``mmf``: weekly retail money-fund assets ($bn); ``quadrant``: the quadrant trail (ratio,
    momentum) sampled weekly. Series are named after the tickers when both are known.
    """
    names = (small.name, bench.name)
    pair = f"{names[0]} / {names[1]}" if all(isinstance(n, str) and n for n in names) \
        else None
    if kind == "rs":
        full = relative_strength(small, bench, 50, as_of)
        start = full.index[-points] if len(full) >= points else None
        out = relative_strength(small, bench, 50, as_of, start)
        return out.rename(columns={"rs": pair or "Relative strength",
                                   "rs_ma": "50-day average"})
    if kind == "relperf":
        s = rolling_relative_performance(small, bench, 63, as_of).dropna()
        label = f"{pair.replace(' / ', ' vs ')}, 63-day" if pair else "63-day relative return"
        return s.rename(label).to_frame().iloc[-points:]
    if kind == "mmf":
        return mmf_assets(as_of, store=store).rename("Retail money funds ($bn)").to_frame() \
            .iloc[-points:]
    if kind == "quadrant":
        trail = quadrant_trail(small, bench, as_of=as_of)[["ratio", "momentum"]]
        weekly = trail.iloc[::-1].iloc[::5].iloc[::-1]  # every 5th day, ending on the last
        return weekly.rename(columns={"ratio": "Ratio", "momentum": "Momentum"}).iloc[-points:]
    raise AnalysisError(f"kind must be one of {', '.join(CHART_KINDS)} (got {kind!r})")


def pad_dates(df: pd.DataFrame, points: int) -> pd.DataFrame:
    """``df`` with empty rows before its first date, so that it has exactly ``points`` rows.

    The padding continues the dates backwards at the data's own spacing (business days;
    weeks when the median gap is 5 days or more; months from 28 days) with no values, so a
    chart's date axis stays continuous and plots nothing there instead of a drop to zero.
    Degenerate input: a frame with no rows gets no padding (it has no date to continue from);
    with one row the spacing is business days.
    """
    missing = points - len(df)
    if missing <= 0 or df.empty:
        return df
    gap = pd.Series(df.index).diff().median() if len(df) > 1 else pd.Timedelta(days=1)
    step = pd.DateOffset(months=1) if gap >= pd.Timedelta(days=28) else \
        pd.DateOffset(weeks=1) if gap >= pd.Timedelta(days=5) else pd.offsets.BDay()
    first = df.index[0]
    dates = [first - step * k for k in range(missing, 0, -1)]
    pad = pd.DataFrame(np.nan, index=pd.DatetimeIndex(dates), columns=df.columns)
    return pd.concat([pad, df])


@dataclass(frozen=True)
class Report:
    as_of: pd.Timestamp
    small: str
    benchmarks: tuple[str, ...]
    rotation: RotationResult
    rel: dict[int, dict[str, float]]
    cash: Stickiness
    flows13: tuple[float, float, pd.Timestamp]
    easing: list[EasingCycle]
    claim: dict[str, FlowEffect]
    election: ElectionVol
    #: Total money-fund assets (Z.1, $bn) last public on as_of, its quarter, and the retail
    #: share of it then (Z.1 stops in 2020-Q4, so later dates show that last quarter).
    total_mmf: tuple[float, pd.Timestamp, float]
    rates: list[Sensitivity]
    risk: RiskResult
    quadrant: tuple[str, float, float]
    base: BaseRateResult
    #: Per series used: (last observation used, the date it was published, the rule).
    freshness: dict[str, tuple[pd.Timestamp, pd.Timestamp, str]]
    #: The date asked for (None: the latest), to say when it lies past the data.
    requested: pd.Timestamp | None = None


def report(as_of: object = None, small: str = SMALL, benchmarks: Sequence[str] | None = None,
           store: DataStore | None = None) -> Report:
    """Every figure of the terminal answer for one date."""
    st = _store(store)
    bench = _bench(benchmarks)
    rot = rotation_score(small, bench, as_of, store=st)
    used = rot.as_of
    names = [small, *bench, GROWTH, MMF_WEEKLY, SHORT_RATE, POLICY_RATE, TWO_YEAR, SMB]
    fresh = {}
    for n in dict.fromkeys(x.upper() for x in names):
        s = st.public(n, used)
        last = s.index[-1] if s.size else pd.NaT
        fresh[n] = (last, st.published(n).loc[last] if s.size else pd.NaT,
                    st.publication_rule(n))
    return Report(
        as_of=used, small=small.upper(), benchmarks=tuple(b.upper() for b in bench),
        rotation=rot,
        rel={w: rel_perf(w, small, bench, used, st) for w in (5, 21, 63, 126)},
        cash=cash(used, store=st), flows13=cash_flows(13, used, st), easing=easing(used, st),
        claim={f"{small.upper()} vs {bench[0].upper()}, same week":
               cash_to_smallcaps(used, 0, small=st.public(small, used),
                                 large=st.public(bench[0], used), store=st),
               f"{small.upper()} vs {bench[0].upper()}, next 4 weeks":
               cash_to_smallcaps(used, 4, small=st.public(small, used),
                                 large=st.public(bench[0], used), store=st),
               "French size pair, same week": cash_to_smallcaps(used, 0, french=True, store=st),
               "French pair, easing cycles": cash_to_smallcaps(used, 0, "easing", french=True,
                                                               store=st)},
        election=election(used, st), total_mmf=total_money_funds(used, st),
        rates=rate_sens(small, bench[0], used, store=st),
        risk=vol(small, bench[0], used, store=st),
        quadrant=rotation_quadrant(small, bench[0], used, store=st),
        base=base(used, small=small, large=bench[0], store=st), freshness=fresh,
        requested=None if as_of is None else pd.Timestamp(as_of))
