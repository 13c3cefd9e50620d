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

    At most one of `instance` (default `"ft06"`; a bundled name such as `"ta01"`, or
    a file in OR-Library or Taillard format), `scenario` (YAML path or bundled name,
    static), `spec` (a `FactorySpec`) or `generator` (`{"n_jobs": 15, "n_machines": 15}`);
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
        if scenario is None and spec is None and instance is None and generator is None:
            instance = "ft06"
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
        n = self.n_jobs
        operations = np.array([factory.n_operations(job) for job in range(n)], dtype=np.int64)
        width = int(operations.max()) + 1
        # Padded per-operation tables; column k is operation k, the last column "done".
        times = np.zeros((n, width))
        machines = np.zeros((n, width), dtype=np.int64)
        for job in range(n):
            routing = factory.routing_times(job)
            times[job, : len(routing)] = routing
            job_spec = spec.jobs[job]
            routing_spec = job_spec.routing or spec.products[job_spec.product].routing
            machines[job, : len(routing_spec)] = [op.machines[0] for op in routing_spec]
        work_after = np.cumsum(times[:, ::-1], axis=1)[:, ::-1]  # work from operation k on
        self._time_scale = max(float(times.max()), 1e-9)
        self._work_scale = max(float(work_after[:, 0].max()), 1e-9)
        self._mean_load = max(float(work_after[:, 0].sum()) / self.n_machines, 1e-9)
        self._operations = operations
        self._op_times = times
        self._op_machines = machines
        self._work_after = work_after
        self._rows = np.arange(n)
        # Incremental state, advanced from the event log at every observation.
        self._completed = np.zeros(n, dtype=np.int64)  # operations done
        self._started = np.zeros(n, dtype=np.int64)  # operations started
        self._queued_at = np.zeros(n)  # when the job joined its current queue (NaN: busy)
        self._machine_end = np.zeros(self.n_machines)
        self._log_seen = 0
        self._mask_key: tuple[int, int, bool] | None = None
        self._mask = np.zeros(n, dtype=bool)

    def _advance_state(self) -> None:
        """Apply the log entries written since the last observation."""
        log = self.factory.log
        for time, kind, machine, job, operation, value in log[self._log_seen :]:
            if kind == "start":
                self._started[job] = operation + 1
                self._queued_at[job] = np.nan
                self._machine_end[machine] = time + value + self._op_times[job, operation]
            elif kind == "complete":
                self._completed[job] = operation + 1
                self._queued_at[job] = time
        self._log_seen = len(log)

    def _agent_decides(self) -> bool:
        return True

    def _resolve(self) -> None:  # pragma: no cover - the agent takes every choice
        raise AssertionError("JobShop has no choices of its own")

    def action_masks(self) -> np.ndarray:
        """Jobs whose next operation can start now."""
        factory = self.factory
        key = (factory.decisions, len(factory.log), factory.done)
        if key != self._mask_key:
            mask = np.zeros(self.n_jobs, dtype=bool)
            for machine in factory.due_machines():
                mask[factory.queue(machine)] = True
            self._mask, self._mask_key = mask, key
        return self._mask.copy()

    def _apply(self, action: int) -> None:
        factory = self.factory
        for machine in factory.due_machines():
            if action in factory.queue(machine):
                factory.start(action, machine)
                return

    def _observation(self) -> np.ndarray:
        self._advance_state()
        factory = self.factory
        now = factory.now
        scale = self._time_scale
        rows = self._rows
        completed = self._completed
        finished = completed >= self._operations
        next_machine = self._op_machines[rows, completed]
        n_jobs, n_machines = self.n_jobs, self.n_machines
        observation = np.empty(n_jobs * JOB_FEATURES + n_machines * MACHINE_FEATURES, np.float32)
        jobs = observation[: n_jobs * JOB_FEATURES].reshape(n_jobs, JOB_FEATURES)
        jobs[:, 0] = self.action_masks() if not factory.done else False
        jobs[:, 1] = completed / self._operations
        jobs[:, 2] = self._op_times[rows, completed] / scale
        jobs[:, 3] = self._work_after[rows, self._started] / self._work_scale
        free = np.minimum(np.maximum((self._machine_end[next_machine] - now) / scale, 0.0), 1.0)
        free[finished] = 0.0
        jobs[:, 4] = free
        waited = np.minimum((now - self._queued_at) / scale, 1.0)
        waited[np.isnan(waited) | finished] = 0.0
        jobs[:, 5] = waited
        machines = observation[n_jobs * JOB_FEATURES :].reshape(n_machines, MACHINE_FEATURES)
        remaining = self._machine_end - now
        machines[:, 0] = remaining > 0
        machines[:, 1] = np.minimum(np.maximum(remaining / scale, 0.0), 1.0)
        waiting = ~(np.isnan(self._queued_at) | finished)
        machines[:, 2] = np.bincount(next_machine[waiting], minlength=n_machines) / n_jobs
        return observation

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
