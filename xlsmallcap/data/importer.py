"""Reading a user's CSV of dates and prices: strict, and every refusal names the row.

The first line names the columns (a date column, then one name per series). The delimiter is
detected (comma, semicolon, tab or bar). Dates are ISO (2024-07-16, 2024/07/16, 20240716), or
day/month forms whose order is either stated (``day_first``) or unambiguous in the file (a day
above 12 somewhere); a file of dates like 03.04.2024 with no such day is refused rather than
guessed. Values are positive numbers (a decimal comma is read in semicolon files); a blank
cell is a gap.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd

from xlsmallcap.data.errors import DataError

_ISO = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$|^(\d{4})(\d{2})(\d{2})$")
_DMY = re.compile(r"^(\d{1,2})[./-](\d{1,2})[./-](\d{4})$")


def _delimiter(sample: str) -> str:
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def _order(texts: list[str], day_first: bool | None, path: Path) -> bool | None:
    """True for day-first, False for month-first, None when every date is ISO."""
    pairs = [(int(m.group(1)), int(m.group(2)), i) for i, t in enumerate(texts, start=2)
             if (m := _DMY.match(t))]
    if not pairs or day_first is not None:
        return day_first
    day = any(a > 12 for a, _, _ in pairs)
    month = any(b > 12 for _, b, _ in pairs)
    if day and month:
        raise DataError(f"{path.name}: dates mix day-first and month-first forms; "
                        "write ISO dates (2024-07-16)")
    if not day and not month:
        row = pairs[0][2]
        raise DataError(f"{path.name}: row {row}: '{texts[row - 2]}' could be day/month or "
                        "month/day; write ISO dates (2024-07-16) or pass --day-first or "
                        "--month-first")
    return day


def _date(text: str, order: bool | None, row: int, path: Path) -> pd.Timestamp:
    m = _ISO.match(text)
    try:
        if m:
            y, mo, d = (m.group(1), m.group(2), m.group(3)) if m.group(1) else \
                (m.group(4), m.group(5), m.group(6))
            return pd.Timestamp(int(y), int(mo), int(d))
        m = _DMY.match(text)
        if m and order is not None:
            a, b, y = int(m.group(1)), int(m.group(2)), int(m.group(3))
            return pd.Timestamp(y, b, a) if order else pd.Timestamp(y, a, b)
    except ValueError:
        pass
    raise DataError(f"{path.name}: row {row}: '{text[:20]}' is not a date (use 2024-07-16)")


def read_user_csv(path: Path | str, day_first: bool | None = None) -> dict[str, pd.Series]:
    """Each column of the file as a date-indexed Series, checked; raises :class:`DataError`
    with the file, the row and what is wrong."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DataError(f"{path.name}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path.name}: cannot read it ({type(exc).__name__})") from None
    delim = _delimiter(text[:4096])
    rows = [r for r in csv.reader(io.StringIO(text), delimiter=delim) if any(c.strip()
                                                                            for c in r)]
    if len(rows) < 2 or len(rows[0]) < 2:
        raise DataError(f"{path.name}: not a CSV with a date column first and at least one "
                        "series column")
    header = [c.strip() for c in rows[0]]
    first = header[0]
    # a blank first name is fine (pandas writes one for an unnamed index): the dates are first
    if _ISO.match(first) or _DMY.match(first) or re.fullmatch(r"-?[\d.,]+", first):
        raise DataError(f"{path.name}: the first line must name the columns (date, then one "
                        "name per series); it holds data")
    texts = [r[0].strip() for r in rows[1:]]
    order = _order(texts, day_first, path)
    dates = [_date(t, order, i, path) for i, t in enumerate(texts, start=2)]
    out: dict[str, pd.Series] = {}
    for j, name in enumerate(header[1:], start=1):
        values: dict[pd.Timestamp, float] = {}
        for i, (row, day) in enumerate(zip(rows[1:], dates, strict=True), start=2):
            cell = row[j].strip() if j < len(row) else ""
            if not cell:
                continue
            if delim == ";":
                cell = cell.replace(",", ".")
            try:
                v = float(cell)
            except ValueError:
                raise DataError(f"{path.name}: row {i}, column '{name}': '{cell[:20]}' is not "
                                "a number") from None
            if not v > 0:
                raise DataError(f"{path.name}: row {i}, column '{name}': {cell[:20]} is not a "
                                "positive price")
            if day in values:
                raise DataError(f"{path.name}: row {i}: the date {day:%Y-%m-%d} appears twice")
            values[day] = v
        if not values:
            raise DataError(f"{path.name}: column '{name}' has no numbers")
        s = pd.Series(values, dtype="float64").sort_index()
        s.index = pd.DatetimeIndex(s.index).as_unit("ns")
        out[name] = s
    return out
