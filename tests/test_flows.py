"""Money-fund net flows, stickiness, easing cycles, Nadig's and the election claims.

Reference values come from the raw CSVs through the csv module, never the package's loaders.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from conftest import raw_rows

from xlsmallcap import api, udfs
from xlsmallcap.core.election import election_vol
from xlsmallcap.core.flows import (
    Cycle,
    FlowEffect,
    cycle_detections,
    easing_mask,
    flow_effect,
    net_flows,
    stickiness,
    weekly_relative_returns,
)
from xlsmallcap.core.frame import AnalysisError
from xlsmallcap.data.store import use_embedded_data


@pytest.fixture(autouse=True)
def _embedded():
    use_embedded_data()


def _read(name: str, date_col: str, value_col: str) -> dict[str, float]:
    return {r[date_col]: float(r[value_col]) for r in raw_rows(f"macro/{name}.csv")
            if r[value_col] not in ("", ".")}


@pytest.fixture(scope="module")
def raw_flows():
    """Weekly flows by hand: A_t - A_{t-1} - A_{t-1} * y_{t-1} / 100 * days / 365, with the
    two known reclassification weeks left out."""
    w = _read("WRMFNS", "DATE", "WRMFNS")
    y = _read("DGS3MO", "date", "value")
    ydays = sorted(y)
    weeks = sorted(w)
    out = {}
    j = 0
    for prev, cur in zip(weeks, weeks[1:], strict=False):
        while j + 1 < len(ydays) and ydays[j + 1] <= prev:
            j += 1
        rate = y[ydays[j]] if ydays[j] <= prev else float("nan")
        days = (pd.Timestamp(cur) - pd.Timestamp(prev)).days
        interest = w[prev] * rate / 100 * days / 365
        flow = w[cur] - w[prev] - interest
        brk = cur in ("2015-12-21", "2016-01-11")
        out[cur] = (w[cur], w[prev], interest, None if brk else flow)
    return out



@pytest.mark.parametrize("week", ["1990-03-05", "2008-09-22", "2016-01-18", "2020-03-23",
                                  "2024-06-10", "2026-03-02"])
def test_net_flows_match_a_hand_computation(raw_flows, week):
    a1, a0, interest, flow = raw_flows[week]
    got = api.flows().loc[week]
    assert got["assets"] == pytest.approx(a1)
    assert got["interest"] == pytest.approx(interest, rel=1e-12)
    assert got["flow"] == pytest.approx(flow, rel=1e-12)
    assert got["flow_pct"] == pytest.approx(flow / a0, rel=1e-12)


def test_level_breaks_are_not_flows():
    f = api.flows()
    assert list(f.index[f["break"]].strftime("%Y-%m-%d")) == ["2015-12-21", "2016-01-11"]
    assert f.loc["2016-01-11", "change"] == pytest.approx(784.4 - 707.2)  # +10.9%
    assert math.isnan(f.loc["2016-01-11", "flow"])


@pytest.mark.parametrize(("jump", "is_break"), [(0.045, False), (0.050, True)])
def test_a_level_break_is_eight_robust_standard_deviations(jump, is_break):
    """Two years of weekly log changes of +-0.4% (over the trailing year: median 0, MAD 0.004,
    robust sd 1.4826 x 0.004), then one jump: a break needs more than 8 x 1.4826 x 0.004 =
    0.0474 and more than 0.04."""
    logd = np.r_[np.tile([0.004, -0.004], 52), jump]
    weeks = pd.date_range("2023-01-06", periods=logd.size + 1, freq="W-FRI")
    assets = pd.Series(1000 * np.exp(np.r_[0.0, np.cumsum(logd)]), index=weeks)
    f = net_flows(assets, pd.Series(0.0, index=weeks))
    assert f["break"].tolist() == [False] * 104 + [is_break]
    assert math.isnan(f["flow"].iloc[-1]) == is_break


@pytest.mark.parametrize(("weeks_before", "is_break"), [(51, False), (52, True), (60, True)])
def test_a_level_break_is_found_from_the_53rd_week_of_data(weeks_before, is_break):
    """The break rule needs half a year of changes for the median and half a year of
    deviations from it for the MAD: a +10% reclassification after 52 weekly changes of +-0.4%
    is a break (not 10% of new money); after 51 there is not yet enough history to tell."""
    logd = np.r_[np.tile([0.004, -0.004], 30)[:weeks_before], 0.1]
    weeks = pd.date_range("2023-01-06", periods=logd.size + 1, freq="W-FRI")
    assets = pd.Series(1000 * np.exp(np.r_[0.0, np.cumsum(logd)]), index=weeks)
    f = net_flows(assets, pd.Series(0.0, index=weeks))
    assert f["break"].tolist() == [False] * weeks_before + [is_break]
    assert math.isnan(f["flow"].iloc[-1]) == is_break


@pytest.mark.parametrize(("jump", "is_break"), [(-0.045, True), (0.065, False)])
def test_a_level_break_is_measured_from_the_trend_not_from_zero(jump, is_break):
    """Assets growing 2% a week give or take 0.4% (median 0.02, robust sd 1.4826 x 0.004): a
    4.5% fall is 6.5 points off the trend, a break; a 6.5% rise only 4.5 points, within
    8 robust sd of it (0.0474), so it is money."""
    logd = np.r_[np.tile([0.024, 0.016], 30), jump]
    weeks = pd.date_range("2023-01-06", periods=logd.size + 1, freq="W-FRI")
    assets = pd.Series(1000 * np.exp(np.r_[0.0, np.cumsum(logd)]), index=weeks)
    f = net_flows(assets, pd.Series(0.0, index=weeks))
    assert f["break"].tolist() == [False] * 60 + [is_break]


def test_the_robust_spread_of_a_level_break_is_taken_over_52_weeks():
    """Weekly changes cycling 0, +0.4%, 0, -0.4%: over any 52 weeks the median is 0 and half
    the deviations are 0, half 0.004, so the MAD is 0.002 and a break needs more than
    8 x 1.4826 x 0.002 = 0.0237 (and 0.04). A 4.5% jump is a break. Over 53 weeks the extra
    week (a 0.004 one) would make the MAD 0.004 and the bound 0.0474."""
    logd = np.r_[np.tile([0.0, 0.004, 0.0, -0.004], 30), 0.045]
    weeks = pd.date_range("2023-01-06", periods=logd.size + 1, freq="W-FRI")
    assets = pd.Series(1000 * np.exp(np.r_[0.0, np.cumsum(logd)]), index=weeks)
    f = net_flows(assets, pd.Series(0.0, index=weeks))
    assert f["break"].tolist() == [False] * 120 + [True]


def test_weekly_relative_returns_use_the_last_close_both_prices_have():
    """Flow weeks dated Mondays; small caps did not trade on 2024-03-11 (large caps did), so
    that week ends at both prices' last common close, Friday 03-08: log(105/102) for small
    caps minus log(204/201) for large, then log(108/105) - log(207/204)."""
    day = pd.to_datetime
    small = pd.Series([100.0, 102.0, 105.0, 110.0, 108.0],
                      index=day(["2024-03-01", "2024-03-04", "2024-03-08", "2024-03-15",
                                 "2024-03-18"]))
    large = pd.Series([200.0, 201.0, 204.0, 206.0, 205.0, 207.0],
                      index=day(["2024-03-01", "2024-03-04", "2024-03-08", "2024-03-11",
                                 "2024-03-15", "2024-03-18"]))
    weeks = pd.DatetimeIndex(day(["2024-03-04", "2024-03-11", "2024-03-18"]))
    rel = weekly_relative_returns(small, large, weeks)
    assert rel.name == "relative" and list(rel.index) == list(weeks)
    assert math.isnan(rel.iloc[0])
    assert rel.iloc[1] == pytest.approx(math.log(105 / 102) - math.log(204 / 201), rel=1e-12)
    assert rel.iloc[2] == pytest.approx(math.log(108 / 105) - math.log(207 / 204), rel=1e-12)


def test_interest_is_not_new_money():
    # mid-2024: about $1.8tn earning 5.4% a year is about $1.9bn of interest a week
    f = api.flows().loc["2024-06-10"]
    assert 1.7 < f["interest"] < 2.1
    assert f["flow"] == pytest.approx(f["change"] - f["interest"])


def _percentile(growth: list[float], weeks: int) -> tuple[float, int]:
    windows = [math.prod(1 + g for g in growth[i - weeks:i]) - 1
               for i in range(weeks, len(growth) + 1)]
    now, past = windows[-1], windows[:-weeks]
    less = sum(p < now for p in past)
    equal = sum(p == now for p in past)
    return (less + equal / 2) / len(past), len(past)


@pytest.mark.parametrize("as_of, last_week", [("2010-12-31", "2010-12-20"),
                                              ("2024-07-16", "2024-06-10"),
                                              ("2025-12-31", "2025-12-08")])
@pytest.mark.parametrize("weeks", [52, 13])
def test_stickiness_matches_an_independent_percentile(raw_flows, as_of, last_week, weeks):
    growth = [0.0 if f is None else f / a0 for wk, (a1, a0, i, f) in sorted(raw_flows.items())
              if wk <= last_week]
    expected, n = _percentile(growth, weeks)
    got = api.cash(as_of, weeks)
    assert got.as_of == pd.Timestamp(last_week)   # what H.6 had published by as_of
    assert got.value == pytest.approx(expected, abs=1e-12) and got.windows == n
    if weeks == 13:  # the score's funding: money leaving money funds funds a rotation
        assert api.rotation_score(as_of=as_of).funding == pytest.approx(1 - expected)


def test_stickiness_moves_with_the_data():
    values = [api.cash(d).value for d in pd.date_range("2023-01-31", "2026-03-31", freq="QE")]
    assert max(values) - min(values) > 0.3
    # 1.0 only where the last year's inflow beat every earlier year on record (2023-24)
    records = [d for d, v in zip(pd.date_range("2023-01-31", "2026-03-31", freq="QE"), values,
                                 strict=True) if v >= 0.999]
    assert len(records) < len(values) / 2
    assert all(d < pd.Timestamp("2025-01-01") for d in records)


def test_easing_cycles_are_the_feds():
    cycles = {e.cycle.first_cut.strftime("%Y-%m-%d"): e for e in api.easing()}
    # the Fed's first cuts (FOMC): the effective rate fell within three days of each
    fed = {"1989-06-06": "1989-06-05", "1995-07-06": "1995-07-07", "2001-01-03": "2001-01-03",
           "2019-07-31": "2019-08-01", "2024-09-18": "2024-09-19"}
    for announced, measured in fed.items():
        assert measured in cycles
        assert abs((pd.Timestamp(measured) - pd.Timestamp(announced)).days) <= 3
    # 1987 and 2007: the effective rate fell before the target (crash and liquidity operations)
    assert set(cycles) == {*fed.values(), "1987-10-20", "2007-08-10"}


def test_flows_after_the_2024_first_cut_by_hand(raw_flows):
    start = pd.Timestamp("2024-09-19")
    weeks = sorted(raw_flows)
    base = max(w for w in weeks if w <= "2024-09-19")
    inside = [w for w in weeks if start < pd.Timestamp(w) <= start + pd.Timedelta(weeks=13)]
    total = sum(raw_flows[w][3] for w in inside)
    e = next(e for e in api.easing() if e.cycle.first_cut == start)
    assert e.after[13][0] == pytest.approx(total, rel=1e-12)
    assert e.after[13][1] == pytest.approx(total / raw_flows[base][0], rel=1e-12)
    assert e.compared == 6 and 0 <= e.percentile <= 1


def _weekly(n, rng):
    idx = pd.date_range("1990-01-01", periods=n, freq="W-MON")
    assets = pd.Series(1000 * np.exp(np.cumsum(rng.normal(0, 0.005, n))), index=idx)
    flows = pd.DataFrame({"assets": assets, "flow_pct": assets.pct_change()})
    return idx, flows


def test_flow_test_on_noise_and_on_a_planted_effect():
    rng = np.random.default_rng(3)
    idx, flows = _weekly(1500, rng)
    noise = pd.Series(rng.normal(0, 0.01, 1500), index=idx)
    e = flow_effect(flows, noise)
    assert isinstance(e, FlowEffect) and abs(e.t) < 2 and e.answer.startswith("no")
    # the 95% interval: 1.96 standard errors either side
    assert (e.low, e.high) == pytest.approx((e.slope - 1.959964 * e.se, e.slope + 1.959964 * e.se))
    assert e.t == pytest.approx(e.slope / e.se)
    planted = -0.5 * flows["flow_pct"] + pd.Series(rng.normal(0, 0.002, 1500), index=idx)
    e = flow_effect(flows, planted)  # 0.5% per 1% leaving
    assert e.low < 0.005 < e.high and e.significant and e.answer.startswith("yes")


def test_election_test_on_synthetic_years():
    rng = np.random.default_rng(4)
    days = pd.bdate_range("1926-01-01", "2025-12-31")
    boost = np.where((days.year % 4 == 0) & days.month.isin([8, 9, 10]), 2.0, 1.0)
    market = pd.Series(rng.normal(0, 1.0, days.size) * boost, index=days)
    r = election_vol(market)
    assert r.ratio == pytest.approx(2.0, rel=0.1) and r.p_value < 0.001
    # the two typical levels, by hand: geometric means of each year's annualised vol
    logr = np.log1p(market / 100.0)
    autumn = logr[logr.index.month.isin([8, 9, 10])]
    vol = autumn.groupby(autumn.index.year).std(ddof=1) * np.sqrt(252.0)
    election = vol.index % 4 == 0
    assert r.vol_election == pytest.approx(np.exp(np.log(vol[election]).mean()), rel=1e-12)
    assert r.vol_other == pytest.approx(np.exp(np.log(vol[~election]).mean()), rel=1e-12)
    assert (r.elections, r.other_years, r.last_year) == (25, 75, 2025)
    assert r.ratio == pytest.approx(r.vol_election / r.vol_other, rel=1e-12)
    r = election_vol(pd.Series(rng.normal(0, 1.0, days.size), index=days))
    assert 0.85 < r.ratio < 1.15 and r.p_value > 0.01


def test_election_premise_on_the_data():
    r = api.election()
    assert r.elections == 25 and r.other_years == 75       # 1926-2025
    assert r.ratio < 1 and r.p_value > 0.5                 # not more volatile: no evidence
    assert udfs.ELECTION_VOL(None, "p_value") == pytest.approx(r.p_value)


def test_money_functions_in_cells():
    assert udfs.CASH_FLOWS(13.0, "2024-07-16") == pytest.approx(api.cash_flows(13, "2024-07-16")[0])
    rows = udfs.EASING_CYCLES("2025-12-31")
    assert rows[0][0] == "First cut" and len(rows) == 8
    assert rows[-1][0].strftime("%Y-%m-%d") == "2024-09-19"
    assert udfs.CASH_TO_SMALLCAPS(None, None, None, 0.0, "easing", "answer").startswith("no")
    assert udfs.CASH_STICKINESS("2024-07-16", None, "bogus").startswith("#VALUE! output")
    assert udfs.CASH_STICKINESS("1985-06-30").startswith("#N/A")


def test_total_money_funds_beside_retail():
    total, quarter, share = api.total_money_funds("2024-07-16")
    assert quarter == pd.Timestamp("2020-10-01") and total == pytest.approx(4336.003)
    retail = _read("WRMFNS", "DATE", "WRMFNS")
    last = max(d for d in retail if d <= "2020-12-31")
    assert share == pytest.approx(retail[last] / 4336.003)
    # Z.1 for 2020-Q4 came out after the quarter: at the end of 2020 Q3 was the last public
    assert api.total_money_funds("2020-12-30")[1] == pd.Timestamp("2020-04-01")


def test_funding_for_your_own_range_is_of_the_day_it_ends():
    st = use_embedded_data()
    rows = [["Date", "S", "L"]] + [
        [d.to_pydatetime(), float(a), float(b)] for d, a, b in zip(
            st.series("IWM").loc["2010-01-01":"2014-06-30"].index,
            st.series("IWM").loc["2010-01-01":"2014-06-30"],
            st.series("SPY").reindex(st.series("IWM").loc["2010-01-01":"2014-06-30"].index),
            strict=True)]
    small = [[r[0], r[1]] for r in rows]
    large = [[r[0], r[2]] for r in rows]
    detail = dict(udfs.ROTATION_DETAIL(small, large, None, None, None, False))
    assert detail["Funding"] == pytest.approx(1 - api.cash("2014-06-30", 13).value)


def test_easing_percentiles_on_flows_built_by_hand():
    """Assets 100 every week; net flows 1 a week before 2002 and 2 after. Cycle A (cut in
    2000) has nothing earlier to rank against; B's first 52 weeks (104% of assets) beat A's
    (52%); C was cut on 2003-12-05 and the next week was never reported, so its flow so far is
    not known and is not ranked (not "the lowest ever")."""
    import warnings

    from xlsmallcap.core.flows import Cycle, easing_cycles

    idx = pd.date_range("2000-01-07", "2003-12-05", freq="7D").append(
        pd.DatetimeIndex(["2003-12-15"]))
    flows = pd.DataFrame({"assets": 100.0, "flow": np.where(idx < "2002-01-01", 1.0, 2.0)},
                         index=idx)

    def cycle(cut: str) -> Cycle:
        cut = pd.Timestamp(cut)
        return Cycle(cut - pd.Timedelta(weeks=20), cut - pd.Timedelta(weeks=4), cut, 5.0)

    with warnings.catch_warnings():
        warnings.simplefilter("error")              # no 0/0 on the way
        a, b, c = easing_cycles(flows, [cycle("2000-06-02"), cycle("2002-06-07"),
                                        cycle("2003-12-05")])
    assert (a.compared, math.isnan(a.percentile)) == (0, True)
    assert a.after[52] == (52.0, pytest.approx(0.52))
    assert (b.elapsed_weeks, b.now_bn, b.compared, b.percentile) == (52, 104.0, 1, 1.0)
    assert b.now_pct == pytest.approx(1.04) and b.hike_inflow_bn == 32.0
    assert (c.elapsed_weeks, c.compared) == (1, 2)
    assert math.isnan(c.now_pct) and math.isnan(c.percentile)


def test_hiking_inflow_counts_from_the_first_week_of_flows():
    """A hiking phase that starts on the very first week of the flow data has its inflow: the
    weeks after that week up to the peak (here 4 weeks of 1.0)."""
    from xlsmallcap.core.flows import Cycle, easing_cycles

    idx = pd.date_range("2000-01-07", periods=30, freq="7D")
    flows = pd.DataFrame({"assets": 100.0, "flow": 1.0}, index=idx)
    [e] = easing_cycles(flows, [Cycle(idx[0], idx[4], idx[6], 5.0)])
    assert (e.hike_inflow_bn, e.hike_inflow_pct) == (4.0, 0.04)
    [late] = easing_cycles(flows.iloc[1:], [Cycle(idx[0], idx[4], idx[6], 5.0)])
    assert math.isnan(late.hike_inflow_bn)   # began before the data: not known, not 3.0
    # a first cut on the second week of data is inside it; on the first week it is not (no
    # week before it to measure from)
    assert len(easing_cycles(flows, [Cycle(idx[0], idx[0], idx[1], 5.0)])) == 1
    assert easing_cycles(flows, [Cycle(idx[0], idx[0], idx[0], 5.0)]) == []


def test_cycles_known_on_a_date_are_those_found_from_that_dates_data_alone():
    """The memo runs the fed funds history once and keeps, for each as-of date, the cycles
    detected by then; that must equal running the detection on the data public that day,
    on dates around every first cut and every day a cycle became known."""
    from xlsmallcap.core.flows import policy_cycles
    from xlsmallcap.data.store import get_store

    st = get_store()
    whole = st.public(api.POLICY_RATE).loc[api.CYCLES_FROM:].dropna()
    dates = [pd.Timestamp("1982-03-01"), pd.Timestamp("1982-04-15")]   # fewer than 60 days
    for c in policy_cycles(whole):
        for anchor in (c.first_cut, c.peak):
            dates += [anchor + pd.Timedelta(days=d) for d in (-1, 0, 1, 20, 40, 90, 200)]
    dates += list(pd.date_range("1983-01-01", "2026-07-01", freq="397D"))
    from xlsmallcap.core.flows import cycle_detections

    for i, _ in cycle_detections(whole):         # the days around each detection
        dates += [whole.index[i] + pd.Timedelta(days=d) for d in (-1, 0, 1, 2, 3)]
    seen = set()
    for as_of in dates:
        direct = policy_cycles(st.public(api.POLICY_RATE, as_of).loc[api.CYCLES_FROM:], as_of)
        assert api.cycles(as_of) == direct, as_of
        seen.add(len(direct))
    assert seen >= {0, 1, len(policy_cycles(whole))}


def test_flow_effect_sums_the_weeks_after_not_the_week_itself():
    """horizon h: the small-minus-large return of weeks t+1 .. t+h against week t's outflow;
    the slope is ordinary least squares on exactly those pairs (computed here with numpy)."""
    rng = np.random.default_rng(7)
    idx = pd.date_range("2010-01-01", periods=300, freq="7D")
    flows = pd.DataFrame({"flow_pct": rng.normal(0, 0.004, 300)}, index=idx)
    rel = pd.Series(rng.normal(0, 0.01, 300), index=idx)
    x = -flows["flow_pct"].to_numpy() * 100
    r = rel.to_numpy()
    for h in (0, 1, 3, 13):
        y = r if h == 0 else np.array([r[t + 1: t + h + 1].sum() if t + h < 300 else np.nan
                                       for t in range(300)])
        keep = ~np.isnan(y)
        slope = np.polyfit(x[keep], y[keep], 1)[0]
        got = flow_effect(flows, rel, horizon=h)
        assert got.n == 300 - h and got.horizon == h
        assert got.slope == pytest.approx(slope, rel=1e-9)
        # Newey-West with max(h, floor(4 (n/100)^(2/9))) lags: 5 here, 13 for h = 13 (the
        # overlapping sums share 12 weeks)
        n, lags = 300 - h, max(h, 5)
        xc = x[keep] - x[keep].mean()
        u = xc * ((y[keep] - y[keep].mean()) - slope * xc)
        lrv = u @ u / n + sum(2 * (1 - j / (lags + 1)) * (u[j:] @ u[:-j]) / n
                              for j in range(1, lags + 1))
        assert got.se == pytest.approx(math.sqrt(lrv / n) / (xc @ xc / n), rel=1e-9)
        assert got.correlation == pytest.approx(np.corrcoef(x[keep], y[keep])[0, 1], rel=1e-9)


def test_flow_effect_reads_the_relative_return_of_the_flows_own_weeks():
    """A relative series that runs longer than the flows (a script's own, over more weeks)
    gives the same answer as one cut to the flows' weeks: week t+1 is the flows' next week,
    and no week after the flows' last one is summed."""
    rng = np.random.default_rng(11)
    idx = pd.date_range("2010-01-01", periods=120, freq="7D")
    flows = pd.DataFrame({"flow_pct": rng.normal(0, 0.004, 120)}, index=idx)
    longer = pd.Series(rng.normal(0, 0.01, 140),
                       index=pd.date_range("2009-11-13", periods=140, freq="7D"))
    assert longer.index[7] == idx[0] and longer.index[-1] > idx[-1]
    for h in (0, 4):
        assert flow_effect(flows, longer, horizon=h) == flow_effect(flows, longer.loc[idx],
                                                                     horizon=h)
    assert flow_effect(flows, longer, horizon=4).n == 116


def test_election_test_with_too_few_years_says_so_instead_of_guessing():
    """Five years of data hold one election autumn: no ratio, no p-value, and the counts."""
    days = pd.bdate_range("2019-01-01", "2023-12-31")
    market = pd.Series(np.random.default_rng(5).normal(0, 1.0, days.size), index=days)
    r = election_vol(market)
    assert (r.elections, r.other_years, r.last_year) == (1, 4, 2023)
    assert all(math.isnan(v) for v in (r.ratio, r.p_value, r.vol_election, r.vol_other))
    # as of 2022-10-30 the 2022 autumn is not over: 2019-2021 only, one election year (2020)
    early = election_vol(market, as_of="2022-10-30")
    assert (early.elections, early.other_years, early.last_year) == (1, 2, 2021)
    assert (election_vol(market, as_of="2022-10-31").last_year) == 2022


def test_an_autumn_counts_with_40_trading_days_of_data():
    """A year counts when its August-October holds at least 40 daily returns (a thin early
    record), so 1995 thinned to 40 days counts and 1997 thinned to 39 does not: 4 election
    years (1992-2004) and 11 others of 1990-2005."""
    days = pd.bdate_range("1990-01-01", "2005-12-31")
    market = pd.Series(np.random.default_rng(6).normal(0, 1.0, days.size), index=days)
    autumn = market.index.month.isin([8, 9, 10])
    keep = np.ones(days.size, dtype=bool)
    for year, n in ((1995, 40), (1997, 39)):
        rows = np.flatnonzero(autumn & (market.index.year == year))
        keep[rows[n:]] = False
    r = election_vol(market[keep])
    assert (r.elections, r.other_years, r.last_year) == (4, 11, 2005)


def _rate(values: list[float]) -> pd.Series:
    return pd.Series(values, index=pd.bdate_range("2001-01-01", periods=len(values)))


def test_easing_cycle_whose_median_peaks_the_day_before_it_falls():
    """The 30-day median can peak the very day before it is 0.25 pp below that peak: a rate of
    2, then 0, 4, fourteen pairs of 2 and 3, 4, 0 gives medians 2.0, 2.5, 3.0, 2.5 on the last
    four days. The peak is that 3.0, on the next-to-last day; with no five days below it yet,
    the first cut is the day the cycle is found."""
    r = _rate([2.0] * 60 + [0.0, 4.0] + [2.0, 3.0] * 14 + [4.0, 0.0])
    [(known, c)] = cycle_detections(r)
    assert known == r.size - 1
    assert (c.peak, c.peak_rate, c.first_cut) == (r.index[-2], 3.0, r.index[-1])
    assert c.hike_start == r.index[-3]  # the median first 0.2 above its low (2.0 -> 2.5)


def test_first_cut_is_a_run_of_five_days_that_ends_the_day_the_cycle_is_found():
    """Rates 0.15 below the peak on scattered days do not make a first cut; the first five in a
    row do, even when the fifth is the day the median crosses (15 of 30 days at 2.0)."""
    r = _rate([3.0] * 60 + [2.0, 2.0, 3.0] * 5 + [2.0] * 5)
    [(known, c)] = cycle_detections(r)
    assert known == r.size - 1
    assert (c.peak, c.peak_rate) == (r.index[19], 3.0)  # the first day with a median
    assert c.first_cut == r.index[-5]


def test_a_hike_of_exactly_three_quarters_of_a_point_starts_a_new_cycle():
    """After an easing to 2.0, a median that rises exactly HIKE_SIZE (to 2.75) and falls
    again is a second cycle; a rise 0.01 short of it is the first easing continuing."""
    for top, cycles in ((2.75, 2), (2.74, 1)):
        r = _rate([3.0] * 60 + [2.0] * 200 + [top] * 100 + [2.0] * 60)
        found = [c for _, c in cycle_detections(r)]
        assert len(found) == cycles, top
        if cycles == 2:
            assert found[1].peak_rate == 2.75 and found[1].peak > found[0].first_cut
    # the same in any time unit: pandas 3 builds these dates in microseconds, the store in ns
    ns = _rate([3.0] * 60 + [2.0] * 200 + [2.75] * 100 + [2.0] * 60)
    us = ns.copy()
    us.index = us.index.as_unit("us")
    assert [c for _, c in cycle_detections(us)] == [c for _, c in cycle_detections(
        ns.set_axis(ns.index.as_unit("ns")))]


def test_a_second_fall_from_the_same_peak_is_the_same_easing():
    """A peak of 5.0, then four days of 3.0 and one of 5.0 in turn (the median falls, but no
    five days in a row are below the peak, so the first cut is the day found), then months at
    4.0: a rise of 1.0 from the low, more than 180 days after that first cut, with the median
    still 0.25 below the same peak. That is the first easing continuing, not a second cycle."""
    r = _rate([5.0] * 60 + [3.0, 3.0, 3.0, 3.0, 5.0] * 10 + [4.0] * 170)
    [(known, c)] = cycle_detections(r)
    assert (c.peak, c.peak_rate, c.first_cut) == (r.index[19], 5.0, r.index[known])
    assert (r.index[-1] - c.first_cut).days > 180


def test_the_first_easing_needs_thirty_days_of_medians_to_compare_with():
    """The 30-day median exists from the 20th day; its 270-day peak needs 30 of them, so a cut
    that brings the median 0.25 below the peak on day 44 is found on day 48 (counted from 0),
    with the first cut where the rate first stayed below it (day 30)."""
    r = _rate([3.0] * 30 + [2.0] * 30)
    [(known, c)] = cycle_detections(r)
    assert known == 48 and c.first_cut == r.index[30]


def _daily(values: list[float]) -> pd.Series:
    """A rate on every calendar day, as DFF is."""
    return pd.Series(values, index=pd.date_range("2001-01-01", periods=len(values)))


@pytest.mark.parametrize("low, found", [(2.75, True), (2.76, False)])
def test_an_easing_starts_at_exactly_a_quarter_point_below_the_peak(low, found):
    assert bool(cycle_detections(_rate([3.0] * 60 + [low] * 60))) == found


def test_the_first_cut_counts_a_rate_exactly_015_below_the_peak():
    """Five days at 2.85 (3.0 - 0.15) before the fall to 2.0: the first cut is the first of
    them, not the first day at 2.0."""
    r = _rate([3.0] * 60 + [2.85] * 5 + [2.0] * 40)
    [(_, c)] = cycle_detections(r)
    assert c.first_cut == r.index[60]


def test_the_hiking_phase_starts_when_the_median_is_exactly_02_above_its_low():
    """Medians 2.0, then 2.1 for a day, then 2.2 (the low + 0.2) from day 75: the hike starts
    there, not when the median reaches 3.0."""
    r = _rate([2.0] * 60 + [2.2] * 40 + [3.0] * 60 + [2.0] * 60)
    [(_, c)] = cycle_detections(r)
    assert c.hike_start == r.index[75]


def test_the_peak_of_a_long_plateau_is_its_first_day():
    """Rates rising to 3.0, 400 days there, then 2.0: found on day 424; the peak is the day
    the median reached 3.0 (day 20), long before the 270 days the fall is measured against,
    not the first of those 270 days (day 155): the hiking phase ends when the hikes do."""
    r = _rate([2.0] * 10 + [3.0] * 400 + [2.0] * 40)
    [(known, c)] = cycle_detections(r)
    assert known == 424 and c.peak == r.index[20] and c.peak_rate == 3.0


def test_a_quick_hike_and_cut_is_a_new_easing_known_after_180_days():
    """An easing to 2.0, then within 180 days of its first cut a hike to 3.5 and a cut back to
    2.0: a second easing from the 3.5 peak, known the first day 180 days have passed, while the
    median is back at its low (the low it rose from, not the day it returned to it)."""
    r = _rate([3.0] * 60 + [2.0] * 40 + [3.5] * 40 + [2.0] * 120)
    (_, a), (known, b) = cycle_detections(r)
    assert (b.peak_rate, b.first_cut) == (3.5, r.index[140])
    assert (r.index[known] - a.first_cut).days >= 180 > (r.index[known - 1] - a.first_cut).days
    # on a calendar-daily rate (as DFF is) that day is exactly 180 days after the first cut
    r = _daily([3.0] * 60 + [2.0] * 40 + [3.5] * 40 + [2.0] * 120)
    (_, a), (known, b) = cycle_detections(r)
    assert (r.index[known] - a.first_cut).days == 180


def _weekly_fund(weeks: int = 150) -> tuple[pd.Series, pd.Series]:
    """Assets growing 0.2% a week give or take up to 0.5% at random (no week near a level break,
    no two windows alike), and a zero short rate, so every week's net flow is its change."""
    days = pd.date_range("2015-01-05", periods=weeks, freq="W-MON")
    growth = np.random.default_rng(11).uniform(-0.003, 0.007, weeks).tolist()
    assets, a = [], 1000.0
    for g in growth:
        a *= 1 + g
        assets.append(a)
    return pd.Series(assets, index=days), pd.Series(0.0, index=days)


def test_net_flows_of_a_small_fund_and_of_too_little_data():
    assets = pd.Series([0.5, 0.6, 0.45], index=pd.date_range("2024-01-01", periods=3, freq="W"))
    f = net_flows(assets, pd.Series(0.0, index=assets.index))
    assert f["flow"].tolist() == pytest.approx([0.1, -0.15])    # $0.5bn is a fund, not an error
    assert f["flow_pct"].tolist() == pytest.approx([0.2, -0.25])
    empty = net_flows(assets.iloc[:1], assets.iloc[:1])
    assert empty.empty
    assert list(empty.columns) == ["assets", "change", "interest", "flow", "flow_pct", "break"]
    with pytest.raises(AnalysisError, match="must be positive"):
        net_flows(assets.where(assets > 0.5, 0.0), assets)


def test_stickiness_by_hand_uses_only_weeks_up_to_as_of():
    assets, rate = _weekly_fund()
    flows = net_flows(assets, rate)
    pct, flow = flows["flow_pct"].tolist(), flows["flow"].tolist()
    k, w = 100, 4                                  # as of the 101st week of flows, 4-week windows
    assert not flows["break"].any()

    def window(end: int) -> float:                 # the w weeks ending at row ``end``
        return math.prod(1 + p for p in pct[end - w + 1:end + 1]) - 1

    now = window(k)
    past = [window(j) for j in range(w - 1, k - w + 1)]   # windows ending before this one
    value = (sum(p < now for p in past) + 0.5 * sum(p == now for p in past)) / len(past)
    hike = Cycle(flows.index[k - 10], flows.index[k], flows.index[k], 5.0)   # peak on as_of
    s = stickiness(flows, [hike], weeks=w, as_of=flows.index[k])
    assert s.as_of == flows.index[k] and s.windows == len(past) == 94
    assert s.value == pytest.approx(value) and 0.0 < s.value < 1.0
    assert s.flow_pct == pytest.approx(now)
    assert s.flow_bn == pytest.approx(sum(flow[k - w + 1:k + 1]))
    assert s.cycle == hike and s.hike_inflow_bn == pytest.approx(sum(flow[k - 9:k + 1]))
    assert s.retained == 1.0                       # nothing has happened since the peak yet
    short = stickiness(flows.iloc[:3], [hike], weeks=w)   # fewer weeks than one window
    assert short.as_of == flows.index[2] and short.windows == 0 and short.cycle is None
    assert math.isnan(short.value) and math.isnan(short.flow_bn) and math.isnan(short.flow_pct)
    one = stickiness(flows.iloc[:4], [], weeks=w)   # exactly one window: its flow, no rank yet
    assert one.windows == 0 and math.isnan(one.value)
    assert one.flow_bn == pytest.approx(sum(flow[:4]))
    assert one.flow_pct == pytest.approx(window(3))
    assert stickiness(flows.iloc[:0], [], weeks=w).as_of is pd.NaT


def test_asset_series_takes_months_only_before_the_first_week():
    """A month dated the day after the weekly series starts is not spliced in front of it."""
    from xlsmallcap.core.cash import asset_series

    weekly = pd.Series([10.0, 11.0, 12.0], index=pd.to_datetime(["2007-01-31", "2007-02-07",
                                                                 "2007-02-14"]))
    monthly = pd.Series([7.0, 8.0, 9.0], index=pd.to_datetime(["2006-12-01", "2007-01-30",
                                                               "2007-02-01"]))
    out = asset_series(weekly, monthly)
    assert list(out.index.strftime("%Y-%m-%d")) == ["2006-12-01", "2007-01-30", "2007-01-31",
                                                    "2007-02-07", "2007-02-14"]
    assert list(out) == [7.0, 8.0, 10.0, 11.0, 12.0]
    assert asset_series(weekly.iloc[:0], monthly).equals(monthly)
    assert list(asset_series(weekly, monthly, as_of="2007-02-10")) == [7.0, 8.0, 10.0, 11.0]


def test_a_cycle_found_after_as_of_is_not_known_on_as_of():
    """The cycle below peaks on its 20th day but is found only on its last: as of the day before,
    no cycle is known, although its peak lies long before."""
    from xlsmallcap.core.flows import policy_cycles

    r = _rate([3.0] * 60 + [2.0, 2.0, 3.0] * 5 + [2.0] * 5)
    assert policy_cycles(r, as_of=r.index[-2]) == []
    [c] = policy_cycles(r)
    assert c.peak == r.index[19] < r.index[-2]


def test_net_flows_as_of_a_day_end_on_the_last_week_up_to_it():
    assets, rate = _weekly_fund(20)
    as_of = assets.index[10] + pd.Timedelta(days=3)
    f = net_flows(assets, rate, as_of)
    assert f.index[-1] == assets.index[10] and f.equals(net_flows(assets.loc[:as_of], rate))


def test_the_money_fund_chart_before_the_weekly_data_ends_with_the_month_known():
    from xlsmallcap.core.cash import asset_series

    weekly = pd.Series(1000.0, index=pd.date_range("1990-01-01", periods=10, freq="W-MON"))
    monthly = pd.Series(np.arange(1.0, 121.0),
                        index=pd.date_range("1980-01-31", periods=120, freq="ME"))
    chart = asset_series(weekly, monthly, as_of="1985-06-30")
    assert chart.index[-1] == pd.Timestamp("1985-06-30") and chart.iloc[-1] == 66.0


def test_the_first_cut_uses_no_day_after_the_cycle_is_found():
    """On the day the cycle is found the rate has been 0.15 below the peak for four days in a
    row; the day after is the fifth. The first cut is the day found, whether or not the series
    holds that later day (a first cut found from a day not yet known would be look-ahead)."""
    lows = "LHLLLHLLLHLLHLHLHLLLL"
    r = _rate([3.0] * 60 + [2.0 if c == "L" else 3.0 for c in lows] + [2.0])
    [(known, c)] = cycle_detections(r)
    assert known == r.size - 2
    assert c.first_cut == r.index[known]
    assert cycle_detections(r.iloc[:-1]) == [(known, c)]


def test_stickiness_of_flat_flows_is_a_typical_year():
    """Every 52-week window with the same net flow (zero): the last one ties with all 57 past
    windows, and a tie counts half: 0.5."""
    idx = pd.date_range("2015-01-02", periods=160, freq="W-FRI")
    f = pd.DataFrame({"assets": 50.0, "flow": 0.0, "flow_pct": 0.0}, index=idx)
    s = stickiness(f, [])
    assert (s.value, s.windows, s.flow_bn, s.cycle) == (0.5, 57, 0.0, None)


def test_stickiness_keeps_a_small_funds_hiking_inflow_below_one_billion():
    """$0.6bn came in during the hiking phase and $0.15bn left after the peak: 75% retained."""
    idx = pd.date_range("2015-01-02", periods=120, freq="W-FRI")
    flow = np.zeros(120)
    flow[51:81] = 0.02          # the 30 weeks after hike_start up to the peak
    flow[81:96] = -0.01         # 15 weeks after the peak
    f = pd.DataFrame({"assets": 5.0, "flow": flow, "flow_pct": flow / 5.0}, index=idx)
    cycle = Cycle(hike_start=idx[50], peak=idx[80], first_cut=idx[90], peak_rate=5.0)
    s = stickiness(f, [cycle])
    assert s.cycle == cycle and s.hike_inflow_bn == pytest.approx(0.6)
    assert s.retained == pytest.approx((0.6 - 0.15) / 0.6)


def test_flow_effect_inside_easing_cycles_uses_only_those_weeks():
    """A mask that does not reach every week leaves the others out (they are not in a cycle),
    and the result says it was restricted."""
    rng = np.random.default_rng(9)
    idx = pd.date_range("2010-01-01", periods=300, freq="7D")
    flows = pd.DataFrame({"flow_pct": rng.normal(0, 0.004, 300)}, index=idx)
    rel = pd.Series(rng.normal(0, 0.01, 300), index=idx)
    cycle = Cycle(hike_start=idx[100], peak=idx[150], first_cut=idx[200], peak_rate=5.0)
    mask = easing_mask(idx[:230], [cycle], weeks=52)     # weeks 200-229 only, and no later
    got = flow_effect(flows, rel, mask=mask)
    x = -flows["flow_pct"].to_numpy()[200:230] * 100
    y = rel.to_numpy()[200:230]
    assert (got.n, got.in_easing) == (30, True)
    assert got.slope == pytest.approx(np.polyfit(x, y, 1)[0], rel=1e-9)
    assert flow_effect(flows, rel).in_easing is False


def test_election_test_with_exactly_three_years_of_each_kind():
    """Autumns of 2008-2012 and 2016 (2013-2015 have no August-October data): three election
    years and three others, the fewest the test answers with."""
    days = pd.bdate_range("2008-01-01", "2016-12-31")
    days = days[~((days.year >= 2013) & (days.year <= 2015) & days.month.isin([8, 9, 10]))]
    market = pd.Series(np.random.default_rng(6).normal(0, 1.0, days.size), index=days)
    r = election_vol(market)
    assert (r.elections, r.other_years, r.last_year) == (3, 3, 2016)
    assert math.isfinite(r.ratio) and 0 < r.p_value <= 1
