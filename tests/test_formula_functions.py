"""The formula engine's registry without scipy at import (xlsmallcap.workbook.functions): the
same answers as formulas' own eager registry, each in a fresh process (imports are per process)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

#: Runs the package in another process (see tests/conftest.py).
pytestmark = pytest.mark.another_process

PROBE = r'''
import json, sys
import numpy as np
if sys.argv[1] == "deferred":
    from xlsmallcap.workbook.functions import get_functions
else:
    from formulas import get_functions
registry = get_functions()
out = {"loaded": sorted(m for m in ("scipy.stats", "scipy.linalg", "scipy.interpolate")
                        if m in sys.modules)}
import formulas
xs = np.array([[1.0], [2.0], [3.0], [4.0], [5.0], [6.0]])
ys = np.array([[2.0], [4.1], [5.9], [8.2], [9.9], [12.5]])
for text in ["=MAX(A1:A6)+MIN(B1:B6)+COUNTBLANK(A1:A6)", "=KURT(B1:B6)", "=SKEW(B1:B6)",
             "=NORM.S.INV(0.9)", "=INDEX(LINEST(B1:B6,A1:A6),1)", "=PERCENTILE.INC(B1:B6,0.3)",
             "=LOGNORM.DIST(2,0,1,TRUE)"]:
    fn = formulas.Parser().ast(text)[1].compile()
    got = np.asarray(fn(*[xs if "A1" in i else ys for i in fn.inputs])).ravel()[0]
    out[text] = float(got)
import formulas.functions.stat as stat
# FORECAST.ETS, the one user of interp1d, needs statsmodels: call the name stat holds directly.
out["interp1d"] = float(stat.interp1d([0.0, 1.0, 2.0], [0.0, 10.0, 40.0])(1.5))
import scipy.interpolate
out["real module afterwards"] = hasattr(scipy.interpolate, "BSpline")
print(json.dumps(out))
'''


def _probe(mode: str) -> dict:
    run = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    return json.loads(run.stdout)


def test_scipy_is_imported_only_when_a_formula_needs_it_and_answers_do_not_change():
    deferred, eager = _probe("deferred"), _probe("eager")
    assert deferred.pop("loaded") == []
    assert eager.pop("loaded") == ["scipy.interpolate", "scipy.linalg", "scipy.stats"]
    assert deferred == eager
    assert deferred["=MAX(A1:A6)+MIN(B1:B6)+COUNTBLANK(A1:A6)"] == 8.0
    assert deferred["interp1d"] == 25.0
    assert deferred["real module afterwards"] is True
