"""Schedules checked by hand: a two-machine flow shop, Johnson's rule, ft06 under FIFO."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pytest

from shopfloor.sim import Factory
from shopfloor.sim._checks import ScheduleViolation, check_schedule, lower_bound

from ._helpers import (
    FT06_DURATIONS,
    FT06_MACHINES,
    FT06_OPTIMUM,
    drive,
    fifo,
    ft06,
    job_shop,
    priority_chooser,
    random_chooser,
    replay_machine_orders,
    starts,
    trace,
)

# Two-machine flow shop: every job visits m0 then m1.
#   job     A  B  C  D
#   on m0   3  5  1  6
#   on m1   6  2  2  6
FLOW_TIMES = ((3, 6), (5, 2), (1, 2), (6, 6))
A, B, C, D = range(4)


def flow_shop():
    return job_shop("flow4", [(0, 1)] * 4, FLOW_TIMES)


def permutation_makespan(order: Sequence[int]) -> float:
    """The textbook recursion C1 = C1' + p1, C2 = max(C1, C2') + p2 of a permutation."""
    end_m0 = end_m1 = 0.0
    for job in order:
        end_m0 += FLOW_TIMES[job][0]
        end_m1 = max(end_m0, end_m1) + FLOW_TIMES[job][1]
    return end_m1


def test_flow_shop_fifo_trace_by_hand():
    # FIFO keeps the list order A B C D on both machines:
    #   m0: A 0-3, B 3-8, C 8-9, D 9-15
    #   m1: A 3-9 (A done on m0 at 3), B 9-11, C 11-13, D 15-21 (D done on m0 at 15)
    # makespan 21; m1 idles 0-3 and 13-15.
    factory = drive(Factory(flow_shop(), seed=0))
    assert trace(factory, "start", "complete") == [
        (0, "start", 0, A),
        (3.0, "complete", 0, A),
        (3.0, "start", 0, B),
        (3.0, "start", 1, A),
        (8.0, "complete", 0, B),
        (8.0, "start", 0, C),
        (9.0, "complete", 1, A),  # same-time events in the order they were scheduled
        (9.0, "complete", 0, C),
        (9.0, "start", 0, D),
        (9.0, "start", 1, B),
        (11.0, "complete", 1, B),
        (11.0, "start", 1, C),
        (13.0, "complete", 1, C),
        (15.0, "complete", 0, D),
        (15.0, "start", 1, D),
        (21.0, "complete", 1, D),
    ]
    assert factory.kpis().makespan == 21.0
    check_schedule(factory)


def test_johnsons_rule_reaches_the_optimum():
    # Johnson (1954): jobs with p1 < p2 first by increasing p1 (C 1, A 3), then the
    # others by decreasing p2 (D 6, B 2): C A D B.
    #   m0: C 0-1, A 1-4, D 4-10, B 10-15
    #   m1: C 1-3, A 4-10, D 10-16, B 16-18   -> makespan 18
    johnson = [C, A, D, B]
    factory = drive(Factory(flow_shop(), seed=0), priority_chooser(johnson))
    assert starts(factory) == {
        (C, 0): 0,
        (A, 0): 1.0,
        (D, 0): 4.0,
        (B, 0): 10.0,
        (C, 1): 1.0,
        (A, 1): 4.0,
        (D, 1): 10.0,
        (B, 1): 16.0,
    }
    assert factory.kpis().makespan == 18.0
    check_schedule(factory)
    # Permutation schedules are optimal for F2||Cmax: 18 is the best of all 24 orders,
    # and the factory agrees with the recursion on every one of them.
    makespans = {}
    for order in itertools.permutations(range(4)):
        run = drive(Factory(flow_shop(), seed=0), priority_chooser(order))
        makespans[order] = run.kpis().makespan
        assert makespans[order] == permutation_makespan(order), order
    assert min(makespans.values()) == 18.0 == permutation_makespan(johnson)
    # Trivial bound: m1 load 16 after the shortest head 1 (C on m0): 17 <= 18.
    assert lower_bound(flow_shop()) == 17.0


def reference_fifo(
    machines: Sequence[Sequence[int]], durations: Sequence[Sequence[int]]
) -> tuple[int, dict[tuple[int, int], int]]:
    """An independent non-delay FIFO job-shop simulator with an integer clock.

    Ticks the clock one unit at a time. At each tick, operations ending now complete in
    the order they were started, and each job joins the queue of its next machine;
    then every idle machine, lowest index first, starts the head of its queue. (The
    factory orders same-time completions the same way: by when they were scheduled.)

    Returns:
        The makespan and the start time of each ``(job, operation)``.
    """
    n_jobs = len(machines)
    n_machines = 1 + max(max(row) for row in machines)
    queues: list[list[int]] = [[] for _ in range(n_machines)]
    for job in range(n_jobs):
        queues[machines[job][0]].append(job)
    next_op = [0] * n_jobs
    # machine -> (end tick, start sequence number, job)
    running: dict[int, tuple[int, int, int]] = {}
    started: dict[tuple[int, int], int] = {}
    sequence = 0
    clock = 0
    while len(started) < sum(len(row) for row in machines) or running:
        ending = sorted(
            (seq, machine, job) for machine, (end, seq, job) in running.items() if end == clock
        )
        for _, machine, job in ending:
            del running[machine]
            next_op[job] += 1
            if next_op[job] < len(machines[job]):
                queues[machines[job][next_op[job]]].append(job)
        for machine in range(n_machines):
            if machine not in running and queues[machine]:
                job = queues[machine].pop(0)
                started[(job, next_op[job])] = clock
                running[machine] = (clock + durations[job][next_op[job]], sequence, job)
                sequence += 1
        clock += 1
    return clock - 1, started


def test_ft06_fifo_agrees_with_an_independent_reference():
    reference_makespan, reference_starts = reference_fifo(FT06_MACHINES, FT06_DURATIONS)
    factory = drive(Factory(ft06(), seed=0), fifo)
    assert starts(factory) == reference_starts
    assert factory.kpis().makespan == reference_makespan == 61
    check_schedule(factory)


def test_ft06_lower_bound_by_hand():
    # Longest job: j1, 8+5+10+10+10+4 = 47.
    # Machine 4 runs j0 6, j1 10, j2 7, j3 8, j4 5, j5 4: load 40. Heads (work before it):
    # j0 20, j1 13, j2 27, j3 18, j4 9+3 = 12, j5 25 -> 12; tails: j0 and j2 end there -> 0.
    # Bound 12 + 40 + 0 = 52 (no other machine does better: m5 6 + 43 + 0 = 49).
    loads = [0] * 6
    for row_m, row_d in zip(FT06_MACHINES, FT06_DURATIONS, strict=True):
        for machine, duration in zip(row_m, row_d, strict=True):
            loads[machine] += duration
    assert loads == [40, 26, 26, 22, 40, 43]
    assert lower_bound(ft06()) == 52.0 <= FT06_OPTIMUM


def test_ft06_random_dispatching_never_beats_the_optimum():
    spec = ft06()
    bound = lower_bound(spec)
    rng = np.random.default_rng(20240607)
    choose = random_chooser(rng)
    factory = Factory(spec, seed=0)
    makespans = []
    for rollout in range(2000):
        factory.reset(seed=0)
        drive(factory, choose)
        makespans.append(factory.kpis().makespan)
        if rollout % 250 == 0:
            check_schedule(factory)
    assert min(makespans) >= FT06_OPTIMUM >= bound
    # Non-delay random dispatching finds good schedules, and different ones.
    assert min(makespans) <= 61.0
    assert len(set(makespans)) > 10


@pytest.mark.parametrize("order", [(0, 1, 2, 3, 4, 5), (5, 4, 3, 2, 1, 0), (2, 0, 4, 1, 5, 3)])
def test_ft06_priority_orders_respect_the_optimum(order):
    factory = drive(Factory(ft06(), seed=0), priority_chooser(order))
    check_schedule(factory)
    assert factory.kpis().makespan >= FT06_OPTIMUM


# An optimal ft06 schedule (makespan 55) as the job order on each machine, found
# once with CP-SAT. The semi-active schedule it induces waits on purpose, which the
# factory allows through Factory.defer().
FT06_OPTIMAL_ORDERS = (
    (0, 3, 2, 5, 1, 4),
    (1, 3, 5, 0, 4, 2),
    (2, 0, 1, 4, 3, 5),
    (2, 5, 3, 0, 1, 4),
    (1, 4, 3, 5, 2, 0),
    (2, 5, 1, 4, 0, 3),
)


def semi_active_makespan(
    machines: Sequence[Sequence[int]],
    durations: Sequence[Sequence[int]],
    orders: Sequence[Sequence[int]],
) -> int:
    """Each operation starts when both its job and its machine (in ``orders``) are free.

    Sweeps the operations until all are placed (the orders must be consistent).
    """
    position = {(m, job): k for m, order in enumerate(orders) for k, job in enumerate(order)}
    end: dict[tuple[int, int], int] = {}  # (job, op) -> end
    machine_end: dict[tuple[int, int], int] = {}  # (machine, position) -> end
    while len(end) < sum(len(row) for row in machines):
        for job, row in enumerate(machines):
            for op, machine in enumerate(row):
                if (job, op) in end:
                    continue
                k = position[(machine, job)]
                job_ready = end.get((job, op - 1), 0 if op == 0 else None)
                machine_ready = machine_end.get((machine, k - 1), 0 if k == 0 else None)
                if job_ready is None or machine_ready is None:
                    continue
                end[(job, op)] = max(job_ready, machine_ready) + durations[job][op]
                machine_end[(machine, k)] = end[(job, op)]
                break
    return max(end.values())


def test_ft06_optimal_schedule_replayed_with_deferrals():
    assert semi_active_makespan(FT06_MACHINES, FT06_DURATIONS, FT06_OPTIMAL_ORDERS) == 55
    factory = replay_machine_orders(Factory(ft06(), seed=0), FT06_OPTIMAL_ORDERS)
    assert factory.kpis().makespan == FT06_OPTIMUM == 55.0
    for machine, order in enumerate(FT06_OPTIMAL_ORDERS):
        assert [
            e.job for e in factory.event_log() if e.kind == "start" and e.machine == machine
        ] == list(order)
    check_schedule(factory)  # the deferrals are inferred and excuse the waiting
    # The optimum waits on purpose: it is not a non-delay schedule.
    assert factory.decisions > 36
    with pytest.raises(ScheduleViolation, match="stays idle"):
        check_schedule(factory, non_delay=True)
