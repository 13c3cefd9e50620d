"""Exact event traces of small factories (SimPy style: record, then compare in full)."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator

import pytest

from shopfloor.sim import (
    BreakdownSpec,
    Constant,
    DeadlockError,
    DecisionError,
    DemandSpec,
    Factory,
    FactorySpec,
    JobSpec,
    MachineSpec,
    MaterialSpec,
    OperationSpec,
    ProductionSpec,
    ProductSpec,
    SetupSpec,
)
from shopfloor.sim._checks import check_schedule

from ._helpers import drive, trace

UNIT_DEMAND = DemandSpec(rate=1.0, occurrence=1.0 - 1e-12)
"""Exactly one unit per period: intermittent demand of size 1 + Poisson(0), which
occurs unless a uniform draw lands in the last 1e-12 of [0, 1)."""


def one_machine(*jobs: JobSpec, **machine: object) -> FactorySpec:
    return FactorySpec(name="one", machines=(MachineSpec("m0", **machine),), jobs=jobs)


def op(duration: float, machine: int = 0) -> tuple[OperationSpec, ...]:
    return (OperationSpec.on(machine, duration),)


def decisions(factory: Factory, produce=None) -> list[tuple[float, str]]:
    """Drive FIFO (and ``produce``: a list of choices, None meaning idle) and record
    ``(time, kind)`` of every decision."""
    choices = list(produce or [])
    seen = []
    while factory.next_decision():
        kind = factory.decision_kind()
        assert kind is not None
        seen.append((factory.now, kind))
        if kind == "dispatch":
            machine = factory.decision_machine()
            factory.start(factory.queue(machine)[0], machine)
        else:
            choice = choices.pop(0)
            if choice is None:
                factory.idle()
            else:
                factory.produce(*choice)
    return seen


# ---------------------------------------------------------------- breakdowns


def test_breakdown_interrupts_an_operation_which_resumes_after_repair():
    # Up for 4, down for 3, forever. A (6) runs 0-4, is held through the repair 4-7,
    # finishes its last 2 units 7-9. B, released at 5 while m0 is down holding A, waits
    # for A: 9-10.5. The next failure (11) comes after the end.
    spec = one_machine(
        JobSpec(routing=op(6.0)),
        JobSpec(routing=op(1.5), release_time=5.0),
        breakdown=BreakdownSpec(Constant(4.0), Constant(3.0)),
    )
    factory = Factory(spec, seed=0)
    assert decisions(factory) == [(0, "dispatch"), (9.0, "dispatch")]
    assert trace(factory) == [
        (0, "release", -1, 0),
        (0, "start", 0, 0),
        (4.0, "breakdown", 0, 0),
        (5.0, "release", -1, 1),
        (7.0, "repair", 0, 0),
        (9.0, "complete", 0, 0),
        (9.0, "finish", -1, 0),
        (9.0, "start", 0, 1),
        (10.5, "complete", 0, 1),
        (10.5, "finish", -1, 1),
    ]
    assert [e.value for e in factory.event_log() if e.kind in ("breakdown", "repair")] == [3, 3]
    kpis = factory.kpis()
    assert kpis.makespan == 10.5
    assert kpis.utilisation == pytest.approx(7.5 / 10.5)  # downtime is not busy time
    check_schedule(factory)


def test_an_operation_sits_through_two_breakdowns():
    # 10 units of work: 0-4 (4 done), down 4-7, 7-11 (8 done), down 11-14, 14-16.
    spec = one_machine(
        JobSpec(routing=op(10.0)), breakdown=BreakdownSpec(Constant(4.0), Constant(3.0))
    )
    factory = drive(Factory(spec, seed=0))
    assert trace(factory) == [
        (0, "release", -1, 0),
        (0, "start", 0, 0),
        (4.0, "breakdown", 0, 0),
        (7.0, "repair", 0, 0),
        (11.0, "breakdown", 0, 0),
        (14.0, "repair", 0, 0),
        (16.0, "complete", 0, 0),
        (16.0, "finish", -1, 0),
    ]
    assert factory.kpis().machine_utilisation == (10.0 / 16.0,)
    check_schedule(factory)


def test_a_job_released_to_a_broken_idle_machine_starts_at_the_repair():
    spec = one_machine(
        JobSpec(routing=op(1.0), release_time=3.0),
        breakdown=BreakdownSpec(Constant(2.0), Constant(3.0)),
    )
    factory = Factory(spec, seed=0)
    assert decisions(factory) == [(5.0, "dispatch")]
    assert trace(factory) == [
        (2.0, "breakdown", 0, -1),
        (3.0, "release", -1, 0),
        (5.0, "repair", 0, -1),
        (5.0, "start", 0, 0),
        (6.0, "complete", 0, 0),
        (6.0, "finish", -1, 0),
    ]
    check_schedule(factory)


def two_machines_second_breaks_at_3() -> FactorySpec:
    # Job: 3 on m0, then 1 on m1. m1 fails at t=3 (for 2), the instant the job joins
    # its queue.
    return FactorySpec(
        name="tie",
        machines=(
            MachineSpec("m0"),
            MachineSpec("m1", breakdown=BreakdownSpec(Constant(3.0), Constant(2.0))),
        ),
        jobs=(JobSpec(routing=(OperationSpec.on(0, 3.0), OperationSpec.on(1, 1.0))),),
    )


def test_a_machine_that_fails_the_instant_work_arrives_starts_it_after_repair():
    factory = drive(Factory(two_machines_second_breaks_at_3(), seed=0))
    assert trace(factory) == [
        (0, "release", -1, 0),
        (0, "start", 0, 0),
        (3.0, "complete", 0, 0),
        (3.0, "breakdown", 1, -1),
        (5.0, "repair", 1, -1),
        (5.0, "start", 1, 0),
        (6.0, "complete", 1, 0),
        (6.0, "finish", -1, 0),
    ]
    check_schedule(factory)


def test_next_decision_true_means_a_choice_is_due():
    # Regression: the completion at 3 made m1 due and triggered the decision event;
    # m1's failure, processed in the same instant before that event, took the choice
    # away, and next_decision() returned True with nothing due.
    factory = Factory(two_machines_second_breaks_at_3(), seed=0)
    while factory.next_decision():
        assert factory.decision_kind() is not None, (
            f"t={factory.now}: next_decision() returned True, no choice is due"
        )
        machine = factory.decision_machine()
        factory.start(factory.queue(machine)[0], machine)
    assert factory.completion_time(0) == 6.0


def test_a_breakdown_at_the_completion_instant_does_not_delay_the_operation():
    # Released at 2, 2 units of work: done at 4, when m0 also fails (for 3). The
    # failure's event was scheduled first (at 0, the operation's at 2), yet the work is
    # complete at 4. Regression: it used to be held, with 0 work left, until 7.
    spec = one_machine(
        JobSpec(routing=op(2.0), release_time=2.0),
        breakdown=BreakdownSpec(Constant(4.0), Constant(3.0)),
    )
    factory = drive(Factory(spec, seed=0))
    assert trace(factory) == [
        (2.0, "release", -1, 0),
        (2.0, "start", 0, 0),
        (4.0, "complete", 0, 0),
        (4.0, "finish", -1, 0),
        (4.0, "breakdown", 0, -1),
    ]
    check_schedule(factory)


# ---------------------------------------------------------------- raw materials


def test_an_operation_waits_for_material_then_starts_on_receipt():
    # Steel: 3 on hand, reorder point 2, order 4, lead time 5. A and B need 2 each.
    # A starts at 0 (3 -> 1, position 1 <= 2: order 4, logged before A's start);
    # B waits with 1 on hand (no decision at 1 when A completes); the 4 arrive at 5
    # (stock 5); B starts (5 -> 3, position 3 > 2: no order).
    spec = FactorySpec(
        name="steel",
        machines=(MachineSpec("m0"),),
        materials=(MaterialSpec("steel", 3.0, 2.0, 4.0, Constant(5.0)),),
        jobs=(
            JobSpec(routing=(OperationSpec((0,), (1.0,), ((0, 2.0),)),)),
            JobSpec(routing=(OperationSpec((0,), (1.0,), ((0, 2.0),)),)),
        ),
    )
    factory = Factory(spec, seed=0)
    assert factory.queue(0) == [0, 1]
    assert decisions(factory) == [(0, "dispatch"), (5.0, "dispatch")]
    assert trace(factory) == [
        (0, "release", -1, 0),
        (0, "release", -1, 1),
        (0, "order", -1, 0),
        (0, "start", 0, 0),
        (1.0, "complete", 0, 0),
        (1.0, "finish", -1, 0),
        (5.0, "receive", -1, 0),
        (5.0, "start", 0, 1),
        (6.0, "complete", 0, 1),
        (6.0, "finish", -1, 1),
    ]
    assert [e.value for e in factory.event_log() if e.kind in ("order", "receive")] == [4, 4]
    assert factory.material_stock == [3.0]
    assert factory.material_on_order == [0.0]
    check_schedule(factory)


def test_a_job_needing_a_lot_times_the_material_per_unit():
    # Quantity 3 x 1 unit of material each: needs 3, has 2 -> waits for an order.
    spec = FactorySpec(
        name="lot",
        machines=(MachineSpec("m0"),),
        materials=(MaterialSpec("resin", 2.0, 2.0, 5.0, Constant(1.5)),),
        jobs=(JobSpec(routing=(OperationSpec((0,), (0.5,), ((0, 1.0),)),), quantity=3),),
    )
    factory = drive(Factory(spec, seed=0))
    assert trace(factory) == [
        (0, "release", -1, 0),
        (0, "order", -1, 0),  # position 2 <= 2 at t=0
        (1.5, "receive", -1, 0),
        (1.5, "start", 0, 0),
        (3.0, "complete", 0, 0),  # 3 units x 0.5
        (3.0, "finish", -1, 0),
    ]
    assert factory.material_stock == [4.0]
    check_schedule(factory)


def test_material_starvation_is_a_deadlock_not_a_silent_end():
    # 3 on hand, reorder point 0: A takes 2, leaving 1 > 0, so nothing is ordered and
    # B (needs 2) can never start. Regression: the episode used to end, done, with B
    # unfinished.
    spec = FactorySpec(
        name="starved",
        machines=(MachineSpec("m0"),),
        materials=(MaterialSpec("steel", 3.0, 0.0, 5.0, Constant(6.0)),),
        jobs=(
            JobSpec(routing=(OperationSpec((0,), (2.0,), ((0, 2.0),)),)),
            JobSpec(routing=(OperationSpec((0,), (1.0,), ((0, 2.0),)),)),
        ),
    )
    factory = Factory(spec, seed=0)
    with pytest.raises(DeadlockError, match=r"job 1 at machine 0: needs 2 steel \(on hand 1\)"):
        drive(factory)
    assert not factory.done
    assert (factory.now, factory.material_stock, factory.waiting_jobs(0)) == (2.0, [1.0], [1])
    check_schedule(factory)


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise TimeoutError in the main thread after ``seconds`` of wall time."""

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_material_starvation_with_breakdowns_is_a_deadlock_too():
    # As above, with m0 failing every 50 for 1. Regression: the failures kept the event
    # queue from emptying, and simulated time ran on for ever.
    spec = FactorySpec(
        name="starved",
        machines=(MachineSpec("m0", breakdown=BreakdownSpec(Constant(50.0), Constant(1.0))),),
        materials=(MaterialSpec("steel", 3.0, 0.0, 5.0, Constant(6.0)),),
        jobs=(
            JobSpec(routing=(OperationSpec((0,), (2.0,), ((0, 2.0),)),)),
            JobSpec(routing=(OperationSpec((0,), (1.0,), ((0, 2.0),)),)),
        ),
    )
    factory = Factory(spec, seed=0, record_events=False)  # a hang must not eat memory
    with time_limit(1.0), pytest.raises(DeadlockError, match="job 1 at machine 0"):
        drive(factory)
    assert factory.now == 2.0


def test_a_job_released_into_starvation_is_a_deadlock():
    # One job, released at 1, needs 2 steel with 1 on hand and nothing on order (the
    # position 1 is above the reorder point 0). m0 fails every 2 for 1.
    spec = FactorySpec(
        name="starved",
        machines=(MachineSpec("m0", breakdown=BreakdownSpec(Constant(2.0), Constant(1.0))),),
        materials=(MaterialSpec("steel", 1.0, 0.0, 5.0, Constant(6.0)),),
        jobs=(JobSpec(routing=(OperationSpec((0,), (1.0,), ((0, 2.0),)),), release_time=1.0),),
    )
    factory = Factory(spec, seed=0, record_events=False)  # a hang must not eat memory
    with time_limit(1.0), pytest.raises(DeadlockError, match="job 0 at machine 0: needs 2 steel"):
        drive(factory)


def test_starvation_noticed_while_its_machine_is_down_is_a_deadlock():
    # A (2.5 on m1) ends at 2.5 while m0, where starved B waits, is down (2-3): the
    # stall check after A's completion sees a down machine with a queue and passes.
    spec = FactorySpec(
        name="starved",
        machines=(
            MachineSpec("m0", breakdown=BreakdownSpec(Constant(2.0), Constant(1.0))),
            MachineSpec("m1"),
        ),
        materials=(MaterialSpec("steel", 1.0, 0.0, 5.0, Constant(6.0)),),
        jobs=(
            JobSpec(routing=(OperationSpec.on(1, 2.5),)),
            JobSpec(routing=(OperationSpec((0,), (1.0,), ((0, 2.0),)),)),
        ),
    )
    factory = Factory(spec, seed=0, record_events=False)  # a hang must not eat memory
    with time_limit(1.0), pytest.raises(DeadlockError, match="job 1 at machine 0: needs 2 steel"):
        drive(factory)


# ---------------------------------------------------------------- setups


def test_sequence_dependent_setups_are_logged_as_the_start_value():
    # Families a=0 (1 time unit), b=1 (2 units); setup a->b 2, b->a 3, cost 5.
    # FIFO: a 0-1 | setup 2 + b 1-5 | b 5-7 | setup 3 + a 7-11 | no-family job 11-12
    # (leaves the machine set for a) | setup 2 + b 12-16.
    spec = FactorySpec(
        name="setups",
        machines=(MachineSpec("m0", setup=SetupSpec(((0, 2), (3, 0)), cost=5.0)),),
        products=(
            ProductSpec("a", op(1.0), family=0),
            ProductSpec("b", op(2.0), family=1),
        ),
        jobs=(
            JobSpec(product=0),
            JobSpec(product=1),
            JobSpec(product=1),
            JobSpec(product=0),
            JobSpec(routing=op(1.0)),
            JobSpec(product=1),
        ),
    )
    factory = drive(Factory(spec, seed=0))
    assert [(e.time, e.job, e.value) for e in factory.event_log() if e.kind == "start"] == [
        (0, 0, 0),
        (1.0, 1, 2),
        (5.0, 2, 0),
        (7.0, 3, 3),
        (11.0, 4, 0),
        (12.0, 5, 2),
    ]
    assert [(e.time, e.job) for e in factory.event_log() if e.kind == "complete"] == [
        (1.0, 0),
        (5.0, 1),
        (7.0, 2),
        (11.0, 3),
        (12.0, 4),
        (16.0, 5),
    ]
    kpis = factory.kpis()
    assert (kpis.setups, kpis.setup_cost, kpis.makespan, kpis.utilisation) == (3, 15.0, 16.0, 1.0)
    check_schedule(factory)


def test_setup_time_reads_the_next_setup():
    spec = FactorySpec(
        name="setups",
        machines=(MachineSpec("m0", setup=SetupSpec.uniform(2, 4.0)),),
        products=(ProductSpec("a", op(1.0), family=0), ProductSpec("b", op(1.0), family=1)),
        jobs=(JobSpec(product=0), JobSpec(product=1), JobSpec(product=0)),
    )
    factory = Factory(spec, seed=0)
    assert factory.next_decision()
    assert [factory.setup_time(j, 0) for j in range(3)] == [0.0, 0.0, 0.0]  # nothing set up
    factory.start(0, 0)
    assert factory.next_decision()
    assert factory.now == 1.0
    assert [factory.setup_time(j, 0) for j in (1, 2)] == [4.0, 0.0]


# ---------------------------------------------------------------- make-to-stock


def make_to_stock(backorders: bool) -> FactorySpec:
    return FactorySpec(
        name="mts",
        machines=(MachineSpec("m0"),),
        products=(
            ProductSpec(
                "a",
                op(1.0),
                demand=UNIT_DEMAND,
                holding_cost=1.0,
                backorder_cost=0.5,
                lost_sale_cost=4.0,
            ),
        ),
        production=ProductionSpec(machine=0, lot_sizes=(2, 4), idle_time=1.5),
        horizon=8.5,
        backorders=backorders,
    )


def test_make_to_stock_with_backorders():
    # One unit demanded at t = 1, 2, ... Lot of 4 at 0 (done at 4); demands 1-3 are
    # backordered; at 4 the lot ships the 3 backordered units (before the demand of 4,
    # scheduled later), the demand of 4 ships from the last unit; idle 4-5.5;
    # demand 5 backordered; lot of 2 5.5-7.5; demands 6, 7 backordered; at 7.5 the lot
    # ships 2 of the 3 waiting; lot of 2 from 7.5 (still running at the horizon);
    # demand 8 backordered. Backlog at the end: 2.
    factory = Factory(make_to_stock(backorders=True), seed=3)
    assert decisions(factory, [(0, 4), None, (0, 2), (0, 2)]) == [
        (0, "produce"),
        (4.0, "produce"),
        (5.5, "produce"),
        (7.5, "produce"),
    ]
    assert [(e.time, e.kind, e.job, e.value) for e in factory.event_log()] == [
        (0, "produce", 0, 0),
        (0, "release", 0, 4),
        (0, "start", 0, 0),
        (1.0, "demand", -1, 1),
        (1.0, "backorder", -1, 1),
        (2.0, "demand", -1, 1),
        (2.0, "backorder", -1, 1),
        (3.0, "demand", -1, 1),
        (3.0, "backorder", -1, 1),
        (4.0, "complete", 0, 0),
        (4.0, "finish", 0, 0),
        (4.0, "ship", -1, 3),
        (4.0, "demand", -1, 1),
        (4.0, "ship", -1, 1),
        (4.0, "idle", -1, 1.5),
        (5.0, "demand", -1, 1),
        (5.0, "backorder", -1, 1),
        (5.5, "produce", 1, 0),
        (5.5, "release", 1, 2),
        (5.5, "start", 1, 0),
        (6.0, "demand", -1, 1),
        (6.0, "backorder", -1, 1),
        (7.0, "demand", -1, 1),
        (7.0, "backorder", -1, 1),
        (7.5, "complete", 1, 0),
        (7.5, "finish", 1, 0),
        (7.5, "ship", -1, 2),
        (7.5, "produce", 2, 0),
        (7.5, "release", 2, 2),
        (7.5, "start", 2, 0),
        (8.0, "demand", -1, 1),
        (8.0, "backorder", -1, 1),
    ]
    assert factory.done and factory.now == 8.5
    assert factory.finished_goods == [0]
    assert factory.backlog == [2.0]
    assert factory.demand_history == [[1] * 8]
    kpis = factory.kpis()
    # Backlog 1,2,3 over [1,4); 0 over [4,5); 1,2 over [5,7); 3 over [7,7.5);
    # 1 over [7.5,8); 2 over [8,8.5]: area 1+2+3+0+1+2+1.5+0.5+1 = 12, cost 0.5 -> 6.
    assert kpis.backorder_cost == 6.0
    assert kpis.holding_cost == 0.0  # finished goods never stay on hand
    assert kpis.fill_rate == 1 / 8
    assert kpis.utilisation == 7.0 / 8.5  # busy 0-4 and 5.5-8.5
    assert kpis.mean_wip == 7.0 / 8.5  # one lot open over 0-4, 5.5-8.5
    assert kpis.decisions == 4
    check_schedule(factory)


def test_make_to_stock_with_lost_sales():
    # Same decisions. Demands 1-3 are lost; from 4 every demand ships from stock:
    # stock 3 [4,5), 2 [5,6), 1 [6,7), 0 [7,7.5), 2 [7.5,8), 1 [8,8.5].
    factory = Factory(make_to_stock(backorders=False), seed=3)
    decisions(factory, [(0, 4), None, (0, 2), (0, 2)])
    shortages = [(e.time, e.kind, e.value) for e in factory.event_log() if e.kind == "lost"]
    assert shortages == [(1.0, "lost", 1), (2.0, "lost", 1), (3.0, "lost", 1)]
    ships = [(e.time, e.value) for e in factory.event_log() if e.kind == "ship"]
    assert ships == [(4.0, 1), (5.0, 1), (6.0, 1), (7.0, 1), (8.0, 1)]
    assert factory.finished_goods == [1]
    assert factory.backlog == [0.0]
    kpis = factory.kpis()
    assert kpis.holding_cost == 3 + 2 + 1 + 0 + 1 + 0.5
    assert kpis.lost_sales_cost == 3 * 4.0
    assert kpis.backorder_cost == 0.0
    assert kpis.fill_rate == 5 / 8
    check_schedule(factory)


def test_production_choices_are_refused_when_not_due():
    factory = Factory(make_to_stock(backorders=True), seed=0)
    assert factory.next_decision() and factory.decision_kind() == "produce"
    factory.produce(0, 2)
    assert factory.machine_busy(0)
    with pytest.raises(DecisionError, match="no production choice is due"):
        factory.produce(0, 2)
    with pytest.raises(DecisionError, match="no production choice is due"):
        factory.idle()


def flexible_production() -> FactorySpec:
    # Production on m1; a planned job J can run on m0 or m1 (5 either way).
    return FactorySpec(
        name="flex",
        machines=(MachineSpec("m0"), MachineSpec("m1")),
        products=(ProductSpec("a", (OperationSpec((0, 1), (1.0, 1.0)),)),),
        jobs=(JobSpec(routing=(OperationSpec((0, 1), (5.0, 5.0)),)),),
        production=ProductionSpec(machine=1, lot_sizes=(1,), idle_time=10.0),
        horizon=20.0,
    )


def test_production_choice_is_due_once_the_queue_is_taken_elsewhere():
    # At 0, J waits at m0 and m1; the controller starts it on m0 (lowest index). m1 is
    # then idle with an empty queue: a production choice is due at 0. Regression: it
    # only came at 5, when J completed.
    factory = Factory(flexible_production(), seed=0)
    assert decisions(factory, [None, None]) == [(0, "dispatch"), (0, "produce"), (10.0, "produce")]
    check_schedule(factory)


def stale_production() -> FactorySpec:
    # Production on m0; a planned job visits m1 (1) then m0 (3), released at 1.
    return FactorySpec(
        name="stale",
        machines=(MachineSpec("m0"), MachineSpec("m1")),
        products=(ProductSpec("a", op(1.0)),),
        jobs=(
            JobSpec(routing=(OperationSpec.on(1, 1.0), OperationSpec.on(0, 3.0)), release_time=1.0),
        ),
        production=ProductionSpec(machine=0, lot_sizes=(1,), idle_time=2.0),
        horizon=10.0,
    )


def test_no_production_choice_while_the_production_machine_is_busy():
    # Idle 0-2. At 2 the idle ends (production due) and the job joins m0's queue; FIFO
    # starts it on m0 (2-5). The production choice must not be offered before 5.
    # Regression: it stayed due and was offered at 2 with m0 busy.
    factory = Factory(stale_production(), seed=0)
    seen = []
    choices = [None, (0, 1), (0, 1), (0, 1), (0, 1), (0, 1), (0, 1)]
    while factory.next_decision():
        kind = factory.decision_kind()
        seen.append((factory.now, kind))
        if kind == "produce":
            assert not factory.machine_busy(0), f"produce offered at t={factory.now}, m0 busy"
            choice = choices.pop(0)
            if choice is None:
                factory.idle()
            else:
                factory.produce(*choice)
        else:
            machine = factory.decision_machine()
            factory.start(factory.queue(machine)[0], machine)
    assert seen[:4] == [(0, "produce"), (1.0, "dispatch"), (2.0, "dispatch"), (5.0, "produce")]
    check_schedule(factory)
