"""A retired env version (shopfloor/DynamicJobShop-v0) is one line naming the one to use."""

from __future__ import annotations

import pytest
import yaml

from shopfloor.envs import RetiredEnvError
from shopfloor.experiments import ExperimentError, SavedAgent, load_experiment, train

OLD, NEW = "shopfloor/DynamicJobShop-v0", "shopfloor/DynamicJobShop-v1"
SMALL = {"scenario": "dynamic_job_shop_small"}


def test_an_experiment_naming_v0_names_the_file_field_and_v1(tmp_path):
    path = tmp_path / "old.yaml"
    path.write_text(
        f"name: old\nenvs:\n  - {{id: {OLD}, name: small}}\nagents: [qlearning]\n"
        "seeds: [0]\nbudget: 10\neval: {every: 10, seeds: [9]}\n"
    )
    with pytest.raises(ExperimentError) as error:
        load_experiment(path)
    message = str(error.value)
    assert message.count("\n") == 0
    assert f"old.yaml: envs.0.id: Value error, {OLD} is retired" in message
    assert f"use {NEW}" in message


def test_a_saved_agent_or_run_folder_of_v0_says_to_train_again(tmp_path):
    root = tmp_path / "runs"
    kwargs = {"seed": 0, "budget": 5, "eval_every": 5, "eval_seeds": [100], "env_kwargs": SMALL}
    outcome = train(NEW, "qlearning", root=root, device="cpu", **kwargs)
    config_path = tmp_path / outcome.run_dir / "config.yaml"
    config = yaml.safe_load(config_path.read_text())
    config["env_id"] = OLD  # a run folder of an earlier release
    config_path.write_text(yaml.safe_dump(config))

    with pytest.raises(RetiredEnvError, match=rf"config.yaml: the run's env {OLD} is retired"):
        SavedAgent(outcome.run_dir)
    with pytest.raises(RetiredEnvError, match=rf"config.yaml: {OLD} is retired.*remove the run"):
        train(NEW, "qlearning", root=root, device="cpu", **kwargs)
    with pytest.raises(RetiredEnvError, match=rf"use {NEW}"):
        train(OLD, "qlearning", root=tmp_path / "other", device="cpu", **kwargs)
