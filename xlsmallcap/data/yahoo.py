"""Live prices and yields from Yahoo Finance through ``yfinance.download``.

``yfinance.download`` does not raise when a ticker fails (rate limit, time-out, unknown symbol):
it logs the error on the ``yfinance`` logger and returns a frame whose columns for that ticker
are empty. This adapter listens to that logger during the call so the message can be passed on,
and turns the MultiIndex frame (``Price`` x ``Ticker``) into one close Series per ticker.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from datetime import date

import numpy as np
import pandas as pd

from xlsmallcap.data.errors import LiveDataError

Download = Callable[..., pd.DataFrame]


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _closes(frame: pd.DataFrame, symbol: str) -> pd.Series:
    """The ``Close`` column for ``symbol`` from a frame shaped like ``yfinance.download``'s."""
    if frame is None or frame.empty:
        return pd.Series(dtype="float64")
    cols = frame.columns
    if isinstance(cols, pd.MultiIndex):
        key = ("Close", symbol) if ("Close", symbol) in cols else None
        if key is None:
            return pd.Series(dtype="float64")
        s = frame[key]
    elif "Close" in cols:
        s = frame["Close"]
    else:
        return pd.Series(dtype="float64")
    s = pd.to_numeric(s, errors="coerce").dropna()
    idx = pd.DatetimeIndex(s.index)
    if idx.tz is not None:
        idx = idx.tz_localize(None)
    s.index = idx.normalize().as_unit("ns")
    return s[~s.index.duplicated(keep="last")].sort_index().astype("float64")


def download_close(symbol: str, start: date | None = None, *, timeout: float = 20,
                   download: Download | None = None) -> pd.Series:
    """Adjusted daily closes of ``symbol`` from ``start`` (all history when ``None``).

    Raises :class:`LiveDataError` naming the symbol and the reason (yfinance's own message
    where it gave one) when nothing usable came back.
    """
    if download is None:
        import yfinance

        download = yfinance.download
    handler = _Collect()
    logger = logging.getLogger("yfinance")
    logger.addHandler(handler)
    kwargs: dict[str, object] = dict(auto_adjust=True, actions=False, progress=False,
                                     threads=False, timeout=timeout, multi_level_index=True)
    if start is None:
        kwargs["period"] = "max"
    else:
        kwargs["start"] = pd.Timestamp(start).strftime("%Y-%m-%d")
    try:
        with warnings.catch_warnings():  # yfinance's own pandas deprecation warnings
            warnings.simplefilter("ignore")
            frame = download([symbol], **kwargs)
    except Exception as exc:  # yfinance raises rarely, but a session error or a bug may escape
        raise LiveDataError(f"{symbol}: download failed: {type(exc).__name__}: {exc}") from exc
    finally:
        logger.removeHandler(handler)
    s = _closes(frame, symbol)
    if s.empty:
        reason = "; ".join(m for m in handler.messages if symbol in m) or "no rows returned"
        raise LiveDataError(f"{symbol}: Yahoo Finance returned no prices ({reason})")
    if not np.isfinite(s.to_numpy()).all():
        raise LiveDataError(f"{symbol}: Yahoo Finance returned non-numeric prices")
    s.name = symbol
    return s
