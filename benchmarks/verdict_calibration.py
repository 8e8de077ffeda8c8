"""How the verdict's levels were chosen: false Rotation rate on noise, stability on 1926-1999.

    python benchmarks/verdict_calibration.py [--paths 1500]

For each candidate rule (entry p-value, confirmation days, exit p-value) it prints

* the share of driftless noise pairs (random walks with IWM/SPY-like volatility and correlation,
  no relative drift) that end in Rotation, through the same evidence function the product uses;
* changes per year and median run of the verdict on the Fama-French size pair (three smallest
  deciles vs the largest decile) over 1926-1999, the fitting period;

and picks the rule that decides most often (share of 1926-1999 days in Rotation or Large-cap
leadership) among those with noise Rotation <= 4% (a margin under the 5% target), at most 6
changes a year and a median run of at least 15 days. 2000 onwards is never looked at here.
"""

from __future__ import annotations

import argparse
import itertools
import time

import numpy as np
import pandas as pd

from xlsmallcap import api
from xlsmallcap.core.evidence import (
    ROTATION,
    Rule,
    evidence_path,
    relative_log_returns,
    rotation_evidence,
)
from xlsmallcap.core.track_record import stability, verdict_series
from xlsmallcap.data.store import use_embedded_data

#: Daily log-return covariance of (small, SPY, QQQ, DIA)-like legs: vols 1.5/1.2/1.4/1.1%.
VOLS = np.array([0.015, 0.012, 0.014, 0.011])
CORR = np.array([[1.0, 0.85, 0.80, 0.82], [0.85, 1.0, 0.92, 0.95],
                 [0.80, 0.92, 1.0, 0.85], [0.82, 0.95, 0.85, 1.0]])


def noise_pairs(paths: int, days: int, seed: int):
    """Yield (small, {SPY, QQQ, DIA}) price series with no relative drift."""
    rng = np.random.default_rng(seed)
    chol = np.linalg.cholesky(CORR * np.outer(VOLS, VOLS))
    idx = pd.bdate_range("2001-01-02", periods=days + 1)
    for _ in range(paths):
        r = rng.standard_normal((days, 4)) @ chol.T
        p = 100 * np.exp(np.vstack([np.zeros((1, 4)), np.cumsum(r, axis=0)]))
        cols = [pd.Series(p[:, i], index=idx) for i in range(4)]
        yield cols[0], dict(zip(("SPY", "QQQ", "DIA"), cols[1:], strict=True))


def noise_rotation_rate(rule: Rule, paths: int, days: int = 1100, seed: int = 11) -> float:
    hits = 0
    for small, bench in noise_pairs(paths, days, seed):
        hits += rotation_evidence(relative_log_returns(small, bench), rule).verdict == ROTATION
    return hits / paths


def ff_pair():
    st = use_embedded_data()
    small, large = api.ff_size_pair(st)
    return relative_log_returns(small, {"FF_ME_HI10": large})


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--paths", type=int, default=1500)
    args = ap.parse_args()
    x = ff_pair()
    rows = []
    grid = itertools.product((0.05, 0.03), (1, 3, 5), (0.15, 0.25, 0.50))
    print(f"{'enter':>6} {'confirm':>7} {'exit':>5} | {'noise Rot':>9} | "
          f"{'chg/yr':>6} {'median':>6} {'decided':>7}  (FF 1926-1999)")
    for enter, confirm, leave in grid:
        rule = Rule(enter_p=enter, confirm_days=confirm, exit_p=leave)
        t0 = time.perf_counter()
        noise = noise_rotation_rate(rule, args.paths)
        v = verdict_series(evidence_path(x, end="1999-12-31", rule=rule))
        chg, med, _ = stability(v)
        decided = float(v.isin(["Rotation", "Large-cap leadership"]).mean())
        ok = noise <= 0.04 and chg <= 6 and med >= 15
        rows.append((ok, decided, rule))
        print(f"{enter:6.2f} {confirm:7d} {leave:5.2f} | {noise:9.1%} | {chg:6.2f} {med:6.1f} "
              f"{decided:7.1%}  {'ok' if ok else '--'}  ({time.perf_counter() - t0:.0f} s)",
              flush=True)
    best = max((r for r in rows if r[0]), key=lambda r: r[1], default=None)
    print("chosen:", best[2] if best else "none meets the criteria")


if __name__ == "__main__":
    main()
