"""Messages a spreadsheet user reads, pinned in full: each names the argument as the user wrote
it and shows the offending value, cut short (found by mutation testing, docs/testing.md)."""

from __future__ import annotations

import pandas as pd
import pytest

from xlsmallcap.core.base_rate import base_rate
from xlsmallcap.core.flows import stickiness
from xlsmallcap.core.frame import AnalysisError
from xlsmallcap.core.quadrant import quadrant_trail
from xlsmallcap.data.store import get_store, use_embedded_data
from xlsmallcap.excel import ArgError, as_bool, as_date, as_sources


@pytest.fixture(autouse=True)
def _embedded():
    use_embedded_data()


def test_text_that_looks_like_an_error_cell_is_named_and_cut_short():
    with pytest.raises(ArgError) as info:
        as_date("#REF! in my sheet", "as_of")
    assert str(info.value) == "#VALUE! as_of is an error cell ('#REF! in...)"


def test_a_long_unknown_ticker_is_cut_to_twenty_characters():
    with pytest.raises(ArgError) as info:
        as_sources("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "small", ["IWM"], get_store())
    assert str(info.value) == ("#N/A small: unknown ticker 'ABCDEFGHIJKLMNOP... "
                               "(see =DATA_STATUS())")


@pytest.mark.parametrize("call, message", [
    (lambda st: base_rate(st.series("FF_SMB"), horizon=1),
     "horizon must be a whole number of trading days >= 2 (got 1)"),
    (lambda st: quadrant_trail(st.series("IWM"), st.series("SPY"), momentum_window=0),
     "momentum_window must be a whole number of trading days >= 1 (got 0)"),
    (lambda st: quadrant_trail(st.series("IWM"), st.series("SPY"), ratio_window=1),
     "ratio_window must be a whole number of trading days >= 2 (got 1)"),
    (lambda st: stickiness(pd.DataFrame({"flow": [1.0], "flow_pct": [0.01]}), [], weeks=0),
     "weeks must be a whole number of weeks >= 1 (got 0)"),
    (lambda st: stickiness(pd.DataFrame({"flow": [1.0], "flow_pct": [0.01]}), [], weeks=2.5),
     "weeks must be a whole number of weeks >= 1 (got 2.5)"),
])
def test_core_refusals_name_the_argument(call, message):
    with pytest.raises(AnalysisError) as info:
        call(get_store())
    assert str(info.value) == message


@pytest.mark.parametrize("cell, value", [
    ("FALSE", False), (" false ", False), ("True", True), (True, True), (0.0, False),
    (1.0, True), (None, True), ("", True)])       # blank: the default (TRUE here)
def test_true_and_false_as_a_cell_can_hold_them(cell, value):
    assert as_bool(cell, "with_reason", True) is value


def test_anything_else_is_not_a_truth_value():
    with pytest.raises(ArgError) as info:
        as_bool("maybe", "with_reason", False)
    assert str(info.value) == "#VALUE! with_reason must be TRUE or FALSE (got 'maybe')"
    with pytest.raises(ArgError) as info:      # the text as typed, not Python's repr of it
        as_bool("don't\\", "with_reason", False)
    assert str(info.value) == "#VALUE! with_reason must be TRUE or FALSE (got 'don't\\')"
    with pytest.raises(ArgError, match=r"must be TRUE or FALSE \(got 2\)$"):
        as_bool(2.0, "with_reason", False)


def test_what_is_not_a_date_is_refused_by_kind():
    import datetime as dt

    with pytest.raises(ArgError) as info:
        as_date([[1.0, 2.0]], "as_of")
    assert str(info.value) == "#VALUE! as_of must be one date, not a range"
    with pytest.raises(ArgError) as info:
        as_date(dt.time(10, 0), "as_of")      # a time of day without a date
    assert str(info.value) == "#VALUE! as_of must be a date (got time)"


def test_a_ticker_that_starts_like_an_error_is_refused():
    with pytest.raises(ArgError) as info:
        as_sources(["SPY", "#QQQ"], "benchmarks", ["SPY"], get_store())
    assert str(info.value) == "#VALUE! benchmarks is an error cell ('#QQQ')"


def test_cells_excel_can_hold():
    import numpy as np

    from xlsmallcap.excel import cell

    assert cell(None) is None and cell(float("nan")) is None and cell(pd.NaT) is None
    assert cell(np.bool_(True)) is True and cell(np.float64(1.5)) == 1.5
    assert cell(np.int64(3)) == 3.0 and type(cell(np.int64(3))) is float   # Excel: doubles
    assert cell(float("inf")) is None and cell("x") == "x"
