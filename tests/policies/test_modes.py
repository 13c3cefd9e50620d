"""Dispatching rules in every decision mode: the env's policy, the direct run, the schedules."""

from __future__ import annotations

import numpy as np
import pytest

from shopfloor.envs import JobShopEnv, ScheduleTracker
from shopfloor.instances import load_instance
from shopfloor.policies import (
    PolicyNotApplicableError,
    RulePolicy,
    choose_candidate,
    dispatch_earliest,
    dispatch_in_mode,
)
from shopfloor.sim import Factory, FactorySpec, JobSpec, MachineSpec, OperationSpec
from shopfloor.sim.events import COMPLETE, START

MODES = ("non_delay", "active", "append")


def flexible_spec(seed: int) -> FactorySpec:
    """Five jobs of three operations, each on two of three machines with their own times."""
    rng = np.random.default_rng(seed)
    jobs = []
    for _ in range(5):
        routing = []
        for _ in range(3):
            machines = tuple(sorted(rng.choice(3, size=2, replace=False).tolist()))
            routing.append(OperationSpec(machines, tuple(float(t) for t in rng.integers(1, 9, 2))))
        jobs.append(JobSpec(routing=tuple(routing)))
    return FactorySpec(
        name=f"flexible-{seed}",
        machines=tuple(MachineSpec(f"M{m}") for m in range(3)),
        jobs=tuple(jobs),
    )


def operations(factory: Factory) -> dict[tuple[int, int], tuple[int, float, float]]:
    """``(job, operation) -> (machine, start, end)`` from a finished factory's log."""
    started: dict[int, tuple[int, int, float]] = {}
    result = {}
    for time, kind, machine, job, operation, _ in factory.log:
        if kind == START:
            started[machine] = (job, operation, time)
        elif kind == COMPLETE:
            job, operation, start = started.pop(machine)
            result[job, operation] = (machine, start, time)
    return result


def run_policy(spec: FactorySpec, rule: str, mode: str) -> Factory:
    env = JobShopEnv(spec=spec, mode=mode)
    policy = RulePolicy(rule, seed=0).bind(env)
    observation, _ = env.reset(seed=0)
    terminated = False
    while not terminated:
        action, _ = policy.predict(observation)
        observation, _, terminated, _, _ = env.step(action)
    return env.factory


SPECS = {
    "ft06": lambda: load_instance("ft06").to_factory_spec(),
    "la01": lambda: load_instance("la01").to_factory_spec(),
    "flexible": lambda: flexible_spec(0),
}


@pytest.mark.parametrize("mode", ["active", "append"])
@pytest.mark.parametrize("rule", ["mwkr", "mopnr", "spt", "lpt", "fifo", "lwkr", "random"])
@pytest.mark.parametrize("shop", sorted(SPECS))
def test_the_env_policy_and_the_direct_run_build_the_same_schedule(mode, rule, shop):
    spec = SPECS[shop]()
    direct = dispatch_in_mode(spec, rule, mode, rule_seed=0)
    assert direct.done
    assert operations(run_policy(spec, rule, mode)) == operations(direct)


@pytest.mark.parametrize("rule", ["mwkr", "mopnr", "spt", "atc"])
def test_non_delay_is_todays_dispatch(rule):
    instance = load_instance("la01")
    direct = dispatch_in_mode(instance, rule, "non_delay")
    assert operations(run_policy(instance.to_factory_spec(), rule, "non_delay")) == operations(
        direct
    )
    if rule != "atc":
        reference = dispatch_earliest(Factory(instance.to_factory_spec(), seed=0), rule)
        assert operations(direct) == operations(reference)


def machine_runs(schedule: dict) -> dict[int, list[tuple[float, float, tuple[int, int]]]]:
    runs: dict[int, list[tuple[float, float, tuple[int, int]]]] = {}
    for key, (machine, start, end) in schedule.items():
        runs.setdefault(machine, []).append((start, end, key))
    return {machine: sorted(run) for machine, run in runs.items()}


def job_ready(schedule: dict, job: int, operation: int) -> float:
    return schedule[job, operation - 1][2] if operation else 0.0


@pytest.mark.parametrize("rule", ["mwkr", "spt", "random"])
@pytest.mark.parametrize("name", ["ft06", "la01", "la16"])
def test_append_schedules_are_semi_active(rule, name):
    """Every operation starts when its job and its machine are both ready: no slack."""
    schedule = operations(dispatch_in_mode(load_instance(name), rule, "append"))
    for run in machine_runs(schedule).values():
        previous_end = 0.0
        for start, end, (job, operation) in run:
            assert start == max(previous_end, job_ready(schedule, job, operation))
            previous_end = end


@pytest.mark.parametrize("rule", ["mwkr", "spt", "random"])
@pytest.mark.parametrize("name", ["ft06", "la01", "la16"])
def test_active_schedules_are_active_and_append_ones_need_not_be(rule, name):
    """No operation fits into an idle gap of its machine before it (no global left shift)."""

    def left_shiftable(schedule: dict) -> int:
        count = 0
        for run in machine_runs(schedule).values():
            gaps, previous_end = [], 0.0
            for start, end, (job, operation) in run:
                ready = job_ready(schedule, job, operation)
                for gap_start, gap_end in gaps:
                    if max(gap_start, ready) + (end - start) <= gap_end:
                        count += 1
                        break
                if start > previous_end:
                    gaps.append((previous_end, start))
                previous_end = end
        return count

    active = operations(dispatch_in_mode(load_instance(name), rule, "active"))
    assert left_shiftable(active) == 0
    if rule == "spt" and name == "la16":
        assert left_shiftable(operations(dispatch_in_mode(load_instance(name), rule, "append")))


def test_rules_rank_candidates_and_ties_go_to_the_lowest_job_then_machine():
    spec = FactorySpec(
        name="ties",
        machines=(MachineSpec("M0"), MachineSpec("M1")),
        jobs=(
            JobSpec(routing=(OperationSpec((0, 1), (2.0, 2.0)), OperationSpec.on(0, 1.0))),
            JobSpec(routing=(OperationSpec((0, 1), (2.0, 2.0)), OperationSpec.on(1, 1.0))),
            JobSpec(routing=(OperationSpec.on(1, 1.0),)),
        ),
    )
    tracker = ScheduleTracker(Factory(spec, seed=0), "append")
    assert tracker.candidates == [(0, 0), (0, 1), (1, 0), (1, 1), (2, 1)]
    assert choose_candidate(tracker, "mwkr") == (0, 0)  # J0 and J1 tie at 3: job, machine
    assert choose_candidate(tracker, "spt") == (2, 1)
    assert choose_candidate(tracker, "lpt") == (0, 0)
    assert choose_candidate(tracker, "lwkr") == (2, 1)
    tracker.schedule(0, 1)  # J0 on M1 [0, 2]
    assert choose_candidate(tracker, "mwkr") == (1, 0)  # J1 (3) over J0 (1) and J2 (1)
    assert choose_candidate(tracker, "fifo") == (1, 0)  # ready at 0, before J0 at 2
    assert choose_candidate(tracker, "fifo", tie_break="queue") == (1, 0)


def test_queue_rules_only_apply_in_non_delay():
    tracker = ScheduleTracker(Factory(flexible_spec(0), seed=0), "active")
    with pytest.raises(ValueError, match="ATC ranks one machine's queue"):
        choose_candidate(tracker, "atc")
    with pytest.raises(ValueError, match="ATCJS"):
        dispatch_in_mode(load_instance("ft06"), "atcjs", "append")
    with pytest.raises(PolicyNotApplicableError, match="mode='non_delay'"):
        RulePolicy("atc").bind(JobShopEnv(mode="active"))
    with pytest.raises(ValueError, match="unknown decision mode 'gt'"):
        dispatch_in_mode(load_instance("ft06"), "mwkr", "gt")


def test_rule_makespans_per_mode_on_ft06():
    """Pinned: MOPNR on ft06 (optimum 55) in each mode; no schedule beats the optimum."""
    makespans = {
        mode: dispatch_in_mode(load_instance("ft06"), "mopnr", mode).kpis().makespan
        for mode in MODES
    }
    assert makespans == {"non_delay": 59.0, "active": 60.0, "append": 60.0}
    for mode in MODES:
        assert dispatch_in_mode(load_instance("ft06"), "mwkr", mode).kpis().makespan >= 55
