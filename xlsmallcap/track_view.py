"""The verdict's track record as text: markdown for docs/methodology.md, rows for the terminal.

``python -m xlsmallcap.track_view`` prints the markdown kept in docs/methodology.md; a test checks
that the document and the code agree.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from xlsmallcap.api import TrackRecord
from xlsmallcap.core.track_record import ALL_DAYS, HORIZONS, TrackRow

#: Fewer spells than this and a verdict's interval says little: the words say so.
MIN_SPELLS = 5
HEADER = ["verdict", "days", "spells", *(f"{h}d mean (95% CI)" for h in HORIZONS),
          *(f"{h}d hit" for h in HORIZONS), "63d edge (t)"]


def _pct(x: float) -> str:
    return "n/a" if not math.isfinite(x) else f"{x:+.1%}"


def _ci(r: TrackRow) -> str:
    if not math.isfinite(r.mean):
        return "n/a"
    if not math.isfinite(r.se):
        return f"{_pct(r.mean)} (n/a)"
    return f"{_pct(r.mean)} ({_pct(r.low)} to {_pct(r.high)})"


def table_rows(rec: TrackRecord) -> list[list[str]]:
    """One row of strings per verdict (and all days): the columns of :data:`HEADER`."""
    by = {(r.verdict, r.horizon): r for r in rec.rows}
    names = list(dict.fromkeys(r.verdict for r in rec.rows))
    out = []
    for name in names:
        first = by[(name, HORIZONS[0])]
        r63 = by.get((name, 63), first)
        edge = "" if name == ALL_DAYS else (
            "n/a" if not math.isfinite(r63.edge_t)
            else f"{r63.edge:+.1%} ({r63.edge_t:+.1f})")
        out.append([name, str(first.days), str(first.runs),
                    *(_ci(by[(name, h)]) for h in HORIZONS),
                    *("n/a" if not math.isfinite(by[(name, h)].hit_rate)
                      else f"{by[(name, h)].hit_rate:.0%}" for h in HORIZONS), edge])
    return out


def in_words(rec: TrackRecord) -> str:
    """What the table says about the verdict's forward edge, whatever it is."""
    edges = [r for r in rec.rows if r.horizon == 63 and r.verdict != ALL_DAYS and r.days]
    strong = [r for r in edges if r.runs >= MIN_SPELLS and math.isfinite(r.edge_t)
              and abs(r.edge_t) >= 2]
    few = [r.verdict for r in edges if r.runs < MIN_SPELLS]
    if strong:
        said = "; ".join(
            f"after {r.verdict} small caps did {'better' if r.edge > 0 else 'worse'} than on "
            f"all days by {abs(r.edge):.1%} (t {r.edge_t:+.1f}, {r.runs} spells)"
            for r in strong)
        text = (f"63-day edge with |t| >= 2: {said}. Every other verdict: no edge. A positive "
                "edge after a large-cap verdict (or a negative one after a small-cap verdict) "
                "is reversal, not continuation.")
    else:
        text = ("No verdict has a 63-day forward edge over all days with |t| >= 2: "
                "the verdict describes the past three months, it does not forecast the next.")
    if few:
        text += (f" Fewer than {MIN_SPELLS} spells (intervals not reliable): "
                 f"{', '.join(few)}.")
    return text


def markdown(records: Sequence[TrackRecord]) -> str:
    out = []
    for rec in records:
        out.append(f"**{rec.pair}, {rec.start:%Y-%m-%d} to {rec.end:%Y-%m-%d} ({rec.role})**: "
                   f"{rec.changes_per_year:.1f} verdict changes a year, median run "
                   f"{rec.median_run:.0f} trading days, {rec.days} days.\n")
        out.append("| " + " | ".join(HEADER) + " |")
        out.append("|" + "---|" * len(HEADER))
        out.extend("| " + " | ".join(row) + " |" for row in table_rows(rec))
        out.append("")
        out.append(in_words(rec))
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    from xlsmallcap import api
    from xlsmallcap.data.store import use_embedded_data

    print(markdown(api.track_records(use_embedded_data())), end="")
