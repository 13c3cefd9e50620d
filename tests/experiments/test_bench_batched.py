"""The bench runs rules on benchmark instances in the batched core, with the env's numbers.

The env path (:func:`evaluate_episode`, one ``JobShop`` episode stepped by a
``RulePolicy``) is the reference: for every rule the bench offers on static targets,
every mode and a set of classic and flexible instances, the bench's episodes (batched
where :func:`batched_rule` says so) equal it in value, every KPI and label.
"""

from __future__ import annotations

import pytest

import shopfloor.experiments._bench as bench_module
import shopfloor.experiments._episodes as episodes_module
from shopfloor.batch import BatchFlexibleJobShop, BatchJobShop, sample_schedules
from shopfloor.experiments import evaluate_episode, run_bench
from shopfloor.experiments._batched import BATCH_RULES, ENV_ONLY, batched_rule
from shopfloor.experiments._episodes import policy_seed
from shopfloor.instances import load_instance
from shopfloor.policies import policy_names

INSTANCES = ["ft06", "la01", "la02", "la03", "la04", "la05", "ta01", "mk01", "hurink_vdata_la01"]
MODES = ["non_delay", "active", "append"]
RULES = [name for name in policy_names() if name not in ("random", "basestock", "cpsat")]


def _env_episode(rule: str, target: str, seed: int, mode: str, samples: int = 1):
    return evaluate_episode(rule, target, seed, mode=mode, samples=samples)


def _same(batched, single) -> None:
    assert (batched.policy, batched.target, batched.seed) == (
        single.policy,
        single.target,
        single.seed,
    )
    assert batched.value == single.value
    assert dict(batched.kpis) == dict(single.kpis)
    assert (batched.env_id, batched.objective, batched.note) == (
        single.env_id,
        single.objective,
        single.note,
    )


@pytest.mark.parametrize("mode", MODES)
def test_the_core_reproduces_every_batched_rule_of_the_env_exactly(mode):
    """The core's makespan equals the env's for every rule it takes over, per instance."""
    for name in INSTANCES:
        instance = load_instance(name)
        for rule in BATCH_RULES:
            if not batched_rule(rule, instance, mode):
                continue
            core: BatchJobShop | BatchFlexibleJobShop
            if type(instance).__name__ == "FlexibleJobShopInstance":
                core = BatchFlexibleJobShop([instance], mode)
            else:
                core = BatchJobShop([instance], mode, features=False)
            while not bool(core.dones.all()):
                core.step(core.rule_actions(rule))
            expected = _env_episode(rule, name, 0, mode).value
            assert float(core.makespans()[0]) == expected, (name, rule, mode)


def test_the_cases_left_to_the_env_do_differ_in_the_core():
    """SPT and LPT in a flexible non_delay shop: the core ranks other pairs (mk01)."""
    assert {("flexible", "non_delay", "spt"), ("flexible", "non_delay", "lpt")} == ENV_ONLY
    core = BatchFlexibleJobShop(["mk01"], "non_delay")
    while not bool(core.dones.all()):
        core.step(core.rule_actions("spt"))
    assert float(core.makespans()[0]) == 55.0
    assert _env_episode("spt", "mk01", 0, "non_delay").value == 51.0
    assert not batched_rule("spt", load_instance("mk01"), "non_delay")
    assert batched_rule("spt", load_instance("mk01"), "active")
    assert batched_rule("mwkr", load_instance("mk01"), "non_delay")


@pytest.mark.parametrize("mode", MODES)
def test_bench_episodes_equal_the_env_path_for_every_rule(mode, monkeypatch):
    """Every rule the bench offers, in ``mode``: the same episodes as stepping the env."""
    batched: list[int] = []
    real = bench_module.run_batch_task

    def counting(task):
        batched.append(task.size)
        return real(task)

    monkeypatch.setattr(bench_module, "run_batch_task", counting)
    result = run_bench(RULES, INSTANCES, seeds=1, workers=1, progress=False, mode=mode)
    skipped = {(policy, target) for policy, target, _ in result.skipped}
    applicable = 0
    for rule in RULES:
        for name in INSTANCES:
            if (rule, name) in skipped:
                continue
            applicable += 1
    assert len(result.episodes) == applicable
    for episode in result.episodes:
        rule = episode.policy.split(" ")[0]
        _same(episode, _env_episode(rule, episode.target, episode.seed, mode))
    flexible = {"mk01", "hurink_vdata_la01"}
    expected = sum(
        1
        for rule in BATCH_RULES
        for name in INSTANCES
        if not (mode == "non_delay" and rule in ("spt", "lpt") and name in flexible)
    )
    assert sum(batched) == expected  # the core really ran them


def test_seeds_and_best_of_n_reuse_the_one_schedule_of_a_rule():
    result = run_bench(
        ["mopnr"],
        ["la02", "ft06"],
        seeds=[3, 5],
        workers=1,
        progress=False,
        samples=4,
        mode="active",
    )
    assert [(e.target, e.seed) for e in result.episodes] == [
        ("la02", 3),
        ("la02", 5),
        ("ft06", 3),
        ("ft06", 5),
    ]
    for episode in result.episodes:
        assert episode.policy == "mopnr active best-of-4"
        _same(episode, _env_episode("mopnr", episode.target, episode.seed, "active", samples=4))


def test_a_core_schedule_that_does_not_replay_falls_back_to_the_env(monkeypatch):
    def wrong(self):
        return self.backend.to_float(self._makespan) + 1.0

    stepped: list[str] = []
    real = episodes_module.evaluate_episode

    def counting(policy, target, *args, **kwargs):
        stepped.append(policy)
        return real(policy, target, *args, **kwargs)

    monkeypatch.setattr(BatchJobShop, "makespans", wrong)
    monkeypatch.setattr(episodes_module, "evaluate_episode", counting)
    result = run_bench(["mwkr"], ["ft06"], seeds=1, workers=1, progress=False)
    assert stepped == ["mwkr"]  # the env ran the episode after the core's disagreed
    _same(result.episodes[0], _env_episode("mwkr", "ft06", 0, "non_delay"))
    assert result.episodes[0].value == 61.0  # ft06's MWKR makespan, not the wrong one


def test_batched_episodes_cross_worker_processes_unchanged():
    policies, targets = ["mwkr,fifo"], ["ft06,la01,mk01"]
    pooled = run_bench(policies, targets, seeds=2, workers=2, progress=False, mode="append")
    alone = run_bench(policies, targets, seeds=2, workers=1, progress=False, mode="append")
    assert [(e.policy, e.target, e.seed, e.value) for e in pooled.episodes] == [
        (e.policy, e.target, e.seed, e.value) for e in alone.episodes
    ]
    assert [dict(e.kpis) for e in pooled.episodes] == [dict(e.kpis) for e in alone.episodes]


@pytest.mark.parametrize("mode", MODES)
def test_batch_random_is_the_best_of_sample_schedules_for_the_policy_seed(mode):
    result = run_bench(
        ["batch-random"],
        ["ft06,mk01"],
        seeds=[0, 7],
        workers=1,
        progress=False,
        samples=32,
        mode=mode,
    )
    suffix = "" if mode == "non_delay" else f" {mode}"
    for episode in result.episodes:
        assert episode.policy == f"batch-random{suffix} best-of-32"
        sampled = sample_schedules(episode.target, 32, mode=mode, seed=policy_seed(episode.seed))
        assert episode.value == sampled.makespans.min()
        assert episode.kpis["makespan"] == episode.value  # replayed in the factory
        assert episode.kpis["jobs_completed"] == load_instance(episode.target).n_jobs
    values = {(e.target, e.seed): e.value for e in result.episodes}
    assert values[("ft06", 0)] >= 55 and values[("mk01", 0)] >= 40  # the optima


def test_batch_random_applies_to_benchmark_instances_only():
    result = run_bench(
        ["batch-random", "mwkr"],
        ["ft06", "dynamic_job_shop_small"],
        seeds=1,
        workers=1,
        progress=False,
    )
    assert [(e.policy, e.target) for e in result.episodes] == [
        ("batch-random", "ft06"),
        ("mwkr", "ft06"),
        ("mwkr", "dynamic_job_shop_small"),
    ]
    ((policy, target, reason),) = result.skipped
    assert (policy, target) == ("batch-random", "dynamic_job_shop_small")
    assert "benchmark instances" in reason
