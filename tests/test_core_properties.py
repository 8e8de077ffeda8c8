"""Properties of the functional core: point-in-time honesty, invariances, degenerate input."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xlsmallcap.core.base_rate import base_rate
from xlsmallcap.core.flows import net_flows, policy_cycles, stickiness
from xlsmallcap.core.frame import AnalysisError, check_window
from xlsmallcap.core.quadrant import quadrant, quadrant_trail
from xlsmallcap.core.rates import rate_sensitivity
from xlsmallcap.core.relative import persistence, relative_performance, relative_strength
from xlsmallcap.core.risk import risk
from xlsmallcap.core.rotation import rotation

DAYS = pd.bdate_range("2020-01-01", periods=260)


def walk(seed: int, n: int = 260, vol: float = 0.012) -> pd.Series:
    rng = np.random.default_rng(seed)
    return pd.Series(100 * np.exp(np.cumsum(rng.normal(0.0003, vol, n))), index=DAYS[:n])


seeds = st.integers(min_value=0, max_value=10_000)
SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def _all_figures(small, spy, qqq, dia, rate, smb, assets, as_of):
    rot = rotation(small, {"SPY": spy, "QQQ": qqq, "DIA": dia}, qqq, as_of=as_of)
    rk = risk(small, spy, as_of=as_of)
    sens = rate_sensitivity(small, spy, {"R": rate}, window=120, as_of=as_of)
    q = quadrant_trail(small, spy, as_of=as_of)
    b = base_rate(smb, threshold=0.01, horizon=21, as_of=as_of)
    c = stickiness(net_flows(assets, rate, as_of), policy_cycles(rate, as_of), weeks=8,
                   as_of=as_of)
    label = quadrant(small, spy, as_of=as_of)
    rs = relative_strength(small, spy, as_of=as_of)
    return [rot.score, rot.persistence, rot.rel_short, rot.funding, rk.vol_ratio, rk.beta,
            rk.max_drawdown, sens[0].beta, float(q["ratio"].iloc[-1]), b.share, b.events,
            c.value, c.flow_pct, relative_performance(small, spy, 21, as_of),
            rot.verdict, rot.p_value, rot.since, rot.to_rotation, label,
            float(rs["rs"].iloc[-1]), float(rs["rs_ma"].iloc[-1]),
            persistence(small, spy, as_of=as_of)]


def _same(a, b):
    def one(x, y):
        if isinstance(x, float) and isinstance(y, float):
            return (math.isnan(x) and math.isnan(y)) or x == pytest.approx(y, rel=1e-12,
                                                                             abs=1e-15)
        return repr(x) == repr(y)   # texts, dates, tuples: exactly

    return all(one(x, y) for x, y in zip(a, b, strict=True))


@SETTINGS
@given(seed=seeds, cut=st.integers(min_value=150, max_value=230))
def test_appending_future_data_never_changes_a_past_figure(seed, cut):
    full = [walk(seed + i) for i in range(4)]
    rate = pd.Series(np.round(np.cumsum(np.random.default_rng(seed).normal(0, 0.05, 260)), 2)
                     + 3, index=DAYS)
    smb = pd.Series(np.random.default_rng(seed + 9).normal(0, 0.006, 260), index=DAYS)
    assets = walk(seed + 7, vol=0.004)
    as_of = DAYS[cut]
    past = [s.loc[:as_of] for s in (*full, rate, smb, assets)]
    a = _all_figures(*full, rate, smb, assets, as_of)
    b = _all_figures(*past, as_of)
    assert _same(a, b)


@SETTINGS
@given(seed=seeds, k=st.floats(min_value=0.01, max_value=1000), window=st.integers(1, 200))
def test_scaling_prices_changes_no_relative_figure(seed, k, window):
    s, b = walk(seed), walk(seed + 1)
    assert relative_performance(s * k, b, window) == pytest.approx(
        relative_performance(s, b, window), rel=1e-9, abs=1e-12)
    assert persistence(s * k, b / k) == persistence(s, b)
    r1, r2 = risk(s * k, b), risk(s, b)
    assert r1.vol_ratio == pytest.approx(r2.vol_ratio, rel=1e-9)
    assert r1.beta == pytest.approx(r2.beta, rel=1e-9)


@SETTINGS
@given(seed=seeds, window=st.integers(1, 200))
def test_swapping_small_and_large_inverts_relative_performance(seed, window):
    s, b = walk(seed), walk(seed + 1)
    ab = relative_performance(s, b, window)
    ba = relative_performance(b, s, window)
    assert (1 + ab) * (1 + ba) == pytest.approx(1.0, rel=1e-12)


def test_window_longer_than_history_is_nan():
    s, b = walk(1, 30), walk(2, 30)
    assert math.isnan(relative_performance(s, b, 30))
    assert not math.isnan(relative_performance(s, b, 29))
    assert math.isnan(persistence(s, b))
    assert math.isnan(risk(s, b).vol_ratio)
    r = rotation(s, {"SPY": b}, b)
    assert math.isnan(r.score) and r.verdict == "" and "not enough history" in r.reason


def test_flat_prices():
    flat = pd.Series(100.0, index=DAYS)
    assert relative_performance(flat, flat, 63) == 0.0
    rk = risk(walk(3), flat)
    assert math.isnan(rk.vol_ratio) and math.isnan(rk.beta)
    assert persistence(flat, flat) == 0.0  # never ahead: a tie is not outperformance


def test_gaps_are_skipped_not_filled():
    s, b = walk(4), walk(5)
    holed = s.copy()
    holed.iloc[100:110] = np.nan
    # On the common calendar the window simply reaches further back.
    days = b.index.difference(s.index[100:110])
    expected = relative_performance(s.reindex(days), b.reindex(days), 63)
    assert relative_performance(holed, b, 63) == pytest.approx(expected)


def test_as_of_before_data_starts():
    s, b = walk(6), walk(7)
    assert math.isnan(relative_performance(s, b, 5, as_of="2019-01-01"))
    with pytest.raises(AnalysisError, match="share no dates"):
        rotation(s, {"SPY": b}, b, as_of="2019-01-01")


@pytest.mark.parametrize("bad, shown", [(-5, "-5"), (0, "0"), (2.5, "2.5"), ("abc", "'abc'"),
                                        (None, "None"), (float("nan"), "nan")])
def test_window_errors_name_the_argument(bad, shown):
    with pytest.raises(AnalysisError) as info:
        check_window(bad)
    assert str(info.value) == f"window must be a whole number of trading days >= 1 (got {shown})"


def test_whole_floats_are_accepted():
    assert check_window(63.0) == 63


def test_rate_that_did_not_move_gives_nan():
    s, b = walk(8), walk(9)
    on_hold = pd.Series(5.33, index=DAYS)
    sens = rate_sensitivity(s, b, {"DFF": on_hold}, window=200)
    assert math.isnan(sens[0].beta) and sens[0].observations == 40


def test_the_long_horizon_figures_never_see_past_as_of():
    """Figures over decades (election autumns, easing cycles, the money-fund chart, total
    return) as of a day in the middle are the same whether the data after it exists or not,
    and differ from the figures on all the data (so the comparison can fail)."""
    from xlsmallcap.core.cash import asset_series
    from xlsmallcap.core.election import election_vol
    from xlsmallcap.core.flows import Cycle, easing_cycles
    from xlsmallcap.core.relative import total_return

    rng = np.random.default_rng(12)
    days = pd.bdate_range("1980-01-01", "2020-12-31")
    market = pd.Series(rng.normal(0.04, 1.0, days.size), index=days)
    as_of = pd.Timestamp("2004-11-15")
    cut = market.loc[:as_of]
    mid, whole = election_vol(market, as_of=as_of), election_vol(market)
    assert mid == election_vol(cut) and mid.last_year == 2004 and whole.last_year == 2020
    prices = 100 * np.exp(market.cumsum() / 100)
    assert total_return(prices, 21, as_of) == total_return(prices.loc[:as_of], 21)
    assert total_return(prices, 21, as_of) != total_return(prices, 21)

    weeks = pd.date_range("1990-01-01", "2020-12-28", freq="W-MON")
    assets = pd.Series(1000 * np.exp(np.cumsum(rng.normal(0.002, 0.004, weeks.size))),
                       index=weeks)
    months = pd.Series(900.0, index=pd.date_range("1980-01-31", "1989-12-31", freq="ME"))
    chart = asset_series(assets, months, as_of)
    assert chart.equals(asset_series(assets.loc[:as_of], months, as_of))
    assert chart.index[-1] == weeks[weeks <= as_of][-1] and chart.index[0] == months.index[0]
    flows = net_flows(assets, pd.Series(2.0, index=weeks))
    cycles = [Cycle(pd.Timestamp("2000-01-03"), pd.Timestamp("2000-06-05"),
                    pd.Timestamp("2001-01-08"), 6.5),
              Cycle(pd.Timestamp("2004-01-05"), pd.Timestamp("2004-06-07"),
                    pd.Timestamp("2004-09-06"), 5.0)]

    def shown(cs):
        return [(c.cycle, c.elapsed_weeks, c.now_bn, c.after) for c in cs]

    now = easing_cycles(flows, cycles, as_of)
    # repr: NaN (a horizon not known yet) equals NaN there
    assert repr(shown(now)) == repr(shown(easing_cycles(flows.loc[:as_of], cycles, as_of)))
    assert now[-1].elapsed_weeks == 10 and math.isnan(now[-1].after[13][0])   # not known yet
    assert easing_cycles(flows, cycles)[-1].elapsed_weeks == 52


def test_the_verdict_and_its_p_value_never_see_past_as_of():
    """The verdict's evidence needs years of history, more than the property test above has:
    six years of four random walks, as of a day in the fifth."""
    days = pd.bdate_range("2015-01-01", periods=1600)
    rng = np.random.default_rng(21)
    walks = [pd.Series(100 * np.exp(np.cumsum(rng.normal(0.0003, 0.012, days.size))),
                       index=days) for _ in range(4)]
    small, spy, qqq, dia = walks
    as_of = days[1200]

    def figures(cut):
        s, a, b, c = (w.loc[:cut] for w in walks)
        r = rotation(s, {"SPY": a, "QQQ": b, "DIA": c}, b, as_of=as_of)
        return [r.verdict, r.p_value, r.p_large, r.since, r.to_rotation, r.reason]

    past, whole = figures(as_of), figures(days[-1])
    assert _same(past, whole) and not math.isnan(past[1])
    latest = rotation(small, {"SPY": spy, "QQQ": qqq, "DIA": dia}, qqq)
    assert latest.as_of == days[-1] and latest.p_value != past[1]
