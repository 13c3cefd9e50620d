"""The CLI reads the agent and env family registries: names, defaults and retired ids."""

from __future__ import annotations

import pytest
import yaml

from shopfloor.agents import ALGORITHMS
from shopfloor.cli import main
from shopfloor.envs import FAMILIES


def _one_error_line(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    return captured.err


def test_an_unknown_agent_is_one_line_listing_the_registry(tmp_path, capsys):
    argv = ["train", "--agent", "ppo2", "--scenario", "dynamic_job_shop_small"]
    err = _one_error_line(capsys, [*argv, "--root", str(tmp_path)])
    assert err.startswith("error: unknown algorithm 'ppo2'; choose from ")
    assert ", ".join(ALGORITHMS) in err
    assert not any(tmp_path.iterdir())  # nothing was written


def test_bench_train_refuses_an_algorithm_that_is_not_vectorised(capsys):
    err = _one_error_line(capsys, ["bench-train", "--agent", "qlearning", "--steps", "10"])
    assert (
        "bench-train times the vectorised envs of SB3 agents (ppo, a2c, dqn, maskable_ppo)" in err
    )


def test_a_retired_env_version_says_which_to_use(tmp_path, capsys):
    argv = ["train", "--agent", "ppo", "--env", "shopfloor/DynamicJobShop-v0", "--budget", "8"]
    err = _one_error_line(capsys, [*argv, "--root", str(tmp_path)])
    assert "shopfloor/DynamicJobShop-v0 is retired" in err
    assert "use shopfloor/DynamicJobShop-v1" in err


def test_train_takes_the_env_of_the_targets_family(tmp_path, capsys):
    argv = ["train", "--agent", "qlearning", "--scenario", "dynamic_job_shop_small"]
    argv += ["--budget", "5", "--eval-every", "5", "--eval-seeds", "100", "--root", str(tmp_path)]
    assert main(argv) == 0
    config = next(tmp_path.rglob("config.yaml"))
    assert yaml.safe_load(config.read_text())["env_id"] == FAMILIES["DynamicJobShop"].id
    capsys.readouterr()
