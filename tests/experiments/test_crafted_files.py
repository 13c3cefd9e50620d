"""Crafted files on every loading path: none runs code, each is refused with its reason.

Each crafted file carries a pickle whose loading creates a marker file (``open(marker,
"w")``, as an attacker's ``os.system`` would run). A control beside each case shows the
file is a live threat to a loader that unpickles (the marker appears there), so the
assertion that shopfloor's loader leaves no marker can fail.
"""

from __future__ import annotations

import base64
import io
import json
import pickle
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from stable_baselines3 import PPO

from shopfloor.agents import ModelFileError, QLearningAgent, RolloutAgent, load_agent
from shopfloor.cli import main
from shopfloor.experiments._saved import SavedAgent
from shopfloor.experiments._train import RunConfig, execute_run

JOB_SHOP = "shopfloor/JobShop-v0"


class Payload:
    """Unpickling this opens (creates) ``marker``: code chosen by the file's author."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def evil_pickle(marker: Path) -> bytes:
    return pickle.dumps(Payload(marker))


def sb3_zip_with_payload(path: Path, marker: Path) -> Path:
    """An SB3-format model zip whose ``data`` entry carries a serialized payload."""
    data = {
        "policy_class": {
            ":type:": "<class 'abc.ABCMeta'>",
            ":serialized:": base64.b64encode(evil_pickle(marker)).decode(),
        }
    }
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("data", json.dumps(data))
        archive.writestr("_stable_baselines3_version", "2.9.2")
    return path


def npz_with_object_array(path: Path, marker: Path, meta: dict) -> Path:
    """A shopfloor-looking ``.npz`` whose array member is a pickled object array."""
    document = json.dumps({"meta": meta, "state": {"policy": {"__array__": 0, "torch": True}}})
    with path.open("wb") as stream:
        np.savez(
            stream,
            meta=np.frombuffer(document.encode(), dtype=np.uint8),
            a0=np.array([Payload(marker)], dtype=object),
        )
    return path


@pytest.fixture(scope="module")
def ppo_run(tmp_path_factory) -> Path:
    """A real (tiny) MaskablePPO run folder on ft06."""
    config = RunConfig(
        experiment="crafted",
        env_id=JOB_SHOP,
        env_name="ft06",
        env_kwargs={"instance": "ft06"},
        agent="maskable_ppo",
        seed=0,
        budget=128,
        eval_every=64,
        eval_seeds=(0,),
        hyperparameters={"n_steps": 64, "batch_size": 64, "n_epochs": 1},
        device="cpu",
        root=str(tmp_path_factory.mktemp("runs")),
    )
    execute_run(config)
    return config.run_dir


def copy_run(run: Path, tmp_path: Path) -> Path:
    target = tmp_path / "run"
    shutil.copytree(run, target)
    return target


def test_the_payloads_are_live(tmp_path):
    """Controls: the crafted files run code in a loader that unpickles."""
    marker = tmp_path / "ran"
    with pytest.raises(Exception):  # noqa: B017 - whatever follows, the payload ran first
        PPO.load(sb3_zip_with_payload(tmp_path / "model.zip", marker))
    assert marker.exists()
    marker.unlink()
    crafted = npz_with_object_array(tmp_path / "model.npz", marker, {})
    np.load(crafted, allow_pickle=True)["a0"]
    assert marker.exists()


def test_a_saved_sb3_zip_is_refused_unopened(ppo_run, tmp_path, capsys):
    run = copy_run(ppo_run, tmp_path)
    (run / "model.npz").unlink()
    marker = tmp_path / "ran"
    sb3_zip_with_payload(run / "model.zip", marker)
    code = main(["bench", "--policies", str(run), "--instances", "ft06", "--seeds", "1"])
    output = capsys.readouterr()
    assert code == 2 and not marker.exists()
    assert "model.zip" in output.out + output.err
    assert "unpickled" in output.out + output.err
    with pytest.raises(ModelFileError, match="does not open it"):
        SavedAgent(run)
    assert not marker.exists()


@pytest.mark.parametrize("member", ["sb3 zip renamed", "object array"])
def test_a_crafted_model_npz_is_refused(ppo_run, tmp_path, member):
    run = copy_run(ppo_run, tmp_path)
    marker = tmp_path / "ran"
    meta = {"format": "shopfloor-sb3", "version": 1, "algorithm": "maskable_ppo"}
    if member == "object array":
        npz_with_object_array(run / "model.npz", marker, meta)
    else:
        sb3_zip_with_payload(run / "model.npz", marker)
    with pytest.raises(ModelFileError, match=r"model\.npz is not a readable saved"):
        SavedAgent(run)
    assert main(["bench", "--policies", str(run), "--instances", "ft06", "--seeds", "1"]) == 2
    assert not marker.exists()


def test_simulate_does_not_open_a_run_folder(ppo_run, tmp_path, capsys):
    run = copy_run(ppo_run, tmp_path)
    marker = tmp_path / "ran"
    npz_with_object_array(run / "model.npz", marker, {})
    assert main(["simulate", "ft06", "--policy", str(run)]) == 2
    assert not marker.exists()


def test_resume_refuses_crafted_checkpoint_and_never_opens_a_pickled_buffer(tmp_path):
    hyperparameters = {"learning_starts": 0, "buffer_size": 500, "train_freq": 4}
    config = RunConfig(
        experiment="buffer",
        env_id="shopfloor/DynamicJobShop-v1",
        env_name="small",
        env_kwargs={"scenario": "dynamic_job_shop_small"},
        agent="dqn",
        seed=0,
        budget=200,
        eval_every=100,
        eval_seeds=(100,),
        hyperparameters=hyperparameters,
        device="cpu",
        root=str(tmp_path),
    )
    execute_run(config)
    checkpoint = config.run_dir / "checkpoints" / "step_200"
    marker = tmp_path / "ran"
    # A pickled buffer of the old format beside the checkpoint is never opened.
    (config.run_dir / "checkpoints" / "step_200.replay.pkl").write_bytes(evil_pickle(marker))
    agent = load_agent(checkpoint, "dqn", config.env_factory(), hyperparameters, 0, "cpu")
    assert agent.model.replay_buffer.size() == 200 and not marker.exists()
    # A crafted buffer in the current format is refused, naming it.
    replay = config.run_dir / "checkpoints" / "step_200.replay.npz"
    replay.unlink()
    npz_with_object_array(replay, marker, {"format": "shopfloor-sb3-replay", "version": 1})
    with pytest.raises(ModelFileError, match=r"step_200\.replay\.npz is not a readable"):
        load_agent(checkpoint, "dqn", config.env_factory(), hyperparameters, 0, "cpu")
    # And so is a crafted model.
    model = checkpoint.with_name("step_200.npz")
    npz_with_object_array(model, marker, {"format": "shopfloor-sb3", "version": 1})
    with pytest.raises(ModelFileError, match=r"step_200\.npz is not a readable"):
        load_agent(checkpoint, "dqn", config.env_factory(), hyperparameters, 0, "cpu")
    assert not marker.exists()


@pytest.mark.parametrize("agent", [QLearningAgent, RolloutAgent])
def test_crafted_qlearning_and_rollout_files_are_refused(agent, tmp_path):
    import gymnasium as gym

    import shopfloor.envs  # noqa: F401

    def env_factory():
        return gym.make(
            "shopfloor/DynamicJobShop-v1", scenario="dynamic_job_shop_small", rules=["spt", "edd"]
        )

    marker = tmp_path / "ran"
    path = tmp_path / "model.npz"
    with path.open("wb") as stream:
        np.savez(stream, meta=np.array([Payload(marker)], dtype=object))
    with pytest.raises(ValueError, match=r"model\.npz"):
        if agent is QLearningAgent:
            agent.load(path, env_factory())
        else:
            agent.load(path, env_factory)
    assert not marker.exists()


def test_a_crafted_forecaster_is_refused(tmp_path, capsys):
    marker = tmp_path / "ran"
    weights = tmp_path / "model.pt"
    torch.save({"layer.weight": Payload(marker)}, weights)
    weights.with_suffix(".json").write_text(json.dumps({"lookback": 8, "horizon": 4}))
    torch.load(io.BytesIO(weights.read_bytes()), weights_only=False)  # the control: it runs
    assert marker.exists()
    marker.unlink()
    code = main(["forecast", "eval", str(weights), "production_inventory"])
    output = capsys.readouterr()
    assert code == 2 and not marker.exists()
    assert "model.pt" in output.out + output.err


def test_plots_read_crafted_csvs_as_text(ppo_run, tmp_path, capsys):
    run = copy_run(ppo_run, tmp_path)
    marker = tmp_path / "ran"
    (run / "progress.csv").write_bytes(evil_pickle(marker))
    (run / "eval.csv").write_bytes(evil_pickle(marker))
    code = main(["plot", "curves", str(run.parent)])
    assert code in (0, 2) and not marker.exists()
