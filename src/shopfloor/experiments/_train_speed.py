"""Training throughput: env steps per second of an SB3 agent, by vectorisation.

The agent, built from its ``agents/<algo>.yaml`` entry, trains ``steps`` env steps with
its ``n_envs`` envs in this process (``DummyVecEnv``) and then in one process each
(``SubprocVecEnv``). The reference, measured in the same run, is the env alone: one
copy stepped with random valid actions, no learning. Its ratio to a training rate says
what learning and vectorisation cost on top of the simulation, a figure that stays
comparable across machines of different speed.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from shopfloor.experiments._train import make_env_factory

VEC_ENVS = ("dummy", "subproc")
"""The vectorisations timed by default."""


@dataclass(frozen=True)
class TrainingSpeed:
    """Env steps per second of one way of running the envs.

    Attributes:
        setup: ``env alone`` (the reference) or the ``vec_env`` trained with.
        n_envs: Envs stepped in parallel.
        steps: Env steps taken (SB3 rounds a budget up to whole rollouts).
        seconds: Wall-clock time of those steps.
    """

    setup: str
    n_envs: int
    steps: int
    seconds: float

    @property
    def steps_per_second(self) -> float:
        """Env steps per wall-clock second."""
        return self.steps / self.seconds


def env_alone(env_id: str, env_kwargs: dict[str, Any], steps: int, seed: int = 0) -> TrainingSpeed:
    """One env stepped ``steps`` times with random valid actions, episode after episode.

    The shopfloor envs' action spaces sample only the actions valid at the moment.
    """
    env = make_env_factory(env_id, env_kwargs)()
    env.action_space.seed(seed)
    env.reset(seed=seed)
    start = time.perf_counter()
    for _ in range(steps):
        _, _, terminated, truncated, _ = env.step(env.action_space.sample())
        if terminated or truncated:
            env.reset()
    seconds = time.perf_counter() - start
    env.close()
    return TrainingSpeed("env alone", 1, steps, seconds)


def measure_training(
    env_id: str,
    algorithm: str,
    env_kwargs: dict[str, Any] | None = None,
    steps: int = 20_000,
    vec_envs: Sequence[str] = VEC_ENVS,
    env_name: str | None = None,
    seed: int = 0,
) -> list[TrainingSpeed]:
    """The env alone, then ``algorithm`` trained ``steps`` steps under each vectorisation.

    Args:
        env_id: Gymnasium id, e.g. ``shopfloor/DynamicJobShop-v0``.
        algorithm: An SB3 algorithm: ``ppo``, ``a2c``, ``dqn`` or ``maskable_ppo``.
        env_kwargs: Env arguments (``scenario``, ``instance``, ...).
        steps: Env steps per measurement.
        vec_envs: ``dummy`` and/or ``subproc``.
        env_name: An experiment's env name, for its entry in ``agents/<algo>.yaml``.
        seed: Seed of the envs and the model.

    Raises:
        ValueError: ``algorithm`` is ``qlearning`` (one env, nothing to vectorise) or
            ``steps`` < 1.
    """
    from shopfloor.agents import SB3Agent, load_hyperparameters

    if algorithm == "qlearning":
        raise ValueError("qlearning steps one env in this process: there is no vec_env to time")
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    kwargs = dict(env_kwargs or {})
    hyperparameters = load_hyperparameters(algorithm, env_id, *([env_name] if env_name else []))
    factory = make_env_factory(env_id, kwargs)
    results = [env_alone(env_id, kwargs, steps, seed)]
    for kind in vec_envs:
        agent = SB3Agent(algorithm, factory, {**hyperparameters, "vec_env": kind}, seed, "cpu")
        start = time.perf_counter()
        agent.learn(steps)
        seconds = time.perf_counter() - start
        agent.env.close()
        results.append(TrainingSpeed(kind, agent.env.num_envs, agent.num_timesteps, seconds))
    return results
