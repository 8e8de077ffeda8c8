"""The functions through xlwings' Office.js code path: how xlwings Lite (Excel on Mac, the web)
and xlwings Server register and call them.

``xlwings.server.custom_functions_meta`` and ``custom_functions_call`` are xlwings' own code,
run in a separate process with ``XLWINGS_ON_SERVER=true`` and the ``noncommercial`` licence key
xlwings offers, on the ``main.py`` that ``xlsmallcap lite`` writes, with the modules Pyodide
lacks made unimportable. Arguments come as Office.js sends them: every argument a matrix, dates
as serial numbers, an empty cell as ``[[None]]``, an omitted argument as ``None``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import shared

from xlsmallcap.lite import lite_files
from xlsmallcap.udfs import EXCEL_FUNCTIONS

#: Runs the package in another process (see tests/conftest.py).
pytestmark = pytest.mark.another_process

HERE = Path(__file__).parent
SERIAL = 45489.0                        # 2024-07-16 as a cell holds it (1900 date system)
N = None                                # an omitted argument
# an error cell, as Office.js hands it over (metadata allows errors for "any" arguments)
NA = {"type": "Error", "basicValue": "#N/A", "errorType": "NotAvailable"}
REF = {"type": "Error", "basicValue": "#REF!", "errorType": "Ref"}


def run_officejs(calls: list[tuple[str, list]], tmp_path) -> dict:
    env = dict(os.environ, XLWINGS_ON_SERVER="true", XLWINGS_LICENSE_KEY="noncommercial",
               XLSMALLCAP_CACHE_DIR=str(tmp_path / "cache"))
    job = {"main": lite_files()["main.py"],
           "calls": [{"func_name": f, "args": a} for f, a in calls]}
    out = subprocess.run([sys.executable, str(HERE / "officejs_runner.py")], input=json.dumps(job),
                         capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout)


@pytest.fixture(scope="module")
def officejs(tmp_path_factory):
    calls = [
        ("REL_PERF", [[[63]], N, N, N, N]),                                    # 0
        ("REL_PERF", [[[63]], N, N, [[SERIAL]], N]),                           # 1
        ("REL_PERF", [[[63]], N, N, [["2024-07-16"]], N]),                     # 2
        ("REL_PERF", [[[63]], N, N, [[SERIAL - 1462]], N, [[True]]]),          # 3: 1904 book
        ("REL_PERF", [[[63]], N, [["SPY"], ["QQQ"]], [[SERIAL]], N]),          # 4: a range
        ("REL_PERF", [[[None]], N, N, N, N]),                                  # 5: empty cell
        ("REL_PERF", [[["abc"]], N, N, N, N]),                                 # 6
        ("ROTATION_PVALUE", [N, N, [[SERIAL]], N]),                            # 7
        ("ROTATION_VERDICT", [N, N, [[SERIAL]], [[True]]]),                    # 8
        ("ROTATION_SCORE", [[["NOPE"]], N, N, N, N]),                          # 9
        ("CASH_STICKINESS", [[[SERIAL]], N, N]),                               # 10
        ("XLSC_HISTORY", [[["IWM"]], [[SERIAL]], [[SERIAL + 2]], N, [[0]]]),   # 11
        ("DATA_STATUS", [N]),                                                  # 12
        ("REL_PERF", [[[63]], [[45000 + i, 100.0 + i] for i in range(100)],    # 13: user data
                      N, [[45099]], N]),
        ("CHART_SERIES", [[["rs"]], N, N, [[SERIAL]], [[5]], N]),              # 14
        ("REL_PERF", [[[63]], N, N, [[NA]], N]),                               # 15: #N/A cell
        ("REL_PERF", [[[63]], N, [["SPY"], [REF]], N, N]),                     # 16
        ("ROTATION_SCORE", [N, N, N, [[REF]], N]),                             # 17
    ]
    return run_officejs(calls, tmp_path_factory.mktemp("officejs"))


@pytest.fixture(scope=shared)
def direct():
    from xlsmallcap import udfs
    from xlsmallcap.data.store import use_embedded_data
    from xlsmallcap.excel import clear_memo

    use_embedded_data()
    clear_memo()
    return udfs


def test_every_function_registers_with_its_arguments_and_help(officejs):
    meta = {f["id"]: f for f in officejs["meta"]["functions"]}
    assert set(meta) == set(EXCEL_FUNCTIONS)
    for name, f in meta.items():
        assert f["description"] and "Python function" not in f["description"], name
        params = [p["name"] for p in f["parameters"]]
        assert params[-1] == "date1904" or name == "DATA_STATUS", name
        for p in f["parameters"]:
            assert p["description"] and not p["description"].startswith("Positional"), (name, p)
    assert [p["name"] for p in meta["REL_PERF"]["parameters"]] == \
        ["window", "small", "benchmarks", "as_of", "headers", "date1904"]
    assert meta["REL_PERF"]["parameters"][0].get("optional") is not True


def test_nothing_pyodide_lacks_is_imported(officejs):
    assert officejs["loaded"] == []


def test_values_match_the_windows_answers(officejs, direct):
    r = officejs["results"]
    assert r[0]["value"] == [[direct.REL_PERF(63.0)]]
    at_date = direct.REL_PERF(63.0, None, None, "2024-07-16")
    assert r[1]["value"] == r[2]["value"] == r[3]["value"] == [[at_date]]
    assert r[4]["value"] == [["SPY", "QQQ"], direct.REL_PERF(63.0, None, "SPY,QQQ",
                                                             "2024-07-16")[1]]
    assert r[7]["value"] == [[pytest.approx(0.842157, abs=1e-6)]]
    assert r[8]["value"][0][0].startswith("Diversification since")
    assert r[10]["value"] == [[direct.CASH_STICKINESS("2024-07-16")]]
    import datetime as dt

    own = [[dt.datetime(1899, 12, 30) + dt.timedelta(days=45000 + i), 100.0 + i]
           for i in range(100)]
    assert r[13]["value"] == [[direct.REL_PERF(63.0, own, None, "2023-06-22")]]
    assert isinstance(r[13]["value"][0][0], float)


def test_dates_come_back_as_excel_serials(officejs):
    # xlwings' Office.js writer hands Excel a date as a serial with a date format
    rows = officejs["results"][11]["value"]
    assert [r[0] for r in rows] == [
        {"type": "FormattedNumber", "basicValue": s, "numberFormat": "yyyy-mm-dd"}
        for s in (SERIAL, SERIAL + 1, SERIAL + 2)]
    assert all(isinstance(r[1], float) and r[1] > 0 for r in rows)
    chart = officejs["results"][14]["value"]
    assert chart[-1][0]["basicValue"] == SERIAL and len(chart) == 6


def test_bad_input_raises_so_the_cell_shows_value_with_the_message(officejs):
    r = officejs["results"]
    assert r[5] == {"error": "CellError",
                    "message": "#VALUE! window is required: a whole number of trading days >= 1"}
    assert r[6]["error"] == "CellError" and r[6]["message"].startswith(
        "#VALUE! window must be a whole number")
    assert r[9] == {"error": "CellError",
                    "message": "#N/A small: unknown ticker 'NOPE' (see =DATA_STATUS())"}
    for res in r:
        if "error" in res:
            assert len(res["message"]) <= 100


def test_error_cells_are_answered_with_their_error_naming_the_argument(officejs):
    r = officejs["results"]
    assert r[15] == {"error": "CellError", "message": "#N/A as_of is an error cell (#N/A)"}
    assert r[16] == {"error": "CellError",
                     "message": "#REF! benchmarks is an error cell (#REF!)"}
    assert r[17] == {"error": "CellError", "message": "#REF! lookback is an error cell (#REF!)"}


def test_data_status_shows_the_embedded_snapshot(officejs):
    rows = officejs["results"][12]["value"]
    assert rows[0][:2] == ["Series", "Source"]
    assert {r[0] for r in rows[1:]} >= {"IWM", "SPY", "QQQ", "DIA", "WRMFNS"}


def test_the_wheel_leaves_out_what_pyodide_cannot_install():
    from packaging.requirements import Requirement

    try:
        import tomllib
    except ModuleNotFoundError:                    # Python 3.10
        import tomli as tomllib

    deps = tomllib.loads((HERE.parent / "pyproject.toml").read_text())["project"][
        "dependencies"]
    pyodide = {"sys_platform": "emscripten", "platform_system": "Emscripten",
               "python_version": "3.12", "implementation_name": "cpython"}
    linux = dict(pyodide, sys_platform="linux", platform_system="Linux")
    installed = {Requirement(d).name for d in deps
                 if not Requirement(d).marker or Requirement(d).marker.evaluate(pyodide)}
    everywhere = {Requirement(d).name for d in deps
                  if not Requirement(d).marker or Requirement(d).marker.evaluate(linux)}
    assert not installed & {"yfinance", "filelock", "formulas", "lxml"}
    assert {"yfinance", "filelock", "formulas", "lxml", "pandas", "xlwings"} <= everywhere


def test_lite_command_writes_the_two_files(tmp_path):
    from typer.testing import CliRunner

    from xlsmallcap.cli import app

    res = CliRunner().invoke(app, ["lite", str(tmp_path / "lite"), "--requirement",
                                   "https://example.org/xlsmallcap-0.1.0-py3-none-any.whl"])
    assert res.exit_code == 0, res.output
    main = (tmp_path / "lite" / "main.py").read_text()
    for name in EXCEL_FUNCTIONS:
        assert f"    {name},\n" in main
    assert (tmp_path / "lite" / "requirements.txt").read_text() == \
        "https://example.org/xlsmallcap-0.1.0-py3-none-any.whl\n"
    again = CliRunner().invoke(app, ["lite", str(tmp_path / "lite")])
    assert again.exit_code == 2 and "--force" in again.output


@pytest.fixture(scope="module")
def error_sweep(tmp_path_factory):
    """Every argument of the Windows sweep, given an error cell as Office.js hands it over."""
    from test_udfs_windows_path import ARGUMENTS

    calls = []
    for name, pos, _, n in ARGUMENTS:
        args = [None] * n
        if name == "REL_PERF" and pos != 0:
            args[0] = [[63]]
        if name == "CHART_SERIES":
            args[0] = [["rs"]]
        args[pos] = [[NA]]
        calls.append((name, args))
    return ARGUMENTS, run_officejs(calls, tmp_path_factory.mktemp("sweep"))["results"]


def test_every_argument_answers_an_error_cell_with_its_error(error_sweep):
    arguments, results = error_sweep
    for (name, _, arg, _), res in zip(arguments, results, strict=True):
        assert res == {"error": "CellError",
                       "message": f"#N/A {arg} is an error cell (#N/A)"}, (name, res)


def test_the_office_js_path_is_recognised_in_process(monkeypatch):
    """The switch between Windows COM (messages as text) and Office.js (raised errors) reads
    which decorator ``xw.func`` is; the other-process tests above cannot see a wrong check."""
    import xlwings as xw

    from xlsmallcap import excel

    monkeypatch.setenv("XLWINGS_LICENSE_KEY", "noncommercial")
    from xlwings import server

    assert excel._office_js() is False          # here xw.func is the COM decorator
    monkeypatch.setattr(xw, "func", server.func)
    assert excel._office_js() is True
