"""Summaries: means and 95% Student-t intervals across seeds, gaps to best known bounds.

The one place where means and intervals are computed (:func:`mean_interval`): per
``(policy, target)`` and per policy of a benchmark (:func:`summarise_episodes`), and
per env x agent or baseline of an experiment from its run folders
(:func:`summarise_runs`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from shopfloor._stats import confidence_interval
from shopfloor.experiments._episodes import Episode


@dataclass(frozen=True)
class Summary:
    """The episodes of one ``(policy, target)``.

    Attributes:
        policy: The policy's name.
        target: The target as named.
        env_id: The environment family.
        objective: The KPI that scores it.
        episodes: Number of episodes (seeds).
        mean: Mean objective.
        ci_low: Lower end of the 95% Student-t interval of the mean across seeds
            (NaN with one episode).
        ci_high: Upper end (NaN with one episode).
        upper_bound: Best known makespan, where known.
        gap: ``(mean - upper_bound) / upper_bound`` where the bound is known.
        mean_wall_time: Mean seconds per episode.
    """

    policy: str
    target: str
    env_id: str
    objective: str
    episodes: int
    mean: float
    ci_low: float
    ci_high: float
    upper_bound: float | None
    gap: float | None
    mean_wall_time: float


@dataclass(frozen=True)
class PolicySummary:
    """One policy over every target.

    Attributes:
        policy: The policy's name.
        targets: Targets it ran on.
        targets_with_bound: Those with a best known makespan.
        mean_gap: Mean of the gaps over those (``None`` without any).
        mean_wall_time: Mean seconds per episode over all its episodes.
    """

    policy: str
    targets: int
    targets_with_bound: int
    mean_gap: float | None
    mean_wall_time: float


def gap(value: float, upper_bound: float | None) -> float | None:
    """Relative gap ``(value - upper_bound) / upper_bound``, or ``None`` without a bound."""
    if upper_bound is None or upper_bound <= 0:
        return None
    return (value - upper_bound) / upper_bound


def summarise_episodes(
    episodes: Sequence[Episode], bounds: Mapping[str, float | None]
) -> tuple[list[Summary], list[PolicySummary]]:
    """Aggregate episodes per ``(policy, target)`` and per policy, in first-seen order.

    Args:
        episodes: The episodes.
        bounds: Best known makespan per target (as named), ``None`` where unknown.
    """
    groups: dict[tuple[str, str], list[Episode]] = {}
    for episode in episodes:
        groups.setdefault((episode.policy, episode.target), []).append(episode)
    summaries = []
    for (policy, target), group in groups.items():
        values = [episode.value for episode in group]
        mean = float(np.mean(values))
        low, high = confidence_interval(values)
        bound = bounds.get(target)
        summaries.append(
            Summary(
                policy=policy,
                target=target,
                env_id=group[0].env_id,
                objective=group[0].objective,
                episodes=len(group),
                mean=mean,
                ci_low=low,
                ci_high=high,
                upper_bound=bound,
                gap=gap(mean, bound),
                mean_wall_time=float(np.mean([episode.wall_time for episode in group])),
            )
        )
    policies = []
    for policy in dict.fromkeys(summary.policy for summary in summaries):
        mine = [summary for summary in summaries if summary.policy == policy]
        gaps = [summary.gap for summary in mine if summary.gap is not None]
        times = [episode.wall_time for episode in episodes if episode.policy == policy]
        policies.append(
            PolicySummary(
                policy=policy,
                targets=len(mine),
                targets_with_bound=len(gaps),
                mean_gap=float(np.mean(gaps)) if gaps else None,
                mean_wall_time=float(np.mean(times)),
            )
        )
    return summaries, policies
