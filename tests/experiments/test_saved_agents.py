"""Saved agents in the benchmark: greedy episodes and best-of-N sampling."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from shopfloor.experiments import evaluate_episode, run_bench
from shopfloor.experiments._episodes import policy_seed
from shopfloor.experiments._saved import SavedAgent
from shopfloor.experiments._train import RunConfig, execute_run, make_env_factory
from shopfloor.sim import check_schedule

JOB_SHOP = "shopfloor/JobShop-v0"


def train_on_ft06(root: Path, experiment: str, budget: int, **hyperparameters) -> str:
    """A MaskablePPO run folder trained on ft06 (6 jobs x 6 machines)."""
    config = RunConfig(
        experiment=experiment,
        env_id=JOB_SHOP,
        env_name="ft06",
        env_kwargs={"instance": "ft06"},
        agent="maskable_ppo",
        seed=0,
        budget=budget,
        eval_every=budget,
        eval_seeds=(0,),
        hyperparameters={"n_envs": 2, **hyperparameters},
        device="cpu",
        root=str(root),
    )
    execute_run(config)
    return str(config.run_dir)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A flat-MLP policy."""
    runs = tmp_path_factory.mktemp("runs")
    return train_on_ft06(runs, "saved", 512, n_steps=128, batch_size=128, n_epochs=2)


@pytest.fixture(scope="module")
def scoring_run_dir(tmp_path_factory):
    """The job-scoring policy, as agents/maskable_ppo.yaml sets it for JobShop."""
    return train_on_ft06(
        tmp_path_factory.mktemp("runs"),
        "scoring",
        256,
        policy="JobScoringPolicy",
        policy_kwargs={"work_prior": 10.0, "pooled_critic": True},
        n_steps=64,
        batch_size=64,
        n_epochs=1,
    )


def rollout(agent: SavedAgent, deterministic: bool, instance: str = "ft06") -> float:
    """The makespan of one episode; the schedule is checked against the contract."""
    env = make_env_factory(JOB_SHOP, {"instance": instance})()
    observation, _ = env.reset(seed=0)
    terminated = False
    while not terminated:  # an invalid action would raise
        masks = env.unwrapped.action_masks()
        action, _ = agent.predict(observation, deterministic=deterministic, action_masks=masks)
        observation, _, terminated, _, _ = env.step(action)
    check_schedule(env.unwrapped.factory)
    return env.unwrapped.factory.kpis().makespan


def test_a_saved_agent_is_benchmarked_greedily(run_dir):
    episode = evaluate_episode(run_dir, "ft06", 0)
    assert episode.value == rollout(SavedAgent(run_dir), deterministic=True)
    assert episode.value >= 55  # ft06's optimum


def test_the_best_evaluated_model_is_benchmarked_by_name(run_dir, tmp_path):
    best = evaluate_episode(f"{run_dir}:best", "ft06", 0)
    agent = SavedAgent(f"{run_dir}:best")
    assert agent.run_dir == SavedAgent(run_dir).run_dir
    assert best.value == rollout(agent, deterministic=True)
    with pytest.raises(FileNotFoundError, match=r"best_model\.npz"):
        empty = tmp_path / "run"
        empty.mkdir()
        (empty / "config.yaml").write_text((Path(run_dir) / "config.yaml").read_text())
        SavedAgent(f"{empty}:best")


def test_best_of_n_keeps_the_best_sampled_schedule(run_dir):
    episode = evaluate_episode(run_dir, "ft06", 0, samples=6)
    agent = SavedAgent(run_dir)
    torch.manual_seed(policy_seed(0))
    sampled = [rollout(agent, deterministic=False) for _ in range(6)]
    assert episode.value == min(sampled)
    assert episode.policy.endswith("best-of-6")
    assert len(set(sampled)) > 1, "sampling should explore different schedules"
    assert evaluate_episode(run_dir, "ft06", 0, samples=6).value == episode.value


def test_bench_samples_every_policy_but_cpsat(run_dir):
    result = run_bench(
        [run_dir, "random,cpsat"], ["ft06"], 1, workers=1, progress=False, samples=4, time_limit=2.0
    )
    labels = {episode.policy for episode in result.episodes}
    assert labels == {f"{run_dir} best-of-4", "random best-of-4", "cpsat"}
    greedy_random = evaluate_episode("random", "ft06", 0).value
    best_random = next(e.value for e in result.episodes if e.policy == "random best-of-4")
    assert best_random <= greedy_random  # the first sample is the greedy episode


def test_best_of_n_needs_a_static_target(run_dir):
    with pytest.raises(ValueError, match="needs static targets"):
        run_bench(["random"], ["dynamic_job_shop_small"], 1, workers=1, progress=False, samples=3)
    with pytest.raises(ValueError, match="samples must be >= 1"):
        evaluate_episode("random", "ft06", 0, samples=0)
    assert np.isfinite(evaluate_episode("random", "ft06", 0, samples=2).value)


def test_a_loaded_network_runs_on_one_cpu_thread(run_dir):
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        SavedAgent(run_dir)
        assert torch.get_num_threads() == 1  # bench workers each run one, as training does
    finally:
        torch.set_num_threads(threads)


def test_the_any_size_path_is_the_same_policy_at_the_trained_size(scoring_run_dir):
    agent = SavedAgent(scoring_run_dir)
    policy = agent.agent.policy
    env = make_env_factory(JOB_SHOP, {"instance": "ft06"})()
    observation, _ = env.reset(seed=0)
    terminated = False
    while not terminated:
        masks = env.unwrapped.action_masks()
        action, _ = agent.predict(observation, deterministic=True, action_masks=masks)
        assert policy.predict_any_size(observation, masks) == action
        observation, _, terminated, _, _ = env.step(action)


def test_a_job_scoring_agent_schedules_shops_of_other_sizes(scoring_run_dir):
    agent = SavedAgent(scoring_run_dir)  # trained on ft06, 6 jobs x 6 machines
    for target, optimum in (("la01", 666), ("ft10", 930)):  # 10x5 and 10x10
        episode = evaluate_episode(scoring_run_dir, target, 0)
        assert episode.value >= optimum
        assert rollout(agent, deterministic=True, instance=target) == episode.value


def test_a_flat_policy_on_another_size_names_the_run(run_dir):
    env = make_env_factory(JOB_SHOP, {"instance": "la01"})()
    observation, _ = env.reset(seed=0)
    masks = env.unwrapped.action_masks()
    with pytest.raises(ValueError, match=r"seed_0: the agent reads observations of shape"):
        SavedAgent(run_dir).predict(observation, action_masks=masks)
