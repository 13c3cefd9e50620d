"""The agent registry: its entries, and adding an algorithm through it alone.

The toy algorithm below is what a new algorithm's module holds (an agent class with the
shared protocol and an :class:`Algorithm` entry); it is registered in a copy of the
registry, or in the registry for one test (``monkeypatch`` removes it again).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

import shopfloor.envs  # noqa: F401  (registers the env ids)
from shopfloor.agents import (
    ALGORITHMS,
    Agent,
    AgentConfigError,
    AgentSetup,
    Algorithm,
    AlgorithmRegistry,
    TrainedAgent,
    keys_of,
    load_agent,
    load_hyperparameters,
    make_agent,
)
from shopfloor.experiments import SavedAgent, train

ENV_ID = "shopfloor/DynamicJobShop-v1"
SMALL = {"scenario": "dynamic_job_shop_small"}


class BestRuleAgent:
    """A toy: plays each rule for whole episodes and keeps the one with the best mean return."""

    def __init__(self, env_factory: Callable[[], gym.Env], seed: int, episodes_per_rule: int):
        self.env = env_factory()
        self.seed = seed
        self.episodes_per_rule = episodes_per_rule
        n = int(self.env.action_space.n)
        self.returns = np.zeros(n)
        self.counts = np.zeros(n, dtype=np.int64)
        self.num_timesteps = 0

    @property
    def observation_space(self) -> gym.Space[Any]:
        return self.env.observation_space

    @property
    def action_space(self) -> gym.Space[Any]:
        return self.env.action_space

    @property
    def acts_on_any_size(self) -> bool:
        return False

    def learn(self, total_timesteps: int, callback: Any = None, *, budget: Any = None) -> Any:
        end = self.num_timesteps + total_timesteps
        while self.num_timesteps < end:
            episode = int(self.counts.sum())
            action = (episode // self.episodes_per_rule) % len(self.counts)
            self.env.reset(seed=self.seed + episode)
            total, done = 0.0, bool(self.env.unwrapped.factory.done)
            while not done:
                _, reward, terminated, truncated, _ = self.env.step(action)
                total += float(reward)
                self.num_timesteps += 1
                done = terminated or truncated
            self.returns[action] += total
            self.counts[action] += 1
        return self

    def predict(
        self, observation: Any, deterministic: bool = True, action_masks: Any = None
    ) -> tuple[Any, Any]:
        means = np.where(self.counts > 0, self.returns / np.maximum(self.counts, 1), -np.inf)
        return np.int64(np.argmax(means)), None

    def save(self, path: str | os.PathLike[str]) -> Path:
        target = _file(path)
        data = {
            "returns": self.returns.tolist(),
            "counts": self.counts.tolist(),
            "num_timesteps": self.num_timesteps,
        }
        target.write_text(json.dumps(data))
        return target


def _file(path: str | os.PathLike[str]) -> Path:
    """``<path>.rule.json`` (``step_N.json`` is the checkpoint manifest's name)."""
    path = Path(path)
    return path if path.name.endswith(".rule.json") else path.with_name(path.name + ".rule.json")


def _build(setup: AgentSetup) -> BestRuleAgent:
    episodes = int(setup.hyperparameters.get("episodes_per_rule", 1))
    return BestRuleAgent(setup.env_factory, setup.seed, episodes)


def _load(path: str | os.PathLike[str], setup: AgentSetup) -> BestRuleAgent:
    data = json.loads(_file(path).read_text())
    agent = _build(setup)
    agent.returns = np.asarray(data["returns"], dtype=float)
    agent.counts = np.asarray(data["counts"], dtype=np.int64)
    agent.num_timesteps = int(data["num_timesteps"])
    return agent


def _episodes_per_rule(episodes_per_rule: int = 1) -> None:
    """The toy's hyperparameters (a signature for :func:`keys_of`)."""


TOY = Algorithm(
    name="best_rule",
    summary="the single rule with the best mean return (a toy)",
    agent_class=BestRuleAgent,
    build=_build,
    load=_load,
    load_trained=_load,
    hyperparameter_keys=keys_of(_episodes_per_rule),
)


def _factory() -> gym.Env:
    return gym.make(ENV_ID, **SMALL)


def test_the_registry_names_every_algorithm_once_in_order():
    assert list(ALGORITHMS) == [
        "qlearning",
        "rollout",
        "ppo",
        "a2c",
        "dqn",
        "maskable_ppo",
        "self_labelling",
    ]
    assert ALGORITHMS.names(follows_masks=True) == ("qlearning", "maskable_ppo", "self_labelling")
    assert ALGORITHMS.names(vectorised=False) == ("qlearning", "rollout", "self_labelling")
    assert ALGORITHMS.names(prior_rule=True) == ("ppo", "a2c")
    for name, entry in ALGORITHMS.items():
        assert entry.name == name and entry.summary
        assert isinstance(entry.defaults(), dict)  # agents/<name>.yaml's default entry
        assert entry.hyperparameter_keys()  # each reads its YAML through its own keys
    with pytest.raises(ValueError, match="already registered"):
        ALGORITHMS.copy().register(ALGORITHMS["ppo"])
    with pytest.raises(AgentConfigError, match=r"unknown algorithm 'ppo2'; choose from qlearning"):
        ALGORITHMS.resolve("ppo2")
    with pytest.raises(ValueError, match="lower-case"):
        Algorithm("PPO", "x", BestRuleAgent, _build, _load, _load, keys_of(_episodes_per_rule))


def test_the_registry_checks_what_an_algorithm_needs_of_an_env():
    job_shop = gym.make("shopfloor/JobShop-v0", instance="ft06")  # its actions are masked
    rule_choice = _factory()
    try:
        with pytest.raises(ValueError, match="ppo cannot follow action masks"):
            ALGORITHMS["ppo"].check_env(job_shop)
        ALGORITHMS["maskable_ppo"].check_env(job_shop)
        ALGORITHMS["ppo"].check_env(rule_choice)
        with pytest.raises(ValueError, match="rule_candidates: true"):
            ALGORITHMS["rollout"].check_env(rule_choice)
        assert ALGORITHMS.fitting(job_shop) == ("qlearning", "maskable_ppo", "self_labelling")
        assert ALGORITHMS.fitting(rule_choice) == ("qlearning", "ppo", "a2c", "dqn", "maskable_ppo")
    finally:
        job_shop.close()
        rule_choice.close()


def test_a_toy_algorithm_in_a_registry_copy_trains_saves_and_loads(tmp_path):
    local = ALGORITHMS.copy()
    assert isinstance(local, AlgorithmRegistry) and local is not ALGORITHMS
    local.register(TOY)
    assert "best_rule" in local and "best_rule" not in ALGORITHMS
    with pytest.raises(AgentConfigError, match="unknown algorithm 'best_rule'"):
        make_agent("best_rule", _factory, {}, 0)

    agent = make_agent("best_rule", _factory, {"episodes_per_rule": 1}, 3, registry=local)
    assert isinstance(agent, Agent)
    agent.learn(200)
    assert agent.num_timesteps >= 200
    path = agent.save(tmp_path / "model")
    loaded = load_agent(path, "best_rule", _factory, {}, registry=local)
    assert isinstance(loaded, TrainedAgent)
    assert loaded.num_timesteps == agent.num_timesteps
    observation = np.zeros(agent.observation_space.shape, dtype=np.float32)
    assert loaded.predict(observation)[0] == agent.predict(observation)[0]
    assert 0 <= int(agent.predict(observation)[0]) < agent.action_space.n


def test_a_registered_toy_algorithm_runs_through_train_and_saved_agents(tmp_path, monkeypatch):
    agents = tmp_path / "agents"
    agents.mkdir()
    (agents / "best_rule.yaml").write_text(
        f"default: {{episodes_per_rule: 1}}\n{ENV_ID}: {{episodes_per_rule: 2}}\n"
    )
    monkeypatch.setenv("SHOPFLOOR_AGENTS_DIR", str(agents))
    monkeypatch.setitem(ALGORITHMS, "best_rule", TOY)  # removed again after the test
    assert load_hyperparameters("best_rule", ENV_ID) == {"episodes_per_rule": 2}
    assert TOY.defaults() == {"episodes_per_rule": 1}

    outcome = train(
        ENV_ID,
        "best_rule",
        seed=0,
        budget=150,
        eval_every=150,
        eval_seeds=[100],
        env_kwargs=SMALL,
        device="cpu",
        root=tmp_path / "runs",
    )
    assert outcome.status == "trained" and outcome.timesteps >= 150
    saved = SavedAgent(outcome.run_dir)
    assert saved.algorithm == "best_rule"
    env = _factory()
    observation, _ = env.reset(seed=100)
    action, _ = saved.predict(observation)
    assert env.action_space.contains(int(action))
    env.close()

    (agents / "best_rule.yaml").write_text("default: {episodes: 1}\n")
    with pytest.raises(AgentConfigError, match=r"unknown key\(s\) \['episodes'\] for best_rule"):
        load_hyperparameters("best_rule", ENV_ID)
