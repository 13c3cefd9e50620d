"""JobShop's decision modes: GT candidates, exact replay in the factory, CP-SAT optima."""

from __future__ import annotations

import math
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import shopfloor.envs  # noqa: F401  (registers the ids)
from shopfloor.envs import InvalidActionError, JobShopEnv, ScheduleTracker, replay_sequences
from shopfloor.instances import flexible_instance_names, instance_names, load_instance
from shopfloor.policies import replay_schedule, solve_cpsat
from shopfloor.sim import (
    Factory,
    FactorySpec,
    JobSpec,
    MachineSpec,
    OperationSpec,
    ProductSpec,
    SetupSpec,
)
from shopfloor.sim.events import COMPLETE, START

Key = tuple[int, int]  # (job, operation)


def _small_spec() -> FactorySpec:
    """Three jobs on two machines, the example worked by hand below."""
    return FactorySpec(
        name="small",
        machines=(MachineSpec("M0"), MachineSpec("M1")),
        jobs=(
            JobSpec(routing=(OperationSpec.on(0, 3.0), OperationSpec.on(1, 2.0))),
            JobSpec(routing=(OperationSpec.on(0, 2.0), OperationSpec.on(1, 4.0))),
            JobSpec(routing=(OperationSpec.on(1, 5.0), OperationSpec.on(0, 1.0))),
        ),
    )


def flexible_spec(seed: int, n_jobs: int = 4, n_machines: int = 3, n_ops: int = 3) -> FactorySpec:
    """A random flexible job shop: every operation has two machines with their own times."""
    rng = np.random.default_rng(seed)
    jobs = []
    for job in range(n_jobs):
        routing = []
        for _ in range(n_ops):
            machines = tuple(sorted(rng.choice(n_machines, size=2, replace=False).tolist()))
            times = tuple(float(t) for t in rng.integers(1, 10, size=2))
            routing.append(OperationSpec(machines, times))
        jobs.append(JobSpec(routing=tuple(routing), release_time=float(job % 2)))
    return FactorySpec(
        name=f"flexible-{seed}",
        machines=tuple(MachineSpec(f"M{m}") for m in range(n_machines)),
        jobs=tuple(jobs),
    )


def logged_operations(factory: Factory) -> dict[Key, tuple[int, float, float]]:
    """``(job, operation) -> (machine, start, end)`` from a finished factory's log."""
    started: dict[int, tuple[int, int, float]] = {}
    operations = {}
    for time, kind, machine, job, operation, _ in factory.log:
        if kind == START:
            started[machine] = (job, operation, time)
        elif kind == COMPLETE:
            job, operation, start = started.pop(machine)
            operations[job, operation] = (machine, start, time)
    return operations


def run_random(env: JobShopEnv, seed: int) -> tuple[list[float], dict]:
    rng = np.random.default_rng(seed)
    env.reset(seed=seed)
    rewards = []
    while True:
        action = int(rng.choice(np.flatnonzero(env.action_masks())))
        _, reward, terminated, truncated, info = env.step(action)
        rewards.append(reward)
        assert not truncated
        if terminated:
            return rewards, info


# -- the modes by hand


def test_active_candidates_follow_giffler_thompson_by_hand():
    env = JobShopEnv(spec=_small_spec(), mode="active")
    env.reset(seed=0)
    # est/ect: J0 on M0 0/3, J1 on M0 0/2, J2 on M1 0/5: C* = 2 on M0; J0, J1 compete.
    assert env.action_masks().tolist() == [True, True, False]
    _, reward, *_ = env.step(0)  # J0 on M0 [0, 3]
    assert reward == pytest.approx(-3 / 8.5)  # mean load 17 / 2
    # J0 on M1 3/5, J1 on M0 3/5, J2 on M1 0/5: C* = 5, tie to M0: J1 alone.
    assert env.action_masks().tolist() == [False, True, False]
    env.step(1)  # J1 on M0 [3, 5]
    # J0 on M1 3/5, J1 on M1 5/9, J2 on M1 0/5: C* = 5 on M1; J0 and J2 start before it.
    assert env.action_masks().tolist() == [True, False, True]
    assert env.tracker is not None and env.tracker.critical_machine == 1


def test_append_offers_every_unfinished_job_and_starts_it_as_early_as_possible():
    env = JobShopEnv(spec=_small_spec(), mode="append")
    env.reset(seed=0)
    assert env.action_masks().tolist() == [True, True, True]
    for job in (2, 2, 0, 1):  # J2 runs M1 [0, 5], M0 [5, 6]; J0 M0 [6, 9]; J1 M0 [9, 11]
        env.step(job)
    assert env.tracker is not None
    assert [step.start for step in env.tracker.steps] == [0.0, 5.0, 6.0, 9.0]
    assert env.action_masks().tolist() == [True, True, False]  # J2 is done


def test_the_default_mode_is_non_delay_and_unknown_modes_are_refused():
    assert JobShopEnv().mode == "non_delay"
    with pytest.raises(ValueError, match="unknown decision mode 'delay'"):
        JobShopEnv(mode="delay")


def test_setups_are_refused_outside_non_delay():
    spec = FactorySpec(
        name="setups",
        machines=(MachineSpec("M0", setup=SetupSpec(times=((0.0, 1.0), (1.0, 0.0)))),),
        products=(
            ProductSpec("A", routing=(OperationSpec.on(0, 1.0),), family=0),
            ProductSpec("B", routing=(OperationSpec.on(0, 1.0),), family=1),
        ),
        jobs=(JobSpec(product=0), JobSpec(product=1)),
    )
    JobShopEnv(spec=spec)  # non_delay simulates setups
    with pytest.raises(ValueError, match="mode 'active' needs a shop without setups"):
        JobShopEnv(spec=spec, mode="active")


def test_gym_make_takes_the_mode():
    env = gym.make("shopfloor/JobShop-v0", instance="ta01", mode="active")
    assert env.unwrapped.mode == "active"
    env.reset(seed=0)
    assert env.unwrapped.action_masks().sum() >= 1


# -- the same schedule in the factory


@pytest.mark.parametrize("mode", ["active", "append"])
@pytest.mark.parametrize(
    "make_spec",
    [
        lambda: load_instance("ft06").to_factory_spec(),
        lambda: load_instance("la16").to_factory_spec(),
        lambda: flexible_spec(0),
        lambda: flexible_spec(1, n_jobs=6, n_machines=4, n_ops=4),
    ],
    ids=["ft06", "la16", "flexible-4x3", "flexible-6x4"],
)
def test_replay_in_the_factory_gives_the_trackers_times(mode, make_spec):
    spec = make_spec()
    env = JobShopEnv(spec=spec, mode=mode)
    for seed in range(3):
        rewards, info = run_random(env, seed)
        tracker = env.tracker
        assert tracker is not None
        planned = {(s.job, s.operation): (s.machine, s.start, s.end) for s in tracker.steps}
        assert logged_operations(env.factory) == planned  # exact, not approximate
        assert info["makespan"] == tracker.makespan == env.episode_objective()
        assert sum(rewards) == pytest.approx(-tracker.makespan / env._mean_load)
        assert env.factory.done


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["active", "append"])
def test_replay_equals_the_tracker_on_every_bundled_instance(mode):
    """Every classic instance, Brandimarte's and every tenth Hurink one, random decisions."""
    flexible = [name for name in flexible_instance_names() if name.startswith("mk")]
    flexible += [name for name in flexible_instance_names() if name.startswith("hurink")][::10]
    for name in [*instance_names(), *flexible]:
        env = JobShopEnv(instance=name, mode=mode)
        run_random(env, seed=len(name))
        tracker = env.tracker
        assert tracker is not None
        planned = {(s.job, s.operation): (s.machine, s.start, s.end) for s in tracker.steps}
        assert logged_operations(env.factory) == planned, name


def test_the_replay_refuses_sequences_that_deadlock():
    spec = _small_spec()
    # M0 runs J1 before J0's first operation, M1 J0 before J1: a cycle.
    sequences = [[(1, 0), (2, 1), (0, 0)], [(0, 1), (1, 1), (2, 0)]]
    with pytest.raises(ValueError, match="deadlock"):
        replay_sequences(Factory(spec, seed=0), sequences)


# -- CP-SAT's optima are reachable


def left_shifted(spec: FactorySpec) -> tuple[dict[Key, tuple[int, float, float]], int]:
    """CP-SAT's optimal schedule, left-shifted to semi-active in the factory."""
    schedule = solve_cpsat(spec, time_limit=30.0, workers=1)
    assert schedule.optimal
    operations = logged_operations(replay_schedule(spec, schedule))
    assert max(end for _, _, end in operations.values()) == schedule.makespan
    return operations, schedule.makespan


def append_decisions(env: JobShopEnv, operations: dict[Key, tuple[int, float, float]]) -> None:
    """Schedule ``operations`` in start order (ties: machine, then job), checking each start."""
    order = sorted(operations, key=lambda key: (operations[key][1], operations[key][0], key[0]))
    for job, operation in order:
        machine, start, end = operations[job, operation]
        env.step(env.encode_action(job, machine))
        assert env.tracker is not None
        assert env.tracker.steps[-1] == (job, operation, machine, start, end)


def active_decisions(env: JobShopEnv, operations: dict[Key, tuple[int, float, float]]) -> None:
    """Schedule an optimum in active mode, by the Giffler-Thompson argument.

    ``target`` is an optimal schedule that agrees with every decision so far. At each
    step let C* be the earliest completion on m*. If some next operation runs on m* in
    the target and starts before C*, the earliest such is a candidate: schedule it and
    left-shift it in the target (m* is idle before it). Otherwise every unscheduled
    operation on m* starts at C* or later, so the operation attaining C* can move to m*
    in the target, ending no later: schedule that. The target stays optimal throughout.
    """
    tracker = env.tracker
    assert tracker is not None
    target = dict(operations)
    while not tracker.done:
        best, critical = math.inf, -1
        for job in range(tracker.n_jobs):
            if tracker.operations_remaining(job) == 0:
                continue
            for machine, time in tracker.options[job][tracker.next_operation[job]]:
                end = tracker.earliest_start(job, machine) + time
                if (end, machine) < (best, critical if critical >= 0 else math.inf):
                    best, critical = end, machine
        assert tracker.critical_machine == critical
        on_critical = [
            (target[job, tracker.next_operation[job]][1], job)
            for job in range(tracker.n_jobs)
            if tracker.operations_remaining(job)
            and target[job, tracker.next_operation[job]][0] == critical
            and target[job, tracker.next_operation[job]][1] < best
        ]
        if on_critical:
            job = min(on_critical)[1]
        else:
            job = min(
                job
                for job, machine in tracker.candidates
                if tracker.earliest_start(job, machine) + tracker.operation_time(job, machine)
                == best
            )
        assert tracker.is_candidate(job, critical)
        operation = tracker.next_operation[job]
        env.step(env.encode_action(job, critical))
        step = tracker.steps[-1]
        assert step.start <= target[job, operation][1]
        target[job, operation] = (critical, step.start, step.end)


OPTIMA = {"ft06": 55, "la01": 666, "la02": 655, "la03": 597, "la04": 590, "la05": 593}


@pytest.mark.parametrize("name", sorted(OPTIMA))
def test_cpsat_optimum_is_replayed_exactly_in_append_and_reached_in_active(name):
    spec = load_instance(name).to_factory_spec()
    operations, optimum = left_shifted(spec)
    assert optimum == OPTIMA[name]
    append = JobShopEnv(spec=spec, mode="append")
    append.reset(seed=0)
    append_decisions(append, operations)
    assert append.factory.done and append.episode_objective() == optimum
    active = JobShopEnv(spec=spec, mode="active")
    active.reset(seed=0)
    active_decisions(active, operations)
    assert active.factory.done and active.episode_objective() == optimum


@pytest.mark.parametrize("seed", range(4))
def test_flexible_cpsat_optimum_is_replayed_in_append_and_reached_in_active(seed):
    spec = flexible_spec(seed)
    operations, optimum = left_shifted(spec)
    for mode, decide in (("append", append_decisions), ("active", active_decisions)):
        env = JobShopEnv(spec=spec, mode=mode)
        env.reset(seed=0)
        # append: (job, machine) pairs; active: jobs (every candidate is on m*)
        assert env.action_space.n == (4 * 3 if mode == "append" else 4)
        decide(env, operations)
        assert env.factory.done and env.episode_objective() == optimum, mode


def test_non_delay_misses_the_optimum_that_active_reaches():
    """ft06's optimum 55 is not non-delay: the best of 200 random non-delay schedules stays
    above (an exhaustive branch and bound over its non-delay schedules finds none of 55)."""
    env = JobShopEnv(instance="ft06")
    best = min(run_random(env, seed)[1]["makespan"] for seed in range(200))
    assert best > 55


# -- actions, masks, spaces


def test_flexible_actions_are_job_machine_pairs():
    spec = flexible_spec(3)
    env = JobShopEnv(spec=spec, mode="append")
    env.reset(seed=0)
    mask = env.action_masks()
    assert mask.shape == (12,)
    expected = set()
    for job, job_spec in enumerate(spec.jobs):  # release times do not matter here
        assert job_spec.routing is not None
        for machine in job_spec.routing[0].machines:
            expected.add(job * 3 + machine)
    assert set(np.flatnonzero(mask).tolist()) == expected
    assert env.decode_action(7) == (2, 1)
    assert env.encode_action(2, 1) == 7
    # The non-delay env keeps one action per job (the lowest-index free machine).
    assert JobShopEnv(spec=spec).action_space.n == 4


@pytest.mark.parametrize("mode", ["active", "append"])
def test_invalid_actions_name_the_action(mode):
    env = JobShopEnv(spec=_small_spec(), mode=mode)
    env.reset(seed=0)
    with pytest.raises(InvalidActionError, match="outside the action space"):
        env.step(3)
    with pytest.raises(InvalidActionError, match="single integer"):
        env.step(0.5)
    if mode == "active":  # J2 does not compete on M0
        with pytest.raises(InvalidActionError, match=r"action 2 is not valid in mode 'active'"):
            env.step(2)
    else:
        env.step(2)
        env.step(2)
        with pytest.raises(InvalidActionError, match=r"action 2 is not valid in mode 'append'"):
            env.step(2)  # J2 is done


@pytest.mark.parametrize("mode", ["active", "append"])
def test_masked_pairs_are_exactly_the_schedulable_ones(mode):
    spec = flexible_spec(5, n_jobs=5, n_machines=3)
    env = JobShopEnv(spec=spec, mode=mode)
    rng = np.random.default_rng(0)
    env.reset(seed=0)
    tracker = env.tracker
    assert tracker is not None
    while not tracker.done:
        mask = env.action_masks()
        for action in range(env.action_space.n):
            job, machine = env.decode_action(action)
            assert mask[action] == tracker.is_candidate(job, machine)
            if mask[action]:
                assert machine in dict(tracker.options[job][tracker.next_operation[job]])
                if mode == "active":
                    assert machine == tracker.critical_machine
        env.step(int(rng.choice(np.flatnonzero(mask))))


def flow_shop_spec(flexible: bool) -> FactorySpec:
    """Four jobs that all start on machine 0 (or, flexible, on machine 0 or 1)."""
    rng = np.random.default_rng(0)
    jobs = []
    for _ in range(4):
        first = (0, 1) if flexible else (0,)
        routing = [OperationSpec(first, tuple(float(t) for t in rng.integers(1, 9, len(first))))]
        routing += [OperationSpec.on(machine, float(rng.integers(1, 9))) for machine in (1, 2)]
        jobs.append(JobSpec(routing=tuple(routing)))
    machines = tuple(MachineSpec(f"M{m}") for m in range(3))
    return FactorySpec(name="flow", machines=machines, jobs=tuple(jobs))


SHOPS = {
    "ft06": {"instance": "ft06"},
    "flexible": {"spec": flexible_spec(2)},
    "flow": {"spec": flow_shop_spec(False)},
    "flexible-flow": {"spec": flow_shop_spec(True)},
}


def check_without_warnings(env: gym.Env, gymnasium_checker: bool = True) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        if gymnasium_checker:
            check_env(env.unwrapped)
        sb3_check_env(env.unwrapped, warn=True)


@pytest.mark.parametrize("mode", ["non_delay", "append"])
@pytest.mark.parametrize("shop", sorted(SHOPS))
def test_checkers_pass_without_warnings(mode, shop):
    check_without_warnings(gym.make("shopfloor/JobShop-v0", mode=mode, **SHOPS[shop]))


@pytest.mark.parametrize("shop", sorted(SHOPS))
def test_checkers_pass_without_warnings_in_active_mode(shop):
    """Gymnasium's step-determinism check samples its action *before* it resets, from the
    mask of the state its previous check left (one step in). An active-mode action valid
    there need not be valid at t=0 (ft06: job 1 competes only later), so Gymnasium's
    checker runs on the shops whose first candidates are every job (all start on one
    machine); SB3's checker, which samples after resetting, runs on every shop."""
    env = gym.make("shopfloor/JobShop-v0", mode="active", **SHOPS[shop])
    check_without_warnings(env, gymnasium_checker=shop in ("flow", "flexible-flow"))
    env.reset(seed=0)
    if shop in ("flow", "flexible-flow"):
        assert env.unwrapped.action_masks().all()  # what makes the pre-reset sample valid


@pytest.mark.parametrize("mode", ["active", "append"])
def test_same_actions_same_trajectory_and_observations_in_the_space(mode):
    def trajectory():
        env = gym.make("shopfloor/JobShop-v0", instance="la01", mode=mode)
        rng = np.random.default_rng(3)
        observation, _ = env.reset(seed=1)
        observations, rewards = [observation], []
        terminated = False
        while not terminated:
            mask = env.unwrapped.action_masks()
            action = int(rng.choice(np.flatnonzero(mask)))
            observation, reward, terminated, _, _ = env.step(action)
            assert env.observation_space.contains(observation)
            observations.append(observation)
            rewards.append(reward)
        return observations, rewards

    first, second = trajectory(), trajectory()
    assert first[1] == second[1]
    for a, b in zip(first[0], second[0], strict=True):
        np.testing.assert_array_equal(a, b)


def test_observation_of_the_hand_example():
    env = JobShopEnv(spec=_small_spec(), mode="active")
    observation, _ = env.reset(seed=0)
    observation, *_ = env.step(0)  # J0 on M0 [0, 3]; reference time: J2 on M1 at 0
    n, scale = 3, 5.0  # the longest operation
    blocks = observation[: 8 * n].reshape(8, n)
    machines = observation[8 * n :].reshape(3, 2)
    np.testing.assert_allclose(blocks[0], [0, 1, 0])  # J1 alone is a candidate
    np.testing.assert_allclose(blocks[1], [0.5, 0, 0])  # share scheduled
    np.testing.assert_allclose(blocks[2], [2 / scale, 2 / scale, 5 / scale])
    np.testing.assert_allclose(blocks[4], [2 / 3, 1 / 3, 2 / 3])  # next machine + 1 / 3
    np.testing.assert_allclose(blocks[7], [0, 3 / scale, 0])  # until the next machine is free
    np.testing.assert_allclose(machines[0], [3 / scale, 0])  # M0 busy until 3
    np.testing.assert_allclose(machines[1], [1 / 3, 2 / 3])  # next operations per machine


@pytest.mark.parametrize("mode", ["active", "append"])
def test_render_shows_the_schedule_so_far_and_at_the_end(mode):
    env = JobShopEnv(spec=_small_spec(), mode=mode, render_mode="ansi")
    env.reset(seed=0)
    env.step(0 if mode == "active" else 2)
    text = env.render()
    assert isinstance(text, str) and "job" in text
    run_random(env, 0)
    assert isinstance(env.render(), str)
    gantt = JobShopEnv(spec=_small_spec(), mode=mode, render_mode="rgb_array")
    run_random(gantt, 0)
    image = gantt.render()
    assert isinstance(image, np.ndarray) and image.ndim == 3


def test_tracker_refuses_a_pair_that_is_not_a_candidate():
    tracker = ScheduleTracker(Factory(_small_spec(), seed=0), "active")
    with pytest.raises(InvalidActionError, match="job 2 on machine 1 is not a candidate"):
        tracker.schedule(2, 1)


@pytest.mark.parametrize(
    ("instance", "mode"),
    [
        ("ft06", "active"),
        ("ft06", "append"),
        ("la16", "active"),
        ("mk01", "active"),
        ("mk01", "append"),
    ],
)
def test_incremental_observation_equals_the_full_one(instance, mode):
    """After the first step the tracker modes update their observation incrementally;
    at every step it must equal, byte for byte, the observation computed in full."""
    from shopfloor.envs.job_shop import _TrackerObserver

    env = JobShopEnv(instance=instance, mode=mode)
    rng = np.random.default_rng(0)
    compared = 0
    for seed in range(3):
        observation, _ = env.reset(seed=seed)
        reference = _TrackerObserver(env._tables, env.tracker)
        assert observation.tobytes() == reference.observe_full().tobytes()
        terminated = False
        while not terminated:
            action = int(rng.choice(np.flatnonzero(env.action_masks())))
            job, machine = env.decode_action(action)
            observation, _, terminated, _, _ = env.step(action)
            reference.scheduled(job, machine)
            assert observation.dtype == np.float32
            assert observation.tobytes() == reference.observe_full().tobytes()
            compared += 1
    assert compared > 0
