"""The template workbook, the headless refresh and batch generation."""

from __future__ import annotations

import datetime as dt
import io
import math
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT, missing
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


@pytest.fixture(scope="module")
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
    assert wb["Cache"].sheet_state == "hidden"
    assert {"SMALL", "BENCHMARKS", "ASOF", "LOOKBACK"} <= {n.upper() for n in wb.defined_names}
    assert len(wb["Charts"]._charts) == 4
    assert wb["Dashboard"].freeze_panes == "A3"
    assert wb["Dashboard"].conditional_formatting
    assert wb["Dashboard"]["E8"].number_format == "0.0%"
    with zipfile.ZipFile(built) as zf:
        assert "xl/vbaProject.bin" in zf.namelist()  # from xlwings' quickstart workbook
    # Every figure of the dashboard is a formula reading the named settings.
    assert wb["Dashboard"]["B4"].value == \
        "=ROTATION_SCORE(Small,Benchmarks,AsOf,Lookback,ShortWindow)"


def test_cached_values_equal_the_python_functions(built):
    ws = load_workbook(built, data_only=True)["Dashboard"]
    rot = api.rotation_score()
    assert ws["B3"].value == rot.verdict
    assert ws["B4"].value == pytest.approx(rot.score, rel=1e-12)
    assert ws["B5"].value == rot.reason
    assert ws["A15"].value == "Persistence" and ws["B15"].value == pytest.approx(rot.persistence)
    assert ws["A11"].value == "p-value, small caps lead"
    assert ws["B11"].value == ws["E3"].value == pytest.approx(rot.p_value)
    assert ws["E4"].value == pytest.approx(rot.p_large)
    assert ws["A13"].value == "What would make it a Rotation" and ws["B13"].value == \
        rot.to_rotation
    for i, w in enumerate((5, 21, 63, 126)):
        rel = api.rel_perf(w)
        for j, b in enumerate(("SPY", "QQQ", "DIA")):
            assert ws.cell(row=8 + i, column=5 + j).value == pytest.approx(rel[b], rel=1e-12)
    assert ws["E14"].value == pytest.approx(api.cash().value)
    dgs2 = api.rate_sens()[0]
    assert ws["E15"].value == pytest.approx(dgs2.per_cut)
    assert ws["E16"].value == pytest.approx(-dgs2.t)
    assert ws["E17"].value == ("significant (|t| >= 2)" if dgs2.significant
                               else "not significant (|t| < 2)")
    assert ws["E19"].value == pytest.approx(api.vol().vol_ratio)
    assert ws["E22"].value == api.rotation_quadrant()[0]
    b = api.base()
    assert [ws[f"E{r}"].value for r in range(23, 30)] == pytest.approx(
        [b.share, b.low, b.high, b.events, b.similar_share, b.similar_events, b.unconditional])
    # Native formulas over spilled data, evaluated by the formula engine.
    assert ws["E30"].value == dt.datetime(2026, 7, 1)  # =MAX(Charts!L4:L255)
    track = load_workbook(built, data_only=True)["Track record"]
    first = api.track_records()[0]
    row63 = next(r for r in first.rows if r.verdict == "Rotation" and r.horizon == 63)
    assert track["A6"].value == "Rotation" and track["B6"].value == row63.days
    assert track["D6"].value == pytest.approx(row63.mean)
    episodes = load_workbook(built, data_only=True)["Episodes"]
    assert episodes["B11"].value == "Diversification"  # 2024-07-16
    assert episodes["C11"].value == pytest.approx(api.rotation_score(as_of="2024-07-16").score)


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


def test_cli_refresh(tmp_path):
    book = tmp_path / "t.xlsm"
    shutil.copy(COMMITTED, book)
    res = CliRunner().invoke(app, ["refresh", str(book)])
    assert res.exit_code == 0, res.output
    assert "xlsmallcap formulas" in res.output
    assert CliRunner().invoke(app, ["refresh", str(tmp_path / "nope.xlsm")]).exit_code == 2


# ----------------------------------------------------------------------------- batch
def test_batch_builds_workbooks_in_parallel(tmp_path):
    cfg = tmp_path / "batch.toml"
    cfg.write_text('out_dir = "out"\nworkers = 2\nas_of = ["2021-01-29", "2024-07-16"]\n'
                   'pairs = [["IWM", "SPY,QQQ,DIA"], ["IJR", "IWB"]]\n')
    out_dir, jobs, workers = load_config(cfg)
    assert workers == 2 and len(jobs) == 4 and out_dir == tmp_path / "out"
    res = CliRunner().invoke(app, ["batch", str(cfg)])
    assert res.exit_code == 0, res.output
    assert "4 of 4 workbooks written" in res.output
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["IJR_vs_IWB_2021-01-29.xlsm", "IJR_vs_IWB_2024-07-16.xlsm",
                     "IWM_vs_SPY-QQQ-DIA_2021-01-29.xlsm", "IWM_vs_SPY-QQQ-DIA_2024-07-16.xlsm"]
    ws = load_workbook(tmp_path / "out" / "IJR_vs_IWB_2024-07-16.xlsm", data_only=True)
    dash = ws["Dashboard"]
    rot = api.rotation_score("IJR", ["IWB"], as_of="2024-07-16")
    assert dash["B4"].value == pytest.approx(rot.score)
    assert dash["E7"].value == "vs IWB"
    assert ws["Settings"]["B4"].value == "IJR"


def test_batch_failure_exits_non_zero_and_others_still_written(tmp_path):
    out = tmp_path / "out"
    jobs = [Job("IWM", ("SPY",), None), Job("NOPE", ("SPY",), None)]
    result = run_batch(out, jobs, workers=1)
    assert [p.name for p in result.written] == ["IWM_vs_SPY_latest.xlsm"]
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
def test_render_with_libreoffice(built, tmp_path):
    """LibreOffice draws every page with numbers, no error text, and the four charts."""
    if shutil.which("soffice") is None or shutil.which("pdftoppm") is None:
        missing("LibreOffice (soffice) and poppler (pdftoppm)")
    src = tmp_path / "render.xlsm"
    shutil.copy(built, src)
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/lo",
                    "--convert-to", "pdf", "--outdir", str(tmp_path), str(src)],
                   check=True, capture_output=True, timeout=300)
    pdf = tmp_path / "render.pdf"
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    for bad in ("#NAME?", "#VALUE!", "#N/A", "#REF!", "Err:"):
        assert bad not in text, bad
    for needle in ("Emerging rotation", "Relative strength: small / large caps",
                   "Rolling 63-day relative return", "Retail money-market fund assets",
                   "Relative rotation trail", "Diversification", "2026-07-01"):
        assert needle in text, needle
    subprocess.run(["pdftoppm", "-png", "-r", "40", "-f", "2", "-l", "2", str(pdf),
                    str(tmp_path / "charts")], check=True)
    png = next(tmp_path.glob("charts*.png"))
    from PIL import Image

    pixels = list(Image.open(png).convert("RGB").get_flattened_data())
    coloured = sum(1 for r, g, b in pixels if abs(r - g) > 40 or abs(g - b) > 40)
    assert coloured > 500  # the chart lines are drawn in colour
    assert not math.isnan(coloured)


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
