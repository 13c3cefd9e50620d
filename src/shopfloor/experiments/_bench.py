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
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from rich.table import Table

from shopfloor import __version__
from shopfloor._stats import CONFIDENCE, confidence_interval
from shopfloor.envs import FAMILIES, EnvFamily, family_for, parse_mode
from shopfloor.experiments._executor import run_tasks
from shopfloor.experiments._folders import write_atomic as _write_atomic
from shopfloor.experiments._play import play_episode
from shopfloor.experiments._saved import SavedAgent, is_run_folder
from shopfloor.experiments._train import make_env_factory
from shopfloor.policies import (
    CpSatPolicy,
    Policy,
    PolicyNotApplicableError,
    RulePolicy,
    bind_policy,
    make_policy,
)
from shopfloor.sim import FactorySpec

# --------------------------------------------------------------------- targets


@dataclass(frozen=True)
class BenchTarget:
    """A resolved benchmark target.

    Attributes:
        target: As the user named it (a bundled name or a path).
        name: The instance's or scenario's own name.
        env_id: The environment family it runs in.
        objective: The KPI that scores it.
        upper_bound: Best known makespan, for bundled instances (and scenarios that
            wrap one); ``None`` otherwise.
        spec: The factory.
    """

    target: str
    name: str
    env_id: str
    objective: str
    upper_bound: float | None
    spec: FactorySpec = field(repr=False, compare=False)

    @property
    def family(self) -> EnvFamily:
        """The env family it runs in."""
        family = FAMILIES.of_id(self.env_id)
        if family is None:
            raise LookupError(f"{self.env_id} is not a shopfloor env family")
        return family

    @property
    def static(self) -> bool:
        """Whether nothing in it is random (a seed changes nothing for a rule)."""
        return self.family.static


def expand_targets(targets: Iterable[str]) -> list[str]:
    """Expand comma-separated lists and instance ranges (``"ta01-ta10"``), keeping order.

    A scenario name or an existing path is kept as it is; any other item with a dash
    is an instance range (see :func:`~shopfloor.instances.instance_names_from_range`).

    Raises:
        ValueError: A malformed range or an unknown instance at an end of one.
    """
    from shopfloor.instances import instance_names_from_range
    from shopfloor.scenario import ScenarioError, bundled_scenarios

    try:
        scenarios = set(bundled_scenarios())
    except ScenarioError:
        scenarios = set()
    expanded: list[str] = []
    for raw in targets:
        for item in (part.strip() for part in str(raw).split(",")):
            if not item:
                continue
            if "-" in item and item not in scenarios and not Path(item).exists():
                try:
                    expanded.extend(instance_names_from_range(item))
                except LookupError as error:
                    raise ValueError(str(error).strip("'\"")) from None
            else:
                expanded.append(item)
    return list(dict.fromkeys(expanded))


def resolve_bench_target(target: str) -> BenchTarget:
    """Resolve ``target`` (see :func:`~shopfloor.scenario.resolve_target`) and its family.

    Raises:
        ValueError: An unknown name (with suggestions) or an invalid scenario.
        FileNotFoundError: A path that does not exist.
    """
    from shopfloor.scenario import resolve_target

    name, spec = resolve_target(target)
    family = family_for(spec)
    upper_bound = _upper_bound(target, name) if family.static else None
    resolved = BenchTarget(target, name, family.id, "", upper_bound, spec)
    env = make_env(resolved)  # the family says what it minimises (a scenario may choose)
    try:
        objective = str(env.unwrapped.objective_name)  # type: ignore[attr-defined]
    finally:
        env.close()
    return replace(resolved, objective=objective)


def _upper_bound(target: str, name: str) -> float | None:
    """The best known makespan of a bundled instance, or of the one a scenario wraps."""
    from shopfloor.instances import load_instance
    from shopfloor.scenario import ScenarioError, bundled_scenarios, load_scenario

    path = Path(target)
    instance: str | None = name
    try:
        if path.suffix in (".yaml", ".yml") or target in bundled_scenarios():
            instance = load_scenario(target).instance
        elif path.is_file():
            instance = None  # an instance file carries no bounds
    except ScenarioError:
        instance = None
    if instance is None:
        return None
    try:
        bound = load_instance(instance).upper_bound
    except LookupError:
        return None
    return None if bound is None else float(bound)


BATCH_RANDOM = "batch-random"
"""The bench's name of random schedules sampled in the batched core (static instances).

Not the ``random`` policy: with ``--samples N`` its N schedules are built in one
:class:`~shopfloor.batch.BatchJobShop` (or :class:`~shopfloor.batch.BatchFlexibleJobShop`)
call, as :func:`~shopfloor.batch.sample_schedules` builds them (uniformly random
candidates, the generator seeded with :func:`policy_seed`), and the best is kept. Its
numbers are those of the core's random stream, not of ``random``'s env episodes, and in
a flexible ``non_delay`` shop it draws among ``(job, machine)`` pairs where ``random``
draws among jobs.
"""


@dataclass(frozen=True)
class BatchRandomSchedules:
    """Best of N random schedules of a static instance, sampled in the batched core.

    Attributes:
        seed: Seed of the core's generator.
    """

    seed: int | None = 0


def _policy(name: str, seed: int | None = 0, time_limit: float = 10.0) -> Any:
    """A policy by name, or the trained agent of a run folder."""
    if is_run_folder(name):
        return SavedAgent(name)
    if name.strip().lower() == BATCH_RANDOM:
        return BatchRandomSchedules(seed)
    return make_policy(name, seed=seed, time_limit=time_limit)


def make_env(target: BenchTarget, policy: Any = None, mode: str = "non_delay") -> gym.Env[Any, Any]:
    """The environment ``policy`` is evaluated in on ``target``.

    ``mode`` is a static target's decision mode (``JobShop``'s ``mode``).

    A :class:`~shopfloor.policies.RulePolicy` gets a rule-mode ``DynamicJobShop``
    offering its own rule; a saved agent gets the options of the env it was trained
    in; every other policy gets the family's defaults.

    Raises:
        ValueError: A saved agent that cannot act on ``target``: trained in another
            env family, or on observations or actions of other sizes (the message
            names the run folder, what it was trained on and the target).
    """
    kwargs = target.family.target_kwargs(target.target, target.spec, mode)
    if isinstance(policy, RulePolicy):
        kwargs = target.family.rule_kwargs(kwargs, policy.rule.value)
    if isinstance(policy, SavedAgent):
        if policy.env_id != target.env_id:
            raise ValueError(
                f"{policy.run_dir}: the {policy.algorithm} agent was trained on "
                f"{_trained_on(policy)}; {target.target} is a {target.env_id} target"
            )
        kwargs.update(policy.env_options)  # the agent acts in the env it was trained in
        env = make_env_factory(target.env_id, kwargs)()  # with its forecast, if any
        try:
            _check_spaces(policy, target, env)
        except ValueError:
            env.close()
            raise
        return env
    return gym.make(target.env_id, disable_env_checker=True, **kwargs)


def _actions(space: spaces.Space[Any]) -> str:
    if isinstance(space, spaces.Discrete):
        return f"{int(space.n)} actions"
    return f"actions of shape {space.shape}"


def _trained_on(agent: SavedAgent) -> str:
    """``<env id> (<options>; observations of shape (n,), m actions)``."""
    observations, actions = agent.observation_space, agent.action_space
    options = "".join(f"{key}={value}; " for key, value in agent.env_options.items())
    sizes = f"observations of shape {observations.shape}, {_actions(actions)}"
    return f"{agent.env_id} ({options}{sizes})"


def _check_spaces(agent: SavedAgent, target: BenchTarget, env: gym.Env[Any, Any]) -> None:
    """Raise ``ValueError`` unless ``agent`` reads and answers ``env`` as in training."""
    if agent.acts_on_any_size:
        return  # a JobScoringPolicy scores jobs one by one, whatever the shop's size
    observations, actions = agent.observation_space, agent.action_space
    given = (env.observation_space.shape, _actions(env.action_space))
    if given != (observations.shape, _actions(actions)):
        raise ValueError(
            f"{agent.run_dir}: the {agent.algorithm} agent was trained on "
            f"{_trained_on(agent)}; {target.target} gives observations of shape "
            f"{given[0]} and {given[1]} (only JobScoringPolicy agents act on other shop "
            "sizes)"
        )


# -------------------------------------------------------------------- episodes


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

    Returns:
        The scored episode.

    Raises:
        PolicyNotApplicableError: The policy cannot act in the target's environment.
        ValueError: ``samples`` < 1, or > 1 on a dynamic target or with CP-SAT.
    """
    if samples < 1:
        raise ValueError(f"samples must be >= 1, got {samples}")
    if isinstance(policy, str):
        label = label or policy
        seed_for_policy = seed if policy.strip().lower() == "cpsat" else policy_seed(seed)
        policy = _policy(policy, seed=seed_for_policy, time_limit=time_limit)
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
    return _episode(label, target, seed, kpis, wall_time)


def _rollout(
    policy: Policy, env: gym.Env[Any, Any], seed: int, deterministic: bool, label: str
) -> dict[str, Any]:
    """One episode of ``policy`` in ``env`` from ``reset(seed=seed)``; its KPIs."""
    play_episode(policy, env, seed, deterministic, label)
    return env.unwrapped.factory.kpis().as_dict()  # type: ignore[attr-defined,no-any-return]


def _episode(
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
    _check_cpsat(target)
    started = time.perf_counter()
    schedule = policy.solve(target.spec)
    from shopfloor.policies import replay_schedule

    factory = replay_schedule(target.spec, schedule, seed=seed)
    wall_time = time.perf_counter() - started
    kpis = factory.kpis().as_dict()
    note = f"cpsat {schedule.status}, lower bound {schedule.lower_bound}"
    return _episode(label, target, seed, kpis, wall_time, note)


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

    instance = _check_batch_random(target)
    started = time.perf_counter()
    core: BatchJobShop | BatchFlexibleJobShop
    if _shop_kind(instance) == "flexible":
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
    return _episode(label, target, seed, kpis, wall_time)


def _check_batch_random(target: BenchTarget) -> Any:
    """The instance ``batch-random`` samples on ``target``, or an error saying why not."""
    instance = _static_instance(target)
    if instance is None:
        raise PolicyNotApplicableError(
            f"{BATCH_RANDOM} samples schedules of benchmark instances (bundled or instance "
            f"files) in the batched core; {target.target!r} is a scenario or dynamic"
        )
    return instance


def _check_cpsat(target: BenchTarget) -> None:
    if not target.static:
        raise PolicyNotApplicableError(
            f"CP-SAT solves static job shops; {target.name!r} runs in {target.env_id}"
        )


def check_applicable(policy_name: str, target: BenchTarget, mode: str = "non_delay") -> None:
    """Raise :class:`~shopfloor.policies.PolicyNotApplicableError` if it cannot run.

    Raises:
        PolicyNotApplicableError: The policy cannot act in the target's env.
        ValueError: A saved agent that does not fit the target (see :func:`make_env`).
    """
    policy = _policy(policy_name)
    if isinstance(policy, CpSatPolicy):
        _check_cpsat(target)
        return
    if isinstance(policy, BatchRandomSchedules):
        _check_batch_random(target)
        return
    env = make_env(target, policy, mode)
    try:
        bind_policy(policy, env)
    finally:
        env.close()


# ---------------------------------------------------------------- statistics


@dataclass(frozen=True)
class Summary:
    """The episodes of one ``(policy, target)``.

    Attributes:
        policy: The policy's name.
        target: The target as named.
        env_id: The environment family.
        objective: The KPI that scores it.
        episodes: Number of episodes (seeds).
        mean: Mean objective.
        ci_low: Lower end of the 95% Student-t interval of the mean across seeds
            (NaN with one episode).
        ci_high: Upper end (NaN with one episode).
        upper_bound: Best known makespan, where known.
        gap: ``(mean - upper_bound) / upper_bound`` where the bound is known.
        mean_wall_time: Mean seconds per episode.
    """

    policy: str
    target: str
    env_id: str
    objective: str
    episodes: int
    mean: float
    ci_low: float
    ci_high: float
    upper_bound: float | None
    gap: float | None
    mean_wall_time: float


@dataclass(frozen=True)
class PolicySummary:
    """One policy over every target.

    Attributes:
        policy: The policy's name.
        targets: Targets it ran on.
        targets_with_bound: Those with a best known makespan.
        mean_gap: Mean of the gaps over those (``None`` without any).
        mean_wall_time: Mean seconds per episode over all its episodes.
    """

    policy: str
    targets: int
    targets_with_bound: int
    mean_gap: float | None
    mean_wall_time: float


def gap(value: float, upper_bound: float | None) -> float | None:
    """Relative gap ``(value - upper_bound) / upper_bound``, or ``None`` without a bound."""
    if upper_bound is None or upper_bound <= 0:
        return None
    return (value - upper_bound) / upper_bound


def summarise(
    episodes: Sequence[Episode], bounds: Mapping[str, float | None]
) -> tuple[list[Summary], list[PolicySummary]]:
    """Aggregate episodes per ``(policy, target)`` and per policy, in first-seen order.

    Args:
        episodes: The episodes.
        bounds: Best known makespan per target (as named), ``None`` where unknown.
    """
    groups: dict[tuple[str, str], list[Episode]] = {}
    for episode in episodes:
        groups.setdefault((episode.policy, episode.target), []).append(episode)
    summaries = []
    for (policy, target), group in groups.items():
        values = [episode.value for episode in group]
        mean = float(np.mean(values))
        low, high = confidence_interval(values)
        bound = bounds.get(target)
        summaries.append(
            Summary(
                policy=policy,
                target=target,
                env_id=group[0].env_id,
                objective=group[0].objective,
                episodes=len(group),
                mean=mean,
                ci_low=low,
                ci_high=high,
                upper_bound=bound,
                gap=gap(mean, bound),
                mean_wall_time=float(np.mean([episode.wall_time for episode in group])),
            )
        )
    policies = []
    for policy in dict.fromkeys(summary.policy for summary in summaries):
        mine = [summary for summary in summaries if summary.policy == policy]
        gaps = [summary.gap for summary in mine if summary.gap is not None]
        times = [episode.wall_time for episode in episodes if episode.policy == policy]
        policies.append(
            PolicySummary(
                policy=policy,
                targets=len(mine),
                targets_with_bound=len(gaps),
                mean_gap=float(np.mean(gaps)) if gaps else None,
                mean_wall_time=float(np.mean(times)),
            )
        )
    return summaries, policies


# --------------------------------------------------------------------- result


@dataclass(frozen=True)
class BenchResult:
    """Everything a benchmark produced.

    Attributes:
        episodes: Every episode, ordered by policy, target, seed (as requested).
        summaries: Per ``(policy, target)``.
        policies: Per policy.
        skipped: ``(policy, target, reason)`` of combinations that do not apply.
        notes: Remarks on reading the numbers.
        settings: What was run (policies, targets, seeds, time limit, version).
    """

    episodes: tuple[Episode, ...]
    summaries: tuple[Summary, ...]
    policies: tuple[PolicySummary, ...]
    skipped: tuple[tuple[str, str, str], ...] = ()
    notes: tuple[str, ...] = ()
    settings: Mapping[str, Any] = field(default_factory=dict)

    def summary(self, policy: str, target: str) -> Summary:
        """The summary of ``policy`` on ``target``."""
        for summary in self.summaries:
            if summary.policy == policy and summary.target == target:
                return summary
        raise KeyError(f"no results for {policy!r} on {target!r}")

    def _grid(self) -> tuple[list[str], list[str], list[list[str]], list[str], list[str]]:
        """Target rows x policy columns of formatted cells, then the gap and time rows."""
        policies = list(dict.fromkeys(summary.policy for summary in self.summaries))
        targets = list(dict.fromkeys(summary.target for summary in self.summaries))
        cells = {(s.policy, s.target): s for s in self.summaries}
        rows = []
        for target in targets:
            first = next(s for s in self.summaries if s.target == target)
            if first.upper_bound is not None:
                bound = _number(first.upper_bound)
            else:  # a static instance without a sourced bound is said so; others have none
                bound = "no reference" if first.objective == "makespan" else "-"
            row = [target, first.objective, bound]
            for policy in policies:
                summary = cells.get((policy, target))
                row.append("n/a" if summary is None else _cell(summary))
            rows.append(row)
        by_policy = {p.policy: p for p in self.policies}
        gaps = [_percent(by_policy[policy].mean_gap) for policy in policies]
        times = [f"{by_policy[policy].mean_wall_time:.3g}" for policy in policies]
        return policies, targets, rows, gaps, times

    def table(self, title: str | None = None) -> Table:
        """The results as a rich table: targets x policies, mean [95% CI] (gap)."""
        policies, _, rows, gaps, times = self._grid()
        seeds = self.settings.get("seeds")
        n_seeds = len(seeds) if isinstance(seeds, list | tuple) else None
        table = Table(
            title=title or f"benchmark: mean [95% CI] (gap to best known), {n_seeds} seed(s)",
            show_lines=False,
        )
        for column in ("target", "objective", "best known"):
            table.add_column(column, justify="left" if column != "best known" else "right")
        for policy in policies:
            table.add_column(policy, justify="right")
        for row in rows:
            table.add_row(*row)
        table.add_section()
        table.add_row("mean gap", "", "", *gaps)
        table.add_row("s / episode", "", "", *times)
        return table

    def markdown(self) -> str:
        """The results as a Markdown document (table, notes, skipped combinations)."""
        policies, _, rows, gaps, times = self._grid()
        header = ["target", "objective", "best known", *policies]
        lines = [
            "# Benchmark",
            "",
            "Mean over seeds [95% Student-t interval of the mean across seeds] "
            "(gap to the best known makespan).",
            "",
            "| " + " | ".join(header) + " |",
            "|" + "|".join(["---", "---", "---:"] + ["---:"] * len(policies)) + "|",
        ]
        for row in [*rows, ["mean gap", "", "", *gaps], ["s / episode", "", "", *times]]:
            lines.append("| " + " | ".join(cell.replace("\n", " ") for cell in row) + " |")
        if self.notes:
            lines += ["", "## Notes", "", *(f"- {note}" for note in self.notes)]
        if self.skipped:
            lines += ["", "## Skipped", ""]
            lines += [
                f"- {policy} on {target}: {reason}" for policy, target, reason in self.skipped
            ]
        settings = ", ".join(f"{key}={value}" for key, value in self.settings.items())
        lines += ["", f"Settings: {settings}", ""]
        return "\n".join(lines)

    def save(self, directory: str | os.PathLike[str], overwrite: bool = False) -> dict[str, Path]:
        """Write the episodes, summaries, table and settings into ``directory``.

        ``episodes.csv``, ``summary.csv``, ``policies.csv``, ``bench.md`` and
        ``settings.json``; the directory is created, each file written atomically.

        Args:
            directory: The results folder.
            overwrite: Replace those files in a folder that already holds some
                (files of other names are kept).

        Returns:
            The paths written, by kind.

        Raises:
            ValueError: ``directory`` is not empty and ``overwrite`` is false; nothing
                is written.
        """
        folder = Path(directory)
        if not overwrite:
            _refuse_existing(folder)
        folder.mkdir(parents=True, exist_ok=True)
        kpi_keys = list(dict.fromkeys(key for e in self.episodes for key in e.kpis))
        episode_rows = [
            {
                "policy": e.policy,
                "target": e.target,
                "env_id": e.env_id,
                "objective": e.objective,
                "seed": e.seed,
                "value": e.value,
                "wall_time": e.wall_time,
                "note": e.note,
                **{key: e.kpis.get(key) for key in kpi_keys},
            }
            for e in self.episodes
        ]
        episode_fields = [
            "policy",
            "target",
            "env_id",
            "objective",
            "seed",
            "value",
            "wall_time",
            "note",
            *kpi_keys,
        ]
        paths = {
            "episodes": _write_atomic(folder / "episodes.csv", _csv(episode_fields, episode_rows)),
            "summary": _write_atomic(
                folder / "summary.csv",
                _csv(list(Summary.__dataclass_fields__), [asdict(s) for s in self.summaries]),
            ),
            "policies": _write_atomic(
                folder / "policies.csv",
                _csv(list(PolicySummary.__dataclass_fields__), [asdict(p) for p in self.policies]),
            ),
            "markdown": _write_atomic(folder / "bench.md", self.markdown()),
            "settings": _write_atomic(
                folder / "settings.json",
                json.dumps({**self.settings, "skipped": [list(s) for s in self.skipped]}, indent=2)
                + "\n",
            ),
        }
        return paths


def _number(value: float) -> str:
    if math.isfinite(value) and float(value).is_integer():
        return str(int(value))
    if abs(value) >= 100:
        return f"{value:.1f}"
    return f"{value:.4g}"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:+.1f}%"


def _cell(summary: Summary) -> str:
    text = _number(summary.mean)
    if math.isfinite(summary.ci_low) and summary.ci_low != summary.ci_high:
        text += f" [{_number(summary.ci_low)}, {_number(summary.ci_high)}]"
    if summary.gap is not None:
        text += f" ({_percent(summary.gap)})"
    return text


def _csv(fields: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(fields), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: "" if value is None else value for key, value in row.items()})
    return buffer.getvalue()


def results_dir(
    name: str | None = None,
    root: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
) -> Path:
    """Where a benchmark's files go: ``<root>/<name>``, checked to be free.

    Args:
        name: Folder name (default: ``bench-<date>-<time>``).
        root: Results root (default: ``experiments/results`` under the current
            directory, i.e. the repository's when run from its top).
        overwrite: Accept a folder that already holds results (see
            :meth:`BenchResult.save`).

    Raises:
        ValueError: ``name`` is not a plain folder name, or the folder is not empty
            and ``overwrite`` is false.
    """
    name = name or time.strftime("bench-%Y%m%d-%H%M%S")
    if name in (".", "..") or "/" in name or os.sep in name:
        raise ValueError(f"a results name is a folder name, got {name!r}")
    base = Path(root) if root is not None else Path.cwd() / "experiments" / "results"
    if not overwrite:
        _refuse_existing(base / name)
    return base / name


def _refuse_existing(folder: Path) -> None:
    """Raise ``ValueError`` if ``folder`` exists and is not empty."""
    if folder.is_dir() and any(folder.iterdir()):
        raise ValueError(
            f"{folder} already holds results; choose another name (--name), or replace "
            "them with --overwrite"
        )
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"{folder} is a file, not a results folder")


# ---------------------------------------------------------------------- runner


@dataclass(frozen=True)
class _Task:
    index: int
    policy: str
    target: BenchTarget
    seed: int
    time_limit: float
    samples: int
    mode: str = "non_delay"


def _run_task(task: _Task) -> list[tuple[int, Episode]]:
    try:
        episode = evaluate_episode(
            task.policy,
            task.target,
            task.seed,
            time_limit=task.time_limit,
            samples=task.samples if task.policy.lower() != "cpsat" else 1,
            mode=task.mode,
        )
    except Exception as error:
        raise RuntimeError(
            f"{task.policy} on {task.target.target} (seed {task.seed}) failed: {error}"
        ) from error
    return [(task.index, episode)]


# ------------------------------------------------------- rules in the batched core

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
class _BatchTask:
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


def _static_instance(target: BenchTarget) -> Any:
    """The benchmark instance a static target is, or ``None`` (a scenario, a dynamic shop).

    Resolved as :func:`~shopfloor.scenario.resolve_target` does, so its factory is
    ``target.spec``.
    """
    from shopfloor.instances import load_instance, read_instance
    from shopfloor.scenario import ScenarioError, bundled_scenarios

    if not target.static:
        return None
    path = Path(target.target)
    if path.suffix in (".yaml", ".yml"):
        return None
    try:
        if path.is_file():
            return read_instance(path)
        if target.target in bundled_scenarios():
            return None
        return load_instance(target.target)
    except (LookupError, ValueError, OSError, ScenarioError):
        return None


def _shop_kind(instance: Any) -> str:
    from shopfloor.instances import FlexibleJobShopInstance

    return "flexible" if isinstance(instance, FlexibleJobShopInstance) else "classic"


def batched_rule(policy: str, instance: Any, mode: str) -> bool:
    """Whether ``policy``'s episodes on ``instance`` in ``mode`` run in the batched core.

    A rule of :data:`BATCH_RULES` (by name, not a run folder of that name) on a
    benchmark instance, outside :data:`ENV_ONLY`.
    """
    rule = policy.strip().lower()
    if instance is None or rule not in BATCH_RULES or is_run_folder(policy):
        return False
    return (_shop_kind(instance), parse_mode(mode), rule) not in ENV_ONLY


def _plan(tasks: Sequence[_Task]) -> list[_Task | _BatchTask]:
    """The tasks as run: rule episodes on instances grouped into batched-core calls."""
    instances: dict[str, Any] = {}
    groups: dict[tuple[str, str, int, str], dict[str, list[_Task]]] = {}
    plan: list[_Task | _BatchTask] = []
    for task in tasks:
        target = task.target
        if target.target not in instances:
            instances[target.target] = _static_instance(target)
        instance = instances[target.target]
        if not batched_rule(task.policy, instance, task.mode):
            plan.append(task)
            continue
        key = (task.policy, task.mode, task.samples, _shop_kind(instance))
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
            plan.append(_BatchTask(policy, mode, samples, time_limit, entries))
    return plan


def _operations(instance: Any) -> int:
    """How many operations an instance has (the steps of its episode)."""
    return sum(len(routing) for routing in _routings(instance))


def _routings(instance: Any) -> Sequence[Sequence[Any]]:
    if _shop_kind(instance) == "flexible":
        return instance.operations  # type: ignore[no-any-return]
    return instance.machines  # type: ignore[no-any-return]


def _label(policy: str, samples: int, mode: str) -> str:
    """The label :func:`evaluate_episode` gives a named policy's episodes."""
    label = policy if samples == 1 else f"{policy} best-of-{samples}"
    if mode == "non_delay":
        return label
    return label.replace(" best-of-", f" {mode} best-of-") if samples > 1 else f"{label} {mode}"


def _run_batch_task(task: _BatchTask) -> list[tuple[int, Episode]]:
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
        if _shop_kind(instances[0]) == "flexible":
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
                single = _Task(index, task.policy, target, seed, task.time_limit, task.samples)
                results += _run_task(replace(single, mode=task.mode))
            continue
        wall_time = share + time.perf_counter() - begun
        results += [(index, _episode(label, target, seed, kpis, wall_time)) for index, seed in runs]
    return results


def run_bench(
    policies: Sequence[str],
    targets: Sequence[str],
    seeds: int | Sequence[int],
    workers: int | None = None,
    time_limit: float = 10.0,
    progress: bool = True,
    samples: int = 1,
    mode: str = "non_delay",
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
    names = (part.strip() for policy in policies for part in policy.split(","))
    policy_list = list(dict.fromkeys(name for name in names if name))
    if not policy_list:
        raise ValueError("give at least one policy")
    for policy in policy_list:
        _policy(policy)  # unknown names fail here, before anything runs
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

    tasks: list[_Task] = []
    skipped: list[tuple[str, str, str]] = []
    for policy in policy_list:
        for target in resolved:
            try:
                check_applicable(policy, target, mode)
            except PolicyNotApplicableError as error:
                skipped.append((policy, target.target, str(error)))
                continue
            for seed in seed_list:
                tasks.append(_Task(len(tasks), policy, target, seed, time_limit, samples, mode))
    if not tasks:
        reasons = "; ".join(f"{p} on {t}: {why}" for p, t, why in skipped)
        raise ValueError(f"no policy applies to any target: {reasons}")

    episodes = _execute(tasks, workers, progress)
    bounds = {target.target: target.upper_bound for target in resolved}
    summaries, policy_summaries = summarise(episodes, bounds)
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
    settings = {
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


def _run_unit(unit: _Task | _BatchTask) -> list[tuple[int, Episode]]:
    return _run_task(unit) if isinstance(unit, _Task) else _run_batch_task(unit)


def _execute(tasks: Sequence[_Task], workers: int | None, progress: bool) -> list[Episode]:
    """Run the tasks in-process or in a pool; return the episodes in task order.

    Rule episodes on benchmark instances are grouped into batched-core calls first
    (:func:`_plan`); the rest run one by one.
    """
    plan = _plan(tasks)
    sizes = [unit.size if isinstance(unit, _BatchTask) else 1 for unit in plan]
    results: list[Episode | None] = [None] * len(tasks)
    for episodes in run_tasks(_run_unit, plan, workers, progress, "episodes", sizes=sizes):
        for index, episode in episodes:
            results[index] = episode
    assert all(episode is not None for episode in results)
    return [episode for episode in results if episode is not None]
