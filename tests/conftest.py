"""Shared fixtures. No test may touch the network: sockets and curl are blocked here."""

from __future__ import annotations

import os
import signal
import socket
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: The whole raw data set beside the checkout (``XLSMALLCAP_TEST_RAW`` points elsewhere, e.g. at a
#: folder that does not exist, to see what runs without it).
RAW = Path(os.environ.get("XLSMALLCAP_TEST_RAW", ROOT.parent / "shared" / "data" / "raw"))
#: Extracts of RAW committed with the tests (tests/fixtures/ATTRIBUTION.md): the numbers tests
#: read these, so they run everywhere; only tests of the whole raw set need RAW itself.
EXTRACTS = ROOT / "tests" / "fixtures" / "raw"


def raw_rows(name: str) -> list[dict[str, str]]:
    """The rows of an extract (``"prices/IWM.csv"``) as text, read with the csv module only."""
    import csv
    import gzip

    with gzip.open(EXTRACTS / f"{name}.gz", "rt", newline="") as fh:
        return list(csv.DictReader(fh))


class NetworkBlocked(RuntimeError):
    pass


@pytest.fixture(autouse=True)
def _no_network(monkeypatch, tmp_path_factory):
    def refuse(*args, **kwargs):
        raise NetworkBlocked("tests must not touch the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    try:
        import curl_cffi.requests

        monkeypatch.setattr(curl_cffi.requests.Session, "request", refuse)
    except ImportError:  # pragma: no cover
        pass
    # Never read or write the real user cache.
    monkeypatch.setenv("XLSMALLCAP_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


def ctrl_c_reaches() -> None:
    """``preexec_fn`` for a child that a test interrupts with SIGINT: Ctrl-C as at a terminal.
    A test run started in the background by a shell without job control (``cmd &``) hands
    its children SIGINT ignored, and Python keeps it ignored, as it should."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def missing(what: str) -> None:
    """Skip where ``what`` is missing on a developer's machine; fail in CI (``CI`` set), where
    `.ci/run` provides everything, so that a check can never vanish silently there."""
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing in CI: .ci/run must provide it")
    pytest.skip(f"{what} is missing")


@pytest.fixture
def raw_dir() -> Path:
    if not RAW.is_dir():
        missing("shared/data/raw beside this checkout")
    return RAW


@pytest.fixture
def store(tmp_path):
    from xlsmallcap.data.store import DataStore

    return DataStore(cache_dir=tmp_path / "cache")



def pytest_collection_modifyitems(items):
    """Under mutmut (docs/testing.md), run the fastest tests first: mutmut stops at the first
    failure, so a mutant that a quick test kills is not kept waiting for the slow ones."""
    import sys

    if "mutmut" not in sys.modules:
        return
    from mutmut.state import state

    durations = state().duration_by_test
    if durations:
        items.sort(key=lambda item: durations.get(item.nodeid, 0.0))


def shared(fixture_name: str, config: pytest.Config) -> str:
    """The scope of a fixture that computes product results once for several tests: one per
    module, except under mutmut, which runs a mutant only against the tests it saw reach the
    mutated code and sees a shared result reach the first test that asks for it alone."""
    import sys

    return "function" if "mutmut" in sys.modules else "module"


@pytest.fixture(autouse=True)
def _fresh_state_under_mutmut(monkeypatch):
    """Under mutmut, every test starts with empty caches and a freshly built catalog.

    mutmut forks each mutant's run from a process that has already run the suite, and records
    which tests reach a function by watching calls. A result cached by an earlier test (the memo,
    derived figures, the default store's series, the bootstrap's indices, the catalog built at
    import) would hide a mutant from both. Outside mutmut nothing changes.
    """
    import sys

    if "mutmut" in sys.modules:
        from xlsmallcap import api, excel
        from xlsmallcap.core import evidence
        from xlsmallcap.data import catalog, snapshot, store
        from xlsmallcap.workbook import refresh

        excel.clear_memo()
        api._DERIVED.clear()
        evidence._resample_rows.cache_clear()
        refresh._COMPILED.clear()
        monkeypatch.setattr(store, "_DEFAULT", None)
        fresh = catalog.tables()
        for module in (catalog, snapshot, store):
            for name, value in fresh.items():
                if hasattr(module, name):
                    monkeypatch.setattr(module, name, value)
    yield
