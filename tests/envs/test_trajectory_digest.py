"""Speed work must not change behaviour: fixed-seed trajectories hash to recorded digests.

The digests were recorded from the code before the issue-20 speed-up of the single
JobShop env and the factory"s hot paths. Each covers every observation (its bytes),
mask, reward, ``info`` and the factory"s event log and KPIs, so a change in any of
them, however small, fails here. Floats are hashed by their exact bytes or ``repr``.
"""

from __future__ import annotations

import hashlib
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

import shopfloor.envs  # noqa: F401  (registers the ids)
from shopfloor.policies import simulate
from shopfloor.scenario import resolve_target


def _episode_digest(env: gym.Env[Any, Any], seed: int, max_steps: int = 10_000) -> str:
    digest = hashlib.sha256()
    rng = np.random.default_rng(seed)
    base = env.unwrapped
    observation, info = env.reset(seed=seed)
    digest.update(np.asarray(observation).tobytes() + repr(sorted(info.items())).encode())
    for _ in range(max_steps):
        mask = np.asarray(base.action_masks())  # type: ignore[attr-defined]
        digest.update(mask.tobytes())
        valid = np.flatnonzero(mask)
        action = int(valid[rng.integers(len(valid))])
        observation, reward, terminated, truncated, info = env.step(action)
        digest.update(np.asarray(observation).tobytes())
        digest.update(repr((reward, terminated, truncated, sorted(info.items()))).encode())
        if terminated or truncated:
            break
    factory = base.factory  # type: ignore[attr-defined]
    digest.update(repr(factory.log).encode() + repr(factory.kpis()).encode())
    return digest.hexdigest()[:16]


ENV_CASES = {
    "ft06-non_delay": ("shopfloor/JobShop-v0", {"instance": "ft06"}),
    "ta01-non_delay": ("shopfloor/JobShop-v0", {"instance": "ta01"}),
    "la01-active": ("shopfloor/JobShop-v0", {"instance": "la01", "mode": "active"}),
    "la01-append": ("shopfloor/JobShop-v0", {"instance": "la01", "mode": "append"}),
    "mk01-non_delay": ("shopfloor/JobShop-v0", {"instance": "mk01"}),
    "mk01-append": ("shopfloor/JobShop-v0", {"instance": "mk01", "mode": "append"}),
    "generated-non_delay": (
        "shopfloor/JobShop-v0",
        {"generator": {"n_jobs": 6, "n_machines": 4}},
    ),
    "dynamic": ("shopfloor/DynamicJobShop-v1", {"scenario": "dynamic_job_shop_small"}),
    "production": ("shopfloor/ProductionInventory-v0", {}),
}

ENV_DIGESTS = {
    "dynamic": ["1af7acedf025ab91", "d235895a3b29d113"],
    "ft06-non_delay": ["120a234ec71535be", "47d3691eda98937f"],
    "generated-non_delay": ["46d6dda71540b0d5", "c28a7fbf144c148e"],
    "la01-active": ["5e65a993b17347bb", "9bf84e1d1e9ddaa5"],
    "la01-append": ["afbee1c7500e5481", "5a53760efea651a0"],
    "mk01-append": ["384bab8b8eed51e7", "37399654f950f2d8"],
    "mk01-non_delay": ["f9e45f2357be7990", "3cd59ec6a185f8eb"],
    "production": ["a9c49292ee7a82e5", "5181a567e86117d2"],
    "ta01-non_delay": ["e076779a889cfc6c", "f3e1e68626ec80b3"],
}


@pytest.mark.parametrize("case", sorted(ENV_CASES))
def test_env_trajectories_are_unchanged(case: str) -> None:
    env_id, kwargs = ENV_CASES[case]
    env = gym.make(env_id, **kwargs)
    digests = [_episode_digest(env, seed, max_steps=400) for seed in (0, 1)]
    assert digests == ENV_DIGESTS[case]


FACTORY_DIGESTS = {
    "ta01": "16b4363402e66090",
    "mk01": "56a6c1b4dc26d149",
    "dynamic_job_shop": "9f6a313676966301",
    "dynamic_job_shop_small": "d05157a0104ca827",
    "dynamic_job_shop_small_waves": "0da7ad20dbe86dc9",
    "dynamic_job_shop_waves": "47dc52cd948ed81b",
    "flow_shop_small": "4e8de16a788a11ec",
    "intermittent_demand": "5ca5c28889ed2a0f",
    "production_inventory": "da5740f72f0a3a24",
}


@pytest.mark.parametrize("target", sorted(FACTORY_DIGESTS))
def test_factory_event_logs_are_unchanged(target: str) -> None:
    spec = resolve_target(target)[1]
    digest = hashlib.sha256()
    for rule in ("spt", "fifo", "mwkr"):
        factory = simulate(spec, rule, seed=3)
        digest.update(repr(factory.log).encode() + repr(factory.kpis()).encode())
    assert digest.hexdigest()[:16] == FACTORY_DIGESTS[target]
