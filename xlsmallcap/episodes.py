"""The validation episodes: the figures the functions give on dates history has judged.

``python -m xlsmallcap.episodes`` prints the markdown table kept in docs/methodology.md; a test
checks that the document and the code agree.
"""

from __future__ import annotations

import math

import pandas as pd

from xlsmallcap import api
from xlsmallcap.data.store import DataStore

EPISODES: tuple[tuple[str, str], ...] = (
    ("2016-11-18", "post-election surge, 8 days old"),
    ("2016-12-09", "surge one month old"),
    ("2017-01-31", "surge fading"),
    ("2017-03-31", "faded: large caps lead again"),
    ("2020-11-30", "vaccine rally begins"),
    ("2020-12-31", "sustained small-cap run"),
    ("2021-01-29", "sustained small-cap run"),
    ("2021-03-12", "run peaks"),
    ("2023-05-31", "mega-cap leadership"),
    ("2023-10-31", "large caps leading"),
    ("2024-07-16", "the CPI surge in question"),
    ("2024-07-31", "surge three weeks on"),
    ("2024-08-30", "after the August sell-off"),
    ("2024-10-31", "October 2024"),
    ("2024-11-29", "post-election surge 2024"),
    ("2024-12-31", "fading"),
    ("2025-01-31", "faded"),
)


def _f(x: float, fmt: str) -> str:
    return "n/a" if not math.isfinite(x) else fmt.format(x)


def episode_table(store: DataStore | None = None) -> str:
    st = store
    latest = api.rotation_score(store=st).as_of.strftime("%Y-%m-%d")
    rows = [*EPISODES, (latest, "latest date in the data")]
    out = ["| date | what happened | verdict | since | p small | p large | score | persistence "
           "| rel 63d | rel 21d | breadth | cash stickiness | quadrant vs SPY |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for day, what in rows:
        r = api.rotation_score(as_of=day, store=st)
        c = api.cash(as_of=day, store=st)
        q = api.rotation_quadrant(as_of=day, store=st)[0]
        since = "n/a" if r.since is pd.NaT else f"{r.since:%Y-%m-%d}"
        if r.evidence.held_all_warm_up:
            since = f"< {since}"
        out.append(f"| {r.as_of:%Y-%m-%d} | {what} | {r.verdict} | {since} | "
                   f"{_f(r.p_value, '{:.3f}')} | {_f(r.p_large, '{:.3f}')} | "
                   f"{_f(r.score, '{:.0f}')} | "
                   f"{_f(r.persistence, '{:.2f}')} | {_f(r.rel_lookback, '{:+.1%}')} | "
                   f"{_f(r.rel_short, '{:+.1%}')} | {_f(r.breadth, '{:.2f}')} | "
                   f"{_f(c.value, '{:.2f}')} | {q} |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    print(episode_table(), end="")
