"""Reading a factory's event log back: operations, downtime and stock over time.

``Factory.write_event_log`` writes one CSV row per event (``time, kind, machine,
job, operation, value``) in the order things happened. The schedule and the stock
levels are not stored; they follow from the rows, replayed here the way the factory
changed its own state:

* an operation runs from its ``start`` (``value`` = setup time, spent first) to the
  ``complete`` on the same machine; a ``breakdown`` stops a machine until its
  ``repair`` and stays inside the bar of the operation it interrupted;
* a lot released by a ``produce`` choice (``job`` = the lot, ``value`` = the
  product) adds its quantity (the ``value`` of its ``release``) to the product's
  finished goods when it ``finish``-es; when that product has a backlog, the
  ``ship`` row right after the ``finish`` serves it from the new stock;
* a ``demand`` (``operation`` = product, ``value`` = units) takes what the stock
  holds (the ``ship`` row right after it); the rest is a ``backorder`` (backlog
  rises) or ``lost``.

A log may carry an extra ``machine_name`` column (the name of the row's machine, empty
where ``machine`` is -1); charts label machines with it when it is there.

The log does not hold the finished goods on hand at t=0. Every stock-out pins the
stock to zero, so the initial stock follows from the first one; a product that never
ran out gets the smallest initial stock that keeps its stock non-negative, unless the
caller gives the scenario's.
"""

from __future__ import annotations

import csv
import math
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from shopfloor.sim import LoggedEvent
from shopfloor.sim.events import (
    BACKORDER,
    BREAKDOWN,
    COMPLETE,
    DEMAND,
    FINISH,
    LOST,
    PRODUCE,
    RELEASE,
    REPAIR,
    SHIP,
    START,
)

COLUMNS = LoggedEvent._fields  # as Factory.write_event_log writes them
MACHINE_NAME_COLUMN = "machine_name"
"""Optional column: the name of the row's machine."""


class EventRow(NamedTuple):
    """One row of an event-log CSV (see ``shopfloor.sim.LoggedEvent``)."""

    time: float
    kind: str
    machine: int
    job: int
    operation: int
    value: float


def read_event_log(path: str | os.PathLike[str]) -> list[EventRow]:
    """Read an event-log CSV written by ``Factory.write_event_log``.

    Raises:
        FileNotFoundError: No such file.
        ValueError: A column is missing or a row does not parse (file and line named).
    """
    return read_event_log_and_names(path)[0]


def read_event_log_and_names(
    path: str | os.PathLike[str],
) -> tuple[list[EventRow], dict[int, str]]:
    """Read an event log and the machine names of its ``machine_name`` column, if any.

    Returns:
        The rows, and the name of each machine index the column names (empty without it).

    Raises:
        FileNotFoundError: No such file.
        ValueError: A column is missing, a row does not parse, or a machine has two
            names (file and line named).
    """
    path = Path(path)
    names: dict[int, str] = {}
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise ValueError(f"{path}: not an event log, missing column(s) {missing}")
        rows = []
        for line, record in enumerate(reader, start=2):
            try:
                rows.append(
                    EventRow(
                        float(record["time"]),
                        record["kind"],
                        int(record["machine"]),
                        int(record["job"]),
                        int(record["operation"]),
                        float(record["value"]),
                    )
                )
            except (TypeError, ValueError) as error:
                raise ValueError(f"{path}:{line}: bad event row {record}: {error}") from None
            name = record.get(MACHINE_NAME_COLUMN) or ""
            machine = rows[-1].machine
            if name and machine >= 0 and names.setdefault(machine, name) != name:
                raise ValueError(
                    f"{path}:{line}: machine {machine} is named {name!r} here but "
                    f"{names[machine]!r} before"
                )
    return rows, names


def log_end(rows: Sequence[EventRow]) -> float:
    """Time of the last event (0 for an empty log)."""
    return max((row.time for row in rows), default=0.0)


# ------------------------------------------------------------------ the schedule


@dataclass(frozen=True)
class OperationBar:
    """One operation on one machine.

    Attributes:
        machine: Machine index.
        job: Job index.
        operation: Index of the operation in the job's routing.
        start: When it started (its setup first).
        setup: Setup time spent before processing.
        end: When it completed (the end of the log when it had not).
        completed: Whether the log holds its ``complete``.
    """

    machine: int
    job: int
    operation: int
    start: float
    setup: float
    end: float
    completed: bool = True


@dataclass(frozen=True)
class Downtime:
    """A machine broken down from ``start`` to ``end`` (the end of the log if unrepaired)."""

    machine: int
    start: float
    end: float
    repaired: bool = True


def operation_bars(rows: Sequence[EventRow]) -> list[OperationBar]:
    """Every operation as a bar, in the order they started.

    Raises:
        ValueError: A ``complete`` without a matching ``start`` on its machine.
    """
    open_bars: dict[int, int] = {}  # machine -> index of its running bar
    bars: list[OperationBar] = []
    end = log_end(rows)
    for row in rows:
        if row.kind == START:
            open_bars[row.machine] = len(bars)
            bars.append(
                OperationBar(row.machine, row.job, row.operation, row.time, row.value, end, False)
            )
        elif row.kind == COMPLETE:
            index = open_bars.pop(row.machine, None)
            if index is None or (bars[index].job, bars[index].operation) != (
                row.job,
                row.operation,
            ):
                raise ValueError(
                    f"t={row.time:g}: job {row.job} operation {row.operation} completes on "
                    f"machine {row.machine} without having started there"
                )
            started = bars[index]
            bars[index] = OperationBar(
                started.machine,
                started.job,
                started.operation,
                started.start,
                started.setup,
                row.time,
            )
    return bars


def downtimes(rows: Sequence[EventRow]) -> list[Downtime]:
    """Breakdown periods, in the order they began."""
    down: dict[int, int] = {}
    periods: list[Downtime] = []
    end = log_end(rows)
    for row in rows:
        if row.kind == BREAKDOWN:
            down[row.machine] = len(periods)
            periods.append(Downtime(row.machine, row.time, end, False))
        elif row.kind == REPAIR and row.machine in down:
            index = down.pop(row.machine)
            periods[index] = Downtime(row.machine, periods[index].start, row.time)
    return periods


def machines_in(rows: Sequence[EventRow]) -> int:
    """Number of machines the log mentions (highest index + 1)."""
    return 1 + max((row.machine for row in rows), default=-1)


# ------------------------------------------------------------------- inventory


@dataclass(frozen=True)
class StockTrajectory:
    """Finished goods and backlog of one product after every change.

    Step functions: ``finished_goods[i]`` and ``backlog[i]`` hold from ``times[i]``
    until ``times[i + 1]``. The first point is t=0, the last the end of the log.

    Attributes:
        product: Product index.
        times: When the levels changed.
        finished_goods: Units on hand from then on.
        backlog: Units backordered from then on.
        initial_stock: Finished goods at t=0.
        initial_stock_source: ``"given"``, ``"stock-out"`` (inferred from a stock-out)
            or ``"lower bound"`` (never ran out: the least stock consistent with the log).
        demand_times: When demand arrived (periods with zero demand are not logged).
        demand_units: Units demanded then.
        lost_units: Units of demand lost (lost-sales scenarios).
    """

    product: int
    times: tuple[float, ...]
    finished_goods: tuple[float, ...]
    backlog: tuple[float, ...]
    initial_stock: float
    initial_stock_source: str
    demand_times: tuple[float, ...]
    demand_units: tuple[float, ...]
    lost_units: float


def products_in(rows: Sequence[EventRow]) -> list[int]:
    """Product indices the log mentions, ascending."""
    found = {row.operation for row in rows if row.kind in (DEMAND, SHIP, BACKORDER, LOST)}
    found |= {int(row.value) for row in rows if row.kind == PRODUCE}
    return sorted(p for p in found if p >= 0)


def stock_trajectories(
    rows: Sequence[EventRow],
    initial_stock: Mapping[int, float] | Sequence[float] | None = None,
) -> dict[int, StockTrajectory]:
    """Replay the log's finished goods and backlog per product.

    Mirrors ``Factory._receive_finished_goods`` and ``Factory._demand_process``: a
    finished lot adds its quantity (then a ``ship`` right after serves backlog), a
    demand ships from stock (the ``ship`` right after it) and backorders or loses the
    rest. Lots are known to carry a product from their ``produce`` row, or from the
    ``ship`` of backlog right after their ``finish``.

    Args:
        rows: The event log.
        initial_stock: Finished goods at t=0 per product (by index); inferred from the
            log where not given (see the module docstring).

    Returns:
        A trajectory per product the log mentions.

    Raises:
        ValueError: A ``ship`` row follows neither a ``demand`` nor a ``finish``.
    """
    given = _as_mapping(initial_stock)
    products = products_in(rows)
    job_product: dict[int, int] = {}
    job_quantity: dict[int, float] = {}
    stock = dict.fromkeys(products, 0.0)  # relative to the unknown initial stock
    backlog = dict.fromkeys(products, 0.0)
    points: dict[int, list[tuple[float, float, float]]] = {p: [(0.0, 0.0, 0.0)] for p in products}
    pins: dict[int, list[float]] = {p: [] for p in products}  # relative stock where it was 0
    demand: dict[int, list[tuple[float, float]]] = {p: [] for p in products}
    lost = dict.fromkeys(products, 0.0)

    def record(product: int, time: float) -> None:
        points[product].append((time, stock[product], backlog[product]))

    for index, row in enumerate(rows):
        kind = row.kind
        if kind == PRODUCE:
            job_product[row.job] = int(row.value)
        elif kind == RELEASE:
            job_quantity[row.job] = row.value
        elif kind == FINISH:
            product = job_product.get(row.job)
            following = rows[index + 1] if index + 1 < len(rows) else None
            if product is None and following is not None and following.kind == SHIP:
                product = following.operation  # a lot of a product that served backlog
            if product is not None and product in stock:
                stock[product] += job_quantity.get(row.job, 1.0)
                record(product, row.time)
        elif kind == DEMAND:
            demand[row.operation].append((row.time, row.value))
        elif kind == SHIP:
            product = row.operation
            previous = rows[index - 1].kind if index > 0 else None
            stock[product] -= row.value
            if previous == FINISH:
                backlog[product] -= row.value
                if backlog[product] > 0:  # the lot did not cover the backlog
                    pins[product].append(stock[product])
            elif previous != DEMAND:
                raise ValueError(
                    f"t={row.time:g}: a ship of product {product} follows {previous!r}, "
                    "neither a demand nor a finished lot"
                )
            record(product, row.time)
        elif kind in (BACKORDER, LOST):
            product = row.operation
            pins[product].append(stock[product])  # demand exceeded the stock: none left
            if kind == BACKORDER:
                backlog[product] += row.value
                record(product, row.time)
            else:
                lost[product] += row.value

    end = log_end(rows)
    trajectories = {}
    for product in products:
        if product in given:
            offset, source = float(given[product]), "given"
        elif pins[product]:
            offset, source = -pins[product][0], "stock-out"
            if any(not math.isclose(pin, pins[product][0]) for pin in pins[product]):
                warnings.warn(
                    f"product {product}: stock-outs in the log disagree on the initial stock "
                    "(lots not released by production choices?); using the first",
                    stacklevel=2,
                )
        else:
            lowest = min(level for _, level, _ in points[product])
            offset, source = max(0.0, -lowest), "lower bound"
        series = [*points[product], (end, stock[product], backlog[product])]
        trajectories[product] = StockTrajectory(
            product=product,
            times=tuple(t for t, _, _ in series),
            finished_goods=tuple(level + offset for _, level, _ in series),
            backlog=tuple(b for _, _, b in series),
            initial_stock=offset,
            initial_stock_source=source,
            demand_times=tuple(t for t, _ in demand[product]),
            demand_units=tuple(u for _, u in demand[product]),
            lost_units=lost[product],
        )
    return trajectories


def _as_mapping(values: Mapping[int, float] | Sequence[float] | None) -> dict[int, float]:
    if values is None:
        return {}
    if isinstance(values, Mapping):
        return {int(k): float(v) for k, v in values.items()}
    return {index: float(v) for index, v in enumerate(values)}
