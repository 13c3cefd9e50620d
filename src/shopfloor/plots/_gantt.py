"""Gantt charts of a schedule, drawn from an event-log CSV alone."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from matplotlib import colormaps
from matplotlib.patches import Patch

from shopfloor.plots._events import (
    Downtime,
    OperationBar,
    downtimes,
    log_end,
    machines_in,
    operation_bars,
    read_event_log_and_names,
)
from shopfloor.plots._output import new_figure, save_figure

LABEL_JOBS_UP_TO = 120  # bars; beyond this, job numbers would not fit

SETUP_COLOUR, SETUP_HATCH = "lightgrey", "//"
"""How setups are drawn: hatched light grey (grey hatch lines)."""

BREAKDOWN_COLOUR, BREAKDOWN_HATCH = "dimgrey", "xx"
"""How breakdowns are drawn: cross-hatched dark grey (black hatch lines), over the bar."""

JOB_COLOURS: tuple[tuple[float, float, float, float], ...] = tuple(
    colormaps["tab20"](index) for index in range(20) if index not in (6, 7, 14, 15)
)
"""Job colours: ``tab20`` without its reds and greys, so no job looks like a breakdown
or a setup (and red is not read as an alarm)."""


@dataclass(frozen=True)
class GanttPlot:
    """What :func:`gantt` drew.

    Attributes:
        paths: The PNG and SVG written.
        bars: Every operation (start, setup, end per machine and job).
        downtimes: Breakdown periods (drawn cross-hatched dark grey).
        n_machines: Machines on the y axis.
        end: The end of the log (right edge of the chart).
        machine_labels: The label of each machine on the y axis, by index.
    """

    paths: tuple[Path, Path]
    bars: tuple[OperationBar, ...]
    downtimes: tuple[Downtime, ...]
    n_machines: int
    end: float
    machine_labels: tuple[str, ...] = ()


def gantt(
    events_csv: str | os.PathLike[str],
    out: str | os.PathLike[str],
    title: str | None = None,
    machine_names: Sequence[str] | None = None,
) -> GanttPlot:
    """Draw the schedule in an event log: machines on y, one bar per operation.

    Each bar runs from the operation's ``start`` to its ``complete``; its setup (the
    ``start`` row's value) is hatched light grey at the start, processing is coloured by
    job (:data:`JOB_COLOURS`), and breakdown periods are drawn over it cross-hatched dark
    grey. An operation still running when the log ends is drawn up to the end of the log.

    Machines are labelled with ``machine_names``, else with the names in the log's
    ``machine_name`` column, else ``M0``, ``M1`` ...

    Args:
        events_csv: An event log written by ``Factory.write_event_log`` (a run folder's
            ``eval_events.csv``, for one).
        out: Output path; ``<stem>.png`` and ``<stem>.svg`` are written.
        title: Figure title (default: the log's file name).
        machine_names: Names of the machines by index, e.g. ``[m.name for m in
            spec.machines]`` of the log's :class:`shopfloor.sim.FactorySpec`.

    Returns:
        The paths written and the bars drawn.
    """
    rows, logged_names = read_event_log_and_names(events_csv)
    bars = operation_bars(rows)
    down = downtimes(rows)
    n_machines = machines_in(rows)
    if machine_names is not None:
        n_machines = max(n_machines, len(machine_names))
        logged_names = dict(enumerate(machine_names))
    labels = tuple(logged_names.get(m) or f"M{m}" for m in range(n_machines))
    end = log_end(rows)

    figure = new_figure(10.0, 0.4 * max(n_machines, 1) + 1.6)
    axes = figure.add_subplot()
    height = 0.8
    for machine in range(n_machines):
        mine = [bar for bar in bars if bar.machine == machine]
        setups = [(bar.start, bar.setup) for bar in mine if bar.setup > 0]
        if setups:
            axes.broken_barh(
                setups,
                (machine - height / 2, height),
                facecolors=SETUP_COLOUR,
                edgecolors="grey",
                hatch=SETUP_HATCH,
                linewidth=0.5,
            )
        axes.broken_barh(
            [(bar.start + bar.setup, bar.end - bar.start - bar.setup) for bar in mine],
            (machine - height / 2, height),
            facecolors=[JOB_COLOURS[bar.job % len(JOB_COLOURS)] for bar in mine],
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
                broken,
                (machine - height / 2, height),
                facecolors=BREAKDOWN_COLOUR,
                edgecolors="black",
                hatch=BREAKDOWN_HATCH,
                linewidth=0.5,
            )
    if len(bars) <= LABEL_JOBS_UP_TO:
        for bar in bars:
            middle = bar.start + bar.setup + (bar.end - bar.start - bar.setup) / 2
            axes.text(middle, bar.machine, str(bar.job), ha="center", va="center", fontsize=7)
    axes.set_yticks(range(n_machines))
    axes.set_yticklabels(labels)
    axes.set_ylim(n_machines - 0.5, -0.5)  # machine 0 on top
    axes.set_xlim(0.0, end if end > 0 else 1.0)
    axes.set_xlabel("time")
    axes.set_ylabel("machine")
    subtitle = f"{len(bars)} operations, end {end:g}"
    if down:
        subtitle += f", {len(down)} breakdown(s)"
    legend = []
    if any(bar.setup > 0 for bar in bars):
        legend.append(
            Patch(facecolor=SETUP_COLOUR, edgecolor="grey", hatch=SETUP_HATCH, label="setup")
        )
    if down:
        legend.append(
            Patch(
                facecolor=BREAKDOWN_COLOUR,
                edgecolor="black",
                hatch=BREAKDOWN_HATCH,
                label="breakdown",
            )
        )
    if legend:
        axes.legend(handles=legend, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    axes.set_title(f"{title or Path(events_csv).name}\n{subtitle}", fontsize=10)
    paths = save_figure(figure, out)
    return GanttPlot(paths, tuple(bars), tuple(down), n_machines, end, labels)
