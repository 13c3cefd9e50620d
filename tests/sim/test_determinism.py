"""Same seed, same trajectory; and common random numbers across policies."""

from __future__ import annotations

import numpy as np
import pytest

from shopfloor.sim import (
    ArrivalSpec,
    BreakdownSpec,
    Choice,
    DemandSpec,
    Exponential,
    Factory,
    FactorySpec,
    Gamma,
    LogNormal,
    MachineSpec,
    MaterialSpec,
    OperationSpec,
    ProductionSpec,
    ProductSpec,
    RandomRoutingSpec,
    SetupSpec,
    Shock,
    Triangular,
    Uniform,
    Weibull,
)
from shopfloor.sim._checks import check_schedule

from ._helpers import drive, fifo, random_chooser, random_production


def machines(count: int) -> tuple[MachineSpec, ...]:
    return tuple(
        MachineSpec(
            f"m{i}",
            setup=SetupSpec.uniform(2, 1.5, cost=2.0) if i % 2 == 0 else None,
            breakdown=BreakdownSpec(Weibull(1.5, 40.0 + 10 * i), Exponential(3.0)),
        )
        for i in range(count)
    )


def dynamic_job_shop() -> FactorySpec:
    """A dynamic shop like the bundled scenarios: arrivals, breakdowns, material, demand."""
    return FactorySpec(
        name="dynamic",
        machines=machines(4),
        products=(
            ProductSpec(
                "gear",
                (
                    OperationSpec((0, 1), (Uniform(2, 4), Gamma(3.0, 1.0)), ((0, 1.0),)),
                    OperationSpec.on(2, Exponential(2.5)),
                    OperationSpec.on(3, Triangular(1, 2, 4)),
                ),
                family=0,
                demand=DemandSpec(rate=0.3, season_length=10, amplitude=0.5),
                holding_cost=0.2,
                backorder_cost=1.0,
            ),
            ProductSpec(
                "shaft",
                (
                    OperationSpec.on(1, LogNormal(3.0, 1.0)),
                    OperationSpec((0, 2), (2.0, 2.5), ((1, 2.0),)),
                ),
                family=1,
            ),
        ),
        arrivals=ArrivalSpec(
            interarrival=Exponential(4.0),
            product_mix=(0.6, 0.4),
            due_date_tightness=Uniform(1.5, 4.0),
            weight=Choice((1.0, 2.0, 4.0), (0.5, 0.3, 0.2)),
            max_jobs=60,
        ),
        materials=(
            MaterialSpec("steel", 4.0, 3.0, 8.0, Exponential(5.0), holding_cost=0.05),
            MaterialSpec("bar", 6.0, 4.0, 10.0, Exponential(8.0), order_cost=3.0),
        ),
        horizon=400.0,
    )


def random_routing_shop() -> FactorySpec:
    return FactorySpec(
        name="random-routing",
        machines=machines(5),
        arrivals=ArrivalSpec(
            interarrival=Exponential(2.0),
            random_routing=RandomRoutingSpec(2, 4, Uniform(1, 5, integer=True)),
            until=150.0,
        ),
    )


def production_shop() -> FactorySpec:
    return FactorySpec(
        name="production",
        machines=machines(2),
        products=(
            ProductSpec(
                "a",
                (OperationSpec.on(0, Exponential(1.0)), OperationSpec.on(1, 0.5)),
                family=0,
                demand=DemandSpec(rate=1.2, shocks=(Shock(20, 30, 2.0),)),
                backorder_cost=2.0,
                holding_cost=0.5,
            ),
            ProductSpec(
                "b",
                (OperationSpec.on(0, 0.8),),
                family=1,
                demand=DemandSpec(rate=2.0, occurrence=0.3),
                initial_stock=5.0,
            ),
        ),
        production=ProductionSpec(0, lot_sizes=(1, 3, 6), idle_time=1.0),
        horizon=120.0,
    )


SPECS = [dynamic_job_shop, random_routing_shop, production_shop]


def run(spec: FactorySpec, seed: int, policy_seed: int | None, **options: bool) -> Factory:
    """Random dispatching and production from ``policy_seed`` (FIFO when None)."""
    rng = np.random.default_rng(policy_seed)
    choose = fifo if policy_seed is None else random_chooser(rng)
    return drive(Factory(spec, seed=seed, **options), choose, random_production(rng))


@pytest.mark.parametrize("make_spec", SPECS, ids=lambda f: f.__name__)
def test_same_seed_same_trajectory(make_spec):
    spec = make_spec()
    first = run(spec, seed=11, policy_seed=5)
    second = run(spec, seed=11, policy_seed=5)
    assert len(first.log) > 50
    assert first.log == second.log
    assert first.kpis() == second.kpis()
    assert first.demand_history == second.demand_history
    check_schedule(first)


@pytest.mark.parametrize("make_spec", SPECS, ids=lambda f: f.__name__)
def test_reset_replays_and_logging_does_not_change_the_run(make_spec):
    spec = make_spec()
    factory = run(spec, seed=7, policy_seed=1)
    log, kpis = list(factory.log), factory.kpis()
    factory.reset(seed=7)
    drive(
        factory,
        random_chooser(np.random.default_rng(1)),
        random_production(np.random.default_rng(1)),
    )
    assert factory.log == log
    silent = run(spec, seed=7, policy_seed=1, record_events=False)
    assert silent.log == []
    assert silent.kpis().as_dict() == {**kpis.as_dict(), "events": 0}


@pytest.mark.parametrize("make_spec", SPECS, ids=lambda f: f.__name__)
def test_different_seeds_different_trajectories(make_spec):
    spec = make_spec()
    logs = {tuple(run(spec, seed=seed, policy_seed=5).log) for seed in range(4)}
    assert len(logs) == 4


def exogenous(factory: Factory) -> dict[str, list[tuple[float, ...]]]:
    """What the world does regardless of the policy."""
    log = factory.event_log()
    return {
        "releases": [(e.time, e.job) for e in log if e.kind == "release"],
        "breakdowns": [(e.time, e.machine, e.value) for e in log if e.kind == "breakdown"],
        "repairs": [(e.time, e.machine) for e in log if e.kind == "repair"],
        "demand": [(e.time, e.operation, e.value) for e in log if e.kind == "demand"],
    }


@pytest.mark.parametrize("make_spec", [dynamic_job_shop, random_routing_shop])
def test_common_random_numbers_across_policies(make_spec):
    spec = make_spec()
    fifo_run = run(spec, seed=3, policy_seed=None)
    random_run = run(spec, seed=3, policy_seed=99)
    assert fifo_run.log != random_run.log  # the policies do differ ...
    fifo_world, random_world = exogenous(fifo_run), exogenous(random_run)
    assert len(fifo_world["releases"]) > 20
    assert len(fifo_world["breakdowns"]) > 5
    # ... but face the same arrivals, failures, repairs and demand, up to the end of
    # the shorter episode (without a horizon they end when the last job is done).
    end = min(fifo_run.now, random_run.now)
    for key, events in fifo_world.items():
        assert [e for e in events if e[0] < end] == [e for e in random_world[key] if e[0] < end], (
            key
        )
    # Same jobs: the same due dates and weights.
    assert [fifo_run.due_date(j) for j in range(fifo_run.n_jobs)] == [
        random_run.due_date(j) for j in range(random_run.n_jobs)
    ]
    assert [fifo_run.weight(j) for j in range(fifo_run.n_jobs)] == [
        random_run.weight(j) for j in range(random_run.n_jobs)
    ]
    check_schedule(fifo_run)
    check_schedule(random_run)


def test_common_random_numbers_in_make_to_stock():
    spec = production_shop()
    one = run(spec, seed=8, policy_seed=1)
    other = run(spec, seed=8, policy_seed=2)
    assert one.log != other.log
    assert one.demand_history == other.demand_history
    assert exogenous(one)["demand"] == exogenous(other)["demand"]
    assert exogenous(one)["breakdowns"] == exogenous(other)["breakdowns"]
