"""Benchmark episodes: one ``(policy, target, seed)`` run and scored.

:func:`evaluate_episode` steps the policy through the target's env with the one
evaluation loop (:func:`~shopfloor.experiments._play.play_episode`), or best-of-N of
such episodes; CP-SAT is solved and replayed in the factory, ``batch-random`` sampled
in the batched core. Every KPI of the finished factory is kept with the episode.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

from shopfloor.envs import parse_mode
from shopfloor.experiments._pairing import (
    BatchRandomSchedules,
    bench_policy,
    check_batch_random,
    check_cpsat,
    make_env,
)
from shopfloor.experiments._play import play_episode
from shopfloor.experiments._saved import SavedAgent
from shopfloor.experiments._targets import BenchTarget, resolve_bench_target, shop_kind
from shopfloor.policies import (
    CpSatPolicy,
    Policy,
    bind_policy,
)


@dataclass(frozen=True)
class Episode:
    """One evaluated episode.

    Attributes:
        policy: The policy's name.
        target: The target as named.
        env_id: The environment family.
        objective: Name of the KPI that scores it.
        seed: The episode's seed.
        value: The objective's value (lower is better).
        wall_time: Seconds from reset to the end of the episode (for CP-SAT: solve
            and replay).
        kpis: Every KPI of the finished factory (:meth:`~shopfloor.sim.KPIs.as_dict`).
        note: Anything worth knowing (CP-SAT: whether the solve was optimal).
    """

    policy: str
    target: str
    env_id: str
    objective: str
    seed: int
    value: float
    wall_time: float
    kpis: Mapping[str, Any]
    note: str = ""


def policy_seed(seed: int) -> int:
    """The seed of a policy's own generator in the episode of ``seed``.

    Derived with a spawned :class:`numpy.random.SeedSequence`, so the policy's stream
    is independent of the environment's (which ``reset(seed=seed)`` seeds directly).
    """
    state = np.random.SeedSequence(seed, spawn_key=(1,)).generate_state(1)[0]
    return int(state) % 2**31


def evaluate_episode(
    policy: str | Policy | CpSatPolicy | BatchRandomSchedules,
    target: str | BenchTarget,
    seed: int,
    *,
    time_limit: float = 10.0,
    label: str | None = None,
    samples: int = 1,
    mode: str = "non_delay",
    search: bool = False,
) -> Episode:
    """Run one episode of ``policy`` on ``target`` and score it.

    A policy is run through its environment: ``bind`` (if it reads the factory),
    ``reset(seed=seed)``, then ``predict`` and ``step`` until the episode ends. A
    :class:`~shopfloor.policies.CpSatPolicy` is solved and replayed in the factory
    instead (see the module docstring).

    With ``samples`` > 1 (static targets only: the same instance is scheduled again
    and again, which a dynamic shop's unknown future does not allow), the policy acts
    with ``deterministic=False`` in ``samples`` episodes and the best one is kept:
    best-of-N sampling. Torch's and the policy's generators are seeded from ``seed``.

    Args:
        policy: A policy, or its name for :func:`~shopfloor.policies.make_policy`
            (built with :func:`policy_seed` of ``seed``; CP-SAT with ``seed`` itself),
            or ``"batch-random"`` (:data:`BATCH_RANDOM`: the best of ``samples``
            random schedules of a benchmark instance, sampled in the batched core).
        target: A target name or path, or a resolved :class:`BenchTarget`.
        seed: The episode's seed.
        time_limit: CP-SAT's seconds per solve, when ``policy`` is ``"cpsat"``.
        label: The policy's name in the result (default: the name given, or the
            class name; with ``samples`` > 1, followed by ``" best-of-N"``).
        samples: Episodes sampled; the best counts (its wall time is all of them).
        mode: The decision mode of a static target (``non_delay``, ``active`` or
            ``append``); any other than ``non_delay`` is added to the label. CP-SAT
            ignores it.
        search: A neural scheduler searches for ``time_limit`` seconds (sampling
            bounded by the best schedule so far) instead of acting once; other
            policies act as without it.

    A neural scheduler (a ``pretrained:<name>`` model or a ``self_labelling`` run
    folder) on a benchmark instance builds its ``samples`` schedules in one batched
    core call (the greedy one among them), or searches; the best schedule is replayed
    in the env for its KPIs.

    Returns:
        The scored episode.

    Raises:
        PolicyNotApplicableError: The policy cannot act in the target's environment.
        ValueError: ``samples`` < 1, or > 1 on a dynamic target or with CP-SAT.
    """
    if samples < 1:
        raise ValueError(f"samples must be >= 1, got {samples}")
    if search and samples > 1:
        raise ValueError("search and best-of-N sampling are two ways to use the time; give one")
    if isinstance(policy, str):
        label = label or policy
        seed_for_policy = seed if policy.strip().lower() == "cpsat" else policy_seed(seed)
        policy = bench_policy(policy, seed=seed_for_policy, time_limit=time_limit)
    label = label or type(policy).__name__
    if not isinstance(target, BenchTarget):
        target = resolve_bench_target(target)
    if samples > 1:
        if not target.static:
            raise ValueError(
                f"best-of-{samples} sampling needs a static target; {target.target} is "
                "dynamic (the best of several futures is not a schedule one could run)"
            )
        if isinstance(policy, CpSatPolicy):
            raise ValueError("best-of-N sampling applies to policies that act, not CP-SAT")
        label = f"{label} best-of-{samples}"
    mode = parse_mode(mode)
    if mode != "non_delay" and not isinstance(policy, CpSatPolicy):
        if not target.static:
            raise ValueError(f"mode {mode!r} applies to static targets; {target.target} is not")
        label = (
            label.replace(" best-of-", f" {mode} best-of-") if samples > 1 else f"{label} {mode}"
        )
    if isinstance(policy, CpSatPolicy):
        return _evaluate_cpsat(policy, target, seed, label)
    if isinstance(policy, BatchRandomSchedules):
        return _evaluate_batch_random(policy, target, seed, label, samples, mode)
    assert not isinstance(policy, str)
    scheduler = _scheduler(policy) if target.static else None
    if scheduler is not None and (samples > 1 or search):
        if search:
            label = f"{label} search {time_limit:g}s"
        return _evaluate_scheduled(
            scheduler, policy, target, seed, label, mode, samples, search, time_limit
        )
    env = make_env(target, policy, mode)
    try:
        bind_policy(policy, env)
        started = time.perf_counter()
        if samples == 1:
            kpis = _rollout(policy, env, seed, deterministic=True, label=label)
        else:
            import torch

            torch.manual_seed(policy_seed(seed))
            runs = [
                _rollout(policy, env, seed, deterministic=False, label=label)
                for _ in range(samples)
            ]
            kpis = min(runs, key=lambda run: float(run[target.objective]))
        wall_time = time.perf_counter() - started
    finally:
        env.close()
    return scored_episode(label, target, seed, kpis, wall_time)


def _scheduler(policy: Any) -> Any | None:
    """The batched scheduler behind ``policy`` (``best_of`` and ``search``), or None."""
    inner = policy.agent if isinstance(policy, SavedAgent) else policy
    if callable(getattr(inner, "best_of", None)) and callable(getattr(inner, "search", None)):
        return inner
    make = getattr(inner, "scheduler", None)
    return make() if callable(make) else None


def _evaluate_scheduled(
    scheduler: Any,
    policy: Any,
    target: BenchTarget,
    seed: int,
    label: str,
    mode: str,
    samples: int,
    search: bool,
    time_limit: float,
) -> Episode:
    """Best of ``samples`` (in one batched call) or a timed search, replayed in the env."""
    scheduler = copy.copy(scheduler)
    scheduler.mode = mode  # the bench's decision mode (the network scores jobs in any)
    instance = check_batch_random(target)
    started = time.perf_counter()
    if search:
        found = scheduler.search(instance, time_limit, seed=policy_seed(seed))
        best = found.best
    else:
        best = scheduler.best_of([instance], samples, seed=policy_seed(seed))[0].best
    env = make_env(target, policy, mode)
    try:
        env.reset(seed=seed)
        for action in best.actions:
            env.step(int(action))
        kpis = env.unwrapped.factory.kpis().as_dict()  # type: ignore[attr-defined]
    finally:
        env.close()
    wall_time = time.perf_counter() - started
    if float(kpis[target.objective]) != float(best.makespan):  # pragma: no cover - a guard
        raise RuntimeError(
            f"{label} on {target.target}: the schedule's makespan {best.makespan} does not "
            f"replay ({kpis[target.objective]})"
        )
    return scored_episode(label, target, seed, kpis, wall_time)


def _rollout(
    policy: Policy, env: gym.Env[Any, Any], seed: int, deterministic: bool, label: str
) -> dict[str, Any]:
    """One episode of ``policy`` in ``env`` from ``reset(seed=seed)``; its KPIs."""
    play_episode(policy, env, seed, deterministic, label)
    return env.unwrapped.factory.kpis().as_dict()  # type: ignore[attr-defined,no-any-return]


def scored_episode(
    label: str,
    target: BenchTarget,
    seed: int,
    kpis: dict[str, Any],
    wall_time: float,
    note: str = "",
) -> Episode:
    """An :class:`Episode` scored on the target's objective."""
    return Episode(
        policy=label,
        target=target.target,
        env_id=target.env_id,
        objective=target.objective,
        seed=seed,
        value=float(kpis[target.objective]),
        wall_time=wall_time,
        kpis=kpis,
        note=note,
    )


def _evaluate_cpsat(policy: CpSatPolicy, target: BenchTarget, seed: int, label: str) -> Episode:
    check_cpsat(target)
    started = time.perf_counter()
    schedule = policy.solve(target.spec)
    from shopfloor.policies import replay_schedule

    factory = replay_schedule(target.spec, schedule, seed=seed)
    wall_time = time.perf_counter() - started
    kpis = factory.kpis().as_dict()
    note = f"cpsat {schedule.status}, lower bound {schedule.lower_bound}"
    return scored_episode(label, target, seed, kpis, wall_time, note)


def _evaluate_batch_random(
    policy: BatchRandomSchedules,
    target: BenchTarget,
    seed: int,
    label: str,
    samples: int,
    mode: str,
) -> Episode:
    """The best of ``samples`` random schedules built in one batched-core call.

    The loop of :func:`~shopfloor.batch.sample_schedules` (same makespans for the same
    seed); the best schedule (first on ties) is replayed in the factory for its KPIs.
    """
    from shopfloor.batch import BatchFlexibleJobShop, BatchJobShop
    from shopfloor.envs import replay_sequences
    from shopfloor.sim import Factory

    instance = check_batch_random(target)
    started = time.perf_counter()
    core: BatchJobShop | BatchFlexibleJobShop
    if shop_kind(instance) == "flexible":
        core = BatchFlexibleJobShop([instance] * samples, mode)
    else:
        core = BatchJobShop([instance] * samples, mode, features=False)
    generator = core.backend.generator(policy.seed)
    while not bool(core.dones.all()):
        core.step(core.random_actions(generator))
    makespans = core.backend.to_numpy(core.makespans())
    best = int(np.argmin(makespans))
    factory = replay_sequences(Factory(target.spec, seed=seed), core.machine_sequences(best))
    kpis = factory.kpis().as_dict()
    wall_time = time.perf_counter() - started
    if float(kpis[target.objective]) != float(makespans[best]):  # pragma: no cover - a guard
        raise RuntimeError(
            f"{label} on {target.target}: the core's makespan {makespans[best]} does not "
            f"replay ({kpis[target.objective]})"
        )
    return scored_episode(label, target, seed, kpis, wall_time)


@dataclass(frozen=True)
class EpisodeTask:
    index: int
    policy: str
    target: BenchTarget
    seed: int
    time_limit: float
    samples: int
    mode: str = "non_delay"
    search: bool = False


def run_episode_task(task: EpisodeTask) -> list[tuple[int, Episode]]:
    try:
        episode = evaluate_episode(
            task.policy,
            task.target,
            task.seed,
            time_limit=task.time_limit,
            samples=task.samples if task.policy.lower() != "cpsat" else 1,
            mode=task.mode,
            search=task.search and task.policy.lower() != "cpsat",
        )
    except Exception as error:
        raise RuntimeError(
            f"{task.policy} on {task.target.target} (seed {task.seed}) failed: {error}"
        ) from error
    return [(task.index, episode)]
