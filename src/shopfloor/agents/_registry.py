"""The agent registry's types: what an algorithm is, and the table that names them.

Each algorithm is one frozen :class:`Algorithm` entry: its name, how its agents are
built, saved (by the agent's own ``save``) and loaded, what it needs of an env (action
masks it can follow, discrete actions, an env check of its own such as the rollout
agent's rule candidates) and which hyperparameters its ``agents/<name>.yaml`` accepts
(the defaults are that file's ``default:`` entry). Callers (the experiment runner, the
bench, the CLI) ask the registry instead of testing names. The entries are listed in
``agents/_algorithms.py``; each algorithm's module defines its own.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import gymnasium as gym
import numpy as np

from shopfloor.agents._config import AgentConfigError

EnvFactory = Callable[[], gym.Env]


@runtime_checkable
class TrainedAgent(Protocol):
    """What acting needs of an agent: its spaces and the shared ``predict`` protocol."""

    @property
    def observation_space(self) -> gym.Space[Any]:
        """The observations the agent reads (as the env it was trained in gives them)."""

    @property
    def action_space(self) -> gym.Space[Any]:
        """The actions it answers."""

    @property
    def acts_on_any_size(self) -> bool:
        """Whether it also acts in shops of other sizes than its training shop."""

    def predict(
        self,
        observation: np.ndarray,
        deterministic: bool = True,
        action_masks: np.ndarray | None = None,
    ) -> tuple[Any, Any]:
        """The shared protocol: ``(action, state)``."""


@runtime_checkable
class Agent(TrainedAgent, Protocol):
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

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Save to ``path`` (an extension may be added); returns the file written."""


@dataclass(frozen=True)
class AgentSetup:
    """What building or loading an agent takes besides the algorithm.

    Attributes:
        env_factory: Builds one env as the run builds it (forecast wrappers included).
        hyperparameters: The resolved entry of ``agents/<algorithm>.yaml``.
        seed: Seed of the agent and its envs.
        device: ``auto``, ``cpu``, ``cuda`` or ``cuda:N``.
        tensorboard_log: Folder for TensorBoard events (None: none).
    """

    env_factory: EnvFactory
    hyperparameters: Mapping[str, Any] = field(default_factory=dict)
    seed: int = 0
    device: str = "auto"
    tensorboard_log: str | os.PathLike[str] | None = None


@dataclass(frozen=True)
class Algorithm:
    """One algorithm of the registry.

    Attributes:
        name: Its name in experiment specs, run folders, ``--agent`` and
            ``agents/<name>.yaml``.
        summary: One line for help texts.
        agent_class: The class of its agents.
        build: A new agent from an :class:`AgentSetup`.
        load: A saved agent (``path`` as its ``save`` was given) to train on.
        load_trained: A saved agent to act only (on the CPU; no env copies, no
            optimizer state where the algorithm can leave them out).
        hyperparameter_keys: The keys its YAML entries accept (besides the runner's
            ``n_envs``, ``vec_env``, ``env_kwargs`` and ``policy``).
        follows_masks: Whether it follows ``action_masks()`` (else every action of
            the env must always be valid).
        discrete_actions: Whether it needs a ``Discrete`` action space.
        vectorised: Whether it trains on Stable-Baselines3 vector envs (``n_envs``,
            ``vec_env``; ``shopfloor bench-train`` times those).
        prior_rule: Whether it accepts ``prior_rule`` and ``prior_logit`` (starting
            from a dispatching rule in a rule-choice env).
        env_check: Its own check of an env (raises ``ValueError`` naming what is
            missing), beyond masks and discrete actions; None: none.
        learns_in: What it learns in, when a budget is rounded up to it.
    """

    name: str
    summary: str
    agent_class: type
    build: Callable[[AgentSetup], Agent]
    load: Callable[[str | os.PathLike[str], AgentSetup], Agent]
    load_trained: Callable[[str | os.PathLike[str], AgentSetup], TrainedAgent]
    hyperparameter_keys: Callable[[], Iterable[str]]
    follows_masks: bool = False
    discrete_actions: bool = True
    vectorised: bool = False
    prior_rule: bool = False
    env_check: Callable[[gym.Env], None] | None = None
    learns_in: str = "steps"

    def __post_init__(self) -> None:
        if (
            not self.name
            or not self.name.replace("_", "").isalnum()
            or self.name != self.name.lower()
        ):
            raise ValueError(
                f"an algorithm's name is lower-case letters, digits and '_', got {self.name!r}"
            )

    def defaults(self, directory: str | os.PathLike[str] | None = None) -> dict[str, Any]:
        """Its default hyperparameters: the ``default:`` entry of ``agents/<name>.yaml``.

        Raises:
            AgentConfigError: The file is missing or malformed.
        """
        from shopfloor.agents._config import load_hyperparameters

        return load_hyperparameters(self.name, directory=directory)

    def check_env(self, env: gym.Env) -> None:
        """Raise ``ValueError`` unless agents of this algorithm can learn in ``env``."""
        if self.discrete_actions and not isinstance(env.action_space, gym.spaces.Discrete):
            raise ValueError(f"{self.name} needs discrete actions, the env has {env.action_space}")
        if not self.follows_masks and bool(getattr(env.unwrapped, "masks_actions", False)):
            raise ValueError(
                f"{self.name} cannot follow action masks, and some actions of this env are "
                "invalid at times (a static job shop, or action_mode job)"
            )
        if self.env_check is not None:
            self.env_check(env)


class AlgorithmRegistry(MutableMapping[str, Algorithm]):
    """Algorithms by name, in the order they were registered.

    A mapping: ``"ppo" in ALGORITHMS``, ``list(ALGORITHMS)`` gives the names.
    :meth:`copy` gives an independent registry (e.g. to try a new algorithm in a test).
    """

    def __init__(self, algorithms: Iterable[Algorithm] = ()):
        self._entries: dict[str, Algorithm] = {}
        for algorithm in algorithms:
            self.register(algorithm)

    def register(self, algorithm: Algorithm) -> Algorithm:
        """Add ``algorithm``; a name already registered is refused (``ValueError``)."""
        if algorithm.name in self._entries:
            raise ValueError(f"algorithm {algorithm.name!r} is already registered")
        self._entries[algorithm.name] = algorithm
        return algorithm

    def resolve(self, name: str) -> Algorithm:
        """The entry of ``name``.

        Raises:
            AgentConfigError: An unknown name (the message lists the known ones).
        """
        try:
            return self._entries[name]
        except (KeyError, TypeError):
            raise AgentConfigError(
                f"unknown algorithm {str(name)[:40]!r}; choose from {', '.join(self)}"
            ) from None

    def names(self, **needs: bool) -> tuple[str, ...]:
        """The names of the algorithms whose fields equal ``needs``, e.g. ``vectorised=True``."""
        return tuple(
            name
            for name, algorithm in self._entries.items()
            if all(getattr(algorithm, key) == value for key, value in needs.items())
        )

    def fitting(self, env: gym.Env) -> tuple[str, ...]:
        """The names of the algorithms that can learn in ``env`` (:meth:`Algorithm.check_env`)."""
        names = []
        for name, algorithm in self._entries.items():
            try:
                algorithm.check_env(env)
            except ValueError:
                continue
            names.append(name)
        return tuple(names)

    def copy(self) -> AlgorithmRegistry:
        """An independent registry with the same entries."""
        return AlgorithmRegistry(self._entries.values())

    def __getitem__(self, name: str) -> Algorithm:
        return self._entries[name]

    def __setitem__(self, name: str, algorithm: Algorithm) -> None:
        if name != algorithm.name:
            raise ValueError(f"registered as {name!r} but named {algorithm.name!r}")
        self._entries[name] = algorithm

    def __delitem__(self, name: str) -> None:
        del self._entries[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"AlgorithmRegistry({list(self._entries)})"


def keys_of(*classes: Callable[..., Any], drop: Iterable[str] = ()) -> Callable[[], frozenset[str]]:
    """``hyperparameter_keys`` from constructor signatures (evaluated when asked)."""

    def keys() -> frozenset[str]:
        import inspect

        names: set[str] = set()
        for cls in classes:
            names |= set(inspect.signature(cls).parameters)
        return frozenset(names - set(drop))

    return keys
