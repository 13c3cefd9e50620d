"""CP-SAT reference schedules for static job shops, and their replay in the factory.

The model is the classic disjunctive one (Manne 1960) in OR-Tools' CP-SAT: one interval
variable per operation, a ``NoOverlap`` constraint per machine, precedences along each
job's routing, and the makespan as the maximum end to minimise. An operation that can
run on several machines (a flexible job shop) gets one optional interval per machine,
exactly one of them present; all share the operation's start and end. The solver
returns its best schedule and the bound it proved, so a benchmark can state both the
best makespan found and how far from optimal it can be at most.

:func:`replay_schedule` plays a solved schedule through :class:`~shopfloor.sim.Factory`:
each machine starts its jobs in the solver's order, each as soon as the factory lets it.
The result is the semi-active (left-shifted) version of the solver's schedule: no
operation starts later than in the solver's, so the makespan is never larger, and it is
equal when the solver's schedule is optimal.

Determinism: with ``workers=1`` and a fixed ``seed`` the search is deterministic, so a
solve that finishes before its time limit always returns the same schedule (for one
OR-Tools version). A solve cut by the time limit stops at a point that depends on the
machine's speed, and a multi-worker search (``workers=0`` uses every core) races its
workers against each other: neither is reproducible bit for bit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ortools.sat.python import cp_model

from shopfloor.instances import Instance
from shopfloor.sim import Constant, Factory, FactorySpec


@dataclass(frozen=True)
class ScheduledOperation:
    """One operation of a solved schedule.

    Attributes:
        job: Job index (position in ``FactorySpec.jobs``).
        operation: Index of the operation in the job's routing.
        machine: Machine it runs on.
        start: Start time.
        end: End time.
    """

    job: int
    operation: int
    machine: int
    start: int
    end: int


@dataclass(frozen=True)
class CpSatSchedule:
    """A schedule found by CP-SAT.

    Attributes:
        makespan: Completion time of the last operation.
        lower_bound: The bound on the optimal makespan the solver proved (equal to
            ``makespan`` when the status is ``"optimal"``).
        status: ``"optimal"`` (proven) or ``"feasible"`` (stopped by the time limit).
        wall_time: Seconds the solver ran.
        operations: Every operation, ordered by job then routing position.
        n_machines: Number of machines of the factory solved.
    """

    makespan: int
    lower_bound: int
    status: str
    wall_time: float
    operations: tuple[ScheduledOperation, ...]
    n_machines: int

    @property
    def optimal(self) -> bool:
        """Whether the solver proved the makespan optimal."""
        return self.status == "optimal"

    @property
    def gap(self) -> float:
        """Relative optimality gap ``(makespan - lower_bound) / makespan``."""
        return (self.makespan - self.lower_bound) / self.makespan if self.makespan else 0.0

    def machine_sequences(self) -> tuple[tuple[ScheduledOperation, ...], ...]:
        """Per machine, its operations in the order they run."""
        sequences: list[list[ScheduledOperation]] = [[] for _ in range(self.n_machines)]
        for op in sorted(self.operations, key=lambda o: (o.start, o.end, o.job, o.operation)):
            sequences[op.machine].append(op)
        return tuple(tuple(sequence) for sequence in sequences)

    def machine_orders(self) -> tuple[tuple[int, ...], ...]:
        """Per machine, the jobs in the order it processes them."""
        return tuple(tuple(op.job for op in seq) for seq in self.machine_sequences())


@dataclass(frozen=True)
class _StaticOperation:
    machines: tuple[int, ...]
    durations: tuple[int, ...]


def _integer(value: float, where: str) -> int:
    if not math.isfinite(value) or not float(value).is_integer():
        raise ValueError(f"{where}: CP-SAT needs integer times, got {value}")
    return int(value)


def _static_jobs(spec: FactorySpec) -> tuple[list[list[_StaticOperation]], list[int]]:
    """The routings (integer times, quantity applied) and release times of a static spec.

    Raises:
        ValueError: The spec is not a static job shop CP-SAT can model.
    """
    where = f"factory {spec.name!r}"
    if spec.arrivals is not None or spec.production is not None:
        raise ValueError(f"{where}: CP-SAT solves static shops; it has arrivals or production")
    for index, machine in enumerate(spec.machines):
        if machine.breakdown is not None or machine.setup is not None:
            raise ValueError(f"{where}: machines[{index}] has breakdowns or setups")
    if not spec.jobs:
        raise ValueError(f"{where}: has no jobs")
    jobs: list[list[_StaticOperation]] = []
    releases: list[int] = []
    for index, job in enumerate(spec.jobs):
        routing = job.routing if job.routing is not None else spec.products[job.product].routing
        operations = []
        for step, op in enumerate(routing):
            label = f"{where}: jobs[{index}].routing[{step}]"
            if op.materials:
                raise ValueError(f"{label} consumes materials")
            durations = []
            for duration in op.durations:
                if isinstance(duration, Constant):
                    duration = duration.value
                if not isinstance(duration, int | float):
                    raise ValueError(f"{label} has a random duration")
                durations.append(_integer(duration * job.quantity, label))
            operations.append(_StaticOperation(op.machines, tuple(durations)))
        jobs.append(operations)
        releases.append(_integer(job.release_time, f"{where}: jobs[{index}].release_time"))
    return jobs, releases


def _as_spec(spec_or_instance: FactorySpec | Instance) -> FactorySpec:
    if isinstance(spec_or_instance, FactorySpec):
        return spec_or_instance
    return spec_or_instance.to_factory_spec()  # a job shop or a flexible job shop


def solve_cpsat(
    spec_or_instance: FactorySpec | Instance,
    time_limit: float = 10.0,
    workers: int = 0,
    seed: int = 0,
) -> CpSatSchedule:
    """Minimise the makespan of a static job shop with CP-SAT.

    Args:
        spec_or_instance: A benchmark instance (a job shop, or a flexible job shop whose
            operations choose a machine), or a factory whose jobs are all known
            in advance with constant integer times (release times are respected;
            flexible operations choose a machine). A horizon is ignored.
        time_limit: Seconds the solver may run.
        workers: Search threads; 0 uses every core. Only ``workers=1`` is
            deterministic (see the module docstring).
        seed: The solver's random seed.

    Returns:
        The best schedule found, with the proven lower bound.

    Raises:
        ValueError: The factory has random times, arrivals, production, setups,
            breakdowns or materials, or a time limit or worker count is out of range.
        RuntimeError: No schedule was found within the time limit.
    """
    if not time_limit > 0:
        raise ValueError(f"time_limit must be > 0 seconds, got {time_limit}")
    if workers < 0:
        raise ValueError(f"workers must be >= 0 (0: all cores), got {workers}")
    spec = _as_spec(spec_or_instance)
    jobs, releases = _static_jobs(spec)
    n_machines = len(spec.machines)
    horizon = max(releases) + sum(max(op.durations) for ops in jobs for op in ops)

    model = cp_model.CpModel()
    intervals: list[list[cp_model.IntervalVar]] = [[] for _ in range(n_machines)]
    starts: list[list[cp_model.IntVar]] = []
    ends: list[list[cp_model.IntVar]] = []
    # (job, operation) -> [(machine, duration, presence literal or None)]
    choices: dict[tuple[int, int], list[tuple[int, int, cp_model.IntVar | None]]] = {}
    for job, operations in enumerate(jobs):
        job_starts: list[cp_model.IntVar] = []
        job_ends: list[cp_model.IntVar] = []
        for step, op in enumerate(operations):
            name = f"j{job}_o{step}"
            start = model.new_int_var(releases[job], horizon, f"start_{name}")
            end = model.new_int_var(releases[job], horizon, f"end_{name}")
            if len(op.machines) == 1:
                machine, duration = op.machines[0], op.durations[0]
                interval = model.new_interval_var(start, duration, end, f"run_{name}")
                intervals[machine].append(interval)
                choices[job, step] = [(machine, duration, None)]
            else:
                options: list[tuple[int, int, cp_model.IntVar | None]] = []
                for machine, duration in zip(op.machines, op.durations, strict=True):
                    present = model.new_bool_var(f"on_{name}_m{machine}")
                    interval = model.new_optional_interval_var(
                        start, duration, end, present, f"run_{name}_m{machine}"
                    )
                    intervals[machine].append(interval)
                    options.append((machine, duration, present))
                model.add_exactly_one(lit for _, _, lit in options if lit is not None)
                choices[job, step] = options
            if job_ends:
                model.add(start >= job_ends[-1])
            job_starts.append(start)
            job_ends.append(end)
        starts.append(job_starts)
        ends.append(job_ends)
    for machine_intervals in intervals:
        if len(machine_intervals) > 1:
            model.add_no_overlap(machine_intervals)
    makespan = model.new_int_var(0, horizon, "makespan")
    model.add_max_equality(makespan, [job_ends[-1] for job_ends in ends])
    model.minimize(makespan)

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(time_limit)
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = seed
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise RuntimeError(
            f"CP-SAT found no schedule for {spec.name!r} within {time_limit} s "
            f"(status {solver.status_name(status)})"
        )
    scheduled: list[ScheduledOperation] = []
    for (job, step), options in choices.items():
        machine = next(m for m, _, lit in options if lit is None or solver.boolean_value(lit))
        scheduled.append(
            ScheduledOperation(
                job=job,
                operation=step,
                machine=machine,
                start=int(solver.value(starts[job][step])),
                end=int(solver.value(ends[job][step])),
            )
        )
    value = int(solver.value(makespan))
    optimal = status == cp_model.OPTIMAL
    return CpSatSchedule(
        makespan=value,
        lower_bound=value if optimal else math.ceil(solver.best_objective_bound - 1e-6),
        status="optimal" if optimal else "feasible",
        wall_time=float(solver.wall_time),
        operations=tuple(scheduled),
        n_machines=n_machines,
    )


def replay_schedule(
    spec_or_instance: FactorySpec | Instance,
    schedule: CpSatSchedule,
    seed: int = 0,
) -> Factory:
    """Play ``schedule``'s machine sequences through the factory.

    At each dispatch choice of machine ``m`` the factory starts the operation whose
    turn it is on ``m`` if that job waits in ``m``'s queue at that operation, and
    otherwise leaves ``m`` idle (:meth:`~shopfloor.sim.Factory.defer`) until its queue
    changes. Every operation therefore starts as early as its job and machine
    predecessors allow: the semi-active version of ``schedule``.

    Args:
        spec_or_instance: What ``schedule`` was solved for.
        schedule: The schedule to replay.
        seed: The factory's seed (a static shop draws nothing from it).

    Returns:
        The finished factory: read ``kpis()`` and the event log from it.

    Raises:
        ValueError: The factory is not static (see :func:`solve_cpsat`), the schedule
            does not fit it, or its sequences deadlock.
    """
    spec = _as_spec(spec_or_instance)
    _static_jobs(spec)  # the same checks as for solving
    if schedule.n_machines != len(spec.machines):
        raise ValueError(
            f"schedule has {schedule.n_machines} machines, factory {spec.name!r} "
            f"has {len(spec.machines)}"
        )
    sequences = schedule.machine_sequences()
    position = [0] * len(sequences)
    factory = Factory(spec, seed=seed)
    if len(schedule.operations) != sum(factory.n_operations(j) for j in range(factory.n_jobs)):
        raise ValueError(f"schedule does not cover every operation of {spec.name!r}")
    while factory.next_decision():
        machine = factory.decision_machine()
        sequence = sequences[machine]
        turn = position[machine]
        if turn < len(sequence):
            job, step = sequence[turn].job, sequence[turn].operation
            if factory.operation_index(job) == step and job in factory.queue(machine):
                factory.start(job, machine)
                position[machine] = turn + 1
                continue
        factory.defer(machine)
    if position != [len(sequence) for sequence in sequences]:
        raise ValueError(f"the machine sequences deadlock in {spec.name!r}")
    return factory


@dataclass(frozen=True)
class CpSatPolicy:
    """The CP-SAT reference solver with its settings fixed.

    Attributes:
        time_limit: Seconds per solve.
        workers: Search threads (0: all cores; 1: deterministic).
        seed: The solver's random seed.
    """

    time_limit: float = 10.0
    workers: int = 0
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.time_limit > 0:
            raise ValueError(f"time_limit must be > 0 seconds, got {self.time_limit}")
        if self.workers < 0:
            raise ValueError(f"workers must be >= 0 (0: all cores), got {self.workers}")

    def solve(self, spec_or_instance: FactorySpec | Instance) -> CpSatSchedule:
        """Solve ``spec_or_instance`` (see :func:`solve_cpsat`)."""
        return solve_cpsat(spec_or_instance, self.time_limit, self.workers, self.seed)

    def run(self, spec_or_instance: FactorySpec | Instance, seed: int = 0) -> Factory:
        """Solve, then replay the schedule in a factory (see :func:`replay_schedule`)."""
        return replay_schedule(spec_or_instance, self.solve(spec_or_instance), seed)
