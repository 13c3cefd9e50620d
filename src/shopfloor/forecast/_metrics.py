"""Forecast accuracy: MASE, sMAPE (M4 convention) and the quantile (pinball) loss.

All take the actual values and the forecasts as equal-length 1-D arrays.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def _pair(actual: ArrayLike, forecast: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(actual, dtype=np.float64)
    f = np.asarray(forecast, dtype=np.float64)
    if y.ndim != 1 or f.shape != y.shape:
        raise ValueError(
            f"actual and forecast must be 1-D of equal length, got {y.shape} and {f.shape}"
        )
    if len(y) == 0:
        raise ValueError("actual and forecast are empty")
    return y, f


def mase(
    actual: ArrayLike, forecast: ArrayLike, insample: ArrayLike, season_length: int = 1
) -> float:
    """Mean absolute scaled error (Hyndman & Koehler 2006).

    The mean absolute error of the forecast divided by the in-sample mean absolute
    error of the seasonal naive forecast, ``mean_t |y_t - y_{t-m}|`` over the
    training history; ``m = 1`` scales by the naive (random-walk) forecast. Values
    below 1 beat that in-sample benchmark.

    Reference: R. J. Hyndman, A. B. Koehler, "Another look at measures of forecast
    accuracy", International Journal of Forecasting 22(4), 679-688, 2006.

    Args:
        actual: Observed values of the forecast periods.
        forecast: Forecasts of the same periods.
        insample: The training history the scale is computed on, oldest first.
        season_length: Season length ``m`` of the scaling forecast.

    Returns:
        The MASE.

    Raises:
        ValueError: If the history is shorter than ``m + 1`` or the scale is 0 (a
            history that repeats itself exactly every ``m`` periods).
    """
    y, f = _pair(actual, forecast)
    history = np.asarray(insample, dtype=np.float64)
    if season_length < 1:
        raise ValueError(f"season_length must be at least 1, got {season_length}")
    if history.ndim != 1 or len(history) <= season_length:
        raise ValueError(
            f"insample must be 1-D with more than season_length={season_length} values, "
            f"got shape {history.shape}"
        )
    scale = float(np.mean(np.abs(history[season_length:] - history[:-season_length])))
    if scale == 0.0:
        raise ValueError("MASE is undefined: the in-sample seasonal naive error is 0")
    return float(np.mean(np.abs(y - f)) / scale)


def smape(actual: ArrayLike, forecast: ArrayLike) -> float:
    """Symmetric mean absolute percentage error, M4 convention, in percent.

    ``100 * mean(2 |y - f| / (|y| + |f|))``, with a period where both are 0 counting
    as 0 (Makridakis, Spiliotis & Assimakopoulos, "The M4 Competition", International
    Journal of Forecasting 36(1), 2020).

    Args:
        actual: Observed values.
        forecast: Forecasts of the same periods.

    Returns:
        The sMAPE, between 0 and 200.
    """
    y, f = _pair(actual, forecast)
    numerator = 2.0 * np.abs(y - f)
    denominator = np.abs(y) + np.abs(f)
    ratio = np.divide(numerator, denominator, out=np.zeros_like(numerator), where=denominator != 0)
    return float(100.0 * np.mean(ratio))


def quantile_loss(actual: ArrayLike, forecast: ArrayLike, quantile: float) -> float:
    """Mean quantile (pinball) loss of a quantile forecast.

    ``mean(max(q (y - f), (q - 1) (y - f)))``; with ``q = 0.5`` it is half the mean
    absolute error (Koenker & Bassett, "Regression quantiles", Econometrica 46(1),
    1978).

    Args:
        actual: Observed values.
        forecast: Forecasts of the ``quantile`` of the same periods.
        quantile: The quantile ``q`` in (0, 1).

    Returns:
        The mean pinball loss.
    """
    if not 0.0 < quantile < 1.0:
        raise ValueError(f"quantile must be in (0, 1), got {quantile}")
    y, f = _pair(actual, forecast)
    error = y - f
    return float(np.mean(np.maximum(quantile * error, (quantile - 1.0) * error)))
