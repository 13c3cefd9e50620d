"""Wrappers: a discretised observation for tabular agents.

Tabular Q-learning needs a finite state set. :class:`DiscretiseObservation` keeps a few
features of a Box observation, cuts each into bins and numbers the combination, so the
observation space becomes ``Discrete(prod(bins))``. Edges come from the Box bounds
(uniform bins) or from quantiles of observations seen under random valid actions
(:func:`quantile_edges`). Pair it with ``DynamicJobShop`` in rule mode: the agent picks
a dispatching rule per state.
"""

from __future__ import annotations

from collections.abc import Sequence

import gymnasium as gym
import numpy as np
from gymnasium import spaces

# Queue length, share late, mean slack, mean processing time at the choosing machine.
DYNAMIC_JOB_SHOP_FEATURES = (3, 4, 5, 7)


class DiscretiseObservation(gym.ObservationWrapper[np.int64, np.int64, np.ndarray]):
    """Number the bin combination of selected observation features.

    Args:
        env: An env with a 1-D Box observation space.
        features: Indices of the features kept (default: all).
        bins: Bins per feature (one number for all), used with uniform edges.
        edges: Inner bin edges per kept feature (overrides ``bins``); feature value
            ``x`` falls in bin ``searchsorted(edges, x, side="right")``.
    """

    def __init__(
        self,
        env: gym.Env,
        features: Sequence[int] | None = None,
        bins: int | Sequence[int] = 3,
        edges: Sequence[Sequence[float]] | None = None,
    ):
        super().__init__(env)
        box = env.observation_space
        if not isinstance(box, spaces.Box) or len(box.shape) != 1:
            raise ValueError(f"DiscretiseObservation needs a 1-D Box, got {box}")
        size = box.shape[0]
        self.features = np.asarray(range(size) if features is None else features, dtype=int)
        if self.features.size == 0 or self.features.min() < 0 or self.features.max() >= size:
            raise ValueError(f"features must be indices in [0, {size}), got {features}")
        edge_lists: list[np.ndarray]
        if edges is None:
            counts = np.broadcast_to(np.asarray(bins, dtype=int), self.features.shape)
            if (counts < 1).any():
                raise ValueError(f"bins must be >= 1, got {bins}")
            edge_lists = [
                np.linspace(box.low[f], box.high[f], count + 1)[1:-1]
                for f, count in zip(self.features, counts, strict=True)
            ]
        else:
            edge_lists = [np.asarray(e, dtype=np.float64) for e in edges]
        if len(edge_lists) != self.features.size:
            raise ValueError(f"{len(edge_lists)} edge lists for {self.features.size} features")
        self.edges = [np.asarray(e, dtype=np.float64) for e in edge_lists]
        for e in self.edges:
            if (np.diff(e) <= 0).any():
                raise ValueError("edges must be strictly increasing")
        self.bin_counts = np.array([len(e) + 1 for e in self.edges], dtype=np.int64)
        self._radix = np.concatenate([[1], np.cumprod(self.bin_counts[::-1])[:-1]])[::-1]
        self.observation_space = spaces.Discrete(int(np.prod(self.bin_counts)))

    def observation(self, observation: np.ndarray) -> np.int64:
        """The state index of ``observation``."""
        index = 0
        for position, feature in enumerate(self.features):
            bin_index = int(np.searchsorted(self.edges[position], observation[feature], "right"))
            index += bin_index * int(self._radix[position])
        return np.int64(index)

    def action_masks(self) -> np.ndarray:
        """The wrapped env's action mask."""
        return self.env.unwrapped.action_masks()  # type: ignore[attr-defined]


def quantile_edges(
    env: gym.Env,
    features: Sequence[int],
    bins: int = 3,
    episodes: int = 3,
    seed: int = 0,
) -> list[np.ndarray]:
    """Bin edges at the quantiles of each feature under random valid actions.

    Args:
        env: The (unwrapped or wrapped) Box-observation env to sample.
        features: Feature indices.
        bins: Bins per feature.
        episodes: Episodes of random valid actions to sample.
        seed: Seed of the episodes and the actions.

    Returns:
        Strictly increasing inner edges per feature (fewer when values repeat).
    """
    rng = np.random.default_rng(seed)
    samples = []
    for episode in range(episodes):
        observation, _ = env.reset(seed=seed + episode)
        samples.append(observation)
        terminated = False
        while not terminated:
            mask = env.unwrapped.action_masks()  # type: ignore[attr-defined]
            action = int(rng.choice(np.flatnonzero(mask)))
            observation, _, terminated, truncated, _ = env.step(action)
            terminated = terminated or truncated
            samples.append(observation)
    data = np.asarray(samples)[:, list(features)]
    quantiles = np.linspace(0, 1, bins + 1)[1:-1]
    return [np.unique(np.quantile(data[:, column], quantiles)) for column in range(data.shape[1])]
