"""How much a rule-choice policy could gain over its best single rule, measured in hindsight.

Two clairvoyant yardsticks for :class:`~shopfloor.envs.DynamicJobShopEnv` in rule mode,
per seed (a seed fixes the arrivals, times and breakdowns):

* **best rule in hindsight**: each rule of the action set applied all episode; the best
  per seed. A policy that picks one rule per episode, knowing the episode, gets this.
* **one-step rollout** (Bertsekas, Tsitsiklis & Wu 1997, "Rollout algorithms for
  combinatorial optimization"): at every choice, each rule is tried by simulating the
  rest of the episode with the base rule, and the best is kept. Every simulation is
  exact (same seed), so it sees the future; it is never worse than the base rule.
* **sampled one-step rollout** (optional): the same, but every simulation redraws what
  is not yet known at the choice (:meth:`~shopfloor.sim.Factory.resample_future`:
  later arrivals, failures, lead times) and each rule is scored by its mean over a few
  sampled futures, common to the rules. It does not see the future: it is a policy a
  planner could run, at the price of ``rules x samples`` simulations per choice.

The first two are not policies an agent could run. They bound what switching between
the rules buys on a scenario: if even the rollout gains little, no rule-choice agent
will. The sampled rollout says how much of that needs no clairvoyance.

With ``action_mode="job"`` in the env arguments the rollouts try every waiting job (each
valid queue slot) at a choice instead of every rule, still finishing with the base rule:
the same yardsticks for a job-choice agent. There the rules too choose among the first
``slots`` jobs of a queue only; with enough slots they play as in rule mode.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from shopfloor.envs import DynamicJobShopEnv
from shopfloor.experiments._executor import run_tasks
from shopfloor.experiments._play import play_episode
from shopfloor.policies import RulePolicy
from shopfloor.sim import DispatchingRule


@dataclass(frozen=True)
class Headroom:
    """The yardsticks on one seed (mean weighted tardiness, or the env's objective).

    Attributes:
        seed: Episode seed.
        base: The base rule all episode.
        rules: Each rule of the env's rule set all episode, by name.
        rollout: The one-step rollout over the rules (job mode: over the waiting jobs),
            the base rule after each choice.
        choices: Agent choices in the rollout episode.
        deviations: Choices where the rollout took another action than the base rule.
        actions: The rollout's choices (indices into the env's rules; job mode: queue
            slots), in order.
        samples: Sampled futures per action and choice; 0 when the sampled rollout was
            not run.
        sampled: The sampled rollout's objective (``None`` when not run).
        sampled_deviations: Its choices of another action than the base rule's.
        sampled_actions: Its choices, in order.
    """

    seed: int
    base: float
    rules: dict[str, float]
    rollout: float
    choices: int
    deviations: int
    actions: tuple[int, ...]
    samples: int = 0
    sampled: float | None = None
    sampled_deviations: int = 0
    sampled_actions: tuple[int, ...] = ()

    @property
    def best_rule(self) -> str:
        """The best single rule on this seed, in hindsight."""
        return min(self.rules, key=self.rules.__getitem__)


def _episode(
    env: DynamicJobShopEnv,
    seed: int,
    prefix: Sequence[int],
    base: DispatchingRule,
    future: int | None = None,
) -> tuple[float, int]:
    """The objective and the number of choices with ``prefix`` first, ``base`` after.

    With ``future``, all that is unknown at the last choice of ``prefix`` is redrawn
    from that seed just before it is taken.
    """
    policy = _PrefixThenRule(env, prefix, RulePolicy(base, seed=seed).bind(env), future)
    _, choices = play_episode(policy, env, seed, label=f"{base.value} after a prefix")
    return env.episode_objective(), choices


class _PrefixThenRule:
    """A policy that takes ``prefix``'s actions first, then the base rule's.

    With ``future``, the factory's unknown future is redrawn from that seed just
    before the last action of ``prefix`` is taken.
    """

    def __init__(
        self,
        env: DynamicJobShopEnv,
        prefix: Sequence[int],
        base: RulePolicy,
        future: int | None,
    ):
        self.env, self.prefix, self.base, self.future = env, prefix, base, future
        self.choices = 0

    def predict(
        self, observation: Any, deterministic: bool = True, action_masks: Any = None
    ) -> tuple[int, None]:
        """The next action of the prefix, or the base rule's once it is played."""
        choice = self.choices
        self.choices += 1
        if self.future is not None and choice == len(self.prefix) - 1:
            self.env.factory.resample_future(self.future)
        if choice < len(self.prefix):
            return self.prefix[choice], None
        return int(self.base.predict(None)[0]), None


def _reset(env: DynamicJobShopEnv, seed: int, rule: DispatchingRule) -> RulePolicy:
    """Reset ``env`` to ``seed``; the rule as a policy whose random stream is that seed's."""
    env.reset(seed=seed)
    return RulePolicy(rule, seed=seed).bind(env)


def _candidates(
    env: DynamicJobShopEnv, seed: int, prefix: Sequence[int], base: DispatchingRule
) -> tuple[list[int], int]:
    """The actions to try at choice ``len(prefix)`` and the base rule's action there.

    Rule mode: every rule. Job mode: the valid queue slots, read after replaying
    ``prefix``.
    """
    if env.action_mode == "rule":
        return list(range(len(env.rules))), env.rules.index(base)
    policy = _reset(env, seed, base)
    for action in prefix:
        env.step(action)
    return [int(a) for a in np.flatnonzero(env.action_masks())], int(policy.predict(None)[0])


def _rollout(
    env: DynamicJobShopEnv,
    seed: int,
    base: DispatchingRule,
    samples: int,
    base_outcome: tuple[float, int],
) -> tuple[float, int, list[int], int]:
    """One-step rollout on ``seed``: clairvoyant (``samples`` 0) or over sampled futures.

    ``base_outcome`` is the base rule's episode (objective, choices): with no choice in
    it, it is the rollout.

    Returns:
        The objective, the number of choices, the actions chosen and how many of them
        differ from the base rule's.
    """
    prefix: list[int] = []
    deviations = 0
    if base_outcome[1] == 0:
        return base_outcome[0], 0, prefix, 0
    while True:  # extend the prefix one best choice at a time
        actions, base_action = _candidates(env, seed, prefix, base)
        if samples:
            futures = [_future_seed(seed, len(prefix), k) for k in range(samples)]
            scores = {
                a: sum(_episode(env, seed, [*prefix, a], base, f)[0] for f in futures) / samples
                for a in actions
            }
        else:
            outcomes = {a: _episode(env, seed, [*prefix, a], base) for a in actions}
            scores = {a: objective for a, (objective, _) in outcomes.items()}
        best = min(actions, key=lambda a: (scores[a], a != base_action))
        prefix.append(best)
        deviations += best != base_action
        objective, choices = _episode(env, seed, prefix, base) if samples else outcomes[best]
        if len(prefix) >= choices:  # every choice of that episode is in the prefix
            return objective, choices, prefix, deviations


def _future_seed(seed: int, choice: int, sample: int) -> int:
    """Seed of sample ``sample`` of the futures at choice ``choice`` of episode ``seed``."""
    return int(np.random.SeedSequence([seed, choice, sample]).generate_state(1)[0])


def headroom(
    seed: int,
    base: str = "atc",
    env_kwargs: dict[str, Any] | None = None,
    samples: int = 0,
) -> Headroom:
    """The yardsticks on one seed (about actions x choices full episodes; minutes).

    Args:
        seed: Episode seed.
        base: Base rule; must be in the env's rule set.
        env_kwargs: :class:`DynamicJobShopEnv` arguments; ``action_mode`` "rule" (the
            default) tries the rules at each choice, "job" the waiting jobs.
        samples: Sampled futures per action and choice for the sampled rollout (it costs
            ``samples`` times the clairvoyant one); 0 skips it.

    Raises:
        ValueError: ``base`` is not one of the env's rules, or ``samples`` < 0.
    """
    if samples < 0:
        raise ValueError(f"samples must be >= 0, got {samples}")
    env = DynamicJobShopEnv(**{"action_mode": "rule", **(env_kwargs or {})})
    names = [rule.value for rule in env.rules]
    base_rule = DispatchingRule.parse(base)
    if base_rule not in env.rules:
        raise ValueError(f"base rule {base!r} is not in the env's rules {names}")
    outcomes = {rule.value: _episode(env, seed, [], rule) for rule in env.rules}
    rules = {name: objective for name, (objective, _) in outcomes.items()}
    base_outcome = outcomes[base_rule.value]
    rollout, choices, prefix, deviations = _rollout(env, seed, base_rule, 0, base_outcome)
    result = Headroom(
        seed, rules[base_rule.value], rules, rollout, choices, deviations, tuple(prefix)
    )
    if not samples:
        return result
    sampled, _, sampled_prefix, sampled_deviations = _rollout(
        env, seed, base_rule, samples, base_outcome
    )
    return dataclasses.replace(
        result,
        samples=samples,
        sampled=sampled,
        sampled_deviations=sampled_deviations,
        sampled_actions=tuple(sampled_prefix),
    )


def _headroom_task(arguments: tuple[int, str, dict[str, Any] | None, int]) -> Headroom:
    return headroom(*arguments)


def rule_choice_headroom(
    seeds: Sequence[int],
    base: str = "atc",
    env_kwargs: dict[str, Any] | None = None,
    workers: int | None = None,
    samples: int = 0,
) -> list[Headroom]:
    """:func:`headroom` on every seed, one process per seed (all cores by default)."""
    tasks = [(seed, base, env_kwargs, samples) for seed in seeds]
    return run_tasks(_headroom_task, tasks, workers, label="seeds")


@dataclass(frozen=True)
class HeadroomSummary:
    """The yardsticks' means over seeds.

    Attributes:
        rules: Each rule's mean objective (the rule all episode), by name.
        best_single: The rule of the lowest mean: the best single rule.
        hindsight: Mean over seeds of each seed's best rule in hindsight.
        rollout: Mean of the clairvoyant one-step rollout.
        sampled: Mean of the sampled rollout (``None`` when it was not run).
    """

    rules: dict[str, float]
    best_single: str
    hindsight: float
    rollout: float
    sampled: float | None = None

    @property
    def reference(self) -> float:
        """The best single rule's mean, which the yardsticks are compared with."""
        return self.rules[self.best_single]


def summarise_headroom(rows: Sequence[Headroom]) -> HeadroomSummary:
    """Means over the seeds of :func:`rule_choice_headroom`'s rows.

    Raises:
        ValueError: No rows.
    """
    if not rows:
        raise ValueError("no headroom rows to summarise")
    n = len(rows)
    means = {name: sum(row.rules[name] for row in rows) / n for name in rows[0].rules}
    best_single = min(means, key=means.__getitem__)
    hindsight = sum(row.rules[row.best_rule] for row in rows) / n
    rollout = sum(row.rollout for row in rows) / n
    sampled = None
    if any(row.samples for row in rows):
        sampled = sum(row.sampled if row.sampled is not None else math.nan for row in rows) / n
    return HeadroomSummary(means, best_single, hindsight, rollout, sampled)
