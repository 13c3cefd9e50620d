"""MaskablePPO trains on the batched job shop through the SB3 VecEnv adapter."""

from __future__ import annotations

import numpy as np
from sb3_contrib import MaskablePPO
from sb3_contrib.common.maskable.utils import get_action_masks, is_masking_supported

from shopfloor.agents.batch_vec_env import BatchVecEnv


def test_maskable_ppo_learns_on_the_batched_env_unchanged() -> None:
    env = BatchVecEnv.make("ft06", num_envs=8)
    assert is_masking_supported(env)
    observations = env.reset()
    assert get_action_masks(env).shape == (8, 6)
    model = MaskablePPO("MlpPolicy", env, n_steps=36, batch_size=72, n_epochs=1, seed=0)
    model.learn(36 * 8)
    assert model.num_timesteps == 288
    episodes = list(model.ep_info_buffer)
    assert len(episodes) == 8 and all(episode["l"] == 36 for episode in episodes)
    observations = env.reset()
    for _ in range(36):
        actions, _ = model.predict(observations, action_masks=get_action_masks(env))
        observations, _, dones, infos = env.step(actions)
    assert dones.all()
    makespans = [info["makespan"] for info in infos]
    assert all(makespan >= 55 for makespan in makespans)  # ft06's optimum is 55
    assert infos[0]["terminal_observation"].shape == (6 * 8 + 6 * 3,)
    assert np.isclose(infos[0]["episode"]["r"], -makespans[0] / (197 / 6))


def test_maskable_ppo_trained_on_flexible_mk01_runs_on_the_single_env() -> None:
    """A few hundred steps on the batched mk01 (active); the policy drives JobShop-v0."""
    from shopfloor.envs import JobShopEnv

    env = BatchVecEnv.make("mk01", num_envs=4, mode="active")
    single = JobShopEnv(instance="mk01", mode="active")
    assert env.observation_space == single.observation_space
    assert env.action_space == single.action_space
    model = MaskablePPO("MlpPolicy", env, n_steps=64, batch_size=128, n_epochs=1, seed=0)
    model.learn(256)
    assert model.num_timesteps == 256
    episodes = list(model.ep_info_buffer)
    assert len(episodes) == 4 and all(episode["l"] == 55 for episode in episodes)
    observation, _ = single.reset(seed=0)
    done, steps = False, 0
    while not done:
        mask = single.action_masks()
        action, _ = model.predict(observation, action_masks=mask, deterministic=True)
        assert mask[int(action)]
        observation, _, done, _, info = single.step(int(action))
        steps += 1
    assert steps == 55 and info["makespan"] >= 40  # mk01's optimum is 40
