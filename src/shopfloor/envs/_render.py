"""Rendering a factory: a text snapshot and a Gantt chart of the schedule so far."""

from __future__ import annotations

import numpy as np

from shopfloor.sim import Factory
from shopfloor.sim.events import BREAKDOWN, COMPLETE, REPAIR, START


def schedule_bars(factory: Factory) -> list[tuple[int, int, float, float, float]]:
    """Operations as ``(machine, job, start, setup, end)`` from the event log.

    An operation still running ends at the current time; breakdown periods stay inside
    the bar of the operation they interrupted.
    """
    open_bars: dict[int, tuple[int, float, float]] = {}
    bars = []
    for time, kind, machine, job, _, value in factory.log:
        if kind == START:
            open_bars[machine] = (job, time, value)
        elif kind == COMPLETE:
            started_job, started, setup = open_bars.pop(machine)
            bars.append((machine, started_job, started, setup, time))
    now = factory.now
    for machine, (job, started, setup) in open_bars.items():
        bars.append((machine, job, started, setup, now))
    return bars


def downtime_bars(factory: Factory) -> list[tuple[int, float, float]]:
    """Breakdowns as ``(machine, start, end)``; a breakdown still on ends now."""
    down: dict[int, float] = {}
    bars = []
    for time, kind, machine, _, _, _ in factory.log:
        if kind == BREAKDOWN:
            down[machine] = time
        elif kind == REPAIR:
            bars.append((machine, down.pop(machine), time))
    bars.extend((machine, started, factory.now) for machine, started in down.items())
    return bars


def render_ansi(factory: Factory) -> str:
    """A text snapshot: clock, each machine's state and queue."""
    lines = [f"t={factory.now:g}  decisions={factory.decisions}  done={factory.done}"]
    for machine in range(factory.n_machines):
        job = factory.machine_job(machine)
        if not factory.machine_up(machine):
            state = "DOWN"
        elif job >= 0:
            state = f"job {job} until {factory.machine_free_at(machine):g}"
        else:
            state = "idle"
        queue = factory.waiting_jobs(machine)
        lines.append(f"M{machine:<3} {state:<28} queue: {queue}")
    return "\n".join(lines) + "\n"


def render_gantt(factory: Factory, width: float = 10.0, dpi: int = 80) -> np.ndarray:
    """A Gantt chart of the schedule so far as an RGB array of shape (H, W, 3)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, 0.35 * factory.n_machines + 1.2), dpi=dpi)
    canvas = FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    draw_gantt(axes, factory)
    figure.tight_layout()
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[:, :, :3].copy()


def draw_gantt(axes: object, factory: Factory) -> None:
    """Draw the schedule so far onto ``axes``.

    Jobs are coloured, setups hatched and breakdowns cross-hatched dark grey.
    """
    from matplotlib import colormaps

    palette = colormaps["tab20"]
    for machine, job, start, setup, end in schedule_bars(factory):
        color = palette(job % 20)
        if setup > 0:
            axes.barh(machine, setup, left=start, color="lightgrey", hatch="//", edgecolor="grey")  # type: ignore[attr-defined]
        axes.barh(machine, end - start - setup, left=start + setup, color=color, edgecolor="black")  # type: ignore[attr-defined]
    for machine, start, end in downtime_bars(factory):
        axes.barh(machine, end - start, left=start, color="dimgrey", hatch="xx", edgecolor="black")  # type: ignore[attr-defined]
    axes.set_yticks(range(factory.n_machines))  # type: ignore[attr-defined]
    axes.set_yticklabels([m.name for m in factory.spec.machines])  # type: ignore[attr-defined]
    axes.invert_yaxis()  # type: ignore[attr-defined]
    axes.set_xlabel("time")  # type: ignore[attr-defined]
    axes.set_title(f"{factory.spec.name}  t={factory.now:g}")  # type: ignore[attr-defined]
