"""Dave Nadig's rotation test as a number (0-100) and a verdict with its reason.

A real rotation needs small caps to outperform large caps consistently for two to three months;
a short surge that fades is a diversification trade or "bobbling". See docs/methodology.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from xlsmallcap.core.frame import AnalysisError, aligned, check_window
from xlsmallcap.core.relative import persistence, relative_performance, total_return

#: Component weights of the score (sum to 1): persistence is the heart of the test.
WEIGHTS = {"persistence": 0.45, "magnitude": 0.25, "breadth": 0.15, "funding": 0.15}
#: Relative outperformance over the lookback that earns the full magnitude component.
FULL_MAGNITUDE = 0.10
#: Large-cap growth return over the sub-window that maps to funding 0 (rising) / 1 (falling).
FUNDING_SPAN = 0.05
#: Verdict thresholds (justified in docs/methodology.md by the episode table).
ROTATION_PERSISTENCE = 0.70
EMERGING_PERSISTENCE = 0.40
EMERGING_FUNDING = 0.35
LEADERSHIP_PERSISTENCE = 0.30
#: "Ahead now" means more than +0.5% over the short window (a dead band against noise).
SHORT_DEADBAND = 0.005

VERDICTS = ("Rotation", "Emerging rotation", "Diversification", "Bobbling",
            "Large-cap leadership")


@dataclass(frozen=True)
class RotationResult:
    """The score, the verdict and every component, for one ``as_of`` date."""

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


def funding_score(growth_return: float) -> float:
    """Is money leaving large-cap growth? ``clip(0.5 - r_growth / (2 * 0.05), 0, 1)``.

    ``r_growth`` is the large-cap growth return over the short window: -5% or worse gives 1
    (money leaving growth, the rotation story), +5% or better gives 0 (new cash lifting
    everything, the diversification story). NaN in, NaN out.
    """
    if not np.isfinite(growth_return):
        return float("nan")
    return float(np.clip(0.5 - growth_return / (2 * FUNDING_SPAN), 0.0, 1.0))


def magnitude_score(rel: float) -> float:
    """``clip(rel / 10%, 0, 1)``: 10% relative outperformance earns full marks; NaN stays NaN."""
    if not np.isfinite(rel):
        return float("nan")
    return float(np.clip(rel / FULL_MAGNITUDE, 0.0, 1.0))


def score_components(persist: float, rel: float, beaten_share: float, funding: float) -> float:
    """``100 * (0.45 P + 0.25 clip(rel / 10%, 0, 1) + 0.15 B + 0.15 F)``; NaN if any is NaN."""
    parts = [persist, rel, beaten_share, funding]
    if not all(np.isfinite(parts)):
        return float("nan")
    return 100.0 * (WEIGHTS["persistence"] * persist + WEIGHTS["magnitude"] * magnitude_score(rel)
                    + WEIGHTS["breadth"] * beaten_share + WEIGHTS["funding"] * funding)


def verdict(persist: float, rel_lookback: float, rel_short: float, beaten_share: float,
            funding: float) -> str:
    """The verdict from the components, first matching rule wins.

    1. Rotation: persistence >= 0.70, ahead over the lookback, beating >= 2/3 of benchmarks.
    "Ahead now" means a short-window relative return above +0.5%.

    2. Emerging rotation: ahead now and over the lookback, persistence >= 0.40,
       and large-cap growth not rallying (funding >= 0.35).
    3. Diversification: ahead now, but not yet persistent or everything is rising.
    4. Bobbling: behind now, but led at times (persistence >= 0.30) or still ahead over the
       lookback: a surge that faded.
    5. Large-cap leadership: otherwise.
    Returns "" when a component is NaN (not enough data).
    """
    if not all(np.isfinite([persist, rel_lookback, rel_short, beaten_share, funding])):
        return ""
    if persist >= ROTATION_PERSISTENCE and rel_lookback > 0 and beaten_share >= 2 / 3 - 1e-9:
        return "Rotation"
    ahead_now = rel_short > SHORT_DEADBAND
    if ahead_now and rel_lookback > 0 and persist >= EMERGING_PERSISTENCE \
            and funding >= EMERGING_FUNDING:
        return "Emerging rotation"
    if ahead_now:
        return "Diversification"
    if persist >= LEADERSHIP_PERSISTENCE or rel_lookback > 0:
        return "Bobbling"
    return "Large-cap leadership"


def _reason(v: str, persist: float, rel_lb: float, rel_short: float, beaten: int, n: int,
            growth: float, lookback: int, short: int) -> str:
    if not v:
        return "not enough history for the rotation test"
    days = int(round(persist * lookback))
    lead = (f"small caps led on {days} of the last {lookback} days, "
            f"{rel_lb:+.1%} vs large caps over {lookback}d, {rel_short:+.1%} over {short}d, "
            f"beating {beaten}/{n} benchmarks; large-cap growth {growth:+.1%} over {short}d")
    why = {
        "Rotation": "persistent, broad outperformance",
        "Emerging rotation": "outperformance is building but not yet consistent for three months",
        "Diversification": "a recent surge, not yet persistent",
        "Bobbling": "an earlier surge has faded",
        "Large-cap leadership": "large caps are leading",
    }[v]
    return f"{v}: {why} ({lead})"


def rotation(small: pd.Series, benchmarks: Mapping[str, pd.Series], growth: pd.Series,
             lookback: int = 63, short_window: int = 21, as_of: object = None
             ) -> RotationResult:
    """Rotation score (0-100), verdict and components for ``small`` against ``benchmarks``.

    * persistence P: mean over benchmarks of :func:`persistence` (share of the last ``lookback``
      days on which small caps led over the trailing ``short_window``);
    * magnitude: mean over benchmarks of the ``lookback``-day relative performance;
    * breadth B: share of benchmarks beaten over the lookback;
    * funding F: :func:`funding_score` of ``growth`` (large-cap growth, e.g. QQQ) over the short
      window.

    Score: :func:`score_components`. All figures use data up to ``as_of`` on the dates the
    series share. With too little history the score is NaN and the verdict "".
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
    share = beaten / len(bench) if all(np.isfinite(rel_lb)) else float("nan")
    g_ret = total_return(g, sw)
    f = funding_score(g_ret)
    sc = score_components(p, r_lb, share, f)
    v = verdict(p, r_lb, r_sh, share, f)
    return RotationResult(
        as_of=everything.index[-1], score=sc, verdict=v,
        reason=_reason(v, p, r_lb, r_sh, beaten, len(bench), g_ret, lb, sw),
        persistence=p, magnitude=magnitude_score(r_lb), breadth=share, funding=f, rel_lookback=r_lb,
        rel_short=r_sh, growth_return=g_ret, beaten=beaten, benchmarks=len(bench))
