"""The shared statistics against hand computations, and the figures that use them."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from xlsmallcap.core.base_rate import base_rate
from xlsmallcap.core.frame import aligned
from xlsmallcap.core.rates import rate_sensitivity
from xlsmallcap.core.relative import relative_strength, return_index, total_return
from xlsmallcap.core.stats import (
    cluster_mean_se,
    hac_mean,
    hac_slope,
    lower_p,
    newey_west_lags,
    stationary_bootstrap_indices,
    upper_p,
    wilson_interval,
)
from xlsmallcap.core.track_record import forward_relative_returns, stability, track_record


def test_wilson_interval_by_hand():
    # 24 of 80 (the base rate's headline figure): p = 0.3, z = 1.96
    z, n, p = 1.959963984540054, 80, 0.3
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    lo, hi = wilson_interval(24, 80)
    assert (lo, hi) == pytest.approx((centre - half, centre + half), abs=1e-12)
    # the roots of |p - 0.3| = z sqrt(p (1 - p) / 80), solved numerically elsewhere
    assert (round(lo, 4), round(hi, 4)) == (0.2106, 0.4077)
    assert wilson_interval(0, 10)[0] == 0.0 and 0.25 < wilson_interval(0, 10)[1] < 0.32
    assert all(math.isnan(v) for v in wilson_interval(0, 0))


def test_hac_mean_without_lags_is_the_plain_standard_error():
    x = np.random.default_rng(1).normal(0.1, 2.0, 500)
    e = hac_mean(x, lags=0)
    assert e.value == pytest.approx(x.mean())
    assert e.se == pytest.approx(x.std(ddof=0) / math.sqrt(500), rel=1e-12)


def test_hac_slope_by_hand():
    rng = np.random.default_rng(2)
    x = rng.normal(size=200)
    e = rng.normal(size=200)
    y = 0.5 + 2.0 * x + np.convolve(e, [1, 0.6], "same")  # autocorrelated errors
    got = hac_slope(y, x, lags=3)
    xc = x - x.mean()
    beta = float(np.sum(xc * (y - y.mean())) / np.sum(xc * xc))
    u = xc * ((y - y.mean()) - beta * xc)
    s = sum(u[i] * u[i] for i in range(200))
    for j in range(1, 4):
        s += 2 * (1 - j / 4) * sum(u[i] * u[i - j] for i in range(j, 200))
    se = math.sqrt(s) / float(np.sum(xc * xc))
    assert got.value == pytest.approx(beta, rel=1e-12)
    assert got.se == pytest.approx(se, rel=1e-10)
    assert got.t == pytest.approx(beta / se) and got.significant


def test_base_rate_on_histories_too_short_to_judge():
    """Too short for one surge: nothing is counted; too short for any known outcome: today's
    surge is measured but no event, similar surge or unconditional day exists."""
    days = pd.bdate_range("2024-01-01", periods=40)
    smb = pd.Series(0.02, index=days)  # +2% a day: every day is a surge
    b = base_rate(smb.iloc[:5], surge_days=5, threshold=0.03, horizon=20, sub_window=5)
    assert (b.events, b.successes, b.similar_events, b.unconditional_days) == (0, 0, 0, 0)
    assert (b.surge_days, b.horizon, b.threshold) == (5, 20, 0.03)
    assert b.as_of == b.history_end == days[4] and b.last_event is pd.NaT
    for v in (b.share, b.low, b.high, b.mean_forward, b.current_surge, b.similar_low_size,
              b.similar_high_size, b.similar_share, b.similar_low, b.similar_high,
              b.unconditional):
        assert isinstance(v, float) and math.isnan(v)
    b = base_rate(smb.iloc[:6], surge_days=5, threshold=0.03, horizon=20, sub_window=5)
    assert b.current_surge == pytest.approx(1.02 ** 5 - 1) and b.events == 0
    # no day yet has its 20 days of outcome
    b = base_rate(smb.iloc[:20], surge_days=1, threshold=0.01, horizon=20, sub_window=5)
    assert (b.events, b.similar_events, b.unconditional_days) == (0, 0, 0)
    assert math.isnan(b.unconditional) and math.isnan(b.similar_share)
    # 20 days with an outcome, one declustered surge on the first of them
    b = base_rate(smb, surge_days=1, threshold=0.01, horizon=20, sub_window=5)
    assert (b.events, b.successes, b.unconditional_days, b.unconditional) == (1, 1, 20, 1.0)
    assert b.mean_forward == pytest.approx(1.02 ** 20 - 1)
    assert (b.similar_events, b.similar_successes, b.similar_share) == (1, 1, 1.0)
    # today's surge given as 10%: similar is 6.7% to 15% a day, and no past day was one
    b = base_rate(smb, surge_days=1, threshold=0.01, horizon=20, sub_window=5,
                  current_surge=0.10)
    assert (b.events, b.successes, b.similar_events, b.similar_successes) == (1, 1, 0, 0)
    assert b.similar_low_size == pytest.approx(0.10 / 1.5)
    assert math.isnan(b.similar_share) and math.isnan(b.similar_low)


def test_cluster_se_counts_spells_not_days():
    # two spells of 50 identical values each: the spread is between spells only
    x = np.r_[np.full(50, 1.0), np.full(50, 3.0)]
    g = np.r_[np.zeros(50), np.ones(50)]
    assert cluster_mean_se(x, g) == pytest.approx(math.sqrt(2 * 50.0 ** 2) / 100)
    assert math.isnan(cluster_mean_se(x, np.zeros(100)))


def test_bootstrap_indices_keep_blocks():
    rng = np.random.default_rng(3)
    idx = stationary_bootstrap_indices(500, 84, 2000, 10, rng)
    assert idx.shape == (2000, 84) and idx.min() >= 0 and idx.max() < 500
    steps = np.diff(idx, axis=1)
    breaks = np.mean((steps != 1) & (steps != -499))
    assert breaks == pytest.approx(1 / 10, abs=0.01)  # mean block length 10


def test_bootstrap_with_blocks_of_one_day_is_the_plain_bootstrap():
    """A mean block of 1 day starts a new block at every step: each row is drawn on its own,
    uniformly (the i.i.d. bootstrap), and is allowed."""
    idx = stationary_bootstrap_indices(50, 30, 200, 1, np.random.default_rng(4))
    assert (idx == np.random.default_rng(4).integers(0, 50, size=(200, 30))).all()


def test_p_values_count_the_observation():
    null = np.sort(np.arange(1000.0))
    assert upper_p(null, 999.0) == pytest.approx(2 / 1001)
    assert upper_p(null, 2000.0) == pytest.approx(1 / 1001)
    assert lower_p(null, -1.0) == pytest.approx(1 / 1001)
    assert math.isnan(upper_p(null, float("nan")))


def test_p_values_of_a_row_of_days_with_ties_and_missing_days():
    """Null 1, 2, 3, 4 (B = 4): at 2 the lower p counts 1 and 2 and the observation,
    3/5; the upper p counts 2, 3, 4, 4/5 (a tie counts against the observation). A missing
    day, NaN or None as a list holds it, stays missing; whole numbers are numbers."""
    null = np.array([1.0, 2.0, 3.0, 4.0])
    low = lower_p(null, [2, 0.5, np.nan, None])
    assert low[:2].tolist() == pytest.approx([3 / 5, 1 / 5])
    assert math.isnan(low[2]) and math.isnan(low[3])
    up = upper_p(null, [2, 4.5, None])
    assert up[:2].tolist() == pytest.approx([4 / 5, 1 / 5]) and math.isnan(up[2])


def test_base_rate_by_surge_size_matches_a_naive_loop():
    rng = np.random.default_rng(4)
    r = rng.normal(0.0, 0.012, 4000) + np.where(rng.random(4000) < 0.02, 0.03, 0.0)
    smb = pd.Series(r, index=pd.bdate_range("1990-01-01", periods=4000))
    b = base_rate(smb, surge_days=5, threshold=0.03, horizon=63)
    n = r.size

    def comp(a, c):
        return math.prod(1 + v for v in r[a:c]) - 1

    def sustained(i):
        trailing = [comp(i + 1 + k - 21, i + 1 + k) > 0 for k in range(21, 64)]
        return comp(i + 1, i + 64) > 0 and sum(trailing) / len(trailing) >= 0.7

    cur = comp(n - 5, n)
    lo = max(0.03, cur / 1.5)
    hi = lo * 2.25
    sim, events, all_wins = [], [], 0
    for i in range(4, n - 63):
        s = comp(i - 4, i + 1)
        if lo - 1e-12 <= s <= hi + 1e-12 and (not sim or i - sim[-1] >= 63):
            sim.append(i)
        if s >= 0.03 - 1e-12 and (not events or i - events[-1] >= 63):
            events.append(i)
    all_wins = sum(sustained(i) for i in range(0, n - 63))
    wins = sum(sustained(i) for i in sim)
    assert b.similar_events == len(sim) > 5
    assert b.similar_successes == wins
    assert b.events == len(events)
    assert b.mean_forward == pytest.approx(sum(comp(i + 1, i + 64) for i in events) / len(events))
    assert b.unconditional == pytest.approx(all_wins / (n - 63))
    assert (b.similar_low, b.similar_high) == pytest.approx(wilson_interval(wins, len(sim)))
    # the figure is as of the last day of the data, and so is the history it counts
    assert b.as_of == b.history_end == smb.index[-1]
    # as of an earlier day: that day, and only the days up to it
    mid = smb.index[2999]
    early = base_rate(smb, surge_days=5, threshold=0.03, horizon=63, as_of=mid)
    assert early.as_of == early.history_end == mid
    assert early.current_surge == pytest.approx(comp(2995, 3000))


def test_rate_sensitivity_carries_a_newey_west_error():
    rng = np.random.default_rng(6)
    days = pd.bdate_range("2020-01-01", periods=300)
    rate = pd.Series(np.cumsum(rng.normal(0, 0.05, 300)) + 3, index=days)
    noise = rng.normal(0, 0.004, 300)
    large = pd.Series(100 * np.exp(np.cumsum(rng.normal(0, 0.01, 300))), index=days)
    rel = -0.02 * (rate - rate.iloc[0]) + np.cumsum(noise)  # small caps gain when rates fall
    small = large * np.exp(rel)
    s = rate_sensitivity(small, large, {"R": rate}, window=250)[0]
    step = days[-251:][::-1][::5][::-1]
    x = np.diff(np.log(small[step].to_numpy()) - np.log(large[step].to_numpy()))
    dy = np.diff(rate[step].to_numpy())
    ref = hac_slope(x, dy)
    assert s.beta == pytest.approx(ref.value) and s.se == pytest.approx(ref.se)
    assert s.per_cut > 0 and s.t < -2 and s.significant and s.observations == 50


def test_rate_sensitivity_daily_steps_use_exactly_the_window():
    """With step 1 a 12-day window is 12 daily changes: the 13 last dates, no more."""
    days = pd.bdate_range("2021-03-01", periods=40)
    rate = pd.Series([2.0 + 0.1 * (i % 3) - 0.01 * i for i in range(40)], index=days)
    large = pd.Series(100.0, index=days)
    small = pd.Series([50.0 * (1 + 0.003 * ((i * 7) % 5)) for i in range(40)], index=days)
    s = rate_sensitivity(small, large, {"R": rate}, window=12, step=1)[0]
    x = [math.log(small.iloc[i] / small.iloc[i - 1]) for i in range(28, 40)]
    dy = [rate.iloc[i] - rate.iloc[i - 1] for i in range(28, 40)]
    mx, my = sum(x) / 12, sum(dy) / 12
    cov = sum((a - mx) * (b - my) for a, b in zip(x, dy, strict=True))
    beta = cov / sum((b - my) ** 2 for b in dy)
    assert s.observations == 12 and s.beta == pytest.approx(beta, rel=1e-9)
    vx, vy = sum((a - mx) ** 2 for a in x), sum((b - my) ** 2 for b in dy)
    assert s.correlation == pytest.approx(cov / math.sqrt(vx * vy), rel=1e-9)


def test_forward_returns_and_track_record_by_hand():
    idx = pd.bdate_range("2020-01-01", periods=10)
    x = pd.DataFrame({"A": np.log(np.r_[1.01, 0.99, 1.02, 1.0, 1.0, 0.98, 1.01, 1.0, 1.0, 1.03]),
                      "B": np.zeros(10)}, index=idx)
    fwd = forward_relative_returns(x, 2)
    assert fwd.iloc[0] == pytest.approx(((0.99 * 1.02 - 1) + 0) / 2)
    assert fwd.iloc[-2:].isna().all()
    v = pd.Series(["Rotation"] * 4 + ["Bobbling"] * 4 + ["Rotation"] * 2, index=idx)
    rows = {(r.verdict, r.horizon): r for r in track_record(x, v, horizons=(2,))}
    rot = rows[("Rotation", 2)]
    assert rot.days == 4 and rot.runs == 1 and math.isnan(rot.se)  # one spell: no interval
    assert rot.mean == pytest.approx(fwd.iloc[:4].mean())
    # days 0-3 look ahead +0.98%, +2%, exactly 0 (two days of 1.0) and -2%: a return of
    # exactly zero is not a hit
    assert fwd.iloc[2] == 0.0 and rot.hit_rate == 0.5
    every = rows[("All days", 2)]
    assert every.days == 8
    assert every.hit_rate == 0.5 and rows[("Bobbling", 2)].hit_rate == 0.5  # day 6 is 0 too
    # Newey-West with h - 1 = 1 lag over the 8 known days: LRV = g0 + 2 * (1 - 1/2) * g1
    vals = fwd.iloc[:8].tolist()
    m = sum(vals) / 8
    u = [a - m for a in vals]
    lag1 = sum(a * b for a, b in zip(u[1:], u[:-1], strict=True))
    lrv = sum(a * a for a in u) / 8 + lag1 / 8
    assert every.mean == pytest.approx(m) and every.se == pytest.approx(math.sqrt(lrv / 8))
    assert stability(v) == (2 / (10 / 252), 4.0, 10)
    # a day without a verdict ("": too little history) is no day of any row, all days included
    blank = v.copy()
    blank.iloc[:2] = ""
    rows = {(r.verdict, r.horizon): r for r in track_record(x, blank, horizons=(2,))}
    assert rows[("All days", 2)].days == 6 and rows[("Rotation", 2)].days == 2
    assert rows[("All days", 2)].mean == pytest.approx(fwd.iloc[2:8].mean())


def test_return_index_mixes_the_columns_equally_each_day():
    """Percent returns of two legs, rebalanced daily; a day one leg lacks is left out."""
    days = pd.bdate_range("2024-01-01", periods=4)
    legs = pd.DataFrame({"a": [1.0, -2.0, np.nan, 3.0], "b": [3.0, 0.0, 1.0, 1.0]}, index=days)
    out = return_index(legs)
    assert list(out.index) == [days[0], days[1], days[3]]
    assert out.tolist() == pytest.approx([102.0, 102.0 * 0.99, 102.0 * 0.99 * 1.02])
    assert return_index(legs["b"], base=1.0).iloc[-1] == pytest.approx(1.03 * 1.01 * 1.01)


def test_prices_side_by_side_skip_gaps_and_bad_ticks():
    """A NaN, a zero or a negative price is a gap on that day, not a value: the pair keeps only
    the days both have a real price."""
    days = pd.bdate_range("2024-07-15", periods=5)
    a = pd.Series([10.0, np.nan, 11.0, 0.0, 12.0], index=days)
    b = pd.Series([5.0, 5.0, -1.0, 6.0, 7.0], index=days)
    both = aligned(a, b)
    assert list(both.index) == [days[0], days[4]]
    assert both[0].tolist() == [10.0, 12.0] and both[1].tolist() == [5.0, 7.0]
    assert list(aligned(a, as_of=days[3]).index) == [days[0], days[2]]


def test_total_return_over_the_last_trading_days_up_to_as_of():
    days = pd.bdate_range("2024-07-10", periods=5)
    p = pd.Series([100.0, np.nan, 104.0, 110.0, 121.0], index=days)   # a gap on day 2
    assert total_return(p, 2) == pytest.approx(121 / 104 - 1)
    assert total_return(p, 2, as_of=days[3]) == pytest.approx(110 / 100 - 1)
    assert math.isnan(total_return(p, 3, as_of=days[3]))               # too short


def test_relative_strength_by_hand_up_to_as_of():
    days = pd.bdate_range("2024-07-10", periods=5)
    small = pd.Series([10.0, 12.0, 9.0, 15.0, 30.0], index=days)
    large = pd.Series([5.0, 5.0, 6.0, 5.0, 5.0], index=days)     # ratio 2, 2.4, 1.5, 3, 6
    rs = relative_strength(small, large, ma_window=2, as_of=days[3])
    assert list(rs.index) == list(days[:4])
    assert rs["rs"].tolist() == pytest.approx([100.0, 120.0, 75.0, 150.0])
    assert math.isnan(rs["rs_ma"].iloc[0])                         # one day: no 2-day mean
    assert rs["rs_ma"].iloc[1:].tolist() == pytest.approx([110.0, 97.5, 112.5])


def test_hac_mean_reports_the_lags_it_used():
    x = np.random.default_rng(3).normal(size=200)
    assert hac_mean(x, lags=3).lags == 3
    assert hac_mean(x, lags=0).lags == 0
    assert hac_mean(x).lags == newey_west_lags(200) > 0


@pytest.mark.parametrize("n", [4, 5, 6])
def test_forward_relative_returns_at_the_edge_of_the_horizon(n):
    """With n days and horizon 5: n - 5 days have a whole forward window (none when n <= 5)."""
    x = pd.DataFrame({"SPY": np.arange(1, n + 1) / 100.0}, index=pd.bdate_range("2024-01-01",
                                                                                 periods=n))
    out = forward_relative_returns(x, 5)
    assert out.index.equals(x.index) and out.isna().sum() == min(n, 5)
    if n == 6:
        assert out.iloc[0] == pytest.approx(math.expm1(0.02 + 0.03 + 0.04 + 0.05 + 0.06))


def test_quadrant_trail_with_the_shortest_ratio_window():
    """ratio_window=2: ratio = 100 * RS_t / mean(RS_t-1, RS_t), by hand."""
    from xlsmallcap.core.quadrant import quadrant_trail

    idx = pd.bdate_range("2024-01-01", periods=6)
    small = pd.Series([100.0, 102, 101, 105, 104, 108], index=idx)
    bench = pd.Series([100.0, 100, 101, 102, 103, 103], index=idx)
    out = quadrant_trail(small, bench, ratio_window=2, momentum_window=1)
    rs = small / bench
    ratio = [100 * rs.iloc[t] / ((rs.iloc[t - 1] + rs.iloc[t]) / 2) for t in range(1, 6)]
    assert list(out.index) == list(idx[2:])
    assert out["ratio"].tolist() == pytest.approx(ratio[1:])
    assert out["momentum"].tolist() == pytest.approx([100 * ratio[i] / ratio[i - 1]
                                                      for i in range(1, 5)])


def test_an_estimate_carries_its_95_percent_interval():
    x = np.array([1.0, 2.0, 3.0, 4.0, 6.0])
    e = hac_mean(x, lags=0)
    se = x.std(ddof=0) / math.sqrt(5)   # the long-run variance at lag 0 divides by n
    assert e.value == pytest.approx(3.2) and e.se == pytest.approx(se)
    assert e.low == pytest.approx(3.2 - 1.959963984540054 * se)
    assert e.high == pytest.approx(3.2 + 1.959963984540054 * se)


def test_a_slope_needs_three_points_and_a_moving_x():
    short = hac_slope(np.array([1.0, 2.0]), np.array([0.0, 1.0]))
    flat = hac_slope(np.array([1.0, 2.0, 3.0]), np.array([5.0, 5.0, 5.0]))
    for e, n in ((short, 2), (flat, 3)):
        assert math.isnan(e.value) and math.isnan(e.se) and e.n == n


@pytest.mark.parametrize("args", [(0, 5, 10, 2.0), (10, 0, 10, 2.0), (10, 5, 0, 2.0),
                                  (10, 5, 10, 0.5)])
def test_bootstrap_sizes_must_be_positive(args):
    with pytest.raises(ValueError, match="^n, length, reps and mean_block must be positive$"):
        stationary_bootstrap_indices(*args, np.random.default_rng(0))


def test_hac_slope_reports_its_n_and_lags():
    x = np.arange(30, dtype=float)
    y = 2.0 * x + np.random.default_rng(5).normal(size=30)
    e = hac_slope(y, x, lags=2)
    assert e.n == 30 and e.lags == 2 and e.value == pytest.approx(2.0, abs=0.2)


def test_a_surge_exactly_at_the_threshold_counts_and_the_last_one_is_dated():
    """surge_days=1: a day up exactly 3% is a surge (">= threshold"); the last event's date is
    the day it started."""
    idx = pd.bdate_range("2020-01-01", periods=300)
    smb = pd.Series(0.0, index=idx)     # flat days keep the running sums exact
    smb.iloc[[10, 150]] = 0.03
    r = base_rate(smb, surge_days=1, threshold=0.03, horizon=63, sub_window=21)
    assert r.events == 2 and r.last_event == idx[150]
    none = base_rate(smb, surge_days=1, threshold=0.031, horizon=63, sub_window=21)
    assert none.events == 0 and none.last_event is pd.NaT


def test_a_surge_followed_by_a_flat_horizon_is_not_sustained():
    """Sustained needs a compounded SMB *above* zero over the horizon: with the persistence
    condition switched off (min_persistence=0), a surge followed by 63 flat days (exactly 0)
    is not sustained, and one followed by a single +0.1% day is."""
    idx = pd.bdate_range("2020-01-01", periods=300)
    smb = pd.Series(0.0, index=idx)     # flat days keep the running sums exact
    smb.iloc[10] = 0.05
    flat = base_rate(smb, surge_days=1, threshold=0.03, horizon=63, sub_window=21,
                     min_persistence=0.0)
    assert (flat.events, flat.successes, flat.share, flat.mean_forward) == (1, 0, 0.0, 0.0)
    smb.iloc[40] = 0.001
    up = base_rate(smb, surge_days=1, threshold=0.03, horizon=63, sub_window=21,
                   min_persistence=0.0)
    assert (up.events, up.successes, up.share) == (1, 1, 1.0)
    assert up.mean_forward == pytest.approx(0.001)


def test_a_mean_needs_three_values_after_dropping_missing_ones():
    two = hac_mean(np.array([1.0, np.nan, 2.0]))
    assert math.isnan(two.value) and math.isnan(two.se) and two.n == 2
    three = hac_mean(np.array([1.0, np.nan, 2.0, 6.0]), lags=0)
    assert (three.value, three.n) == (3.0, 3)
    assert three.se == pytest.approx(math.sqrt(((4 + 1 + 9) / 3) / 3))
