"""The batched-core speed benchmark runs and reports every engine."""

from __future__ import annotations

import pytest

from shopfloor.experiments._batch_speed import main, run


def test_the_benchmark_reports_the_single_env_and_every_batch_size(
    capsys: pytest.CaptureFixture[str],
) -> None:
    results = run(["ft06"], [1, 8], seconds=0.05, repeats=1)
    engines = [result.engine for result in results]
    assert engines == ["single env", "batch 1", "batch 1 +features", "batch 8", "batch 8 +features"]
    assert all(result.operations_per_second > 0 and result.peak_rss_mb > 0 for result in results)
    main(["--instances", "ft06", "--batch-sizes", "2", "--seconds", "0.05", "--repeats", "1"])
    assert "batch 2 +features" in capsys.readouterr().out
