"""The speed benchmarks: they run, and their ratios are what they say."""

from __future__ import annotations

import math
from typing import Any

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


def test_factory_and_reference_take_turns(monkeypatch: pytest.MonkeyPatch) -> None:
    import shopfloor.experiments._speed as speed

    runs = []
    original = speed._time_episodes

    def recording(run, min_seconds):  # type: ignore[no-untyped-def]
        result = original(run, min_seconds)
        runs.append((min_seconds, result[2]))  # the reference counts 36 operations per episode
        return result

    monkeypatch.setattr(speed, "_time_episodes", recording)
    name, spec = resolve_target("ft06")
    result = measure(name, spec, "spt", min_seconds=0.08)
    assert [seconds for seconds, _ in runs] == [0.08 / ROUNDS] * (2 * ROUNDS)
    factory_runs, reference_runs = runs[0::2], runs[1::2]
    assert all(count % 36 == 0 for _, count in reference_runs)
    assert result.episodes == sum(count // 36 for _, count in factory_runs)
    assert result.reference_operations_per_second > 0


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


SMALL = {"scenario": "dynamic_job_shop_small"}


def test_training_speed_times_the_env_alone_then_each_vectorisation() -> None:
    from shopfloor.agents import load_hyperparameters
    from shopfloor.experiments import measure_training

    results = measure_training("shopfloor/DynamicJobShop-v1", "ppo", SMALL, steps=300)
    assert [r.setup for r in results] == ["env alone", "dummy", "subproc"]
    assert results[0].steps >= 300 and results[0].n_envs == 1
    values = load_hyperparameters("ppo", "shopfloor/DynamicJobShop-v1")
    rollout = values["n_envs"] * values["n_steps"]
    for trained in results[1:]:
        assert trained.n_envs == values["n_envs"]
        assert trained.steps == math.ceil(300 / rollout) * rollout  # whole rollouts


def test_one_env_agents_are_not_timed_in_a_subprocess() -> None:
    from shopfloor.experiments import measure_training

    # agents/dqn.yaml has n_envs 1, which SB3Agent always runs in this process.
    results = measure_training("shopfloor/DynamicJobShop-v1", "dqn", SMALL, steps=200)
    assert [(r.setup, r.n_envs) for r in results] == [("env alone", 1), ("dummy", 1)]


def test_env_alone_runs_episode_after_episode_for_a_minimum_time() -> None:
    from shopfloor.experiments._train_speed import env_alone

    # ft06 ends after 36 choices; stepping an ended episode raises.
    exact = env_alone("shopfloor/JobShop-v0", {"instance": "ft06"}, steps=100, min_seconds=0)
    assert exact.steps == 100
    timed = env_alone("shopfloor/JobShop-v0", {"instance": "ft06"}, steps=100, min_seconds=0.3)
    assert timed.steps > 100 and timed.seconds >= 0.3


def test_a_dead_env_process_is_reported_and_no_process_is_left(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import multiprocessing
    import os
    import signal
    import threading

    from shopfloor.agents import SB3Agent
    from shopfloor.experiments import measure_training

    learning = threading.Event()
    env_processes: list[multiprocessing.Process] = []
    learn = SB3Agent.learn

    def signalled_learn(self: SB3Agent, *args: Any, **kwargs: Any) -> SB3Agent:
        env_processes.extend(self.env.processes)  # type: ignore[attr-defined]
        learning.set()
        return learn(self, *args, **kwargs)

    def kill_an_env_process() -> None:  # as the OOM killer would, once training runs
        if learning.wait(timeout=120):
            os.kill(env_processes[0].pid, signal.SIGKILL)  # type: ignore[arg-type]

    monkeypatch.setattr(SB3Agent, "learn", signalled_learn)
    killer = threading.Thread(target=kill_an_env_process, daemon=True)
    killer.start()
    with pytest.raises(RuntimeError, match="an env process died"):
        measure_training("shopfloor/DynamicJobShop-v1", "ppo", SMALL, 20_000, ["subproc"])
    killer.join()
    assert multiprocessing.active_children() == []


def test_training_speed_refuses_what_it_cannot_time() -> None:
    from shopfloor.experiments import measure_training

    for algorithm in ("qlearning", "rollout"):
        with pytest.raises(ValueError, match=f"{algorithm} steps its envs in this process"):
            measure_training("shopfloor/DynamicJobShop-v1", algorithm, SMALL)
    with pytest.raises(ValueError, match="steps must be >= 1, got 0"):
        measure_training("shopfloor/DynamicJobShop-v1", "ppo", SMALL, steps=0)


def test_bench_train_cli_prints_rates_and_ratios(capsys: pytest.CaptureFixture[str]) -> None:
    from shopfloor.cli import main

    args = ["bench-train", "--scenario", "dynamic_job_shop_small", "--steps", "200"]
    assert main([*args, "--vec-env", "dummy"]) == 0
    out = capsys.readouterr().out
    assert "env alone" in out and "1.00x" in out and "dummy" in out and "subproc" not in out
    assert main([*args, "--agent", "sac"]) == 2
    assert "unknown algorithm 'sac'" in capsys.readouterr().err
    assert main([*args, "--env", "shopfloor/Nope-v0"]) == 2
    assert "env shopfloor/Nope-v0 with arguments" in capsys.readouterr().err
    assert main([*args, "--env-kwarg", "bogus=1"]) == 2
    assert "'bogus'" in capsys.readouterr().err


def test_bench_train_cli_passes_the_env_name(monkeypatch, capsys):
    import shopfloor.experiments
    from shopfloor.cli import main
    from shopfloor.experiments._train_speed import TrainingSpeed

    seen = {}

    def fake(*args, **kwargs):
        seen.update(kwargs)
        return [TrainingSpeed("env alone", 1, 100, 1.0)]

    monkeypatch.setattr(shopfloor.experiments, "measure_training", fake)
    args = ["bench-train", "--scenario", "dynamic_job_shop_small", "--env-name"]
    assert main([*args, "dynamic_rule_choice"]) == 0
    assert seen["env_name"] == "dynamic_rule_choice"
    assert "changes no setting" not in capsys.readouterr().out
