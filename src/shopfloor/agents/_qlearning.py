"""Tabular Q-learning (Watkins & Dayan 1992), optionally double (van Hasselt 2010).

The agent keeps one action value per (state, action) pair, so it needs a finite state
set: given an env with a 1-D Box observation it cuts a few features into bins with
:class:`~shopfloor.envs.wrappers.DiscretiseObservation` (for ``DynamicJobShop`` the
queue length, share late, mean slack and mean processing time at the choosing machine,
:data:`~shopfloor.envs.wrappers.DYNAMIC_JOB_SHOP_FEATURES`); an env whose observation
is already ``Discrete`` is used as it is. In ``DynamicJobShop`` rule mode the actions
are dispatching rules, so the agent learns which rule to apply in which state.

Training is an explicit loop (CleanRL style): epsilon-greedy actions, one update per
step, epsilon and the step size annealed linearly over ``schedule_timesteps`` (or,
when it is ``None``, over the run's budget) counted on
:attr:`QLearningAgent.num_timesteps`. Everything random is seeded by the agent's
seed: the episodes use env seeds ``seed, seed + 1, ...`` and the action choices a
generator of their own, so the same seed gives the same tables bit for bit, and
``learn(2000); learn(2000)`` equals ``learn(4000)`` (with ``schedule_timesteps`` set,
or the same ``budget`` passed to every call). A saved agent holds the tables,
the counters, the generator states and the actions of the unfinished episode, which
:meth:`QLearningAgent.load` replays on the env it is given; training then goes on
exactly as if it had never stopped.
"""

from __future__ import annotations

import json
import math
import os
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from shopfloor._atomic import replace_atomically
from shopfloor.agents._config import build_config
from shopfloor.agents._registry import AgentSetup, Algorithm, keys_of
from shopfloor.agents._tabular_math import (
    double_q_update,
    epsilon_greedy,
    greedy_action,
    linear_schedule,
    q_update,
)
from shopfloor.envs import DynamicJobShopEnv, FactoryEnv
from shopfloor.envs.wrappers import (
    DYNAMIC_JOB_SHOP_FEATURES,
    DiscretiseObservation,
    quantile_edges,
)

EDGE_KINDS = ("uniform", "quantile")
MAX_TABLE_ENTRIES = 50_000_000
_FORMAT = "shopfloor.qlearning"
_FORMAT_VERSION = 1
_NOT_RESTORED = object()  # the episode marker of a loaded agent: no env episode matches it

Callback = Callable[[dict[str, Any]], Any]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_table_size(n_states: int, n_actions: int) -> None:
    if n_states * n_actions > MAX_TABLE_ENTRIES:
        raise ValueError(
            f"a Q table of {n_states} states x {n_actions} actions is too large; "
            "keep fewer features (QLearningConfig.features) or fewer bins"
        )


@dataclass(frozen=True)
class QLearningConfig:
    """Hyperparameters of :class:`QLearningAgent` (validated on construction)."""

    learning_rate: float = 0.1
    """Step size alpha at the start of training, in (0, 1]."""
    learning_rate_end: float = 0.01
    """Step size reached at the end of the schedule (linear decay), in [0, 1]."""
    epsilon_start: float = 1.0
    """Exploration probability at the start of training, in [0, 1]."""
    epsilon_end: float = 0.05
    """Exploration probability once the exploration fraction has passed, in [0, 1]."""
    exploration_fraction: float = 0.5
    """Share of the schedule over which epsilon decays linearly, in [0, 1]."""
    discount: float = 0.99
    """Discount factor gamma of future rewards, in [0, 1]."""
    double_q: bool = False
    """Learn two tables with double Q-learning (van Hasselt 2010); act on their sum."""
    bins: int = 3
    """Bins per observation feature (edges at Box-bound or sample quantiles), >= 1."""
    features: tuple[int, ...] | None = None
    """Box features kept (default: DYNAMIC_JOB_SHOP_FEATURES in DynamicJobShop, else all)."""
    edges: str = "quantile"
    """Bin edges: "uniform" over the Box bounds or "quantile" of random-action episodes."""
    quantile_episodes: int = 3
    """Random-action episodes sampled for quantile edges (env seeds seed, seed + 1, ...), >= 1."""
    schedule_timesteps: int | None = 50_000
    """Timesteps over which step size and epsilon anneal (counted across learn calls), >= 1;
    ``None``: the run's budget (``learn(..., budget=)``); without one, the steps trained
    by the end of the current ``learn`` call, as SB3 schedules over ``total_timesteps``
    (so there, unlike with a budget, split calls do not equal one call)."""

    def __post_init__(self) -> None:
        for name in (
            "learning_rate",
            "learning_rate_end",
            "epsilon_start",
            "epsilon_end",
            "exploration_fraction",
            "discount",
        ):
            value = getattr(self, name)
            if not _is_number(value) or not math.isfinite(value) or not 0.0 <= value <= 1.0:
                raise ValueError(
                    f"QLearningConfig.{name} must be a number in [0, 1], got {value!r}"
                )
        if self.learning_rate == 0.0:
            raise ValueError("QLearningConfig.learning_rate must be > 0, got 0")
        if not isinstance(self.double_q, bool):
            raise ValueError(
                f"QLearningConfig.double_q must be true or false, got {self.double_q!r}"
            )
        for name in ("bins", "quantile_episodes", "schedule_timesteps"):
            value = getattr(self, name)
            if name == "schedule_timesteps" and value is None:
                continue
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ValueError(f"QLearningConfig.{name} must be an integer >= 1, got {value!r}")
        if self.features is not None:
            features = self.features
            if isinstance(features, (str, bytes)) or not isinstance(features, Sequence):
                raise ValueError(
                    f"QLearningConfig.features must be a list of feature indices, got {features!r}"
                )
            if not features or any(
                not isinstance(f, (int, np.integer)) or isinstance(f, bool) or f < 0
                for f in features
            ):
                raise ValueError(
                    "QLearningConfig.features must be a non-empty list of indices >= 0, "
                    f"got {features!r}"
                )
            if len(set(features)) != len(features):
                raise ValueError(f"QLearningConfig.features has duplicates: {features!r}")
            object.__setattr__(self, "features", tuple(int(f) for f in features))
        if self.edges not in EDGE_KINDS:
            raise ValueError(
                f"QLearningConfig.edges must be one of {EDGE_KINDS}, got {self.edges!r}"
            )


class QLearningAgent:
    """Tabular Q-learning on a discretised (or Discrete) observation.

    Args:
        env: A Gymnasium env with a ``Discrete`` action space and a 1-D ``Box``
            observation (discretised here) or a ``Discrete`` one (used as is). An
            ``action_masks()`` method, if the env has one, restricts the actions.
        config: Hyperparameters (default :class:`QLearningConfig`).
        seed: Seeds everything: episode ``k`` of training resets the env with seed
            ``seed + k``; action choices and double-Q coin flips draw from a generator
            seeded by ``seed``; quantile edges sample episodes ``seed, seed + 1, ...``.

    Attributes:
        env: The env the agent trains in (the discretising wrapper around ``env``).
        q_table: Action values, shape ``(n_states, n_actions)``.
        q_table_b: The second table with ``double_q`` (else ``None``).
        num_timesteps: Environment steps trained so far.
        episodes: Training episodes finished so far.
    """

    def __init__(
        self,
        env: gym.Env[Any, Any],
        config: QLearningConfig | None = None,
        seed: int = 0,
    ):
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
        self.config = config if config is not None else QLearningConfig()
        self.seed = int(seed)
        self._setup(env, edges=None)
        n_states, n_actions = self.table_shape
        self.q_table = np.zeros((n_states, n_actions), dtype=np.float64)
        self.q_table_b = np.zeros_like(self.q_table) if self.config.double_q else None
        self.num_timesteps = 0
        self.episodes = 0
        self._schedule_end = self.config.schedule_timesteps or 1
        train_seed, eval_seed = np.random.SeedSequence(self.seed).spawn(2)
        self._rng = np.random.default_rng(train_seed)
        self._eval_rng = np.random.default_rng(eval_seed)
        self._state: int | None = None  # discrete state of the unfinished episode
        self._episode_actions: list[int] = []
        self._episode_reward = 0.0
        self._episode_marker: object = None

    def __repr__(self) -> str:
        return (
            f"QLearningAgent(seed={self.seed}, states={self.table_shape[0]}, "
            f"actions={self.table_shape[1]}, num_timesteps={self.num_timesteps})"
        )

    @property
    def observation_space(self) -> gym.Space[Any]:
        """The observations the agent reads (the env's, before any discretisation)."""
        env = self.env if self.discretiser is None else self.discretiser.env
        return env.observation_space

    @property
    def action_space(self) -> gym.Space[Any]:
        """The actions the agent answers."""
        return self.env.action_space

    @property
    def acts_on_any_size(self) -> bool:
        """False: the table is indexed by the training env's states."""
        return False

    # -- set-up

    def _setup(self, env: gym.Env[Any, Any], edges: list[np.ndarray] | None) -> None:
        """Wrap ``env`` with the discretiser (edges computed unless given)."""
        config = self.config
        if not isinstance(env.action_space, spaces.Discrete) or env.action_space.start != 0:
            raise ValueError(
                "QLearningAgent needs a Discrete action space starting at 0, "
                f"got {env.action_space}"
            )
        space = env.observation_space
        self.discretiser: DiscretiseObservation | None = None
        self.features: tuple[int, ...] | None = None
        if isinstance(space, spaces.Discrete):
            if space.start != 0:
                raise ValueError(f"a Discrete observation space must start at 0, got {space}")
            self.env: gym.Env[Any, Any] = env
            n_states = int(space.n)
        elif isinstance(space, spaces.Box) and len(space.shape) == 1:
            size = space.shape[0]
            if config.features is not None:
                features = config.features
            elif isinstance(env.unwrapped, DynamicJobShopEnv):
                features = DYNAMIC_JOB_SHOP_FEATURES
            else:
                features = tuple(range(size))
            if max(features) >= size:
                raise ValueError(
                    f"QLearningConfig.features must be indices in [0, {size}) of the "
                    f"observation, got {features}"
                )
            if edges is None:
                _check_table_size(config.bins ** len(features), int(env.action_space.n))
                edges = self._edges(env, features)
            self.discretiser = DiscretiseObservation(
                env, features, edges=[edge.tolist() for edge in edges]
            )
            self.features = tuple(int(f) for f in features)
            self.env = self.discretiser
            discrete = self.discretiser.observation_space
            assert isinstance(discrete, spaces.Discrete)
            n_states = int(discrete.n)
        else:
            raise ValueError(
                f"QLearningAgent needs a 1-D Box or a Discrete observation space, got {space}"
            )
        n_actions = int(env.action_space.n)
        _check_table_size(n_states, n_actions)
        self.table_shape = (n_states, n_actions)

    def _edges(self, env: gym.Env[Any, Any], features: Sequence[int]) -> list[np.ndarray]:
        config = self.config
        if config.edges == "quantile":
            if not callable(getattr(env.unwrapped, "action_masks", None)):
                raise ValueError(
                    "edges='quantile' samples episodes with the env's action_masks(), "
                    f"which {type(env.unwrapped).__name__} lacks; use edges='uniform'"
                )
            return quantile_edges(
                env, features, bins=config.bins, episodes=config.quantile_episodes, seed=self.seed
            )
        box = env.observation_space
        assert isinstance(box, spaces.Box)
        low, high = box.low[list(features)], box.high[list(features)]
        if not (np.isfinite(low).all() and np.isfinite(high).all()):
            raise ValueError(
                "edges='uniform' needs finite Box bounds on the features; use edges='quantile'"
            )
        return [
            np.linspace(float(lo), float(hi), config.bins + 1)[1:-1]
            for lo, hi in zip(low, high, strict=True)
        ]

    # -- schedules

    @property
    def progress(self) -> float:
        """Share of the schedule (``schedule_timesteps`` or the budget) trained, in [0, 1]."""
        return min(self.num_timesteps / self._schedule_end, 1.0)

    @property
    def exploration_rate(self) -> float:
        """Epsilon at the current timestep."""
        config = self.config
        return linear_schedule(
            config.epsilon_start, config.epsilon_end, config.exploration_fraction, self.progress
        )

    @property
    def learning_rate(self) -> float:
        """Step size at the current timestep."""
        config = self.config
        return linear_schedule(config.learning_rate, config.learning_rate_end, 1.0, self.progress)

    # -- acting

    def q_values(self, state: int) -> np.ndarray:
        """Action values of a discrete state (the sum of both tables with double Q)."""
        if self.q_table_b is None:
            return self.q_table[state]
        return self.q_table[state] + self.q_table_b[state]

    def discretise(self, observation: Any) -> int:
        """The discrete state of one observation (raw Box, or Discrete as it is)."""
        if self.discretiser is None:
            state = int(np.asarray(observation).item())
        else:
            array = np.asarray(observation, dtype=np.float64)
            expected = self.discretiser.env.observation_space.shape
            if array.shape != expected:
                raise ValueError(f"observation has shape {array.shape}, expected {expected}")
            state = int(self.discretiser.observation(array))
        if not 0 <= state < self.table_shape[0]:
            raise ValueError(f"state {state} is outside [0, {self.table_shape[0]})")
        return state

    def predict(
        self,
        observation: Any,
        deterministic: bool = True,
        action_masks: np.ndarray | None = None,
        *,
        state: Any = None,
        episode_start: Any = None,
    ) -> tuple[Any, None]:
        """The action for an observation (the ``predict`` protocol shared by all agents).

        Args:
            observation: A raw observation of the env given to the agent (the Box
                vector, not its discretisation), or a batch of them (one per row).
            deterministic: Greedy if true, else epsilon-greedy at the current
                :attr:`exploration_rate`. Ties among equal values are broken at random
                by the agent's seeded evaluation generator (so unvisited states do not
                all fall to action 0).
            action_masks: Valid actions, shape ``(n_actions,)`` (or one row per
                observation of a batch); default all.
            state: Unused (no recurrent state; accepted as Stable-Baselines3's is).
            episode_start: Unused.

        Returns:
            ``(action, None)``: an ``np.int64``, or an array for a batch.
        """
        array = np.asarray(observation)
        single_ndim = 0 if self.discretiser is None else 1
        if array.ndim == single_ndim:
            return np.int64(self._act(array, deterministic, action_masks)), None
        if array.ndim != single_ndim + 1:
            raise ValueError(f"observation has {array.ndim} dimensions, expected {single_ndim}")
        masks: Sequence[Any] = (
            [None] * len(array) if action_masks is None else list(np.asarray(action_masks))
        )
        actions = [
            self._act(row, deterministic, mask) for row, mask in zip(array, masks, strict=True)
        ]
        return np.asarray(actions, dtype=np.int64), None

    def _act(self, observation: Any, deterministic: bool, mask: np.ndarray | None) -> int:
        row = self.q_values(self.discretise(observation))
        if deterministic:
            return greedy_action(row, self._eval_rng, mask)
        return epsilon_greedy(row, self.exploration_rate, self._eval_rng, mask)

    # -- learning

    def _action_mask(self) -> np.ndarray | None:
        masks = getattr(self.env.unwrapped, "action_masks", None)
        return None if masks is None else np.asarray(masks(), dtype=bool)

    def _marker(self) -> object:
        """What identifies the env's current episode (the factory of a shopfloor env)."""
        unwrapped = self.env.unwrapped
        if isinstance(unwrapped, FactoryEnv):
            try:
                return unwrapped.factory
            except RuntimeError:  # never reset
                return None
        return None

    def _sync_env(self) -> None:
        """Rebuild the unfinished episode if the env is not where training left it.

        That is after :meth:`load`, or (for shopfloor envs, whose episodes can be told
        apart) when someone else has reset the env between two :meth:`learn` calls.
        """
        if self._state is not None and self._marker() is not self._episode_marker:
            self._replay_episode()

    def _replay_episode(self) -> None:
        """Reset with the episode's seed and repeat its actions up to the saved state."""
        seed = self.seed + self.episodes
        mismatch = RuntimeError(
            f"replaying episode {self.episodes} (env seed {seed}, "
            f"{len(self._episode_actions)} actions) did not reach the saved state; is "
            "this env built like the one the agent was trained in, and deterministic?"
        )
        observation, _ = self.env.reset(seed=seed)
        ended = False
        try:
            for action in self._episode_actions:
                if ended:
                    raise mismatch
                observation, _, terminated, truncated, _ = self.env.step(action)
                ended = terminated or truncated
        except ValueError as error:  # e.g. an action invalid in this env
            raise mismatch from error
        if ended or int(observation) != self._state:
            raise mismatch
        self._episode_marker = self._marker()

    def learn(
        self,
        total_timesteps: int,
        callback: Callback | None = None,
        *,
        budget: int | None = None,
    ) -> QLearningAgent:
        """Train for ``total_timesteps`` more env steps (resuming where training stopped).

        Args:
            total_timesteps: Steps to take, counted from :attr:`num_timesteps`.
            callback: Called after every step with ``{"num_timesteps", "episodes",
                "episode_reward"}`` (the undiscounted return of the episode that just
                ended, else ``None``); returning ``False`` stops training.
            budget: The run's steps: the length of the schedules when
                ``schedule_timesteps`` is ``None`` (else unused).

        Returns:
            The agent.
        """
        if isinstance(total_timesteps, bool) or not isinstance(total_timesteps, (int, np.integer)):
            raise ValueError(f"total_timesteps must be an integer, got {total_timesteps!r}")
        if total_timesteps < 0:
            raise ValueError(f"total_timesteps must be >= 0, got {total_timesteps}")
        config = self.config
        end = self.num_timesteps + int(total_timesteps)
        if config.schedule_timesteps is None:
            self._schedule_end = max(int(budget) if budget is not None else end, 1)
        self._sync_env()
        while self.num_timesteps < end:
            if self._state is None:
                observation, _ = self.env.reset(seed=self.seed + self.episodes)
                self._state = int(observation)
                self._episode_actions = []
                self._episode_reward = 0.0
                self._episode_marker = self._marker()
            state = self._state
            learning_rate = self.learning_rate
            action = epsilon_greedy(
                self.q_values(state), self.exploration_rate, self._rng, self._action_mask()
            )
            observation, step_reward, terminated, truncated, _ = self.env.step(action)
            reward = float(step_reward)
            next_state = int(observation)
            next_mask = None if terminated else self._action_mask()
            if self.q_table_b is None:
                q_update(
                    self.q_table,
                    state,
                    action,
                    reward,
                    next_state,
                    terminated,
                    learning_rate,
                    config.discount,
                    next_mask,
                )
            else:
                tables = (self.q_table, self.q_table_b)
                first = int(self._rng.random() < 0.5)  # which table learns: a fair coin
                double_q_update(
                    tables[1 - first],
                    tables[first],
                    state,
                    action,
                    reward,
                    next_state,
                    terminated,
                    learning_rate,
                    config.discount,
                    next_mask,
                )
            self.num_timesteps += 1
            self._episode_actions.append(action)
            self._episode_reward += reward
            episode_reward = None
            if terminated or truncated:
                self.episodes += 1
                episode_reward = self._episode_reward
                self._state = None
            else:
                self._state = next_state
            if callback is not None:
                report = {
                    "num_timesteps": self.num_timesteps,
                    "episodes": self.episodes,
                    "episode_reward": episode_reward,
                }
                if callback(report) is False:
                    break
        return self

    # -- saving

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the agent to ``path`` (one ``.npz`` file; replaced atomically).

        The file holds the tables, the actions of the unfinished episode and a JSON
        record of the config, seed, bin edges, counters and generator states.

        Returns:
            The path written.
        """
        target = Path(path)
        meta = {
            "format": _FORMAT,
            "version": _FORMAT_VERSION,
            "config": asdict(self.config),
            "seed": self.seed,
            "table_shape": list(self.table_shape),
            "features": None if self.features is None else list(self.features),
            "edges": None
            if self.discretiser is None
            else [edge.tolist() for edge in self.discretiser.edges],
            "num_timesteps": self.num_timesteps,
            "episodes": self.episodes,
            "schedule_end": self._schedule_end,
            "state": self._state,
            "episode_reward": self._episode_reward,
            "rng": self._rng.bit_generator.state,
            "eval_rng": self._eval_rng.bit_generator.state,
        }
        arrays = {
            "meta": np.array(json.dumps(meta)),
            "q_table": self.q_table,
            "episode_actions": np.asarray(self._episode_actions, dtype=np.int64),
        }
        if self.q_table_b is not None:
            arrays["q_table_b"] = self.q_table_b
        return replace_atomically(target, lambda stream: np.savez(stream, **arrays))  # type: ignore[arg-type]

    @classmethod
    def load(cls, path: str | os.PathLike[str], env: gym.Env[Any, Any]) -> QLearningAgent:
        """Read an agent written by :meth:`save`, to act and train in ``env``.

        ``env`` must be built like the one the agent was trained in (same spaces);
        an unfinished training episode is replayed in it, so :meth:`learn` resumes
        bit for bit.

        Raises:
            FileNotFoundError: Nothing is at ``path``.
            ValueError: The file is not a readable saved agent, or does not fit ``env``.
        """
        source = Path(path)
        if not source.is_file():
            raise FileNotFoundError(f"no saved Q-learning agent at {source}")
        try:
            with np.load(source, allow_pickle=False) as data:
                meta = json.loads(str(data["meta"]))
                q_table = np.array(data["q_table"], dtype=np.float64)
                q_table_b = (
                    np.array(data["q_table_b"], dtype=np.float64)
                    if "q_table_b" in data.files
                    else None
                )
                episode_actions = [int(a) for a in data["episode_actions"]]
            if meta.get("format") != _FORMAT:
                raise ValueError(f"format is {meta.get('format')!r}, not {_FORMAT!r}")
            if meta.get("version") != _FORMAT_VERSION:
                raise ValueError(f"format version {meta.get('version')!r} is not supported")
            settings = dict(meta["config"])
            if settings.get("features") is not None:
                settings["features"] = tuple(settings["features"])
            config = QLearningConfig(**settings)
            edges = meta["edges"]
            schedule_end = meta.get("schedule_end", config.schedule_timesteps or 1)  # older files
            if (
                not isinstance(schedule_end, int)
                or isinstance(schedule_end, bool)
                or (schedule_end < 1)
            ):
                raise ValueError(f"schedule_end must be an integer >= 1, got {schedule_end!r}")
        except (OSError, EOFError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as error:
            raise ValueError(
                f"{source} is not a readable saved Q-learning agent: {error}"
            ) from error
        agent = cls.__new__(cls)
        agent.config = config
        agent.seed = int(meta["seed"])
        try:
            agent._setup(env, edges=None if edges is None else [np.asarray(e) for e in edges])
        except ValueError as error:
            raise ValueError(f"{source} does not fit the env: {error}") from error
        if (agent.discretiser is None) != (edges is None) or tuple(meta["table_shape"]) != (
            agent.table_shape
        ):
            raise ValueError(
                f"{source} holds a table of shape {tuple(meta['table_shape'])} for "
                f"{'discretised' if edges is not None else 'Discrete'} observations; the env "
                f"gives {agent.table_shape} ({env.observation_space}, {env.action_space})"
            )
        if q_table.shape != agent.table_shape or (
            config.double_q and (q_table_b is None or q_table_b.shape != agent.table_shape)
        ):
            raise ValueError(f"{source} is not a readable saved Q-learning agent: bad tables")
        agent.q_table = q_table
        agent.q_table_b = q_table_b if config.double_q else None
        agent.num_timesteps = int(meta["num_timesteps"])
        agent.episodes = int(meta["episodes"])
        agent._schedule_end = schedule_end
        agent._rng = np.random.default_rng()
        agent._rng.bit_generator.state = meta["rng"]
        agent._eval_rng = np.random.default_rng()
        agent._eval_rng.bit_generator.state = meta["eval_rng"]
        agent._state = None if meta["state"] is None else int(meta["state"])
        agent._episode_actions = episode_actions
        agent._episode_reward = float(meta["episode_reward"])
        agent._episode_marker = _NOT_RESTORED  # learn() replays the unfinished episode
        return agent


def _build(setup: AgentSetup) -> QLearningAgent:
    config = build_config(QLearningConfig, "qlearning", setup.hyperparameters)
    return QLearningAgent(setup.env_factory(), config, seed=setup.seed)


def _load(path: str | os.PathLike[str], setup: AgentSetup) -> QLearningAgent:
    return QLearningAgent.load(path, setup.env_factory())


QLEARNING = Algorithm(
    name="qlearning",
    summary="tabular Q-learning on a discretised observation (Watkins 1989)",
    agent_class=QLearningAgent,
    build=_build,
    load=_load,
    load_trained=_load,
    hyperparameter_keys=keys_of(QLearningConfig),
    follows_masks=True,
)
"""The agent registry's entry of :class:`QLearningAgent`."""
