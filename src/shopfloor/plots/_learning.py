"""Learning curves: evaluation objective over env steps, mean and 95% CI across seeds.

The band is the 95% Student-t interval of the mean across seeds (none with one seed).

Reads an experiment's run folders (``<experiment>/<env>/<agent>/seed_<n>/eval.csv``
and ``result.json``) and its baselines (``<experiment>/<env>/baselines/<policy>.csv``);
nothing is simulated or evaluated here.
"""

from __future__ import annotations

import csv
import json
import math
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.lines import Line2D

from shopfloor._stats import mean_interval
from shopfloor.plots._output import new_figure, save_figure
from shopfloor.plots._palette import AGENT, BASELINE, style

BASELINES = "baselines"


@dataclass(frozen=True)
class Curve:
    """One agent's learning curve on one env.

    Attributes:
        env: Env folder name.
        agent: Agent folder name.
        seeds: Seeds averaged.
        timesteps: Env steps evaluated by every one of those seeds.
        mean: Mean over seeds of ``objective_mean`` at each of those steps.
        ci_low: Lower end of the 95% Student-t interval of the mean across seeds
            (NaN when n = 1).
        ci_high: Upper end (NaN when n = 1).
    """

    env: str
    agent: str
    seeds: tuple[int, ...]
    timesteps: tuple[int, ...]
    mean: tuple[float, ...]
    ci_low: tuple[float, ...]
    ci_high: tuple[float, ...]


@dataclass(frozen=True)
class BaselineLevel:
    """A baseline's mean objective over its evaluation seeds on one env."""

    env: str
    policy: str
    mean: float
    n: int


@dataclass(frozen=True)
class LearningCurvesPlot:
    """What :func:`learning_curves` drew.

    Attributes:
        paths: The PNG and SVG written.
        curves: One per env and agent.
        baselines: One per env and baseline policy.
        objectives: The objective name per env (``None`` when no run has finished).
        off_scale: Baselines named in the legend, with their value, but not drawn:
            beyond the agents' range by more than that range (see
            :func:`learning_curves`).
    """

    paths: tuple[Path, Path]
    curves: tuple[Curve, ...]
    baselines: tuple[BaselineLevel, ...]
    objectives: dict[str, str | None]
    off_scale: tuple[BaselineLevel, ...] = ()

    def curve(self, env: str, agent: str) -> Curve:
        """The curve of ``agent`` on ``env``."""
        for curve in self.curves:
            if (curve.env, curve.agent) == (env, agent):
                return curve
        raise KeyError(f"no curve for {agent!r} on {env!r}")

    def baseline(self, env: str, policy: str) -> BaselineLevel:
        """The level of baseline ``policy`` on ``env``."""
        for level in self.baselines:
            if (level.env, level.policy) == (env, policy):
                return level
        raise KeyError(f"no baseline {policy!r} on {env!r}")


def learning_curves(
    experiment_dir: str | os.PathLike[str],
    out: str | os.PathLike[str],
    env: str | None = None,
) -> LearningCurvesPlot:
    """Draw each agent's evaluation objective against env steps, per env.

    For every env of the experiment (or only ``env``), one axes: per agent, the mean
    over seeds of ``eval.csv``'s ``objective_mean`` at the steps every seed evaluated,
    with the 95% Student-t interval of the mean across seeds as a band (none with one
    seed; cut at 0 when every mean drawn is non-negative, as makespans, tardiness and
    costs are); each baseline's mean objective as a dashed or dotted horizontal line.
    Every policy keeps its colour across figures (:mod:`shopfloor.plots._palette`:
    agents saturated and solid, baselines muted and dashed); one legend, outside the
    axes. The y label is the objective named in the runs' ``result.json``. So that a
    far-off baseline does not flatten the curves, one more than the agents' range
    (their bands and the best baseline) above it is only named in the legend with its
    value.

    Args:
        experiment_dir: ``<runs root>/<experiment>``.
        out: Output path; ``<stem>.png`` and ``<stem>.svg`` are written.
        env: Draw only this env folder.

    Returns:
        The paths written and the numbers drawn.

    Raises:
        FileNotFoundError: No such experiment folder, or no such env in it.
        ValueError: The experiment holds no evaluations and no baselines.
    """
    root = Path(experiment_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such experiment folder")
    envs = sorted(p.name for p in root.iterdir() if p.is_dir() and _has_runs(p))
    if env is not None:
        if env not in envs:
            raise FileNotFoundError(f"{root}: no env {env!r}; it holds {envs}")
        envs = [env]
    curves: list[Curve] = []
    baselines: list[BaselineLevel] = []
    objectives: dict[str, str | None] = {}
    for name in envs:
        env_dir = root / name
        for agent_dir in _agent_dirs(env_dir):
            curve = _curve(name, agent_dir)
            if curve is not None:
                curves.append(curve)
        baselines.extend(_baselines(name, env_dir / BASELINES))
        objectives[name] = _objective(env_dir)
    if not curves and not baselines:
        raise ValueError(f"{root}: no eval.csv and no baselines to plot")

    columns = min(3, len(envs))
    rows = math.ceil(len(envs) / columns)
    figure = new_figure(max(5.5 * columns + 0.5, 7.5), 4.0 * rows + 1.8)
    grid = figure.subplots(rows, columns, squeeze=False)
    off_scale: list[BaselineLevel] = []
    handles: dict[str, Any] = {}
    for index, name in enumerate(envs):
        axes = grid[index // columns][index % columns]
        mine = [c for c in curves if c.env == name]
        levels = [b for b in baselines if b.env == name]
        floor = 0.0 if _non_negative(mine, levels) else -math.inf
        for curve in mine:
            look = style(curve.agent, AGENT)
            n = len(curve.seeds)
            if n > 1:
                axes.fill_between(
                    curve.timesteps,
                    np.maximum(curve.ci_low, floor),
                    curve.ci_high,
                    color=look.colour,
                    alpha=0.2,
                    linewidth=0,
                )
            (line,) = axes.plot(
                curve.timesteps, curve.mean, color=look.colour, marker="o", markersize=3
            )
            label = f"{curve.agent} ({n} seeds, 95% CI)" if n > 1 else f"{curve.agent} (1 seed)"
            handles.setdefault(label, line)
        cutoff = _scale_limit(mine, levels)
        for level in levels:
            look = style(level.policy, BASELINE)
            if level.mean > cutoff:
                off_scale.append(level)
                label = f"{level.policy} (baseline): {level.mean:.4g} in {name}, off scale"
                handles[label] = Line2D([], [], color=look.colour, linestyle=look.linestyle)
                continue
            line = axes.axhline(
                level.mean, color=look.colour, linestyle=look.linestyle, linewidth=1.2
            )
            handles.setdefault(f"{level.policy} (baseline)", line)
        axes.set_title(f"{name}: {objectives[name] or 'objective'} (lower is better)", fontsize=10)
        axes.set_xlabel("env steps")
        axes.set_ylabel(objectives[name] or "objective")
        axes.grid(alpha=0.3)
    for index in range(len(envs), rows * columns):
        grid[index // columns][index % columns].set_visible(False)
    figure.legend(  # below the axes: clear of the data and of the title
        list(handles.values()),
        list(handles),
        loc="outside lower center",
        fontsize=8,
        ncols=min(_legend_columns(list(handles)), max(1, len(handles))),
    )
    seeds = sorted({len(c.seeds) for c in curves})
    over = f", mean over {'/'.join(map(str, seeds))} seeds" if seeds else ""
    figure.suptitle(f"{root.name}: evaluation objective over training{over}")
    paths = save_figure(figure, out)
    return LearningCurvesPlot(paths, tuple(curves), tuple(baselines), objectives, tuple(off_scale))


def _legend_columns(labels: Sequence[str]) -> int:
    """Columns of the legend below a figure at least 7.5 inches wide, by its longest label.

    At 8-point type three columns hold labels of up to about 36 characters, two up to
    about 58 (wider ones ran off the figure's edges).
    """
    longest = max((len(label) for label in labels), default=0)
    return 3 if longest <= 36 else 2 if longest <= 58 else 1


def _scale_limit(curves: Sequence[Curve], levels: Sequence[BaselineLevel]) -> float:
    """Highest baseline drawn: the agents' range (means, bands, best baseline) above it.

    With no curves every baseline is drawn (infinity).
    """
    values = [v for curve in curves for v in (*curve.mean, *curve.ci_low, *curve.ci_high)]
    if not values:
        return math.inf
    if levels:
        values.append(min(level.mean for level in levels))  # the best baseline stays
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return math.inf
    low, high = min(finite), max(finite)
    span = max(high - low, 0.05 * abs(high), 1e-9)
    return high + span


def _non_negative(curves: Sequence[Curve], levels: Sequence[BaselineLevel]) -> bool:
    """Whether every mean drawn is at least 0.

    Then bands stop at 0: a makespan, tardiness or cost cannot be negative.
    """
    means = [v for curve in curves for v in curve.mean] + [level.mean for level in levels]
    return bool(means) and all(v >= 0 for v in means if math.isfinite(v))


def _has_runs(env_dir: Path) -> bool:
    return (env_dir / BASELINES).is_dir() or any(_agent_dirs(env_dir))


def _agent_dirs(env_dir: Path) -> list[Path]:
    return sorted(
        p for p in env_dir.iterdir() if p.is_dir() and p.name != BASELINES and _seed_dirs(p)
    )


def _seed_dirs(agent_dir: Path) -> list[tuple[int, Path]]:
    seeds = []
    for path in agent_dir.glob("seed_*"):
        suffix = path.name.removeprefix("seed_")
        if path.is_dir() and suffix.lstrip("-").isdigit():
            seeds.append((int(suffix), path))
    return sorted(seeds)


def _read_csv(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        return []
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _curve(env: str, agent_dir: Path) -> Curve | None:
    """Mean and 95% Student-t interval over seeds at the steps every seed evaluated."""
    per_seed: dict[int, dict[int, float]] = {}
    for seed, seed_dir in _seed_dirs(agent_dir):
        rows = _read_csv(seed_dir / "eval.csv")
        if rows:
            per_seed[seed] = {int(r["timesteps"]): float(r["objective_mean"]) for r in rows}
    if not per_seed:
        return None
    common = sorted(set.intersection(*(set(values) for values in per_seed.values())))
    if not common:
        warnings.warn(
            f"{agent_dir}: its seeds share no evaluation step; no curve drawn", stacklevel=3
        )
        return None
    seeds = sorted(per_seed)
    values = np.array([[per_seed[s][t] for t in common] for s in seeds], dtype=float)
    intervals = [mean_interval(values[:, step]) for step in range(len(common))]
    return Curve(
        env=env,
        agent=agent_dir.name,
        seeds=tuple(seeds),
        timesteps=tuple(common),
        mean=_floats(values.mean(axis=0)),
        ci_low=tuple(low for low, _ in intervals),
        ci_high=tuple(high for _, high in intervals),
    )


def _baselines(env: str, folder: Path) -> list[BaselineLevel]:
    levels = []
    for path in sorted(folder.glob("*.csv")) if folder.is_dir() else []:
        rows = _read_csv(path)
        values = [float(r["objective"]) for r in rows if r.get("objective") not in (None, "")]
        if values:
            policy = rows[0].get("policy") or path.stem
            levels.append(BaselineLevel(env, policy, float(np.mean(values)), len(values)))
    return levels


def _objective(env_dir: Path) -> str | None:
    """The ``objective`` named by the first run's ``result.json`` that has one."""
    for agent_dir in _agent_dirs(env_dir):
        for _, seed_dir in _seed_dirs(agent_dir):
            result = seed_dir / "result.json"
            if result.is_file():
                try:
                    name = json.loads(result.read_text()).get("objective")
                except (json.JSONDecodeError, AttributeError):
                    continue
                if name:
                    return str(name)
    return None


def _floats(values: Sequence[float] | np.ndarray) -> tuple[float, ...]:
    return tuple(float(v) for v in values)
