"""Customer demand processes: stationary Poisson, seasonal, trend, shocks, intermittent.

One composable process covers the usual cases (see :class:`~shopfloor.sim.DemandSpec`):
the expected level of period ``t`` is a base rate shaped by a sine season, a linear
trend and promotion/shock multipliers. Sizes are Poisson around that level; with
``occurrence < 1`` demand is intermittent (a Bernoulli occurrence times a shifted
Poisson size), the setting of Croston (1972) and Teunter, Syntetos & Babai (2011).
"""

from __future__ import annotations

import math

import numpy as np

from shopfloor.sim._spec import DemandSpec


def demand_level(spec: DemandSpec, period: int) -> float:
    """Level (size when demand occurs, before Poisson noise) of ``period``.

    Args:
        spec: The demand process.
        period: Period index from 0.

    Returns:
        The non-negative level.
    """
    level = spec.rate
    if spec.season_length > 0 and spec.amplitude > 0:
        angle = 2.0 * math.pi * (period + spec.phase) / spec.season_length
        level *= 1.0 + spec.amplitude * math.sin(angle)
    if spec.trend:
        level *= 1.0 + spec.trend * period
    for shock in spec.shocks:
        if shock.start <= period < shock.end:
            level *= shock.multiplier
    return max(level, 0.0)


def expected_demand(spec: DemandSpec, period: int) -> float:
    """Expected demand of ``period`` (the oracle forecast).

    Args:
        spec: The demand process.
        period: Period index from 0.

    Returns:
        The mean of :func:`sample_demand` for that period.
    """
    level = demand_level(spec, period)
    if spec.occurrence >= 1.0:
        return level
    return spec.occurrence * max(level, 1.0)


def sample_demand(spec: DemandSpec, period: int, rng: np.random.Generator) -> int:
    """Draw the demand of ``period``.

    Args:
        spec: The demand process.
        period: Period index from 0.
        rng: The generator to draw from (the factory's demand stream).

    Returns:
        Units demanded.
    """
    level = demand_level(spec, period)
    if spec.occurrence >= 1.0:
        return int(rng.poisson(level))
    if rng.random() >= spec.occurrence:
        return 0
    return 1 + int(rng.poisson(max(level - 1.0, 0.0)))


def demand_series(spec: DemandSpec, periods: int, seed: int) -> np.ndarray:
    """A seeded history of ``periods`` demands, as the factory would draw them alone.

    Args:
        spec: The demand process.
        periods: Number of periods.
        seed: Seed of the generator.

    Returns:
        Integer array of shape ``(periods,)``.
    """
    rng = np.random.default_rng(seed)
    return np.array([sample_demand(spec, t, rng) for t in range(periods)], dtype=np.int64)
