"""Forecasts of job arrivals as observation features of dynamic job shop envs.

:class:`ArrivalForecastObservation` appends ``H`` forecasts of the number of job
arrivals per time bucket (per product when the scenario draws products by
``product_mix``, else one total series) to a ``DynamicJobShop`` observation. The
history-based kinds see only the ``release`` events of arrivals already in the factory
log, counted over *completed* buckets, so an agent never sees future arrivals;
``kind="oracle"`` gives the scenario's true expected arrivals per bucket instead.

:func:`train_arrival_forecaster` fits a :class:`~shopfloor.forecast.NeuralForecaster`
on arrival-count histories sampled from the scenario's arrival process alone (seeded,
independent of the episodes).
"""

from __future__ import annotations

import itertools
import math
import os
from dataclasses import replace
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from shopfloor.envs.dynamic_job_shop import DynamicJobShopEnv
from shopfloor.forecast._model import ForecasterConfig, ForecastError, NeuralForecaster
from shopfloor.scenario import Scenario, load_scenario
from shopfloor.sim import ArrivalSpec, FactorySpec
from shopfloor.sim.events import RELEASE

ARRIVAL_KINDS = ("neural", "oracle", "naive", "moving_average")
"""Forecast kinds :class:`ArrivalForecastObservation` offers."""

ARRIVAL_FEATURE_DIVISOR = 4.0
"""Forecasts are divided by the expected arrivals per bucket and by this."""

DEFAULT_BUCKET_INTERARRIVALS = 10.0
"""Default bucket length in mean interarrival times."""

MOVING_AVERAGE_WINDOW = 4
"""Completed buckets averaged by ``kind="moving_average"``."""


def _spec_of(scenario: Scenario | FactorySpec | str | os.PathLike[str]) -> FactorySpec:
    if isinstance(scenario, Scenario):
        return scenario.factory
    if isinstance(scenario, FactorySpec):
        return scenario
    return load_scenario(scenario).factory


def _arrivals_of(spec: FactorySpec) -> ArrivalSpec:
    if spec.arrivals is None:
        raise ValueError(f"scenario {spec.name!r} has no random job arrivals")
    return spec.arrivals


def _mix(arrivals: ArrivalSpec) -> np.ndarray:
    """Normalised product probabilities, or ``[1.0]`` (one total series)."""
    if not arrivals.product_mix:
        return np.ones(1)
    mix = np.asarray(arrivals.product_mix, dtype=np.float64)
    return mix / mix.sum()


def default_bucket(arrivals: ArrivalSpec) -> float:
    """Bucket length: :data:`DEFAULT_BUCKET_INTERARRIVALS` mean interarrival times."""
    return DEFAULT_BUCKET_INTERARRIVALS * float(arrivals.interarrival.mean)


def expected_arrivals(arrivals: ArrivalSpec, bucket: float) -> np.ndarray:
    """Long-run expected arrivals per bucket of each series: ``bucket / mean * mix``.

    With a rate profile, ``bucket`` is scaled by the profile's mean factor.
    """
    rate = 1.0 if arrivals.rate_profile is None else arrivals.rate_profile.mean_factor
    return rate * bucket / float(arrivals.interarrival.mean) * _mix(arrivals)


def expected_arrivals_in(
    arrivals: ArrivalSpec, bucket: float, first: int, buckets: int
) -> np.ndarray:
    """Expected arrivals of each series in buckets ``first, ..., first+buckets-1``.

    Constant without a rate profile; with one, each bucket's expectation follows the
    profile's integral over it. Shape ``(series, buckets)``.
    """
    per_clock_time = _mix(arrivals)[:, None] / float(arrivals.interarrival.mean)
    profile = arrivals.rate_profile
    if profile is None:
        clock = np.full(buckets, bucket)
    else:
        edges = (first + np.arange(buckets + 1)) * bucket
        clock = np.array([profile.integral(a, b) for a, b in itertools.pairwise(edges)])
    return per_clock_time * clock[None, :]


def sample_arrival_counts(
    arrivals: ArrivalSpec, buckets: int, bucket: float, rng: np.random.Generator
) -> np.ndarray:
    """Arrivals per bucket sampled from the arrival process alone, ``(series, buckets)``.

    Interarrival times (run through the rate profile, if any) and products are drawn
    from ``rng``; ``max_jobs`` and ``until`` are ignored, so the stream runs on.
    """
    mix = _mix(arrivals)
    counts = np.zeros((len(mix), buckets), dtype=np.float64)
    end = buckets * bucket
    profile = arrivals.rate_profile
    now = 0.0
    while True:
        delay = float(arrivals.interarrival.sample(rng))
        now = now + delay if profile is None else profile.advance(now, delay)
        if now >= end:
            return counts
        series = int(rng.choice(len(mix), p=mix)) if arrivals.product_mix else 0
        counts[series, int(now // bucket)] += 1.0


class ArrivalForecastObservation(
    gym.ObservationWrapper[np.ndarray, Any, np.ndarray], gym.utils.RecordConstructorArgs
):
    """Append forecasts of job arrivals per bucket to a ``DynamicJobShop`` observation.

    The observation becomes ``Box(-1, 1, (base + n_series * horizon,), float32)``: the
    env's own features, then for series ``s`` the forecasts of buckets ``k, ..., k+H-1``
    where ``k`` is the current (not yet finished) bucket. A series is a product when
    the scenario uses ``product_mix``, else the total. Entry ``base + s * H + h`` is
    ``forecast[s, h] / (4 * expected[s])`` clipped to ``[-1, 1]`` (0 for a product that
    never arrives), with ``expected`` the
    long-run expected arrivals per bucket (so the oracle's features are all 0.25
    without a rate profile).

    Counts come from the ``release`` events of arriving jobs (not the scenario's
    initial jobs) in ``factory.log``, over completed buckets ``[j b, (j+1) b)`` with
    ``(j+1) b <= now``.

    Kinds:

    * ``"neural"``: ``model.predict`` on the last ``lookback`` completed buckets,
      left-padded with their mean (zeros when none is complete).
    * ``"naive"``: the last completed bucket repeated (zeros before).
    * ``"moving_average"``: mean of the last 4 completed buckets (zeros before).
    * ``"oracle"``: the arrival process's expected arrivals in each bucket: ``bucket /
      mean interarrival * mix probability``, times the rate profile's mean factor over
      the bucket when the scenario has one (``max_jobs`` and ``until`` are ignored).

    Args:
        env: A ``shopfloor/DynamicJobShop-v1`` env (possibly wrapped) with arrivals.
        kind: One of :data:`ARRIVAL_KINDS`.
        horizon: Forecast buckets per series (``H``).
        bucket: Bucket length in time units (default 10 mean interarrival times).
        model: The trained forecaster for ``"neural"``; its horizon must be >= ``H``.
    """

    def __init__(
        self,
        env: gym.Env[np.ndarray, Any],
        kind: str = "neural",
        horizon: int = 4,
        bucket: float | None = None,
        model: NeuralForecaster | None = None,
    ) -> None:
        gym.utils.RecordConstructorArgs.__init__(
            self, kind=kind, horizon=horizon, bucket=bucket, model=model
        )
        gym.ObservationWrapper.__init__(self, env)
        base = env.unwrapped
        if not isinstance(base, DynamicJobShopEnv):
            raise TypeError(
                "ArrivalForecastObservation needs a shopfloor/DynamicJobShop-v1 env, "
                f"got {type(base).__name__}"
            )
        if kind not in ARRIVAL_KINDS:
            raise ValueError(f"unknown forecast kind {kind!r}; choose from {list(ARRIVAL_KINDS)}")
        if horizon < 1:
            raise ValueError(f"horizon must be at least 1, got {horizon}")
        if kind == "neural":
            if model is None:
                raise ValueError("kind='neural' needs a trained NeuralForecaster as model")
            if model.config.horizon < horizon:
                raise ValueError(
                    f"the model forecasts {model.config.horizon} buckets; horizon={horizon} "
                    "needs at least that many"
                )
        arrivals = _arrivals_of(base.source.example())
        if bucket is None:
            bucket = default_bucket(arrivals)
        if not (math.isfinite(bucket) and bucket > 0):
            raise ValueError(f"bucket must be positive, got {bucket}")
        space = env.observation_space
        if not isinstance(space, spaces.Box) or len(space.shape) != 1:
            raise TypeError(f"ArrivalForecastObservation needs a 1-D Box observation, got {space}")
        self.kind = kind
        self.horizon = horizon
        self.bucket = float(bucket)
        self.model = model
        self.n_series = len(_mix(arrivals))
        self._base_size = int(space.shape[0])
        size = self._base_size + self.n_series * horizon
        self.observation_space = spaces.Box(-1.0, 1.0, (size,), dtype=np.float32)
        self._forget()

    def _forget(self) -> None:
        self._factory: Any = None
        self._cursor = 0
        self._pending: list[tuple[float, int]] = []  # (time, series) of logged arrivals
        self._counts = np.zeros((self.n_series, 0), dtype=np.float64)
        self._cache_key: int | None = None
        self._cache = np.zeros(self.n_series * self.horizon, dtype=np.float32)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Reset the env and forget the counts and cached forecasts."""
        self._forget()
        return super().reset(seed=seed, options=options)

    def observation(self, observation: np.ndarray) -> np.ndarray:
        """The env's observation followed by the scaled forecasts."""
        completed = self.history().shape[1]
        if completed != self._cache_key:
            self._cache = self._features(self.forecasts())
            self._cache_key = completed
        return np.concatenate([np.asarray(observation, dtype=np.float32), self._cache])

    def _spec_arrivals(self) -> ArrivalSpec:
        return _arrivals_of(self.env.unwrapped.factory.spec)  # type: ignore[attr-defined]

    def history(self) -> np.ndarray:
        """Arrivals per completed bucket so far, shape ``(n_series, completed)``."""
        factory = self.env.unwrapped.factory  # type: ignore[attr-defined]
        if factory is not self._factory or len(factory.log) < self._cursor:
            self._forget()
            self._factory = factory
        now = float(factory.now)
        first_arrival = len(factory.spec.jobs)  # initial jobs are not arrivals
        by_product = bool(factory.spec.arrivals.product_mix)
        log = factory.log
        for index in range(self._cursor, len(log)):
            time, kind, _, job, _, _ = log[index]
            if kind == RELEASE and job >= first_arrival:
                series = factory.product_of(job) if by_product else 0
                self._pending.append((float(time), series))
        self._cursor = len(log)
        completed = int(now // self.bucket)
        if completed > self._counts.shape[1]:
            counts = np.zeros((self.n_series, completed), dtype=np.float64)
            counts[:, : self._counts.shape[1]] = self._counts
            self._counts = counts
        if self._pending:
            keep = []
            for time, series in self._pending:
                index = int(time // self.bucket)
                if time <= now and index < completed:
                    self._counts[series, index] += 1.0
                else:
                    keep.append((time, series))
            self._pending = keep
        return self._counts

    def forecasts(self) -> np.ndarray:
        """Unscaled forecasts of arrivals per bucket, shape ``(n_series, horizon)``."""
        horizon = self.horizon
        if self.kind == "oracle":
            current = int(self.env.unwrapped.factory.now // self.bucket)  # type: ignore[attr-defined]
            return expected_arrivals_in(self._spec_arrivals(), self.bucket, current, horizon)
        history = self.history()
        result = np.zeros((self.n_series, horizon), dtype=np.float64)
        if self.kind == "neural":
            assert self.model is not None
            lookback = self.model.config.lookback
            for series in range(self.n_series):
                past = history[series, -lookback:]
                if len(past) < lookback:
                    fill = float(past.mean()) if len(past) else 0.0
                    past = np.concatenate([np.full(lookback - len(past), fill), past])
                result[series] = self.model.predict(past)[:horizon]
            return result
        if history.shape[1] == 0:
            return result
        if self.kind == "naive":
            level = history[:, -1]
        else:
            level = history[:, -MOVING_AVERAGE_WINDOW:].mean(axis=1)
        result[:] = level[:, None]
        return result

    def _features(self, forecasts: np.ndarray) -> np.ndarray:
        expected = expected_arrivals(self._spec_arrivals(), self.bucket)
        divisor = np.broadcast_to(expected[:, None] * ARRIVAL_FEATURE_DIVISOR, forecasts.shape)
        scaled = np.divide(forecasts, divisor, out=np.zeros_like(forecasts), where=divisor > 0)
        return np.clip(scaled, -1.0, 1.0).astype(np.float32).reshape(-1)


def train_arrival_forecaster(
    scenario: Scenario | FactorySpec | str | os.PathLike[str],
    config: ForecasterConfig | None = None,
    seed: int = 12345,
    buckets: int = 520,
    bucket: float | None = None,
) -> NeuralForecaster:
    """Fit a forecaster on arrival counts sampled from a scenario's arrival process.

    One history of ``buckets`` buckets is drawn with ``numpy.random.default_rng(seed)``
    from the interarrival distribution and product mix alone (no simulation, separate
    from the episode seeds); each product (or the total) is one training series. The
    model is seeded with ``seed`` too, so the result is deterministic given ``seed``.

    Args:
        scenario: A loaded scenario, its factory, or a scenario file / bundled name.
        config: Forecaster settings (its ``seed`` is replaced by ``seed``).
        seed: Seed of the history and of the model.
        buckets: Buckets in the history; at least ``lookback + horizon``.
        bucket: Bucket length (default 10 mean interarrival times, as the wrapper).

    Returns:
        The trained forecaster.
    """
    config = replace(config or ForecasterConfig(), seed=seed)
    if buckets < config.lookback + config.horizon:
        raise ForecastError(
            f"buckets={buckets} is too short for lookback + horizon = "
            f"{config.lookback + config.horizon}"
        )
    arrivals = _arrivals_of(_spec_of(scenario))
    length = default_bucket(arrivals) if bucket is None else float(bucket)
    counts = sample_arrival_counts(arrivals, buckets, length, np.random.default_rng(seed))
    model = NeuralForecaster(config)
    model.fit(list(counts))
    return model
