"""The catalog against what it describes: the raw files and columns it names exist, the
frequency it states is the spacing of the data, and every field takes a value the package acts
on (an unknown live source would never be updated, an unknown publication rule would make a
series public on the day it describes)."""

from __future__ import annotations

import csv

import pytest
from conftest import shared

from xlsmallcap.data import catalog
from xlsmallcap.data.publication import RULES
from xlsmallcap.data.store import DataStore

#: The spacing in days (median gap between observations) each stated frequency allows.
SPACING = {"daily": (1, 4), "weekly": (7, 7), "monthly": (28, 31), "quarterly": (89, 92)}


def _header_cells(path, lines: int = 40) -> set[str]:
    """Every cell of the first lines: the Fama-French files have a preamble before theirs."""
    with path.open(newline="", encoding="utf-8", errors="replace") as f:
        rows = [row for _, row in zip(range(lines), csv.reader(f), strict=False)]
    return {c.strip() for row in rows for c in row}


@pytest.mark.parametrize("info", catalog.CATALOG, ids=lambda i: i.id)
def test_each_series_names_a_raw_file_and_a_column_that_exist(raw_dir, info):
    path = raw_dir / info.raw
    assert path.is_file(), info.raw
    assert info.raw_column in _header_cells(path), (info.raw, info.raw_column)


@pytest.fixture(scope=shared)
def embedded(tmp_path_factory):
    return DataStore(cache_dir=tmp_path_factory.mktemp("cache"))


@pytest.mark.parametrize("info", catalog.CATALOG, ids=lambda i: i.id)
def test_the_stated_frequency_is_the_spacing_of_the_data(embedded, info):
    gaps = embedded.series(info.id).index.to_series().diff().dt.days.dropna()
    lo, hi = SPACING[info.frequency.split()[0]]
    assert lo <= gaps.median() <= hi, (info.id, info.frequency, gaps.median())


@pytest.mark.parametrize("info", catalog.CATALOG, ids=lambda i: i.id)
def test_every_field_takes_a_value_the_package_acts_on(info):
    assert info.kind in ("price", "yield", "rate", "mmf", "factor")
    assert info.live in ("yahoo", "fred", None)
    assert info.publication in RULES
    assert info.group in ("prices", "rates", "mmf", "french")
    for text in (info.description, info.units, info.attribution, info.symbol):
        assert isinstance(text, str) and text.strip(), info.id
    if info.kind == "price":   # prices come from Yahoo under their own ticker, public at close
        assert (info.live, info.symbol, info.publication) == ("yahoo", info.id, "close")
    if info.kind == "mmf":     # money-fund data comes out weeks later (H.6, Z.1)
        assert info.publication in ("h6_weekly", "h6_monthly", "z1_quarterly")
    if info.group == "french":  # no live source; the library publishes a month or two late
        assert (info.live, info.publication) == (None, "french_monthly")


def test_the_catalog_holds_the_series_the_analysis_reads():
    ids = [i.id for i in catalog.CATALOG]
    assert len(ids) == len(set(ids)) == 34
    assert {"IWM", "SPY", "QQQ", "DIA", "IJR", "IWB", "^IRX", "DGS2", "DFF", "WRMFNS", "RMFNS",
            "FF_SMB", "FF_ME_LO10", "FF_ME_HI10"} <= set(ids)
    assert catalog.GROUPS == ("prices", "rates", "mmf", "french")


@pytest.mark.parametrize("info", [i for i in catalog.CATALOG if i.group == "rates"
                                  and i.raw.startswith("macro/")],
                         ids=lambda i: i.id)
def test_fred_descriptions_and_units_are_those_of_the_provenance(raw_dir, info):
    """What DATA_STATUS shows for a FRED series is what the data's provenance says: its
    description (first letter aside) and its units, in the row for its file."""
    rows = [line for line in (raw_dir / "macro" / "PROVENANCE.md").read_text().splitlines()
            if line.startswith(f"| `{info.raw.split('/')[-1]}` |")]
    assert len(rows) == 1, info.raw
    described = info.description[0].lower() + info.description[1:]
    assert described in rows[0] or info.description in rows[0], (info.description, rows[0])
    assert info.units in rows[0], (info.units, rows[0])


def test_units_by_kind_are_the_ones_the_arithmetic_assumes():
    """Factors are divided by 100 (percent per day), money-fund assets are read in billions
    or millions as stated, rates and yields are percent."""
    units: dict[str, set[str]] = {}
    for i in catalog.CATALOG:
        units.setdefault(i.kind, set()).add(i.units)
    assert units == {"price": {"USD, adjusted close"}, "yield": {"percent"},
                     "rate": {"percent p.a."}, "mmf": {"billions of USD", "millions of USD"},
                     "factor": {"percent per day"}}
