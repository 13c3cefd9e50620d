"""KPIs against numbers worked out by hand."""

from __future__ import annotations

import pytest

from shopfloor.sim import (
    BreakdownSpec,
    Constant,
    Factory,
    FactorySpec,
    JobSpec,
    MachineSpec,
    MaterialSpec,
    OperationSpec,
)
from shopfloor.sim._checks import check_schedule

from ._helpers import drive, starts


def two_machines() -> FactorySpec:
    #        route                 release  due  weight
    # J0     m0 2, then m1 3        0        6    2
    # J1     m1 4, then m0 1        0        5    1
    # J2     m0 3, then m1 2        1       10    3
    return FactorySpec(
        name="kpis",
        machines=(MachineSpec("m0"), MachineSpec("m1")),
        jobs=(
            JobSpec(
                routing=(OperationSpec.on(0, 2.0), OperationSpec.on(1, 3.0)),
                due_date=6.0,
                weight=2.0,
            ),
            JobSpec(
                routing=(OperationSpec.on(1, 4.0), OperationSpec.on(0, 1.0)),
                due_date=5.0,
                weight=1.0,
            ),
            JobSpec(
                routing=(OperationSpec.on(0, 3.0), OperationSpec.on(1, 2.0)),
                release_time=1.0,
                due_date=10.0,
                weight=3.0,
            ),
        ),
    )


def test_kpis_of_a_small_job_shop_by_hand():
    # FIFO:  m0: J0 0-2, J2 2-5, J1 5-6        m1: J1 0-4, J0 4-7, J2 7-9
    factory = drive(Factory(two_machines(), seed=0))
    assert starts(factory) == {
        (0, 0): 0,
        (1, 0): 0,
        (2, 0): 2.0,
        (0, 1): 4.0,
        (1, 1): 5.0,
        (2, 1): 7.0,
    }
    assert [factory.completion_time(j) for j in range(3)] == [7.0, 6.0, 9.0]
    kpis = factory.kpis()
    assert kpis.time == kpis.makespan == 9.0
    assert (kpis.jobs_released, kpis.jobs_completed) == (3, 3)
    # Flow times: J0 7 - 0 = 7, J1 6 - 0 = 6, J2 9 - 1 = 8.
    assert kpis.mean_flow_time == 7.0
    assert kpis.mean_weighted_flow_time == pytest.approx((2 * 7 + 1 * 6 + 3 * 8) / 6)
    # Tardiness: J0 7 - 6 = 1, J1 6 - 5 = 1, J2 on time.
    assert kpis.total_tardiness == 2.0
    assert kpis.total_weighted_tardiness == 2 * 1 + 1 * 1
    assert kpis.mean_weighted_tardiness == 3.0 / 3
    assert kpis.max_tardiness == 1.0
    assert kpis.tardy_jobs == 2
    # Busy: m0 2 + 3 + 1 = 6, m1 4 + 3 + 2 = 9, over the makespan 9.
    assert kpis.machine_utilisation == (6 / 9, 1.0)
    assert kpis.utilisation == pytest.approx((6 / 9 + 1.0) / 2)
    # Open jobs: J0 over [0, 7], J1 over [0, 6], J2 over [1, 9]: area 21 over 9.
    assert kpis.mean_wip == pytest.approx(21 / 9)
    assert (kpis.fill_rate, kpis.total_cost, kpis.setups, kpis.decisions) == (1.0, 0.0, 0, 6)
    assert "machine_utilisation" not in kpis.as_dict()
    check_schedule(factory)


def test_kpis_midway_count_running_work_up_to_now():
    factory = Factory(two_machines(), seed=0)
    while factory.now < 4.0:
        assert factory.next_decision()
        machine = factory.decision_machine()
        factory.start(factory.queue(machine)[0], machine)
    # At t=4, before m1's next start: m0 has done J0 (2) and 2 of J2's 3; m1 J1 (4).
    kpis = factory.kpis()
    assert factory.now == 4.0
    assert kpis.jobs_completed == 0
    assert kpis.makespan == 0.0
    # WIP: J0 and J1 over [0, 4], J2 over [1, 4]: 11 / 4.
    assert kpis.mean_wip == 11 / 4
    # Busy time over time elapsed: m0 ran J0 0-2 and J2 2-4, m1 ran J1 0-4. Regression:
    # without a horizon it used to divide by the makespan so far (0 here).
    assert kpis.machine_utilisation == (1.0, 1.0)
    check_schedule(factory)


def test_utilisation_up_to_the_horizon():
    # One operation of 10 from 0; the horizon stops the episode at 4.
    spec = FactorySpec(
        name="cut",
        machines=(MachineSpec("m0"), MachineSpec("m1")),
        jobs=(JobSpec(routing=(OperationSpec.on(0, 10.0),)),),
        horizon=4.0,
    )
    factory = drive(Factory(spec, seed=0))
    kpis = factory.kpis()
    assert (kpis.time, kpis.jobs_completed, kpis.makespan) == (4.0, 0, 0.0)
    assert kpis.machine_utilisation == (1.0, 0.0)
    assert kpis.mean_wip == 1.0
    check_schedule(factory)


def test_utilisation_leaves_out_downtime():
    # 10 units from 0; up 4, down 3: busy 0-4, down 4-7, busy 7-8 at the horizon 8.
    spec = FactorySpec(
        name="down",
        machines=(MachineSpec("m0", breakdown=BreakdownSpec(Constant(4.0), Constant(3.0))),),
        jobs=(JobSpec(routing=(OperationSpec.on(0, 10.0),)),),
        horizon=8.0,
    )
    factory = drive(Factory(spec, seed=0))
    assert factory.kpis().machine_utilisation == (5.0 / 8.0,)
    check_schedule(factory)
    # Stopped while down (horizon 6): busy 0-4 only.
    spec = FactorySpec(
        name="down",
        machines=spec.machines,
        jobs=spec.jobs,
        horizon=6.0,
    )
    factory = drive(Factory(spec, seed=0))
    assert factory.kpis().machine_utilisation == (4.0 / 6.0,)
    check_schedule(factory)


def test_material_holding_and_ordering_costs():
    # Steel 3 on hand, reorder point 2, order 4 (cost 2.5) with lead time 5, holding 0.5.
    # A takes 2 at 0 (stock 1, one order); the receipt at 5 brings 5; B takes 2 at 5;
    # B ends at 6. Stock 1 over [0, 5), 3 over [5, 6]: area 8, holding 4.
    spec = FactorySpec(
        name="steel",
        machines=(MachineSpec("m0"),),
        materials=(
            MaterialSpec("steel", 3.0, 2.0, 4.0, Constant(5.0), holding_cost=0.5, order_cost=2.5),
        ),
        jobs=(
            JobSpec(routing=(OperationSpec((0,), (1.0,), ((0, 2.0),)),)),
            JobSpec(routing=(OperationSpec((0,), (1.0,), ((0, 2.0),)),)),
        ),
    )
    factory = drive(Factory(spec, seed=0))
    kpis = factory.kpis()
    assert kpis.time == 6.0
    assert kpis.holding_cost == 0.5 * 8
    assert kpis.ordering_cost == 2.5
    assert kpis.total_cost == 4.0 + 2.5
    # B waited 1-5 for steel: m0 busy 2 of 6.
    assert kpis.utilisation == 2 / 6
    check_schedule(factory)


def test_utilisation_is_never_negative():
    # Released at 0.1, 0.2 of work; measured the instant it starts, the busy time is
    # 0.2 - ((0.1 + 0.2) - 0.1) = -2.8e-17. Regression: it was reported below 0.
    spec = FactorySpec(
        name="ulp",
        machines=(MachineSpec("m0"),),
        jobs=(JobSpec(routing=(OperationSpec.on(0, 0.2),), release_time=0.1),),
        horizon=10.0,
    )
    factory = Factory(spec, seed=0)
    assert factory.next_decision()
    factory.start(0, 0)
    assert factory.kpis().machine_utilisation[0] >= 0.0


def test_makespan_property_is_the_kpi_at_every_decision() -> None:
    """``Factory.makespan`` is ``kpis().makespan``: 0.0 before a job ends, then the last end."""
    factory = Factory(two_machines(), seed=0)
    seen = []
    while factory.next_decision():
        assert factory.makespan == factory.kpis().makespan
        seen.append(factory.makespan)
        machine = factory.decision_machine()
        factory.start(factory.queue(machine)[0], machine)
    assert seen[0] == 0.0
    assert factory.makespan == factory.kpis().makespan == 9.0
    assert isinstance(factory.makespan, float)
