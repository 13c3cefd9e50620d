"""Properties of random factories: the simulation contract holds whatever happens."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shopfloor.sim import DeadlockError, Factory, FactorySpec
from shopfloor.sim._checks import check_schedule, lower_bound

from ._helpers import Chooser, drive, random_production
from ._strategies import factory_specs, policies, production_specs, starving_specs

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def bound_of(spec: FactorySpec) -> float | None:
    """:func:`lower_bound` when it applies (fixed jobs, deterministic times)."""
    try:
        return lower_bound(spec)
    except ValueError:
        return None


def run_watching_the_clock(factory: Factory, choose: Chooser) -> Factory:
    """Drive ``factory``, asserting the clock never goes back between decisions."""
    clock = [factory.now]

    def watching(factory: Factory, machine: int, queue: list[int]) -> int:
        assert factory.now >= clock[-1]
        clock.append(factory.now)
        assert queue, "a dispatch choice with nothing to start"
        job = choose(factory, machine, queue)
        assert job in queue
        return job

    drive(factory, watching, random_production(np.random.default_rng(len(clock))))
    assert factory.now >= clock[-1]
    return factory


def assert_kpis_sane(factory: Factory) -> None:
    kpis = factory.kpis()
    assert 0.0 <= kpis.utilisation <= 1.0
    assert all(0.0 <= u <= 1.0 for u in kpis.machine_utilisation)
    assert 0 <= kpis.jobs_completed <= kpis.jobs_released <= factory.n_jobs
    assert kpis.mean_wip >= 0.0
    assert 0.0 <= kpis.fill_rate <= 1.0
    assert kpis.makespan <= factory.now
    for name in (
        "total_tardiness",
        "total_weighted_tardiness",
        "max_tardiness",
        "holding_cost",
        "backorder_cost",
        "lost_sales_cost",
        "setup_cost",
        "ordering_cost",
    ):
        assert getattr(kpis, name) >= 0.0, name
    assert math.isclose(
        kpis.total_cost,
        kpis.holding_cost
        + kpis.backorder_cost
        + kpis.lost_sales_cost
        + kpis.setup_cost
        + kpis.ordering_cost,
    )
    if kpis.jobs_completed:
        assert kpis.mean_flow_time >= 0.0
        assert kpis.makespan > 0.0 or kpis.mean_flow_time == 0.0


@SETTINGS
@given(spec=factory_specs(), policy=policies(), seed=st.integers(0, 2**16))
def test_random_job_shops_keep_the_contract(spec, policy, seed):
    _, choose = policy
    factory = run_watching_the_clock(Factory(spec, seed=seed), choose)
    assert factory.done
    check_schedule(factory)
    times = [entry[0] for entry in factory.log]
    assert times == sorted(times)
    assert_kpis_sane(factory)
    kpis = factory.kpis()
    if spec.horizon is None:
        # A finite job list runs to completion: every job released and finished.
        assert kpis.jobs_completed == kpis.jobs_released == factory.n_jobs
        bound = bound_of(spec)
        if bound is not None:  # breakdowns, setups and material waits only add
            assert kpis.makespan >= bound - 1e-9


@SETTINGS
@given(spec=factory_specs(static=True), policy=policies())
def test_static_makespan_is_at_least_the_lower_bound(spec, policy):
    assert spec.is_static
    _, choose = policy
    factory = drive(Factory(spec, seed=0), choose)
    check_schedule(factory)
    kpis = factory.kpis()
    assert kpis.jobs_completed == len(spec.jobs)
    assert kpis.makespan >= lower_bound(spec)
    # Work is conserved: the machines were busy for exactly the chosen processing
    # times plus setups, which the utilisation reports.
    assert_kpis_sane(factory)


@SETTINGS
@given(spec=production_specs(), seed=st.integers(0, 2**16), policy_seed=st.integers(0, 2**16))
def test_random_make_to_stock_keeps_the_contract(spec, seed, policy_seed):
    rng = np.random.default_rng(policy_seed)
    factory = drive(
        Factory(spec, seed=seed),
        lambda f, m, q: q[int(rng.integers(len(q)))],
        random_production(rng, idle_share=float(rng.uniform(0.0, 0.8))),
    )
    assert factory.done
    assert factory.now == spec.horizon
    check_schedule(factory)
    assert_kpis_sane(factory)
    # Finished goods and backlog never both positive, nothing negative.
    assert all(units >= 0 for units in factory.finished_goods)
    assert all(units >= 0 for units in factory.backlog)
    if not spec.backorders:
        assert factory.backlog == [0.0] * len(spec.products)


@SETTINGS
@given(spec=factory_specs(), seed=st.integers(0, 2**16))
def test_a_run_stopped_midway_is_consistent(spec, seed):
    factory = Factory(spec, seed=seed)
    for _ in range(seed % 7):
        if not factory.next_decision():
            break
        kind = factory.decision_kind()
        if kind == "dispatch":
            machine = factory.decision_machine()
            factory.start(factory.queue(machine)[0], machine)
    check_schedule(factory)


@SETTINGS
@given(spec=starving_specs(), policy=policies(), seed=st.integers(0, 2**16))
def test_material_shortage_ends_in_a_deadlock_or_completes(spec, policy, seed):
    # Reorder points below the largest need: a job may wait for material forever.
    _, choose = policy
    factory = Factory(spec, seed=seed)
    try:
        drive(factory, choose)
    except DeadlockError as error:
        assert not factory.done
        assert "needs" in str(error)
        assert factory.kpis().jobs_completed < factory.n_jobs
    else:
        assert factory.kpis().jobs_completed == factory.n_jobs
    check_schedule(factory)


def test_queue_is_one_list_all_episode_without_materials() -> None:
    from shopfloor.scenario import resolve_target

    factory = Factory(resolve_target("ft06")[1], seed=0)
    queues = [factory.queue(machine) for machine in range(factory.n_machines)]
    rng = np.random.default_rng(0)
    while factory.next_decision():
        assert all(factory.queue(m) is queue for m, queue in enumerate(queues))
        pairs = factory.ready_operations()
        factory.start(*pairs[int(rng.integers(len(pairs)))])
    assert all(not queue for queue in queues)
