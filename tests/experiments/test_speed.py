"""The speed benchmarks: they run, and their ratios are what they say."""

from __future__ import annotations

import math

import pytest

from shopfloor.experiments import measure
from shopfloor.experiments._speed import ROUNDS, measure_env, plain_simpy_job_shop
from shopfloor.scenario import resolve_target


def test_plain_simpy_reference_runs_every_operation_fifo() -> None:
    _, spec = resolve_target("ft06")
    makespan, operations = plain_simpy_job_shop(spec)
    assert operations == 36
    assert makespan >= 55  # ft06's optimum; FIFO in release order is no better


def test_factory_speed_counts_every_decision() -> None:
    name, spec = resolve_target("ft06")
    result = measure(name, spec, "spt", min_seconds=0.05)
    assert result.episodes >= 1
    assert result.decisions_per_second > 0
    assert result.microseconds_per_decision == pytest.approx(1e6 / result.decisions_per_second)
    assert result.ratio_to_reference == pytest.approx(
        result.decisions_per_second / result.reference_operations_per_second
    )


def test_env_speed_ratio_is_factory_rate_over_env_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    import shopfloor.experiments._speed as speed

    durations = []
    original = speed._time_episodes

    def recording(run, min_seconds):  # type: ignore[no-untyped-def]
        durations.append(min_seconds)
        return original(run, min_seconds)

    monkeypatch.setattr(speed, "_time_episodes", recording)
    result = measure_env("ft06", min_seconds=0.08)
    assert durations == [0.08 / ROUNDS] * (2 * ROUNDS)  # alternating env / factory rounds
    assert math.isfinite(result.env_steps_per_second) and result.env_steps_per_second > 0
    assert result.cost_ratio == pytest.approx(
        result.factory_decisions_per_second / result.env_steps_per_second
    )
