"""Decision modes: how the dispatch choices due at one instant are taken.

The factory raises dispatch choices machine by machine, and a priority rule can take
them in two ways:

* **machine by machine** (:func:`dispatch_by_machine`, the mode of
  :func:`~shopfloor.policies.run_factory`): the lowest-index due machine picks a job
  from its own queue, then the next due machine, and so on;
* **earliest first** (:func:`dispatch_earliest`): every ``(job, machine)`` pair that
  can start now, over all due machines, is one candidate set; the rule picks the best
  pair, it starts, and the set is rebuilt. This is the candidate set of
  job-shop-lib's ``DispatchingRuleSolver`` with its default ready-operation filters
  (dominated and non-immediate operations), "the operations that can start at the
  earliest time" (Giffler & Thompson 1960 restricted to non-delay schedules).

The **decision modes** of a static shop (``non_delay``, ``active``, ``append``; see
:mod:`shopfloor.envs` and the ``JobShop`` spec sheet) decide which operations a rule
chooses among. :func:`dispatch_in_mode` schedules a whole instance with a rule in any
of them: ``non_delay`` is :func:`dispatch_earliest` (:func:`dispatch_by_machine` for
ATC and ATCJS); in ``active`` and ``append`` the rule ranks the tracker's candidates
(:func:`choose_candidate`) and the finished schedule is replayed in the factory.

In a classic job shop both modes build the same schedule: each job waits in one queue
only, and starting a job on one machine changes neither the candidates nor the
priorities on another. They differ in a flexible shop, where a job waits at several
machines and the global choice decides where it goes.

What does change a schedule is how ties are broken (:class:`TieBreak`). Priority rules
tie often: most operations remaining ties on most choices of a Taillard instance. The
native rules give a tie to the job that joined the queue first; job-shop-lib gives it
to the lowest job index (it lists ready operations by job and keeps the first best).
With ``TieBreak.JOB`` both modes reproduce job-shop-lib 1.7.2's dispatching-rule
makespans for SPT, LPT, MWKR and MOPNR exactly (its "first come first served" is not
our FIFO: it ranks by position in the job, see ``tests/policies/test_rule_gaps.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import Enum
from typing import Any

import numpy as np

from shopfloor.envs import ScheduleTracker, parse_mode, replay_sequences
from shopfloor.instances import JobShopInstance
from shopfloor.policies._inventory import BaseStockPolicy
from shopfloor.sim import (
    PRIORITIES,
    QUEUE_RULES,
    DispatchingRule,
    Factory,
    FactorySpec,
    choose_job,
)


class TieBreak(str, Enum):
    """Which candidate wins when the rule's priorities are equal."""

    QUEUE = "queue"
    """The job that joined the queue first (then the lower machine index)."""
    JOB = "job"
    """The lowest job index (then the lower machine index), as job-shop-lib does."""

    @classmethod
    def parse(cls, name: str | TieBreak) -> TieBreak:
        """Resolve a tie-break by name, with a clear error."""
        if isinstance(name, TieBreak):
            return name
        try:
            return cls(name.strip().lower())
        except ValueError:
            valid = ", ".join(item.value for item in cls)
            raise ValueError(f"unknown tie-break {name!r}; choose from {valid}") from None


def dispatch_by_machine(
    factory: Factory,
    rule: DispatchingRule | str = DispatchingRule.FIFO,
    *,
    tie_break: TieBreak | str = TieBreak.QUEUE,
    rule_seed: int | None = None,
    production: BaseStockPolicy | None = None,
) -> Factory:
    """Drive ``factory`` to the end, one due machine at a time.

    With ``tie_break="queue"`` this is exactly :func:`~shopfloor.policies.run_factory`.

    Args:
        factory: A factory, usually freshly reset.
        rule: The dispatching rule.
        tie_break: Who wins a tie.
        rule_seed: Seed of the random rule's generator (defaults to the factory's seed).
        production: Policy for make-to-stock production choices.

    Returns:
        The same factory, finished.
    """
    rule = DispatchingRule.parse(rule)
    by_job = TieBreak.parse(tie_break) is TieBreak.JOB
    production = production or BaseStockPolicy()
    rng = np.random.default_rng(factory.seed if rule_seed is None else rule_seed)
    while factory.next_decision():
        if factory.decision_kind() != "dispatch":
            _produce(factory, production)
            continue
        machine = factory.decision_machine()
        candidates = factory.queue(machine)
        if by_job:
            candidates = sorted(candidates)
        factory.start(choose_job(rule, factory, machine, candidates, rng), machine)
    return factory


def dispatch_earliest(
    factory: Factory,
    rule: DispatchingRule | str = DispatchingRule.FIFO,
    *,
    tie_break: TieBreak | str = TieBreak.JOB,
    rule_seed: int | None = None,
    production: BaseStockPolicy | None = None,
) -> Factory:
    """Drive ``factory`` to the end, choosing among all operations that can start now.

    At each decision instant the candidates are all ``(job, machine)`` pairs of
    :meth:`~shopfloor.sim.Factory.ready_operations`; the rule's priority is evaluated
    per pair and the best pair starts. ATC and ATCJS are not offered: their look-ahead scale is
    the mean processing time of one machine's queue.

    Args:
        factory: A factory, usually freshly reset.
        rule: The dispatching rule (any but ATC and ATCJS).
        tie_break: Who wins a tie; the default follows job-shop-lib.
        rule_seed: Seed of the random rule's generator (defaults to the factory's seed).
        production: Policy for make-to-stock production choices.

    Returns:
        The same factory, finished.

    Raises:
        ValueError: ``rule`` is ATC or ATCJS.
    """
    rule = DispatchingRule.parse(rule)
    if rule in QUEUE_RULES:
        raise ValueError(
            f"{rule.value.upper()} ranks one machine's queue; use dispatch_by_machine for it"
        )
    tie_break = TieBreak.parse(tie_break)
    production = production or BaseStockPolicy()
    rng = np.random.default_rng(factory.seed if rule_seed is None else rule_seed)
    while factory.next_decision():
        if factory.decision_kind() != "dispatch":
            _produce(factory, production)
            continue
        job, machine = choose_operation(
            factory, rule, factory.ready_operations(), tie_break=tie_break, rng=rng
        )
        factory.start(job, machine)
    return factory


def choose_operation(
    factory: Factory,
    rule: DispatchingRule | str,
    candidates: Sequence[tuple[int, int]],
    *,
    tie_break: TieBreak | str = TieBreak.JOB,
    rng: np.random.Generator | None = None,
) -> tuple[int, int]:
    """Pick the ``(job, machine)`` pair ``rule`` starts among ``candidates``.

    The choice of :func:`dispatch_earliest` at one instant, for anyone holding a set of
    ready pairs (the job-shop environment's policies too).

    Args:
        factory: The factory, at a dispatch decision.
        rule: The dispatching rule (any but ATC and ATCJS, which rank one machine's queue).
        candidates: Pairs that can start now (non-empty), in
            :meth:`~shopfloor.sim.Factory.ready_operations` order.
        tie_break: Who wins a tie.
        rng: Generator for :attr:`~shopfloor.sim.DispatchingRule.RANDOM`.

    Returns:
        The chosen pair.

    Raises:
        ValueError: ``rule`` is ATC or ATCJS, or the random rule has no generator.
    """
    rule = DispatchingRule.parse(rule)
    if rule in QUEUE_RULES:
        raise ValueError(
            f"{rule.value.upper()} ranks one machine's queue; choose among one machine's jobs"
        )
    if TieBreak.parse(tie_break) is TieBreak.JOB:
        ordered = sorted(candidates)
    else:  # stable: equal arrival times keep machine, then queue order
        ordered = sorted(candidates, key=lambda pair: factory.queued_since(pair[0]))
    priority = PRIORITIES.get(rule)
    if priority is None:  # the random rule
        if rng is None:
            raise ValueError("the random rule needs a seeded numpy Generator")
        return ordered[int(rng.integers(len(ordered)))]
    return max(ordered, key=lambda pair: priority(factory, *pair))


def _produce(factory: Factory, production: BaseStockPolicy) -> None:
    """Take a make-to-stock production choice with ``production``."""
    choice = production.choose(factory)
    if choice is None:
        factory.idle()
    else:
        factory.produce(*choice)


# -------------------------------------------------- the active and append modes

TrackerPriority = Callable[[ScheduleTracker, int, int], float]


def _tracker_priorities() -> dict[DispatchingRule, TrackerPriority]:
    """Each rule's priority of a candidate ``(job, machine)`` of a schedule tracker.

    The same quantities as the factory's rules, read from the schedule being built:
    ``p`` is the time of the job's next operation on that machine, ``W`` the work not
    yet scheduled (fastest alternatives, this operation's included), the clock ``t``
    of CR and slack the candidate's earliest start, and a job's arrival at its queue
    (FIFO) the time it became ready for this operation.
    """
    r = DispatchingRule

    def slack(t: ScheduleTracker, job: int, machine: int) -> float:
        return t.due_dates[job] - t.earliest_start(job, machine) - t.work_remaining[job]

    def critical_ratio(t: ScheduleTracker, job: int, machine: int) -> float:
        work = max(t.work_remaining[job], 1e-9)
        return (t.due_dates[job] - t.earliest_start(job, machine)) / work

    return {
        r.FIFO: lambda t, job, machine: -t.job_ready[job],
        r.SPT: lambda t, job, machine: -t.operation_time(job, machine),
        r.LPT: lambda t, job, machine: t.operation_time(job, machine),
        r.MWKR: lambda t, job, machine: t.work_remaining[job],
        r.LWKR: lambda t, job, machine: -t.work_remaining[job],
        r.MOPNR: lambda t, job, machine: t.operations_remaining(job),
        r.EDD: lambda t, job, machine: -t.due_dates[job],
        r.CR: lambda t, job, machine: -critical_ratio(t, job, machine),
        r.WSPT: lambda t, job, machine: t.weights[job] / max(t.operation_time(job, machine), 1e-9),
        r.SLACK: lambda t, job, machine: -slack(t, job, machine),
    }


TRACKER_PRIORITIES = _tracker_priorities()


def choose_candidate(
    tracker: ScheduleTracker,
    rule: DispatchingRule | str,
    *,
    tie_break: TieBreak | str = TieBreak.JOB,
    rng: np.random.Generator | None = None,
) -> tuple[int, int]:
    """Pick the ``(job, machine)`` candidate ``rule`` schedules next (``active``, ``append``).

    Ties go to the lowest job index, then the lowest machine index
    (``TieBreak.JOB``), or first to the job ready earliest (``TieBreak.QUEUE``).

    Raises:
        ValueError: ``rule`` is ATC or ATCJS (they rank one machine's queue at a
            clock, which these modes do not have), the random rule has no generator,
            or the schedule is complete.
    """
    rule = DispatchingRule.parse(rule)
    if rule in QUEUE_RULES:
        raise ValueError(
            f"{rule.value.upper()} ranks one machine's queue at the current time; the "
            f"{tracker.mode} mode has neither: use mode='non_delay' for it"
        )
    candidates = tracker.candidates
    if not candidates:
        raise ValueError("the schedule is complete: no candidate is left")
    if TieBreak.parse(tie_break) is TieBreak.QUEUE:
        candidates = sorted(candidates, key=lambda pair: tracker.job_ready[pair[0]])
    if rule is DispatchingRule.RANDOM:
        if rng is None:
            raise ValueError("the random rule needs a seeded numpy Generator")
        return candidates[int(rng.integers(len(candidates)))]
    priority = TRACKER_PRIORITIES[rule]
    return max(candidates, key=lambda pair: priority(tracker, *pair))


def dispatch_in_mode(
    instance_or_spec: JobShopInstance | FactorySpec | Any,
    rule: DispatchingRule | str,
    mode: str = "non_delay",
    tie_break: TieBreak | str = TieBreak.JOB,
    *,
    seed: int = 0,
    rule_seed: int | None = None,
) -> Factory:
    """Schedule a static shop with ``rule`` in a decision mode.

    The schedule equals that of :class:`~shopfloor.policies.RulePolicy` (with the same
    tie-break) acting in ``JobShop`` with ``mode`` in a classic job shop; in a
    flexible one the ``non_delay`` policy ranks each job at one machine only, this
    function every ``(job, machine)`` pair.

    Args:
        instance_or_spec: A benchmark instance (anything with ``to_factory_spec()``)
            or a static factory description.
        rule: The dispatching rule (ATC and ATCJS only in ``non_delay``).
        mode: ``"non_delay"``, ``"active"`` or ``"append"``.
        tie_break: Who wins a tie (the lowest job index by default).
        seed: The factory's seed (a static shop draws nothing from it).
        rule_seed: Seed of the random rule's generator (defaults to ``seed``).

    Returns:
        The finished factory: read ``kpis()`` and the event log from it.

    Raises:
        ValueError: An unknown mode or rule, ATC or ATCJS outside ``non_delay``, or a
            factory the mode cannot schedule (see :class:`~shopfloor.envs.ScheduleTracker`).
    """
    spec = (
        instance_or_spec
        if isinstance(instance_or_spec, FactorySpec)
        else instance_or_spec.to_factory_spec()
    )
    mode = parse_mode(mode)
    rule = DispatchingRule.parse(rule)
    tie_break = TieBreak.parse(tie_break)
    factory = Factory(spec, seed=seed)
    if mode == "non_delay":
        if rule in QUEUE_RULES:
            return dispatch_by_machine(factory, rule, tie_break=tie_break, rule_seed=rule_seed)
        return dispatch_earliest(factory, rule, tie_break=tie_break, rule_seed=rule_seed)
    if not spec.is_static:
        raise ValueError(f"mode {mode!r} schedules static shops; {spec.name!r} is not static")
    tracker = ScheduleTracker(factory, mode)
    rng = np.random.default_rng(seed if rule_seed is None else rule_seed)
    while not tracker.done:
        tracker.schedule(*choose_candidate(tracker, rule, tie_break=tie_break, rng=rng))
    return replay_sequences(factory, tracker.sequences)
