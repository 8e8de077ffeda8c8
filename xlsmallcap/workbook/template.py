"""The template workbook: built by code from xlwings' own quickstart workbook.

``build(path)`` writes the formulas, names, formatting and charts with openpyxl, then runs the
headless refresh so the file opens with numbers. The committed copy in ``workbooks/`` is kept
identical to a fresh build by a test.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.chart import LineChart, Reference, ScatterChart, Series
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils.cell import column_index_from_string
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.formula import ArrayFormula

from xlsmallcap.data.atomic import write_bytes_atomic

TEMPLATE_NAME = "xlsmallcap.xlsm"
EPISODE_DATES = ("2016-11-18", "2016-12-09", "2017-03-31", "2020-11-30", "2020-12-31",
                 "2021-01-29", "2021-03-12", "2024-07-16", "2024-07-31", "2024-08-30",
                 "2024-11-29", "2025-01-31")
POINTS = {"rs": 252, "relperf": 252, "mmf": 156, "quadrant": 13}
#: First column of each chart's data block on the Charts sheet (right of the printed charts).
DATA_COLUMNS = {"rs": "L", "relperf": "P", "mmf": "T", "quadrant": "W"}
#: Where each spilled block keeps its last refreshed values on the hidden Cache sheet.
CACHE = {"detail": "$A$1:$B$20", "rs": "$D$1:$F$253", "relperf": "$H$1:$J$253",
         "mmf": "$L$1:$M$157", "quadrant": "$O$1:$Q$14"}


def _spill(call: str, block: str) -> str:
    """An array formula that falls back to the Cache sheet where the function is missing
    (LibreOffice, Excel without Python)."""
    return f"=IFERROR({call},Cache!{CACHE[block]})"
PCT, RATIO, DATE = "0.0%", "0.00", "yyyy-mm-dd"
TITLE = Font(bold=True, size=14)
BOLD = Font(bold=True)
HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")
VERDICT_COLOURS = {"Large-cap leadership": "F8CBAD", "Bobbling": "FCE4D6",
                   "Diversification": "FFF2CC", "Emerging rotation": "E2EFDA",
                   "Rotation": "A9D08E"}


def quickstart_path() -> Path:
    import xlwings

    return Path(xlwings.__file__).parent / "quickstart.xlsm"


def _header(ws, row: int, values: list[str], col: int = 1) -> None:
    for j, v in enumerate(values):
        c = ws.cell(row=row, column=col + j, value=v)
        c.font = BOLD
        c.fill = HEAD_FILL


def _settings(wb) -> None:
    ws = wb.create_sheet("Settings")
    ws["A1"] = "Settings: every formula in this workbook reads these named cells"
    ws["A1"].font = TITLE
    _header(ws, 3, ["Name", "Value", "Meaning"])
    rows = [
        ("Small", "IWM", "Small-cap ticker (Russell 2000 ETF)"),
        ("Bench1", "SPY", "Large-cap benchmark 1 (S&P 500)"),
        ("Bench2", "QQQ", "Large-cap benchmark 2 (Nasdaq-100)"),
        ("Bench3", "DIA", "Large-cap benchmark 3 (Dow)"),
        ("Benchmarks", "SPY,QQQ,DIA", "The benchmarks of the rotation test"),
        ("AsOf", None, "Date of every figure; blank = latest data"),
        ("Lookback", 63, "Trading days of the persistence test (three months)"),
        ("ShortWindow", 21, "Trading days of the 'ahead now' window"),
        ("VolWindow", 63, "Trading days of the volatility figures"),
    ]
    for i, (name, value, meaning) in enumerate(rows, start=4):
        ws.cell(row=i, column=1, value=name)
        ws.cell(row=i, column=2, value=value)
        ws.cell(row=i, column=3, value=meaning)
        wb.defined_names[name] = DefinedName(name, attr_text=f"Settings!$B${i}")
    ws["B9"].number_format = DATE
    ws.column_dimensions["A"].width = 14
    ws.column_dimensions["B"].width = 14
    ws.column_dimensions["C"].width = 52
    ws.freeze_panes = "A4"
    _page(ws, "A1:C12")


def _dashboard(wb) -> None:
    ws = wb.create_sheet("Dashboard", 0)
    ws["A1"] = "Is the small-cap rally a true rotation out of large caps, or diversification?"
    ws["A1"].font = TITLE
    ws["A3"], ws["B3"] = "Verdict", "=ROTATION_VERDICT(Small,Benchmarks,AsOf)"
    ws["A4"], ws["B4"] = "Score (0-100)", \
        "=ROTATION_SCORE(Small,Benchmarks,AsOf,Lookback,ShortWindow)"
    ws["A5"], ws["B5"] = "Why", "=ROTATION_VERDICT(Small,Benchmarks,AsOf,TRUE)"
    ws["B3"].font = Font(bold=True, size=13)
    ws["B4"].number_format = "0"
    ws["B5"].alignment = Alignment(wrap_text=True, vertical="top")
    ws["A5"].alignment = Alignment(vertical="top")
    ws.merge_cells("B5:G5")
    ws.row_dimensions[5].height = 48
    for verdict, colour in VERDICT_COLOURS.items():
        ws.conditional_formatting.add(
            "B3", FormulaRule(formula=[f'$B$3="{verdict}"'],
                              fill=PatternFill("solid", fgColor=colour, bgColor=colour)))
    # The evidence beside the verdict: one-sided p-values of the rotation test.
    ws["D3"], ws["E3"] = "p-value, small caps lead", "=ROTATION_PVALUE(Small,Benchmarks,AsOf)"
    ws["D4"], ws["E4"] = "p-value, large caps lead", \
        '=ROTATION_PVALUE(Small,Benchmarks,AsOf,"large")'
    for ref in ("E3", "E4"):
        ws[ref].number_format = "0.000"
        ws[ref].alignment = Alignment(horizontal="right")
    # Components (spilled by ROTATION_DETAIL, 19 rows + header).
    ws["A7"] = ArrayFormula("A7:B26", _spill(
        "ROTATION_DETAIL(Small,Benchmarks,AsOf,Lookback,ShortWindow,TRUE)", "detail"))
    for r in (8, 10, 25):
        ws.cell(row=r, column=2).number_format = DATE
    for r in (11, 12):
        ws.cell(row=r, column=2).number_format = "0.000"
    ws["B14"].number_format = "0.0"
    for r in range(15, 19):
        ws.cell(row=r, column=2).number_format = RATIO
    for r in (19, 20, 21):
        ws.cell(row=r, column=2).number_format = PCT
    for r in (22, 23, 24):
        ws.cell(row=r, column=2).number_format = "0"
    ws["B26"].alignment = Alignment(wrap_text=True, vertical="top")
    ws["A26"].alignment = Alignment(vertical="top")
    # Relative performance table.
    _header(ws, 7, ["Window (days)", "vs S&P 500", "vs Nasdaq-100", "vs Dow"], col=4)
    for i, w in enumerate((5, 21, 63, 126)):
        r = 8 + i
        ws.cell(row=r, column=4, value=w)
        for j, bench in enumerate(("Bench1", "Bench2", "Bench3")):
            c = ws.cell(row=r, column=5 + j, value=f"=REL_PERF($D{r},Small,{bench},AsOf)")
            c.number_format = PCT
    # Around the rotation.
    _header(ws, 13, ["Figure", "Value"], col=4)
    figures = [
        ("Cash stickiness (percentile, 0-1)", "=CASH_STICKINESS(AsOf)", RATIO),
        ("Per 1 pp cut in 2-year yield", '=RATE_SENSITIVITY(Small,Bench1,AsOf,"DGS2")', PCT),
        ("  Newey-West t", '=RATE_SENSITIVITY(Small,Bench1,AsOf,"DGS2",252,"t")', RATIO),
        ("  significance", '=RATE_SENSITIVITY(Small,Bench1,AsOf,"DGS2",252,"significance")',
         None),
        ("Per 1 pp cut in fed funds", '=RATE_SENSITIVITY(Small,Bench1,AsOf,"DFF")', PCT),
        ("Volatility ratio", '=VOL_RATIO(Small,Bench1,AsOf,VolWindow,"ratio")', RATIO),
        ("Max drawdown", '=VOL_RATIO(Small,Bench1,AsOf,VolWindow,"drawdown")', PCT),
        ("Beta to S&P 500", '=VOL_RATIO(Small,Bench1,AsOf,VolWindow,"beta")', RATIO),
        ("Quadrant vs S&P 500", "=ROTATION_QUADRANT(Small,Bench1,AsOf)", None),
        ("Base rate since 1926", '=BASE_RATE(AsOf,5,0.03,63,"share")', PCT),
        ("  95% interval, low", '=BASE_RATE(AsOf,5,0.03,63,"low")', PCT),
        ("  95% interval, high", '=BASE_RATE(AsOf,5,0.03,63,"high")', PCT),
        ("Surges in the sample", '=BASE_RATE(AsOf,5,0.03,63,"events")', "0"),
        ("Surges of today's size: sustained", '=BASE_RATE(AsOf,5,0.03,63,"similar")', PCT),
        ("  how many such surges", '=BASE_RATE(AsOf,5,0.03,63,"similar_events")', "0"),
        ("Any day: sustained (the bar)", '=BASE_RATE(AsOf,5,0.03,63,"unconditional")', PCT),
        ("Prices as of", "=MAX(Charts!L4:L255)", DATE),
        ("Money funds as of", "=MAX(Charts!T4:T159)", DATE),
        ("Retail MMF net flow, 13 wk ($bn)", "=CASH_FLOWS(13,AsOf)", "#,##0"),
        ("Outflows -> small caps: t", '=CASH_TO_SMALLCAPS(Small,Bench1,AsOf,0,"all","t")',
         RATIO),
        ("  answer", '=CASH_TO_SMALLCAPS(Small,Bench1,AsOf,0,"all","answer")', None),
        ("Election-year volatility ratio", "=ELECTION_VOL(AsOf)", RATIO),
        ("  one-sided p-value", '=ELECTION_VOL(AsOf,"p_value")', "0.000"),
    ]
    for i, (label, formula, fmt) in enumerate(figures, start=14):
        ws.cell(row=i, column=4, value=label)
        c = ws.cell(row=i, column=5, value=formula)
        # text answers read from the left and may run into the empty columns beside them
        c.alignment = Alignment(horizontal="left" if label.startswith("  answer") else "right")
        if fmt:
            c.number_format = fmt
    widths = {"A": 28, "B": 44, "C": 3, "D": 32, "E": 22, "F": 14, "G": 12}
    for col, w in widths.items():
        ws.column_dimensions[col].width = w
    ws.row_dimensions[26].height = 60
    ws.freeze_panes = "A3"
    _page(ws, "A1:G38")


def _charts(wb) -> None:
    ws = wb.create_sheet("Charts")
    ws["A1"] = "Charts (data on the right, spilled by CHART_SERIES)"
    ws["A1"].font = TITLE
    blocks = {k: (DATA_COLUMNS[k], 3) for k in POINTS}
    for kind, (col, row) in blocks.items():
        width = 3 if kind in ("rs", "relperf", "quadrant") else 2
        n = POINTS[kind]
        first = ws[f"{col}{row}"]
        last_col = chr(ord(col) + width - 1)
        ref = f"{col}{row}:{last_col}{row + n}"
        bench = "Bench1"
        first.value = ArrayFormula(ref, _spill(
            f'CHART_SERIES("{kind}",Small,{bench},AsOf,{n},TRUE)', kind))
        for r in range(row + 1, row + n + 1):
            ws[f"{col}{r}"].number_format = DATE
        ws.column_dimensions[col].width = 11
    # Relative strength line with its moving average.
    c1 = LineChart()
    c1.title = "Relative strength: small / large caps (100 = a year ago)"
    c1.y_axis.title = "index"
    n = POINTS["rs"]
    col = column_index_from_string(DATA_COLUMNS["rs"])
    c1.add_data(Reference(ws, min_col=col + 1, max_col=col + 2, min_row=3, max_row=3 + n),
                titles_from_data=True)
    c1.set_categories(Reference(ws, min_col=col, min_row=4, max_row=3 + n))
    c1.x_axis.number_format = "mmm yy"
    ws.add_chart(c1, "A3")
    # Rolling 63-day relative return with a zero line.
    c2 = LineChart()
    c2.title = "Rolling 63-day relative return, small vs large"
    c2.y_axis.number_format = "0%"
    col = column_index_from_string(DATA_COLUMNS["relperf"])
    c2.add_data(Reference(ws, min_col=col + 1, max_col=col + 2, min_row=3, max_row=3 + n),
                titles_from_data=True)
    c2.set_categories(Reference(ws, min_col=col, min_row=4, max_row=3 + n))
    c2.x_axis.tickLblPos = "low"
    c2.x_axis.number_format = "mmm yy"
    ws.add_chart(c2, "A19")
    # Money-market fund assets.
    c3 = LineChart()
    c3.title = "Retail money-market fund assets ($bn, weekly)"
    m = POINTS["mmf"]
    col = column_index_from_string(DATA_COLUMNS["mmf"])
    c3.add_data(Reference(ws, min_col=col + 1, min_row=3, max_row=3 + m), titles_from_data=True)
    c3.set_categories(Reference(ws, min_col=col, min_row=4, max_row=3 + m))
    c3.legend = None
    c3.x_axis.number_format = "mmm yy"
    ws.add_chart(c3, "A35")
    # Quadrant trail.
    c4 = ScatterChart()
    c4.title = "Relative rotation trail (weekly): ratio vs momentum"
    c4.style = 13
    q = POINTS["quadrant"]
    col = column_index_from_string(DATA_COLUMNS["quadrant"])
    s = Series(Reference(ws, min_col=col + 2, min_row=4, max_row=3 + q),
               Reference(ws, min_col=col + 1, min_row=4, max_row=3 + q), title="small vs large")
    s.marker.symbol = "circle"
    s.smooth = False
    c4.series.append(s)
    c4.x_axis.title = "ratio (>100 = stronger)"
    c4.y_axis.title = "momentum (>100 = improving)"
    c4.legend = None
    for chart in (c1, c2, c3, c4):
        chart.height, chart.width = 7.5, 17
        if chart.legend is not None:
            chart.legend.position = "b"
    ws.add_chart(c4, "A51")
    _page(ws, "A1:J66", landscape=False)


def _page(ws, area: str, landscape: bool = True) -> None:
    ws.print_area = area
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 1
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def _cache(wb) -> None:
    ws = wb.create_sheet("Cache")
    ws.sheet_state = "hidden"


def _episodes(wb) -> None:
    ws = wb.create_sheet("Episodes")
    ws["A1"] = "The same figures replayed on dates history has judged"
    ws["A1"].font = TITLE
    _header(ws, 3, ["As of", "Verdict", "Score", "vs S&P 500, 63d", "vs S&P 500, 21d",
                    "Cash stickiness", "Quadrant", "p, small lead", "p, large lead"])
    dates: list[object] = [dt.datetime.fromisoformat(d) for d in EPISODE_DATES] + [None]
    for i, d in enumerate(dates, start=4):
        a = ws.cell(row=i, column=1, value=d if d is not None else "latest")
        a.number_format = DATE
        ref = f"$A{i}" if d is not None else "AsOf"
        ws.cell(row=i, column=2, value=f"=ROTATION_VERDICT(Small,Benchmarks,{ref})")
        ws.cell(row=i, column=3,
                value=f"=ROTATION_SCORE(Small,Benchmarks,{ref},Lookback,ShortWindow)"
                ).number_format = "0"
        ws.cell(row=i, column=4, value=f"=REL_PERF(63,Small,Bench1,{ref})").number_format = PCT
        ws.cell(row=i, column=5, value=f"=REL_PERF(21,Small,Bench1,{ref})").number_format = PCT
        ws.cell(row=i, column=6, value=f"=CASH_STICKINESS({ref})").number_format = RATIO
        ws.cell(row=i, column=7, value=f"=ROTATION_QUADRANT(Small,Bench1,{ref})")
        ws.cell(row=i, column=8, value=f"=ROTATION_PVALUE(Small,Benchmarks,{ref})"
                ).number_format = "0.000"
        ws.cell(row=i, column=9, value=f'=ROTATION_PVALUE(Small,Benchmarks,{ref},"large")'
                ).number_format = "0.000"
    for col, w in zip("ABCDEFGHI", (12, 22, 8, 16, 16, 15, 12, 13, 13), strict=True):
        ws.column_dimensions[col].width = w
    last = 3 + len(dates)
    for verdict, colour in VERDICT_COLOURS.items():
        ws.conditional_formatting.add(
            f"B4:B{last}", FormulaRule(formula=[f'$B4="{verdict}"'],
                                       fill=PatternFill("solid", fgColor=colour,
                                                        bgColor=colour)))
    ws.freeze_panes = "A4"
    _page(ws, f"A1:I{last}")


TRACK_COLUMNS = ["Verdict", "Days", "Spells", "63d mean", "63d low", "63d high", "63d hit",
                 "21d mean", "126d mean", "63d edge", "Edge t"]


def _track_record(wb) -> None:
    """The verdict's track record as values (it is history: computed when the book is built)."""
    from xlsmallcap import api
    from xlsmallcap.track_view import in_words

    ws = wb.create_sheet("Track record")
    ws["A1"] = "What small caps did after each verdict (relative return vs large caps)"
    ws["A1"].font = TITLE
    ws["A2"] = "Levels chosen on noise and on 1926-1999 (fitted); 2000 on is reported out of "\
               "sample."
    ws["A3"] = "Intervals: 95%, Newey-West or clustered by spell, whichever is wider."
    row = 4
    for rec in api.track_records():
        ws.cell(row=row, column=1,
                value=f"{rec.pair}, {rec.start:%Y-%m-%d} to {rec.end:%Y-%m-%d} ({rec.role}): "
                      f"{rec.changes_per_year:.1f} changes a year, median run "
                      f"{rec.median_run:.0f} days").font = BOLD
        _header(ws, row + 1, TRACK_COLUMNS)
        by = {(r.verdict, r.horizon): r for r in rec.rows}
        names = list(dict.fromkeys(r.verdict for r in rec.rows))
        for i, name in enumerate(names, start=row + 2):
            r63, r21, r126 = by[(name, 63)], by[(name, 21)], by[(name, 126)]
            values = [name, r63.days, r63.runs, r63.mean, r63.low, r63.high, r63.hit_rate,
                      r21.mean, r126.mean, None if name == "All days" else r63.edge,
                      None if name == "All days" else r63.edge_t]
            for j, v in enumerate(values, start=1):
                ok = not isinstance(v, float) or v == v  # NaN -> empty cell
                c = ws.cell(row=i, column=j, value=v if ok else None)
                c.number_format = {2: "0", 3: "0", 11: "0.0"}.get(j, PCT)
        words = row + 2 + len(names)
        ws.cell(row=words, column=1, value=in_words(rec)).alignment = Alignment(
            wrap_text=True, vertical="top")
        ws.merge_cells(start_row=words, start_column=1, end_row=words, end_column=11)
        ws.row_dimensions[words].height = 48
        row = words + 2
    for col, w in zip("ABCDEFGHIJK", (22, 7, 7, 10, 10, 10, 9, 10, 10, 10, 8), strict=True):
        ws.column_dimensions[col].width = w
    _page(ws, f"A1:K{row}")


README_LINES = [
    ("xlsmallcap: is the small-cap rally a true rotation, or just diversification?", TITLE),
    ("", None),
    ("Dave Nadig's test: a real rotation needs small caps (IWM) to beat large caps (SPY, QQQ, "
     "DIA) consistently for two to three months. A short surge that fades is diversification "
     "or 'bobbling'.", None),
    ("", None),
    ("Functions (category xlsmallcap in the Function Wizard)", BOLD),
    ("ROTATION_SCORE: 0-100; persistence 45%, magnitude 25%, breadth 15%, funding 15%.", None),
    ("ROTATION_VERDICT: Rotation / Emerging rotation / Diversification / Bobbling / "
     "Large-cap leadership (TRUE as 4th argument adds the reason).", None),
    ("ROTATION_DETAIL: the verdict's evidence and the components with labels (spills 20 "
     "rows).", None),
    ("ROTATION_PVALUE: one-sided p-value that small caps (or, with \"large\", large caps) "
     "lead beyond chance; Rotation needs p < 0.05 on 3 days in a row.", None),
    ("REL_PERF(window, ...): (1 + r_small) / (1 + r_bench) - 1 over the last window days.", None),
    ("CASH_STICKINESS: percentile of retail money-fund net flows (ex interest) among all past "
     "windows: 0 = leaving faster than ever, 1 = more stayed than ever.", None),
    ("CASH_FLOWS, EASING_CYCLES, CASH_TO_SMALLCAPS, ELECTION_VOL: net flows, flows after each "
     "first cut, Nadig's flow claim and the election premise, each with its uncertainty.", None),
    ("RATE_SENSITIVITY: relative return of small vs large per 1 pp rate cut; output se, t, n "
     "or significance (Newey-West).", None),
    ("VOL_RATIO: small/large realized volatility; 'drawdown' and 'beta' as 5th argument.", None),
    ("ROTATION_QUADRANT: Leading / Weakening / Lagging / Improving.", None),
    ("BASE_RATE: share of small-cap surges since 1926 that became sustained outperformance, "
     "with its Wilson 95% interval (low, high), surges of similar size and any day.", None),
    ("Track record sheet: what followed each verdict; the verdict describes, it does not "
     "forecast.", None),
    ("CHART_SERIES, REL_PERF_SERIES, XLSC_HISTORY, DATA_STATUS: spilled data for charts.", None),
    ("", None),
    ("Settings", BOLD),
    ("Change the named cells on the Settings sheet (Small, Bench1-3, Benchmarks, AsOf, "
     "Lookback, ShortWindow, VolWindow); every formula reads them.", None),
    ("", None),
    ("Using the functions live in Excel on Windows", BOLD),
    ("pip install xlsmallcap; xlwings addin install; open this workbook; xlwings tab: "
     "UDF Modules = xlsmallcap.udfs (already set on the xlwings.conf sheet); Import "
     "Functions.", None),
    ("Until then the cells show the values stored by the last refresh.", None),
    ("", None),
    ("Updating data and refreshing", BOLD),
    ("Terminal: xlsmallcap data update, then xlsmallcap refresh xlsmallcap.xlsm (no Excel "
     "needed). In Excel: the macro XLSC_UPDATE_DATA, then Ctrl+Alt+F9.", None),
    ("", None),
    ("Data: Yahoo Finance (via yfinance), FRED / Federal Reserve Board, Kenneth R. French "
     "Data Library. Methodology: docs/methodology.md in the project.", None),
]


def _readme(wb) -> None:
    ws = wb.create_sheet("Read me")
    for i, (text, font) in enumerate(README_LINES, start=1):
        c = ws.cell(row=i, column=1, value=text)
        if font is not None:
            c.font = font
    ws.column_dimensions["A"].width = 130
    _page(ws, f"A1:A{len(README_LINES)}")


def _conf(wb) -> None:
    ws = wb.create_sheet("xlwings.conf")
    ws["A1"], ws["B1"] = "UDF Modules", "xlsmallcap.udfs"
    ws.sheet_state = "visible"


def build_formulas(path: Path) -> Path:
    """Write the workbook with formulas but without cached values."""
    wb = load_workbook(quickstart_path(), keep_vba=True)
    for ws in list(wb.worksheets):
        wb.remove(ws)
    _dashboard(wb)
    _charts(wb)
    _episodes(wb)
    _track_record(wb)
    _settings(wb)
    _readme(wb)
    _conf(wb)
    _cache(wb)
    wb.active = 0
    # Open on the values stored by the refresh: no forced full recalculation on load (openpyxl
    # asks for one by default; xlwings' quickstart does not), so Excel without Python and
    # viewers show numbers, not #NAME?. Excel recalculates when the user asks (Ctrl+Alt+F9).
    wb.calculation.fullCalcOnLoad = False
    # The quickstart's document properties name its author; this file is xlsmallcap's.
    props = wb.properties
    props.creator = props.lastModifiedBy = "xlsmallcap"
    props.title = "xlsmallcap: small-cap rotation or diversification?"
    props.subject = "Is the small-cap rally a true rotation out of large caps?"
    buf = io.BytesIO()
    wb.save(buf)
    write_bytes_atomic(path, _normalise(buf.getvalue()))
    return path


def _normalise(data: bytes) -> bytes:
    """Fixed timestamps, so that the same content gives the same bytes."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for info in src.infolist():
            body = src.read(info)
            if info.filename == "docProps/core.xml":
                import re

                body = re.sub(rb"<dcterms:(created|modified)([^>]*)>[^<]*<",
                              rb"<dcterms:\1\2>2026-01-01T00:00:00Z<", body)
            fixed = zipfile.ZipInfo(info.filename, date_time=(2026, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(fixed, body)
    return out.getvalue()


def build(path: Path | str) -> Path:
    """Build the template and refresh it, so it opens with numbers everywhere."""
    from xlsmallcap.workbook.refresh import refresh

    path = Path(path)
    build_formulas(path)
    refresh(path)
    return path
