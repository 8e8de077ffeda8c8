"""Input hygiene shared by every metric: point-in-time cut, alignment, window checks."""

from __future__ import annotations

import numpy as np
import pandas as pd


class AnalysisError(ValueError):
    """Bad arguments to an analytic; the message names the argument and what is expected."""


def check_window(window: object, name: str = "window", minimum: int = 1) -> int:
    """A whole number of trading days >= ``minimum`` (floats such as 63.0 are accepted)."""
    try:
        w = float(window)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise AnalysisError(f"{name} must be a whole number of trading days >= {minimum} "
                            f"(got {window!r})") from None
    if not np.isfinite(w) or w != int(w) or w < minimum:
        shown = int(w) if np.isfinite(w) and w == int(w) else window
        raise AnalysisError(f"{name} must be a whole number of trading days >= {minimum} "
                            f"(got {shown})")
    return int(w)


def upto(s: pd.Series | pd.DataFrame, as_of: object = None):
    """Observations dated on or before ``as_of`` (all of them when ``as_of`` is None)."""
    if as_of is None:
        return s
    return s.loc[: pd.Timestamp(as_of)]


def clean(s: pd.Series) -> pd.Series:
    """Drop NaN and non-positive prices (gaps and bad ticks are skipped, not filled)."""
    s = s.astype("float64")
    return s[np.isfinite(s.to_numpy()) & (s.to_numpy() > 0)]


def aligned(*prices: pd.Series, as_of: object = None) -> pd.DataFrame:
    """Prices side by side on the dates all of them have, up to ``as_of``."""
    cols = [clean(upto(p, as_of)).rename(i) for i, p in enumerate(prices)]
    return pd.concat(cols, axis=1, join="inner", sort=True)


def window_return(values: np.ndarray, window: int) -> float:
    """``values[-1] / values[-1 - window] - 1``; NaN when there are not ``window + 1`` values."""
    if values.size < window + 1:
        return float("nan")
    return float(values[-1] / values[-1 - window] - 1.0)
