"""Every command through the installed ``xlsmallcap`` console script, as a user runs it: a new
process, exit codes checked, errors in one or two lines without a traceback.

The script's process cannot see this test's network block, so a ``sitecustomize`` on its
``PYTHONPATH`` blocks sockets and makes curl_cffi (yfinance's HTTP layer) fail as it does
offline.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import RAW, missing, raw_rows

#: Runs the package in another process (see tests/conftest.py).
pytestmark = pytest.mark.another_process

SCRIPT = Path(sys.executable).with_name("xlsmallcap")

SITECUSTOMIZE = textwrap.dedent('''
    import socket

    def _refuse(*args, **kwargs):
        raise OSError("network blocked by the test")

    socket.socket.connect = _refuse
    socket.create_connection = _refuse
    socket.getaddrinfo = _refuse
    try:
        import curl_cffi.requests
        from curl_cffi.requests.exceptions import ConnectionError as _CurlConnectionError

        def _offline(self, method, url, *args, **kwargs):
            raise _CurlConnectionError(
                "Failed to perform, curl: (6) Could not resolve host: query2.finance.yahoo.com")

        curl_cffi.requests.Session.request = _offline
    except ImportError:
        pass
''')


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    if not SCRIPT.is_file():
        missing(f"the installed console script {SCRIPT}")
    site = tmp_path_factory.mktemp("site")
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE)
    return dict(os.environ, PYTHONPATH=str(site), COLUMNS="120",
                XLSMALLCAP_CACHE_DIR=str(tmp_path_factory.mktemp("cache")))


def run(env, *args, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([str(SCRIPT), *map(str, args)], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=300)


def short_error(res, code: int, text: str) -> None:
    """The exit code, and a terminal message of one or two lines with no Python in it."""
    assert res.returncode == code, (res.returncode, res.stdout[-500:], res.stderr[-500:])
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert 1 <= len(lines) <= 2, res.stderr
    assert text in res.stderr, res.stderr
    assert "Traceback" not in res.stderr and "File \"" not in res.stderr


def closes(ticker: str) -> dict[str, float]:
    return {r["date"]: float(r["c"]) for r in raw_rows(f"prices/{ticker}.csv")}


def test_report(env):
    res = run(env, "report", "--as-of", "2024-07-16")
    assert res.returncode == 0, res.stderr
    assert "Diversification  score 36/100" in res.stdout
    # the 63-day relative return in the reason, from the raw closes
    iwm = closes("IWM")
    days = sorted(d for d in iwm if d <= "2024-07-16")[-64:]
    rel = []
    for b in ("SPY", "QQQ", "DIA"):
        p = closes(b)
        rel.append((iwm[days[-1]] / iwm[days[0]]) / (p[days[-1]] / p[days[0]]) - 1)
    assert f"{sum(rel) / 3:+.1%} over 63d" in res.stdout
    short_error(run(env, "report", "--as-of", "2024-13-45"), 2, "--as-of")


def test_track_record(env):
    res = run(env, "track-record")
    assert res.returncode == 0, res.stderr
    assert "IWM" in res.stdout and "French" in res.stdout


def test_data_status_export_import_remove(env, tmp_path):
    res = run(env, "data", "status")
    assert res.returncode == 0 and "IWM" in res.stdout and "WRMFNS" in res.stdout
    out = tmp_path / "iwm.csv"
    res = run(env, "data", "export", "--out", out, "--series", "IWM,SPY")
    assert res.returncode == 0, res.stderr
    with open(out, newline="") as fh:
        rows = {r[next(iter(r))]: r for r in csv.DictReader(fh)}
    assert float(rows["2024-07-16"]["IWM"]) == pytest.approx(closes("IWM")["2024-07-16"])
    assert float(rows["2024-07-16"]["SPY"]) == pytest.approx(closes("SPY")["2024-07-16"])
    short_error(run(env, "data", "export", "--out", tmp_path, "--series", "IWM"), 2,
                "is a folder")
    mine = tmp_path / "mine.csv"
    mine.write_text("date,MYFUND\n2024-07-15,10.0\n2024-07-16,10.5\n")
    res = run(env, "data", "import", mine)
    assert res.returncode == 0 and "imported MYFUND: 2 rows" in res.stdout, res.stderr
    res = run(env, "data", "remove", "MYFUND")
    assert res.returncode == 0, res.stderr
    short_error(run(env, "data", "remove", "MYFUND"), 2, "MYFUND")
    bad = tmp_path / "bad.csv"
    bad.write_text("date,X\n03/04/2024,1\n05/04/2024,2\n")
    short_error(run(env, "data", "import", bad), 2, "day-first")


def test_data_update_offline_keeps_the_stored_data(env, tmp_path):
    before = run(env, "data", "export", "--out", tmp_path / "a.csv", "--series", "IWM")
    assert before.returncode == 0
    res = run(env, "data", "update", "--tickers", "IWM")
    assert res.returncode == 1, (res.stdout, res.stderr)
    assert "failed" in res.stderr and "still using the stored IWM data" in res.stderr
    assert "Traceback" not in res.stderr
    after = run(env, "data", "export", "--out", tmp_path / "b.csv", "--series", "IWM")
    assert after.returncode == 0
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()


def test_data_build_snapshot(env, tmp_path):
    short_error(run(env, "data", "build-snapshot", "--raw", tmp_path, "--out", tmp_path / "s"),
                2, "is not the shared/data/raw folder")
    if not RAW.is_dir():
        missing("shared/data/raw beside this checkout")
    res = run(env, "data", "build-snapshot", "--raw", RAW, "--out", tmp_path / "snap")
    assert res.returncode == 0, res.stderr
    from importlib import resources

    shipped = resources.files("xlsmallcap") / "_snapshot"
    for f in (tmp_path / "snap").iterdir():
        assert f.read_bytes() == (shipped / f.name).read_bytes(), f.name


def test_workbook_build_and_refresh(env, tmp_path):
    book = tmp_path / "book.xlsm"
    res = run(env, "workbook", "build", book, "--embedded")
    assert res.returncode == 0 and book.is_file(), res.stderr
    res = run(env, "refresh", book, "--out", tmp_path / "again.xlsm")
    assert res.returncode == 0, res.stderr
    from openpyxl import load_workbook

    wb = load_workbook(tmp_path / "again.xlsm", keep_vba=True)
    assert "Dashboard" in wb.sheetnames
    res = run(env, "refresh", book, "--static")
    assert res.returncode == 0 and "static report written" in res.stdout, res.stderr
    static = load_workbook(tmp_path / "book-static.xlsx", data_only=True)
    assert "xlwings.conf" not in static.sheetnames
    live = load_workbook(book, data_only=True)
    for ref in ("B4", "H4", "H5", "B10", "C11"):
        assert static["Dashboard"][ref].value == live["Dashboard"][ref].value, ref
    assert static["Dashboard"]["B4"].value in ("Rotation", "Emerging rotation",
                                               "Diversification", "Bobbling",
                                               "Large-cap leadership")
    short_error(run(env, "refresh", book, "--static", "--out", book), 2, "an .xlsx file")
    short_error(run(env, "refresh", tmp_path / "nope.xlsm"), 2, "does not exist")
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a workbook")
    res = run(env, "refresh", broken)
    assert res.returncode in (1, 2) and "was not changed" in res.stderr
    assert broken.read_bytes() == b"PK\x03\x04 not really a workbook"


def test_batch(env, tmp_path):
    cfg = tmp_path / "batch.toml"
    cfg.write_text('out_dir = "out"\nworkers = 1\nas_of = ["2024-07-16"]\n'
                   'pairs = [["IWM", "SPY"]]\n')
    res = run(env, "batch", cfg)
    assert res.returncode == 0, res.stderr
    assert "1 of 1 workbooks written" in res.stdout
    assert len(list((tmp_path / "out").iterdir())) == 1
    cfg.write_text('out_dir = "out"\nas_of = ["2024-99-99"]\npairs = [["IWM", "SPY"]]\n')
    short_error(run(env, "batch", cfg), 2, "as_of")


def test_lite(env, tmp_path):
    res = run(env, "lite", tmp_path / "lite")
    assert res.returncode == 0 and (tmp_path / "lite" / "main.py").is_file()
    short_error(run(env, "lite", tmp_path / "lite"), 2, "--force")


def test_usage_errors_exit_2(env):
    res = run(env, "no-such-command")
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert run(env, "--help").returncode == 0
