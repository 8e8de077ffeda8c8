"""The rule that moves a chart's fixed axis minimum with refreshed data."""

from __future__ import annotations

import pytest

from xlsmallcap.workbook.axes import nice_floor


@pytest.mark.parametrize(("lo", "hi", "expected"), [
    (1340.0, 2290.0, 1200.0),    # money funds: step 200, 5% of the range below the low
    (0.5, 0.9, 0.4),             # range 0.4: step 0.1; 0.48 rounds down to 0.4
    (95.0, 106.0, 90.0),         # an index around 100: step 5
    (-0.06, 0.12, -0.1),         # negative data: step 0.05, below -0.069
    (0.0, 10.0, 0.0),            # data from zero: never below zero
    (3.0, 3.0, 2.9),             # one value: a range of 10% of it, step 0.1
    (0.0, 0.0, 0.0),             # all zero
])
def test_nice_floor(lo, hi, expected):
    assert nice_floor(lo, hi) == pytest.approx(expected)


@pytest.mark.parametrize(("lo", "hi"), [(1340.0, 2290.0), (-5.0, 7.0), (0.001, 0.002),
                                        (1e6, 1.3e6), (99.9, 100.1)])
def test_nice_floor_is_below_the_data_and_close_to_it(lo, hi):
    low = nice_floor(lo, hi)
    assert low <= lo
    assert lo - low <= 0.5 * (hi - lo)
