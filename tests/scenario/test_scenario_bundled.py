"""Every bundled scenario loads, and says what its header and comments promise."""

from __future__ import annotations

import dataclasses

import pytest

from shopfloor.scenario import Scenario, bundled_scenarios, load_scenario, scenario_path
from shopfloor.sim import FactorySpec, mean_duration

EXPECTED = {
    "dynamic_job_shop",
    "dynamic_job_shop_small",
    "dynamic_job_shop_waves",
    "flow_shop_small",
    "intermittent_demand",
    "production_inventory",
    "stress_large",
}


def test_the_expected_scenarios_are_bundled() -> None:
    assert set(bundled_scenarios()) >= EXPECTED


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bundled_scenario_loads(name: str) -> None:
    scenario = load_scenario(name)
    assert isinstance(scenario, Scenario)
    assert isinstance(scenario.factory, FactorySpec)
    assert scenario.name == name == scenario.factory.name
    assert scenario.description
    assert scenario.path == scenario_path(name)
    assert "objective" in scenario.env


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bundled_file_opens_with_a_comment_block(name: str) -> None:
    text = scenario_path(name).read_text(encoding="utf-8")
    assert text.startswith("# ")


def _makespan_in_list_order(factory: FactorySpec) -> float:
    """Permutation flow shop recursion: C[j][m] = max(C[j-1][m], C[j][m-1]) + p[j][m]."""
    finish = [0.0] * len(factory.machines)
    for job in factory.jobs:
        assert job.routing is not None
        ready = job.release_time
        for stage, operation in enumerate(job.routing):
            assert operation.machines == (stage,)
            ready = max(ready, finish[stage]) + mean_duration(operation.durations[0])
            finish[stage] = ready
    return finish[-1]


def test_flow_shop_small_is_the_hand_computed_flow_shop() -> None:
    factory = load_scenario("flow_shop_small").factory
    assert factory.is_static
    assert [m.name for m in factory.machines] == ["M1", "M2"]
    assert [job.name for job in factory.jobs] == ["J1", "J2", "J3", "J4", "J5"]
    assert _makespan_in_list_order(factory) == 33  # the value in the file's comment
    johnson = [factory.jobs[i] for i in (2, 3, 4, 1, 0)]  # J3 J4 J5 J2 J1
    assert (
        _makespan_in_list_order(
            FactorySpec(name="j", machines=factory.machines, jobs=tuple(johnson))
        )
        == 24
    )


def test_dynamic_job_shop_shape() -> None:
    factory = load_scenario("dynamic_job_shop").factory
    assert len(factory.machines) == 6
    assert factory.arrivals is not None and factory.arrivals.max_jobs == 200
    assert len(factory.products) == 4
    assert sum(m.breakdown is not None for m in factory.machines) >= 2
    assert sum(m.setup is not None for m in factory.machines) == 1
    assert len(factory.materials) == 1
    assert any(op.materials for p in factory.products for op in p.routing)
    # ~85-90% utilisation at the bottleneck, allowing for breakdowns.
    arrivals = factory.arrivals
    total = sum(arrivals.product_mix)
    load = [0.0] * len(factory.machines)
    for share, product in zip(arrivals.product_mix, factory.products, strict=True):
        for op in product.routing:
            load[op.machines[0]] += share / total * mean_duration(op.durations[0])
    utilisation = []
    for machine, work in zip(factory.machines, load, strict=True):
        availability = 1.0
        if machine.breakdown is not None:
            up = machine.breakdown.time_to_failure.mean
            availability = up / (up + machine.breakdown.repair_time.mean)
        utilisation.append(work / availability / arrivals.interarrival.mean)
    assert 0.85 <= max(utilisation) <= 0.90


def test_dynamic_job_shop_small_is_small() -> None:
    factory = load_scenario("dynamic_job_shop_small").factory
    assert len(factory.machines) == 4
    assert factory.arrivals is not None and factory.arrivals.max_jobs == 50


def test_dynamic_job_shop_waves_is_dynamic_job_shop_in_waves() -> None:
    waves = load_scenario("dynamic_job_shop_waves").factory
    base = load_scenario("dynamic_job_shop").factory
    assert waves.arrivals is not None and base.arrivals is not None
    profile = waves.arrivals.rate_profile
    assert profile is not None and profile.segment == 150 and profile.factors == (0.5, 1.5)
    assert profile.mean_factor == 1.0  # the same long-run load as the base shop
    same_arrivals = dataclasses.replace(waves.arrivals, rate_profile=None)
    assert dataclasses.replace(waves, name=base.name, arrivals=same_arrivals) == base


def test_production_inventory_shape() -> None:
    factory = load_scenario("production_inventory").factory
    assert factory.production is not None
    assert factory.production.lot_sizes == (5, 10, 20)
    assert factory.horizon == 520 and factory.demand_period == 1.0
    assert len(factory.products) == 3
    assert all(p.demand is not None and p.demand.season_length == 52 for p in factory.products)
    press = factory.machines[factory.production.machine]
    assert press.setup is not None and len(press.setup.times) == 3
    assert [p.family for p in factory.products] == [0, 1, 2]


def test_intermittent_demand_shape() -> None:
    factory = load_scenario("intermittent_demand").factory
    assert all(p.demand is not None and p.demand.occurrence == 0.3 for p in factory.products)
    assert factory.backorders is False


def test_stress_large_is_large() -> None:
    factory = load_scenario("stress_large").factory
    assert len(factory.machines) >= 50
    assert factory.arrivals is not None
    assert factory.arrivals.max_jobs is not None and factory.arrivals.max_jobs >= 2000
    assert factory.arrivals.random_routing is not None
    assert all(m.breakdown == factory.machines[0].breakdown for m in factory.machines)
