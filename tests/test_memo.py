"""The memo of results: typed keys, ranges by digest, bounded in bytes; whole columns trimmed."""

from __future__ import annotations

import datetime as dt
import gc
import tracemalloc

import pytest

from xlsmallcap import excel, udfs
from xlsmallcap.excel import Memo, clear_memo, memo_key, trim_blank_rows

WHOLE_COLUMN = 1_048_576


@pytest.fixture(autouse=True)
def _fresh_memo():
    clear_memo()
    yield
    clear_memo()


def test_trailing_blank_rows_go_and_rows_inside_stay():
    rows = [[1, 2], [None, None], [3, 4]] + [[None, None]] * 10
    assert trim_blank_rows(rows) == [[1, 2], [None, None], [3, 4]]
    # blank rows inside *and* after, so the quick count does not match: the slow path
    rows = [[1, 2]] + [[None, None]] * 5 + [[3, 4]] + [[None, None]] * 40
    assert trim_blank_rows(rows) == [[1, 2]] + [[None, None]] * 5 + [[3, 4]]
    # "" from formulas at the end is blank too; a lone value in the last row keeps everything
    assert trim_blank_rows([[1, 2], ["", None], [None, ""]]) == [[1, 2]]
    assert trim_blank_rows([[1, 2], [3, 4], ["", None]]) == [[1, 2], [3, 4]]
    tail_value = [[1, 2]] + [[None, None]] * 100 + [[None, 7]]
    assert trim_blank_rows(tail_value) is tail_value
    assert trim_blank_rows("SPY") == "SPY" and trim_blank_rows([["SPY"]]) == [["SPY"]]
    assert trim_blank_rows([["SPY"], [None]]) == [["SPY"]]   # two rows: the shortest table
    # a row or column xlwings passes as one list, or nothing at all: not a table, unchanged
    assert trim_blank_rows(["SPY", None, None]) == ["SPY", None, None]
    assert trim_blank_rows([]) == []


def test_a_whole_column_gives_the_answer_of_its_filled_rows():
    from xlsmallcap.data.store import get_store

    iwm = get_store().series("IWM").iloc[-300:]
    filled = [[d.to_pydatetime(), float(v)] for d, v in iwm.items()]
    whole = filled + [[None, None] for _ in range(WHOLE_COLUMN - len(filled))]
    expected = udfs.REL_PERF(63.0, filled, "SPY")
    clear_memo()
    assert isinstance(expected, float)
    assert udfs.REL_PERF(63.0, whole, "SPY") == expected


def test_keys_tell_true_one_and_one_point_zero_apart_and_are_short():
    v = ("v",)
    keys = {memo_key("F", (x,), v) for x in (True, 1, 1.0, "1", None)}
    assert len(keys) == 5
    big = [[float(i), None] for i in range(100_000)]
    assert len(memo_key("F", (big,), v)) == 32
    assert memo_key("F", (big,), v) != memo_key("F", (big[:-1] + [[1.0, None]],), v)
    assert memo_key("F", (1.0,), ("v", 1)) != memo_key("F", (1.0,), ("v", 2))
    assert memo_key("F", (1.0,), v) != memo_key("G", (1.0,), v)


class _Unpicklable:
    """What a COM object or a generator looks like to pickle: it refuses."""

    def __init__(self, tag: str):
        self.tag = tag

    def __reduce__(self):
        raise TypeError("cannot pickle")

    def __repr__(self):
        return f"<cell {self.tag}>"


def test_an_argument_pickle_refuses_is_keyed_by_its_text():
    v = ("v",)
    a = memo_key("F", (_Unpicklable("A1"),), v)
    assert len(a) == 32 and a == memo_key("F", (_Unpicklable("A1"),), v)
    assert a != memo_key("F", (_Unpicklable("A2"),), v)
    assert len(memo_key("F", (_Unpicklable("\udcff"),), v)) == 32   # text UTF-8 cannot hold


def test_a_range_argument_is_not_kept_after_the_call():
    from xlsmallcap.data.store import get_store

    iwm = get_store().series("IWM").iloc[-300:]
    udfs.REL_PERF(63.0, None, "SPY")   # loads what every call needs before measuring
    tracemalloc.start()
    try:
        whole = [[d.to_pydatetime(), float(v)] for d, v in iwm.items()] + \
            [[None, None] for _ in range(200_000)]
        assert isinstance(udfs.REL_PERF(63.0, whole, "SPY"), float)
        del whole
        gc.collect()
        kept, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert kept < 2_000_000, f"{kept:,} bytes kept after the call"
    assert len(excel._MEMO) == 2   # the warm-up call and this one


def test_the_memo_stays_within_its_byte_bound_dropping_the_oldest():
    memo = Memo(max_bytes=4_000_000)
    block = [[float(i)] * 10 for i in range(1_000)]     # about 0.4 MB counted
    for i in range(20):
        memo.put(bytes([i]) * 32, block)
        assert memo.bytes <= memo.max_bytes
    assert 2 <= len(memo) < 20
    assert memo.get(bytes([19]) * 32) == (True, block)
    assert memo.get(bytes([0]) * 32) == (False, None)
    memo.put(b"h" * 32, [[0.0] * 100] * 10_000)         # a result of a quarter or more
    assert memo.get(b"h" * 32) == (False, None)


def test_a_result_stored_again_under_its_key_is_counted_once():
    memo = Memo(max_bytes=4_000_000)
    memo.put(b"k" * 32, [[1.0] * 10] * 100)
    once = memo.bytes
    memo.put(b"k" * 32, [[2.0] * 10] * 100)             # the same call computed again
    assert memo.bytes == once and len(memo) == 1
    assert memo.get(b"k" * 32) == (True, [[2.0] * 10] * 100)


def test_a_huge_chart_request_is_refused_not_kept():
    out = udfs.CHART_SERIES("rs", None, None, None, 5e7)
    assert out == "#NUM! points must be at most 20,000 rows (got 5e+07)"
    assert excel._MEMO.bytes < 10_000


def test_the_memo_bound_holds_over_many_distinct_calls():
    for n in range(2_000, 20_001, 2_000):
        out = udfs.CHART_SERIES("rs", None, None, None, float(n))
        assert len(out) == n + 1
    assert excel._MEMO.bytes <= excel.MEMO_BYTES


def test_repeated_calls_are_answered_from_the_memo_only_for_the_same_day(monkeypatch):
    calls = []
    real = udfs.relative_performance

    def counting(*a, **k):
        calls.append(1)
        return real(*a, **k)

    monkeypatch.setattr(udfs, "relative_performance", counting)
    first = udfs.REL_PERF(63.0)
    assert udfs.REL_PERF(63.0) == first and len(calls) == 1

    class Tomorrow(dt.date):
        @classmethod
        def today(cls):
            return dt.date(2099, 1, 2)

    monkeypatch.setattr(excel.dt, "date", Tomorrow)
    assert udfs.REL_PERF(63.0) == first and len(calls) == 2


def test_one_rotation_test_serves_every_figure_of_a_date_and_only_that_content(monkeypatch):
    """Score, verdict and p-value of one date run the test once; a range with the ticker's dates
    and prices gives the ticker's answer; one changed price, another date or a new data version
    each run the test again, and one changed price gives its own answer."""
    from xlsmallcap import api
    from xlsmallcap.data.store import get_store

    st = get_store()
    runs = []
    real = api.rotation
    monkeypatch.setattr(api, "rotation", lambda *a, **k: runs.append(a[5]) or real(*a, **k))
    api._DERIVED.pop(st, None)
    args = ("IWM", "SPY,QQQ", dt.datetime(2024, 7, 16))
    score, verdict, p = (udfs.ROTATION_SCORE(*args), udfs.ROTATION_VERDICT(*args),
                         udfs.ROTATION_PVALUE(*args))
    assert len(runs) == 1 and isinstance(score, float) and isinstance(p, float)
    assert isinstance(verdict, str) and not verdict.startswith("#")
    iwm = st.public("IWM", "2024-07-16")
    same = [[d.to_pydatetime(), float(v)] for d, v in iwm.items()]
    clear_memo()
    assert udfs.ROTATION_SCORE(same, *args[1:]) == score
    assert udfs.ROTATION_VERDICT(same, *args[1:]) == verdict
    n = len(runs)
    changed = [row[:] for row in same]
    changed[-1][1] *= 1.05                                  # small caps 5% higher on the day
    clear_memo()
    assert udfs.ROTATION_SCORE(changed, *args[1:]) != score and len(runs) == n + 1
    assert isinstance(udfs.ROTATION_SCORE("IWM", "SPY,QQQ", dt.datetime(2024, 7, 17)), float)
    assert len(runs) == n + 2
    monkeypatch.setattr(type(st), "version", lambda self: ("another", "version"))
    clear_memo()
    assert udfs.ROTATION_SCORE(*args) == score and len(runs) == n + 3


def test_a_data_version_that_cannot_be_read_answers_without_the_memo(monkeypatch):
    """The memo key needs the data version; when it cannot be had, the answer is computed
    (the same number), not taken from a memo that might be stale."""
    expected = udfs.REL_PERF(63, None, None, dt.datetime(2024, 7, 16))

    def unreadable():
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(excel, "_data_version", unreadable)
    clear_memo()
    assert udfs.REL_PERF(63, None, None, dt.datetime(2024, 7, 16)) == expected
    assert len(excel._MEMO) == 0      # nothing memoised under a key it could not make


def test_out_of_memory_is_a_num_error_and_not_remembered(monkeypatch):
    def exhausted(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(udfs, "relative_performance", exhausted)
    assert udfs.REL_PERF(63, None, None, dt.datetime(2024, 7, 16)) == "#NUM! out of memory"
    assert len(excel._MEMO) == 0
    monkeypatch.undo()
    assert isinstance(udfs.REL_PERF(63, None, None, dt.datetime(2024, 7, 16)), float)


def test_a_result_up_to_a_quarter_of_the_memo_is_kept_and_a_bigger_one_is_not():
    import sys

    from xlsmallcap.excel import result_bytes

    memo = Memo(10_000)
    key = b"k" * 32
    overhead = result_bytes("") + sys.getsizeof(key) + 200
    fits = "x" * (10_000 // 4 - overhead - 10)          # between a fifth and a quarter
    memo.put(key, fits)
    assert memo.get(key) == (True, fits)
    too_big = "x" * (10_000 // 4 - overhead + 100)
    memo.put(b"j" * 32, too_big)
    assert memo.get(b"j" * 32) == (False, None)


def test_two_stores_with_the_same_version_never_share_an_answer(tmp_path, monkeypatch):
    """Two stores without a cache (the same version stamp) on different snapshots, one ending
    in 2005: a script that switches the process's store gets each store's own figure, never the
    other's from the memo."""
    import gzip
    import shutil

    from xlsmallcap import api
    from xlsmallcap.data import store as store_mod
    from xlsmallcap.data.csvio import csv_to_frame, frame_to_csv, gzip_bytes
    from xlsmallcap.data.snapshot import snapshot_dir

    folder = tmp_path / "snapshot"
    shutil.copytree(snapshot_dir(), folder)
    prices = csv_to_frame(gzip.decompress((folder / "prices.csv.gz").read_bytes()))
    (folder / "prices.csv.gz").write_bytes(gzip_bytes(frame_to_csv(prices.loc[:"2005-12-30"])))
    old = store_mod.DataStore(cache_dir=tmp_path / "a", snapshot_folder=folder)
    new = store_mod.DataStore(cache_dir=tmp_path / "b")
    assert old.version() == new.version()
    for st in (new, old, new):
        monkeypatch.setattr(store_mod, "_DEFAULT", st)
        assert udfs.REL_PERF(63.0, "IWM", "SPY", None) == \
            pytest.approx(api.rel_perf(63, "IWM", ["SPY"], store=st)["SPY"], rel=1e-12)


def test_on_office_js_an_error_answer_is_raised_and_a_value_returned(monkeypatch):
    """xlwings Lite and Server show a raised CellError as a real #VALUE! with the message on
    hover; a value, text not starting with # included, is returned as it is. (The whole
    Office.js path runs in tests/test_udfs_officejs.py, in a process of its own.)"""
    monkeypatch.setattr(excel, "OFFICE_JS", True)

    def VALUE_OF(x):
        return x

    with pytest.raises(excel.CellError) as info:
        excel.call(VALUE_OF, None, ("#VALUE! x must be a number",))
    assert str(info.value) == "#VALUE! x must be a number"
    assert excel.call(VALUE_OF, None, ("Bobbling",)) == "Bobbling"
    assert excel.call(VALUE_OF, None, (2.5,)) == 2.5
    monkeypatch.setattr(excel, "OFFICE_JS", False)
    assert excel.call(VALUE_OF, None, ("#VALUE! x must be a number",)) == \
        "#VALUE! x must be a number"
