"""Schedules built by appending operations: the ``active`` and ``append`` decision modes.

A static shop can be scheduled in three decision modes (see the ``JobShop`` spec sheet):

* ``non_delay``: the factory's own dispatch; at the current time, the candidates are
  the ``(job, machine)`` pairs that can start now. Every reachable schedule is
  non-delay, and an optimal schedule need not be.
* ``active`` (Giffler & Thompson 1960): for each unfinished job ``j`` with next
  operation ``o`` and each machine ``m`` that can run it, ``est = max(job_ready[j],
  machine_ready[m])`` and ``ect = est + p(o, m)``. ``C*`` is the smallest ``ect``;
  ``m*`` the machine of a pair attaining it (ties: the lowest machine index). The
  candidates are the pairs ``(o, m*)`` with ``est < C*`` (and, so that a zero-time
  operation is never shut out, those with ``p = 0`` and ``est = C*``). Every active
  schedule is reachable, so an optimal one is.
* ``append``: any unfinished job's next operation on any of its machines. Every
  semi-active schedule is reachable, so an optimal one is.

In ``active`` and ``append`` the chosen operation is appended to its machine's
sequence and starts at ``max(job_ready, machine_ready)``: a start time is final when it
is decided. :class:`ScheduleTracker` keeps that state; :func:`replay_sequences` plays
the machine sequences through the SimPy factory (the reference of timing), which gives
exactly the same start and end times.
"""

from __future__ import annotations

import math
from typing import Literal, NamedTuple

from shopfloor.envs._base import InvalidActionError
from shopfloor.sim import DeadlockError, Factory

DecisionMode = Literal["non_delay", "active", "append"]
MODES: tuple[DecisionMode, ...] = ("non_delay", "active", "append")


def parse_mode(mode: str) -> DecisionMode:
    """Resolve a decision mode by name (``"non_delay"``, ``"active"`` or ``"append"``).

    Raises:
        ValueError: ``mode`` is not one of them.
    """
    if isinstance(mode, str):
        key = mode.strip().lower().replace("-", "_")
        for known in MODES:
            if key == known:
                return known
    raise ValueError(f"unknown decision mode {str(mode)[:40]!r}; choose from {', '.join(MODES)}")


class ScheduledStep(NamedTuple):
    """One operation placed by a decision."""

    job: int
    operation: int
    machine: int
    start: float
    end: float


class ScheduleTracker:
    """The schedule of an ``active`` or ``append`` episode, built one operation at a time.

    Times come from the factory (quantities applied), so the tracker and a replay in
    that factory agree to the last bit. Candidates are listed by job, then machine.

    Args:
        factory: A static factory at t=0 (its times and release times are read).
        mode: ``"active"`` or ``"append"``.

    Raises:
        ValueError: The mode is not one of these, or the factory has setups or a
            horizon (their timing depends on what the factory has run).
    """

    def __init__(self, factory: Factory, mode: str):
        self.mode = parse_mode(mode)
        spec = factory.spec
        if self.mode == "non_delay":
            raise ValueError("the non_delay mode is the factory's own dispatch; no tracker")
        if any(machine.setup is not None for machine in spec.machines):
            raise ValueError(
                f"mode {self.mode!r} needs a shop without setups; {spec.name!r} has "
                "setups: use mode='non_delay'"
            )
        if spec.horizon is not None:
            raise ValueError(
                f"mode {self.mode!r} needs a shop without a horizon; {spec.name!r} has one"
            )
        self.factory_name = spec.name
        self.n_jobs = factory.n_jobs
        self.n_machines = factory.n_machines
        # Per job and operation: (machine, time) in machine order.
        self.options: list[list[tuple[tuple[int, float], ...]]] = [
            [tuple(sorted(times.items())) for times in factory.alternative_times(job)]
            for job in range(self.n_jobs)
        ]
        self.n_operations = [len(ops) for ops in self.options]
        self.due_dates = [factory.due_date(job) for job in range(self.n_jobs)]
        self.weights = [factory.weight(job) for job in range(self.n_jobs)]
        self.job_ready = [max(float(job.release_time), 0.0) for job in spec.jobs]
        self.machine_ready = [0.0] * self.n_machines
        self.next_operation = [0] * self.n_jobs
        self._fastest = [[min(t for _, t in op) for op in ops] for ops in self.options]
        self.work_remaining = []
        for fastest in self._fastest:
            work = 0.0  # summed as the factory sums it
            for time in fastest:
                work += time
            self.work_remaining.append(work)
        self.makespan = 0.0
        self.steps: list[ScheduledStep] = []
        self.sequences: list[list[tuple[int, int]]] = [[] for _ in range(self.n_machines)]
        self._unfinished = [job for job in range(self.n_jobs) if self.n_operations[job]]
        self.candidates: list[tuple[int, int]] = []
        self.reference_time = 0.0
        self.critical_machine = -1
        self._candidate_set: set[tuple[int, int]] = set()
        self._refresh()

    # -- state

    @property
    def done(self) -> bool:
        """Whether every operation is scheduled."""
        return not self._unfinished

    def operations_remaining(self, job: int) -> int:
        """Operations of ``job`` not yet scheduled."""
        return self.n_operations[job] - self.next_operation[job]

    def operation_time(self, job: int, machine: int) -> float:
        """Time of ``job``'s next operation on ``machine``."""
        for option, time in self.options[job][self.next_operation[job]]:
            if option == machine:
                return time
        raise ValueError(f"job {job}'s next operation cannot run on machine {machine}")

    def earliest_start(self, job: int, machine: int) -> float:
        """When ``job``'s next operation would start on ``machine`` if chosen now."""
        return max(self.job_ready[job], self.machine_ready[machine])

    def is_candidate(self, job: int, machine: int) -> bool:
        """Whether ``(job, machine)`` may be scheduled now."""
        return (job, machine) in self._candidate_set

    # -- decisions

    def schedule(self, job: int, machine: int) -> ScheduledStep:
        """Append ``job``'s next operation to ``machine``'s sequence.

        Raises:
            InvalidActionError: The pair is not a candidate now.
        """
        if (job, machine) not in self._candidate_set:
            raise InvalidActionError(
                f"job {job} on machine {machine} is not a candidate in mode {self.mode!r}; "
                f"candidates (job, machine): {self.candidates[:20]}"
            )
        operation = self.next_operation[job]
        duration = self.operation_time(job, machine)
        ready, free = self.job_ready[job], self.machine_ready[machine]
        start = ready if ready > free else free
        end = start + duration
        self.job_ready[job] = self.machine_ready[machine] = end
        self.next_operation[job] = operation + 1
        self.work_remaining[job] -= self._fastest[job][operation]
        if operation + 1 == self.n_operations[job]:
            self._unfinished.remove(job)
        if end > self.makespan:
            self.makespan = end
        step = ScheduledStep(job, operation, machine, start, end)
        self.steps.append(step)
        self.sequences[machine].append((job, operation))
        self._refresh()
        return step

    def _refresh(self) -> None:
        """Recompute the candidates, the critical machine and the reference time."""
        job_ready, machine_ready = self.job_ready, self.machine_ready
        options, next_operation = self.options, self.next_operation
        earliest = math.inf
        best, best_machine = math.inf, self.n_machines
        for job in self._unfinished:
            ready = job_ready[job]
            for machine, time in options[job][next_operation[job]]:
                free = machine_ready[machine]
                start = ready if ready > free else free
                if start < earliest:
                    earliest = start
                end = start + time
                if end < best or (end == best and machine < best_machine):
                    best, best_machine = end, machine
        self.reference_time = earliest if self._unfinished else self.makespan
        if self.mode == "append":
            self.critical_machine = -1
            self.candidates = [
                (job, machine)
                for job in self._unfinished
                for machine, _ in options[job][next_operation[job]]
            ]
        else:
            self.critical_machine = best_machine if self._unfinished else -1
            candidates = []
            for job in self._unfinished:
                ready = job_ready[job]
                for machine, time in options[job][next_operation[job]]:
                    if machine == best_machine:
                        free = machine_ready[machine]
                        start = ready if ready > free else free
                        if start < best or (time == 0 and start == best):
                            candidates.append((job, machine))
            self.candidates = candidates
        self._candidate_set = set(self.candidates)


def replay_sequences(
    factory: Factory, sequences: list[list[tuple[int, int]]], *, partial: bool = False
) -> Factory:
    """Play per-machine sequences of ``(job, operation)`` through ``factory``.

    Each machine starts the operation whose turn it is as soon as the job waits in its
    queue at that operation, and is deferred (:meth:`~shopfloor.sim.Factory.defer`)
    otherwise: every operation starts as early as its job and machine predecessors
    allow (the semi-active schedule of the sequences).

    Args:
        factory: A static factory at the start of its episode.
        sequences: Per machine, the operations in the order it runs them.
        partial: The sequences cover only some operations (a schedule being built):
            stop when they are played instead of refusing.

    Returns:
        The same factory, finished (with ``partial``: at the last completion).

    Raises:
        ValueError: The sequences deadlock or leave operations out.
    """
    position = [0] * len(sequences)
    try:
        while factory.next_decision():
            machine = factory.decision_machine()
            sequence = sequences[machine]
            turn = position[machine]
            if turn < len(sequence):
                job, operation = sequence[turn]
                if factory.operation_index(job) == operation and job in factory.queue(machine):
                    factory.start(job, machine)
                    position[machine] = turn + 1
                    continue
            factory.defer(machine)
    except DeadlockError:
        if not partial:
            raise ValueError(
                f"the machine sequences deadlock or leave operations out in {factory.spec.name!r}"
            ) from None
    if position != [len(sequence) for sequence in sequences]:
        raise ValueError(f"the machine sequences deadlock in {factory.spec.name!r}")
    return factory
