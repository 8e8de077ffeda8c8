"""Refresh of workbooks shaped the way Excel saves them, not the way openpyxl writes them.

Excel saves a formula filled down as a *shared formula* (the first cell holds the text, the
others only ``<f t="shared" si="0"/>``), strings in ``sharedStrings.xml``, the calculation order
in ``calcChain.xml`` and dynamic arrays as array formulas flagged by ``cm="1"`` with
``metadata.xml``. The parts here are written by hand in that shape; every cell is checked after
the refresh, against values computed from the raw CSV extracts.
"""

from __future__ import annotations

import zipfile

import pytest
from conftest import raw_rows
from lxml import etree
from openpyxl import load_workbook
from typer.testing import CliRunner

from xlsmallcap.cli import app
from xlsmallcap.data.store import use_embedded_data
from xlsmallcap.workbook.refresh import refresh

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
Q = f"{{{NS}}}"
CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/><Override PartName="/xl/calcChain.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.calcChain+xml"/><Override PartName="/xl/metadata.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheetMetadata+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>"""  # noqa: E501
ROOT_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"""  # noqa: E501
WORKBOOK = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Analysis" sheetId="1" r:id="rId1"/></sheets><calcPr calcId="191029"/></workbook>"""  # noqa: E501
WORKBOOK_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/calcChain" Target="calcChain.xml"/><Relationship Id="rId4" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sheetMetadata" Target="metadata.xml"/><Relationship Id="rId5" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>"""  # noqa: E501
SHARED_STRINGS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="3" uniqueCount="3"><si><t>as of</t></si><si><t>mine</t></si><si><t>window</t></si></sst>"""  # noqa: E501
CALC_CHAIN = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<calcChain xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><c r="C3" i="1"/><c r="C4"/><c r="C5"/><c r="C6"/><c r="D3"/><c r="E1"/><c r="H1"/><c r="K1"/><c r="K2"/></calcChain>"""  # noqa: E501
METADATA = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<metadata xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:xda="http://schemas.microsoft.com/office/spreadsheetml/2017/dynamicarray"><metadataTypes count="1"><metadataType name="XLDAPR" minSupportedVersion="120000" copy="1" pasteAll="1" pasteValues="1" merge="1" splitFirst="1" rowColShift="1" clearFormats="1" clearComments="1" assign="1" coerce="1" cellMeta="1"/></metadataTypes><futureMetadata name="XLDAPR" count="1"><bk><extLst><ext uri="{bdbb8cdc-fa1e-496e-a857-3c3f30c029c3}"><xda:dynamicArrayProperties fDynamic="1" fCollapsed="0"/></ext></extLst></bk></futureMetadata><cellMetadata count="1"><bk><rc t="1" v="0"/></bk></cellMetadata></metadata>"""  # noqa: E501
SHEET = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1:L6"/><sheetData>
<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" s="1"><v>45489</v></c><c r="E1" t="str" cm="1"><f t="array" ref="E1:F3">ROTATION_DETAIL(,,$B$1)</f><v>stale</v></c><c r="F1"><v>0</v></c><c r="H1" cm="1"><f t="array" ref="H1:I1">XLSC_HISTORY("IWM",$B$1,$B$1+6,0,0)</f><v>1</v></c><c r="I1"><v>2</v></c><c r="K1"><f>ROTATION_SCORE(,,K2)</f><v>11</v></c><c r="L1"><v>42</v></c></row>
<row r="2"><c r="A2" t="s"><v>2</v></c><c r="E2"><v>0</v></c><c r="F2"><v>0</v></c><c r="K2"><f>K1+1</f><v>12</v></c></row>
<row r="3"><c r="A3"><v>5</v></c><c r="C3"><f t="shared" ref="C3:C6" si="0">REL_PERF(A3,,"SPY",$B$1)</f><v>0</v></c><c r="D3"><f>C3*100</f><v>0</v></c><c r="E3"><v>0</v></c><c r="F3"><v>0</v></c></row>
<row r="4"><c r="A4"><v>21</v></c><c r="C4"><f t="shared" si="0"/><v>0</v></c><c r="H4" t="s"><v>1</v></c></row>
<row r="5"><c r="A5"><v>63</v></c><c r="C5"><f t="shared" si="0"/><v>0</v></c></row>
<row r="6"><c r="A6"><v>126</v></c><c r="C6"><f t="shared" si="0"/><v>0</v></c></row>
</sheetData></worksheet>"""  # noqa: E501
STYLES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts><fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts><fills count="1"><fill><patternFill patternType="none"/></fill></fills><borders count="1"><border/></borders><cellStyleXfs count="1"><xf/></cellStyleXfs><cellXfs count="2"><xf xfId="0"/><xf numFmtId="164" xfId="0" applyNumberFormat="1"/></cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>"""  # noqa: E501
PARTS = {"[Content_Types].xml": CONTENT_TYPES, "_rels/.rels": ROOT_RELS,
         "xl/workbook.xml": WORKBOOK, "xl/_rels/workbook.xml.rels": WORKBOOK_RELS,
         "xl/worksheets/sheet1.xml": SHEET, "xl/sharedStrings.xml": SHARED_STRINGS,
         "xl/calcChain.xml": CALC_CHAIN, "xl/metadata.xml": METADATA, "xl/styles.xml": STYLES}


def write_book(path, parts: dict[str, str | bytes]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in parts.items():
            zf.writestr(name, text if isinstance(text, bytes) else text.encode())


def refresh_sheet(book, sheet: str):
    """Write the book with ``sheet`` as its worksheet, refresh it; the report and its cells."""
    write_book(book, dict(PARTS, **{"xl/worksheets/sheet1.xml": sheet}))
    return refresh(book), sheet_cells(book)


def sheet_cells(path) -> dict[str, tuple[str | None, str | None, str | None]]:
    """Every cell of the sheet: (type, formula element as text, cached value)."""
    with zipfile.ZipFile(path) as zf:
        root = etree.fromstring(zf.read("xl/worksheets/sheet1.xml"))
    out = {}
    for c in root.iter(f"{Q}c"):
        f = c.find(f"{Q}f")
        v = c.find(f"{Q}v")
        out[c.get("r")] = (c.get("t"), None if f is None else etree.tostring(f).decode(),
                           None if v is None else v.text)
    return out


def rel(w: int) -> float:
    iwm = {r["date"]: float(r["c"]) for r in raw_rows("prices/IWM.csv")}
    spy = {r["date"]: float(r["c"]) for r in raw_rows("prices/SPY.csv")}
    days = sorted(d for d in iwm if d <= "2024-07-16")[-(w + 1):]
    return (iwm[days[-1]] / iwm[days[0]]) / (spy[days[-1]] / spy[days[0]]) - 1


@pytest.fixture
def refreshed(tmp_path):
    """A refresh of its own for each test (not one per module): mutmut runs a mutant only
    against the tests it saw reach the mutated code, and a shared refresh is seen by the first
    test that asks for it alone."""
    use_embedded_data()
    path = tmp_path / "saved_by_excel.xlsx"
    write_book(path, PARTS)
    report = refresh(path)
    return path, report, sheet_cells(path)


def test_filled_down_shared_formulas_are_all_recomputed(refreshed):
    _, report, cells = refreshed
    for ref, w in (("C3", 5), ("C4", 21), ("C5", 63), ("C6", 126)):
        assert float(cells[ref][2]) == pytest.approx(rel(w), rel=1e-12), ref
        assert ("Analysis", ref) in report.computed
    # the followers keep Excel's shared form; the native formula sees the new value
    assert cells["C4"][1].endswith('t="shared" si="0"/>')
    assert float(cells["D3"][2]) == pytest.approx(rel(5) * 100, rel=1e-12)


def test_a_dynamic_array_grows_into_empty_cells_and_keeps_its_flags(refreshed):
    path, _, cells = refreshed
    from xlsmallcap import udfs

    detail = udfs.ROTATION_DETAIL(None, None, "2024-07-16")
    n = len(detail)
    assert f'ref="E1:F{n}"' in cells["E1"][1]
    labels = [cells[f"E{i}"][2] for i in range(2, n + 1)]
    assert labels[:3] == ["As of", "Verdict", "Verdict since"]
    assert cells["F3"][2] == "Diversification"          # the verdict at 2024-07-16
    with zipfile.ZipFile(path) as zf:
        root = etree.fromstring(zf.read("xl/worksheets/sheet1.xml"))
    e1 = next(c for c in root.iter(f"{Q}c") if c.get("r") == "E1")
    assert e1.get("cm") == "1"                           # still a dynamic array for Excel


def test_a_spill_into_a_users_cell_is_refused_like_excel(refreshed):
    _, report, cells = refreshed
    assert cells["H1"][0] == "e" and cells["H1"][2] == "#SPILL!"
    assert cells["H4"] == ("s", None, "1")              # the user's "mine" untouched
    assert ("I1" not in cells) or cells["I1"][2] is None
    assert 'ref="H1:I1"' in cells["H1"][1]
    assert report.errors[("Analysis", "H1")].startswith("#SPILL! its 5 x 2 result would "
                                                        "overwrite Analysis!H4")


def test_a_cell_holding_empty_text_does_not_block_a_spill(tmp_path):
    """H4 holds "" (text of length 0, which Excel shows as a blank cell): the five rows spill
    over it, as Excel's spill does."""
    use_embedded_data()
    sheet = SHEET.replace('<c r="H4" t="s"><v>1</v></c>',
                          '<c r="H4" t="inlineStr"><is><t></t></is></c>')
    assert sheet != SHEET
    report, cells = refresh_sheet(tmp_path / "empty.xlsx", sheet)
    assert ("Analysis", "H1") not in report.errors
    assert float(cells["H4"][2]) == 45492.0          # 2024-07-19, the history's fourth day


def test_a_circular_reference_is_reported_and_left_as_it_was(refreshed):
    _, report, cells = refreshed
    assert cells["K1"][2] == "11" and cells["K2"][2] == "12"
    assert set(report.circular) == {("Analysis", "K1"), ("Analysis", "K2")}
    assert ("Analysis", "K1") not in report.computed
    assert report.summary() == ("saved_by_excel.xlsx: 6 xlsmallcap formulas, 1 dependent native "
                                "formulas, 1 with error values, 2 circular (left as they were)")
    assert report.circular == {("Analysis", "K1"): "circular reference at Analysis!K1",
                               ("Analysis", "K2"): "circular reference through Analysis!K1"}


@pytest.mark.parametrize("text, single", [
    ('CHART_SERIES("rs",Small)', True), ("  REL_PERF(63, A1:A9) ", True),
    ("rel_perf(63)", True), ("_xlfn.SINGLE(A1)", True),
    ('CHART_SERIES("a(b",Small)', True), ('CHART_SERIES(")",Small)', True),
    ("REL_PERF(63)+REL_PERF(21)", False), ("(REL_PERF(63))", False), ("A1+1", False),
    ('ROTATION_VERDICT("x")&"("', False), ("REL_PERF(63", False)])
def test_a_fallback_wraps_exactly_one_call(text, single):
    from xlsmallcap.workbook.refresh import _single_call

    assert _single_call(text) is single


def test_ranges_reach_the_functions_as_excel_passes_them():
    import numpy as np

    from xlsmallcap.workbook.refresh import _to_udf_arg

    assert _to_udf_arg(np.array([[5.0]])) == 5.0                      # one cell: a value
    assert _to_udf_arg(np.array([[1.0, 2.0]])) == [[1.0, 2.0]]         # a row: rows
    assert _to_udf_arg(np.array([[1.0], [2.0]])) == [[1.0], [2.0]]
    assert type(_to_udf_arg(np.float64(2.5))) is float


def test_everything_else_is_as_excel_saved_it(refreshed):
    path, _, cells = refreshed
    assert cells["A1"] == ("s", None, "0") and cells["B1"] == (None, None, "45489")
    assert cells["L1"] == (None, None, "42")
    assert [cells[f"A{i}"][2] for i in range(3, 7)] == ["5", "21", "63", "126"]
    with zipfile.ZipFile(path) as zf:
        for part in ("xl/calcChain.xml", "xl/metadata.xml", "xl/sharedStrings.xml",
                     "xl/styles.xml", "xl/workbook.xml", "[Content_Types].xml"):
            assert zf.read(part) == PARTS[part].encode(), part
    expected_cells = {"A1", "B1", "E1", "F1", "H1", "I1", "K1", "L1", "A2", "E2", "F2", "K2",
                      "A3", "C3", "D3", "E3", "F3", "A4", "C4", "H4", "A5", "C5", "A6", "C6"}
    assert expected_cells <= set(cells)
    extra = set(cells) - expected_cells
    assert all(r[0] in "EF" for r in extra)            # only the grown array's cells


def _damaged(name: str) -> dict[str, str | bytes]:
    parts = dict(PARTS)
    if name == "no workbook rels":
        del parts["xl/_rels/workbook.xml.rels"]
    elif name == "no sheet part":
        del parts["xl/worksheets/sheet1.xml"]
    elif name == "truncated sheet XML":
        parts["xl/worksheets/sheet1.xml"] = SHEET[: len(SHEET) // 2]
    elif name == "bad shared-string index":
        parts["xl/worksheets/sheet1.xml"] = SHEET.replace('t="s"><v>0</v>', 't="s"><v>99</v>')
    elif name == "text in a number cell":
        parts["xl/worksheets/sheet1.xml"] = SHEET.replace("<v>45489</v>", "<v>abc</v>")
    elif name == "bad cell reference":
        parts["xl/worksheets/sheet1.xml"] = SHEET.replace('r="L1"', 'r="L0"')
    elif name == "shared formula without its master":
        parts["xl/worksheets/sheet1.xml"] = SHEET.replace('si="0">REL_PERF', 'si="7">REL_PERF')
    elif name == "truncated workbook.xml":
        parts["xl/workbook.xml"] = WORKBOOK[:60]
    elif name == "sheet without a relationship":
        parts["xl/workbook.xml"] = WORKBOOK.replace('r:id="rId1"', 'r:id="rId9"')
    elif name == "row without a number":
        parts["xl/worksheets/sheet1.xml"] = SHEET.replace('<row r="6">', "<row>")
    return parts


DAMAGE = ["no workbook rels", "no sheet part", "truncated sheet XML", "bad shared-string index",
          "text in a number cell", "bad cell reference", "shared formula without its master",
          "truncated workbook.xml", "sheet without a relationship", "row without a number"]


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_book_gives_one_line_and_exit_2_and_is_not_changed(tmp_path, damage):
    use_embedded_data()
    book = tmp_path / "damaged.xlsx"
    write_book(book, _damaged(damage))
    before = book.read_bytes()
    res = CliRunner().invoke(app, ["refresh", str(book)])
    assert res.exit_code == 2, (damage, res.output)
    lines = [line for line in res.output.splitlines() if line.strip()]
    assert len(lines) <= 2 and "is damaged" in res.output and "was not changed" in res.output
    assert "Traceback" not in res.output
    assert book.read_bytes() == before


def test_an_array_over_a_whole_sheet_is_refused_not_expanded(tmp_path):
    use_embedded_data()
    book = tmp_path / "huge.xlsx"
    sheet = SHEET.replace('ref="H1:I1"', 'ref="H1:XFD1048576"')
    report, cells = refresh_sheet(book, sheet)
    assert report.errors[("Analysis", "H1")].startswith("#NUM! its array H1:XFD1048576 is "
                                                        "larger than 1,000,000 cells")
    assert cells["H1"][2] == "1" and float(cells["C5"][2]) == pytest.approx(rel(63))


def test_an_array_result_never_overwrites_another_formula(tmp_path):
    use_embedded_data()
    book = tmp_path / "formula_below.xlsx"
    # a formula of the user's where the ROTATION_DETAIL table would grow
    sheet = SHEET.replace(
        '<row r="5"><c r="A5"><v>63</v></c>',
        '<row r="5"><c r="A5"><v>63</v></c><c r="E5"><f>1+1</f><v>2</v></c>')
    report, cells = refresh_sheet(book, sheet)
    assert cells["E5"] == (None, "<f xmlns=\"http://schemas.openxmlformats.org/spreadsheetml"
                                 "/2006/main\">1+1</f>", "2")
    assert cells["E1"][2] == "#SPILL!" and 'ref="E1:F3"' in cells["E1"][1]
    assert "Analysis!E5" in report.errors[("Analysis", "E1")]


def test_a_refreshed_excel_book_opens_in_openpyxl_with_the_values(refreshed):
    from openpyxl import load_workbook

    path, _, _ = refreshed
    ws = load_workbook(path, data_only=True)["Analysis"]
    assert ws["C5"].value == pytest.approx(rel(63), rel=1e-12)
    assert ws["H4"].value == "mine" and ws["A1"].value == "as of"


def test_two_arrays_growing_into_the_same_empty_cells_do_not_overwrite_each_other(tmp_path):
    use_embedded_data()
    book = tmp_path / "two_arrays.xlsx"
    # E1 (ROTATION_DETAIL) grows down column E:F; N5 would grow up to row 5+ into the same
    # rows only if it shared columns: here a second table anchored inside E1's future block
    sheet = SHEET.replace(
        '<row r="6"><c r="A6"><v>126</v></c>',
        '<row r="6"><c r="A6"><v>126</v></c><c r="E6" cm="1"><f t="array" ref="E6:F6">'
        'XLSC_HISTORY("SPY",$B$1,$B$1+2,0,0)</f><v>0</v></c>')
    report, cells = refresh_sheet(book, sheet)
    # E1's table would cover E6, which holds another formula: E1 spills, E6's table stands
    assert cells["E1"][2] == "#SPILL!"
    assert "Analysis!E6" in report.errors[("Analysis", "E1")]
    assert float(cells["F6"][2]) > 0 and 'ref="E6:F8"' in cells["E6"][1]


def test_an_array_never_overwrites_cells_another_array_just_filled(tmp_path):
    use_embedded_data()
    book = tmp_path / "crossing.xlsx"
    # N1's 3 x 2 table fills N1:O3 first (row 1 comes first); M3's would then cover N3
    sheet = SHEET.replace(
        '<c r="L1"><v>42</v></c></row>',
        '<c r="L1"><v>42</v></c><c r="N1" cm="1"><f t="array" ref="N1:N1">'
        'XLSC_HISTORY("IWM",$B$1,$B$1+2,0,0)</f><v>0</v></c></row>').replace(
        '<c r="F3"><v>0</v></c></row>',
        '<c r="F3"><v>0</v></c><c r="M3" cm="1"><f t="array" ref="M3:M3">'
        'XLSC_HISTORY("SPY",$B$1,$B$1+2,0,0)</f><v>0</v></c></row>')
    report, cells = refresh_sheet(book, sheet)
    iwm = {r["date"]: r["c"] for r in raw_rows("prices/IWM.csv")}
    assert float(cells["O3"][2]) == pytest.approx(float(iwm["2024-07-18"]))
    assert float(cells["N3"][2]) == 45491.0                  # IWM's third date, not SPY's
    assert cells["M3"][2] == "#SPILL!"
    assert "Analysis!N3" in report.errors[("Analysis", "M3")]


def test_a_static_report_of_an_excel_book_is_values_only(tmp_path):
    """--static on Excel's saved shape: shared formulas, a dynamic array and a calculation
    chain become values (checked against the raw closes); the chain and its references go."""
    use_embedded_data()
    src = tmp_path / "saved_by_excel.xlsx"
    write_book(src, PARTS)
    out = tmp_path / "report.xlsx"
    refresh(src, out, static=True)
    cells = sheet_cells(out)
    assert all(f is None for _, f, _ in cells.values())
    for ref, w in (("C3", 5), ("C4", 21), ("C5", 63), ("C6", 126)):
        assert float(cells[ref][2]) == pytest.approx(rel(w), rel=1e-12), ref
    assert float(cells["D3"][2]) == pytest.approx(rel(5) * 100, rel=1e-12)
    assert cells["E1"][0] == "inlineStr"         # a formula's text result is now plain text
    with zipfile.ZipFile(out) as zf:
        names = set(zf.namelist())
        types = zf.read("[Content_Types].xml").decode()
        rels = zf.read("xl/_rels/workbook.xml.rels").decode()
    assert "xl/calcChain.xml" not in names and "calcChain" not in types + rels
    values = load_workbook(out, data_only=True)["Analysis"]
    assert values["C5"].value == pytest.approx(rel(63), rel=1e-12)
    assert values["E1"].value == "Component"


#: Row 1's last cell; the edge-case books below put their own cells there.
L1 = '<c r="L1"><v>42</v></c>'


def instead_of_l1(cells: str) -> str:
    """The sheet with row 1's last cell (L1, holding 42) replaced by ``cells``."""
    return SHEET.replace(L1, cells)


def test_a_formula_on_a_sheet_that_does_not_exist_is_left_alone_and_named(tmp_path):
    use_embedded_data()
    sheet = instead_of_l1('<c r="L1"><f>SUM(Gone!A1:A3)</f><v>42</v></c>')
    report, cells = refresh_sheet(tmp_path / "gone.xlsx", sheet)
    assert report.unreadable == {("Analysis", "L1"): "it refers to a sheet that does not "
                                                     "exist (Gone)"}
    assert ("Analysis", "L1") not in report.unknown and cells["L1"][2] == "42"
    assert "1 unreadable (left alone)" in report.summary()
    assert float(cells["C5"][2]) == pytest.approx(rel(63))      # the rest was refreshed


def test_a_missing_sheet_whose_name_holds_a_quote_is_named(tmp_path):
    """'It''s gone'!A1 (a quote doubled, as Excel writes it): the message names the sheet as
    the user wrote it, with one quote."""
    use_embedded_data()
    sheet = instead_of_l1("<c r=\"L1\"><f>SUM('It''s gone'!A1)</f><v>42</v></c>")
    report, cells = refresh_sheet(tmp_path / "quote.xlsx", sheet)
    assert report.unreadable == {("Analysis", "L1"): "it refers to a sheet that does not "
                                                     "exist (It's gone)"}
    assert cells["L1"][2] == "42"


def fallback_sheet(blocked: bool) -> str:
    """H1's history inside IFERROR(..., Analysis!P1:Q2), the fallback block holding 7 and 8;
    H4 holds the user's text (blocking H1's five rows) or nothing."""
    sheet = SHEET.replace('XLSC_HISTORY("IWM",$B$1,$B$1+6,0,0)',
                          'IFERROR(XLSC_HISTORY("IWM",$B$1,$B$1+6,0,0),Analysis!P1:Q2)')
    sheet = sheet.replace(L1, L1 + '<c r="P1"><v>7</v></c><c r="Q1"><v>8</v></c>')
    return sheet if blocked else sheet.replace('<c r="H4" t="s"><v>1</v></c>', "")


def test_a_fallback_block_receives_the_good_result(tmp_path):
    use_embedded_data()
    report, cells = refresh_sheet(tmp_path / "fallback.xlsx", fallback_sheet(blocked=False))
    iwm = {r["date"]: float(r["c"]) for r in raw_rows("prices/IWM.csv")}
    assert ("Analysis", "H1") not in report.errors
    assert float(cells["P1"][2]) == 45489.0 and float(cells["Q1"][2]) == iwm["2024-07-16"]
    assert float(cells["P2"][2]) == 45490.0 and float(cells["Q2"][2]) == iwm["2024-07-17"]


def test_a_fallback_block_keeps_its_last_good_values_when_the_result_cannot_show(tmp_path):
    use_embedded_data()
    report, cells = refresh_sheet(tmp_path / "fallback.xlsx", fallback_sheet(blocked=True))
    assert report.errors[("Analysis", "H1")].startswith("#SPILL! its 5 x 2 result would "
                                                        "overwrite Analysis!H4")
    assert cells["P1"][2] == "7" and cells["Q1"][2] == "8" and "P2" not in cells


def test_an_array_result_larger_than_the_limit_spills_with_its_size(tmp_path, monkeypatch):
    import xlsmallcap.workbook.refresh as R

    use_embedded_data()
    monkeypatch.setattr(R, "MAX_ARRAY_CELLS", 6)    # H1's 5 x 2 history is 10 cells
    report, cells = refresh_sheet(tmp_path / "limit.xlsx", fallback_sheet(blocked=False))
    assert report.errors[("Analysis", "H1")] == ("#SPILL! its 5 x 2 result is larger than 6 "
                                                 "cells; nothing else was changed")
    assert cells["H1"][2] == "#SPILL!" and cells["I1"][2] is None
    assert "H2" not in cells and cells["P1"][2] == "7"


def test_a_table_in_a_plain_cell_shows_its_first_value_as_old_excel_did(tmp_path):
    use_embedded_data()
    sheet = instead_of_l1('<c r="L1"><f>XLSC_HISTORY("IWM",$B$1+1,$B$1+6,0,0)</f><v>42</v></c>')
    report, cells = refresh_sheet(tmp_path / "plain.xlsx", sheet)
    assert float(cells["L1"][2]) == 45490.0 and ("Analysis", "L1") in report.computed


def test_a_native_formula_over_a_table_sees_numbers_as_numbers(tmp_path):
    use_embedded_data()
    sheet = instead_of_l1('<c r="L1"><f>INDEX(XLSC_HISTORY("IWM",$B$1,$B$1+6,0,0),2,2)*2</f>'
                          '<v>42</v></c><c r="M1"><f>INDEX(ROTATION_DETAIL(,,$B$1),1,1)</f>'
                          '<v>0</v></c>')
    report, cells = refresh_sheet(tmp_path / "index.xlsx", sheet)
    iwm = {r["date"]: float(r["c"]) for r in raw_rows("prices/IWM.csv")}
    assert float(cells["L1"][2]) == pytest.approx(2 * iwm["2024-07-17"], rel=1e-12)
    assert cells["M1"][0] == "str"
    assert {("Analysis", "L1"), ("Analysis", "M1")} <= set(report.computed)


def test_a_native_formula_reading_an_absent_cell_of_a_failed_array_sees_it_blank(tmp_path):
    use_embedded_data()
    # N1:O2 holds a failing call; O2 was never written (Excel leaves blank cells out)
    sheet = instead_of_l1(L1 + '<c r="N1" t="str" cm="1"><f t="array" ref="N1:O2">REL_PERF(-3)'
                          '</f><v>0</v></c><c r="N5" t="str"><f>O2&amp;"|"&amp;Z99</f><v>x</v>'
                          '</c>')
    report, cells = refresh_sheet(tmp_path / "failed.xlsx", sheet)
    assert report.errors[("Analysis", "N1")].startswith("#VALUE! window")
    assert cells["N5"][2] == "|" and ("Analysis", "N5") in report.native
    assert not report.unknown and not report.unreadable


def test_a_second_refresh_in_one_process_parses_no_formula_again(tmp_path, monkeypatch):
    import formulas

    use_embedded_data()
    write_book(tmp_path / "a.xlsx", PARTS)
    refresh(tmp_path / "a.xlsx")
    parsed = []
    real = formulas.Parser.ast
    monkeypatch.setattr(formulas.Parser, "ast",
                        lambda self, *a, **k: parsed.append(a[0]) or real(self, *a, **k))
    write_book(tmp_path / "b.xlsx", PARTS)
    report = refresh(tmp_path / "b.xlsx")
    assert parsed == [] and len(report.computed) == 6


def test_a_users_array_formulas_over_xlsmallcap_cells_are_recomputed_cell_by_cell(tmp_path):
    """A column array over REL_PERF cells ({=C3:C4*100}, 2 x 1) fills both of its cells; a
    one-cell array ({=SUM(C3:C6)}) is a number in its cell, not a table."""
    use_embedded_data()
    sheet = instead_of_l1(L1 + '<c r="N1"><f t="array" ref="N1:N2">C3:C4*100</f><v>0</v></c>'
                          '<c r="O1"><f t="array" ref="O1">SUM(C3:C6)</f><v>0</v></c>')
    report, cells = refresh_sheet(tmp_path / "arrays.xlsx", sheet)
    assert float(cells["N1"][2]) == pytest.approx(100 * rel(5), rel=1e-12)
    assert float(cells["N2"][2]) == pytest.approx(100 * rel(21), rel=1e-12)
    total = sum(rel(w) for w in (5, 21, 63, 126))
    assert cells["O1"][0] is None and float(cells["O1"][2]) == pytest.approx(total, rel=1e-12)
    assert "3 dependent native formulas" in report.summary()


def test_defined_names_are_followed_to_their_cells_and_a_loop_of_names_is_named(tmp_path):
    use_embedded_data()
    # a chain of eight names ending at A5 (63), and two names that lead to each other
    chain = "".join(f'<definedName name="W{i}">W{i + 1}</definedName>' for i in range(1, 8))
    names = (f'<definedNames><definedName name="Loop">Other</definedName><definedName '
             f'name="Other">Loop</definedName>{chain}<definedName name="W8">Analysis!$A$5'
             '</definedName></definedNames>')
    sheet = instead_of_l1('<c r="L1"><f>REL_PERF(W1,,"SPY",$B$1)</f><v>42</v></c>'
                          '<c r="M1"><f>Loop+1</f><v>7</v></c>')
    book = tmp_path / "names.xlsx"
    write_book(book, dict(PARTS, **{"xl/workbook.xml": WORKBOOK.replace(
        "<calcPr", names + "<calcPr"), "xl/worksheets/sheet1.xml": sheet}))
    report = refresh(book)
    cells = sheet_cells(book)
    assert float(cells["L1"][2]) == pytest.approx(rel(63))
    assert report.unreadable == {("Analysis", "M1"): "its name Loop leads back to itself"}
    assert cells["M1"][2] == "7"


def test_a_name_for_a_row_of_cells_passes_the_whole_row(tmp_path):
    """A defined name for one row of two cells (C3:D3, REL_PERF and 100 times it) hands a
    formula both cells, not the first one."""
    use_embedded_data()
    names = ('<definedNames><definedName name="Pair">Analysis!$C$3:$D$3</definedName>'
             '</definedNames>')
    sheet = instead_of_l1('<c r="L1"><f>SUM(Pair)</f><v>42</v></c>')
    book = tmp_path / "row.xlsx"
    write_book(book, dict(PARTS, **{"xl/workbook.xml": WORKBOOK.replace(
        "<calcPr", names + "<calcPr"), "xl/worksheets/sheet1.xml": sheet}))
    report = refresh(book)
    assert report.unreadable == {}
    assert float(sheet_cells(book)["L1"][2]) == pytest.approx(101 * rel(5), rel=1e-12)


def test_a_formula_reads_what_a_failed_array_left_in_its_other_cells(tmp_path):
    """{=XLSC_HISTORY("IWM","2030-01-01")} over L1:M1 now gives a message: it shows in L1 and
    M1 keeps its 5, so =M1*2 beside it reads 5 (what the sheet shows), not a blank."""
    use_embedded_data()
    sheet = instead_of_l1('<c r="L1"><f t="array" ref="L1:M1">XLSC_HISTORY("IWM",'
                          '"2030-01-01")</f><v>1</v></c><c r="M1"><v>5</v></c>'
                          '<c r="N1"><f>M1*2</f><v>0</v></c>')
    report, cells = refresh_sheet(tmp_path / "failed.xlsx", sheet)
    assert cells["L1"][2].startswith("#N/A no IWM data") and cells["M1"][2] == "5"
    assert float(cells["N1"][2]) == 10.0


def test_a_sheet_whose_name_holds_an_exclamation_mark_is_read(tmp_path):
    use_embedded_data()
    sheet = instead_of_l1("<c r=\"L1\"><f>REL_PERF('Top!'!A5,,\"SPY\",'Top!'!$B$1)</f>"
                          "<v>42</v></c>")
    book = tmp_path / "bang.xlsx"
    write_book(book, dict(PARTS, **{"xl/workbook.xml": WORKBOOK.replace('name="Analysis"',
                                                                        'name="Top!"'),
                                    "xl/worksheets/sheet1.xml": sheet}))
    report = refresh(book)
    cells = sheet_cells(book)
    assert report.unreadable == {} and float(cells["L1"][2]) == pytest.approx(rel(63))


def test_an_array_formula_whose_result_is_one_value_shrinks_to_that_cell(tmp_path):
    """A 2 x 2 block whose formula now gives one number: the number in its first cell, the
    other three cleared and the block one cell, as a dynamic array spills."""
    use_embedded_data()
    sheet = instead_of_l1('<c r="L1" cm="1"><f t="array" ref="L1:M2">ROTATION_SCORE(,,$B$1)'
                          '</f><v>1</v></c><c r="M1"><v>2</v></c>'
                          '<c r="N1"><f>ROTATION_SCORE(,,$B$1)</f><v>0</v></c>')
    sheet = sheet.replace('<v>12</v></c></row>',
                          '<v>12</v></c><c r="L2"><v>3</v></c><c r="M2"><v>4</v></c></row>')
    report, cells = refresh_sheet(tmp_path / "one.xlsx", sheet)
    assert float(cells["L1"][2]) == float(cells["N1"][2]) > 0   # N1: the same call, plain
    assert 'ref="L1:L1"' in cells["L1"][1] or 'ref="L1"' in cells["L1"][1]
    assert all(cells[r][2] is None for r in ("M1", "L2", "M2") if r in cells)
    assert ("Analysis", "L1") in report.computed and ("Analysis", "L1") not in report.errors
