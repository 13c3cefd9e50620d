"""`shopfloor bench-batch`: the batched core's speed against the single env, from the CLI."""

from __future__ import annotations

import re

from shopfloor.cli import main


def test_bench_batch_prints_each_engine_with_its_ratio_to_the_single_env(capsys):
    argv = ["bench-batch", "ft06", "--batch-sizes", "1", "8", "--seconds", "0.05", "--repeats", "1"]
    assert main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    engines = [re.split(r"\s{2,}", line.strip())[1] for line in lines]
    assert engines == ["single env", "batch 1", "batch 1 +features", "batch 8", "batch 8 +features"]
    assert re.search(r"\s1\.0x\s", lines[0])  # the reference is the single env itself


def test_bench_batch_refuses_an_unknown_mode_in_one_line(capsys):
    assert main(["bench-batch", "ft06", "--mode", "later", "--seconds", "0.05"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: unknown decision mode 'later'; choose from non_delay, active, append"]


def test_bench_batch_runs_flexible_instances_and_the_single_env_in_the_same_mode(monkeypatch):
    from shopfloor.experiments import _batch_speed  # white-box: a spy on the single env's run

    modes = []
    real = _batch_speed.single_env_speed

    def spy(instance, seconds, seed=0, mode="non_delay"):
        modes.append(mode)
        return real(instance, seconds, seed, mode=mode)

    monkeypatch.setattr(_batch_speed, "single_env_speed", spy)
    results = _batch_speed.run(["mk01"], [4], mode="active", seconds=0.05, repeats=1)
    assert modes == ["active"]
    assert [r.engine for r in results] == ["single env", "batch 4", "batch 4 +features"]
    assert all(r.operations_per_second > 0 for r in results)
