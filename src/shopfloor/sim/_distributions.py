"""Random quantities of a factory: processing, repair, lead and inter-arrival times.

Every distribution is a small frozen dataclass with ``sample(rng)`` and ``mean``. They
draw only from the ``numpy.random.Generator`` they are handed, never from a global
generator, so a factory seeded once reproduces every draw.

Every parameter is a finite number in a documented range (see
:class:`~shopfloor.sim.InputLimits`): times and means at most ``1e9``, gamma and
Weibull shapes in ``[0.1, 1e4]``, a log-normal's std at most 1000 times its mean, so
every mean, variance and draw is a finite number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from shopfloor.sim._limits import LIMITS

MAX_VARIATION = 1e3
"""Largest coefficient of variation (std / mean) of a log-normal."""


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def _number(name: str, value: float, *, low: float = 0.0, high: float = LIMITS.max_time) -> None:
    """``value`` is a finite number in ``[low, high]`` (``high``: a time at most 1e9)."""
    _check(
        isinstance(value, int | float) and not isinstance(value, bool),
        f"{name} must be a number, got {value!r}",
    )
    _check(math.isfinite(value), f"{name} must be a finite number, got {value}")
    _check(value >= low, f"{name} must be >= {low:g}, got {value}")
    _check(value <= high, f"{name} must be at most {high:g} (the limit), got {value}")


def _shape(value: float) -> None:
    _number("shape", value, low=LIMITS.min_shape, high=LIMITS.max_shape)


@dataclass(frozen=True)
class Constant:
    """A fixed value (deterministic times)."""

    value: float

    def __post_init__(self) -> None:
        _number("value", self.value)

    @property
    def mean(self) -> float:
        """Expected value."""
        return float(self.value)

    def sample(self, rng: np.random.Generator) -> float:
        """Return the constant; draws nothing."""
        return float(self.value)


@dataclass(frozen=True)
class Exponential:
    """Exponential with the given mean (memoryless arrivals and failures)."""

    mean_value: float

    def __post_init__(self) -> None:
        _number("mean", self.mean_value)
        _check(self.mean_value > 0, f"mean must be > 0, got {self.mean_value}")

    @property
    def mean(self) -> float:
        """Expected value."""
        return float(self.mean_value)

    def sample(self, rng: np.random.Generator) -> float:
        """Draw one value."""
        return float(rng.exponential(self.mean_value))


@dataclass(frozen=True)
class Uniform:
    """Uniform on ``[low, high]``; integer draws when ``integer`` (Taillard times)."""

    low: float
    high: float
    integer: bool = False

    def __post_init__(self) -> None:
        _number("low", self.low)
        _number("high", self.high)
        _check(self.low <= self.high, f"need 0 <= low <= high, got [{self.low}, {self.high}]")

    @property
    def mean(self) -> float:
        """Expected value."""
        return (self.low + self.high) / 2.0

    def sample(self, rng: np.random.Generator) -> float:
        """Draw one value."""
        if self.integer:
            return float(rng.integers(int(self.low), int(self.high) + 1))
        return float(rng.uniform(self.low, self.high))


@dataclass(frozen=True)
class Normal:
    """Normal truncated below at ``minimum`` (default 0) by clipping."""

    mean_value: float
    std: float
    minimum: float = 0.0

    def __post_init__(self) -> None:
        _number("std", self.std)
        _number("min", self.minimum)
        _number("mean", self.mean_value)
        _check(self.mean_value >= self.minimum, "mean must be >= minimum")

    @property
    def mean(self) -> float:
        """Mean before clipping (clipping at ``minimum`` shifts it up slightly)."""
        return float(self.mean_value)

    def sample(self, rng: np.random.Generator) -> float:
        """Draw one value."""
        return max(self.minimum, float(rng.normal(self.mean_value, self.std)))


@dataclass(frozen=True)
class LogNormal:
    """Log-normal given by its own mean and standard deviation (not the log's)."""

    mean_value: float
    std: float

    def __post_init__(self) -> None:
        _number("mean", self.mean_value)
        _number("std", self.std)
        _check(self.mean_value > 0 and self.std >= 0, "need mean > 0 and std >= 0")
        _check(
            self.std <= MAX_VARIATION * self.mean_value,
            f"std must be at most {MAX_VARIATION:g} times the mean (the limit), "
            f"got std {self.std} for mean {self.mean_value}",
        )

    @property
    def mean(self) -> float:
        """Expected value."""
        return float(self.mean_value)

    def sample(self, rng: np.random.Generator) -> float:
        """Draw one value."""
        sigma2 = math.log1p((self.std / self.mean_value) ** 2)
        mu = math.log(self.mean_value) - sigma2 / 2.0
        return float(rng.lognormal(mu, math.sqrt(sigma2)))


@dataclass(frozen=True)
class Gamma:
    """Gamma with ``shape`` and ``scale`` (mean = shape * scale)."""

    shape: float
    scale: float

    def __post_init__(self) -> None:
        _shape(self.shape)
        _number("scale", self.scale)
        _check(self.shape > 0 and self.scale > 0, "need shape > 0 and scale > 0")
        _number("mean (shape * scale)", self.mean)

    @property
    def mean(self) -> float:
        """Expected value."""
        return self.shape * self.scale

    def sample(self, rng: np.random.Generator) -> float:
        """Draw one value."""
        return float(rng.gamma(self.shape, self.scale))


@dataclass(frozen=True)
class Weibull:
    """Weibull with ``shape`` k and ``scale`` lambda (classic time-to-failure model)."""

    shape: float
    scale: float

    def __post_init__(self) -> None:
        _shape(self.shape)
        _number("scale", self.scale)
        _check(self.shape > 0 and self.scale > 0, "need shape > 0 and scale > 0")
        _number("mean (scale * Gamma(1 + 1/shape))", self.mean)

    @property
    def mean(self) -> float:
        """Expected value (``inf`` only for a shape far below the allowed range)."""
        argument = 1.0 + 1.0 / self.shape
        return self.scale * math.gamma(argument) if argument < 171.0 else math.inf

    def sample(self, rng: np.random.Generator) -> float:
        """Draw one value."""
        return float(self.scale * rng.weibull(self.shape))


@dataclass(frozen=True)
class Triangular:
    """Triangular on ``[low, high]`` with peak at ``mode``."""

    low: float
    mode: float
    high: float

    def __post_init__(self) -> None:
        for name in ("low", "mode", "high"):
            _number(name, getattr(self, name))
        _check(0 <= self.low <= self.mode <= self.high, "need 0 <= low <= mode <= high")
        _check(self.low < self.high, "need low < high")

    @property
    def mean(self) -> float:
        """Expected value."""
        return (self.low + self.mode + self.high) / 3.0

    def sample(self, rng: np.random.Generator) -> float:
        """Draw one value."""
        return float(rng.triangular(self.low, self.mode, self.high))


@dataclass(frozen=True)
class Choice:
    """A value picked from ``values`` with probabilities ``weights`` (uniform if empty)."""

    values: tuple[float, ...]
    weights: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        _check(len(self.values) > 0, "values must not be empty")
        _check(
            len(self.values) <= LIMITS.max_list,
            f"values has {len(self.values)} entries; the limit is {LIMITS.max_list}",
        )
        for value in self.values:
            _number("values", value)
        if self.weights:
            _check(len(self.weights) == len(self.values), "weights must match values")
            for weight in self.weights:
                _number("weights", weight, high=LIMITS.max_cost)
            _check(sum(self.weights) > 0, "bad weights: at least one must be > 0")

    @property
    def mean(self) -> float:
        """Expected value."""
        if not self.weights:
            return float(np.mean(self.values))
        total = sum(self.weights)
        return sum(v * w for v, w in zip(self.values, self.weights, strict=True)) / total

    def sample(self, rng: np.random.Generator) -> float:
        """Draw one value."""
        if not self.weights:
            return float(self.values[int(rng.integers(len(self.values)))])
        probabilities = np.asarray(self.weights, dtype=float)
        probabilities /= probabilities.sum()
        return float(self.values[int(rng.choice(len(self.values), p=probabilities))])


Distribution = (
    Constant | Exponential | Uniform | Normal | LogNormal | Gamma | Weibull | Triangular | Choice
)
"""Any of the distributions above."""
