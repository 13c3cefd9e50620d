"""Training throughput: env steps per second of an SB3 agent, by vectorisation.

The agent, built from ``agents/<algo>.yaml`` as ``shopfloor train`` builds it, trains
``steps`` env steps with its ``n_envs`` envs in this process (``DummyVecEnv``) and then
in one process each (``SubprocVecEnv``; skipped when the config has one env). The
reference, measured in the same run, is the env alone: one copy stepped with random
valid actions, no learning. A training rate's ratio to it says what learning and
vectorisation cost on top of the simulation on this machine; it is steadier than the
raw rates on a noisy machine, but it depends on the core count.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from shopfloor.experiments._runner import resolved_hyperparameters
from shopfloor.experiments._train import default_env_name, make_env_factory

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


def env_alone(
    env_id: str,
    env_kwargs: dict[str, Any],
    steps: int,
    seed: int = 0,
    min_seconds: float = 2.0,
) -> TrainingSpeed:
    """One env stepped with random valid actions, episode after episode.

    It runs at least ``steps`` steps and at least ``min_seconds`` (a cheap env would
    otherwise be timed over a fraction of a second). The shopfloor envs' action spaces
    sample only the actions valid at the moment.
    """
    env = make_env_factory(env_id, env_kwargs)()
    try:
        env.action_space.seed(seed)
        env.reset(seed=seed)
        taken, start = 0, time.perf_counter()
        while taken < steps or time.perf_counter() - start < min_seconds:
            _, _, terminated, truncated, _ = env.step(env.action_space.sample())
            taken += 1
            if terminated or truncated:
                env.reset()
        seconds = time.perf_counter() - start
    finally:
        env.close()
    return TrainingSpeed("env alone", 1, taken, seconds)


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
        env_id: Gymnasium id, e.g. ``shopfloor/DynamicJobShop-v1``.
        algorithm: A vectorised (Stable-Baselines3) algorithm of the agent registry.
        env_kwargs: Env arguments (``scenario``, ``instance``, ...).
        steps: Env steps per measurement.
        vec_envs: ``dummy`` and/or ``subproc`` (skipped when the agent has one env).
        env_name: The ``agents/<algo>.yaml`` entry after the env id's (default: as
            ``shopfloor train`` names the env: scenario, instance or id).
        seed: Seed of the envs and the model.

    Raises:
        ValueError: ``algorithm`` is not vectorised (``qlearning``, ``rollout``),
            ``steps`` < 1, or the env cannot be made.
    """
    from shopfloor.agents import ALGORITHMS, SB3Agent

    if not ALGORITHMS.resolve(algorithm).vectorised:
        raise ValueError(
            "bench-train times the vectorised envs of SB3 agents "
            f"({', '.join(ALGORITHMS.names(vectorised=True))}); {algorithm} steps its envs "
            "in this process (its steps/s are in the wall_time of a run's progress.csv)"
        )
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    kwargs = dict(env_kwargs or {})
    name = env_name or default_env_name(env_id, kwargs)
    hyperparameters = resolved_hyperparameters(algorithm, env_id, name)
    parallel = int(hyperparameters.get("n_envs", 1)) > 1
    factory = make_env_factory(env_id, kwargs)
    results = [env_alone(env_id, kwargs, steps, seed)]
    for kind in vec_envs:
        if kind == "subproc" and not parallel:
            continue
        agent = SB3Agent(algorithm, factory, {**hyperparameters, "vec_env": kind}, seed, "cpu")
        try:
            start = time.perf_counter()
            agent.learn(steps)
            seconds = time.perf_counter() - start
        except (EOFError, ConnectionError) as error:
            raise RuntimeError(
                f"an env process died ({type(error).__name__}); time vec_env dummy "
                "alone to see the env's error"
            ) from error
        finally:
            _close(agent.env)
        results.append(TrainingSpeed(kind, agent.env.num_envs, agent.num_timesteps, seconds))
    return results


def _close(vec_env: Any) -> None:
    """Close the envs; if one's process has died, stop the others."""
    try:
        vec_env.close()
    except (EOFError, OSError):
        for process in getattr(vec_env, "processes", ()):
            process.terminate()
            process.join(timeout=10)
