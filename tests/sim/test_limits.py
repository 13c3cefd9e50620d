"""The simulation's input limits: finite distributions, bounded sizes, bounded episodes."""

from __future__ import annotations

import math
import pickle

import pytest

from shopfloor.sim import (
    LIMITS,
    ArrivalSpec,
    BreakdownSpec,
    Choice,
    Constant,
    DeadlockError,
    DemandSpec,
    Exponential,
    Factory,
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
    SpecError,
    Triangular,
    Uniform,
    Weibull,
)

from ._helpers import drive

ON_M0 = (OperationSpec.on(0, 1.0),)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Weibull(shape=1e-5, scale=1.0), r"shape must be >= 0\.1, got 1e-05"),
        (lambda: Weibull(shape=0.1, scale=1e9), r"mean \(scale \* Gamma\(1 \+ 1/shape\)\)"),
        (lambda: Gamma(shape=1e5, scale=1.0), r"shape must be at most 10000 \(the limit\)"),
        (lambda: Gamma(shape=10.0, scale=1e9), r"mean \(shape \* scale\) must be at most 1e\+09"),
        (lambda: Constant(1e308), r"value must be at most 1e\+09 \(the limit\), got 1e\+308"),
        (lambda: Constant(math.nan), r"value must be a finite number, got nan"),
        (lambda: Exponential(math.inf), r"mean must be a finite number, got inf"),
        (lambda: Uniform(0.0, 2e9), r"high must be at most 1e\+09"),
        (lambda: Normal(5.0, 1.0, minimum=-1.0), r"min must be >= 0, got -1\.0"),
        (lambda: LogNormal(1e-300, 1e9), r"std must be at most 1000 times the mean"),
        (lambda: Triangular(0.0, 1.0, 1e10), r"high must be at most 1e\+09"),
        (
            lambda: Choice(
                (1.0,) * (LIMITS.max_list + 1),
            ),
            r"10001 entries; the limit is 10000",
        ),
        (lambda: Choice((1.0, 2.0), (0.0, 0.0)), r"at least one must be > 0"),
    ],
)
def test_distribution_parameters_are_finite_and_bounded(build, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=message):
        build()


def test_every_allowed_distribution_has_a_finite_mean_and_finite_draws() -> None:
    import numpy as np

    rng = np.random.default_rng(0)
    extremes = [
        Weibull(shape=LIMITS.min_shape, scale=LIMITS.max_time / 4e6),
        Weibull(shape=LIMITS.max_shape, scale=LIMITS.max_time),
        Gamma(shape=LIMITS.min_shape, scale=LIMITS.max_time),
        LogNormal(1e-6, 1e-3),
        LogNormal(1e3, 1e6),  # the largest std / mean
        Normal(LIMITS.max_time, LIMITS.max_time),
    ]
    for distribution in extremes:
        assert math.isfinite(distribution.mean)
        assert all(math.isfinite(distribution.sample(rng)) for _ in range(1000))


def _factory(**fields: object) -> FactorySpec:
    base: dict[str, object] = {"name": "f", "machines": (MachineSpec("m0"),), "jobs": ()}
    base.update(fields)
    return FactorySpec(**base)  # type: ignore[arg-type]


def _failing(horizon: float) -> FactorySpec:
    """One job (4 events) and failures: 2 events per 2 time units up to ``horizon``."""
    breakdown = BreakdownSpec(Constant(1.0), Constant(1.0))
    return _factory(
        machines=(MachineSpec("m0", breakdown=breakdown),),
        jobs=(JobSpec(routing=ON_M0),),
        horizon=horizon,
    )


def test_the_event_limit_is_exact() -> None:
    spec = _failing(LIMITS.max_events - 4.0)
    assert sum(count for count, _ in spec.expected_events().values()) == LIMITS.max_events
    with pytest.raises(SpecError, match=r"machines\[0\]\.breakdown: one episode") as info:
        _failing(LIMITS.max_events - 3.0)
    assert info.value.where == "machines[0].breakdown"
    copy = pickle.loads(pickle.dumps(info.value))
    assert (str(copy), copy.where, copy.problem) == (
        str(info.value),
        info.value.where,
        info.value.problem,
    )


def test_a_failure_every_1e_300_is_refused() -> None:
    with pytest.raises(SpecError, match=r"time_to_failure must have a mean of at least 1e-06"):
        BreakdownSpec(Constant(1e-300), Constant(1.0))


def test_the_estimate_follows_the_simulation() -> None:
    # Poisson arrivals of one two-step product on two machines, one failing.
    spec = FactorySpec(
        name="estimate",
        machines=(
            MachineSpec("m0", breakdown=BreakdownSpec(Exponential(30.0), Constant(3.0))),
            MachineSpec("m1"),
        ),
        products=(ProductSpec("a", (OperationSpec.on(0, 2.0), OperationSpec.on(1, 1.5))),),
        arrivals=ArrivalSpec(Exponential(3.0), product_mix=(1.0,), max_jobs=300),
    )
    estimate = sum(count for count, _ in spec.expected_events().values())
    factory = drive(Factory(spec, seed=0))
    assert 0.7 < factory.kpis().events / estimate < 1.3


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"machines": (MachineSpec("m"),) * (LIMITS.max_machines + 1)}, r"machines: 10,001"),
        ({"horizon": 2e9}, r"horizon: must be at most 1e\+09 \(the limit\)"),
        ({"demand_period": 1e-9}, r"demand_period: must be >= 1e-06"),
        (
            {"jobs": (JobSpec(routing=ON_M0, quantity=10**10),)},
            r"jobs\[0\]\.quantity: must be at most 1e\+09",
        ),
        (
            {"jobs": (JobSpec(routing=ON_M0, due_date=-math.inf),)},
            r"jobs\[0\]\.due_date: must be a finite number",
        ),
        (
            {
                "arrivals": ArrivalSpec(
                    Exponential(1e-5),
                    random_routing=RandomRoutingSpec(1, 1, Constant(1)),
                    until=1e3,
                )
            },
            r"arrivals: one episode .* about 1e\+08 arriving jobs",
        ),
        (
            {
                "products": (ProductSpec("a", (OperationSpec.on(0, 0.0),), demand=DemandSpec(1)),),
                "production": ProductionSpec(0),
                "horizon": 10.0,
            },
            r"products\[0\]\.routing\[0\]: must take a mean time of at least 1e-06",
        ),
        (
            {
                "products": (ProductSpec("a", ON_M0, demand=DemandSpec(1e3, trend=1e6)),),
                "production": ProductionSpec(0),
                "horizon": 100.0,
            },
            r"products\[0\]\.demand: the demand per period can reach",
        ),
    ],
    ids=["machines", "horizon", "period", "quantity", "due", "arrivals", "lot", "demand"],
)
def test_factories_beyond_the_limits_name_the_field(fields, message) -> None:  # type: ignore[no-untyped-def]
    base = {} if "arrivals" in fields or "production" in fields else {"jobs": (JobSpec(ON_M0),)}
    with pytest.raises(SpecError, match=message):
        _factory(**{**base, **fields})


def _steel(initial: float, reorder_point: float, quantity: float) -> MaterialSpec:
    return MaterialSpec("steel", initial, reorder_point, quantity, Constant(1.0))


def _needing(material: MaterialSpec, *needs: float) -> FactorySpec:
    jobs = tuple(JobSpec(routing=(OperationSpec((0,), (1.0,), ((0, need),)),)) for need in needs)
    return _factory(materials=(material,), jobs=jobs)


def test_a_tiny_order_quantity_is_refused() -> None:
    with pytest.raises(SpecError, match=r"materials.steel: order_quantity 1e-06 is tiny"):
        _steel(0.0, 1e3, 1e-6)
    with pytest.raises(SpecError, match=r"materials\[0\]: order_quantity 0\.0001 is tiny"):
        _needing(_steel(0.0, 0.0, 1e-4), 2.0)


def test_certain_starvation_is_found_and_luckless_stranding_is_a_one_line_deadlock() -> None:
    with pytest.raises(SpecError, match=r"jobs\[0\]\.routing\[0\]\.materials: needs 2 steel"):
        _needing(_steel(0.0, -1.0, 5.0), 2.0).check_material_supply()
    with pytest.raises(SpecError, match=r"jobs\[1\]\.routing\[0\]\.materials: needs 7 steel"):
        _needing(_steel(0.0, 0.0, 5.0), 2.0, 7.0).check_material_supply()
    # 3 on hand, reorder point 0: the first job leaves 1, above the reorder point and
    # below the second job's need, and nothing is ever ordered. Not certain up front.
    stranded = _needing(_steel(3.0, 0.0, 5.0), 2.0, 2.0)
    stranded.check_material_supply()
    with pytest.raises(DeadlockError) as info:
        drive(Factory(stranded, seed=0))
    assert "\n" not in str(info.value)
    assert "needs 2 steel (on hand 1)" in str(info.value)
