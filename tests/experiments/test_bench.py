"""The benchmark runner: episodes through the envs, summaries, files, errors and the CLI."""

from __future__ import annotations

import csv
import dataclasses
import re

import pytest

from shopfloor.cli import main
from shopfloor.experiments import _bench as bench_module
from shopfloor.experiments import (
    evaluate_episode,
    expand_targets,
    resolve_bench_target,
    results_dir,
    run_bench,
)
from shopfloor.experiments._summary import gap
from shopfloor.experiments._train import RunConfig, execute_run
from shopfloor.instances import load_instance
from shopfloor.policies import dispatch_earliest
from shopfloor.sim import Factory

POLICIES = ["spt", "mwkr"]
TARGETS = ["ft06", "la01"]


@pytest.fixture(scope="module")
def serial():
    return run_bench(POLICIES, TARGETS, 2, workers=1, progress=False)


def _without_times(result):
    return [dataclasses.replace(s, mean_wall_time=0.0) for s in result.summaries]


def test_workers_do_not_change_the_results(serial):
    parallel = run_bench(POLICIES, TARGETS, 2, workers=2, progress=False)
    assert _without_times(parallel) == _without_times(serial)
    assert [
        (e.policy, e.target, e.seed, e.value, e.kpis["makespan"]) for e in parallel.episodes
    ] == [(e.policy, e.target, e.seed, e.value, e.kpis["makespan"]) for e in serial.episodes]
    assert [p.mean_gap for p in parallel.policies] == [p.mean_gap for p in serial.policies]


def test_episodes_are_ordered_and_complete(serial):
    keys = [(e.policy, e.target, e.seed) for e in serial.episodes]
    assert keys == [(p, t, s) for p in POLICIES for t in TARGETS for s in (0, 1)]
    for episode in serial.episodes:
        assert episode.env_id == "shopfloor/JobShop-v0"
        assert episode.objective == "makespan"
        assert episode.value == episode.kpis["makespan"]
        assert episode.kpis["jobs_completed"] == episode.kpis["jobs_released"]
        assert episode.wall_time > 0


def test_gap_to_the_best_known_makespan_by_hand(serial):
    summary = serial.summary("spt", "ft06")
    direct = dispatch_earliest(Factory(load_instance("ft06").to_factory_spec(), seed=0), "spt")
    assert summary.mean == direct.kpis().makespan == 88
    assert summary.upper_bound == 55
    assert summary.gap == pytest.approx((88 - 55) / 55) == pytest.approx(0.6)
    assert gap(61, 55) == pytest.approx(6 / 55)
    assert gap(10, None) is None
    spt = next(p for p in serial.policies if p.policy == "spt")
    la01 = serial.summary("spt", "la01")
    assert la01.upper_bound == 666
    assert spt.mean_gap == pytest.approx((0.6 + (la01.mean - 666) / 666) / 2)
    assert spt.targets == spt.targets_with_bound == 2


def test_static_seeds_collapse_the_interval(serial):
    summary = serial.summary("mwkr", "la01")
    assert summary.episodes == 2
    assert summary.ci_low == summary.mean == summary.ci_high
    assert any("static instances" in note for note in serial.notes)


def test_files_hold_the_returned_numbers(serial, tmp_path):
    paths = serial.save(tmp_path / "run")
    assert {path.name for path in (tmp_path / "run").iterdir()} == {
        "episodes.csv",
        "summary.csv",
        "policies.csv",
        "bench.md",
        "settings.json",
    }
    with paths["episodes"].open() as stream:
        rows = list(csv.DictReader(stream))
    assert len(rows) == len(serial.episodes)
    for row, episode in zip(rows, serial.episodes, strict=True):
        assert (row["policy"], row["target"], int(row["seed"])) == (
            episode.policy,
            episode.target,
            episode.seed,
        )
        assert float(row["value"]) == episode.value
        assert float(row["wall_time"]) == episode.wall_time
        assert float(row["mean_flow_time"]) == episode.kpis["mean_flow_time"]
    with paths["summary"].open() as stream:
        rows = list(csv.DictReader(stream))
    for row, summary in zip(rows, serial.summaries, strict=True):
        for field in ("mean", "ci_low", "ci_high", "upper_bound", "gap", "mean_wall_time"):
            assert float(row[field]) == getattr(summary, field)
    markdown = paths["markdown"].read_text()
    assert "| ft06 | makespan | 55 | 88 (+60.0%) |" in markdown
    assert not list(tmp_path.rglob("*.tmp"))


def test_results_dir_is_under_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert results_dir("mine") == tmp_path / "experiments" / "results" / "mine"
    assert results_dir("mine", tmp_path / "elsewhere") == tmp_path / "elsewhere" / "mine"
    assert results_dir().name.startswith("bench-")
    with pytest.raises(ValueError, match="folder name"):
        results_dir("a/b")


def test_families_objectives_and_skipped_combinations():
    result = run_bench(
        ["atc", "basestock"],
        ["ft06", "dynamic_job_shop_small", "production_inventory"],
        [3],
        workers=1,
        progress=False,
    )
    families = {(s.policy, s.target): (s.env_id, s.objective) for s in result.summaries}
    assert families == {
        ("atc", "ft06"): ("shopfloor/JobShop-v0", "makespan"),
        ("atc", "dynamic_job_shop_small"): (
            "shopfloor/DynamicJobShop-v1",
            "mean_weighted_tardiness",
        ),
        ("basestock", "production_inventory"): ("shopfloor/ProductionInventory-v0", "total_cost"),
    }
    assert {(p, t) for p, t, _ in result.skipped} == {
        ("atc", "production_inventory"),
        ("basestock", "ft06"),
        ("basestock", "dynamic_job_shop_small"),
    }
    assert result.summary("atc", "dynamic_job_shop_small").gap is None


def test_dynamic_episodes_are_seeded():
    values = [evaluate_episode("edd", "dynamic_job_shop_small", seed).value for seed in (1, 1, 2)]
    assert values[0] == values[1] != values[2]


def test_cpsat_is_replayed_in_the_factory():
    episode = evaluate_episode("cpsat", "ft06", 0, time_limit=5.0)
    assert episode.value == 55
    assert "optimal" in episode.note
    with pytest.raises(ValueError, match="static"):
        evaluate_episode("cpsat", "dynamic_job_shop_small", 0)


def test_target_expansion_and_bounds():
    assert expand_targets(["ta01-ta03, ft06", "dynamic_job_shop_small", "ft06"]) == [
        "ta01",
        "ta02",
        "ta03",
        "ft06",
        "dynamic_job_shop_small",
    ]
    assert resolve_bench_target("ta01").upper_bound == 1231
    assert resolve_bench_target("flow_shop_small").upper_bound is None
    assert resolve_bench_target("flow_shop_small").env_id == "shopfloor/JobShop-v0"


def test_unknown_names_give_clear_errors():
    with pytest.raises(ValueError, match="unknown policy 'nope'"):
        run_bench(["nope"], ["ft06"], 1, workers=1, progress=False)
    with pytest.raises(ValueError, match="neither a file, a bundled scenario"):
        run_bench(["spt"], ["no_such_target"], 1, workers=1, progress=False)
    with pytest.raises(ValueError, match="ta99"):
        run_bench(["spt"], ["ta01-ta99"], 1, workers=1, progress=False)
    with pytest.raises(ValueError, match="mixes prefixes"):
        run_bench(["spt"], ["ta01-la05"], 1, workers=1, progress=False)
    with pytest.raises(ValueError, match="no policy applies"):
        run_bench(["basestock"], ["ft06"], 1, workers=1, progress=False)
    with pytest.raises(ValueError, match="seeds"):
        run_bench(["spt"], ["ft06"], 0, workers=1, progress=False)


def test_cli_smoke(tmp_path, capsys):
    code = main(
        [
            "bench",
            "--policies",
            "spt,mwkr",
            "--instances",
            "ft06",
            "--scenarios",
            "dynamic_job_shop_small",
            "--seeds",
            "2",
            "--workers",
            "1",
            "--out",
            str(tmp_path),
            "--name",
            "smoke",
            "--no-progress",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "ft06" in out and "dynamic_job_shop_small" in out and "smoke" in out
    folder = tmp_path / "smoke"
    assert (folder / "summary.csv").is_file() and (folder / "bench.md").is_file()
    with (folder / "episodes.csv").open() as stream:
        assert len(list(csv.DictReader(stream))) == 2 * 2 * 2


def test_cli_errors(tmp_path, capsys):
    assert main(["bench", "--policies", "nope", "--instances", "ft06", "--out", str(tmp_path)]) == 2
    assert "unknown policy" in capsys.readouterr().err
    assert main(["bench", "--policies", "spt", "--out", str(tmp_path)]) == 2
    assert "--instances" in capsys.readouterr().err
    agent = tmp_path / "agent.zip"
    agent.write_bytes(b"")
    assert main(["bench", "--policies", str(agent), "--instances", "ft06"]) == 2
    assert "shopfloor.agents" in capsys.readouterr().err


def test_an_existing_results_folder_is_kept_unless_overwritten(serial, tmp_path):
    folder = tmp_path / "mine"
    paths = serial.save(results_dir("mine", tmp_path))
    before = {path.name: path.read_bytes() for path in folder.iterdir()}
    with pytest.raises(ValueError, match=rf"{re.escape(str(folder))} already holds results"):
        results_dir("mine", tmp_path)
    other = dataclasses.replace(serial, episodes=serial.episodes[:1], settings={"other": 1})
    with pytest.raises(ValueError, match="already holds results"):
        other.save(folder)
    assert {path.name: path.read_bytes() for path in folder.iterdir()} == before
    assert results_dir("mine", tmp_path, overwrite=True) == folder
    other.save(folder, overwrite=True)
    assert len(list(csv.DictReader(paths["episodes"].open()))) == 1
    (tmp_path / "empty").mkdir()
    assert serial.save(results_dir("empty", tmp_path))["markdown"].is_file()


def test_cli_refuses_a_used_name(tmp_path, capsys):
    command = ["bench", "--policies", "spt", "--instances", "ft06", "--seeds", "1"]
    command += ["--workers", "1", "--out", str(tmp_path), "--name", "taken", "--no-progress"]
    assert main(command) == 0
    before = {path.name: path.read_bytes() for path in (tmp_path / "taken").iterdir()}
    capsys.readouterr()
    assert main([*command[:2], "mwkr", *command[3:]]) == 2
    out = capsys.readouterr().err
    assert "error:" in out and "taken already holds results" in out
    assert {path.name: path.read_bytes() for path in (tmp_path / "taken").iterdir()} == before


def test_cli_refuses_a_used_name_before_any_episode_and_overwrites_when_asked(
    tmp_path, capsys, monkeypatch
):
    command = ["bench", "--policies", "spt", "--instances", "ft06", "--seeds", "1"]
    command += ["--workers", "1", "--out", str(tmp_path), "--name", "taken", "--no-progress"]
    assert main(command) == 0
    first = (tmp_path / "taken" / "summary.csv").read_text()
    real_execute = bench_module._execute

    def no_episodes(*args, **kwargs):
        raise AssertionError("episodes ran")

    monkeypatch.setattr(bench_module, "_execute", no_episodes)
    assert main([*command[:2], "mwkr", *command[3:]]) == 2
    assert "taken already holds results" in capsys.readouterr().err
    monkeypatch.setattr(bench_module, "_execute", real_execute)
    assert main([*command[:2], "mwkr", *command[3:], "--overwrite"]) == 0
    replaced = (tmp_path / "taken" / "summary.csv").read_text()
    assert "mwkr" in replaced and "spt" not in replaced and "spt" in first


def _train(tmp_path_factory, env_id: str, name: str, kwargs: dict, agent: str, **hp) -> str:
    config = RunConfig(
        experiment="fit",
        env_id=env_id,
        env_name=name,
        env_kwargs=kwargs,
        agent=agent,
        seed=0,
        budget=64,
        eval_every=64,
        eval_seeds=(0,),
        hyperparameters=hp,
        device="cpu",
        root=str(tmp_path_factory.mktemp("runs")),
    )
    execute_run(config)
    return str(config.run_dir)


@pytest.fixture(scope="module")
def ft06_agent(tmp_path_factory):
    """A flat MaskablePPO agent trained on ft06."""
    return _train(
        tmp_path_factory,
        "shopfloor/JobShop-v0",
        "ft06",
        {"instance": "ft06"},
        "maskable_ppo",
        n_envs=1,
        n_steps=64,
        batch_size=64,
        n_epochs=1,
    )


@pytest.fixture(scope="module")
def rule_agent(tmp_path_factory):
    """A PPO agent choosing rules in the small dynamic job shop."""
    return _train(
        tmp_path_factory,
        "shopfloor/DynamicJobShop-v1",
        "small",
        {"scenario": "dynamic_job_shop_small"},
        "ppo",
        n_envs=1,
        n_steps=64,
        batch_size=64,
        n_epochs=1,
    )


@pytest.fixture(scope="module")
def tabular_agent(tmp_path_factory):
    """A Q-learning agent choosing rules in the small dynamic job shop."""
    return _train(
        tmp_path_factory,
        "shopfloor/DynamicJobShop-v1",
        "small",
        {"scenario": "dynamic_job_shop_small"},
        "qlearning",
    )


def test_a_saved_agent_of_another_env_family_is_an_error_before_anything_runs(
    ft06_agent, rule_agent, monkeypatch
):
    def no_episodes(*args, **kwargs):
        raise AssertionError("episodes ran")

    monkeypatch.setattr(bench_module, "_execute", no_episodes)
    with pytest.raises(ValueError) as error:
        run_bench([f"spt,{ft06_agent}"], ["ft06", "dynamic_job_shop_small"], 1, workers=1)
    assert str(error.value) == (
        f"{ft06_agent}: the maskable_ppo agent was trained on shopfloor/JobShop-v0 "
        "(observations of shape (66,), 6 actions); dynamic_job_shop_small is a "
        "shopfloor/DynamicJobShop-v1 target"
    )
    with pytest.raises(ValueError) as error:
        run_bench([rule_agent], ["ft06"], 1, workers=1)
    assert str(error.value) == (
        f"{rule_agent}: the ppo agent was trained on shopfloor/DynamicJobShop-v1 "
        "(observations of shape (116,), 7 actions); ft06 is a shopfloor/JobShop-v0 target"
    )
    with pytest.raises(ValueError, match=r"trained on shopfloor/JobShop-v0.*is a shopfloor/Dyn"):
        evaluate_episode(ft06_agent, "dynamic_job_shop_small", 0)


def test_a_saved_agent_of_another_size_is_an_error(ft06_agent, tabular_agent):
    with pytest.raises(ValueError) as error:
        run_bench([ft06_agent], ["ft06", "la01"], 1, workers=1, progress=False)
    assert str(error.value) == (
        f"{ft06_agent}: the maskable_ppo agent was trained on shopfloor/JobShop-v0 "
        "(observations of shape (66,), 6 actions); la01 gives observations of shape (95,) "
        "and 10 actions (only JobScoringPolicy agents act on other shop sizes)"
    )
    with pytest.raises(ValueError, match=r"qlearning agent was trained on .*; ft06 is a"):
        run_bench([tabular_agent], ["ft06"], 1, workers=1, progress=False)


def test_saved_agents_run_on_the_targets_they_fit(ft06_agent, rule_agent, tabular_agent):
    static = run_bench([ft06_agent, "spt"], ["ft06"], 1, workers=1, progress=False)
    dynamic = run_bench(
        [rule_agent, tabular_agent], ["dynamic_job_shop_small"], 1, workers=1, progress=False
    )
    assert [s.policy for s in static.summaries] == [ft06_agent, "spt"]
    assert [s.policy for s in dynamic.summaries] == [rule_agent, tabular_agent]


def test_cli_names_a_misfit_agent_in_one_line(rule_agent, tmp_path, capsys):
    code = main(["bench", "--policies", rule_agent, "--instances", "ft06", "--out", str(tmp_path)])
    out = capsys.readouterr().err
    assert code == 2
    assert out.startswith("error: ") and "Traceback" not in out
    assert "DynamicJobShop-v1" in out and "ft06 is a shopfloor/JobShop-v0 target" in out
    assert not list(tmp_path.iterdir())
