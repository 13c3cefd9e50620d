"""A training run killed anywhere resumes and finishes (issue 19: crash-proof runs).

A driver script (below) runs a real training process and sends itself SIGKILL at a
chosen point: before or after the n-th file rename or deletion, in the middle of an
atomic write (half its bytes on disk), half-way through an evaluation, or at an env
step. The run is then resumed here. Q-learning and the rollout agent must end exactly
as an uninterrupted run of the same config (model files byte for byte, rows but wall
times, results, event log); PPO and DQN must resume and finish. Files damaged on
purpose (a manifest, a checkpoint's agent file, the CSV outputs, ``result.json``,
``meta.json``, ``config.yaml``) are detected and named, and the run falls back
instead of half-reading them.
"""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

from shopfloor.experiments._checkpoints import read_checkpoint
from shopfloor.experiments._folders import (
    DamagedFileError,
    RunRecoveryWarning,
    is_temporary,
    read_csv,
)
from shopfloor.experiments._train import RunConfig, execute_run

ROOT = Path(__file__).resolve().parents[2]
ENV_ID = "shopfloor/DynamicJobShop-v1"
SCENARIO = {"scenario": "dynamic_job_shop_small"}
EXACT = ("qlearning", "rollout", "self_labelling")  # agents that resume bit for bit

DRIVER = r'''
"""Train one run, sending SIGKILL to itself at a chosen point; print the points passed."""

import json
import os
import pickle
import signal
import stat
import sys
from pathlib import Path

from shopfloor.experiments import _train  # torch and the agents are imported up front

config = pickle.loads(bytes.fromhex(sys.argv[1]))
point = json.loads(sys.argv[2])  # {"when", "kind", and "name" (+ "nth") or "index"}
run_dir = Path(config.run_dir).resolve()
passed = []


def relative(path):
    try:
        return str(Path(os.fspath(path)).resolve().relative_to(run_dir))
    except ValueError:
        return None


def die():
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def reached(kind, name):
    """Record a point; whether it is the chosen one."""
    passed.append([kind, name])
    if point.get("kind") != kind:
        return False
    if "name" in point:
        return name == point["name"] and passed.count([kind, name]) == point.get("nth", 1)
    return sum(kind == k for k, _ in passed) == point["index"]


def file_operation(kind, real, argument):
    def operation(*args, **kwargs):
        name = relative(args[argument])
        chosen = name is not None and reached(kind, name)
        if chosen and point["when"] == "before":
            die()
        result = real(*args, **kwargs)
        if chosen:
            die()
        return result

    return operation


os.replace = file_operation("replace", os.replace, 1)
os.unlink = file_operation("unlink", os.unlink, 0)
real_fsync = os.fsync


def fsync(fd):
    status = os.fstat(fd)
    name = relative(os.readlink(f"/proc/self/fd/{fd}"))
    if stat.S_ISREG(status.st_mode) and name is not None:
        folder, _, temporary = name.rpartition("/")
        target = temporary[1:].rsplit(".", 2)[0]  # .<name>.<random>.tmp
        if reached("write", f"{folder}/{target}" if folder else target):
            os.ftruncate(fd, status.st_size // 2)  # half the bytes reached the disk
            die()
    return real_fsync(fd)


os.fsync = fsync
real_evaluate = _train.evaluate


def evaluate(policy, env, seeds, deterministic=True):
    if reached("evaluate", None):  # half-way through the evaluation
        real_evaluate(policy, env, seeds[: len(seeds) // 2], deterministic)
        die()
    return real_evaluate(policy, env, seeds, deterministic)


_train.evaluate = evaluate
from shopfloor.envs._base import FactoryEnv

real_step = FactoryEnv.step


def step(self, action):
    if point.get("kind") == "step" and reached("step", None):
        die()
    return real_step(self, action)


FactoryEnv.step = step
from shopfloor.envs.dynamic_job_shop import DynamicJobShopEnv

real_advance = DynamicJobShopEnv.advance


def advance(self, action):  # the rollout agent's simulated steps
    if point.get("kind") == "step" and reached("step", None):
        die()
    return real_advance(self, action)


DynamicJobShopEnv.advance = advance
_train.execute_run(config)
print(json.dumps([p for p in passed if p[0] != "step"]))
'''


def tiny_config(root: Path, agent: str) -> RunConfig:
    """A run of a few seconds with three or four checkpoints."""
    kwargs: dict[str, Any] = dict(SCENARIO)
    env_id = ENV_ID
    if agent == "self_labelling":  # 2 x 4 schedules of 6x6 shops: 288 steps per update
        env_id = "shopfloor/JobShop-v0"
        kwargs = {"generator": {"n_jobs": 6, "n_machines": 6}}
        settings: dict[str, Any] = {
            "width": 8, "heads": 2, "layers": 1, "samples": 4, "instances": 2, "epochs": 2,
            "work_prior": 10.0,
        }  # fmt: skip
        budget, every = 1152, 576
    elif agent == "qlearning":
        settings = {"edges": "uniform", "schedule_timesteps": 2000}
        budget, every = 1500, 500
    elif agent == "rollout":  # about 8,500 simulated steps per labelled episode here
        kwargs.update(rules=["spt", "edd", "atc", "atcjs"], rule_candidates=True)
        settings = {"iteration_steps": 16000, "futures": 2, "epochs": 3}
        budget, every = 16000, 8000
    else:
        from shopfloor.experiments._runner import resolved_hyperparameters

        settings = resolved_hyperparameters(agent, ENV_ID, "small")
        if agent == "ppo":
            settings.update(n_steps=64, batch_size=64, n_envs=2, n_epochs=2)
        else:
            settings.update(learning_starts=100, buffer_size=2000)
        budget, every = 768, 256
    return RunConfig(
        experiment="crash",
        env_id=env_id,
        env_name="small",
        env_kwargs=kwargs,
        agent=agent,
        seed=3,
        budget=budget,
        eval_every=every,
        eval_seeds=(100, 101),
        hyperparameters=settings,
        device="cpu",
        root=str(root),
    )


@pytest.fixture(scope="module")
def driver(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("driver") / "kill_at.py"
    path.write_text(DRIVER)
    return path


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """Uninterrupted runs, one per agent, made when first asked for."""
    made: dict[str, Path] = {}

    def run(agent: str) -> Path:
        if agent not in made:
            config = tiny_config(tmp_path_factory.mktemp(f"straight_{agent}"), agent)
            assert execute_run(config).status == "trained"
            made[agent] = config.run_dir
        return made[agent]

    return run


def run_driver(
    driver: Path, config: RunConfig, point: dict[str, Any]
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(driver), pickle.dumps(config).hex(), json.dumps(point)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def kill_at(driver: Path, config: RunConfig, point: dict[str, Any]) -> None:
    """Train ``config`` in a process that is killed at ``point``."""
    done = run_driver(driver, config, point)
    assert done.returncode == -signal.SIGKILL, (
        f"the process was not killed at {point} (exit {done.returncode}): {done.stderr[-2000:]}"
    )


def points_passed(driver: Path, config: RunConfig) -> list[list[Any]]:
    """Every file operation and evaluation of an uninterrupted run, in order."""
    done = run_driver(driver, config, {"when": "never"})
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def resume(config: RunConfig) -> list[warnings.WarningMessage]:
    """Resume the killed run here; returns the recovery warnings it gave."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        outcome = execute_run(config)
    assert outcome.status in ("trained", "resumed", "done")
    return [w for w in caught if issubclass(w.category, RunRecoveryWarning)]


def rows(path: Path) -> list[dict[str, str]]:
    return [{k: v for k, v in row.items() if k != "wall_time"} for row in read_csv(path)]


def one_file(run_dir: Path, stem: str) -> Path:
    found = [p for p in run_dir.iterdir() if p.name == stem or p.name.startswith(f"{stem}.")]
    assert len(found) == 1, found
    return found[0]


def assert_finished_like(run_dir: Path, straight: Path, exact: bool) -> None:
    """The run is complete, clean and (``exact``) the same as the uninterrupted one."""
    assert (run_dir / "DONE").is_file()
    left = [p for p in (*run_dir.iterdir(), *(run_dir / "checkpoints").iterdir())]
    assert not [p for p in left if is_temporary(p.name)], "temporary files left behind"
    manifests = sorted((run_dir / "checkpoints").glob("step_*.json"))
    assert 1 <= len(manifests) <= 3  # the last two and the best one
    result = json.loads((run_dir / "result.json").read_text())
    expected = json.loads((straight / "result.json").read_text())
    eval_rows, expected_eval = rows(run_dir / "eval.csv"), rows(straight / "eval.csv")
    assert [r["timesteps"] for r in eval_rows] == [r["timesteps"] for r in expected_eval]
    assert result["timesteps"] == expected["timesteps"]
    episodes = [int(r["episodes"]) for r in read_csv(run_dir / "progress.csv")]
    assert episodes == list(range(1, len(episodes) + 1))
    final = read_checkpoint(run_dir / "checkpoints" / f"step_{result['timesteps']}.json")
    assert final.evaluations == [
        {**r, "timesteps": int(r["timesteps"])} | {k: float(r[k]) for k in r if "_" in k}
        for r in read_csv(run_dir / "eval.csv")
    ]
    assert one_file(run_dir, "model").read_bytes() == final.model.read_bytes()
    if not exact:
        return
    assert eval_rows == expected_eval
    assert rows(run_dir / "progress.csv") == rows(straight / "progress.csv")
    result.pop("wall_time"), expected.pop("wall_time")
    assert result == expected
    assert json.loads((run_dir / "best.json").read_text()) == json.loads(
        (straight / "best.json").read_text()
    )
    for stem in ("model", "best_model"):  # byte for byte
        assert one_file(run_dir, stem).read_bytes() == one_file(straight, stem).read_bytes()
    events = (run_dir / "eval_events.csv").read_bytes()
    assert events == (straight / "eval_events.csv").read_bytes() and len(events) > 1000


def kill_and_resume(
    driver: Path, reference: Any, root: Path, agent: str, point: dict[str, Any]
) -> None:
    config = tiny_config(root, agent)
    kill_at(driver, config, point)
    caught = resume(config)
    assert not caught, f"killed at {point}: {[str(w.message) for w in caught]}"
    assert_finished_like(config.run_dir, reference(agent), exact=agent in EXACT)


QUICK_POINTS = [
    # The wedge of issue 19: killed after the final checkpoint, before the final files.
    ("qlearning", {"when": "after", "kind": "replace", "name": "checkpoints/step_1500.json"}),
    # Half-way through writing a manifest (a torn temporary file is left).
    ("qlearning", {"when": "torn", "kind": "write", "name": "checkpoints/step_1000.json"}),
    # During the final evaluation.
    ("qlearning", {"when": "after", "kind": "evaluate", "index": 4}),
    # Between the final files: result.json written, DONE not.
    ("qlearning", {"when": "after", "kind": "replace", "name": "result.json"}),
    # A checkpoint's agent file saved, its manifest not yet: the checkpoint is not there.
    ("qlearning", {"when": "after", "kind": "replace", "name": "checkpoints/step_500"}),
    # Mid-training, in the middle of an episode.
    ("qlearning", {"when": "at", "kind": "step", "index": 900}),
    # An SB3 agent with a replay buffer, after its final checkpoint, before the pruning.
    ("dqn", {"when": "after", "kind": "replace", "name": "checkpoints/step_768.json"}),
    # The self-labelling agent: mid-run checkpoint written, and during an evaluation.
    ("self_labelling", {"when": "after", "kind": "replace", "name": "checkpoints/step_576.json"}),
    ("self_labelling", {"when": "after", "kind": "evaluate", "index": 2}),
]


@pytest.mark.parametrize(("agent", "point"), QUICK_POINTS)
def test_a_run_killed_at_a_chosen_point_resumes_and_finishes(
    driver, reference, tmp_path, agent, point
):
    kill_and_resume(driver, reference, tmp_path, agent, point)


def test_the_kill_leaves_what_a_real_crash_leaves(driver, tmp_path):
    """Controls: the driver kills where asked, and a torn write leaves half a temporary."""
    config = tiny_config(tmp_path, "qlearning")
    kill_at(driver, config, {"when": "torn", "kind": "write", "name": "checkpoints/step_500.json"})
    checkpoints = config.run_dir / "checkpoints"
    torn = [p for p in checkpoints.iterdir() if is_temporary(p.name)]
    assert [p.name.startswith(".step_500.json.") for p in torn] == [True]
    assert {p.name for p in checkpoints.glob("step_*.json")} == {"step_0.json"}
    assert not (config.run_dir / "DONE").exists()
    with pytest.raises(json.JSONDecodeError):
        json.loads(torn[0].read_text())


def sweep_points(driver: Path, agent: str, root: Path) -> list[dict[str, Any]]:
    """Points spread over a whole run: every file operation, write and evaluation."""
    passed = points_passed(driver, tiny_config(root, agent))
    points: list[dict[str, Any]] = []
    seen: dict[tuple[str, str], int] = {}
    for kind, name in passed:
        if kind == "evaluate":
            index = sum(1 for p in points if p["kind"] == "evaluate") + 1
            points.append({"when": "after", "kind": "evaluate", "index": index})
            continue
        seen[kind, name] = seen.get((kind, name), 0) + 1
        if kind == "write" and name.endswith((".", "checkpoints")):  # a folder's fsync
            continue
        when = "torn" if kind == "write" else "after"
        points.append({"when": when, "kind": kind, "name": name, "nth": seen[kind, name]})
    stride = {"qlearning": 1, "rollout": 2}.get(agent, 3)  # SB3 agents: slower to start
    chosen = points[::stride]
    chosen += [p for p in points[-4:] if p not in chosen]  # the final ones: the wedge's place
    steps = (5000, 12000) if agent == "rollout" else (1, 150, 700)
    return chosen + [{"when": "at", "kind": "step", "index": i} for i in steps]


@pytest.mark.slow
@pytest.mark.timeout(3600)
@pytest.mark.parametrize(
    ("agent", "at_least"), [("qlearning", 40), ("rollout", 20), ("ppo", 15), ("dqn", 15)]
)
def test_a_run_killed_anywhere_resumes_and_finishes(driver, reference, tmp_path, agent, at_least):
    """The issue's target: >= 50 kill points over the four agents.

    Measured: Q-learning 79, rollout 30, PPO 32, DQN 35 points (176), each resumed
    and finished; Q-learning and rollout the same as uninterrupted (about 20 min on
    two busy cores).
    """
    points = sweep_points(driver, agent, tmp_path / "count")
    for number, point in enumerate(points):
        kill_and_resume(driver, reference, tmp_path / f"point_{number}", agent, point)
    print(f"\n{agent}: killed at {len(points)} points; every run resumed and finished")
    assert len(points) >= at_least


# -- damaged files


@pytest.fixture
def finished(reference, tmp_path):
    """A copy of a finished Q-learning run and its config, to damage."""
    import shutil

    config = tiny_config(tmp_path, "qlearning")
    shutil.copytree(reference("qlearning"), config.run_dir)
    (config.run_dir / ".lock").unlink(missing_ok=True)
    return config


def unfinish(config: RunConfig) -> None:
    """As if killed after the final checkpoint, before the final files."""
    for name in ("DONE", "result.json", "model", "eval_events.csv"):
        (config.run_dir / name).unlink()


def truncate(path: Path, keep: float = 0.5) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def truncate_mid_row(path: Path) -> None:
    """Cut a CSV file a few bytes into a row in its second half."""
    data = path.read_bytes()
    path.write_bytes(data[: data.index(b"\n", len(data) // 2) + 4])


@pytest.mark.parametrize("damaged", ["step_1500.json", "step_1500", "step_1500.events.csv"])
def test_a_damaged_checkpoint_is_named_and_the_earlier_one_used(finished, reference, damaged):
    unfinish(finished)
    truncate(finished.run_dir / "checkpoints" / damaged)
    caught = resume(finished)
    assert len(caught) == 1
    message = str(caught[0].message)
    assert damaged in message and "is damaged" in message and "earlier" in message
    assert "\n" not in message
    assert_finished_like(finished.run_dir, reference("qlearning"), exact=True)


def test_with_no_intact_checkpoint_the_run_starts_over(finished, reference):
    unfinish(finished)
    for manifest in (finished.run_dir / "checkpoints").glob("step_*.json"):
        manifest.write_text("{")
    caught = resume(finished)
    assert "holds no intact checkpoint; the run starts over" in str(caught[-1].message)
    assert_finished_like(finished.run_dir, reference("qlearning"), exact=True)


def test_truncated_csv_outputs_do_not_matter_for_resume(finished, reference):
    unfinish(finished)
    for name in ("progress.csv", "eval.csv"):
        truncate_mid_row(finished.run_dir / name)
        with pytest.raises(DamagedFileError, match=rf"{name} is damaged: line \d+"):
            read_csv(finished.run_dir / name, numbers=("timesteps",))
    assert not resume(finished)
    assert_finished_like(finished.run_dir, reference("qlearning"), exact=True)


def test_a_damaged_result_of_a_done_run_is_finished_again(finished, reference):
    truncate(finished.run_dir / "result.json")
    caught = resume(finished)
    assert len(caught) == 1 and "result.json is damaged" in str(caught[0].message)
    assert_finished_like(finished.run_dir, reference("qlearning"), exact=True)


def test_a_damaged_meta_is_rebuilt_on_resume(finished, reference):
    unfinish(finished)
    truncate(finished.run_dir / "meta.json")
    caught = resume(finished)
    assert len(caught) == 1 and "meta.json is damaged" in str(caught[0].message)
    meta = json.loads((finished.run_dir / "meta.json").read_text())
    assert meta["rebuilt"] and meta["resumed"] and meta["finished"] and meta["shopfloor"]
    assert_finished_like(finished.run_dir, reference("qlearning"), exact=True)


@pytest.mark.parametrize("keep", [0.5, 0.2, 0.0])
def test_a_damaged_config_is_reported_as_damaged(finished, keep):
    path = finished.run_dir / "config.yaml"
    truncate(path, keep)
    with pytest.raises(DamagedFileError, match=rf"{path} is damaged") as error:
        execute_run(finished)
    assert "other" not in str(error.value)


def test_stray_temporaries_are_removed_when_a_run_starts(finished):
    run_dir, checkpoints = finished.run_dir, finished.run_dir / "checkpoints"
    strays = [
        run_dir / ".model.npz.k3j2_x.tmp",  # replace_atomically's
        run_dir / "model.tmp.zip",  # an older SB3 save's
        run_dir / "eval_events.csv.tmp",
        checkpoints / ".step_1000.json.a8d7.tmp",
        checkpoints / "step_2000.tmp.npz",
    ]
    for stray in strays:
        stray.write_bytes(b"half")
    keep = run_dir / "notes.txt"  # not ours: left alone
    keep.write_text("mine")
    assert execute_run(finished).status == "done"
    assert not [s for s in strays if s.exists()] and keep.is_file()


def test_a_failed_start_leaves_no_folder(tmp_path):
    config = tiny_config(tmp_path, "qlearning")
    broken = RunConfig(**{**config.__dict__, "env_kwargs": {**SCENARIO, "no_such_option": 1}})
    with pytest.raises(ValueError, match="no_such_option"):
        execute_run(broken)
    assert list(tmp_path.iterdir()) == []
    assert not os.path.exists(broken.run_dir)
