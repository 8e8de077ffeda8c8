"""When each observation became public: the publication rules kept beside every series.

The files are latest vintages, dated by the period they describe; a figure "as of" D may use
only what was public on D. Each series carries one rule (in the catalog, the snapshot manifest
and the cache's meta.json); :func:`publication_dates` turns a rule and the observation dates into
the dates they were published. Sources: ``shared/data/raw/macro/PUBLICATION.md``.

Rules:

* ``close``: the same day, after the close (prices, Yahoo yields, your own imported series).
* ``next_business_day``: FRED daily rates (the effective fed funds rate is published by the New
  York Fed the next morning, Treasury constant maturities in H.15 the next business day).
* ``h6_weekly``: weekly H.6 money-fund data (weeks ending Monday). Until the last weekly release
  on 2021-02-11, H.6 came out each Thursday; a week is taken as public on the second Thursday
  after it ends (Monday + 10 days, the conservative reading). From 2021-02-23 H.6 is monthly, on
  the fourth Tuesday of the month, and carries the weeks ending at least 15 days before the
  release (the 2021-02-23 release ends with the week of 2021-02-08, the 2025-03-25 release with
  the week of 2025-03-10): a week is public on the first such release.
* ``h6_monthly``: monthly H.6 figures: the fourth Tuesday of the following month (the weekly
  releases carried the previous month's figure earlier, so this is conservative before 2021).
* ``z1_quarterly``: Financial Accounts (Z.1), dated on the quarter's first day: public about ten
  weeks after the quarter ends; taken as the end of the third month after the quarter ends.
* ``french_monthly``: Kenneth French's library is updated monthly with no fixed day; data for
  month M are taken as public at the end of month M + 1.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

RULES = ("close", "next_business_day", "h6_weekly", "h6_monthly", "z1_quarterly",
         "french_monthly")
#: The last weekly H.6 release and the first monthly one.
H6_LAST_WEEKLY = pd.Timestamp("2021-02-11")

RULE_TEXT = {
    "close": "same day, after the close",
    "next_business_day": "next business day",
    "h6_weekly": "H.6: 2nd Thursday after the week (until 2021-02-11), then the first "
                 "4th-Tuesday release at least 15 days after the week",
    "h6_monthly": "H.6: 4th Tuesday of the next month",
    "z1_quarterly": "Z.1: end of the 3rd month after the quarter",
    "french_monthly": "French library: end of the next month",
}


def _fourth_tuesday(dates: pd.DatetimeIndex, months_ahead: int) -> pd.DatetimeIndex:
    """The fourth Tuesday of the month ``months_ahead`` after each date's month."""
    first = (dates.to_period("M") + months_ahead).to_timestamp()
    to_tuesday = (1 - first.day_of_week) % 7                       # Monday = 0, Tuesday = 1
    return first + pd.to_timedelta(to_tuesday + 21, unit="D")


def _fourth_tuesday_of_next_month(dates: pd.DatetimeIndex) -> pd.DatetimeIndex:
    return _fourth_tuesday(dates, 1)


#: A monthly H.6 release carries the weeks that ended at least this many days before it.
H6_MONTHLY_LAG = pd.Timedelta(days=15)


def publication_dates(rule: str, dates: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """The date each observation dated ``dates`` became public under ``rule``.

    Monotonic in the observation date for every rule, so "what was public on D" is a prefix of
    the series. Raises ``ValueError`` for an unknown rule.
    """
    idx = pd.DatetimeIndex(dates)
    if rule == "close":
        return idx
    if rule == "next_business_day":
        return idx + pd.offsets.BDay(1)
    if rule == "h6_weekly":
        weekly = idx + pd.Timedelta(days=10)
        this_month = _fourth_tuesday(idx, 0)
        monthly = this_month.where(idx <= this_month - H6_MONTHLY_LAG, _fourth_tuesday(idx, 1))
        return pd.DatetimeIndex(np.where(weekly <= H6_LAST_WEEKLY, weekly, monthly))
    if rule == "h6_monthly":
        return _fourth_tuesday_of_next_month(idx)
    if rule == "z1_quarterly":
        return (idx.to_period("Q") + 1).to_timestamp() + pd.offsets.MonthEnd(3)
    if rule == "french_monthly":
        return (idx.to_period("M") + 2).to_timestamp() - pd.Timedelta(days=1)
    raise ValueError(f"unknown publication rule {rule!r} (known: {', '.join(RULES)})")
