"""No figure depends on the form of the dates it is given.

pandas 3 builds dates in microseconds (``pd.date_range``, ``pd.to_datetime``), the store in
nanoseconds. A script handing its own series to the core, or a future reader, must get the same
answer: the cycle detection once compared microseconds with nanoseconds and found only the first
easing cycle. Here every series the store hands out is given in microseconds instead, and every
figure of the report and of the chart and table functions is compared with the usual one.
A script's own series handed to ``api.rotation_of`` may also come out of order or in New York
time (the same prices: the same answer) or with a date twice (refused: it cannot be guessed).
"""

from __future__ import annotations

import pandas as pd
import pytest

from xlsmallcap import api, excel
from xlsmallcap.data.store import DataStore

AS_OF = "2024-07-16"
CALLS = {
    "report": lambda st: api.report(AS_OF, store=st),
    "rs_line": lambda st: api.rs_line(as_of=AS_OF, start="2024-01-02", store=st),
    "rel_perf_series": lambda st: api.rel_perf_series(21, as_of=AS_OF, store=st),
    "quadrant_trail": lambda st: api.rotation_quadrant_trail(as_of=AS_OF, store=st),
    "cash_flows": lambda st: api.cash_flows(13, AS_OF, store=st),
    "easing": lambda st: api.easing(AS_OF, store=st),
    "cycles": lambda st: api.cycles(AS_OF, store=st),
    "election": lambda st: api.election(AS_OF, store=st),
    "base": lambda st: api.base(AS_OF, store=st),
    "mmf_assets": lambda st: api.mmf_assets(AS_OF, store=st),
    "cash_to_smallcaps": lambda st: api.cash_to_smallcaps(AS_OF, store=st),
}


def _us(s: pd.Series) -> pd.Series:
    out = s.copy()
    out.index = pd.DatetimeIndex(out.index).as_unit("us")
    return out


def _shown(x: object) -> str:
    """What a user sees: values and dates, whatever the unit."""
    if isinstance(x, pd.Series | pd.DataFrame):
        x = x.copy()
        if isinstance(x.index, pd.DatetimeIndex):
            x.index = x.index.as_unit("ns")
        return x.to_csv()
    return repr(x)


@pytest.mark.parametrize("name", list(CALLS))
def test_figures_do_not_depend_on_the_time_unit_of_the_dates(name):
    usual = DataStore()
    micro = DataStore()
    public, series = micro.public, micro.series
    micro.public = lambda *a, **k: _us(public(*a, **k))             # type: ignore[method-assign]
    micro.series = lambda *a, **k: _us(series(*a, **k))             # type: ignore[method-assign]
    assert micro.public("IWM").index.unit == "us"
    want = _shown(CALLS[name](usual))
    excel.clear_memo()
    api._DERIVED.clear()
    assert _shown(CALLS[name](micro)) == want


def _iwm_and_benchmarks():
    from xlsmallcap.data.store import use_embedded_data

    st = use_embedded_data()
    small = st.series("IWM").loc[:AS_OF]
    return small, {b: st.series(b).loc[:AS_OF] for b in ("SPY", "QQQ", "DIA")}


def test_a_scripts_series_in_any_order_or_time_zone_gives_the_same_rotation():
    """Rows out of order or dates in New York time are the same prices: the same test."""
    import numpy as np

    small, benches = _iwm_and_benchmarks()
    usual = repr(api.rotation_of(small, benches))
    shuffled = small.iloc[np.random.default_rng(0).permutation(small.size)]
    assert repr(api.rotation_of(shuffled, benches)) == usual
    ny = small.set_axis(small.index.tz_localize("America/New_York"))
    assert repr(api.rotation_of(ny, benches)) == usual


@pytest.mark.parametrize("damage, message", [
    (lambda s: pd.concat([s, s.iloc[-3:] * 1.01]), "small has the date 2024-07-12 twice"),
    (lambda s: s.reset_index(drop=True), "small must be indexed by dates (got RangeIndex)"),
])
def test_a_scripts_series_with_a_date_twice_or_no_dates_is_refused(damage, message):
    """Two prices for one day cannot be read as one: refused, never a silent other answer."""
    from xlsmallcap.core.frame import AnalysisError

    small, benches = _iwm_and_benchmarks()
    with pytest.raises(AnalysisError) as info:
        api.rotation_of(damage(small), benches)
    assert str(info.value) == message
