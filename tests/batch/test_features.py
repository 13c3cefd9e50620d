"""The batched core's features equal ``shopfloor/JobShop-v0``'s observation in every mode.

Each row of a core is stepped side by side with a single env on its instance, with the
same random valid decisions; features (float32, bit for bit), masks, rewards and dones
must agree at every step. In a padded batch of mixed sizes the real part of each row
(its own jobs and machines in every block) must equal its env's observation and the
padding must stay zero.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
import torch

from shopfloor.batch import MODES, BatchJobShop
from shopfloor.envs import JobShopEnv

JOB_BLOCKS, MACHINE_BLOCKS = 8, 3


def _real_part(features: np.ndarray, jobs: int, machines: int, n: int, m: int) -> np.ndarray:
    """An ``n``-job, ``m``-machine instance's entries in a row padded to ``jobs``, ``machines``."""
    job_part = features[: JOB_BLOCKS * jobs].reshape(JOB_BLOCKS, jobs)[:, :n]
    machine_part = features[JOB_BLOCKS * jobs :].reshape(MACHINE_BLOCKS, machines)[:, :m]
    return np.concatenate([job_part.ravel(), machine_part.ravel()])


def _padding(features: np.ndarray, jobs: int, machines: int, n: int, m: int) -> np.ndarray:
    """The padding entries of such a row."""
    job_part = features[: JOB_BLOCKS * jobs].reshape(JOB_BLOCKS, jobs)[:, n:]
    machine_part = features[JOB_BLOCKS * jobs :].reshape(MACHINE_BLOCKS, machines)[:, m:]
    return np.concatenate([job_part.ravel(), machine_part.ravel()])


def _side_by_side(
    names: Sequence[str], mode: str, seed: int, backend: str = "numpy", reset_at: int = -1
) -> int:
    """Step a core over ``names`` and one env per row with the same random decisions.

    At step ``reset_at`` the first row is reset (``reset(rows)``), and its env with it.

    Returns:
        The number of steps compared.
    """
    envs = [JobShopEnv(instance=name, mode=mode) for name in names]
    observations = [env.reset(seed=0)[0] for env in envs]
    core = BatchJobShop(names, mode, backend=backend, device="cpu")
    features, masks = (np.asarray(array) for array in core.reset())
    jobs, machines = core.n_jobs, core.n_machines
    rng = np.random.default_rng(seed)
    finished = [False] * len(envs)
    steps = 0
    while True:
        assert features.dtype == np.float32
        actions = np.zeros(len(envs), dtype=np.int64)
        for row, env in enumerate(envs):
            n, m = env.n_jobs, env.n_machines
            real = _real_part(features[row], jobs, machines, n, m)
            np.testing.assert_array_equal(real, observations[row], err_msg=f"row {row}")
            assert not _padding(features[row], jobs, machines, n, m).any()
            if finished[row]:
                assert not masks[row].any()
                continue
            env_mask = env.action_masks()
            assert masks[row, :n].tolist() == env_mask.tolist() and not masks[row, n:].any()
            actions[row] = rng.choice(np.flatnonzero(env_mask))
        if all(finished):
            return steps
        if steps == reset_at:
            rows = np.zeros(len(envs), dtype=bool)
            rows[0] = True
            features, masks = (np.asarray(array) for array in core.reset(rows))
            observations[0] = envs[0].reset(seed=0)[0]
            finished[0] = False
            reset_at = -1
            continue
        output = core.step(actions)
        features, masks, rewards, dones = (np.asarray(array) for array in output)
        steps += 1
        for row, env in enumerate(envs):
            if finished[row]:
                assert rewards[row] == 0.0 and dones[row]
                continue
            observations[row], reward, done, _, _ = env.step(int(actions[row]))
            assert rewards[row] == reward, f"row {row}, step {steps}"
            assert bool(dones[row]) is done
            finished[row] = done


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("instance", ["ft06", "la01", "ta01"])
def test_features_equal_the_single_env_in_every_mode(instance: str, mode: str) -> None:
    for seed in range(3):
        names = [instance, instance]  # two rows: the same decisions, the same features
        assert _side_by_side(names, mode, seed) > 0


@pytest.mark.parametrize("mode", MODES)
def test_a_padded_batch_of_mixed_sizes_equals_the_single_envs(mode: str) -> None:
    names = ["ft06", "la01", "orb07", "la16", "ft06"]  # 6x6, 10x5 and 10x10
    for seed in (4, 5):
        assert _side_by_side(names, mode, seed) == 100  # the longest: 10 x 10 operations


@pytest.mark.parametrize("mode", MODES)
def test_the_torch_backend_computes_the_same_features(mode: str) -> None:
    torch.set_num_threads(1)
    assert _side_by_side(["ft06", "la01"], mode, 7, backend="torch") == 50


@pytest.mark.parametrize("mode", MODES)
def test_a_row_reset_mid_episode_equals_a_fresh_env(mode: str) -> None:
    # ft06 restarts at step 20 (36 + 20 steps in all), the others run on.
    assert _side_by_side(["ft06", "la01", "ft06"], mode, 9, reset_at=20) == 56


def test_the_feature_buffer_is_reused_and_the_vector_env_copies_it() -> None:
    from shopfloor.envs import BatchJobShopVectorEnv

    core = BatchJobShop(["ft06", "ft06"])
    first, masks = core.reset()
    assert first.flags.c_contiguous and not first.flags.writeable
    kept = first.copy()
    second = core.step(masks.argmax(axis=1)).features
    assert np.shares_memory(first, second)  # one buffer, overwritten by the step
    assert not np.array_equal(second, kept)
    env = BatchJobShopVectorEnv("ft06", 2)
    observation, _ = env.reset(seed=0)
    kept = observation.copy()
    env.step(env.action_masks().argmax(axis=1))
    np.testing.assert_array_equal(observation, kept)  # the env's arrays are its own


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_an_operation_of_no_time_shows_as_running_until_the_factory_ends_it(backend: str) -> None:
    """orb07 has an operation of zero duration: in ``non_delay`` the factory completes it
    after the other choices due at its instant, and the env shows it running until then."""
    torch.set_num_threads(1)
    for seed in range(16):
        assert _side_by_side(["orb07", "ft06"], "non_delay", seed, backend=backend) == 100
