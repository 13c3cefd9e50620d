"""Experiment runner: run folders, skip when done, resume after kill -9, specs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

from shopfloor.experiments._executor import run_tasks
from shopfloor.experiments._folders import read_csv
from shopfloor.experiments._runner import run_experiment, train
from shopfloor.experiments._spec import ExperimentError, ExperimentSpec, load_experiment
from shopfloor.experiments._train import RunConfig, execute_run

ENV = {
    "id": "shopfloor/DynamicJobShop-v1",
    "name": "small",
    "kwargs": {"scenario": "dynamic_job_shop_small"},
}
ROOT = Path(__file__).resolve().parents[2]


def tiny_spec(**changes) -> ExperimentSpec:
    data = {
        "name": "tiny",
        "envs": [ENV],
        "agents": ["qlearning"],
        "seeds": [0, 1],
        "budget": 600,
        "eval": {"every": 200, "seeds": [100, 101]},
        "baselines": ["spt", "atc"],
    }
    data.update(changes)
    return ExperimentSpec.model_validate(data)


def test_runs_write_complete_folders_and_a_summary(tmp_path):
    result = run_experiment(
        tiny_spec(), tmp_path / "runs", tmp_path / "results", workers=1, progress=False
    )
    assert [r.status for r in result.runs] == ["trained", "trained"]
    for seed in (0, 1):
        run = tmp_path / "runs" / "tiny" / "small" / "qlearning" / f"seed_{seed}"
        for name in (
            "config.yaml",
            "command.txt",
            "meta.json",
            "progress.csv",
            "eval.csv",
            "result.json",
            "DONE",
            "eval_events.csv",
            "checkpoints/latest.json",
            "best.json",
        ):
            assert (run / name).is_file(), name
        assert list(run.glob("best_model*"))
        assert list((run / "tensorboard").rglob("events.out.tfevents.*"))
        meta = json.loads((run / "meta.json").read_text())
        assert meta["shopfloor"] and "finished" in meta
        assert meta["mkl_cbwr"] == os.environ["MKL_CBWR"] and meta["cpu_count"] == os.cpu_count()
        evaluations = read_csv(run / "eval.csv")
        assert [int(r["timesteps"]) for r in evaluations] == [0, 200, 400, 600]
        result_json = json.loads((run / "result.json").read_text())
        assert result_json["timesteps"] == 600
        assert result_json["objective_mean"] == pytest.approx(
            float(evaluations[-1]["objective_mean"])
        )
        scores = [float(r["objective_mean"]) for r in evaluations]
        best = json.loads((run / "best.json").read_text())
        assert best["objective_mean"] == pytest.approx(min(scores))
        assert best["timesteps"] == int(evaluations[scores.index(min(scores))]["timesteps"])
        assert result_json["best"] == best
    baselines = read_csv(tmp_path / "runs" / "tiny" / "small" / "baselines" / "spt.csv")
    assert [int(r["seed"]) for r in baselines] == [100, 101]
    summary = read_csv(result.summary_csv)
    assert {row["policy"] for row in summary} == {"qlearning", "spt", "atc"}
    assert result.summary_markdown.read_text().startswith("| env |")


def test_an_env_can_have_its_own_agents_budget_evaluation_and_baselines(tmp_path):
    job_shop = {
        "id": "shopfloor/JobShop-v0",
        "name": "jobs",
        "kwargs": {"generator": {"n_jobs": 4, "n_machines": 3}},
        "agents": ["self_labelling"],
        "budget": 6144,
        "eval": {"every": 3072, "seeds": [200]},
        "baselines": ["mwkr"],
    }
    spec = tiny_spec(envs=[ENV, job_shop], seeds=[0], budget=200)
    assert spec.agents_for(spec.envs[0]) == ["qlearning"]
    assert spec.budget_for(spec.envs[1]) == 6144
    result = run_experiment(
        spec, tmp_path / "runs", tmp_path / "results", workers=1, progress=False
    )
    runs = tmp_path / "runs" / "tiny"
    assert sorted(p.name for p in (runs / "small").iterdir()) == ["baselines", "qlearning"]
    assert sorted(p.name for p in (runs / "jobs").iterdir()) == ["baselines", "self_labelling"]
    evaluations = read_csv(runs / "jobs" / "self_labelling" / "seed_0" / "eval.csv")
    # 16 x 16 schedules of 12 operations per update (agents/self_labelling.yaml)
    assert [int(r["timesteps"]) for r in evaluations] == [0, 3072, 6144]
    assert [r["seed"] for r in read_csv(runs / "jobs" / "baselines" / "mwkr.csv")] == ["200"]
    assert not (runs / "jobs" / "baselines" / "atc.csv").exists()
    rows = {(row["env"], row["policy"]) for row in read_csv(result.summary_csv)}
    assert rows == {
        ("small", "qlearning"), ("small", "spt"), ("small", "atc"),
        ("jobs", "self_labelling"), ("jobs", "mwkr"),
    }  # fmt: skip
    with pytest.raises(ValueError, match="must be held out"):
        tiny_spec(envs=[{**job_shop, "eval": {"every": 9, "seeds": [0]}}], seeds=[0])
    with pytest.raises(ValueError, match="unknown agent"):
        tiny_spec(envs=[{**job_shop, "agents": ["nope"]}])


def test_finished_runs_are_not_redone(tmp_path):
    spec = tiny_spec(seeds=[0])
    calls = []

    def draw(*arguments):  # what the CLI passes: shopfloor.plots.experiment_figures
        calls.append(arguments)
        return [tmp_path / "figure.png"]

    first = run_experiment(
        spec, tmp_path / "runs", tmp_path / "results", workers=1, progress=False, draw_figures=draw
    )
    assert calls == [(spec, tmp_path / "runs", tmp_path / "results" / "tiny")]
    assert first.figures == [tmp_path / "figure.png"]
    done = tmp_path / "runs" / "tiny" / "small" / "qlearning" / "seed_0" / "DONE"
    stamp = done.stat().st_mtime_ns
    again = run_experiment(spec, tmp_path / "runs", tmp_path / "results", workers=1, progress=False)
    assert [r.status for r in again.runs] == ["done"]
    assert done.stat().st_mtime_ns == stamp
    assert again.figures == [] and len(calls) == 1  # no drawer given: no figures


def test_process_pool_gives_the_same_results_as_in_process(tmp_path):
    serial = run_experiment(tiny_spec(), tmp_path / "a", tmp_path / "ra", workers=1, progress=False)
    pooled = run_experiment(tiny_spec(), tmp_path / "b", tmp_path / "rb", workers=2, progress=False)
    assert [r.objective_mean for r in serial.runs] == [r.objective_mean for r in pooled.runs]
    for seed in (0, 1):
        relative = Path("tiny/small/qlearning") / f"seed_{seed}" / "eval.csv"
        assert read_csv(tmp_path / "a" / relative) == read_csv(tmp_path / "b" / relative)


HELD = threading.Lock()  # held by a thread of the test process while the pool runs


def _acquire_the_held_lock(_: object) -> bool:
    acquired = HELD.acquire(timeout=5)
    if acquired:
        HELD.release()
    return acquired


def test_pool_workers_do_not_inherit_locks_other_threads_hold():
    """A forked worker would copy HELD locked, with no thread left to release it."""
    holding, done = threading.Event(), threading.Event()

    def hold() -> None:
        with HELD:
            holding.set()
            done.wait(timeout=60)

    holder = threading.Thread(target=hold)
    holder.start()
    assert holding.wait(timeout=10), "the lock was never taken"
    try:
        assert run_tasks(_acquire_the_held_lock, [None, None], workers=2) == [True, True]
    finally:
        done.set()
        holder.join()


def _config(root: Path, budget: int, agent: str = "qlearning") -> RunConfig:
    if agent == "rollout":  # about 7,500 simulated steps per labelled episode
        kwargs = {**ENV["kwargs"], "rules": ["spt", "edd", "atc", "atcjs"], "rule_candidates": True}
        settings: dict = {"iteration_steps": 16000, "futures": 2, "epochs": 3}
        eval_every = 8000
    else:
        kwargs, settings = dict(ENV["kwargs"]), {"edges": "uniform", "schedule_timesteps": 20000}
        eval_every = 2000
    return RunConfig(
        experiment="resume",
        env_id=ENV["id"],
        env_name="small",
        env_kwargs=kwargs,
        agent=agent,
        seed=3,
        budget=budget,
        eval_every=eval_every,
        eval_seeds=(100,),
        hyperparameters=settings,
        root=str(root),
    )


@pytest.mark.parametrize(("agent", "budget"), [("qlearning", 20000), ("rollout", 40000)])
def test_a_run_killed_mid_training_resumes_to_the_same_end(tmp_path, agent, budget):
    killed = _config(tmp_path / "killed", budget, agent)
    code = (
        "import pickle, sys; from shopfloor.experiments._train import execute_run; "
        "execute_run(pickle.loads(bytes.fromhex(sys.argv[1])))"
    )
    import pickle

    process = subprocess.Popen([sys.executable, "-c", code, pickle.dumps(killed).hex()], cwd=ROOT)
    latest = killed.run_dir / "checkpoints" / "latest.json"

    def trained() -> bool:  # a checkpoint after the initial one at step 0
        return latest.is_file() and json.loads(latest.read_text())["timesteps"] > 0

    deadline = time.monotonic() + 120
    while not trained() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert latest.is_file(), "no checkpoint was written before the kill"
    assert not (killed.run_dir / "DONE").is_file(), "the run finished before it could be killed"
    interrupted_at = json.loads(latest.read_text())["timesteps"]
    assert 0 < interrupted_at < budget
    for name in ("progress.csv", "eval.csv"):  # never half-written
        rows = read_csv(killed.run_dir / name)
        assert all(None not in row.values() for row in rows)

    outcome = execute_run(killed)
    assert outcome.status == "resumed"
    straight = execute_run(_config(tmp_path / "straight", budget, agent))
    if agent == "rollout":  # whole episodes: it ends at the first episode past the budget
        assert budget <= outcome.timesteps == straight.timesteps
    else:
        assert outcome.timesteps == straight.timesteps == budget
    resumed_eval = read_csv(killed.run_dir / "eval.csv")
    straight_eval = read_csv(Path(straight.run_dir) / "eval.csv")
    assert [r["timesteps"] for r in resumed_eval] == [r["timesteps"] for r in straight_eval]
    # Tabular Q-learning and the rollout agent resume bit for bit: the same evaluations.
    assert [r["objectives"] for r in resumed_eval] == [r["objectives"] for r in straight_eval]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "name: x\nenvs: []\nagents: [ppo]\nseeds: [0]\nbudget: 10\n"
            "eval: {every: 5, seeds: [9]}\n",
            r"envs: List should have at least 1 item",
        ),
        (
            "name: x\nenvs: [{id: a, name: b}]\nagents: [sac]\nseeds: [0]\nbudget: 10\n"
            "eval: {every: 5, seeds: [9]}\n",
            r"agents: Value error, unknown agent\(s\) \['sac'\]",
        ),
        (
            "name: x\nenvs: [{id: a, name: b}]\nagents: [ppo]\nseeds: [0]\nbudget: 10\n"
            "eval: {every: 5, seeds: [0]}\n",
            "must be held out",
        ),
        ("name: x\nbudget: [\n", "not valid YAML"),
        (
            "name: x\nenvs: [{id: a, name: b}]\nagents: [ppo]\nseeds: [0]\nbudget: -1\n"
            "eval: {every: 5, seeds: [9]}\n",
            r"budget: Input should be greater than 0",
        ),
    ],
)
def test_malformed_experiment_files_name_file_and_field(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ExperimentError, match=message) as error:
        load_experiment(path)
    assert str(path) in str(error.value)


def test_bundled_experiments_load():
    for path in sorted((ROOT / "experiments").glob("*.yaml")):
        assert load_experiment(path).name == path.stem


@pytest.mark.parametrize("agent", ["ppo", "a2c", "dqn", "qlearning"])
def test_shopfloor_train_on_the_bundled_dynamic_shop_uses_its_plain_settings(tmp_path, agent):
    # `shopfloor train` names the env after its scenario, so an agent entry keyed by
    # `dynamic_job_shop` would reach every plain run on it (default rule set, no ATCJS)
    outcome = train(
        "shopfloor/DynamicJobShop-v1",
        agent,
        seed=0,
        budget=256,
        eval_every=256,
        eval_seeds=[1],
        env_kwargs={"scenario": "dynamic_job_shop"},
        root=tmp_path,
    )
    assert outcome.status == "trained"
    assert outcome.timesteps >= 256


def test_shopfloor_train_env_name_picks_the_agent_entry_and_the_folder(tmp_path, capsys):
    from shopfloor.cli import main

    rules = "rules=[fifo, spt, edd, wspt, atc, cr, slack, atcjs]"
    args = ["train", "--scenario", "dynamic_job_shop_small", "--env-kwarg", rules]
    args += ["--agent", "ppo", "--budget", "256", "--eval-every", "256", "--eval-seeds", "1"]
    args += ["--root", str(tmp_path)]
    assert main([*args, "--env-name", "dynamic_rule_choice"]) == 0
    assert "changes no setting" not in capsys.readouterr().out
    assert main(args) == 0
    assert main([*args, "--env-name", "dynamic_rule_choise"]) == 0  # misspelt: a note
    assert "--env-name 'dynamic_rule_choise' changes no setting" in capsys.readouterr().out
    named = tmp_path / "adhoc" / "dynamic_rule_choice" / "ppo" / "seed_0" / "config.yaml"
    plain = tmp_path / "adhoc" / "dynamic_job_shop_small" / "ppo" / "seed_0" / "config.yaml"
    assert yaml.safe_load(named.read_text())["hyperparameters"]["prior_rule"] == "atcjs"
    assert "prior_rule" not in yaml.safe_load(plain.read_text())["hyperparameters"]


def test_a_folder_of_another_run_is_an_error_not_a_silent_skip(tmp_path):
    settings = dict(
        env_id="shopfloor/DynamicJobShop-v1",
        agent="qlearning",
        seed=0,
        budget=300,
        eval_every=300,
        eval_seeds=[1],
        env_kwargs={"scenario": "dynamic_job_shop_small"},
        root=tmp_path,
    )
    assert train(**settings).status == "trained"
    assert train(**settings, device="cpu").status == "done"  # where it runs is not compared
    other = {**settings, "env_kwargs": {"scenario": "dynamic_job_shop_small", "slots": 4}}
    config = tmp_path / "adhoc" / "dynamic_job_shop_small" / "qlearning" / "seed_0"
    before = (config / "config.yaml").read_text()
    with pytest.raises(ValueError, match=rf"{config} holds a run with other env_kwargs"):
        train(**other)
    with pytest.raises(ValueError, match="other budget"):
        train(**{**settings, "budget": 600})
    assert (config / "config.yaml").read_text() == before and (config / "DONE").is_file()


def test_dqn_checkpoints_keep_the_replay_buffer_and_episodes_count_on(tmp_path):
    from shopfloor.agents import load_agent
    from shopfloor.experiments._runner import resolved_hyperparameters

    hyperparameters = {
        **resolved_hyperparameters("dqn", ENV["id"], "small"),
        "learning_starts": 100,
        "buffer_size": 5000,
    }
    config = RunConfig(
        experiment="buffer",
        env_id=ENV["id"],
        env_name="small",
        env_kwargs=dict(ENV["kwargs"]),
        agent="dqn",
        seed=0,
        budget=900,
        eval_every=300,
        eval_seeds=(100,),
        hyperparameters=hyperparameters,
        device="cpu",
        root=str(tmp_path),
    )
    execute_run(config)
    checkpoint = config.run_dir / "checkpoints" / "step_600"
    assert checkpoint.with_name("step_600.replay.npz").is_file()
    agent = load_agent(checkpoint, "dqn", config.env_factory(), hyperparameters, 0, "cpu")
    assert agent.model.replay_buffer.size() == 600  # what was collected, not an empty buffer
    episodes = [int(row["episodes"]) for row in read_csv(config.run_dir / "progress.csv")]
    assert len(episodes) > 3 and episodes == list(range(1, len(episodes) + 1))
