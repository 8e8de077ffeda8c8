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
from xlsmallcap.core.quadrant import quadrant_trail
from xlsmallcap.core.rates import rate_sensitivity
from xlsmallcap.core.relative import persistence, relative_performance
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
    return [rot.score, rot.persistence, rot.rel_short, rot.funding, rk.vol_ratio, rk.beta,
            rk.max_drawdown, sens[0].beta, float(q["ratio"].iloc[-1]), b.share, b.events,
            c.value, c.flow_pct, relative_performance(small, spy, 21, as_of)]


def _same(a, b):
    return all((math.isnan(x) and math.isnan(y)) or x == pytest.approx(y, rel=1e-12, abs=1e-15)
               for x, y in zip(a, b, strict=True))


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
