"""Benchmark charts: grouped bars of the mean objective with confidence intervals.

Reads a summary table as written by ``shopfloor bench`` (``summary.csv``: policy,
target, objective, mean, ci_low, ci_high ...) or by an experiment (``summary.csv``:
env, policy, kind, n, mean, ci_low, ci_high). Targets of different objectives (a
makespan and a cost) get separate panels, as do the envs of an experiment summary,
which has no objective column.
"""

from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass
from pathlib import Path

from shopfloor.plots._output import new_figure, save_figure
from shopfloor.plots._palette import AGENT, BASELINE, style

GROUP_COLUMNS = ("target", "env")


@dataclass(frozen=True)
class BenchmarkBar:
    """One bar: a policy's mean on a target (or env).

    Attributes:
        panel: The panel it is drawn in (objective, or env without one).
        group: Target or env.
        policy: Policy (or agent).
        mean: Bar height.
        ci_low: Lower end of the error bar (NaN: none).
        ci_high: Upper end of the error bar (NaN: none).
        x: Bar centre on the panel's x axis.
    """

    panel: str
    group: str
    policy: str
    mean: float
    ci_low: float
    ci_high: float
    x: float


@dataclass(frozen=True)
class BenchmarkPlot:
    """What :func:`benchmark_bars` drew.

    Attributes:
        paths: The PNG and SVG written.
        bars: Every bar, in table order.
        group_column: ``target`` (benchmark summary) or ``env`` (experiment summary).
    """

    paths: tuple[Path, Path]
    bars: tuple[BenchmarkBar, ...]
    group_column: str

    def bar(self, group: str, policy: str) -> BenchmarkBar:
        """The bar of ``policy`` on ``group``."""
        for bar in self.bars:
            if (bar.group, bar.policy) == (group, policy):
                return bar
        raise KeyError(f"no bar for {policy!r} on {group!r}")


def benchmark_bars(
    summary_csv: str | os.PathLike[str],
    out: str | os.PathLike[str],
    title: str | None = None,
) -> BenchmarkPlot:
    """Draw grouped bars: per target (or env) one bar per policy, with CI error bars.

    A bar whose interval is blank or NaN (one seed: no interval) has no error bar; when
    every mean is non-negative (makespans, tardiness, costs) error bars stop at 0. Each
    policy keeps its colour across figures (:mod:`shopfloor.plots._palette`): agents
    plain and saturated, baselines (the ``kind`` column, or a known rule's name)
    hatched and muted; the legend sits outside the panels.

    Args:
        summary_csv: A benchmark or experiment ``summary.csv``.
        out: Output path; ``<stem>.png`` and ``<stem>.svg`` are written.
        title: Figure title (default: the summary's folder name and what is shown).

    Returns:
        The paths written and the bars drawn.

    Raises:
        ValueError: The table lacks a ``policy``, ``mean`` or target/env column, or
            has no rows.
    """
    path = Path(summary_csv)
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        columns = list(reader.fieldnames or [])
        rows = list(reader)
    group_column = next((c for c in GROUP_COLUMNS if c in columns), None)
    missing = [c for c in ("policy", "mean") if c not in columns]
    if group_column is None:
        missing.append(" or ".join(GROUP_COLUMNS))
    if missing:
        raise ValueError(f"{path}: not a summary table, missing column(s) {missing}")
    assert group_column is not None
    if not rows:
        raise ValueError(f"{path}: no rows to plot")
    has_objective = "objective" in columns

    def panel_of(row: dict[str, str]) -> str:
        return row["objective"] if has_objective and row["objective"] else row[group_column]

    panels = list(dict.fromkeys(panel_of(row) for row in rows))
    policies = list(dict.fromkeys(row["policy"] for row in rows))
    kinds = {row["policy"]: row.get("kind") for row in rows}
    looks = {
        policy: style(policy, kinds[policy] if kinds[policy] in (AGENT, BASELINE) else None)
        for policy in policies
    }
    floor = 0.0 if all(_number(row["mean"]) >= 0 for row in rows) else -math.inf

    layout: dict[str, tuple[list[str], list[str]]] = {}
    for panel in panels:
        mine = [row for row in rows if panel_of(row) == panel]
        layout[panel] = (
            list(dict.fromkeys(row[group_column] for row in mine)),
            list(dict.fromkeys(row["policy"] for row in mine)),
        )
    widest = max(len(groups) * (len(names) + 1) for groups, names in layout.values())
    figure = new_figure(min(max(6.0, 0.22 * widest + 2.5), 40.0), 3.6 * len(panels) + 0.6)
    axes_list = figure.subplots(len(panels), 1, squeeze=False)[:, 0]
    bars: list[BenchmarkBar] = []
    drawn_labels: set[str] = set()
    for axes, panel in zip(axes_list, panels, strict=True):
        groups, names = layout[panel]
        width = 0.8 / len(names)
        for row in rows:
            if panel_of(row) != panel:
                continue
            policy = row["policy"]
            x = groups.index(row[group_column]) - 0.4 + width * (names.index(policy) + 0.5)
            mean = _number(row["mean"])
            low, high = _number(row.get("ci_low")), _number(row.get("ci_high"))
            label = None
            if policy not in drawn_labels:
                label = f"{policy} (baseline)" if looks[policy].kind == BASELINE else policy
            drawn_labels.add(policy)
            look = looks[policy]
            axes.bar(
                x,
                mean,
                width=width,
                color=look.colour,
                hatch=look.hatch,
                edgecolor="black",
                linewidth=0.4,
                label=label,
            )
            if not (math.isnan(low) or math.isnan(high)):  # no interval from one value
                error = [[max(mean - max(low, floor), 0.0)], [max(high - mean, 0.0)]]
                axes.errorbar(
                    x, mean, yerr=error, fmt="none", ecolor="black", capsize=2, linewidth=0.8
                )
            bars.append(BenchmarkBar(panel, row[group_column], policy, mean, low, high, x))
        axes.set_xticks(range(len(groups)))
        axes.set_xticklabels(
            groups,
            rotation=45 if len(groups) > 6 else 0,
            ha="right" if len(groups) > 6 else "center",
        )
        axes.set_ylabel(panel if has_objective else "objective (mean)")
        axes.set_title(
            f"{panel}: mean with 95% CI (lower is better)"
            if has_objective
            else f"{panel} (lower is better)",
            fontsize=10,
        )
        axes.grid(axis="y", alpha=0.3)
    figure.legend(loc="outside right upper", fontsize=8)
    figure.suptitle(title or f"{path.parent.name}: mean objective per {group_column}")
    paths = save_figure(figure, out)
    return BenchmarkPlot(paths, tuple(bars), group_column)


def _number(text: str | None) -> float:
    """A CSV cell as a float (blank or missing: NaN)."""
    if text is None or text.strip() == "":
        return math.nan
    return float(text)
