"""The static job shop: pick which job's next operation starts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from gymnasium import spaces

from shopfloor.envs._base import FactoryEnv
from shopfloor.envs._source import GeneratorSpec
from shopfloor.envs._spaces import MaskedDiscrete
from shopfloor.sim import FactorySpec

JOB_FEATURES = 6
MACHINE_FEATURES = 3


class JobShopEnv(FactoryEnv):
    """## Description

    A static job shop (a benchmark instance, an instance file, a scenario with all jobs
    known at t=0, or a new random Taillard-style instance every episode). The factory is
    simulated non-delay: whenever machines are idle with operations waiting, the agent
    picks one waiting job; its next operation starts at once on its machine. Choices at
    the same time are taken one after another. Every reachable schedule is non-delay;
    the candidate set is exactly the operations that can start earliest.

    ## Action Space

    `Discrete(n_jobs)`: the job whose next operation starts. Only jobs whose next
    operation can start now are valid; `action_masks()` gives them (for MaskablePPO).
    Any other action raises `InvalidActionError`.

    ## Observation Space

    `Box(0, 1, (n_jobs * 6 + n_machines * 3,), float32)`: six features per job, then
    three per machine. Times are divided by the longest operation of the instance, work
    by the largest job total, so one network works across instances of one size.

    | index | feature (job j) |
    |---|---|
    | 6j   | 1 if j's next operation can start now |
    | 6j+1 | share of j's operations done |
    | 6j+2 | processing time of j's next operation / longest operation (0 when done) |
    | 6j+3 | work remaining / largest job total |
    | 6j+4 | time until j's next machine is free / longest operation (clipped to 1) |
    | 6j+5 | time j has waited in its queue / longest operation (clipped to 1) |

    | index | feature (machine m), after the job block |
    |---|---|
    | 3m   | 1 if busy |
    | 3m+1 | remaining time of its operation / longest operation |
    | 3m+2 | jobs queued / n_jobs |

    ## Rewards

    Minus the simulated time that passes until the next choice, divided by the mean
    machine load (total processing time / machines). The sum over an episode is
    `-makespan / mean_machine_load`; `info["makespan"]` gives the makespan at the end.

    ## Starting State

    t=0, every job waiting for its first operation.

    ## Episode End

    Terminates when every operation is done. No truncation.

    ## Arguments

    Exactly one of `instance` (bundled name such as `"ta01"` or a file in OR-Library or
    Taillard format), `scenario` (YAML path or bundled name, static), `spec`
    (a `FactorySpec`) or `generator` (`{"n_jobs": 15, "n_machines": 15}`);
    `render_mode` `"ansi"` or `"rgb_array"` (a Gantt chart).

    ## Version History

    * v0: Initial version.
    """

    def __init__(
        self,
        instance: str | None = None,
        scenario: str | None = None,
        spec: FactorySpec | None = None,
        generator: GeneratorSpec | Mapping[str, Any] | None = None,
        render_mode: str | None = None,
    ):
        super().__init__(scenario, instance, spec, generator, render_mode)
        example = self.source.example()
        if not example.is_static:
            raise ValueError(
                f"JobShop needs a static factory (jobs known at t=0, constant times, "
                f"no breakdowns); {example.name!r} is not: use DynamicJobShop"
            )
        self.n_jobs = len(example.jobs)
        self.n_machines = len(example.machines)
        self.action_space = MaskedDiscrete(self.n_jobs, self.action_masks)
        size = self.n_jobs * JOB_FEATURES + self.n_machines * MACHINE_FEATURES
        self.observation_space = spaces.Box(0.0, 1.0, (size,), dtype=np.float32)

    def _on_reset(self) -> None:
        factory = self.factory
        spec = factory.spec
        if len(spec.jobs) != self.n_jobs or len(spec.machines) != self.n_machines:
            raise ValueError("every episode must have the same number of jobs and machines")
        longest = 0.0
        totals = []
        load = 0.0
        for job in range(self.n_jobs):
            totals.append(factory.work_remaining(job))
            load += totals[-1]
            longest = max(longest, *factory.routing_times(job))
        self._time_scale = max(longest, 1e-9)
        self._work_scale = max(max(totals), 1e-9)
        self._mean_load = max(load / self.n_machines, 1e-9)
        self._operations = [factory.n_operations(job) for job in range(self.n_jobs)]

    def _agent_decides(self) -> bool:
        return True

    def _resolve(self) -> None:  # pragma: no cover - the agent takes every choice
        raise AssertionError("JobShop has no choices of its own")

    def action_masks(self) -> np.ndarray:
        """Jobs whose next operation can start now."""
        mask = np.zeros(self.n_jobs, dtype=bool)
        factory = self.factory
        for machine in factory.due_machines():
            mask[factory.queue(machine)] = True
        return mask

    def _apply(self, action: int) -> None:
        factory = self.factory
        for machine in factory.due_machines():
            if action in factory.queue(machine):
                factory.start(action, machine)
                return

    def _observation(self) -> np.ndarray:
        factory = self.factory
        now = factory.now
        time_scale = self._time_scale
        jobs = np.zeros((self.n_jobs, JOB_FEATURES), dtype=np.float32)
        ready = self.action_masks() if not factory.done else np.zeros(self.n_jobs, bool)
        for job in range(self.n_jobs):
            step = factory.operation_index(job)
            total = self._operations[job]
            row = jobs[job]
            row[0] = ready[job]
            row[1] = step / total
            if step < total:
                machines, times = factory.next_operation(job)
                row[2] = min(times) / time_scale
                row[3] = factory.work_remaining(job) / self._work_scale
                free = min(factory.machine_free_at(m) for m in machines)
                row[4] = min(max(free - now, 0.0) / time_scale, 1.0)
                queued = factory.queued_since(job)
                if queued == queued:  # not NaN
                    row[5] = min((now - queued) / time_scale, 1.0)
        machine_rows = np.zeros((self.n_machines, MACHINE_FEATURES), dtype=np.float32)
        for machine in range(self.n_machines):
            busy = factory.machine_busy(machine)
            machine_rows[machine, 0] = busy
            if busy:
                remaining = factory.machine_free_at(machine) - now
                machine_rows[machine, 1] = min(max(remaining, 0.0) / time_scale, 1.0)
            machine_rows[machine, 2] = len(factory.waiting_jobs(machine)) / self.n_jobs
        return np.concatenate([jobs.ravel(), machine_rows.ravel()])

    objective_name = "makespan"

    def episode_objective(self) -> float:
        """Makespan (the time of the last completion so far)."""
        return self.factory.kpis().makespan

    def _accrued(self) -> float:
        return self.factory.now

    def _reward_scale(self) -> float:
        return self._mean_load

    def _info(self) -> dict[str, Any]:
        info = super()._info()
        if self.factory.done:
            info["makespan"] = self.factory.kpis().makespan
        return info
