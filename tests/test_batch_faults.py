"""The batch under faults: a bad job alone fails, configs are checked, temporary files never
leave the folder or survive, no more workers than jobs, Ctrl-C and SIGTERM stop it promptly."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ctrl_c_reaches

from xlsmallcap.data.errors import UnknownSeriesError
from xlsmallcap.workbook import batch
from xlsmallcap.workbook.batch import ConfigError, Job, load_config, run_batch

SCRIPT = Path(sys.executable).with_name("xlsmallcap")


def test_unknown_ticker_error_crosses_a_process_boundary():
    import pickle

    e = pickle.loads(pickle.dumps(UnknownSeriesError("NOPE", ["IWM"])))
    assert e.name == "NOPE" and "NOPE" in str(e)


def test_one_bad_job_fails_alone_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    monkeypatch.setenv("XLSMALLCAP_CACHE_DIR", str(tmp_path / "cache"))
    outside = tmp_path / "outside.xlsm"
    outside.write_bytes(b"keep me")
    out = tmp_path / "out"
    out.mkdir()
    jobs = [Job("IWM", ("SPY",), dt.date(2024, 7, 16)), Job("NOPE", ("SPY",), None)]
    for job in jobs:  # links planted where the old code put its temporary files
        (out / f"{job.name}.tmp.xlsm").symlink_to(outside)
    res = run_batch(out, jobs, workers=2)
    assert [p.name for p in res.written] == ["IWM_vs_SPY_2024-07-16.xlsx"]
    assert res.failed == {"NOPE_vs_SPY_latest": "unknown ticker or series 'NOPE'"}
    assert outside.read_bytes() == b"keep me"
    assert not list(out.glob(".xlsmallcap-batch-*"))


def test_no_more_workers_than_jobs(tmp_path, monkeypatch):
    seen = {}

    class Pool:
        def __init__(self, max_workers, **kw):
            seen["workers"] = max_workers
            raise KeyboardInterrupt  # stop right there

    monkeypatch.setattr(batch, "ProcessPoolExecutor", Pool)
    monkeypatch.setattr(batch, "_warm_up", lambda jobs: None)
    jobs = [Job("IWM", ("SPY",), None), Job("IWM", ("QQQ",), None)]
    with pytest.raises(KeyboardInterrupt):
        run_batch(tmp_path, jobs, workers=24)
    assert seen["workers"] == 2
    assert not list(tmp_path.glob(".xlsmallcap-batch-*"))   # cleaned up on the way out


@pytest.mark.parametrize("body, message", [
    ('outdir = "x"\n', "unknown key 'outdir'"),
    ('workers = "two"\n', "workers must be a whole number >= 1 (got 'two')"),
    ("workers = 0\n", "workers must be a whole number >= 1 (got 0)"),
    ('pairs = "IWM"\n', "pairs must be a list of [small, benchmarks] pairs"),
    ("out_dir = 3\n", "out_dir must be a folder name (text) (got 3)"),
    ('as_of = ["03/04/2024"]\n', "could be day/month or month/day"),
])
def test_configs_are_checked(tmp_path, body, message):
    cfg = tmp_path / "b.toml"
    cfg.write_text(body)
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("(", r"\(")
                       .replace(")", r"\)")):
        load_config(cfg)


def test_latest_is_a_date(tmp_path):
    cfg = tmp_path / "b.toml"
    cfg.write_text('as_of = ["latest", "2024-07-16"]\npairs = [["IJR", "IWB"]]\n')
    _, jobs, _ = load_config(cfg)
    assert [j.as_of for j in jobs] == [None, dt.date(2024, 7, 16)]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.another_process
def test_a_signal_stops_the_batch_promptly(tmp_path, sig):
    if not SCRIPT.exists():
        pytest.fail(f"the console script {SCRIPT} is not installed")
    dates = ", ".join(f'"2024-{m:02d}-15"' for m in range(1, 13))
    cfg = tmp_path / "b.toml"
    cfg.write_text(f'out_dir = "out"\nworkers = 2\nas_of = [{dates}]\n'
                   'pairs = [["IWM", "SPY"], ["IJR", "IWB"]]\n')
    env = dict(os.environ, XLSMALLCAP_CACHE_DIR=str(tmp_path / "cache"))
    proc = subprocess.Popen([str(SCRIPT), "batch", str(cfg)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True,
                            preexec_fn=ctrl_c_reaches)
    out = tmp_path / "out"
    deadline = time.monotonic() + 90
    def written():
        return [p for p in out.glob("*.xlsx") if not p.name.startswith(".")]

    while time.monotonic() < deadline and not written():
        time.sleep(0.2)   # wait until the workers are writing workbooks
    assert written(), "the batch wrote nothing in 90 s"
    ps = subprocess.run(["ps", "-o", "pid=", "--ppid", str(proc.pid)], capture_output=True,
                        text=True)
    workers = [int(p) for p in ps.stdout.split()]
    assert workers, "no worker processes seen"
    os.kill(proc.pid, sig)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        pytest.fail("the batch did not stop within 15 s of the signal")
    # stopped, and before the end: 24 workbooks were asked for (a count, not a time, so a busy
    # machine cannot make it fail or pass)
    assert proc.returncode not in (None, 0)
    assert 1 <= len(written()) < 24, f"{len(written())} of 24 workbooks written"
    assert not list(out.glob(".xlsmallcap-batch-*")) and not list(out.glob("*.tmp.xlsm"))
    time.sleep(1.0)

    def alive(pid: int) -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        stat = Path(f"/proc/{pid}/stat")
        return stat.exists() and stat.read_text().split()[2] != "Z"

    assert not [p for p in workers if alive(p)], "workers were left behind"
