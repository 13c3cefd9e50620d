"""The self-labelling agent: :class:`ShopAttention` trained on its own best samples.

Each update draws ``instances`` new random shops of one training size (the env's
generator, classic or flexible, or each of ``sizes`` in turn), samples ``samples``
schedules of each with the current policy in one batched core, and takes ``epochs``
gradient steps on the cross-entropy of the policy's choices along each shop's best
schedule (SLIM, Corsini et al. 2024; :mod:`shopfloor.agents._self_labelling`). Every
scheduled operation of every sample counts as an env step in ``num_timesteps``, so
budgets compare honestly with other agents' steps: an update costs ``instances x
samples x operations`` steps.

The experiment runner evaluates it greedily on held-out episodes of the env (which
pick the best checkpoint), checkpoints it and resumes it: a saved agent holds the
network, the optimizer, both random generators' states and the counters, so a run
killed and resumed gives the same weights as one never stopped. Model files are
``.npz`` data (:mod:`shopfloor.agents._state_file`): loading one runs no code.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from shopfloor.agents._attention import (
    JOB_FEATURES,
    MACHINE_FEATURES,
    ShopAttention,
    choose_jobs,
)
from shopfloor.agents._config import build_config
from shopfloor.agents._device import configure_threads, select_device
from shopfloor.agents._registry import AgentSetup, Algorithm, keys_of
from shopfloor.agents._self_labelling import Instance, Rollouts, sample, self_labelling_step
from shopfloor.agents._state_file import ModelFileError, load_state, save_state
from shopfloor.envs import GeneratorSpec

Callback = Callable[[dict[str, Any]], Any]
FORMAT = "shopfloor-self-labelling"
FORMAT_VERSION = 1


def _positive_int(value: Any) -> bool:
    return bool(isinstance(value, int | np.integer) and not isinstance(value, bool) and value >= 1)


LIMITS = {"width": 512, "heads": 64, "layers": 16, "samples": 4096, "instances": 4096}
LIMITS["epochs"] = 1000
"""The largest settings accepted (larger ones are typing errors, not experiments)."""
MAX_ROWS = 65536
"""At most this many schedules per update (samples x instances), sampled side by side."""


@dataclass(frozen=True)
class SelfLabellingConfig:
    """Hyperparameters of :class:`SelfLabellingAgent` (``agents/self_labelling.yaml``).

    Attributes:
        width: Token width of the attention network.
        heads: Attention heads.
        layers: Attention layers.
        work_prior: The policy starts as a softened MWKR this strong (see
            :class:`ShopAttention`); 0: from scratch.
        samples: Schedules sampled per instance and update (K).
        instances: Instances per update (G).
        epochs: Gradient steps on each update's labels.
        learning_rate: Adam's step size.
        max_grad_norm: Gradients are clipped to this norm.
        sizes: Training sizes ``[[jobs, machines], ...]``, one per update in turn;
            empty: the env generator's size.
        low: Shortest operation of generated instances (None: the env generator's).
        high: Longest operation (None: the env generator's).
        init: Start from these weights instead of random ones: a model file of this
            algorithm (``.npz``: a run's ``model.npz`` or ``best_model.npz``) or
            ``pretrained:<name>`` (a model shipped in the package); its width, heads and
            layers must be these. None: random weights from the seed.
    """

    width: int = 64
    heads: int = 4
    layers: int = 2
    work_prior: float = 0.0
    samples: int = 64
    instances: int = 4
    epochs: int = 1
    learning_rate: float = 2.0e-4
    max_grad_norm: float = 1.0
    sizes: list[list[int]] = field(default_factory=list)
    low: int | None = None
    high: int | None = None
    init: str | None = None

    def __post_init__(self) -> None:
        for name in ("width", "heads", "layers", "samples", "instances", "epochs"):
            if not _positive_int(getattr(self, name)):
                raise ValueError(f"{name}: expected an integer >= 1, got {getattr(self, name)!r}")
            if getattr(self, name) > LIMITS[name]:
                raise ValueError(
                    f"{name}: {getattr(self, name):,} is above the limit {LIMITS[name]:,}"
                )
        if self.samples * self.instances > MAX_ROWS:
            raise ValueError(
                f"samples x instances: {self.samples * self.instances:,} schedules per update "
                f"is above the limit {MAX_ROWS:,} (they run side by side in one core)"
            )
        if self.width % self.heads:
            raise ValueError(f"width {self.width} is not a multiple of heads {self.heads}")
        prior = self.work_prior
        if (
            isinstance(prior, bool)
            or not isinstance(prior, int | float)
            or not (math.isfinite(prior) and prior >= 0)
        ):
            raise ValueError(f"work_prior: expected a number >= 0, got {prior!r}")
        for name in ("learning_rate", "max_grad_norm"):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not (math.isfinite(value) and value > 0)
            ):
                raise ValueError(f"{name}: expected a positive number, got {value!r}")
        if not isinstance(self.sizes, list) or not all(
            isinstance(size, list) and len(size) == 2 and all(_positive_int(n) for n in size)
            for size in self.sizes
        ):
            raise ValueError(f"sizes: expected [[jobs, machines], ...], got {self.sizes!r}")
        for name in ("low", "high"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise ValueError(f"{name}: expected an integer, got {value!r}")
        if self.init is not None and (not isinstance(self.init, str) or not self.init.strip()):
            raise ValueError(f"init: expected a model file or pretrained:<name>, got {self.init!r}")
        if self.low is not None and self.high is not None and not 0 <= self.low <= self.high:
            raise ValueError(f"low, high: expected 0 <= low <= high, got {self.low}, {self.high}")


def check_self_labelling_env(env: gym.Env[Any, Any]) -> None:
    """Raise ``ValueError`` unless the agent can learn in ``env``.

    It needs ``shopfloor/JobShop-v0`` (one action per job) with a generator of
    instances, or ``sizes`` in its hyperparameters (checked when it is built).
    """
    unwrapped = env.unwrapped
    if not hasattr(unwrapped, "source") or not hasattr(unwrapped, "mode"):
        raise ValueError("self_labelling learns in shopfloor/JobShop-v0")
    space = env.action_space
    if not isinstance(space, gym.spaces.Discrete) or not isinstance(
        env.observation_space, gym.spaces.Box
    ):
        raise ValueError("self_labelling needs JobShop-v0's discrete job actions")
    machine_part = int(env.observation_space.shape[0]) - JOB_FEATURES * int(space.n)
    if machine_part < MACHINE_FEATURES or machine_part % MACHINE_FEATURES:
        raise ValueError(
            "self_labelling chooses jobs; mode 'append' in a flexible shop chooses (job, "
            "machine) pairs: use mode 'active' or 'non_delay'"
        )


class SelfLabellingAgent:
    """A job-scoring attention policy trained by self-labelling (see the module).

    Args:
        env_factory: Builds the env it acts in (``shopfloor/JobShop-v0``).
        config: Hyperparameters.
        seed: Seeds the network's initial weights, the training instances and the
            sampling.
        device: ``auto`` (CUDA when present), ``cpu``, ``cuda[:N]``.

    Raises:
        ValueError: The env does not fit (see :func:`check_self_labelling_env`), or it
            has no generator and ``sizes`` is empty.
    """

    def __init__(
        self,
        env_factory: Callable[[], gym.Env[Any, Any]],
        config: SelfLabellingConfig | None = None,
        seed: int = 0,
        device: str = "auto",
    ):
        if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
            raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
        self.config = config if config is not None else SelfLabellingConfig()
        self.seed = int(seed)
        self.device = select_device(device)
        self.env = env_factory()
        check_self_labelling_env(self.env)
        unwrapped: Any = self.env.unwrapped
        self.mode: str = unwrapped.mode
        generator = unwrapped.source.generator
        sizes = self.config.sizes or (
            [[generator.n_jobs, generator.n_machines]] if generator is not None else []
        )
        if not sizes:
            raise ValueError(
                "self_labelling trains on generated instances: give the env a generator "
                "(kwargs generator: {n_jobs, n_machines}) or set sizes in "
                "agents/self_labelling.yaml"
            )
        self.sizes = [(int(jobs), int(machines)) for jobs, machines in sizes]
        base = generator if generator is not None else GeneratorSpec(1, 1)
        changes: dict[str, Any] = {}
        if self.config.low is not None:
            changes["low"] = self.config.low
        if self.config.high is not None:
            changes["high"] = self.config.high
        try:
            self.generators = [
                replace(base, n_jobs=jobs, n_machines=machines, **changes)
                for jobs, machines in self.sizes
            ]
        except ValueError as error:
            raise ValueError(f"sizes, low, high: {error}") from None
        configure_threads(self.device)
        torch.manual_seed(self.seed)
        self.network = ShopAttention(
            self.config.width, self.config.heads, self.config.layers, self.config.work_prior
        )
        if self.config.init is not None:
            self.network.load_state_dict(_initial_weights(self.config))
        self.network.to(self.device)
        self.optimizer = torch.optim.Adam(
            self.network.parameters(), lr=float(self.config.learning_rate)
        )
        self._rng = np.random.default_rng(np.random.SeedSequence([self.seed, 21]))
        self._generator = torch.Generator(device=self.device).manual_seed(self.seed)
        self._act_generator = torch.Generator().manual_seed(self.seed + 1)
        self.num_timesteps = 0
        self.updates = 0

    def __repr__(self) -> str:
        return (
            f"SelfLabellingAgent(seed={self.seed}, updates={self.updates}, "
            f"num_timesteps={self.num_timesteps})"
        )

    @property
    def observation_space(self) -> gym.Space[Any]:
        """The observations of its training env."""
        return self.env.observation_space

    @property
    def action_space(self) -> gym.Space[Any]:
        """The jobs of its training env."""
        return self.env.action_space

    @property
    def acts_on_any_size(self) -> bool:
        """True: one network scores the jobs of a shop of any size."""
        return True

    # -- acting

    def predict(
        self,
        observation: Any,
        deterministic: bool = True,
        action_masks: np.ndarray | None = None,
        *,
        state: Any = None,
        episode_start: Any = None,
    ) -> tuple[Any, None]:
        """The job to schedule next (the shared protocol), for one observation or a batch.

        Args:
            observation: JobShop-v0's observation, of any shop size.
            deterministic: The best-scored job; else one drawn from the softmax.
            action_masks: The valid jobs (their count gives the shop's jobs; without
                masks the training env's size is assumed).
            state: Unused (accepted as Stable-Baselines3's is).
            episode_start: Unused.

        Raises:
            ValueError: An observation that is not JobShop-v0's layout.
        """
        masks = None if action_masks is None else np.asarray(action_masks, dtype=bool)
        n_jobs = int(masks.shape[-1]) if masks is not None else int(self.action_space.n)  # type: ignore[attr-defined]
        result, single = choose_jobs(
            self.network,
            observation,
            masks,
            n_jobs,
            deterministic=deterministic,
            generator=self._act_generator,
            device=self.device,
        )
        return (np.int64(result[0]) if single else result), None

    def schedule(
        self,
        instances: Sequence[Instance],
        samples: int = 1,
        *,
        greedy: bool = False,
        seed: int = 0,
    ) -> Rollouts:
        """``samples`` schedules of every instance in one batched core (no gradients).

        Args:
            instances: Classic or flexible instances, any sizes.
            samples: Schedules per instance.
            greedy: The best-scored job at every step (then one sample is enough).
            seed: Seeds the draws.
        """
        generator = torch.Generator(device=self.device).manual_seed(int(seed))
        return sample(
            self.network, instances, samples, self.mode, greedy=greedy, generator=generator,
            keep=False,
        )  # fmt: skip

    def scheduler(self) -> Any:
        """This agent's network as an acting-only :class:`NeuralPolicy` (shared weights).

        It schedules whole instances in the batched core: greedy, best of N and a timed
        search (``shopfloor bench --samples``, ``--search``).
        """
        from shopfloor.agents._neural_policy import NeuralPolicy

        policy = NeuralPolicy(self.network, self.mode, str(self.device), name="self_labelling")
        self.network.train()  # NeuralPolicy puts the shared network in eval mode
        return policy

    # -- learning

    def learn(
        self,
        total_timesteps: int,
        callback: Callback | None = None,
        *,
        budget: int | None = None,
    ) -> SelfLabellingAgent:
        """Train at least ``total_timesteps`` more steps, in whole updates.

        Args:
            total_timesteps: Steps (scheduled operations of all samples), >= 1.
            callback: Called after each update with ``num_timesteps``, ``updates``,
                ``loss`` and ``episode_reward`` (the samples' mean total reward);
                returning ``False`` stops.
            budget: Unused (the schedule does not depend on the run's length).
        """
        if not _positive_int(total_timesteps):
            raise ValueError(f"total_timesteps must be an integer >= 1, got {total_timesteps!r}")
        configure_threads(self.device)
        target = self.num_timesteps + int(total_timesteps)
        while self.num_timesteps < target:
            generator = self.generators[self.updates % len(self.generators)]
            instances = [
                generator.generate(int(self._rng.integers(2**31)))
                for _ in range(self.config.instances)
            ]
            loss, rollouts = self_labelling_step(
                self.network,
                self.optimizer,
                instances,
                self.config.samples,
                self.mode,
                generator=self._generator,
                max_grad_norm=float(self.config.max_grad_norm),
                epochs=self.config.epochs,
            )
            self.updates += 1
            operations = sum(instance.n_operations for instance in instances)
            self.num_timesteps += self.config.samples * operations
            if callback is not None:
                report = {
                    "num_timesteps": self.num_timesteps,
                    "updates": self.updates,
                    "loss": loss,
                    "episode_reward": float(rollouts.rewards.mean()),
                }
                if callback(report) is False:
                    break
        return self

    # -- saving

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the agent to ``path`` (``.npz`` added if missing; replaced atomically)."""
        target = Path(path)
        if target.suffix != ".npz":
            target = target.with_name(target.name + ".npz")
        meta = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "config": asdict(self.config),
            "seed": self.seed,
            "mode": self.mode,
            "sizes": [list(size) for size in self.sizes],
            "flexible": self.generators[0].flexible,
            "num_timesteps": self.num_timesteps,
            "updates": self.updates,
            "rng": self._rng.bit_generator.state,
        }
        state = {
            "network": self.network.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "generator": self._generator.get_state(),
            "act_generator": self._act_generator.get_state(),
        }
        return save_state(target, meta, state)

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        env_factory: Callable[[], gym.Env[Any, Any]],
        device: str = "auto",
    ) -> SelfLabellingAgent:
        """Read an agent written by :meth:`save`, to act and train in ``env_factory``'s env.

        Raises:
            FileNotFoundError: Nothing is at ``path`` (nor at ``path.npz``).
            ModelFileError: The file is not a readable saved self-labelling agent.
        """
        source = Path(path)
        if not source.is_file() and source.with_name(source.name + ".npz").is_file():
            source = source.with_name(source.name + ".npz")
        what = "saved self-labelling agent"
        meta, state = load_state(source, what)
        try:
            if meta.get("format") != FORMAT or meta.get("version") != FORMAT_VERSION:
                raise ValueError(f"format {meta.get('format')!r} {meta.get('version')!r}")
            config = SelfLabellingConfig(**meta["config"])
            agent = cls(env_factory, config, int(meta["seed"]), device)
            agent.network.load_state_dict(state["network"])
            agent.optimizer.load_state_dict(state["optimizer"])
            agent._generator.set_state(state["generator"].to(torch.uint8))
            agent._act_generator.set_state(state["act_generator"].to(torch.uint8))
            agent._rng.bit_generator.state = meta["rng"]
            agent.num_timesteps = int(meta["num_timesteps"])
            agent.updates = int(meta["updates"])
        except (KeyError, TypeError, ValueError, RuntimeError) as error:
            first = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise ModelFileError(f"{source} is not a readable {what}: {first[:200]}") from None
        if agent.mode != meta.get("mode"):
            raise ModelFileError(
                f"{source} was trained in mode {meta.get('mode')!r}; this env's is {agent.mode!r}"
            )
        return agent


def export_weights(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> Path:
    """Write the network of a saved self-labelling agent alone (a pretrained model file).

    The optimizer and generator states are left out (a few times smaller); the meta
    record (settings, mode, training sizes and counters) is kept, so the file loads
    with :class:`~shopfloor.agents.NeuralPolicy` and as ``init``.

    Raises:
        FileNotFoundError: Nothing at ``source``.
        ModelFileError: ``source`` is not a saved self-labelling agent.
    """
    what = "saved self-labelling agent"
    meta, state = load_state(source, what)
    if meta.get("format") != FORMAT or not isinstance(state, dict) or "network" not in state:
        raise ModelFileError(f"{source} is not a {what}")
    kept = {key: value for key, value in meta.items() if key != "rng"}
    return save_state(target, kept, {"network": state["network"]})


PRETRAINED = "pretrained:"


def model_path(name: str) -> Path:
    """The file of a model name: ``pretrained:<name>`` (shipped) or a path.

    Raises:
        UnknownPretrainedError: No shipped model of that name (the names listed).
    """
    if name.startswith(PRETRAINED):
        from shopfloor.agents._pretrained import pretrained_path  # it imports this module

        return pretrained_path(name[len(PRETRAINED) :])
    return Path(name).expanduser()


def _initial_weights(config: SelfLabellingConfig) -> dict[str, torch.Tensor]:
    """The network weights ``config.init`` names, checked against ``config``'s shape."""
    assert config.init is not None
    source = model_path(config.init)
    meta, state = load_state(source, "saved self-labelling model")
    shape = ("width", "heads", "layers")
    found = meta.get("config")
    saved: dict[str, Any] = found if isinstance(found, dict) else {}
    if meta.get("format") != FORMAT or not isinstance(state, dict) or "network" not in state:
        raise ModelFileError(f"{source} is not a saved self-labelling model (init)")
    if any(saved.get(key) != getattr(config, key) for key in shape):
        raise ModelFileError(
            f"{source} (init) has width, heads, layers "
            f"{[saved.get(key) for key in shape]}; this agent's are "
            f"{[getattr(config, key) for key in shape]}"
        )
    network: dict[str, torch.Tensor] = state["network"]
    return network


def _build(setup: AgentSetup) -> SelfLabellingAgent:
    config = build_config(SelfLabellingConfig, "self_labelling", setup.hyperparameters)
    return SelfLabellingAgent(setup.env_factory, config, setup.seed, setup.device)


def _load(path: str | os.PathLike[str], setup: AgentSetup) -> SelfLabellingAgent:
    return SelfLabellingAgent.load(path, setup.env_factory, setup.device)


SELF_LABELLING = Algorithm(
    name="self_labelling",
    summary="attention policy trained on its own best sampled schedules (SLIM)",
    agent_class=SelfLabellingAgent,
    build=_build,
    load=_load,
    load_trained=_load,
    hyperparameter_keys=keys_of(SelfLabellingConfig),
    follows_masks=True,
    env_check=check_self_labelling_env,
    learns_in="whole updates (instances x samples x operations scheduled)",
)
"""The agent registry's entry of :class:`SelfLabellingAgent`."""
