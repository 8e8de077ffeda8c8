"""Each metric's answer on degenerate input, as its docstring states it: empty data, too little
data, arguments that contradict each other. A refusal names what is wrong; an empty answer is
empty (or NaN), never a number made up from nothing."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from xlsmallcap.core.base_rate import base_rate
from xlsmallcap.core.evidence import rotation_evidence
from xlsmallcap.core.flows import FlowEffect, easing_cycles
from xlsmallcap.core.frame import AnalysisError
from xlsmallcap.core.history import history
from xlsmallcap.core.relative import relative_strength
from xlsmallcap.core.risk import max_drawdown
from xlsmallcap.core.rotation import rotation
from xlsmallcap.core.track_record import stability
from xlsmallcap.data.csvio import csv_to_frame
from xlsmallcap.data.publication import publication_dates
from xlsmallcap.data.snapshot import load_group
from xlsmallcap.data.store import use_embedded_data
from xlsmallcap.data.xlsx import write_table

DAYS = pd.bdate_range("2024-01-01", periods=10)
PRICES = pd.Series(np.linspace(100.0, 110.0, 10), index=DAYS)


def test_a_sub_window_longer_than_the_horizon_is_refused():
    with pytest.raises(AnalysisError) as info:
        base_rate(PRICES.pct_change().dropna(), horizon=10, sub_window=11)
    assert str(info.value) == "sub_window must be <= horizon (got 11 > 10)"


@pytest.mark.parametrize("kw, message", [
    ({"lookback": 0}, "lookback must be a whole number of trading days >= 1 (got 0)"),
    ({"sub_window": 2.5}, "sub_window must be a whole number of trading days >= 1 (got 2.5)"),
])
def test_persistence_names_the_window_that_is_wrong(kw, message):
    from xlsmallcap.core.relative import persistence

    with pytest.raises(AnalysisError) as info:
        persistence(PRICES, PRICES, **kw)
    assert str(info.value) == message


def _window_calls():
    from xlsmallcap.core.flows import stickiness
    from xlsmallcap.core.quadrant import quadrant_trail
    from xlsmallcap.core.rates import rate_sensitivity
    from xlsmallcap.core.relative import (
        relative_performance,
        relative_strength,
        rolling_relative_performance,
        total_return,
    )
    from xlsmallcap.core.risk import risk
    from xlsmallcap.core.rotation import rotation

    p, r = PRICES, PRICES.pct_change().dropna()
    flows = pd.DataFrame({"assets": 100.0, "flow": 1.0, "flow_pct": 0.01}, index=DAYS)
    return {
        "surge_days": lambda v: base_rate(r, surge_days=v),
        "horizon": lambda v: base_rate(r, horizon=v),
        "sub_window": lambda v: base_rate(r, sub_window=v),
        "weeks": lambda v: stickiness(flows, [], weeks=v),
        "ratio_window": lambda v: quadrant_trail(p, p, ratio_window=v),
        "momentum_window": lambda v: quadrant_trail(p, p, momentum_window=v),
        "window (rates)": lambda v: rate_sensitivity(p, p, {"R": p}, window=v),
        "step": lambda v: rate_sensitivity(p, p, {"R": p}, step=v),
        "window (relative)": lambda v: relative_performance(p, p, v),
        "window (total)": lambda v: total_return(p, v),
        "window (rolling)": lambda v: rolling_relative_performance(p, p, v),
        "ma_window": lambda v: relative_strength(p, p, ma_window=v),
        "window (risk)": lambda v: risk(p, p, window=v),
        "lookback": lambda v: rotation(p, {"SPY": p}, p, lookback=v),
        "short_window": lambda v: rotation(p, {"SPY": p}, p, short_window=v),
    }


@pytest.mark.parametrize("arg", list(_window_calls()))
def test_every_window_argument_of_the_core_is_named_when_it_is_wrong(arg):
    """0 is never a window: the message names the argument, its unit and the least allowed."""
    name = arg.split(" ")[0]
    unit = "weeks" if name == "weeks" else "trading days"
    least = 2 if arg in ("horizon", "ratio_window", "window (rates)", "window (risk)") else 1
    with pytest.raises(AnalysisError) as info:
        _window_calls()[arg](0)
    assert str(info.value) == f"{name} must be a whole number of {unit} >= {least} (got 0)"


def test_the_base_rate_says_which_surge_and_horizon_it_used():
    r = base_rate(PRICES.pct_change().dropna(), surge_days=3, threshold=0.02, horizon=4,
                  sub_window=2)
    assert (r.surge_days, r.threshold, r.horizon) == (3, 0.02, 4)


def test_history_interval_must_be_one_of_three():
    with pytest.raises(AnalysisError) as info:
        history(PRICES, None, None, interval=3)
    assert str(info.value) == "interval must be 0, 1 or 2 (got 3)"


def test_relative_strength_after_the_last_date_is_empty():
    out = relative_strength(PRICES, PRICES * 2, ma_window=2, start="2025-01-01")
    assert out.empty and list(out.columns) == ["rs", "rs_ma"]


def test_drawdown_of_nothing_is_nan_and_of_a_rise_is_zero():
    assert math.isnan(max_drawdown(np.array([])))
    assert max_drawdown(np.array([1.0, 2.0, 3.0])) == 0.0
    assert max_drawdown(np.array([100.0, 50.0, 120.0, 90.0])) == pytest.approx(-0.5)


def test_rotation_without_benchmarks_is_refused():
    with pytest.raises(AnalysisError) as info:
        rotation(PRICES, {}, pd.Series(dtype="float64"))
    assert str(info.value) == "benchmarks must name at least one large-cap series"


def test_evidence_without_returns_is_refused():
    with pytest.raises(ValueError, match="^no relative returns$"):
        rotation_evidence(pd.DataFrame({"SPY": []}, index=pd.DatetimeIndex([])))


def test_a_null_from_a_flat_history_gives_no_verdict():
    """Two flat years and more (no variance to resample): no null, no verdict, NaN p-values."""
    x = pd.DataFrame({"SPY": np.zeros(1200)}, index=pd.bdate_range("2015-01-01", periods=1200))
    e = rotation_evidence(x)
    assert e.verdict == "" and math.isnan(e.p_small) and e.null_days == 0


def test_stability_of_no_verdicts():
    changes, run, days = stability(pd.Series([], dtype=object))
    assert math.isnan(changes) and math.isnan(run) and days == 0


def test_easing_cycles_without_flows_are_none():
    flows = pd.DataFrame({"flow": [1.0], "flow_pct": [0.01], "assets": [100.0]},
                         index=pd.to_datetime(["2024-07-17"]))
    assert easing_cycles(flows, [], as_of="2024-07-01") == []


def test_a_flow_effect_without_enough_weeks_says_so():
    nan = float("nan")
    e = FlowEffect(nan, nan, nan, nan, nan, nan, 2, 0, False)
    assert e.answer == "not enough weeks to tell" and not e.significant


def test_stored_text_with_dates_out_of_order_is_refused():
    with pytest.raises(ValueError, match="^dates must be unique and ascending$"):
        csv_to_frame(b"date,X\n2024-07-16,1\n2024-07-15,2\n")
    with pytest.raises(ValueError, match="^dates must be unique and ascending$"):
        csv_to_frame(b"date,X\n2024-07-16,1\n2024-07-16,2\n")


def test_stored_text_with_dates_in_another_layout_is_refused():
    # what frame_to_csv writes is ISO; a date pandas could guess (month first) is not read
    assert csv_to_frame(b"date,X\n2024-07-16,1\n").index[0] == pd.Timestamp("2024-07-16")
    for text in (b"date,X\n07/16/2024,1\n", b"date,X\n16.07.2024,1\n"):
        with pytest.raises(ValueError):
            csv_to_frame(text)


def test_the_embedded_data_store_is_an_empty_folder_named_for_the_product(monkeypatch):
    import xlsmallcap.data.store as store_mod

    monkeypatch.setattr(store_mod, "_DEFAULT", store_mod._DEFAULT)   # put back afterwards
    st = use_embedded_data()
    assert st.cache_dir.name.startswith("xlsmallcap-embedded-")
    assert list(st.cache_dir.iterdir()) == [] and st.source("IWM") == "snapshot"


def test_an_unknown_publication_rule_is_named():
    with pytest.raises(ValueError) as info:
        publication_dates("weekly_someday", pd.DatetimeIndex(["2024-07-16"]))
    assert str(info.value).startswith("unknown publication rule 'weekly_someday' (known: ")


def test_an_unknown_snapshot_group_is_a_key_error():
    with pytest.raises(KeyError):
        load_group("nope")


def test_an_export_table_must_match_its_dates_and_columns(tmp_path):
    dates = np.array(["2024-07-15", "2024-07-16"], dtype="datetime64[D]")
    with pytest.raises(ValueError) as info:
        write_table(tmp_path / "t.xlsx", ["a", "b"], dates, np.zeros((2, 3)))
    assert str(info.value) == "values must be 2 x 2, not (2, 3)"
    assert not (tmp_path / "t.xlsx").exists()


def test_a_hiking_phase_that_began_before_the_flows_has_no_inflow_figure():
    from xlsmallcap.core.flows import Cycle

    weeks = pd.date_range("2024-01-03", periods=20, freq="7D")
    flows = pd.DataFrame({"flow": 1.0, "flow_pct": 0.01, "assets": 100.0}, index=weeks)
    before = Cycle(pd.Timestamp("2023-06-01"), weeks[3], weeks[5], 5.0)
    inside = Cycle(weeks[1], weeks[3], weeks[5], 5.0)
    (a,), (b,) = easing_cycles(flows, [before]), easing_cycles(flows, [inside])
    assert math.isnan(a.hike_inflow_bn) and math.isnan(a.hike_inflow_pct)
    assert b.hike_inflow_bn == pytest.approx(2.0)       # the weeks after weeks[1] to weeks[3]


def test_stored_gzip_carries_no_timestamp():
    """Equal input, equal bytes: the gzip header's time field is zero (bytes 4-7)."""
    from xlsmallcap.data.csvio import gzip_bytes

    out = gzip_bytes(b"date,X\n2024-07-16,1\n")
    assert out[4:8] == b"\0\0\0\0" and out == gzip_bytes(b"date,X\n2024-07-16,1\n")


@pytest.mark.parametrize("last, elections, finite", [(2012, 3, True), (2011, 2, False)])
def test_election_volatility_needs_three_election_years(last, elections, finite):
    from xlsmallcap.core.election import election_vol

    idx = pd.bdate_range("2001-01-01", f"{last}-12-31")
    market = pd.Series(np.random.default_rng(7).normal(0, 1, idx.size), index=idx)
    e = election_vol(market)
    assert e.elections == elections and e.other_years == last - 2000 - elections
    assert math.isfinite(e.ratio) is finite and math.isfinite(e.p_value) is finite


def test_risk_reports_its_window():
    from xlsmallcap.core.risk import risk

    idx = pd.bdate_range("2024-01-01", periods=40)
    rng = np.random.default_rng(2)
    small = pd.Series(100 * np.exp(np.cumsum(rng.normal(0, 0.01, 40))), index=idx)
    large = pd.Series(100 * np.exp(np.cumsum(rng.normal(0, 0.01, 40))), index=idx)
    assert risk(small, large, window=20).window == 20


def test_an_unknown_series_is_a_key_error_carrying_the_key():
    from xlsmallcap.data.errors import UnknownSeriesError

    try:
        raise UnknownSeriesError("NOPE", ["IWM", "SPY"])
    except KeyError as exc:          # what code written for pandas or dicts catches
        assert exc.args == ("NOPE",)
        assert str(exc) == "unknown ticker or series 'NOPE'; available offline: IWM, SPY"


def test_a_zero_price_after_prices_below_one_is_the_one_named():
    from xlsmallcap.data.validate import RefusedDownload, check_series

    s = pd.Series([0.5, 0.7, 0.0, 0.6], index=pd.bdate_range("2024-01-01", periods=4))
    with pytest.raises(RefusedDownload) as info:
        check_series("PENNY", "price", s)
    assert str(info.value) == ("PENNY: the answer has a price of 0 on 2024-01-03; prices must "
                               "be positive")


def test_the_catalog_tables_are_named_as_the_module_names_them():
    from xlsmallcap.data import catalog

    t = catalog.tables()
    assert set(t) == {"CATALOG", "BY_ID", "GROUPS"}
    assert t["BY_ID"]["IWM"] == catalog.BY_ID["IWM"] and t["CATALOG"] == catalog.CATALOG
    assert t["GROUPS"] == catalog.GROUPS and len(set(t["GROUPS"])) == len(t["GROUPS"])


def test_a_message_of_exactly_100_characters_is_kept_whole():
    from xlsmallcap.excel import _short

    assert _short("x" * 100) == "x" * 100
    assert _short("word " * 20 + "more") == ("word " * 19).rstrip() + "..."


def test_persistence_defaults_to_three_months_of_one_month_windows():
    from xlsmallcap.core.relative import persistence

    rng = np.random.default_rng(8)
    days = pd.bdate_range("2023-01-02", periods=200)
    s, b = (pd.Series(100 * np.exp(np.cumsum(rng.normal(0, 0.01, 200))), index=days)
            for _ in range(2))
    assert persistence(s, b) == persistence(s, b, 63, 21) != persistence(s, b, 64, 21)


def test_risk_is_dated_by_its_last_common_day():
    from xlsmallcap.core.risk import risk

    assert risk(PRICES * 1.1, PRICES, window=3).as_of == DAYS[-1]
    assert risk(PRICES * 1.1, PRICES, window=3, as_of=DAYS[5]).as_of == DAYS[5]
    short = risk(PRICES * 1.1, PRICES, window=20)        # 10 days: too few for 20 returns
    assert short.as_of == DAYS[-1] and math.isnan(short.vol_ratio) and short.window == 20


def test_a_base_rate_without_enough_smb_is_dated_by_its_last_day_or_by_none():
    smb = PRICES.pct_change().dropna()
    few = base_rate(smb, surge_days=20)                  # 9 days: too few for a 20-day surge
    assert (few.as_of, few.history_end, few.events) == (DAYS[-1], DAYS[-1], 0)
    assert math.isnan(few.share) and math.isnan(few.unconditional)
    none = base_rate(smb, as_of="2023-12-29")            # before the first SMB day
    assert none.as_of is pd.NaT and none.history_end is pd.NaT and none.events == 0


def test_a_slope_from_three_pairs_is_estimated_and_from_two_is_not():
    from xlsmallcap.core.stats import hac_slope

    est = hac_slope(np.array([0.0, 1.0, 3.0]), np.array([0.0, 1.0, 2.0]))
    assert est.value == pytest.approx(1.5) and est.n == 3
    assert math.isnan(hac_slope(np.array([0.0, 1.0]), np.array([0.0, 1.0])).value)


def test_a_written_series_keeps_its_description(tmp_path):
    from xlsmallcap.data.store import DataStore

    st = DataStore(cache_dir=tmp_path / "cache")
    with st._locked():
        st._write("MYFUND", PRICES, "csv", "my fund, daily closes")
    assert DataStore(cache_dir=tmp_path / "cache").describe("MYFUND") == "my fund, daily closes"


def test_base_rate_without_any_surge_counts_no_success():
    """A factor that never surged 3% in 5 days: no events, no successes, no share."""
    days = pd.bdate_range("2000-01-03", periods=800)
    smb = pd.Series(0.0, index=days)                       # flat: never a surge
    r = base_rate(smb)
    assert (r.events, r.successes) == (0, 0)
    assert math.isnan(r.share) and math.isnan(r.low) and math.isnan(r.high)


def test_risk_against_a_flat_benchmark_has_no_beta_and_no_warning():
    import warnings

    from xlsmallcap.core.risk import risk

    days = pd.bdate_range("2024-01-01", periods=100)
    small = pd.Series(100 * np.exp(np.cumsum(np.random.default_rng(3).normal(0, 0.01, 100))),
                      index=days)
    flat = pd.Series(50.0, index=days)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = risk(small, flat)
    assert math.isnan(r.beta)


def test_small_caps_moving_exactly_with_large_caps_have_no_rate_sensitivity_and_no_warning():
    """The same prices on both legs: no relative move, so the slope on rate changes is 0 and
    the correlation undefined (NaN), computed without a RuntimeWarning."""
    import warnings

    from xlsmallcap.core.rates import rate_sensitivity

    days = pd.bdate_range("2024-01-01", periods=300)
    rng = np.random.default_rng(8)
    prices = pd.Series(100 * np.exp(np.cumsum(rng.normal(0, 0.01, 300))), index=days)
    rate = pd.Series(np.round(4 + np.cumsum(rng.normal(0, 0.05, 300)), 2), index=days)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        [r] = rate_sensitivity(prices, prices.copy(), {"R": rate}, window=252)
    assert (r.beta, r.observations) == (0.0, 50) and math.isnan(r.correlation)  # 5-day steps


def test_prices_read_cell_by_cell_are_cleaned_like_floats():
    """A script that builds prices from cells (numbers and blanks, object dtype) gets the same
    pair as from floats."""
    from xlsmallcap.core.frame import aligned

    days = pd.bdate_range("2024-07-15", periods=4)
    cells = pd.Series([10.0, None, 11, 12.5], index=days, dtype=object)
    other = pd.Series([5.0, 5.0, 6.0, 7.0], index=days)
    assert aligned(cells, other)[0].tolist() == [10.0, 11.0, 12.5]


def test_breadth_is_unknown_not_zero_without_enough_history():
    """40 common days cannot give a 63-day return: no benchmark is beaten, and the share
    beaten is unknown (NaN), not 0 of 2."""
    from xlsmallcap.core.rotation import rotation

    d = pd.bdate_range("2024-01-01", periods=40)
    small = pd.Series(np.linspace(100, 120, 40), index=d)
    large = pd.Series(np.linspace(100, 110, 40), index=d)
    r = rotation(small, {"SPY": large, "QQQ": large}, large)
    assert (r.beaten, r.benchmarks) == (0, 2) and math.isnan(r.breadth)


def test_rotation_of_series_without_a_common_day_says_so():
    from xlsmallcap.core.rotation import rotation

    a = pd.Series([1.0, 2.0], index=pd.to_datetime(["2024-01-02", "2024-01-03"]))
    b = pd.Series([1.0, 2.0], index=pd.to_datetime(["2024-02-02", "2024-02-05"]))
    with pytest.raises(AnalysisError, match="^the series share no dates up to as_of$"):
        rotation(a, {"B": b}, b)
