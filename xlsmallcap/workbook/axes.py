"""Chart value axes that follow the data: after a refresh, a value axis with a fixed minimum
(``<c:min>``) whose series show refreshed cells gets a minimum just below the data.

Excel and LibreOffice start an automatic axis at zero unless the data's range is narrow, so a
money-fund line moving between $1,400bn and $2,300bn would look flat. An author who fixes an
axis minimum on such a chart says "not from zero"; the refresh keeps that promise as the data
move. Axes without a fixed minimum, and charts that show no refreshed cell, are not touched.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

C = "http://schemas.openxmlformats.org/drawingml/2006/chart"
_Q = f"{{{C}}}"
_CHART_PART = re.compile(r"xl/charts/chart\d+\.xml")


def nice_floor(lo: float, hi: float) -> float:
    """An axis minimum a little below ``lo``, on a round step.

    The step is 1, 2 or 5 times a power of ten, about a fifth of the range; the minimum is the
    last step at or below ``lo`` minus 5% of the range. Never below zero when the data are not.
    Degenerate input: ``lo == hi`` uses a range of 10% of ``|lo|`` (1 when ``lo`` is 0).
    """
    span = hi - lo if hi > lo else (abs(lo) * 0.1 or 1.0)
    raw = span / 5
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    out = math.floor((lo - 0.05 * span) / step) * step
    return 0.0 if lo >= 0 > out else float(out)


def rescale(pkg, refreshed: Callable[[str, str], bool],
            values: Callable[[str, str], list[Any]]) -> list[str]:
    """Reset every fixed axis minimum whose series show refreshed cells; returns the chart
    parts changed. ``refreshed(sheet, range)`` says whether a range holds refreshed cells,
    ``values(sheet, range)`` gives its current values."""
    changed = []
    for part in sorted(p for p in pkg.parts if _CHART_PART.fullmatch(p)):
        root = pkg.tree(part).getroot()
        touched = False
        for axis in root.iter(f"{_Q}valAx"):
            low = axis.find(f"{_Q}scaling/{_Q}min")
            ax_id = axis.find(f"{_Q}axId")
            if low is None or ax_id is None:
                continue
            refs = _series_refs(root, ax_id.get("val"))
            if not refs or not any(refreshed(*r) for r in refs):
                continue
            numbers = [v for r in refs for v in values(*r)
                       if isinstance(v, (int, float)) and not isinstance(v, bool)
                       and math.isfinite(v)]
            if not numbers:
                continue
            new = nice_floor(min(numbers), max(numbers))
            high = axis.find(f"{_Q}scaling/{_Q}max")
            if high is not None and float(high.get("val", "nan")) <= new:
                continue                # a fixed maximum below the data: the author's call
            text = repr(new) if not new.is_integer() else str(int(new))
            if low.get("val") != text:
                low.set("val", text)
                touched = True
        if touched:
            pkg.modified.add(part)
            changed.append(part)
    return changed


def _series_refs(root, ax_id: str | None) -> list[tuple[str, str]]:
    """(sheet, range) of the values of every series plotted on the value axis ``ax_id``."""
    out = []
    for group in root.iter():
        if not isinstance(group.tag, str) or not group.tag.endswith("Chart"):
            continue
        if ax_id not in {a.get("val") for a in group.findall(f"{_Q}axId")}:
            continue
        for ser in group.findall(f"{_Q}ser"):
            for path in (f"{_Q}val/{_Q}numRef/{_Q}f", f"{_Q}yVal/{_Q}numRef/{_Q}f"):
                f = ser.find(path)
                if f is not None and f.text and "!" in f.text:
                    sheet, rng = f.text.rsplit("!", 1)
                    out.append((sheet.strip("'").replace("''", "'"), rng.replace("$", "")))
    return out
