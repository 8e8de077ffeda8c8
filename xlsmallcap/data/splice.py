"""Joining a fresh download onto stored history without a jump at the seam."""

from __future__ import annotations

import pandas as pd


def splice(old: pd.Series, new: pd.Series) -> pd.Series:
    """Join ``new`` (current adjustment vintage) onto ``old`` (an earlier vintage).

    Adjusted closes are back-adjusted as of the download date: every dividend since ``old`` was
    stored lowers all earlier prices. The seam is the last date both series have; ``old`` is
    rescaled by ``new[seam] / old[seam]`` and ``new`` supplies every price after the seam. Returns
    inside ``old`` are unchanged and the return across the seam equals ``new``'s own.

    The result keeps the series' name when both carry the same one (the store names what it
    writes by the series' id). Raises ``ValueError`` when the two share no date (the caller then
    replaces the history).
    """
    common = old.index.intersection(new.index)
    common = common[old.reindex(common).notna().to_numpy() & new.reindex(common).notna().to_numpy()]
    if common.empty:
        raise ValueError("no overlapping date to splice on")
    seam = common.max()
    factor = float(new.loc[seam]) / float(old.loc[seam])
    head = old.loc[:seam] * factor
    tail = new.loc[new.index > seam].dropna()
    return pd.concat([head, tail])
