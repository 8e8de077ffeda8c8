"""The committed extracts are what the raw files hold: the numbers tests read the real data."""

from __future__ import annotations

import gzip
import importlib.util

import pytest
from conftest import EXTRACTS, ROOT

spec = importlib.util.spec_from_file_location("make_extracts",
                                              ROOT / "tests" / "fixtures" / "make_extracts.py")
make_extracts = importlib.util.module_from_spec(spec)
spec.loader.exec_module(make_extracts)


@pytest.mark.parametrize("name", sorted(make_extracts.EXTRACTS))
def test_fixtures_are_extracts_of_the_raw_files(raw_dir, name):
    committed = gzip.decompress((EXTRACTS / f"{name}.gz").read_bytes()).decode()
    assert committed == make_extracts.extract(raw_dir, name)


def test_the_extracts_reach_the_dates_the_tests_name():
    from conftest import raw_rows

    iwm = [r["date"] for r in raw_rows("prices/IWM.csv")]
    assert iwm[0] <= "2012-01-03" and iwm[-1] >= "2026-07-01" and len(iwm) > 3500
    smb = raw_rows("macro/F-F_Research_Data_Factors_daily.csv")
    assert smb[0]["Date"] == "1926-07-01" and smb[-1]["Date"] == "2026-04-30"
    assert len(smb) == 26233                   # PROVENANCE.md's row count
    assert len(raw_rows("macro/WRMFNS.csv")) == 2148
