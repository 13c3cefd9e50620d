"""How much a rule-choice policy could gain over its best single rule, measured in hindsight.

Two clairvoyant yardsticks for :class:`~shopfloor.envs.DynamicJobShopEnv` in rule mode,
per seed (a seed fixes the arrivals, times and breakdowns):

* **best rule in hindsight**: each rule of the action set applied all episode; the best
  per seed. A policy that picks one rule per episode, knowing the episode, gets this.
* **one-step rollout** (Bertsekas, Tsitsiklis & Wu 1997, "Rollout algorithms for
  combinatorial optimization"): at every choice, each rule is tried by simulating the
  rest of the episode with the base rule, and the best is kept. Every simulation is
  exact (same seed), so it sees the future; it is never worse than the base rule.

Neither is a policy an agent could run. They bound what switching between the rules
buys on a scenario: if even the rollout gains little, no rule-choice agent will.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from shopfloor.envs import DynamicJobShopEnv
from shopfloor.sim import DispatchingRule


@dataclass(frozen=True)
class Headroom:
    """The yardsticks on one seed (mean weighted tardiness, or the env's objective).

    Attributes:
        seed: Episode seed.
        base: The base rule all episode.
        rules: Each rule of the action set all episode, by name.
        rollout: The one-step rollout over the rules, the base rule after each choice.
        choices: Agent choices in the rollout episode.
        deviations: Choices where the rollout picked another rule than the base one.
        actions: The rollout's choices (indices into the env's rules), in order.
    """

    seed: int
    base: float
    rules: dict[str, float]
    rollout: float
    choices: int
    deviations: int
    actions: tuple[int, ...]

    @property
    def best_rule(self) -> str:
        """The best single rule on this seed, in hindsight."""
        return min(self.rules, key=self.rules.__getitem__)


def _episode(
    env: DynamicJobShopEnv, seed: int, prefix: Sequence[int], base: int
) -> tuple[float, int]:
    """The objective and the number of choices with ``prefix`` first, ``base`` after."""
    env.reset(seed=seed)
    choices, done = 0, False
    while not done:
        action = prefix[choices] if choices < len(prefix) else base
        choices += 1
        _, _, terminated, truncated, _ = env.step(action)
        done = terminated or truncated
    return env.episode_objective(), choices


def headroom(seed: int, base: str = "atc", env_kwargs: dict[str, Any] | None = None) -> Headroom:
    """Both yardsticks on one seed (about 7 x choices full episodes; minutes, not hours).

    Args:
        seed: Episode seed.
        base: Base rule; must be in the env's rule set.
        env_kwargs: :class:`DynamicJobShopEnv` arguments (``action_mode`` is "rule").

    Raises:
        ValueError: ``base`` is not one of the env's rules.
    """
    env = DynamicJobShopEnv(**{**(env_kwargs or {}), "action_mode": "rule"})
    names = [rule.value for rule in env.rules]
    base_rule = DispatchingRule.parse(base).value
    if base_rule not in names:
        raise ValueError(f"base rule {base!r} is not in the env's rules {names}")
    base_action = names.index(base_rule)
    rules = {name: _episode(env, seed, [], action)[0] for action, name in enumerate(names)}
    prefix: list[int] = []
    while True:  # the rollout: extend the prefix one best choice at a time
        outcomes = [
            _episode(env, seed, [*prefix, action], base_action) for action in range(len(names))
        ]
        best = min(range(len(names)), key=lambda a: (outcomes[a][0], a != base_action))
        prefix.append(best)
        rollout, choices = outcomes[best]
        if len(prefix) >= choices:  # every choice of that episode is in the prefix
            break
    deviations = sum(action != base_action for action in prefix)
    return Headroom(seed, rules[base_rule], rules, rollout, choices, deviations, tuple(prefix))


def _headroom_task(arguments: tuple[int, str, dict[str, Any] | None]) -> Headroom:
    return headroom(*arguments)


def rule_choice_headroom(
    seeds: Sequence[int],
    base: str = "atc",
    env_kwargs: dict[str, Any] | None = None,
    workers: int | None = None,
) -> list[Headroom]:
    """:func:`headroom` on every seed, one process per seed (all cores by default)."""
    tasks = [(seed, base, env_kwargs) for seed in seeds]
    workers = min(workers or os.cpu_count() or 1, len(tasks))
    if workers <= 1:
        return [_headroom_task(task) for task in tasks]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        return list(pool.map(_headroom_task, tasks))
