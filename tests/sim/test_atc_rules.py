"""ATC and its job-shop slack (ATCJS), checked by hand."""

from __future__ import annotations

import math

import pytest

from shopfloor.sim import (
    DispatchingRule,
    Factory,
    FactorySpec,
    JobSpec,
    MachineSpec,
    OperationSpec,
    atc_log_indices,
    choose_job,
)


def _op(machine: int, time: float) -> OperationSpec:
    return OperationSpec(machines=(machine,), durations=(time,))


def _two_jobs_at_m0() -> Factory:
    """A (2 on m0, due 10) and B (2 on m0 then 6 on m1, due 12) wait at m0 at t=0.

    ATC's slack d - p - t: A 8, B 10, so A is more urgent. The job-shop slack
    d - t - W: A 10 - 2 = 8, B 12 - 8 = 4, so B is.
    """
    spec = FactorySpec(
        name="two_jobs",
        machines=(MachineSpec("m0"), MachineSpec("m1")),
        jobs=(
            JobSpec(routing=(_op(0, 2),), due_date=10),
            JobSpec(routing=(_op(0, 2), _op(1, 6)), due_date=12),
        ),
    )
    factory = Factory(spec, seed=0)
    factory.reset()
    assert factory.next_decision() and factory.decision_machine() == 0
    return factory


def test_atc_and_atcjs_log_indices_by_hand() -> None:
    factory = _two_jobs_at_m0()
    queue = factory.queue(0)
    assert queue == [0, 1]
    # w / p = 1 / 2 for both; k * mean p = 2 * 2 = 4.
    assert atc_log_indices(factory, 0, queue) == pytest.approx(
        [math.log(0.5) - 8 / 4, math.log(0.5) - 10 / 4]
    )
    assert atc_log_indices(factory, 0, queue, job_shop_slack=True) == pytest.approx(
        [math.log(0.5) - 8 / 4, math.log(0.5) - 4 / 4]
    )
    assert choose_job(DispatchingRule.ATC, factory, 0, queue) == 0
    assert choose_job(DispatchingRule.ATCJS, factory, 0, queue) == 1


def test_atc_of_jobs_without_due_dates_or_weight() -> None:
    spec = FactorySpec(
        name="no_due_dates",
        machines=(MachineSpec("m0"),),
        jobs=(JobSpec(routing=(_op(0, 4),), weight=2), JobSpec(routing=(_op(0, 1),), weight=0)),
    )
    factory = Factory(spec, seed=0)
    factory.reset()
    assert factory.next_decision()
    indices = atc_log_indices(factory, 0, factory.queue(0), job_shop_slack=True)
    assert indices == [pytest.approx(math.log(0.5)), -math.inf]  # WSPT: w / p
