"""Finished goods, backlog and demand per product over time, from an event log."""

from __future__ import annotations

import itertools
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from matplotlib.collections import PolyCollection

from shopfloor.plots._events import StockTrajectory, read_event_log, stock_trajectories
from shopfloor.plots._output import new_figure, save_figure


@dataclass(frozen=True)
class InventoryPlot:
    """What :func:`inventory` drew.

    Attributes:
        paths: The PNG and SVG written.
        trajectories: Per product drawn, its stock and backlog steps and demand.
    """

    paths: tuple[Path, Path]
    trajectories: tuple[StockTrajectory, ...]

    def trajectory(self, product: int) -> StockTrajectory:
        """The trajectory of ``product`` (by index)."""
        for trajectory in self.trajectories:
            if trajectory.product == product:
                return trajectory
        raise KeyError(f"product {product} was not drawn")


def inventory(
    events_csv: str | os.PathLike[str],
    out: str | os.PathLike[str],
    products: Sequence[int] | None = None,
    *,
    initial_stock: Mapping[int, float] | Sequence[float] | None = None,
    product_names: Sequence[str] | None = None,
    title: str | None = None,
) -> InventoryPlot:
    """Draw finished-goods stock and backlog per product over time, with demand bars.

    One axes per product: stock and backlog as step plots replayed from the log (see
    :mod:`shopfloor.plots._events`), and each period's demand as a grey bar ending at
    the time it arrived.

    Args:
        events_csv: An event log written by ``Factory.write_event_log``.
        out: Output path; ``<stem>.png`` and ``<stem>.svg`` are written.
        products: Product indices to draw (default: every product in the log).
        initial_stock: Finished goods at t=0 by product (the scenario's
            ``initial_stock``); the log does not hold it, so by default it is inferred
            from the first stock-out (or is the least the log allows).
        product_names: Labels of the products by index.
        title: Figure title (default: the log's file name).

    Returns:
        The paths written and the trajectories drawn.

    Raises:
        ValueError: The log holds no inventory (no product), no product is requested,
            or a requested product is not in the log.
    """
    trajectories = stock_trajectories(read_event_log(events_csv), initial_stock)
    if not trajectories:
        raise ValueError(
            f"{events_csv}: the log holds no inventory: no demand, ship, backorder, lost or "
            "produce events (a job-shop log has none); give the event log of a scenario "
            "with customer demand or make-to-stock production (e.g. production_inventory)"
        )
    chosen = list(trajectories) if products is None else [int(p) for p in products]
    if not chosen:
        raise ValueError("no products to draw: give at least one, or None for all")
    unknown = [p for p in chosen if p not in trajectories]
    if unknown:
        raise ValueError(
            f"{events_csv}: products {unknown} not in the log; it holds {sorted(trajectories)}"
        )
    names = list(product_names or [])
    figure = new_figure(10.0, 2.3 * len(chosen) + 0.8)
    axes_list = figure.subplots(len(chosen), 1, sharex=True, squeeze=False)[:, 0]
    for axes, product in zip(axes_list, chosen, strict=True):
        trajectory = trajectories[product]
        width = _period(trajectory.demand_times)
        # One collection of rectangles (a bar per period would be an artist per period).
        bars = PolyCollection(
            [
                [(time - 0.9 * width, 0.0), (time - 0.9 * width, units), (time, units), (time, 0.0)]
                for time, units in zip(
                    trajectory.demand_times, trajectory.demand_units, strict=True
                )
            ],
            facecolors="grey",
            edgecolors="none",
            alpha=0.45,
            label="demand per period",
        )
        axes.add_collection(bars, autolim=True)
        axes.step(
            trajectory.times,
            trajectory.finished_goods,
            where="post",
            color="tab:green",
            label="finished goods",
        )
        axes.step(
            trajectory.times, trajectory.backlog, where="post", color="tab:red", label="backlog"
        )
        name = names[product] if product < len(names) else f"product {product}"
        note = f"initial stock {trajectory.initial_stock:g}"
        if trajectory.initial_stock_source != "given":
            note += f" ({trajectory.initial_stock_source})"
        if trajectory.lost_units:
            note += f", {trajectory.lost_units:g} units lost"
        axes.set_title(f"{name}: {note}", fontsize=10, loc="left")
        axes.set_ylabel("units")
        axes.set_ylim(bottom=0)
    axes_list[0].legend(loc="upper right", fontsize=8, ncols=3)
    axes_list[-1].set_xlabel("time")
    axes_list[-1].set_xlim(0.0, max(trajectories[chosen[0]].times[-1], 1e-9))
    figure.suptitle(title or Path(events_csv).name)
    paths = save_figure(figure, out)
    return InventoryPlot(paths, tuple(trajectories[p] for p in chosen))


def _period(times: Sequence[float]) -> float:
    """Bar width: the shortest gap between demand arrivals (1 when there are fewer than 2)."""
    gaps = [b - a for a, b in itertools.pairwise(times) if b > a]
    return min(gaps) if gaps else 1.0
