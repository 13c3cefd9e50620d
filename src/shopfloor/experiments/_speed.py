"""Simulation speed benchmark: decisions and events per second at the factory level.

Full episodes run under a dispatching rule on one core. Machines are noisy, so every
figure is also printed as a ratio to a reference measured in the same run: a plain
SimPy job shop (one process per job, a ``simpy.Resource`` per machine, FIFO queues;
the textbook model, with no decision interface) on the same instance.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import simpy

from shopfloor.policies import DispatchingRule, simulate
from shopfloor.sim import FactorySpec


@dataclass(frozen=True)
class SpeedResult:
    """Throughput of one target.

    Attributes:
        name: Instance or scenario.
        size: ``jobs x machines`` (jobs released in an episode for dynamic scenarios).
        rule: Dispatching rule used.
        episodes: Full episodes run.
        decisions_per_second: Dispatch choices per wall-clock second.
        events_per_second: Logged factory events per second.
        microseconds_per_decision: Wall-clock time per choice.
        reference_operations_per_second: Plain SimPy job shop, operations per second
            (``None`` where the reference does not apply: dynamic scenarios).
    """

    name: str
    size: str
    rule: str
    episodes: int
    decisions_per_second: float
    events_per_second: float
    microseconds_per_decision: float
    reference_operations_per_second: float | None

    @property
    def ratio_to_reference(self) -> float | None:
        """Our decisions/s over the reference's operations/s (each op is one decision)."""
        if not self.reference_operations_per_second:
            return None
        return self.decisions_per_second / self.reference_operations_per_second


def plain_simpy_job_shop(spec: FactorySpec) -> tuple[float, int]:
    """The reference model: jobs as processes queueing FIFO at machine resources.

    Returns:
        ``(makespan, operations)``.
    """
    env = simpy.Environment()
    machines = [simpy.Resource(env, capacity=1) for _ in spec.machines]
    operations = 0

    def job_process(routing: Any) -> Any:
        nonlocal operations
        for operation in routing:
            with machines[operation.machines[0]].request() as request:
                yield request
                operations += 1
                yield env.timeout(float(operation.durations[0]))

    for job in spec.jobs:
        env.process(job_process(job.routing))
    env.run()
    return float(env.now), operations


ROUNDS = 8
"""Alternating rounds per side in :func:`measure` and :func:`measure_env`."""


def _time_episodes(run: Any, min_seconds: float) -> tuple[int, float, int, int]:
    episodes = decisions = events = 0
    started = time.perf_counter()
    while True:
        done_decisions, done_events = run()
        episodes += 1
        decisions += done_decisions
        events += done_events
        elapsed = time.perf_counter() - started
        if elapsed >= min_seconds:
            return episodes, elapsed, decisions, events


def measure(
    name: str,
    spec: FactorySpec,
    rule: DispatchingRule | str = DispatchingRule.SPT,
    min_seconds: float = 2.0,
    seed: int = 0,
) -> SpeedResult:
    """Run full episodes of ``spec`` for at least ``min_seconds`` and time them.

    Where the plain SimPy reference applies, the factory and the reference take turns
    in ``ROUNDS`` rounds of ``min_seconds / ROUNDS`` each, so both see the same machine
    load, and each side's fastest round counts (as ``timeit`` does).
    """
    rule = DispatchingRule.parse(rule)
    counter = iter(range(seed, seed + 1_000_000))

    def episode() -> tuple[int, int]:
        factory = simulate(spec, rule, seed=next(counter))
        return factory.decisions, len(factory.log)

    def reference_episode() -> tuple[int, int]:
        _, operations = plain_simpy_job_shop(spec)
        return operations, 0

    static = spec.is_static and all(
        len(op.machines) == 1 for j in spec.jobs for op in j.routing or ()
    )
    if not static:
        episodes, elapsed, decisions, events = _time_episodes(episode, min_seconds)
        return SpeedResult(
            name=name,
            size=f"~{decisions / episodes:.0f} decisions, {len(spec.machines)} machines",
            rule=rule.value,
            episodes=episodes,
            decisions_per_second=decisions / elapsed,
            events_per_second=events / elapsed,
            microseconds_per_decision=1e6 * elapsed / decisions,
            reference_operations_per_second=None,
        )
    episodes = 0
    best = (0.0, 0.0)  # decisions/s, events/s of the fastest round
    reference = 0.0
    for _ in range(ROUNDS):
        done, elapsed, decisions, events = _time_episodes(episode, min_seconds / ROUNDS)
        episodes += done
        if decisions / elapsed > best[0]:
            best = (decisions / elapsed, events / elapsed)
        _, ref_elapsed, ref_operations, _ = _time_episodes(reference_episode, min_seconds / ROUNDS)
        reference = max(reference, ref_operations / ref_elapsed)
    return SpeedResult(
        name=name,
        size=f"{len(spec.jobs)}x{len(spec.machines)}",
        rule=rule.value,
        episodes=episodes,
        decisions_per_second=best[0],
        events_per_second=best[1],
        microseconds_per_decision=1e6 / best[0],
        reference_operations_per_second=reference,
    )


def measure_all(
    targets: Iterable[tuple[str, FactorySpec]],
    rule: DispatchingRule | str = DispatchingRule.SPT,
    min_seconds: float = 2.0,
) -> list[SpeedResult]:
    """Measure every ``(name, spec)`` target in turn."""
    return [measure(name, spec, rule, min_seconds) for name, spec in targets]


@dataclass(frozen=True)
class EnvSpeedResult:
    """Env-level throughput against the factory level, same instance, same run.

    Attributes:
        name: Instance.
        env_steps_per_second: ``env.step`` calls per second, random valid actions,
            observations built (the unwrapped env: no checker wrappers).
        factory_decisions_per_second: The factory driven directly with random choices.
    """

    name: str
    env_steps_per_second: float
    factory_decisions_per_second: float

    @property
    def cost_ratio(self) -> float:
        """Time per env step over time per factory decision (1.0: no overhead)."""
        return self.factory_decisions_per_second / self.env_steps_per_second


def measure_env(name: str, min_seconds: float = 2.0, seed: int = 0) -> EnvSpeedResult:
    """Random valid actions through ``JobShopEnv(instance=name)`` vs the bare factory.

    Each side runs ``ROUNDS`` rounds of at least ``min_seconds / ROUNDS``, alternating;
    the fastest round of each side counts.
    """
    import numpy as np

    from shopfloor.envs import JobShopEnv
    from shopfloor.scenario import resolve_target
    from shopfloor.sim import Factory

    env = JobShopEnv(spec=resolve_target(name)[1])
    rng = np.random.default_rng(seed)

    def env_episode() -> tuple[int, int]:
        env.reset(seed=seed)
        steps, terminated = 0, False
        while not terminated:
            valid = np.flatnonzero(env.action_masks())
            _, _, terminated, _, _ = env.step(int(valid[rng.integers(len(valid))]))
            steps += 1
        return steps, 0

    spec = env.source.example()

    def factory_episode() -> tuple[int, int]:
        factory = Factory(spec, seed=seed)
        while factory.next_decision():
            pairs = factory.ready_operations()
            job, machine = pairs[int(rng.integers(len(pairs)))]
            factory.start(job, machine)
        return factory.decisions, 0

    # Alternate short rounds so both sides see the same machine load, and keep each
    # side's fastest round (as timeit does): the ratio then tracks the code, not the noise.
    env_rates, factory_rates = [], []
    for _ in range(ROUNDS):
        _, env_elapsed, env_steps, _ = _time_episodes(env_episode, min_seconds / ROUNDS)
        _, factory_elapsed, decisions, _ = _time_episodes(factory_episode, min_seconds / ROUNDS)
        env_rates.append(env_steps / env_elapsed)
        factory_rates.append(decisions / factory_elapsed)
    return EnvSpeedResult(name, max(env_rates), max(factory_rates))
