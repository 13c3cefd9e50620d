"""Shared pieces of the factory tests: ft06, drivers and trace extraction."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from shopfloor.sim import Factory, FactorySpec, JobSpec, MachineSpec, OperationSpec

FT06_DURATIONS = (
    (1, 3, 6, 7, 3, 6),
    (8, 5, 10, 10, 10, 4),
    (5, 4, 8, 9, 1, 7),
    (5, 5, 5, 3, 8, 9),
    (9, 3, 5, 4, 3, 1),
    (3, 3, 9, 10, 4, 1),
)
FT06_MACHINES = (
    (2, 0, 1, 3, 5, 4),
    (1, 2, 4, 5, 0, 3),
    (2, 3, 5, 0, 1, 4),
    (1, 0, 2, 3, 4, 5),
    (2, 1, 4, 5, 0, 3),
    (1, 3, 5, 0, 4, 2),
)
FT06_OPTIMUM = 55.0

Chooser = Callable[[Factory, int, list[int]], int]
"""A dispatch policy: ``(factory, machine, startable jobs) -> job``."""


def job_shop(
    name: str, machines: Sequence[Sequence[int]], durations: Sequence[Sequence[float]]
) -> FactorySpec:
    """A static job shop: job ``j`` visits ``machines[j]`` for ``durations[j]``."""
    n_machines = 1 + max(m for row in machines for m in row)
    return FactorySpec(
        name=name,
        machines=tuple(MachineSpec(f"m{i}") for i in range(n_machines)),
        jobs=tuple(
            JobSpec(
                routing=tuple(
                    OperationSpec.on(m, float(d)) for m, d in zip(row_m, row_d, strict=True)
                ),
                name=f"j{j}",
            )
            for j, (row_m, row_d) in enumerate(zip(machines, durations, strict=True))
        ),
    )


def ft06() -> FactorySpec:
    """Fisher & Thompson's 6x6 instance (optimum 55), machines 0-based."""
    return job_shop("ft06", FT06_MACHINES, FT06_DURATIONS)


def fifo(factory: Factory, machine: int, queue: list[int]) -> int:
    """First come, first served."""
    return queue[0]


def random_chooser(rng: np.random.Generator) -> Chooser:
    """Uniformly random among the startable jobs, drawing from ``rng`` only."""

    def choose(factory: Factory, machine: int, queue: list[int]) -> int:
        return queue[int(rng.integers(len(queue)))]

    return choose


def priority_chooser(order: Sequence[int]) -> Chooser:
    """The startable job that comes first in ``order``."""
    rank = {job: position for position, job in enumerate(order)}
    return lambda factory, machine, queue: min(queue, key=rank.__getitem__)


ProductionChooser = Callable[[Factory], tuple[int, int] | None]
"""A production policy: ``factory -> (product, lot size)`` or ``None`` to idle."""


def random_production(rng: np.random.Generator, idle_share: float = 0.3) -> ProductionChooser:
    """Idle with probability ``idle_share``, else a random product and lot size."""

    def choose(factory: Factory) -> tuple[int, int] | None:
        production = factory.spec.production
        assert production is not None
        if rng.random() < idle_share:
            return None
        product = int(rng.integers(len(factory.spec.products)))
        lot = production.lot_sizes[int(rng.integers(len(production.lot_sizes)))]
        return product, lot

    return choose


def drive(
    factory: Factory,
    choose: Chooser = fifo,
    produce: ProductionChooser | None = None,
    max_decisions: int = 100_000,
) -> Factory:
    """Take every decision of ``factory`` until the episode ends.

    Asserts on the way that ``next_decision()`` returning True means a choice is due
    and that ``ready_jobs()`` agrees with ``ready_operations()``.
    """
    for _ in range(max_decisions):
        if not factory.next_decision():
            return factory
        kind = factory.decision_kind()
        assert kind is not None, f"t={factory.now}: next_decision() is True, no choice is due"
        if kind == "dispatch":
            ready = sorted(job for job, _ in factory.ready_operations())
            assert sorted(factory.ready_jobs()) == ready, f"t={factory.now}: ready_jobs differs"
            machine = factory.decision_machine()
            factory.start(choose(factory, machine, list(factory.queue(machine))), machine)
        else:
            choice = produce(factory) if produce is not None else None
            if choice is None:
                factory.idle()
            else:
                factory.produce(*choice)
    raise AssertionError(f"no end after {max_decisions} decisions")


def trace(factory: Factory, *kinds: str) -> list[tuple[float, str, int, int]]:
    """``(time, kind, machine, job)`` of the logged events (of ``kinds``, if given)."""
    return [
        (time, kind, machine, job)
        for time, kind, machine, job, _, _ in factory.log
        if not kinds or kind in kinds
    ]


def starts(factory: Factory) -> dict[tuple[int, int], float]:
    """Start time of each ``(job, operation)``."""
    return {(job, op): time for time, kind, _, job, op, _ in factory.log if kind == "start"}


def replay_machine_orders(factory: Factory, orders: Sequence[Sequence[int]]) -> Factory:
    """Run the semi-active schedule given by each machine's job order.

    At each dispatch choice the machine starts the job whose turn it is when that job
    is waiting, and otherwise waits for it (:meth:`Factory.defer`).
    """
    turn = [0] * len(orders)
    while factory.next_decision():
        machine = factory.decision_machine()
        job = orders[machine][turn[machine]]
        if job in factory.queue(machine):
            factory.start(job, machine)
            turn[machine] += 1
        else:
            factory.defer(machine)
    return factory
