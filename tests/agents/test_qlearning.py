"""Tabular Q-learning: pure updates against hand-computed numbers, then the agent."""

import dataclasses
import json
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from shopfloor.agents._qlearning import QLearningAgent, QLearningConfig
from shopfloor.agents._tabular_math import (
    double_q_update,
    epsilon_greedy,
    greedy_action,
    linear_schedule,
    q_learning_target,
    q_update,
)
from shopfloor.envs import DynamicJobShopEnv
from shopfloor.envs.dynamic_job_shop import DEFAULT_RULES
from shopfloor.envs.wrappers import DYNAMIC_JOB_SHOP_FEATURES, DiscretiseObservation

SCENARIO = "dynamic_job_shop_small"


def make_env():
    return DynamicJobShopEnv(scenario=SCENARIO)


# -- pure functions, by hand


def test_target_adds_the_discounted_max_of_the_next_row():
    # 2 + 0.9 * max(1, 3, -1) = 4.7
    assert q_learning_target(2.0, np.array([1.0, 3.0, -1.0]), 0.9, False) == pytest.approx(4.7)


def test_target_of_a_terminal_transition_is_the_reward():
    assert q_learning_target(2.0, np.array([1.0, 3.0, -1.0]), 0.9, True) == 2.0


def test_target_maximises_over_valid_next_actions_only():
    # The 3 is masked out: 2 + 0.9 * 1 = 2.9
    mask = np.array([True, False, True])
    assert q_learning_target(2.0, np.array([1.0, 3.0, -1.0]), 0.9, False, mask) == pytest.approx(
        2.9
    )


def test_q_update_by_hand():
    # Q[s, a] = 1, r = 2, gamma = 0.9, max next = 3, alpha = 0.5:
    # target = 2 + 0.9 * 3 = 4.7, TD error = 3.7, Q = 1 + 0.5 * 3.7 = 2.85.
    q_table = np.zeros((2, 3))
    q_table[0, 1] = 1.0
    q_table[1] = [1.0, 3.0, -1.0]
    before = q_table.copy()
    td_error = q_update(q_table, 0, 1, 2.0, 1, False, learning_rate=0.5, discount=0.9)
    assert td_error == pytest.approx(3.7)
    assert q_table[0, 1] == pytest.approx(2.85)
    changed = np.argwhere(q_table != before)
    assert changed.tolist() == [[0, 1]]


def test_q_update_of_a_terminal_transition_ignores_the_next_state():
    # target = r = 2, TD error = 1, Q = 1 + 0.5 * 1 = 1.5.
    q_table = np.zeros((2, 3))
    q_table[0, 1] = 1.0
    q_table[1] = [100.0, 300.0, -100.0]
    td_error = q_update(q_table, 0, 1, 2.0, 1, True, learning_rate=0.5, discount=0.9)
    assert td_error == pytest.approx(1.0)
    assert q_table[0, 1] == pytest.approx(1.5)


def test_double_q_chooses_with_its_own_table_and_evaluates_with_the_other():
    # q_a prefers next action 1; q_b values it at 2 (its own max is 30, at action 2):
    # target = 2 + 0.9 * 2 = 3.8, TD error = 2.8, Q_A = 1 + 0.5 * 2.8 = 2.4.
    q_a = np.zeros((2, 3))
    q_a[0, 1] = 1.0
    q_a[1] = [0.0, 5.0, 1.0]
    q_b = np.zeros((2, 3))
    q_b[1] = [10.0, 2.0, 30.0]
    q_b_before = q_b.copy()
    td_error = double_q_update(q_a, q_b, 0, 1, 2.0, 1, False, learning_rate=0.5, discount=0.9)
    assert td_error == pytest.approx(2.8)
    assert q_a[0, 1] == pytest.approx(2.4)
    np.testing.assert_array_equal(q_b, q_b_before)
    # Plain Q-learning on q_b would have bootstrapped from its max, 30.
    assert q_learning_target(2.0, q_b[1], 0.9, False) == pytest.approx(29.0)


def test_double_q_terminal_ignores_both_next_rows():
    q_a = np.zeros((2, 2))
    q_b = np.full((2, 2), 50.0)
    double_q_update(q_a, q_b, 0, 0, 4.0, 1, True, learning_rate=0.25, discount=0.9)
    assert q_a[0, 0] == pytest.approx(1.0)


def test_greedy_breaks_ties_at_random_among_valid_maxima_seeded():
    row = np.array([5.0, 1.0, 5.0, 5.0])
    mask = np.array([True, True, True, False])
    first = [greedy_action(row, np.random.default_rng(7), mask) for _ in range(1)]
    rng = np.random.default_rng(7)
    draws = [greedy_action(row, rng, mask) for _ in range(200)]
    assert set(draws) == {0, 2}  # never the masked maximum 3, never the lower 1
    assert draws[0] == first[0]
    again = np.random.default_rng(7)
    assert [greedy_action(row, again, mask) for _ in range(200)] == draws
    assert greedy_action(row, None, mask) == 0  # without a generator: lowest index


def test_epsilon_greedy_respects_the_mask():
    row = np.array([9.0, 0.0, 1.0, 0.0])
    mask = np.array([False, True, True, False])
    rng = np.random.default_rng(0)
    explored = {epsilon_greedy(row, 1.0, rng, mask) for _ in range(300)}
    assert explored == {1, 2}
    assert {epsilon_greedy(row, 0.0, rng, mask) for _ in range(50)} == {2}


def test_epsilon_greedy_is_seeded_and_explores_at_the_rate():
    row = np.array([0.0, 1.0, 0.0, 0.0])
    draws = [epsilon_greedy(row, 0.2, np.random.default_rng(3)) for _ in range(1)]
    rng = np.random.default_rng(3)
    sequence = [epsilon_greedy(row, 0.2, rng) for _ in range(4000)]
    rng = np.random.default_rng(3)
    assert [epsilon_greedy(row, 0.2, rng) for _ in range(4000)] == sequence
    assert sequence[0] == draws[0]
    # Greedy 80% of the time plus a quarter of the 20% spent exploring: 85% action 1.
    share = np.mean(np.asarray(sequence) == 1)
    assert share == pytest.approx(0.85, abs=0.02)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: epsilon_greedy(np.zeros(2), 1.5, np.random.default_rng(0)), "epsilon"),
        (
            lambda: epsilon_greedy(np.zeros(2), 0.1, np.random.default_rng(0), np.zeros(2, bool)),
            "allows no action",
        ),
        (lambda: greedy_action(np.zeros(2), None, np.ones(3, bool)), "shape"),
    ],
)
def test_selection_errors_are_clear(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_linear_schedule_hits_its_endpoints():
    assert linear_schedule(1.0, 0.1, 0.5, 0.0) == 1.0
    assert linear_schedule(1.0, 0.1, 0.5, 0.25) == pytest.approx(0.55)
    assert linear_schedule(1.0, 0.1, 0.5, 0.5) == pytest.approx(0.1)
    assert linear_schedule(1.0, 0.1, 0.5, 1.0) == pytest.approx(0.1)
    assert linear_schedule(1.0, 0.1, 0.5, 7.0) == pytest.approx(0.1)
    assert linear_schedule(0.5, 0.01, 1.0, 1.0) == pytest.approx(0.01)
    assert linear_schedule(1.0, 0.1, 0.0, 0.0) == 0.1  # no fraction: the end at once


# -- config


def test_config_defaults_are_valid_and_lists_become_tuples():
    config = QLearningConfig(features=[3, 4])
    assert config.features == (3, 4)
    assert QLearningConfig().discount == 0.99
    assert QLearningConfig().bins == 3
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.bins = 4  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"learning_rate": 0.0}, "learning_rate must be > 0"),
        ({"learning_rate": 1.5}, r"learning_rate must be a number in \[0, 1\]"),
        ({"learning_rate_end": -0.1}, "learning_rate_end"),
        ({"epsilon_start": 2}, "epsilon_start"),
        ({"epsilon_end": float("nan")}, "epsilon_end"),
        ({"exploration_fraction": 1.1}, "exploration_fraction"),
        ({"discount": 1.01}, "discount"),
        ({"discount": "0.9"}, "discount"),
        ({"double_q": 1}, "double_q must be true or false"),
        ({"bins": 0}, "bins must be an integer >= 1"),
        ({"bins": 2.5}, "bins must be an integer >= 1"),
        ({"features": []}, "features must be a non-empty list"),
        ({"features": [1, -2]}, "features must be a non-empty list of indices >= 0"),
        ({"features": [1, 1]}, "duplicates"),
        ({"features": "3,4"}, "features must be a list"),
        ({"edges": "median"}, "edges must be one of"),
        ({"quantile_episodes": 0}, "quantile_episodes"),
        ({"schedule_timesteps": 0}, "schedule_timesteps"),
    ],
)
def test_config_errors_name_the_field(kwargs, message):
    with pytest.raises(ValueError, match=message):
        QLearningConfig(**kwargs)


# -- the agent

FAST = QLearningConfig(
    learning_rate=0.2,
    learning_rate_end=0.05,
    schedule_timesteps=4000,
    edges="quantile",
    quantile_episodes=1,
)


def test_agent_discretises_the_dynamic_job_shop_features_by_default():
    agent = QLearningAgent(make_env(), QLearningConfig(edges="uniform"), seed=0)
    assert agent.features == DYNAMIC_JOB_SHOP_FEATURES
    assert agent.table_shape == (3 ** len(DYNAMIC_JOB_SHOP_FEATURES), len(DEFAULT_RULES))
    assert agent.q_table.shape == agent.table_shape
    assert agent.q_table_b is None


def test_agent_takes_an_env_with_a_discrete_observation_as_it_is():
    env = DiscretiseObservation(make_env(), features=[3], bins=2)
    agent = QLearningAgent(env, FAST, seed=0)
    assert agent.discretiser is None
    assert agent.table_shape == (2, len(DEFAULT_RULES))
    agent.learn(200)
    action, state = agent.predict(np.int64(1))
    assert 0 <= action < 7
    assert state is None


def test_agent_rejects_spaces_it_cannot_tabulate():
    with pytest.raises(ValueError, match="Discrete action space"):
        QLearningAgent(gym.make("MountainCarContinuous-v0"), FAST)
    with pytest.raises(ValueError, match="too large"):
        QLearningAgent(make_env(), QLearningConfig(features=tuple(range(20)), edges="uniform"))
    with pytest.raises(ValueError, match=r"features must be indices in \[0, "):
        QLearningAgent(make_env(), QLearningConfig(features=(999,)))


def test_learning_is_deterministic_per_seed():
    first = QLearningAgent(make_env(), FAST, seed=3).learn(1500)
    second = QLearningAgent(make_env(), FAST, seed=3).learn(1500)
    other = QLearningAgent(make_env(), FAST, seed=4).learn(1500)
    np.testing.assert_array_equal(first.q_table, second.q_table)
    assert first.episodes == second.episodes
    assert not np.array_equal(first.q_table, other.q_table)


def test_callback_sees_every_step_and_can_stop_training():
    reports = []

    def callback(report):
        reports.append(report)
        return report["episodes"] < 2

    agent = QLearningAgent(make_env(), FAST, seed=0).learn(10_000, callback=callback)
    assert agent.episodes == 2
    assert agent.num_timesteps == len(reports) < 10_000
    assert [r["num_timesteps"] for r in reports] == list(range(1, len(reports) + 1))
    ends = [r for r in reports if r["episode_reward"] is not None]
    assert [r["episodes"] for r in ends] == [1, 2]
    assert all(r["episode_reward"] <= 0 for r in ends)  # minus weighted tardiness


def test_episodes_use_env_seeds_counted_from_the_agent_seed():
    seen = []
    env = make_env()
    reset = env.reset

    def recording_reset(*, seed=None, options=None):
        seen.append(seed)
        return reset(seed=seed, options=options)

    env.reset = recording_reset  # type: ignore[method-assign]
    agent = QLearningAgent(env, dataclasses.replace(FAST, edges="uniform"), seed=40)
    agent.learn(1, callback=None)
    while agent.episodes < 3:
        agent.learn(1)
    agent.learn(1)
    assert seen == [40, 41, 42, 43]


def test_predict_takes_the_raw_observation_and_honours_the_mask():
    env = make_env()
    agent = QLearningAgent(env, FAST, seed=0).learn(1000)
    observation, _ = make_env().reset(seed=123)
    state = agent.discretise(observation)
    action, recurrent = agent.predict(observation)
    assert recurrent is None
    assert action == int(np.argmax(agent.q_table[state])) or np.ptp(agent.q_table[state]) == 0
    mask = np.zeros(len(DEFAULT_RULES), dtype=bool)
    mask[5] = True
    assert agent.predict(observation, action_masks=mask)[0] == 5
    assert agent.predict(observation, deterministic=False, action_masks=mask)[0] == 5
    batch, _ = agent.predict(np.stack([observation, observation]))
    assert batch.shape == (2,)
    with pytest.raises(ValueError, match="shape"):
        agent.predict(observation[:5])


# -- saving and resuming


def test_save_and_load_round_trip(tmp_path):
    agent = QLearningAgent(make_env(), dataclasses.replace(FAST, double_q=True), seed=5)
    agent.learn(700)
    path = agent.save(tmp_path / "agent.npz")
    assert path == tmp_path / "agent.npz"
    assert [p.name for p in tmp_path.iterdir()] == ["agent.npz"]  # no temporary left
    loaded = QLearningAgent.load(path, make_env())
    assert loaded.config == agent.config
    assert loaded.seed == 5
    np.testing.assert_array_equal(loaded.q_table, agent.q_table)
    np.testing.assert_array_equal(loaded.q_table_b, agent.q_table_b)
    for mine, theirs in zip(loaded.discretiser.edges, agent.discretiser.edges, strict=True):
        np.testing.assert_array_equal(mine, theirs)
    assert (loaded.num_timesteps, loaded.episodes) == (700, agent.episodes)
    observation, _ = make_env().reset(seed=77)
    assert loaded.predict(observation)[0] == agent.predict(observation)[0]


@pytest.mark.parametrize("double_q", [False, True])
def test_resuming_from_a_file_is_bit_exact(tmp_path, double_q):
    config = dataclasses.replace(FAST, double_q=double_q)
    straight = QLearningAgent(make_env(), config, seed=11).learn(4000)

    first_half = QLearningAgent(make_env(), config, seed=11).learn(2000)
    assert first_half._state is not None  # stopped mid-episode: the replay is exercised
    path = first_half.save(tmp_path / "half.npz")
    resumed = QLearningAgent.load(path, make_env()).learn(2000)

    np.testing.assert_array_equal(resumed.q_table, straight.q_table)
    if double_q:
        np.testing.assert_array_equal(resumed.q_table_b, straight.q_table_b)
    assert (resumed.num_timesteps, resumed.episodes) == (4000, straight.episodes)
    assert resumed._rng.bit_generator.state == straight._rng.bit_generator.state


def test_schedules_over_the_budget_when_schedule_timesteps_is_none(tmp_path):
    """``None`` anneals over the run's budget: the same tables as the budget in steps."""
    by_budget = dataclasses.replace(FAST, schedule_timesteps=None)
    chunked = QLearningAgent(make_env(), by_budget, seed=5).learn(1000, budget=4000)
    assert chunked.progress == 0.25 and chunked.exploration_rate == pytest.approx(
        linear_schedule(1.0, FAST.epsilon_end, FAST.exploration_fraction, 0.25)
    )
    path = chunked.save(tmp_path / "chunk.npz")
    resumed = QLearningAgent.load(path, make_env())
    assert resumed.progress == 0.25  # the schedule's length travels with the file
    resumed.learn(2000, budget=4000)
    same_steps = QLearningAgent(make_env(), FAST, 5)  # FAST anneals over 4000 steps
    same_steps.learn(3000)
    np.testing.assert_array_equal(resumed.q_table, same_steps.q_table)
    # Without a budget the schedule spans the steps trained by the end of the call.
    alone = QLearningAgent(make_env(), by_budget, seed=5).learn(3000)
    over_3000 = dataclasses.replace(FAST, schedule_timesteps=3000)
    np.testing.assert_array_equal(
        alone.q_table, QLearningAgent(make_env(), over_3000, seed=5).learn(3000).q_table
    )
    assert not np.array_equal(alone.q_table, resumed.q_table)  # the length matters


def _rewrite_meta(path, **changes):
    with np.load(path) as data:
        arrays = {name: data[name] for name in data.files}
    meta = {**json.loads(str(arrays["meta"])), **changes}
    for key in [key for key, value in changes.items() if value is _DROP]:
        del meta[key]
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez(path, **arrays)


_DROP = "drop this key"


def test_files_without_a_schedule_length_load_with_the_configured_one(tmp_path):
    agent = QLearningAgent(make_env(), FAST, seed=5).learn(500)
    path = agent.save(tmp_path / "agent.npz")
    _rewrite_meta(path, schedule_end=_DROP)  # as written before the field existed
    loaded = QLearningAgent.load(path, make_env())
    assert loaded.progress == 500 / FAST.schedule_timesteps == agent.progress
    for bad in (0, None, 2.5):
        _rewrite_meta(path, schedule_end=bad)
        with pytest.raises(
            ValueError, match=r"not a readable saved Q-learning agent: schedule_end"
        ):
            QLearningAgent.load(path, make_env())


def test_repeated_learn_calls_resume_even_if_the_env_was_used_in_between():
    straight = QLearningAgent(make_env(), FAST, seed=2).learn(3000)
    agent = QLearningAgent(make_env(), FAST, seed=2).learn(1500)
    agent.env.reset(seed=999)  # someone evaluates in the agent's env
    agent.env.step(0)
    agent.learn(1500)
    np.testing.assert_array_equal(agent.q_table, straight.q_table)
    assert agent.episodes == straight.episodes


def test_load_names_a_missing_file(tmp_path):
    missing = tmp_path / "nothing.npz"
    with pytest.raises(FileNotFoundError, match=r"nothing\.npz"):
        QLearningAgent.load(missing, make_env())


@pytest.mark.parametrize("content", [b"", b"not a zip file", b"PK\x03\x04garbage"])
def test_load_names_a_corrupt_file(tmp_path, content):
    path = tmp_path / "broken.npz"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=r"broken\.npz is not a readable saved Q-learning agent"):
        QLearningAgent.load(path, make_env())


def test_load_names_a_file_of_another_kind(tmp_path):
    path = tmp_path / "other.npz"
    with open(path, "wb") as file:
        np.savez(file, q_table=np.zeros((3, 7)))
    with pytest.raises(ValueError, match=r"other\.npz is not a readable saved Q-learning agent"):
        QLearningAgent.load(path, make_env())


def test_load_rejects_an_env_that_does_not_fit(tmp_path):
    path = QLearningAgent(make_env(), FAST, seed=0).save(tmp_path / "agent.npz")
    narrow = DynamicJobShopEnv(scenario=SCENARIO, rules=["fifo", "spt"])
    with pytest.raises(ValueError, match=r"agent\.npz"):
        QLearningAgent.load(path, narrow)


def test_save_replaces_an_existing_file(tmp_path):
    path = Path(tmp_path / "agent.npz")
    agent = QLearningAgent(make_env(), FAST, seed=0)
    agent.save(path)
    agent.learn(300).save(path)
    assert QLearningAgent.load(path, make_env()).num_timesteps == 300
    assert sorted(p.name for p in tmp_path.iterdir()) == ["agent.npz"]


# -- learning


@pytest.mark.parametrize("double_q", [False, True])
def test_learns_the_shortest_path_of_a_toy_env(double_q):
    # FrozenLake 4x4 without slipping: reward 1 at the goal, 6 steps at best.
    config = QLearningConfig(
        learning_rate=0.5,
        learning_rate_end=0.1,
        discount=0.95,
        double_q=double_q,
        schedule_timesteps=3000,
    )
    agent = QLearningAgent(gym.make("FrozenLake-v1", is_slippery=False), config, seed=0)
    agent.learn(3000)
    env = gym.make("FrozenLake-v1", is_slippery=False)
    observation, _ = env.reset(seed=0)
    rewards = []
    for _ in range(6):
        observation, reward, terminated, _, _ = env.step(agent.predict(observation)[0])
        rewards.append(reward)
    assert rewards == [0, 0, 0, 0, 0, 1]
    assert terminated


# Measured on dynamic_job_shop_small, held-out seeds 100..109, mean weighted tardiness:
# constant rules FIFO 6.22, SPT 9.82, EDD 5.04, WSPT 5.57, ATC 3.26, CR 4.79, SLACK 4.72;
# a uniformly random rule per decision 4.39 (generator seed 0; 4.39 to 5.04 over seeds
# 0..9). One dispatching decision moves the return by ~0.3 while returns vary by ~50
# between episodes, so the table must be small to learn anything in a test's budget:
# here two states, "some waiting job is already behind schedule" (minimum slack < 0) or
# not. With this config about 4 agent seeds in 5 beat the random rule (the others end
# near random); the default four features do not beat it at this budget.
LEARNING_STEPS = 60_000
LEARNING = QLearningConfig(
    learning_rate=0.02,
    learning_rate_end=0.001,
    epsilon_start=1.0,
    epsilon_end=0.1,
    exploration_fraction=0.5,
    discount=0.99,
    features=(6,),
    bins=2,
    edges="uniform",
    schedule_timesteps=LEARNING_STEPS,
)
HELD_OUT_SEEDS = range(100, 110)


def mean_weighted_tardiness(choose_action):
    env = make_env()
    values = []
    for seed in HELD_OUT_SEEDS:
        observation, _ = env.reset(seed=seed)
        terminated = False
        while not terminated:
            observation, _, terminated, _, _ = env.step(choose_action(observation))
        values.append(env.unwrapped.factory.kpis().mean_weighted_tardiness)
    return float(np.mean(values))


def test_learning_beats_a_random_rule_on_held_out_seeds():
    # Agent seed 1000: training episodes use env seeds 1000, 1001, ..., never 100..109.
    agent = QLearningAgent(make_env(), LEARNING, seed=1000).learn(LEARNING_STEPS)
    assert agent.episodes > 1000
    rng = np.random.default_rng(0)
    random_rule = mean_weighted_tardiness(lambda _: int(rng.integers(7)))
    learned = mean_weighted_tardiness(lambda observation: agent.predict(observation)[0])
    assert learned < random_rule
