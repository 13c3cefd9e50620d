"""A static job-shop instance: jobs, their routings and processing times.

In the classic job-shop problem each of ``n`` jobs is a fixed sequence of operations,
each operation needs one given machine for a given integer time, a machine does one
operation at a time, and the goal is the shortest makespan. An instance is therefore
two ``n x k`` matrices (machine and duration of every operation, in routing order)
plus the best known bounds on the optimal makespan. Usually ``k`` equals the number of
machines and every job visits every machine once.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shopfloor.sim import LIMITS

if TYPE_CHECKING:
    from shopfloor.sim import FactorySpec


def _as_matrix(rows: Sequence[Sequence[int]], field_name: str) -> tuple[tuple[int, ...], ...]:
    """Copy a sequence of sequences of integers into a tuple of tuples of ``int``."""
    if isinstance(rows, str | bytes) or not isinstance(rows, Sequence):
        raise ValueError(f"{field_name}: expected a sequence of rows, got {type(rows).__name__}")
    matrix: list[tuple[int, ...]] = []
    for job, row in enumerate(rows):
        if isinstance(row, str | bytes) or not isinstance(row, Sequence):
            raise ValueError(f"{field_name}[{job}]: expected a sequence of integers")
        values: list[int] = []
        for value in row:
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                raise ValueError(f"{field_name}[{job}]: {value!r} is not an integer")
            values.append(int(value))
        matrix.append(tuple(values))
    return tuple(matrix)


def check_bounds(
    where: str, lower: float | None, upper: float | None, optimum: float | None
) -> None:
    """Refuse negative bounds, a lower bound above the upper, an optimum outside them."""
    for label, value in (("lower_bound", lower), ("upper_bound", upper), ("optimum", optimum)):
        if value is not None and value < 0:
            raise ValueError(f"{where}: {label} must be >= 0, got {value}")
    if lower is not None and upper is not None and lower > upper:
        raise ValueError(f"{where}: lower_bound {lower} exceeds upper_bound {upper}")
    if optimum is not None:
        if lower is not None and optimum < lower:
            raise ValueError(f"{where}: optimum {optimum} is below lower_bound {lower}")
        if upper is not None and optimum > upper:
            raise ValueError(f"{where}: optimum {optimum} exceeds upper_bound {upper}")


def check_size(n_jobs: int, operations_per_job: int, n_machines: int | None) -> None:
    """Refuse an instance larger than :data:`shopfloor.sim.LIMITS` allows.

    Args:
        n_jobs: Jobs.
        operations_per_job: Operations of the longest routing.
        n_machines: Machines, when known.

    Raises:
        ValueError: Naming the size and its limit.
    """
    limits = LIMITS
    if n_jobs > limits.max_jobs:
        raise ValueError(f"{n_jobs:,} jobs; the limit is {limits.max_jobs:,}")
    if n_machines is not None and n_machines > limits.max_machines:
        raise ValueError(f"{n_machines:,} machines; the limit is {limits.max_machines:,}")
    if operations_per_job > limits.max_operations_per_job:
        raise ValueError(
            f"{operations_per_job:,} operations per job; the limit is "
            f"{limits.max_operations_per_job:,}"
        )
    if n_jobs * operations_per_job > limits.max_operations:
        raise ValueError(
            f"{n_jobs:,} jobs of {operations_per_job:,} operations make "
            f"{n_jobs * operations_per_job:,} operations; the limit is {limits.max_operations:,}"
        )


@dataclass(frozen=True)
class JobShopInstance:
    """A job-shop scheduling instance.

    Row ``j`` of ``machines`` and ``durations`` is job ``j``'s routing: operation ``i``
    runs on machine ``machines[j][i]`` (0-based) for ``durations[j][i]`` time units.
    Lists (or numpy integers) are accepted and stored as tuples of ``int``.

    Attributes:
        name: Instance name, e.g. ``"ft06"``.
        durations: Processing time of every operation, one row per job.
        machines: Machine of every operation (0-based), one row per job.
        lower_bound: Best known lower bound on the optimal makespan, if any.
        upper_bound: Best known makespan (an upper bound on the optimum), if any.
        optimum: Proven optimal makespan, if known.
        machine_count: Number of machines. ``None`` means the highest machine index
            plus one; give it when some machine has no operation. Always an ``int``
            after construction (read it as :attr:`n_machines`).

    Raises:
        ValueError: The matrices are ragged, empty or out of range, larger than
            :data:`shopfloor.sim.LIMITS` allows (jobs, machines, operations, durations
            of at most 1e9), or the bounds contradict each other.
    """

    name: str
    durations: tuple[tuple[int, ...], ...]
    machines: tuple[tuple[int, ...], ...]
    lower_bound: int | None = None
    upper_bound: int | None = None
    optimum: int | None = None
    machine_count: int | None = None

    def __post_init__(self) -> None:
        where = f"instance {self.name!r}"
        for rows in (self.durations, self.machines):
            if isinstance(rows, Sequence) and not isinstance(rows, str | bytes):
                longest = max((len(row) for row in rows if isinstance(row, Sequence)), default=0)
                try:
                    check_size(len(rows), longest, self.machine_count)
                except ValueError as exc:  # before anything is copied
                    raise ValueError(f"{where}: {exc}") from None
        durations = _as_matrix(self.durations, "durations")
        machines = _as_matrix(self.machines, "machines")
        object.__setattr__(self, "durations", durations)
        object.__setattr__(self, "machines", machines)
        if not durations:
            raise ValueError(f"{where}: has no jobs")
        if len(machines) != len(durations):
            raise ValueError(
                f"{where}: {len(durations)} rows of durations but {len(machines)} rows of machines"
            )
        n_operations = len(durations[0])
        if n_operations == 0:
            raise ValueError(f"{where}: job 0 has no operations")
        for job, (duration_row, machine_row) in enumerate(zip(durations, machines, strict=True)):
            if len(duration_row) != n_operations or len(machine_row) != n_operations:
                raise ValueError(
                    f"{where}: job {job} has {len(duration_row)} durations and "
                    f"{len(machine_row)} machines; every job needs {n_operations} operations"
                )
            if any(d < 0 for d in duration_row):
                raise ValueError(f"{where}: job {job} has a negative duration")
            if any(d > LIMITS.max_time for d in duration_row):
                raise ValueError(
                    f"{where}: job {job} has a duration of {max(duration_row):,}; the limit is "
                    f"{LIMITS.max_time:g}"
                )
            if any(m < 0 for m in machine_row):
                raise ValueError(f"{where}: job {job} has a negative machine index")
        highest = max(max(row) for row in machines)
        if highest >= LIMITS.max_machines or (self.machine_count or 0) > LIMITS.max_machines:
            count = max(highest + 1, self.machine_count or 0)
            raise ValueError(f"{where}: {count:,} machines; the limit is {LIMITS.max_machines:,}")
        if self.machine_count is None:
            object.__setattr__(self, "machine_count", highest + 1)
        elif self.machine_count <= highest:
            raise ValueError(
                f"{where}: machine_count is {self.machine_count} but machine {highest} is used"
            )
        check_bounds(where, self.lower_bound, self.upper_bound, self.optimum)

    @property
    def n_jobs(self) -> int:
        """Number of jobs."""
        return len(self.durations)

    @property
    def n_machines(self) -> int:
        """Number of machines."""
        assert self.machine_count is not None  # set in __post_init__
        return self.machine_count

    @property
    def n_operations(self) -> int:
        """Total number of operations over all jobs."""
        return sum(len(row) for row in self.durations)

    @property
    def operations_per_job(self) -> int:
        """Number of operations in every job's routing."""
        return len(self.durations[0])

    def job_totals(self) -> tuple[int, ...]:
        """Total processing time of each job."""
        return tuple(sum(row) for row in self.durations)

    def machine_loads(self) -> tuple[int, ...]:
        """Total processing time asked of each machine."""
        loads = [0] * self.n_machines
        for duration_row, machine_row in zip(self.durations, self.machines, strict=True):
            for duration, machine in zip(duration_row, machine_row, strict=True):
                loads[machine] += duration
        return tuple(loads)

    def lower_bound_trivial(self) -> int:
        """The trivial lower bound on the makespan.

        No schedule ends before the longest job has run all its operations back to
        back, nor before the busiest machine has done all its work:
        ``max(max job total time, max machine load)``.
        """
        return max(max(self.job_totals()), max(self.machine_loads()))

    def to_factory_spec(self) -> FactorySpec:
        """The instance as a static factory for :mod:`shopfloor.sim`.

        Machines are named ``M0, M1, ...`` and jobs ``J0, J1, ...``; every job is
        released at t=0 with its own routing (no product), constant processing times
        and no setups or breakdowns.
        """
        from shopfloor.sim import FactorySpec, JobSpec, MachineSpec, OperationSpec

        return FactorySpec(
            name=self.name,
            machines=tuple(MachineSpec(name=f"M{i}") for i in range(self.n_machines)),
            jobs=tuple(
                JobSpec(
                    routing=tuple(
                        OperationSpec.on(machine, float(duration))
                        for machine, duration in zip(machine_row, duration_row, strict=True)
                    ),
                    product=-1,
                    release_time=0.0,
                    name=f"J{job}",
                )
                for job, (duration_row, machine_row) in enumerate(
                    zip(self.durations, self.machines, strict=True)
                )
            ),
        )
