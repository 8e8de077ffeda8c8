"""Runs xlsmallcap's functions through xlwings' Office.js code path, as xlwings Lite does.

A separate process: xlwings picks its decorators when it is imported, from the environment
(``XLWINGS_ON_SERVER=true``: ``xw.func`` is then ``xlwings.server.func``). The modules that
Pyodide lacks (yfinance and curl_cffi, filelock, the formula engine, lxml) are made
unimportable, and the module loaded is the ``main.py`` that ``xlsmallcap lite`` writes.

stdin: JSON ``{"main": <main.py text>, "calls": [{"func_name": ..., "args": [...]}, ...]}``
stdout: JSON ``{"meta": <custom_functions_meta>, "results": [{"value"|"error": ...}, ...]}``
"""

from __future__ import annotations

import asyncio
import importlib.abc
import json
import sys
import types

ABSENT_IN_PYODIDE = ("yfinance", "curl_cffi", "filelock", "formulas", "lxml")


class _Absent(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ABSENT_IN_PYODIDE:
            raise ImportError(f"{name} is not available under Pyodide")
        return None


def main() -> None:
    sys.meta_path.insert(0, _Absent())
    job = json.load(sys.stdin)
    module = types.ModuleType("main")
    exec(compile(job["main"], "main.py", "exec"), module.__dict__)
    import xlwings
    from xlwings.server import custom_functions_call, custom_functions_meta

    results = []
    for call in job["calls"]:
        data = {"func_name": call["func_name"], "args": call["args"],
                "version": xlwings.__version__, "client": "Office.js", "runtime": "1.4",
                "date_format": "yyyy-mm-dd", "culture_info_name": "en-US",
                "caller_address": "Sheet1!A1"}
        try:
            value = asyncio.run(custom_functions_call(data, module))
            results.append({"value": value})
        except Exception as exc:  # what the Office.js runtime turns into #VALUE!
            results.append({"error": type(exc).__name__, "message": str(exc)})
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in ABSENT_IN_PYODIDE)
    json.dump({"meta": custom_functions_meta(module), "results": results,
               "loaded": loaded}, sys.stdout, default=str)


if __name__ == "__main__":
    main()
