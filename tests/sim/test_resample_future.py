"""Factory.resample_future: what is known at a choice stays, the rest is drawn afresh."""

from __future__ import annotations

import numpy as np
import pytest

from shopfloor.sim import (
    ArrivalSpec,
    BreakdownSpec,
    DecisionError,
    Exponential,
    Factory,
    FactorySpec,
    MachineSpec,
    OperationSpec,
    ProductSpec,
    Uniform,
)
from shopfloor.sim._checks import check_schedule
from shopfloor.sim.events import BREAKDOWN, RELEASE, REPAIR

from ._helpers import drive, fifo
from .test_determinism import dynamic_job_shop


def to_choice(factory: Factory, count: int) -> Factory:
    """FIFO through the first ``count`` choices; stops with the next one due."""
    for _ in range(count):
        assert factory.next_decision()
        machine = factory.decision_machine()
        factory.start(fifo(factory, machine, list(factory.queue(machine))), machine)
    assert factory.next_decision()
    return factory


def jobs_known(factory: Factory) -> list[tuple[list[float], float, float]]:
    return [
        (factory.routing_times(job), factory.due_date(job), factory.weight(job))
        for job in range(factory.n_jobs)
    ]


def later_events(factory: Factory, kinds: set[str], after: float) -> list[tuple[float, int]]:
    return [(event[0], event[2]) for event in factory.log if event[1] in kinds and event[0] > after]


def resampled(spec: FactorySpec, seed: int, at: int, future: int | None) -> Factory:
    """FIFO episode on ``seed``; the future redrawn from ``future`` at choice ``at``."""
    factory = to_choice(Factory(spec, seed=seed), at)
    if future is not None:
        factory.resample_future(future)
    return drive(factory)


def test_the_jobs_in_the_shop_keep_their_times_due_dates_and_weights():
    spec = dynamic_job_shop()
    factory = to_choice(Factory(spec, seed=3), 40)
    known = jobs_known(factory)
    factory.resample_future(99)
    drive(factory)
    assert jobs_known(factory)[: len(known)] == known
    original = drive(to_choice(Factory(spec, seed=3), 40))
    assert jobs_known(original)[: len(known)] == known
    assert jobs_known(original)[len(known) :] != jobs_known(factory)[len(known) :]


def test_same_future_seed_same_episode_and_other_seeds_differ():
    spec = dynamic_job_shop()
    first = resampled(spec, seed=3, at=40, future=7)
    again = resampled(spec, seed=3, at=40, future=7)
    other = resampled(spec, seed=3, at=40, future=8)
    assert first.log == again.log
    assert first.log != other.log
    assert first.kpis() == again.kpis()


@pytest.mark.parametrize("at", [0, 1, 25, 80])
def test_the_episode_still_has_every_arrival_once_and_a_valid_schedule(at):
    spec = dynamic_job_shop()
    assert spec.arrivals is not None and spec.arrivals.max_jobs == 60
    factory = resampled(spec, seed=5, at=at, future=at + 100)
    arrivals = [event for event in factory.log if event[1] == RELEASE]
    assert factory.done
    assert factory.n_jobs == len(arrivals) == 60
    check_schedule(factory)  # raises on any overlap, precedence or capacity violation


def test_resampling_before_the_first_choice_gives_another_episode_of_the_same_law():
    spec = dynamic_job_shop()
    factory = Factory(spec, seed=5)
    factory.resample_future(6)
    drive(factory)
    assert factory.n_jobs == 60
    assert factory.log != drive(Factory(spec, seed=5)).log


def breakdown_shop() -> FactorySpec:
    return FactorySpec(
        name="breakdowns",
        machines=(
            MachineSpec("a", breakdown=BreakdownSpec(Exponential(15.0), Uniform(4.0, 6.0))),
            MachineSpec("b", breakdown=BreakdownSpec(Exponential(15.0), Uniform(4.0, 6.0))),
        ),
        products=(ProductSpec("p", (OperationSpec.on(0, 2.0), OperationSpec.on(1, 2.0))),),
        arrivals=ArrivalSpec(interarrival=Exponential(3.0), product_mix=(1.0,), max_jobs=80),
    )


def test_a_repair_under_way_keeps_its_end_and_a_machine_up_gets_a_new_failure_time():
    spec = breakdown_shop()
    for seed in range(50):  # find a choice where exactly one machine is down
        factory = to_choice(Factory(spec, seed=seed), 10)
        up = [factory.machine_up(m) for m in range(2)]
        if up.count(False) == 1:
            break
    else:
        pytest.fail("no seed has a machine down at the 11th choice")
    down, running = up.index(False), up.index(True)
    now = factory.now
    factory.resample_future(1234)
    drive(factory)
    original = drive(to_choice(Factory(spec, seed=seed), 10))

    def first(log_of: Factory, kind: str, machine: int) -> float:
        return min(t for t, m in later_events(log_of, {kind}, now) if m == machine)

    assert first(factory, REPAIR, down) == first(original, REPAIR, down)
    assert first(factory, BREAKDOWN, running) != first(original, BREAKDOWN, running)


def test_the_wait_for_the_next_arrival_is_drawn_from_now():
    """Exponential interarrival times: from any instant the wait has the same mean (3)."""
    spec = breakdown_shop()
    waits = []
    for future in range(400):
        factory = to_choice(Factory(spec, seed=2), 30)
        now, arrived = factory.now, factory.n_jobs
        factory.resample_future(future)
        while factory.n_jobs == arrived and factory.next_decision():
            machine = factory.decision_machine()
            factory.start(factory.queue(machine)[0], machine)
        waits.append(factory.release_time(arrived) - now)
    assert len(set(waits)) == len(waits)
    assert np.mean(waits) == pytest.approx(3.0, rel=0.15)  # 400 draws: std error 5%


def test_a_finished_episode_cannot_be_resampled():
    factory = drive(Factory(dynamic_job_shop(), seed=1))
    with pytest.raises(DecisionError, match="the episode is over"):
        factory.resample_future(2)


def test_resampling_twice_at_one_choice_gives_the_last_seeds_future():
    spec = dynamic_job_shop()
    last_only = resampled(spec, seed=3, at=40, future=7)
    factory = to_choice(Factory(spec, seed=3), 40)
    factory.resample_future(5)
    factory.resample_future(7)
    assert drive(factory).log == last_only.log
    twice = to_choice(Factory(spec, seed=3), 40)
    twice.resample_future(7)
    twice.resample_future(7)
    assert drive(twice).log == last_only.log
