"""CP-SAT reference solver: known optima, proven bounds, and the replay in the factory."""

from __future__ import annotations

import itertools

import pytest

from shopfloor.instances import load_instance
from shopfloor.policies._cpsat import (
    CpSatPolicy,
    CpSatSchedule,
    replay_schedule,
    solve_cpsat,
)
from shopfloor.sim import (
    ArrivalSpec,
    Constant,
    Exponential,
    FactorySpec,
    JobSpec,
    MachineSpec,
    OperationSpec,
    ProductSpec,
    mean_duration,
)

Key = tuple[int, int]  # (job, operation)


def _logged_operations(factory) -> dict[Key, tuple[int, float, float]]:
    """(machine, start, end) of every operation, read from the event log."""
    started: dict[Key, tuple[int, float]] = {}
    done: dict[Key, tuple[int, float, float]] = {}
    for event in factory.event_log():
        key = (event.job, event.operation)
        if event.kind == "start":
            assert key not in started, f"{key} started twice"
            started[key] = (event.machine, event.time)
        elif event.kind == "complete":
            machine, start = started[key]
            assert event.machine == machine
            done[key] = (machine, start, event.time)
    assert done.keys() == started.keys()
    return done


def _check_invariants(spec: FactorySpec, factory) -> dict[Key, tuple[int, float, float]]:
    """No machine overlap, routing order, release times and processing times hold."""
    operations = _logged_operations(factory)
    for job, job_spec in enumerate(spec.jobs):
        routing = job_spec.routing
        assert routing is not None
        previous_end = job_spec.release_time
        for step, op in enumerate(routing):
            machine, start, end = operations[job, step]
            assert machine in op.machines
            duration = op.durations[op.machines.index(machine)]
            assert end - start == pytest.approx(mean_duration(duration))
            assert start >= previous_end, f"job {job} op {step} starts before its predecessor"
            previous_end = end
    by_machine: dict[int, list[tuple[float, float]]] = {}
    for machine, start, end in operations.values():
        by_machine.setdefault(machine, []).append((start, end))
    for machine, spans in by_machine.items():
        spans.sort()
        for (_, end), (start, _) in itertools.pairwise(spans):
            assert start >= end, f"machine {machine} runs two operations at once"
    return operations


def _left_shifted_starts(spec: FactorySpec, schedule: CpSatSchedule) -> dict[Key, float]:
    """Semi-active starts for the solver's machine orders, by fixed-point iteration."""
    machine_of = {(op.job, op.operation): op.machine for op in schedule.operations}
    position = {(op.job, op.operation): op.start for op in schedule.operations}
    sequences: dict[int, list[Key]] = {}
    for key in sorted(position, key=lambda k: (position[k], k)):
        sequences.setdefault(machine_of[key], []).append(key)
    machine_predecessor = {
        later: earlier
        for sequence in sequences.values()
        for earlier, later in itertools.pairwise(sequence)
    }

    def duration(key: Key) -> float:
        routing = spec.jobs[key[0]].routing
        assert routing is not None
        op = routing[key[1]]
        return mean_duration(op.durations[op.machines.index(machine_of[key])])

    start = {key: 0.0 for key in position}
    changed = True
    while changed:
        changed = False
        for key in start:
            job, step = key
            earliest = spec.jobs[job].release_time
            if step > 0:
                earliest = max(earliest, start[job, step - 1] + duration((job, step - 1)))
            before = machine_predecessor.get(key)
            if before is not None:
                earliest = max(earliest, start[before] + duration(before))
            if earliest != start[key]:
                start[key], changed = earliest, True
    return start


def _assert_replay_is_left_shift(spec: FactorySpec, schedule: CpSatSchedule):
    factory = replay_schedule(spec, schedule)
    operations = _check_invariants(spec, factory)
    expected = _left_shifted_starts(spec, schedule)
    assert {key: start for key, (_, start, _) in operations.items()} == expected
    for op in schedule.operations:
        assert operations[op.job, op.operation][0] == op.machine
        assert expected[op.job, op.operation] <= op.start
    makespan = factory.kpis().makespan
    if schedule.optimal:
        assert makespan == schedule.makespan
    else:
        assert makespan <= schedule.makespan
    return factory


def test_ft06_is_solved_to_its_optimum_and_replays_exactly():
    instance = load_instance("ft06")
    schedule = solve_cpsat(instance, time_limit=10.0, workers=1, seed=0)
    assert schedule.status == "optimal"
    assert schedule.makespan == 55 == instance.optimum
    assert schedule.lower_bound == 55
    assert schedule.gap == 0.0
    assert schedule.wall_time < 10.0
    assert len(schedule.operations) == 36
    assert max(op.end for op in schedule.operations) == 55
    orders = schedule.machine_orders()
    assert len(orders) == 6
    assert all(sorted(order) == list(range(6)) for order in orders)
    factory = _assert_replay_is_left_shift(instance.to_factory_spec(), schedule)
    assert factory.kpis().makespan == 55


def test_solver_schedule_is_feasible():
    instance = load_instance("ft06")
    schedule = solve_cpsat(instance, workers=1)
    by_key = {(op.job, op.operation): op for op in schedule.operations}
    for job, (machines, durations) in enumerate(
        zip(instance.machines, instance.durations, strict=True)
    ):
        for step, (machine, duration) in enumerate(zip(machines, durations, strict=True)):
            op = by_key[job, step]
            assert (op.machine, op.end - op.start) == (machine, duration)
            if step:
                assert op.start >= by_key[job, step - 1].end
    for sequence in schedule.machine_sequences():
        for earlier, later in itertools.pairwise(sequence):
            assert later.start >= earlier.end


def test_la01_is_solved_to_optimal_quickly():
    instance = load_instance("la01")
    schedule = solve_cpsat(instance, time_limit=10.0, workers=1)
    assert (schedule.status, schedule.makespan, schedule.lower_bound) == ("optimal", 666, 666)
    assert schedule.wall_time < 5.0
    _assert_replay_is_left_shift(instance.to_factory_spec(), schedule)


def test_time_limited_ta01_is_bracketed_by_the_optimum():
    instance = load_instance("ta01")  # optimum 1231
    schedule = solve_cpsat(instance, time_limit=2.0)
    assert schedule.status in {"feasible", "optimal"}
    assert schedule.makespan >= 1231
    assert schedule.lower_bound <= 1231
    assert schedule.lower_bound <= schedule.makespan
    assert schedule.wall_time < 6.0
    _assert_replay_is_left_shift(instance.to_factory_spec(), schedule)


def test_single_worker_solve_is_deterministic():
    instance = load_instance("ft06")
    first = solve_cpsat(instance, workers=1, seed=3)
    second = solve_cpsat(instance, workers=1, seed=3)
    assert first.operations == second.operations


def _flexible_spec() -> FactorySpec:
    """Two machines; four single-operation jobs that can run on either, one released late."""
    either = (0, 1)
    return FactorySpec(
        name="flexible",
        machines=(MachineSpec("A"), MachineSpec("B")),
        jobs=(
            JobSpec(routing=(OperationSpec(either, (3.0, 3.0)),)),
            JobSpec(routing=(OperationSpec(either, (3.0, 3.0)),)),
            JobSpec(routing=(OperationSpec(either, (2.0, 4.0)),)),
            JobSpec(routing=(OperationSpec(either, (4.0, 2.0)),), release_time=1.0),
            JobSpec(routing=(OperationSpec.on(0, 1.0), OperationSpec(either, (1.0, 1.0)))),
        ),
    )


def test_flexible_alternatives_choose_machines():
    spec = _flexible_spec()
    schedule = solve_cpsat(spec, workers=1)
    # Total work on the fast machines is 3 + 3 + 2 + 2 + 1 + 1 = 12 over two machines.
    assert (schedule.status, schedule.makespan) == ("optimal", 6)
    assert {op.machine for op in schedule.operations if op.job == 2} == {0}
    assert {op.machine for op in schedule.operations if op.job == 3} == {1}
    assert next(op.start for op in schedule.operations if op.job == 3) >= 1
    _assert_replay_is_left_shift(spec, schedule)


def test_policy_solves_and_replays():
    policy = CpSatPolicy(time_limit=5.0, workers=1)
    instance = load_instance("ft06")
    assert policy.solve(instance).makespan == 55
    assert policy.run(instance).kpis().makespan == 55


def test_quantities_scale_times():
    spec = FactorySpec(
        name="lots",
        machines=(MachineSpec("M0"),),
        jobs=(JobSpec(routing=(OperationSpec.on(0, Constant(2.0)),), quantity=3),),
    )
    schedule = solve_cpsat(spec, workers=1)
    assert schedule.makespan == 6
    assert replay_schedule(spec, schedule).kpis().makespan == 6


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        (
            FactorySpec(
                name="random",
                machines=(MachineSpec("M0"),),
                jobs=(JobSpec(routing=(OperationSpec.on(0, Exponential(1.0)),)),),
            ),
            "random duration",
        ),
        (
            FactorySpec(
                name="fractional",
                machines=(MachineSpec("M0"),),
                jobs=(JobSpec(routing=(OperationSpec.on(0, 1.5),)),),
            ),
            "integer times",
        ),
        (
            FactorySpec(
                name="arrivals",
                machines=(MachineSpec("M0"),),
                products=(ProductSpec("P", routing=(OperationSpec.on(0, 1.0),)),),
                arrivals=ArrivalSpec(Exponential(1.0), product_mix=(1.0,), max_jobs=3),
            ),
            "static",
        ),
    ],
)
def test_non_static_factories_are_refused(spec, match):
    with pytest.raises(ValueError, match=match):
        solve_cpsat(spec, workers=1)


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="time_limit"):
        solve_cpsat(load_instance("ft06"), time_limit=0)
    with pytest.raises(ValueError, match="workers"):
        CpSatPolicy(workers=-1)


def test_replay_refuses_a_schedule_of_another_shape():
    schedule = solve_cpsat(load_instance("ft06"), workers=1)
    with pytest.raises(ValueError, match="machines"):
        replay_schedule(load_instance("la01"), schedule)
