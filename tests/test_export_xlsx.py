"""``data export`` to .xlsx: every series, the numbers of the raw files, atomic."""

from __future__ import annotations

import datetime as dt
import os

import numpy as np
import pytest
from conftest import raw_rows, shared
from openpyxl import load_workbook

from xlsmallcap.data import xlsx
from xlsmallcap.data.store import DataStore


@pytest.fixture(scope=shared)
def store(tmp_path_factory) -> DataStore:
    return DataStore(cache_dir=tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope=shared)
def exported(store, tmp_path_factory):
    path = tmp_path_factory.mktemp("export") / "all.xlsx"
    seen = []
    store.export(path, progress=lambda done, total: seen.append((done, total)))
    return path, seen


def test_every_series_is_exported_with_the_raw_closes(store, exported):
    path, _ = exported
    ws = load_workbook(path, read_only=True)["data"]
    rows = ws.iter_rows(values_only=True)
    header = next(rows)
    assert header[0] == "date" and list(header[1:]) == store.available()
    by_date = {r[0].date(): r for r in rows}
    iwm = {r["date"]: float(r["c"]) for r in raw_rows("prices/IWM.csv")}
    spy = {r["date"]: float(r["c"]) for r in raw_rows("prices/SPY.csv")}
    col = {name: i for i, name in enumerate(header)}
    named = [d for d in ("2000-05-26", "2016-11-18", "2021-01-29", "2024-07-16", "2026-07-01")
             if d in iwm and d in spy]     # the extracts under tests/ hold some of them
    assert len(named) >= 3
    for day in named:
        row = by_date[dt.date.fromisoformat(day)]
        assert row[col["IWM"]] == pytest.approx(iwm[day], rel=1e-12), day
        assert row[col["SPY"]] == pytest.approx(spy[day], rel=1e-12), day
    # before IWM existed its cell is empty, not zero
    assert by_date[dt.date(2000, 5, 25)][col["IWM"]] is None


def test_progress_runs_to_the_last_row(exported):
    _, seen = exported
    assert seen and seen[-1][0] == seen[-1][1] and all(t == seen[0][1] for _, t in seen)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_an_interrupted_export_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "out.xlsx"
    target.write_bytes(b"the old export")
    dates = np.arange("2020-01-01", "2021-01-01", dtype="datetime64[D]")
    values = np.ones((dates.size, 2))

    def stop(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        xlsx.write_table(target, ["a", "b"], dates, values, progress=stop)
    assert target.read_bytes() == b"the old export"
    assert os.listdir(tmp_path) == ["out.xlsx"]


def test_empty_and_non_finite_values_leave_cells_empty(tmp_path):
    dates = np.array(["2024-07-15", "2024-07-16"], dtype="datetime64[D]")
    values = np.array([[1.5, np.nan], [np.inf, -2.25]])
    path = xlsx.write_table(tmp_path / "t.xlsx", ["x", "y & z"], dates, values)
    ws = load_workbook(path)["data"]
    assert [[c.value for c in row] for row in ws.iter_rows()] == [
        ["date", "x", "y & z"], [dt.datetime(2024, 7, 15), 1.5, None],
        [dt.datetime(2024, 7, 16), None, -2.25]]
    assert ws["A2"].number_format == "yyyy-mm-dd"
    assert oct(path.stat().st_mode & 0o777) == "0o644"


def test_a_sheet_name_with_quotes_and_ampersand_reads_back(tmp_path):
    dates = np.array(["2024-07-16"], dtype="datetime64[D]")
    path = xlsx.write_table(tmp_path / "q.xlsx", ["x"], dates, np.array([[1.0]]),
                            sheet='IWM "vs" SPY & more')
    assert load_workbook(path).sheetnames == ['IWM "vs" SPY & more']


def test_values_are_written_as_floats_whatever_they_came_as(tmp_path):
    """Integers, numeric text and None (a missing value) as numpy turns them into floats."""
    dates = np.array(["2024-07-15", "2024-07-16"], dtype="datetime64[D]")
    path = xlsx.write_table(tmp_path / "v.xlsx", ["x", "y"], dates, [[1, None], ["2.5", 3]])
    ws = load_workbook(path)["data"]
    assert [[c.value for c in row[1:]] for row in ws.iter_rows(min_row=2)] == [
        [1, None], [2.5, 3]]
    assert ws["B2"].data_type == "n" and ws["C3"].data_type == "n"


def test_every_part_holds_text_only_where_the_schema_allows_it(tmp_path):
    """Excel refuses a part with stray text between elements; openpyxl would not notice. Text
    only in ``<t>``, ``<v>`` and the document properties; the header row frozen and the date
    column wide enough for a date."""
    import zipfile

    from lxml import etree

    dates = np.array(["2024-07-15", "2024-07-16"], dtype="datetime64[D]")
    path = xlsx.write_table(tmp_path / "s.xlsx", ["x & y"], dates, np.array([[1.5], [2.5]]))
    texts = {"t", "v", "Application", "DocSecurity", "ScaleCrop", "LinksUpToDate",
             "SharedDoc", "HyperlinksChanged", "AppVersion", "creator", "created",
             "modified", "title", "lastModifiedBy", "description", "Company"}
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if not name.endswith((".xml", ".rels")):
                continue
            root = etree.fromstring(z.read(name))
            for el in root.iter():
                local = etree.QName(el).localname
                if local not in texts:
                    assert not (el.text or "").strip(), (name, local, el.text)
                assert not (el.tail or "").strip(), (name, local, el.tail)
    ws = load_workbook(path)["data"]
    assert ws.freeze_panes == "A2" and ws.column_dimensions["A"].width == 11
    assert [c.value for c in ws[1]] == ["date", "x & y"]
