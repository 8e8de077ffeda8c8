"""Each decision rule pinned at its thresholds with hand-built inputs, and each label from data
built to have it: expected values written down here, never computed by the package.

The verdict's state machine takes, per day, the p-value that small caps lead (``pu``), that large
caps lead (``pdn``), the one-sided p-values of the 21-day statistic upwards (``su``) and
downwards (``sd``) and the share of benchmarks beaten (``br``). Levels (``Rule``): Rotation
entered at ``pu <= 0.05`` with ``br >= 2/3`` on 3 days running, left at ``pu >= 0.15`` or a
21-day reversal (``sd <= 0.05``); Emerging rotation at ``pu <= 0.20`` with ``su <= 0.5``, kept
while ``pu < 0.50`` and ``sd > 0.05``; Diversification at ``su <= 0.05``, kept while
``su < 0.5``; Bobbling otherwise.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from xlsmallcap.core import evidence as ev
from xlsmallcap.core import rotation as rot
from xlsmallcap.core.quadrant import quadrant, quadrant_label

ROT, EMG, DIV, BOB, LCL = ev._ROT, ev._EMG, ev._DIV, ev._BOB, ev._LCL
NEUTRAL = dict(pu=0.9, pdn=0.9, su=0.9, sd=0.9, br=0.0)


def step(state=BOB, up=0, down=0, **day):
    d = dict(NEUTRAL, **day)
    arrays = [np.array([d[k]]) for k in ("pu", "pdn", "su", "sd", "br")]
    return ev._step(state, up, down, 0, *arrays, ev.RULE)


@pytest.mark.parametrize("pu, br, counts", [
    (0.05, 2 / 3, True), (0.0501, 2 / 3, False), (0.05, 0.66, False), (0.0, 1.0, True)])
def test_a_day_counts_towards_rotation_only_at_p_005_and_two_thirds_beaten(pu, br, counts):
    assert step(up=1, pu=pu, br=br)[1] == (2 if counts else 0)


@pytest.mark.parametrize("up_before, state", [(2, ROT), (1, EMG), (0, EMG)])
def test_rotation_needs_three_days_in_a_row(up_before, state):
    # p 0.01 with the 21-day statistic not against: Emerging until the third day
    assert step(up=up_before, pu=0.01, br=1.0, su=0.5)[0] == state


@pytest.mark.parametrize("pdn, down_before, state", [(0.05, 2, LCL), (0.0501, 2, BOB),
                                                     (0.05, 1, BOB)])
def test_large_cap_leadership_mirrors_it(pdn, down_before, state):
    assert step(down=down_before, pdn=pdn)[0] == state


@pytest.mark.parametrize("pu, sd, stays", [(0.1499, 0.0501, True), (0.15, 0.0501, False),
                                           (0.1499, 0.05, False)])
def test_rotation_is_left_at_p_015_or_a_significant_reversal(pu, sd, stays):
    new = step(state=ROT, pu=pu, sd=sd)[0]
    assert (new == ROT) is stays


@pytest.mark.parametrize("pdn, su, stays", [(0.1499, 0.0501, True), (0.15, 0.0501, False),
                                            (0.1499, 0.05, False)])
def test_leadership_is_left_the_same_way(pdn, su, stays):
    new = step(state=LCL, pdn=pdn, su=su)[0]
    assert (new == LCL) is stays


@pytest.mark.parametrize("pu, su, state", [(0.20, 0.5, EMG), (0.2001, 0.5, BOB),
                                           (0.20, 0.5001, BOB)])
def test_emerging_rotation_is_entered_at_p_020_and_small_caps_ahead(pu, su, state):
    assert step(pu=pu, su=su)[0] == state


@pytest.mark.parametrize("pu, sd, state", [(0.4999, 0.0501, EMG), (0.50, 0.0501, BOB),
                                           (0.4999, 0.05, BOB)])
def test_emerging_rotation_is_kept_below_p_050_without_a_reversal(pu, sd, state):
    assert step(state=EMG, pu=pu, sd=sd)[0] == state


@pytest.mark.parametrize("state, su, new", [(BOB, 0.05, DIV), (BOB, 0.0501, BOB),
                                            (DIV, 0.4999, DIV), (DIV, 0.5, BOB)])
def test_diversification_is_a_significant_surge_kept_while_above_the_median(state, su, new):
    assert step(state=state, su=su)[0] == new


def test_rotation_takes_precedence_over_a_surge_and_leadership_over_diversification():
    assert step(up=2, pu=0.01, br=1.0, su=0.01)[0] == ROT
    assert step(down=2, pdn=0.01, su=0.01)[0] == LCL


# ----------------------------------------------------------------------------- quadrants
@pytest.mark.parametrize("ratio, momentum, label", [
    (100.0001, 100.0001, "Leading"), (100.0001, 100.0, "Weakening"), (100.0, 100.0, "Lagging"),
    (100.0, 100.0001, "Improving"), (99.0, 101.0, "Improving"), (101.0, 99.0, "Weakening"),
    (float("nan"), 101.0, ""), (101.0, float("nan"), "")])
def test_quadrant_label_at_its_boundaries(ratio, momentum, label):
    assert quadrant_label(ratio, momentum) == label


def _pair(rs: np.ndarray) -> tuple[pd.Series, pd.Series]:
    days = pd.bdate_range("2020-01-01", periods=len(rs))
    return pd.Series(100.0 * rs, index=days), pd.Series(100.0, index=days)


T = np.arange(200, dtype=float)
SHAPES = {
    # relative strength rising faster and faster: above its mean and still gaining
    "Leading": 1 + 2e-5 * T ** 2,
    # rose, now flattening: above its mean but losing ground against it
    "Weakening": 1 + 0.5 * (1 - np.exp(-T / 30)),
    # falling faster and faster
    "Lagging": 1 - 2e-5 * T ** 2,
    # fell, now flattening: below its mean but gaining
    "Improving": 1 - 0.5 * (1 - np.exp(-T / 30)),
}


@pytest.mark.parametrize("label", sorted(SHAPES))
def test_each_quadrant_from_a_series_built_to_be_in_it(label):
    small, bench = _pair(SHAPES[label])
    got, ratio, momentum = quadrant(small, bench)
    rs = SHAPES[label]
    # by hand: ratio = 100 * rs / mean of the last 63; momentum = 100 * ratio / ratio 10 ago
    r_now = 100 * rs[-1] / rs[-63:].mean()
    r_then = 100 * rs[-11] / rs[-73:-10].mean()
    assert ratio == pytest.approx(r_now, rel=1e-12)
    assert momentum == pytest.approx(100 * r_now / r_then, rel=1e-12)
    assert got == label


# ----------------------------------------------------------------------------- signs
def test_rate_sensitivity_is_positive_when_cuts_help_small_caps():
    from xlsmallcap.core.rates import rate_sensitivity

    rng = np.random.default_rng(7)
    days = pd.bdate_range("2015-01-01", periods=800)
    rate = pd.Series(3 + np.cumsum(rng.normal(0, 0.03, 800)), index=days)
    # planted: small caps gain 2% on large caps for every 1 pp the rate falls
    rel = -0.02 * rate.diff().fillna(0) + rng.normal(0, 1e-4, 800)
    large = pd.Series(100 * np.exp(np.cumsum(rng.normal(0, 0.01, 800))), index=days)
    small = large * np.exp(rel.cumsum())
    r = rate_sensitivity(small, large, {"R": rate}, window=252)[0]
    assert r.beta == pytest.approx(-0.02, abs=0.002)       # per +1 pp
    assert r.per_cut == pytest.approx(0.02, abs=0.002)     # what the cell shows: per 1 pp cut
    assert r.t < -10 and r.significant
    flipped = rate_sensitivity(large, small, {"R": rate}, window=252)[0]
    assert flipped.per_cut == pytest.approx(-0.02, abs=0.002)


# ----------------------------------------------------------------------------- score parts
@pytest.mark.parametrize("growth, expected", [(-0.05, 1.0), (-0.20, 1.0), (0.0, 0.5),
                                              (0.025, 0.25), (0.05, 0.0), (0.30, 0.0)])
def test_funding_from_large_cap_growth_where_no_flows_are_published(growth, expected):
    from xlsmallcap.core.rotation import funding_score

    assert funding_score(growth) == pytest.approx(expected, abs=1e-15)


@pytest.mark.parametrize("rel, expected", [(0.10, 1.0), (0.25, 1.0), (0.05, 0.5), (0.0, 0.0),
                                           (-0.03, 0.0)])
def test_magnitude_earns_full_marks_at_10_percent(rel, expected):
    from xlsmallcap.core.rotation import magnitude_score

    assert magnitude_score(rel) == pytest.approx(expected, abs=1e-15)


def test_missing_figures_stay_missing_in_the_score_parts_and_the_words():
    from xlsmallcap.core import rotation

    nan = float("nan")
    assert np.isnan(rotation.funding_score(nan)) and np.isnan(rotation.magnitude_score(nan))
    assert rotation._pct(nan) == "p=n/a" and rotation._pct(0.01234) == "p=0.012"


@pytest.mark.parametrize("surge_day, state, since", [
    (None, BOB, -1), (0, DIV, -1), (1, DIV, 1), (60, DIV, 60), (ev.WARM_UP, DIV, ev.WARM_UP)])
def test_since_is_the_warm_up_day_the_state_was_entered(surge_day, state, since):
    """Each verdict replays the warm-up (``WARM_UP + 1`` days) from Bobbling. A 21-day surge on
    one day (``su`` 0.01) makes it Diversification, kept while ``su < 0.5``; ``since`` is that
    day's place in the warm-up, -1 when the state held from the first day."""
    n = ev.WARM_UP + 1
    su = np.full(n, 0.3)   # not a surge by itself, but low enough to keep Diversification
    if surge_day is not None:
        su[:surge_day] = 0.9
        su[surge_day] = 0.01
    else:
        su[:] = 0.9
    inputs = (np.full(n, 0.9), np.full(n, 0.9), su, np.full(n, 0.9), np.zeros(n))
    assert ev._runs([n - 1], tuple(v.tolist() for v in inputs), ev.RULE) == [(state, since)]


def _evidence(verdict: str, **kw) -> ev.Evidence:
    base = dict(as_of=pd.Timestamp("2024-07-16"), verdict=verdict,
                since=pd.Timestamp("2024-07-11"), held_all_warm_up=False, p_small=0.0123,
                p_return=0.01, p_persistence=0.0123, p_large=0.9, p_short_up=0.02,
                p_short_down=0.98, lookback_z=2.5, persistence=40 / 63, breadth=1.0,
                null_days=756, null_end=pd.Timestamp("2024-06-28"))
    return ev.Evidence(**dict(base, **kw))


@pytest.mark.parametrize("verdict, why", [
    ("Rotation", "small caps lead beyond chance"),
    ("Emerging rotation", "a small-cap lead is building but is not yet beyond chance"),
    ("Diversification", "a significant one-month surge, not a three-month lead"),
    ("Bobbling", "no lead that chance would not explain"),
])
def test_each_verdict_gives_its_reason_in_words(verdict, why):
    got = rot._reason(_evidence(verdict), 0.051, -0.004, 2, 3, 63, 21)
    assert got == f"{verdict} since 2024-07-11: {why} (p=0.012; ahead on 40/63 days, +5.1% " \
        "over 63d, -0.4% over 21d, 2/3 beaten)"


def test_large_cap_leadership_quotes_the_large_cap_p_value_and_an_old_state_its_start():
    e = _evidence("Large-cap leadership", p_large=0.004, held_all_warm_up=True,
                  since=pd.Timestamp("2024-01-16"), persistence=3 / 63)
    assert rot._reason(e, -0.08, -0.02, 0, 3, 63, 21) == (
        "Large-cap leadership since before 2024-01-16: large caps lead beyond chance "
        "(p=0.004; ahead on 3/63 days, -8.0% over 63d, -2.0% over 21d, 0/3 beaten)")
    assert rot._reason(_evidence(""), 0.0, 0.0, 0, 3, 63, 21) == \
        "not enough history for the rotation test (needs 906 common days)"


@pytest.mark.parametrize("verdict, beaten, n, text", [
    ("Rotation", 3, 3, "holds until p rises to 0.15 or small caps fall behind significantly "
                       "over 21 days (now p=0.012)"),
    ("Emerging rotation", 2, 3, "needs p < 0.05 on 3 days in a row (now p=0.012)"),
    ("Bobbling", 1, 3, "needs p < 0.05 on 3 days in a row (now p=0.012) and 2 of 3 benchmarks "
                       "beaten over 63 days (now 1)"),
    ("Bobbling", 0, 1, "needs p < 0.05 on 3 days in a row (now p=0.012) and 1 of 1 benchmarks "
                       "beaten over 63 days (now 0)"),
    ("", 0, 3, "needs 906 days of common history"),
])
def test_what_would_make_it_a_rotation_in_words(verdict, beaten, n, text):
    assert rot.to_rotation(_evidence(verdict), beaten, n) == text


def test_rate_sensitivity_counts_only_steps_the_rate_reaches_and_defaults_to_252_days():
    """A rate that starts half-way through the window gives a slope from the steps it covers,
    and n says how many; daily steps over the default window are 252 changes."""
    from xlsmallcap.core.rates import rate_sensitivity

    rng = np.random.default_rng(11)
    days = pd.bdate_range("2015-01-01", periods=600)
    rate = pd.Series(3 + np.cumsum(rng.normal(0, 0.03, 600)), index=days)
    large = pd.Series(100 * np.exp(np.cumsum(rng.normal(0, 0.01, 600))), index=days)
    small = large * np.exp((-0.02 * rate.diff().fillna(0) + rng.normal(0, 1e-3, 600)).cumsum())
    late = rate.iloc[-126:]                     # known only for the last 126 days
    r = rate_sensitivity(small, large, {"R": late}, window=252, step=1)[0]
    assert r.observations == 125                # the 125 daily changes it covers, not 252
    x = np.diff(np.log(small.to_numpy()[-126:]) - np.log(large.to_numpy()[-126:]))
    dy = np.diff(late.to_numpy())
    assert r.beta == pytest.approx(np.polyfit(dy, x, 1)[0], rel=1e-9)
    assert rate_sensitivity(small, large, {"R": rate}, step=1)[0].observations == 252
