"""The batched vector env on flexible shops: JobShop-v0's spaces, masks, observations."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium.spaces import Discrete

from shopfloor.batch import BatchFlexibleJobShop, BatchJobShop, InvalidBatchActionError
from shopfloor.envs import JobShopEnv
from shopfloor.envs.batch_job_shop import BatchJobShopVectorEnv
from shopfloor.instances import FlexibleJobShopInstance, load_instance

MODES = ["non_delay", "active", "append"]


def _cut(observation: np.ndarray, vector: BatchJobShopVectorEnv, env: JobShopEnv) -> np.ndarray:
    """A padded vector-env observation cut to one instance's jobs and machines."""
    jobs, machines = vector.core.n_jobs, vector.core.n_machines
    job_blocks = observation[: jobs * 8].reshape(8, jobs)
    machine_blocks = observation[jobs * 8 :].reshape(3, machines)
    assert not job_blocks[:, env.n_jobs :].any() and not machine_blocks[:, env.n_machines :].any()
    return np.concatenate(
        [job_blocks[:, : env.n_jobs].ravel(), machine_blocks[:, : env.n_machines].ravel()]
    )


def _cut_mask(mask: np.ndarray, vector: BatchJobShopVectorEnv, env: JobShopEnv) -> np.ndarray:
    """A padded mask cut to one instance's actions (jobs, or job x machine pairs)."""
    if vector.single_action_space.n == vector.core.n_jobs:
        return mask[: env.n_jobs]
    pairs = mask.reshape(vector.core.n_jobs, vector.core.n_machines)
    assert not pairs[env.n_jobs :].any() and not pairs[:, env.n_machines :].any()
    if env.action_space.n == env.n_jobs:  # a classic shop padded into a flexible batch
        return pairs[: env.n_jobs].any(axis=1)
    return pairs[: env.n_jobs, : env.n_machines].ravel()


def _action(action: int, vector: BatchJobShopVectorEnv, env: JobShopEnv) -> int:
    """The vector env's action of a padded env as the single env's."""
    if vector.single_action_space.n == vector.core.n_jobs:
        return action
    job, machine = divmod(action, vector.core.n_machines)
    return env.encode_action(job, machine)


def check_side_by_side(names: list[str], mode: str, steps: int, seed: int) -> list[int]:
    """Step the vector env and one JobShop-v0 per env with the same random choices.

    Returns:
        How many episodes each env finished.
    """
    vector = BatchJobShopVectorEnv(instances=names, mode=mode)
    assert isinstance(vector.core, BatchFlexibleJobShop)
    singles = [JobShopEnv(instance=name, mode=mode) for name in names]
    observations, _ = vector.reset(seed=0)
    assert vector.observation_space.contains(observations)
    for index, env in enumerate(singles):
        first, _ = env.reset(seed=0)
        np.testing.assert_array_equal(_cut(observations[index], vector, env), first)
    rng = np.random.default_rng(seed)
    episodes = [0] * len(names)
    for _ in range(steps):
        masks = vector.action_masks()
        assert masks.shape == (len(names), vector.single_action_space.n)
        actions = np.array([rng.choice(np.flatnonzero(row)) for row in masks])
        observations, rewards, terminated, truncated, infos = vector.step(actions)
        assert not truncated.any()
        for index, env in enumerate(singles):
            assert _cut_mask(masks[index], vector, env).tolist() == env.action_masks().tolist()
            single, reward, done, _, info = env.step(_action(int(actions[index]), vector, env))
            assert rewards[index] == reward
            assert bool(terminated[index]) is done
            if done:
                episodes[index] += 1
                assert infos["_final_obs"][index] and infos["_makespan"][index]
                np.testing.assert_array_equal(_cut(infos["final_obs"][index], vector, env), single)
                assert infos["makespan"][index] == info["makespan"]
                single, _ = env.reset(seed=0)
            np.testing.assert_array_equal(_cut(observations[index], vector, env), single)
    return episodes


@pytest.mark.parametrize("mode", MODES)
def test_each_env_is_the_single_env_on_mk01_and_restarts_when_done(mode: str) -> None:
    vector = BatchJobShopVectorEnv("mk01", num_envs=2, mode=mode)
    env = JobShopEnv(instance="mk01", mode=mode)
    assert vector.single_action_space == env.action_space  # Discrete(10) or Discrete(60)
    assert vector.single_observation_space == env.observation_space
    episodes = check_side_by_side(["mk01", "mk01"], mode, steps=70, seed=1)
    assert episodes == [1, 1]  # 55 operations each


@pytest.mark.parametrize("mode", MODES)
def test_padded_flexible_and_classic_envs_restart_on_their_own(mode: str) -> None:
    names = ["mk01", "hurink_vdata_la01", "ft06"]  # 10 x 6 (55 ops), 10 x 5 (50), 6 x 6 (36)
    episodes = check_side_by_side(names, mode, steps=110, seed=2)
    assert episodes == [2, 2, 3]


def test_action_spaces_follow_the_single_env_and_classic_batches_keep_their_core() -> None:
    assert BatchJobShopVectorEnv("mk01", 2, mode="append").single_action_space.n == 60
    assert BatchJobShopVectorEnv("mk01", 2, mode="active").single_action_space.n == 10
    classic = BatchJobShopVectorEnv("ft06", 2, mode="append")
    assert isinstance(classic.core, BatchJobShop) and classic.single_action_space.n == 6
    # A flexible instance without alternatives: a classic shop's J actions, flexible core.
    routings = ((((0, 2),), ((1, 3),)), (((1, 4),), ((0, 1),)), (((0, 5),),))
    single = FlexibleJobShopInstance("single", routings)  # routings of 2, 2 and 1
    vector = BatchJobShopVectorEnv(single, 2, mode="append")
    assert isinstance(vector.core, BatchFlexibleJobShop) and not vector.flexible
    env = JobShopEnv(spec=single.to_factory_spec(), mode="append")
    assert vector.single_action_space == env.action_space == Discrete(3)


def test_a_job_without_a_candidate_machine_is_refused_naming_the_env() -> None:
    vector = BatchJobShopVectorEnv(instances=["mk01", "mk01"], mode="active")
    vector.reset()
    masks = vector.action_masks()
    assert not masks[1].all()  # the jobs competing on m* only
    blocked = int(np.flatnonzero(~masks[1])[0])
    with pytest.raises(InvalidBatchActionError, match="instance 1: action"):
        vector.step(np.array([int(masks[0].argmax()), blocked]))
    with pytest.raises(InvalidBatchActionError, match="instance 0: action 10 "):
        vector.step(np.array([10, int(masks[1].argmax())]))


def test_make_vec_reaches_flexible_shops_through_the_registered_id() -> None:
    import gymnasium as gym

    vector = gym.make_vec(
        "shopfloor.envs:shopfloor/BatchJobShop-v0",
        num_envs=4,
        vectorization_mode="vector_entry_point",
        instance="mk01",
        mode="append",
    )
    observations, _ = vector.reset(seed=0)
    assert isinstance(vector, BatchJobShopVectorEnv)
    assert observations.shape == (4, 10 * 8 + 6 * 3)
    assert vector.action_masks().shape == (4, 60)
    flexible = load_instance("mk01")
    assert isinstance(flexible, FlexibleJobShopInstance)
    same = BatchJobShopVectorEnv(flexible, 4, mode="append").reset(seed=0)[0]
    np.testing.assert_array_equal(same, observations)
