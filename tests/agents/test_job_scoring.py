"""The shared job-scoring policy for MaskablePPO on JobShop."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from shopfloor.agents import SB3Agent, load_hyperparameters, load_policy
from shopfloor.agents._job_scoring import JobScoringNetwork
from shopfloor.envs import JobShopEnv
from shopfloor.envs.job_shop import JOB_FEATURES, MACHINE_FEATURES, WORK
from shopfloor.experiments import evaluate
from shopfloor.policies import make_policy


def permuted(observation: np.ndarray, n_jobs: int, order: np.ndarray) -> np.ndarray:
    """The observation with the jobs reordered (job blocks are feature-major)."""
    jobs = observation[: JOB_FEATURES * n_jobs].reshape(JOB_FEATURES, n_jobs)[:, order]
    return np.concatenate([jobs.ravel(), observation[JOB_FEATURES * n_jobs :]])


def test_swapping_jobs_swaps_their_scores():
    env = JobShopEnv(instance="la01")  # 10 jobs, 5 machines
    observation, _ = env.reset(seed=0)
    for action in (0, 3, 5):
        if env.action_masks()[action]:
            observation, *_ = env.step(action)
    network = JobScoringNetwork(observation.size, env.n_jobs)
    order = np.random.default_rng(0).permutation(env.n_jobs)
    with torch.no_grad():
        scores = network.forward_actor(torch.as_tensor(observation)[None])[0].numpy()
        reordered = network.forward_actor(
            torch.as_tensor(permuted(observation, env.n_jobs, order))[None]
        )[0].numpy()
    np.testing.assert_allclose(reordered, scores[order], rtol=1e-5, atol=1e-6)
    assert np.ptp(scores) > 0, "an untrained network should still tell jobs apart"


def test_each_job_reads_its_next_two_machines():
    env = JobShopEnv(instance="ft06")
    observation, _ = env.reset(seed=0)
    rng = np.random.default_rng(1)
    for _ in range(26):  # of 36 operations
        observation, *_ = env.step(int(rng.choice(np.flatnonzero(env.action_masks()))))
    n, m = env.n_jobs, env.n_machines
    network = JobScoringNetwork(observation.size, n)
    inputs = network.job_inputs(torch.as_tensor(observation)[None])[0].numpy()
    j, k = JOB_FEATURES, MACHINE_FEATURES
    machine_blocks = observation[j * n :].reshape(k, m)
    factory = env.factory
    seen = {"done": 0, "on its last operation": 0, "with two to go": 0}
    for job in range(n):
        np.testing.assert_array_equal(inputs[job, :j], observation[: j * n].reshape(j, n)[:, job])
        next_machine, following = inputs[job, j : j + k], inputs[job, j + k : j + 2 * k]
        step, routing = factory.operation_index(job), factory.spec.jobs[job].routing
        if step == len(routing):
            seen["done"] += 1
            np.testing.assert_array_equal(next_machine, np.zeros(k))
            np.testing.assert_array_equal(following, np.zeros(k))
            continue
        np.testing.assert_array_equal(next_machine, machine_blocks[:, routing[step].machines[0]])
        if step + 1 == len(routing):
            seen["on its last operation"] += 1
            np.testing.assert_array_equal(following, np.zeros(k))
        else:
            seen["with two to go"] += 1
            np.testing.assert_array_equal(
                following, machine_blocks[:, routing[step + 1].machines[0]]
            )
    assert all(seen.values()), seen


def test_a_wrong_layout_is_refused():
    with pytest.raises(ValueError, match="not the JobShop layout for 10 jobs"):
        JobScoringNetwork(71, 10)


def test_trains_saves_and_loads_with_maskable_ppo(tmp_path, learn_changes_the_scores):
    env = JobShopEnv(instance="ft06")
    values = {"policy": "JobScoringPolicy", "n_steps": 64, "batch_size": 64, "n_epochs": 1}
    agent = SB3Agent("maskable_ppo", lambda: JobShopEnv(instance="ft06"), values, device="cpu")
    model = agent.model
    assert isinstance(model.policy.action_net, torch.nn.Identity)
    learn_changes_the_scores(model)
    agent.save(tmp_path / "model")
    loaded = load_policy(
        tmp_path / "model", "maskable_ppo", env.observation_space, env.action_space, values
    )
    observation, _ = env.reset(seed=1)
    masks = env.action_masks()
    for _ in range(3):
        expected, _ = model.predict(observation, deterministic=True, action_masks=masks)
        action, _ = loaded.predict(observation, deterministic=True, action_masks=masks)
        assert action == expected and masks[action]
        observation, *_ = env.step(int(action))
        masks = env.action_masks()


def test_work_prior_starts_as_mwkr_and_survives_save_load(tmp_path):
    env = JobShopEnv(instance="la01")
    values = {
        "policy": "JobScoringPolicy",
        "policy_kwargs": {"work_prior": 10.0},
        "n_steps": 64,
        "batch_size": 64,
    }
    agent = SB3Agent("maskable_ppo", lambda: JobShopEnv(instance="la01"), values, device="cpu")
    model = agent.model
    observation, _ = env.reset(seed=0)
    n = env.n_jobs
    checked = 0
    while True:
        masks = env.action_masks()
        action, _ = model.predict(observation, deterministic=True, action_masks=masks)
        work = observation[WORK * n : (WORK + 1) * n]
        best = work[masks].max()
        if np.sum(work[masks] == best) == 1:  # MWKR has a single choice
            assert work[action] == best
            checked += 1
        observation, _, terminated, _, _ = env.step(int(action))
        if terminated:
            break
    assert checked > 20
    agent.save(tmp_path / "model")
    loaded = load_policy(
        tmp_path / "model", "maskable_ppo", env.observation_space, env.action_space, values
    )
    assert loaded.policy.mlp_extractor.work_prior == 10.0
    torch.testing.assert_close(
        loaded.policy.mlp_extractor.prior.weight, model.policy.mlp_extractor.prior.weight
    )


def test_pooled_critic_values_a_shop_the_same_whatever_the_job_order(tmp_path):
    env = JobShopEnv(instance="la01")
    observation, _ = env.reset(seed=0)
    for action in (1, 4, 2):
        if env.action_masks()[action]:
            observation, *_ = env.step(action)
    order = np.random.default_rng(2).permutation(env.n_jobs)
    shuffled = permuted(observation, env.n_jobs, order)
    pooled = JobScoringNetwork(observation.size, env.n_jobs, pooled_critic=True)
    flat = JobScoringNetwork(observation.size, env.n_jobs)
    with torch.no_grad():
        values = [
            network.forward_critic(torch.as_tensor(np.stack([observation, shuffled])))
            for network in (pooled, flat)
        ]
    torch.testing.assert_close(values[0][0], values[0][1])
    assert not torch.allclose(values[1][0], values[1][1]), "the flat critic is order-sensitive"
    values = {
        "policy": "JobScoringPolicy",
        "policy_kwargs": {"pooled_critic": True},
        "n_steps": 64,
        "batch_size": 64,
        "n_epochs": 1,
    }
    agent = SB3Agent("maskable_ppo", lambda: env, values, device="cpu").learn(64)
    model = agent.model
    agent.save(tmp_path / "model")
    loaded = load_policy(
        tmp_path / "model", "maskable_ppo", env.observation_space, env.action_space, values
    )
    tensor = torch.as_tensor(observation)[None]
    with torch.no_grad():
        torch.testing.assert_close(
            loaded.policy.predict_values(tensor), model.policy.predict_values(tensor)
        )
    assert loaded.policy.mlp_extractor.embed is not None


def test_the_committed_jobshop_config_learns_to_beat_mwkr_it_starts_from():
    """agents/maskable_ppo.yaml on JobShop (MWKR prior, pooled critic), 80k steps on
    random 10x10 shops: greedy makespans on 40 unseen random 10x10 shops beat MWKR's."""

    def small_shop() -> JobShopEnv:
        return JobShopEnv(generator={"n_jobs": 10, "n_machines": 10})

    values = load_hyperparameters("maskable_ppo", "shopfloor/JobShop-v0")
    assert values["policy_kwargs"]["pooled_critic"] and values["policy_kwargs"]["work_prior"]
    agent = SB3Agent("maskable_ppo", small_shop, values, seed=0, device="cpu").learn(80_000)
    seeds = range(9000, 9040)
    learned, _ = evaluate(agent, small_shop(), seeds)
    mwkr, _ = evaluate(make_policy("mwkr"), small_shop(), seeds)
    print(f"learned {np.mean(learned):.1f} vs MWKR {np.mean(mwkr):.1f}")
    assert np.mean(learned) < 0.99 * np.mean(mwkr)
