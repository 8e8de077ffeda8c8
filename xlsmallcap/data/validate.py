"""Checks every download must pass before it may touch stored data.

A refused answer raises :class:`RefusedDownload` (a :class:`LiveDataError`): the store writes
nothing, the command says what was wrong and exits 1, and the stored bytes stay as they were.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from xlsmallcap.data.errors import LiveDataError

#: The largest move from one observation to the next that is plausible for each kind of series:
#: log change for prices and fund assets, percentage points for rates and yields. Historical
#: maxima in the snapshot: ETFs 0.16 (2020-03), retail money funds 0.10 (the 2016
#: reclassification), fed funds 7.9 pp (1980s), 3-month bill 1.7 pp.
MAX_MOVE = {"price": np.log(2.0), "mmf": 0.25, "rate": 15.0, "yield": 5.0}
#: Rates and yields outside this range (percent) are not plausible.
RATE_RANGE = (-5.0, 50.0)
FIRST_PLAUSIBLE = pd.Timestamp("1900-01-01")
#: A full history may start this much later than the stored one (a source trimming its very
#: first rows), but never end earlier.
START_SLACK = pd.Timedelta(days=40)


class RefusedDownload(LiveDataError):
    """A download that would have damaged stored data; nothing was written."""


def check_series(sid: str, kind: str, s: pd.Series, accept_jumps: bool = False,
                 today: pd.Timestamp | None = None, known: pd.Series | None = None) -> None:
    """Dates sorted, unique and plausible; values finite, positive for prices (fund assets:
    never zero again after being positive); moves within :data:`MAX_MOVE` for the kind unless
    ``accept_jumps``. With ``known`` (what is stored), only moves to or from an observation
    that is new or changed are checked: a jump already in the stored history (money funds
    doubled in early 1974) was accepted before and is not refused again."""
    today = today or pd.Timestamp.today().normalize()
    idx = pd.DatetimeIndex(s.index)
    if s.empty:
        raise RefusedDownload(f"{sid}: the answer has no observations")
    if not idx.is_monotonic_increasing or idx.has_duplicates:
        raise RefusedDownload(f"{sid}: the answer's dates are not sorted and unique")
    if idx[0] < FIRST_PLAUSIBLE or idx[-1] > today + pd.Timedelta(days=1):
        raise RefusedDownload(f"{sid}: the answer has implausible dates "
                              f"({idx[0]:%Y-%m-%d} to {idx[-1]:%Y-%m-%d})")
    v = s.to_numpy(dtype="float64")
    if not np.isfinite(v).all():
        raise RefusedDownload(f"{sid}: the answer has values that are not numbers")
    if kind == "price" and (v <= 0).any():
        day = idx[int(np.argmax(v <= 0))]
        raise RefusedDownload(f"{sid}: the answer has a price of {v[v <= 0][0]:g} on "
                              f"{day:%Y-%m-%d}; prices must be positive")
    if kind == "mmf":
        positive = np.flatnonzero(v > 0)
        if (v < 0).any() or (positive.size and (v[positive[0]:] <= 0).any()):
            raise RefusedDownload(f"{sid}: the answer has zero or negative fund assets")
    if kind in ("rate", "yield") and ((v < RATE_RANGE[0]) | (v > RATE_RANGE[1])).any():
        raise RefusedDownload(f"{sid}: the answer has rates outside {RATE_RANGE[0]:g} to "
                              f"{RATE_RANGE[1]:g} percent")
    bound = MAX_MOVE.get(kind)
    if bound is None or accept_jumps or v.size < 2:
        return
    if kind in ("price", "mmf"):
        # values are finite here and the logarithm only sees positive ones: no warning
        ok = (v[:-1] > 0) & (v[1:] > 0)
        moves = np.where(ok, np.abs(np.diff(np.log(np.where(v > 0, v, 1.0)))), 0.0)
    else:
        moves = np.abs(np.diff(v))
    if known is not None and not known.empty:
        same = pd.Series(v, index=idx).eq(known.reindex(idx)).to_numpy()
        moves = np.where(same[:-1] & same[1:], 0.0, moves)
    if (moves > bound).any():
        i = int(np.argmax(moves > bound))
        what = (f"{v[i + 1] / v[i] - 1:+.0%}" if kind in ("price", "mmf")
                else f"{v[i + 1] - v[i]:+.2f} pp")
        raise RefusedDownload(f"{sid}: the answer moves {what} from {idx[i]:%Y-%m-%d} to "
                              f"{idx[i + 1]:%Y-%m-%d}; if that is real, run again with "
                              "--accept-jumps")


def check_covers(sid: str, new: pd.Series, stored: pd.Series | None) -> None:
    """A whole history replaces the stored one only if it covers it: it starts no later than
    :data:`START_SLACK` after the stored start and ends no earlier than the stored end."""
    if stored is None or stored.empty:
        return
    if new.index[-1] < stored.index[-1] or new.index[0] > stored.index[0] + START_SLACK:
        raise RefusedDownload(
            f"{sid}: the answer covers {new.index[0]:%Y-%m-%d} to {new.index[-1]:%Y-%m-%d}, "
            f"less than the stored {stored.index[0]:%Y-%m-%d} to {stored.index[-1]:%Y-%m-%d}; "
            "a partial answer never replaces stored data")


def check_splice(sid: str, old: pd.Series, new: pd.Series, accept_jumps: bool = False
                 ) -> None:
    """An incremental answer must reach at least the stored last day (or the splice would drop
    stored rows) and join on an overlapping day without rescaling history by more than a
    dividend could (a factor within 1/1.5 to 1.5)."""
    if new.index[-1] < old.index[-1]:
        raise RefusedDownload(f"{sid}: the answer ends on {new.index[-1]:%Y-%m-%d}, before the "
                              f"stored {old.index[-1]:%Y-%m-%d}; a partial answer never "
                              "replaces stored data")
    common = old.index.intersection(new.index)
    if common.empty:
        return
    seam = common.max()
    factor = float(new.loc[seam]) / float(old.loc[seam])
    if not accept_jumps and not (1 / 1.5 <= factor <= 1.5):
        raise RefusedDownload(f"{sid}: on {seam:%Y-%m-%d} the answer's price is {factor:.2f}x "
                              "the stored one; if that is real, run again with --accept-jumps")
