"""The VBA that xlwings' *Import Functions* would write for ``xlsmallcap.udfs`` on Windows.

xlwings' Windows decorators and ``generate_vba_wrapper`` live in ``xlwings.udfs``, which imports
``pythoncom``, ``pywintypes`` and ``win32com.client``. Those are stubbed here; everything else is
xlwings' own code.
"""

from __future__ import annotations

import io
import re
import types

import pytest
from windows_xlwings import windows_xlwings

EXPECTED = {
    "ROTATION_SCORE": ["small", "benchmarks", "as_of", "lookback", "short_window"],
    "ROTATION_VERDICT": ["small", "benchmarks", "as_of", "with_reason"],
    "ROTATION_DETAIL": ["small", "benchmarks", "as_of", "lookback", "short_window", "headers"],
    "ROTATION_PVALUE": ["small", "benchmarks", "as_of", "side"],
    "REL_PERF": ["window", "small", "benchmarks", "as_of", "headers"],
    "REL_PERF_SERIES": ["window", "small", "bench", "as_of", "start_date", "headers"],
    "CASH_STICKINESS": ["as_of", "weeks", "output"],
    "CASH_FLOWS": ["weeks", "as_of", "output"],
    "EASING_CYCLES": ["as_of", "headers"],
    "CASH_TO_SMALLCAPS": ["small", "large", "as_of", "horizon", "sample", "output"],
    "ELECTION_VOL": ["as_of", "output"],
    "RATE_SENSITIVITY": ["small", "large", "as_of", "rate", "window", "output"],
    "VOL_RATIO": ["small", "large", "as_of", "window", "measure"],
    "ROTATION_QUADRANT": ["small", "bench", "as_of"],
    "BASE_RATE": ["as_of", "surge_days", "threshold", "horizon", "output"],
    "XLSC_HISTORY": ["stock", "start_date", "end_date", "interval", "headers", "property0",
                     "property1"],
    "DATA_STATUS": ["headers"],
    "CHART_SERIES": ["kind", "small", "bench", "as_of", "points", "headers"],
}
REQUIRED = {"REL_PERF": {"window"}, "XLSC_HISTORY": {"stock", "start_date"},
            "CHART_SERIES": {"kind"}}
VBA_RESERVED = {"end", "property", "date", "type", "next", "step", "to", "set", "get", "let",
                "option", "optional", "len", "name", "string", "integer", "error", "stop"}


@pytest.fixture(scope="module")
def windows_udfs():
    """``xlwings.udfs`` with its Windows modules stubbed, our module decorated with xlwings'
    Windows decorators (see ``windows_xlwings``)."""
    with windows_xlwings() as pair:
        yield pair


@pytest.fixture(scope="module")
def vba(windows_udfs) -> str:
    xlw_udfs, module = windows_udfs
    out = io.StringIO()
    book = types.SimpleNamespace(Name="xlsmallcap_template.xlsm")
    xlw_udfs.generate_vba_wrapper("xlsmallcap.udfs", module, out, book)
    return out.getvalue()


def _signatures(vba: str) -> dict[str, list[tuple[str, bool]]]:
    sigs = {}
    for _kind, name, args in re.findall(r"^(Function|Sub) (\w+)\(([^)]*)\)", vba, flags=re.M):
        parsed = []
        for a in filter(None, (x.strip() for x in args.split(","))):
            parsed.append((a.removeprefix("Optional ").strip(), a.startswith("Optional ")))
        sigs[name] = parsed
    return sigs


def test_every_function_and_argument_is_in_the_vba(vba):
    sigs = _signatures(vba)
    for name, args in EXPECTED.items():
        assert name in sigs, name
        assert [a for a, _ in sigs[name]] == args, name
        for a, optional in sigs[name]:
            assert optional == (a not in REQUIRED.get(name, set())), (name, a)
    assert sigs["XLSC_UPDATE_DATA"] == []
    assert set(sigs) == {*EXPECTED, "XLSC_UPDATE_DATA"}


def test_vba_calls_python_through_xlpy(vba):
    assert 'REL_PERF = XLPy.CallUDF("xlsmallcap.udfs", "REL_PERF", Array(window, small, ' \
           'benchmarks, as_of, headers, Application.Caller.Parent.Parent.Date1904), ' \
           'ThisWorkbook, Application.Caller)' in vba
    assert "Sub XLSC_UPDATE_DATA()" in vba


def test_every_dated_function_hands_python_its_workbooks_date_system(vba):
    """The workbook's date system travels in a hidden last argument that VBA fills in: the
    user never types it, and a serial from a 1904 book is read in that system."""
    calls = dict(re.findall(r'^\s*(\w+) = XLPy\.CallUDF\("xlsmallcap\.udfs", "\w+", '
                            r'Array\(([^)]*)\)', vba, flags=re.M))
    for name, args in EXPECTED.items():
        hidden = "Application.Caller.Parent.Parent.Date1904"
        passed = [a.strip() for a in calls[name].split(",")] if calls[name] else []
        if name == "DATA_STATUS":
            assert passed == args
        else:
            assert passed == [*args, hidden], name


def test_no_vba_reserved_word_is_an_argument(vba):
    for name, args in _signatures(vba).items():
        for a, _ in args:
            assert a.lower() not in VBA_RESERVED, (name, a)


def test_function_wizard_docs_and_category(windows_udfs):
    _, module = windows_udfs
    for name in EXPECTED:
        xlf = getattr(module, name).__xlfunc__
        assert xlf["category"] == "xlsmallcap"
        assert xlf["ret"]["doc"] and "Python function" not in xlf["ret"]["doc"], name
        for arg in xlf["args"]:
            assert not arg["doc"].startswith("Positional argument"), (name, arg["name"])
