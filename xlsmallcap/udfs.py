"""Excel functions. Put ``xlsmallcap.udfs`` in xlwings' ``UDF Modules`` and *Import Functions*.

Each function is xlwings decorators, argument conversion (``xlsmallcap.excel``) and one call into
the analytics. Optional arguments come in the same order everywhere: tickers, ``as_of``, then the
function's own options; a blank cell means the default. Tickers may also be ranges of dates and
prices (your own Bloomberg/FactSet data). Errors come back as ``#VALUE! ...`` text naming the
argument; nothing here touches the network.
"""

from __future__ import annotations

import math

import pandas as pd
import xlwings as xw

from xlsmallcap import api
from xlsmallcap.core.history import history
from xlsmallcap.core.quadrant import quadrant
from xlsmallcap.core.rates import rate_sensitivity
from xlsmallcap.core.relative import relative_performance, rolling_relative_performance
from xlsmallcap.core.risk import risk
from xlsmallcap.data.store import get_store
from xlsmallcap.excel import (
    ArgError,
    as_bool,
    as_choice,
    as_date,
    as_float,
    as_int,
    as_source,
    as_sources,
    excel_function,
    frame_table,
    number,
    table,
)

CATEGORY = "xlsmallcap"
#: Rows CHART_SERIES spills at most (about 80 years of trading days).
MAX_CHART_POINTS = 20_000


def arg(name: str, doc: str):
    """``xw.arg`` with ``err_to_str=True``: an error cell reaches us as ``"#N/A"`` (and is
    answered with that error), instead of xlwings' default of turning it into a blank."""
    return xw.arg(name, doc=doc, err_to_str=True)


def date_system(f):
    """The hidden last argument ``date1904``: on Windows, VBA hands each call its workbook's
    date system (``Workbook.Date1904``); xlwings Lite and Server cannot see it, so there it is
    an optional argument. (A new ``xw.arg`` each time: xlwings consumes its ``vba`` option.)"""
    return xw.arg("date1904", doc="TRUE if this workbook uses the 1904 date system "
                  "(default FALSE)", err_to_str=True,
                  vba="Application.Caller.Parent.Parent.Date1904")(f)


SMALL_DOC = "Small-cap ticker (default IWM) or a range of dates and prices"
BENCH_DOC = "Large-cap tickers, e.g. \"SPY,QQQ\" or a range (default SPY, QQQ, DIA)"
LARGE_DOC = "Large-cap ticker (default SPY) or a range of dates and prices"
AS_OF_DOC = "Date of the figure; only data up to it is used (default: latest)"


def _pair(small, other, other_name: str, st, when):
    """The small-cap series and one large-cap series (ticker or range), with their names, as
    they were public on ``when``."""
    sn, s = as_source(small, "small", api.SMALL, st, when)
    on, o = as_source(other, other_name, "SPY", st, when)
    if sn == on and s.equals(o):
        raise ArgError(f"#VALUE! {other_name} must differ from small (both are {sn[:12]})")
    return sn, s, on, o


def _rotation(small, benchmarks, as_of, lookback, short_window):
    st = get_store()
    when = as_date(as_of)
    _, s = as_source(small, "small", api.SMALL, st, when)
    bench = as_sources(benchmarks, "benchmarks", api.BENCHMARKS, st, when)
    lb = as_int(lookback, "lookback", 63)
    sw = as_int(short_window, "short_window", 21)
    return api.rotation_of(s, bench, when, lb, sw, store=st)


@xw.func(category=CATEGORY)
@arg("small", doc=SMALL_DOC)
@arg("benchmarks", doc=BENCH_DOC)
@arg("as_of", doc=AS_OF_DOC)
@arg("lookback", doc="Trading days of the persistence test (default 63, three months)")
@arg("short_window", doc="Trading days of the 'ahead now' window (default 21)")
@date_system
@excel_function
def ROTATION_SCORE(small=None, benchmarks=None, as_of=None, lookback=None, short_window=None,
                   date1904=None):
    """Rotation score 0-100: did small caps beat large caps consistently for three months?"""
    r = _rotation(small, benchmarks, as_of, lookback, short_window)
    return number(r.score, "the rotation test (needs lookback + short_window + 1 days)")


@xw.func(category=CATEGORY)
@arg("small", doc=SMALL_DOC)
@arg("benchmarks", doc=BENCH_DOC)
@arg("as_of", doc=AS_OF_DOC)
@arg("with_reason", doc="TRUE adds the one-line reason (default FALSE)")
@date_system
@excel_function
def ROTATION_VERDICT(small=None, benchmarks=None, as_of=None, with_reason=None, date1904=None):
    """Rotation / Emerging rotation / Diversification / Bobbling / Large-cap leadership."""
    r = _rotation(small, benchmarks, as_of, None, None)
    if not r.verdict:
        return "#N/A " + r.reason
    return r.reason if as_bool(with_reason, "with_reason", False) else r.verdict


@xw.func(category=CATEGORY)
@arg("small", doc=SMALL_DOC)
@arg("benchmarks", doc=BENCH_DOC)
@arg("as_of", doc=AS_OF_DOC)
@arg("lookback", doc="Trading days of the persistence test (default 63)")
@arg("short_window", doc="Trading days of the 'ahead now' window (default 21)")
@arg("headers", doc="TRUE (default) spills a header row")
@date_system
@excel_function
def ROTATION_DETAIL(small=None, benchmarks=None, as_of=None, lookback=None, short_window=None,
                    headers=None, date1904=None):
    """Spills the verdict's evidence and the score's components with labels (two columns)."""
    r = _rotation(small, benchmarks, as_of, lookback, short_window)
    e = r.evidence
    rows = [["As of", r.as_of], ["Verdict", r.verdict], ["Verdict since", e.since],
            ["p-value, small caps lead", r.p_value], ["p-value, large caps lead", r.p_large],
            ["What would make it a Rotation", r.to_rotation], ["Score", r.score],
            ["Persistence", r.persistence], ["Magnitude", r.magnitude],
            ["Breadth", r.breadth], ["Funding", r.funding],
            ["Relative return, lookback", r.rel_lookback],
            ["Relative return, short window", r.rel_short],
            ["Large-cap growth return", r.growth_return],
            ["Benchmarks beaten", r.beaten], ["Benchmarks", r.benchmarks],
            ["Null sample, days", e.null_days], ["Null sample ends", e.null_end],
            ["Reason", r.reason]]
    if as_bool(headers, "headers", True):
        rows.insert(0, ["Component", "Value"])
    return table(rows)


@xw.func(category=CATEGORY)
@arg("small", doc=SMALL_DOC)
@arg("benchmarks", doc=BENCH_DOC)
@arg("as_of", doc=AS_OF_DOC)
@arg("side", doc="small (default): p that small caps lead by chance; large: the same for "
                    "large caps")
@date_system
@excel_function
def ROTATION_PVALUE(small=None, benchmarks=None, as_of=None, side=None, date1904=None):
    """One-sided p-value of the rotation test: below 0.05 is a lead chance rarely gives."""
    r = _rotation(small, benchmarks, as_of, None, None)
    p = {"small": r.p_value, "large": r.p_large}[as_choice(side, "side", ["small", "large"],
                                                           "small")]
    return number(p, "the rotation test (about 3.6 years of common history)")


@xw.func(category=CATEGORY)
@arg("window", doc="Trading days, e.g. 63 (required)")
@arg("small", doc=SMALL_DOC)
@arg("benchmarks", doc="Large-cap ticker(s): default SPY (one number); several, e.g. "
                        "\"SPY,QQQ,DIA\", spill a row")
@arg("as_of", doc=AS_OF_DOC)
@arg("headers", doc="TRUE (default) puts benchmark names above a spilled row")
@date_system
@excel_function
def REL_PERF(window, small=None, benchmarks=None, as_of=None, headers=None, date1904=None):
    """Relative total return of small caps vs the S&P 500 (or each benchmark asked for)."""
    st = get_store()
    w = as_int(window, "window")
    when = as_date(as_of)
    _, s = as_source(small, "small", api.SMALL, st, when)
    bench = as_sources(benchmarks, "benchmarks", ("SPY",), st, when)
    values = {b: relative_performance(s, p, w, when) for b, p in bench.items()}
    what = f"window {w} (needs {w + 1} common days up to as_of)"
    if len(values) == 1:
        return number(next(iter(values.values())), what)
    row = [number(v, what) for v in values.values()]
    return [list(values), row] if as_bool(headers, "headers", True) else [row]


@xw.func(category=CATEGORY)
@arg("window", doc="Trading days of each relative return (default 63)")
@arg("small", doc=SMALL_DOC)
@arg("bench", doc=LARGE_DOC)
@arg("as_of", doc=AS_OF_DOC)
@arg("start_date", doc="First date to spill (default: one year before as_of)")
@arg("headers", doc="TRUE (default) spills a header row")
@date_system
@excel_function
def REL_PERF_SERIES(window=None, small=None, bench=None, as_of=None, start_date=None,
                    headers=None, date1904=None):
    """Spills dates and the rolling relative return, for charts."""
    st = get_store()
    w = as_int(window, "window", 63)
    when = as_date(as_of)
    sn, s, bn, b = _pair(small, bench, "bench", st, when)
    series = rolling_relative_performance(s, b, w, when).dropna()
    if series.empty:
        return f"#N/A not enough data for window {w}"
    start = as_date(start_date, "start_date") or series.index[-1] - pd.DateOffset(years=1)
    out = series.loc[start:].rename(f"{sn} vs {bn}, {w}d").to_frame()
    return frame_table(out, as_bool(headers, "headers", True))


@xw.func(category=CATEGORY)
@arg("kind", doc="rs, relperf, mmf or quadrant")
@arg("small", doc=SMALL_DOC)
@arg("bench", doc=LARGE_DOC)
@arg("as_of", doc=AS_OF_DOC)
@arg("points", doc="Rows to spill below the header (default 252); always this many")
@arg("headers", doc="TRUE (default) spills a header row")
@date_system
@excel_function
def CHART_SERIES(kind, small=None, bench=None, as_of=None, points=None, headers=None,
                 date1904=None):
    """Spills a fixed-size block of chart data: dates then values (earlier dates without
    values pad the top)."""
    st = get_store()
    k = as_choice(kind, "kind", api.CHART_KINDS, "rs")
    when = as_date(as_of)
    _, s, _, b = _pair(small, bench, "bench", st, when)
    n = as_int(points, "points", 252, unit="rows", maximum=MAX_CHART_POINTS)
    df = api.pad_dates(api.chart_series(k, s, b, when, n, st), n)
    rows = frame_table(df, as_bool(headers, "headers", True))
    pad = [[None] * (df.shape[1] + 1)] * (n - len(df))  # no data at all: undated blank rows
    return rows[:1] + pad + rows[1:] if as_bool(headers, "headers", True) else pad + rows


@xw.func(category=CATEGORY)
@arg("as_of", doc=AS_OF_DOC)
@arg("weeks", doc="Weeks of retail money-fund net flows (default 52)")
@arg("output", doc="stickiness (default), retained (share of the last hiking phase's "
                      "inflow still there), flow_bn or flow_pct")
@date_system
@excel_function
def CASH_STICKINESS(as_of=None, weeks=None, output=None, date1904=None):
    """0-1: percentile of retail money-fund net flows (ex interest) among all past windows."""
    r = api.cash(as_date(as_of), as_int(weeks, "weeks", 52, unit="weeks"), store=get_store())
    fields = {"stickiness": r.value, "retained": r.retained, "flow_bn": r.flow_bn,
              "flow_pct": r.flow_pct}
    return number(fields[as_choice(output, "output", list(fields), "stickiness")],
                  "cash stickiness (flows start in 1985; 2 years needed)")


@xw.func(category=CATEGORY)
@arg("weeks", doc="Weeks of flows (default 13)")
@arg("as_of", doc=AS_OF_DOC)
@arg("output", doc="bn (default, $bn) or pct (share of assets)")
@date_system
@excel_function
def CASH_FLOWS(weeks=None, as_of=None, output=None, date1904=None):
    """Net flow into retail money funds over N weeks: asset change minus interest earned."""
    bn, pct, _ = api.cash_flows(as_int(weeks, "weeks", 13, unit="weeks"), as_date(as_of),
                                get_store())
    out = as_choice(output, "output", ["bn", "pct"], "bn")
    return number(bn if out == "bn" else pct, "money-fund flows (weekly data from 1985)")


@xw.func(category=CATEGORY)
@arg("as_of", doc=AS_OF_DOC)
@arg("headers", doc="TRUE (default) spills a header row")
@date_system
@excel_function
def EASING_CYCLES(as_of=None, headers=None, date1904=None):
    """Spills every easing cycle since 1985: money-fund net flows after the first cut."""
    rows = [[e.cycle.first_cut, e.cycle.peak_rate, e.hike_inflow_bn,
             *(v for h in sorted(e.after) for v in e.after[h]), e.elapsed_weeks, e.now_pct,
             e.percentile] for e in api.easing(as_date(as_of), get_store())]
    if not rows:
        return "#N/A no easing cycle inside the money-fund data before as_of"
    if as_bool(headers, "headers", True):
        rows.insert(0, ["First cut", "Peak rate", "Hiking inflow $bn", "13w $bn", "13w %",
                        "26w $bn", "26w %", "52w $bn", "52w %", "Weeks known",
                        "Flow so far %", "Percentile vs earlier"])
    return table(rows)


@xw.func(category=CATEGORY)
@arg("small", doc=SMALL_DOC)
@arg("large", doc=LARGE_DOC)
@arg("as_of", doc=AS_OF_DOC)
@arg("horizon", doc="0 = the same week (default); h = the h following weeks")
@arg("sample", doc="all (default) or easing (the 52 weeks after each first cut)")
@arg("output", doc="slope (default), low, high, t, n, correlation or answer")
@date_system
@excel_function
def CASH_TO_SMALLCAPS(small=None, large=None, as_of=None, horizon=None, sample=None,
                      output=None, date1904=None):
    """Small-minus-large return per 1% of assets leaving money funds (Newey-West, 95%)."""
    st = get_store()
    when = as_date(as_of)
    _, s, _, b = _pair(small, large, "large", st, when)
    e = api.cash_to_smallcaps(when, as_int(horizon, "horizon", 0, minimum=0, unit="weeks"),
                              as_choice(sample, "sample", ["all", "easing"], "all"), s, b,
                              store=st)
    fields = {"slope": e.slope, "low": e.low, "high": e.high, "t": e.t, "n": e.n,
              "correlation": e.correlation, "answer": e.answer}
    return number(fields[as_choice(output, "output", list(fields), "slope")],
                  "the flow test (weekly flows from 1985)")


@xw.func(category=CATEGORY)
@arg("as_of", doc=AS_OF_DOC)
@arg("output", doc="ratio (default), p_value, elections or other_years")
@date_system
@excel_function
def ELECTION_VOL(as_of=None, output=None, date1904=None):
    """Aug-Oct market volatility in US election years over other years, with a p-value."""
    r = api.election(as_date(as_of), get_store())
    fields = {"ratio": r.ratio, "p_value": r.p_value, "elections": r.elections,
              "other_years": r.other_years}
    return number(fields[as_choice(output, "output", list(fields), "ratio")],
                  "the election test (needs 3 elections)")


@xw.func(category=CATEGORY)
@arg("small", doc=SMALL_DOC)
@arg("large", doc=LARGE_DOC)
@arg("as_of", doc=AS_OF_DOC)
@arg("rate", doc="DGS2 (2-year yield, default) or DFF (fed funds)")
@arg("window", doc="Trading days of weekly steps (default 252)")
@arg("output", doc="per_cut (default), se (Newey-West), t, n or significance")
@date_system
@excel_function
def RATE_SENSITIVITY(small=None, large=None, as_of=None, rate=None, window=None, output=None,
                     date1904=None):
    """Relative return of small vs large caps per 1 pp rate cut (positive = cuts help)."""
    st = get_store()
    when = as_date(as_of)
    _, s, _, b = _pair(small, large, "large", st, when)
    rn, r = as_source(rate, "rate", api.TWO_YEAR, st, when, kinds=("rate", "yield"))
    sens = rate_sensitivity(s, b, {rn: r}, as_int(window, "window", 252, minimum=2), 5,
                            when)[0]
    what = f"{rn} (it must move at least 5 bp in 3 weeks of the window)"
    out = as_choice(output, "output", ["per_cut", "se", "t", "n", "significance"], "per_cut")
    if out == "significance":
        if not math.isfinite(sens.t):
            return number(sens.t, what)
        return "significant (|t| >= 2)" if sens.significant else "not significant (|t| < 2)"
    fields = {"per_cut": sens.per_cut, "se": sens.se, "t": -sens.t, "n": sens.observations}
    return number(fields[out], what)


@xw.func(category=CATEGORY)
@arg("small", doc=SMALL_DOC)
@arg("large", doc=LARGE_DOC)
@arg("as_of", doc=AS_OF_DOC)
@arg("window", doc="Trading days (default 63)")
@arg("measure", doc="ratio (default), vol_small, vol_large, drawdown or beta")
@date_system
@excel_function
def VOL_RATIO(small=None, large=None, as_of=None, window=None, measure=None, date1904=None):
    """Realized volatility of small caps over large caps (or drawdown / beta)."""
    st = get_store()
    when = as_date(as_of)
    _, s, _, b = _pair(small, large, "large", st, when)
    r = risk(s, b, as_int(window, "window", 63, minimum=2), when)
    fields = {"ratio": r.vol_ratio, "vol_small": r.vol_small, "vol_large": r.vol_large,
              "drawdown": r.max_drawdown, "beta": r.beta}
    return number(fields[as_choice(measure, "measure", list(fields), "ratio")],
                  f"window {r.window}")


@xw.func(category=CATEGORY)
@arg("small", doc=SMALL_DOC)
@arg("bench", doc=LARGE_DOC)
@arg("as_of", doc=AS_OF_DOC)
@date_system
@excel_function
def ROTATION_QUADRANT(small=None, bench=None, as_of=None, date1904=None):
    """Leading / Weakening / Lagging / Improving, from relative strength and its momentum."""
    st = get_store()
    when = as_date(as_of)
    _, s, _, b = _pair(small, bench, "bench", st, when)
    q, _, _ = quadrant(s, b, as_of=when)
    return q or "#N/A not enough data for the quadrant (needs 73 common days)"


@xw.func(category=CATEGORY)
@arg("as_of", doc=AS_OF_DOC)
@arg("surge_days", doc="Days of the surge (default 5)")
@arg("threshold", doc="Small-minus-big over surge_days that counts as a surge (default 3%)")
@arg("horizon", doc="Trading days it must be sustained (default 63)")
@arg("output", doc="share (default), low, high, events, successes, mean_forward, similar, "
                      "similar_low, similar_high, similar_events, unconditional")
@date_system
@excel_function
def BASE_RATE(as_of=None, surge_days=None, threshold=None, horizon=None, output=None,
              date1904=None):
    """Share of small-cap surges since 1926 that became sustained outperformance."""
    r = api.base(as_date(as_of), as_int(surge_days, "surge_days", 5),
                 as_float(threshold, "threshold", 0.03),
                 as_int(horizon, "horizon", 63, minimum=2), store=get_store())
    fields = {"share": r.share, "low": r.low, "high": r.high, "events": r.events,
              "successes": r.successes, "mean_forward": r.mean_forward,
              "similar": r.similar_share, "similar_low": r.similar_low,
              "similar_high": r.similar_high, "similar_events": r.similar_events,
              "unconditional": r.unconditional}
    return number(fields[as_choice(output, "output", list(fields), "share")],
                  "the base rate (no surge above the threshold before as_of)")


PROPERTIES = {0: "Date", 1: "Close"}


@xw.func(category=CATEGORY)
@arg("stock", doc="Ticker or series id, e.g. IWM, ^TNX, WRMFNS")
@arg("start_date", doc="First date (required)")
@arg("end_date", doc="Last date (default: start_date)")
@arg("interval", doc="0 daily (default), 1 weekly, 2 monthly - as STOCKHISTORY")
@arg("headers", doc="0 none, 1 header row (default) - as STOCKHISTORY")
@arg("property0", doc="0 Date (default), 1 Close")
@arg("property1", doc="0 Date, 1 Close (default)")
@date_system
@excel_function
def XLSC_HISTORY(stock, start_date, end_date=None, interval=None, headers=None, property0=None,
                 property1=None, date1904=None):
    """Like STOCKHISTORY, from xlsmallcap's data: dates and adjusted closes (or series values)."""
    st = get_store()
    name, s = as_source(stock, "stock", api.SMALL, st,
                        kinds=("price", "yield", "rate", "mmf", "factor"))
    start = as_date(start_date, "start_date")
    if start is None:
        raise ArgError("#VALUE! start_date is required: a date like 2024-07-16")
    end = as_date(end_date, "end_date") or start
    if end < start:
        raise ArgError("#VALUE! end_date must be on or after start_date")
    iv = as_int(interval, "interval", 0, minimum=0, unit="(0 daily, 1 weekly, 2 monthly)")
    if iv > 2:
        raise ArgError(f"#VALUE! interval must be 0 (daily), 1 (weekly) or 2 (monthly) "
                       f"(got {iv})")
    hd = as_int(headers, "headers", 1, minimum=0, unit="(0 or 1)")
    props = [as_int(p, n, d, minimum=0, unit="(0 Date, 1 Close)")
             for p, n, d in ((property0, "property0", 0), (property1, "property1", 1))]
    if any(p not in PROPERTIES for p in props):
        raise ArgError("#VALUE! property must be 0 (Date) or 1 (Close): the data holds "
                       "adjusted closes")
    out = history(s, start, end, iv)
    if out.empty:
        return f"#N/A no {name} data between {start:%Y-%m-%d} and {end:%Y-%m-%d}"
    cols = {"Date": list(out.index), "Close": out.tolist()}
    rows = [[cols[PROPERTIES[p]][i] for p in props] for i in range(out.size)]
    if hd:
        rows.insert(0, [PROPERTIES[p] for p in props])
    return table(rows)


@xw.func(category=CATEGORY)
@arg("headers", doc="TRUE (default) spills a header row")
@excel_function
def DATA_STATUS(headers=None):
    """Spills each series: source, first and last date, rows, days since the last value."""
    rows = [[r.id, r.source, r.first, r.last, r.rows, r.stale_days, r.description]
            for r in get_store().status()]
    if as_bool(headers, "headers", True):
        rows.insert(0, ["Series", "Source", "First", "Last", "Rows", "Days stale",
                        "Description"])
    return table(rows)


def _macro(f):
    """A macro: xlwings' ``sub`` where it exists (Excel on Windows, where *Import Functions*
    writes a VBA ``Sub`` for it); a plain function under xlwings Lite and Server, which have no
    ``sub`` (a deprecated alias there), so that this module imports everywhere."""
    sub = getattr(xw, "sub", None)
    return sub(f) if sub is not None else f


@_macro
def XLSC_UPDATE_DATA():
    """Macro: download live data into the cache, recalculate every formula and report.

    The functions are not volatile, so a plain recalculation (F9) would skip them: this asks
    Excel for a full one (``CalculateFull``). Progress shows in the status bar, which is handed
    back to Excel at the end; the summary comes in a message box.
    """
    from xlsmallcap.data.catalog import CATALOG

    book = xw.Book.caller()
    app = book.app
    total = sum(1 for s in CATALOG if s.live)
    done: list[str] = []

    def progress(sid: str) -> None:
        done.append(sid)
        app.status_bar = f"xlsmallcap: updating data {len(done)}/{total} ({sid})"

    try:
        result = get_store().update(progress=progress)
        app.status_bar = "xlsmallcap: recalculating every formula"
        app.api.CalculateFull()
    finally:
        app.status_bar = False  # hands the status bar back to Excel
    summary = (f"xlsmallcap: updated {len(result.updated)} series"
               + (f", {len(result.failed)} failed: " + "; ".join(result.failed.values())
                  if result.failed else ""))
    app.alert(summary[:1000], title="xlsmallcap")


#: Every worksheet function of this module, by the name Excel shows.
EXCEL_FUNCTIONS: tuple[str, ...] = (
    "ROTATION_SCORE", "ROTATION_VERDICT", "ROTATION_DETAIL", "ROTATION_PVALUE", "REL_PERF",
    "REL_PERF_SERIES",
    "CASH_STICKINESS", "CASH_FLOWS", "EASING_CYCLES", "CASH_TO_SMALLCAPS", "ELECTION_VOL",
    "RATE_SENSITIVITY", "VOL_RATIO", "ROTATION_QUADRANT", "BASE_RATE",
    "XLSC_HISTORY", "DATA_STATUS", "CHART_SERIES",
)
