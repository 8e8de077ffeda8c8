"""No network, a dead host, a busy lock: one plain line per series, fast, nothing written."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import ctrl_c_reaches
from recorded import install_fake_yahoo, serve_fred

import xlsmallcap.data.store as store_mod
from xlsmallcap.data.errors import DataError
from xlsmallcap.data.netfail import plain_reason
from xlsmallcap.data.store import DataStore


@pytest.mark.parametrize("message, reason, unreachable", [
    ("Failed to perform, curl: (6) Could not resolve host: query2.finance.yahoo.com. See "
     "https://curl.se/libcurl/c/libcurl-errors.html; DNSError('...')",
     "no network: the host cannot be found", True),
    ("FRED download failed: URLError: <urlopen error [Errno -2] Name or service not known>",
     "no network: the host cannot be found", True),
    ("FRED download failed: TimeoutError: read timed out", "no answer within the time-out",
     True),
    ("IWM: Too Many Requests. Rate limited. Try after a while.",
     "rate limited by the source; try again later", False),
])
def test_failures_in_plain_words(message, reason, unreachable):
    assert plain_reason(message) == (reason, unreachable)


def test_an_unknown_failure_keeps_its_first_line_in_plain_words_and_at_most_120_characters():
    words = "the server answered something this program does not know how to read"
    # the URL and the exception's class name go; the first line stays; nothing after it
    assert plain_reason(f"ValueError: {words} https://example.com/x?y=1\nTraceback (most") == (
        words, False)
    exact = "x" * 120
    assert plain_reason(exact) == (exact, False)
    assert plain_reason(exact + "y") == (exact + "...", False)      # one more: cut and marked
    assert plain_reason(exact + "yz") == (exact + "...", False)


def test_an_unreachable_source_is_not_asked_again(tmp_path, monkeypatch):
    # FRED's HTTP call: the host cannot be found
    calls = serve_fred(monkeypatch, urllib.error.URLError(
        socket.gaierror(-2, "Name or service not known")))
    st = DataStore(cache_dir=tmp_path / "cache")
    t = time.monotonic()
    result = st.update(series=["DFF", "DGS2", "DGS3MO", "WRMFNS"])
    assert time.monotonic() - t < 5 and len(calls) == 1
    assert result.failed["DFF"] == "DFF: no network: the host cannot be found"
    assert result.failed["WRMFNS"] == "WRMFNS: skipped (no network: the host cannot be found)"
    assert not (tmp_path / "cache" / "series").exists()


def test_yahoo_dns_failure_is_one_plain_line(tmp_path, monkeypatch):
    install_fake_yahoo(monkeypatch, {"IWM": ConnectionError(
        "Failed to perform, curl: (6) Could not resolve host: query2.finance.yahoo.com")})
    st = DataStore(cache_dir=tmp_path / "cache")
    result = st.update(tickers=["IWM", "SPY"])
    assert result.failed == {"IWM": "IWM: no network: the host cannot be found",
                             "SPY": "SPY: skipped (no network: the host cannot be found)"}


@pytest.mark.another_process
def test_a_busy_lock_says_so_and_gives_up(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    cache.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", (
        "import time, filelock, sys\n"
        f"lock = filelock.FileLock({str(cache / '.lock')!r}); lock.acquire()\n"
        "print('held', flush=True); time.sleep(20)\n")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        monkeypatch.setattr(store_mod, "LOCK_WAIT", 1.0)
        st = DataStore(cache_dir=cache)
        waited = []
        st.on_lock_wait = lambda: waited.append(True)
        t = time.monotonic()
        with pytest.raises(DataError, match="another xlsmallcap process has been writing"):
            st.update(series=["WRMFNS"])
        assert time.monotonic() - t < 5 and waited == [True]   # it said it was waiting
    finally:
        holder.kill()
        holder.wait()


def test_a_host_that_never_answers_is_given_up_on(tmp_path, monkeypatch):
    monkeypatch.setattr(urllib.request, "urlopen", lambda req, timeout=None: time.sleep(30))
    monkeypatch.setattr(store_mod, "SERIES_TIMEOUT", 1.0)
    st = DataStore(cache_dir=tmp_path / "cache")
    t = time.monotonic()
    result = st.update(series=["DFF", "DGS2", "WRMFNS"])
    assert time.monotonic() - t < 4
    assert result.failed["DFF"] == "DFF: no answer within the time-out"
    assert result.failed["WRMFNS"] == "WRMFNS: skipped (no answer within the time-out)"


HANG = """
import time, urllib.request
urllib.request.urlopen = lambda *a, **k: time.sleep(600)
"""


@pytest.mark.another_process
def test_ctrl_c_stops_an_update_within_two_seconds(tmp_path):
    script = Path(sys.executable).with_name("xlsmallcap")
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(HANG)   # the network hangs, for this process only
    env = dict(os.environ, XLSMALLCAP_CACHE_DIR=str(tmp_path / "cache"),
               PYTHONPATH=f"{site}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    proc = subprocess.Popen([str(script), "data", "update", "-s", "WRMFNS"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=ctrl_c_reaches)
    time.sleep(3)                     # well inside the hanging download
    assert proc.poll() is None
    proc.send_signal(signal.SIGINT)
    t = time.monotonic()
    try:
        _, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert time.monotonic() - t < 2.0
    assert proc.returncode == 130 and "interrupted" in err and "Traceback" not in err
    assert not (tmp_path / "cache" / "series").exists()
