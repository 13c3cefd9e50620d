"""Bad descriptions raise SpecError naming the field; bad decisions raise DecisionError."""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import pytest

from shopfloor.sim import (
    ArrivalSpec,
    Constant,
    DecisionError,
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
    RandomRoutingSpec,
    SetupSpec,
    Shock,
    SpecError,
    Uniform,
)

from ._helpers import drive

M0 = (MachineSpec("m0"),)
ON_M0 = (OperationSpec.on(0, 1.0),)
JOB = (JobSpec(routing=ON_M0),)


def factory(**fields: object) -> FactorySpec:
    """A valid one-machine, one-job factory with ``fields`` changed."""
    base: dict[str, object] = {"name": "bad", "machines": M0, "jobs": JOB}
    base.update(fields)
    return FactorySpec(**base)  # type: ignore[arg-type]


def steel(**fields: object) -> MaterialSpec:
    base: dict[str, object] = {
        "name": "steel",
        "initial_stock": 1.0,
        "reorder_point": 0.0,
        "order_quantity": 1.0,
        "lead_time": Constant(1.0),
    }
    base.update(fields)
    return MaterialSpec(**base)  # type: ignore[arg-type]


BAD_SPECS: dict[str, tuple[Callable[[], object], str]] = {
    "operation without machines": (
        lambda: OperationSpec((), ()),
        "operation: needs at least one machine",
    ),
    "durations not aligned": (
        lambda: OperationSpec((0,), (1.0, 2.0)),
        "operation: 2 durations for 1 machines",
    ),
    "repeated machine": (lambda: OperationSpec((0, 0), (1.0, 1.0)), "operation: repeated machine"),
    "negative duration": (
        lambda: OperationSpec.on(0, -1.0),
        "operation: duration must be a finite number >= 0, got -1.0",
    ),
    "infinite duration": (
        lambda: OperationSpec.on(0, math.inf),
        "operation: duration must be a finite number >= 0, got inf",
    ),
    "nan duration": (lambda: OperationSpec.on(0, math.nan), "got nan"),
    "empty setup": (lambda: SetupSpec(()), "setup.times: must not be empty"),
    "ragged setup": (lambda: SetupSpec(((0.0, 1.0), (1.0,))), "setup.times: must be square"),
    "negative setup": (
        lambda: SetupSpec(((0.0, -1.0), (1.0, 0.0))),
        "setup.times: times must be >= 0",
    ),
    "negative setup cost": (lambda: SetupSpec(((0.0,),), cost=-1.0), "setup.cost: must be >= 0"),
    "empty shock": (lambda: Shock(3, 3, 2.0), "shock: need 0 <= start < end"),
    "negative shock": (lambda: Shock(0, 3, -2.0), "shock: multiplier must be >= 0"),
    "negative demand": (lambda: DemandSpec(rate=-1.0), "demand.rate: must be >= 0, got -1.0"),
    "amplitude": (lambda: DemandSpec(rate=1.0, amplitude=1.5), "demand.amplitude: must lie in"),
    "season": (lambda: DemandSpec(rate=1.0, season_length=-1), "demand.season_length"),
    "no occurrence": (lambda: DemandSpec(rate=1.0, occurrence=0.0), "demand.occurrence"),
    "material stock": (
        lambda: steel(initial_stock=-1.0),
        "materials.steel: initial_stock must be >= 0",
    ),
    "material order": (
        lambda: steel(order_quantity=0.0),
        "materials.steel: order_quantity must be > 0",
    ),
    "no lot sizes": (
        lambda: ProductionSpec(0, lot_sizes=()),
        "production.lot_sizes: must not be empty",
    ),
    "zero lot size": (
        lambda: ProductionSpec(0, lot_sizes=(2, 0)),
        "production.lot_sizes: must be > 0",
    ),
    "idle time": (lambda: ProductionSpec(0, idle_time=0.0), "production.idle_time: must be > 0"),
    "endless arrivals": (
        lambda: ArrivalSpec(Exponential(1.0), product_mix=(1.0,)),
        "arrivals: set max_jobs or until",
    ),
    "two routings sources": (
        lambda: ArrivalSpec(
            Exponential(1.0),
            product_mix=(1.0,),
            random_routing=RandomRoutingSpec(1, 1, Constant(1.0)),
            max_jobs=1,
        ),
        "arrivals: give exactly one of product_mix and random_routing",
    ),
    "no machines": (lambda: factory(machines=()), "machines: need at least one machine"),
    "setup too small": (
        lambda: factory(
            machines=(MachineSpec("m0", setup=SetupSpec.uniform(1, 1.0)),),
            products=(ProductSpec("a", ON_M0, family=0), ProductSpec("b", ON_M0, family=1)),
        ),
        r"machines\[0\].setup.times: covers 1 families, products use 2",
    ),
    "empty product routing": (
        lambda: factory(products=(ProductSpec("a", ()),)),
        r"products\[0\].routing: is empty",
    ),
    "negative family": (
        lambda: factory(products=(ProductSpec("a", ON_M0, family=-1),)),
        r"products\[0\].family: must be >= 0",
    ),
    "missing machine in a product": (
        lambda: factory(products=(ProductSpec("a", (OperationSpec.on(3, 1.0),)),)),
        r"products\[0\].routing\[0\].machines: no machine 3 \(the factory has 1\)",
    ),
    "missing material": (
        lambda: factory(jobs=(JobSpec(routing=(OperationSpec((0,), (1.0,), ((0, 1.0),)),)),)),
        r"jobs\[0\].routing\[0\].materials: no material 0",
    ),
    "negative material need": (
        lambda: factory(
            materials=(steel(),),
            jobs=(JobSpec(routing=(OperationSpec((0,), (1.0,), ((0, -1.0),)),)),),
        ),
        r"jobs\[0\].routing\[0\].materials: quantity must be >= 0",
    ),
    "demand without horizon": (
        lambda: factory(products=(ProductSpec("a", ON_M0, demand=DemandSpec(1.0)),)),
        "horizon: a factory with customer demand needs a horizon",
    ),
    "missing product": (
        lambda: factory(jobs=(JobSpec(product=2),)),
        re.escape("jobs[0].product: no product 2 (the factory has 0)"),
    ),
    "missing product beside a routing": (
        lambda: factory(jobs=(JobSpec(routing=ON_M0, product=2),)),
        re.escape("jobs[0].product: no product 2 (the factory has 0)"),
    ),
    "neither routing nor product": (
        lambda: factory(jobs=(JobSpec(),)),
        re.escape("jobs[0]: give a routing or a product"),
    ),
    "nan due date": (
        lambda: factory(jobs=(JobSpec(routing=ON_M0, due_date=math.nan),)),
        re.escape("jobs[0].due_date: must be a number"),
    ),
    "negative finished goods": (
        lambda: factory(products=(ProductSpec("a", ON_M0, initial_stock=-3.0),)),
        re.escape("products[0].initial_stock: must be >= 0"),
    ),
    "negative holding cost": (
        lambda: factory(products=(ProductSpec("a", ON_M0, holding_cost=-1.0),)),
        re.escape("products[0].holding_cost: must be >= 0, got -1.0"),
    ),
    "infinite backorder cost": (
        lambda: factory(products=(ProductSpec("a", ON_M0, backorder_cost=math.inf),)),
        re.escape("products[0].backorder_cost: must be a finite number, got inf"),
    ),
    "negative material cost": (
        lambda: factory(materials=(steel(order_cost=-1.0),)),
        re.escape("materials.steel: holding_cost and order_cost must be >= 0"),
    ),
    "negative release": (
        lambda: factory(jobs=(JobSpec(routing=ON_M0, release_time=-1.0),)),
        r"jobs\[0\].release_time: must be >= 0",
    ),
    "nan release": (
        lambda: factory(
            jobs=(JobSpec(routing=ON_M0), JobSpec(routing=ON_M0, release_time=math.nan))
        ),
        r"jobs\[1\].release_time: must be >= 0",
    ),
    "negative weight": (
        lambda: factory(jobs=(JobSpec(routing=ON_M0, weight=-1.0),)),
        r"jobs\[0\].weight: must be >= 0",
    ),
    "zero quantity": (
        lambda: factory(jobs=(JobSpec(routing=ON_M0, quantity=0),)),
        r"jobs\[0\].quantity: must be > 0",
    ),
    "empty job routing": (
        lambda: factory(jobs=(JobSpec(routing=()),)),
        r"jobs\[0\].routing: is empty",
    ),
    "mix length": (
        lambda: factory(
            products=(ProductSpec("a", ON_M0),),
            arrivals=ArrivalSpec(Exponential(1.0), product_mix=(0.5, 0.5), max_jobs=2),
        ),
        "arrivals.product_mix: 2 entries for 1 products",
    ),
    "zero mix": (
        lambda: factory(
            products=(ProductSpec("a", ON_M0),),
            arrivals=ArrivalSpec(Exponential(1.0), product_mix=(0.0,), max_jobs=2),
        ),
        "arrivals.product_mix",
    ),
    "long random routing": (
        lambda: factory(
            arrivals=ArrivalSpec(
                Exponential(1.0),
                random_routing=RandomRoutingSpec(1, 2, Constant(1.0)),
                max_jobs=2,
            )
        ),
        r"arrivals.random_routing: need 1 <= min_operations <= max_operations <= 1 machines",
    ),
    "production machine": (
        lambda: factory(
            products=(ProductSpec("a", ON_M0),), production=ProductionSpec(1), horizon=5.0
        ),
        "production.machine: no machine 1",
    ),
    "production without products": (
        lambda: factory(production=ProductionSpec(0), horizon=5.0),
        "production: needs products",
    ),
    "production without horizon": (
        lambda: factory(products=(ProductSpec("a", ON_M0),), production=ProductionSpec(0)),
        "horizon: a factory with production needs a horizon",
    ),
    "product off the production machine": (
        lambda: factory(
            machines=(MachineSpec("m0"), MachineSpec("m1")),
            products=(ProductSpec("a", ON_M0), ProductSpec("b", (OperationSpec.on(1, 1.0),))),
            production=ProductionSpec(0),
            horizon=5.0,
        ),
        r"products\[1\].routing\[0\]: must run on the production machine 0",
    ),
    "demand period": (lambda: factory(demand_period=0.0), "demand_period: must be > 0"),
    "horizon": (lambda: factory(horizon=0.0), "horizon: must be > 0"),
    "nothing to do": (
        lambda: factory(jobs=()),
        "jobs: the factory has no jobs, no arrivals and no production",
    ),
}


@pytest.mark.parametrize("build, message", BAD_SPECS.values(), ids=BAD_SPECS.keys())
def test_bad_specs_name_the_field(build, message):
    with pytest.raises(SpecError, match=message):
        build()


def test_spec_errors_are_value_errors():
    assert issubclass(SpecError, ValueError)


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: Constant(-1.0), "value must be >= 0, got -1.0"),
        (lambda: Exponential(0.0), "mean must be > 0"),
        (lambda: Uniform(3.0, 1.0), r"need 0 <= low <= high, got \[3.0, 1.0\]"),
    ],
)
def test_bad_distributions(build, message):
    with pytest.raises(ValueError, match=message):
        build()


# ---------------------------------------------------------------- decisions


def two_jobs_two_machines() -> Factory:
    spec = FactorySpec(
        name="decisions",
        machines=(MachineSpec("m0"), MachineSpec("m1")),
        jobs=(JobSpec(routing=ON_M0), JobSpec(routing=(OperationSpec.on(1, 2.0),))),
    )
    factory = Factory(spec, seed=0)
    assert factory.next_decision()
    return factory


def test_start_a_job_not_in_the_queue():
    factory = two_jobs_two_machines()
    with pytest.raises(
        DecisionError, match=re.escape("job 1 cannot start on machine 0 at t=0.0; startable: [0]")
    ):
        factory.start(1, 0)
    with pytest.raises(DecisionError, match="job 7 cannot start on machine 0"):
        factory.start(7, 0)


def test_start_on_a_machine_with_no_choice_due():
    factory = two_jobs_two_machines()
    factory.start(0, 0)
    with pytest.raises(
        DecisionError, match=re.escape("machine 0 has no dispatch choice due at t=0.0")
    ):
        factory.start(0, 0)
    with pytest.raises(DecisionError, match="machine 5 has no dispatch choice due"):
        factory.start(1, 5)
    factory.start(1, 1)
    assert factory.next_decision() is False
    with pytest.raises(DecisionError, match="no dispatch choice is due now"):
        factory.decision_machine()


def test_a_rejected_decision_changes_nothing():
    factory = two_jobs_two_machines()
    log = list(factory.log)
    with pytest.raises(DecisionError):
        factory.start(1, 0)
    assert factory.log == log
    assert factory.decisions == 0
    assert factory.queue(0) == [0]
    assert factory.due_machines() == [0, 1]


def test_start_a_job_whose_material_is_missing():
    spec = FactorySpec(
        name="steel",
        machines=M0,
        materials=(steel(initial_stock=1.0, reorder_point=2.0, lead_time=Constant(5.0)),),
        jobs=(
            JobSpec(routing=ON_M0),
            JobSpec(routing=(OperationSpec((0,), (1.0,), ((0, 2.0),)),)),
        ),
    )
    factory = Factory(spec, seed=0)
    assert factory.next_decision()
    assert factory.queue(0) == [0]
    assert factory.waiting_jobs(0) == [0, 1]
    with pytest.raises(DecisionError, match=re.escape("startable: [0]")):
        factory.start(1, 0)


def test_production_decisions_when_none_is_due():
    factory = two_jobs_two_machines()
    with pytest.raises(DecisionError, match=re.escape("no production choice is due at t=0.0")):
        factory.produce(0, 1)
    with pytest.raises(DecisionError, match=re.escape("no production choice is due at t=0.0")):
        factory.idle()


def test_production_decisions_with_bad_arguments():
    spec = factory(
        jobs=(),
        products=(ProductSpec("a", ON_M0),),
        production=ProductionSpec(0, lot_sizes=(2,)),
        horizon=5.0,
    )
    plant = Factory(spec, seed=0)
    assert plant.next_decision() and plant.decision_kind() == "produce"
    with pytest.raises(DecisionError, match="product 1 does not exist"):
        plant.produce(1, 2)
    with pytest.raises(DecisionError, match="product -1 does not exist"):
        plant.produce(-1, 2)
    with pytest.raises(DecisionError, match="lot size must be > 0, got 0"):
        plant.produce(0, 0)
    assert plant.decision_kind() == "produce"
    with pytest.raises(DecisionError, match="no dispatch choice is due now"):
        plant.decision_machine()


def test_no_decisions_after_the_end():
    # Two jobs of 5 on one machine, horizon 5: the first ends at the horizon, which
    # leaves the second startable in the same instant, after the end.
    spec = factory(jobs=(JobSpec(routing=(OperationSpec.on(0, 5.0),)),) * 2, horizon=5.0)
    # Regression: start() used to accept it.
    plant = drive(Factory(spec, seed=0))
    assert plant.done and plant.decision_kind() is None
    with pytest.raises(DecisionError, match=re.escape("the episode is over (t=5); reset")):
        plant.start(1, 0)
    with pytest.raises(DecisionError, match="the episode is over"):
        plant.defer(0)
