"""Hypothesis strategies for random factories and the policies that drive them."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from hypothesis import strategies as st

from shopfloor.sim import (
    ArrivalSpec,
    BreakdownSpec,
    Constant,
    DemandSpec,
    Distribution,
    Exponential,
    Factory,
    FactorySpec,
    JobSpec,
    MachineSpec,
    MaterialSpec,
    OperationSpec,
    ProductionSpec,
    ProductSpec,
    RandomRoutingSpec,
    SetupSpec,
    Uniform,
    mean_duration,
)

from ._helpers import Chooser, fifo, random_chooser

MAX_QUANTITY = 3


def small_times() -> st.SearchStrategy[float]:
    """Integer times, so that events often coincide (ties are where bugs hide)."""
    return st.integers(0, 9).map(float)


def positive_distributions() -> st.SearchStrategy[Distribution]:
    return st.one_of(
        st.integers(1, 15).map(lambda v: Constant(float(v))),
        st.floats(1.0, 20.0).map(Exponential),
        st.integers(1, 10).map(lambda high: Uniform(1.0, float(high), integer=True)),
    )


@st.composite
def operations(
    draw: st.DrawFn,
    n_machines: int,
    n_materials: int,
    deterministic: bool,
    flexible: bool,
    machine_pool: tuple[int, ...] | None = None,
) -> OperationSpec:
    pool = machine_pool if machine_pool is not None else tuple(range(n_machines))
    width = draw(st.integers(1, min(3, len(pool)))) if flexible else 1
    machines = tuple(draw(st.permutations(pool))[:width])
    duration = (
        small_times() if deterministic else st.one_of(small_times(), positive_distributions())
    )
    durations = tuple(draw(duration) for _ in machines)
    materials: tuple[tuple[int, float], ...] = ()
    if n_materials and draw(st.booleans()):
        kinds = draw(st.lists(st.integers(0, n_materials - 1), min_size=1, max_size=2, unique=True))
        materials = tuple((k, float(draw(st.integers(1, 3)))) for k in kinds)
    return OperationSpec(machines, durations, materials)


@st.composite
def routings(
    draw: st.DrawFn,
    n_machines: int,
    n_materials: int,
    deterministic: bool,
    flexible: bool,
    max_length: int = 4,
) -> tuple[OperationSpec, ...]:
    length = draw(st.integers(1, max_length))
    return tuple(
        draw(operations(n_machines, n_materials, deterministic, flexible)) for _ in range(length)
    )


@st.composite
def machine_specs(
    draw: st.DrawFn, count: int, families: int, breakdowns: bool
) -> tuple[MachineSpec, ...]:
    machines = []
    for index in range(count):
        setup = None
        if draw(st.booleans()):
            times = tuple(
                tuple(0.0 if a == b else float(draw(st.integers(0, 4))) for b in range(families))
                for a in range(families)
            )
            setup = SetupSpec(times, cost=float(draw(st.integers(0, 3))))
        breakdown = None
        if breakdowns and draw(st.booleans()):
            breakdown = BreakdownSpec(
                draw(positive_distributions()), draw(positive_distributions())
            )
        machines.append(MachineSpec(f"m{index}", setup=setup, breakdown=breakdown))
    return tuple(machines)


def material_specs(
    draw: st.DrawFn,
    routings_used: list[tuple[OperationSpec, ...]],
    count: int,
    starve: bool = False,
) -> tuple[MaterialSpec, ...]:
    """Materials whose reorder point covers the largest single need, so that no job
    waits forever (``starve``: any reorder point, deadlocks possible)."""
    needs = [0.0] * count
    for routing in routings_used:
        for operation in routing:
            for material, quantity in operation.materials:
                needs[material] = max(needs[material], quantity * MAX_QUANTITY)
    return tuple(
        MaterialSpec(
            f"raw{k}",
            initial_stock=float(draw(st.integers(0, 12))),
            reorder_point=float(draw(st.integers(0, 3))) + (0.0 if starve else needs[k]),
            order_quantity=float(draw(st.integers(1, 10))),
            lead_time=draw(positive_distributions()),
            holding_cost=float(draw(st.integers(0, 2))),
            order_cost=float(draw(st.integers(0, 2))),
        )
        for k in range(count)
    )


@st.composite
def factory_specs(draw: st.DrawFn, static: bool = False, starve: bool = False) -> FactorySpec:
    """A job shop: 1-6 machines, 1-8 planned jobs and/or arrivals, optional flexible
    routings, setups, breakdowns, materials and demand. ``static``: numeric times, no
    breakdowns, arrivals or materials (release times may still be > 0). ``starve``:
    materials always, with reorder points that may leave a job waiting forever."""
    n_machines = draw(st.integers(1, 6))
    families = draw(st.integers(1, 3))
    n_materials = 0 if static else draw(st.integers(1 if starve else 0, 2))
    deterministic = static or draw(st.booleans())
    flexible = draw(st.booleans())
    products = []
    for index in range(draw(st.integers(0, 3))):
        products.append(
            ProductSpec(
                f"p{index}",
                draw(routings(n_machines, n_materials, deterministic, flexible)),
                family=draw(st.integers(0, families - 1)),
                initial_stock=float(draw(st.integers(0, 3))),
                holding_cost=float(draw(st.integers(0, 2))),
                backorder_cost=float(draw(st.integers(0, 2))),
                lost_sale_cost=float(draw(st.integers(0, 2))),
            )
        )
    jobs = []
    for index in range(draw(st.integers(0 if not static else 1, 8))):
        own = not products or draw(st.booleans())
        jobs.append(
            JobSpec(
                routing=draw(routings(n_machines, n_materials, deterministic, flexible))
                if own
                else None,
                product=-1 if own else draw(st.integers(0, len(products) - 1)),
                release_time=float(draw(st.sampled_from([0, 0, 0, 1, 3, 7, 15]))),
                due_date=float(draw(st.integers(1, 60))),
                weight=float(draw(st.integers(0, 4))),
                quantity=draw(st.integers(1, MAX_QUANTITY)),
                name=f"j{index}",
            )
        )
    arrivals = None
    if not static and (not jobs or draw(st.booleans())):
        if products and draw(st.booleans()):
            mix = tuple(float(draw(st.integers(1, 3))) for _ in products)
            arrivals = ArrivalSpec(
                Exponential(draw(st.floats(0.5, 6.0))),
                product_mix=mix,
                max_jobs=draw(st.integers(1, 8)),
                due_date_tightness=Uniform(1.0, 3.0),
            )
        else:
            low = draw(st.integers(1, n_machines))
            arrivals = ArrivalSpec(
                Exponential(draw(st.floats(0.5, 6.0))),
                random_routing=RandomRoutingSpec(
                    low, draw(st.integers(low, n_machines)), Uniform(1.0, 6.0, integer=True)
                ),
                max_jobs=draw(st.integers(1, 8)),
            )
    horizon = None
    backorders = True
    if not (static or starve) and products and draw(st.booleans()):
        # Demand for some products: needs a horizon.
        horizon = float(draw(st.integers(5, 80)))
        backorders = draw(st.booleans())
        products = [
            ProductSpec(
                p.name,
                p.routing,
                p.family,
                p.initial_stock,
                p.holding_cost,
                p.backorder_cost,
                p.lost_sale_cost,
                DemandSpec(
                    rate=draw(st.floats(0.0, 2.0)), occurrence=draw(st.sampled_from([1.0, 0.5]))
                )
                if draw(st.booleans())
                else None,
            )
            for p in products
        ]
    used = [p.routing for p in products] + [j.routing for j in jobs if j.routing is not None]
    return FactorySpec(
        name="random",
        # No breakdowns when starving: a stall that starts at a release or a repair is
        # not detected and a failure process then runs for ever (test_event_trace.py,
        # STILL_HANGS).
        machines=draw(machine_specs(n_machines, families, breakdowns=not (static or starve))),
        products=tuple(products),
        jobs=tuple(jobs),
        arrivals=arrivals,
        materials=material_specs(draw, used, n_materials, starve),
        horizon=horizon,
        backorders=backorders,
    )


def starving_specs() -> st.SearchStrategy[FactorySpec]:
    """Job shops with materials whose reorder points may starve a job."""
    return factory_specs(starve=True)


@st.composite
def production_specs(draw: st.DrawFn) -> FactorySpec:
    """Make-to-stock: 1-3 products with demand, made from a first operation that can
    run on the production machine (and possibly others), then anywhere; planned jobs
    may share the machines."""
    n_machines = draw(st.integers(1, 4))
    production_machine = draw(st.integers(0, n_machines - 1))
    families = draw(st.integers(1, 3))
    n_materials = draw(st.integers(0, 2))
    flexible = draw(st.booleans())
    products = []
    for index in range(draw(st.integers(1, 3))):
        first = draw(
            operations(n_machines, n_materials, False, flexible).filter(
                lambda operation: (
                    production_machine in operation.machines
                    and mean_duration(
                        operation.durations[operation.machines.index(production_machine)]
                    )
                    > 0
                )  # a lot takes time (a zero-time lot could be made endlessly)
            )
        )
        rest = draw(routings(n_machines, n_materials, False, flexible, 2))
        products.append(
            ProductSpec(
                f"p{index}",
                (first, *rest[: draw(st.integers(0, 2))]),
                family=draw(st.integers(0, families - 1)),
                initial_stock=float(draw(st.integers(0, 5))),
                holding_cost=float(draw(st.integers(0, 2))),
                backorder_cost=float(draw(st.integers(0, 2))),
                lost_sale_cost=float(draw(st.integers(0, 2))),
                demand=DemandSpec(
                    rate=draw(st.floats(0.0, 3.0)),
                    season_length=draw(st.sampled_from([0, 7])),
                    amplitude=draw(st.sampled_from([0.0, 0.5])),
                    occurrence=draw(st.sampled_from([1.0, 0.4])),
                ),
            )
        )
    jobs = tuple(
        JobSpec(
            routing=draw(routings(n_machines, n_materials, True, flexible)),
            release_time=float(draw(st.integers(0, 10))),
            due_date=float(draw(st.integers(1, 30))),
            quantity=draw(st.integers(1, MAX_QUANTITY)),
        )
        for _ in range(draw(st.sampled_from([0, 0, 1, 3])))
    )
    used = [p.routing for p in products] + [j.routing for j in jobs if j.routing is not None]
    lot_sizes = tuple(draw(st.lists(st.integers(1, MAX_QUANTITY), min_size=1, max_size=3)))
    return FactorySpec(
        name="random-mts",
        machines=draw(machine_specs(n_machines, families, breakdowns=True)),
        products=tuple(products),
        jobs=jobs,
        materials=material_specs(draw, used, n_materials),
        production=ProductionSpec(
            production_machine, lot_sizes, idle_time=float(draw(st.integers(1, 4)))
        ),
        horizon=float(draw(st.integers(5, 60))),
        demand_period=float(draw(st.sampled_from([1, 2]))),
        backorders=draw(st.booleans()),
    )


def lifo(factory: Factory, machine: int, queue: list[int]) -> int:
    return queue[-1]


def shortest_processing_time(factory: Factory, machine: int, queue: list[int]) -> int:
    return min(queue, key=lambda job: (factory.operation_time(job, machine), job))


def choosers(seed: int) -> dict[str, Callable[[], Chooser]]:
    return {
        "fifo": lambda: fifo,
        "lifo": lambda: lifo,
        "spt": lambda: shortest_processing_time,
        "random": lambda: random_chooser(np.random.default_rng(seed)),
    }


@st.composite
def policies(draw: st.DrawFn) -> tuple[str, Chooser]:
    seed = draw(st.integers(0, 2**16))
    name = draw(st.sampled_from(["fifo", "lifo", "spt", "random"]))
    return name, choosers(seed)[name]()
