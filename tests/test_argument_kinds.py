"""Each argument takes only the kinds of series that make sense, and no name reaches a file
outside the cache."""

from __future__ import annotations

import pytest

import xlsmallcap.data.store as store_mod
from xlsmallcap import udfs
from xlsmallcap.data.store import DataStore
from xlsmallcap.excel import clear_memo


@pytest.fixture
def store(tmp_path, monkeypatch):
    st = DataStore(cache_dir=tmp_path / "cache" / "deep")
    monkeypatch.setattr(store_mod, "_DEFAULT", st)
    clear_memo()
    return st


@pytest.mark.parametrize("call, message", [
    (lambda: udfs.REL_PERF(5.0, "FF_SMB", "SPY", "2024-07-16"),
     "#VALUE! small: 'FF_SMB' is a return factor, not a price series"),
    (lambda: udfs.ROTATION_SCORE("IWM", "SPY,DFF"),
     "#VALUE! benchmarks: 'DFF' is a rate, not a price series"),
    (lambda: udfs.VOL_RATIO("WRMFNS"),
     "#VALUE! small: 'WRMFNS' is money-fund assets, not a price series"),
    (lambda: udfs.RATE_SENSITIVITY(None, None, None, "SPY"),
     "#VALUE! rate: 'SPY' is a price series, not a rate or a yield"),
    (lambda: udfs.ROTATION_QUADRANT("IWM", "IWM"),
     "#VALUE! bench must differ from small (both are IWM)"),
    (lambda: udfs.BASE_RATE(None, None, -1.0),
     "#VALUE! threshold must be a number above -100% (got -1.0)"),
])
def test_wrong_kinds_are_refused(store, call, message):
    assert call() == message


def test_the_right_kinds_are_taken(store):
    assert isinstance(udfs.RATE_SENSITIVITY(None, None, "2024-12-31", "^IRX"), float)
    assert udfs.XLSC_HISTORY("WRMFNS", "2024-07-01", "2024-07-20")[1][1] == 1828.6
    assert isinstance(udfs.XLSC_HISTORY("FF_SMB", "2024-07-11")[1][1], float)


NAMES = ["../../OUTSIDE/PRICES", "..\\\\..\\\\OUTSIDE\\\\PRICES", "/etc/passwd", "C:/x/y",
         "../cache/../../OUTSIDE/PRICES", "%2e%2e/OUTSIDE/PRICES", "A" * 300]


@pytest.mark.parametrize("name", NAMES)
def test_no_argument_reads_outside_the_cache(store, tmp_path, name):
    outside = tmp_path / "OUTSIDE"
    outside.mkdir(exist_ok=True)
    (outside / "PRICES.csv").write_text("date,SECRET\n2024-07-10,123456.0\n2024-07-11,654321.0\n")
    calls = [lambda: udfs.XLSC_HISTORY(name, "2024-07-10", "2024-07-11"),
             lambda: udfs.REL_PERF(1.0, name, "SPY"), lambda: udfs.REL_PERF(1.0, None, name),
             lambda: udfs.ROTATION_SCORE(None, name), lambda: udfs.RATE_SENSITIVITY(
                 None, None, None, name), lambda: udfs.CHART_SERIES("rs", None, name)]
    for call in calls:
        clear_memo()
        out = call()
        assert isinstance(out, str) and out.startswith("#") and len(out) <= 100, out
        assert "123456" not in out and "654321" not in out and "SECRET" not in out
