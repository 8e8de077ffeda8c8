"""Shared fixtures. No test may touch the network: sockets and curl are blocked here."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT.parent / "shared" / "data" / "raw"


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


def raw_close(name: str) -> pd.Series:
    """A close straight from the raw CSV, parsed independently of the package."""
    path = RAW / "prices" / f"{name}.csv"
    df = pd.read_csv(path, index_col=0, parse_dates=True)
    col = "c" if "c" in df.columns else "Close"
    return df[col]
