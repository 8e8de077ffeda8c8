"""The mutation figure from a random sample of mutants, with its 95% interval (docs/testing.md).

mutmut makes about 7,900 mutants of the configured scope; on a 2-core machine they take most of
a day. A simple random sample, stratified by file, estimates the share that survives in well
under an hour, and the Wilson interval says how far the estimate can be trusted::

    XLSMALLCAP_TEST_RAW=$PWD/../shared/data/raw .venv/bin/python tests/mutation_sample.py --n 400

Run from the project folder. The first step has mutmut make every mutant and record which tests
reach each function (it mutates a copy under ``mutants/``, never the source); the second runs the
sampled mutants; the third runs each time-out again with a longer wall limit (see
:func:`recheck`); the last reads the results and prints the figure. A mutant that no test
reaches counts as a survivor. ``--exclude tests/mutation-sample-2026.txt --seed 2027`` draws a
sample without the mutants of the first one, against which tests were written: the figure to
report.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import subprocess
import sys
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

#: A small function whose mutants are quick to run: running them makes mutmut generate all
#: mutants and collect which tests reach which function.
FIRST = "xlsmallcap.core.rotation.x_funding_score__mutmut_*"
#: mutmut's statuses (``mutmut.stats.status_by_exit_code``) counted each way.
KILLED = ("killed", "timeout")
SURVIVED = ("survived", "no tests")


def mutmut(*args: str) -> None:
    exe = Path(sys.executable).with_name("mutmut")
    run = subprocess.run([str(exe), *args])
    if run.returncode != 0:
        sys.exit(f"mutmut {args[0]} failed (exit {run.returncode})")


def all_results(root: Path) -> dict[str, int | None]:
    out: dict[str, int | None] = {}
    for meta in sorted((root / "mutants").rglob("*.py.meta")):
        out.update(json.loads(meta.read_text())["exit_code_by_key"])
    return out


def module_of(name: str) -> str:
    return name.split(".xǁ")[0] if ".xǁ" in name else name.split(".x_")[0]


def draw(names: list[str], n: int, seed: int) -> list[str]:
    """``n`` names drawn without replacement, each module in proportion to its mutants."""
    by_module: dict[str, list[str]] = defaultdict(list)
    for name in sorted(names):
        by_module[module_of(name)].append(name)
    rng = random.Random(seed)
    share = n / len(names)
    picked: list[str] = []
    for module in sorted(by_module):
        group = by_module[module]
        picked += rng.sample(group, min(len(group), max(1, round(share * len(group)))))
    return picked


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a proportion k/n (95% for z = 1.96)."""
    if n == 0:
        return (float("nan"), float("nan"))
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (centre - half, centre + half)


def recheck(root: Path, names: list[str], workers: int) -> dict[str, str]:
    """Run each timed-out mutant's tests again, directly, with a wall limit of three times their
    recorded time plus 60 s: mutmut's CPU limit (``timeout_multiplier``) also stops mutants
    whose tests merely run slower under mutation, and those are mostly survivors. The answer
    (``survived``, ``killed`` or ``timeout``: a real loop, a kill) is kept in
    ``mutants/recheck.json``."""
    from mutmut.utils.format_utils import mangled_name_from_mutant_name

    path = root / "mutants" / "recheck.json"
    done: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    stats = json.loads((root / "mutants" / "mutmut-stats.json").read_text())
    tests, took = stats["tests_by_mangled_function_name"], stats["duration_by_test"]

    def one(name: str) -> tuple[str, str]:
        ids = sorted(tests.get(mangled_name_from_mutant_name(name), []),
                     key=lambda t: took.get(t, 0.0))
        limit = 3 * sum(took.get(t, 0.0) for t in ids) + 60
        env = dict(os.environ, MUTANT_UNDER_TEST=name)
        try:
            run = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p",
                                  "no:cacheprovider", "-m", "not another_process", *ids],
                                 cwd=root / "mutants", env=env, capture_output=True,
                                 timeout=limit)
            answer = "survived" if run.returncode == 0 else "killed"
        except subprocess.TimeoutExpired:
            answer = "timeout"
        print(f"recheck {answer:9} {name}", flush=True)
        return name, answer

    with ThreadPoolExecutor(workers) as pool:
        for name, answer in pool.map(one, [n for n in names if n not in done]):
            done[name] = answer
            path.write_text(json.dumps(done, indent=1, sort_keys=True) + "\n")
    return done


def report(sample: list[str], results: dict[str, int | None],
           rechecked: dict[str, str] | None = None) -> str:
    from mutmut.stats import status_by_exit_code

    rows, survivors = defaultdict(lambda: [0, 0]), []
    for name in sample:
        status = status_by_exit_code[results.get(name)]
        if status == "timeout" and rechecked and name in rechecked:
            status = rechecked[name]
        if status in SURVIVED:
            rows[module_of(name)][1] += 1
            survivors.append(name)
        elif status in KILLED:
            rows[module_of(name)][0] += 1
    lines = [f"{'module':34} {'run':>4} {'survived':>8}"]
    for module in sorted(rows):
        killed, survived = rows[module]
        lines.append(f"{module:34} {killed + survived:4d} {survived:8d}")
    n = sum(k + s for k, s in rows.values())
    s = len(survivors)
    lo, hi = wilson(s, n)
    lines.append(f"survived {s} of {n} sampled mutants with a result: {s / max(n, 1):.1%} "
                 f"(95% interval {lo:.1%} to {hi:.1%}); {len(sample) - n} without a result")
    if rechecked is not None:
        again = [rechecked[x] for x in sample if x in rechecked]
        lines.append(f"time-outs run again with a longer limit: {len(again)} "
                     f"({again.count('survived')} survived, {again.count('killed')} killed, "
                     f"{again.count('timeout')} still over the limit, counted as killed)")
    lines += ["survivors:"] + [f"  {name}" for name in sorted(survivors)]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=400, help="mutants to sample (default 400)")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--exclude", type=Path, metavar="FILE", action="append", default=[],
                    help="leave out the mutants named in FILE (one per line; may be repeated), "
                    "e.g. tests/mutation-sample-2026.txt, a sample tests were written against: "
                    "the figure left is one they were not")
    ap.add_argument("--max-children", default="2")
    ap.add_argument("--report-only", action="store_true", help="read the results, run nothing")
    ap.add_argument("--write-list", type=Path, metavar="FILE",
                    help="write the drawn mutants' names to FILE (for the next --exclude)")
    ap.add_argument("--rerun", action="store_true", help="run sampled mutants that have a "
                    "result again (after the tests changed)")
    ap.add_argument("--no-recheck", action="store_true", help="count time-outs as mutmut does "
                    "(killed) instead of running them again with a longer limit")
    a = ap.parse_args()
    root = Path.cwd()
    if not a.report_only and not all_results(root):
        mutmut("run", "--max-children", a.max_children, FIRST)
    results = all_results(root)
    names = list(results)
    seen = {n for f in a.exclude for n in f.read_text().split()}
    names = [n for n in names if n not in seen]
    sample = draw(names, a.n, a.seed)
    if a.write_list:
        a.write_list.write_text("\n".join(sample) + "\n")
    # mutmut runs a mutant it is named again even when it has a result: name only the rest
    todo = [name for name in sample if results[name] is None or a.rerun]
    if not a.report_only and todo:
        mutmut("run", "--max-children", a.max_children, *todo)
    results = all_results(root)
    rechecked: dict[str, str] | None = None
    if not a.no_recheck:
        from mutmut.stats import status_by_exit_code

        timeouts = [n for n in sample if status_by_exit_code[results.get(n)] == "timeout"]
        rechecked = recheck(root, [] if a.report_only else timeouts, int(a.max_children))
    text = report(sample, results, rechecked)
    (root / "mutants" / "sample-report.txt").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
