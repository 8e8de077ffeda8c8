"""One date parser everywhere, and every command failing in one or two lines (through the
installed console script, as a user meets it)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

from xlsmallcap import udfs
from xlsmallcap.dates import DateError, parse_date
from xlsmallcap.excel import clear_memo
from xlsmallcap.workbook.batch import ConfigError, _date

SCRIPT = Path(sys.executable).with_name("xlsmallcap")


@pytest.mark.parametrize("text, day", [
    ("2024-07-16", "2024-07-16"), ("2024/07/16", "2024-07-16"), ("20240716", "2024-07-16"),
    ("16/07/2024", "2024-07-16"), ("07/16/2024", "2024-07-16"), ("16.07.2024", "2024-07-16"),
    ("16 Jul 2024", "2024-07-16"), ("Jul 16 2024", "2024-07-16"), ("16-Jul-2024", "2024-07-16"),
    ("05/05/2024", "2024-05-05"),
])
def test_unambiguous_dates(text, day):
    assert parse_date(text) == dt.date.fromisoformat(day)


@pytest.mark.parametrize("text, message", [
    ("03.04.2024", "could be day/month or month/day: write it as 2024-04-03 or 2024-03-04"),
    ("03/04/2024", "could be day/month or month/day"),
    ("2024-02-30", "is not a date on the calendar"),
    ("yesterday", "must be a date like 2024-07-16"),
])
def test_ambiguous_or_wrong_dates_are_refused(text, message):
    with pytest.raises(DateError, match=message.split(":")[0]):
        parse_date(text)


@pytest.mark.parametrize("text", ["16/07/2024", "03.04.2024", "2024-07-16"])
@pytest.mark.another_process
def test_excel_batch_and_command_line_read_dates_alike(text):
    try:
        expected = parse_date(text)
    except DateError:
        expected = None
    clear_memo()
    cell = udfs.ROTATION_VERDICT(None, None, text)
    try:
        batch = _date(text)
    except ConfigError:
        batch = None
    if expected is None:
        assert cell.startswith("#VALUE! as_of") and "could be day/month" in cell
        assert batch is None
    else:
        assert batch == expected
        assert cell == udfs.ROTATION_VERDICT(None, None, expected.isoformat())
    assert _date("latest") is None and _date(" Latest ") is None


def cli(tmp_path: Path, *args: str, cache: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, XLSMALLCAP_CACHE_DIR=cache or str(tmp_path / "cache"))
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, env=env,
                          timeout=180)


FAILURES = [
    (["data", "export", "--out", "{tmp}"], 2, "is a folder: give a file name inside it"),
    (["data", "export", "--out", "{tmp}/no/such/dir/x.csv"], 2, "does not exist"),
    (["workbook", "build", "{tmp}"], 2, "is a folder: give a file name inside it"),
    (["data", "build-snapshot", "--raw", "{tmp}/nowhere"], 2,
     "is not the shared/data/raw folder"),
    (["report", "--as-of", "03.04.2024"], 2, "could be day/month or month/day"),
    (["report", "--small", "NOPE"], 2, "unknown ticker or series 'NOPE'"),
    (["data", "import", "{tmp}/missing.csv"], 2, "missing.csv: no such file"),
    (["data", "remove", "NOPE"], 2, "NOPE: nothing stored to remove"),
    (["refresh", "{tmp}/no.xlsm"], 2, "does not exist"),
    (["batch", "{tmp}/no.toml"], 2, "cannot read the config"),
    (["nonsense"], 2, "No such command"),
]


@pytest.fixture
def script():
    if not SCRIPT.exists():
        pytest.fail(f"the console script {SCRIPT} is not installed")


@pytest.mark.parametrize("args, code, message", FAILURES, ids=[" ".join(a) for a, _, _ in FAILURES])
@pytest.mark.another_process
def test_every_command_fails_in_one_or_two_lines(script, tmp_path, args, code, message):
    res = cli(tmp_path, *(a.replace("{tmp}", str(tmp_path)) for a in args))
    assert res.returncode == code, (res.stdout, res.stderr)
    assert message in res.stderr
    assert "Traceback" not in res.stderr and len(res.stderr.strip().splitlines()) <= 6


@pytest.mark.another_process
def test_an_unusable_cache_folder_is_one_line(script, tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    res = cli(tmp_path, "data", "update", "-s", "WRMFNS", cache=str(blocked / "cache"))
    assert res.returncode in (1, 2) and "cannot use the cache folder" in res.stderr
    assert "Traceback" not in res.stderr


@pytest.mark.another_process
def test_the_report_says_when_a_date_lies_past_the_data(script, tmp_path):
    res = cli(tmp_path, "report", "--as-of", "2030-01-01")
    assert res.returncode == 0
    assert "The data end on 2026-07-01: these are that day's figures, not 2030-01-01's." \
        in res.stdout


def test_the_report_warns_when_prices_are_old():
    from rich.console import Console

    from xlsmallcap import api
    from xlsmallcap.data.store import use_embedded_data
    from xlsmallcap.report_view import render

    rep = api.report(store=use_embedded_data())
    console = Console(width=400)
    with console.capture() as cap:
        console.print(render(rep, today=dt.date(2026, 7, 3)))
    assert "trading days ago" not in cap.get()      # two days on: fine
    with console.capture() as cap:
        console.print(render(rep, today=dt.date(2026, 7, 20)))
    assert "Prices end on 2026-07-01, 13 trading days ago: run `xlsmallcap data update`" \
        in cap.get()
