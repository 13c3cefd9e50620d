"""Benchmark policies against each other and against the best known schedules.

Every ``(policy, target, seed)`` is one episode, run the way an agent would run it:
the target's environment is reset with the seed and the policy's ``predict`` chooses
every action until the episode ends (:func:`evaluate_episode`). The environment family
follows from the target: a static factory (a benchmark instance, or a scenario whose
jobs are all known at t=0) is a ``JobShop`` scored by makespan; a make-to-stock
scenario is a ``ProductionInventory`` scored by total cost; any other scenario is a
``DynamicJobShop`` scored by mean weighted tardiness (or mean weighted flow time when
the scenario's ``env.objective`` says so): each env's ``objective_name``. Every KPI of
the factory is recorded with each episode, and the wall-clock time it took.

Rules on benchmark instances take a shortcut with the same result: SPT, LPT, MWKR,
LWKR and MOPNR (:data:`BATCH_RULES`) schedule up to :data:`BATCH_CHUNK` instances at a
time in the batched core (:mod:`shopfloor.batch`), whose schedules equal the env's
(ties to the lowest job, then machine index; tests check every rule and mode), and
each schedule is replayed in the factory for its KPIs. The cases where the core's
choice differs (:data:`ENV_ONLY`), the other rules, scenarios, saved agents and the
``random`` policy step the env. ``batch-random`` (:data:`BATCH_RANDOM`) is the best of
N random schedules of an instance sampled in one core call.

CP-SAT is the exception: its schedules may keep a machine idle on purpose, which no
non-delay environment can express, so its schedule is solved and replayed in the
factory directly (:func:`~shopfloor.policies.replay_schedule`), one search thread per
episode; the seed is the solver's. A solve cut by its time limit depends on the speed
of the machine, so CP-SAT rows are reproducible only when every solve finishes.

Episodes run in a process pool over every core (``workers=1`` runs them in this
process); results are ordered by ``(policy, target, seed)`` whatever order they finish
in, so the numbers do not depend on the number of workers. Per ``(policy, target)``
the summary gives the mean, the 95% Student-t interval of the mean across seeds (none
with one seed), the relative gap ``(mean - UB) / UB`` to the best known makespan where
the instance has one, and the mean time per episode; per policy, the mean gap over the
targets with a bound.

A saved agent is benchmarked only on targets of the environment family it was trained
in, with its observation and action sizes (a ``JobScoringPolicy`` agent acts on JobShops
of any size); any other target is an error before anything runs.

This module holds :func:`run_bench`, which plans the episodes and runs them with the
executor (:mod:`~shopfloor.experiments._executor`); the parts it uses have a module
each: ``_targets`` (what a target is, its family and bound), ``_pairing`` (which
policy runs in which env, and why not), ``_episodes`` (one episode, scored),
``_batched`` (rule episodes in the batched core), ``_summary`` (means, intervals,
gaps) and ``_report`` (the result's tables and files).
"""

from __future__ import annotations

from collections.abc import Sequence

from shopfloor import __version__
from shopfloor._stats import CONFIDENCE
from shopfloor.envs import parse_mode
from shopfloor.experiments._batched import BatchTask, plan_tasks, run_batch_task
from shopfloor.experiments._episodes import Episode, EpisodeTask, run_episode_task
from shopfloor.experiments._executor import run_tasks
from shopfloor.experiments._pairing import bench_policy, check_applicable
from shopfloor.experiments._report import BenchResult
from shopfloor.experiments._summary import summarise_episodes
from shopfloor.experiments._targets import expand_targets, resolve_bench_target
from shopfloor.policies import (
    PolicyNotApplicableError,
)


def run_bench(
    policies: Sequence[str],
    targets: Sequence[str],
    seeds: int | Sequence[int],
    workers: int | None = None,
    time_limit: float = 10.0,
    progress: bool = True,
    samples: int = 1,
    mode: str = "non_delay",
    search: bool = False,
) -> BenchResult:
    """Evaluate every policy on every target with every seed.

    Args:
        policies: Policy names (see :func:`~shopfloor.policies.make_policy`) or run
            folders of saved agents (``<folder>:best`` for the best evaluation);
            comma-separated lists are split.
        targets: Instances, instance ranges (``"ta01-ta10"``), scenario names or
            paths; comma-separated lists are split.
        seeds: A count ``n`` (seeds ``0 .. n-1``) or the seeds themselves.
        workers: Processes (default: every core; 1: in this process). Workers are
            spawned, so a script must call this under ``if __name__ == "__main__":``.
        time_limit: CP-SAT's seconds per solve.
        progress: Show a progress bar (on stderr).
        samples: Best-of-N sampling for every policy but CP-SAT (see
            :func:`evaluate_episode`); static targets only.
        mode: The decision mode of the static targets (``JobShop``'s ``mode``); any
            other than ``non_delay`` needs static targets only.
        search: Neural schedulers (``pretrained:<name>``, ``self_labelling`` run
            folders) search for ``time_limit`` seconds per static target, as CP-SAT
            solves for as long; other policies act as without it.

    Returns:
        The episodes and their summaries. Combinations that do not apply (a rule on a
        make-to-stock scenario, CP-SAT on a dynamic shop) are skipped and listed.

    Raises:
        ValueError: An unknown policy or target, no seeds, nothing applicable, or a
            saved agent that does not fit a target (see :func:`make_env`).
    """
    if isinstance(seeds, int):
        if seeds < 1:
            raise ValueError(f"seeds must be >= 1, got {seeds}")
        seed_list = list(range(seeds))
    else:
        seed_list = [int(seed) for seed in seeds]
        if not seed_list:
            raise ValueError("give at least one seed")
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if not time_limit > 0:
        raise ValueError(f"time_limit must be > 0 seconds, got {time_limit}")
    if samples < 1:
        raise ValueError(f"samples must be >= 1, got {samples}")
    if search and samples > 1:
        raise ValueError("search and best-of-N sampling are two ways to use the time; give one")
    names = (part.strip() for policy in policies for part in policy.split(","))
    policy_list = list(dict.fromkeys(name for name in names if name))
    if not policy_list:
        raise ValueError("give at least one policy")
    for policy in policy_list:
        bench_policy(policy)  # unknown names fail here, before anything runs
    resolved = [resolve_bench_target(target) for target in expand_targets(targets)]
    if not resolved:
        raise ValueError("give at least one target")
    if samples > 1:
        dynamic = [target.target for target in resolved if not target.static]
        if dynamic:
            raise ValueError(f"best-of-N sampling needs static targets; dynamic: {dynamic}")
    mode = parse_mode(mode)
    if mode != "non_delay":
        dynamic = [target.target for target in resolved if not target.static]
        if dynamic:
            raise ValueError(f"mode {mode!r} needs static targets; dynamic: {dynamic}")

    tasks: list[EpisodeTask] = []
    skipped: list[tuple[str, str, str]] = []
    for policy in policy_list:
        for target in resolved:
            try:
                check_applicable(policy, target, mode)
            except PolicyNotApplicableError as error:
                skipped.append((policy, target.target, str(error)))
                continue
            for seed in seed_list:
                tasks.append(
                    EpisodeTask(len(tasks), policy, target, seed, time_limit, samples, mode, search)
                )
    if not tasks:
        reasons = "; ".join(f"{p} on {t}: {why}" for p, t, why in skipped)
        raise ValueError(f"no policy applies to any target: {reasons}")

    episodes = _execute(tasks, workers, progress)
    bounds = {target.target: target.upper_bound for target in resolved}
    summaries, policy_summaries = summarise_episodes(episodes, bounds)
    notes = []
    if len(seed_list) > 1 and any(target.static for target in resolved):
        notes.append(
            "static instances have no randomness: every seed gives the same episode for a "
            "deterministic rule (the interval collapses to the value); seeds still vary "
            "random policies and CP-SAT's search"
        )
    if "cpsat" in (policy.lower() for policy in policy_list):
        notes.append(
            f"cpsat: one search thread, {time_limit:g} s per solve, replayed in the "
            "factory (its schedules may delay on purpose, which the non-delay JobShop "
            "env cannot express); a solve cut by the time limit depends on machine speed"
        )
    if search:
        notes.append(
            f"search: neural schedulers sample for {time_limit:g} s per instance on one "
            "CPU thread (each sample abandoned once a lower bound on its makespan reaches "
            "the best so far), the time CP-SAT gets; the result depends on machine speed"
        )
    settings = {
        "search": search,
        "policies": policy_list,
        "targets": [target.target for target in resolved],
        "seeds": seed_list,
        "time_limit": time_limit,
        "samples": samples,
        "mode": mode,
        "confidence": CONFIDENCE,
        "interval": "student-t",
        "shopfloor": __version__,
    }
    return BenchResult(
        episodes=tuple(episodes),
        summaries=tuple(summaries),
        policies=tuple(policy_summaries),
        skipped=tuple(skipped),
        notes=tuple(notes),
        settings=settings,
    )


def _run_unit(unit: EpisodeTask | BatchTask) -> list[tuple[int, Episode]]:
    return run_episode_task(unit) if isinstance(unit, EpisodeTask) else run_batch_task(unit)


def _execute(tasks: Sequence[EpisodeTask], workers: int | None, progress: bool) -> list[Episode]:
    """Run the tasks in-process or in a pool; return the episodes in task order.

    Rule episodes on benchmark instances are grouped into batched-core calls first
    (:func:`plan_tasks`); the rest run one by one.
    """
    plan = plan_tasks(tasks)
    sizes = [unit.size if isinstance(unit, BatchTask) else 1 for unit in plan]
    results: list[Episode | None] = [None] * len(tasks)
    for episodes in run_tasks(_run_unit, plan, workers, progress, "episodes", sizes=sizes):
        for index, episode in episodes:
            results[index] = episode
    assert all(episode is not None for episode in results)
    return [episode for episode in results if episode is not None]
