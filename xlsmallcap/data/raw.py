"""Parsers for the raw files under ``shared/data/raw/`` (used only to build the snapshot).

Each raw layout is different (see the two PROVENANCE.md files): ETF files with ``date,o,h,l,c,v``
or ``Date,Close``, FRED files with ``date,value`` or ``DATE,<ID>``, the Fed's H.6 download with
five metadata rows, and Kenneth French's text files with a preamble and a copyright trailer.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pandas as pd

from xlsmallcap.data.catalog import SeriesInfo

#: The ``prices/extended/`` download was made mid-morning on 2026-07-14: that row is intraday.
EXTENDED_LAST_COMPLETE = pd.Timestamp("2026-07-13")


def _finish(s: pd.Series, info: SeriesInfo) -> pd.Series:
    s = pd.to_numeric(s, errors="coerce").dropna().astype("float64")
    s.index = pd.DatetimeIndex(s.index).as_unit("ns")
    s.index.name = "date"
    s.name = info.id
    if s.index.has_duplicates:
        raise ValueError(f"{info.raw}: duplicated dates")
    return s.sort_index()


def _read_french(path: Path, column: str) -> pd.Series:
    """French library text: preamble, a ``Date,...`` header, data, a blank line, a trailer."""
    lines = path.read_text(encoding="latin-1").splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().lower().startswith("date,"))
    body = [lines[start]]
    for line in lines[start + 1:]:
        if not re.match(r"\s*\d", line):   # a blank line or the trailer ends the data
            break
        body.append(line)
    df = pd.read_csv(io.StringIO("\n".join(body)), skipinitialspace=True, dtype={"Date": str})
    df.columns = [c.strip() for c in df.columns]
    dates = df["Date"].str.strip()
    fmt = "%Y%m%d" if dates.str.fullmatch(r"\d{8}").all() else "%Y-%m-%d"
    return pd.Series(df[column].to_numpy(), index=pd.to_datetime(dates, format=fmt))


def _read_h6(path: Path, column: str) -> pd.Series:
    """Fed Data Download Program CSV: 5 metadata rows, then ``Time Period`` rows ``YYYY-MM``."""
    df = pd.read_csv(path, skiprows=5)
    idx = pd.to_datetime(df["Time Period"], format="%Y-%m")
    return pd.Series(df[column].to_numpy(), index=idx)


def _read_plain(path: Path, column: str) -> pd.Series:
    """A CSV whose first column is an ISO date (``date``, ``DATE``, ``observation_date``...)."""
    df = pd.read_csv(path, na_values=["."], dtype={0: str})
    first = df.columns[0]
    idx = pd.to_datetime(df[first], format="%Y-%m-%d")
    return pd.Series(df[column].to_numpy(), index=idx)


def read_raw(raw_dir: Path, info: SeriesInfo) -> pd.Series:
    """The series ``info`` as a float Series indexed by date, read from ``raw_dir/info.raw``."""
    path = Path(raw_dir) / info.raw
    if info.group == "french":
        s = _read_french(path, info.raw_column)
    elif info.raw.endswith("FRB_H6.csv"):
        s = _read_h6(path, info.raw_column)
    else:
        s = _read_plain(path, info.raw_column)
    if "/extended/" in info.raw:
        s = s[s.index <= EXTENDED_LAST_COMPLETE]
    return _finish(s, info)
