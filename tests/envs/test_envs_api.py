"""API conformance, determinism and episode invariants for every registered env id."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import shopfloor.envs
from shopfloor.envs import ENV_IDS, DynamicJobShopEnv, InvalidActionError, JobShopEnv

SMALL_KWARGS = {
    "shopfloor/JobShop-v0": {"instance": "ft06"},
    "shopfloor/DynamicJobShop-v1": {"scenario": "dynamic_job_shop_small"},
    "shopfloor/ProductionInventory-v0": {"scenario": "production_inventory"},
}


def rollout(env: gym.Env, seed: int, action_seed: int, max_steps: int = 100_000):
    """Run a full episode with random valid actions; return the trajectory."""
    rng = np.random.default_rng(action_seed)
    observation, _ = env.reset(seed=seed)
    observations, rewards = [observation], []
    for _ in range(max_steps):
        mask = env.unwrapped.action_masks()
        action = int(rng.choice(np.flatnonzero(mask)))
        observation, reward, terminated, truncated, info = env.step(action)
        observations.append(observation)
        rewards.append(reward)
        if terminated or truncated:
            return observations, rewards, info
    raise AssertionError("episode did not end")


def test_all_families_are_registered():
    assert set(ENV_IDS) <= set(gym.registry)
    assert len(ENV_IDS) == 3


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_gymnasium_and_sb3_checkers_pass_without_warnings(env_id):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        env = gym.make(env_id, **SMALL_KWARGS[env_id])
        check_env(env.unwrapped)
        sb3_check_env(env.unwrapped, warn=True)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_same_seed_same_trajectory_and_different_seed_differs(env_id):
    first = rollout(gym.make(env_id, **SMALL_KWARGS[env_id]), seed=5, action_seed=1)
    second = rollout(gym.make(env_id, **SMALL_KWARGS[env_id]), seed=5, action_seed=1)
    assert len(first[0]) == len(second[0])
    for a, b in zip(first[0], second[0], strict=True):
        np.testing.assert_array_equal(a, b)
    assert first[1] == second[1]
    if env_id != "shopfloor/JobShop-v0":  # a static instance has no randomness
        third = rollout(gym.make(env_id, **SMALL_KWARGS[env_id]), seed=6, action_seed=1)
        assert first[1] != third[1]


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_observations_stay_in_space_and_finite(env_id):
    env = gym.make(env_id, **SMALL_KWARGS[env_id])
    for seed in range(3):
        observations, rewards, _ = rollout(env, seed=seed, action_seed=seed + 10)
        for observation in observations:
            assert env.observation_space.contains(observation)
            assert np.isfinite(observation).all()
        assert np.isfinite(rewards).all()


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_action_space_sample_draws_valid_actions(env_id):
    env = gym.make(env_id, **SMALL_KWARGS[env_id])
    env.reset(seed=0)
    env.action_space.seed(0)
    for _ in range(30):
        action = env.action_space.sample()
        assert env.unwrapped.action_masks()[action]
        _, _, terminated, _, _ = env.step(action)
        if terminated:
            break


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_out_of_space_action_raises_a_clear_error(env_id):
    env = gym.make(env_id, **SMALL_KWARGS[env_id])
    env.reset(seed=0)
    with pytest.raises(InvalidActionError, match="outside the action space"):
        env.step(10_000)
    for action in ("two", "0", 0.7, np.array([0.0]), np.array([0, 1]), True):
        with pytest.raises(InvalidActionError, match="single integer"):
            env.step(action)
    env.step(np.array([0]))  # SB3 passes an integer array of one


def test_masked_job_raises_and_names_valid_actions():
    env = JobShopEnv(instance="ft06")
    env.reset(seed=0)
    env.step(0)  # job 0 starts on machine 2; jobs 2 and 4 also need machine 2 first
    assert not env.action_masks()[2]
    with pytest.raises(InvalidActionError, match=r"action 2 is not valid at t=0; valid actions"):
        env.step(2)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_render_modes(env_id):
    env = gym.make(env_id, render_mode="ansi", **SMALL_KWARGS[env_id])
    env.reset(seed=0)
    env.step(env.action_space.sample())
    text = env.render()
    assert isinstance(text, str) and "t=" in text and "M0" in text
    env = gym.make(env_id, render_mode="rgb_array", **SMALL_KWARGS[env_id])
    env.reset(seed=0)
    for _ in range(5):
        env.step(env.action_space.sample())
    image = env.render()
    assert image.ndim == 3 and image.shape[2] == 3 and image.dtype == np.uint8
    assert image.std() > 0  # something was drawn


def test_invalid_render_mode_is_rejected():
    with pytest.raises(ValueError, match="render_mode 'human'"):
        JobShopEnv(instance="ft06", render_mode="human")


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_gymnasium_vector_env(env_id):
    envs = gym.make_vec(env_id, num_envs=2, vectorization_mode="sync", **SMALL_KWARGS[env_id])
    observations, _ = envs.reset(seed=3)
    assert observations.shape == (2, *envs.single_observation_space.shape)
    for _ in range(10):
        masks = envs.call("action_masks")
        actions = np.array([int(np.flatnonzero(mask)[0]) for mask in masks])
        observations, *_ = envs.step(actions)
        assert envs.single_observation_space.contains(observations[0])
    envs.close()


def test_sb3_subprocess_vec_env_pickles_the_spaces():
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import SubprocVecEnv

    vec = make_vec_env(  # "module:id" makes fresh subprocesses import the registrations
        "shopfloor.envs:shopfloor/DynamicJobShop-v1",
        n_envs=2,
        seed=0,
        vec_env_cls=SubprocVecEnv,
        env_kwargs=SMALL_KWARGS["shopfloor/DynamicJobShop-v1"],
    )
    observations = vec.reset()
    assert observations.shape[0] == 2
    _, rewards, _, _ = vec.step(np.array([0, 1]))
    assert np.isfinite(rewards).all()
    vec.close()


def test_job_shop_rewards_sum_to_minus_normalised_makespan():
    env = JobShopEnv(instance="ft06")
    _, rewards, info = rollout(env, seed=0, action_seed=3)
    spec = env.factory.spec
    total_work = sum(float(op.durations[0]) for job in spec.jobs for op in job.routing)
    mean_load = total_work / len(spec.machines)
    assert info["makespan"] == env.factory.kpis().makespan
    assert sum(rewards) == pytest.approx(-info["makespan"] / mean_load)
    assert info["makespan"] >= 55  # ft06's optimum


def test_job_shop_generator_draws_a_new_instance_each_episode():
    env = JobShopEnv(generator={"n_jobs": 4, "n_machines": 3})
    env.reset(seed=0)
    first = env.factory.spec
    env.reset()
    second = env.factory.spec
    assert first != second
    env.reset(seed=0)
    assert env.factory.spec == first


@pytest.mark.parametrize("objective", ["weighted_tardiness", "weighted_flow_time"])
def test_dynamic_rewards_telescope_to_the_objective(objective):
    env = DynamicJobShopEnv(scenario="dynamic_job_shop_small", objective=objective)
    _, rewards, _ = rollout(env, seed=2, action_seed=2)
    kpis = env.factory.kpis()
    if objective == "weighted_tardiness":
        target = kpis.total_weighted_tardiness
    else:
        target = kpis.mean_weighted_flow_time * sum(
            env.factory.weight(j) for j in range(env.factory.n_jobs)
        )
    assert sum(rewards) * env._reward_scale() == pytest.approx(-target, rel=1e-9)


def test_dynamic_advance_follows_step_and_the_rewards_still_telescope():
    """``advance`` (no observation) takes the trajectory ``step`` takes."""
    stepped = DynamicJobShopEnv(scenario="dynamic_job_shop_small", rules=["spt", "edd", "atc"])
    mixed = DynamicJobShopEnv(scenario="dynamic_job_shop_small", rules=["spt", "edd", "atc"])
    stepped.reset(seed=6)
    mixed.reset(seed=6)
    actions = np.random.default_rng(6).integers(3, size=10_000)
    full, tail, advanced = 0.0, 0.0, 0
    for choice, action in enumerate(actions):
        _, reward, done, _, _ = stepped.step(int(action))
        full += reward
        if choice < 15:  # the first 15 choices fast, the rest stepped
            assert mixed.advance(action) == done
            advanced += 1
        else:
            tail += mixed.step(int(action))[1]
        assert mixed.factory.now == stepped.factory.now
        if done:
            break
    assert advanced == 15 and choice > 30
    assert mixed.factory.log == stepped.factory.log
    assert mixed.episode_objective() == stepped.episode_objective()
    assert tail == pytest.approx(full, rel=1e-9)
    with pytest.raises(RuntimeError, match="the episode is over"):
        mixed.advance(0)
    mixed.reset(seed=6)
    with pytest.raises(InvalidActionError, match="outside the action space"):
        mixed.advance(3)
    with pytest.raises(RuntimeError, match="call reset"):
        DynamicJobShopEnv(scenario="dynamic_job_shop_small").advance(0)


def test_dynamic_job_mode_masks_empty_slots():
    env = DynamicJobShopEnv(scenario="dynamic_job_shop_small", action_mode="job", slots=4)
    env.reset(seed=1)
    mask = env.action_masks()
    queue = env.factory.queue(env.factory.decision_machine())
    assert mask.sum() == min(len(queue), 4) >= 2
    _, rewards, _ = rollout(env, seed=1, action_seed=1)
    assert len(rewards) > 10


def test_dynamic_rule_mode_applies_the_rule():
    from shopfloor.sim import DispatchingRule, choose_job

    env = DynamicJobShopEnv(scenario="dynamic_job_shop_small", rules=["spt", "lpt"])
    env.reset(seed=4)
    factory = env.factory
    machine = factory.decision_machine()
    queue = list(factory.queue(machine))
    expected = choose_job(DispatchingRule.LPT, factory, machine, queue)
    assert expected == max(queue, key=lambda job: factory.operation_time(job, machine))
    logged = len(factory.log)
    env.step(1)
    first_start = next(entry for entry in factory.log[logged:] if entry[1] == "start")
    assert first_start[2:4] == (machine, expected)


def test_job_shop_rejects_a_dynamic_scenario():
    with pytest.raises(ValueError, match="static"):
        JobShopEnv(scenario="dynamic_job_shop_small")


def test_env_ids_are_exported():
    assert shopfloor.envs.ENV_IDS == ENV_IDS


def test_registered_ids_accept_any_factory_source():
    env = gym.make("shopfloor/JobShop-v0", generator={"n_jobs": 3, "n_machines": 2})
    assert env.action_space.n == 3
    env = gym.make("shopfloor/JobShop-v0", instance="la01")
    assert env.action_space.n == 10
    assert gym.make("shopfloor/JobShop-v0").action_space.n == 6  # ft06 by default
    env = gym.make("shopfloor/DynamicJobShop-v1", scenario="dynamic_job_shop_small")
    assert env.unwrapped.source.name == "dynamic_job_shop_small"


FLEXIBLE = """\
name: flex_small
machines: [A, B, C]
jobs:
  - {routing: [{machines: [A, B], durations: [3, 5]}, {machine: C, duration: 2}]}
  - {routing: [{machine: A, duration: 2}, {machines: [A, C], duration: 3}]}
  - {routing: [{machines: [B, A], durations: [2, 6]}, {machine: A, duration: 4}]}
  - {routing: [{machine: C, duration: 5}, {machines: [A, B], durations: [2, 2]}]}
  - {routing: [{machines: [A, B, C], durations: [1, 2, 3]}]}
"""


def test_a_flexible_shop_shows_the_time_on_the_machine_an_operation_runs_on(tmp_path):
    scenario = tmp_path / "flex.yaml"
    scenario.write_text(FLEXIBLE)
    env = gym.make("shopfloor/JobShop-v0", scenario=str(scenario))
    unwrapped = env.unwrapped
    n = unwrapped.n_jobs
    env.reset(seed=0)
    env.step(4)  # job 4 takes A (1 unit)
    observation, *_ = env.step(0)  # A is busy: job 0 starts on B, 5 units (3 on A)
    factory = unwrapped.factory
    assert factory.now == 0.0 and factory.machine_free_at(1) == 5.0
    scale = 6.0  # the longest time over all alternatives (job 2 on A)
    assert observation[8 * n + 1] == pytest.approx(5.0 / scale)  # not 3 / 6
    for machine in range(3):
        left = max(factory.machine_free_at(machine) - factory.now, 0.0)
        assert observation[8 * n + machine] == pytest.approx(min(left / scale, 1.0))
