"""The template workbook, the headless refresh and batch generation."""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, missing, shared
from openpyxl import Workbook, load_workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.comments import Comment
from openpyxl.styles import Font
from openpyxl.workbook.defined_name import DefinedName
from typer.testing import CliRunner

from xlsmallcap import api
from xlsmallcap.cli import app
from xlsmallcap.workbook import ooxml
from xlsmallcap.workbook.batch import Job, load_config, output_path, run_batch
from xlsmallcap.workbook.refresh import refresh
from xlsmallcap.workbook.template import build, quickstart_path

COMMITTED = ROOT / "workbooks" / "xlsmallcap.xlsm"


@pytest.fixture(scope=shared)
def built(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("wb") / "xlsmallcap.xlsm"
    return build(path)


def test_committed_template_equals_a_fresh_build(built):
    assert COMMITTED.read_bytes() == built.read_bytes(), (
        "workbooks/xlsmallcap.xlsm is out of date: run "
        "`xlsmallcap workbook build workbooks/xlsmallcap.xlsm --embedded`")


def test_template_structure(built):
    wb = load_workbook(built, keep_vba=True)
    assert wb.sheetnames == ["Dashboard", "Charts", "Episodes", "Track record", "Settings",
                             "Read me", "xlwings.conf", "Cache"]
    assert wb["xlwings.conf"]["A1"].value == "UDF Modules"
    assert wb["xlwings.conf"]["B1"].value == "xlsmallcap.udfs"
    # hidden sheets are neither printed nor exported to PDF
    assert wb["xlwings.conf"].sheet_state == wb["Cache"].sheet_state == "hidden"
    assert {"SMALL", "BENCHMARKS", "ASOF", "LOOKBACK", "SMALLNAME", "BENCH1NAME"} <= \
        {n.upper() for n in wb.defined_names}
    assert len(wb["Dashboard"]._charts) == 1 and len(wb["Charts"]._charts) == 2
    dash = wb["Dashboard"]
    assert dash["B4"].value == "=ROTATION_VERDICT(Small,Benchmarks,AsOf)"
    assert dash["H4"].value == "=ROTATION_SCORE(Small,Benchmarks,AsOf,Lookback,ShortWindow)"
    assert "B4:E8" in {str(r) for r in dash.merged_cells.ranges}   # the verdict tile
    assert dash["B4"].font.sz == 24
    # every verdict has its own tile colour
    rules = [r for cf in dash.conditional_formatting for r in cf.rules]
    assert {r.formula[0].split('"')[1] for r in rules if "$B$4=" in r.formula[0]} == \
        {"Rotation", "Emerging rotation", "Diversification", "Bobbling",
         "Large-cap leadership"}
    # stale data are coloured: prices after 5 business days, weekly money funds after 10
    assert any(r.formula == ["AND(ISNUMBER(D11),D11>5)"] for r in rules)
    assert any(r.formula == ["AND(ISNUMBER(I11),I11>10)"] for r in rules)
    with zipfile.ZipFile(built) as zf:
        assert "xl/vbaProject.bin" in zf.namelist()  # from xlwings' quickstart workbook
        styles = zf.read("xl/styles.xml").decode()
    # one defined font: the Normal style is Arial 10
    assert re.search(r'<fonts[^>]*><font><name val="Arial"/>(<family val="2"/>)?<sz val="10"/>',
                     styles) or '<font><name val="Arial"/><family val="2"/><sz val="10"/>' \
        in styles


def test_print_setup_one_paper_size_landscape_one_page_wide(built):
    wb = load_workbook(built, keep_vba=True)
    for ws in wb.worksheets:
        if ws.sheet_state != "visible":
            continue
        assert int(ws.page_setup.paperSize) == int(ws.PAPERSIZE_LETTER), ws.title
        assert ws.page_setup.orientation == "landscape", ws.title
        assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.print_area, ws.title
    assert wb["Dashboard"].page_setup.fitToHeight == 1     # the answer is one page


def test_settings_inputs_are_marked_and_offer_choices(built):
    ws = load_workbook(built)["Settings"]
    for ref in ("B4", "B5", "B6", "B7", "B8", "B9", "B10", "B11", "B12"):
        assert ws[ref].style == "Input", ref
    lists = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    tickers = next(dv for ref, dv in lists.items() if "B4" in ref)
    assert tickers.type == "list" and tickers.formula1 == "$F$4:$F$15"
    # a ticker outside the list is allowed (downloaded live) after a warning
    assert tickers.errorStyle == "warning"
    assert {ws[f"F{r}"].value for r in range(4, 16)} == {
        "IWM", "SPY", "QQQ", "DIA", "RSP", "IWB", "IJR", "MDY", "IWN", "IWO", "IWD", "IWF"}
    assert next(dv for ref, dv in lists.items() if "B10" in ref).formula1 == '"21,42,63,126"'
    assert next(dv for ref, dv in lists.items() if "B9" in ref).type == "date"


def _figures(ws) -> dict[str, object]:
    """The Dashboard's supporting figures by label (column G label, column H value)."""
    return {ws[f"G{r}"].value: ws[f"H{r}"].value for r in range(32, 60)
            if isinstance(ws[f"G{r}"].value, str)}


def test_cached_values_equal_the_python_functions(built):
    ws = load_workbook(built, data_only=True)["Dashboard"]
    rot = api.rotation_score()
    assert ws["B4"].value == rot.verdict
    assert ws["H4"].value == pytest.approx(rot.score, rel=1e-12)
    assert ws["B10"].value == rot.reason
    assert ws["H5"].value == pytest.approx(rot.p_value)
    assert ws["H6"].value == pytest.approx(rot.p_large)
    assert ws["H7"].value == rot.to_rotation
    assert ws["H8"].value == dt.datetime.combine(rot.evidence.since, dt.time())
    # the score bar: one block per 5 points, out of 20
    full = round(rot.score / 5)
    assert ws["I4"].value == "█" * full + "░" * (20 - full)
    assert ws["B2"].value.startswith("Russell 2000 (IWM) against SPY, QQQ, DIA")
    # the evidence block, spilled by ROTATION_DETAIL
    detail = {ws[f"J{r}"].value: ws[f"K{r}"].value for r in range(35, 55)}
    assert detail["Persistence"] == pytest.approx(rot.persistence)
    assert detail["p-value, small caps lead"] == pytest.approx(rot.p_value)
    assert detail["What would make it a Rotation"] == rot.to_rotation
    assert [ws[c].value for c in ("C31", "D31", "E31")] == ["vs S&P 500", "vs Nasdaq-100",
                                                             "vs Dow"]
    for i, w in enumerate((5, 21, 63, 126)):
        rel = api.rel_perf(w)
        assert ws.cell(row=32 + i, column=2).value == w
        for j, b in enumerate(("SPY", "QQQ", "DIA")):
            assert ws.cell(row=32 + i, column=3 + j).value == pytest.approx(rel[b], rel=1e-12)
    fig = _figures(ws)
    assert fig["Cash stickiness (percentile, 0-1)"] == pytest.approx(api.cash().value)
    dgs2 = api.rate_sens()[0]
    assert fig["Per 1 pp cut in 2-year yield"] == pytest.approx(dgs2.per_cut)
    assert fig["  Newey-West t"] == pytest.approx(-dgs2.t)
    assert fig["  significance"] == ("significant (|t| >= 2)" if dgs2.significant
                                     else "not significant (|t| < 2)")
    assert fig["Volatility ratio, IWM / SPY"] == pytest.approx(api.vol().vol_ratio)
    assert fig["Quadrant vs S&P 500"] == api.rotation_quadrant()[0]
    b = api.base()
    assert fig["Base rate since 1926: surges sustained"] == pytest.approx(b.share)
    assert [fig["  95% interval, low"], fig["  95% interval, high"]] == pytest.approx(
        [b.low, b.high])
    # Native formulas over spilled data and today's date, evaluated by the formula engine.
    assert ws["C11"].value == dt.datetime(2026, 7, 1)
    today = dt.date.today()
    # NETWORKDAYS(start, today) - 1: weekdays after the last price, up to today
    expected = int(np.busday_count(dt.date(2026, 7, 2), today + dt.timedelta(days=1)))
    assert ws["D11"].value == expected
    mmf_last = api.mmf_assets().index[-1].date()
    assert ws["H11"].value.date() == mmf_last
    track = load_workbook(built, data_only=True)["Track record"]
    first = api.track_records()[0]
    row63 = next(r for r in first.rows if r.verdict == "Rotation" and r.horizon == 63)
    assert track["A6"].value == "Rotation" and track["B6"].value == row63.days
    assert track["D6"].value == pytest.approx(row63.mean)
    episodes = load_workbook(built, data_only=True)["Episodes"]
    assert episodes["B11"].value == "Diversification"  # 2024-07-16
    assert episodes["C11"].value == pytest.approx(api.rotation_score(as_of="2024-07-16").score)
    assert episodes["D3"].value == "vs S&P 500, 63d"


def test_money_fund_axis_follows_the_data(built):
    """The money-fund chart's axis starts a round step below the data, not at zero."""
    wb = load_workbook(built, data_only=True)
    values = [wb["Charts"][f"T{r}"].value for r in range(4, 160)]
    values = [v for v in values if isinstance(v, float)]
    with zipfile.ZipFile(built) as zf:
        charts = {n: zf.read(n).decode() for n in zf.namelist() if n.startswith("xl/charts/")}
    mmf = next(x for x in charts.values() if "money-market" in x)
    low = float(re.search(r'<c:min val="([^"]+)"', mmf).group(1)) if "<c:min" in mmf else \
        float(re.search(r'<min val="([^"]+)"', mmf).group(1))
    lo, hi = min(values), max(values)
    assert 0 < low <= lo and lo - low < 0.3 * (hi - lo)


def test_a_fixed_axis_minimum_follows_refreshed_and_stored_cells_of_its_series(tmp_path):
    """A chart's series mixes the user's own numbers (80, 90) with a refreshed score (36.16 on
    2024-07-16): the fixed minimum moves below the lowest of all three, not of the refreshed
    cell alone. Range 53.8, step 20, 36.16 - 2.69 rounds down to 20 (35 from the score
    alone)."""
    from openpyxl.chart import LineChart

    wb = Workbook()
    ws = wb.active
    ws["A1"], ws["A2"] = 80, 90
    ws["A3"] = '=ROTATION_SCORE(,,"2024-07-16")'
    chart = LineChart()
    chart.add_data(Reference(ws, min_col=1, min_row=1, max_row=3))
    chart.y_axis.scaling.min = 70
    ws.add_chart(chart, "C1")
    path = tmp_path / "axis.xlsx"
    wb.save(path)
    refresh(path)
    assert load_workbook(path, data_only=True)["Sheet"]["A3"].value == pytest.approx(36.157,
                                                                                    abs=1e-3)
    with zipfile.ZipFile(path) as zf:
        xml = next(zf.read(n).decode() for n in zf.namelist() if n.startswith("xl/charts/"))
    assert float(re.search(r'<(?:c:)?min val="([^"]+)"', xml).group(1)) == 20


def test_native_formulas_over_a_range_of_numbers_and_text_count_as_excel_does(tmp_path):
    """SUM and COUNT over a range that holds a number, a text, a TRUE and a refreshed score
    skip the text and the logical value, as in Excel: 5 + 36.157 and 2 numbers (a range read
    as numbers would count TRUE as 1)."""
    wb = Workbook()
    ws = wb.active
    ws["A1"], ws["A2"], ws["A4"] = 5, "note", True
    ws["A3"] = '=ROTATION_SCORE(,,"2024-07-16")'
    ws["B1"], ws["B2"] = "=SUM(A1:A4)", "=COUNT(A1:A4)"
    ws["C1"], ws["C2"] = "=SUM(A3:A4)", "=COUNT(A3:A4)"
    path = tmp_path / "mixed.xlsx"
    wb.save(path)
    refresh(path)
    values = load_workbook(path, data_only=True)["Sheet"]
    assert values["B1"].value == pytest.approx(41.157, abs=1e-3)
    assert values["B2"].value == 2
    assert values["C1"].value == pytest.approx(36.157, abs=1e-3)
    assert values["C2"].value == 1


def test_a_defined_name_for_a_column_reads_the_whole_column(tmp_path):
    """SUM(Scores), with Scores a name for A1:A3 of the sheet It's mine (5, 7 and a refreshed
    score of 36.157 on 2024-07-16), adds all three: a name for a range is a range, not its
    first cell; ROWS(Scores) is 3 (the quote in the sheet's name is written twice in the
    name's reference, as Excel writes it)."""
    wb = Workbook()
    ws = wb.active
    ws.title = "It's mine"
    ws["A1"], ws["A2"] = 5, 7
    ws["A3"] = '=ROTATION_SCORE(,,"2024-07-16")'
    wb.defined_names["Scores"] = DefinedName("Scores", attr_text="'It''s mine'!$A$1:$A$3")
    ws["B1"], ws["B2"], ws["B3"] = "=SUM(Scores)", "=COUNT(Scores)", "=ROWS(Scores)"
    path = tmp_path / "names.xlsx"
    wb.save(path)
    report = refresh(path)
    assert not report.unreadable and not report.errors
    values = load_workbook(path, data_only=True)["It's mine"]
    assert values["B1"].value == pytest.approx(48.157, abs=1e-3)
    assert values["B2"].value == 3 and values["B3"].value == 3


def test_functions_of_a_references_place_and_size_are_answered(tmp_path):
    """ROW, ROWS, COLUMN and COLUMNS read where a reference is and how big it is (without one,
    ROW() and COLUMN() read the formula's own cell); in a formula that also reads a refreshed
    score (36.157 on 2024-07-16, the date in a cell) each gives what Excel gives, not
    #VALUE!."""
    wb = Workbook()
    ws = wb.active
    ws["A7"] = "2024-07-16"
    ws["A3"] = "=ROTATION_SCORE(,,A7)"
    other = wb.create_sheet("Other")
    other["A1"] = "=Sheet!A3*2"
    ws["B1"] = "=ROWS(A1:A3)+A3"
    ws["B2"] = "=ROW(A3)+COLUMN(C3)+A3*0"
    ws["B3"] = "=COLUMNS(A1:D2)+ROWS(Other!A1:A4)+Other!A1"
    ws["B4"] = "=ROWS(A5:A6)+ROTATION_SCORE(,,A7)"
    ws["B5"] = ws["C6"] = "=ROW()+COLUMN()*100+A3*0"
    path = tmp_path / "refs.xlsx"
    wb.save(path)
    report = refresh(path)
    assert not report.errors and not report.unreadable
    values = load_workbook(path, data_only=True)["Sheet"]
    assert values["B1"].value == pytest.approx(3 + 36.157, abs=1e-3)
    assert values["B2"].value == 6
    assert values["B3"].value == pytest.approx(4 + 4 + 2 * 36.157, abs=1e-3)
    assert values["B4"].value == pytest.approx(2 + 36.157, abs=1e-3)
    assert (values["B5"].value, values["C6"].value) == (205, 306)


def test_no_error_value_in_any_cell(built):
    wb = load_workbook(built, data_only=True)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert not (isinstance(c.value, str) and c.value.startswith("#")), \
                    f"{ws.title}!{c.coordinate}: {c.value}"


def test_spill_fallback_cache_holds_the_same_values(built):
    wb = load_workbook(built, data_only=True)
    charts, cache = wb["Charts"], wb["Cache"]
    assert charts["L3"].value == cache["D1"].value == "Date"
    assert charts["M255"].value == pytest.approx(cache["E253"].value)
    assert charts["T159"].value == pytest.approx(cache["L157"].value)


# ----------------------------------------------------------------------------- refresh
def _rich_workbook(path: Path) -> None:
    """A user's workbook with other sheets, a chart, an image, comments, names, formatting,
    VBA, xlsmallcap formulas, dependent native formulas and an unknown function."""
    from openpyxl.drawing.image import Image as XLImage
    from PIL import Image

    wb = load_workbook(quickstart_path(), keep_vba=True)
    ws = wb.worksheets[0]
    ws.title = "Mine"
    ws["A1"] = "score"
    ws["B1"] = "=ROTATION_SCORE(,,A5)"
    ws["A5"] = "2024-07-16"
    ws["B2"] = "=B1*2"
    ws["B3"] = '=IF(B1>50,"hot","cold")'
    ws["B4"] = "=FOOBAR(1)"
    ws["C1"] = "=REL_PERF(63,\"IWM\",\"SPY\",A5)"
    ws["A1"].comment = Comment("a note", "me")
    ws["A1"].font = Font(bold=True, color="FF0000")
    wb.defined_names["MyName"] = DefinedName("MyName", attr_text="Mine!$B$1")
    other = wb.create_sheet("Other")
    for i in range(1, 5):
        other.cell(row=i, column=1, value=i * 1.5)
    chart = BarChart()
    chart.add_data(Reference(other, min_col=1, min_row=1, max_row=4))
    other.add_chart(chart, "C2")
    img = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(img, "PNG")
    other.add_image(XLImage(img), "H2")
    wb.save(path)
    # A cached value for the unknown function, as Excel would have left it.
    pkg = ooxml.Package(path)
    pkg.set_cached("Mine", "B4", 7.0)
    pkg.save()


def test_refresh_keeps_everything_else(tmp_path):
    book = tmp_path / "user.xlsm"
    _rich_workbook(book)
    before = {i.filename: zipfile.ZipFile(book).read(i) for i in zipfile.ZipFile(book).infolist()}
    report = refresh(book)
    after = {i.filename: zipfile.ZipFile(book).read(i) for i in zipfile.ZipFile(book).infolist()}
    assert set(before) == set(after)
    changed = {n for n in before if before[n] != after[n]}
    assert changed == {"xl/worksheets/sheet1.xml"}  # only the sheet with xlsmallcap formulas
    assert "xl/vbaProject.bin" in after and any("comment" in n for n in after)
    assert any(n.startswith("xl/media/") for n in after)
    assert any(n.startswith("xl/charts/") for n in after)
    wb = load_workbook(book, keep_vba=True)
    assert wb["Mine"]["B1"].value == "=ROTATION_SCORE(,,A5)"  # formulas kept
    assert wb["Mine"]["A1"].comment.text == "a note" and wb["Mine"]["A1"].font.bold
    assert "MyName" in wb.defined_names
    values = load_workbook(book, data_only=True)["Mine"]
    score = api.rotation_score(as_of="2024-07-16").score
    assert values["B1"].value == pytest.approx(score)
    assert values["B2"].value == pytest.approx(2 * score)
    assert values["B3"].value == ("hot" if score > 50 else "cold")
    assert values["C1"].value == pytest.approx(api.rel_perf(63, benchmarks=["SPY"],
                                                            as_of="2024-07-16")["SPY"])
    assert values["B4"].value == 7  # unknown function: left alone ...
    assert report.unknown == {("Mine", "B4"): "FOOBAR"}  # ... and reported
    assert set(report.computed) == {("Mine", "B1"), ("Mine", "C1")}
    assert set(report.native) == {("Mine", "B2"), ("Mine", "B3")}
    assert refresh(book).unknown == report.unknown  # the engine does not "learn" FOOBAR
    assert report.summary() == ("user.xlsm: 2 xlsmallcap formulas, 2 dependent native formulas, "
                                "1 left alone (unknown functions: FOOBAR)")


def test_refresh_is_atomic(tmp_path, monkeypatch):
    book = tmp_path / "user.xlsm"
    _rich_workbook(book)
    original = book.read_bytes()
    calls = {"n": 0}
    real = zipfile.ZipFile.writestr

    def crash(self, *a, **k):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk full")
        return real(self, *a, **k)

    monkeypatch.setattr(zipfile.ZipFile, "writestr", crash)
    with pytest.raises(OSError):
        refresh(book)
    assert book.read_bytes() == original
    assert [p.name for p in tmp_path.iterdir()] == ["user.xlsm"]  # no temporary left


@pytest.mark.parametrize("step", ["write", "fsync", "replace", "after_replace"])
@pytest.mark.another_process
def test_refresh_killed_at_each_write_step_leaves_old_or_new_never_partial(tmp_path, step):
    """The refresh process is killed (``os._exit``, no clean-up) exactly at each step of the
    atomic write: half-way through writing the temporary, at its fsync, at the rename, and
    just after it. The book is the old file or the complete new one, never partial bytes."""
    import sys

    book = tmp_path / "user.xlsm"
    _rich_workbook(book)
    original = book.read_bytes()
    code = KILL_AT.format(step=step, book=str(book))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 9, proc.stderr[-2000:]       # killed where it was meant to be
    data = book.read_bytes()
    if step == "after_replace":
        assert data != original
        assert zipfile.ZipFile(io.BytesIO(data)).testzip() is None
        assert load_workbook(book, data_only=True)["Mine"]["B1"].value is not None
    else:
        assert data == original


KILL_AT = """
import os
from xlsmallcap.data import atomic
step = {step!r}
real_fdopen, real_replace = os.fdopen, os.replace

class HalfWriter:
    def __init__(self, fh):
        self.fh = fh
    def __enter__(self):
        return self
    def __exit__(self, *a):
        return False
    def write(self, data):
        self.fh.write(data[: len(data) // 2]); self.fh.flush(); os._exit(9)

if step == "write":
    atomic.os.fdopen = lambda fd, mode: HalfWriter(real_fdopen(fd, mode))
elif step == "fsync":
    atomic.os.fsync = lambda fd: os._exit(9)
elif step == "replace":
    atomic.os.replace = lambda a, b: os._exit(9)
else:
    def replace_then_die(a, b):
        real_replace(a, b); os._exit(9)
    atomic.os.replace = replace_then_die
from xlsmallcap.workbook.refresh import refresh
refresh(r{book!r})
"""


def test_refresh_refuses_a_zip_bomb_and_garbage(tmp_path):
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/workbook.xml", b"<" + b" " * 50_000_000 + b"/>")
    with pytest.raises(ooxml.WorkbookError, match="too large or too compressed"):
        refresh(bomb)
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"not a zip")
    res = CliRunner().invoke(app, ["refresh", str(junk)])
    assert res.exit_code == 2 and "is not an .xlsx/.xlsm file" in res.output
    assert junk.read_bytes() == b"not a zip"


def test_refresh_resizes_an_array_formula(tmp_path):
    wb = Workbook()
    from openpyxl.worksheet.formula import ArrayFormula

    wb.active["A1"] = ArrayFormula("A1:B3", '=XLSC_HISTORY("IWM","2024-07-10","2024-07-16")')
    path = tmp_path / "a.xlsx"
    wb.save(path)
    refresh(path)
    ws = load_workbook(path)["Sheet"]
    assert ws["A1"].value.ref == "A1:B6"
    values = load_workbook(path, data_only=True)["Sheet"]
    assert values["B6"].value == pytest.approx(api.prices("IWM")["2024-07-16"])


def test_a_cell_an_array_no_longer_reaches_reads_as_empty(tmp_path):
    """The array was 3 columns wide (A1:C3) and now answers 2 (dates, closes): a formula
    reading C2, left behind by the array, sees an empty cell (C2 + 1 = 1), as in Excel."""
    wb = Workbook()
    from openpyxl.worksheet.formula import ArrayFormula

    wb.active["A1"] = ArrayFormula("A1:C3", '=XLSC_HISTORY("IWM","2024-07-10","2024-07-16")')
    wb.active["E1"] = "=C2+1"
    path = tmp_path / "narrower.xlsx"
    wb.save(path)
    report = refresh(path)
    assert not report.unreadable and not report.errors
    values = load_workbook(path, data_only=True)["Sheet"]
    assert values["E1"].value == 1 and values["C2"].value is None


def test_cli_refresh(tmp_path):
    book = tmp_path / "t.xlsm"
    shutil.copy(COMMITTED, book)
    res = CliRunner().invoke(app, ["refresh", str(book)])
    assert res.exit_code == 0, res.output
    assert "xlsmallcap formulas" in res.output
    assert CliRunner().invoke(app, ["refresh", str(tmp_path / "nope.xlsm")]).exit_code == 2


# ----------------------------------------------------------------------------- batch
def test_batch_builds_static_reports_in_parallel(tmp_path):
    cfg = tmp_path / "batch.toml"
    cfg.write_text('out_dir = "out"\nworkers = 2\nas_of = ["2021-01-29", "2024-07-16"]\n'
                   'pairs = [["IWM", "SPY,QQQ,DIA"], ["IJR", "IWB"]]\n')
    out_dir, jobs, workers = load_config(cfg)
    assert workers == 2 and len(jobs) == 4 and out_dir == tmp_path / "out"
    assert all(j.static for j in jobs)           # people who receive batch books lack Python
    res = CliRunner().invoke(app, ["batch", str(cfg)])
    assert res.exit_code == 0, res.output
    assert "4 of 4 workbooks written" in res.output
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["IJR_vs_IWB_2021-01-29.xlsx", "IJR_vs_IWB_2024-07-16.xlsx",
                     "IWM_vs_SPY-QQQ-DIA_2021-01-29.xlsx", "IWM_vs_SPY-QQQ-DIA_2024-07-16.xlsx"]
    book = tmp_path / "out" / "IJR_vs_IWB_2024-07-16.xlsx"
    ws = load_workbook(book, data_only=True)
    dash = ws["Dashboard"]
    rot = api.rotation_score("IJR", ["IWB"], as_of="2024-07-16")
    assert dash["H4"].value == pytest.approx(rot.score)
    assert dash["B4"].value == rot.verdict
    # every label follows the settings: the names of IJR and IWB, not the template's
    assert dash["B2"].value.startswith("S&P 600 (IJR) against IWB")
    assert "as of 2024-07-16" in dash["B2"].value
    assert dash["C31"].value == "vs Russell 1000"
    # one benchmark: one column, not the same benchmark three times
    assert [dash.cell(31, c).value for c in (4, 5)] in ([None, None], ["", ""])
    assert {dash.cell(r, c).value for r in range(32, 36) for c in (4, 5)} <= {None, ""}
    assert [dash.cell(r, 3).value for r in range(32, 36)] == pytest.approx(
        [api.rel_perf(w, "IJR", ["IWB"], as_of="2024-07-16")["IWB"] for w in (5, 21, 63, 126)])
    assert ws["Settings"]["B6"].value is None and ws["Settings"]["C6"].value in (None, "")
    assert _figures(dash)["Beta to Russell 1000"] == pytest.approx(
        api.vol("IJR", "IWB", as_of="2024-07-16").beta)
    assert ws["Settings"]["B4"].value == "IJR" and ws["Settings"]["C4"].value == "S&P 600"
    assert ws["Episodes"]["D3"].value == "vs Russell 1000, 63d"
    assert ws["Episodes"]["G3"].value == "Quadrant vs Russell 1000"
    assert "S&P 500" not in str([c.value for row in dash.iter_rows() for c in row])
    _assert_static(book)


def _assert_static(book: Path) -> None:
    """A static report: an .xlsx without formulas, VBA, calculation chain or live sheets."""
    with zipfile.ZipFile(book) as zf:
        names = zf.namelist()
        assert not [n for n in names if "vbaProject" in n or "calcChain" in n]
        types = zf.read("[Content_Types].xml").decode()
        assert "macroEnabled" not in types and "vbaProject" not in types
        assert "spreadsheetml.sheet.main+xml" in types
        for n in names:
            if n.startswith("xl/worksheets/sheet"):
                assert "<f>" not in zf.read(n).decode() and "<f " not in zf.read(n).decode()
    wb = load_workbook(book)
    assert "xlwings.conf" not in wb.sheetnames and "Cache" not in wb.sheetnames
    assert len(wb["Dashboard"]._charts) == 1 and len(wb["Charts"]._charts) == 2


def test_refresh_static_is_a_values_only_copy_of_the_live_book(tmp_path):
    live = tmp_path / "book.xlsm"
    shutil.copy(COMMITTED, live)
    before = live.read_bytes()
    res = CliRunner().invoke(app, ["refresh", str(live), "--static"])
    assert res.exit_code == 0, res.output
    static = tmp_path / "book-static.xlsx"
    assert static.is_file() and live.read_bytes() == before    # the live book is untouched
    _assert_static(static)
    a = load_workbook(COMMITTED, data_only=True)
    b = load_workbook(static, data_only=True)
    for name in b.sheetnames:
        for row in a[name].iter_rows():
            for c in row:
                assert b[name][c.coordinate].value == c.value, f"{name}!{c.coordinate}"
    bad = CliRunner().invoke(app, ["refresh", str(live), "--static", "--out",
                                   str(tmp_path / "x.xlsm")])
    assert bad.exit_code == 2 and "static report is an .xlsx" in bad.output


def test_a_bad_ticker_shows_its_message_and_keeps_the_last_good_values(tmp_path):
    book = tmp_path / "typo.xlsm"
    shutil.copy(COMMITTED, book)
    pkg = ooxml.Package(book)
    pkg.set_cached("Settings", "B4", "IWMM", formula_result=False)
    pkg.save()
    before = load_workbook(COMMITTED, data_only=True)
    report = refresh(book, changed=[("Settings", "B4")])
    after = load_workbook(book, data_only=True)
    tile = after["Dashboard"]["B4"].value
    assert tile == "#N/A small: unknown ticker 'IWMM' (see =DATA_STATUS())"
    assert ("Dashboard", "B4") in report.errors
    # the chart data keep their last good values; the message shows in the block's corner
    charts_before, charts_after = before["Charts"], after["Charts"]
    assert charts_after["L3"].value == tile
    for ref in ("L4", "M100", "N255", "T159", "X16"):
        assert charts_after[ref].value == charts_before[ref].value, ref
    assert [c.value for row in after["Cache"].iter_rows() for c in row] == \
        [c.value for row in before["Cache"].iter_rows() for c in row]


def test_an_early_date_pads_charts_with_dates_not_zeros(tmp_path):
    """At 2001-01-31 IWM has 170 days of history: the chart block starts with earlier
    business days and no values, never with zeros or undated rows."""
    result = run_batch(tmp_path, [Job("IWM", ("SPY",), dt.date(2001, 1, 31), static=False)],
                       workers=1)
    book = result.written[0]
    assert book.suffix == ".xlsm"
    ws = load_workbook(book, data_only=True)["Charts"]
    dates = [ws[f"L{r}"].value for r in range(4, 256)]
    values = [ws[f"M{r}"].value for r in range(4, 256)]
    assert all(isinstance(d, dt.datetime) for d in dates)
    assert all(b > a for a, b in zip(dates, dates[1:], strict=False))
    assert dates[-1] == dt.datetime(2001, 1, 31)
    first = next(i for i, v in enumerate(values) if v is not None)
    assert dates[first].date() >= dt.date(2000, 5, 26)       # IWM's first day
    assert all(v is None for v in values[:first]) and 0 not in values
    assert values[first] == pytest.approx(100.0)


def test_batch_failure_exits_non_zero_and_others_still_written(tmp_path):
    out = tmp_path / "out"
    jobs = [Job("IWM", ("SPY",), None), Job("NOPE", ("SPY",), None)]
    result = run_batch(out, jobs, workers=1)
    assert [p.name for p in result.written] == ["IWM_vs_SPY_latest.xlsx"]
    assert "unknown ticker or series 'NOPE'" in result.failed["NOPE_vs_SPY_latest"]
    cfg = tmp_path / "b.toml"
    cfg.write_text('pairs = [["NOPE", "SPY"]]\nworkers = 1\n')
    res = CliRunner().invoke(app, ["batch", str(cfg)])
    assert res.exit_code == 1 and "failed NOPE_vs_SPY_latest" in res.output


@pytest.mark.parametrize("small", ["../../etc/passwd", "/abs/path", "..", "a\\b:c*?"])
def test_batch_file_names_cannot_leave_the_output_folder(tmp_path, small):
    job = Job(small, ("SPY",), None)
    path = output_path(tmp_path, job)
    assert path.parent == tmp_path.resolve()
    assert "/" not in path.name and "\\" not in path.name


def test_batch_config_errors(tmp_path):
    cfg = tmp_path / "b.toml"
    cfg.write_text('as_of = ["03/04/2024"]\n')
    res = CliRunner().invoke(app, ["batch", str(cfg)])
    assert res.exit_code == 2 and "as_of '03/04/2024' could be day/month or month/day" \
        in res.output


# ----------------------------------------------------------------------------- render
def _libreoffice_convert(book: Path, tmp_path: Path, fmt: str) -> Path:
    """``book`` converted by headless LibreOffice (its own profile in ``tmp_path``) to ``fmt``;
    the path of the result."""
    src = tmp_path / f"converted{book.suffix}"
    shutil.copy(book, src)
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/lo",
                    "--convert-to", fmt, "--outdir", str(tmp_path), str(src)],
                   check=True, capture_output=True, timeout=300)
    return tmp_path / f"converted.{fmt}"


@pytest.mark.another_process
def test_render_with_libreoffice(built, tmp_path):
    """LibreOffice draws every page with numbers, no error text, and the four charts."""
    if shutil.which("soffice") is None or shutil.which("pdftoppm") is None:
        missing("LibreOffice (soffice) and poppler (pdftoppm)")
    pdf = _libreoffice_convert(built, tmp_path, "pdf")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    for bad in ("#NAME?", "#VALUE!", "#N/A", "#REF!", "Err:"):
        assert bad not in text, bad
    for needle in ("Emerging rotation", "Relative strength (line, 100 = a year ago)",
                   "Retail money-market fund assets", "Rotation trail, weekly",
                   "Diversification", "2026-07-01", "Bobbling"):
        assert needle in text, needle
    subprocess.run(["pdftoppm", "-png", "-r", "40", "-f", "2", "-l", "2", str(pdf),
                    str(tmp_path / "charts")], check=True)
    png = next(tmp_path.glob("charts*.png"))
    from PIL import Image

    pixels = list(Image.open(png).convert("RGB").get_flattened_data())
    coloured = sum(1 for r, g, b in pixels if abs(r - g) > 40 or abs(g - b) > 40)
    assert coloured > 500  # the chart lines are drawn in colour


def test_the_template_opens_on_its_stored_values():
    """No forced full recalculation on load: Excel without Python shows the refreshed values."""
    import re

    with zipfile.ZipFile(COMMITTED) as zf:
        calc = re.search(rb"<calcPr[^>]*>", zf.read("xl/workbook.xml")).group(0)
    assert b"fullCalcOnLoad" not in calc or b'fullCalcOnLoad="0"' in calc


def test_the_template_names_xlsmallcap_not_the_quickstarts_author():
    core = zipfile.ZipFile(COMMITTED).read("docProps/core.xml").decode()
    assert "Zumstein" not in core and "Felix" not in core
    assert "<dc:creator>xlsmallcap</dc:creator>" in core or ">xlsmallcap</dc:creator>" in core


def test_every_vba_document_module_belongs_to_a_sheet_of_the_template():
    """The VBA project's PROJECT stream lists its document modules (ThisWorkbook and one per
    sheet); each must be the code name of the workbook or of one of the template's sheets."""
    with zipfile.ZipFile(COMMITTED) as zf:
        vba = zf.read("xl/vbaProject.bin")
        book = zf.read("xl/workbook.xml").decode()
        sheets = [zf.read(n).decode() for n in zf.namelist() if n.startswith("xl/worksheets/s")]
    documents = re.findall(rb"Document=(\w+)/", vba)
    assert documents and documents[0] == b"ThisWorkbook"
    code_names = set(re.findall(r'codeName="(\w+)"', book + "".join(sheets)))
    assert {d.decode() for d in documents} == code_names
    dashboard = load_workbook(COMMITTED, keep_vba=True)["Dashboard"]
    assert dashboard.sheet_properties.codeName == "Sheet1"


def test_the_vba_project_keeps_only_what_the_product_needs():
    """No quickstart sample macro (its SampleCall runs a `main` xlsmallcap does not have); the
    reference to the xlwings add-in stays: the functions Import Functions writes call it."""
    from pyopenvba import ExcelFile

    with ExcelFile(COMMITTED) as wb:
        assert wb.module_names() == ["ThisWorkbook", "Sheet1", "Sheet2"]
        assert "xlwings" in [r.name for r in wb.references()]
        code = "".join(wb.get_module(m) for m in wb.module_names())
    assert "Sub " not in code and "Function " not in code and "RunPython" not in code
    with zipfile.ZipFile(COMMITTED) as zf:
        assert b"Module=" not in zf.read("xl/vbaProject.bin")   # PROJECT lists no module


@pytest.mark.another_process
def test_libreoffice_reads_the_vba_project_the_same_way(tmp_path):
    """LibreOffice, which reads VBA with its own code, imports the same three modules and no
    macro: the project the library rewrote is one another reader understands."""
    if shutil.which("soffice") is None:
        missing("LibreOffice (soffice)")
    with zipfile.ZipFile(_libreoffice_convert(COMMITTED, tmp_path, "ods")) as zf:
        modules = {n.rsplit("/", 1)[1][:-4] for n in zf.namelist()
                   if n.startswith("Basic/VBAProject/") and not n.endswith("script-lb.xml")}
        code = "".join(zf.read(n).decode() for n in zf.namelist() if n.startswith("Basic/"))
    assert modules == {"ThisWorkbook", "Sheet1", "Sheet2"}
    assert "SampleCall" not in code and "RunPython" not in code


def test_a_function_that_fails_inside_the_engine_is_reported_and_left_alone(tmp_path,
                                                                             monkeypatch):
    """A failure that is not an error value (a bug, not the user's input) leaves the cell's
    last value in place, says why, and the rest of the book is refreshed."""
    from xlsmallcap import udfs

    book = tmp_path / "fail.xlsx"
    wb = Workbook()
    ws = wb.active
    ws.title = "Mine"
    ws["B1"] = "2024-07-16"
    ws["A1"] = "=REL_PERF(63,\"IWM\",\"SPY\",B1)"
    ws["A2"] = "=ROTATION_SCORE(,,B1)"
    ws["A3"] = "=A2*2"
    ws["A4"] = "=A1+1"                          # reads the failed cell: its last value
    ws["A5"] = "=A2/0"                          # an error value of Excel's own
    ws["A6"] = "=IF(A2>0,,1)"                   # an omitted argument of a native function
    ws["A7"] = "=SUM((1"                        # not a formula the engine can read
    wb.save(book)
    ooxml_pkg = ooxml.Package(book)
    ooxml_pkg.set_cached("Mine", "A1", 0.123)
    ooxml_pkg.save()

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(udfs, "REL_PERF", broken)
    report = refresh(book)
    assert report.unreadable == {("Mine", "A1"): "the formula engine could not evaluate it",
                                 ("Mine", "A7"): "the formula engine cannot read it"}
    assert not report.unknown and set(report.computed) == {("Mine", "A2")}
    assert set(report.native) == {("Mine", f"A{i}") for i in (3, 4, 5, 6)}
    values = load_workbook(book, data_only=True)["Mine"]
    assert values["A1"].value == 0.123
    score = api.rotation_score(as_of="2024-07-16").score
    assert values["A2"].value == pytest.approx(score)
    assert values["A3"].value == pytest.approx(2 * score)
    assert values["A4"].value == pytest.approx(1.123)
    assert values["A5"].value == "#DIV/0!" and values["A6"].value == 0
    assert report.summary() == ("fail.xlsx: 1 xlsmallcap formulas, 4 dependent native formulas, "
                                "2 unreadable (left alone), 1 with error values")
    assert list(report.errors) == [("Mine", "A5")]
