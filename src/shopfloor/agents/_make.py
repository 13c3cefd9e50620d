"""Build or load any agent by algorithm name, through the agent registry."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

import gymnasium as gym

from shopfloor.agents._algorithms import ALGORITHMS
from shopfloor.agents._registry import Agent, AgentSetup, AlgorithmRegistry, TrainedAgent


def make_agent(
    algorithm: str,
    env_factory: Callable[[], gym.Env],
    hyperparameters: Mapping[str, Any],
    seed: int,
    device: str = "auto",
    tensorboard_log: str | os.PathLike[str] | None = None,
    *,
    registry: AlgorithmRegistry | None = None,
) -> Agent:
    """A new agent of ``algorithm`` (a name of ``registry``, default :data:`ALGORITHMS`).

    Raises:
        AgentConfigError: An unknown algorithm or hyperparameters it refuses.
    """
    entry = (registry if registry is not None else ALGORITHMS).resolve(algorithm)
    setup = AgentSetup(env_factory, hyperparameters, seed, device, tensorboard_log)
    return entry.build(setup)


def load_agent(
    path: str | os.PathLike[str],
    algorithm: str,
    env_factory: Callable[[], gym.Env],
    hyperparameters: Mapping[str, Any],
    seed: int = 0,
    device: str = "auto",
    tensorboard_log: str | os.PathLike[str] | None = None,
    *,
    registry: AlgorithmRegistry | None = None,
) -> Agent:
    """Load a saved agent of ``algorithm`` from ``path``, to train on.

    Raises:
        FileNotFoundError: Nothing saved at ``path`` (the message names it).
    """
    entry = (registry if registry is not None else ALGORITHMS).resolve(algorithm)
    setup = AgentSetup(env_factory, hyperparameters, seed, device, tensorboard_log)
    return entry.load(path, setup)


def load_trained_agent(
    path: str | os.PathLike[str],
    algorithm: str,
    env_factory: Callable[[], gym.Env],
    hyperparameters: Mapping[str, Any],
    device: str = "cpu",
    *,
    registry: AlgorithmRegistry | None = None,
) -> TrainedAgent:
    """Load a saved agent of ``algorithm`` from ``path``, to act only.

    Raises:
        FileNotFoundError: Nothing saved at ``path`` (the message names it).
    """
    entry = (registry if registry is not None else ALGORITHMS).resolve(algorithm)
    return entry.load_trained(path, AgentSetup(env_factory, hyperparameters, 0, device))
