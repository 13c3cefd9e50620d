"""A benchmark's result: its table (rich or Markdown) and its files.

:class:`BenchResult` holds the episodes and their summaries; :meth:`BenchResult.save`
writes ``episodes.csv``, ``summary.csv``, ``policies.csv``, ``bench.md`` and
``settings.json`` into a results folder (:func:`results_dir`).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.table import Table

from shopfloor.experiments._episodes import Episode
from shopfloor.experiments._folders import write_atomic as _write_atomic
from shopfloor.experiments._summary import PolicySummary, Summary


@dataclass(frozen=True)
class BenchResult:
    """Everything a benchmark produced.

    Attributes:
        episodes: Every episode, ordered by policy, target, seed (as requested).
        summaries: Per ``(policy, target)``.
        policies: Per policy.
        skipped: ``(policy, target, reason)`` of combinations that do not apply.
        notes: Remarks on reading the numbers.
        settings: What was run (policies, targets, seeds, time limit, version).
    """

    episodes: tuple[Episode, ...]
    summaries: tuple[Summary, ...]
    policies: tuple[PolicySummary, ...]
    skipped: tuple[tuple[str, str, str], ...] = ()
    notes: tuple[str, ...] = ()
    settings: Mapping[str, Any] = field(default_factory=dict)

    def summary(self, policy: str, target: str) -> Summary:
        """The summary of ``policy`` on ``target``."""
        for summary in self.summaries:
            if summary.policy == policy and summary.target == target:
                return summary
        raise KeyError(f"no results for {policy!r} on {target!r}")

    def _grid(self) -> tuple[list[str], list[str], list[list[str]], list[str], list[str]]:
        """Target rows x policy columns of formatted cells, then the gap and time rows."""
        policies = list(dict.fromkeys(summary.policy for summary in self.summaries))
        targets = list(dict.fromkeys(summary.target for summary in self.summaries))
        cells = {(s.policy, s.target): s for s in self.summaries}
        rows = []
        for target in targets:
            first = next(s for s in self.summaries if s.target == target)
            if first.upper_bound is not None:
                bound = _number(first.upper_bound)
            else:  # a static instance without a sourced bound is said so; others have none
                bound = "no reference" if first.objective == "makespan" else "-"
            row = [target, first.objective, bound]
            for policy in policies:
                summary = cells.get((policy, target))
                row.append("n/a" if summary is None else _cell(summary))
            rows.append(row)
        by_policy = {p.policy: p for p in self.policies}
        gaps = [_percent(by_policy[policy].mean_gap) for policy in policies]
        times = [f"{by_policy[policy].mean_wall_time:.3g}" for policy in policies]
        return policies, targets, rows, gaps, times

    def table(self, title: str | None = None) -> Table:
        """The results as a rich table: targets x policies, mean [95% CI] (gap)."""
        policies, _, rows, gaps, times = self._grid()
        seeds = self.settings.get("seeds")
        n_seeds = len(seeds) if isinstance(seeds, list | tuple) else None
        table = Table(
            title=title or f"benchmark: mean [95% CI] (gap to best known), {n_seeds} seed(s)",
            show_lines=False,
        )
        for column in ("target", "objective", "best known"):
            table.add_column(column, justify="left" if column != "best known" else "right")
        for policy in policies:
            table.add_column(policy, justify="right")
        for row in rows:
            table.add_row(*row)
        table.add_section()
        table.add_row("mean gap", "", "", *gaps)
        table.add_row("s / episode", "", "", *times)
        return table

    def markdown(self) -> str:
        """The results as a Markdown document (table, notes, skipped combinations)."""
        policies, _, rows, gaps, times = self._grid()
        header = ["target", "objective", "best known", *policies]
        lines = [
            "# Benchmark",
            "",
            "Mean over seeds [95% Student-t interval of the mean across seeds] "
            "(gap to the best known makespan).",
            "",
            "| " + " | ".join(header) + " |",
            "|" + "|".join(["---", "---", "---:"] + ["---:"] * len(policies)) + "|",
        ]
        for row in [*rows, ["mean gap", "", "", *gaps], ["s / episode", "", "", *times]]:
            lines.append("| " + " | ".join(cell.replace("\n", " ") for cell in row) + " |")
        if self.notes:
            lines += ["", "## Notes", "", *(f"- {note}" for note in self.notes)]
        if self.skipped:
            lines += ["", "## Skipped", ""]
            lines += [
                f"- {policy} on {target}: {reason}" for policy, target, reason in self.skipped
            ]
        settings = ", ".join(f"{key}={value}" for key, value in self.settings.items())
        lines += ["", f"Settings: {settings}", ""]
        return "\n".join(lines)

    def save(self, directory: str | os.PathLike[str], overwrite: bool = False) -> dict[str, Path]:
        """Write the episodes, summaries, table and settings into ``directory``.

        ``episodes.csv``, ``summary.csv``, ``policies.csv``, ``bench.md`` and
        ``settings.json``; the directory is created, each file written atomically.

        Args:
            directory: The results folder.
            overwrite: Replace those files in a folder that already holds some
                (files of other names are kept).

        Returns:
            The paths written, by kind.

        Raises:
            ValueError: ``directory`` is not empty and ``overwrite`` is false; nothing
                is written.
        """
        folder = Path(directory)
        if not overwrite:
            _refuse_existing(folder)
        folder.mkdir(parents=True, exist_ok=True)
        kpi_keys = list(dict.fromkeys(key for e in self.episodes for key in e.kpis))
        episode_rows = [
            {
                "policy": e.policy,
                "target": e.target,
                "env_id": e.env_id,
                "objective": e.objective,
                "seed": e.seed,
                "value": e.value,
                "wall_time": e.wall_time,
                "note": e.note,
                **{key: e.kpis.get(key) for key in kpi_keys},
            }
            for e in self.episodes
        ]
        episode_fields = [
            "policy",
            "target",
            "env_id",
            "objective",
            "seed",
            "value",
            "wall_time",
            "note",
            *kpi_keys,
        ]
        paths = {
            "episodes": _write_atomic(folder / "episodes.csv", _csv(episode_fields, episode_rows)),
            "summary": _write_atomic(
                folder / "summary.csv",
                _csv(list(Summary.__dataclass_fields__), [asdict(s) for s in self.summaries]),
            ),
            "policies": _write_atomic(
                folder / "policies.csv",
                _csv(list(PolicySummary.__dataclass_fields__), [asdict(p) for p in self.policies]),
            ),
            "markdown": _write_atomic(folder / "bench.md", self.markdown()),
            "settings": _write_atomic(
                folder / "settings.json",
                json.dumps({**self.settings, "skipped": [list(s) for s in self.skipped]}, indent=2)
                + "\n",
            ),
        }
        return paths


def _number(value: float) -> str:
    if math.isfinite(value) and float(value).is_integer():
        return str(int(value))
    if abs(value) >= 100:
        return f"{value:.1f}"
    return f"{value:.4g}"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:+.1f}%"


def _cell(summary: Summary) -> str:
    text = _number(summary.mean)
    if math.isfinite(summary.ci_low) and summary.ci_low != summary.ci_high:
        text += f" [{_number(summary.ci_low)}, {_number(summary.ci_high)}]"
    if summary.gap is not None:
        text += f" ({_percent(summary.gap)})"
    return text


def _csv(fields: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(fields), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: "" if value is None else value for key, value in row.items()})
    return buffer.getvalue()


def results_dir(
    name: str | None = None,
    root: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
) -> Path:
    """Where a benchmark's files go: ``<root>/<name>``, checked to be free.

    Args:
        name: Folder name (default: ``bench-<date>-<time>``).
        root: Results root (default: ``experiments/results`` under the current
            directory, i.e. the repository's when run from its top).
        overwrite: Accept a folder that already holds results (see
            :meth:`BenchResult.save`).

    Raises:
        ValueError: ``name`` is not a plain folder name, or the folder is not empty
            and ``overwrite`` is false.
    """
    name = name or time.strftime("bench-%Y%m%d-%H%M%S")
    if name in (".", "..") or "/" in name or os.sep in name:
        raise ValueError(f"a results name is a folder name, got {name!r}")
    base = Path(root) if root is not None else Path.cwd() / "experiments" / "results"
    if not overwrite:
        _refuse_existing(base / name)
    return base / name


def _refuse_existing(folder: Path) -> None:
    """Raise ``ValueError`` if ``folder`` exists and is not empty."""
    if folder.is_dir() and any(folder.iterdir()):
        raise ValueError(
            f"{folder} already holds results; choose another name (--name), or replace "
            "them with --overwrite"
        )
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"{folder} is a file, not a results folder")
