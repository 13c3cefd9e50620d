"""The batched vector env: the single env's observations, rewards and ends, autoreset."""

from __future__ import annotations

import numpy as np
import pytest

from shopfloor.batch import InvalidBatchActionError
from shopfloor.envs import JobShopEnv
from shopfloor.envs.batch_job_shop import BatchJobShopVectorEnv


def test_each_env_is_the_single_job_shop_env_and_restarts_when_done() -> None:
    vector = BatchJobShopVectorEnv("ft06", num_envs=3)
    singles = [JobShopEnv(instance="ft06") for _ in range(3)]
    observations, _ = vector.reset(seed=0)
    assert observations.shape == (3, 6 * 8 + 6 * 3) and observations.dtype == np.float32
    assert vector.observation_space.contains(observations)
    for index, env in enumerate(singles):
        np.testing.assert_array_equal(observations[index], env.reset(seed=0)[0])
    rng = np.random.default_rng(0)
    for _ in range(36):
        masks = vector.action_masks()
        actions = np.array([rng.choice(np.flatnonzero(row)) for row in masks])
        observations, rewards, terminated, truncated, infos = vector.step(actions)
        assert not truncated.any()
        for index, env in enumerate(singles):
            assert masks[index].tolist() == env.action_masks().tolist()
            single, reward, done, _, info = env.step(int(actions[index]))
            assert rewards[index] == pytest.approx(reward, abs=1e-12)
            assert bool(terminated[index]) is done
            if done:
                np.testing.assert_array_equal(infos["final_obs"][index], single)
                assert infos["makespan"][index] == info["makespan"]
                np.testing.assert_array_equal(observations[index], env.reset(seed=0)[0])
            else:
                np.testing.assert_array_equal(observations[index], single)
    assert terminated.all()  # ft06: 36 operations, all done at once


def test_padded_instances_and_refusals() -> None:
    vector = BatchJobShopVectorEnv(instances=["ft06", "la01"], mode="active")
    assert vector.num_envs == 2 and vector.single_action_space.n == 10
    with pytest.raises(RuntimeError, match="reset"):
        vector.step(np.zeros(2, dtype=np.int64))
    vector.reset()
    masks = vector.action_masks()
    with pytest.raises(InvalidBatchActionError, match="instance 0"):
        vector.step(np.array([9, int(masks[1].argmax())]))
    with pytest.raises(ValueError, match="num_envs"):
        BatchJobShopVectorEnv("ft06", num_envs=0)


def test_make_vec_reaches_the_registered_id() -> None:
    import gymnasium as gym

    vector = gym.make_vec(
        "shopfloor.envs:shopfloor/BatchJobShop-v0",
        num_envs=4,
        vectorization_mode="vector_entry_point",
        instance="ta01",
        mode="active",
    )
    observations, _ = vector.reset(seed=0)
    assert isinstance(vector, BatchJobShopVectorEnv) and vector.mode == "active"
    assert observations.shape == (4, 15 * 8 + 15 * 3)
    assert vector.action_masks().shape == (4, 15)


def _unpadded(observation: np.ndarray, jobs: int, machines: int) -> np.ndarray:
    """A padded vector-env observation (10 jobs, 6 machines here) cut to one instance's."""
    job_blocks = observation[: 10 * 8].reshape(8, 10)[:, :jobs]
    machine_blocks = observation[10 * 8 :].reshape(3, 6)[:, :machines]
    return np.concatenate([job_blocks.ravel(), machine_blocks.ravel()])


def test_envs_of_different_sizes_restart_on_their_own() -> None:
    names = ["ft06", "la01"]  # 6x6 and 10x5, 36 and 50 operations
    vector = BatchJobShopVectorEnv(instances=names)
    singles = [JobShopEnv(instance=name) for name in names]
    observations, _ = vector.reset(seed=0)
    for index, env in enumerate(singles):
        first, _ = env.reset(seed=0)
        np.testing.assert_array_equal(
            _unpadded(observations[index], env.n_jobs, env.n_machines), first
        )
    rng = np.random.default_rng(1)
    ends = [0, 0]
    for _ in range(120):
        masks = vector.action_masks()
        actions = np.array([rng.choice(np.flatnonzero(row)) for row in masks])
        observations, rewards, _, _, infos = vector.step(actions)
        for index, env in enumerate(singles):
            assert masks[index, : env.n_jobs].tolist() == env.action_masks().tolist()
            single, reward, done, _, info = env.step(int(actions[index]))
            assert rewards[index] == pytest.approx(reward, abs=1e-12)
            if done:  # ft06 restarts while la01 runs on
                ends[index] += 1
                assert infos["makespan"][index] == info["makespan"]
                single, _ = env.reset(seed=0)
            cut = _unpadded(observations[index], env.n_jobs, env.n_machines)
            np.testing.assert_array_equal(cut, single)
    assert ends == [3, 2]  # 120 steps: ft06 three times, la01 twice
