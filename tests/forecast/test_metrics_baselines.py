"""Metrics and baselines against numbers worked by hand."""

import numpy as np
import pytest

from shopfloor.forecast import (
    croston,
    mase,
    moving_average,
    naive,
    quantile_loss,
    seasonal_naive,
    smape,
    tsb,
)


def test_mase_naive_scaling():
    # in-sample naive errors |3-1|, |2-3|, |4-2| -> mean 5/3; forecast MAE (1 + 2)/2 = 1.5
    assert mase([5, 6], [4, 8], insample=[1, 3, 2, 4]) == pytest.approx(0.9)


def test_mase_seasonal_scaling():
    # in-sample seasonal (m=2) errors |2-1|, |4-3| -> mean 1
    assert mase([5, 6], [4, 8], insample=[1, 3, 2, 4], season_length=2) == pytest.approx(1.5)


def test_mase_undefined_scale():
    with pytest.raises(ValueError, match="undefined"):
        mase([1.0], [1.0], insample=[2, 2, 2])


def test_smape_m4_convention():
    # terms: 0/0 -> 0, 2*1/(2+1) = 2/3, 0 -> mean 2/9, times 100
    assert smape([0, 2, 4], [0, 1, 4]) == pytest.approx(200 / 9)
    assert smape([0], [2]) == pytest.approx(200.0)
    assert smape([0, 0], [0, 0]) == 0.0


def test_quantile_loss():
    # errors 2 and -3: 0.9*2 = 1.8 and (0.9-1)*(-3) = 0.3 -> mean 1.05
    assert quantile_loss([10, 10], [8, 13], 0.9) == pytest.approx(1.05)
    # q = 0.5 is half the mean absolute error
    assert quantile_loss([10, 10], [8, 13], 0.5) == pytest.approx(1.25)
    with pytest.raises(ValueError, match="quantile"):
        quantile_loss([1], [1], 1.0)


def test_metrics_reject_mismatched_shapes():
    with pytest.raises(ValueError, match="equal length"):
        smape([1, 2], [1])


def test_naive_seasonal_naive_moving_average():
    np.testing.assert_array_equal(naive([1, 2, 3], 2), [3, 3])
    np.testing.assert_array_equal(seasonal_naive([1, 2, 3, 4, 5], 5, 2), [4, 5, 4, 5, 4])
    np.testing.assert_array_equal(seasonal_naive([1, 2, 3], 2, 1), [3, 3])
    np.testing.assert_array_equal(moving_average([1, 2, 3, 4], 3, 2), [3.5, 3.5, 3.5])


def test_croston_by_hand():
    # demands 3 (period 1) and 5 (period 4): z0 = 3, p0 = 2;
    # update: z = 3 + 0.5 (5 - 3) = 4, p = 2 + 0.5 (3 - 2) = 2.5 -> 4 / 2.5 = 1.6
    np.testing.assert_allclose(croston([0, 3, 0, 0, 5, 0], 3, alpha=0.5), [1.6] * 3)


def test_tsb_by_hand():
    # z0 = 3, d0 = 1/2; then d: 0.4, 0.32, 0.456 (z = 4), 0.3648 -> 0.3648 * 4
    np.testing.assert_allclose(tsb([0, 3, 0, 0, 5, 0], 2, alpha=0.5, beta=0.2), [1.4592] * 2)


def test_intermittent_without_demand_forecast_zero():
    np.testing.assert_array_equal(croston([0, 0, 0], 2), [0, 0])
    np.testing.assert_array_equal(tsb([0, 0, 0], 2), [0, 0])


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: naive([], 1), "at least 1"),
        (lambda: naive([1.0], 0), "horizon"),
        (lambda: seasonal_naive([1, 2], 1, 3), "at least 3"),
        (lambda: moving_average([1, 2], 1, 0), "window"),
        (lambda: croston([1, 2], 1, alpha=0.0), "alpha"),
        (lambda: tsb([1, 2], 1, beta=1.5), "beta"),
    ],
)
def test_baseline_argument_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()
