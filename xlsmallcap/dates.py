"""One date parser for the command line, batch configs and Excel text dates.

Accepted: ISO (2024-07-16, 2024/07/16, 20240716), month names (16 Jul 2024, Jul 16 2024,
16-Jul-2024), and day/month/year with / . or - when the order is unambiguous (a part above 12:
16/07/2024 or 07/16/2024). A date like 03/04/2024 could be 3 April or 4 March: it is refused
with a message asking for ISO, never guessed.
"""

from __future__ import annotations

import datetime as dt
import re

_ISO = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$|^(\d{4})(\d{2})(\d{2})$")
_DMY = re.compile(r"^(\d{1,2})[./-](\d{1,2})[./-](\d{4})$")
_NAMED = ("%d %b %Y", "%b %d %Y", "%d-%b-%Y", "%d %B %Y", "%B %d %Y", "%b %d, %Y",
          "%B %d, %Y")


class DateError(ValueError):
    """A text that is not a date, or whose day and month could be swapped."""


def parse_date(text: str, name: str = "as_of") -> dt.date:
    """The date ``text`` stands for; :class:`DateError` naming ``name`` otherwise."""
    t = str(text).strip()
    shown = t if len(t) <= 20 else t[:17] + "..."
    m = _ISO.match(t)
    try:
        if m:
            parts = m.groups()[:3] if m.group(1) else m.groups()[3:]
            return dt.date(int(parts[0]), int(parts[1]), int(parts[2]))
        m = _DMY.match(t)
        if m:
            a, b, y = int(m.group(1)), int(m.group(2)), int(m.group(3))
            if a > 12 >= b:
                return dt.date(y, b, a)
            if b > 12 >= a:
                return dt.date(y, a, b)
            if a == b:
                return dt.date(y, a, b)
            raise DateError(f"{name} '{shown}' could be day/month or month/day: write it as "
                            f"{y}-{b:02d}-{a:02d} or {y}-{a:02d}-{b:02d}")
    except ValueError as exc:
        if isinstance(exc, DateError):
            raise
        raise DateError(f"{name} '{shown}' is not a date on the calendar") from None
    for fmt in _NAMED:
        try:
            return dt.datetime.strptime(t, fmt).date()
        except ValueError:
            continue
    raise DateError(f"{name} must be a date like 2024-07-16 (got '{shown}')")
