"""Conversion between what Excel sends (through xlwings) and what the API takes, and back.

Excel sends floats for whole numbers, ``None`` for blank cells, ``datetime`` or a float serial
for dates, 2-D lists for ranges, and strings such as ``"#N/A"`` for error cells. Excel takes
back only plain values: ``float``, ``str``, ``bool``, ``datetime``, ``None`` and lists of lists.
No numpy scalar, NaN, NaT or pandas object may leave this module.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import inspect
import math
import pickle
import sys
from collections import OrderedDict
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from xlsmallcap.core.frame import AnalysisError
from xlsmallcap.data.errors import DataError, UnknownSeriesError
from xlsmallcap.dates import DateError, parse_date

EXCEL_EPOCH = dt.datetime(1899, 12, 30)
#: The workbook's date system for the call being answered (``Workbook.Date1904``).
DATE_1904: ContextVar[bool] = ContextVar("date1904", default=False)
#: Largest serial of each date system (9999-12-31).
_MAX_SERIAL = {False: 2958465, True: 2957003}


class ArgError(ValueError):
    """A bad argument; the message is what the cell shows."""


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def _error_cell(v: Any) -> bool:
    return isinstance(v, str) and v.strip().startswith("#")


#: Excel's error values, as xlwings passes them with ``err_to_str=True``.
EXCEL_ERRORS = ("#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!",
                "#GETTING_DATA", "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#CONNECT!",
                "#BUSY!", "#UNKNOWN!")
#: Longest message a cell shows.
MAX_MESSAGE = 100


def _shown(v: Any, width: int = 24) -> str:
    """The caller's value as a message shows it: short, never the whole input; a logical
    value as Excel writes it (TRUE, FALSE), a date as 2024-07-16, a whole number as 5."""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, (dt.datetime, dt.date)):
        return f"{v:%Y-%m-%d}"   # a date cell where a number or a choice belongs
    text = f"{v:g}" if isinstance(v, float) else (f"'{v}'" if isinstance(v, str) else repr(v))
    return text if len(text) <= width else text[: width - 3] + "..."


def reject_error_cell(v: Any, name: str) -> None:
    """An error cell in an argument is answered with the same error, naming the argument
    (as Excel's own functions propagate ``#N/A``); never read as a blank or a default."""
    if isinstance(v, str) and v.strip().upper() in EXCEL_ERRORS:
        code = v.strip().upper()
        raise ArgError(f"{code} {name} is an error cell ({code})")
    if isinstance(v, list):   # a range: its rows, and each row's cells
        for c in v:
            reject_error_cell(c, name)


def _plain(v: Any) -> Any:
    """A currency- or accounting-formatted cell arrives as ``Decimal``: it is a number."""
    return float(v) if isinstance(v, Decimal) else v


def as_date(v: Any, name: str = "as_of") -> pd.Timestamp | None:
    """An Excel date (datetime, serial number or date text) or ``None`` for a blank cell."""
    reject_error_cell(v, name)
    v = _plain(v)
    if _blank(v):
        return None
    if isinstance(v, list):
        raise ArgError(f"#VALUE! {name} must be one date, not a range")
    if isinstance(v, (dt.datetime, dt.date)):
        return pd.Timestamp(v).tz_localize(None).normalize() if isinstance(v, dt.datetime) \
            else pd.Timestamp(v)
    if isinstance(v, bool):
        raise ArgError(f"#VALUE! {name} must be a date (got {_shown(v)})")
    if isinstance(v, (int, float)):
        return serial_date(v, name, DATE_1904.get())
    if isinstance(v, str):
        text = v.strip()
        if _error_cell(text):
            raise ArgError(f"#VALUE! {name} is an error cell ({_shown(text, 12)})")
        try:
            return pd.Timestamp(parse_date(text, name))   # the one parser: ambiguity refused
        except DateError as exc:
            raise ArgError(f"#VALUE! {exc}") from None
    raise ArgError(f"#VALUE! {name} must be a date (got {type(v).__name__})")


def serial_date(v: float, name: str, date1904: bool = False) -> pd.Timestamp:
    """The day an Excel serial number stands for, in the workbook's date system.

    1900 system: 1 is 1900-01-01 and 59 is 1900-02-28; 60 is Excel's 1900-02-29, a day that
    never was (kept from Lotus 1-2-3), so it is refused; from 61 (1900-03-01) on, the day is
    1899-12-30 plus the serial. 1904 system (``Workbook.Date1904``, old Mac books): 0 is
    1904-01-01. A time of day (the fraction) is dropped; serials beyond 9999-12-31 are refused.
    """
    top = _MAX_SERIAL[date1904]
    if not math.isfinite(v) or v < (0 if date1904 else 1) or v >= top + 1:
        raise ArgError(f"#VALUE! {name} must be a date (got {_shown(float(v))})")
    n = int(v)
    if date1904:
        return pd.Timestamp(dt.datetime(1904, 1, 1) + dt.timedelta(days=n))
    if n == 60:
        raise ArgError(f"#VALUE! {name}: serial 60 is 1900-02-29, a day that never was")
    return pd.Timestamp(EXCEL_EPOCH + dt.timedelta(days=n if n > 60 else n + 1))


def as_int(v: Any, name: str, default: int | None = None, minimum: int = 1,
           unit: str = "trading days", maximum: int = 1_000_000) -> int:
    """A whole number from ``minimum`` to ``maximum`` (Excel sends 63.0); blank gives
    ``default``."""
    reject_error_cell(v, name)
    v = _plain(v)
    if _blank(v):
        if default is None:
            raise ArgError(f"#VALUE! {name} is required: a whole number of {unit} >= {minimum}")
        return default
    if isinstance(v, list):
        raise ArgError(f"#VALUE! {name} must be one number, not a range")
    if isinstance(v, str):
        try:
            v = float(v.strip())
        except ValueError:
            raise ArgError(f"#VALUE! {name} must be a whole number of {unit} >= {minimum} "
                           f"(got {_shown(v)})") from None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) \
            or v != int(v) or v < minimum:
        shown = _shown(v)
        raise ArgError(f"#VALUE! {name} must be a whole number of {unit} >= {minimum} "
                       f"(got {shown})")
    if v > maximum:
        raise ArgError(f"#NUM! {name} must be at most {maximum:,} {unit} (got {_shown(v)})")
    return int(v)


def as_float(v: Any, name: str, default: float) -> float:
    reject_error_cell(v, name)
    v = _plain(v)
    if _blank(v):
        return default
    if isinstance(v, str):
        try:
            v = float(v.strip().rstrip("%")) / (100 if v.strip().endswith("%") else 1)
        except ValueError:
            raise ArgError(f"#VALUE! {name} must be a number (got {_shown(v)})") from None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise ArgError(f"#VALUE! {name} must be a number (got {_shown(v)})")
    return float(v)


def as_bool(v: Any, name: str, default: bool) -> bool:
    reject_error_cell(v, name)
    v = _plain(v)
    if _blank(v):
        return default
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)) and v in (0, 1):
        return bool(v)
    if isinstance(v, str) and v.strip().upper() in ("TRUE", "FALSE"):
        return v.strip().upper() == "TRUE"
    raise ArgError(f"#VALUE! {name} must be TRUE or FALSE (got {_shown(v)})")


def as_choice(v: Any, name: str, options: Sequence[str], default: str) -> str:
    """One of ``options`` (case-insensitive); blank gives ``default``."""
    reject_error_cell(v, name)
    if _blank(v):
        return default
    key = v.strip().lower() if isinstance(v, str) else None
    if key not in options:
        raise ArgError(f"#VALUE! {name} must be one of {', '.join(options)} (got {_shown(v)})")
    return key


def _is_date_text(text: str) -> bool:
    try:
        as_date(text)
    except ArgError:
        return False
    return True


def _series_from_range(rows: list, name: str) -> dict[str, pd.Series]:
    """A range of dates and prices: first column dates, one or more price columns.

    An optional header row (text in the price columns) names the series.
    """
    if not rows or not isinstance(rows[0], list):
        rows = [rows] if rows and not isinstance(rows[0], list) else rows
    width = {len(r) for r in rows}
    if len(width) != 1 or width.pop() < 2:
        raise ArgError(f"#VALUE! {name} must be a ticker or a range of dates and prices "
                       "(2 or more columns)")
    header = None
    first = rows[0][0]
    first_is_label = _blank(first) or (isinstance(first, str) and not _is_date_text(first))
    if first_is_label and all(isinstance(c, str) and not _error_cell(c) for c in rows[0][1:]):
        header, rows = [str(c).strip() for c in rows[0][1:]], rows[1:]
    names = header or ([name] if len(rows[0]) == 2 else
                       [f"{name}{i}" for i in range(1, len(rows[0]))])
    dates, cols = [], [[] for _ in names]
    datetime, floats = dt.datetime, float
    for i, row in enumerate(rows, start=1):
        d = row[0]
        if type(d) is datetime:      # the common case first: a date cell, then plain numbers
            dates.append(d if d.tzinfo is None else d.replace(tzinfo=None))
        elif all(_blank(c) for c in row):
            continue  # blank rows of a generous range
        elif _blank(d):
            raise ArgError(f"#VALUE! {name}: row {i} has prices but no date")
        else:
            dates.append(as_date(d, f"{name} date in row {i}"))
        for j, c in enumerate(row[1:]):
            if type(c) is floats:
                cols[j].append(c)
                continue
            c = _plain(c)
            if isinstance(c, str) and c.strip().upper() in EXCEL_ERRORS:
                raise ArgError(f"{c.strip().upper()} {name}: row {i} is an error cell")
            if _blank(c):
                cols[j].append(np.nan)  # a gap: skipped by the analytics
            elif isinstance(c, (int, float)) and not isinstance(c, bool):
                cols[j].append(float(c))
            else:
                raise ArgError(f"#VALUE! {name}: row {i} has {_shown(c)} where a price is "
                               "expected")
    if len(dates) < 2:
        raise ArgError(f"#VALUE! {name} needs at least 2 rows of dates and prices")
    idx = pd.DatetimeIndex(dates).normalize()
    if idx.has_duplicates:
        raise ArgError(f"#VALUE! {name} has the same date twice")
    out = {}
    for n, c in zip(names, cols, strict=True):
        s = pd.Series(c, index=idx, dtype="float64").sort_index()
        if (s <= 0).any():
            raise ArgError(f"#VALUE! {name}: prices must be positive")
        out[n] = s
    return out


#: What each kind of series is called in a message.
KIND_WORDS = {"price": "a price series", "yield": "a yield", "rate": "a rate",
              "mmf": "money-fund assets", "factor": "a return factor"}


def as_sources(v: Any, name: str, default: Sequence[str], store, as_of: object = None,
               kinds: Sequence[str] = ("price",)) -> dict[str, pd.Series]:
    """Tickers (``"SPY"``, ``"SPY,QQQ"``, a range of tickers) or a range of dates and prices.

    A ticker's series is what was public on ``as_of`` (see ``DataStore.public``); a range is
    the user's own data, taken as public on the dates it carries. A ticker must be of one of
    ``kinds`` (prices by default: a factor of daily returns or a rate is not a price).
    """
    if _blank(v):
        v = list(default)
    if isinstance(v, str):   # an error text is refused with the flat list below
        v = [t for t in v.replace(";", ",").split(",")]
    if isinstance(v, list) and v and (isinstance(v[0], list) and len(v[0]) >= 2
                                      and any(not isinstance(c, str) and not _blank(c)
                                              for r in v for c in r)):
        return _series_from_range(v, name)
    flat = [c for r in v for c in (r if isinstance(r, list) else [r])] \
        if isinstance(v, list) else [v]
    reject_error_cell(flat, name)
    tickers = [str(t).strip() for t in flat if not _blank(t)]
    if not tickers:
        raise ArgError(f"#VALUE! {name} must name a ticker")
    out = {}
    for t in tickers:
        if _error_cell(t):
            raise ArgError(f"#VALUE! {name} is an error cell ({_shown(t)})")
        try:
            series = store.public(t, as_of)      # an unknown name fails here, before its kind
            kind = store.kind(t)
            if kind not in kinds:
                raise ArgError(f"#VALUE! {name}: {_shown(t.upper(), 14)} is "
                               f"{KIND_WORDS.get(kind, kind)}, not "
                               f"{' or '.join(KIND_WORDS[k] for k in kinds)}")
            out[t.upper()] = series
        except UnknownSeriesError:
            raise ArgError(f"#N/A {name}: unknown ticker {_shown(t, 20)} "
                           "(see =DATA_STATUS())") from None
        except DataError as exc:
            raise ArgError(f"#VALUE! {name}: {exc}") from None
    return out


def as_source(v: Any, name: str, default: str, store, as_of: object = None,
              kinds: Sequence[str] = ("price",)) -> tuple[str, pd.Series]:
    got = as_sources(v, name, [default], store, as_of, kinds)
    if len(got) != 1:
        raise ArgError(f"#VALUE! {name} must be one ticker (got {len(got)})")
    return next(iter(got.items()))


def cell(v: Any) -> Any:
    """One value Excel can take: NaN/NaT/None become ``None`` (empty), numpy becomes Python."""
    if v is None:
        return None
    if isinstance(v, (pd.Timestamp, dt.datetime)):
        return None if pd.isna(v) else pd.Timestamp(v).to_pydatetime().replace(tzinfo=None)
    if isinstance(v, dt.date):
        return dt.datetime(v.year, v.month, v.day)
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, float, np.integer, np.floating)):
        f = float(v)
        return f if math.isfinite(f) else None
    return str(v)


def number(v: float, what: str) -> Any:
    """A figure for one cell; NaN becomes a ``#N/A`` message saying why."""
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return f"#N/A not enough data for {what}"
    return cell(v)


def table(rows: list[list[Any]]) -> list[list[Any]]:
    return [[cell(c) for c in r] for r in rows]


def frame_table(df: pd.DataFrame, headers: bool, date_header: str = "Date") -> list[list[Any]]:
    """A date-indexed frame as rows (dates as datetimes), with a header row if asked."""
    rows = [[d, *vals] for d, vals in zip(df.index, df.to_numpy().tolist(), strict=True)]
    if headers:
        rows.insert(0, [date_header, *map(str, df.columns)])
    return table(rows)


def trim_blank_rows(v: Any) -> Any:
    """A range without its trailing blank rows (a whole-column ``A:B`` is 1,048,576 rows of
    which a few thousand are filled); anything else unchanged. Rows inside the data are kept.

    The usual shape, data then only blank rows, is recognised with two scans in C: the first
    blank row, and the count of blank rows (if the count equals the rows from the first blank
    one to the end, the tail is all blank). Otherwise the tail is compared with rows of
    ``None`` in slices that double in size. A last few rows of ``""`` (blank text from
    formulas) are dropped one by one.
    """
    if not isinstance(v, list) or len(v) < 2 or not isinstance(v[0], list):
        return v
    n, blank = len(v), [None] * len(v[0])
    try:
        first = v.index(blank)
    except ValueError:
        end = n
    else:
        end = first if v.count(blank) == n - first else _blank_tail(v, blank)
    while end > 0 and isinstance(v[end - 1], list) and all(_blank(c) for c in v[end - 1]):
        end -= 1
    return v if end == n else v[:end]


def _blank_tail(v: list, blank: list) -> int:
    """Where the trailing rows equal to ``blank`` start (blank rows also occur inside)."""
    end, step = len(v), 16
    while end > 0:
        k = min(step, end)
        if v[end - k:end] == [blank] * k:
            end -= k
            step *= 2
        elif k > 1:
            step = max(1, k // 8)
        else:
            break
    return end


def memo_key(name: str, args: Sequence[Any], version: tuple) -> bytes:
    """A short digest of a call: the function, its arguments and the data's version.

    ``pickle`` tells ``TRUE``, ``1`` and ``1.0`` apart (Python's ``True == 1 == 1.0`` would make
    a result depend on which was asked first) and keeps a range's cells in order; the key is
    32 bytes however large the range, so no argument is kept by value.
    """
    try:
        data = pickle.dumps((name, args, version), protocol=4)
    except Exception:  # an object pickle cannot write: its repr, which also keeps types apart
        data = repr((name, args, version)).encode("utf-8", "backslashreplace")
    return hashlib.blake2b(data, digest_size=32).digest()


def result_bytes(v: Any) -> int:
    """Memory a result holds (lists, their cells and texts), as the memo counts it."""
    if isinstance(v, list):
        return sys.getsizeof(v) + sum(result_bytes(x) for x in v)
    return sys.getsizeof(v)


class Memo:
    """Results of recent calls, least recently used dropped first, bounded in bytes.

    Excel recalculates the same formulas with the same arguments again and again; a result is
    found again only for the same function, arguments, data version and day.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self._items: OrderedDict[bytes, tuple[Any, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: bytes) -> tuple[bool, Any]:
        hit = self._items.get(key)
        if hit is None:
            return False, None
        self._items.move_to_end(key)
        return True, hit[0]

    def put(self, key: bytes, value: Any) -> None:
        size = result_bytes(value) + sys.getsizeof(key) + 200   # 200: the entry's own overhead
        if size > self.max_bytes // 4:
            return   # one huge result would push out everything else: not kept
        old = self._items.pop(key, None)
        if old is not None:
            self.bytes -= old[1]
        self._items[key] = (value, size)
        self.bytes += size
        while self.bytes > self.max_bytes:
            _, (_, dropped) = self._items.popitem(last=False)
            self.bytes -= dropped

    def clear(self) -> None:
        self._items.clear()
        self.bytes = 0


#: At most 64 MB of results are kept.
MEMO_BYTES = 64 * 2**20
_MEMO = Memo(MEMO_BYTES)


def clear_memo() -> None:
    _MEMO.clear()


def _data_version() -> tuple:
    from xlsmallcap.data.store import get_store

    st = get_store()
    return (id(st), st.version(), dt.date.today())


def _short(message: str) -> str:
    """At most :data:`MAX_MESSAGE` characters, cut at a word."""
    if len(message) <= MAX_MESSAGE:
        return message
    return message[: MAX_MESSAGE - 3].rsplit(" ", 1)[0] + "..."


class CellError(Exception):
    """Raised, under xlwings Lite and Server, with the message a cell's error shows."""


def _office_js() -> bool:
    """xlwings' Office.js code path (xlwings Lite and Server: Excel on Mac, the web and
    Windows without COM): there ``xw.func`` is ``xlwings.server.func``."""
    import xlwings as xw

    return getattr(xw.func, "__module__", "") == "xlwings.pro.udfs_officejs"


#: Answers become raised errors under xlwings Lite and Server, text cells on Windows COM
#: (where xlwings writes a Python exception's whole text into the cell).
OFFICE_JS = _office_js()


def excel_function(f: Callable[..., Any]) -> Callable[..., Any]:
    """Never let an unexpected exception reach Excel: bad arguments and errors become
    ``#...`` messages, text in the cell on Windows, a raised :class:`CellError` under xlwings
    Lite and Server (the cell shows ``#VALUE!``, the message on hover).

    Results are memoised for identical arguments until the data changes. The wrapper only
    hands each call to :func:`call`, which is looked up when the cell is computed.
    """
    params = list(inspect.signature(f).parameters)
    system_at = params.index("date1904") if "date1904" in params else None

    @functools.wraps(f)
    def wrapper(*args: Any) -> Any:
        return call(f, system_at, args)

    return wrapper


def call(f: Callable[..., Any], system_at: int | None, args: tuple) -> Any:
    """One call of ``f`` as a cell makes it: its answer, or on xlwings Lite and Server an
    error answer raised as :class:`CellError` (Office.js shows a real ``#VALUE!``, the message
    on hover). ``system_at`` is the position of the hidden ``date1904`` argument, if any."""
    out = answer(f, system_at, args)
    if OFFICE_JS and isinstance(out, str) and out.startswith("#"):
        raise CellError(out)
    return out


def answer(f: Callable[..., Any], system_at: int | None, args: tuple) -> Any:
    """``f(*args)`` with the workbook's date system set, from the memo when the same call
    was answered before with the same data on the same day; an error as a short ``#`` text,
    never an exception (the UDF server must survive anything)."""
    system: Any = None
    if system_at is not None and len(args) > system_at:
        system, args = args[system_at], args[:system_at] + args[system_at + 1:]
    args = tuple(trim_blank_rows(a) for a in args)
    try:
        key: bytes | None = memo_key(f.__name__, (*args, system), _data_version())
    except Exception:   # e.g. the data folder cannot be read: answer without the memo
        key = None
    found, out = _MEMO.get(key) if key is not None else (False, None)
    if found:
        return out
    token = None
    try:
        token = DATE_1904.set(as_bool(system, "date1904", False))
        out = f(*args)
    except ArgError as exc:
        out = _short(str(exc))
    except (AnalysisError, DataError, KeyError) as exc:
        msg = str(exc).strip("'\"")
        out = _short(f"#VALUE! {msg}")
    except MemoryError:
        return "#NUM! out of memory"
    except Exception:  # not memoised, no Python text
        return f"#VALUE! {f.__name__} could not compute this: check the arguments"
    finally:
        if token is not None:
            DATE_1904.reset(token)
    if isinstance(out, str) and out.startswith("#"):
        out = _short(out)
    if key is not None:
        _MEMO.put(key, out)
    return out
