"""Build or load any agent by algorithm name."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

import gymnasium as gym
import numpy as np

from shopfloor.agents._config import AgentConfigError
from shopfloor.agents._sb3 import SB3Agent


class Agent(Protocol):
    """What the experiment runner needs of a learning agent."""

    @property
    def num_timesteps(self) -> int:
        """Environment steps trained so far."""

    def learn(
        self,
        total_timesteps: int,
        callback: Callable[[dict[str, Any]], bool] | None = None,
        *,
        budget: int | None = None,
    ) -> Any:
        """Train ``total_timesteps`` more steps of a run of ``budget`` steps."""

    def predict(
        self,
        observation: np.ndarray,
        deterministic: bool = True,
        action_masks: np.ndarray | None = None,
    ) -> tuple[Any, Any]:
        """The shared protocol."""

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Save to ``path`` (an extension may be added); returns the file written."""


def make_agent(
    algorithm: str,
    env_factory: Callable[[], gym.Env],
    hyperparameters: Mapping[str, Any],
    seed: int,
    device: str = "auto",
    tensorboard_log: str | os.PathLike[str] | None = None,
) -> Agent:
    """A new agent of ``algorithm`` (``qlearning``, ``rollout`` or an SB3 algorithm)."""
    if algorithm == "qlearning":
        from shopfloor.agents._qlearning import QLearningAgent, QLearningConfig

        config = _config(QLearningConfig, algorithm, hyperparameters)
        return QLearningAgent(env_factory(), config, seed=seed)
    if algorithm == "rollout":
        from shopfloor.agents._rollout import RolloutAgent, RolloutConfig

        settings = _config(RolloutConfig, algorithm, hyperparameters)
        return RolloutAgent(env_factory, settings, seed, device)
    return SB3Agent(algorithm, env_factory, hyperparameters, seed, device, tensorboard_log)


def _config(cls: Callable[..., Any], algorithm: str, hyperparameters: Mapping[str, Any]) -> Any:
    """``cls(**hyperparameters)``, its refusals named by the agent file."""
    try:
        return cls(**dict(hyperparameters))
    except (TypeError, ValueError) as error:
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise AgentConfigError(f"agents/{algorithm}.yaml: {first[:300]}") from None


def load_agent(
    path: str | os.PathLike[str],
    algorithm: str,
    env_factory: Callable[[], gym.Env],
    hyperparameters: Mapping[str, Any],
    seed: int = 0,
    device: str = "auto",
    tensorboard_log: str | os.PathLike[str] | None = None,
) -> Agent:
    """Load a saved agent of ``algorithm`` from ``path``.

    Raises:
        FileNotFoundError: Nothing saved at ``path`` (the message names it).
    """
    if algorithm == "qlearning":
        from shopfloor.agents._qlearning import QLearningAgent

        return QLearningAgent.load(path, env_factory())
    if algorithm == "rollout":
        from shopfloor.agents._rollout import RolloutAgent

        return RolloutAgent.load(path, env_factory, device)
    return SB3Agent.load(
        path, algorithm, env_factory, hyperparameters, seed, device, tensorboard_log
    )
