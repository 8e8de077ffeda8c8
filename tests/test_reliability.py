"""Bad input, faults and safety: what Excel users, networks and disks will do to us."""

from __future__ import annotations

import datetime as dt
import errno
import json
import subprocess
import sys
import urllib.error

import pandas as pd
import pytest
from filestate import folder_digest
from recorded import fred_full_answer, install_fake_yahoo, serve_fred
from typer.testing import CliRunner
from yfinance.exceptions import YFRateLimitError

from xlsmallcap import udfs
from xlsmallcap.cli import app
from xlsmallcap.data import store as store_mod
from xlsmallcap.data.errors import DataError
from xlsmallcap.data.store import DataStore
from xlsmallcap.excel import clear_memo

U = udfs
D = dt.datetime
RANGE_WITH_TEXT = [[D(2024, 1, 2), 100.0], [D(2024, 1, 3), "n/a"]]
RANGE_WITH_NA = [[D(2024, 1, 2), 100.0], ["#N/A", 101.0]]
RAGGED = [[D(2024, 1, 2), 100.0, 1.0], [D(2024, 1, 3), 101.0]]
DUP_DATES = [[D(2024, 1, 2), 100.0], [D(2024, 1, 2), 101.0]]
NEGATIVE = [[D(2024, 1, 2), 100.0], [D(2024, 1, 3), -1.0]]
NO_DATE = [[D(2024, 1, 2), 100.0], [None, 101.0]]
ONE_ROW = [[D(2024, 1, 2), 100.0]]

# (function, arguments as Excel sends them, what the cell must say)
UDF_BAD = [
    (U.REL_PERF, (None,), "#VALUE! window is required"),
    (U.REL_PERF, ("",), "#VALUE! window is required"),
    (U.REL_PERF, ("abc",), "window must be a whole number of trading days >= 1 (got 'abc')"),
    (U.REL_PERF, (-5.0,), "(got -5)"),
    (U.REL_PERF, (0.0,), "(got 0)"),
    (U.REL_PERF, (2.5,), "(got 2.5)"),
    (U.REL_PERF, (1e12, None, "SPY"), "#NUM! window must be at most 1,000,000 trading days"),
    (U.REL_PERF, (7000.0, None, "SPY"), "#N/A not enough data for window 7000"),
    (U.REL_PERF, (True,), "window must be a whole number"),
    (U.REL_PERF, ([[1.0, 2.0]],), "window must be one number, not a range"),
    (U.REL_PERF, (float("nan"),), "window must be a whole number"),
    (U.REL_PERF, ("#N/A",), "#N/A window is an error cell (#N/A)"),
    (U.REL_PERF, (63.0, "NOPE"), "#N/A small: unknown ticker 'NOPE' (see =DATA_STATUS())"),
    (U.REL_PERF, (63.0, "IWM", "SPY,NOPE"),
     "benchmarks: unknown ticker 'NOPE' (see =DATA_STATUS())"),
    (U.REL_PERF, (63.0, "#N/A"), "small is an error cell (#N/A)"),
    (U.REL_PERF, (63.0, None, "#REF!"), "benchmarks is an error cell (#REF!)"),
    (U.REL_PERF, (63.0, "../../etc"), "small: unknown ticker '../../etc' (see =DATA_STATUS())"),
    (U.REL_PERF, (63.0, None, "SPY", "1990-01-02"), "#N/A not enough data"),
    (U.REL_PERF, (63.0, None, "SPY", "2099-01-01"), ""),  # future: the latest data (checked)
    (U.REL_PERF, (63.0, None, None, "03.04.2024"), "as_of '03.04.2024' could be day/month"),
    (U.REL_PERF, (63.0, None, None, "July 16th"), "as_of must be a date like 2024-07-16"),
    (U.REL_PERF, (63.0, None, None, "2024-02-30"), "as_of '2024-02-30' is not a date on the"),
    (U.REL_PERF, (63.0, None, None, -3.0), "as_of must be a date (got -3)"),
    (U.REL_PERF, (63.0, None, None, 1e9), "as_of must be a date (got 1e+09)"),
    (U.REL_PERF, (63.0, None, None, True), "as_of must be a date (got TRUE)"),
    (U.REL_PERF, (63.0, None, None, "#N/A"), "as_of is an error cell (#N/A)"),
    (U.REL_PERF, (63.0, None, None, [[D(2024, 1, 2)], [D(2024, 1, 3)]]),
     "as_of must be one date, not a range"),
    (U.REL_PERF, (1.0, RANGE_WITH_TEXT, "SPY"), "small: row 2 has 'n/a' where a price is"),
    (U.REL_PERF, (1.0, RANGE_WITH_NA, "SPY"), "small date in row 2 is an error cell"),
    (U.REL_PERF, (1.0, RAGGED, "SPY"), "small must be a ticker or a range of dates and prices"),
    (U.REL_PERF, (1.0, DUP_DATES, "SPY"), "small has the same date twice"),
    (U.REL_PERF, (1.0, NEGATIVE, "SPY"), "small: prices must be positive"),
    (U.REL_PERF, (1.0, NO_DATE, "SPY"), "small: row 2 has prices but no date"),
    (U.REL_PERF, (1.0, ONE_ROW, "SPY"), "small needs at least 2 rows of dates and prices"),
    (U.REL_PERF, (1.0, [[D(2024, 1, 2), 1.0], [D(2024, 1, 3), 1.1]], "SPY", "2000-01-03"),
     "#N/A not enough data"),
    (U.ROTATION_SCORE, (None, None, "1990-01-02"), "share no dates up to as_of"),
    (U.ROTATION_SCORE, (None, None, None, 0.0), "lookback must be a whole number"),
    (U.ROTATION_SCORE, (None, None, None, 63.0, "x"), "short_window must be a whole number"),
    (U.ROTATION_SCORE, (None, ",,,"), "benchmarks must name a ticker"),
    (U.ROTATION_SCORE, (None, None, "2000-06-30"), "#N/A not enough data for the rotation"),
    (U.ROTATION_VERDICT, (None, None, "2000-06-30"), "#N/A not enough history"),
    (U.ROTATION_VERDICT, (None, None, None, "maybe"), "with_reason must be TRUE or FALSE"),
    (U.ROTATION_DETAIL, (None, None, None, None, None, 7.0), "headers must be TRUE or FALSE"),
    (U.ROTATION_DETAIL, ("SPY,QQQ",), "small must be one ticker (got 2)"),
    (U.REL_PERF_SERIES, (0.0,), "window must be a whole number"),
    (U.REL_PERF_SERIES, (63.0, None, None, None, "soon"), "start_date must be a date like"),
    (U.REL_PERF_SERIES, (63.0, None, None, "2000-06-30"), "#N/A not enough data for window 63"),
    (U.CASH_STICKINESS, ("yesterday",), "as_of must be a date like 2024-07-16"),
    (U.CASH_STICKINESS, (None, -1.0), "weeks must be a whole number of weeks >= 1"),
    (U.CASH_STICKINESS, ("1960-01-01",), "#N/A not enough data for cash stickiness"),
    (U.RATE_SENSITIVITY, (None, None, None, "LIBOR"),
     "rate: unknown ticker 'LIBOR' (see =DATA_STATUS())"),
    (U.RATE_SENSITIVITY, (None, None, None, None, 1.0), "window must be a whole number of "
                                                        "trading days >= 2"),
    (U.RATE_SENSITIVITY, (None, None, "2024-07-16", "DFF"), "#N/A not enough data for DFF"),
    (U.VOL_RATIO, (None, None, None, 1.0), "window must be a whole number of trading days >= 2"),
    (U.VOL_RATIO, (None, None, None, None, 3.0), "measure must be one of ratio"),
    (U.VOL_RATIO, (None, "NOPE"), "large: unknown ticker 'NOPE' (see =DATA_STATUS())"),
    (U.ROTATION_QUADRANT, (None, "NOPE"), "bench: unknown ticker 'NOPE' (see =DATA_STATUS())"),
    (U.ROTATION_QUADRANT, (None, None, "2000-06-30"), "#N/A not enough data for the quadrant"),
    (U.BASE_RATE, (None, 0.0), "surge_days must be a whole number"),
    (U.BASE_RATE, (None, None, "lots"), "threshold must be a number (got 'lots')"),
    (U.BASE_RATE, (None, None, None, 1.0), "horizon must be a whole number of trading days >= 2"),
    (U.BASE_RATE, (None, None, None, None, "median"), "output must be one of share"),
    (U.BASE_RATE, (None, None, 5.0), "#N/A not enough data for the base rate"),
    (U.XLSC_HISTORY, ("IWM", None), "start_date is required"),
    (U.XLSC_HISTORY, (None, "2024-07-01"), ""),  # blank stock: IWM (checked)
    (U.XLSC_HISTORY, ("NOPE", "2024-07-01"), "stock: unknown ticker 'NOPE' (see =DATA_STATUS())"),
    (U.XLSC_HISTORY, ("IWM", "2024-07-10", "2024-07-01"), "end_date must be on or after"),
    (U.XLSC_HISTORY, ("IWM", "2024-07-10", None, 3.0), "interval must be 0 (daily)"),
    (U.XLSC_HISTORY, ("IWM", "2024-07-10", None, -1.0), "interval must be a whole number"),
    (U.XLSC_HISTORY, ("IWM", "2024-07-10", None, 0.0, 1.0, 4.0), "property must be 0 (Date)"),
    (U.XLSC_HISTORY, ("IWM", "2030-01-01"), "#N/A no IWM data between 2030-01-01"),
    (U.XLSC_HISTORY, ("IWM", "1990-01-01", "1990-12-31"), "#N/A no IWM data"),
    (U.DATA_STATUS, ("sometimes",), "headers must be TRUE or FALSE"),
    (U.CHART_SERIES, (None,), ""),  # blank kind: rs (checked)
    (U.CHART_SERIES, ("pie",), "kind must be one of rs, relperf, mmf, quadrant"),
    (U.CHART_SERIES, ("rs", None, None, None, 0.0), "points must be a whole number"),
]


@pytest.mark.parametrize("f, args, message", UDF_BAD,
                         ids=[f"{f.__name__}-{i}" for i, (f, _, _) in enumerate(UDF_BAD)])
def test_udf_bad_input(f, args, message):
    clear_memo()
    out = f(*args)
    if message:
        assert isinstance(out, str) and out.startswith("#") and message in out, out
    else:  # a blank or future argument that has a sensible meaning
        assert not (isinstance(out, str) and out.startswith("#")), out
    assert "Traceback" not in str(out)
    assert isinstance(U.REL_PERF(63.0, None, "SPY"), float)  # and the next call works


def run(*args: str):
    return CliRunner().invoke(app, list(args))


CLI_BAD = [
    (["report", "--as-of", "2024-13-45"], 2, "--as-of '2024-13-45' is not a date on the"),
    (["report", "--as-of", "yesterday"], 2, "--as-of must be a date like 2024-07-16"),
    (["report", "--small", "NOPE"], 2, "unknown ticker or series 'NOPE'"),
    (["report", "--benchmarks", "SPY,NOPE"], 2, "unknown ticker or series 'NOPE'"),
    (["report", "--benchmarks", ","], 2, "--benchmarks must name at least one ticker"),
    (["report", "--as-of", "1990-01-02"], 2, "share no dates"),
    (["data", "update", "--tickers", "../etc"], 2, "not a ticker or series id"),
    (["data", "update", "--series", "=HYPERLINK(1)"], 2, "not a ticker or series id"),
    (["data", "export", "--series", "NOPE"], 2, "unknown ticker or series 'NOPE'"),
    (["data", "import", "/no/such/file.csv"], 2, "file.csv: no such file"),
    (["refresh", "/no/such/book.xlsm"], 2, "does not exist"),
    (["batch", "/no/such/batch.toml"], 2, "cannot read the config"),
]


@pytest.mark.parametrize("args, code, message", CLI_BAD, ids=[" ".join(a) for a, _, _ in CLI_BAD])
def test_cli_bad_input(args, code, message, tmp_path, monkeypatch):
    monkeypatch.setattr(store_mod, "_DEFAULT", DataStore(cache_dir=tmp_path / "c"))
    res = run(*args)
    assert res.exit_code == code, res.output
    assert message in res.output
    assert "Traceback" not in res.output


@pytest.mark.parametrize("body, message", [
    ("Date,=HYPERLINK(\"x\")\n2024-01-02,1\n", "is not a ticker or series id"),
    ("Date,MINE\n2024-01-02,abc\n", "row 2, column 'MINE': 'abc' is not a number"),
    ("nodate,MINE\nhello,1\n", "row 2: 'hello' is not a date (use 2024-07-16)"),
    ("Date,MINE\n2024-01-02,1\n2024-01-02,2\n", "row 3: the date 2024-01-02 appears twice"),
])
def test_cli_import_bad_files(tmp_path, monkeypatch, body, message):
    monkeypatch.setattr(store_mod, "_DEFAULT", DataStore(cache_dir=tmp_path / "c"))
    f = tmp_path / "mine.csv"
    f.write_text(body)
    res = run("data", "import", str(f))
    assert res.exit_code == 2 and message in res.output


# ----------------------------------------------------------------------------- network faults
@pytest.fixture
def seeded(tmp_path, monkeypatch):
    st = DataStore(cache_dir=tmp_path / "cache")
    st._write("IWM", st.series("IWM").iloc[:-10], "yahoo")
    st._write("WRMFNS", st.series("WRMFNS").iloc[:-10], "fred")
    monkeypatch.setattr(store_mod, "_DEFAULT", st)
    return st


FAULTS = [
    ("yahoo", YFRateLimitError(), "rate limited by the source; try again later"),
    ("yahoo", TimeoutError("timed out"), "no answer within the time-out"),
    ("yahoo", None, "no prices"),
    ("fred", urllib.error.HTTPError("https://fred.stlouisfed.org/graph/fredgraph.csv?id=WRMFNS",
                                    429, "Too Many Requests", {}, None),
     "rate limited by the source; try again later"),
    ("fred", TimeoutError("read timed out"), "no answer within the time-out"),
    ("fred", b"DATE,WRMFNS\n2026-01-05,12;3\n", "malformed CSV"),
    ("fred", b"", "malformed CSV"),
]


@pytest.mark.parametrize("kind, answer, message", FAULTS)
def test_update_faults_keep_data_and_status_shows_staleness(seeded, monkeypatch, kind, answer,
                                                            message):
    before = folder_digest(seeded.cache_dir)
    if kind == "yahoo":
        install_fake_yahoo(monkeypatch, {"IWM": answer})
        res = run("data", "update", "--tickers", "IWM")
    else:
        serve_fred(monkeypatch, answer)
        res = run("data", "update", "--series", "WRMFNS")
    assert res.exit_code == 1 and message in res.output
    assert "still using the stored" in res.output
    assert folder_digest(seeded.cache_dir) == before
    status = run("data", "status")
    sid = "IWM" if kind == "yahoo" else "WRMFNS"
    line = next(x for x in status.output.splitlines() if x.startswith(f"│ {sid} "))
    last = seeded.series(sid).index[-1]
    assert f"{last:%Y-%m-%d}" in line and f"{(dt.date.today() - last.date()).days} d" in line


@pytest.mark.parametrize("err", [errno.ENOSPC, errno.EROFS, errno.EACCES])
def test_full_disk_or_read_only_cache(seeded, monkeypatch, err):
    answer = fred_full_answer(seeded.series("WRMFNS"))
    serve_fred(monkeypatch, answer)
    before = folder_digest(seeded.cache_dir)

    def refuse(path, data):
        raise OSError(err, "refused", str(path))

    monkeypatch.setattr(store_mod, "write_bytes_atomic", refuse)
    result = seeded.update(series=["WRMFNS"])
    assert "could not write the cache" in result.failed["WRMFNS"]
    assert folder_digest(seeded.cache_dir) == before


def test_atomic_write_leaves_no_partial_file(tmp_path, monkeypatch):
    """A write that dies half-way leaves the old file and no temporary."""
    from xlsmallcap.data import atomic

    target = tmp_path / "x.csv"
    target.write_bytes(b"old")

    class Boom(Exception):
        pass

    def die(fd):
        raise Boom

    monkeypatch.setattr(atomic.os, "fsync", die)
    with pytest.raises(Boom):
        atomic.write_bytes_atomic(target, b"new" * 1000)
    assert target.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["x.csv"]


# ----------------------------------------------------------------------------- corruption
@pytest.mark.parametrize("damage", ["truncate-line", "truncate-mid", "garbage", "empty",
                                    "negative"])
def test_cache_corruption_is_detected_never_silently_used(seeded, damage):
    path = seeded._file_of("IWM")   # the current version of the stored series
    data = path.read_bytes()
    good = seeded.series("IWM")
    if damage == "truncate-line":  # still valid CSV, fewer rows: only the checksum tells
        path.write_bytes(data[: data.rfind(b"\n", 0, len(data) // 2) + 1])
    elif damage == "truncate-mid":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        path.write_bytes(b"\x89PNG\x00\x01garbage")
    elif damage == "empty":
        path.write_bytes(b"")
    else:
        path.write_bytes(data.replace(b"\n2024-07-10,", b"\n2024-07-10,-"))
    s = seeded.series("IWM")
    assert seeded.source("IWM") == "snapshot" and s.size == 6562  # the snapshot, not a torso
    assert s.size != good.size or damage == "negative"
    assert "corrupt" in seeded.problems["IWM"]
    status = run("data", "status")
    assert "IWM: cache file" in status.output and "rebuilds it" in status.output


def test_corrupt_cache_is_rebuilt_by_an_update(seeded, monkeypatch):
    path = seeded._file_of("IWM")
    path.write_bytes(b"garbage")
    install_fake_yahoo(monkeypatch, {"IWM": seeded.series("IWM").loc["2026-06-01":]})
    assert seeded.update(tickers=["IWM"]).ok  # spliced onto the snapshot's history
    assert seeded.source("IWM") == "yahoo" and "IWM" not in seeded.problems


def test_corrupt_user_series_has_a_clear_error(seeded, tmp_path):
    f = tmp_path / "mine.csv"
    f.write_text("Date,MINE\n2024-01-02,1\n2024-01-03,2\n")
    seeded.import_csv(f)
    seeded._file_of("MINE").write_bytes(b"\x00\x00")
    with pytest.raises(DataError, match="the stored data for MINE is corrupt"):
        seeded.series("MINE")
    clear_memo()
    assert U.XLSC_HISTORY("MINE", "2024-01-02") == "#VALUE! stock: the stored data for MINE " \
        "is corrupt; import its file again (xlsmallcap data import)"   # the cell: no path
    status = run("data", "status")
    assert status.exit_code == 0 and "MINE" in status.output


def test_garbage_meta_json_is_reported(seeded):
    (seeded.cache_dir / "meta.json").write_bytes(b"{not json")
    rows = {r.id: r for r in seeded.status()}
    assert "meta.json is unreadable" in rows["IWM"].note


# ----------------------------------------------------------------------------- concurrency
WRITER = """
import sys, pandas as pd
from xlsmallcap.data.store import DataStore
st = DataStore(cache_dir=sys.argv[1])
tag = int(sys.argv[2])
idx = pd.bdate_range("2024-01-01", periods=300)
for i in range(25):
    with st._lock():
        st._write(f"T{i % 5}", pd.Series(range(1 + tag, 301 + tag), index=idx, dtype=float),
                  "csv")
"""


@pytest.mark.another_process
def test_two_processes_updating_at_once_do_not_corrupt(tmp_path):
    cache = tmp_path / "cache"
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(cache), str(tag)])
             for tag in (0, 1000)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    st = DataStore(cache_dir=cache)
    meta = json.loads((cache / "meta.json").read_text())
    assert sorted(meta) == [f"T{i}" for i in range(5)]
    for i in range(5):
        s = st.series(f"T{i}")  # checksum verified against meta.json
        assert s.size == 300 and s.iloc[0] in (1.0, 1001.0)
        assert f"T{i}" not in st.problems
    assert not [p for p in (cache / "series").iterdir() if p.suffix == ".tmp"]
    # every version a generation no longer needs is gone: one file per series
    assert sorted(p.name.split(".")[0] for p in (cache / "series").iterdir()) == \
        [f"T{i}" for i in range(5)]


# ----------------------------------------------------------------------------- safety
@pytest.mark.parametrize("text", ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "=cmd|' /C calc'!A0"])
def test_data_never_becomes_a_formula(tmp_path, text):
    from openpyxl import Workbook, load_workbook

    from xlsmallcap.workbook.ooxml import Package

    path = tmp_path / "b.xlsx"
    wb = Workbook()
    wb.active["A1"] = "=1"
    wb.save(path)
    pkg = Package(path)
    pkg.set_cached("Sheet", "B1", text, formula_result=False)  # a label/setting
    pkg.set_cached("Sheet", "A1", text)  # a function's text result
    pkg.save()
    ws = load_workbook(path)["Sheet"]
    assert ws["B1"].value == text and ws["B1"].data_type == "s"
    assert ws["A1"].value == "=1"  # the formula is ours; the text is its cached value only
    assert load_workbook(path, data_only=True)["Sheet"]["A1"].value == text


def test_batch_settings_are_written_as_text(tmp_path):

    from xlsmallcap.workbook.batch import Job, JobError, build_one
    from xlsmallcap.workbook.template import build_formulas

    tpl = build_formulas(tmp_path / "t.xlsm")
    with pytest.raises(JobError, match="unknown ticker or series '=1\\+1'"):
        build_one(tpl, tmp_path, Job("=1+1", ("SPY",), None))
    assert not list(tmp_path.glob("*1*.xlsm"))


def test_workbooks_are_parsed_safely(tmp_path):
    import openpyxl.xml

    from xlsmallcap.workbook.ooxml import Package

    assert openpyxl.xml.DEFUSEDXML  # openpyxl parses through defusedxml
    from openpyxl import Workbook

    path = tmp_path / "x.xlsx"
    wb = Workbook()
    wb.active["A1"] = "hello"
    wb.active["B1"] = "=REL_PERF(63)"
    wb.save(path)
    import zipfile

    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    parts = {i.filename: zipfile.ZipFile(path).read(i) for i in zipfile.ZipFile(path).infolist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    sheet = sheet.replace("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>", "")
    sheet = (f'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file://{secret}">]>'
             + sheet.replace("</sheetData>", "</sheetData>".replace("<", "<")))
    sheet = sheet.replace('<c r="A1" t="inlineStr"><is><t>hello</t></is></c>',
                          '<c r="A1" t="inlineStr"><is><t>&xxe;</t></is></c>')
    parts["xl/worksheets/sheet1.xml"] = sheet.encode()
    with zipfile.ZipFile(path, "w") as zf:
        for name, body in parts.items():
            zf.writestr(name, body)
    cells = Package(path).cells()
    assert "TOPSECRET" not in str(cells[("Sheet", "A1")].value)


def test_future_as_of_uses_the_latest_data():
    clear_memo()
    assert U.REL_PERF(63.0, None, "SPY", "2099-01-01") == U.REL_PERF(63.0, None, "SPY")
    assert U.XLSC_HISTORY(None, "2024-07-01")[1][1] == pytest.approx(
        float(pd.Series(DataStore().series("IWM"))["2024-07-01"]))
