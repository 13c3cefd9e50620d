"""Neural agents give the same weights on any x86 CPU: MKL's code path is fixed."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

TRAIN = """
import hashlib
import gymnasium as gym
import shopfloor.envs
from shopfloor.agents import SB3Agent, load_hyperparameters
values = load_hyperparameters("ppo", "shopfloor/DynamicJobShop-v1")
agent = SB3Agent(
    "ppo",
    lambda: gym.make("shopfloor/DynamicJobShop-v1", scenario="dynamic_job_shop_small"),
    values,
    seed=0,
    device="cpu",
).learn(2048)
weights = b"".join(p.detach().numpy().tobytes() for p in agent.model.policy.parameters())
print(hashlib.sha1(weights).hexdigest())
"""


def run(code: str, mkl_cbwr: str | None) -> str:
    env = {key: value for key, value in os.environ.items() if key != "MKL_CBWR"}
    if mkl_cbwr is not None:
        env["MKL_CBWR"] = mkl_cbwr
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip().splitlines()[-1]


def test_importing_shopfloor_fixes_mkls_path_and_keeps_a_users_choice():
    show = "import shopfloor, os; print(os.environ['MKL_CBWR'])"
    assert run(show, None) == "COMPATIBLE"
    assert run(show, "AUTO") == "AUTO"


def test_training_runs_on_the_compatible_path_unless_told_otherwise():
    default = run(TRAIN, None)
    assert default == run(TRAIN, "COMPATIBLE")
    if run(TRAIN, "AUTO") == default:
        pytest.skip("this CPU's own MKL path gives the same weights: nothing to tell apart")
