"""The shared slot-scoring policy for MaskablePPO on DynamicJobShop (job choice)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from shopfloor.agents import AgentConfigError, SB3Agent, load_policy
from shopfloor.agents._slot_scoring import SlotScoringNetwork, SlotScoringPolicy
from shopfloor.envs import DynamicJobShopEnv, JobShopEnv
from shopfloor.envs.dynamic_job_shop import GLOBAL_FEATURES, SLOT_FEATURES
from shopfloor.experiments import evaluate
from shopfloor.policies import make_policy

SLOTS = 32  # the small scenario's queues never outgrow them


def job_choice() -> DynamicJobShopEnv:
    return DynamicJobShopEnv(scenario="dynamic_job_shop_small", action_mode="job", slots=SLOTS)


def busy_observation(env: DynamicJobShopEnv, least_waiting: int = 3) -> np.ndarray:
    """An observation with at least ``least_waiting`` jobs in the queue (FIFO choices)."""
    observation, _ = env.reset(seed=0)
    for _ in range(10_000):
        if env.action_masks().sum() >= least_waiting:
            return observation
        observation, *_ = env.step(int(np.argmax(env.action_masks())))
    raise AssertionError("no queue that long")


def permuted(observation: np.ndarray, n_shared: int, order: np.ndarray) -> np.ndarray:
    """The observation with the slots reordered (slot-major rows after the shared part)."""
    rows = observation[n_shared:].reshape(-1, SLOT_FEATURES)[order]
    return np.concatenate([observation[:n_shared], rows.ravel()])


def make_agent(**policy_kwargs: object) -> SB3Agent:
    values = {
        "policy": "SlotScoringPolicy",
        "policy_kwargs": policy_kwargs,
        "n_steps": 64,
        "batch_size": 64,
        "n_epochs": 1,
    }
    return SB3Agent("maskable_ppo", job_choice, values, seed=0, device="cpu")


@pytest.mark.parametrize("rule", ["atc", "atcjs"])
def test_untrained_policy_with_a_prior_is_that_rule(rule):
    seeds = range(100, 103)
    learned, _ = evaluate(make_agent(prior_weight=10.0, prior_rule=rule), job_choice(), seeds)
    rule_choice = DynamicJobShopEnv(scenario="dynamic_job_shop_small", rules=[rule])
    expected, _ = evaluate(make_policy(rule), rule_choice, seeds)
    np.testing.assert_allclose(learned, expected)
    without_prior, _ = evaluate(make_agent(), job_choice(), seeds)
    assert not np.allclose(without_prior, expected), f"without the prior it is not {rule}"


def test_an_unknown_prior_rule_is_named():
    with pytest.raises(
        ValueError, match="prior_rule must be one of \\['atc', 'atcjs'\\], got 'edd'"
    ):
        SlotScoringNetwork(GLOBAL_FEATURES + 6 + SLOT_FEATURES * 8, 8, prior_rule="edd")


def test_swapping_slots_swaps_scores_and_pooled_value_ignores_the_order(tmp_path):
    env = job_choice()
    observation = busy_observation(env)
    n_shared = GLOBAL_FEATURES + env.n_machines
    waiting = int(env.action_masks().sum())
    order = np.arange(SLOTS)
    order[:waiting] = np.random.default_rng(0).permutation(waiting)
    shuffled = permuted(observation, n_shared, order)
    pooled = SlotScoringNetwork(observation.size, SLOTS, pooled_critic=True)
    flat = SlotScoringNetwork(observation.size, SLOTS)
    batch = torch.as_tensor(np.stack([observation, shuffled]))
    with torch.no_grad():
        scores = pooled.forward_actor(batch).numpy()
        values = [network.forward_critic(batch) for network in (pooled, flat)]
    np.testing.assert_allclose(scores[1], scores[0][order], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(values[0][0], values[0][1])
    assert not torch.allclose(values[1][0], values[1][1]), "the flat critic is order-sensitive"


def test_trains_saves_and_loads(tmp_path, learn_changes_the_scores):
    env = job_choice()
    agent = make_agent(prior_weight=10.0, prior_rule="atcjs", pooled_critic=True, hidden=32)
    model = agent.model
    assert isinstance(model.policy, SlotScoringPolicy)
    learn_changes_the_scores(model)
    agent.save(tmp_path / "model")
    loaded = load_policy(
        tmp_path / "model",
        "maskable_ppo",
        env.observation_space,
        env.action_space,
        agent.hyperparameters,
    )
    network = loaded.policy.mlp_extractor
    assert network.prior_rule == "atcjs" and network.prior_weight == 10.0
    assert network.embed is not None and network.score[0].out_features == 32
    observation = torch.as_tensor(busy_observation(env))[None]
    with torch.no_grad():
        torch.testing.assert_close(
            loaded.policy.predict_values(observation), model.policy.predict_values(observation)
        )
        torch.testing.assert_close(
            network.forward_actor(observation),
            model.policy.mlp_extractor.forward_actor(observation),
        )


def test_a_wrong_layout_is_refused():
    with pytest.raises(ValueError, match="not the DynamicJobShop layout for 8 slots"):
        SlotScoringNetwork(GLOBAL_FEATURES + SLOT_FEATURES * 8, 8)


def test_a_misspelt_keyword_names_the_agent_file():
    values = {"policy": "SlotScoringPolicy", "policy_kwargs": {"atc_prio": 10.0}}
    with pytest.raises(AgentConfigError, match="atc_prio"):
        SB3Agent("maskable_ppo", job_choice, values, seed=0, device="cpu")


def test_committed_config_scores_slots_in_job_choice_only():
    """agents/maskable_ppo.yaml: the dynamic_job_choice entry (experiments/
    dynamic_job_choice.yaml) scores slots from an ATCJS start; rule choice keeps the MLP."""
    from shopfloor.agents import load_hyperparameters as resolved_hyperparameters
    from shopfloor.experiments import load_experiment

    spec = load_experiment(Path(__file__).parents[2] / "experiments" / "dynamic_job_choice.yaml")
    (env,) = spec.envs
    values = resolved_hyperparameters("maskable_ppo", env.id, env.name)
    assert values["policy"] == "SlotScoringPolicy"
    kwargs = values["policy_kwargs"]
    assert (
        kwargs["prior_rule"] == "atcjs" and kwargs["prior_weight"] > 0 and kwargs["pooled_critic"]
    )
    rule_values = resolved_hyperparameters("maskable_ppo", env.id, "dynamic_job_shop")
    assert rule_values.get("policy", "MlpPolicy") == "MlpPolicy"
    agent = SB3Agent("maskable_ppo", lambda: DynamicJobShopEnv(**env.kwargs), values, device="cpu")
    assert isinstance(agent.model.policy, SlotScoringPolicy)
    assert agent.model.policy.mlp_extractor.slots == env.kwargs["slots"]


@pytest.mark.parametrize(
    ("policy", "env_factory", "message"),
    [
        (
            "SlotScoringPolicy",
            lambda: DynamicJobShopEnv(scenario="dynamic_job_shop_small"),
            "needs DynamicJobShop with action_mode='job', got DynamicJobShopEnv with "
            "action_mode='rule'",
        ),
        ("SlotScoringPolicy", lambda: JobShopEnv(instance="ft06"), "got JobShopEnv"),
        ("JobScoringPolicy", job_choice, "reads the JobShop layout, got DynamicJobShopEnv"),
    ],
)
def test_a_scoring_policy_on_an_env_it_cannot_read_is_named(policy, env_factory, message):
    """Rule mode's observation has the same shape family as job mode's: only the env
    tells them apart, so the agent checks it before building the network."""
    with pytest.raises(AgentConfigError, match=rf"maskable_ppo\.yaml: policy {policy} .*{message}"):
        SB3Agent("maskable_ppo", env_factory, {"policy": policy}, seed=0, device="cpu")
