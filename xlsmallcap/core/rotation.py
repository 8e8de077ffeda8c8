"""Dave Nadig's rotation test as a number (0-100) and a verdict with its reason.

A real rotation needs small caps to outperform large caps consistently for two to three months;
a short surge that fades is a diversification trade or "bobbling". See docs/methodology.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from xlsmallcap.core.evidence import (
    MIN_DAYS,
    RULE,
    STATES,
    Evidence,
    relative_log_returns,
    rotation_evidence,
)
from xlsmallcap.core.frame import AnalysisError, aligned, check_window
from xlsmallcap.core.relative import persistence, relative_performance, total_return

#: Component weights of the score (sum to 1): persistence is the heart of the test.
WEIGHTS = {"persistence": 0.45, "magnitude": 0.25, "breadth": 0.15, "funding": 0.15}
#: Relative outperformance over the lookback that earns the full magnitude component.
FULL_MAGNITUDE = 0.10
#: Large-cap growth return over the sub-window that maps to funding 0 (rising) / 1 (falling).
FUNDING_SPAN = 0.05
VERDICTS = STATES

@dataclass(frozen=True)
class RotationResult:
    """The score, the verdict with its evidence, and every component, for one ``as_of`` date.

    ``p_value`` is the one-sided p-value that small caps lead beyond chance (both the 63-day
    relative return and persistence, see :mod:`xlsmallcap.core.evidence`); ``p_large`` the same
    for large caps; ``since`` the first day of the current verdict inside the warm-up.
    """

    as_of: pd.Timestamp
    score: float
    verdict: str
    reason: str
    persistence: float
    magnitude: float  # the 0-1 magnitude component; the raw figure is rel_lookback
    breadth: float
    funding: float
    rel_lookback: float
    rel_short: float
    growth_return: float
    beaten: int
    benchmarks: int
    p_value: float
    p_large: float
    since: pd.Timestamp
    evidence: Evidence
    to_rotation: str


def funding_score(growth_return: float) -> float:
    """Is money leaving large-cap growth? ``clip(0.5 - r_growth / (2 * 0.05), 0, 1)``.

    ``r_growth`` is the large-cap growth return over the short window: -5% or worse gives 1
    (money leaving growth, the rotation story), +5% or better gives 0 (new cash lifting
    everything, the diversification story). NaN in, NaN out.
    """
    if not np.isfinite(growth_return):
        return np.nan
    return float(np.clip(0.5 - growth_return / (2 * FUNDING_SPAN), 0.0, 1.0))


def magnitude_score(rel: float) -> float:
    """``clip(rel / 10%, 0, 1)``: 10% relative outperformance earns full marks; NaN stays NaN."""
    if not np.isfinite(rel):
        return np.nan
    return float(np.clip(rel / FULL_MAGNITUDE, 0.0, 1.0))


def score_components(persist: float, rel: float, beaten_share: float, funding: float) -> float:
    """``100 * (0.45 P + 0.25 clip(rel / 10%, 0, 1) + 0.15 B + 0.15 F)``; NaN if any is NaN."""
    parts = [persist, rel, beaten_share, funding]
    if not all(np.isfinite(parts)):
        return np.nan
    return 100.0 * (WEIGHTS["persistence"] * persist + WEIGHTS["magnitude"] * magnitude_score(rel)
                    + WEIGHTS["breadth"] * beaten_share + WEIGHTS["funding"] * funding)


def _pct(p: float) -> str:
    return f"p={p:.3f}" if np.isfinite(p) else "p=n/a"


def to_rotation(e: Evidence, beaten: int, n: int) -> str:
    """What would turn the current verdict into a Rotation, in words."""
    if not e.verdict:
        return f"needs {MIN_DAYS} days of common history"
    if e.verdict == "Rotation":
        return (f"holds until p rises to {RULE.exit_p:.2f} or small caps fall behind "
                f"significantly over 21 days (now {_pct(e.p_small)})")
    need = -(-2 * n // 3)
    parts = [f"p < {RULE.enter_p:.2f} on {RULE.confirm_days} days in a row (now {_pct(e.p_small)})"]
    if beaten < need:
        parts.append(f"{need} of {n} benchmarks beaten over 63 days (now {beaten})")
    return "needs " + " and ".join(parts)


def _reason(e: Evidence, rel_lb: float, rel_short: float, beaten: int, n: int, lookback: int,
            short: int) -> str:
    if not e.verdict:
        return f"not enough history for the rotation test (needs {MIN_DAYS} common days)"
    why = {
        "Rotation": "small caps lead beyond chance",
        "Emerging rotation": "a small-cap lead is building but is not yet beyond chance",
        "Diversification": "a significant one-month surge, not a three-month lead",
        "Bobbling": "no lead that chance would not explain",
        "Large-cap leadership": "large caps lead beyond chance",
    }[e.verdict]
    since = (f"since before {e.since:%Y-%m-%d}" if e.held_all_warm_up
             else f"since {e.since:%Y-%m-%d}")
    p = e.p_large if e.verdict == "Large-cap leadership" else e.p_small
    days = int(round(e.persistence * 63))
    return (f"{e.verdict} {since}: {why} ({_pct(p)}; ahead on {days}/63 days, "
            f"{rel_lb:+.1%} over {lookback}d, {rel_short:+.1%} over {short}d, "
            f"{beaten}/{n} beaten)")


def rotation(small: pd.Series, benchmarks: Mapping[str, pd.Series], growth: pd.Series,
             lookback: int = 63, short_window: int = 21, as_of: object = None,
             flow_percentile: float | None = None) -> RotationResult:
    """Rotation score (0-100), verdict and components for ``small`` against ``benchmarks``.

    * persistence P: mean over benchmarks of :func:`persistence` (share of the last ``lookback``
      days on which small caps led over the trailing ``short_window``);
    * magnitude: mean over benchmarks of the ``lookback``-day relative performance;
    * breadth B: share of benchmarks beaten over the lookback;
    * funding F: where money-fund flows published by ``as_of`` exist, ``1 - flow_percentile``
      (the percentile of the last 13 weeks' net flow into money funds among all past 13-week
      windows: money leaving money funds is funding for a rotation); otherwise
      :func:`funding_score` of ``growth`` (large-cap growth, e.g. QQQ) over the short window.

    Score: :func:`score_components` (descriptive). The verdict and its p-values come from
    :func:`xlsmallcap.core.evidence.rotation_evidence` on ``small`` and ``benchmarks`` alone,
    so ``growth`` changes the score, never the verdict. All figures use data up to ``as_of``.
    With too little history the score is NaN and the verdict "".
    """
    lb = check_window(lookback, "lookback")
    sw = check_window(short_window, "short_window")
    if not benchmarks:
        raise AnalysisError("benchmarks must name at least one large-cap series")
    everything = aligned(small, growth, *benchmarks.values(), as_of=as_of)
    if everything.empty:
        raise AnalysisError("the series share no dates up to as_of")
    # The common calendar keeps every component on the same dates.
    s = everything[0]
    g = everything[1]
    bench = [everything[i + 2] for i in range(len(benchmarks))]
    pers = [persistence(s, b, lb, sw) for b in bench]
    rel_lb = [relative_performance(s, b, lb) for b in bench]
    rel_sh = [relative_performance(s, b, sw) for b in bench]
    p = float(np.mean(pers))
    r_lb = float(np.mean(rel_lb))
    r_sh = float(np.mean(rel_sh))
    beaten = int(sum(1 for r in rel_lb if np.isfinite(r) and r > 0))
    share = beaten / len(bench) if all(np.isfinite(rel_lb)) else np.nan
    g_ret = total_return(g, sw)
    f = funding_score(g_ret)
    if flow_percentile is not None and np.isfinite(flow_percentile):
        f = float(1.0 - flow_percentile)
    sc = score_components(p, r_lb, share, f)
    e = rotation_evidence(relative_log_returns(small, benchmarks, as_of))
    n = len(bench)
    return RotationResult(
        as_of=everything.index[-1], score=sc, verdict=e.verdict,
        reason=_reason(e, r_lb, r_sh, beaten, n, lb, sw),
        persistence=p, magnitude=magnitude_score(r_lb), breadth=share, funding=f, rel_lookback=r_lb,
        rel_short=r_sh, growth_return=g_ret, beaten=beaten, benchmarks=n, p_value=e.p_small,
        p_large=e.p_large, since=e.since, evidence=e, to_rotation=to_rotation(e, beaten, n))
