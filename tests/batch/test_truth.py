"""The batched core against the SimPy factory: same decisions, same start and end times.

``non_delay``: the factory is driven with the core's job choices and its candidate set
(:meth:`~shopfloor.sim.Factory.ready_operations`) must equal the core's mask at every
step. ``active`` and ``append``: the core's machine sequences are replayed in the
factory in time order (the replay of :func:`shopfloor.policies.replay_schedule`), and a
scalar reference of each mode's candidate set is checked at every step.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from shopfloor.batch import BatchJobShop
from shopfloor.instances import JobShopInstance, instance_names, load_instance
from shopfloor.sim import Factory
from shopfloor.sim.events import START

SMALL = ["ft06", "la01", "orb07", "abz5"]  # orb07 has an operation of zero duration


def _small() -> list[JobShopInstance]:
    instances = [load_instance(name) for name in SMALL]
    assert all(isinstance(item, JobShopInstance) for item in instances)
    return instances  # type: ignore[return-value]


def _factory_starts(factory: Factory) -> dict[tuple[int, int], float]:
    """``(job, operation) -> start`` from the factory's event log."""
    return {
        (job, operation): time
        for time, kind, _machine, job, operation, _value in factory.log
        if kind == START
    }


def _core_starts(core: BatchJobShop, row: int) -> dict[tuple[int, int], float]:
    instance = core.instances[row]
    starts = core.start_times()[row]
    return {
        (job, operation): float(starts[job, operation])
        for job in range(instance.n_jobs)
        for operation in range(instance.operations_per_job)
    }


def _reference_candidates(
    instance: JobShopInstance,
    mode: str,
    next_op: list[int],
    job_ready: list[float],
    machine_ready: list[float],
) -> set[int]:
    """The mode's candidate jobs, straight from the definitions (one job at a time)."""
    pairs = []
    for job, operation in enumerate(next_op):
        if operation == instance.operations_per_job:
            continue
        machine = instance.machines[job][operation]
        est = max(job_ready[job], machine_ready[machine])
        pairs.append((job, machine, est, est + instance.durations[job][operation]))
    if mode == "append":
        return {job for job, *_ in pairs}
    best = min(ect for *_, ect in pairs)
    machine_star = min(machine for _, machine, _, ect in pairs if ect == best)
    return {
        job
        for job, machine, est, ect in pairs
        if machine == machine_star and (est < best or ect == best)
    }


def _replay(instance: JobShopInstance, sequences: list[list[tuple[int, int]]]) -> Factory:
    """Run the machine sequences through the factory, each operation as early as allowed."""
    factory = Factory(instance.to_factory_spec(), seed=0)
    position = [0] * len(sequences)
    while factory.next_decision():
        machine = factory.decision_machine()
        turn = position[machine]
        if turn < len(sequences[machine]):
            job, operation = sequences[machine][turn]
            if factory.operation_index(job) == operation and job in factory.queue(machine):
                factory.start(job, machine)
                position[machine] = turn + 1
                continue
        factory.defer(machine)
    assert position == [len(sequence) for sequence in sequences]
    return factory


def check_non_delay(instances: list[JobShopInstance], seed: int) -> None:
    """Random candidate choices in the core and the factory; masks and times agree."""
    core = BatchJobShop(instances, mode="non_delay", features=False)
    factories = [Factory(instance.to_factory_spec(), seed=0) for instance in instances]
    for factory in factories:
        assert factory.next_decision()
    rng = np.random.default_rng(seed)
    _, masks = core.reset()
    total_reward = np.zeros(len(instances))
    while not core.dones.all():
        actions = np.zeros(len(instances), dtype=np.int64)
        for row, factory in enumerate(factories):
            if core.dones[row]:
                assert factory.done
                continue
            ready = sorted({job for job, _ in factory.ready_operations()})
            assert sorted(np.flatnonzero(masks[row]).tolist()) == ready, (row, factory.now)
            job = ready[int(rng.integers(len(ready)))]
            actions[row] = job
            machine = next(m for j, m in factory.ready_operations() if j == job)
            factory.start(job, machine)
            factory.next_decision()
        _, masks, rewards, dones = core.step(actions)
        total_reward += rewards
        assert not masks[dones].any()
    for row, (instance, factory) in enumerate(zip(instances, factories, strict=True)):
        assert factory.done
        assert _core_starts(core, row) == _factory_starts(factory), instance.name
        makespan = factory.kpis().makespan
        assert core.makespans()[row] == makespan
        mean_load = sum(instance.job_totals()) / instance.n_machines
        assert math.isclose(total_reward[row], -makespan / mean_load, rel_tol=1e-9)


def check_replayed(instances: list[JobShopInstance], mode: str, seed: int) -> None:
    """Random candidate choices in the core; masks follow the definitions, replay agrees."""
    core = BatchJobShop(instances, mode=mode, features=False)
    rng = np.random.default_rng(seed)
    _, masks = core.reset()
    batch = len(instances)
    next_op = [[0] * instance.n_jobs for instance in instances]
    job_ready = [[0.0] * instance.n_jobs for instance in instances]
    machine_ready = [[0.0] * instance.n_machines for instance in instances]
    total_reward = np.zeros(batch)
    while not core.dones.all():
        actions = np.zeros(batch, dtype=np.int64)
        for row, instance in enumerate(instances):
            if core.dones[row]:
                continue
            expected = _reference_candidates(
                instance, mode, next_op[row], job_ready[row], machine_ready[row]
            )
            assert set(np.flatnonzero(masks[row]).tolist()) == expected, (instance.name, row)
            job = sorted(expected)[int(rng.integers(len(expected)))]
            actions[row] = job
            operation = next_op[row][job]
            machine = instance.machines[job][operation]
            end = max(job_ready[row][job], machine_ready[row][machine])
            end += instance.durations[job][operation]
            job_ready[row][job] = machine_ready[row][machine] = end
            next_op[row][job] += 1
        _, masks, rewards, _ = core.step(actions)
        total_reward += rewards
    for row, instance in enumerate(instances):
        factory = _replay(instance, core.machine_sequences(row))
        assert _core_starts(core, row) == _factory_starts(factory), instance.name
        makespan = factory.kpis().makespan
        assert core.makespans()[row] == makespan
        mean_load = sum(instance.job_totals()) / instance.n_machines
        assert math.isclose(total_reward[row], -makespan / mean_load, rel_tol=1e-9)


@pytest.mark.parametrize("seed", [0, 1])
def test_non_delay_equals_the_factory(seed: int) -> None:
    check_non_delay(_small(), seed)


@pytest.mark.parametrize("mode", ["active", "append"])
def test_active_and_append_replay_exactly(mode: str) -> None:
    check_replayed(_small(), mode, seed=3)


def test_the_zero_duration_operation_waits_for_the_choices_due_with_it() -> None:
    """Two jobs: job 0's first operation takes no time; the factory offers its second
    operation only after the other choice due at t=0."""
    instance = JobShopInstance("zero", durations=((0, 3), (2, 1)), machines=((0, 1), (1, 0)))
    core = BatchJobShop([instance], features=False)
    _, masks = core.reset()
    assert masks[0].tolist() == [True, True]
    _, masks, _, _ = core.step(np.array([0]))
    assert masks[0].tolist() == [False, True]  # job 0 waits for the wave to end
    _, masks, _, _ = core.step(np.array([1]))
    assert masks[0].tolist() == [True, True]  # both at t=2, when machine 1 is free
    check_non_delay([instance], seed=0)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["non_delay", "active", "append"])
def test_every_bundled_instance_in_every_mode(mode: str) -> None:
    instances = [
        item for item in map(load_instance, instance_names()) if isinstance(item, JobShopInstance)
    ]
    assert len(instances) == 162
    if mode == "non_delay":
        check_non_delay(instances, seed=7)
    else:
        check_replayed(instances, mode, seed=7)
