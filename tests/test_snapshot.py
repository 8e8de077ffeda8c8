"""The embedded snapshot: contents, coverage, spot values, size, reproducible build."""

from __future__ import annotations

import gzip
import json

import pandas as pd
import pytest
from conftest import shared

from xlsmallcap.data.catalog import CATALOG
from xlsmallcap.data.snapshot import (
    ATTRIBUTION,
    MANIFEST,
    build_snapshot,
    load_group,
    load_manifest,
    snapshot_dir,
)
from xlsmallcap.data.store import DataStore

# (first, last, rows) as PROVENANCE.md states them (extended/ without its intraday last row).
COVERAGE = {
    "IWM": ("2000-05-26", "2026-07-01", 6562),
    "SPY": ("1993-01-29", "2026-07-01", 8412),
    "QQQ": ("1999-03-10", "2026-07-01", 6870),
    "DIA": ("1998-01-20", "2026-07-01", 7156),
    "RSP": ("2003-05-01", "2026-07-01", 5829),
    "IWB": ("2000-05-19", "2026-07-13", 6574),
    "IWF": ("2000-05-26", "2026-07-13", 6569),
    "^IRX": ("1976-07-14", "2026-07-13", 12524),
    "DFF": ("1954-07-01", "2026-07-22", 26320),
    "DGS2": ("1976-06-01", "2026-08-20", 12552),
    "WRMFNS": ("1985-01-07", "2026-03-02", 2148),
    "RMFNS": ("1973-01-01", "2024-07-01", 619),
    "MMMFFAQ027S": ("1945-10-01", "2020-10-01", 283),
    "FF_SMB": ("1926-07-01", "2026-04-30", 26233),
    "FF_ME_LO10": ("1926-07-01", "2025-05-30", 26003),
}


@pytest.fixture(scope=shared)
def snap() -> DataStore:
    return DataStore(cache_dir="/nonexistent-xlsmallcap-cache")


def test_every_catalog_series_is_in_the_snapshot(snap):
    manifest = load_manifest()
    assert set(manifest) == {s.id for s in CATALOG}
    for info in CATALOG:
        s = snap.series(info.id)
        assert not s.empty and s.index.is_monotonic_increasing and not s.index.has_duplicates
        assert manifest[info.id]["rows"] == s.size


@pytest.mark.parametrize("sid", sorted(COVERAGE))
def test_coverage_matches_provenance(snap, sid):
    first, last, rows = COVERAGE[sid]
    s = snap.series(sid)
    assert s.index[0] == pd.Timestamp(first)
    assert s.index[-1] == pd.Timestamp(last)
    if rows is not None:
        assert s.size == rows


def test_extended_intraday_row_is_dropped(snap):
    assert snap.series("IWB").index[-1] == pd.Timestamp("2026-07-13")
    assert pd.Timestamp("2026-07-14") not in snap.series("^TNX").index


def test_spot_values_from_provenance(snap):
    iwm, spy = snap.series("IWM"), snap.series("SPY")
    assert iwm["2024-07-16"] / iwm["2024-07-10"] - 1 == pytest.approx(0.1044, abs=5e-5)
    assert spy["2024-07-16"] / spy["2024-07-10"] - 1 == pytest.approx(0.0063, abs=5e-5)
    assert iwm["2024-07-10"] == pytest.approx(199.003)
    assert snap.series("FF_SMB")["2024-07-11"] == pytest.approx(3.60)
    assert snap.series("FF_ME_LO10")["2024-07-11"] == pytest.approx(4.86)
    assert snap.series("FF_ME_HI10")["2024-07-11"] == pytest.approx(-1.36)
    assert snap.series("WRMFNS")["2024-07-08"] == pytest.approx(1844.5)
    assert snap.series("RMFNS")["2024-07-01"] == pytest.approx(1855.2)
    assert snap.series("DGS2")["2024-07-11"] == pytest.approx(4.50)
    assert snap.series("DFF")["2025-12-31"] == pytest.approx(3.64)
    assert snap.series("MMMFFAQ027S")["2020-10-01"] == pytest.approx(4336003.0)


def test_snapshot_is_compact_and_attributed():
    folder = snapshot_dir()
    total = sum(p.stat().st_size for p in folder.iterdir() if p.is_file())
    assert total < 3_000_000
    text = (folder / ATTRIBUTION).read_text()
    for needle in ("Yahoo Finance", "FRED", "Kenneth R. French", "WRMFNS", "2026-07-01"):
        assert needle in text


def test_build_is_reproducible_from_raw(raw_dir, tmp_path):
    """Rebuilding from shared/data/raw gives the committed content, twice over."""
    build_snapshot(raw_dir, tmp_path / "a")
    build_snapshot(raw_dir, tmp_path / "b")
    committed = snapshot_dir()
    for p in sorted((tmp_path / "a").iterdir()):
        again = (tmp_path / "b" / p.name).read_bytes()
        assert p.read_bytes() == again, f"{p.name} differs between two builds"
        mine = committed / p.name
        if p.name.endswith(".gz"):
            assert gzip.decompress(p.read_bytes()) == gzip.decompress(mine.read_bytes()), p.name
        else:
            assert p.read_bytes() == mine.read_bytes(), p.name
    assert json.loads((tmp_path / "a" / MANIFEST).read_text())["IWM"]["raw_sha256"]


def test_values_equal_raw_files(raw_dir):
    """Every snapshot price equals the raw CSV, parsed here independently."""
    prices = load_group("prices")
    for t in ("IWM", "SPY", "QQQ", "DIA"):
        raw = pd.read_csv(raw_dir / "prices" / f"{t}.csv", index_col="date", parse_dates=True)["c"]
        pd.testing.assert_series_equal(prices[t].dropna(), raw, check_names=False,
                                       check_index_type=False, check_freq=False)


def test_build_writes_into_the_package_folder_by_default(raw_dir, tmp_path, monkeypatch):
    import xlsmallcap.data.snapshot as snap

    monkeypatch.setattr(snap, "snapshot_dir", lambda: tmp_path / "pkg")
    sizes = build_snapshot(raw_dir)
    assert sorted(sizes) == sorted(p.name for p in (tmp_path / "pkg").iterdir())
    assert all((tmp_path / "pkg" / n).stat().st_size == size for n, size in sizes.items())


def test_a_store_reads_the_snapshot_folder_it_is_given(tmp_path):
    """A store built on another snapshot (an older package's, a rebuilt one) reads its prices
    from that folder, not from the one installed with the package."""
    import shutil

    from xlsmallcap.data.csvio import csv_to_frame, frame_to_csv, gzip_bytes

    folder = tmp_path / "snapshot"
    shutil.copytree(snapshot_dir(), folder)
    prices = csv_to_frame(gzip.decompress((folder / "prices.csv.gz").read_bytes()))
    (folder / "prices.csv.gz").write_bytes(gzip_bytes(frame_to_csv(prices.iloc[:100])))
    other = DataStore(cache_dir=tmp_path / "cache", snapshot_folder=folder)
    mine = DataStore(cache_dir=tmp_path / "cache2")
    assert other.series("SPY").index[-1] == prices["SPY"].iloc[:100].dropna().index[-1]
    assert mine.series("SPY").index[-1] == prices["SPY"].dropna().index[-1]


def test_raw_cells_that_are_no_number_are_left_out(tmp_path):
    """The Fed's Data Download Program marks a month without data ``ND`` (or leaves it empty)
    and FRED writes ``.``: such a month or day is left out of the series, not read as a
    number, and the build does not stop at it."""
    from xlsmallcap.data.catalog import BY_ID
    from xlsmallcap.data.raw import read_raw

    (tmp_path / "macro").mkdir()
    meta = "".join(f'"{k}","x"\n' for k in ("Series Description", "Unit:", "Multiplier:",
                                              "Currency:", "Unique Identifier:"))
    (tmp_path / "macro" / "FRB_H6.csv").write_text(
        meta + '"Time Period","MMFGB_N.M"\n2024-04,ND\n2024-05,1234.5\n2024-06,\n2024-07,1240\n')
    (tmp_path / "macro" / "DGS2.csv").write_text(
        "date,value\n2024-07-15,4.45\n2024-07-16,.\n2024-07-17,4.42\n")
    h6 = read_raw(tmp_path, BY_ID["RMFNS"])
    assert h6.to_dict() == {pd.Timestamp("2024-05-01"): 1234.5, pd.Timestamp("2024-07-01"): 1240.0}
    assert h6.dtype == "float64" and h6.name == "RMFNS"
    dgs2 = read_raw(tmp_path, BY_ID["DGS2"])
    assert dgs2.to_dict() == {pd.Timestamp("2024-07-15"): 4.45, pd.Timestamp("2024-07-17"): 4.42}
