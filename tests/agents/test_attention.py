"""The attention policy: tokens read right, size-agnostic, equivariant, trains in SB3."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

import shopfloor.envs  # noqa: F401  (registers the ids)
from shopfloor.agents._attention import (
    AttentionPolicy,
    ShopAttention,
    ShopTokens,
    tokens_from_observation,
)
from shopfloor.batch import BatchJobShop
from shopfloor.envs import JobShopEnv

torch.set_num_threads(1)


def _observation(env: JobShopEnv, steps: int, seed: int = 0) -> np.ndarray:
    observation, _ = env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        observation, *_ = env.step(int(rng.choice(np.flatnonzero(env.action_masks()))))
    return observation


@pytest.mark.parametrize("mode", ["non_delay", "active", "append"])
def test_tokens_name_each_jobs_next_machines(mode):
    env = JobShopEnv(instance="la01", mode=mode)  # 10 jobs x 5 machines
    observation = _observation(env, 17)
    shop = tokens_from_observation(torch.as_tensor(observation)[None], 10, 5)
    jobs = env.source.example().jobs
    for job in range(10):
        routing = [op.machines[0] for op in jobs[job].routing]
        # Blocks 4 and 5 hold (machine + 1) / (M + 1); the tokens decode them.
        assert int(shop.next_machine[0, job]) == round(float(observation[40 + job]) * 6) - 1
        assert int(shop.following_machine[0, job]) == round(float(observation[50 + job]) * 6) - 1
        if mode != "non_delay":  # shows the next unscheduled operation: block 1 locates it
            position = round(float(observation[10 + job]) * len(routing))
            expected = routing[position] if position < len(routing) else -1
            following = routing[position + 1] if position + 1 < len(routing) else -1
            assert int(shop.next_machine[0, job]) == expected
            assert int(shop.following_machine[0, job]) == following
    assert shop.job_present[0].tolist() == (shop.next_machine[0] >= 0).tolist()
    assert shop.machine_present.all() and shop.jobs.shape == (1, 10, 8)


def test_a_bad_length_is_one_line():
    with pytest.raises(ValueError, match="not the JobShop layout for 6 jobs"):
        tokens_from_observation(torch.zeros(1, 50), 6, 1)


def test_swapping_two_jobs_swaps_their_scores():
    torch.manual_seed(0)
    network = ShopAttention(width=32, heads=4, layers=2).eval()
    observation = _observation(JobShopEnv(instance="ta01", mode="active"), 40)
    shop = tokens_from_observation(torch.as_tensor(observation)[None], 15, 15)
    order = torch.randperm(15)
    swapped = ShopTokens(
        shop.jobs[:, order],
        shop.machines,
        shop.next_machine[:, order],
        shop.following_machine[:, order],
        shop.job_present[:, order],
        shop.machine_present,
    )
    with torch.no_grad():
        scores, value = network(shop)
        scores_swapped, value_swapped = network(swapped)
    torch.testing.assert_close(scores_swapped, scores[:, order], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(value_swapped, value, rtol=1e-5, atol=1e-5)
    assert len(set(scores[0][shop.job_present[0]].tolist())) > 1  # not a constant


def test_padding_changes_nothing_and_one_network_takes_every_size():
    """A padded batch (ft06 and la01 in one core) scores each shop as it alone is scored."""
    torch.manual_seed(1)
    network = ShopAttention(width=32, heads=4, layers=2).eval()
    core = BatchJobShop(["ft06", "la01"], mode="active")
    features, masks = core.reset()
    rng = np.random.default_rng(2)
    for _ in range(9):
        actions = [int(rng.choice(np.flatnonzero(row))) for row in np.asarray(masks)]
        features, masks, _, _ = core.step(np.array(actions))
    batch = torch.as_tensor(np.array(features))
    padded = tokens_from_observation(batch, core.n_jobs, torch.tensor([6, 5]))
    with torch.no_grad():
        scores, value = network(padded)
    for row, (name, jobs, machines) in enumerate([("ft06", 6, 6), ("la01", 10, 5)]):
        env = JobShopEnv(instance=name, mode="active")
        alone = np.concatenate(
            [
                np.asarray(features)[row, : 8 * core.n_jobs].reshape(8, -1)[:, :jobs].ravel(),
                np.asarray(features)[row, 8 * core.n_jobs :].reshape(3, -1)[:, :machines].ravel(),
            ]
        )
        assert alone.shape == env.observation_space.shape
        shop = tokens_from_observation(torch.as_tensor(alone)[None], jobs, machines)
        with torch.no_grad():
            own_scores, own_value = network(shop)
        present = shop.job_present[0]
        torch.testing.assert_close(
            scores[row, :jobs][present], own_scores[0][present], rtol=1e-4, atol=1e-5
        )
        assert torch.isinf(scores[row, :jobs][~present]).all()
        assert torch.isinf(scores[row, jobs:]).all()  # padding jobs are never chosen
        torch.testing.assert_close(value[row], own_value[0], rtol=1e-4, atol=1e-5)


def test_maskable_ppo_trains_with_it_and_acts_validly_on_other_modes():
    from sb3_contrib import MaskablePPO
    from sb3_contrib.common.wrappers import ActionMasker
    from stable_baselines3.common.utils import get_device

    env = ActionMasker(
        gym.make("shopfloor/JobShop-v0", instance="ft06", mode="active"),
        lambda e: e.unwrapped.action_masks(),
    )
    model = MaskablePPO(
        AttentionPolicy,
        env,
        n_steps=64,
        batch_size=32,
        n_epochs=1,
        seed=0,
        device="auto",
        policy_kwargs={"width": 16, "heads": 2, "layers": 1},
    )
    assert AttentionPolicy.unsuitable(env) is None
    assert model.policy.device == get_device("auto")
    before = [p.detach().clone() for p in model.policy.parameters()]
    model.learn(128)
    assert any(
        not torch.equal(a, b) for a, b in zip(before, model.policy.parameters(), strict=True)
    )
    observation, _ = env.reset(seed=3)
    done, steps = False, 0
    while not done:
        mask = env.unwrapped.action_masks()
        action, _ = model.predict(observation, action_masks=mask, deterministic=True)
        assert mask[int(action)]
        observation, _, done, _, _ = env.step(int(action))
        steps += 1
    assert steps == 36


def test_it_refuses_an_env_it_cannot_read():
    env = gym.make("shopfloor/ProductionInventory-v0")
    assert AttentionPolicy.unsuitable(env) is not None


def test_the_maskable_ppo_agent_takes_it_by_name_and_saves_it_as_data(tmp_path):
    from shopfloor.agents import load_trained_agent, make_agent

    def factory() -> gym.Env:
        return gym.make("shopfloor/JobShop-v0", generator={"n_jobs": 5, "n_machines": 4})

    settings = {
        "policy": "AttentionPolicy",
        "n_envs": 1,
        "n_steps": 32,
        "batch_size": 32,
        "n_epochs": 1,
        "policy_kwargs": {"width": 8, "heads": 2, "layers": 1},
    }
    agent = make_agent("maskable_ppo", factory, settings, seed=0, device="cpu")
    agent.learn(32)
    path = agent.save(tmp_path / "attention")
    loaded = load_trained_agent(path, "maskable_ppo", factory, settings, device="cpu")
    env = factory()
    observation, _ = env.reset(seed=1)
    masks = env.unwrapped.action_masks()
    assert (
        agent.predict(observation, action_masks=masks)[0]
        == loaded.predict(observation, action_masks=masks)[0]
    )
    assert path.suffix == ".npz"
    with np.load(path, allow_pickle=False) as data:  # arrays only: nothing to unpickle
        assert all(data[name].dtype != object for name in data.files)
