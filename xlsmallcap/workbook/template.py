"""The template workbook: built by code from xlwings' own quickstart workbook.

``build(path)`` writes the formulas, names, formatting and charts with openpyxl, then runs the
headless refresh so the file opens with numbers. The committed copy in ``workbooks/`` is kept
identical to a fresh build by a test.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import tempfile
import zipfile
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.chart import AreaChart, LineChart, Reference, ScatterChart, Series
from openpyxl.chart.axis import ChartLines, DateAxis
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils.cell import column_index_from_string, get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.formula import ArrayFormula

from xlsmallcap.data.atomic import write_bytes_atomic

TEMPLATE_NAME = "xlsmallcap.xlsm"
EPISODE_DATES = ("2016-11-18", "2016-12-09", "2017-03-31", "2020-11-30", "2020-12-31",
                 "2021-01-29", "2021-03-12", "2024-07-16", "2024-07-31", "2024-08-30",
                 "2024-11-29", "2025-01-31")
POINTS = {"rs": 252, "relperf": 252, "mmf": 156, "quadrant": 13}
#: Columns each chart's data block spills (dates first).
WIDTHS = {"rs": 3, "relperf": 2, "mmf": 2, "quadrant": 3}
#: First column of each chart's data block on the Charts sheet (right of the printed charts).
DATA_COLUMNS = {"rs": "L", "relperf": "P", "mmf": "S", "quadrant": "V"}
#: Where the quadrant trail's start, end and 100/100 crosshair are computed (Charts sheet).
MARKS = "Z"
PCT, RATIO, DATE = "0.0%", "0.00", "yyyy-mm-dd"
#: One font everywhere: Arial exists on Windows and Mac, and LibreOffice substitutes a
#: metric-compatible one (Liberation Sans), so columns and pages break the same way.
FONT = "Arial"
TITLE = Font(name=FONT, bold=True, size=16)
SUBTITLE = Font(name=FONT, size=11, color="595959")
HEAD = Font(name=FONT, bold=True)
BOLD = HEAD
HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")
VERDICT_COLOURS = {"Large-cap leadership": "F8CBAD", "Bobbling": "FCE4D6",
                   "Diversification": "FFF2CC", "Emerging rotation": "C6E0B4",
                   "Rotation": "70AD47"}
WARN_FILL = PatternFill("solid", fgColor="F4B084", bgColor="F4B084")
#: Prices older than this many business days are shown as a warning; weekly money-fund data
#: are published about a week after the week they describe, so they get two weeks.
STALE_DAYS = {"prices": 5, "mmf": 10}
#: The Dashboard's cells that answer the question (tests and the static report read them).
DASH = {"verdict": "B4", "score": "H4", "bar": "I4", "p_small": "H5", "p_large": "H6",
        "to_rotation": "H7", "since": "H8", "reason": "B10", "prices": "C11",
        "prices_age": "D11", "mmf": "H11", "mmf_age": "I11", "subtitle": "B2"}
#: The tickers of the embedded data, with the short names the labels use.
TICKER_NAMES = {"IWM": "Russell 2000", "SPY": "S&P 500", "QQQ": "Nasdaq-100", "DIA": "Dow",
                "RSP": "S&P 500 equal weight", "IWB": "Russell 1000", "IJR": "S&P 600",
                "MDY": "S&P 400 mid caps", "IWN": "Russell 2000 value",
                "IWO": "Russell 2000 growth", "IWD": "Russell 1000 value",
                "IWF": "Russell 1000 growth"}
ROT = "Small,Benchmarks,AsOf"
#: Value cells: a message longer than the cell (an error, a text answer) shrinks to fit
#: instead of running into, or being cut by, the next cell.
# Top-aligned: a row made taller for a wrapped sentence beside it keeps its figure on its label.
FIT = Alignment(shrink_to_fit=True, vertical="top")
FIT_LEFT = Alignment(horizontal="left", shrink_to_fit=True, vertical="top")
TOP = Alignment(vertical="top")
#: Where each spilled block keeps its last refreshed values on the hidden Cache sheet.
CACHE = {"detail": "$A$1:$B$20", "rs": "$D$1:$F$253", "relperf": "$H$1:$I$253",
         "mmf": "$K$1:$L$157", "quadrant": "$N$1:$P$14"}


def _spill(call: str, block: str) -> str:
    """An array formula that falls back to the Cache sheet where the function is unknown:
    LibreOffice recalculates array formulas when it opens a file, so without the fallback its
    users would see #NAME? in every spilled block. A refresh computes the call itself, shows
    its error message in place and leaves the block's last good values (see refresh.py)."""
    return f"=IFERROR({call},Cache!{CACHE[block]})"


#: The document modules of the quickstart's VBA project besides ThisWorkbook, in its order.
VBA_SHEET_MODULES = ("Sheet1", "Sheet2")
#: The quickstart's standard module, left out of the template: its ``SampleCall`` runs a
#: ``main`` that xlsmallcap does not have.
VBA_SAMPLE_MODULE = "Module1"


def quickstart_path() -> Path:
    import xlwings

    return Path(xlwings.__file__).parent / "quickstart.xlsm"


@functools.cache
def vba_project() -> bytes:
    """The template's ``xl/vbaProject.bin``: the quickstart's VBA project without its sample
    module. What stays is what the product needs: ThisWorkbook, the two sheet modules and the
    reference to the xlwings add-in, which the functions *Import Functions* writes call."""
    from pyopenvba import ExcelFile

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "clean.xlsm"
        with ExcelFile(quickstart_path()) as wb:
            if VBA_SAMPLE_MODULE in wb.module_names():   # another xlwings may not have it
                wb.vba_project().delete_module(VBA_SAMPLE_MODULE)
            wb.save(out)
        with zipfile.ZipFile(out) as z:
            return z.read("xl/vbaProject.bin")


def _header(ws, row: int, values: list[str], col: int = 1) -> None:
    for j, v in enumerate(values):
        c = ws.cell(row=row, column=col + j, value=v)
        c.font = HEAD
        c.fill = HEAD_FILL


def _widths(ws, widths: dict[str, float]) -> None:
    for col, w in widths.items():
        ws.column_dimensions[col].width = w


SETTINGS = [
    # name, value, label formula (None: none), meaning, drop-down
    ("Small", "IWM", True, "Small-cap ticker", "tickers"),
    ("Bench1", "SPY", True, "Large-cap benchmark 1 (relative performance, risk, charts)",
     "tickers"),
    ("Bench2", "QQQ", True, "Large-cap benchmark 2 (relative performance); blank: none",
     "tickers"),
    ("Bench3", "DIA", True, "Large-cap benchmark 3 (relative performance); blank: none",
     "tickers"),
    ("Benchmarks", "SPY,QQQ,DIA", False, "The benchmarks of the rotation test, separated by "
     "commas", None),
    ("AsOf", None, False, "Date of every figure; blank = the latest data", "date"),
    ("Lookback", 63, False, "Trading days of the persistence test (three months)",
     "21,42,63,126"),
    ("ShortWindow", 21, False, "Trading days of the 'ahead now' window", "5,10,21,42"),
    ("VolWindow", 63, False, "Trading days of the volatility figures", "21,63,126,252"),
]


def _settings(wb) -> None:
    from openpyxl.worksheet.datavalidation import DataValidation

    ws = wb.create_sheet("Settings")
    ws["A1"] = "Settings"
    ws["A1"].font = TITLE
    ws["A2"] = "Orange cells are inputs (drop-downs offer the usual choices); every formula " \
               "in the workbook reads these named cells. In a static report they record what " \
               "was used."
    _header(ws, 3, ["Name", "Value", "Label", "Meaning"])
    first, last_ticker = 4, 4 + len(TICKER_NAMES) - 1
    table = f"$F${first}:$G${last_ticker}"
    lists = {}
    for i, (name, value, label, meaning, choices) in enumerate(SETTINGS, start=first):
        ws.cell(row=i, column=1, value=name).font = HEAD
        c = ws.cell(row=i, column=2, value=value)
        c.style = "Input"
        c.font = Font(name=FONT, color="3F3F76", bold=True)
        c.alignment = Alignment(horizontal="left")
        if label:
            ws.cell(row=i, column=3,
                    value=f'=IF(B{i}="","",IFERROR(VLOOKUP(B{i},{table},2,FALSE),B{i}))')
            wb.defined_names[f"{name}Name"] = DefinedName(f"{name}Name",
                                                          attr_text=f"Settings!$C${i}")
        ws.cell(row=i, column=4, value=meaning)
        wb.defined_names[name] = DefinedName(name, attr_text=f"Settings!$B${i}")
        if choices:
            lists.setdefault(choices, []).append(f"B{i}")
    ws["C8"] = '=SUBSTITUTE(B8,",",", ")'
    wb.defined_names["BenchmarksName"] = DefinedName("BenchmarksName",
                                                     attr_text="Settings!$C$8")
    ws["C9"] = '=IF(ISBLANK(B9),"latest data",TEXT(B9,"yyyy-mm-dd"))'
    ws["B9"].number_format = DATE
    for choices, cells in lists.items():
        if choices == "tickers":
            dv = DataValidation(type="list", formula1=table.replace("G", "F"),
                                errorStyle="warning", errorTitle="Ticker",
                                error="Not in the embedded data: Excel with Python downloads "
                                      "it live; a refresh without a network cannot.")
        elif choices == "date":
            dv = DataValidation(type="date", operator="between", formula1="9679",
                                formula2="73415", errorTitle="AsOf",
                                error="AsOf: a date from 1926-07-01 on, or blank for the "
                                      "latest data.")
        else:
            dv = DataValidation(type="list", formula1=f'"{choices}"', errorStyle="warning",
                                errorTitle="Trading days",
                                error="Not one of the usual windows; any whole number of "
                                      "trading days from 2 works.")
        dv.showErrorMessage = True
        for ref in cells:
            dv.add(ref)
        ws.add_data_validation(dv)
    _header(ws, 3, ["Ticker", "Short name (labels)"], col=6)
    for i, (ticker, name) in enumerate(TICKER_NAMES.items(), start=first):
        ws.cell(row=i, column=6, value=ticker)
        ws.cell(row=i, column=7, value=name)
    _widths(ws, {"A": 14, "B": 14, "C": 22, "D": 60, "E": 3, "F": 9, "G": 22})
    ws.freeze_panes = "A4"
    _page(ws, f"A1:G{last_ticker}")


def _figure_rows() -> list[tuple[str, str, str | None]]:
    """(label, formula, number format) of the supporting figures; a label starting with
    ``=`` is a formula (it names the benchmark from Settings)."""
    vol = "Small,Bench1,AsOf,VolWindow"
    base = "AsOf,5,0.03,63"
    return [
        ("Cash stickiness (percentile, 0-1)", "=CASH_STICKINESS(AsOf)", RATIO),
        ("  last hike's inflow kept (>100%: more)",
         '=CASH_STICKINESS(AsOf,52,"retained")',
         PCT),
        ("Retail MMF net flow, 13 weeks ($bn)", "=CASH_FLOWS(13,AsOf)", "#,##0"),
        ("  as a share of assets", '=CASH_FLOWS(13,AsOf,"pct")', PCT),
        ("Outflows -> small caps: t", '=CASH_TO_SMALLCAPS(Small,Bench1,AsOf,0,"all","t")',
         RATIO),
        ("  answer", '=CASH_TO_SMALLCAPS(Small,Bench1,AsOf,0,"all","answer")', "@"),
        ("Per 1 pp cut in 2-year yield", '=RATE_SENSITIVITY(Small,Bench1,AsOf,"DGS2")', PCT),
        ("  Newey-West t", '=RATE_SENSITIVITY(Small,Bench1,AsOf,"DGS2",252,"t")', RATIO),
        ("  significance", '=RATE_SENSITIVITY(Small,Bench1,AsOf,"DGS2",252,"significance")',
         "@"),
        ("Per 1 pp cut in fed funds", '=RATE_SENSITIVITY(Small,Bench1,AsOf,"DFF")', PCT),
        ('="Volatility ratio, "&Small&" / "&Bench1', f'=VOL_RATIO({vol},"ratio")', RATIO),
        ('="Max drawdown, "&Small', f'=VOL_RATIO({vol},"drawdown")', PCT),
        ('="Beta to "&Bench1Name', f'=VOL_RATIO({vol},"beta")', RATIO),
        ('="Quadrant vs "&Bench1Name', "=ROTATION_QUADRANT(Small,Bench1,AsOf)", "@"),
        ("Base rate since 1926: surges sustained", f'=BASE_RATE({base},"share")', PCT),
        ("  95% interval, low", f'=BASE_RATE({base},"low")', PCT),
        ("  95% interval, high", f'=BASE_RATE({base},"high")', PCT),
        ("  surges in the sample", f'=BASE_RATE({base},"events")', "0"),
        ("Surges of today's size: sustained", f'=BASE_RATE({base},"similar")', PCT),
        ("  how many such surges", f'=BASE_RATE({base},"similar_events")', "0"),
        ("Any day: sustained (the bar)", f'=BASE_RATE({base},"unconditional")', PCT),
        ("Election-year volatility ratio", "=ELECTION_VOL(AsOf)", RATIO),
        ("  one-sided p-value", '=ELECTION_VOL(AsOf,"p_value")', "0.000"),
    ]


#: First row of the supporting tables on the Dashboard.
TABLE_ROW = 31
#: Header row of the ROTATION_DETAIL block: it ends on the figures' last row, so that its
#: wrapped reason does not open a gap in the figures beside it.
DETAIL_ROW = 35
DETAIL = ["Component", "As of", "Verdict", "Verdict since", "p-value, small caps lead",
          "p-value, large caps lead", "What would make it a Rotation", "Score", "Persistence",
          "Magnitude", "Breadth", "Funding", "Relative return, lookback",
          "Relative return, short window", "Large-cap growth return", "Benchmarks beaten",
          "Benchmarks", "Null sample, days", "Null sample ends", "Reason"]


def _detail_ref(label: str) -> str:
    return f"$K${DETAIL_ROW + DETAIL.index(label)}"


def _dashboard(wb) -> None:
    ws = wb.create_sheet("Dashboard", 0)
    ws.sheet_view.showGridLines = False
    ws["B1"] = "Small caps: a true rotation out of large caps, or just diversification?"
    ws["B1"].font = TITLE
    ws[DASH["subtitle"]] = ('=SmallName&" ("&Small&") against "&BenchmarksName&'
                            '"  |  Nadig\'s test: small caps ahead consistently for 2-3 months'
                            '  |  "&IF(ISBLANK(AsOf),"latest data",'
                            '"as of "&TEXT(AsOf,"yyyy-mm-dd"))')
    ws[DASH["subtitle"]].font = SUBTITLE
    # The verdict tile.
    ws["B3"] = "Verdict"
    ws["B3"].font = Font(name=FONT, bold=True, color="595959")
    ws.merge_cells("B4:E8")
    tile = ws[DASH["verdict"]]
    tile.value = f"=ROTATION_VERDICT({ROT})"
    tile.font = Font(name=FONT, bold=True, size=24)
    tile.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for verdict, colour in VERDICT_COLOURS.items():
        ws.conditional_formatting.add(
            "B4:E8", FormulaRule(formula=[f'$B$4="{verdict}"'],
                                 fill=PatternFill("solid", fgColor=colour, bgColor=colour)))
    # Score, evidence and what would change the answer.
    rows = [
        ("G4", "Rotation score (0-100)", DASH["score"],
         f"=ROTATION_SCORE({ROT},Lookback,ShortWindow)", "0.0"),
        ("G5", "p-value: small caps lead by chance", DASH["p_small"],
         f"=ROTATION_PVALUE({ROT})", "0.000"),
        ("G6", "p-value: large caps lead by chance", DASH["p_large"],
         f'=ROTATION_PVALUE({ROT},"large")', "0.000"),
        ("G7", "What would make it a Rotation", DASH["to_rotation"],
         f"={_detail_ref('What would make it a Rotation')}", "@"),
        ("G8", "Verdict since", DASH["since"], f"={_detail_ref('Verdict since')}", DATE),
    ]
    for label_ref, label, ref, formula, fmt in rows:
        ws[label_ref] = label
        ws[label_ref].font = HEAD
        ws[ref] = formula
        ws[ref].number_format = fmt
        ws[ref].alignment = FIT_LEFT
    ws[DASH["score"]].font = Font(name=FONT, bold=True, size=14)
    ws.merge_cells("I4:K4")
    bar = ws[DASH["bar"]]
    bar.value = (f'=IFERROR(REPT("█",ROUND({DASH["score"]}/5,0))&'
                 f'REPT("░",20-ROUND({DASH["score"]}/5,0)),"")')
    bar.font = Font(name=FONT, size=14, color="548235")
    ws["I5"] = "below 0.05 on 3 days in a row is needed for a Rotation"
    ws["I5"].font = SUBTITLE
    ws.merge_cells("H7:K7")
    ws[DASH["to_rotation"]].alignment = Alignment(horizontal="left", wrap_text=True,
                                                 vertical="top")
    ws.row_dimensions[7].height = 28
    ws["G7"].alignment = Alignment(vertical="top")
    # Why: the one-line reason.
    ws["B9"] = "Why"
    ws["B9"].font = Font(name=FONT, bold=True, color="595959")
    ws.merge_cells("B10:K10")
    reason = ws[DASH["reason"]]
    reason.value = f"=ROTATION_VERDICT({ROT},TRUE)"
    reason.font = Font(name=FONT, size=11, italic=True)
    reason.alignment = Alignment(wrap_text=True, vertical="top")
    ws.row_dimensions[10].height = 30
    # Data freshness: its age, a warning when stale.
    until = 'IF(ISBLANK(AsOf),TODAY(),AsOf)'
    for label_ref, label, ref, age_ref, source, kind in (
            ("B11", "Prices through", DASH["prices"], DASH["prices_age"],
             _detail_ref("As of"), "prices"),
            ("G11", "Money funds through", DASH["mmf"], DASH["mmf_age"],
             f"MAX(Charts!{DATA_COLUMNS['mmf']}4:{DATA_COLUMNS['mmf']}{3 + POINTS['mmf']})",
             "mmf")):
        ws[label_ref] = label
        ws[label_ref].font = HEAD
        ws[ref] = f"={source.lstrip('=')}"
        ws[ref].number_format = DATE
        ws[ref].alignment = FIT_LEFT
        ws[age_ref] = f'=IF(ISNUMBER({ref}),MAX(0,NETWORKDAYS({ref},{until})-1),"")'
        ws[age_ref].number_format = '0 "business days old"'
        ws[age_ref].alignment = FIT_LEFT
        ws.conditional_formatting.add(age_ref, FormulaRule(
            formula=[f"AND(ISNUMBER({age_ref}),{age_ref}>{STALE_DAYS[kind]})"],
            fill=WARN_FILL, font=Font(bold=True, color="9C0006")))
    ws.merge_cells("D11:E11")
    ws.merge_cells("I11:J11")
    ws["K11"] = (f"orange: older than {STALE_DAYS['prices']} (prices) or "
                 f"{STALE_DAYS['mmf']} (weekly funds) business days")
    ws["K11"].font = Font(name=FONT, size=8, color="595959")
    # The key chart sits in rows 13-29 (added by _charts, which owns its data).
    # Supporting figures.
    r0 = TABLE_ROW
    ws.cell(row=r0 - 1, column=2, value="Relative performance").font = HEAD
    # Bench2 and Bench3 may be blank (a pair with one benchmark): their columns are then empty,
    # not a copy of the first benchmark's.
    _header(ws, r0, ["Window (days)", '="vs "&Bench1Name', '=IF(Bench2="","","vs "&Bench2Name)',
                     '=IF(Bench3="","","vs "&Bench3Name)'], col=2)
    for col in (3, 4, 5):
        ws.cell(row=r0, column=col).alignment = Alignment(horizontal="right")
    for i, w in enumerate((5, 21, 63, 126)):
        r = r0 + 1 + i
        ws.cell(row=r, column=2, value=w).alignment = Alignment(horizontal="left", vertical="top")
        for j, bench in enumerate(("Bench1", "Bench2", "Bench3")):
            call = f"REL_PERF($B{r},Small,{bench},AsOf)"
            c = ws.cell(row=r, column=3 + j,
                        value=f"={call}" if j == 0 else f'=IF({bench}="","",{call})')
            c.number_format = PCT
            c.alignment = FIT
    ws.cell(row=r0 - 1, column=7, value="Around the rotation").font = HEAD
    _header(ws, r0, ["Figure", "Value"], col=7)
    figures = _figure_rows()
    for i, (label, formula, fmt) in enumerate(figures, start=r0 + 1):
        if label == "  answer":    # a sentence: across both columns, wrapped
            ws.merge_cells(f"G{i}:H{i}")
            c = ws.cell(row=i, column=7, value=formula)
            c.alignment = Alignment(horizontal="left", wrap_text=True, vertical="top",
                                    indent=1)
            c.font = Font(name=FONT, italic=True)
            ws.row_dimensions[i].height = 26
            continue
        ws.cell(row=i, column=7, value=label).alignment = TOP
        c = ws.cell(row=i, column=8, value=formula)
        c.number_format = fmt or "General"
        c.alignment = FIT_LEFT if fmt == "@" else FIT
    r0 = DETAIL_ROW
    ws.cell(row=r0 - 1, column=10, value="The verdict's evidence and components").font = HEAD
    ws.cell(row=r0, column=10).value = ArrayFormula(
        f"J{r0}:K{r0 + len(DETAIL) - 1}",
        _spill(f"ROTATION_DETAIL({ROT},Lookback,ShortWindow,TRUE)", "detail"))
    formats = {"As of": DATE, "Verdict since": DATE, "Null sample ends": DATE,
               "p-value, small caps lead": "0.000", "p-value, large caps lead": "0.000",
               "Score": "0.0", "Persistence": RATIO, "Magnitude": RATIO, "Breadth": RATIO,
               "Funding": RATIO, "Relative return, lookback": PCT,
               "Relative return, short window": PCT, "Large-cap growth return": PCT,
               "Benchmarks beaten": "0", "Null sample, days": "0"}
    for label, fmt in formats.items():
        ws[_detail_ref(label).replace("$", "")].number_format = fmt
    for i in range(len(DETAIL)):
        ws.cell(row=r0 + i, column=11).alignment = Alignment(horizontal="left", wrap_text=True,
                                                             vertical="top")
    for i in range(r0, r0 + len(DETAIL)):
        ws.cell(row=i, column=10).alignment = Alignment(horizontal="left", vertical="top")
    last = max(TABLE_ROW + len(figures), DETAIL_ROW + len(DETAIL) - 1)
    _widths(ws, {"A": 2, "B": 15, "C": 16, "D": 16, "E": 16, "F": 2, "G": 38, "H": 26,
                 "I": 2, "J": 28, "K": 44})
    ws.row_dimensions[DETAIL_ROW + len(DETAIL) - 1].height = 40   # the reason, wrapped
    # what would make it a Rotation: a sentence of up to about 100 characters, two lines
    ws.row_dimensions[DETAIL_ROW + DETAIL.index("What would make it a Rotation")].height = 26
    _page(ws, f"A1:K{last}", pages_tall=1)


def _line_chart(y_format: str | None = None):
    chart = LineChart()
    chart.style = 2
    chart.legend.position = "b"
    if y_format:
        chart.y_axis.number_format = y_format
    chart.y_axis.majorGridlines = ChartLines()
    chart.y_axis.delete = False
    return chart


def _categories(chart, ws, col: int, n: int, months: int) -> None:
    """A date axis labelled every ``months`` months (the padding rows carry earlier dates
    without values, so the axis never reaches back to 1900)."""
    chart.set_categories(Reference(ws, min_col=col, min_row=4, max_row=3 + n))
    axis = DateAxis(axId=10, crossAx=chart.y_axis.axId)
    axis.number_format = "mmm yy"
    axis.majorTimeUnit = "months"
    axis.majorUnit = months
    axis.baseTimeUnit = "days"
    axis.tickLblPos = "low"                 # labels below the plot, the axis line at zero
    axis.delete = False
    axis.majorTickMark = "out"
    chart.x_axis = axis


def _title(chart, text: str, size: int = 1100) -> None:
    """A short one-line chart title in the workbook's font, not the chart's default 18 pt."""
    from openpyxl.chart.text import RichText, Text
    from openpyxl.chart.title import Title
    from openpyxl.drawing.text import (
        CharacterProperties,
        Paragraph,
        ParagraphProperties,
        RegularTextRun,
    )
    from openpyxl.drawing.text import (
        Font as DrawingFont,
    )

    props = CharacterProperties(sz=size, b=True, latin=DrawingFont(typeface=FONT))
    run = RegularTextRun(rPr=props, t=text)
    chart.title = Title(tx=Text(rich=RichText(p=[Paragraph(
        pPr=ParagraphProperties(defRPr=props), r=[run])])), overlay=False)


def _charts(wb) -> None:
    ws = wb.create_sheet("Charts")
    ws["A1"] = "Charts"
    ws["A1"].font = TITLE
    ws["L1"] = "Chart data, spilled by CHART_SERIES (blank rows pad early dates)"
    ws["L1"].font = SUBTITLE
    for kind, col in DATA_COLUMNS.items():
        n = POINTS[kind]
        last_col = chr(ord(col) + WIDTHS[kind] - 1)
        ws[f"{col}3"] = ArrayFormula(
            f"{col}3:{last_col}{3 + n}",
            _spill(f'CHART_SERIES("{kind}",Small,Bench1,AsOf,{n},TRUE)', kind))
        for r in range(4, 4 + n):
            ws[f"{col}{r}"].number_format = DATE
            for k in range(1, WIDTHS[kind]):
                ws[f"{chr(ord(col) + k)}{r}"].number_format = \
                    "0.0%" if kind == "relperf" else "0.0"
        ws.column_dimensions[col].width = 11
    dash = wb["Dashboard"]
    # The key chart, on the Dashboard: relative strength (left axis) and the rolling 63-day
    # relative return (right axis, shaded; its zero is the chart's own axis line).
    n = POINTS["rs"]
    rs_col = column_index_from_string(DATA_COLUMNS["rs"])
    key = _line_chart()
    _title(key, "Relative strength (line, 100 = a year ago) and 63-day relative return "
                "(shaded), small vs large caps")
    key.add_data(Reference(ws, min_col=rs_col + 1, max_col=rs_col + 2, min_row=3,
                           max_row=3 + n), titles_from_data=True)
    _categories(key, ws, rs_col, n, 3)
    key.y_axis.title = "index, 100 = a year ago"
    key.y_axis.scaling.min = 0              # replaced by the data's own range at refresh
    key.y_axis.crosses = "min"
    rel = AreaChart()
    rp_col = column_index_from_string(DATA_COLUMNS["relperf"])
    rel.add_data(Reference(ws, min_col=rp_col + 1, min_row=3, max_row=3 + n),
                 titles_from_data=True)
    rel.y_axis.axId = 200
    rel.x_axis = key.x_axis
    rel.y_axis.number_format = "0%"
    rel.y_axis.title = "63-day relative return"
    rel.y_axis.crosses = "max"
    rel.y_axis.majorGridlines = None
    rel.y_axis.delete = False
    rel.series[0].graphicalProperties.solidFill = "BDD7EE"
    rel.series[0].graphicalProperties.line.noFill = True
    key.series[0].graphicalProperties.line.solidFill = "1F4E79"
    key.series[0].graphicalProperties.line.width = 22000
    key.series[1].graphicalProperties.line.solidFill = "C55A11"
    key.series[1].graphicalProperties.line.dashStyle = "dash"
    key.series[1].graphicalProperties.line.width = 15000
    for s in key.series:
        s.smooth = False
    key += rel
    key.height, key.width = 8.6, 37
    dash.add_chart(key, "B13")
    # Money-market fund assets: the axis is scaled to the data at every refresh, so the
    # line is not flattened against a zero it never comes near.
    m = POINTS["mmf"]
    col = column_index_from_string(DATA_COLUMNS["mmf"])
    mmf = _line_chart("#,##0")
    _title(mmf, "Retail money-market fund assets, $bn, weekly")
    mmf.add_data(Reference(ws, min_col=col + 1, min_row=3, max_row=3 + m),
                 titles_from_data=True)
    _categories(mmf, ws, col, m, 6)
    mmf.legend = None
    mmf.y_axis.scaling.min = 0              # replaced by the data's own range at refresh
    mmf.series[0].graphicalProperties.line.solidFill = "1F4E79"
    mmf.series[0].smooth = False
    mmf.height, mmf.width = 8, 16
    ws.add_chart(mmf, "A3")
    _quadrant_chart(ws)


def _quadrant_chart(ws) -> None:
    """The rotation trail (weekly ratio vs momentum), its start and end marked, and the
    100/100 crosshair that divides the four quadrants."""
    q = POINTS["quadrant"]
    col = DATA_COLUMNS["quadrant"]
    x, y = chr(ord(col) + 1), chr(ord(col) + 2)
    xs, ys = f"{x}4:{x}{3 + q}", f"{y}4:{y}{3 + q}"
    m = MARKS
    m2 = get_column_letter(column_index_from_string(m) + 1)
    m3 = get_column_letter(column_index_from_string(m) + 2)
    ws[f"{m}2"] = "Trail marks (computed from the block on the left)"
    ws[f"{m}2"].font = SUBTITLE
    _header(ws, 3, ["Point", "Ratio", "Momentum"], col=column_index_from_string(m))
    blank = f"COUNTBLANK({xs})"
    lo_x, hi_x = f"MIN(MIN({xs}),100)-2", f"MAX(MAX({xs}),100)+2"
    lo_y, hi_y = f"MIN(MIN({ys}),100)-2", f"MAX(MAX({ys}),100)+2"
    marks = [
        ("start", f'=IF({blank}<{q},INDEX({xs},{blank}+1),NA())',
         f'=IF({blank}<{q},INDEX({ys},{blank}+1),NA())'),
        ("latest", f"=IF(ISNUMBER({x}{3 + q}),{x}{3 + q},NA())",
         f"=IF(ISNUMBER({y}{3 + q}),{y}{3 + q},NA())"),
        ("ratio 100, low", "=100", f"={lo_y}"),
        ("ratio 100, high", "=100", f"={hi_y}"),
        ("momentum 100, left", f"={lo_x}", "=100"),
        ("momentum 100, right", f"={hi_x}", "=100"),
    ]
    for i, (label, fx, fy) in enumerate(marks, start=4):
        ws[f"{m}{i}"], ws[f"{m2}{i}"], ws[f"{m3}{i}"] = label, fx, fy
        ws[f"{m2}{i}"].number_format = ws[f"{m3}{i}"].number_format = "0.0"
    ws.column_dimensions[m].width = 18
    chart = ScatterChart()
    _title(chart, "Rotation trail, weekly: strength ratio vs momentum")
    chart.style = 2
    m2c, m3c = (column_index_from_string(c) for c in (m2, m3))
    trail = Series(Reference(ws, min_col=column_index_from_string(y), min_row=4, max_row=3 + q),
                   Reference(ws, min_col=column_index_from_string(x), min_row=4,
                             max_row=3 + q), title="weekly trail")
    trail.marker.symbol = "circle"
    trail.marker.size = 4
    trail.graphicalProperties.line.solidFill = "2E75B6"
    trail.graphicalProperties.line.width = 12700
    trail.marker.graphicalProperties.solidFill = "2E75B6"
    trail.marker.graphicalProperties.line.solidFill = "2E75B6"
    chart.series.append(trail)
    for row, title, symbol, colour in ((4, "start", "triangle", "548235"),
                                       (5, "latest", "circle", "C00000")):
        s = Series(Reference(ws, min_col=m3c, min_row=row), Reference(ws, min_col=m2c,
                                                                      min_row=row),
                   title=title)
        s.marker.symbol = symbol
        s.marker.size = 10
        s.marker.graphicalProperties.solidFill = colour
        s.marker.graphicalProperties.line.solidFill = colour
        s.graphicalProperties.line.noFill = True
        chart.series.append(s)
    for first in (6, 8):
        s = Series(Reference(ws, min_col=m3c, min_row=first, max_row=first + 1),
                   Reference(ws, min_col=m2c, min_row=first, max_row=first + 1),
                   title="100 = par")
        s.marker.symbol = "none"
        s.graphicalProperties.line.solidFill = "404040"
        s.graphicalProperties.line.width = 12700
        s.graphicalProperties.line.dashStyle = "dash"
        chart.series.append(s)
    for s in chart.series:
        s.smooth = False
    from openpyxl.chart.legend import Legend, LegendEntry

    chart.legend = Legend(legendPos="b", legendEntry=[LegendEntry(idx=3, delete=True),
                                                      LegendEntry(idx=4, delete=True)])
    chart.x_axis.title = "ratio (> 100: small caps stronger)"
    chart.y_axis.title = "momentum (> 100: improving)"
    chart.x_axis.delete = chart.y_axis.delete = False
    chart.x_axis.crosses = chart.y_axis.crosses = "min"
    chart.x_axis.number_format = chart.y_axis.number_format = "0"
    chart.x_axis.majorGridlines = None
    chart.height, chart.width = 8, 16
    ws.add_chart(chart, "A20")
    _page(ws, "A1:J37")


def _page(ws, area: str, landscape: bool = True, pages_tall: int = 0) -> None:
    """Print setup: one paper size (US Letter), landscape, one page wide (``pages_tall`` 0:
    as many pages down as needed), sheet name and page number in the footer."""
    ws.print_area = area
    ws.page_setup.paperSize = ws.PAPERSIZE_LETTER
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = pages_tall
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.5
    ws.oddFooter.left.text = "xlsmallcap - &A"
    ws.oddFooter.right.text = "page &P of &N"


def _cache(wb) -> None:
    ws = wb.create_sheet("Cache")
    ws.sheet_state = "hidden"


def _episodes(wb) -> None:
    ws = wb.create_sheet("Episodes")
    ws["A1"] = "The same figures replayed on dates history has judged"
    ws["A1"].font = TITLE
    _header(ws, 3, ["As of", "Verdict", "Score", '="vs "&Bench1Name&", 63d"',
                    '="vs "&Bench1Name&", 21d"', "Cash stickiness",
                    '="Quadrant vs "&Bench1Name', "p, small lead", "p, large lead"])
    dates: list[object] = [dt.datetime.fromisoformat(d) for d in EPISODE_DATES] + [None]
    for i, d in enumerate(dates, start=4):
        a = ws.cell(row=i, column=1, value=d if d is not None else "latest")
        a.number_format = DATE
        a.alignment = Alignment(horizontal="left")
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
    _widths(ws, dict(zip("ABCDEFGHI", (12, 22, 8, 19, 19, 16, 21, 14, 14), strict=True)))
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
    for col, w in zip("ABCDEFGHIJK", (22, 7, 7, 11, 11, 11, 10, 11, 11, 11, 8), strict=True):
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
    ("Without Python (LibreOffice, Numbers, Google Sheets, Excel without xlwings): ask for a "
     "static report, xlsmallcap refresh <book> --static, which holds values and charts "
     "only.", None),
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
        c.alignment = Alignment(wrap_text=True, vertical="top")
        if font is not None:
            c.font = font
        lines = -(-len(text) // 125)
        if lines > 1:
            ws.row_dimensions[i].height = 13 * lines
    ws.column_dimensions["A"].width = 130
    _page(ws, f"A1:A{len(README_LINES)}")


def _conf(wb) -> None:
    ws = wb.create_sheet("xlwings.conf")
    ws["A1"], ws["B1"] = "UDF Modules", "xlsmallcap.udfs"
    # xlwings reads it hidden too; hidden sheets are neither printed nor exported to PDF.
    ws.sheet_state = "hidden"


def _default_font(wb) -> None:
    """The workbook's Normal font (every cell without its own) is Arial 10."""
    from openpyxl.utils.indexed_list import IndexedList

    fonts = list(wb._fonts)
    fonts[0] = Font(name=FONT, size=10, family=2)
    wb._fonts = IndexedList(fonts)


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
    _default_font(wb)
    # The quickstart's VBA project holds a document module for each of its two sheets (the
    # first sheet and the conf sheet); give them to the same sheets here, so that no module is
    # left without its sheet when Excel opens the file.
    for ws, code_name in zip((wb.worksheets[0], wb["xlwings.conf"]), VBA_SHEET_MODULES,
                             strict=True):
        ws.sheet_properties.codeName = code_name
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
    """Fixed timestamps, so that the same content gives the same bytes; the VBA project
    without the quickstart's sample module (:func:`vba_project`)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for info in src.infolist():
            body = src.read(info)
            if info.filename == "xl/vbaProject.bin":
                body = vba_project()
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
