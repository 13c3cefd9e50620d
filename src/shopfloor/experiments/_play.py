"""The one evaluation loop: a policy steps through an env episode from a seeded reset.

Training's evaluations (:func:`evaluate`), the baselines of an experiment, the
benchmark's episodes and the headroom's hindsight episodes all play their episodes
with :func:`play_episode`, so they are scored the same way: ``reset(seed=seed)``, then
``predict`` (with the env's action masks) and ``step`` until the episode terminates or
is truncated. What the episode scores is read from the finished env afterwards (its
``episode_objective()``, or its factory's KPIs).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym

from shopfloor.policies import bind_policy

MAX_STEPS = 10_000_000
"""Steps after which an episode that has not ended is an error (a guard, never reached)."""


def play_episode(
    policy: Any,
    env: gym.Env[Any, Any],
    seed: int,
    deterministic: bool = True,
    label: str | None = None,
) -> tuple[float, int]:
    """Play one episode of ``policy`` in ``env`` from ``reset(seed=seed)``.

    The policy is not bound here (see :func:`~shopfloor.policies.bind_policy`). An
    episode that is over when ``reset`` returns (a shop in which no choice ever has
    two candidates: the factory is done) takes no step.

    Args:
        policy: Anything with ``predict(observation, deterministic, action_masks)``.
        env: The environment (possibly wrapped; the masks are the unwrapped env's).
        seed: The episode's seed.
        deterministic: Passed to ``predict``.
        label: The policy's name in the error of an episode that never ends.

    Returns:
        The episode's total reward and its number of steps.

    Raises:
        RuntimeError: No end after :data:`MAX_STEPS` steps.
    """
    observation, _ = env.reset(seed=seed)
    unwrapped: Any = env.unwrapped
    factory = getattr(unwrapped, "factory", None)
    if factory is not None and factory.done:
        return 0.0, 0
    total = 0.0
    for steps in range(1, MAX_STEPS + 1):
        masks = unwrapped.action_masks()
        action, _ = policy.predict(observation, deterministic=deterministic, action_masks=masks)
        observation, reward, terminated, truncated, _ = env.step(action)
        total += float(reward)
        if terminated or truncated:
            return total, steps
    raise RuntimeError(  # pragma: no cover - a guard against a policy that never ends
        f"{label or type(policy).__name__}: no end after {MAX_STEPS} steps"
    )


def evaluate(
    policy: Any, env: gym.Env[Any, Any], seeds: Sequence[int], deterministic: bool = True
) -> tuple[list[float], list[float]]:
    """Objective and total reward of one episode per seed under the shared protocol.

    Non-learning policies that read the factory are bound to ``env`` first; each
    episode is :func:`play_episode`'s, its objective the env's ``episode_objective()``.
    """
    policy = bind_policy(policy, env)
    objectives, rewards = [], []
    unwrapped: Any = env.unwrapped
    for seed in seeds:
        total, _ = play_episode(policy, env, seed, deterministic)
        objectives.append(unwrapped.episode_objective())
        rewards.append(total)
    return objectives, rewards
