"""The batched flexible job shop against the SimPy factory, pair by pair."""

from __future__ import annotations

import math

import numpy as np
import pytest

from shopfloor.batch import BatchFlexibleJobShop, BatchJobShop, InvalidBatchActionError
from shopfloor.envs import JobShopEnv
from shopfloor.instances import (
    FlexibleJobShopInstance,
    JobShopInstance,
    flexible_instance_names,
    load_instance,
)
from shopfloor.sim import Factory
from shopfloor.sim.events import START


def _random_flexible(seed: int, zero: bool = False) -> FlexibleJobShopInstance:
    rng = np.random.default_rng(seed)
    jobs, machines = 5, 4
    operations = []
    for _ in range(jobs):
        routing = []
        for _ in range(int(rng.integers(2, 5))):
            chosen = rng.choice(machines, size=int(rng.integers(1, machines + 1)), replace=False)
            low = 0 if zero else 1
            routing.append(tuple((int(m), int(rng.integers(low, 6))) for m in sorted(chosen)))
        operations.append(tuple(routing))
    return FlexibleJobShopInstance(f"random{seed}", tuple(operations), machine_count=machines)


def _instances() -> list[FlexibleJobShopInstance]:
    bundled = [load_instance(name) for name in ("mk01", "hurink_vdata_la01")]
    assert all(isinstance(item, FlexibleJobShopInstance) for item in bundled)
    return [*bundled, _random_flexible(0), _random_flexible(1, zero=True)]  # type: ignore[list-item]


def _starts(factory: Factory) -> dict[tuple[int, int], tuple[float, int]]:
    return {
        (job, step): (time, machine)
        for time, kind, machine, job, step, _ in factory.log
        if kind == START
    }


def _core_starts(core: BatchFlexibleJobShop, row: int) -> dict[tuple[int, int], tuple[float, int]]:
    starts, machines = core.start_times()[row], core.machines()[row]
    return {
        (int(job), int(step)): (float(starts[job, step]), int(machines[job, step]))
        for job, step in zip(*np.nonzero(machines >= 0), strict=True)
    }


def check_non_delay(instances: list[FlexibleJobShopInstance], seed: int) -> None:
    core = BatchFlexibleJobShop(instances)
    machines = core.n_machines
    factories = [Factory(item.to_factory_spec(), seed=0) for item in instances]
    for factory in factories:
        assert factory.next_decision()
    masks = core.masks
    rng = np.random.default_rng(seed)
    total = np.zeros(len(instances))
    while not core.dones.all():
        actions = np.zeros(len(instances), dtype=np.int64)
        for row, factory in enumerate(factories):
            if core.dones[row]:
                assert factory.done
                continue
            ready = sorted(factory.ready_operations())
            pairs = sorted(
                (int(a) // machines, int(a) % machines) for a in np.flatnonzero(masks[row])
            )
            assert pairs == ready, (instances[row].name, factory.now)
            job, machine = ready[int(rng.integers(len(ready)))]
            actions[row] = job * machines + machine
            factory.start(job, machine)
            factory.next_decision()
        _, masks, rewards, _ = core.step(actions)
        total += rewards
    for row, (item, factory) in enumerate(zip(instances, factories, strict=True)):
        assert _core_starts(core, row) == _starts(factory), item.name
        makespan = factory.kpis().makespan
        assert core.makespans()[row] == makespan
        fastest = sum(min(t for _, t in op) for routing in item.operations for op in routing)
        assert math.isclose(total[row], -makespan * item.n_machines / fastest, rel_tol=1e-9)


def _reference(
    item: FlexibleJobShopInstance, mode: str, state: dict[str, list[int]], machines_total: int
) -> set[int]:
    pairs = []
    for job, step in enumerate(state["next"]):
        if step == len(item.operations[job]):
            continue
        for machine, time in item.operations[job][step]:
            est = max(state["job"][job], state["machine"][machine])
            pairs.append((job, machine, est, est + time))
    if mode == "append":
        return {job * machines_total + machine for job, machine, _, _ in pairs}
    best = min(ect for *_, ect in pairs)
    star = min(machine for _, machine, _, ect in pairs if ect == best)
    return {
        job * machines_total + machine
        for job, machine, est, ect in pairs
        if machine == star and (est < best or ect == best)
    }


def _replay(item: FlexibleJobShopInstance, sequences: list[list[tuple[int, int]]]) -> Factory:
    factory = Factory(item.to_factory_spec(), seed=0)
    position = [0] * len(sequences)
    while factory.next_decision():
        started = False
        for machine in factory.due_machines():
            turn = position[machine]
            if turn < len(sequences[machine]):
                job, step = sequences[machine][turn]
                if factory.operation_index(job) == step and job in factory.queue(machine):
                    factory.start(job, machine)
                    position[machine] = turn + 1
                    started = True
                    break
        if not started:
            factory.defer(factory.decision_machine())
    assert position == [len(sequence) for sequence in sequences]
    return factory


def check_replayed(instances: list[FlexibleJobShopInstance], mode: str, seed: int) -> None:
    core = BatchFlexibleJobShop(instances, mode)
    width = core.n_machines
    states = [
        {
            "next": [0] * item.n_jobs,
            "job": [0] * item.n_jobs,
            "machine": [0] * width,
            "width": width,
        }
        for item in instances
    ]
    masks = core.masks
    rng = np.random.default_rng(seed)
    while not core.dones.all():
        actions = np.zeros(len(instances), dtype=np.int64)
        for row, (item, state) in enumerate(zip(instances, states, strict=True)):
            if core.dones[row]:
                continue
            expected = _reference(item, mode, state, width)
            assert set(np.flatnonzero(masks[row]).tolist()) == expected, item.name
            action = sorted(expected)[int(rng.integers(len(expected)))]
            actions[row] = action
            job, machine = divmod(action, width)
            step = state["next"][job]
            time = dict(item.operations[job][step])[machine]
            end = max(state["job"][job], state["machine"][machine]) + time
            state["job"][job] = state["machine"][machine] = end
            state["next"][job] += 1
        _, masks, _, _ = core.step(actions)
    for row, item in enumerate(instances):
        factory = _replay(item, core.machine_sequences(row))
        assert _core_starts(core, row) == _starts(factory), item.name
        assert core.makespans()[row] == factory.kpis().makespan
        ends = core.end_times()[row]
        assert np.nanmax(ends) == factory.kpis().makespan


@pytest.mark.parametrize("seed", [0, 1])
def test_non_delay_pairs_and_times_equal_the_factorys(seed: int) -> None:
    check_non_delay(_instances(), seed)


@pytest.mark.parametrize("mode", ["active", "append"])
def test_active_and_append_follow_the_definitions_and_replay_exactly(mode: str) -> None:
    check_replayed(_instances(), mode, seed=2)


@pytest.mark.parametrize("mode", ["non_delay", "active", "append"])
def test_torch_schedules_what_numpy_schedules(mode: str) -> None:
    instances = _instances()
    cores = [
        BatchFlexibleJobShop(instances, mode, features=True),
        BatchFlexibleJobShop(instances, mode, backend="torch", device="cpu", features=True),
    ]
    rng = np.random.default_rng(0)
    outputs = [[np.asarray(array) for array in core.reset()] for core in cores]
    while not cores[0].dones.all():
        for left, right in zip(outputs[0], outputs[1], strict=True):
            np.testing.assert_array_equal(left, right)  # features, masks (and rewards)
        masks = outputs[0][1]
        actions = np.where(masks, rng.random(masks.shape), -1.0).argmax(axis=1)
        outputs = [[np.asarray(array) for array in core.step(actions)] for core in cores]
    np.testing.assert_array_equal(cores[0].start_times(), cores[1].start_times())


def test_a_classic_instance_is_a_flexible_one_with_single_alternatives() -> None:
    core = BatchFlexibleJobShop(["ft06"], "active")
    masks = core.masks
    while not core.dones.all():
        masks = core.step(np.asarray(masks).argmax(axis=1)).masks
    assert core.makespans().tolist() == [65.0]  # as BatchJobShop's first candidates give
    with pytest.raises(InvalidBatchActionError, match="instance 0"):
        BatchFlexibleJobShop(["mk01"]).step(np.array([1]))  # job 0 on machine 1: no


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["non_delay", "active", "append"])
def test_every_bundled_flexible_instance_in_every_mode(mode: str) -> None:
    instances = [load_instance(name) for name in flexible_instance_names()]
    flexible = [item for item in instances if isinstance(item, FlexibleJobShopInstance)]
    flexible += [_random_flexible(seed, zero=seed % 2 == 1) for seed in range(20)]
    assert len(flexible) == 208 + 20
    if mode == "non_delay":
        check_non_delay(flexible, seed=5)
    else:
        check_replayed(flexible, mode, seed=5)


# ------------------------------------------------------------------ features


def _single_env(item: FlexibleJobShopInstance | JobShopInstance, mode: str) -> JobShopEnv:
    return JobShopEnv(spec=item.to_factory_spec(), mode=mode)


def _cut(row: np.ndarray, jobs: int, machines: int, n_jobs: int, n_machines: int) -> np.ndarray:
    """A padded feature row (``jobs`` x ``machines`` wide) cut to one instance's sizes."""
    job_blocks = row[: 8 * jobs].reshape(8, jobs)
    machine_blocks = row[8 * jobs :].reshape(3, machines)
    assert not job_blocks[:, n_jobs:].any() and not machine_blocks[:, n_machines:].any()
    return np.concatenate([job_blocks[:, :n_jobs].ravel(), machine_blocks[:, :n_machines].ravel()])


def _padded_mix() -> list[FlexibleJobShopInstance | JobShopInstance]:
    named = [load_instance(name) for name in ("mk01", "hurink_vdata_la01", "ft06")]
    zero = [_random_flexible(seed, zero=True) for seed in (1, 3)]
    return [*named, _random_flexible(0), *zero]  # type: ignore[list-item]


def check_features(
    instances: list[FlexibleJobShopInstance | JobShopInstance], mode: str, seed: int
) -> None:
    """Each row of a batch against JobShop-v0 on its instance, step by step.

    Features (cut to the row's sizes, padding 0), masks, rewards, dones and makespans
    are equal, the features bit for bit. The env's action is mapped to the core's pair:
    in ``non_delay`` and ``active`` the job's lowest-index candidate machine (the one
    the env starts it on, or m*), in a flexible ``append`` the pair itself.
    """
    core = BatchFlexibleJobShop(instances, mode, features=True)
    jobs, machines = core.n_jobs, core.n_machines
    envs = [_single_env(item, mode) for item in instances]
    observations = [env.reset(seed=0)[0] for env in envs]
    features, masks = core.reset()
    assert features.shape == (len(instances), jobs * 8 + machines * 3)
    assert features.dtype == np.float32
    finished = [False] * len(envs)
    env_rewards = [0.0] * len(envs)
    makespans = [0.0] * len(envs)
    rng = np.random.default_rng(seed)
    steps = 0
    while not all(finished):
        actions = np.zeros(len(envs), dtype=np.int64)
        for row, env in enumerate(envs):
            shape = (jobs, machines, env.n_jobs, env.n_machines)
            if finished[row]:
                assert not masks[row].any()
                continue
            np.testing.assert_array_equal(_cut(features[row], *shape), observations[row])
            pairs = masks[row].reshape(jobs, machines)
            expected = env.action_masks()
            if env.encode_action(1, 0) == 1:  # a job per action
                assert pairs.any(axis=1)[: env.n_jobs].tolist() == expected.tolist()
            else:
                flat = pairs[: env.n_jobs, : env.n_machines].ravel()
                assert flat.tolist() == expected.tolist()
            action = int(rng.choice(np.flatnonzero(expected)))
            job, machine = env.decode_action(action)
            if env.encode_action(1, 0) == 1:
                assert machine == int(pairs[job].argmax())
            actions[row] = job * machines + machine
            observations[row], env_rewards[row], done, _, info = env.step(action)
            if done:
                finished[row] = True
                makespans[row] = info["makespan"]
        live = ~np.asarray(core.dones)
        features, masks, rewards, dones = core.step(actions)
        steps += 1
        for row in np.flatnonzero(live):
            assert rewards[row] == env_rewards[row]
            assert bool(dones[row]) is finished[row]
            if finished[row]:  # the last observation too
                shape = (jobs, machines, envs[row].n_jobs, envs[row].n_machines)
                np.testing.assert_array_equal(_cut(features[row], *shape), observations[row])
                assert core.makespans()[row] == makespans[row]
    assert steps == max(item.n_operations for item in instances)


@pytest.mark.parametrize("mode", ["non_delay", "active", "append"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_features_masks_and_rewards_equal_the_single_envs(mode: str, seed: int) -> None:
    """A padded mixed batch: mk01 (10 x 6) fills it; Hurink la01 (10 x 5), ft06 (classic,
    6 x 6) and generated shops (two with zero durations) are padded."""
    instances = _padded_mix()
    sizes = {(item.n_jobs, item.n_machines) for item in instances}
    assert (10, 6) in sizes and (10, 5) in sizes and (6, 6) in sizes
    check_features(instances, mode, seed)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["non_delay", "active", "append"])
def test_features_of_every_bundled_flexible_instance(mode: str) -> None:
    flexible: list[FlexibleJobShopInstance | JobShopInstance] = [
        item
        for item in map(load_instance, flexible_instance_names())
        if isinstance(item, FlexibleJobShopInstance)
    ]
    flexible += [_random_flexible(seed, zero=seed % 2 == 1) for seed in range(20)]
    check_features(flexible, mode, seed=7)


def test_features_are_off_by_default_and_rows_reset_alone() -> None:
    assert BatchFlexibleJobShop(["mk01"]).step(np.array([2])).features is None
    instances = _padded_mix()
    core = BatchFlexibleJobShop(instances, "non_delay", features=True)
    fresh_features, fresh_masks = core.reset()
    generator = core.backend.generator(0)
    for _ in range(12):
        core.step(core.random_actions(generator))
    before = np.asarray(core.features()).copy()
    rows = np.array([True, False, True, False, False, True])
    features, masks = core.reset(rows)
    np.testing.assert_array_equal(features[rows], fresh_features[rows])
    np.testing.assert_array_equal(masks[rows], fresh_masks[rows])
    np.testing.assert_array_equal(features[~rows], before[~rows])
    while not core.dones.all():  # the reset rows schedule all their operations again
        core.step(core.random_actions(generator))
    assert not np.isnan(core.start_times()[0, :10, :5]).any()
    with pytest.raises(ValueError, match="rows"):
        core.reset(np.array([True]))


@pytest.mark.parametrize("mode", ["non_delay", "active", "append"])
def test_classic_shops_get_the_classic_cores_features(mode: str) -> None:
    """ft06, la01, la16 and ta01 padded together: both cores show the same bits."""
    names = ["ft06", "la01", "la16", "ta01"]
    classic = BatchJobShop(names, mode)
    flexible = BatchFlexibleJobShop(names, mode, features=True)
    machines = flexible.n_machines
    features, masks = classic.reset()
    pair_features, pair_masks = flexible.reset()
    rows = np.arange(len(names))
    rng = np.random.default_rng(3)
    while not classic.dones.all():
        np.testing.assert_array_equal(pair_features, features)
        pairs = pair_masks.reshape(len(names), -1, machines)
        np.testing.assert_array_equal(pairs.any(axis=2), masks)
        jobs = np.where(masks, rng.random(masks.shape), -1.0).argmax(axis=1)
        features, masks, rewards, _ = classic.step(jobs)
        step = flexible.step(jobs * machines + pairs[rows, jobs].argmax(axis=1))
        pair_features, pair_masks = step.features, step.masks
        np.testing.assert_array_equal(step.rewards, rewards)
    np.testing.assert_array_equal(pair_features, features)
    np.testing.assert_array_equal(flexible.start_times()[:, :, :15], classic.start_times())
