"""The one CSV layout the package writes: ``date`` (ISO) then one column per series."""

from __future__ import annotations

import gzip
import io

import pandas as pd


def frame_to_csv(df: pd.DataFrame) -> bytes:
    """Serialize a date-indexed frame; floats keep full precision (shortest round-trip repr)."""
    out = df.copy()
    out.index = pd.DatetimeIndex(out.index).strftime("%Y-%m-%d")
    out.index.name = "date"
    return out.to_csv(lineterminator="\n").encode("utf-8")


def csv_to_frame(data: bytes) -> pd.DataFrame:
    """Parse what :func:`frame_to_csv` wrote. Raises ``ValueError`` on anything else."""
    df = pd.read_csv(io.BytesIO(data))   # the dates stay text: parsed with their one format
    if df.columns.size < 2 or df.columns[0] != "date":
        raise ValueError("expected a 'date' column followed by value columns")
    idx = pd.DatetimeIndex(pd.to_datetime(df.pop("date"), format="%Y-%m-%d")).as_unit("ns")
    df.index = idx
    df.index.name = "date"
    df = df.astype("float64")
    if not df.index.is_monotonic_increasing or df.index.has_duplicates:
        raise ValueError("dates must be unique and ascending")
    return df


def gzip_bytes(data: bytes) -> bytes:
    """gzip with a zero timestamp and no file name, so equal input gives equal bytes."""
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", filename="", mtime=0, compresslevel=9) as gz:
        gz.write(data)
    return buf.getvalue()
