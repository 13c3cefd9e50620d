"""The neural scheduler's inference: greedy, best of N, the timed search, predict.

Every schedule returned is replayed in a fresh batched core or in JobShop-v0 and must
give the same makespan (and start times). Networks are tiny (width 8, one layer).
"""

from __future__ import annotations

import time
import zipfile

import gymnasium as gym
import numpy as np
import pytest

from shopfloor.agents import (
    ALGORITHMS,
    AgentSetup,
    ModelFileError,
    NeuralPolicy,
    NeuralSchedule,
    simulate_job_shop,
)
from shopfloor.batch import BatchFlexibleJobShop, BatchJobShop
from shopfloor.instances import generate_instance, load_instance

TINY = {"width": 8, "heads": 1, "layers": 1, "work_prior": 2.0, "samples": 4, "instances": 2}


def _save_model(folder, mode: str = "active", seed: int = 0, train: bool = False):
    """A tiny self-labelling model file (optionally after one update)."""
    setup = AgentSetup(
        lambda: gym.make(
            "shopfloor/JobShop-v0", generator={"n_jobs": 5, "n_machines": 3}, mode=mode
        ),
        TINY,
        seed=seed,
        device="cpu",
    )
    agent = ALGORITHMS["self_labelling"].build(setup)
    if train:
        agent.learn(1)
    return agent.save(folder / f"tiny_{mode}.npz")


@pytest.fixture(scope="module")
def policy(tmp_path_factory) -> NeuralPolicy:
    return NeuralPolicy.load(_save_model(tmp_path_factory.mktemp("model")), device="cpu")


def _replay_core(instance, schedule: NeuralSchedule, mode: str = "active"):
    core = BatchJobShop([instance], mode)
    core.reset()
    for action in schedule.actions:
        core.step(np.array([action]))
    assert bool(core.dones.all())
    return float(core.makespans()[0]), core.start_times()[0]


def _replay_env(instance, schedule: NeuralSchedule, mode: str = "active") -> float:
    env = gym.make("shopfloor/JobShop-v0", spec=instance.to_factory_spec(), mode=mode)
    env.reset(seed=0)
    info: dict = {}
    for step, action in enumerate(schedule.actions):
        _, _, terminated, _, info = env.step(int(action))
        assert terminated == (step == len(schedule.actions) - 1)
    return float(info["makespan"])


def test_load_reads_the_mode_and_a_name(policy):
    assert policy.mode == "active" and policy.name == "tiny_active"
    assert policy.acts_on_any_size


def test_greedy_schedules_replay_in_a_fresh_core_and_in_the_env(policy):
    instances = [load_instance("ft06"), generate_instance(7, 4, seed=3)]
    schedules = policy.greedy(instances)
    for instance, schedule in zip(instances, schedules, strict=True):
        assert len(schedule.actions) == instance.n_jobs * instance.n_machines
        makespan, starts = _replay_core(instance, schedule)
        assert makespan == schedule.makespan
        np.testing.assert_array_equal(starts, schedule.start_times)
        assert _replay_env(instance, schedule) == schedule.makespan
        ends = schedule.start_times + np.asarray(instance.durations)
        assert np.nanmax(ends) == schedule.makespan


def test_predict_drives_the_env_of_any_size_as_greedy_does(policy):
    for instance in (load_instance("ft06"), generate_instance(8, 5, seed=1)):
        factory = simulate_job_shop(policy, instance.to_factory_spec(), policy.mode)
        assert factory.kpis().makespan == policy.greedy([instance])[0].makespan


def test_predict_needs_masks_and_the_job_layout(policy):
    env = gym.make("shopfloor/JobShop-v0", instance="ft06", mode="active")
    observation, _ = env.reset(seed=0)
    with pytest.raises(ValueError, match="needs action_masks"):
        policy.predict(observation)
    with pytest.raises(ValueError, match="not JobShop-v0's layout for 6 jobs"):
        policy.predict(observation[:-1], action_masks=env.unwrapped.action_masks())
    action, state = policy.predict(observation, action_masks=env.unwrapped.action_masks())
    assert state is None and env.unwrapped.action_masks()[action]


def test_best_of_keeps_the_shortest_and_includes_greedy(policy):
    instances = [load_instance("ft06"), generate_instance(6, 4, seed=5)]
    greedy = policy.greedy(instances)
    results = policy.best_of(instances, 12, seed=4)
    for instance, result, first in zip(instances, results, greedy, strict=True):
        assert result.makespans.shape == (12,)
        assert result.makespans[0] == first.makespan  # the greedy schedule leads
        assert result.makespan == result.makespans.min() <= first.makespan
        assert len(set(result.makespans.tolist())) > 1  # the others are sampled
        assert _replay_core(instance, result.best)[0] == result.makespan
        assert _replay_env(instance, result.best) == result.makespan


def test_best_of_is_deterministic_with_a_seed(policy):
    instance = generate_instance(6, 4, seed=5)
    first = policy.best_of([instance], 10, seed=1, include_greedy=False)[0]
    again = policy.best_of([instance], 10, seed=1, include_greedy=False)[0]
    other = policy.best_of([instance], 10, seed=2, include_greedy=False)[0]
    np.testing.assert_array_equal(first.makespans, again.makespans)
    np.testing.assert_array_equal(first.best.actions, again.best.actions)
    assert not np.array_equal(first.makespans, other.makespans)


def test_best_of_in_bounded_calls_gives_valid_schedules(policy):
    instances = [load_instance("ft06"), generate_instance(5, 3, seed=2)]
    results = policy.best_of(instances, 4, seed=0, max_rows=3)
    for instance, result in zip(instances, results, strict=True):
        assert result.makespans.shape == (4,) and np.isfinite(result.makespans).all()
        assert _replay_core(instance, result.best)[0] == result.makespan
    with pytest.raises(ValueError, match="n: expected an integer >= 1"):
        policy.best_of(instances, 0)


def test_the_row_budget_bounds_a_large_request(policy):
    """128 samples of ta71 (100 x 20) are split so no call exceeds the budget."""
    ta71 = load_instance("ta71")
    per_call = policy._rows_per_call(ta71)  # white-box: the memory bound itself
    chunks = policy._chunks([ta71] * 128)
    assert sum(len(chunk) for chunk in chunks) == 128
    assert max(len(chunk) for chunk in chunks) <= per_call
    chunks = policy._chunks([ta71] * 128, max_rows=50)
    assert [len(chunk) for chunk in chunks] == [50, 50, 28]


def test_search_improves_on_its_first_schedule_and_replays(policy):
    instance = generate_instance(8, 5, seed=13)  # greedy 787, the search finds 673
    greedy = policy.greedy([instance])[0]
    result = policy.search(instance, time_limit=60.0, seed=0, batch=16, max_schedules=65)
    bests = [best for _, best in result.history]
    assert bests[0] == greedy.makespan  # the first schedule is the greedy one
    assert bests == sorted(bests, reverse=True) and len(set(bests)) == len(bests)
    assert result.makespan == bests[-1] < greedy.makespan
    assert result.completed + result.abandoned == 65
    assert result.abandoned > 0  # samples whose bound reaches the incumbent are cut
    assert _replay_core(instance, result.best)[0] == result.makespan
    assert _replay_env(instance, result.best) == result.makespan
    again = policy.search(instance, time_limit=60.0, seed=0, batch=16, max_schedules=65)
    np.testing.assert_array_equal(again.best.actions, result.best.actions)
    assert (again.completed, again.abandoned) == (result.completed, result.abandoned)


def test_the_lower_bound_holds_along_every_schedule(policy):
    """The bound that cuts samples never exceeds the makespan the schedule reaches."""
    from shopfloor.agents._neural_policy import _LowerBound  # white-box: the bound itself

    for instance, mode in (
        (generate_instance(7, 5, seed=2), "active"),
        (load_instance("mk01"), "active"),
    ):
        schedules = policy.best_of([instance], 8, seed=3, include_greedy=False)[0]
        bound = _LowerBound(instance)
        core_type = BatchFlexibleJobShop if hasattr(instance, "operations") else BatchJobShop
        core = core_type([instance] * 1, mode)
        core.reset()
        first = True
        for job in schedules.best.actions:
            lower = float(bound(core.end_times())[0])
            assert lower <= schedules.makespan
            if first:  # at t=0 it is the largest job or machine total
                first = False
                assert lower > 0
            pairs = np.asarray(core.masks)[0]
            if core_type is BatchFlexibleJobShop:
                row = pairs.reshape(core.n_jobs, core.n_machines)[job]
                core.step(np.array([job * core.n_machines + int(row.argmax())]))
            else:
                core.step(np.array([job]))
        assert float(bound(core.end_times())[0]) == schedules.makespan  # exact when done


def test_search_respects_the_time_limit(policy):
    instance = load_instance("ft10")
    policy.greedy([instance])  # warm up
    began = time.perf_counter()
    result = policy.search(instance, time_limit=1.0, seed=0, batch=32)
    elapsed = time.perf_counter() - began
    # the clock is read at every step; it may stop a little early when no new sample
    # would finish in the time left
    assert 0.5 < elapsed < 5.0  # generous: a loaded machine's steps are slow
    assert abs(result.seconds - elapsed) < 0.2
    # Samples were drawn besides the greedy schedule (how many fit depends on the load).
    assert result.completed + result.abandoned > 1
    assert result.makespan <= result.history[0][1]
    with pytest.raises(ValueError, match="time_limit: expected a positive number"):
        policy.search(instance, time_limit=0)


def test_a_flexible_shop_runs_through_the_flexible_core(policy):
    mk01 = load_instance("mk01")
    greedy = policy.greedy([mk01])[0]
    result = policy.best_of([mk01], 6, seed=0)[0]
    for schedule in (greedy, result.best):
        assert schedule.machines is not None
        # every operation has a machine and a start; padding (shorter jobs) has neither
        np.testing.assert_array_equal(schedule.machines < 0, np.isnan(schedule.start_times))
        assert (schedule.machines >= 0).sum() == len(schedule.actions)
        assert _replay_env(mk01, schedule) == schedule.makespan
        core = BatchFlexibleJobShop([mk01], "active")
        core.reset()
        for job in schedule.actions:
            pairs = np.asarray(core.masks)[0].reshape(core.n_jobs, core.n_machines)[job]
            core.step(np.array([job * core.n_machines + int(pairs.argmax())]))
        assert float(core.makespans()[0]) == schedule.makespan
    assert result.makespan <= greedy.makespan
    searched = policy.search(mk01, time_limit=30.0, seed=0, batch=8, max_schedules=17)
    assert _replay_env(mk01, searched.best) == searched.makespan


def test_a_trained_model_in_non_delay_mode(tmp_path):
    path = _save_model(tmp_path, mode="non_delay", train=True)
    policy = NeuralPolicy.load(path, device="cpu")
    assert policy.mode == "non_delay"
    for instance in (generate_instance(6, 4, seed=8), load_instance("mk01")):
        schedule = policy.best_of([instance], 4, seed=0)[0].best
        assert _replay_env(instance, schedule, "non_delay") == schedule.makespan


# ------------------------------------------------------------------- refused files


def _one_line(error: pytest.ExceptionInfo[BaseException]) -> str:
    text = str(error.value)
    assert "\n" not in text
    return text


def test_a_damaged_file_is_refused_in_one_line(tmp_path):
    path = _save_model(tmp_path)
    data = path.read_bytes()
    damaged = tmp_path / "damaged.npz"
    damaged.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError) as error:
        NeuralPolicy.load(damaged)
    assert str(damaged) in _one_line(error)


def test_a_foreign_file_is_refused_in_one_line(tmp_path):
    other = tmp_path / "other.npz"
    np.savez(other, weights=np.zeros(3))
    with pytest.raises(ModelFileError) as error:
        NeuralPolicy.load(other)
    assert str(other) in _one_line(error) and "self-labelling model" in str(error.value)
    pickled = tmp_path / "pickled.npz"
    with zipfile.ZipFile(pickled, "w") as archive:
        archive.writestr("meta.npy", b"\x93NUMPY pickled payload")
    with pytest.raises(ModelFileError) as error:
        NeuralPolicy.load(pickled)
    assert str(pickled) in _one_line(error)


def test_another_agents_file_is_refused_in_one_line(tmp_path):
    setup = AgentSetup(
        lambda: gym.make("shopfloor/DynamicJobShop-v1", scenario="dynamic_job_shop_small"),
        {},
        seed=0,
        device="cpu",
    )
    path = ALGORITHMS["qlearning"].build(setup).save(tmp_path / "qlearning")
    with pytest.raises(ModelFileError) as error:
        NeuralPolicy.load(path)
    assert str(path) in _one_line(error) and "format" in str(error.value)


def test_weights_that_do_not_fit_the_settings_are_refused(tmp_path):
    path = _save_model(tmp_path)
    with np.load(path) as data:
        members = {name: data[name] for name in data.files}
    first = next(name for name in members if name != "meta")
    members[first] = np.zeros((2, 2), dtype=members[first].dtype)
    broken = tmp_path / "broken.npz"
    np.savez(broken, **members)
    with pytest.raises(ModelFileError) as error:
        NeuralPolicy.load(broken)
    assert str(broken) in _one_line(error)
