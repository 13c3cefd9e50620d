"""Gantt charts of a schedule, drawn from an event-log CSV alone."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from matplotlib import colormaps

from shopfloor.plots._events import (
    Downtime,
    OperationBar,
    downtimes,
    log_end,
    machines_in,
    operation_bars,
    read_event_log,
)
from shopfloor.plots._output import new_figure, save_figure

LABEL_JOBS_UP_TO = 120  # bars; beyond this, job numbers would not fit


@dataclass(frozen=True)
class GanttPlot:
    """What :func:`gantt` drew.

    Attributes:
        paths: The PNG and SVG written.
        bars: Every operation (start, setup, end per machine and job).
        downtimes: Breakdown periods (drawn in red).
        n_machines: Machines on the y axis.
        end: The end of the log (right edge of the chart).
    """

    paths: tuple[Path, Path]
    bars: tuple[OperationBar, ...]
    downtimes: tuple[Downtime, ...]
    n_machines: int
    end: float


def gantt(
    events_csv: str | os.PathLike[str],
    out: str | os.PathLike[str],
    title: str | None = None,
    machine_names: Sequence[str] | None = None,
) -> GanttPlot:
    """Draw the schedule in an event log: machines on y, one bar per operation.

    Each bar runs from the operation's ``start`` to its ``complete``; its setup (the
    ``start`` row's value) is hatched grey at the start, processing is coloured by job,
    and breakdown periods are overlaid in red. An operation still running when the log
    ends is drawn up to the end of the log.

    Args:
        events_csv: An event log written by ``Factory.write_event_log`` (a run folder's
            ``eval_events.csv``, for one).
        out: Output path; ``<stem>.png`` and ``<stem>.svg`` are written.
        title: Figure title (default: the log's file name).
        machine_names: Labels of the machines by index (default ``M0``, ``M1`` ...).

    Returns:
        The paths written and the bars drawn.
    """
    rows = read_event_log(events_csv)
    bars = operation_bars(rows)
    down = downtimes(rows)
    n_machines = machines_in(rows)
    if machine_names is not None:
        n_machines = max(n_machines, len(machine_names))
    end = log_end(rows)

    figure = new_figure(10.0, 0.4 * max(n_machines, 1) + 1.6)
    axes = figure.add_subplot()
    palette = colormaps["tab20"]
    height = 0.8
    for machine in range(n_machines):
        mine = [bar for bar in bars if bar.machine == machine]
        setups = [(bar.start, bar.setup) for bar in mine if bar.setup > 0]
        if setups:
            axes.broken_barh(
                setups,
                (machine - height / 2, height),
                facecolors="lightgrey",
                edgecolors="grey",
                hatch="//",
                linewidth=0.5,
            )
        axes.broken_barh(
            [(bar.start + bar.setup, bar.end - bar.start - bar.setup) for bar in mine],
            (machine - height / 2, height),
            facecolors=[palette(bar.job % 20) for bar in mine],
            edgecolors="black",
            linewidth=0.5,
        )
        broken = [
            (period.start, period.end - period.start)
            for period in down
            if period.machine == machine
        ]
        if broken:
            axes.broken_barh(
                broken, (machine - height / 2, height), facecolors="red", alpha=0.4, linewidth=0
            )
    if len(bars) <= LABEL_JOBS_UP_TO:
        for bar in bars:
            middle = bar.start + bar.setup + (bar.end - bar.start - bar.setup) / 2
            axes.text(middle, bar.machine, str(bar.job), ha="center", va="center", fontsize=7)
    names = list(machine_names or [])
    axes.set_yticks(range(n_machines))
    axes.set_yticklabels([names[m] if m < len(names) else f"M{m}" for m in range(n_machines)])
    axes.set_ylim(n_machines - 0.5, -0.5)  # machine 0 on top
    axes.set_xlim(0.0, end if end > 0 else 1.0)
    axes.set_xlabel("time")
    axes.set_ylabel("machine")
    setups_total = sum(bar.setup for bar in bars)
    subtitle = f"{len(bars)} operations, end {end:g}"
    if setups_total > 0:
        subtitle += ", setups hatched"
    if down:
        subtitle += f", {len(down)} breakdown(s) in red"
    axes.set_title(f"{title or Path(events_csv).name}\n{subtitle}", fontsize=10)
    paths = save_figure(figure, out)
    return GanttPlot(paths, tuple(bars), tuple(down), n_machines, end)
