"""One writer per run folder and per experiment: a lock a dead process does not hold."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from shopfloor.experiments._lock import FolderLock, RunLockedError
from shopfloor.experiments._runner import run_experiment
from shopfloor.experiments._spec import ExperimentSpec
from shopfloor.experiments._train import RunConfig, execute_run

ROOT = Path(__file__).resolve().parents[2]

HOLD = """
import sys, time
from shopfloor.experiments._lock import FolderLock
lock = FolderLock(sys.argv[1], sys.argv[2]).acquire()
print("held", flush=True)
time.sleep(600)
"""


def config(root: Path) -> RunConfig:
    return RunConfig(
        experiment="locked",
        env_id="shopfloor/DynamicJobShop-v1",
        env_name="small",
        env_kwargs={"scenario": "dynamic_job_shop_small"},
        agent="qlearning",
        seed=0,
        budget=300,
        eval_every=300,
        eval_seeds=(100,),
        hyperparameters={"edges": "uniform"},
        root=str(root),
    )


def hold(folder: Path, what: str = "run folder") -> subprocess.Popen:
    """Another process holding ``folder``'s lock (until killed)."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(folder), what],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "held"
    return process


def stop(process: subprocess.Popen) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.wait()


def test_a_second_writer_of_a_run_folder_is_refused_naming_the_holder(tmp_path):
    run = config(tmp_path)
    holder = hold(run.run_dir)
    try:
        with pytest.raises(RunLockedError) as refused:
            execute_run(run)
        message = str(refused.value)
        assert str(run.run_dir) in message and f"process {holder.pid} on " in message
        assert " since 20" in message and "(-c " in message  # its command and start
        assert "\n" not in message
        assert isinstance(refused.value, ValueError)  # the CLI makes it one line
        assert [p.name for p in run.run_dir.iterdir()] == [".lock"]  # nothing written
    finally:
        stop(holder)


def test_a_lock_left_by_a_killed_process_does_not_block(tmp_path):
    run = config(tmp_path)
    stop(hold(run.run_dir))  # kill -9 while holding it
    record = json.loads((run.run_dir / ".lock").read_text())
    assert record["pid"] > 0  # the file stays behind, the lock does not
    assert execute_run(run).status == "trained"
    assert (run.run_dir / "DONE").is_file()
    assert (run.run_dir / ".lock").read_text() == ""  # released: no holder recorded


def test_the_lock_is_released_when_a_run_fails(tmp_path):
    run = config(tmp_path)
    execute_run(run)
    (run.run_dir / "config.yaml").write_text("budget: [")
    with pytest.raises(ValueError, match=r"config\.yaml is damaged"):
        execute_run(run)
    with FolderLock(run.run_dir) as lock:  # free again
        assert lock.held


def test_one_process_cannot_take_a_lock_twice(tmp_path):
    pattern = rf"{tmp_path} \(experiment x\) is in use by process {os.getpid()} on "
    with FolderLock(tmp_path), pytest.raises(RunLockedError, match=pattern):
        FolderLock(tmp_path, "experiment x").acquire()


def spec(budget: int = 300) -> ExperimentSpec:
    return ExperimentSpec.model_validate(
        {
            "name": "twice",
            "envs": [
                {
                    "id": "shopfloor/DynamicJobShop-v1",
                    "name": "small",
                    "kwargs": {"scenario": "dynamic_job_shop_small"},
                }
            ],
            "agents": ["qlearning"],
            "seeds": [0],
            "budget": budget,
            "eval": {"every": budget, "seeds": [100]},
        }
    )


RUN = """
import sys
from shopfloor.experiments._runner import run_experiment
from shopfloor.experiments._spec import ExperimentSpec
spec = ExperimentSpec.model_validate_json(sys.argv[1])
run_experiment(spec, sys.argv[2], sys.argv[3], workers=1, progress=False)
"""


def test_two_runs_of_one_experiment_are_refused(tmp_path):
    long = spec(budget=10_000_000)  # runs until killed
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            RUN,
            long.model_dump_json(),
            str(tmp_path / "runs"),
            str(tmp_path / "results"),
        ],
        cwd=ROOT,
    )
    lock = tmp_path / "runs" / "twice" / ".lock"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if lock.is_file() and lock.read_text().strip():
            break
        time.sleep(0.05)
    try:
        with pytest.raises(RunLockedError) as refused:
            run_experiment(
                spec(), tmp_path / "runs", tmp_path / "results", workers=1, progress=False
            )
        message = str(refused.value)
        assert "experiment twice" in message and f"process {process.pid} on " in message
        assert not (tmp_path / "results").exists()  # no summary of someone else's runs
    finally:
        stop(process)
    with FolderLock(tmp_path / "runs" / "twice") as lock:  # free once its holder is gone
        assert lock.held


def test_other_experiments_and_runs_are_not_blocked(tmp_path):
    with FolderLock(tmp_path / "runs" / "other", "experiment other"):
        result = run_experiment(
            spec(), tmp_path / "runs", tmp_path / "results", workers=1, progress=False
        )
    assert [r.status for r in result.runs] == ["trained"]
