"""Figures checked against values computed independently from the raw CSVs, for named dates.

The reference values here use only the csv and math modules on extracts of the files in
shared/data/raw committed under tests/fixtures (so these tests run anywhere), never the
package's loaders.
"""

from __future__ import annotations

import math
import statistics

import pytest
from conftest import raw_rows

from xlsmallcap import api


def closes(ticker: str) -> dict[str, float]:
    return {row["date"]: float(row["c"]) for row in raw_rows(f"prices/{ticker}.csv")}


def window_dates(prices: dict[str, float], as_of: str, n: int) -> list[str]:
    days = sorted(d for d in prices if d <= as_of)
    return days[-(n + 1):]


@pytest.mark.parametrize("bench", ["SPY", "QQQ", "DIA"])
@pytest.mark.parametrize("as_of, window", [("2024-07-16", 4), ("2024-07-16", 63),
                                           ("2021-03-12", 63), ("2016-12-09", 21),
                                           ("2023-10-31", 126)])
def test_rel_perf_matches_raw(bench, as_of, window):
    s, b = closes("IWM"), closes(bench)
    d = window_dates(s, as_of, window)
    expected = (s[d[-1]] / s[d[0]]) / (b[d[-1]] / b[d[0]]) - 1
    assert api.rel_perf(window, "IWM", [bench], as_of)[bench] == pytest.approx(expected, rel=1e-12)


def test_rel_perf_series_for_scripts_matches_raw():
    """The rolling series a script charts: every value from the raw closes, named for what it
    is, from ``start`` on and nothing after ``as_of``."""
    s, b = closes("IWM"), closes("QQQ")
    got = api.rel_perf_series(21, "IWM", "QQQ", as_of="2024-07-16", start="2024-06-03")
    days = [d for d in sorted(s) if d <= "2024-07-16" and d in b]
    want = {d: (s[d] / s[days[i - 21]]) / (b[d] / b[days[i - 21]]) - 1
            for i, d in enumerate(days) if d >= "2024-06-03"}
    assert got.name == "relative_performance"
    assert [d.strftime("%Y-%m-%d") for d in got.index] == list(want)
    assert got.tolist() == pytest.approx(list(want.values()), rel=1e-12)


@pytest.mark.parametrize("start, end", [("2024-07-01", "2024-07-31"), ("2025-01-02", "2025-05-30")])
def test_french_size_pair_matches_raw(start, end):
    """The French pair behind the long track record: small = deciles 1-3 mixed equally each
    day, large = decile 10, compounded from the raw daily percent returns."""
    small, large = api.ff_size_pair()
    grow_s = grow_l = 1.0
    for row in raw_rows("macro/Portfolios_Formed_on_ME_Daily.csv"):
        day = f"{row['Date'][:4]}-{row['Date'][4:6]}-{row['Date'][6:]}"
        if start < day <= end:
            grow_s *= 1 + statistics.fmean(float(row[c]) for c in ("Lo 10", "2-Dec", "3-Dec")) / 100
            grow_l *= 1 + float(row["Hi 10"]) / 100
    assert small.loc[end] / small.loc[start] == pytest.approx(grow_s, rel=1e-12)
    assert large.loc[end] / large.loc[start] == pytest.approx(grow_l, rel=1e-12)
    assert (small.name, large.name) == ("FF small (deciles 1-3)", "FF large (decile 10)")


def test_rel_perf_provenance_week():
    got = api.rel_perf(4, as_of="2024-07-16", benchmarks=["SPY"])["SPY"]
    assert got == pytest.approx(1.1044 / 1.0063 - 1, abs=2e-4)


def _persistence(s, b, as_of, lookback=63, sub=21):
    days = [d for d in sorted(s) if d <= as_of and d in b]
    hits = 0
    for i in range(len(days) - lookback, len(days)):
        t, t0 = days[i], days[i - sub]
        hits += (s[t] / s[t0]) / (b[t] / b[t0]) - 1 > 0
    return hits / lookback


@pytest.mark.parametrize("as_of", ["2016-12-09", "2021-01-29", "2023-10-31", "2024-07-16",
                                   "2025-01-31"])
def test_rotation_components_match_raw(as_of):
    s = closes("IWM")
    benches = {b: closes(b) for b in ("SPY", "QQQ", "DIA")}
    pers = statistics.fmean(_persistence(s, b, as_of) for b in benches.values())
    rel63 = []
    rel21 = []
    for b in benches.values():
        d = window_dates(s, as_of, 63)
        rel63.append((s[d[-1]] / s[d[0]]) / (b[d[-1]] / b[d[0]]) - 1)
        d = window_dates(s, as_of, 21)
        rel21.append((s[d[-1]] / s[d[0]]) / (b[d[-1]] / b[d[0]]) - 1)
    q = benches["QQQ"]
    d = window_dates(q, as_of, 21)
    growth = q[d[-1]] / q[d[0]] - 1
    # funding: 1 - percentile of the 13-week money-fund net flow (checked against the raw
    # H.6 and DGS3MO files in test_flows.py); QQQ's return is kept as a figure of its own
    r = api.rotation_score(as_of=as_of)
    funding = 1 - api.cash(as_of, 13).value
    beaten = sum(r > 0 for r in rel63) / 3
    mag = min(1.0, max(0.0, statistics.fmean(rel63) / 0.10))
    score = 100 * (0.45 * pers + 0.25 * mag + 0.15 * beaten + 0.15 * funding)
    assert r.growth_return == pytest.approx(growth, rel=1e-10)
    assert r.persistence == pytest.approx(pers, abs=1e-12)
    assert r.rel_lookback == pytest.approx(statistics.fmean(rel63), rel=1e-10)
    assert r.rel_short == pytest.approx(statistics.fmean(rel21), rel=1e-10)
    assert r.funding == pytest.approx(funding, abs=1e-12)
    assert r.score == pytest.approx(score, rel=1e-10)
    # The verdict's test statistics, from the raw closes: persistence (63 days, 21-day
    # sub-window) and the 63-day relative log return scaled by 756-day daily volatility.
    e = r.evidence
    assert e.persistence == pytest.approx(pers, abs=1e-12)
    zs = []
    for b in benches.values():
        days = [d for d in sorted(s) if d <= as_of and d in b][-757:]
        x = [math.log(s[days[i + 1]] / s[days[i]]) - math.log(b[days[i + 1]] / b[days[i]])
             for i in range(756)]
        zs.append(sum(x[-63:]) / (statistics.stdev(x) * math.sqrt(63)))
    assert e.lookback_z == pytest.approx(statistics.fmean(zs), rel=1e-9)
    assert e.breadth == pytest.approx(beaten, abs=1e-12)


EPISODES = {
    "2016-12-09": {"Emerging rotation", "Diversification"},   # post-election surge, young
    "2017-03-24": {"Large-cap leadership", "Bobbling"},       # ... that faded
    "2020-12-31": {"Rotation"},                               # the sustained 2020-21 run
    "2021-01-29": {"Rotation"},
    "2021-03-12": {"Rotation"},
    "2023-05-31": {"Large-cap leadership"},                   # 2023: mega-cap leadership
    "2024-07-16": {"Diversification"},                        # the surge in question
    "2024-08-30": {"Bobbling"},                               # it faded within weeks
    "2025-01-31": {"Bobbling", "Large-cap leadership"},       # post-election 2024 fade
}


@pytest.mark.parametrize("as_of", sorted(EPISODES))
def test_episode_verdicts_agree_with_history(as_of):
    assert api.rotation_score(as_of=as_of).verdict in EPISODES[as_of]


def test_volatility_matches_raw():
    s, b = closes("IWM"), closes("SPY")
    d = window_dates(s, "2024-07-16", 63)
    xs = [math.log(s[d[i + 1]] / s[d[i]]) for i in range(63)]
    ys = [math.log(b[d[i + 1]] / b[d[i]]) for i in range(63)]
    vs, vl = statistics.stdev(xs), statistics.stdev(ys)
    beta = statistics.covariance(xs, ys) / statistics.variance(ys)
    peak, mdd = 0.0, 0.0
    for day in d:
        peak = max(peak, s[day])
        mdd = min(mdd, s[day] / peak - 1)
    r = api.vol(as_of="2024-07-16")
    assert r.vol_ratio == pytest.approx(vs / vl, rel=1e-10)
    assert r.vol_small == pytest.approx(vs * math.sqrt(252), rel=1e-10)
    assert r.beta == pytest.approx(beta, rel=1e-9)
    assert r.max_drawdown == pytest.approx(mdd, rel=1e-12)
    assert r.vol_ratio > 1.5  # small caps are the more volatile leg


@pytest.mark.parametrize("as_of", ["2023-06-30", "2023-12-29", "2024-06-28", "2024-12-31",
                                   "2025-06-30", "2025-12-31"])
def test_cash_is_sticky_through_2023_2025(as_of):
    # net inflows into retail money funds above most past years through the cuts
    assert api.cash(as_of=as_of).value >= 0.6


@pytest.mark.parametrize("as_of", ["2009-12-31", "2010-06-30", "2010-12-31", "2011-03-31"])
def test_cash_is_not_sticky_when_money_funds_shrank(as_of):
    assert api.cash(as_of=as_of).value <= 0.4


def test_base_rate_matches_a_naive_loop():
    smb = [float(r["SMB"]) / 100 for r in raw_rows("macro/F-F_Research_Data_Factors_daily.csv")
           if r["Date"] <= "2024-05-31"]  # June's data came out at the end of July
    n, sd, hz, sw = len(smb), 5, 63, 21

    def comp(a, b):  # compounded return of smb[a:b]
        return math.prod(1 + x for x in smb[a:b]) - 1

    events, wins = [], 0
    for i in range(sd - 1, n):
        if comp(i - sd + 1, i + 1) >= 0.03 - 1e-12 and i + hz < n and \
                (not events or i - events[-1] >= hz):
            events.append(i)
    for i in events:
        fwd = comp(i + 1, i + 1 + hz)
        trailing = [comp(i + 1 + k - sw, i + 1 + k) > 0 for k in range(sw, hz + 1)]
        wins += fwd > 0 and sum(trailing) / len(trailing) >= 0.7
    b = api.base(as_of="2024-07-16")
    assert b.events == len(events) and b.successes == wins
    assert b.share == pytest.approx(wins / len(events))
    # today's surge: IWM vs SPY over 5 days (SMB of July 2024 was not public yet)
    iwm, spy = closes("IWM"), closes("SPY")
    d = window_dates(iwm, "2024-07-16", 5)
    surge = (iwm[d[-1]] / iwm[d[0]]) / (spy[d[-1]] / spy[d[0]]) - 1
    assert b.current_surge == pytest.approx(surge, rel=1e-9)
    assert b.history_end.strftime("%Y-%m-%d") == "2024-05-31"
    assert b.events > 30  # a real sample since 1926


@pytest.mark.parametrize("bench, as_of, start", [("SPY", "2024-07-16", "2024-01-02"),
                                                  ("QQQ", "2021-03-12", "2020-06-01"),
                                                  ("DIA", "2016-12-09", "2016-11-09")])
def test_relative_strength_line_matches_raw(bench, as_of, start):
    """The RS line: small / large, 100 on the first date shown; its 50-day mean uses the days
    before that date too, on the same scale."""
    s, b = closes("IWM"), closes(bench)
    days = [d for d in sorted(s) if d in b and d <= as_of]
    ratio = {d: s[d] / b[d] for d in days}
    shown = [d for d in days if d >= start]
    base = ratio[shown[0]]
    got = api.rs_line("IWM", bench, 50, as_of, start)
    assert [d.strftime("%Y-%m-%d") for d in got.index] == shown
    assert got["rs"].iloc[0] == pytest.approx(100.0, rel=1e-12)
    for d in (shown[1], shown[len(shown) // 2], shown[-1]):
        i = days.index(d)
        assert got.loc[d, "rs"] == pytest.approx(100 * ratio[d] / base, rel=1e-12)
        mean50 = statistics.fmean(ratio[x] for x in days[i - 49:i + 1])
        assert got.loc[d, "rs_ma"] == pytest.approx(100 * mean50 / base, rel=1e-12)
    # the first 49 common days (IWM starts in May 2000) have too little history for a mean
    early = api.rs_line("IWM", bench, 50, "2000-12-29")
    assert early["rs_ma"].iloc[:49].isna().all() and early["rs_ma"].iloc[49:].notna().all()
