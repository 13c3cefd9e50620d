import numpy as np
import pytest
from gymnasium import spaces

from shopfloor.envs import DynamicJobShopEnv
from shopfloor.envs.wrappers import (
    DYNAMIC_JOB_SHOP_FEATURES,
    DiscretiseObservation,
    quantile_edges,
)


def make_env():
    return DynamicJobShopEnv(scenario="dynamic_job_shop_small")


def test_uniform_bins_number_the_combination_by_hand():
    env = DiscretiseObservation(make_env(), features=[0, 1], bins=[2, 3])
    assert env.observation_space == spaces.Discrete(6)
    # Box is [-1, 1]: feature 0 edge at 0; feature 1 edges at -1/3, 1/3.
    observation = np.zeros(env.env.observation_space.shape, dtype=np.float32)
    observation[0], observation[1] = 0.5, -0.5  # bins 1 and 0
    assert env.observation(observation) == 1 * 3 + 0
    observation[0], observation[1] = -0.5, 0.9  # bins 0 and 2
    assert env.observation(observation) == 0 * 3 + 2


def test_states_stay_in_the_space_over_an_episode():
    env = DiscretiseObservation(make_env(), features=DYNAMIC_JOB_SHOP_FEATURES, bins=3)
    state, _ = env.reset(seed=0)
    seen = {int(state)}
    terminated = False
    while not terminated:
        state, _, terminated, _, _ = env.step(env.action_space.sample())
        assert env.observation_space.contains(state)
        seen.add(int(state))
    assert len(seen) > 3  # the features actually vary


def test_quantile_edges_are_increasing_and_deterministic():
    first = quantile_edges(make_env(), DYNAMIC_JOB_SHOP_FEATURES, bins=3, episodes=1, seed=1)
    second = quantile_edges(make_env(), DYNAMIC_JOB_SHOP_FEATURES, bins=3, episodes=1, seed=1)
    assert len(first) == len(DYNAMIC_JOB_SHOP_FEATURES)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
        assert (np.diff(a) > 0).all()
    env = DiscretiseObservation(make_env(), features=DYNAMIC_JOB_SHOP_FEATURES, edges=first)
    assert env.observation_space.n == int(np.prod([len(e) + 1 for e in first]))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"features": [999]}, "features must be indices"),
        ({"bins": 0}, "bins must be >= 1"),
        ({"features": [0], "edges": [[0.5, 0.1]]}, "strictly increasing"),
    ],
)
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        DiscretiseObservation(make_env(), **kwargs)
