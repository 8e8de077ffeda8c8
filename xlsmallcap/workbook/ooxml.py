"""Reading formulas and cached values from an .xlsx/.xlsm package, and writing cached values.

The refresh touches nothing but ``<v>`` elements (and the ``ref`` of array formulas): every other
part of the package - charts, images, comments, defined names, styles, VBA - is copied byte for
byte. XML is parsed with lxml without entity resolution or network access, and the package is
checked against zip-bomb limits before anything is decompressed.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from lxml import etree
from openpyxl.formula.translate import Translator
from openpyxl.utils.cell import (
    column_index_from_string,
    coordinate_from_string,
    get_column_letter,
    range_boundaries,
)

from xlsmallcap.data.atomic import write_bytes_atomic

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_Q = f"{{{NS}}}"
#: Limits against zip bombs: total uncompressed size, one part, number of parts, ratio.
MAX_TOTAL = 512 * 1024 * 1024
MAX_PART = 256 * 1024 * 1024
MAX_PARTS = 10_000
MAX_RATIO = 200
EXCEL_EPOCH = dt.datetime(1899, 12, 30)
#: Error values a cell stores as errors (``t="e"``), not as text.
_ERROR_VALUE = re.compile(r"#(N/A|VALUE!|REF!|NAME\?|NUM!|DIV/0!|NULL!|SPILL!|CALC!)")
_REF = re.compile(r"\$?[A-Z]{1,3}\$?[1-9][0-9]{0,6}")
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False,
                          remove_blank_text=False)


class WorkbookError(ValueError):
    """The file is not a workbook this module can read safely."""


def split_ref(ref: str) -> tuple[int, int]:
    """(row, column) of a cell reference such as ``$B$3``."""
    col, row = coordinate_from_string(ref.replace("$", ""))
    return row, column_index_from_string(col)


def cell_ref(row: int, col: int) -> str:
    return f"{get_column_letter(col)}{row}"


@dataclass
class Cell:
    sheet: str
    ref: str
    formula: str | None
    array_ref: str | None
    value: Any
    #: The formula is one of a block Excel saved as a shared formula (filled down or across).
    shared: bool = False


#: Largest array formula a refresh will fill (a whole-column array is refused, not expanded).
MAX_ARRAY_CELLS = 1_000_000


def array_size(ref: str) -> int:
    c1, r1, c2, r2 = range_boundaries(ref.replace("$", ""))
    return (c2 - c1 + 1) * (r2 - r1 + 1)


def to_excel_value(v: Any) -> Any:
    """A Python value as Excel stores it: datetimes become serial numbers."""
    if isinstance(v, dt.datetime):
        return (v - EXCEL_EPOCH).total_seconds() / 86400.0
    if isinstance(v, dt.date):
        return float((dt.datetime(v.year, v.month, v.day) - EXCEL_EPOCH).days)
    return v


class Package:
    """An OOXML spreadsheet package held in memory."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        data = self.path.read_bytes()
        try:
            zf = zipfile.ZipFile(io.BytesIO(data))
        except zipfile.BadZipFile as exc:
            raise WorkbookError(f"{self.path.name} is not an .xlsx/.xlsm file ({exc})") from exc
        infos = zf.infolist()
        total = sum(i.file_size for i in infos)
        if len(infos) > MAX_PARTS or total > MAX_TOTAL or any(
                i.file_size > MAX_PART or (i.compress_size and
                                           i.file_size / i.compress_size > MAX_RATIO)
                for i in infos):
            raise WorkbookError(f"{self.path.name} is too large or too compressed to open "
                                "safely")
        self.infos = infos
        self.parts: dict[str, bytes] = {i.filename: zf.read(i) for i in infos}
        self.trees: dict[str, etree._ElementTree] = {}
        self.modified: set[str] = set()
        self._rows: dict[str, dict] = {}
        #: Array formulas too large to fill, by cell, found by :meth:`cells`.
        self.refused: dict[tuple[str, str], str] = {}
        if "xl/workbook.xml" not in self.parts:
            raise WorkbookError(f"{self.path.name} has no xl/workbook.xml")
        self.sheets = self._sheets()
        self.defined_names = self._defined_names()
        self.shared_strings = self._shared_strings()

    # -------------------------------------------------------------------------- structure
    def tree(self, part: str) -> etree._ElementTree:
        if part not in self.trees:
            if part not in self.parts:
                raise WorkbookError(f"{self.path.name} is damaged: its part {part} is missing")
            try:
                self.trees[part] = etree.parse(io.BytesIO(self.parts[part]), _PARSER)
            except etree.XMLSyntaxError as exc:
                raise WorkbookError(f"{self.path.name} is damaged: {part} is not well-formed "
                                    f"XML (line {exc.lineno})") from None
        return self.trees[part]

    def _sheets(self) -> dict[str, str]:
        rels = self.tree("xl/_rels/workbook.xml.rels").getroot()
        targets = {r.get("Id"): r.get("Target") for r in rels.iter(f"{{{PKG_REL_NS}}}Relationship")}
        out = {}
        for s in self.tree("xl/workbook.xml").getroot().iter(f"{_Q}sheet"):
            target = targets.get(s.get(f"{{{REL_NS}}}id"))
            if target is None or s.get("name") is None:
                raise WorkbookError(f"{self.path.name} is damaged: sheet "
                                    f"{s.get('name')!r} has no part")
            part = target.lstrip("/") if target.startswith("/") else \
                str(PurePosixPath("xl") / target)
            out[s.get("name")] = part
        return out

    def _defined_names(self) -> dict[str, str]:
        out = {}
        for d in self.tree("xl/workbook.xml").getroot().iter(f"{_Q}definedName"):
            if d.get("localSheetId") is None and d.text:
                out[d.get("name").upper()] = d.text
        return out

    def _shared_strings(self) -> list[str]:
        if "xl/sharedStrings.xml" not in self.parts:
            return []
        root = self.tree("xl/sharedStrings.xml").getroot()
        return ["".join(t.text or "" for t in si.iter(f"{_Q}t")) for si in root.iter(f"{_Q}si")]

    # -------------------------------------------------------------------------- cells
    def _decode(self, c: etree._Element) -> Any:
        t = c.get("t", "n")
        if t == "inlineStr":
            return "".join(x.text or "" for x in c.iter(f"{_Q}t"))
        v = c.find(f"{_Q}v")
        if v is None or v.text is None:
            return None
        try:
            if t == "s":
                return self.shared_strings[int(v.text)]
            if t == "b":
                return v.text == "1"
            if t in ("str", "e"):
                return v.text
            return float(v.text)
        except (IndexError, ValueError):
            raise WorkbookError(f"{self.path.name} is damaged: cell {c.get('r')} holds "
                                f"{v.text[:20]!r}, which is not a valid value of its type") \
                from None

    def cells(self) -> dict[tuple[str, str], Cell]:
        """Every cell with its formula (a shared formula's followers translated from their
        master, as Excel does) and cached value. ``refused`` lists array formulas too large
        to fill, which are treated as single cells."""
        out = {}
        self.refused.clear()
        for name, part in self.sheets.items():
            masters: dict[str, tuple[str, str]] = {}
            followers = []
            for c in self.tree(part).getroot().iter(f"{_Q}c"):
                ref = c.get("r")
                if ref is None or not _REF.fullmatch(ref):
                    raise WorkbookError(f"{self.path.name} is damaged: a cell in {name} has "
                                        f"the reference {str(ref)[:12]!r}")
                f = c.find(f"{_Q}f")
                formula = f.text if f is not None and f.text else None
                array = f.get("ref") if f is not None and f.get("t") == "array" else None
                if array and array_size(array) > MAX_ARRAY_CELLS:
                    self.refused[(name, ref)] = array
                    array = None
                cell = Cell(name, ref, formula, array, self._decode(c))
                if f is not None and f.get("t") == "shared":
                    cell.shared = True
                    if formula:
                        masters[f.get("si")] = (ref, formula)
                    else:
                        followers.append((cell, f.get("si")))
                out[(name, ref)] = cell
            for cell, si in followers:
                if si not in masters:
                    raise WorkbookError(f"{self.path.name} is damaged: {name}!{cell.ref} "
                                        f"uses shared formula {si}, which is not there")
                origin, text = masters[si]
                cell.formula = Translator("=" + text, origin=origin).translate_formula(
                    cell.ref)[1:]
        return out

    # -------------------------------------------------------------------------- writing
    def _index(self, sheet: str) -> dict[int, tuple[etree._Element, dict[int, etree._Element]]]:
        """Row number -> (row element, column number -> cell element), built once per sheet."""
        if sheet not in self._rows:
            data = self.tree(self.sheets[sheet]).getroot().find(f"{_Q}sheetData")
            try:
                self._rows[sheet] = {
                    int(r.get("r")): (r, {split_ref(c.get("r"))[1]: c
                                          for c in r.iterfind(f"{_Q}c")})
                    for r in data.iterfind(f"{_Q}row")}
            except (TypeError, ValueError):
                raise WorkbookError(f"{self.path.name} is damaged: a row of {sheet} has no "
                                    "valid number (Excel writes r= on every row)") from None
        return self._rows[sheet]

    def _cell_element(self, sheet: str, ref: str) -> etree._Element:
        """The ``<c>`` element at ``ref``, created (in row and column order) if missing."""
        self.modified.add(self.sheets[sheet])
        rows = self._index(sheet)
        row_no, col_no = split_ref(ref)
        if row_no not in rows:
            data = self.tree(self.sheets[sheet]).getroot().find(f"{_Q}sheetData")
            row = etree.Element(f"{_Q}row", r=str(row_no))
            after = [n for n in rows if n > row_no]
            if after:
                rows[min(after)][0].addprevious(row)
            else:
                data.append(row)
            rows[row_no] = (row, {})
        row, cells = rows[row_no]
        if col_no in cells:
            return cells[col_no]
        c = etree.Element(f"{_Q}c", r=ref)
        after = [n for n in cells if n > col_no]
        if after:
            cells[min(after)].addprevious(c)
        else:
            row.append(c)
        cells[col_no] = c
        return c

    def set_cached(self, sheet: str, ref: str, value: Any, formula_result: bool = True) -> None:
        """Store ``value`` as the cell's cached value, keeping its formula and style.

        ``formula_result=False`` writes a plain cell (strings inline) instead of a formula's
        result (strings as ``t="str"``).
        """
        c = self._cell_element(sheet, ref)
        for old in c.findall(f"{_Q}v") + c.findall(f"{_Q}is"):
            c.remove(old)
        value = to_excel_value(value)
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            c.attrib.pop("t", None)
            return
        v = etree.SubElement(c, f"{_Q}v")
        if isinstance(value, bool):
            c.set("t", "b")
            v.text = "1" if value else "0"
        elif isinstance(value, (int, float)):
            c.attrib.pop("t", None)
            v.text = repr(float(value)) if not float(value).is_integer() else str(int(value))
        elif not formula_result:
            c.remove(v)
            c.set("t", "inlineStr")
            etree.SubElement(etree.SubElement(c, f"{_Q}is"), f"{_Q}t").text = str(value)
        else:
            text = str(value)
            c.set("t", "e" if _ERROR_VALUE.fullmatch(text) else "str")
            v.text = text

    def remove_part(self, part: str) -> None:
        """Leave ``part`` out of the package when it is saved."""
        self.parts.pop(part, None)
        self.trees.pop(part, None)
        self.modified.discard(part)
        self.infos = [i for i in self.infos if i.filename != part]

    def set_array_ref(self, sheet: str, anchor: str, ref: str) -> None:
        c = self._cell_element(sheet, anchor)
        f = c.find(f"{_Q}f")
        if f is not None:
            f.set("ref", ref)

    def save(self, path: Path | str | None = None) -> Path:
        """Write the package (atomically); unchanged parts keep their exact bytes."""
        target = Path(path) if path is not None else self.path
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            for info in self.infos:
                data = self.parts[info.filename]
                if info.filename in self.modified:
                    data = etree.tostring(self.trees[info.filename], xml_declaration=True,
                                          encoding="UTF-8", standalone=True)
                zf.writestr(info, data)
        write_bytes_atomic(target, buf.getvalue())
        return target


def array_cells(ref: str) -> list[list[str]]:
    """The cell references of a range, row by row."""
    c1, r1, c2, r2 = range_boundaries(ref.replace("$", ""))
    return [[cell_ref(r, c) for c in range(c1, c2 + 1)] for r in range(r1, r2 + 1)]
