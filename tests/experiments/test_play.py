"""The one evaluation loop: training's evaluations and the bench's episodes agree."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import pytest

import shopfloor.envs  # noqa: F401  (registers the ids)
from shopfloor.experiments import evaluate, evaluate_episode, play_episode
from shopfloor.policies import RulePolicy, make_policy


def _by_hand(policy: Any, env: gym.Env, seed: int) -> tuple[float, float, int]:
    """Objective, total reward and steps of one episode, stepped here."""
    observation, _ = env.reset(seed=seed)
    total, steps, done = 0.0, 0, False
    while not done:
        masks = env.unwrapped.action_masks()
        action, _ = policy.predict(observation, deterministic=True, action_masks=masks)
        observation, reward, terminated, truncated, _ = env.step(action)
        total, steps, done = total + float(reward), steps + 1, terminated or truncated
    return env.unwrapped.episode_objective(), total, steps


@pytest.mark.parametrize(
    ("env_id", "kwargs", "policy"),
    [
        ("shopfloor/JobShop-v0", {"instance": "ft06"}, "mwkr"),
        ("shopfloor/DynamicJobShop-v1", {"scenario": "dynamic_job_shop_small"}, "random"),
    ],
)
def test_play_episode_is_the_hand_written_loop(env_id, kwargs, policy):
    env = gym.make(env_id, disable_env_checker=True, **kwargs)
    chosen = make_policy(policy, seed=3).bind(env)
    total, steps = play_episode(chosen, env, seed=5)
    objective = env.unwrapped.episode_objective()
    expected = _by_hand(make_policy(policy, seed=3).bind(env), env, seed=5)
    assert (objective, total, steps) == expected and steps > 1


def test_training_evaluation_and_the_bench_score_an_episode_alike():
    env = gym.make("shopfloor/JobShop-v0", disable_env_checker=True, instance="ft06")
    objectives, rewards = evaluate(RulePolicy("mwkr"), env, [0])
    episode = evaluate_episode("mwkr", "ft06", 0)
    assert objectives == [episode.value] == [61.0]  # ft06's MWKR makespan
    assert rewards == [_by_hand(RulePolicy("mwkr").bind(env), env, 0)[1]]


class _Over(gym.Env):
    """An env whose episode is over when reset returns (no choice with two jobs)."""

    observation_space = gym.spaces.Discrete(1)
    action_space = gym.spaces.Discrete(1)

    class factory:  # the attribute shopfloor envs have
        done = True

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return 0, {}

    def step(self, action):
        raise AssertionError("a finished episode took a step")


class _NeverAsked:
    def predict(self, *args, **kwargs):
        raise AssertionError("asked for an action in a finished episode")


def test_an_episode_over_at_reset_takes_no_step():
    assert play_episode(_NeverAsked(), _Over(), seed=0) == (0.0, 0)
