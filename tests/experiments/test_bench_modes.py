"""The bench in each decision mode: rules and best-of-N run in JobShop's mode."""

from __future__ import annotations

import csv

import pytest

from shopfloor.cli import main
from shopfloor.experiments import run_bench
from shopfloor.instances import load_instance
from shopfloor.policies import dispatch_in_mode


@pytest.mark.parametrize("mode", ["non_delay", "active", "append"])
def test_rules_are_benchmarked_in_the_mode(mode):
    result = run_bench(
        ["mwkr,mopnr,atc"], ["ft06,la01"], seeds=1, workers=1, progress=False, mode=mode
    )
    suffix = "" if mode == "non_delay" else f" {mode}"
    for episode in result.episodes:
        rule = episode.policy.removesuffix(suffix)
        expected = dispatch_in_mode(load_instance(episode.target), rule, mode)
        assert episode.value == expected.kpis().makespan
    assert result.settings["mode"] == mode
    skipped = {(policy, target) for policy, target, _ in result.skipped}
    assert skipped == (set() if mode == "non_delay" else {("atc", "ft06"), ("atc", "la01")})


def test_best_of_n_in_a_mode_is_labelled_with_it():
    active = run_bench(
        ["random"], ["ft06"], seeds=1, workers=1, progress=False, samples=16, mode="active"
    )
    assert active.episodes[0].policy == "random active best-of-16"
    assert active.episodes[0].value >= 55  # ft06's optimum


def test_a_mode_needs_static_targets():
    with pytest.raises(ValueError, match="mode 'append' needs static targets"):
        run_bench(["mwkr"], ["dynamic_job_shop_small"], seeds=1, workers=1, mode="append")
    with pytest.raises(ValueError, match="unknown decision mode"):
        run_bench(["mwkr"], ["ft06"], seeds=1, workers=1, mode="semi")


def test_cli_bench_takes_the_mode(tmp_path):
    command = ["bench", "--policies", "mwkr", "--instances", "ft06", "--seeds", "1"]
    options = ["--workers", "1", "--no-progress", "--out", str(tmp_path), "--name", "a"]
    assert main([*command, *options, "--mode", "active"]) == 0
    rows = list(csv.DictReader((tmp_path / "a" / "episodes.csv").open()))
    assert [row["policy"] for row in rows] == ["mwkr active"]
    expected = dispatch_in_mode(load_instance("ft06"), "mwkr", "active").kpis().makespan
    assert float(rows[0]["value"]) == expected
    with pytest.raises(SystemExit) as exit_:
        main([*command, *options, "--mode", "sideways"])
    assert exit_.value.code == 2
