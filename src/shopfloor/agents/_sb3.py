"""Stable-Baselines3 agents (PPO, A2C, DQN, MaskablePPO) behind the shared protocol."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.logger import Logger
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecEnv

from shopfloor.agents._config import (
    MASKING_ALGORITHMS,
    PRIOR_ALGORITHMS,
    PRIOR_KEYS,
    AgentConfigError,
    algorithm_class,
    resolve_values,
)
from shopfloor.agents._device import configure_threads, select_device

EnvFactory = Callable[[], gym.Env]


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
        self.seed = seed
        self.device = select_device(device)
        configure_threads(self.device)
        self.hyperparameters = dict(hyperparameters)
        n_envs = int(self.hyperparameters.get("n_envs", 1))
        kind = str(self.hyperparameters.get("vec_env", "dummy"))
        self.env = make_vec_env(env_factory, n_envs, seed, kind)
        if algorithm not in MASKING_ALGORITHMS and _masks_actions(self.env):
            self.env.close()
            raise AgentConfigError(
                f"{algorithm} cannot follow action masks, and some actions of this env are "
                "invalid at times (a static job shop, or action_mode job); use maskable_ppo "
                "or qlearning"
            )
        cls = algorithm_class(algorithm)
        if _model is not None:
            self.model = _model
            self.model.set_env(self.env)
        else:
            policy = self.hyperparameters.get("policy", "MlpPolicy")
            if algorithm == "maskable_ppo":
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
                if "unexpected keyword argument" not in str(error):
                    raise
                raise AgentConfigError(
                    f"agents/{algorithm}.yaml: {error} (hyperparameters: "
                    f"{sorted(self.hyperparameters)})"
                ) from None
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
        if self.algorithm not in PRIOR_ALGORITHMS:
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
        if self.algorithm == "maskable_ppo":
            return self.model.predict(  # type: ignore[no-any-return]
                observation, deterministic=deterministic, action_masks=action_masks
            )
        return self.model.predict(observation, deterministic=deterministic)  # type: ignore[no-any-return]

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Save the model as ``<path>.zip``, atomically."""
        target = Path(path).with_suffix(".zip")
        temporary = target.with_name(target.stem + ".tmp.zip")
        self.model.save(temporary)
        os.replace(temporary, target)
        return target

    def save_replay_buffer(self, path: str | os.PathLike[str]) -> Path | None:
        """Save an off-policy model's replay buffer as ``<path>.replay.pkl``, atomically.

        Returns:
            The file, or ``None`` for an algorithm without a replay buffer.
        """
        if getattr(self.model, "replay_buffer", None) is None:
            return None
        target = _replay_file(path)
        temporary = target.with_name(target.stem + ".tmp.pkl")
        self.model.save_replay_buffer(temporary)
        os.replace(temporary, target)
        return target

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
        """Load a saved model (to evaluate it or train on), with its replay buffer if saved.

        Raises:
            FileNotFoundError: No model at ``path`` (named in the message).
        """
        target = Path(path).with_suffix(".zip")
        if not target.is_file():
            raise FileNotFoundError(f"no saved {algorithm} model at {target}")
        model_class = algorithm_class(algorithm)
        model = model_class.load(
            target,
            device=select_device(device),
            tensorboard_log=None if tensorboard_log is None else str(tensorboard_log),
        )
        if _replay_file(path).is_file() and hasattr(model, "load_replay_buffer"):
            model.load_replay_buffer(_replay_file(path))
        return cls(
            algorithm,
            env_factory,
            hyperparameters,
            seed=seed,
            device=device,
            tensorboard_log=tensorboard_log,
            _model=model,
        )


def _masks_actions(env: VecEnv) -> bool:
    """Whether the vectorised env's actions can be invalid (shopfloor envs say so)."""
    try:
        return bool(env.get_attr("masks_actions", indices=[0])[0])
    except AttributeError:  # not a shopfloor env
        return False


def _replay_file(path: str | os.PathLike[str]) -> Path:
    """Where :meth:`SB3Agent.save_replay_buffer` keeps the buffer of the model at ``path``."""
    return Path(path).with_suffix(".replay.pkl")


def _scoring_policies() -> dict[str, Any]:
    """Custom MaskablePPO policies by the name an agent config may give as ``policy``."""
    from shopfloor.agents._job_scoring import JobScoringPolicy
    from shopfloor.agents._slot_scoring import SlotScoringPolicy

    return {"JobScoringPolicy": JobScoringPolicy, "SlotScoringPolicy": SlotScoringPolicy}
