"""Recorded responses, shaped exactly like the real ones.

* Yahoo: ``yfinance.download`` is run for real; only ``yfinance.multi.Ticker`` is replaced, by a
  ticker whose ``history()`` returns what yfinance's ``PriceHistory.history`` returns for a daily
  download with ``auto_adjust=True, actions=False`` (a tz-aware ``Date`` index in the exchange's
  time zone, columns Open/High/Low/Close/Volume) or raises what it raises. yfinance's own code
  then assembles the (Price, Ticker) MultiIndex frame and logs failures, as it does live.
* FRED: the bytes of ``fredgraph.csv`` downloads, in today's layout (``observation_date``, empty
  cells for missing values) and the older one (``DATE``, ``.``).
"""

from __future__ import annotations

import io
import urllib.request
from collections.abc import Callable

import pandas as pd

FRED_WRMFNS = b"""observation_date,WRMFNS
2026-02-09,2279.3
2026-02-16,2281.0
2026-02-23,2284.1
2026-03-02,2273.9
2026-03-09,
2026-03-16,2290.4
"""


def fred_full_answer(history: pd.Series, recent: bytes = FRED_WRMFNS) -> bytes:
    """A whole-history FRED download in today's layout: ``history`` (the series as it was
    downloaded before) and then the rows of ``recent`` that come after it."""
    lines = recent.decode().splitlines()
    header, rows = lines[0], lines[1:]
    old = [f"{d:%Y-%m-%d},{v:g}" for d, v in history.items()]
    new = [r for r in rows if r.split(",")[0] > f"{history.index[-1]:%Y-%m-%d}"]
    return ("\n".join([header, *old, *new]) + "\n").encode()


def serve_fred(monkeypatch, answer: bytes | BaseException | Callable[[str], bytes]
               ) -> list[str]:
    """Replace FRED's HTTP call itself (``urllib.request.urlopen``, which the adapter uses): it
    answers ``answer``'s bytes for any URL (or ``answer(url)``), or raises it. Returns the URLs
    asked for."""
    asked: list[str] = []

    class _Response(io.BytesIO):
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    def urlopen(req, timeout=None):
        asked.append(req.full_url)
        if isinstance(answer, BaseException):
            raise answer
        return _Response(answer(req.full_url) if callable(answer) else answer)

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    return asked


def fred_answer(series: pd.Series, sid: str) -> bytes:
    """A FRED download in today's layout holding exactly ``series`` (values written in full)."""
    rows = [f"{d:%Y-%m-%d},{v!r}" for d, v in series.items()]
    return ("\n".join([f"observation_date,{sid}", *rows]) + "\n").encode()


FRED_DGS2_OLD = b"""DATE,DGS2
2026-08-19,4.19
2026-08-20,4.19
2026-08-21,.
2026-08-24,4.22
"""
FRED_HTML = b"<!DOCTYPE html><html><head><title>Error</title></head><body>Oops</body></html>"


def history_frame(closes: pd.Series) -> pd.DataFrame:
    """One ticker's ``Ticker.history(auto_adjust=True, actions=False)`` frame."""
    idx = pd.DatetimeIndex(closes.index).tz_localize("America/New_York")
    idx.name = "Date"
    c = closes.to_numpy()
    return pd.DataFrame({"Open": c * 0.999, "High": c * 1.004, "Low": c * 0.995, "Close": c,
                         "Volume": 1_000_000}, index=idx)


class FakeTicker:
    """Stands in for ``yfinance.Ticker`` inside ``yfinance.download``.

    ``answers`` maps a symbol to a Series of closes (returned from ``start``) or to an
    exception instance (raised, as the network layer would).
    """

    answers: dict[str, object] = {}
    calls: list[tuple[str, dict]] = []

    class _PH:
        _last_error = None

    def __init__(self, ticker: str, session=None):
        self.ticker = ticker.upper()
        self._price_history = self._PH()

    def history(self, **kw):
        FakeTicker.calls.append((self.ticker, kw))
        answer = self.answers.get(self.ticker)
        if isinstance(answer, BaseException):
            raise answer
        if answer is None:
            # What PriceHistory returns for an unknown symbol with errors hidden.
            self._price_history._last_error = "possibly delisted; no price data found"
            from yfinance import utils

            return utils.empty_df()
        s = answer
        if kw.get("start"):
            s = s.loc[pd.Timestamp(kw["start"]):]
        return history_frame(s)


def install_fake_yahoo(monkeypatch, answers: dict[str, object]) -> type[FakeTicker]:
    import yfinance.multi

    FakeTicker.answers = dict(answers)
    FakeTicker.calls = []
    monkeypatch.setattr(yfinance.multi, "Ticker", FakeTicker)
    return FakeTicker
