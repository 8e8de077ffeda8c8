"""The formula engine's registry of Excel functions, without scipy until a formula needs it.

``formulas.get_functions()`` imports every family of Excel functions. Its ``stat`` family (the
home of MAX, MIN and COUNTBLANK, which the template uses) imports ``scipy.stats``,
``scipy.linalg`` and ``scipy.interpolate`` at its top: about 1 s of a cold ``xlsmallcap
refresh``, for functions (KURT, SKEW, PERCENTILE, the distributions, LINEST) that no template
formula calls. formulas' other families already import scipy inside the functions that need it;
this does the same for ``stat``. While it is imported, those three modules are stand-ins, taken
out of ``sys.modules`` again straight after; a stand-in imports the real module on first use.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

#: What ``formulas.functions.stat`` imports at its top (formulas 1.2 and later).
DEFERRED = ("scipy.stats", "scipy.linalg", "scipy.interpolate")


class _Deferred(types.ModuleType):
    """Stands in for a module; the real one is imported when one of its names is first used."""

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        if sys.modules.get(self.__name__) is self:   # ``from scipy.interpolate import interp1d``
            return _DeferredName(self.__name__, attr)
        return getattr(importlib.import_module(self.__name__), attr)


class _DeferredName:
    """A name imported from a stand-in (``interp1d``): resolved when it is called."""

    def __init__(self, module: str, name: str) -> None:
        self.module, self.name = module, name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return getattr(importlib.import_module(self.module), self.name)(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<{self.module}.{self.name}, imported on first use>"


def _import_stat() -> None:
    if "formulas.functions.stat" in sys.modules:
        return
    absent = [m for m in DEFERRED if m not in sys.modules]
    for name in absent:
        sys.modules[name] = _Deferred(name)
    try:
        importlib.import_module("formulas.functions.stat")
    finally:
        for name in absent:
            if isinstance(sys.modules.get(name), _Deferred):
                del sys.modules[name]


def get_functions() -> dict[str, Any]:
    """``formulas.get_functions()``: the same registry (cached by formulas, so a name added to
    it is seen by every formula compiled later), with scipy imported only when used."""
    _import_stat()
    import formulas

    return formulas.get_functions()
