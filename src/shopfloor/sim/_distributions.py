"""Random quantities of a factory: processing, repair, lead and inter-arrival times.

Every distribution is a small frozen dataclass with ``sample(rng)`` and ``mean``. They
draw only from the ``numpy.random.Generator`` they are handed, never from a global
generator, so a factory seeded once reproduces every draw.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


@dataclass(frozen=True)
class Constant:
    """A fixed value (deterministic times)."""

    value: float

    def __post_init__(self) -> None:
        _check(
            math.isfinite(self.value) and self.value >= 0, f"value must be >= 0, got {self.value}"
        )

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
        _check(0 <= self.low <= self.high, f"need 0 <= low <= high, got [{self.low}, {self.high}]")

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
        _check(self.std >= 0, f"std must be >= 0, got {self.std}")
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
        _check(self.mean_value > 0 and self.std >= 0, "need mean > 0 and std >= 0")

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
        _check(self.shape > 0 and self.scale > 0, "need shape > 0 and scale > 0")

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
        _check(self.shape > 0 and self.scale > 0, "need shape > 0 and scale > 0")

    @property
    def mean(self) -> float:
        """Expected value."""
        return self.scale * math.gamma(1.0 + 1.0 / self.shape)

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
        _check(all(v >= 0 for v in self.values), "values must be >= 0")
        if self.weights:
            _check(len(self.weights) == len(self.values), "weights must match values")
            _check(all(w >= 0 for w in self.weights) and sum(self.weights) > 0, "bad weights")

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
