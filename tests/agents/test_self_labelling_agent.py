"""The self-labelling agent: settings, envs it refuses, resuming, acting on any size."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

from shopfloor.agents import ALGORITHMS, AgentConfigError, AgentSetup, ModelFileError
from shopfloor.agents._self_labelling_agent import SelfLabellingAgent, SelfLabellingConfig
from shopfloor.batch import sample_schedules
from shopfloor.instances import generate_instance, load_instance

TINY = {"width": 8, "heads": 2, "layers": 1, "samples": 4, "instances": 2, "epochs": 2}


def _factory(**kwargs):
    kwargs.setdefault("generator", {"n_jobs": 6, "n_machines": 4})
    return lambda: gym.make("shopfloor/JobShop-v0", **kwargs)


def _agent(seed: int = 0, **settings) -> SelfLabellingAgent:
    setup = AgentSetup(_factory(), {**TINY, **settings}, seed=seed, device="cpu")
    agent = ALGORITHMS["self_labelling"].build(setup)
    assert isinstance(agent, SelfLabellingAgent)
    return agent


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"width": 10, "heads": 4}, "width 10 is not a multiple of heads 4"),
        ({"samples": 0}, "samples: expected an integer >= 1"),
        ({"learning_rate": float("nan")}, "learning_rate: expected a positive number"),
        ({"work_prior": -1}, "work_prior: expected a number >= 0"),
        ({"sizes": [[10]]}, "sizes: expected"),
        ({"low": 50, "high": 10}, "0 <= low <= high"),
        ({"temperature": 1}, "temperature"),
        ({"width": 10**9, "heads": 1}, "width: 1,000,000,000 is above the limit 512"),
        ({"samples": 4096, "instances": 4096}, "samples x instances: 16,777,216"),
    ],
)
def test_bad_settings_are_refused_naming_the_agent_file(settings, message):
    with pytest.raises(AgentConfigError, match=message) as caught:
        _agent(**settings)
    assert str(caught.value).startswith("agents/self_labelling.yaml: ")
    assert "\n" not in str(caught.value)


def test_envs_it_cannot_learn_in_are_refused_in_one_line():
    fixed = AgentSetup(
        lambda: gym.make("shopfloor/JobShop-v0", instance="ft06"), TINY, device="cpu"
    )
    with pytest.raises(ValueError, match="give the env a generator"):
        ALGORITHMS["self_labelling"].build(fixed)
    pairs = gym.make("shopfloor/JobShop-v0", instance="mk01", mode="append")
    with pytest.raises(ValueError, match="use mode 'active' or 'non_delay'"):
        ALGORITHMS["self_labelling"].check_env(pairs)
    dynamic = gym.make("shopfloor/DynamicJobShop-v1", scenario="dynamic_job_shop_small")
    with pytest.raises(ValueError, match="JobShop-v0"):
        ALGORITHMS["self_labelling"].check_env(dynamic)
    # A fixed instance with training sizes is fine: it trains on generated shops.
    sized = AgentSetup(
        lambda: gym.make("shopfloor/JobShop-v0", instance="ft06"),
        {**TINY, "sizes": [[5, 5], [6, 4]]},
        device="cpu",
    )
    agent = ALGORITHMS["self_labelling"].build(sized)
    agent.learn(1)
    agent.learn(1)
    assert agent.num_timesteps == 4 * 2 * 25 + 4 * 2 * 24  # one update of each size


def test_a_saved_agent_resumes_exactly_as_one_never_stopped(tmp_path):
    straight = _agent(seed=4)
    straight.learn(3 * 2 * 4 * 24)  # three updates of 2 x 4 schedules of 6x4 shops
    stopped = _agent(seed=4)
    stopped.learn(2 * 4 * 24)
    path = stopped.save(tmp_path / "agent")
    assert path.name == "agent.npz"
    resumed = SelfLabellingAgent.load(tmp_path / "agent", _factory(), device="cpu")
    assert resumed.updates == 1 and resumed.num_timesteps == 192
    resumed.learn(2 * 2 * 4 * 24)
    assert resumed.updates == straight.updates == 3
    for (name, value), (_, expected) in zip(
        resumed.network.state_dict().items(), straight.network.state_dict().items(), strict=True
    ):
        assert torch.equal(value, expected), name
    # Another seed trains other weights (the comparison above can fail).
    other = _agent(seed=5)
    other.learn(3 * 2 * 4 * 24)
    assert not torch.equal(other.network.score[-1].weight, straight.network.score[-1].weight)


def test_damaged_and_foreign_files_are_refused_in_one_line(tmp_path):
    agent = _agent()
    path = agent.save(tmp_path / "agent.npz")
    damaged = tmp_path / "damaged.npz"
    damaged.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    with pytest.raises(ModelFileError, match=r"damaged\.npz") as caught:
        SelfLabellingAgent.load(damaged, _factory(), device="cpu")
    assert "\n" not in str(caught.value)
    with pytest.raises(ModelFileError, match="mode 'non_delay'"):
        SelfLabellingAgent.load(path, _factory(mode="active"), device="cpu")
    with pytest.raises(FileNotFoundError, match="missing"):
        SelfLabellingAgent.load(tmp_path / "missing.npz", _factory(), device="cpu")


def test_it_acts_in_shops_of_any_size_as_its_batched_schedules_do():
    agent = _agent(work_prior=10.0)
    agent.learn(1)
    assert agent.acts_on_any_size
    instance = generate_instance(9, 5, 77)
    greedy = agent.schedule([instance], 1, greedy=True).makespans[0, 0]
    spec = instance.to_factory_spec()
    with gym.make("shopfloor/JobShop-v0", spec=spec, mode="non_delay") as env:
        observation, _ = env.reset(seed=0)
        done = False
        while not done:
            action, _ = agent.predict(observation, action_masks=env.unwrapped.action_masks())
            observation, _, terminated, truncated, info = env.step(action)
            done = terminated or truncated
    assert info["makespan"] == greedy  # the env and the batched core agree
    # The prior makes the untrained policy MWKR-like: no worse than random schedules.
    random = sample_schedules([instance], 32, mode="non_delay", seed=0).makespans.mean()
    assert greedy <= random
    batch, _ = agent.predict(
        np.stack([observation, observation]), action_masks=np.ones((2, 9), dtype=bool)
    )
    assert batch.shape == (2,)


def test_the_config_defaults_match_the_agent_file():
    defaults = ALGORITHMS["self_labelling"].defaults()
    config = SelfLabellingConfig(**defaults)
    assert config.work_prior > 0 and config.samples * config.instances >= 64


def test_init_starts_from_saved_weights_of_the_same_shape(tmp_path):
    trained = _agent(seed=1, work_prior=10.0)
    trained.learn(1)
    path = trained.save(tmp_path / "trained.npz")
    started = _agent(seed=2, init=str(path))
    for name, value in trained.network.state_dict().items():
        assert torch.equal(started.network.state_dict()[name], value), name
    assert started.updates == 0  # weights only: counters and optimizer start afresh
    with pytest.raises(ModelFileError, match=r"width, heads, layers \[8, 2, 1\]"):
        _agent(init=str(path), width=16)
    with pytest.raises(FileNotFoundError, match="nothing_here"):
        _agent(init=str(tmp_path / "nothing_here.npz"))


def test_it_trains_on_generated_flexible_shops_and_schedules_brandimarte_instances():
    flexible = {"n_jobs": 6, "n_machines": 4, "flexible": True}
    setup = AgentSetup(_factory(generator=flexible, mode="active"), TINY, seed=0, device="cpu")
    agent = ALGORITHMS["self_labelling"].build(setup)
    agent.learn(1)
    assert agent.generators[0].flexible
    operations = agent.num_timesteps // TINY["samples"]
    assert agent.num_timesteps % TINY["samples"] == 0 and operations != 2 * 6 * 4
    with gym.make("shopfloor/JobShop-v0", instance="mk01", mode="active") as env:
        observation, _ = env.reset(seed=0)
        done = False
        while not done:
            action, _ = agent.predict(observation, action_masks=env.unwrapped.action_masks())
            observation, _, terminated, truncated, info = env.step(action)
            done = terminated or truncated
    greedy = agent.schedule([load_instance("mk01")], 1, greedy=True).makespans[0, 0]
    assert info["makespan"] == greedy >= 36  # mk01's lower bound


def test_exported_weights_act_as_the_agent_and_start_a_new_one(tmp_path):
    from shopfloor.agents import NeuralPolicy, export_weights

    agent = _agent(seed=3, work_prior=10.0)
    agent.learn(1)
    full = agent.save(tmp_path / "agent.npz")
    weights = export_weights(full, tmp_path / "weights.npz")
    assert weights.stat().st_size < full.stat().st_size  # no optimizer state
    policy = NeuralPolicy.load(weights, device="cpu")
    instance = generate_instance(7, 4, 11)
    assert (
        policy.greedy([instance])[0].makespan
        == agent.schedule([instance], 1, greedy=True).makespans[0, 0]
    )
    started = _agent(seed=9, work_prior=10.0, init=str(weights))
    assert torch.equal(started.network.score[-1].weight, agent.network.score[-1].weight)
    with pytest.raises(ModelFileError, match="not a saved self-labelling agent"):
        export_weights(_save_other(tmp_path), tmp_path / "x.npz")
    with pytest.raises(LookupError, match="no pretrained model 'nope'"):
        _agent(init="pretrained:nope")


def _save_other(tmp_path):
    from shopfloor.agents._state_file import save_state

    return save_state(tmp_path / "other.npz", {"format": "something-else"}, {"a": torch.ones(2)})


def test_the_device_is_chosen_once_and_the_core_runs_beside_the_network():
    from shopfloor.agents import DeviceError
    from shopfloor.agents._self_labelling import make_core

    agent = _agent()  # device "cpu"
    auto = ALGORITHMS["self_labelling"].build(AgentSetup(_factory(), TINY, device="auto"))
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert auto.device.type == expected
    assert next(auto.network.parameters()).device.type == expected
    core = make_core([generate_instance(3, 3, 0)], "active", agent.device)
    assert core.backend.name == "numpy"  # the CPU path; CUDA gets the torch backend there
    if not torch.cuda.is_available():
        with pytest.raises(DeviceError, match="cuda"):
            ALGORITHMS["self_labelling"].build(AgentSetup(_factory(), TINY, device="cuda"))
