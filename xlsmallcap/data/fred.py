"""Live series from FRED's public CSV download (no API key).

``https://fred.stlouisfed.org/graph/fredgraph.csv?id=<ID>`` answers with a two-column CSV: a date
column (``observation_date`` today, ``DATE`` in older downloads) and the series id. Missing
observations are empty (``.`` in older downloads).
"""

from __future__ import annotations

import io
import urllib.request
from collections.abc import Callable

import pandas as pd

from xlsmallcap.data.errors import LiveDataError

FRED_CSV_URL = "https://fred.stlouisfed.org/graph/fredgraph.csv?id={id}"
Fetch = Callable[[str, float], bytes]


def _urlopen(url: str, timeout: float) -> bytes:
    req = urllib.request.Request(url, headers={"User-Agent": "xlsmallcap"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 (fixed https URL)
        return resp.read()


def parse_fred_csv(data: bytes, series_id: str) -> pd.Series:
    """Parse a FRED CSV download; raise :class:`LiveDataError` unless it is one for the id."""
    try:
        df = pd.read_csv(io.BytesIO(data), dtype=str)
    except Exception as exc:
        raise LiveDataError(f"{series_id}: FRED sent a malformed CSV ({exc})") from exc
    cols = [c.strip() for c in df.columns]
    if len(cols) != 2 or cols[0].lower() not in ("observation_date", "date") or \
            cols[1].upper() != series_id.upper():
        raise LiveDataError(f"{series_id}: FRED sent a malformed CSV (header {cols!r}, expected "
                            f"['observation_date', '{series_id}'])")
    dates = pd.to_datetime(df.iloc[:, 0], format="%Y-%m-%d", errors="coerce")
    raw = df.iloc[:, 1].str.strip()
    missing = raw.isna() | raw.isin(["", "."])
    values = pd.to_numeric(raw.where(~missing), errors="coerce")
    bad = dates.isna() | (values.isna() & ~missing)
    if bad.any():
        row = int(bad.to_numpy().argmax()) + 2
        raise LiveDataError(f"{series_id}: FRED sent a malformed CSV (line {row} is not "
                            "'date,number')")
    s = pd.Series(values.to_numpy(dtype="float64"), index=pd.DatetimeIndex(dates).as_unit("ns"),
                  name=series_id.upper()).dropna()
    if s.empty:
        raise LiveDataError(f"{series_id}: FRED sent no observations")
    if s.index.has_duplicates:
        raise LiveDataError(f"{series_id}: FRED sent duplicated dates")
    return s.sort_index()


def download_series(series_id: str, *, timeout: float = 20, fetch: Fetch | None = None
                    ) -> pd.Series:
    """The whole history of a FRED series (FRED revises history, so it is always replaced)."""
    fetch = fetch or _urlopen
    url = FRED_CSV_URL.format(id=series_id)
    try:
        data = fetch(url, timeout)
    except Exception as exc:
        raise LiveDataError(f"{series_id}: FRED download failed: {type(exc).__name__}: {exc}"
                            ) from exc
    return parse_fred_csv(data, series_id)
