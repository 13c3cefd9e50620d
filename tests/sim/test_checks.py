"""The checker itself: it passes good schedules and names what is wrong in bad ones."""

from __future__ import annotations

import dataclasses
import re

import pytest

from shopfloor.sim import (
    ArrivalSpec,
    BreakdownSpec,
    Constant,
    DemandSpec,
    Exponential,
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
from shopfloor.sim._checks import ScheduleViolation, check_schedule, lower_bound

from ._helpers import drive, ft06, job_shop


def flow_shop() -> Factory:
    # A: 3 then 6, B: 5 then 2 (m0 then m1), FIFO:
    # 0 rel A, 0 rel B, 0 start m0 A, 3 complete m0 A, 3 start m0 B, 3 start m1 A,
    # 8 complete m0 B, 9 complete m1 A, 9 finish A, 9 start m1 B, 11 complete m1 B, ...
    return drive(Factory(job_shop("flow", [(0, 1), (0, 1)], [(3, 6), (5, 2)]), seed=0))


def index_of(factory: Factory, time: float, kind: str, machine: int, job: int) -> int:
    for index, (t, k, m, j, _, _) in enumerate(factory.log):
        if (t, k, m, j) == (time, kind, machine, job):
            return index
    raise LookupError((time, kind, machine, job))


def replace(factory: Factory, index: int, **changes: float) -> None:
    fields = ("time", "kind", "machine", "job", "operation", "value")
    entry = dict(zip(fields, factory.log[index], strict=True))
    entry.update(changes)
    factory.log[index] = tuple(entry[f] for f in fields)  # type: ignore[assignment]


def test_a_good_schedule_passes():
    check_schedule(flow_shop())


def test_time_going_back():
    factory = flow_shop()
    replace(factory, index_of(factory, 8.0, "complete", 0, 1), time=2.0)
    with pytest.raises(ScheduleViolation, match=re.escape("time goes back from 3.0 to 2.0")):
        check_schedule(factory)


def test_two_operations_at_once_on_a_machine():
    factory = flow_shop()
    # B starts on m0 at 3 while A still runs there: A's completion moved to 4.
    replace(factory, index_of(factory, 3.0, "complete", 0, 0), time=4.0)
    factory.log.sort(key=lambda e: e[0])
    with pytest.raises(ScheduleViolation, match="starts job 1 while it holds job 0"):
        check_schedule(factory)


def test_routing_order():
    factory = flow_shop()
    # A's second operation claimed as operation 0 again.
    replace(factory, index_of(factory, 3.0, "start", 1, 0), operation=0)
    with pytest.raises(ScheduleViolation, match="starts operation 0, its next is 1"):
        check_schedule(factory)


def test_wrong_machine():
    factory = drive(Factory(job_shop("two", [(0,), (1,)], [(2,), (2,)]), seed=0))
    replace(factory, index_of(factory, 0, "start", 1, 1), machine=0)
    with pytest.raises(ScheduleViolation, match=r"runs on machine 0, not one of \(1,\)"):
        check_schedule(factory)


def test_start_before_release():
    spec = FactorySpec(
        name="late",
        machines=(MachineSpec("m0"),),
        jobs=(JobSpec(routing=(OperationSpec.on(0, 1.0),), release_time=4.0),),
    )
    factory = drive(Factory(spec, seed=0))
    assert [e[:2] for e in factory.log] == [
        (4.0, "release"),
        (4.0, "start"),
        (5.0, "complete"),
        (5.0, "finish"),
    ]
    factory.log.insert(0, (2.0, "start", 0, 0, 0, 0.0))
    del factory.log[2]
    with pytest.raises(ScheduleViolation, match="job 0 starts before its release"):
        check_schedule(factory)


def test_release_time_from_the_spec():
    spec = FactorySpec(
        name="late",
        machines=(MachineSpec("m0"),),
        jobs=(JobSpec(routing=(OperationSpec.on(0, 1.0),), release_time=4.0),),
    )
    factory = drive(Factory(spec, seed=0))
    replace(factory, 0, time=3.0)
    with pytest.raises(
        ScheduleViolation, match=re.escape("released at t=3.0, its release time is 4.0")
    ):
        check_schedule(factory)


def test_processing_time():
    factory = flow_shop()
    replace(factory, index_of(factory, 9.0, "complete", 1, 0), time=8.5)
    factory.log.sort(key=lambda e: e[0])
    with pytest.raises(
        ScheduleViolation, match=re.escape("took 5.5 on machine 1; setup + processing 6")
    ):
        check_schedule(factory)


def test_non_delay():
    factory = flow_shop()
    # Without A's start on m1 at 3, m1 would idle while A waits for it.
    del factory.log[index_of(factory, 3.0, "start", 1, 0)]
    factory.decisions -= 1
    with pytest.raises(
        ScheduleViolation, match=re.escape("machine 1 stays idle after t=3.0 while job 0")
    ):
        check_schedule(factory)


def broken_machine() -> Factory:
    spec = FactorySpec(
        name="broken",
        machines=(MachineSpec("m0", breakdown=BreakdownSpec(Constant(4.0), Constant(3.0))),),
        jobs=(
            JobSpec(routing=(OperationSpec.on(0, 6.0),)),
            JobSpec(routing=(OperationSpec.on(0, 1.5),), release_time=5.0),
        ),
    )
    return drive(Factory(spec, seed=0))


def test_breakdowns_hold_the_job():
    factory = broken_machine()
    check_schedule(factory)
    # Claim the repair let job 1 in while job 0 was held.
    factory.log.insert(index_of(factory, 5.0, "release", -1, 1) + 1, (5.0, "start", 0, 1, 0, 0.0))
    factory.decisions += 1
    with pytest.raises(ScheduleViolation, match="starts job 1 while down"):
        check_schedule(factory)


def test_a_breakdown_must_name_the_held_job():
    factory = broken_machine()
    replace(factory, index_of(factory, 4.0, "breakdown", 0, 0), job=-1)
    with pytest.raises(
        ScheduleViolation, match="breakdown of machine 0 logs job -1, it holds job 0"
    ):
        check_schedule(factory)


def test_repair_time_must_match():
    factory = broken_machine()
    replace(factory, index_of(factory, 7.0, "repair", 0, 0), time=6.0)
    with pytest.raises(
        ScheduleViolation, match=re.escape("down at t=4.0 for 3.0 is repaired at t=6.0")
    ):
        check_schedule(factory)


def test_setups():
    spec = FactorySpec(
        name="setups",
        machines=(MachineSpec("m0", setup=SetupSpec(((0, 2), (3, 0)))),),
        products=(
            ProductSpec("a", (OperationSpec.on(0, 1.0),), family=0),
            ProductSpec("b", (OperationSpec.on(0, 1.0),), family=1),
        ),
        jobs=(JobSpec(product=0), JobSpec(product=1)),
    )
    factory = drive(Factory(spec, seed=0))
    replace(factory, index_of(factory, 1.0, "start", 0, 1), value=3.0)
    with pytest.raises(ScheduleViolation, match=r"setup of 3\.0 logged, .* gives 2"):
        check_schedule(factory)


def steel_shop() -> Factory:
    spec = FactorySpec(
        name="steel",
        machines=(MachineSpec("m0"),),
        materials=(MaterialSpec("steel", 3.0, 2.0, 4.0, Constant(5.0)),),
        jobs=(
            JobSpec(routing=(OperationSpec((0,), (1.0,), ((0, 2.0),)),)),
            JobSpec(routing=(OperationSpec((0,), (1.0,), ((0, 2.0),)),)),
        ),
    )
    return drive(Factory(spec, seed=0))


def test_material_never_negative():
    factory = steel_shop()
    # B starting at 1, before the receipt of 5: 1 on hand, needs 2.
    start_b = factory.log.pop(index_of(factory, 5.0, "start", 0, 1))
    factory.log.insert(index_of(factory, 1.0, "finish", -1, 0) + 1, (1.0, *start_b[1:]))
    with pytest.raises(ScheduleViolation, match="material 0 stock goes negative"):
        check_schedule(factory)


def test_material_conservation_against_the_factory():
    factory = steel_shop()
    factory._stock[0] += 1.0
    with pytest.raises(
        ScheduleViolation, match=r"initial 3.0 \+ received - consumed = 3.0, the factory holds 4.0"
    ):
        check_schedule(factory)


def test_reorder_point():
    factory = steel_shop()
    factory._on_order[0] -= 4.0
    del factory.log[index_of(factory, 0, "order", -1, 0)]
    factory.log.remove((5.0, "receive", -1, 0, -1, 4.0))
    factory._stock[0] -= 4.0
    with pytest.raises(ScheduleViolation, match="at or below the reorder point"):
        check_schedule(factory)


def make_to_stock(backorders: bool = True) -> Factory:
    spec = FactorySpec(
        name="mts",
        machines=(MachineSpec("m0"),),
        products=(
            ProductSpec(
                "a",
                (OperationSpec.on(0, 1.0),),
                demand=DemandSpec(rate=1.0, occurrence=1.0 - 1e-12),
                backorder_cost=1.0,
            ),
        ),
        production=ProductionSpec(machine=0, lot_sizes=(4,), idle_time=1.5),
        horizon=8.5,
        backorders=backorders,
    )
    choices = iter([(0, 4), None, (0, 4)])
    return drive(Factory(spec, seed=0), produce=lambda factory: next(choices))


def test_shipments_from_backlog():
    factory = make_to_stock()
    check_schedule(factory)
    index = index_of(factory, 4.0, "ship", -1, -1)
    replace(factory, index, value=2.0)
    with pytest.raises(
        ScheduleViolation, match=re.escape("shipped 2.0 from a backlog of 3.0 with 4.0 on hand")
    ):
        check_schedule(factory)


def test_demand_accounted_in_full():
    factory = make_to_stock()
    del factory.log[index_of(factory, 2.0, "backorder", -1, -1)]
    with pytest.raises(
        ScheduleViolation,
        match=re.escape("demand of 1.0 for product 0 at t=2.0 was shipped 0.0 and short 0.0"),
    ):
        check_schedule(factory)


def test_lost_sales_are_not_backorders():
    factory = make_to_stock(backorders=False)
    check_schedule(factory)
    replace(factory, index_of(factory, 1.0, "lost", -1, -1), kind="backorder")
    with pytest.raises(ScheduleViolation, match="backorder logged with backorders=False"):
        check_schedule(factory)


def test_finished_goods_against_the_factory():
    factory = make_to_stock()
    factory._fg[0] += 1
    with pytest.raises(
        ScheduleViolation,
        match=r"product 0: initial 0.0 \+ produced 4.0 - shipped 4.0 = 0.0, the factory holds 1.0",
    ):
        check_schedule(factory)


def test_production_choice_while_idling():
    factory = make_to_stock()
    produce = [i for i, e in enumerate(factory.log) if e[1] == "produce"][1]
    idle = index_of(factory, 4.0, "idle", 0, -1)
    for index in range(produce, produce + 3):
        replace(factory, index, time=5.0)
    factory.log.sort(key=lambda e: e[0])
    assert idle < produce
    with pytest.raises(ScheduleViolation, match=re.escape("produced while idling until 5.5")):
        check_schedule(factory)


def test_kpis_are_recomputed(monkeypatch):
    factory = flow_shop()
    true = factory.kpis()
    monkeypatch.setattr(factory, "kpis", lambda: dataclasses.replace(true, makespan=12.0))
    with pytest.raises(
        ScheduleViolation, match=re.escape("KPI makespan = 12.0, the log gives 11.0")
    ):
        check_schedule(factory)


def test_final_machine_state_against_the_factory():
    factory = flow_shop()
    finish = index_of(factory, 11.0, "finish", -1, 1)
    del factory.log[finish - 1 : finish + 1]
    with pytest.raises(ScheduleViolation, match="machine 1 holds job -1, the log says 1"):
        check_schedule(factory)


def test_needs_an_event_log():
    factory = drive(Factory(ft06(), seed=0, record_events=False))
    with pytest.raises(ValueError, match="record_events=True"):
        check_schedule(factory)


def test_lower_bound_needs_fixed_numeric_jobs():
    machines = (MachineSpec("m0"),)
    random_times = FactorySpec(
        name="random",
        machines=machines,
        jobs=(JobSpec(routing=(OperationSpec.on(0, Exponential(1.0)),)),),
    )
    with pytest.raises(ValueError, match=r"jobs\[0\] operation 0 has random processing times"):
        lower_bound(random_times)
    arrivals = FactorySpec(
        name="arrivals",
        machines=machines,
        products=(ProductSpec("a", (OperationSpec.on(0, 1.0),)),),
        arrivals=ArrivalSpec(Exponential(1.0), product_mix=(1.0,), max_jobs=3),
    )
    with pytest.raises(ValueError, match="fixed job list"):
        lower_bound(arrivals)
    constant = FactorySpec(
        name="constant",
        machines=machines,
        jobs=(JobSpec(routing=(OperationSpec.on(0, Constant(2.5)),), quantity=2),),
    )
    assert lower_bound(constant) == 5.0


def test_lower_bound_by_hand():
    # Job 0: released at 2, 3 on m0 then 4 on m1 (or 1 on m2): 2 + 3 + 1 = 6.
    # Job 1: 5 on m1, quantity 2 -> 10. m1 load counts only single-machine ops: 10,
    # head 0, tail 0. Bound max(6, 10) = 10.
    spec = FactorySpec(
        name="lb",
        machines=(MachineSpec("m0"), MachineSpec("m1"), MachineSpec("m2")),
        jobs=(
            JobSpec(
                routing=(OperationSpec.on(0, 3.0), OperationSpec((1, 2), (4.0, 1.0))),
                release_time=2.0,
            ),
            JobSpec(routing=(OperationSpec.on(1, 5.0),), quantity=2),
        ),
    )
    assert lower_bound(spec) == 10.0
    assert drive(Factory(spec, seed=0)).kpis().makespan == 10.0


def test_decisions_missing_from_the_log():
    factory = flow_shop()
    factory.decisions -= 1
    with pytest.raises(ScheduleViolation, match="the factory counts 3 decisions, the log shows 4"):
        check_schedule(factory)


def test_deferrals_excuse_idle_machines():
    # Two jobs on one machine: A (3) released at 0, B (1) at 1. The controller defers
    # at 0, so m0 idles while A waits; at 1 B joins the queue and the machine is due again.
    spec = FactorySpec(
        name="defer",
        machines=(MachineSpec("m0"),),
        jobs=(
            JobSpec(routing=(OperationSpec.on(0, 3.0),)),
            JobSpec(routing=(OperationSpec.on(0, 1.0),), release_time=1.0),
        ),
    )
    factory = Factory(spec, seed=0)
    assert factory.next_decision()
    factory.defer(0)
    drive(factory)
    assert [e[:4] for e in factory.log if e[1] == "start"] == [
        (1.0, "start", 0, 0),
        (4.0, "start", 0, 1),
    ]
    check_schedule(factory)  # a deferral is inferred from the decision count
    with pytest.raises(ScheduleViolation, match="machine 0 stays idle after t=0 while job 0"):
        check_schedule(factory, non_delay=True)
    factory.decisions -= 1  # as if nobody had deferred: the idle time is a fault
    with pytest.raises(ScheduleViolation, match="machine 0 stays idle after t=0 while job 0"):
        check_schedule(factory)
