"""Env sources given values of the wrong kind are refused in one line naming the argument."""

from __future__ import annotations

import gymnasium as gym
import pytest

import shopfloor.envs  # noqa: F401  (registers the env ids)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"scenario": 0}, r"scenario must be a name or a path, got '0'"),
        ({"instance": ["ft06"]}, r"instance must be a name or a path"),
        ({"spec": "ft06"}, r"spec must be a FactorySpec, got a str"),
        ({"generator": 15}, r"generator must be a mapping"),
        ({"generator": {"n_jobs": 3}}, r"generator: .*n_machines"),
        ({"generator": {"n_jobs": "3", "n_machines": 3}}, r"generator n_jobs must be an integer"),
    ],
)
def test_a_source_of_the_wrong_kind_is_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        gym.make("shopfloor/JobShop-v0", **kwargs)


def test_a_rule_that_is_not_a_name_is_refused():
    with pytest.raises(ValueError, match=r"a dispatching rule is a name, got '2'"):
        gym.make("shopfloor/DynamicJobShop-v1", scenario="dynamic_job_shop_small", rules=["spt", 2])
