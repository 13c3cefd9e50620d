"""Names in a scenario become the right indices, and each field lands where it belongs."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml

from shopfloor.scenario import Scenario, load_scenario, parse_scenario
from shopfloor.sim import (
    ArrivalSpec,
    BreakdownSpec,
    Choice,
    Constant,
    DemandSpec,
    Exponential,
    FactorySpec,
    Gamma,
    JobSpec,
    LogNormal,
    MachineSpec,
    MaterialSpec,
    Normal,
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

JOB_SHOP = """
name: tiny
description: a tiny job shop
env: {objective: weighted_tardiness, nested: {keep: [1, 2]}}
families: [heavy, light]
machines:
  - lathe
  - name: mill
    setup:
      time: 5
      times: {light: {heavy: 7}}
      cost: 2
    breakdown:
      time_to_failure: {kind: weibull, shape: 1.5, scale: 100}
      repair_time: 4
  - drill
materials:
  - {name: steel, initial_stock: 10, reorder_point: 2, order_quantity: 20, lead_time: 3}
  - name: paint
    initial_stock: 5
    reorder_point: 1
    order_quantity: 8
    lead_time: {kind: uniform, low: 1, high: 3, integer: true}
    holding_cost: 0.5
    order_cost: 9
products:
  - name: gear
    family: light
    routing:
      - {machine: drill, duration: 3, materials: {paint: 2, steel: 1}}
      - {machines: [mill, lathe], durations: [{kind: exponential, mean: 4}, 6]}
  - name: axle
    family: heavy
    initial_stock: 2
    holding_cost: 1.5
    routing:
      - {machines: [lathe, drill], duration: {kind: normal, mean: 5, std: 1, min: 1}}
jobs:
  - {product: axle, due_date: 30, weight: 2, quantity: 3, name: first}
  - name: custom
    release_time: 4
    routing:
      - {machine: mill, duration: {kind: constant, value: 2}}
      - {machine: lathe, duration: {kind: triangular, low: 1, mode: 2, high: 4}}
arrivals:
  interarrival: {kind: lognormal, mean: 10, std: 2}
  product_mix: {gear: 0.75, axle: 0.25}
  due_date_tightness: {kind: gamma, shape: 2, scale: 1.5}
  weight: {kind: choice, values: [1, 2, 4], weights: [0.5, 0.3, 0.2]}
  until: 500
"""


def _parse(text: str) -> Scenario:
    return parse_scenario(yaml.safe_load(text))


def test_job_shop_resolves_to_the_exact_factory_spec() -> None:
    scenario = _parse(JOB_SHOP)
    expected = FactorySpec(
        name="tiny",
        machines=(
            MachineSpec(name="lathe"),
            MachineSpec(
                name="mill",
                # families: heavy = 0, light = 1 (the declared order, not first use)
                setup=SetupSpec(times=((0.0, 5.0), (7.0, 0.0)), cost=2.0),
                breakdown=BreakdownSpec(
                    time_to_failure=Weibull(shape=1.5, scale=100.0), repair_time=Constant(4.0)
                ),
            ),
            MachineSpec(name="drill"),
        ),
        materials=(
            MaterialSpec(
                name="steel",
                initial_stock=10.0,
                reorder_point=2.0,
                order_quantity=20.0,
                lead_time=Constant(3.0),
            ),
            MaterialSpec(
                name="paint",
                initial_stock=5.0,
                reorder_point=1.0,
                order_quantity=8.0,
                lead_time=Uniform(low=1.0, high=3.0, integer=True),
                holding_cost=0.5,
                order_cost=9.0,
            ),
        ),
        products=(
            ProductSpec(
                name="gear",
                family=1,
                routing=(
                    OperationSpec(machines=(2,), durations=(3.0,), materials=((1, 2.0), (0, 1.0))),
                    OperationSpec(machines=(1, 0), durations=(Exponential(mean_value=4.0), 6.0)),
                ),
            ),
            ProductSpec(
                name="axle",
                family=0,
                initial_stock=2.0,
                holding_cost=1.5,
                routing=(
                    OperationSpec(
                        machines=(0, 2),
                        durations=(Normal(mean_value=5.0, std=1.0, minimum=1.0),) * 2,
                    ),
                ),
            ),
        ),
        jobs=(
            JobSpec(product=1, due_date=30.0, weight=2.0, quantity=3, name="first"),
            JobSpec(
                name="custom",
                release_time=4.0,
                routing=(
                    OperationSpec.on(1, 2.0),  # {kind: constant} stays a plain number
                    OperationSpec.on(0, Triangular(low=1.0, mode=2.0, high=4.0)),
                ),
            ),
        ),
        arrivals=ArrivalSpec(
            interarrival=LogNormal(mean_value=10.0, std=2.0),
            product_mix=(0.75, 0.25),
            due_date_tightness=Gamma(shape=2.0, scale=1.5),
            weight=Choice(values=(1.0, 2.0, 4.0), weights=(0.5, 0.3, 0.2)),
            until=500.0,
        ),
    )
    assert scenario.factory == expected
    assert scenario.name == "tiny"
    assert scenario.description == "a tiny job shop"
    assert scenario.env == {"objective": "weighted_tardiness", "nested": {"keep": [1, 2]}}
    assert scenario.source == "<string>" and scenario.path is None and scenario.instance is None
    assert math.isinf(scenario.factory.jobs[1].due_date)
    assert isinstance(scenario.factory.jobs[1].routing[0].durations[0], float)  # type: ignore[index]


def test_families_default_to_first_use_and_products_without_one_are_their_own() -> None:
    scenario = _parse(
        """
name: families
machines:
  - name: press
    setup: {time: 1}
products:
  - {name: a, family: big, routing: [{machine: press, duration: 1}]}
  - {name: b, routing: [{machine: press, duration: 1}]}
  - {name: c, family: big, routing: [{machine: press, duration: 1}]}
jobs: [{product: c}]
"""
    )
    assert [p.family for p in scenario.factory.products] == [0, 1, 0]
    assert scenario.factory.machines[0].setup == SetupSpec.uniform(2, 1.0)


def test_random_routing_defaults_and_numbers_as_constants() -> None:
    factory = _parse(
        """
name: random
machines: [a, b, c]
arrivals:
  interarrival: 2
  random_routing: {min_operations: 1, max_operations: 3, duration: 5}
  max_jobs: 7
"""
    ).factory
    assert factory.arrivals == ArrivalSpec(
        interarrival=Constant(2.0),
        random_routing=RandomRoutingSpec(
            min_operations=1, max_operations=3, duration=Constant(5.0)
        ),
        max_jobs=7,
    )


def test_make_to_stock_with_demand_and_production() -> None:
    factory = _parse(
        """
name: mts
machines: [press, pack]
products:
  - name: x
    routing: [{machine: press, duration: 0.5}, {machine: pack, duration: 0.25}]
    backorder_cost: 3
    lost_sale_cost: 4
    demand:
      rate: 2
      amplitude: 0.5
      season_length: 12
      phase: 3
      trend: -0.01
      occurrence: 0.5
      shocks: [{start: 5, end: 8, multiplier: 1.5}]
production: {machine: press, lot_sizes: [2, 4], idle_time: 0.5}
demand_period: 2
horizon: 100
backorders: false
"""
    ).factory
    assert factory.products[0].demand == DemandSpec(
        rate=2.0,
        amplitude=0.5,
        season_length=12,
        phase=3.0,
        trend=-0.01,
        occurrence=0.5,
        shocks=(Shock(start=5, end=8, multiplier=1.5),),
    )
    assert factory.products[0].backorder_cost == 3.0
    assert factory.products[0].lost_sale_cost == 4.0
    assert factory.production == ProductionSpec(machine=0, lot_sizes=(2, 4), idle_time=0.5)
    assert (factory.demand_period, factory.horizon, factory.backorders) == (2.0, 100.0, False)


def test_load_scenario_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text(JOB_SHOP, encoding="utf-8")
    scenario = load_scenario(path)
    assert scenario.factory == _parse(JOB_SHOP).factory
    assert scenario.path == path and scenario.source == str(path)
    assert load_scenario(str(path)).factory == scenario.factory


def test_instance_scenario_wraps_a_benchmark_instance() -> None:
    pytest.importorskip("shopfloor.instances")
    scenario = _parse("name: ft06_static\ninstance: ft06\nenv: {objective: makespan}\n")
    factory = scenario.factory
    assert scenario.instance == "ft06"
    assert factory.name == "ft06_static"
    assert len(factory.machines) == 6
    assert len(factory.jobs) == 6
    assert factory.is_static


def test_top_level_x_keys_hold_yaml_anchors() -> None:
    factory = _parse(
        """
x-fast: &fast {machine: a, duration: 1}
name: anchors
machines: [a, b]
jobs:
  - routing: [*fast, {<<: *fast, machine: b}]
"""
    ).factory
    assert factory.jobs[0].routing == (OperationSpec.on(0, 1.0), OperationSpec.on(1, 1.0))
