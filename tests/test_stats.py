"""The Student-t interval of a mean across seeds, and that every summary uses it."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest

from shopfloor._stats import confidence_interval
from shopfloor.experiments import BenchResult, Episode
from shopfloor.experiments import summarise_episodes as summarise  # the bench's summary rows
from shopfloor.experiments._summary import _row, markdown_table  # white-box: one table row
from shopfloor.plots import learning_curves

# t quantiles from tables: t(0.975, 1), t(0.975, 2), t(0.95, 2)
T_975_1, T_975_2, T_95_2 = 12.706204736174707, 4.302652729749462, 2.919985580355516
HALF_123 = T_975_2 * 1.0 / math.sqrt(3)  # values 1, 2, 3: sd 1, n 3


def test_interval_by_hand():
    assert round(HALF_123, 4) == 2.4841  # 4.302653 * 0.57735
    assert confidence_interval([1.0, 2.0, 3.0]) == pytest.approx(
        (2 - HALF_123, 2 + HALF_123), rel=1e-12
    )
    # n = 2: sd = sqrt(2), so the half-width is t(0.975, 1) itself, 6.5x the normal 1.96.
    assert confidence_interval([1.0, 3.0]) == pytest.approx((2 - T_975_1, 2 + T_975_1), rel=1e-12)
    narrower = confidence_interval([1.0, 2.0, 3.0], confidence=0.9)
    assert narrower == pytest.approx((2 - T_95_2 / math.sqrt(3), 2 + T_95_2 / math.sqrt(3)))


def test_one_value_has_no_interval_and_equal_values_a_point():
    low, high = confidence_interval([3.5])
    assert math.isnan(low) and math.isnan(high)
    assert confidence_interval([2.0, 2.0, 2.0]) == (2.0, 2.0)


def test_bad_input():
    with pytest.raises(ValueError, match="1-D sample"):
        confidence_interval([])
    with pytest.raises(ValueError, match=r"confidence must be in \(0, 1\)"):
        confidence_interval([1.0, 2.0], confidence=1.0)


def _episode(seed: int, value: float) -> Episode:
    return Episode("spt", "ft06", "shopfloor/JobShop-v0", "makespan", seed, value, 0.1, {})


def _experiment(root: Path, values: list[float]) -> Path:
    """An experiment folder of one agent whose seed ``i`` evaluated ``values[i]`` at step 0."""
    for seed, value in enumerate(values):
        folder = root / "tiny" / "env" / "agent" / f"seed_{seed}"
        folder.mkdir(parents=True)
        with (folder / "eval.csv").open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerows([["timesteps", "objective_mean"], [0, value]])
    return root / "tiny"


def test_run_summary_bench_and_learning_curve_agree(tmp_path):
    values = [11.0, 12.0, 13.0]
    expected = pytest.approx((12 - HALF_123, 12 + HALF_123), rel=1e-12)

    row = _row("env", "agent", "agent", values)
    assert (row["ci_low"], row["ci_high"]) == expected

    (summary,), _ = summarise([_episode(s, v) for s, v in enumerate(values)], {"ft06": 55})
    assert (summary.ci_low, summary.ci_high) == expected

    curve = learning_curves(_experiment(tmp_path, values), tmp_path / "curves").curve(
        "env", "agent"
    )
    assert (curve.ci_low[0], curve.ci_high[0]) == expected


def test_intervals_of_non_negative_values_stop_at_zero(tmp_path):
    values = [1.0, 2.0, 3.0]  # the Student-t interval reaches -0.48
    assert 2 - HALF_123 < 0
    row = _row("env", "agent", "agent", values)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((0.0, 2 + HALF_123), rel=1e-12)
    (summary,), _ = summarise([_episode(s, v) for s, v in enumerate(values)], {"ft06": 55})
    assert (summary.ci_low, summary.ci_high) == pytest.approx((0.0, 2 + HALF_123), rel=1e-12)
    curve = learning_curves(_experiment(tmp_path, values), tmp_path / "curves").curve(
        "env", "agent"
    )
    assert curve.ci_low[0] == 0.0
    negative = _row("env", "agent", "agent", [-1.0, 2.0, 3.0])  # a signed objective
    assert negative["ci_low"] < 0


def test_one_seed_shows_no_interval(tmp_path):
    row = _row("env", "agent", "agent", [4.0])
    assert math.isnan(row["ci_low"]) and math.isnan(row["ci_high"])
    assert markdown_table([row]).splitlines()[-1] == "| env | agent | agent | 1 | 4 | - |"

    summaries, policies = summarise([_episode(0, 61.0)], {"ft06": 55})
    assert math.isnan(summaries[0].ci_low) and math.isnan(summaries[0].ci_high)
    markdown = BenchResult((_episode(0, 61.0),), tuple(summaries), tuple(policies)).markdown()
    assert "| ft06 | makespan | 55 | 61 (+10.9%) |" in markdown
    assert "nan" not in markdown
