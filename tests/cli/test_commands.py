"""Every subcommand of ``shopfloor``: its happy path on the smallest real input, and a user
error as one line on stderr with exit 2 (no traceback).

``bench-batch`` is in ``test_bench_batch.py``; ``train``'s happy path and the registry
errors are in ``test_registries.py``.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import yaml

from shopfloor.cli import main
from shopfloor.policies import simulate
from shopfloor.scenario import resolve_target

SPT_FT06 = 88.0
"""ft06's makespan under SPT (seed 0), checked against the library below."""


def _one_error_line(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    """Run ``argv``, expect exit 2 and one ``error: ...`` line on stderr; return it."""
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("error: ") and captured.err.count("\n") == 1
    assert "Traceback" not in captured.err
    return captured.err


def test_spt_on_ft06_is_what_the_library_simulates():
    assert simulate(resolve_target("ft06")[1], "spt", seed=0).kpis().makespan == SPT_FT06


# ------------------------------------------------------------------------- simulate


def test_simulate_prints_the_kpis_as_json(capsys):
    assert main(["simulate", "ft06", "--policy", "spt", "--json"]) == 0
    kpis = json.loads(capsys.readouterr().out)
    assert (kpis["target"], kpis["policy"], kpis["makespan"]) == ("ft06", "spt", SPT_FT06)
    assert kpis["jobs_completed"] == 6 and kpis["decisions"] == 36


def test_simulate_names_an_unknown_rule(capsys):
    err = _one_error_line(capsys, ["simulate", "ft06", "--policy", "sptx"])
    assert "'sptx'" in err


# ---------------------------------------------------------------------- bench-speed


def test_bench_speed_times_an_instance(capsys):
    assert main(["bench-speed", "ft06", "--seconds", "0.05"]) == 0
    out = capsys.readouterr().out
    assert "ft06" in out and "6x6" in out and "decisions/s" in out


def test_bench_speed_names_an_unknown_target(capsys):
    err = _one_error_line(capsys, ["bench-speed", "ft99", "--seconds", "0.05"])
    assert "ft99" in err


# ---------------------------------------------------------------------- bench-train


def test_bench_train_times_ppo_against_the_env_alone(capsys):
    argv = ["bench-train", "--scenario", "dynamic_job_shop_small", "--steps", "64"]
    assert main([*argv, "--vec-env", "dummy"]) == 0
    out = capsys.readouterr().out
    assert "ppo training on shopfloor/DynamicJobShop-v1" in out
    assert "env alone" in out and "1.00x" in out and "dummy" in out and "subproc" not in out


def test_bench_train_names_an_unknown_env_kwarg(capsys):
    argv = ["bench-train", "--instance", "ft06", "--steps", "8", "--vec-env", "dummy"]
    err = _one_error_line(capsys, [*argv, "--env-kwarg", "bogus=1"])
    assert "'bogus'" in err


# ------------------------------------------------------------------------- headroom


def test_headroom_prints_what_switching_rules_gains(capsys):
    argv = ["headroom", "dynamic_job_shop_small", "--seeds", "1", "--workers", "1"]
    assert main([*argv, "--rules", "atc,atcjs", "--base", "atc"]) == 0
    out = capsys.readouterr().out
    assert "atc" in out and "atcjs" in out


def test_headroom_prints_the_sampled_rollouts_mean_when_asked(capsys):
    argv = ["headroom", "dynamic_job_shop_small", "--seeds", "1", "--workers", "1"]
    assert main([*argv, "--rules", "atc,atcjs", "--base", "atc", "--samples", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-5].startswith("means over seeds: atc ")
    assert lines[-1].startswith("one-step rollout over 1 sampled futures (not clairvoyant): ")


def test_headroom_names_an_unknown_rule(capsys):
    argv = ["headroom", "dynamic_job_shop_small", "--seeds", "1", "--workers", "1"]
    err = _one_error_line(capsys, [*argv, "--rules", "atc,atx"])
    assert "unknown dispatching rule 'atx'" in err


# ---------------------------------------------------------------------------- bench


def test_bench_writes_the_results_folder(tmp_path, capsys):
    argv = ["bench", "--policies", "spt", "--instances", "ft06", "--seeds", "1"]
    argv += ["--workers", "1", "--out", str(tmp_path), "--name", "b", "--no-progress"]
    assert main(argv) == 0
    capsys.readouterr()
    folder = tmp_path / "b"
    assert {"episodes.csv", "summary.csv", "bench.md"} <= {p.name for p in folder.iterdir()}
    with (folder / "episodes.csv").open(newline="") as handle:
        (row,) = csv.DictReader(handle)
    assert (row["policy"], row["target"], float(row["value"])) == ("spt", "ft06", SPT_FT06)


def test_bench_names_an_unknown_policy_and_writes_nothing(tmp_path, capsys):
    argv = ["bench", "--policies", "nope", "--instances", "ft06", "--out", str(tmp_path)]
    err = _one_error_line(capsys, argv)
    assert "unknown policy" in err and "'nope'" in err
    assert not any(tmp_path.iterdir())


def test_bench_names_a_missing_run_folder_as_such(tmp_path, capsys):
    folder = tmp_path / "runs" / "seed_0"
    argv = ["bench", "--policies", f"{folder}:best", "--instances", "ft06", "--out", str(tmp_path)]
    err = _one_error_line(capsys, argv)
    assert f"{folder}: no run folder there" in err and "unknown policy" not in err


def test_bench_seeds_are_a_count_a_range_or_a_list(tmp_path, capsys):
    base = ["bench", "--policies", "random", "--instances", "ft06", "--workers", "1"]
    base += ["--out", str(tmp_path), "--no-progress"]
    for given, expected in (("2", ["0", "1"]), ("5-7", ["5", "6", "7"]), ("3,9", ["3", "9"])):
        assert main([*base, "--name", f"s{given}", "--seeds", given]) == 0
        with (tmp_path / f"s{given}" / "episodes.csv").open(newline="") as handle:
            assert [row["seed"] for row in csv.DictReader(handle)] == expected
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main([*base, "--seeds", "7-5"])
    assert "7-5 runs backwards" in capsys.readouterr().err


# ---------------------------------------------------------------------------- train


def test_train_names_an_unknown_scenario(tmp_path, capsys):
    argv = ["train", "--agent", "qlearning", "--scenario", "no_such_scenario"]
    err = _one_error_line(capsys, [*argv, "--root", str(tmp_path)])
    assert "no_such_scenario" in err


def test_train_prints_a_line_per_evaluation_and_names_its_objective(tmp_path, capsys):
    argv = ["train", "--agent", "qlearning", "--scenario", "dynamic_job_shop_small"]
    argv += [
        "--budget",
        "40",
        "--eval-every",
        "20",
        "--eval-seeds",
        "1000",
        "--root",
        str(tmp_path),
    ]
    assert main(argv) == 0
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert [line.split(" steps:")[0] for line in lines] == ["0 / 40", "20 / 40", "40 / 40"]
    assert all("mean_weighted_tardiness" in line and "(best " in line for line in lines)
    assert "s left" in lines[1]
    assert "final mean_weighted_tardiness" in captured.out
    assert "mean of 1 held-out seeds" in captured.out


# ------------------------------------------------------------------------------ run


def _spec(path: Path, **changes: object) -> Path:
    """A one-run experiment: Q-learning for 5 steps on the small dynamic shop."""
    spec = {
        "name": "tiny",
        "envs": [
            {
                "id": "shopfloor/DynamicJobShop-v1",
                "name": "small",
                "kwargs": {"scenario": "dynamic_job_shop_small", "action_mode": "rule"},
            }
        ],
        "agents": ["qlearning"],
        "seeds": [0],
        "budget": 5,
        "eval": {"every": 5, "seeds": [1000]},
        "baselines": ["spt"],
        "device": "cpu",
        **changes,
    }
    path.write_text(yaml.safe_dump(spec))
    return path


def test_run_trains_every_run_of_a_spec(tmp_path, capsys):
    spec = _spec(tmp_path / "tiny.yaml")
    argv = ["run", str(spec), "--workers", "1", "--no-progress"]
    assert main([*argv, "--root", str(tmp_path / "runs"), "--results", str(tmp_path / "res")]) == 0
    capsys.readouterr()
    (config,) = (tmp_path / "runs").rglob("config.yaml")
    assert yaml.safe_load(config.read_text())["agent"] == "qlearning"
    assert any((tmp_path / "res").rglob("*.csv"))
    assert [path.name for path in (tmp_path / "res").rglob("learning_curves_*.png")] != []


def test_run_names_the_file_and_field_of_a_bad_spec(tmp_path, capsys):
    spec = _spec(tmp_path / "bad.yaml", agents=["qlearnin"])
    err = _one_error_line(capsys, ["run", str(spec), "--root", str(tmp_path / "runs")])
    assert str(spec) in err and "agents" in err and "qlearnin" in err
    assert not (tmp_path / "runs").exists()


# ----------------------------------------------------------------------------- plot


def test_plot_draws_a_gantt_chart_of_an_event_log(tmp_path, capsys):
    events = tmp_path / "events.csv"
    assert main(["simulate", "ft06", "--events-csv", str(events), "--json"]) == 0
    assert main(["plot", "gantt", str(events), "--out", str(tmp_path / "g")]) == 0
    capsys.readouterr()
    assert (tmp_path / "g.png").stat().st_size > 0 and (tmp_path / "g.svg").stat().st_size > 0


def test_plot_names_a_missing_source(tmp_path, capsys):
    err = _one_error_line(capsys, ["plot", "gantt", str(tmp_path / "nope.csv")])
    assert "nope.csv" in err
    assert not any(tmp_path.iterdir())


# ------------------------------------------------------------------------- forecast


def test_forecast_trains_then_evaluates_against_the_baselines(tmp_path, capsys):
    argv = ["forecast", "train", "production_inventory", "--periods", "120", "--epochs", "2"]
    argv += ["--lookback", "12", "--horizon", "4", "--out", str(tmp_path / "fc")]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "MASE" in out and "seasonal_naive" in out
    assert {"model.pt", "metrics.csv"} <= {p.name for p in (tmp_path / "fc").iterdir()}
    model, again = str(tmp_path / "fc" / "model.pt"), str(tmp_path / "again")
    assert main(["forecast", "eval", model, "production_inventory", "--periods", "120"]) == 0
    assert main(["forecast", "eval", model, "production_inventory", "--out", again]) == 0
    capsys.readouterr()
    assert (tmp_path / "fc" / "eval_production_inventory" / "metrics.csv").is_file()
    assert (tmp_path / "again" / "metrics.csv").is_file()


def test_forecast_eval_needs_a_source(tmp_path, capsys):
    err = _one_error_line(capsys, ["forecast", "eval", str(tmp_path / "model.pt")])
    assert "forecast eval needs <model path> <scenario|csv>" in err
