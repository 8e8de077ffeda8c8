"""A static report: a refreshed workbook turned into values and charts that look the same in
Excel, LibreOffice, Numbers, Google Sheets and viewers, for people who have no Python.

What changes, at the XML level (everything else keeps its bytes):

- every formula becomes its value: the xlsmallcap ones and those depending on them were just
  computed; the others keep the value their app last computed (a report is a snapshot, and
  labels that read the settings must not drift from the figures computed with them);
- the VBA project, the calculation chain and the ``xlwings.conf`` sheet are removed, and the
  workbook becomes an ordinary ``.xlsx``;
- the hidden ``Cache`` sheet of the template is removed when no formula reads it any more.
"""

from __future__ import annotations

import re

from lxml import etree

from xlsmallcap.workbook.ooxml import NS, PKG_REL_NS, REL_NS, Package

_Q = f"{{{NS}}}"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
XLSX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
VBA_TYPE = "application/vnd.ms-office.vbaProject"
#: Sheets that exist only for the live workbook.
LIVE_ONLY = ("xlwings.conf",)
CACHE_SHEET = "Cache"


def make_static(pkg: Package) -> None:
    """Turn every formula into its value and drop what only the live workbook needs."""
    for sheet in pkg.sheets:
        _values_only(pkg, sheet)
    _drop_vba(pkg)
    _drop_calc_chain(pkg)
    for name in LIVE_ONLY:
        if name in pkg.sheets:
            remove_sheet(pkg, name)
    if CACHE_SHEET in pkg.sheets and not _still_read(pkg, CACHE_SHEET):
        remove_sheet(pkg, CACHE_SHEET)


def _values_only(pkg: Package, sheet: str) -> None:
    """Every formula of ``sheet`` replaced by its value (text results become text cells)."""
    root = pkg.tree(pkg.sheets[sheet]).getroot()
    for c in root.iter(f"{_Q}c"):
        f = c.find(f"{_Q}f")
        if f is None:
            continue
        c.remove(f)
        pkg.modified.add(pkg.sheets[sheet])
        if c.get("t") == "str":
            v = c.find(f"{_Q}v")
            text = v.text if v is not None else ""
            if v is not None:
                c.remove(v)
            c.set("t", "inlineStr")
            etree.SubElement(etree.SubElement(c, f"{_Q}is"), f"{_Q}t").text = text


def _content_types(pkg: Package) -> etree._Element:
    return pkg.tree("[Content_Types].xml").getroot()


def _drop_vba(pkg: Package) -> None:
    vba = [p for p in pkg.parts if re.fullmatch(r"xl/(_rels/)?vbaProject[^/]*", p)]
    if not vba:
        return
    for part in vba:
        pkg.remove_part(part)
    _drop_relationships(pkg, "xl/_rels/workbook.xml.rels", "/vbaProject")
    types = _content_types(pkg)
    for el in list(types):
        if el.get("ContentType") == VBA_TYPE:
            types.remove(el)
        elif el.get("PartName") == "/xl/workbook.xml":
            el.set("ContentType", XLSX_MAIN)
    pkg.modified.add("[Content_Types].xml")
    pr = pkg.tree("xl/workbook.xml").getroot().find(f"{_Q}workbookPr")
    if pr is not None and pr.attrib.pop("codeName", None) is not None:
        pkg.modified.add("xl/workbook.xml")


def _drop_calc_chain(pkg: Package) -> None:
    """Excel rebuilds the calculation chain; a stale one (naming cells that are no longer
    formulas) makes it repair the file."""
    if "xl/calcChain.xml" not in pkg.parts:
        return
    pkg.remove_part("xl/calcChain.xml")
    _drop_relationships(pkg, "xl/_rels/workbook.xml.rels", "/calcChain")
    _drop_override(pkg, "/xl/calcChain.xml")


def _drop_relationships(pkg: Package, rels: str, type_suffix: str) -> None:
    root = pkg.tree(rels).getroot()
    for r in list(root):
        if (r.get("Type") or "").endswith(type_suffix):
            root.remove(r)
            pkg.modified.add(rels)


def _drop_override(pkg: Package, part_name: str) -> None:
    types = _content_types(pkg)
    for el in list(types):
        if el.get("PartName") == part_name:
            types.remove(el)
            pkg.modified.add("[Content_Types].xml")


def _still_read(pkg: Package, sheet: str) -> bool:
    """Whether any remaining formula, defined name or chart refers to ``sheet``."""
    pattern = re.compile(rf"(?<![\w.])'?{re.escape(sheet)}'?!", re.IGNORECASE)
    for name, part in pkg.sheets.items():
        if name == sheet:
            continue
        for f in pkg.tree(part).getroot().iter(f"{_Q}f"):
            if f.text and pattern.search(f.text):
                return True
    for d in pkg.tree("xl/workbook.xml").getroot().iter(f"{_Q}definedName"):
        if d.text and pattern.search(d.text) and d.get("name") != "_xlnm.Print_Area":
            return True
    return any(pattern.search(pkg.parts[p].decode("utf-8", "replace"))
               for p in pkg.parts if p.startswith("xl/charts/"))


def remove_sheet(pkg: Package, name: str) -> None:
    """Remove a sheet with its part, relationship, content type, local defined names and
    document-properties entry; later sheets' local names are renumbered."""
    book = pkg.tree("xl/workbook.xml").getroot()
    sheets = book.find(f"{_Q}sheets")
    elements = list(sheets)
    index = next(i for i, s in enumerate(elements) if s.get("name") == name)
    rid = elements[index].get(f"{{{REL_NS}}}id")
    sheets.remove(elements[index])
    names = book.find(f"{_Q}definedNames")
    if names is not None:
        for d in list(names):
            local = d.get("localSheetId")
            if local is None:
                continue
            if int(local) == index:
                names.remove(d)
            elif int(local) > index:
                d.set("localSheetId", str(int(local) - 1))
        if not len(names):
            book.remove(names)
    for view in book.iter(f"{_Q}workbookView"):
        for attr in ("activeTab", "firstSheet"):
            if view.get(attr) is not None and int(view.get(attr)) >= index:
                view.set(attr, str(max(0, int(view.get(attr)) - 1)))
    pkg.modified.add("xl/workbook.xml")
    rels = pkg.tree("xl/_rels/workbook.xml.rels").getroot()
    for r in list(rels.iter(f"{{{PKG_REL_NS}}}Relationship")):
        if r.get("Id") == rid:
            rels.remove(r)
    pkg.modified.add("xl/_rels/workbook.xml.rels")
    part = pkg.sheets.pop(name)
    pkg.remove_part(part)
    sheet_rels = part.replace("worksheets/", "worksheets/_rels/") + ".rels"
    if sheet_rels in pkg.parts:
        pkg.remove_part(sheet_rels)
    _drop_override(pkg, "/" + part)
    _drop_from_app_properties(pkg, name)


def _drop_from_app_properties(pkg: Package, name: str) -> None:
    if "docProps/app.xml" not in pkg.parts:
        return
    vt = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
    root = pkg.tree("docProps/app.xml").getroot()
    for vector in root.iter(f"{{{vt}}}vector"):
        for s in list(vector):
            if s.tag == f"{{{vt}}}lpstr" and s.text == name:
                vector.remove(s)
                vector.set("size", str(len(vector)))
                pkg.modified.add("docProps/app.xml")
                _count_down_worksheets(root, vt)
                return


def _count_down_worksheets(root, vt: str) -> None:
    """HeadingPairs says how many titles are worksheets; one fewer now."""
    variants = [v for v in root.iter(f"{{{vt}}}variant")]
    for i, v in enumerate(variants[:-1]):
        label = v.find(f"{{{vt}}}lpstr")
        count = variants[i + 1].find(f"{{{vt}}}i4")
        if label is not None and label.text in ("Worksheets", "Arbeitsblätter") \
                and count is not None:
            count.text = str(int(count.text) - 1)
            return
