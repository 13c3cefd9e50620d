"""A static flexible job-shop instance: every operation may run on one of several machines.

In the flexible job-shop problem (Brandimarte 1993) each job is a fixed sequence of
operations, as in the job shop, but an operation names a set of alternative machines,
each with its own integer processing time; a schedule picks one machine for every
operation and orders every machine's operations, minimising the makespan. Jobs may
have different numbers of operations.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shopfloor.instances._instance import check_bounds, check_size
from shopfloor.sim import LIMITS

if TYPE_CHECKING:
    from shopfloor.sim import FactorySpec

Alternative = tuple[int, int]
"""One way to run an operation: ``(machine, processing time)``, machines from 0."""

Operation = tuple[Alternative, ...]
"""The alternatives of one operation, in the order the instance lists them."""


def _integer(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{where}: {value!r} is not an integer")
    return int(value)


def _as_operations(
    rows: Sequence[Sequence[Sequence[Sequence[int]]]], where: str
) -> tuple[tuple[Operation, ...], ...]:
    """Copy job -> operation -> (machine, time) pairs into tuples of ``int``."""
    if isinstance(rows, str | bytes) or not isinstance(rows, Sequence):
        raise ValueError(f"{where}: operations must be a sequence of jobs")
    jobs: list[tuple[Operation, ...]] = []
    for job, routing in enumerate(rows):
        if isinstance(routing, str | bytes) or not isinstance(routing, Sequence):
            raise ValueError(f"{where}: job {job} is not a sequence of operations")
        operations: list[Operation] = []
        for step, alternatives in enumerate(routing):
            label = f"{where}: job {job} operation {step}"
            if isinstance(alternatives, str | bytes) or not isinstance(alternatives, Sequence):
                raise ValueError(f"{label} is not a sequence of (machine, time) pairs")
            pairs: list[Alternative] = []
            for pair in alternatives:
                if (
                    isinstance(pair, str | bytes)
                    or not isinstance(pair, Sequence)
                    or len(pair) != 2
                ):
                    raise ValueError(f"{label}: {pair!r} is not a (machine, time) pair")
                pairs.append((_integer(pair[0], label), _integer(pair[1], label)))
            operations.append(tuple(pairs))
        jobs.append(tuple(operations))
    return tuple(jobs)


@dataclass(frozen=True)
class FlexibleJobShopInstance:
    """A flexible job-shop scheduling instance.

    ``operations[j][i]`` lists the ``(machine, time)`` alternatives of job ``j``'s
    operation ``i`` (machines from 0). An instance whose operations all have one
    alternative is a classic job shop with routings of possibly different lengths.

    Attributes:
        name: Instance name, e.g. ``"mk01"``.
        operations: Per job, per operation in routing order, its alternatives.
        lower_bound: Best known lower bound on the optimal makespan, if any.
        upper_bound: Best known makespan (an upper bound on the optimum), if any.
        optimum: Proven optimal makespan, if known.
        machine_count: Number of machines; ``None`` means the highest machine index
            plus one. Always an ``int`` after construction (read :attr:`n_machines`).

    Raises:
        ValueError: Empty jobs or operations, a machine repeated within an operation,
            machines or times out of range, sizes beyond :data:`shopfloor.sim.LIMITS`,
            or bounds that contradict each other.
    """

    name: str
    operations: tuple[tuple[Operation, ...], ...]
    lower_bound: int | None = None
    upper_bound: int | None = None
    optimum: int | None = None
    machine_count: int | None = None

    def __post_init__(self) -> None:
        where = f"instance {self.name!r}"
        rows = self.operations
        if isinstance(rows, Sequence) and not isinstance(rows, str | bytes):
            longest = max((len(job) for job in rows if isinstance(job, Sequence)), default=0)
            try:
                check_size(len(rows), longest, self.machine_count)
            except ValueError as exc:  # before anything is copied
                raise ValueError(f"{where}: {exc}") from None
        operations = _as_operations(rows, where)
        object.__setattr__(self, "operations", operations)
        if not operations:
            raise ValueError(f"{where}: has no jobs")
        highest = -1
        for job, routing in enumerate(operations):
            if not routing:
                raise ValueError(f"{where}: job {job} has no operations")
            for step, alternatives in enumerate(routing):
                label = f"{where}: job {job} operation {step}"
                if not alternatives:
                    raise ValueError(f"{label} has no machine")
                machines = [machine for machine, _ in alternatives]
                if len(set(machines)) != len(machines):
                    raise ValueError(f"{label} lists a machine twice")
                for machine, time in alternatives:
                    if machine < 0:
                        raise ValueError(f"{label} has a negative machine index")
                    if time < 0:
                        raise ValueError(f"{label} has a negative processing time")
                    if time > LIMITS.max_time:
                        raise ValueError(
                            f"{label} has a processing time of {time:,}; the limit is "
                            f"{LIMITS.max_time:g}"
                        )
                highest = max(highest, *machines)
        count = self.machine_count
        if highest >= LIMITS.max_machines or (count or 0) > LIMITS.max_machines:
            shown = max(highest + 1, count or 0)
            raise ValueError(f"{where}: {shown:,} machines; the limit is {LIMITS.max_machines:,}")
        if count is None:
            object.__setattr__(self, "machine_count", highest + 1)
        elif count <= highest:
            raise ValueError(f"{where}: machine_count is {count} but machine {highest} is used")
        check_bounds(where, self.lower_bound, self.upper_bound, self.optimum)

    @property
    def n_jobs(self) -> int:
        """Number of jobs."""
        return len(self.operations)

    @property
    def n_machines(self) -> int:
        """Number of machines."""
        assert self.machine_count is not None  # set in __post_init__
        return self.machine_count

    @property
    def n_operations(self) -> int:
        """Total number of operations over all jobs."""
        return sum(len(routing) for routing in self.operations)

    @property
    def operations_per_job(self) -> int:
        """Number of operations of the longest routing."""
        return max(len(routing) for routing in self.operations)

    @property
    def flexibility(self) -> float:
        """Mean number of alternative machines per operation (FJSPLIB's third header value)."""
        alternatives = sum(len(op) for routing in self.operations for op in routing)
        return alternatives / self.n_operations

    def lower_bound_trivial(self) -> int:
        """A simple lower bound on the makespan.

        No schedule ends before the longest job has run every operation on its
        fastest machine, nor before the machines, sharing all the work evenly with
        every operation on its fastest machine, are done:
        ``max(max job total of fastest times, ceil(sum of fastest times / machines))``.
        """
        fastest = [[min(time for _, time in op) for op in routing] for routing in self.operations]
        job_bound = max(sum(times) for times in fastest)
        load_bound = math.ceil(sum(sum(times) for times in fastest) / self.n_machines)
        return max(job_bound, load_bound)

    def to_factory_spec(self) -> FactorySpec:
        """The instance as a static factory for :mod:`shopfloor.sim`.

        Machines are named ``M0, M1, ...`` and jobs ``J0, J1, ...``; every job is
        released at t=0 with its own routing, each operation listing its alternative
        machines with their constant times, and no setups or breakdowns.
        """
        from shopfloor.sim import FactorySpec, JobSpec, MachineSpec, OperationSpec

        return FactorySpec(
            name=self.name,
            machines=tuple(MachineSpec(name=f"M{i}") for i in range(self.n_machines)),
            jobs=tuple(
                JobSpec(
                    routing=tuple(
                        OperationSpec(
                            machines=tuple(machine for machine, _ in op),
                            durations=tuple(float(time) for _, time in op),
                        )
                        for op in routing
                    ),
                    product=-1,
                    release_time=0.0,
                    name=f"J{job}",
                )
                for job, routing in enumerate(self.operations)
            ),
        )
