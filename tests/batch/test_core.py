"""The batched core's API: features, backends, devices, padding and refusals."""

from __future__ import annotations

from unittest import mock

import numpy as np
import pytest
import torch

from shopfloor.batch import BackendError, BatchJobShop, InvalidBatchActionError, select_backend
from shopfloor.envs import JobShopEnv


@pytest.mark.parametrize("instance", ["ft06", "la16"])
def test_non_delay_features_equal_the_single_envs_observation(instance: str) -> None:
    env = JobShopEnv(instance=instance)
    observation, _ = env.reset(seed=0)
    core = BatchJobShop([instance, instance])
    features, masks = core.reset()
    assert features.shape == (2, observation.size)
    np.testing.assert_array_equal(features[0], observation)
    rng = np.random.default_rng(0)
    done = False
    while not done:
        job = int(rng.choice(np.flatnonzero(env.action_masks())))
        assert masks[0].tolist() == env.action_masks().tolist()
        observation, reward, done, _, _ = env.step(job)
        features, masks, rewards, dones = core.step(np.array([job, job]))
        np.testing.assert_array_equal(features[0], observation)
        np.testing.assert_array_equal(features[1], observation)
        assert rewards[0] == pytest.approx(reward, rel=1e-12, abs=1e-12)
        assert bool(dones[0]) is done


@pytest.mark.parametrize("mode", ["non_delay", "active", "append"])
def test_torch_computes_what_numpy_computes(mode: str) -> None:
    names = ["ft06", "la01", "orb07"]  # padded: 6x6, 10x5 and 10x10
    cores = [
        BatchJobShop(names, mode, backend="numpy"),
        BatchJobShop(names, mode, backend="torch", device="cpu"),
    ]
    outputs = [core.reset() for core in cores]
    rng = np.random.default_rng(1)
    while not cores[0].dones.all():
        masks = outputs[0][1]
        np.testing.assert_array_equal(masks, outputs[1][1].numpy())
        np.testing.assert_array_equal(outputs[0][0], outputs[1][0].numpy())
        scores = np.where(masks, rng.random(masks.shape), -1.0)
        actions = scores.argmax(axis=1)
        outputs = [
            cores[0].step(actions),
            cores[1].step(torch.as_tensor(actions)),
        ]
        np.testing.assert_array_equal(outputs[0].rewards, outputs[1].rewards.numpy())
    assert bool(cores[1].dones.all())
    np.testing.assert_array_equal(cores[0].start_times(), cores[1].start_times())


def test_padding_rows_finish_independently() -> None:
    core = BatchJobShop(["ft06", "la01"], features=False)
    assert (core.batch_size, core.n_jobs, core.n_machines, core.max_operations) == (2, 10, 6, 6)
    _, masks = core.reset()
    assert not masks[0, 6:].any()  # ft06 has 6 jobs
    steps = 0
    while not core.dones.all():
        _, masks, rewards, dones = core.step(masks.argmax(axis=1))
        steps += 1
        if steps > 36:
            assert dones[0] and rewards[0] == 0.0 and not masks[0].any()
    assert steps == 50  # la01: 10 jobs x 5 operations
    starts = core.start_times()
    assert np.isnan(starts[0, 6:]).all() and np.isnan(starts[0, :, 6:]).all()
    assert not np.isnan(starts[1, :, :5]).any()


def test_random_actions_are_candidates_and_cover_them() -> None:
    core = BatchJobShop(["ta01"] * 64, "append", features=False)
    _, masks = core.reset()
    generator = core.backend.generator(0)
    seen = np.zeros_like(masks)
    for _ in range(20):
        actions = core.random_actions(generator)
        assert masks[np.arange(64), actions].all()
        seen[np.arange(64), actions] = True
    assert seen.sum(axis=1).min() > 5  # 15 candidates: random picks cover many


def test_an_action_that_is_not_a_candidate_names_the_instance() -> None:
    core = BatchJobShop(["ft06", "ft06"], "active")
    _, masks = core.reset()
    wrong = int(np.flatnonzero(~masks[1])[0])
    with pytest.raises(InvalidBatchActionError, match="instance 1: action"):
        core.step(np.array([int(masks[0].argmax()), wrong]))
    with pytest.raises(InvalidBatchActionError, match="instance 0: action 6"):
        core.step(np.array([6, 0]))
    with pytest.raises(InvalidBatchActionError, match=r"expected shape \(2,\)"):
        core.step(np.array([0]))


def test_bad_arguments_are_one_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown decision mode 'delay'"):
        BatchJobShop(["ft06"], "delay")
    with pytest.raises(ValueError, match="non-empty sequence"):
        BatchJobShop([])
    with pytest.raises(LookupError):
        BatchJobShop(["no_such_instance"])
    with pytest.raises(BackendError, match="unknown backend 'jax'"):
        select_backend("jax")
    with pytest.raises(BackendError, match="needs backend torch"):
        select_backend("numpy", "cuda")


def test_auto_device_picks_cuda_when_available() -> None:
    with mock.patch.object(torch.cuda, "is_available", return_value=True):
        assert select_backend("torch", "auto").device == "cuda"
    with mock.patch.object(torch.cuda, "is_available", return_value=False):
        assert select_backend("torch", "auto").device == "cpu"
        with pytest.raises(BackendError, match="CUDA is not available"):
            select_backend("torch", "cuda")
    with (
        mock.patch.object(torch.cuda, "is_available", return_value=True),
        mock.patch.object(torch.cuda, "device_count", return_value=1),
    ):
        assert select_backend("torch", "cuda:0").device == "cuda:0"
        with pytest.raises(BackendError, match="1 GPU"):
            select_backend("torch", "cuda:1")
    assert select_backend("numpy").name == "numpy"


@pytest.mark.parametrize("mode", ["active", "append"])
def test_features_in_every_mode_stay_in_the_unit_box(mode: str) -> None:
    core = BatchJobShop(["ft06", "la01", "orb07"], mode)
    features, masks = core.reset()
    generator = core.backend.generator(0)
    while not core.dones.all():
        assert features.dtype == np.float32 and np.isfinite(features).all()
        assert features.min() >= 0.0 and features.max() <= 1.0
        np.testing.assert_array_equal(features[:, : core.n_jobs], masks)  # block 0
        features, masks, _, _ = core.step(core.random_actions(generator))
    assert (features[:, core.n_jobs : 2 * core.n_jobs].max(axis=1) == 1.0).all()  # all done


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_resetting_some_rows_leaves_the_others_alone(backend: str) -> None:
    names = ["ft06", "la01", "orb07"]
    core, twin, fresh = (BatchJobShop(names, backend=backend, device="cpu") for _ in range(3))
    fresh_features, fresh_masks = (np.asarray(array) for array in fresh.reset())
    _, masks = core.reset()
    twin_features, _ = twin.reset()
    for _ in range(12):
        actions = np.asarray(masks).argmax(axis=1)
        _, masks, _, _ = core.step(actions)
        twin_features, _, _, _ = twin.step(actions)
    features, masks = (np.asarray(array) for array in core.reset(np.array([True, False, True])))
    for row in (0, 2):
        np.testing.assert_array_equal(features[row], fresh_features[row])
        np.testing.assert_array_equal(masks[row], fresh_masks[row])
        assert np.isnan(core.start_times()[row]).all()
    np.testing.assert_array_equal(features[1], np.asarray(twin_features)[1])
    np.testing.assert_array_equal(core.start_times()[1], twin.start_times()[1])
    while not bool(core.dones.all()):
        _, masks, _, _ = core.step(np.asarray(masks).argmax(axis=1))
    assert core.makespans().tolist()[::2] == [68.0, 502.0]  # as a fresh run's
