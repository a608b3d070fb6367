"""Wilson interval and calibration error against values worked out by hand."""

from __future__ import annotations

import math

import pytest

from desktop_app.core.lab.stats import calibration, wilson_interval


def test_wilson_interval_against_hand_computed_values() -> None:
    # 8 of 10, z = 1.96: centre (0.8 + 0.19207) / 1.38415 = 0.71673,
    # half 1.96·sqrt(0.016 + 0.0096037) / 1.38415 = 0.22658 → 0.49016, 0.94331.
    low, high = wilson_interval(8, 10)
    assert low == pytest.approx(0.49016, abs=1e-4)
    assert high == pytest.approx(0.94331, abs=1e-4)
    # 0 of 10: [0, z²/(n+z²)] = [0, 3.8415/13.8415] = [0, 0.27753].
    low, high = wilson_interval(0, 10)
    assert low == 0.0
    assert high == pytest.approx(0.27753, abs=1e-4)
    # Symmetric around 1/2 when half are right.
    low, high = wilson_interval(15, 30)
    assert low + high == pytest.approx(1.0)
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_wilson_interval_is_inside_the_unit_interval_and_narrows_with_n() -> None:
    for n in (1, 5, 30, 300):
        for k in range(0, n + 1, max(1, n // 5)):
            low, high = wilson_interval(k, n)
            assert 0.0 <= low <= k / n <= high <= 1.0
    wide_low, wide_high = wilson_interval(9, 10)
    narrow_low, narrow_high = wilson_interval(90, 100)
    assert narrow_high - narrow_low < wide_high - wide_low


def test_calibration_bins_and_ece_by_hand() -> None:
    conf = [0.95, 0.9, 0.55, 0.6, 0.25]
    right = [True, False, True, True, False]
    bins, ece = calibration(conf, right)
    # Bins: (0.2,0.3] → 0.25, acc 0; (0.5,0.6] → 0.55 and 0.6, acc 1; (0.8,0.9] → 0.9, acc 0;
    # (0.9,1.0] → 0.95, acc 1.
    assert [b[2] for b in bins] == [1, 2, 1, 1]
    assert [b[1] for b in bins] == [0.0, 1.0, 0.0, 1.0]
    assert [b[0] for b in bins] == pytest.approx([0.25, 0.575, 0.9, 0.95])
    # ECE = (1·0.25 + 2·0.425 + 1·0.9 + 1·0.05) / 5 = 2.05 / 5 = 0.41.
    assert ece == pytest.approx(0.41)


def test_calibration_of_a_perfectly_calibrated_set_is_zero() -> None:
    conf = [0.5, 0.5, 1.0, 1.0]
    bins, ece = calibration(conf, [True, False, True, True])
    assert math.isclose(ece, 0.0, abs_tol=1e-12)
    assert [b[2] for b in bins] == [2, 2]
    assert calibration([], []) == ((), 0.0)
