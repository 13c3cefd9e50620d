"""Baseline forecasts: naive, seasonal naive, moving average, Croston and TSB.

Each baseline is a pure function of a 1-D history (oldest first) and a horizon ``H``
returning ``H`` forecasts as a float array. They are the yardsticks the neural
forecaster must beat (Hyndman & Athanasopoulos, *Forecasting: Principles and
Practice*, 3rd ed., 2021, section 5.2) and the usual methods for intermittent demand
(Croston 1972; Teunter, Syntetos & Babai 2011).
"""

from __future__ import annotations

import itertools

import numpy as np
from numpy.typing import ArrayLike


def _history(history: ArrayLike, horizon: int, minimum: int = 1) -> np.ndarray:
    values = np.asarray(history, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError(f"history must be 1-D, got shape {values.shape}")
    if len(values) < minimum:
        raise ValueError(f"history needs at least {minimum} values, got {len(values)}")
    if not np.all(np.isfinite(values)):
        raise ValueError("history contains NaN or infinite values")
    if horizon < 1:
        raise ValueError(f"horizon must be at least 1, got {horizon}")
    return values


def _smoothing(name: str, value: float) -> None:
    if not 0.0 < value <= 1.0:
        raise ValueError(f"{name} must be in (0, 1], got {value}")


def naive(history: ArrayLike, horizon: int) -> np.ndarray:
    """Repeat the last observed value (the random-walk forecast).

    Args:
        history: Past demand, oldest first.
        horizon: Number of periods to forecast.

    Returns:
        ``horizon`` copies of the last value.
    """
    values = _history(history, horizon)
    return np.full(horizon, values[-1])


def seasonal_naive(history: ArrayLike, horizon: int, season_length: int) -> np.ndarray:
    """Repeat the value of the same period one season ago.

    The forecast for ``T + h`` is ``y[T + h - m * k]`` with ``k`` the smallest number
    of whole seasons reaching back into the history (Hyndman & Athanasopoulos 2021,
    section 5.2).

    Args:
        history: Past demand, oldest first; at least ``season_length`` values.
        horizon: Number of periods to forecast.
        season_length: Season length ``m`` in periods.

    Returns:
        The last observed season, repeated to cover ``horizon`` periods.
    """
    if season_length < 1:
        raise ValueError(f"season_length must be at least 1, got {season_length}")
    values = _history(history, horizon, minimum=season_length)
    last_season = values[-season_length:]
    return np.array([last_season[h % season_length] for h in range(horizon)])


def moving_average(history: ArrayLike, horizon: int, window: int) -> np.ndarray:
    """Forecast the mean of the last ``window`` values for every future period.

    Args:
        history: Past demand, oldest first; at least ``window`` values.
        horizon: Number of periods to forecast.
        window: Number of most recent values averaged (``k``).

    Returns:
        ``horizon`` copies of the mean.
    """
    if window < 1:
        raise ValueError(f"window must be at least 1, got {window}")
    values = _history(history, horizon, minimum=window)
    return np.full(horizon, values[-window:].mean())


def croston(history: ArrayLike, horizon: int, alpha: float = 0.1) -> np.ndarray:
    """Croston's method for intermittent demand (Croston 1972).

    Exponential smoothing is applied separately to the non-zero demand sizes ``z``
    and to the intervals ``p`` between them, both updated only in periods with
    demand: ``z <- z + alpha (y - z)``, ``p <- p + alpha (q - p)`` where ``q`` is the
    number of periods since the previous demand. Both start at their first
    observation (the first interval counts from the start of the history, so a
    demand in period ``t`` (from 0) gives ``q = t + 1``). The flat forecast is
    ``z / p``; a history without demand forecasts 0.

    Reference: J. D. Croston, "Forecasting and stock control for intermittent
    demands", Operational Research Quarterly 23(3), 289-303, 1972.

    Args:
        history: Past demand, oldest first.
        horizon: Number of periods to forecast.
        alpha: Smoothing constant in (0, 1].

    Returns:
        ``horizon`` copies of ``z / p``.
    """
    _smoothing("alpha", alpha)
    values = _history(history, horizon)
    demand_periods = np.flatnonzero(values)
    if len(demand_periods) == 0:
        return np.zeros(horizon)
    size = values[demand_periods[0]]
    interval = float(demand_periods[0] + 1)
    for previous, current in itertools.pairwise(demand_periods):
        size += alpha * (values[current] - size)
        interval += alpha * ((current - previous) - interval)
    return np.full(horizon, size / interval)


def tsb(history: ArrayLike, horizon: int, alpha: float = 0.1, beta: float = 0.1) -> np.ndarray:
    """Teunter-Syntetos-Babai method for intermittent demand (TSB 2011).

    Smooths the demand size ``z`` (only in periods with demand, constant ``alpha``)
    and the demand probability ``d`` (every period, constant ``beta``):
    ``d <- d + beta (1[y > 0] - d)``. Unlike Croston's, the forecast ``d * z``
    decays during long runs without demand, so obsolescence shows. Initialisation:
    ``z`` is the first non-zero demand and ``d = 1 / (t + 1)`` for a first demand in
    period ``t`` (from 0); smoothing runs over the periods after it. A history
    without demand forecasts 0.

    Reference: R. H. Teunter, A. A. Syntetos, M. Z. Babai, "Intermittent demand:
    linking forecasting to inventory obsolescence", European Journal of Operational
    Research 214(3), 606-615, 2011.

    Args:
        history: Past demand, oldest first.
        horizon: Number of periods to forecast.
        alpha: Smoothing constant of the demand size, in (0, 1].
        beta: Smoothing constant of the demand probability, in (0, 1].

    Returns:
        ``horizon`` copies of ``d * z``.
    """
    _smoothing("alpha", alpha)
    _smoothing("beta", beta)
    values = _history(history, horizon)
    demand_periods = np.flatnonzero(values)
    if len(demand_periods) == 0:
        return np.zeros(horizon)
    first = int(demand_periods[0])
    size = values[first]
    probability = 1.0 / (first + 1)
    for value in values[first + 1 :]:
        if value != 0:
            probability += beta * (1.0 - probability)
            size += alpha * (value - size)
        else:
            probability += beta * (0.0 - probability)
    return np.full(horizon, probability * size)
