"""Every Excel function driven with what Excel really sends, returning only what Excel takes."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from xlsmallcap import api, excel, udfs

FUNCTIONS = ["ROTATION_SCORE", "ROTATION_VERDICT", "ROTATION_DETAIL", "ROTATION_PVALUE", "REL_PERF",
             "REL_PERF_SERIES", "CASH_STICKINESS", "CASH_FLOWS", "EASING_CYCLES",
             "CASH_TO_SMALLCAPS", "ELECTION_VOL", "RATE_SENSITIVITY", "VOL_RATIO",
             "ROTATION_QUADRANT", "BASE_RATE", "XLSC_HISTORY", "DATA_STATUS", "CHART_SERIES"]

# Excel-shaped calls: floats for whole numbers, None for blanks, datetimes and serials for
# dates, 2-D lists for ranges, "#N/A" for error cells.
GOOD_CALLS = {
    "ROTATION_SCORE": [(), ("IWM", [["SPY"], ["QQQ"]], dt.datetime(2024, 7, 16), 63.0, 21.0),
                       (None, "SPY,QQQ", 45489.0)],
    "ROTATION_VERDICT": [(), (None, None, "2024-07-16", True)],
    "ROTATION_DETAIL": [(), ("IWM", None, "2021-01-29", None, None, False)],
    "ROTATION_PVALUE": [(), (None, "SPY", dt.datetime(2021, 1, 29), "large")],
    "REL_PERF": [(63.0,), (63.0, "IWM", "SPY"), (21.0, None, [["SPY", "DIA"]], "2024-07-16")],
    "REL_PERF_SERIES": [(), (63.0, "IWM", "QQQ", "2024-12-31", "2024-07-01", True)],
    "CASH_STICKINESS": [(), ("2010-06-30", 26.0), ("2024-07-16", None, "flow_bn")],
    "CASH_FLOWS": [(), (26.0, dt.datetime(2024, 7, 16), "pct")],
    "EASING_CYCLES": [(), ("2025-12-31", False)],
    "CASH_TO_SMALLCAPS": [(), ("IJR", "IWB", None, 4.0, "easing", "t")],
    "ELECTION_VOL": [(), ("2000-01-01", "p_value")],
    "RATE_SENSITIVITY": [(), (None, None, "2024-12-31", "DFF", 252.0),
                         (None, None, "2024-07-16", None, None, "significance")],
    "VOL_RATIO": [(), (None, None, None, None, "beta")],
    "ROTATION_QUADRANT": [(), ("IJR", "IWB", "2024-07-16")],
    "BASE_RATE": [(), ("2024-07-16", 5.0, "4%", 63.0, "events")],
    "XLSC_HISTORY": [("IWM", "2024-07-10", "2024-07-16"), ("^TNX", 45000.0, 45100.0, 2.0, 0.0)],
    "DATA_STATUS": [(), (False,)],
    "CHART_SERIES": [("rs",), ("relperf", "IJR", "IWB", "2024-07-16", 30.0),
                     ("mmf", None, None, "1990-01-31", 300.0), ("quadrant", None, None, None,
                                                                 13.0, False)],
}


def excel_safe(v) -> bool:
    if isinstance(v, list):
        return bool(v) and all(isinstance(r, list) and all(excel_safe(c) for c in r)
                               for r in v) or all(excel_safe(c) for c in v)
    if v is None or type(v) in (str, bool, dt.datetime):
        return True
    return type(v) is float and math.isfinite(v)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_good_calls_return_excel_values(name):
    f = getattr(udfs, name)
    for args in GOOD_CALLS[name]:
        out = f(*args)
        assert excel_safe(out), (name, args, out)
        assert not (isinstance(out, str) and out.startswith("#")), (name, args, out)


def test_values_equal_the_python_api():
    assert udfs.ROTATION_SCORE(None, None, "2024-07-16") == pytest.approx(
        api.rotation_score(as_of="2024-07-16").score)
    assert udfs.REL_PERF(63.0, None, "QQQ", dt.datetime(2024, 7, 16)) == pytest.approx(
        api.rel_perf(63, benchmarks=["QQQ"], as_of="2024-07-16")["QQQ"])
    assert udfs.CASH_STICKINESS(45489.0) == pytest.approx(api.cash(as_of="2024-07-16").value)
    assert udfs.ROTATION_VERDICT(None, None, "2024-07-16") == "Diversification"


def test_rel_perf_spills_headers_and_a_row():
    out = udfs.REL_PERF(63.0, None, "SPY,QQQ,DIA")
    assert out[0] == ["SPY", "QQQ", "DIA"] and len(out[1]) == 3
    assert udfs.REL_PERF(63.0, None, "SPY,QQQ,DIA", None, False) == [out[1]]
    # =REL_PERF(window) reads as one number: small caps against the S&P 500
    assert udfs.REL_PERF(63.0) == out[1][0] == udfs.REL_PERF(63.0, None, "SPY")


def test_dates_come_back_as_dates_with_a_header():
    out = udfs.XLSC_HISTORY("IWM", "2024-07-10", "2024-07-16")
    assert out[0] == ["Date", "Close"]
    assert out[1] == [dt.datetime(2024, 7, 10), pytest.approx(199.0031)]
    assert len(out) == 6
    weekly = udfs.XLSC_HISTORY("IWM", "2024-07-01", "2024-07-31", 1.0, 0.0, 1.0, 0.0)
    assert weekly[0][1] == dt.datetime(2024, 7, 5)  # Close first, then Date, as asked


def test_user_ranges_instead_of_tickers():
    """A Bloomberg user's own columns give the same figure as the stored tickers."""
    iwm = api.prices("IWM").loc["2024-01-01":"2024-07-16"]
    spy = api.prices("SPY").loc["2024-01-01":"2024-07-16"]
    small = [["Date", "IWM"]] + [[d.to_pydatetime(), float(v)] for d, v in iwm.items()]
    bench = [[d.to_pydatetime(), float(v)] for d, v in spy.items()] + [[None, None]] * 3
    got = udfs.REL_PERF(21.0, small, bench)
    assert got == pytest.approx(api.rel_perf(21, benchmarks=["SPY"], as_of="2024-07-16")["SPY"])
    # Two benchmarks side by side, named by a header row.
    both = [["Date", "SPY", "QQQ"]] + [
        [d.to_pydatetime(), float(v), float(api.prices("QQQ")[d])] for d, v in spy.items()]
    row = udfs.REL_PERF(21.0, small, both)
    assert row[0] == ["SPY", "QQQ"] and row[1][0] == pytest.approx(got)
    # Dates as COM hands them on Windows (time-zone aware, UTC): the same days, the same figure
    utc = [["Date", "IWM"]] + [[d.to_pydatetime().replace(tzinfo=dt.timezone.utc), float(v)]
                               for d, v in iwm.items()]
    assert udfs.REL_PERF(21.0, utc, "SPY", "2024-07-16") == pytest.approx(got, rel=1e-12)


BAD = [
    (udfs.REL_PERF, (-5.0,), "#VALUE! window must be a whole number of trading days >= 1 "
                             "(got -5)"),
    (udfs.REL_PERF, (2.5,), "(got 2.5)"),
    (udfs.REL_PERF, ("abc",), "(got 'abc')"),
    (udfs.REL_PERF, (None,), "#VALUE! window is required"),
    (udfs.REL_PERF, (1e9, None, "SPY"), "#NUM! window must be at most 1,000,000 trading days"),
    (udfs.REL_PERF, (63.0, "NOPE"), "#N/A small: unknown ticker 'NOPE' (see =DATA_STATUS())"),
    (udfs.REL_PERF, (63.0, None, None, "#N/A"), "#N/A as_of is an error cell (#N/A)"),
    (udfs.REL_PERF, (63.0, "#FUTURE_ERROR!"),                  # an error code Excel may add
     "#VALUE! small is an error cell ('#FUTURE_ERROR!')"),
    (udfs.REL_PERF, (63.0, None, None, "03.04.2024"), "as_of '03.04.2024' could be day/month"),
    (udfs.REL_PERF, (63.0, None, None, [[1.0, 2.0]]), "as_of must be one date, not a range"),
    (udfs.REL_PERF, (63.0, [[dt.datetime(2024, 1, 2), "abc"], [dt.datetime(2024, 1, 3), 1.0]]),
     "small: row 1 has 'abc' where a price is expected"),
    (udfs.ROTATION_SCORE, (None, None, "1990-01-02"), "share no dates"),
    (udfs.ROTATION_VERDICT, (None, None, None, "maybe"), "with_reason must be TRUE or FALSE"),
    (udfs.VOL_RATIO, (None, None, None, None, "vega"), "measure must be one of ratio"),
    (udfs.XLSC_HISTORY, ("IWM", None), "start_date is required"),
    (udfs.XLSC_HISTORY, ("IWM", "2024-07-10", "2024-07-01"), "end_date must be on or after"),
    (udfs.XLSC_HISTORY, ("IWM", "2024-07-10", None, 3.0), "interval must be 0 (daily)"),
    (udfs.XLSC_HISTORY, ("IWM", "2024-07-10", None, 0.0, 1.0, 2.0), "property must be 0"),
    (udfs.XLSC_HISTORY, ("IWM", "2030-01-01"), "#N/A no IWM data"),
    (udfs.CASH_STICKINESS, (None, 0.0), "weeks must be a whole number of weeks >= 1"),
    (udfs.BASE_RATE, (None, None, "lots"), "threshold must be a number (got 'lots')"),
    (udfs.CHART_SERIES, ("pie",), "kind must be one of rs, relperf, mmf, quadrant"),
    (udfs.CHART_SERIES, ("rs", None, None, None, 0.0), "points must be a whole number"),
]


def test_chart_series_always_has_the_asked_number_of_rows():
    out = udfs.CHART_SERIES("mmf", None, None, "1974-06-30", 156.0)
    assert len(out) == 157 and out[0] == ["Date", "Retail money funds ($bn)"]
    # padded at the top with earlier months and no values: the monthly series starts in
    # 1973-01, 17 months before the end, so 139 empty months start in 1961-06
    assert out[1] == [dt.datetime(1961, 6, 1), None]
    assert out[2] == [dt.datetime(1961, 7, 1), None] and out[-18] == [dt.datetime(1972, 12, 1),
                                                                       None]
    # June 1974 was published on the 4th Tuesday of July: on 1974-06-30 May is the last month
    assert out[-1][0] == dt.datetime(1974, 5, 1) and out[-17][0] == dt.datetime(1973, 1, 1)


@pytest.mark.parametrize("f, args, message", BAD, ids=[f"{f.__name__}-{i}" for i, (f, _, _)
                                                       in enumerate(BAD)])
def test_bad_input_gives_a_message_and_the_next_call_works(f, args, message):
    out = f(*args)
    assert isinstance(out, str) and out.startswith("#") and message in out, out
    assert "Traceback" not in out
    assert isinstance(udfs.REL_PERF(63.0, None, "SPY"), float)  # the server is fine


def test_unexpected_errors_are_caught(monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("disk on fire")

    from xlsmallcap.excel import clear_memo

    monkeypatch.setattr(udfs, "relative_performance", boom)
    clear_memo()
    out = udfs.REL_PERF(63.0)
    assert out == "#VALUE! REL_PERF could not compute this: check the arguments"


def test_no_numpy_or_pandas_leaks_from_any_cell():
    for name in FUNCTIONS:
        for args in GOOD_CALLS[name]:
            out = getattr(udfs, name)(*args)
            flat = [c for r in out for c in (r if isinstance(r, list) else [r])] \
                if isinstance(out, list) else [out]
            for c in flat:
                assert not isinstance(c, (np.generic, pd.Timestamp, pd.Series)), (name, c)
                assert not (isinstance(c, float) and math.isnan(c)), name


def test_update_macro_recalculates_fully_and_hands_back_the_status_bar(monkeypatch):
    import types

    from xlsmallcap.data.store import UpdateResult

    calls, bars = [], []

    def update(progress=None):
        for sid in ("IWM", "SPY"):
            progress(sid)
        return UpdateResult(updated={"IWM": "5 new rows"},
                            failed={"SPY": "SPY: Yahoo Finance returned no prices"})

    class App:
        def __setattr__(self, name, value):
            if name == "status_bar":
                bars.append(value)
            object.__setattr__(self, name, value)

    app = App()
    app.api = types.SimpleNamespace(CalculateFull=lambda: calls.append("full"))
    app.alert = lambda text, title: calls.append((title, text))
    monkeypatch.setattr(udfs, "get_store", lambda: types.SimpleNamespace(update=update))
    monkeypatch.setattr(udfs.xw.Book, "caller", staticmethod(lambda: types.SimpleNamespace(
        app=app)))
    udfs.XLSC_UPDATE_DATA()
    assert bars[0].startswith("xlsmallcap: updating data 1/") and "(IWM)" in bars[0]
    assert bars[-2] == "xlsmallcap: recalculating every formula" and bars[-1] is False
    assert calls == ["full", ("xlsmallcap", "xlsmallcap: updated 1 series, 1 failed: "
                                            "SPY: Yahoo Finance returned no prices")]


def test_repeated_calls_are_memoised_until_the_data_changes(tmp_path, monkeypatch):
    from xlsmallcap.data import store as store_mod
    from xlsmallcap.excel import clear_memo

    st = store_mod.DataStore(cache_dir=tmp_path / "c")
    monkeypatch.setattr(store_mod, "_DEFAULT", st)
    clear_memo()
    calls = []
    real = udfs.relative_performance
    monkeypatch.setattr(udfs, "relative_performance", lambda *a: calls.append(1) or real(*a))
    first = udfs.REL_PERF(63.0, None, "SPY")
    assert udfs.REL_PERF(63.0, None, "SPY") == first and len(calls) == 1
    st._write("SPY", st.series("SPY") * 1.0001, "csv")  # new data: recompute
    udfs.REL_PERF(63.0, None, "SPY")
    assert len(calls) == 2


def test_the_module_imports_where_xlwings_has_no_sub(monkeypatch):
    """xlwings Lite and Server have no ``xw.sub`` (a deprecated alias): importing the
    functions must not fail there; the macro is then a plain function."""
    import importlib

    import xlwings

    monkeypatch.delattr(xlwings, "sub", raising=False)
    spec = importlib.util.find_spec("xlsmallcap.udfs")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert callable(module.XLSC_UPDATE_DATA) and not hasattr(module.XLSC_UPDATE_DATA,
                                                             "__xlfunc__")


# How a range becomes series, and what a number argument accepts, at each edge.
_D1, _D2 = dt.datetime(2024, 7, 16), dt.datetime(2024, 7, 17)


@pytest.mark.parametrize("rows, message", [
    ([_D1, 100.0], "#VALUE! small needs at least 2 rows of dates and prices"),    # one row
    ([["2024-07-16", "101.5"], ["2024-07-17", "102"]],
     "#VALUE! small: row 1 has '101.5' where a price is expected"),         # text dates: data
    ([["Date", 100.0, "QQQ"], [_D1, 1.0, 2.0], [_D2, 1.1, 2.1]],
     "#VALUE! small date in row 1 must be a date like 2024-07-16 (got 'Date')"),  # not a header
])
def test_a_range_is_read_as_data_unless_its_whole_first_row_is_labels(rows, message):
    with pytest.raises(excel.ArgError) as exc:
        excel._series_from_range(rows, "small")
    assert str(exc.value) == message


def test_a_header_row_names_the_series_and_a_blank_corner_is_allowed():
    got = excel._series_from_range([["", "Mine"], [_D1, 1.0], [_D2, 1.1]], "small")
    assert list(got) == ["Mine"] and got["Mine"].tolist() == [1.0, 1.1]
    got = excel._series_from_range([[_D1, 1.0, 2.0], [_D2, 1.1, None]], "bench")
    assert list(got) == ["bench1", "bench2"] and got["bench2"].isna().tolist() == [False, True]


@pytest.mark.parametrize("value, expected", [("5%", 0.05), (" 2.5 ", 2.5), (3, 3.0), (None, 1.0)])
def test_a_number_argument_reads_numbers_text_and_percentages(value, expected):
    assert excel.as_float(value, "threshold", 1.0) == expected


@pytest.mark.parametrize("value, shown", [(True, "TRUE"), (False, "FALSE"), ("abc", "'abc'"),
                                          (float("inf"), "inf"), ("-inf", "-inf"),
                                          (dt.datetime(2024, 7, 16), "2024-07-16"),
                                          ([1, 2], "[1, 2]")])
def test_a_number_argument_refuses_booleans_text_and_infinity(value, shown):
    with pytest.raises(excel.ArgError) as info:
        excel.as_float(value, "threshold", 1.0)
    assert str(info.value) == f"#VALUE! threshold must be a number (got {shown})"
