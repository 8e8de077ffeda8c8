"""Rendering of :class:`xlsmallcap.api.Report` for the terminal (rich)."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
from rich.console import Group
from rich.panel import Panel
from rich.table import Table

from xlsmallcap.api import BENCHMARK_NAMES, Report
from xlsmallcap.data.publication import RULE_TEXT

COLOURS = {"Rotation": "bold green", "Emerging rotation": "green", "Diversification": "yellow",
           "Bobbling": "dark_orange", "Large-cap leadership": "red"}


def _pct(x: float, signed: bool = True) -> str:
    if x is None or not math.isfinite(x):
        return "n/a"
    return f"{x:+.2%}" if signed else f"{x:.2%}"


def _num(x: float, fmt: str = "{:.2f}") -> str:
    return "n/a" if x is None or not math.isfinite(x) else fmt.format(x)


def _data_notes(r: Report, today: dt.date) -> str:
    """Say when the date asked for lies past the data, and when the prices are old."""
    notes = []
    if r.requested is not None and r.requested > r.as_of:
        notes.append(f"[yellow]The data end on {r.as_of:%Y-%m-%d}: these are that day's "
                     f"figures, not {r.requested:%Y-%m-%d}'s.[/]")
    if r.requested is None:
        age = int(np.busday_count(r.as_of.date(), today))
        if age > 5:
            notes.append(f"[yellow]Prices end on {r.as_of:%Y-%m-%d}, {age} trading days ago: "
                         "run `xlsmallcap data update` for current figures.[/]")
    return "\n".join(notes)


def render(r: Report, today: dt.date | None = None) -> Group:
    rot = r.rotation
    notes = _data_notes(r, today or dt.date.today())
    e = rot.evidence
    evidence = (f"p-value small caps lead {_num(rot.p_value, '{:.3f}')}, large caps lead "
                f"{_num(rot.p_large, '{:.3f}')} (one-sided; stationary bootstrap of "
                f"{e.null_days} days of relative returns to "
                f"{'n/a' if e.null_end is pd.NaT else f'{e.null_end:%Y-%m-%d}'}, {e.reps} paths)"
                f"\nRotation {rot.to_rotation}")
    head = Panel(
        f"[{COLOURS.get(rot.verdict, 'white')}]{rot.verdict or 'n/a'}[/]  "
        f"score {_num(rot.score, '{:.0f}')}/100\n{rot.reason}\n{evidence}"
        + (f"\n{notes}" if notes else ""),
        title=f"{r.small} vs {', '.join(r.benchmarks)} as of {r.as_of:%Y-%m-%d}")

    comp = Table(title="Score components", show_header=True, header_style="bold")
    for c in ("persistence", "magnitude", "breadth", "funding"):
        comp.add_column(c, justify="right")
    comp.add_row(_num(rot.persistence), _num(rot.magnitude), _num(rot.breadth),
                 _num(rot.funding))

    rel = Table(title=f"Relative performance of {r.small}", header_style="bold")
    rel.add_column("window")
    for b in r.benchmarks:
        rel.add_column(f"vs {b} ({BENCHMARK_NAMES.get(b, b)})", justify="right")
    for w, row in r.rel.items():
        rel.add_row(f"{w} d", *(_pct(row[b]) for b in r.benchmarks))

    other = Table(title="Around the rotation", header_style="bold", show_header=False)
    other.add_column("figure")
    other.add_column("value", justify="right")
    other.add_column("note")
    c = r.cash
    if math.isfinite(c.value):
        note = (f"retail money funds took in {c.flow_bn:+,.0f} $bn net of interest "
                f"({_pct(c.flow_pct)}) in the {c.weeks} wk to {c.as_of:%Y-%m-%d}; "
                f"percentile among {c.windows} past {c.weeks}-wk windows")
    else:
        note = "n/a: needs two years of weekly money-fund flows (from 1985)"
    other.add_row("Cash stickiness", _num(c.value), note)
    if c.cycle is not None and math.isfinite(c.retained):
        other.add_row("  hiking-phase cash kept", _num(c.retained),
                      f"of {c.hike_inflow_bn:,.0f} $bn net inflow {c.cycle.hike_start:%Y-%m} to "
                      f"{c.cycle.peak:%Y-%m}, the share still there (> 1: more came after)")
    tot, quarter, share = r.total_mmf
    if math.isfinite(tot):
        other.add_row("All money funds (Z.1)", f"{tot:,.0f}",
                      f"$bn at {quarter:%Y}-Q{quarter.quarter} (last public quarter; Z.1 data "
                      "end 2020-Q4); "
                      f"retail (H.6, the series above) was {_pct(share, False)} of it")
    bn, pct, last = r.flows13
    other.add_row("Net flow, 13 wk", _pct(pct),
                  "n/a: no weekly flows" if not math.isfinite(bn) else
                  f"{bn:+,.0f} $bn into retail money funds to {last:%Y-%m-%d} "
                  "(asset change minus interest at the 3-month yield)")
    if r.easing:
        e = r.easing[-1]
        other.add_row("Easing cycle", f"{e.cycle.first_cut:%Y-%m-%d}",
                      f"first cut; {e.elapsed_weeks} wk on, net flow {_pct(e.now_pct)} of "
                      f"assets, percentile {_num(e.percentile)} among {e.compared} earlier "
                      "cycles at the same point")
    other.add_row("Outflows -> small caps?", "", "Nadig: the money for small caps comes from "
                  "money funds. Small-minus-large return per 1% of assets leaving:")
    for label, f in r.claim.items():
        other.add_row(f"  {label}",
                      _pct(f.slope) if math.isfinite(f.slope) else "n/a",
                      f"per 1% of assets leaving, 95% {_pct(f.low)} to {_pct(f.high)}: "
                      f"{f.answer}")
    ev = r.election
    if math.isfinite(ev.ratio):
        other.add_row("Election-year volatility", _num(ev.ratio),
                      f"Aug-Oct vol in {ev.elections} election years / {ev.other_years} other "
                      f"years, one-sided p {_num(ev.p_value, '{:.3f}')}: "
                      + ("more volatile" if ev.p_value < 0.05 else
                         "no evidence that markets are more volatile before elections"))
    for s in r.rates:
        if math.isfinite(s.per_cut):
            verdict = "significant" if s.significant else "not significant (|t| < 2)"
            note = (f"per 1 pp cut, Newey-West se {_pct(s.se, False)}, t {_num(-s.t)}, "
                    f"n={s.observations} weeks: {verdict}")
        else:
            note = (f"n/a: {s.rate} moved 5 bp or more in fewer than 3 of "
                    f"{s.observations} weeks")
        other.add_row(f"Rate sensitivity ({s.rate})", _pct(s.per_cut), note)
    k = r.risk
    other.add_row("Volatility ratio", _num(k.vol_ratio),
                  f"{r.small} {_pct(k.vol_small, False)} vs {_pct(k.vol_large, False)} "
                  f"annualized, {k.window} d")
    other.add_row("Max drawdown", _pct(k.max_drawdown), f"{r.small}, last {k.window} d")
    other.add_row("Beta", _num(k.beta), f"{r.small} to {r.benchmarks[0]}")
    q, ratio, mom = r.quadrant
    other.add_row("Quadrant", q or "n/a", f"ratio {_num(ratio)}, momentum {_num(mom)}")
    b = r.base
    other.add_row("Base rate since 1926", _pct(b.share, False),
                  f"{b.successes} of {b.events} SMB surges >= {b.threshold:.0%} in "
                  f"{b.surge_days} d were sustained over {b.horizon} d "
                  f"(95% {_pct(b.low, False)}-{_pct(b.high, False)}); "
                  f"SMB to {b.history_end:%Y-%m-%d} (published by then); today's surge "
                  f"{r.small} vs {r.benchmarks[0]} {b.surge_days} d: {_pct(b.current_surge)}")
    other.add_row("  surges of this size", _pct(b.similar_share, False),
                  f"{b.similar_successes} of {b.similar_events} surges of "
                  f"{_pct(b.similar_low_size, False)}-{_pct(b.similar_high_size, False)} "
                  f"(95% {_pct(b.similar_low, False)}-{_pct(b.similar_high, False)})")
    other.add_row("  any day", _pct(b.unconditional, False),
                  f"share of all {b.unconditional_days} days followed by a sustained lead: "
                  "what a surge must beat to mean anything")
    fresh = Table(title=f"Data used: only what was public on {r.as_of:%Y-%m-%d}",
                  header_style="bold")
    for col in ("series", "last observation used", "published", "publication rule"):
        fresh.add_column(col)
    for n, (last, pub, rule) in r.freshness.items():
        fresh.add_row(n, "none public" if last is pd.NaT else f"{last:%Y-%m-%d}",
                      "" if pub is pd.NaT else f"{pub:%Y-%m-%d}", RULE_TEXT.get(rule, rule))
    return Group(head, comp, rel, other, fresh)
