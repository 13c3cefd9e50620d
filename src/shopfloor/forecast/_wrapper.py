"""Demand forecasts as observation features of make-to-stock envs.

:class:`ForecastObservation` appends, for every product, ``H`` forecasts of demand per
period to a ``ProductionInventory`` observation. The forecasts are computed only from
``factory.demand_history`` -- the demand of the periods that have already happened --
so an agent never sees realised future demand; ``kind="oracle"`` is the exception on
purpose: it gives the scenario's true *expected* demand (no noise) for ablations.

:func:`train_forecaster_for` fits a :class:`~shopfloor.forecast.NeuralForecaster` on
histories drawn from the scenario's own demand process (seeded, independent of the
episode seeds).
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from shopfloor.forecast._baselines import naive, seasonal_naive
from shopfloor.forecast._data import demand_history
from shopfloor.forecast._model import ForecasterConfig, ForecastError, NeuralForecaster
from shopfloor.scenario import Scenario
from shopfloor.sim import FactorySpec

KINDS = ("neural", "oracle", "naive", "seasonal_naive")
"""Forecast kinds :class:`ForecastObservation` offers."""

DEMAND_FEATURE_DIVISOR = 4.0
"""Forecasts are divided by the per-period scale and by this (as the env's demand features)."""


class ForecastObservation(
    gym.ObservationWrapper[np.ndarray, Any, np.ndarray], gym.utils.RecordConstructorArgs
):
    """Append per-product demand forecasts to a ``ProductionInventory`` observation.

    The observation becomes ``Box(-1, 1, (base + n_products * horizon,), float32)``:
    the env's own features, then for product ``p`` (in scenario order) the forecasts of
    periods ``t, t+1, ..., t+H-1`` where ``t`` is the current (not yet finished) period.
    Entry ``base + p * H + h`` is ``forecast[p, h] / (s_p / 10) / 4`` clipped to
    ``[-1, 1]``, with ``s_p = env.unwrapped._stock_scale[p]`` -- the same scaling the env
    uses for its last-period and recent-mean demand features, so a value of 1 means four
    times the product's mean demand per period.

    Kinds:

    * ``"neural"``: ``model.predict`` on the last ``lookback`` periods of the history.
      Early in an episode the history is shorter than the lookback; it is left-padded
      with the mean of the periods that exist (zeros when none has happened yet).
    * ``"naive"``: the last period's demand repeated (zeros before the first period ends).
    * ``"seasonal_naive"``: the last season repeated; ``season_length`` defaults to the
      product's own season length (naive for products without a season, and naive
      until a whole season has happened).
    * ``"oracle"``: ``env.unwrapped.expected_demand(H)``, the true expected demand of
      the scenario -- future information, for ablations only.

    Forecasts are recomputed only when a period has passed (they depend on nothing
    else), so the per-step cost is a dictionary look-up most of the time.

    Args:
        env: A ``shopfloor/ProductionInventory-v0`` env (possibly wrapped).
        kind: One of :data:`KINDS`.
        horizon: Forecast periods per product (``H``).
        model: The trained forecaster, required for ``"neural"``; its horizon must be
            at least ``H`` (the first ``H`` outputs are used).
        season_length: Season length for ``"seasonal_naive"`` (default: per product).

    Example:
        >>> import gymnasium as gym, shopfloor.envs  # doctest: +SKIP
        >>> env = ForecastObservation(gym.make("shopfloor/ProductionInventory-v0"),
        ...                           kind="oracle", horizon=4)  # doctest: +SKIP
        >>> env.observation_space.shape  # doctest: +SKIP
        (35,)
    """

    def __init__(
        self,
        env: gym.Env[np.ndarray, Any],
        kind: str = "neural",
        horizon: int = 8,
        model: NeuralForecaster | None = None,
        season_length: int | None = None,
    ) -> None:
        gym.utils.RecordConstructorArgs.__init__(
            self, kind=kind, horizon=horizon, model=model, season_length=season_length
        )
        gym.ObservationWrapper.__init__(self, env)
        if kind not in KINDS:
            raise ValueError(f"unknown forecast kind {kind!r}; choose from {list(KINDS)}")
        if horizon < 1:
            raise ValueError(f"horizon must be at least 1, got {horizon}")
        if season_length is not None and season_length < 1:
            raise ValueError(f"season_length must be at least 1, got {season_length}")
        if kind == "neural":
            if model is None:
                raise ValueError("kind='neural' needs a trained NeuralForecaster as model")
            if model.config.horizon < horizon:
                raise ValueError(
                    f"the model forecasts {model.config.horizon} periods; horizon={horizon} "
                    "needs at least that many"
                )
        base = env.unwrapped
        if not hasattr(base, "expected_demand") or not hasattr(base, "_stock_scale"):
            raise TypeError(
                f"ForecastObservation needs a ProductionInventory env, got {type(base).__name__}"
            )
        space = env.observation_space
        if not isinstance(space, spaces.Box) or len(space.shape) != 1:
            raise TypeError(f"ForecastObservation needs a 1-D Box observation, got {space}")
        self.kind = kind
        self.horizon = horizon
        self.model = model
        self.season_length = season_length
        self.n_products: int = int(base.n_products)  # type: ignore[attr-defined]
        self._base_size = int(space.shape[0])
        self._per_period = np.asarray(base._stock_scale, dtype=np.float64) / 10.0
        size = self._base_size + self.n_products * horizon
        self.observation_space = spaces.Box(-1.0, 1.0, (size,), dtype=np.float32)
        self._cache_key: tuple[int, ...] | None = None
        self._cache = np.zeros(self.n_products * horizon, dtype=np.float32)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Reset the env and forget the cached forecasts."""
        self._cache_key = None
        return super().reset(seed=seed, options=options)

    def observation(self, observation: np.ndarray) -> np.ndarray:
        """The env's observation followed by the scaled forecasts."""
        factory = self.env.unwrapped.factory  # type: ignore[attr-defined]
        period = int(factory.now // factory.spec.demand_period)
        key = (period, *(len(h) for h in factory.demand_history))
        if key != self._cache_key:
            self._cache = self._features(self.forecasts())
            self._cache_key = key
        return np.concatenate([np.asarray(observation, dtype=np.float32), self._cache])

    def forecasts(self) -> np.ndarray:
        """Unscaled forecasts of demand per period, shape ``(n_products, horizon)``."""
        base = self.env.unwrapped
        if self.kind == "oracle":
            return np.asarray(base.expected_demand(self.horizon), dtype=np.float64)  # type: ignore[attr-defined]
        factory = base.factory  # type: ignore[attr-defined]
        result = np.zeros((self.n_products, self.horizon), dtype=np.float64)
        for index, product in enumerate(factory.spec.products):
            if product.demand is None:
                continue
            history = np.asarray(factory.demand_history[index], dtype=np.float64)
            result[index] = self._forecast(history, product.demand.season_length)
        return result

    def _forecast(self, history: np.ndarray, product_season: int) -> np.ndarray:
        horizon = self.horizon
        if self.kind == "neural":
            assert self.model is not None
            lookback = self.model.config.lookback
            if len(history) < lookback:
                fill = float(history.mean()) if len(history) else 0.0
                history = np.concatenate([np.full(lookback - len(history), fill), history])
            return self.model.predict(history)[:horizon]
        if len(history) == 0:
            return np.zeros(horizon)
        season = self.season_length or product_season
        if self.kind == "seasonal_naive" and season >= 1 and len(history) >= season:
            return seasonal_naive(history, horizon, season)
        return naive(history, horizon)

    def _features(self, forecasts: np.ndarray) -> np.ndarray:
        scaled = forecasts / self._per_period[:, None] / DEMAND_FEATURE_DIVISOR
        return np.clip(scaled, -1.0, 1.0).astype(np.float32).reshape(-1)


def train_forecaster_for(
    scenario: Scenario | FactorySpec | str | os.PathLike[str],
    config: ForecasterConfig | None = None,
    seed: int = 12345,
    periods: int = 520,
    n_histories: int = 3,
) -> NeuralForecaster:
    """Fit a forecaster on histories drawn from a scenario's own demand process.

    Histories come from :func:`~shopfloor.forecast.demand_history` with seeds
    ``seed, seed + 1, ..., seed + n_histories - 1`` -- a stream of its own, separate
    from the episode seeds the env draws demand with. The model (weights and batch
    order) is seeded with ``seed`` too, so the result is deterministic given ``seed``
    (on one device).

    Args:
        scenario: A loaded scenario, its factory, or a scenario file / bundled name.
        config: Forecaster settings (its ``seed`` is replaced by ``seed``).
        seed: Seed of the histories and of the model.
        periods: Periods per history; at least ``lookback + horizon``.
        n_histories: Histories drawn per product.

    Returns:
        The trained forecaster.
    """
    config = replace(config or ForecasterConfig(), seed=seed)
    if n_histories < 1:
        raise ValueError(f"n_histories must be at least 1, got {n_histories}")
    if periods < config.lookback + config.horizon:
        raise ForecastError(
            f"periods={periods} is too short for lookback + horizon = "
            f"{config.lookback + config.horizon}"
        )
    series: list[np.ndarray] = []
    for offset in range(n_histories):
        series.extend(demand_history(scenario, periods, seed + offset).values())
    model = NeuralForecaster(config)
    model.fit(series)
    return model
