"""Summaries: means and 95% Student-t intervals across seeds, gaps to best known bounds.

The one place where means and intervals are computed (:func:`mean_interval`): per
``(policy, target)`` and per policy of a benchmark (:func:`summarise_episodes`), and
per env x agent or baseline of an experiment from its run folders
(:func:`summarise_runs`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from shopfloor._stats import mean_interval as interval_of_mean
from shopfloor.experiments._episodes import Episode
from shopfloor.experiments._folders import read_csv
from shopfloor.experiments._spec import ExperimentSpec


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
        episodes_run, mean, low, high = mean_interval(episode.value for episode in group)
        bound = bounds.get(target)
        summaries.append(
            Summary(
                policy=policy,
                target=target,
                env_id=group[0].env_id,
                objective=group[0].objective,
                episodes=episodes_run,
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


def mean_interval(values: Iterable[float]) -> tuple[int, float, float, float]:
    """``(n, mean, ci_low, ci_high)`` of ``values``: the 95% Student-t interval of the mean.

    The interval is :func:`~shopfloor._stats.mean_interval`'s (NaN with one value; cut
    at 0 when no value is negative); every summary of runs and episodes is computed
    here.
    """
    data = np.asarray(list(values), dtype=float)
    low, high = interval_of_mean(data)
    return len(data), float(data.mean()), low, high


def summarise_runs(spec: ExperimentSpec, root: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Final objective per env x agent and per baseline: mean and 95% CI over seeds.

    The interval is the 95% Student-t interval of the mean across seeds
    (:func:`~shopfloor._stats.confidence_interval`; NaN with one seed). Reads only the
    run folders.
    """
    rows = []
    for env in spec.envs:
        env_dir = Path(root) / spec.name / env.name
        for agent in spec.agents_for(env):
            finals = []
            for seed in spec.seeds:
                evaluations = read_csv(
                    env_dir / agent / f"seed_{seed}" / "eval.csv", numbers=("objective_mean",)
                )
                if evaluations:
                    finals.append(float(evaluations[-1]["objective_mean"]))
            if finals:
                rows.append(_row(env.name, agent, "agent", finals))
        for policy in spec.baselines_for(env):
            baseline = read_csv(env_dir / "baselines" / f"{policy}.csv", numbers=("objective",))
            values = [float(r["objective"]) for r in baseline]
            if values:
                rows.append(_row(env.name, policy, "baseline", values))
    return rows


def _row(env: str, name: str, kind: str, values: Iterable[float]) -> dict[str, Any]:
    n, mean, low, high = mean_interval(values)
    return {
        "env": env,
        "policy": name,
        "kind": kind,
        "n": n,
        "mean": mean,
        "ci_low": low,
        "ci_high": high,
    }


def markdown_table(rows: Sequence[dict[str, Any]]) -> str:
    """The summary as a Markdown table; ``-`` for the interval of a single value."""
    lines = ["| env | policy | kind | n | mean | 95% CI |", "|---|---|---|---|---|---|"]
    for row in rows:
        low, high = row["ci_low"], row["ci_high"]
        interval = f"[{low:.4g}, {high:.4g}]" if math.isfinite(low) else "-"
        lines.append(
            f"| {row['env']} | {row['policy']} | {row['kind']} | {row['n']} | {row['mean']:.4g} "
            f"| {interval} |"
        )
    return "\n".join(lines) + "\n"
