"""Input hygiene shared by every metric: point-in-time cut, alignment, window checks."""

from __future__ import annotations

import numpy as np
import pandas as pd


class AnalysisError(ValueError):
    """Bad arguments to an analytic; the message names the argument and what is expected."""


def check_window(window: object, name: str = "window", minimum: int = 1,
                 unit: str = "trading days") -> int:
    """A whole number (of ``unit``) >= ``minimum`` (floats such as 63.0 are accepted)."""
    try:
        w = float(window)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise AnalysisError(f"{name} must be a whole number of {unit} >= {minimum} "
                            f"(got {window!r})") from None
    if not np.isfinite(w) or w != int(w) or w < minimum:
        shown = int(w) if np.isfinite(w) and w == int(w) else window
        raise AnalysisError(f"{name} must be a whole number of {unit} >= {minimum} "
                            f"(got {shown})")
    return int(w)


def upto(s: pd.Series | pd.DataFrame, as_of: object = None):
    """Observations dated on or before ``as_of`` (all of them when ``as_of`` is None)."""
    if as_of is None:
        return s
    return s.loc[: pd.Timestamp(as_of)]


def dated(s: pd.Series, name: str) -> pd.Series:
    """A caller's own series as the analytics read it: dated, each date once, in order.

    A time zone is dropped (each observation keeps its local date). Raises
    :class:`AnalysisError` naming ``name`` when the index is not dates or holds a date twice
    (two prices for one day: which one is meant cannot be guessed).
    """
    idx = s.index
    if not isinstance(idx, pd.DatetimeIndex):
        raise AnalysisError(f"{name} must be indexed by dates (got {type(idx).__name__})")
    if idx.tz is not None:
        s = s.set_axis(idx.tz_localize(None))
    if s.index.has_duplicates:
        day = s.index[s.index.duplicated()][0]
        raise AnalysisError(f"{name} has the date {day:%Y-%m-%d} twice")
    return s if s.index.is_monotonic_increasing else s.sort_index()


def clean(s: pd.Series) -> pd.Series:
    """Drop NaN and non-positive prices (gaps and bad ticks are skipped, not filled)."""
    v = s.to_numpy(dtype="float64", copy=False)
    keep = np.isfinite(v) & (v > 0)
    return s if keep.all() else s[keep]


def aligned(*prices: pd.Series, as_of: object = None) -> pd.DataFrame:
    """Prices side by side on the dates all of them have, up to ``as_of``.

    Indexes are sorted dates, so the common calendar is an intersection of int64 arrays (much
    cheaper than a pandas join; when every series already shares one index, nothing is joined).
    """
    cols = [clean(upto(p, as_of)) for p in prices]
    first = cols[0].index
    if all(c.index.equals(first) for c in cols[1:]):
        idx = first
        values = [c.to_numpy(dtype="float64") for c in cols]
    else:
        keys = [c.index.as_unit("ns").asi8 for c in cols]
        common = keys[0]
        for k in keys[1:]:
            common = np.intersect1d(common, k, assume_unique=True)
        values = [c.to_numpy(dtype="float64")[np.searchsorted(k, common)]
                  for c, k in zip(cols, keys, strict=True)]
        idx = pd.DatetimeIndex(common.view("datetime64[ns]"))
    return pd.DataFrame(dict(enumerate(values)), index=idx, copy=False)


def window_return(values: np.ndarray, window: int) -> float:
    """``values[-1] / values[-1 - window] - 1``; NaN when there are not ``window + 1`` values."""
    if values.size < window + 1:
        return np.nan
    return float(values[-1] / values[-1 - window] - 1.0)
