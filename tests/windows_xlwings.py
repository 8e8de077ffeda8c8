"""xlwings' own Windows code (``xlwings.udfs``, ``_xlwindows``, ``com_server``) imported on
Linux with pywin32 and two ``ctypes`` Windows loaders stubbed, and ``xlsmallcap.udfs``
decorated with xlwings' Windows decorators (elsewhere ``xw.func`` is a no-op)."""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import importlib
import sys
import types
from unittest import mock

STUBS = ["pythoncom", "pywintypes", "win32api", "win32con", "win32gui", "win32process",
         "win32event", "winerror", "win32timezone", "win32com", "win32com.client",
         "win32com.client.gencache", "win32com.client.dynamic", "win32com.server",
         "win32com.server.util", "win32com.server.register", "win32com.server.policy",
         "win32com.server.dispatcher", "win32com.server.exception", "win32com.server.factory",
         "win32com.server.localserver", "win32com.universal", "win32com.util"]


class _Stub(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        value = mock.MagicMock(name=f"{self.__name__}.{name}")
        setattr(self, name, value)
        return value


class TimeType(dt.datetime):
    """What ``pywintypes`` hands over for a date cell: a tz-aware datetime subclass."""


@contextlib.contextmanager
def windows_xlwings():
    """Yields (``xlwings.udfs``, our module decorated for Windows); undoes everything after."""
    import xlwings

    saved_modules = {k: sys.modules.get(k) for k in
                     [*STUBS, "xlwings.udfs", "xlwings._xlwindows", "xlwings.com_server"]}
    saved_ctypes = {k: getattr(ctypes, k, None) for k in ("PyDLL", "windll", "oledll")}
    saved_xw = {k: getattr(xlwings, k) for k in ("func", "sub", "arg", "ret")}
    engines = xlwings.engines
    saved_engines = (list(engines.engines), dict(engines.engines_by_name))
    for n in STUBS:
        sys.modules[n] = _Stub(n)
    sys.modules["pywintypes"].TimeType = TimeType
    sys.modules["pywintypes"].com_error = type("com_error", (Exception,), {})
    # xlwings hands dates back to COM as UTC datetimes made with pywin32's timezone
    sys.modules["win32timezone"].TimeZoneInfo = types.SimpleNamespace(
        utc=lambda: dt.timezone.utc)
    sys.modules["pythoncom"].__file__ = "pythoncom.dll"
    sys.modules["win32com"].client = sys.modules["win32com.client"]
    for k in ("PyDLL", "windll", "oledll"):
        setattr(ctypes, k, mock.MagicMock(name=f"ctypes.{k}"))
    try:
        xlwin = importlib.import_module("xlwings._xlwindows")
        xlw_udfs = importlib.import_module("xlwings.udfs")
        engines.add(xlwings.main.Engine(impl=xlwin.engine))
        for k, v in {"func": xlw_udfs.xlfunc, "sub": xlw_udfs.xlsub, "arg": xlw_udfs.xlarg,
                     "ret": xlw_udfs.xlret}.items():
            setattr(xlwings, k, v)
        spec = importlib.util.find_spec("xlsmallcap.udfs")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield xlw_udfs, module
    finally:
        engines.engines[:], engines.engines_by_name = saved_engines[0], saved_engines[1]
        for k, v in saved_xw.items():
            setattr(xlwings, k, v)
        for k, v in saved_ctypes.items():
            if v is None:
                if hasattr(ctypes, k):
                    delattr(ctypes, k)
            else:
                setattr(ctypes, k, v)
        for k, v in saved_modules.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v
