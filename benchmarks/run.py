"""Speed and memory of xlsmallcap, each figure against a baseline measured in the same run.

    python benchmarks/run.py [--quick]

Not part of the test run: timings depend on the machine. Prints one line per figure with its
baseline, the ratio and the target from the issue.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
ROWS: list[tuple[str, str, str, str, str]] = []


def timeit(f: Callable[[], object], repeat: int, inner: int = 1) -> list[float]:
    """Per-call seconds of ``repeat`` samples, each the mean of ``inner`` calls."""
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        for _ in range(inner):
            f()
        out.append((time.perf_counter() - t) / inner)
    return out


def row(name: str, value: str, baseline: str, ratio: str, target: str) -> None:
    ROWS.append((name, value, baseline, ratio, target))
    print(f"{name:<44} {value:>12} {baseline:>12} {ratio:>8}   {target}", flush=True)


def bench_udfs(repeat: int) -> None:
    from xlsmallcap import udfs
    from xlsmallcap.data.store import get_store

    st = get_store()
    iwm, spy = st.series("IWM"), st.series("SPY")
    common = iwm.index.intersection(spy.index)
    a, b = iwm.reindex(common).to_numpy(), spy.reindex(common).to_numpy()
    qqq, dia = (st.series(t).reindex(common).to_numpy() for t in ("QQQ", "DIA"))
    w = st.series("WRMFNS").to_numpy()

    def np_rel():
        return (a[-1] / a[-64]) / (b[-1] / b[-64]) - 1

    def np_score():
        out = []
        for bb in (b, qqq, dia):
            r = a[-85:] / bb[-85:]
            rp = r[21:] / r[:-21] - 1
            out.append(np.mean(rp[-63:] > 0))
        return np.mean(out)

    def np_cash():
        return np.clip(0.5 + np.log(w[-1] / w[-53]) / 0.4, 0, 1)

    def np_hist():
        return a[-5:].tolist()

    cases = [
        ("REL_PERF(63)", lambda: udfs.REL_PERF(63.0), np_rel),
        ("ROTATION_SCORE()", lambda: udfs.ROTATION_SCORE(), np_score),
        ("CASH_STICKINESS()", lambda: udfs.CASH_STICKINESS(), np_cash),
        ("XLSC_HISTORY(IWM, 5 days)",
         lambda: udfs.XLSC_HISTORY("IWM", "2024-07-10", "2024-07-16"), np_hist),
    ]
    # Informational: the first call for a new argument (memo miss, data already loaded).
    days = [d.strftime("%Y-%m-%d") for d in common[-400:-100]]
    it = iter(days)
    t = timeit(lambda: udfs.REL_PERF(63.0, None, None, next(it)), 1, 100)
    it2 = iter(days[100:])
    t2 = timeit(lambda: udfs.ROTATION_SCORE(None, None, next(it2)), 1, 100)
    row("first call REL_PERF(63, as_of) (no memo)", f"{t[0] * 1e3:.3f} ms", "-", "-",
        "(informational)")
    row("first call ROTATION_SCORE(as_of) (no memo)", f"{t2[0] * 1e3:.3f} ms", "-", "-",
        "(informational)")
    for name, call, base in cases:
        call()  # warm: data loaded, first computation done
        t = timeit(call, repeat, 20)
        tb = timeit(base, repeat, 20)
        med, medb = statistics.median(t), statistics.median(tb)
        row(f"warm {name}", f"{med * 1e3:.3f} ms", f"{medb * 1e3:.3f} ms",
            f"{med / medb:.2f}x", "<= 3x and <= 0.3 ms")


def bench_whole_column(repeat: int) -> None:
    """``REL_PERF(63, <A:B: 6,000 filled rows of 1,048,576>, "SPY")``: our part (trim, key,
    parse, compute) on the first and on a repeated call, each against the same 6,000 rows as
    a bounded range (each call receives new lists, as from xlwings), and, for scale, the whole
    call through xlwings' own Windows path, which converts COM's tuples before we are called."""
    import datetime as dt

    sys.path.insert(0, str(ROOT / "tests"))
    from windows_xlwings import TimeType, windows_xlwings

    from xlsmallcap import udfs
    from xlsmallcap.data.store import get_store
    from xlsmallcap.excel import clear_memo

    iwm = get_store().series("IWM").iloc[-6000:]
    filled = [[d.to_pydatetime(), float(v)] for d, v in iwm.items()]
    rows = filled + [[None, None] for _ in range(1_048_576 - len(filled))]
    udfs.REL_PERF(63.0, None, "SPY")           # data loaded once, as in a running Excel

    def calls(source: list) -> tuple[list[float], list[float]]:
        first, again = [], []
        for _ in range(repeat):
            clear_memo()
            a, b = [list(r) for r in source], [list(r) for r in source]
            t = time.perf_counter()
            udfs.REL_PERF(63.0, a, "SPY")
            first.append(time.perf_counter() - t)
            t = time.perf_counter()
            udfs.REL_PERF(63.0, b, "SPY")
            again.append(time.perf_counter() - t)
        return first, again

    first, again = calls(rows)
    first_b, again_b = calls(filled)              # baseline: the same data as A1:B6000
    for name, t, tb, target in (("first call", first, first_b, "<= 50 ms"),
                                ("repeated call", again, again_b, "<= 1 ms (issue #12)")):
        med, med_b = statistics.median(t), statistics.median(tb)
        row(f"REL_PERF(63, A:B whole column) {name}", f"{med * 1e3:.1f} ms",
            f"{med_b * 1e3:.1f} ms", f"{med / med_b:.1f}x", target)
    utc = dt.timezone.utc
    com = tuple((TimeType(d.year, d.month, d.day, tzinfo=utc), v) for d, v in filled) + \
        tuple((None, None) for _ in range(1_048_576 - len(filled)))
    with windows_xlwings() as (xlw_udfs, module):
        xlw_udfs.get_udf_module = lambda name, book: module
        conv = []
        for _ in range(max(3, repeat // 3)):
            clear_memo()
            t = time.perf_counter()
            xlw_udfs.call_udf("xlsmallcap.udfs", "REL_PERF", (63.0, com, "SPY"))
            conv.append(time.perf_counter() - t)
    med = statistics.median(conv)
    row("same, whole call through xlwings' Windows path", f"{med * 1e3:.0f} ms",
        f"{statistics.median(first) * 1e3:.1f} ms", f"{med / statistics.median(first):.0f}x",
        "(informational: xlwings' conversion)")


def bench_verdict(repeat: int, noise_paths: int) -> None:
    """The verdict's speed for a new as_of, its stability on real data and its noise rate."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from verdict_calibration import noise_rotation_rate

    from xlsmallcap import api, udfs
    from xlsmallcap.core.evidence import RULE, evidence_path, relative_log_returns
    from xlsmallcap.core.track_record import stability, verdict_series
    from xlsmallcap.data.store import get_store

    st = get_store()
    x = relative_log_returns(st.series("IWM"), {b: st.series(b) for b in api.BENCHMARKS})
    days = [d.strftime("%Y-%m-%d") for d in x.index[-700:-100]]
    v = x.to_numpy()

    def np_persistence():  # the bare numpy core of the old, stateless verdict
        c = np.cumsum(v[-85:], axis=0)
        return np.mean((c[21:] - c[:-21])[-63:] > 0)

    per_call = []
    for d in days[: max(repeat, 5) * 4]:
        t = time.perf_counter()
        udfs.ROTATION_PVALUE(None, None, d)
        per_call.append(time.perf_counter() - t)
    tb = statistics.median(timeit(np_persistence, repeat, 20))
    first = statistics.median(per_call)
    row("first ROTATION_PVALUE for a new as_of", f"{first * 1e3:.1f} ms", f"{tb * 1e3:.3f} ms",
        f"{first / tb:.0f}x", "<= 50 ms (bootstrap of 1,000 paths)")
    warm = statistics.median(timeit(lambda: udfs.ROTATION_PVALUE(None, None, days[0]), repeat,
                                    20))
    row("warm ROTATION_PVALUE (same arguments)", f"{warm * 1e3:.3f} ms", f"{tb * 1e3:.3f} ms",
        f"{warm / tb:.2f}x", "as the other warm calls")
    t = time.perf_counter()
    path = verdict_series(evidence_path(x))
    elapsed = time.perf_counter() - t
    chg, med, n = stability(path)
    row(f"verdict every day {path.index[0]:%Y}-{path.index[-1]:%Y} ({n} days)",
        f"{elapsed:.1f} s", "-", "-", "(one bootstrap a month)")
    row("  verdict changes a year, IWM vs SPY/QQQ/DIA", f"{chg:.2f}", "-", "-", "<= 6")
    row("  median run of a verdict (trading days)", f"{med:.0f}", "-", "-", ">= 15")
    rate = noise_rotation_rate(RULE, noise_paths)
    row(f"noise pairs read as Rotation ({noise_paths})", f"{rate:.1%}", "-", "-", "<= 5%")


def bench_import(repeat: int) -> None:
    """Interleaved, so that a busy moment of the machine hits both alike."""
    env = dict(os.environ, XLSMALLCAP_CACHE_DIR=tempfile.mkdtemp())
    times: dict[str, list[float]] = {"import pandas": [], "import xlsmallcap.udfs": []}
    for _ in range(repeat):
        for code, out in times.items():
            t = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True, env=env)
            out.append(time.perf_counter() - t)
    base = statistics.median(times["import pandas"])
    ours = statistics.median(times["import xlsmallcap.udfs"])
    row("cold import xlsmallcap.udfs", f"{ours:.3f} s", f"{base:.3f} s",
        f"{ours / base:.2f}x", "<= 1.25x (python -c 'import pandas')")


SCRIPT = Path(sys.executable).with_name("xlsmallcap")


def _cold(args: list[str], env: dict[str, str]) -> float:
    """Seconds of one command run as a fresh process."""
    t = time.perf_counter()
    subprocess.run(args, check=True, env=env, capture_output=True)
    return time.perf_counter() - t


def _peak_mb(args: list[str], env: dict[str, str]) -> float:
    """Peak RSS of one command, measured by a watcher process that runs only it (this
    process's own children counter would remember earlier, larger commands)."""
    watch = ("import resource, subprocess, sys\n"
             "subprocess.run(sys.argv[1:], check=True, capture_output=True)\n"
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")
    out = subprocess.run([sys.executable, "-c", watch, *args], check=True, env=env,
                         capture_output=True, text=True).stdout
    return int(out.split()[-1]) / 1024


def bench_refresh(repeat: int) -> None:
    """As the user meets it: a cold ``xlsmallcap refresh`` beside a cold openpyxl load and
    save of the same file, interleaved."""
    from xlsmallcap.workbook.refresh import refresh

    src = ROOT / "workbooks" / "xlsmallcap.xlsm"
    tmp = Path(tempfile.mkdtemp())
    env = dict(os.environ, XLSMALLCAP_CACHE_DIR=tempfile.mkdtemp())
    openpyxl_code = ("import sys; from openpyxl import load_workbook; "
                     "load_workbook(sys.argv[1], keep_vba=True).save(sys.argv[2])")
    ours, base = [], []
    for _ in range(repeat):
        shutil.copy(src, tmp / "r.xlsm")
        ours.append(_cold([str(SCRIPT), "refresh", str(tmp / "r.xlsm")], env))
        base.append(_cold([sys.executable, "-c", openpyxl_code, str(src),
                           str(tmp / "o.xlsm")], env))
    t, tb = statistics.median(ours), statistics.median(base)
    row("cold xlsmallcap refresh of the template", f"{t:.2f} s", f"{tb:.2f} s",
        f"{t / tb:.1f}x", "<= 3x (cold openpyxl load + save)")

    def warm():
        shutil.copy(src, tmp / "w.xlsm")
        refresh(tmp / "w.xlsm")

    warm()  # data and compiled formulas loaded, as for a second refresh in one process
    tw = statistics.median(timeit(warm, repeat))
    row("  the same refresh, warm in one process", f"{tw:.2f} s", f"{tb:.2f} s",
        f"{tw / tb:.1f}x", "(what a batch worker pays)")


def bench_export(repeat: int) -> None:
    """``data export`` of every series to .xlsx, cold, beside the same export to CSV."""
    env = dict(os.environ, XLSMALLCAP_CACHE_DIR=tempfile.mkdtemp())
    tmp = Path(tempfile.mkdtemp())
    xl, csv = [], []
    for _ in range(repeat):
        xl.append(_cold([str(SCRIPT), "data", "export", "--out", str(tmp / "all.xlsx")], env))
        csv.append(_cold([str(SCRIPT), "data", "export", "--out", str(tmp / "all.csv")], env))
    peak = _peak_mb([str(SCRIPT), "data", "export", "--out", str(tmp / "all.xlsx")], env)
    t, tb = statistics.median(xl), statistics.median(csv)
    row("cold data export, every series, .xlsx", f"{t:.2f} s", f"{tb:.2f} s",
        f"{t / tb:.1f}x", "<= 3 s (baseline: the same as .csv)")
    row("  its peak memory", f"{peak:.0f} MB", "-", "-", "<= 300 MB")


def bench_batch(n: int) -> None:
    """Each batch in a fresh process, so neither run inherits the other's warm caches."""
    code = (
        "import datetime as dt, sys\n"
        "from xlsmallcap.workbook.batch import Job, run_batch\n"
        "dates = ['2016-11-18', '2017-03-31', '2020-11-30', '2020-12-31', '2021-01-29',\n"
        "         '2021-03-12', '2023-10-31', '2024-07-16', '2024-07-31', '2024-08-30']\n"
        "pairs = [('IWM', ('SPY', 'QQQ', 'DIA')), ('IJR', ('IWB',))]\n"
        f"jobs = [Job(s, b, dt.date.fromisoformat(d)) for s, b in pairs for d in dates][:{n}]\n"
        "res = run_batch(sys.argv[1], jobs, int(sys.argv[2]))\n"
        "assert res.ok, res.failed\n")
    env = dict(os.environ, XLSMALLCAP_CACHE_DIR=tempfile.mkdtemp())
    runs: dict[int, list[float]] = {1: [], 2: []}
    for _ in range(3):  # interleaved, medians: the machine's noise hits both alike
        for workers in (1, 2):
            t = time.perf_counter()
            subprocess.run([sys.executable, "-c", code, tempfile.mkdtemp(), str(workers)],
                           check=True, env=env)
            runs[workers].append(time.perf_counter() - t)
    times = {w: statistics.median(v) for w, v in runs.items()}
    row(f"batch of {n} workbooks, 2 processes", f"{times[2]:.2f} s",
        f"{times[1]:.2f} s", f"{times[1] / times[2]:.2f}x faster", ">= 1.7x faster")


def bench_memory() -> None:
    code = (
        "import resource, xlsmallcap.udfs as u\n"
        "from xlsmallcap.data.catalog import CATALOG\n"
        "from xlsmallcap.data.store import get_store\n"
        "[get_store().series(s.id) for s in CATALOG]\n"
        "calls = [u.ROTATION_SCORE(), u.ROTATION_VERDICT(), u.ROTATION_DETAIL(), u.REL_PERF(63),"
        " u.REL_PERF_SERIES(), u.CASH_STICKINESS(), u.RATE_SENSITIVITY(), u.VOL_RATIO(),"
        " u.ROTATION_QUADRANT(), u.BASE_RATE(), u.XLSC_HISTORY('IWM', '2024-07-01'),"
        " u.DATA_STATUS(), u.CHART_SERIES('rs')]\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n")
    env = dict(os.environ, XLSMALLCAP_CACHE_DIR=tempfile.mkdtemp())
    out = subprocess.run([sys.executable, "-c", code], check=True, env=env,
                         capture_output=True, text=True).stdout
    mb = int(out.split()[-1]) / 1024
    row("peak RSS: all data loaded, every UDF once", f"{mb:.0f} MB", "-", "-", "<= 250 MB")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = ap.parse_args()
    rep = 5 if args.quick else 15
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, {platform.system()} {platform.release()}")
    print(f"{'figure':<44} {'value':>12} {'baseline':>12} {'ratio':>8}   target")
    bench_udfs(rep)
    bench_whole_column(rep)
    bench_verdict(rep, 300 if args.quick else 1000)
    bench_import(max(rep, 11))
    bench_refresh(3 if args.quick else 5)
    bench_export(3)
    bench_batch(20)
    bench_memory()


if __name__ == "__main__":
    main()
