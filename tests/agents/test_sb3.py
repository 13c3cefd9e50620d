"""SB3 adapters: device selection, hyperparameter files, save/load, learning beats random."""

from __future__ import annotations

from unittest import mock

import gymnasium as gym
import numpy as np
import pytest
import torch

import shopfloor.envs  # noqa: F401  (registers the env ids)
from shopfloor.agents import (
    AgentConfigError,
    DeviceError,
    SB3Agent,
    load_hyperparameters,
    select_device,
)
from shopfloor.agents._config import resolve_values
from shopfloor.envs import JobShopEnv
from shopfloor.experiments import evaluate
from shopfloor.policies import RandomPolicy, RulePolicy

SMALL = {"scenario": "dynamic_job_shop_small"}


def small_env() -> gym.Env:
    return gym.make("shopfloor/DynamicJobShop-v1", **SMALL)


def test_auto_device_picks_cuda_when_available():
    with mock.patch.object(torch.cuda, "is_available", return_value=True):
        assert select_device("auto") == torch.device("cuda")
    with mock.patch.object(torch.cuda, "is_available", return_value=False):
        assert select_device("auto") == torch.device("cpu")


def test_explicit_cuda_without_a_gpu_is_a_clear_error():
    with (
        mock.patch.object(torch.cuda, "is_available", return_value=False),
        pytest.raises(DeviceError, match="CUDA is not available"),
    ):
        select_device("cuda")


def test_gpu_index_out_of_range_and_unknown_devices():
    with (
        mock.patch.object(torch.cuda, "is_available", return_value=True),
        mock.patch.object(torch.cuda, "device_count", return_value=1),
    ):
        assert select_device("cuda:0") == torch.device("cuda:0")
        with pytest.raises(DeviceError, match="has 1 GPU"):
            select_device("cuda:3")
    with pytest.raises(DeviceError, match="unknown device 'tpu'"):
        select_device("tpu")


def test_hyperparameters_merge_default_then_env_entries(tmp_path):
    (tmp_path / "ppo.yaml").write_text(
        "default: {n_steps: 64, gamma: 0.9}\nshopfloor/X-v0: {gamma: 0.5}\nmine: {n_steps: 32}\n"
    )
    values = load_hyperparameters("ppo", "shopfloor/X-v0", "mine", directory=tmp_path)
    assert values == {"n_steps": 32, "gamma": 0.5}


def test_unknown_hyperparameter_names_the_file_and_key(tmp_path):
    path = tmp_path / "ppo.yaml"
    path.write_text("default: {n_stepz: 64}\n")
    with pytest.raises(AgentConfigError, match=r"ppo\.yaml: unknown key\(s\) \['n_stepz'\]"):
        load_hyperparameters("ppo", directory=tmp_path)


def test_named_activation_and_schedule_resolve_without_eval():
    values = resolve_values(
        {"learning_rate": {"linear": [1e-3, 0.0]}, "policy_kwargs": {"activation_fn": "relu"}}
    )
    assert values["learning_rate"](1.0) == pytest.approx(1e-3)
    assert values["learning_rate"](0.0) == pytest.approx(0.0)
    assert values["policy_kwargs"]["activation_fn"] is torch.nn.ReLU
    with pytest.raises(AgentConfigError, match=r"unknown 'os\.system'"):
        resolve_values({"policy_kwargs": {"activation_fn": "os.system"}})
    resolved = resolve_values({"policy_kwargs": {"net_arch": {"pi": [32], "vf": []}}})
    assert resolved["policy_kwargs"]["net_arch"] == {"pi": [32], "vf": []}
    for bad in ([-1, 64], [64, 0.5], {"pi": [8], "xx": [8]}, "64"):
        with pytest.raises(AgentConfigError, match=r"policy_kwargs\.net_arch: expected layer"):
            resolve_values({"policy_kwargs": {"net_arch": bad}})


@pytest.mark.parametrize("algorithm", ["ppo", "a2c", "dqn", "maskable_ppo"])
def test_bundled_hyperparameters_build_every_algorithm(algorithm):
    values = load_hyperparameters(algorithm, "shopfloor/DynamicJobShop-v1")
    agent = SB3Agent(algorithm, small_env, {**values, "n_envs": 2}, seed=0, device="cpu")
    agent.learn(64)
    assert agent.num_timesteps >= 64


def test_save_and_load_give_the_same_actions(tmp_path):
    values = {**load_hyperparameters("ppo", "shopfloor/DynamicJobShop-v1"), "n_envs": 2}
    agent = SB3Agent("ppo", small_env, values, seed=1, device="cpu").learn(256)
    path = agent.save(tmp_path / "model")
    loaded = SB3Agent.load(tmp_path / "model", "ppo", small_env, values, seed=1, device="cpu")
    env = small_env()
    observation, _ = env.reset(seed=7)
    for _ in range(20):
        expected, _ = agent.predict(observation)
        assert loaded.predict(observation)[0] == expected
        observation, _, terminated, _, _ = env.step(expected)
        if terminated:
            break
    assert path.name == "model.npz"
    saved, restored = agent.model, loaded.model
    assert restored.num_timesteps == saved.num_timesteps == 256
    assert restored._n_updates == saved._n_updates > 0
    assert restored._current_progress_remaining == saved._current_progress_remaining
    for name, state in saved.get_parameters().items():  # networks and optimizer, exactly
        again = restored.get_parameters()[name]
        if name.endswith("optimizer"):
            state, again = state["state"], again["state"]
        for key, value in state.items():
            if isinstance(value, dict):
                for inner, tensor in value.items():
                    torch.testing.assert_close(again[key][inner], tensor, rtol=0, atol=0)
            else:
                torch.testing.assert_close(again[key], value, rtol=0, atol=0)
    with pytest.raises(FileNotFoundError, match="no saved ppo model at"):
        SB3Agent.load(tmp_path / "missing", "ppo", small_env, values)


def test_schedules_run_over_the_budget_across_learn_calls():
    values = {
        **load_hyperparameters("ppo", "shopfloor/DynamicJobShop-v1"),
        "n_envs": 2,
        "n_steps": 64,
        "batch_size": 64,
        "n_epochs": 1,
        "learning_rate": {"linear": [1.0e-3, 0.0]},
    }
    agent = SB3Agent("ppo", small_env, values, seed=0, device="cpu")
    budget = 1024
    for _ in range(4):  # four calls of a quarter each, as a run with checkpoints trains
        agent.learn(256, budget=budget)
        done = agent.num_timesteps / budget
        # the last update happened with the progress measured after the last rollout
        expected = 1.0e-3 * (1.0 - done)
        assert agent.model.policy.optimizer.param_groups[0]["lr"] == pytest.approx(expected)
    assert "_update_current_progress_remaining" not in vars(agent.model)
    dqn_values = {**load_hyperparameters("dqn", "shopfloor/DynamicJobShop-v1")}
    dqn = SB3Agent("dqn", small_env, {**dqn_values, "learning_starts": 0}, seed=0, device="cpu")
    dqn.learn(300, budget=3000)
    # epsilon decays over exploration_fraction of the budget, not of this call
    fraction = dqn_values["exploration_fraction"]
    start, end = 1.0, dqn_values["exploration_final_eps"]
    progress = min(dqn.num_timesteps / (fraction * 3000), 1.0)
    assert dqn.model.exploration_rate == pytest.approx(start + (end - start) * progress)
    assert dqn.model.exploration_rate > 0.5


def test_same_seed_same_training():
    values = {**load_hyperparameters("ppo", "shopfloor/DynamicJobShop-v1"), "n_envs": 2}
    first = SB3Agent("ppo", small_env, values, seed=3, device="cpu").learn(512)
    second = SB3Agent("ppo", small_env, values, seed=3, device="cpu").learn(512)
    for a, b in zip(first.model.policy.parameters(), second.model.policy.parameters(), strict=True):
        assert torch.equal(a, b)


def test_ppo_beats_random_rule_choice():
    values = {**load_hyperparameters("ppo", "shopfloor/DynamicJobShop-v1"), "n_envs": 4}
    agent = SB3Agent("ppo", small_env, values, seed=0, device="cpu").learn(16_384)
    seeds = list(range(100, 110))
    learned, _ = evaluate(agent, small_env(), seeds)
    random, _ = evaluate(RandomPolicy(seed=0), small_env(), seeds)
    print(f"PPO {np.mean(learned):.3f} vs random {np.mean(random):.3f}")
    assert np.mean(learned) < np.mean(random)


@pytest.mark.parametrize(
    "values",
    [
        {"learning_rte": 1e-3},  # a misspelt hyperparameter
        {"policy": "JobScoringPolicy", "policy_kwargs": {"pooled_critc": True}},  # keyword
    ],
)
def test_a_misspelt_keyword_names_the_agent_file_and_the_key(values):
    key = next(iter(values.get("policy_kwargs", values)))
    with pytest.raises(AgentConfigError, match=rf"agents/maskable_ppo\.yaml: .*'{key}'"):
        SB3Agent("maskable_ppo", lambda: JobShopEnv(instance="ft06"), values, device="cpu")


EIGHT_RULES = ["fifo", "spt", "edd", "wspt", "atc", "cr", "slack", "atcjs"]


def eight_rule_env() -> gym.Env:
    return gym.make("shopfloor/DynamicJobShop-v1", **SMALL, rules=EIGHT_RULES)


@pytest.mark.parametrize("algorithm", ["ppo", "a2c"])
def test_a_prior_rule_makes_the_untrained_policy_that_rule(algorithm):
    values = {
        **load_hyperparameters(algorithm, "shopfloor/DynamicJobShop-v1"),
        "prior_rule": "atcjs",
        "prior_logit": 3.0,
    }
    agent = SB3Agent(algorithm, eight_rule_env, values, seed=0, device="cpu")
    seeds = [100, 101, 102, 103]
    learned, _ = evaluate(agent, eight_rule_env(), seeds)
    atcjs, _ = evaluate(RulePolicy("atcjs"), eight_rule_env(), seeds)
    atc, _ = evaluate(RulePolicy("atc"), eight_rule_env(), seeds)
    assert learned == atcjs
    assert atcjs != atc  # the seeds tell the rules apart
    # sampling keeps exploring: P(atcjs) = e^3 / (e^3 + 7) for a near-zero action layer
    observation, _ = eight_rule_env().reset(seed=100)
    obs = agent.model.policy.obs_to_tensor(observation)[0]
    probabilities = agent.model.policy.get_distribution(obs).distribution.probs[0]
    assert float(probabilities[7].detach()) == pytest.approx(np.e**3 / (np.e**3 + 7), abs=0.02)
    without = SB3Agent(algorithm, eight_rule_env, {**values, "prior_logit": 1e-9}, device="cpu")
    assert evaluate(without, eight_rule_env(), seeds)[0] != atcjs


@pytest.mark.parametrize(
    ("algorithm", "values", "env", "message"),
    [
        ("ppo", {"prior_rule": "mwkr"}, eight_rule_env, r"'mwkr' is not one of the env's rules"),
        ("ppo", {"prior_rule": "atcjs", "prior_logit": -1}, eight_rule_env, "from 0 to 100"),
        ("dqn", {"prior_rule": "atcjs"}, eight_rule_env, "for ppo and a2c, not dqn"),
        ("a2c", {"prior_logit": 2.0}, eight_rule_env, "prior_logit is set but prior_rule is not"),
        (
            "ppo",
            {"prior_rule": "atc"},
            lambda: gym.make("shopfloor/ProductionInventory-v0"),
            "needs an env that chooses rules",
        ),
        # Where actions can be invalid, ppo is refused before its prior is looked at.
        ("ppo", {"prior_rule": "spt"}, lambda: JobShopEnv(instance="ft06"), "action masks"),
    ],
)
def test_a_bad_prior_rule_names_the_agent_file(algorithm, values, env, message):
    where = "" if message == "action masks" else rf"agents/{algorithm}\.yaml: "
    with pytest.raises(AgentConfigError, match=rf"{where}.*{message}"):
        SB3Agent(algorithm, env, values, device="cpu")


def test_the_bundled_rule_choice_experiment_starts_ppo_from_atcjs():
    from pathlib import Path

    from shopfloor.agents import load_hyperparameters as resolved_hyperparameters
    from shopfloor.experiments import load_experiment

    root = Path(__file__).resolve().parents[2]
    (entry,) = load_experiment(root / "experiments/dynamic_rule_choice.yaml").envs
    values = resolved_hyperparameters("ppo", entry.id, entry.name)
    assert values["prior_rule"] == "atcjs"
    # The waves experiment's arms differ only in their observation: no prior for any.
    for waves in load_experiment(root / "experiments/waves_rule_choice.yaml").envs:
        plain = resolved_hyperparameters("ppo", waves.id, waves.name)
        assert "prior_rule" not in plain and plain == resolved_hyperparameters("ppo", waves.id, "")

    def env() -> gym.Env:  # the experiment's actions on the small shop, to keep it quick
        return gym.make(entry.id, **{**entry.kwargs, **SMALL})

    agent = SB3Agent("ppo", env, values, seed=0, device="cpu")
    seeds = [100, 101, 102]
    assert evaluate(agent, env(), seeds)[0] == evaluate(RulePolicy("atcjs"), env(), seeds)[0]


def test_a_prior_in_the_file_of_an_agent_without_one_names_the_file(tmp_path):
    (tmp_path / "qlearning.yaml").write_text("default:\n  prior_rule: atc\n")
    with pytest.raises(AgentConfigError, match=r"qlearning\.yaml: \['prior_rule'\] are for ppo"):
        load_hyperparameters("qlearning", directory=tmp_path)


def test_training_without_tensorboard_writes_no_log_folder(tmp_path, monkeypatch):
    # SB3 puts its default logger's folder here (else a new SB3-<time> in the temp dir).
    monkeypatch.setenv("SB3_LOGDIR", str(tmp_path / "sb3"))
    values = load_hyperparameters("ppo", "shopfloor/DynamicJobShop-v1")
    agent = SB3Agent("ppo", small_env, {**values, "n_steps": 64}, seed=0, device="cpu")
    agent.learn(64).learn(64)
    agent.save(tmp_path / "model")
    SB3Agent.load(tmp_path / "model", "ppo", small_env, values, device="cpu").learn(64)
    assert not (tmp_path / "sb3").exists()


def test_training_with_tensorboard_writes_sb3_events_also_after_loading(tmp_path):
    values = {**load_hyperparameters("ppo", "shopfloor/DynamicJobShop-v1"), "n_steps": 64}
    board = tmp_path / "tb"
    agent = SB3Agent("ppo", small_env, values, seed=0, device="cpu", tensorboard_log=board)
    agent.learn(64)
    assert list(board.glob("run_*/events.out.tfevents.*"))
    agent.save(tmp_path / "model")
    for events in board.glob("run_*/events.out.tfevents.*"):
        events.unlink()
    SB3Agent.load(tmp_path / "model", "ppo", small_env, values, device="cpu",
                  tensorboard_log=board).learn(64)  # fmt: skip
    assert list(board.glob("run_*/events.out.tfevents.*"))


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("n_envs", 10**6, r"n_envs must be an integer from 1 to 256, got '1000000'"),
        ("n_steps", 0, r"n_steps must be an integer from 1"),
        ("batch_size", "64", r"batch_size must be an integer"),
        ("buffer_size", 10**9, r"buffer_size must be an integer from 1 to 10,000,000"),
        ("gamma", float("inf"), r"gamma must be a number from 0 to 1, got 'inf'"),
        ("gamma", "0.9", r"gamma must be a number from 0 to 1, got '0.9'"),
        ("learning_rate", {"linear": [1e-3, float("nan")]}, r"learning_rate must be a number"),
        ("ent_coef", -0.5, r"ent_coef must be a number from 0 to 10"),
        ("vec_env", "threads", r"vec_env must be 'dummy' or 'subproc'"),
        ("policy_kwargs", {"net_arch": [64, float("nan")]}, r"policy_kwargs.net_arch.1 is nan"),
        ("policy", "MlpP", r"agents/ppo\.yaml: .*MlpP"),
        ("policy", 3, r"agents/ppo\.yaml: policy must be a name, got '3'"),
    ],
)
def test_hyperparameters_are_checked_before_anything_is_built(key, value, message):
    values = {**load_hyperparameters("ppo", "shopfloor/DynamicJobShop-v1"), key: value}
    built = []

    def counting_env():
        built.append(1)
        return small_env()

    with pytest.raises(AgentConfigError, match=message):
        SB3Agent("ppo", counting_env, values, seed=0, device="cpu")
    if value != "MlpP":  # sizes and values are refused before any env exists
        assert not built


def test_buffers_beyond_the_memory_limit_are_refused_naming_the_need():
    values = {**load_hyperparameters("dqn", "shopfloor/DynamicJobShop-v1"), "buffer_size": 10**7}
    with pytest.raises(AgentConfigError, match=r"buffer_size 10000000 would need [\d.]+ GiB"):
        SB3Agent("dqn", small_env, values, seed=0, device="cpu")
    values = {**load_hyperparameters("ppo", "shopfloor/DynamicJobShop-v1")}
    values.update(n_steps=10**6, n_envs=64)
    with pytest.raises(AgentConfigError, match=r"n_steps 1000000 would need"):
        SB3Agent("ppo", small_env, values, seed=0, device="cpu")
