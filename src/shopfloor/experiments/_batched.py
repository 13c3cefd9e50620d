"""Rule episodes on benchmark instances, many at a time in the batched core.

SPT, LPT, MWKR, LWKR and MOPNR (:data:`BATCH_RULES`) schedule up to
:data:`BATCH_CHUNK` instances in one :class:`~shopfloor.batch.BatchJobShop` (or
:class:`~shopfloor.batch.BatchFlexibleJobShop`) call, whose schedules equal the env's
(ties to the lowest job, then machine index), and each schedule is replayed in the
factory for its KPIs. :func:`plan_tasks` groups a benchmark's episodes into such calls;
the cases where the core's choice differs (:data:`ENV_ONLY`) keep stepping the env.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from shopfloor.envs import parse_mode
from shopfloor.experiments._episodes import Episode, EpisodeTask, run_episode_task, scored_episode
from shopfloor.experiments._saved import is_run_folder
from shopfloor.experiments._targets import BenchTarget, shop_kind, static_instance

BATCH_RULES = ("spt", "lpt", "mwkr", "lwkr", "mopnr")
"""The rules whose episodes on a bundled or file instance run in the batched core.

For these the core's schedules equal ``JobShop``'s with :class:`RulePolicy` (ties to
the lowest job, then machine index) in every mode, checked on classic and flexible
instances by ``tests/experiments/test_bench_batched.py``, with one exception:
:data:`ENV_ONLY`. Every other rule (FIFO, EDD, CR, WSPT, SLACK, ATC, ATCJS; the
core has none of them), scenarios (release times, setups, due dates the core does
not model), saved agents and random policies keep stepping the single env.
"""


ENV_ONLY = frozenset({("flexible", "non_delay", "spt"), ("flexible", "non_delay", "lpt")})
"""``(shop, mode, rule)`` cases whose core schedule differs from the env's: in a
flexible shop's ``non_delay`` mode the env ranks a job waiting at several free
machines at the lowest-index one only (where it starts it), the core ranks every
``(job, machine)`` pair, so SPT and LPT, which rank the pair's time, may choose
another pair (mk01: SPT 51 in the env, 55 in the core). MWKR, LWKR and MOPNR rank the
job and pick the same pair."""


BATCH_CHUNK = 16
"""Targets per batched-core call (of similar sizes: little padding, and the calls of
one benchmark spread over the workers)."""


@dataclass(frozen=True)
class BatchTask:
    """One rule's episodes on several static instances, scheduled in one core call.

    ``entries`` holds per target its instance and its ``(task index, seed)`` pairs.
    """

    policy: str
    mode: str
    samples: int
    time_limit: float
    entries: tuple[tuple[BenchTarget, Any, tuple[tuple[int, int], ...]], ...]

    @property
    def size(self) -> int:
        return sum(len(runs) for _, _, runs in self.entries)


def batched_rule(policy: str, instance: Any, mode: str) -> bool:
    """Whether ``policy``'s episodes on ``instance`` in ``mode`` run in the batched core.

    A rule of :data:`BATCH_RULES` (by name, not a run folder of that name) on a
    benchmark instance, outside :data:`ENV_ONLY`.
    """
    rule = policy.strip().lower()
    if instance is None or rule not in BATCH_RULES or is_run_folder(policy):
        return False
    return (shop_kind(instance), parse_mode(mode), rule) not in ENV_ONLY


def plan_tasks(tasks: Sequence[EpisodeTask]) -> list[EpisodeTask | BatchTask]:
    """The tasks as run: rule episodes on instances grouped into batched-core calls."""
    instances: dict[str, Any] = {}
    groups: dict[tuple[str, str, int, str], dict[str, list[EpisodeTask]]] = {}
    plan: list[EpisodeTask | BatchTask] = []
    for task in tasks:
        target = task.target
        if target.target not in instances:
            instances[target.target] = static_instance(target)
        instance = instances[target.target]
        if not batched_rule(task.policy, instance, task.mode):
            plan.append(task)
            continue
        key = (task.policy, task.mode, task.samples, shop_kind(instance))
        groups.setdefault(key, {}).setdefault(target.target, []).append(task)
    for (policy, mode, samples, _), by_target in groups.items():
        targets = sorted(
            by_target.values(), key=lambda runs: _operations(instances[runs[0].target.target])
        )
        for start in range(0, len(targets), BATCH_CHUNK):
            entries = tuple(
                (
                    runs[0].target,
                    instances[runs[0].target.target],
                    tuple((run.index, run.seed) for run in runs),
                )
                for runs in targets[start : start + BATCH_CHUNK]
            )
            time_limit = targets[0][0].time_limit
            plan.append(BatchTask(policy, mode, samples, time_limit, entries))
    return plan


def _operations(instance: Any) -> int:
    """How many operations an instance has (the steps of its episode)."""
    return sum(len(routing) for routing in _routings(instance))


def _routings(instance: Any) -> Sequence[Sequence[Any]]:
    if shop_kind(instance) == "flexible":
        return instance.operations  # type: ignore[no-any-return]
    return instance.machines  # type: ignore[no-any-return]


def _label(policy: str, samples: int, mode: str) -> str:
    """The label :func:`evaluate_episode` gives a named policy's episodes."""
    label = policy if samples == 1 else f"{policy} best-of-{samples}"
    if mode == "non_delay":
        return label
    return label.replace(" best-of-", f" {mode} best-of-") if samples > 1 else f"{label} {mode}"


def run_batch_task(task: BatchTask) -> list[tuple[int, Episode]]:
    """A rule's episodes on several instances: one core call, each schedule replayed.

    The rule is deterministic and a static shop draws nothing from its seed, so one
    schedule per target serves every seed (and every sample of a best-of-N). Each is
    replayed in the target's factory (:func:`~shopfloor.envs.replay_sequences`) for
    the KPIs the env path reports; should the replay's makespan differ from the
    core's, that target falls back to the env path. An episode's wall time is its
    share of the core call plus its replay.
    """
    from shopfloor.batch import BatchFlexibleJobShop, BatchJobShop
    from shopfloor.envs import replay_sequences
    from shopfloor.sim import Factory

    rule = task.policy.strip().lower()
    instances = [instance for _, instance, _ in task.entries]
    try:
        started = time.perf_counter()
        core: BatchJobShop | BatchFlexibleJobShop
        if shop_kind(instances[0]) == "flexible":
            core = BatchFlexibleJobShop(instances, task.mode)
        else:
            core = BatchJobShop(instances, task.mode, features=False)
        while not bool(core.dones.all()):
            core.step(core.rule_actions(rule))
        makespans = core.backend.to_numpy(core.makespans())
        share = (time.perf_counter() - started) / len(instances)
    except Exception as error:
        names = ", ".join(target.target for target, _, _ in task.entries)
        raise RuntimeError(f"{task.policy} on {names} (batched core) failed: {error}") from error
    label = _label(task.policy, task.samples, task.mode)
    results: list[tuple[int, Episode]] = []
    for row, (target, _, runs) in enumerate(task.entries):
        begun = time.perf_counter()
        try:
            factory = Factory(target.spec, seed=runs[0][1])
            kpis = replay_sequences(factory, core.machine_sequences(row)).kpis().as_dict()
            exact = float(kpis[target.objective]) == float(makespans[row])
        except ValueError:
            exact = False
        if not exact:  # never expected (tests check it); the env path is the reference
            for index, seed in runs:
                single = EpisodeTask(
                    index, task.policy, target, seed, task.time_limit, task.samples
                )
                results += run_episode_task(replace(single, mode=task.mode))
            continue
        wall_time = share + time.perf_counter() - begun
        results += [
            (index, scored_episode(label, target, seed, kpis, wall_time)) for index, seed in runs
        ]
    return results
