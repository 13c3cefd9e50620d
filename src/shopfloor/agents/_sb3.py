"""Stable-Baselines3 agents (PPO, A2C, DQN, MaskablePPO) behind the shared protocol."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.logger import Logger
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecEnv

from shopfloor.agents._config import PRIOR_KEYS, AgentConfigError, resolve_values
from shopfloor.agents._device import configure_threads, select_device
from shopfloor.agents._registry import AgentSetup, Algorithm, keys_of
from shopfloor.agents._state_file import ModelFileError, load_state, save_state

EnvFactory = Callable[[], gym.Env]


@dataclass(frozen=True)
class SB3Kind:
    """How shopfloor uses one Stable-Baselines3 (or sb3-contrib) algorithm.

    Attributes:
        module: The package holding the class.
        class_name: The algorithm's class.
        summary: One line for help texts.
        masks: Whether it follows action masks (``predict(..., action_masks=...)``).
        prior: Whether it accepts ``prior_rule`` (an ``action_net`` over the rules).
        off_policy: Whether it keeps a replay buffer (saved beside its checkpoints).
    """

    module: str
    class_name: str
    summary: str
    masks: bool = False
    prior: bool = False
    off_policy: bool = False


SB3_KINDS: dict[str, SB3Kind] = {
    "ppo": SB3Kind("stable_baselines3", "PPO", "PPO (Schulman et al. 2017)", prior=True),
    "a2c": SB3Kind("stable_baselines3", "A2C", "A2C (Mnih et al. 2016)", prior=True),
    "dqn": SB3Kind("stable_baselines3", "DQN", "DQN (Mnih et al. 2015)", off_policy=True),
    "maskable_ppo": SB3Kind(
        "sb3_contrib", "MaskablePPO", "PPO with invalid-action masking (sb3-contrib)", masks=True
    ),
}
"""The Stable-Baselines3 algorithms shopfloor wraps, by name (each an agent registry entry)."""


def sb3_kind(algorithm: str) -> SB3Kind:
    """The :class:`SB3Kind` of ``algorithm``.

    Raises:
        AgentConfigError: Not a Stable-Baselines3 algorithm.
    """
    if algorithm not in SB3_KINDS:
        raise AgentConfigError(f"{str(algorithm)[:40]!r} is not a Stable-Baselines3 algorithm")
    return SB3_KINDS[algorithm]


def algorithm_class(algorithm: str) -> Any:
    """The Stable-Baselines3 (or sb3-contrib) class of ``algorithm``."""
    import importlib

    kind = sb3_kind(algorithm)
    return getattr(importlib.import_module(kind.module), kind.class_name)


class StepCallback(BaseCallback):
    """Forwards every step (and finished episodes) to a plain function.

    The function receives ``{"num_timesteps", "episodes", "episode_reward"}`` (the
    reward of an episode that just ended, else ``None``) and returns False to stop.
    """

    def __init__(self, function: Callable[[dict[str, Any]], bool]):
        super().__init__()
        self.function = function
        self.episodes = 0

    def _on_step(self) -> bool:
        keep_going = True
        info: dict[str, Any]
        infos = self.locals.get("infos", [])
        ended = [info["episode"]["r"] for info in infos if "episode" in info]
        for reward in ended:
            self.episodes += 1
            info = {
                "num_timesteps": self.num_timesteps,
                "episodes": self.episodes,
                "episode_reward": float(reward),
            }
            keep_going = self.function(info) is not False and keep_going
        if not ended:
            info = {
                "num_timesteps": self.num_timesteps,
                "episodes": self.episodes,
                "episode_reward": None,
            }
            keep_going = self.function(info) is not False
        return keep_going


def make_vec_env(env_factory: EnvFactory, n_envs: int, seed: int, kind: str = "dummy") -> VecEnv:
    """``n_envs`` monitored copies of the env, seeded ``seed, seed+1, ...``."""
    if kind not in ("dummy", "subproc"):
        raise ValueError(f"vec_env must be 'dummy' or 'subproc', got {kind!r}")

    def make(rank: int) -> Callable[[], gym.Env]:
        def build() -> gym.Env:
            env = Monitor(env_factory())
            env.reset(seed=seed + rank)
            env.action_space.seed(seed + rank)
            return env

        return build

    factories = [make(rank) for rank in range(n_envs)]
    if kind == "subproc" and n_envs > 1:
        return SubprocVecEnv(factories)
    vec = DummyVecEnv(factories)
    vec.seed(seed)
    return vec


class SB3Agent:
    """An SB3 model with the shopfloor protocol: learn, predict, save, load.

    Args:
        algorithm: ``ppo``, ``a2c``, ``dqn`` or ``maskable_ppo``.
        env_factory: Builds one env (called ``n_envs`` times).
        hyperparameters: Resolved entry of ``agents/<algorithm>.yaml``.
        seed: Seed of the model and the envs.
        device: ``auto``, ``cpu``, ``cuda`` or ``cuda:N``.
        tensorboard_log: Folder for TensorBoard events (None: none).
    """

    def __init__(
        self,
        algorithm: str,
        env_factory: EnvFactory,
        hyperparameters: Mapping[str, Any],
        seed: int = 0,
        device: str = "auto",
        tensorboard_log: str | os.PathLike[str] | None = None,
        _model: Any = None,
    ):
        self.algorithm = algorithm
        self.kind = sb3_kind(algorithm)
        self.seed = seed
        self.device = select_device(device)
        configure_threads(self.device)
        self.hyperparameters = dict(hyperparameters)
        n_envs = check_sizes(algorithm, self.hyperparameters)
        kind = str(self.hyperparameters.get("vec_env", "dummy"))
        self.env = make_vec_env(env_factory, n_envs, seed, kind)
        try:
            check_memory(algorithm, self.hyperparameters, self.env.observation_space, n_envs)
        except AgentConfigError:
            self.env.close()
            raise
        if not self.kind.masks and _masks_actions(self.env):
            from shopfloor.agents._algorithms import ALGORITHMS

            self.env.close()
            raise AgentConfigError(
                f"{algorithm} cannot follow action masks, and some actions of this env are "
                "invalid at times (a static job shop, or action_mode job); use "
                + " or ".join(ALGORITHMS.names(follows_masks=True))
            )
        cls = algorithm_class(algorithm)
        if _model is not None:
            self.model = _model
            self.model.set_env(self.env)
        else:
            policy = self.hyperparameters.get("policy", "MlpPolicy")
            if self.kind.masks:  # the scoring policies are maskable policies
                policy = _scoring_policies().get(policy, policy)
                problem = None if isinstance(policy, str) else policy.unsuitable(env_factory())
                if problem:
                    raise AgentConfigError(f"agents/{algorithm}.yaml: policy {problem}")
            try:
                self.model = cls(
                    policy,
                    self.env,
                    seed=seed,
                    device=self.device,
                    verbose=0,
                    tensorboard_log=None if tensorboard_log is None else str(tensorboard_log),
                    **resolve_values(self.hyperparameters),
                )
            except TypeError as error:  # a misspelt hyperparameter or policy keyword
                self.env.close()
                if "unexpected keyword argument" not in str(error):
                    raise AgentConfigError(f"agents/{algorithm}.yaml: {_first(error)}") from None
                raise AgentConfigError(
                    f"agents/{algorithm}.yaml: {error} (hyperparameters: "
                    f"{sorted(self.hyperparameters)})"
                ) from None
            except (ValueError, AssertionError, KeyError, OverflowError) as error:
                self.env.close()  # SB3 refuses a value (an unknown policy, a bad size...)
                raise AgentConfigError(f"agents/{algorithm}.yaml: {_first(error)}") from None
            if PRIOR_KEYS & set(self.hyperparameters):
                env = env_factory()
                try:
                    self._start_from_rule(env)
                finally:
                    env.close()
        if tensorboard_log is None:
            # Else SB3 makes an empty SB3-<time> folder in the temp dir on every learn().
            self.model.set_logger(Logger(folder=None, output_formats=[]))

    def _start_from_rule(self, env: gym.Env) -> None:
        """Raise the logit of ``prior_rule`` by ``prior_logit`` in the fresh policy.

        SB3 initialises the action layer's weights small (orthogonal, gain 0.01; its
        default) and its bias at 0, so the untrained greedy policy then always picks that
        rule, and sampling picks it with probability about ``e^b / (e^b + n - 1)``:
        training starts from the rule and explores around it.
        """
        where = f"agents/{self.algorithm}.yaml"
        if "prior_rule" not in self.hyperparameters:
            raise AgentConfigError(f"{where}: prior_logit is set but prior_rule is not")
        name = str(self.hyperparameters["prior_rule"]).strip().lower()
        logit = float(self.hyperparameters.get("prior_logit", 3.0))
        if not self.kind.prior:
            raise AgentConfigError(f"{where}: prior_rule is for ppo and a2c, not {self.algorithm}")
        rules = [str(getattr(rule, "value", rule)) for rule in getattr(env.unwrapped, "rules", ())]
        if getattr(env.unwrapped, "action_mode", "rule") != "rule" or not rules:
            raise AgentConfigError(f"{where}: prior_rule {name!r} needs an env that chooses rules")
        if name not in rules:
            raise AgentConfigError(
                f"{where}: prior_rule {name!r} is not one of the env's rules {rules}"
            )
        if not logit > 0:
            raise AgentConfigError(f"{where}: prior_logit must be > 0, got {logit}")
        with torch.no_grad():
            self.model.policy.action_net.bias[rules.index(name)] += logit

    @property
    def num_timesteps(self) -> int:
        """Environment steps trained so far (over all parallel envs)."""
        return int(self.model.num_timesteps)

    @property
    def observation_space(self) -> gym.Space[Any]:
        """The observations the model reads."""
        return self.model.observation_space  # type: ignore[no-any-return]

    @property
    def action_space(self) -> gym.Space[Any]:
        """The actions the model answers."""
        return self.model.action_space  # type: ignore[no-any-return]

    @property
    def acts_on_any_size(self) -> bool:
        """Whether its policy scores jobs one by one (JobScoringPolicy), whatever the size."""
        return hasattr(self.model.policy, "predict_any_size")

    def learn(
        self,
        total_timesteps: int,
        callback: Callable[[dict[str, Any]], bool] | None = None,
        tb_log_name: str = "run",
        *,
        budget: int | None = None,
    ) -> SB3Agent:
        """Train ``total_timesteps`` more steps (continuing the counters).

        Args:
            total_timesteps: Steps to take in this call.
            callback: Called after every step (see :class:`StepCallback`).
            tb_log_name: TensorBoard run name.
            budget: The whole run's steps when it is trained in several calls: SB3's
                schedules (learning rate, clip range, DQN's exploration) then run over
                the budget, not over each call.
        """
        model = self.model
        if budget is not None:
            # SB3 measures progress against the end of the current learn() call; point
            # it at the run's budget instead, for this call only (nothing is saved meanwhile).
            update = model._update_current_progress_remaining
            model._update_current_progress_remaining = (  # type: ignore[method-assign]
                lambda num_timesteps, _total: update(num_timesteps, budget)
            )
        try:
            model.learn(
                total_timesteps=total_timesteps,
                callback=StepCallback(callback) if callback else None,
                reset_num_timesteps=False,
                tb_log_name=tb_log_name,
                progress_bar=False,
            )
        finally:
            if budget is not None:
                del model._update_current_progress_remaining
        return self

    def predict(
        self,
        observation: np.ndarray,
        deterministic: bool = True,
        action_masks: np.ndarray | None = None,
    ) -> tuple[np.ndarray, Any]:
        """The shared protocol: action for ``observation`` (masks for MaskablePPO)."""
        return _predict(self.model, self.algorithm, observation, deterministic, action_masks)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Save the model as ``<path>.npz``, atomically, as data only.

        The file holds the networks' and optimizers' state (:meth:`get_parameters`),
        the training counters and a description of the spaces; :meth:`load` rebuilds
        the model from the run's hyperparameters and these weights, so nothing is
        unpickled (SB3's own zip files unpickle their ``:serialized:`` entries).
        """
        model = self.model
        meta = {
            "format": MODEL_FORMAT,
            "version": MODEL_FORMAT_VERSION,
            "algorithm": self.algorithm,
            "observation_space": describe_space(model.observation_space),
            "action_space": describe_space(model.action_space),
            "counters": {name: getattr(model, name) for name in _COUNTERS if hasattr(model, name)},
        }
        return save_state(model_file(path), meta, model.get_parameters())

    def save_replay_buffer(self, path: str | os.PathLike[str]) -> Path | None:
        """Save an off-policy model's replay buffer as ``<path>.replay.npz``, atomically.

        The buffer's arrays and its position, as data only.

        Returns:
            The file, or ``None`` for an algorithm without a replay buffer.
        """
        buffer = getattr(self.model, "replay_buffer", None)
        if buffer is None:
            return None
        arrays = {name: getattr(buffer, name) for name in _BUFFER_ARRAYS}
        meta = {
            "format": REPLAY_FORMAT,
            "version": MODEL_FORMAT_VERSION,
            "pos": int(buffer.pos),
            "full": bool(buffer.full),
        }
        return save_state(_replay_file(path), meta, _present(arrays))

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        algorithm: str,
        env_factory: EnvFactory,
        hyperparameters: Mapping[str, Any],
        seed: int = 0,
        device: str = "auto",
        tensorboard_log: str | os.PathLike[str] | None = None,
    ) -> SB3Agent:
        """Load a saved model to train on, with its replay buffer if one was saved.

        The model is built anew from ``hyperparameters`` (as the run built it), then
        given the saved weights, optimizer state and counters.

        Raises:
            FileNotFoundError: No model at ``path`` (named in the message).
            ModelFileError: The file is damaged, not a model of ``algorithm``, from
                another env, or in SB3's own (pickled) format.
        """
        source = model_file(path)
        meta, state = read_model(source, algorithm)
        agent = cls(algorithm, env_factory, hyperparameters, seed, device, tensorboard_log)
        model = agent.model
        check_spaces(source, meta, model.observation_space, model.action_space)
        try:
            model.set_parameters(state, exact_match=True, device=agent.device)
        except (RuntimeError, ValueError, KeyError, TypeError) as error:
            raise ModelFileError(
                f"{source} does not fit a {algorithm} model built from these "
                f"hyperparameters: {str(error).splitlines()[0][:200]}"
            ) from None
        for name, value in _counters(source, meta).items():
            if hasattr(model, name):
                setattr(model, name, value)
        replay = _replay_file(path)
        if replay.is_file() and getattr(model, "replay_buffer", None) is not None:
            _restore_buffer(replay, model.replay_buffer)
        return agent


MODEL_FORMAT = "shopfloor-sb3"
REPLAY_FORMAT = "shopfloor-sb3-replay"
MODEL_FORMAT_VERSION = 1
_COUNTERS = (
    "num_timesteps",
    "_n_updates",
    "_episode_num",
    "_n_calls",
    "exploration_rate",
    "_current_progress_remaining",
)
"""Training counters SB3 keeps outside the networks (schedules and DQN's target updates)."""
_BUFFER_ARRAYS = ("observations", "next_observations", "actions", "rewards", "dones", "timeouts")


def model_file(path: str | os.PathLike[str]) -> Path:
    """The ``.npz`` file :meth:`SB3Agent.save` writes for ``path``."""
    target = Path(path)
    return target if target.suffix == ".npz" else target.with_name(target.name + ".npz")


def read_model(source: Path, algorithm: str) -> tuple[dict[str, Any], Any]:
    """The meta record and state of a saved ``algorithm`` model, checked.

    Raises:
        FileNotFoundError: Nothing at ``source`` (an SB3 zip beside it is named).
        ModelFileError: Damaged, of another format or algorithm.
    """
    legacy = source.with_name(source.name.removesuffix(".npz") + ".zip")
    if not source.is_file() and legacy.is_file():
        raise ModelFileError(
            f"{legacy}: a model in Stable-Baselines3's zip format, whose entries are "
            "unpickled when opened (a crafted file runs code), so shopfloor does not open "
            "it; train the run again to save it as data"
        )
    meta, state = load_state(source, f"saved {algorithm} model")
    if meta.get("format") != MODEL_FORMAT or meta.get("version") != MODEL_FORMAT_VERSION:
        raise ModelFileError(
            f"{source} is not a saved shopfloor SB3 model (format {meta.get('format')!r}, "
            f"version {meta.get('version')!r})"
        )
    if meta.get("algorithm") != algorithm:
        raise ModelFileError(f"{source} holds a {meta.get('algorithm')!r} model, not {algorithm!r}")
    if not isinstance(state, dict) or not isinstance(state.get("policy"), dict):
        raise ModelFileError(f"{source} holds no policy weights")
    return meta, state


def describe_space(space: gym.Space[Any]) -> dict[str, Any]:
    """Kind, shape and (discrete) sizes of a space, as plain data."""
    described: dict[str, Any] = {"kind": type(space).__name__, "shape": list(space.shape or ())}
    if isinstance(space, gym.spaces.Discrete):
        described["n"] = int(space.n)
    elif isinstance(space, gym.spaces.MultiDiscrete):
        described["nvec"] = [int(n) for n in np.ravel(space.nvec)]
    return described


def check_spaces(
    source: Path, meta: Mapping[str, Any], observations: gym.Space[Any], actions: gym.Space[Any]
) -> None:
    """Refuse a model saved for other spaces than the env's (the message says which)."""
    for what, space in (("observation_space", observations), ("action_space", actions)):
        if meta.get(what) != describe_space(space):
            raise ModelFileError(
                f"{source} was saved for the {what.replace('_', ' ')} {meta.get(what)}, "
                f"but the env has {describe_space(space)}"
            )


def load_policy(
    path: str | os.PathLike[str],
    algorithm: str,
    observation_space: gym.Space[Any],
    action_space: gym.Space[Any],
    hyperparameters: Mapping[str, Any],
    device: str = "cpu",
) -> LoadedPolicy:
    """A saved model's policy alone, to act (no env copies, no replay buffer).

    The policy class and its keywords come from ``hyperparameters`` (the run's
    ``config.yaml``), as SB3 builds them; the weights from the file.

    Raises:
        FileNotFoundError: No model at ``path``.
        ModelFileError: The file is damaged or does not fit the spaces.
    """
    source = model_file(path)
    meta, state = read_model(source, algorithm)
    check_spaces(source, meta, observation_space, action_space)
    name = str(hyperparameters.get("policy", "MlpPolicy"))
    policy_class = _scoring_policies().get(name) or algorithm_class(algorithm).policy_aliases.get(
        name
    )
    if policy_class is None:
        raise ModelFileError(f"{source}: unknown policy {name!r} in the run's hyperparameters")
    kwargs = dict(resolve_values(hyperparameters).get("policy_kwargs") or {})
    if hyperparameters.get("use_sde"):
        kwargs["use_sde"] = True
    policy = policy_class(observation_space, action_space, lambda _: 0.0, **kwargs)
    policy = policy.to(select_device(device))
    try:
        policy.load_state_dict(state["policy"], strict=True)
    except (RuntimeError, ValueError, KeyError, TypeError) as error:
        raise ModelFileError(
            f"{source} does not fit a {name} built from the run's hyperparameters: "
            f"{str(error).splitlines()[0][:200]}"
        ) from None
    policy.set_training_mode(False)
    return LoadedPolicy(algorithm, policy)


class LoadedPolicy:
    """A saved SB3 model's policy behind the shared ``predict`` protocol.

    Attributes:
        algorithm: The algorithm that trained it.
        policy: The SB3 policy module.
    """

    def __init__(self, algorithm: str, policy: Any):
        self.algorithm = algorithm
        self.policy = policy

    @property
    def observation_space(self) -> gym.Space[Any]:
        """The observations the policy reads."""
        return self.policy.observation_space  # type: ignore[no-any-return]

    @property
    def action_space(self) -> gym.Space[Any]:
        """The actions the policy answers."""
        return self.policy.action_space  # type: ignore[no-any-return]

    @property
    def acts_on_any_size(self) -> bool:
        """Whether it scores jobs one by one (JobScoringPolicy), whatever the shop's size."""
        return hasattr(self.policy, "predict_any_size")

    def predict(
        self,
        observation: np.ndarray,
        deterministic: bool = True,
        action_masks: np.ndarray | None = None,
    ) -> tuple[Any, Any]:
        """The shared protocol (masks for MaskablePPO's policies).

        A ``JobScoringPolicy`` given one observation of another shop size (and its
        masks) scores that shop's jobs (:meth:`JobScoringPolicy.predict_any_size`).
        """
        shape = self.observation_space.shape or ()
        if (
            self.acts_on_any_size
            and action_masks is not None
            and np.ndim(observation) == len(shape)
            and np.shape(observation) != shape
        ):
            action = self.policy.predict_any_size(observation, action_masks, deterministic)
            return np.int64(action), None
        return _predict(self.policy, self.algorithm, observation, deterministic, action_masks)


def _predict(
    predictor: Any,
    algorithm: str,
    observation: np.ndarray,
    deterministic: bool,
    action_masks: np.ndarray | None,
) -> tuple[np.ndarray, Any]:
    """An SB3 model's or policy's ``predict``, with the masks only masking algorithms take."""
    if sb3_kind(algorithm).masks:
        return predictor.predict(  # type: ignore[no-any-return]
            observation, deterministic=deterministic, action_masks=action_masks
        )
    return predictor.predict(observation, deterministic=deterministic)  # type: ignore[no-any-return]


def _counters(source: Path, meta: Mapping[str, Any]) -> dict[str, int | float]:
    """The saved counters, each a finite number of a known name."""
    counters = meta.get("counters")
    if not isinstance(counters, dict):
        raise ModelFileError(f"{source}: its meta record has no counters")
    checked: dict[str, int | float] = {}
    for name, value in counters.items():
        number = isinstance(value, int | float) and not isinstance(value, bool)
        count = isinstance(value, int) and value >= 0
        is_count = name not in ("exploration_rate", "_current_progress_remaining")
        if (
            name not in _COUNTERS
            or not number
            or not np.isfinite(value)
            or (is_count and not count)
        ):
            raise ModelFileError(f"{source}: counter {name!r} = {str(value)[:40]!r} is invalid")
        checked[name] = value
    return checked


def _present(arrays: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in arrays.items() if value is not None}


def _restore_buffer(source: Path, buffer: Any) -> None:
    """Copy a saved replay buffer into ``buffer`` (same sizes and shapes, or refused)."""
    meta, arrays = load_state(source, "saved replay buffer")
    if meta.get("format") != REPLAY_FORMAT or not isinstance(arrays, dict):
        raise ModelFileError(f"{source} is not a saved shopfloor replay buffer")
    expected = _present({name: getattr(buffer, name, None) for name in _BUFFER_ARRAYS})
    if set(arrays) != set(expected):
        raise ModelFileError(
            f"{source} holds the arrays {sorted(arrays)}, the buffer has {sorted(expected)}"
        )
    for name, target in expected.items():
        pairs = target.items() if isinstance(target, dict) else [(None, target)]
        saved = arrays[name]
        for key, array in pairs:
            value = saved if key is None else (saved or {}).get(key)
            if not isinstance(value, np.ndarray) or value.shape != array.shape:
                raise ModelFileError(
                    f"{source}: {name} has shape {getattr(value, 'shape', None)}, the buffer "
                    f"{array.shape} (another buffer_size or env?)"
                )
    pos, full = meta.get("pos"), meta.get("full")
    if not isinstance(pos, int) or isinstance(pos, bool) or not 0 <= pos < buffer.buffer_size:
        raise ModelFileError(f"{source}: position {str(pos)[:40]!r} is invalid")
    if not isinstance(full, bool):
        raise ModelFileError(f"{source}: 'full' must be true or false")
    for name, target in expected.items():
        if isinstance(target, dict):
            for key, array in target.items():
                array[...] = arrays[name][key]
        else:
            target[...] = arrays[name]
    buffer.pos, buffer.full = pos, full


LIMITS = {
    "n_envs": 256,
    "n_steps": 1_000_000,
    "batch_size": 1_000_000,
    "buffer_size": 10_000_000,
    "n_epochs": 10_000,
    "gradient_steps": 10_000,
}
"""Largest accepted value of each size hyperparameter (each at least 1)."""
RANGES = {
    "learning_rate": (0.0, 10.0),
    "gamma": (0.0, 1.0),
    "gae_lambda": (0.0, 1.0),
    "clip_range": (0.0, 10.0),
    "ent_coef": (0.0, 10.0),
    "vf_coef": (0.0, 10.0),
    "max_grad_norm": (0.0, 1e6),
    "tau": (0.0, 1.0),
    "exploration_fraction": (0.0, 1.0),
    "exploration_initial_eps": (0.0, 1.0),
    "exploration_final_eps": (0.0, 1.0),
    "target_kl": (0.0, 1e6),
    "prior_logit": (0.0, 100.0),
}
"""Closed range of each real-valued hyperparameter (schedules: both ends)."""
MEMORY_LIMIT = 4 * 2**30
"""Bytes a rollout or replay buffer may take (observations as float32)."""


def check_sizes(algorithm: str, hyperparameters: Mapping[str, Any]) -> int:
    """Refuse a size hyperparameter out of range before anything is built.

    Returns:
        ``n_envs``.

    Raises:
        AgentConfigError: Naming the file, key, value and limit.
    """
    for key, limit in LIMITS.items():
        if key not in hyperparameters:
            continue
        value = hyperparameters[key]
        if key == "gradient_steps" and value == -1:  # SB3: as many as steps collected
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= limit:
            raise AgentConfigError(
                f"agents/{algorithm}.yaml: {key} must be an integer from 1 to {limit:,}, "
                f"got {str(value)[:40]!r}"
            )
    for key, (low, high) in RANGES.items():
        if key in hyperparameters:
            _check_number(algorithm, key, hyperparameters[key], low, high)
    _check_finite(algorithm, "", hyperparameters)
    if not isinstance(hyperparameters.get("policy", "MlpPolicy"), str):
        raise AgentConfigError(
            f"agents/{algorithm}.yaml: policy must be a name, got "
            f"{str(hyperparameters['policy'])[:40]!r}"
        )
    kind = hyperparameters.get("vec_env", "dummy")
    if kind not in ("dummy", "subproc"):
        raise AgentConfigError(
            f"agents/{algorithm}.yaml: vec_env must be 'dummy' or 'subproc', got {str(kind)[:40]!r}"
        )
    return int(hyperparameters.get("n_envs", 1))


def check_memory(
    algorithm: str, hyperparameters: Mapping[str, Any], observations: gym.Space[Any], n_envs: int
) -> None:
    """Refuse rollout or replay buffers larger than :data:`MEMORY_LIMIT`."""
    size = int(np.prod(observations.shape or (1,)))
    steps = int(hyperparameters.get("n_steps", 0)) * n_envs
    off_policy = sb3_kind(algorithm).off_policy
    stored = 2 * int(hyperparameters.get("buffer_size", 0)) if off_policy else 0
    needed = 4 * size * max(steps, stored)
    if needed > MEMORY_LIMIT:
        key = "buffer_size" if stored > steps else "n_steps"
        raise AgentConfigError(
            f"agents/{algorithm}.yaml: {key} {hyperparameters.get(key)} would need "
            f"{needed / 2**30:.1f} GiB of buffers for observations of size {size} "
            f"(limit {MEMORY_LIMIT / 2**30:.0f} GiB)"
        )


def _check_number(algorithm: str, key: str, value: Any, low: float, high: float) -> None:
    """A number (or a ``{linear: [start, end]}`` schedule of numbers) in ``[low, high]``."""
    ends = value["linear"] if isinstance(value, dict) and set(value) == {"linear"} else [value]
    if not isinstance(ends, list) or not ends:
        ends = [ends]
    for end in ends:
        number = isinstance(end, int | float) and not isinstance(end, bool)
        if not number or not low <= end <= high:
            raise AgentConfigError(
                f"agents/{algorithm}.yaml: {key} must be a number from {low:g} to {high:g}, "
                f"got {str(end)[:40]!r}"
            )


def _check_finite(algorithm: str, where: str, value: Any) -> None:
    """No ``inf`` or ``nan`` anywhere in the hyperparameters."""
    if isinstance(value, float) and not np.isfinite(value):
        raise AgentConfigError(f"agents/{algorithm}.yaml: {where or 'a value'} is {value}")
    if isinstance(value, dict):
        for key, item in value.items():
            _check_finite(algorithm, f"{where}.{key}" if where else str(key), item)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_finite(algorithm, f"{where}.{index}", item)


def _first(error: BaseException) -> str:
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return text[:300]


def _masks_actions(env: VecEnv) -> bool:
    """Whether the vectorised env's actions can be invalid (shopfloor envs say so)."""
    try:
        return bool(env.get_attr("masks_actions", indices=[0])[0])
    except AttributeError:  # not a shopfloor env
        return False


def _replay_file(path: str | os.PathLike[str]) -> Path:
    """Where :meth:`SB3Agent.save_replay_buffer` keeps the buffer of the model at ``path``."""
    target = Path(path)
    stem = target.name.removesuffix(".npz")
    return target.with_name(stem + ".replay.npz")


def _scoring_policies() -> dict[str, Any]:
    """Custom MaskablePPO policies by the name an agent config may give as ``policy``."""
    from shopfloor.agents._attention import AttentionPolicy
    from shopfloor.agents._job_scoring import JobScoringPolicy
    from shopfloor.agents._slot_scoring import SlotScoringPolicy

    return {
        "AttentionPolicy": AttentionPolicy,
        "JobScoringPolicy": JobScoringPolicy,
        "SlotScoringPolicy": SlotScoringPolicy,
    }


# ------------------------------------------------------------- registry entries


def _build(algorithm: str) -> Callable[[AgentSetup], SB3Agent]:
    def build(setup: AgentSetup) -> SB3Agent:
        return SB3Agent(
            algorithm,
            setup.env_factory,
            setup.hyperparameters,
            setup.seed,
            setup.device,
            setup.tensorboard_log,
        )

    return build


def _load(algorithm: str) -> Callable[[str | os.PathLike[str], AgentSetup], SB3Agent]:
    def load(path: str | os.PathLike[str], setup: AgentSetup) -> SB3Agent:
        return SB3Agent.load(
            path,
            algorithm,
            setup.env_factory,
            setup.hyperparameters,
            setup.seed,
            setup.device,
            setup.tensorboard_log,
        )

    return load


def _load_trained(algorithm: str) -> Callable[[str | os.PathLike[str], AgentSetup], LoadedPolicy]:
    def load_trained(path: str | os.PathLike[str], setup: AgentSetup) -> LoadedPolicy:
        configure_threads(torch.device("cpu"))  # as in training: small nets, one thread
        env = setup.env_factory()
        try:
            spaces = env.observation_space, env.action_space
        finally:
            env.close()
        return load_policy(path, algorithm, *spaces, setup.hyperparameters, device=setup.device)

    return load_trained


def _entry(name: str, kind: SB3Kind) -> Algorithm:
    return Algorithm(
        name=name,
        summary=kind.summary,
        agent_class=SB3Agent,
        build=_build(name),
        load=_load(name),
        load_trained=_load_trained(name),
        hyperparameter_keys=_sb3_keys(name),
        follows_masks=kind.masks,
        vectorised=True,
        prior_rule=kind.prior,
        learns_in="steps of all n_envs envs at once"
        if kind.off_policy
        else "whole rollouts (n_steps x n_envs)",
    )


def _sb3_keys(algorithm: str) -> Callable[[], frozenset[str]]:
    def keys() -> frozenset[str]:
        return keys_of(
            algorithm_class(algorithm),
            drop=("env", "policy", "seed", "device", "verbose", "tensorboard_log"),
        )()

    return keys


SB3_ALGORITHMS = tuple(_entry(name, kind) for name, kind in SB3_KINDS.items())
"""The agent registry's entries of :data:`SB3_KINDS`."""
