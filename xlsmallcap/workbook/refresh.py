"""Headless refresh: compute every xlsmallcap formula in a workbook and store the results as the
cells' cached values, so the file opens with current numbers in Excel without Python, in
LibreOffice or in a viewer.

Formulas are parsed and evaluated by the ``formulas`` package with the xlsmallcap functions
registered in it; native formulas that depend on xlsmallcap cells are evaluated by the same engine.
Formulas whose functions the engine does not know are left as they are and reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from xlsmallcap.workbook.functions import get_functions
from xlsmallcap.workbook.ooxml import (
    MAX_ARRAY_CELLS,
    Cell,
    Package,
    array_cells,
    cell_ref,
    split_ref,
    to_excel_value,
)

Key = tuple[str, str]


@dataclass
class RefreshReport:
    path: Path
    computed: list[Key] = field(default_factory=list)
    native: list[Key] = field(default_factory=list)
    unknown: dict[Key, str] = field(default_factory=dict)
    #: Cells whose formula the engine cannot read (a sheet that does not exist, bad syntax) or
    #: could not evaluate, left alone with their last values, with the reason.
    unreadable: dict[Key, str] = field(default_factory=dict)
    errors: dict[Key, str] = field(default_factory=dict)
    #: Cells left with their old values because their formula depends on itself.
    circular: dict[Key, str] = field(default_factory=dict)

    def summary(self) -> str:
        parts = [f"{len(self.computed)} xlsmallcap formulas", f"{len(self.native)} dependent "
                 "native formulas"]
        if self.unknown:
            parts.append(f"{len(self.unknown)} left alone (unknown functions: "
                         f"{', '.join(sorted(set(self.unknown.values())))})")
        if self.unreadable:
            parts.append(f"{len(self.unreadable)} unreadable (left alone)")
        if self.errors:
            parts.append(f"{len(self.errors)} with error values")
        if self.circular:
            parts.append(f"{len(self.circular)} circular (left as they were)")
        return f"{self.path.name}: " + ", ".join(parts)


def _functions() -> dict[str, Any]:
    """The xlsmallcap functions, by upper-case name (imported lazily: pulls in the store)."""
    from xlsmallcap import udfs

    return {name: getattr(udfs, name) for name in udfs.EXCEL_FUNCTIONS}


class UnknownSheet(KeyError):
    """A formula refers to a sheet the book does not have (its name as written)."""


class CircularName(ValueError):
    """A defined name that leads back to itself (its name as the book defines it)."""


class _Omitted:
    """An argument left out, as in ``=ROTATION_SCORE(,,A5)``: xlwings passes the default."""


OMITTED = _Omitted()


def warm_up() -> None:
    """Load the formula engine's function registry and the xlsmallcap functions once, e.g. in
    a batch's parent process before worker processes are forked."""
    get_functions()
    _functions()


def _plain(x: Any) -> Any:
    import schedula as sh
    from formulas.tokens.operand import XlError

    if x is sh.EMPTY or x is OMITTED:
        return None
    if isinstance(x, XlError):
        return str(x)
    if isinstance(x, np.generic):
        return x.item()
    return x


def _to_udf_arg(a: Any) -> Any:
    """What the engine passes (numpy ranges, its own ranges, EMPTY, XlError) as what Excel
    passes to xlwings."""
    from formulas.ranges import Ranges

    if isinstance(a, Ranges):
        a = a.value
    if isinstance(a, np.ndarray):
        rows = [[_plain(x) for x in row] for row in np.atleast_2d(a)]
        return rows[0][0] if len(rows) == 1 and len(rows[0]) == 1 else rows
    return _plain(a)


def _result(r: Any) -> Any:
    """The engine's result as a scalar or a list of rows."""
    if isinstance(r, (np.ndarray, list)):
        rows = [[_plain(x) for x in row] for row in np.atleast_2d(np.array(r, dtype=object))]
        return rows[0][0] if len(rows) == 1 and len(rows[0]) == 1 else rows
    return _plain(r)


#: Excel functions that read where a reference is or how big it is, not only its values: the
#: formula engine answers them only from its own range objects.
_BY_REFERENCE = frozenset({"ROW", "ROWS", "COLUMN", "COLUMNS", "AREAS"})
#: ``ROW()`` or ``COLUMN()`` without a reference: the formula's own cell.
_OWN_CELL = re.compile(r"\b(?:ROW|COLUMN)\(\s*\)", re.IGNORECASE)


def _engine_range(sheet: str, ref: str, values: np.ndarray | None = None):
    """The formula engine's own range object for ``sheet!ref`` (a quote in the sheet's name
    doubled, as in a formula), holding ``values`` when given."""
    from formulas.ranges import Ranges

    quoted = sheet.replace("'", "''")
    return Ranges().push(f"'{quoted}'!{ref}", *(() if values is None else (values,)))


#: Compiled formulas by text, shared by every refresh in the process (a batch refreshes the
#: same template many times). The compiled functions call the xlsmallcap functions by module
#: attribute, so they stay valid.
_COMPILED: dict[str, tuple[Any, list[str]]] = {}


class _Engine:
    def __init__(self, pkg: Package) -> None:
        import formulas

        self.pkg = pkg
        self.cells = pkg.cells()
        self.sheet_names = {s.upper(): s for s in pkg.sheets}
        self.anchor_of: dict[Key, Key] = {}
        #: Array formulas of the form IFERROR(<xlsmallcap call>, Cache!range): the engine
        #: computes the call itself (so its error message shows in place and the block keeps
        #: its last good values), and the range receives each good result.
        self.fallback: dict[Key, str] = {}
        for key, c in self.cells.items():
            match = _FALLBACK.fullmatch(c.formula or "") if c.array_ref else None
            if match and _single_call(match.group(1)):
                self.fallback[key] = match.group(2)
                c.formula = match.group(1)
            if c.array_ref:
                for row in array_cells(c.array_ref):
                    for ref in row:
                        self.anchor_of[(c.sheet, ref)] = key
        self.udfs = _functions()
        registry = get_functions()
        for name, f in self.udfs.items():
            registry[name] = self._adapter(f)
        self.parser = formulas.Parser
        self._compiled: dict[str, Any] = {}
        self.functions_of: dict[str, list[str]] = {}
        self._inputs: dict[Key, list[list[list[Key]]]] = {}
        self.results: dict[Key, Any] = {}
        self._busy: set[Key] = set()
        self.failed: set[Key] = set()
        self.circular: set[Key] = set()
        #: Cells an array result was written to in this refresh, and the array's anchor.
        self.claimed: dict[Key, str] = {}
        #: Every value this refresh stored, by cell.
        self.written: dict[Key, Any] = {}
        self.registry = registry
        self.call_re = re.compile(r"(?<![A-Za-z0-9_.])(" + "|".join(self.udfs) + r")\s*\(",
                                  re.IGNORECASE)

    @staticmethod
    def _adapter(f):
        def call(*args):
            out = f(*[_to_udf_arg(a) for a in args])
            # Tables go back to the engine as arrays, so IFERROR(...) and friends apply.
            return np.array(out, dtype=object) if isinstance(out, list) else out

        call.__name__ = f.__name__
        return call

    def knows(self, name: str) -> bool:
        """Whether the engine implements ``name`` (its registry answers unknown names with a
        placeholder that raises, and remembers them)."""
        from formulas.functions import not_implemented

        return self.registry.get(name, not_implemented) is not not_implemented

    def compiled(self, formula: str, at: Key | None = None):
        """The compiled formula; one that reads its own cell (``ROW()`` or ``COLUMN()``
        without a reference) is compiled for the cell ``at``."""
        key = formula
        if at is not None and _OWN_CELL.search(formula):
            key = f"{formula}\0{at[0]}!{at[1]}"
        else:
            at = None
        if key in _COMPILED:  # compiled by an earlier refresh in this process
            self._compiled.setdefault(key, _COMPILED[key][0])
            self.functions_of.setdefault(formula, _COMPILED[key][1])
        if key not in self._compiled:
            from formulas.tokens.operand import Empty

            text = "=" + formula.lstrip("=")
            tokens, builder = self.parser().ast(text)
            if self._omitted_only_in_ours(tokens):
                # The engine turns an omitted argument into 0 when it parses (right for
                # Excel's own functions); an xlsmallcap function must see "omitted" and use
                # its default, as it does through xlwings.
                saved = Empty.__dict__["compile"]  # the staticmethod itself
                Empty.compile = staticmethod(lambda: OMITTED)
                try:
                    builder = self.parser().ast(text)[1]
                finally:
                    Empty.compile = saved
            own = {}
            if at is not None:
                from formulas.cell import CELL

                own = {CELL: _engine_range(*at)}
            self._compiled[key] = builder.compile(**own)
            self.functions_of[formula] = [str(t.name).upper() for t in tokens
                                          if type(t).__name__ == "Function"]
            _COMPILED[key] = (self._compiled[key], self.functions_of[formula])
        return self._compiled[key]

    def _omitted_only_in_ours(self, tokens) -> bool:
        """True when the formula has omitted arguments and all of them are xlsmallcap's."""
        stack: list[str | None] = []
        pending: str | None = None
        seen = False
        for t in tokens:
            kind = type(t).__name__
            if kind == "Function":
                pending = str(t.name).upper()
            elif kind == "Parenthesis":
                if str(t.name) == "(":
                    stack.append(pending)
                    pending = None
                elif stack:
                    stack.pop()
            elif kind == "Empty":
                if not stack or stack[-1] not in self.udfs:
                    return False
                seen = True
        return seen

    # ------------------------------------------------------------------ references
    def _targets(self, name: str, sheet: str, seen: tuple[str, ...] = ()) -> tuple[str, str]:
        """(sheet, range) for an input name of a compiled formula; a defined name is followed
        through however many names it takes, and one that leads back to itself is refused."""
        name = name.strip()
        if "!" in name:
            sh_name, rng = name.rsplit("!", 1)
            if len(sh_name) > 1 and sh_name[0] == sh_name[-1] == "'":
                sh_name = sh_name[1:-1].replace("''", "'")   # 'It''s mine' is It's mine
            if sh_name.upper() not in self.sheet_names:
                raise UnknownSheet(sh_name)
            return self.sheet_names[sh_name.upper()], rng.replace("$", "")
        defined = self.pkg.defined_names.get(name.upper())
        if defined is not None:
            if name.upper() in seen:
                raise CircularName(seen[0])
            return self._targets(defined, sheet, (*seen, name.upper()))
        return sheet, name   # the engine's own names carry no "$"

    def input_keys(self, key: Key) -> list[list[list[Key]]]:
        """Per input of the cell's formula, the cells it reads, row by row (computed once)."""
        if key not in self._inputs:
            c = self.cells[key]
            out = []
            for name in self.compiled(c.formula, key).inputs:
                sheet, rng = self._targets(name, c.sheet)
                refs = array_cells(rng if ":" in rng else f"{rng}:{rng}")
                out.append([[(sheet, r) for r in row] for row in refs])
            self._inputs[key] = out
        return self._inputs[key]

    # ------------------------------------------------------------------ values
    def value(self, key: Key, dirty: set[Key]) -> Any:
        anchor = self.anchor_of.get(key, key)
        if anchor in self.circular:
            raise RecursionError(f"circular reference through {anchor[0]}!{anchor[1]}")
        if anchor in dirty and anchor not in self.failed and anchor in self.cells:
            try:
                res = self.evaluate(anchor, dirty)
            except RecursionError:
                raise   # a cycle: never computed from the cells' old values
            except Exception:
                self.failed.add(anchor)  # dependents see its cached value
                return self.value(key, dirty)
            if isinstance(res, list):
                a_row, a_col = split_ref(anchor[1])
                row, col = split_ref(key[1])
                i, j = row - a_row, col - a_col
                res = res[i][j] if i < len(res) and j < len(res[i]) else None
            elif key != anchor and self.cells[anchor].array_ref:
                # a failed array shows its message in its first cell and keeps its other
                # cells (see _write): dependents read what the sheet shows
                c = self.cells.get(key)
                return c.value if c is not None else None
            return to_excel_value(res)  # what a native formula sees: dates as serials
        c = self.cells.get(key)
        return c.value if c is not None else None

    def evaluate(self, key: Key, dirty: set[Key]) -> Any:
        import schedula as sh

        if key in self.results:
            return self.results[key]
        if key in self._busy:
            raise RecursionError(f"circular reference at {key[0]}!{key[1]}")
        self._busy.add(key)
        try:
            cell = self.cells[key]
            func = self.compiled(cell.formula, key)
            by_reference = not _BY_REFERENCE.isdisjoint(self.functions_of[cell.formula])
            args = []
            for rows, name in zip(self.input_keys(key), func.inputs, strict=True):
                vals = [[self.value(k, dirty) for k in row] for row in rows]
                vals = [[sh.EMPTY if v is None else v for v in row] for row in vals]
                if by_reference:   # the cells input_keys found, first to last
                    (sheet, first), last = rows[0][0], rows[-1][-1][1]
                    args.append(_engine_range(sheet, f"{first}:{last}",
                                              np.array(vals, dtype=object)))
                elif len(rows) == 1 and len(rows[0]) == 1 and ":" not in name:
                    args.append(vals[0][0])
                else:
                    args.append(np.array(vals, dtype=object))
            res = _result(func(*args))
        finally:
            self._busy.discard(key)
        self.results[key] = res
        return res


def _dirty(engine: _Engine, report: RefreshReport,
           changed: set[Key] = frozenset()) -> tuple[set[Key], set[Key]]:
    """xlsmallcap formula cells, and native formula cells that depend on them, on a
    ``changed`` cell or that have no stored value yet."""
    formula_cells = {k: c for k, c in engine.cells.items() if c.formula}
    ours = {k for k, c in formula_cells.items() if engine.call_re.search(c.formula)}
    deps: dict[Key, set[Key]] = {}
    for k in formula_cells:
        try:
            deps[k] = {engine.anchor_of.get(x, x) for rows in engine.input_keys(k)
                       for row in rows for x in row}
        except Exception as exc:  # a formula the engine cannot parse, or an unknown sheet
            report.unreadable[k] = _unreadable(exc, formula_cells[k].formula)
    for k, c in formula_cells.items():
        if k in deps:
            missing = [f for f in engine.functions_of[c.formula] if not engine.knows(f)]
            if missing:
                report.unknown[k] = missing[0]
    dirty = set(ours) - set(report.unknown) - set(report.unreadable)
    # a formula that has no stored value was never computed (a new book): compute it too
    never = {k for k, c in formula_cells.items() if c.value is None and k in deps
             and k not in report.unknown}
    seeds = dirty | changed | never
    grown = True
    while grown:
        grown = False
        for k, d in deps.items():
            if k not in seeds and k not in report.unknown and d & seeds:
                seeds.add(k)
                grown = True
    return ours, {k for k in seeds if k in formula_cells}


def _unreadable(exc: Exception, formula: str) -> str:
    """Why the engine cannot read a formula, in a spreadsheet user's words (the sheet's name
    as the formula spells it: the engine reads it in capitals)."""
    if isinstance(exc, UnknownSheet):
        # a quote in a sheet's name is doubled inside the formula ('It''s gone'!A1)
        written = re.search(re.escape(exc.args[0].replace("'", "''")), formula, re.IGNORECASE)
        shown = written.group(0).replace("''", "'") if written else exc.args[0]
        return f"it refers to a sheet that does not exist ({shown})"
    if isinstance(exc, CircularName):
        written = re.search(rf"(?<![\w.]){re.escape(exc.args[0])}(?![\w.])", formula,
                            re.IGNORECASE)
        return f"its name {written.group(0) if written else exc.args[0]} leads back to itself"
    return "the formula engine cannot read it"


#: ``IFERROR(<xlsmallcap call>, Sheet!A1:C10)``: the range keeps the last refreshed values, for
#: LibreOffice (which recalculates array formulas on load) and Excel without Python.
_FALLBACK = re.compile(r"\s*IFERROR\((.+),\s*((?:'[^']+'|[A-Za-z_][\w.]*)!\$?[A-Z]+\$?\d+:"
                       r"\$?[A-Z]+\$?\d+)\s*\)\s*", re.IGNORECASE | re.DOTALL)


def _single_call(text: str) -> bool:
    """Whether ``text`` is one function call, e.g. ``CHART_SERIES("rs",Small)`` (its first
    parenthesis closes at its end; quoted text is skipped)."""
    text = text.strip()
    head = re.match(r"[A-Za-z_][A-Za-z0-9_.]*\s*\(", text)
    if head is None:
        return False
    depth, quoted = 0, False
    for i, ch in enumerate(text[head.end() - 1:], start=head.end() - 1):
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in "()":
            depth += 1 if ch == "(" else -1
            if depth == 0:
                return i == len(text) - 1
    return False


def _write_fallback(engine: _Engine, cell: Cell, rows: list[list[Any]]) -> None:
    target = engine.fallback.get((cell.sheet, cell.ref))
    if target is None:
        return
    sheet, rng = engine._targets(target, cell.sheet)
    for i, refs in enumerate(array_cells(rng)):
        for j, ref in enumerate(refs):
            value = rows[i][j] if i < len(rows) and j < len(rows[i]) else None
            engine.pkg.set_cached(sheet, ref, value, formula_result=False)


def _blocked(engine: _Engine, cell: Cell, refs: list[list[str]]) -> str | None:
    """The first cell a result of this shape would overwrite that is not the formula's own:
    another formula, or a value outside the formula's current block (Excel's #SPILL!)."""
    own = {ref for row in array_cells(cell.array_ref) for ref in row}
    for row in refs:
        for ref in row:
            if ref == cell.ref:
                continue
            claimed = engine.claimed.get((cell.sheet, ref))
            if claimed is not None and claimed != cell.ref:
                return ref          # another array's result was written there in this refresh
            other = engine.cells.get((cell.sheet, ref))
            if other is None:
                continue
            if other.formula or (ref not in own and other.value not in (None, "")):
                return ref
    return None


def _write(engine: _Engine, cell: Cell, result: Any, report: RefreshReport) -> None:
    pkg = engine.pkg
    key = (cell.sheet, cell.ref)
    if isinstance(result, list) and cell.array_ref:
        rows = len(result)
        cols = max(len(r) for r in result)
        r0, c0 = split_ref(cell.ref)
        new_ref = f"{cell.ref}:{cell_ref(r0 + rows - 1, c0 + cols - 1)}"
        old = {ref for row in array_cells(cell.array_ref) for ref in row}
        if rows * cols > MAX_ARRAY_CELLS:
            why = f"is larger than {MAX_ARRAY_CELLS:,} cells"
        else:
            blocker = _blocked(engine, cell, array_cells(new_ref))
            why = None if blocker is None else f"would overwrite {cell.sheet}!{blocker}"
        # cells of the old block that another array took over in this refresh stay its own
        old = {ref for ref in old
               if engine.claimed.get((cell.sheet, ref), cell.ref) == cell.ref}
        if why is not None:
            for ref in old:
                pkg.set_cached(cell.sheet, ref, "#SPILL!" if ref == cell.ref else None)
            report.errors[key] = (f"#SPILL! its {rows} x {cols} result {why}; "
                                  "nothing else was changed")
            return
        for i, row in enumerate(result):
            for j in range(cols):
                ref = cell_ref(r0 + i, c0 + j)
                engine.claimed[(cell.sheet, ref)] = cell.ref
                value = row[j]   # rectangular: _result shaped it through numpy
                pkg.set_cached(cell.sheet, ref, value)
                engine.written[(cell.sheet, ref)] = value
                old.discard(ref)
        for ref in old:
            pkg.set_cached(cell.sheet, ref, None)
            engine.written[(cell.sheet, ref)] = None
        if new_ref != cell.array_ref:
            pkg.set_array_ref(cell.sheet, cell.ref, new_ref)
        flat = [v for row in result for v in row]
    else:
        value = result[0][0] if isinstance(result, list) else result
        pkg.set_cached(cell.sheet, cell.ref, value)
        engine.written[key] = value
        flat = [value]
    bad = next((v for v in flat if isinstance(v, str) and v.startswith("#")), None)
    if bad is not None:
        report.errors[key] = bad


def refresh(path: Path | str, out: Path | str | None = None, *,
            changed: Iterable[Key] = (), static: bool = False) -> RefreshReport:
    """Recompute xlsmallcap formulas (and native formulas depending on them) in ``path``.

    Writes to ``out`` (default: in place), atomically. ``changed`` names cells whose values
    were set outside a spreadsheet app (a batch's settings): native formulas reading them are
    recomputed too. ``static`` turns the result into a static report (see
    :mod:`xlsmallcap.workbook.static`). Returns what was computed and what was left alone.
    """
    import logging

    pkg = Package(path)
    engine = _Engine(pkg)
    # The engine logs a traceback for every function it does not know; we report them instead.
    quiet = logging.getLogger("schedula")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)
    report = RefreshReport(Path(out) if out is not None else Path(path))
    for (sheet, ref), block in pkg.refused.items():
        report.errors[(sheet, ref)] = (f"#NUM! its array {block} is larger than "
                                       f"{MAX_ARRAY_CELLS:,} cells; left as it was")
    try:
        ours, dirty = _dirty(engine, report, set(changed))
        dirty -= set(pkg.refused)
        _evaluate_all(engine, ours, dirty, report)
    finally:
        quiet.setLevel(level)
    _follow_axes(engine)
    if static:
        from xlsmallcap.workbook.static import make_static

        make_static(pkg)
    pkg.save(out)
    return report


def _follow_axes(engine: _Engine) -> None:
    """Fixed axis minimums of charts that show refreshed cells follow the new data."""
    from xlsmallcap.workbook.axes import rescale

    def keys(sheet: str, rng: str) -> list[Key]:
        name = engine.sheet_names.get(sheet.upper())
        if name is None:
            return []
        try:
            refs = array_cells(rng if ":" in rng else f"{rng}:{rng}")
        except ValueError:
            return []
        return [(name, r) for row in refs for r in row]

    def value(k: Key) -> Any:
        if k in engine.written:
            return engine.written[k]
        c = engine.cells.get(k)
        return c.value if c is not None else None

    rescale(engine.pkg, lambda s, r: any(k in engine.written for k in keys(s, r)),
            lambda s, r: [to_excel_value(value(k)) for k in keys(s, r)])


def _evaluate_all(engine: _Engine, ours: set[Key], dirty: set[Key],
                  report: RefreshReport) -> None:
    for key in sorted(dirty, key=lambda k: (k[0], split_ref(k[1]))):
        cell = engine.cells[key]
        try:
            result = engine.evaluate(key, dirty)
        except RecursionError as exc:
            engine.circular.add(key)   # value() refuses it before it looks at failed
            report.circular[key] = str(exc) if "circular" in str(exc) else "circular reference"
            continue
        except Exception:  # unknown functions were set aside before: a failure, not an input
            engine.failed.add(key)
            report.unreadable[key] = "the formula engine could not evaluate it"
            continue
        if cell.array_ref and not isinstance(result, list) and not (
                isinstance(result, str) and result.startswith("#")):
            # one value from an array formula: its block shrinks to that cell, as a dynamic
            # array does (an error message instead keeps the block's last good values)
            result = [[result]]
        _write(engine, cell, result, report)
        if isinstance(result, list) and cell.array_ref and key not in report.errors:
            _write_fallback(engine, cell, result)
        (report.computed if key in ours else report.native).append(key)
