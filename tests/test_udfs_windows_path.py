"""The Excel functions through xlwings' own Windows call path, fed what COM really passes.

``xlwings._xlwindows``, ``xlwings.com_server`` and ``xlwings.udfs.call_udf`` are xlwings' real
code; only pywin32 (``pythoncom``, ``pywintypes``, ``win32com``, ``win32api``...) and two
``ctypes`` Windows loaders are stubbed so that they import on Linux. COM hands ``call_udf``
error cells as SCODE integers, currency cells as ``Decimal``, dates as tz-aware
``pywintypes`` datetimes, omitted arguments as "parameter not found" and ranges as tuples of
tuples; xlwings' converters (with our ``err_to_str=True``) do the rest.
"""

from __future__ import annotations

import datetime as dt
import inspect
from decimal import Decimal

import pytest
from windows_xlwings import TimeType, windows_xlwings

MISSING = -2147352572                      # DISP_E_PARAMNOTFOUND: an omitted argument
ERRORS = {"#N/A": -2146826246, "#REF!": -2146826265, "#DIV/0!": -2146826281,
          "#VALUE!": -2146826273, "#NUM!": -2146826252, "#NAME?": -2146826259,
          "#NULL!": -2146826288}


@pytest.fixture(scope="module")
def call():
    with windows_xlwings() as (xlw_udfs, module):
        xlw_udfs.get_udf_module = lambda name, book: module

        from xlsmallcap.data.store import use_embedded_data
        from xlsmallcap.excel import clear_memo

        use_embedded_data()

        def run(name, *args):
            clear_memo()
            params = inspect.signature(getattr(module, name)).parameters
            if "date1904" in params and len(args) == len(params) - 1:
                args = (*args, False)   # what VBA adds: Application.Caller's Workbook.Date1904
            out = xlw_udfs.call_udf("xlsmallcap.udfs", name, args)
            return out[0][0] if isinstance(out, list) and len(out) == 1 and \
                len(out[0]) == 1 else out

        yield run


# (function, position of the argument, name, the other arguments omitted)
ARGUMENTS = [
    ("ROTATION_SCORE", 0, "small", 5), ("ROTATION_SCORE", 1, "benchmarks", 5),
    ("ROTATION_SCORE", 2, "as_of", 5), ("ROTATION_SCORE", 3, "lookback", 5),
    ("ROTATION_VERDICT", 2, "as_of", 4), ("ROTATION_VERDICT", 3, "with_reason", 4),
    ("ROTATION_PVALUE", 3, "side", 4), ("ROTATION_DETAIL", 5, "headers", 6),
    ("REL_PERF", 0, "window", 5), ("REL_PERF", 2, "benchmarks", 5),
    ("CASH_STICKINESS", 0, "as_of", 3), ("CASH_STICKINESS", 1, "weeks", 3),
    ("CASH_FLOWS", 0, "weeks", 3), ("EASING_CYCLES", 0, "as_of", 2),
    ("CASH_TO_SMALLCAPS", 3, "horizon", 6), ("ELECTION_VOL", 1, "output", 2),
    ("RATE_SENSITIVITY", 3, "rate", 6), ("VOL_RATIO", 4, "measure", 5),
    ("ROTATION_QUADRANT", 1, "bench", 3), ("BASE_RATE", 2, "threshold", 5),
    ("DATA_STATUS", 0, "headers", 1), ("CHART_SERIES", 4, "points", 6),
]


@pytest.mark.parametrize("error", sorted(ERRORS))
@pytest.mark.parametrize("name, pos, arg, n", ARGUMENTS,
                         ids=[f"{f}-{a}" for f, _, a, _ in ARGUMENTS])
def test_an_error_cell_is_answered_never_read_as_a_default(call, name, pos, arg, n, error):
    args = [MISSING] * n
    if name == "REL_PERF" and pos != 0:
        args[0] = 63.0
    if name == "CHART_SERIES":
        args[0] = "rs"
    args[pos] = ERRORS[error]
    out = call(name, *args)
    assert out == f"{error} {arg} is an error cell ({error})", out


def test_an_error_cell_inside_a_ticker_range_is_not_dropped(call):
    out = call("REL_PERF", 63.0, MISSING, (("SPY",), (ERRORS["#N/A"],)), MISSING, MISSING)
    assert out == "#N/A benchmarks is an error cell (#N/A)"


def test_an_error_cell_inside_a_price_range_names_its_row(call):
    days = [TimeType(2024, 1, d, tzinfo=dt.timezone.utc) for d in range(2, 8)]
    prices = ((days[0], 10.0), (days[1], ERRORS["#REF!"]), (days[2], 11.0))
    out = call("REL_PERF", 1.0, prices, "SPY", MISSING, MISSING)
    assert out == "#REF! small: row 2 is an error cell"


def test_currency_cells_are_numbers(call):
    plain = call("REL_PERF", 63.0, MISSING, "SPY", "2024-07-16", MISSING)
    assert call("REL_PERF", Decimal("63"), MISSING, "SPY", "2024-07-16", MISSING) == plain
    assert call("BASE_RATE", "2024-07-16", Decimal("5"), Decimal("0.03"), MISSING, MISSING) == \
        call("BASE_RATE", "2024-07-16", 5.0, 0.03, MISSING, MISSING)
    # prices formatted as currency: the same figure as the plain numbers
    days = [TimeType(2024, 1, d, tzinfo=dt.timezone.utc) for d in (2, 3, 4, 5, 8)]
    prices = (10.0, 10.25, 10.5, 10.4, 10.75)
    as_float = tuple(zip(days, prices, strict=True))
    as_money = tuple((d, Decimal(str(p))) for d, p in as_float)
    plain = call("REL_PERF", 4.0, as_float, "SPY", MISSING, MISSING)
    assert isinstance(plain, float)
    assert call("REL_PERF", 4.0, as_money, "SPY", MISSING, MISSING) == plain


def test_dates_arrive_as_tz_aware_pywintypes(call):
    when = TimeType(2024, 7, 16, tzinfo=dt.timezone.utc)
    assert call("ROTATION_VERDICT", MISSING, MISSING, when, MISSING) == "Diversification"
    assert call("ROTATION_PVALUE", MISSING, MISSING, when, MISSING) == pytest.approx(0.842157,
                                                                                    abs=1e-6)


def test_omitted_arguments_take_their_defaults(call):
    assert call("ROTATION_PVALUE", MISSING, MISSING, MISSING, MISSING) == \
        call("ROTATION_PVALUE", "IWM", "SPY,QQQ,DIA", MISSING, "small")


def test_true_one_and_one_point_zero_are_told_apart(call):
    # Excel sends 1 as 1.0; Python's True == 1 == 1.0 must not hand one's answer to the other
    bad = call("REL_PERF", True, MISSING, MISSING, MISSING, MISSING)
    assert bad.startswith("#VALUE! window must be a whole number"), bad
    one = call("REL_PERF", 1.0, MISSING, MISSING, MISSING, MISSING)
    assert isinstance(one, float)
    assert call("REL_PERF", True, MISSING, MISSING, MISSING, MISSING) == bad


def test_messages_are_short_and_never_echo_the_whole_input(call):
    huge = "X" * 100_000
    for out in (call("REL_PERF", huge, MISSING, MISSING, MISSING, MISSING),
                call("ROTATION_SCORE", huge, MISSING, MISSING, MISSING, MISSING),
                call("BASE_RATE", MISSING, MISSING, huge, MISSING, MISSING)):
        assert out.startswith("#") and len(out) <= 100, out
    out = call("ROTATION_SCORE", "NOPE", MISSING, MISSING, MISSING, MISSING)
    assert out == "#N/A small: unknown ticker 'NOPE' (see =DATA_STATUS())"


# 2024-07-16 in each date system, as DATE(2024,7,16) or TODAY() hands it to a function
SERIAL_1900, SERIAL_1904 = 45489.0, 45489.0 - 1462


def test_the_callers_1904_date_system_is_honoured(call):
    """VBA passes ``Workbook.Date1904`` as the hidden last argument (a VBA Boolean arrives as
    ``True``/``False``); a serial from a 1904 book means the same day as in a 1900 book."""
    by_text = call("REL_PERF", 63.0, MISSING, MISSING, "2024-07-16", MISSING, False)
    assert call("REL_PERF", 63.0, MISSING, MISSING, SERIAL_1900, MISSING, False) == by_text
    assert call("REL_PERF", 63.0, MISSING, MISSING, SERIAL_1904, MISSING, True) == by_text
    # read in the wrong system, the 1904 serial is a day four years earlier: a different answer
    assert call("REL_PERF", 63.0, MISSING, MISSING, SERIAL_1904, MISSING, False) != by_text
    hist = call("XLSC_HISTORY", "IWM", SERIAL_1904, SERIAL_1904 + 2, MISSING, 0.0,
                MISSING, MISSING, True)
    assert [r[0].date() for r in hist] == [dt.date(2024, 7, 16), dt.date(2024, 7, 17),
                                           dt.date(2024, 7, 18)]


def test_serials_map_to_the_day_excel_shows():
    from xlsmallcap.excel import ArgError, serial_date

    assert serial_date(1, "d").date() == dt.date(1900, 1, 1)
    assert serial_date(59, "d").date() == dt.date(1900, 2, 28)
    assert serial_date(61, "d").date() == dt.date(1900, 3, 1)
    assert serial_date(45489.75, "d").date() == dt.date(2024, 7, 16)
    assert serial_date(2958465, "d").date() == dt.date(9999, 12, 31)
    assert serial_date(0, "d", date1904=True).date() == dt.date(1904, 1, 1)
    assert serial_date(2957003, "d", date1904=True).date() == dt.date(9999, 12, 31)
    for bad, system in ((60, False), (0, False), (2958466, False), (-1, True),
                        (2957004, True), (float("inf"), False)):
        with pytest.raises(ArgError) as e:
            serial_date(bad, "as_of", system)
        assert str(e.value).startswith("#VALUE! as_of") and len(str(e.value)) <= 100


def test_a_bad_date_system_argument_is_named(call):
    # only under xlwings Lite and Server can a user type it; a text there is refused
    out = call("REL_PERF", 63.0, MISSING, MISSING, MISSING, MISSING, "yes")
    assert out == "#VALUE! date1904 must be TRUE or FALSE (got 'yes')"
