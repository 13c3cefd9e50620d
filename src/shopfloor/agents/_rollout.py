"""Rule choice learned from rollouts: approximate policy iteration with sampled futures.

:class:`RolloutAgent` learns which dispatching rule to apply in a
:class:`~shopfloor.envs.DynamicJobShopEnv` (rule mode) the way rollout algorithms
improve a base policy (Bertsekas, Tsitsiklis & Wu 1997), with the improvement learned
by a network instead of simulated at every choice (approximate policy iteration,
Lagoudakis & Parr 2003; Bertsekas 2019, "Reinforcement Learning and Optimal Control",
ch. 5):

1. Play training episodes. At each choice, and for each distinct job the rules would
   start, simulate the rest of the episode ``futures`` times, each time redrawing what
   is not known at the choice (:meth:`~shopfloor.sim.Factory.resample_future`: later
   arrivals, times, failures), then following the current policy. The futures are
   common to the candidate jobs, so their mean objectives compare like for like.
2. Fit a network that scores one candidate job from the choice's context and the
   features of that job and of the base rule's job (the env's ``rule_candidates``
   block). The loss is the expected regret of a softmax policy over each choice's
   candidates (``temperature``), the simulated objective lost against the choice's
   best candidate, plus a Huber regression of each score minus the base job's to the
   mean objective minus the base job's (``regression_weight``). The regret term
   learns what matters, which candidate to pick where it makes a difference; the
   regression term anchors the scores to the objective's units.
3. The new policy applies a rule whose job has the lowest score (the base rule's on a
   tie). Repeat from 1 with it as the policy the simulations follow.

The first iteration's policy is the base rule. An iteration lasts ``iteration_steps``
simulated steps; its network is fitted afresh on its own labels only. Episodes follow
the best-scored candidate of the labels (with probability ``exploration`` a random
rule), so they visit the states an improved policy meets. Acting needs only the
observation: no simulation at run time.

It is model-based in one respect a model-free agent is not: training branches the
simulation at a choice (the shop's spec and state are known to the simulator). Every
simulated step counts towards ``num_timesteps``, so budgets compare honestly with
other agents' env steps: one labelled episode costs about ``choices x candidates x
futures`` episodes.
"""

from __future__ import annotations

import itertools
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
import torch
from torch import nn

from shopfloor._atomic import replace_atomically
from shopfloor.agents._config import build_config
from shopfloor.agents._device import configure_threads, select_device
from shopfloor.agents._registry import AgentSetup, Algorithm, keys_of
from shopfloor.envs import FAMILIES, DynamicJobShopEnv, family_of
from shopfloor.envs.dynamic_job_shop import GLOBAL_FEATURES, SLOT_FEATURES
from shopfloor.sim import DispatchingRule

Callback = Callable[[dict[str, Any]], Any]
_FORMAT = "shopfloor-rollout-agent"
_FORMAT_VERSION = 2  # 2: labels grouped by choice (v1 files load when they hold none)


def _is_int(value: Any, low: int) -> bool:
    return bool(
        isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= low
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True)
class RolloutConfig:
    """Hyperparameters of :class:`RolloutAgent` (validated on construction)."""

    base_rule: str = "atcjs"
    """The rule the first iteration's simulations follow and ties go to; in the env's rules."""
    iteration_steps: int = 2_000_000
    """Simulated steps per policy iteration, >= 1: a network is fitted at the end of the
    first episode that reaches a multiple of it (a budget that is a multiple ends there)."""
    futures: int = 4
    """Sampled futures per candidate job and choice, >= 1."""
    exploration: float = 0.1
    """Probability that a training episode takes a random rule at a choice, in [0, 1]."""
    hidden: tuple[int, ...] = (64, 64)
    """Hidden layer widths of the scoring network (tanh)."""
    epochs: int = 50
    """Passes over an iteration's labels when fitting, >= 1."""
    batch_size: int = 64
    """Choices (each with all its labelled candidates) per minibatch when fitting, >= 1."""
    learning_rate: float = 1e-3
    """Adam step size, > 0."""
    weight_decay: float = 1e-4
    """Adam weight decay, >= 0."""
    temperature: float = 0.03
    """Softmax temperature of the regret loss, in the env objective's units, > 0."""
    regression_weight: float = 1.0
    """Weight of the Huber regression of the scores in the loss, >= 0."""
    huber_delta: float = 1.0
    """Huber loss threshold, in the env objective's units, > 0."""

    def __post_init__(self) -> None:
        try:
            DispatchingRule.parse(self.base_rule)
        except ValueError as error:
            raise ValueError(f"RolloutConfig.base_rule: {error}") from None
        for name in ("iteration_steps", "futures", "epochs", "batch_size"):
            if not _is_int(getattr(self, name), 1):
                raise ValueError(
                    f"RolloutConfig.{name} must be an integer >= 1, got {getattr(self, name)!r}"
                )
        if not _is_number(self.exploration) or not 0.0 <= self.exploration <= 1.0:
            raise ValueError(
                f"RolloutConfig.exploration must be a number in [0, 1], got {self.exploration!r}"
            )
        for name in ("learning_rate", "temperature", "huber_delta"):
            if not _is_number(getattr(self, name)) or getattr(self, name) <= 0:
                raise ValueError(
                    f"RolloutConfig.{name} must be a number > 0, got {getattr(self, name)!r}"
                )
        for name in ("weight_decay", "regression_weight"):
            if not _is_number(getattr(self, name)) or getattr(self, name) < 0:
                raise ValueError(
                    f"RolloutConfig.{name} must be a number >= 0, got {getattr(self, name)!r}"
                )
        hidden = self.hidden
        if isinstance(hidden, (str, bytes)) or not isinstance(hidden, Sequence):
            raise ValueError(f"RolloutConfig.hidden must be a list of widths, got {hidden!r}")
        if not all(_is_int(width, 1) for width in hidden):
            raise ValueError(f"RolloutConfig.hidden must hold integers >= 1, got {hidden!r}")
        object.__setattr__(self, "hidden", tuple(int(width) for width in hidden))


def check_rollout_env(env: gym.Env[Any, Any]) -> None:
    """Raise ``ValueError`` unless :class:`RolloutAgent` can learn in ``env``."""
    unwrapped = env.unwrapped
    family = FAMILIES["DynamicJobShop"]
    rule_mode = getattr(unwrapped, "action_mode", None) == family.rule_mode_option
    if family_of(env) is not family or not rule_mode:
        raise ValueError(
            f"the rollout agent needs {family.id} with action_mode {family.rule_mode_option!r}"
        )
    assert isinstance(unwrapped, DynamicJobShopEnv)
    if not unwrapped.rule_candidates:
        raise ValueError(
            "the rollout agent scores each rule's job: give the env rule_candidates: true"
        )


@dataclass(frozen=True)
class _Layout:
    """Where the parts of a rule-candidates observation are."""

    context: np.ndarray  # indices: global features, machine one-hot, wrapper features
    candidates: int  # start of the per-rule rows
    rules: int
    base: int  # index of the base rule
    size: int

    @classmethod
    def of(cls, env: gym.Env[Any, Any], base_rule: str) -> _Layout:
        check_rollout_env(env)
        unwrapped: DynamicJobShopEnv = env.unwrapped  # type: ignore[assignment]
        base = DispatchingRule.parse(base_rule)
        if base not in unwrapped.rules:
            names = [rule.value for rule in unwrapped.rules]
            raise ValueError(
                f"base_rule {base.value!r} is not in the env's rules {names}; add it to "
                "the env's rules or set another base_rule (agents/rollout.yaml)"
            )
        space = env.observation_space
        if not isinstance(space, gym.spaces.Box) or len(space.shape) != 1:
            raise ValueError(f"the rollout agent needs a 1-D Box observation, got {space}")
        head = GLOBAL_FEATURES + unwrapped.n_machines
        start = head + SLOT_FEATURES * unwrapped.slots
        end = start + SLOT_FEATURES * len(unwrapped.rules)
        size = int(space.shape[0])
        context = np.concatenate([np.arange(head), np.arange(end, size)]).astype(np.int64)
        return cls(context, start, len(unwrapped.rules), unwrapped.rules.index(base), size)

    @property
    def features(self) -> int:
        """Inputs of the scoring network."""
        return len(self.context) + 3 * SLOT_FEATURES

    def inputs(self, observation: np.ndarray) -> np.ndarray:
        """One network input per rule: context, the rule's job, the base's, their difference."""
        rows = observation[self.candidates : self.candidates + self.rules * SLOT_FEATURES]
        rows = rows.reshape(self.rules, SLOT_FEATURES)
        base = np.broadcast_to(rows[self.base], rows.shape)
        context = np.broadcast_to(observation[self.context], (self.rules, len(self.context)))
        return np.concatenate([context, rows, base, rows - base], axis=1).astype(np.float32)


def _grouped(
    inputs: list[np.ndarray], targets: list[float], choices: list[int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Labels padded per choice, or ``None`` when there are none.

    Returns inputs ``(choices, k, features)``, costs and validity ``(choices, k)``.
    """
    if not inputs:
        return None
    ids = np.asarray(choices)
    _, first, counts = np.unique(ids, return_index=True, return_counts=True)
    width = int(counts.max())
    position = np.arange(len(ids)) - np.repeat(first, counts)
    group = np.repeat(np.arange(len(first)), counts)
    x = np.zeros((len(first), width, len(inputs[0])), dtype=np.float32)
    cost = np.zeros((len(first), width), dtype=np.float32)
    valid = np.zeros((len(first), width), dtype=bool)
    x[group, position] = np.asarray(inputs, dtype=np.float32)
    cost[group, position] = targets
    valid[group, position] = True
    return x, cost, valid


class RolloutAgent:
    """Rule choice by approximate policy iteration over sampled-future rollouts.

    Args:
        env_factory: Builds the env (``shopfloor/DynamicJobShop-v1``, rule mode,
            ``rule_candidates=True``, possibly wrapped, e.g. with an arrival forecast).
            The agent builds two: one for its episodes, one for the simulations.
        config: Hyperparameters (default :class:`RolloutConfig`).
        seed: Seeds everything: training episode ``k`` resets with a seed drawn from
            ``SeedSequence([seed, k])``, exploration draws from a generator seeded by
            ``seed``, and iteration ``i``'s network is initialised and shuffled from
            ``[seed, i]``.
        device: Where networks are fitted (``auto``, ``cpu``, ``cuda[:N]``); acting
            always runs on the CPU (numpy).

    Attributes:
        num_timesteps: Env steps simulated so far (episodes and their simulations).
        episodes: Labelled training episodes so far.
        iteration: Policy iterations finished (networks fitted).
    """

    def __init__(
        self,
        env_factory: Callable[[], gym.Env[Any, Any]],
        config: RolloutConfig | None = None,
        seed: int = 0,
        device: str = "auto",
    ):
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
        self.config = config if config is not None else RolloutConfig()
        self.seed = int(seed)
        self.device = select_device(device)
        self._env_factory = env_factory
        self.env = env_factory()
        self.layout = _Layout.of(self.env, self.config.base_rule)
        self._simulator: gym.Env[Any, Any] | None = None
        self.num_timesteps = 0
        self.episodes = 0
        self.iteration = 0
        self.weights: list[tuple[np.ndarray, np.ndarray]] = []
        self._rng = np.random.default_rng(np.random.SeedSequence([self.seed, 2**31]))
        self._inputs: list[np.ndarray] = []  # labelled candidates of this iteration
        self._targets: list[float] = []
        self._choices: list[int] = []  # the choice of each label (its base job's first)

    def __repr__(self) -> str:
        return (
            f"RolloutAgent(seed={self.seed}, iteration={self.iteration}, "
            f"episodes={self.episodes}, num_timesteps={self.num_timesteps})"
        )

    @property
    def observation_space(self) -> gym.Space[Any]:
        """The observations the agent reads (its env's)."""
        return self.env.observation_space

    @property
    def action_space(self) -> gym.Space[Any]:
        """The rules it chooses among."""
        return self.env.action_space

    @property
    def acts_on_any_size(self) -> bool:
        """False: the network reads the training env's layout."""
        return False

    # -- acting

    def scores(self, observation: np.ndarray) -> np.ndarray:
        """Each rule's score (lower is better; 0 for all before the first iteration)."""
        if not self.weights:
            return np.zeros(self.layout.rules)
        inputs = self.layout.inputs(np.asarray(observation, dtype=np.float32))
        hidden = inputs.astype(np.float64)
        for layer, (weight, bias) in enumerate(self.weights):
            hidden = hidden @ weight.T + bias
            if layer < len(self.weights) - 1:
                hidden = np.tanh(hidden)
        result: np.ndarray = hidden[:, 0] - hidden[self.layout.base, 0]
        return result

    def _act(self, observation: np.ndarray) -> int:
        scores = self.scores(observation)
        best = int(np.argmin(scores))
        return best if scores[best] < 0.0 else self.layout.base

    def predict(
        self,
        observation: Any,
        deterministic: bool = True,
        action_masks: np.ndarray | None = None,
        *,
        state: Any = None,
        episode_start: Any = None,
    ) -> tuple[Any, None]:
        """The rule for an observation (or a batch, one per row); the shared protocol.

        Args:
            observation: The env's observation.
            deterministic: Ignored: the policy is deterministic.
            action_masks: Ignored: every rule is always valid.
            state: Unused (accepted as Stable-Baselines3's is).
            episode_start: Unused.

        Returns:
            ``(action, None)``: an ``np.int64``, or an array for a batch.
        """
        array = np.asarray(observation, dtype=np.float32)
        if array.ndim == 1 and array.shape[0] == self.layout.size:
            return np.int64(self._act(array)), None
        if array.ndim == 2 and array.shape[1] == self.layout.size:
            return np.asarray([self._act(row) for row in array], dtype=np.int64), None
        raise ValueError(
            f"observation of shape {array.shape} does not fit the agent's env "
            f"({self.layout.size} features)"
        )

    # -- learning

    def learn(
        self,
        total_timesteps: int,
        callback: Callback | None = None,
        *,
        budget: int | None = None,
    ) -> RolloutAgent:
        """Simulate at least ``total_timesteps`` more steps, in whole labelled episodes.

        A network is fitted after the episode that reaches each multiple of
        ``iteration_steps``.

        Args:
            total_timesteps: Steps to simulate in this call, >= 1.
            callback: Called after each labelled episode with ``num_timesteps``,
                ``episodes`` and ``episode_reward`` (the episode's total reward);
                returning ``False`` stops.
            budget: Unused (the schedule does not depend on the run's length).
        """
        if not _is_int(total_timesteps, 1):
            raise ValueError(f"total_timesteps must be an integer >= 1, got {total_timesteps!r}")
        configure_threads(torch.device("cpu"))
        target = self.num_timesteps + int(total_timesteps)
        while self.num_timesteps < target:
            reward = self._label_episode()
            self.episodes += 1
            if self.num_timesteps >= (self.iteration + 1) * self.config.iteration_steps:
                self._fit()
            if callback is not None:
                report = {
                    "num_timesteps": self.num_timesteps,
                    "episodes": self.episodes,
                    "episode_reward": reward,
                }
                if callback(report) is False:
                    break
        return self

    def _episode_seed(self, episode: int) -> int:
        return int(np.random.SeedSequence([self.seed, episode]).generate_state(1)[0])

    def _label_episode(self) -> float:
        """Play one training episode, labelling each choice with two or more candidate jobs."""
        env = self.env
        unwrapped: DynamicJobShopEnv = env.unwrapped  # type: ignore[assignment]
        seed = self._episode_seed(self.episodes)
        observation, _ = env.reset(seed=seed)
        prefix: list[int] = []
        total, done = 0.0, unwrapped.factory.done
        while not done:
            picks = unwrapped.rule_picks()
            action = self.layout.base
            if len(set(picks)) > 1:
                outcomes = self._simulate(seed, prefix, picks)
                inputs = self.layout.inputs(np.asarray(observation, dtype=np.float32))
                base_job = picks[self.layout.base]
                choice = self._choices[-1] + 1 if self._choices else 0
                for job in sorted(outcomes, key=lambda job: job != base_job):
                    self._inputs.append(inputs[picks.index(job)])
                    self._targets.append(outcomes[job] - outcomes[base_job])
                    self._choices.append(choice)
                if self._rng.random() < self.config.exploration:
                    action = int(self._rng.integers(len(picks)))
                else:
                    best = min(
                        outcomes, key=lambda job: (outcomes[job], job != picks[self.layout.base])
                    )
                    action = picks.index(best)
            prefix.append(action)
            observation, reward, terminated, truncated, _ = env.step(action)
            total += float(reward)
            self.num_timesteps += 1
            done = terminated or truncated
        return total

    def _simulate(self, seed: int, prefix: list[int], picks: list[int]) -> dict[int, float]:
        """Mean objective over the sampled futures after starting each candidate job."""
        if self._simulator is None:
            self._simulator = self._env_factory()
        futures = [
            int(np.random.SeedSequence([seed, len(prefix), k, 7]).generate_state(1)[0])
            for k in range(self.config.futures)
        ]
        outcomes: dict[int, float] = {}
        for job in dict.fromkeys(picks):  # distinct, in rule order
            action = picks.index(job)
            total = sum(self._finish(seed, [*prefix, action], future) for future in futures)
            outcomes[job] = total / len(futures)
        return outcomes

    def _finish(self, seed: int, prefix: list[int], future: int) -> float:
        """The objective of one simulated episode.

        It replays ``prefix`` from ``seed``, redraws the future before the last action
        of it, and finishes with the current policy. Choices that need no observation
        (the replay, and the base rule before the first network) take the env's fast
        path, :meth:`~shopfloor.envs.DynamicJobShopEnv.advance`.
        """
        env = self._simulator
        assert env is not None
        unwrapped: DynamicJobShopEnv = env.unwrapped  # type: ignore[assignment]
        env.reset(seed=seed)
        *replay, last = prefix
        for action in replay:
            self.num_timesteps += 1
            if unwrapped.advance(action):
                return unwrapped.episode_objective()
        unwrapped.factory.resample_future(future)
        if not self.weights:
            done = unwrapped.advance(last)
            self.num_timesteps += 1
            while not done:
                done = unwrapped.advance(self.layout.base)
                self.num_timesteps += 1
            return unwrapped.episode_objective()
        action = last
        while True:
            observation, _, terminated, truncated, _ = env.step(action)
            self.num_timesteps += 1
            if terminated or truncated:
                return unwrapped.episode_objective()
            action = self._act(observation)

    def _fit(self) -> None:
        """Fit this iteration's network to its labels; it becomes the policy."""
        config = self.config
        self.iteration += 1
        labels = _grouped(self._inputs, self._targets, self._choices)
        self._inputs, self._targets, self._choices = [], [], []
        if labels is None:  # no choice had two candidates: keep the policy
            return
        generator = torch.Generator().manual_seed(
            int(np.random.SeedSequence([self.seed, self.iteration]).generate_state(1)[0])
        )
        torch.manual_seed(int(torch.randint(2**31, (1,), generator=generator)))
        widths = [self.layout.features, *config.hidden, 1]
        layers: list[nn.Module] = []
        for index, (n_in, n_out) in enumerate(itertools.pairwise(widths)):
            layers.append(nn.Linear(n_in, n_out))
            if index < len(widths) - 2:
                layers.append(nn.Tanh())
        network = nn.Sequential(*layers).to(self.device)
        optimiser = torch.optim.Adam(
            network.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
        )
        x, cost, valid = (torch.from_numpy(array).to(self.device) for array in labels)
        regret = torch.where(valid, cost - cost.masked_fill(~valid, math.inf).amin(1, True), 0.0)
        for _ in range(config.epochs):
            order = torch.randperm(len(x), generator=generator).to(self.device)
            for start in range(0, len(x), config.batch_size):
                batch = order[start : start + config.batch_size]
                scores = network(x[batch])[..., 0]
                relative = scores - scores[:, :1]  # each choice's base job comes first
                mask = valid[batch]
                policy = torch.softmax(
                    (-relative / config.temperature).masked_fill(~mask, -math.inf), dim=1
                )
                loss = (policy * regret[batch]).sum(1).mean()
                if config.regression_weight:
                    loss = loss + config.regression_weight * nn.functional.huber_loss(
                        relative[mask], cost[batch][mask], delta=config.huber_delta
                    )
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
        self.weights = [
            (
                layer.weight.detach().cpu().double().numpy(),
                layer.bias.detach().cpu().double().numpy(),
            )
            for layer in network
            if isinstance(layer, nn.Linear)
        ]

    # -- saving

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the agent to ``path`` (one ``.npz`` file, replaced atomically).

        It holds the network, this iteration's labels so far, the counters and the
        exploration generator's state, so :meth:`learn` resumes bit for bit.

        Returns:
            The path written.
        """
        target = Path(path)
        if target.suffix != ".npz":
            target = target.with_name(target.name + ".npz")
        meta = {
            "format": _FORMAT,
            "version": _FORMAT_VERSION,
            "config": asdict(self.config),
            "seed": self.seed,
            "num_timesteps": self.num_timesteps,
            "episodes": self.episodes,
            "iteration": self.iteration,
            "layers": len(self.weights),
            "observation_size": self.layout.size,
            "rules": [rule.value for rule in self.env.unwrapped.rules],  # type: ignore[attr-defined]
            "rng": self._rng.bit_generator.state,
        }
        arrays: dict[str, np.ndarray] = {
            "meta": np.array(json.dumps(meta)),
            "inputs": np.asarray(self._inputs, dtype=np.float32).reshape(-1, self.layout.features),
            "targets": np.asarray(self._targets, dtype=np.float64),
            "choices": np.asarray(self._choices, dtype=np.int64),
        }
        for index, (weight, bias) in enumerate(self.weights):
            arrays[f"weight_{index}"] = weight
            arrays[f"bias_{index}"] = bias
        return replace_atomically(target, lambda stream: np.savez(stream, **arrays))  # type: ignore[arg-type]

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        env_factory: Callable[[], gym.Env[Any, Any]],
        device: str = "auto",
    ) -> RolloutAgent:
        """Read an agent written by :meth:`save`, to act and train in ``env_factory``'s env.

        Raises:
            FileNotFoundError: Nothing is at ``path`` (nor at ``path.npz``).
            ValueError: The file is not a readable saved rollout agent, or was trained
                on an env with other rules or observations.
        """
        source = Path(path)
        if not source.is_file() and source.with_name(source.name + ".npz").is_file():
            source = source.with_name(source.name + ".npz")
        if not source.is_file():
            raise FileNotFoundError(f"no saved rollout agent at {source}")
        try:
            with np.load(source, allow_pickle=False) as data:
                meta = json.loads(str(data["meta"]))
                if meta.get("format") != _FORMAT:
                    raise ValueError(f"format is {meta.get('format')!r}, not {_FORMAT!r}")
                version = meta.get("version")
                if version not in (1, _FORMAT_VERSION):
                    raise ValueError(f"format version {version!r} is not supported")
                weights = [
                    (np.array(data[f"weight_{i}"]), np.array(data[f"bias_{i}"]))
                    for i in range(int(meta["layers"]))
                ]
                inputs = np.array(data["inputs"], dtype=np.float32)
                targets = [float(t) for t in data["targets"]]
                if version == 1 and len(inputs):
                    raise ValueError(
                        "it was saved mid-iteration in format version 1, whose labels are "
                        "not grouped by choice; train afresh"
                    )
                choices = [int(c) for c in data["choices"]] if version != 1 else []
            config = RolloutConfig(**meta["config"])
        except (OSError, EOFError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as error:
            raise ValueError(f"{source} is not a readable saved rollout agent: {error}") from error
        agent = cls(env_factory, config, int(meta["seed"]), device)
        rules = [rule.value for rule in agent.env.unwrapped.rules]  # type: ignore[attr-defined]
        if rules != meta["rules"] or agent.layout.size != meta["observation_size"]:
            raise ValueError(
                f"{source} was trained on rules {meta['rules']} with "
                f"{meta['observation_size']} observation features; this env has rules "
                f"{rules} and {agent.layout.size}"
            )
        agent.weights = weights
        agent.num_timesteps = int(meta["num_timesteps"])
        agent.episodes = int(meta["episodes"])
        agent.iteration = int(meta["iteration"])
        agent._rng.bit_generator.state = meta["rng"]
        agent._inputs = list(inputs)
        agent._targets = targets
        agent._choices = choices
        return agent


def _build(setup: AgentSetup) -> RolloutAgent:
    config = build_config(RolloutConfig, "rollout", setup.hyperparameters)
    return RolloutAgent(setup.env_factory, config, setup.seed, setup.device)


def _load(path: str | os.PathLike[str], setup: AgentSetup) -> RolloutAgent:
    return RolloutAgent.load(path, setup.env_factory, setup.device)


ROLLOUT = Algorithm(
    name="rollout",
    summary="rule choice by approximate policy iteration over sampled-future rollouts",
    agent_class=RolloutAgent,
    build=_build,
    load=_load,
    load_trained=_load,
    hyperparameter_keys=keys_of(RolloutConfig),
    env_check=check_rollout_env,
    learns_in="whole labelled episodes (their simulations included)",
)
"""The agent registry's entry of :class:`RolloutAgent`."""
