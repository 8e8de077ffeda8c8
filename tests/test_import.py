"""`xlsmallcap data import` and `data remove`: strict reading, no silent shadowing, a way back.

Run through the installed console script, as a user meets it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from xlsmallcap.data.errors import DataError
from xlsmallcap.data.importer import read_user_csv
from xlsmallcap.data.store import DataStore

SCRIPT = Path(sys.executable).with_name("xlsmallcap")


def cli(cache: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, XLSMALLCAP_CACHE_DIR=str(cache))
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, env=env,
                          timeout=120)


@pytest.fixture
def cache(tmp_path):
    if not SCRIPT.exists():
        pytest.fail(f"the console script {SCRIPT} is not installed")
    return tmp_path / "cache"


def write(tmp_path: Path, body: str, name: str = "mine.csv") -> Path:
    p = tmp_path / name
    p.write_text(body)
    return p


@pytest.mark.another_process
def test_a_column_named_like_a_built_in_series_is_refused(tmp_path, cache):
    f = write(tmp_path, "Date,IWM\n2024-07-10,1.0\n2024-07-11,2.0\n")
    res = cli(cache, "data", "import", str(f))
    assert res.returncode == 2
    assert "IWM would replace the built-in series; rename the column or pass --replace" \
        in res.stderr
    assert DataStore(cache_dir=cache).series("IWM").size > 6000   # the built-in one, untouched
    res = cli(cache, "data", "import", str(f), "--replace")
    assert res.returncode == 0 and "imported IWM: 2 rows, 2024-07-10 to 2024-07-11" in res.stdout
    assert DataStore(cache_dir=cache).series("IWM").tolist() == [1.0, 2.0]
    res = cli(cache, "data", "remove", "IWM")
    assert res.returncode == 0 and "the built-in IWM (embedded snapshot) is used again" \
        in res.stdout
    assert DataStore(cache_dir=cache).series("IWM").size > 6000


@pytest.mark.another_process
def test_remove_a_series_of_your_own(tmp_path, cache):
    f = write(tmp_path, "date;MYIDX;OTHER\n2024-07-10;100,5;7\n2024-07-11;101;8\n")
    res = cli(cache, "data", "import", str(f))
    assert res.returncode == 0, res.stderr
    assert "imported MYIDX: 2 rows" in res.stdout and "imported OTHER: 2 rows" in res.stdout
    assert DataStore(cache_dir=cache).series("MYIDX").tolist() == [100.5, 101.0]  # ; and ,
    assert cli(cache, "data", "remove", "MYIDX").stdout.strip() == "removed MYIDX"
    res = cli(cache, "data", "remove", "MYIDX")
    assert res.returncode == 2 and "MYIDX: nothing stored to remove" in res.stderr


@pytest.mark.parametrize("body, flag, first", [
    ("Date,X\n16/07/2024,1\n17/07/2024,2\n", None, "2024-07-16"),       # day > 12: day first
    ("Date,X\n07/16/2024,1\n07/17/2024,2\n", None, "2024-07-16"),       # month first
    ("Date,X\n03.04.2024,1\n04.04.2024,2\n", "--day-first", "2024-04-03"),
    ("Date,X\n03.04.2024,1\n04.04.2024,2\n", "--month-first", "2024-03-04"),
    ("Date\tX\n20240716\t1\n20240717\t2\n", None, "2024-07-16"),
])
@pytest.mark.another_process
def test_dates_are_read_only_when_unambiguous(tmp_path, cache, body, flag, first):
    args = ["data", "import", str(write(tmp_path, body))] + ([flag] if flag else [])
    res = cli(cache, *args)
    assert res.returncode == 0, res.stderr
    assert DataStore(cache_dir=cache).series("X").index[0] == pd.Timestamp(first)


@pytest.mark.parametrize("body, message", [
    ("Date,X\n03.04.2024,1\n04.04.2024,2\n",
     "row 2: '03.04.2024' could be day/month or month/day; write ISO dates"),
    ("2024-07-10,1\n2024-07-11,2\n", "the first line must name the columns"),
    ("Date,X\n2024-07-10,1\n2024-07-11,-3\n", "row 3, column 'X': -3 is not a positive price"),
    ("Date,X\n2024-07-10,1\n2024-07-11,0\n", "row 3, column 'X': 0 is not a positive price"),
    ("Date,X\n2024-07-10,1\n2024-07-11,n/a\n", "row 3, column 'X': 'n/a' is not a number"),
    ("Date,X,Y\n2024-07-10,1,2\n2024-07-11,2,oops\n", "row 3, column 'Y': 'oops'"),
])
@pytest.mark.another_process
def test_bad_files_are_refused_with_the_row(tmp_path, cache, body, message):
    res = cli(cache, "data", "import", str(write(tmp_path, body)))
    assert res.returncode == 2 and message in res.stderr, res.stderr
    assert len(res.stderr.strip().splitlines()) <= 2 and "Traceback" not in res.stderr
    assert not (cache / "series").exists() or not any((cache / "series").iterdir())


# The same rules in process (what `data import` calls), every date and value checked.
@pytest.mark.parametrize("body, day_first, dates", [
    ("Date,X\n16/07/2024,1\n17/07/2024,2\n", None, ["2024-07-16", "2024-07-17"]),
    ("Date,X\n07/16/2024,1\n07/17/2024,2\n", None, ["2024-07-16", "2024-07-17"]),
    ("Date,X\n03.04.2024,1\n04.04.2024,2\n", True, ["2024-04-03", "2024-04-04"]),
    ("Date,X\n03.04.2024,1\n04.04.2024,2\n", False, ["2024-03-04", "2024-04-04"]),
    ("Date\tX\n20240716\t1\n20240817\t2\n", None, ["2024-07-16", "2024-08-17"]),
    ("Date,X\n2024-07-16,1\n2024-08-17,2\n", None, ["2024-07-16", "2024-08-17"]),
    (",X\n2024-07-16,1\n2024-08-17,2\n", None, ["2024-07-16", "2024-08-17"]),  # pandas' to_csv
    # pipes with a space either side, as typed by hand: the spaces are not the separator
    ("Date | X\n2024-07-16 | 1\n2024-08-17 | 2\n", None, ["2024-07-16", "2024-08-17"]),
])
def test_read_user_csv_reads_each_date_form(tmp_path, body, day_first, dates):
    got = read_user_csv(write(tmp_path, body), day_first)
    assert list(got) == ["X"]
    assert list(got["X"].index) == [pd.Timestamp(d) for d in dates]
    assert got["X"].tolist() == [1.0, 2.0]


def test_read_user_csv_semicolons_decimal_commas_and_gaps(tmp_path):
    body = "date;MYIDX;OTHER\n2024-07-10;100,5;7\n2024-07-11;;8\n2024-07-12;101;9,25\n"
    got = read_user_csv(write(tmp_path, body))
    assert got["MYIDX"].to_dict() == {pd.Timestamp("2024-07-10"): 100.5,
                                      pd.Timestamp("2024-07-12"): 101.0}
    assert got["OTHER"].tolist() == [7.0, 8.0, 9.25]
    # with commas as separators a comma is never a decimal point
    got = read_user_csv(write(tmp_path, "Date,X\n2024-07-10,1.5\n2024-07-11,2\n"))
    assert got["X"].tolist() == [1.5, 2.0]
    # a row that stops early (a file edited by hand, or written by a tool that drops empty
    # cells at the end of a row) has no value there
    got = read_user_csv(write(tmp_path, "Date,A,B\n2024-07-10,1,2\n2024-07-11,3\n"
                                        "2024-07-12\n2024-07-15,4,5\n"))
    assert got["A"].tolist() == [1.0, 3.0, 4.0] and got["B"].tolist() == [2.0, 5.0]
    assert list(got["B"].index.strftime("%m-%d")) == ["07-10", "07-15"]


@pytest.mark.parametrize("body, day_first, message", [
    ("Date,X\n03.04.2024,1\n04.04.2024,2\n", None,
     "mine.csv: row 2: '03.04.2024' could be day/month or month/day; write ISO dates "
     "(2024-07-16) or pass --day-first or --month-first"),
    ("Date,X\n16/07/2024,1\n07/17/2024,2\n", None,
     "mine.csv: dates mix day-first and month-first forms; write ISO dates (2024-07-16)"),
    ("Date,X\n2024-07-10,1\nyesterday-and-today!!!,2\n", None,   # 22 characters: 20 shown
     "mine.csv: row 3: 'yesterday-and-today!' is not a date (use 2024-07-16)"),
    ("Date,X\n2024-07-10,1\n2024-07-11,abcdefghijklmnopqrstuvwxyz\n", None,
     "mine.csv: row 3, column 'X': 'abcdefghijklmnopqrst' is not a number"),
    ("Date,X\n2024-07-10,1\n2024-07-11,-3.000000000000000000001\n", None,
     "mine.csv: row 3, column 'X': -3.00000000000000000 is not a positive price"),
    ("Date,X\n2024-07-10,1\n2024-07-10,2\n", None,
     "mine.csv: row 3: the date 2024-07-10 appears twice"),
    ("Date,X,Y\n2024-07-10,1,\n2024-07-11,2,\n", None, "mine.csv: column 'Y' has no numbers"),
    ("45488,1\n45489,2\n", None, "mine.csv: the first line must name the columns (date, then "
     "one name per series); it holds data"),                    # Excel serial dates, no header
    ("16/07/2024,1\n17/07/2024,2\n", None, "mine.csv: the first line must name the columns "
     "(date, then one name per series); it holds data"),
    ("2024-07-10,n/a\n2024-07-11,2\n", None, "mine.csv: the first line must name the columns "
     "(date, then one name per series); it holds data"),           # its date gives it away
    ("Date,X\n03/04/2024,1\ntotal,2\n", True,         # the order given, a row that is no date
     "mine.csv: row 3: 'total' is not a date (use 2024-07-16)"),
    ("Date,X\n03/04/2024,1\ntotal,2\n", False,
     "mine.csv: row 3: 'total' is not a date (use 2024-07-16)"),
    ("Date,X\n12/07/2024,1\n11/07/2024,2\n", None,    # 12 can be December: no proof either way
     "mine.csv: row 2: '12/07/2024' could be day/month or month/day; write ISO dates "
     "(2024-07-16) or pass --day-first or --month-first"),
])
def test_read_user_csv_refuses_with_the_row_and_the_reason(tmp_path, body, day_first, message):
    with pytest.raises(DataError) as exc:
        read_user_csv(write(tmp_path, body), day_first)
    assert str(exc.value) == message


def test_the_store_reads_an_import_in_the_order_the_user_gives(tmp_path):
    """03/04/2024 could be either: the store's import reads it as the user says."""
    store = DataStore(cache_dir=tmp_path / "cache")
    f = write(tmp_path, "Date,MYDAYS\n03/04/2024,1\n04/04/2024,2\n")
    assert store.import_csv(f, day_first=True) == ["MYDAYS"]
    assert store.series("MYDAYS").index[0] == pd.Timestamp("2024-04-03")
    f = write(tmp_path, "Date,MYMONTHS\n03/04/2024,1\n04/04/2024,2\n")
    store.import_csv(f, day_first=False)
    assert store.series("MYMONTHS").index[0] == pd.Timestamp("2024-03-04")


def test_read_user_csv_names_what_it_cannot_read(tmp_path):
    bad = tmp_path / "mine.csv"
    bad.write_bytes(b"Date,X\n2024-07-10,\xff\xfe\n")
    with pytest.raises(DataError, match=r"^mine\.csv: cannot read it \(UnicodeDecodeError\)$"):
        read_user_csv(bad)
    with pytest.raises(DataError, match=r"^gone\.csv: no such file$"):
        read_user_csv(tmp_path / "gone.csv")


def test_a_file_sniffing_cannot_read_is_taken_as_commas(tmp_path):
    f = tmp_path / "one.csv"
    f.write_text("date,X\n2024-07-16,1\n2024-07-17,2\n")
    assert read_user_csv(f)["X"].tolist() == [1.0, 2.0]


@pytest.mark.parametrize("body, message", [
    ("date,X\n2024-02-30,1\n2024-03-01,2\n",
     "bad.csv: row 2: '2024-02-30' is not a date (use 2024-07-16)"),
    ("date,X\n31/02/2024,1\n01/03/2024,2\n",
     "bad.csv: row 2: '31/02/2024' is not a date (use 2024-07-16)"),
    ("date,X\n", "bad.csv: not a CSV with a date column first and at least one series column"),
    ("date\n2024-07-16\n2024-07-17\n",
     "bad.csv: not a CSV with a date column first and at least one series column"),
])
def test_dates_that_do_not_exist_and_files_without_rows_are_named(tmp_path, body, message):
    f = tmp_path / "bad.csv"
    f.write_text(body)
    with pytest.raises(DataError) as info:
        read_user_csv(f)
    assert str(info.value) == message


def test_a_file_saved_as_csv_utf8_by_excel_reads_the_same(tmp_path):
    """Excel's "CSV UTF-8" starts the file with a byte-order mark; it is not part of the first
    cell, so a file without a header is still recognised as one."""
    f = tmp_path / "bom.csv"
    f.write_bytes("\ufeffdate,CAFÉ\n2024-07-16,1\n2024-07-17,2\n".encode())
    assert read_user_csv(f)["CAFÉ"].tolist() == [1.0, 2.0]
    g = tmp_path / "noheader.csv"
    g.write_bytes("\ufeff2024-07-16,1\n2024-07-17,2\n".encode())
    with pytest.raises(DataError, match="first line"):
        read_user_csv(g)


def test_an_imported_series_is_described_by_its_file(tmp_path, cache):
    f = write(tmp_path, "date,MYIDX\n2024-07-16,1\n2024-07-17,2\n")
    store = DataStore(cache_dir=cache)
    store.import_csv(f)
    assert store.describe("MYIDX") == f"imported from {f.name}"
