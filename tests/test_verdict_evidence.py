"""The verdict as evidence: calibration on noise, power on drift, no look-ahead, determinism.

Noise pairs are driftless random walks with realistic daily volatility (small 1.5%, large
1.2%, correlation 0.85), passed to the public Excel function as the user ranges Excel hands to
Python (first column dates, then prices).
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from conftest import shared
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xlsmallcap import api, udfs
from xlsmallcap.core.evidence import (
    MIN_DAYS,
    NULL_DAYS,
    STATES,
    WARM_UP,
    evidence_path,
    relative_log_returns,
    rotation_evidence,
)
from xlsmallcap.data.store import use_embedded_data
from xlsmallcap.excel import clear_memo

DAYS = 1100
CHOL = np.linalg.cholesky(np.array([[1.0, 0.85], [0.85, 1.0]]) * np.outer([0.015, 0.012],
                                                                          [0.015, 0.012]))


def pair(rng: np.random.Generator, n: int = DAYS, drift: float = 0.0):
    """(small, large) price series; ``drift`` is the small leg's extra log return a day."""
    r = rng.standard_normal((n, 2)) @ CHOL.T
    r[:, 0] += drift
    p = 100 * np.exp(np.vstack([np.zeros((1, 2)), np.cumsum(r, axis=0)]))
    idx = pd.bdate_range("2010-01-04", periods=n + 1)
    return pd.Series(p[:, 0], index=idx), pd.Series(p[:, 1], index=idx)


def as_range(s: pd.Series, header: str) -> list[list]:
    """What xlwings hands Python for a two-column range of dates and prices with a header."""
    return [["Date", header]] + [[d.to_pydatetime(), float(v)] for d, v in s.items()]


@pytest.fixture(scope="module")
def noise_verdicts():
    use_embedded_data()
    rng = np.random.default_rng(20261124)
    out = []
    for _ in range(300):
        small, large = pair(rng)
        out.append((udfs.ROTATION_VERDICT(as_range(small, "S"), as_range(large, "L")),
                    udfs.ROTATION_PVALUE(as_range(small, "S"), as_range(large, "L"))))
    return out


def test_noise_reads_rotation_at_most_5_percent(noise_verdicts):
    verdicts = [v for v, _ in noise_verdicts]
    assert all(v in STATES for v in verdicts), set(verdicts) - set(STATES)
    assert verdicts.count("Rotation") / len(verdicts) <= 0.05
    assert verdicts.count("Large-cap leadership") / len(verdicts) <= 0.05
    # most noise pairs are read as no lead at all
    assert verdicts.count("Bobbling") / len(verdicts) >= 0.5


def test_noise_p_values_are_calibrated(noise_verdicts):
    """Under the null the p-value is about uniform: neither liberal nor uselessly conservative."""
    p = np.array([q for _, q in noise_verdicts])
    assert 0.01 <= np.mean(p <= 0.05) <= 0.08
    assert 0.08 <= np.mean(p <= 0.20) <= 0.30
    assert 0.40 <= np.median(p) <= 0.65


def test_a_real_drift_is_found():
    """Small caps gaining 0.4% a day on large caps for the last 100 days: Rotation."""
    rng = np.random.default_rng(5)
    small, large = pair(rng)
    boost = np.exp(np.clip(np.arange(small.size) - (small.size - 100), 0, None) * 0.004)
    small = small * boost
    e = rotation_evidence(relative_log_returns(small, {"L": large}))
    assert e.verdict == "Rotation" and e.p_small < 0.05 and e.p_large > 0.9
    e = rotation_evidence(relative_log_returns(large, {"S": small}))
    assert e.verdict == "Large-cap leadership" and e.p_large < 0.05


def test_relative_log_returns_by_hand_up_to_as_of():
    days = pd.bdate_range("2024-07-15", periods=4)
    small = pd.Series([100.0, 110.0, 99.0, 120.0], index=days)
    spy = pd.Series([50.0, 50.0, 55.0, 50.0], index=days)
    qqq = pd.Series([10.0, 11.0, 11.0, 12.0], index=days)
    x = relative_log_returns(small, {"SPY": spy, "QQQ": qqq}, as_of=days[2])
    assert list(x.columns) == ["SPY", "QQQ"] and list(x.index) == [days[1], days[2]]
    assert x["SPY"].tolist() == pytest.approx([math.log(1.1), math.log(0.9) - math.log(1.1)])
    assert x["QQQ"].tolist() == pytest.approx([0.0, math.log(0.9)])


def test_too_little_history_says_so():
    small, large = pair(np.random.default_rng(1), n=MIN_DAYS - 40)
    out = udfs.ROTATION_VERDICT(as_range(small, "S"), as_range(large, "L"))
    assert out.startswith("#N/A") and "rotation test" in out
    e = rotation_evidence(relative_log_returns(small, {"L": large}))
    assert (e.as_of, e.verdict, e.since, e.held_all_warm_up, e.null_days) == \
        (small.index[-1], "", pd.NaT, False, 0)
    for f in ("p_small", "p_return", "p_persistence", "p_large", "p_short_up", "p_short_down",
              "lookback_z", "persistence", "breadth"):
        assert math.isnan(getattr(e, f)), f       # not a number that could be read as one

def test_path_from_the_first_day_dates_each_day_by_itself():
    # The first days have no evidence yet; each still answers for its own date, the first one
    # included (not for the last date of its month's group).
    small, large = pair(np.random.default_rng(2), n=60)
    x = relative_log_returns(small, {"L": large})
    path = evidence_path(x)
    assert [e.as_of for e in path] == list(x.index)
    assert {e.verdict for e in path} == {""}


def test_the_first_day_with_a_verdict_has_it_from_a_single_call_too():
    """The first verdict needs NULL_DAYS days for the null and then WARM_UP + 1 days of
    p-values: it comes on day NULL_DAYS + WARM_UP - 1 (counted from 0), and asking for that
    day alone, with no day to spare before it, gives the same evidence as the path."""
    small, large = pair(np.random.default_rng(4), n=NULL_DAYS + WARM_UP + 10)
    x = relative_log_returns(small, {"L": large})
    path = evidence_path(x)
    first = next(i for i, e in enumerate(path) if e.verdict)
    assert first == NULL_DAYS + WARM_UP - 1
    one = rotation_evidence(x.iloc[: first + 1])
    assert one.verdict in STATES and one == path[first]
    assert rotation_evidence(x.iloc[:first]).verdict == ""




def test_a_days_statistics_do_not_depend_on_where_the_days_asked_for_start():
    """R, P, Z and breadth of days 900-929 asked for alone equal the same days asked for from
    day 0 (the first NULL_DAYS - 1 of which have none), one value per day asked for."""
    from xlsmallcap.core.evidence import _day_statistics

    small, large = pair(np.random.default_rng(8), n=NULL_DAYS + 200)
    x = relative_log_returns(small, {"L": large}).to_numpy()
    whole, part = _day_statistics(x, 0, 930), _day_statistics(x, 900, 930)
    for name in ("R", "P", "Z", "breadth"):
        assert whole[name].size == 930 and part[name].size == 30
        assert np.isnan(whole[name][: NULL_DAYS - 1]).all()
        np.testing.assert_allclose(part[name], whole[name][900:], rtol=1e-12)
        assert np.isfinite(part[name]).all()


def test_the_two_short_p_values_split_the_null_between_them():
    """For a statistic no null path ties, #null >= z and #null <= z add up to the B = 1000
    paths, so the short-window p-values up and down add up to (B + 2) / (B + 1)."""
    small, large = pair(np.random.default_rng(9), n=NULL_DAYS + WARM_UP + 40)
    e = rotation_evidence(relative_log_returns(small, {"L": large}))
    assert e.verdict in STATES and 0 < e.p_short_up < 1
    assert e.p_short_up + e.p_short_down == pytest.approx(1002 / 1001, rel=1e-12)

@pytest.fixture(scope=shared)
def etf_returns():
    st_ = use_embedded_data()
    return relative_log_returns(st_.series("IWM"), {b: st_.series(b) for b in ("SPY", "QQQ",
                                                                                "DIA")})


@given(st.integers(min_value=MIN_DAYS + 10, max_value=5000), st.integers(0, 400))
@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # read only
def test_future_data_never_changes_a_past_verdict(etf_returns, cut, extra):
    """The verdict on day D from data to D equals the one from data to D + extra days."""
    x = etf_returns
    a = rotation_evidence(x.iloc[: cut + 1])
    later = evidence_path(x.iloc[: cut + 1 + extra], start=x.index[cut], end=x.index[cut])
    assert later == [a]       # exactly the day asked for, from start to end inclusive


@given(st.integers(min_value=MIN_DAYS + 10, max_value=5000), st.integers(0, 2000))
@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # read only
def test_verdict_does_not_depend_on_where_the_series_starts(etf_returns, cut, drop):
    """A fixed warm-up: cutting history older than the test needs changes nothing."""
    x = etf_returns.iloc[: cut + 1]
    keep = NULL_DAYS + WARM_UP + 30
    trimmed = x.iloc[max(0, min(drop, len(x) - keep)):]
    assert rotation_evidence(trimmed) == rotation_evidence(x)

def test_a_verdict_held_through_the_whole_warm_up_is_dated_by_its_first_day(etf_returns):
    """IWM vs SPY/QQQ/DIA on 2022-09-15: Bobbling on every day of the warm-up, so "since" is
    the warm-up's first day, WARM_UP trading days back (2022-03-16), and the reason says
    "since before" it."""
    from xlsmallcap import api

    x = etf_returns.loc[:"2022-09-15"]
    e = rotation_evidence(x)
    assert (e.verdict, e.held_all_warm_up) == ("Bobbling", True)
    assert e.since == x.index[-1 - WARM_UP] == pd.Timestamp("2022-03-16")
    assert "since before 2022-03-16" in api.rotation_score(as_of="2022-09-15").reason



def test_path_equals_single_calls(etf_returns):
    """The path reuses the previous day's run once two runs meet; every day must still equal
    a run from scratch (a single call)."""
    x = etf_returns.loc[:"2021-06-30"]
    path = {e.as_of: e for e in evidence_path(x, start="2020-06-01")}
    days = list(path)[::3] + [pd.Timestamp("2020-12-23"), pd.Timestamp("2021-06-30")]
    verdicts = set()
    for day in days:
        one = rotation_evidence(x.loc[:day])
        assert path[one.as_of] == one
        verdicts.add(one.verdict)
    assert len(verdicts) >= 3  # the window crosses several states


def test_same_inputs_same_p_value():
    use_embedded_data()
    first = udfs.ROTATION_PVALUE(None, None, "2024-07-16")
    clear_memo()
    assert udfs.ROTATION_PVALUE(None, None, "2024-07-16") == first
    assert 0 < first <= 1


@pytest.mark.parametrize("as_of, verdict, p_below", [
    ("2021-01-29", "Rotation", 0.05),              # the 2020-12 to 2021-03 run
    ("2023-05-31", "Large-cap leadership", None),  # 2023 mega-cap leadership
    ("2024-07-16", "Diversification", None),       # the July 2024 surge ...
    ("2024-08-30", "Bobbling", None),              # ... that faded
])
def test_named_episodes(as_of, verdict, p_below):
    use_embedded_data()
    detail = dict(udfs.ROTATION_DETAIL(None, None, as_of, None, None, False))
    assert detail["Verdict"] == verdict
    if p_below is not None:
        assert detail["p-value, small caps lead"] < p_below
    if verdict == "Large-cap leadership":
        assert detail["p-value, large caps lead"] < 0.05
    assert detail["Reason"].startswith(verdict)
    assert isinstance(detail["Verdict since"], dt.datetime)


def test_rotation_detail_labels_carry_their_values():
    use_embedded_data()
    rows = udfs.ROTATION_DETAIL(None, None, "2021-01-29", None, None, True)
    assert rows[0] == ["Component", "Value"]
    d = dict(rows[1:])
    assert d["Verdict"] == "Rotation"
    assert d["Null sample, days"] == NULL_DAYS
    assert d["Null sample ends"] == dt.datetime(2020, 12, 31)
    assert d["What would make it a Rotation"].startswith("holds until p rises to 0.15")
    assert 0 < d["p-value, small caps lead"] < 0.05 < 0.95 < d["p-value, large caps lead"]
    assert math.isclose(d["Benchmarks beaten"], 3) and math.isclose(d["Benchmarks"], 3)


@pytest.mark.parametrize("as_of", ["2021-01-29", "2024-07-16"])
def test_the_small_cap_p_value_is_the_larger_of_its_two_tests(as_of):
    """Small caps lead beyond chance only if both the return and the persistence test say so:
    ``p_small = max(p_return, p_persistence)``, each a p-value of its own."""
    use_embedded_data()
    e = api.rotation_score(as_of=as_of).evidence
    assert e.p_small == max(e.p_return, e.p_persistence)
    assert min(e.p_return, e.p_persistence) > 0 and e.p_return != e.p_persistence


def test_pvalue_side_is_checked():
    use_embedded_data()
    assert udfs.ROTATION_PVALUE(None, None, None, "both") == \
        "#VALUE! side must be one of small, large (got 'both')"


def test_a_flat_stretch_gives_no_runtime_warning():
    """Small and large caps moving as one for the last three years (zero spread, zero
    deviation): the statistics are undefined and the verdict says so, without numpy's
    RuntimeWarnings on the terminal of ``xlsmallcap report``."""
    import warnings

    days = 2000
    v = np.random.default_rng(1).normal(0, 0.01, days)
    v[days - NULL_DAYS:] = 0.0   # the last day's window is flat; the null's (a month back) is not
    x = pd.DataFrame({"L": v}, index=pd.bdate_range("2010-01-01", periods=days))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        e = rotation_evidence(x)
    assert e.verdict == "" and math.isnan(e.p_small) and math.isnan(e.lookback_z)
    assert rotation_evidence(x.iloc[:-30]).verdict != ""   # before the flat stretch: a verdict
