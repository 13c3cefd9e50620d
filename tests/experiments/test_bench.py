"""The benchmark runner: episodes through the envs, summaries, files, errors and the CLI."""

from __future__ import annotations

import csv
import dataclasses

import numpy as np
import pytest

from shopfloor.cli import main
from shopfloor.experiments import (
    bootstrap_ci,
    evaluate_episode,
    expand_targets,
    resolve_bench_target,
    results_dir,
    run_bench,
)
from shopfloor.experiments._bench import gap
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


def test_bootstrap_interval():
    values = np.random.default_rng(1).normal(10.0, 2.0, size=20)
    low, high = bootstrap_ci(values)
    assert low < values.mean() < high
    assert bootstrap_ci(values) == (low, high)
    assert bootstrap_ci(values, seed=1) != (low, high)
    narrower = bootstrap_ci(values, confidence=0.5)
    assert low < narrower[0] < narrower[1] < high
    assert bootstrap_ci([3.5]) == (3.5, 3.5)
    assert bootstrap_ci([2.0, 2.0, 2.0]) == (2.0, 2.0)
    with pytest.raises(ValueError, match="at least one"):
        bootstrap_ci([])


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
            "shopfloor/DynamicJobShop-v0",
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
    assert "unknown policy" in capsys.readouterr().out
    assert main(["bench", "--policies", "spt", "--out", str(tmp_path)]) == 2
    assert "--instances" in capsys.readouterr().out
    agent = tmp_path / "agent.zip"
    agent.write_bytes(b"")
    assert main(["bench", "--policies", str(agent), "--instances", "ft06"]) == 2
    assert "shopfloor.agents" in capsys.readouterr().out
