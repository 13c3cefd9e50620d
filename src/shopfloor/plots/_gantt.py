"""Gantt charts of a schedule, drawn from an event-log CSV alone."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from matplotlib import colormaps
from matplotlib.lines import Line2D
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

LATE_COLOUR = "red"
"""Lateness (completion after the due date) is drawn as a red line: the one red."""

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
        lateness: ``(job, due date, completion)`` of each job given a due date whose
            last operation is in the log, in job order; late when completion > due.
        job_legend: Whether the legend names each job's colour (at most
            ``len(JOB_COLOURS)`` jobs; beyond that colours repeat).
    """

    paths: tuple[Path, Path]
    bars: tuple[OperationBar, ...]
    downtimes: tuple[Downtime, ...]
    n_machines: int
    end: float
    machine_labels: tuple[str, ...] = ()
    lateness: tuple[tuple[int, float, float], ...] = ()
    job_legend: bool = False

    @property
    def late_jobs(self) -> tuple[int, ...]:
        """The jobs completed after their due date."""
        return tuple(job for job, due, end in self.lateness if end > due)


def gantt(
    events_csv: str | os.PathLike[str],
    out: str | os.PathLike[str],
    title: str | None = None,
    machine_names: Sequence[str] | None = None,
    due_dates: Mapping[int, float] | None = None,
) -> GanttPlot:
    """Draw the schedule in an event log: machines on y, one bar per operation.

    Each bar runs from the operation's ``start`` to its ``complete``; its setup (the
    ``start`` row's value) is hatched light grey at the start, processing is coloured by
    job (:data:`JOB_COLOURS`), and breakdown periods are drawn over it cross-hatched dark
    grey. An operation still running when the log ends is drawn up to the end of the log.

    Machines are labelled with ``machine_names``, else with the names in the log's
    ``machine_name`` column, else ``M0``, ``M1`` ... With ``due_dates`` (a dynamic
    shop's), each job's due date is a black triangle on the row of its last operation
    and a job completed late gets a red line from its due date to its completion. The
    legend (outside the axes) names each job's colour when there are at most
    ``len(JOB_COLOURS)`` jobs.

    Args:
        events_csv: An event log written by ``Factory.write_event_log`` (a run folder's
            ``eval_events.csv``, for one).
        out: Output path; ``<stem>.png`` and ``<stem>.svg`` are written.
        title: Figure title (default: "Gantt chart of" the log's folder and file name).
        machine_names: Names of the machines by index, e.g. ``[m.name for m in
            spec.machines]`` of the log's :class:`shopfloor.sim.FactorySpec`.
        due_dates: Due date by job index (``Factory.due_date(job)``); jobs not given
            get no mark.

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
    lateness = _lateness(bars, due_dates or {})
    label_bars = len(bars) <= LABEL_JOBS_UP_TO
    if label_bars:
        for bar in bars:
            middle = bar.start + bar.setup + (bar.end - bar.start - bar.setup) / 2
            axes.text(middle, bar.machine, str(bar.job), ha="center", va="center", fontsize=7)
    last_machine = {bar.job: bar.machine for bar in sorted(bars, key=lambda b: b.end)}
    for job, due, end in lateness:
        row = last_machine[job]
        axes.plot([due], [row - height / 2], marker="v", color="black", markersize=5)
        if end > due:
            axes.hlines(row + height / 2 - 0.06, due, end, colors=LATE_COLOUR, linewidth=2.2)
            if label_bars:
                axes.text(
                    end,
                    row + height / 2,
                    f" +{end - due:g}",
                    color=LATE_COLOUR,
                    fontsize=6,
                    va="bottom",
                    ha="left",
                )
    axes.set_yticks(range(n_machines))
    axes.set_yticklabels(labels)
    axes.set_ylim(n_machines - 0.5, -0.5)  # machine 0 on top
    axes.set_xlim(0.0, max([end, *(due for _, due, _ in lateness)]) or 1.0)
    axes.set_xlabel("time")
    axes.set_ylabel("machine")
    jobs = sorted({bar.job for bar in bars})
    subtitle = f"{len(bars)} operations of {len(jobs)} jobs on {n_machines} machines, end {end:g}"
    if down:
        subtitle += f", {len(down)} breakdown(s)"
    if lateness:
        late = sum(1 for _, due, done in lateness if done > due)
        subtitle += f", {late} of {len(lateness)} jobs late"
    legend: list[Patch | Line2D] = []
    job_legend = 0 < len(jobs) <= len(JOB_COLOURS)
    if job_legend:
        legend.extend(
            Patch(
                facecolor=JOB_COLOURS[job % len(JOB_COLOURS)], edgecolor="black", label=f"job {job}"
            )
            for job in jobs
        )
    elif jobs:
        legend.append(
            Patch(
                facecolor="white",
                edgecolor="white",
                label=f"colour: job number mod {len(JOB_COLOURS)}",
            )
        )
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
    if lateness:
        legend.append(Line2D([], [], marker="v", color="black", linestyle="none", label="due date"))
        legend.append(Line2D([], [], color=LATE_COLOUR, linewidth=2.2, label="lateness"))
    if legend:
        axes.legend(
            handles=legend,
            loc="upper left",
            bbox_to_anchor=(1.0, 1.0),
            fontsize=8,
            ncols=1 + len(legend) // 24,
        )
    name = Path(events_csv)
    shown = f"{name.parent.name}/{name.name}" if name.parent.name else name.name
    heading = title or f"Gantt chart of {shown}"
    axes.set_title(f"{heading}\n{subtitle}", fontsize=10)
    paths = save_figure(figure, out)
    return GanttPlot(paths, tuple(bars), tuple(down), n_machines, end, labels, lateness, job_legend)


def _lateness(
    bars: Sequence[OperationBar], due_dates: Mapping[int, float]
) -> tuple[tuple[int, float, float], ...]:
    """``(job, due, completion)`` for the jobs given a due date with a completed bar.

    A job's completion is its latest completed operation's end (a job whose last
    operation is still running when the log ends is left out).
    """
    finished: dict[int, float] = {}
    running: set[int] = set()
    for bar in bars:
        if bar.completed:
            finished[bar.job] = max(finished.get(bar.job, bar.end), bar.end)
        else:
            running.add(bar.job)
    return tuple(
        (job, float(due_dates[job]), finished[job])
        for job in sorted(finished)
        if job in due_dates and job not in running
    )
