"""The static job shop: pick which job's next operation starts."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from math import inf
from typing import Any, cast

import numpy as np
from gymnasium import spaces

from shopfloor.envs._base import FactoryEnv, InvalidActionError
from shopfloor.envs._render import render_gantt
from shopfloor.envs._source import GeneratorSpec
from shopfloor.envs._spaces import MaskedDiscrete
from shopfloor.envs._tracker import ScheduleTracker, parse_mode, replay_sequences
from shopfloor.sim import Factory, FactorySpec
from shopfloor.sim.events import COMPLETE, START

JOB_FEATURES = 8
MACHINE_FEATURES = 3
# Where each block starts, in blocks of n_jobs (J) then n_machines (M) values.
STARTABLE, DONE, DURATION, WORK, NEXT_MACHINE, FOLLOWING_MACHINE, WAITED, FREE = range(JOB_FEATURES)
REMAINING, QUEUED, LOAD = range(MACHINE_FEATURES)


class JobShopEnv(FactoryEnv):
    """## Description

    A static job shop (a benchmark instance, an instance file, a scenario with all jobs
    known at t=0, or a new random one every episode, Taillard-style or flexible),
    classic or flexible (operations with alternative machines), scheduled in one of
    three decision modes (``mode=``):

    * ``non_delay`` (the default): the factory is simulated non-delay: whenever
      machines are idle with operations waiting, the agent picks one waiting job; its
      next operation starts at once on its machine. Choices at the same time are taken
      one after another. Every reachable schedule is non-delay; an optimal schedule
      need not be (ft06's optimum 55 is not reachable).
    * ``active`` (Giffler & Thompson 1960): for each unfinished job's next operation
      and each machine that can run it, ``est = max(job ready, machine ready)`` and
      ``ect = est + p``. ``C*`` is the smallest ``ect`` and ``m*`` its machine (ties:
      the lowest machine index); the candidates are the operations that can run on
      ``m*`` with ``est < C*`` there (or ``p = 0`` and ``est = C*``). Every active
      schedule is reachable, so **an optimal schedule is**.
    * ``append``: any unfinished job's next operation (in a flexible shop, on any of
      its machines). Every semi-active schedule is reachable, so **an optimal schedule
      is**.

    In ``active`` and ``append`` the chosen operation is appended to its machine's
    sequence and starts at ``max(job ready, machine ready)``; a start time is final
    when it is decided, so the env keeps the schedule itself (``env.tracker``, a
    :class:`~shopfloor.envs.ScheduleTracker`). When the last operation is placed the
    schedule is replayed in the SimPy factory (the reference), which gives exactly the
    same start and end times; ``info["makespan"]``, ``episode_objective()``, the event
    log and ``render()`` then come from the factory.

    ## Action Space

    `Discrete(n)`; only the actions in `action_masks()` are valid (for MaskablePPO),
    any other raises `InvalidActionError` naming the action.

    | mode | n | action `a` |
    |---|---|---|
    | `non_delay` | J | job `a`'s next operation starts now (on its lowest-index free machine) |
    | `active` | J | job `a`'s next operation is appended to `m*` (the machine is implied) |
    | `append`, classic shop | J | job `a`'s next operation is appended to its machine |
    | `append`, flexible | J * M | job `a // M`'s next operation is appended to machine `a % M` |

    ``decode_action(a)`` and ``encode_action(job, machine)`` convert. A shop is
    flexible when some operation of the first instance has alternative machines.

    ## Observation Space

    `Box(0, 1, (n_jobs * 8 + n_machines * 3,), float32)`, feature by feature: each
    row below is a block of `n_jobs` (J) or `n_machines` (M) values, in job or machine
    order. Times are divided by the longest operation of the instance, work by the
    largest job total (per machine: the largest machine total), so one network works
    across instances of one size. In ``active`` and ``append`` the clock is the
    *reference time* ``t``: the earliest start ``est`` of any unscheduled next
    operation on any of its machines; "done" means scheduled, "free" means the end
    of the machine's last operation so far, and "waiting" means ready (its previous
    operation ended).

    | block | size | `non_delay` | `active` / `append` |
    |---|---|---|---|
    | 0 | J | 1 if the job's next operation can start now | 1 if it has a valid action |
    | 1 | J | share of the job's operations done | share scheduled |
    | 2 | J | its next operation's time / longest (0 when done) | the same |
    | 3 | J | work remaining / largest job total | work not yet scheduled, the same |
    | 4 | J | its next machine: (index + 1) / (M + 1); 0 when done | the same |
    | 5 | J | the machine after that, the same way; 0 when none | the same |
    | 6 | J | time waited in its queue (0 unless waiting) | `t` - job ready (0 when done) |
    | 7 | J | time until its next machine is free | that machine's free time - `t` |
    | 8 | M | remaining time of the machine's operation | free time - `t` |
    | 9 | M | jobs queued at the machine / n_jobs | jobs whose next operation is there / J |
    | 10 | M | work not yet started there / largest machine total | not yet scheduled, the same |

    Times in blocks 6, 7 and 8 are divided by the longest operation and clipped to [0, 1].

    In ``non_delay`` a machine is busy exactly when its block-8 value is positive. An
    operation with alternative machines counts at its first one in blocks 4, 5, 7, 9
    and 10, with its fastest time in blocks 2, 3 and 10; block 8 holds the time on the
    machine it runs on, and the longest operation is over all alternatives. Jobs
    queued at one machine differ in blocks 1-3, 5 and 6: where a job goes after this
    machine is what a policy needs beyond rules such as MWKR.

    ## Rewards

    Divided by the mean machine load (total processing time / machines, fastest
    alternatives), so the sum over an episode is `-makespan / mean_machine_load` in
    every mode. ``non_delay``: minus the simulated time that passes until the next
    choice. ``active`` and ``append``: minus the increase of the partial makespan (the
    latest end so far). `info["makespan"]` gives the makespan at the end.

    ## Starting State

    t=0, every job waiting for its first operation (nothing scheduled).

    ## Episode End

    Terminates when every operation is done (``active``, ``append``: scheduled, and
    the schedule replayed in the factory). No truncation.

    ## Arguments

    At most one of `instance` (default `"ft06"`; a bundled name such as `"ta01"`, or
    a file in OR-Library or Taillard format), `scenario` (YAML path or bundled name,
    static), `spec` (a `FactorySpec`) or `generator` (`{"n_jobs": 15, "n_machines": 15}`;
    with `"flexible": true` flexible shops after Song et al. 2022, optional `operations`,
    `machines_per_operation`, `low`, `high`, `deviation`: see `GeneratorSpec`; the spaces
    depend on the jobs and machines only, and the env is flexible when more than one
    machine per operation is allowed);
    `render_mode` `"ansi"` or `"rgb_array"` (a Gantt chart); `mode` `"non_delay"`
    (default), `"active"` or `"append"` (these two refuse shops with setups or a
    horizon: their timing depends on what the factory has run).

    ## Version History

    * v0: Initial version.
    * v0, `mode` argument (issue 20): the `active` and `append` decision modes; the
      default `non_delay` is unchanged (same observations, rewards and schedules).
    """

    def __init__(
        self,
        instance: str | None = None,
        scenario: str | None = None,
        spec: FactorySpec | None = None,
        generator: GeneratorSpec | Mapping[str, Any] | None = None,
        render_mode: str | None = None,
        mode: str = "non_delay",
    ):
        if scenario is None and spec is None and instance is None and generator is None:
            instance = "ft06"
        self.mode = parse_mode(mode)
        super().__init__(scenario, instance, spec, generator, render_mode)
        example = self.source.example()
        if not example.is_static:
            raise ValueError(
                f"JobShop needs a static factory (jobs known at t=0, constant times, "
                f"no breakdowns); {example.name!r} is not: use DynamicJobShop"
            )
        self.n_jobs = len(example.jobs)
        self.n_machines = len(example.machines)
        routings = [job.routing or example.products[job.product].routing for job in example.jobs]
        self.flexible = any(len(op.machines) > 1 for routing in routings for op in routing)
        """Whether some operation has alternative machines (fixed by the first instance)."""
        self.tracker: ScheduleTracker | None = None
        """The schedule being built in the ``active`` and ``append`` modes (else ``None``)."""
        if self.mode != "non_delay":
            ScheduleTracker(Factory(example, seed=0), self.mode)  # refuses setups early
        pairs = self.mode == "append" and self.flexible  # active: the machine is m*
        n_actions = self.n_jobs * self.n_machines if pairs else self.n_jobs
        self.action_space = MaskedDiscrete(n_actions, self.action_masks)
        size = self.n_jobs * JOB_FEATURES + self.n_machines * MACHINE_FEATURES
        self.observation_space = spaces.Box(0.0, 1.0, (size,), dtype=np.float32)
        self._tables_cache: _InstanceTables | None = None
        self._pairs = pairs
        self._n_actions = n_actions

    def _on_reset(self) -> None:
        factory = self.factory
        spec = factory.spec
        if len(spec.jobs) != self.n_jobs or len(spec.machines) != self.n_machines:
            raise ValueError("every episode must have the same number of jobs and machines")
        tables = self._tables_cache
        if tables is None or tables.spec is not spec:
            tables = self._tables_cache = _InstanceTables.build(factory)
        self._tables = tables
        self._live_factory = factory  # the hot paths skip the ``factory`` property
        self._mean_load = tables.mean_load
        if self.mode != "non_delay":
            self.tracker = ScheduleTracker(factory, self.mode)
            self._tracker_observer = _TrackerObserver(tables, self.tracker)
            return
        observation = tables.first_observation.copy()
        self._startable = observation[: self.n_jobs]
        # Scalar reads go through a memoryview: about twice as fast as numpy's.
        self._view = cast("memoryview[float]", observation.data)
        self._observe, self._step_non_delay = _observer(
            factory, tables, observation, self._apply, self._validated
        )

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Start ``action``'s next operation, run to the next choice (see the class doc)."""
        factory = self._factory
        if factory is None or factory.done:
            return super().step(action)  # raises the matching error
        if self.tracker is not None:
            return self._step_tracker(action)
        # FactoryEnv.step in one closure: the per-step overhead is the env's main cost.
        return self._step_non_delay(action)

    def _step_tracker(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Append the chosen operation to the schedule (modes ``active`` and ``append``)."""
        tracker = self.tracker
        assert tracker is not None
        job, machine = self.decode_action(self._validated(action))
        tracker.schedule(job, machine)
        self._tracker_observer.scheduled(job, machine)
        makespan = tracker.makespan
        reward = (self._objective - makespan) / self._scale
        self._objective = makespan
        if tracker.done:
            factory = replay_sequences(self._live_factory, tracker.sequences)
            replayed = factory.kpis().makespan
            if replayed != makespan:  # pragma: no cover - the two engines must agree
                raise RuntimeError(
                    f"the factory's replay ends at {replayed}, the schedule at {makespan}"
                )
        return self._observation(), reward, tracker.done, False, self._info()

    def decode_action(self, action: int) -> tuple[int, int]:
        """The ``(job, machine)`` pair an action schedules (machine -1: the job is done).

        The machine is the action's own in a flexible shop's ``append`` mode, the
        critical machine m* in ``active``, the machine of the job's next operation in
        a classic ``append`` shop, and in ``non_delay`` the lowest-index one the job
        can start on now.
        """
        if self._pairs:
            return divmod(int(action), self.n_machines)
        job = int(action)
        tracker = self.tracker
        if tracker is not None:
            if tracker.next_operation[job] >= tracker.n_operations[job]:
                return job, -1
            if self.mode == "active":
                return job, tracker.critical_machine
            return job, tracker.options[job][tracker.next_operation[job]][0][0]
        factory = self.factory
        for machine in factory.due_machines():
            if job in factory.queue(machine):
                return job, machine
        return job, -1

    def encode_action(self, job: int, machine: int) -> int:
        """The action that schedules ``job``'s next operation on ``machine``."""
        return job * self.n_machines + machine if self._pairs else job

    def _validated(self, action: Any) -> int:
        value = super()._validated(action)  # coerced and in the space; valid in non_delay
        tracker = self.tracker
        if tracker is not None and not tracker.is_candidate(*self.decode_action(value)):
            valid = np.flatnonzero(self.action_masks()).tolist()
            raise InvalidActionError(
                f"action {value} is not valid in mode {self.mode!r} after "
                f"{len(tracker.steps)} decisions; valid actions: {valid[:50]}"
            )
        return value

    def _agent_decides(self) -> bool:
        return True

    def _advance(self) -> None:
        self._live_factory.next_decision()  # every choice is the agent's

    def _resolve(self) -> None:  # pragma: no cover - the agent takes every choice
        raise AssertionError("JobShop has no choices of its own")

    @property
    def masks_actions(self) -> bool:
        """Always: only jobs whose next operation can start may be chosen."""
        return True

    def action_masks(self) -> np.ndarray:
        """The valid actions now (see the spec sheet's Action Space)."""
        if self._factory is None:
            raise RuntimeError("call reset() before using the environment")
        tracker = self.tracker
        if tracker is None:
            return self._startable.astype(bool)
        mask = np.zeros(self._n_actions, dtype=bool)
        if tracker.candidates:
            jobs, machines = np.array(tracker.candidates).T
            mask[jobs * self.n_machines + machines if self._pairs else jobs] = True
        return mask

    def _observation(self) -> np.ndarray:
        if self.tracker is not None:
            return self._tracker_observer.observe()
        return self._observe(self._live_factory.now)

    def _is_valid(self, action: int) -> bool:
        if self.tracker is not None:
            return True  # checked in _validated, with the mode in the message
        return self._view[action] > 0.0

    def _apply(self, action: int) -> None:
        factory = self._live_factory
        for machine in factory.due_machines():
            if action in factory.queue(machine):
                factory.start(action, machine)
                return

    objective_name = "makespan"

    def episode_objective(self) -> float:
        """Makespan (the time of the last completion so far).

        In ``active`` and ``append`` the factory's once the episode is over (the
        schedule replayed), before that the schedule's partial makespan.
        """
        factory = self.factory
        if self.tracker is not None and not factory.done:
            return self.tracker.makespan
        return factory.kpis().makespan

    def render(self) -> str | np.ndarray | None:
        """Text state (``ansi``) or a Gantt chart of the schedule so far (``rgb_array``).

        In ``active`` and ``append``, before the episode is over (when the factory
        holds the replayed schedule), the text lists each machine's sequence so far
        and the chart is drawn from a replay of it in a scratch factory.
        """
        tracker = self.tracker
        if tracker is None or self.render_mode is None or self.factory.done:
            return super().render()
        if self.render_mode == "ansi":
            return _render_tracker(tracker)
        scratch = Factory(self.factory.spec, seed=self.factory.seed)
        return render_gantt(replay_sequences(scratch, tracker.sequences, partial=True))

    def _accrued(self) -> float:
        return self._live_factory.now

    def _reward_scale(self) -> float:
        return self._mean_load

    def _info(self) -> dict[str, Any]:
        factory = self._live_factory
        tracker = self.tracker
        info: dict[str, Any]
        if tracker is not None:
            info = {"time": tracker.reference_time, "decisions": len(tracker.steps)}
            if factory.done:
                info["makespan"] = factory.kpis().makespan
            return info
        info = {"time": factory.now, "decisions": factory.decisions}
        if factory.done:
            info["makespan"] = factory.kpis().makespan
        return info


def _observer(
    factory: Factory,
    tables: _InstanceTables,
    observation: np.ndarray,
    apply: Callable[[int], None],
    validated: Callable[[Any], int],
) -> tuple[
    Callable[[float], np.ndarray],
    Callable[[Any], tuple[np.ndarray, float, bool, bool, dict[str, Any]]],
]:
    """The observation and step functions of one episode.

    The observation is updated event by event from the factory's log; only the
    clock-relative blocks 6-8 are recomputed, from times kept divided by the time
    scale, and only when the clock moved. The state lives in this closure so the hot
    path reads no attributes: an env step costs under twice a bare factory decision.

    Args:
        factory: The episode's factory, at t=0.
        tables: Its instance tables.
        observation: The buffer, holding ``tables.first_observation``; updated in place.
        apply: Starts a job's next operation when it has alternative machines.
        validated: The env's action check, for any action but a startable job's int.

    Returns:
        ``observe(now)``: a copy of the observation after the events logged since its
        last call, ``now`` being the factory's time. ``step(action)``: the env's step
        in ``non_delay`` (start the job's next operation, run to the next choice),
        with its reward: minus the time passed, over the mean machine load.
    """
    n, n_machines = len(tables.operations), len(tables.first_loads)
    completed = [0] * n  # operations done, per job
    log = factory.log
    # A static factory models no raw materials: each queue is one list all episode.
    queues = [factory.queue(machine) for machine in range(n_machines)]
    machine_table, single_machine = tables.machine_table, tables.single_machine
    alternative_times = tables.alternative_times
    scale, load_scale = tables.time_scale, tables.load_scale
    done_block, duration_block, work_block = DONE * n, DURATION * n, WORK * n
    next_block, waited_block, free_block = NEXT_MACHINE * n, WAITED * n, FREE * n
    following_block = FOLLOWING_MACHINE * n
    start_rows, complete_rows = tables.start_rows, tables.complete_rows
    machine_feature = [(machine + 1) / (n_machines + 1) for machine in range(n_machines)]
    remaining_block = JOB_FEATURES * n + REMAINING * n_machines
    queued_block = JOB_FEATURES * n + QUEUED * n_machines
    load_block = JOB_FEATURES * n + LOAD * n_machines
    view = cast("memoryview[float]", observation.data)  # twice as fast as numpy items
    startable = observation[:n]
    clock_block = observation[WAITED * n : JOB_FEATURES * n + n_machines]

    idle = [True] * n_machines
    waiting = list(tables.first_queues)  # jobs queued per machine
    load = list(tables.first_loads)  # work not yet started, per machine
    next_machine = tables.first_machines.tolist()  # n_machines once done
    # Blocks 6-8 come from one array, [when each job joined its queue (+inf unless
    # waiting) | when each machine is free | -inf]: minus the clock, clipped to [-1, 0]
    # for jobs and [0, 1] for machines, made positive, then gathered into place (job j's
    # block-7 value is its next machine's, the -inf slot's 0 once done). Five numpy
    # calls per moving clock.
    clock_source = np.zeros(n + n_machines + 1)
    clock_source[-1] = -np.inf
    clock = np.empty_like(clock_source)
    lower, upper = tables.clock_lower, tables.clock_upper  # read only
    gather = tables.first_gather.copy()  # its block-7 part follows each job's next machine
    # Scalar access to the numpy state, as Python numbers.
    queued_at = cast("memoryview[float]", clock_source[:n].data)
    machine_free_at = cast("memoryview[float]", clock_source[n:].data)
    free_source = cast("memoryview[int]", gather[n : 2 * n].data)
    started: list[tuple[int, int]] = []  # (job, machine) since the last observation
    touched: set[int] = set()  # machines whose queue or state changed since then
    seen = 0  # log entries applied
    clock_time = -np.inf  # when blocks 6-8 were last computed in full
    # The numpy calls of every step, bound once.
    subtract, maximum, minimum, absolute = np.subtract, np.maximum, np.minimum, np.absolute
    take, as_type, float32 = clock.take, observation.astype, np.float32

    def replay() -> bool:
        """Apply the new log entries; True when they were all operation starts."""
        nonlocal seen
        started.clear()
        touched.clear()
        only_starts = True
        for time, kind, machine, job, operation, value in log[seen:]:
            if kind == START:
                started.append((job, machine))
                touched.add(machine)
                idle[machine] = False
                queued_at[job] = inf
                fastest, work = start_rows[job][operation]
                duration = fastest if single_machine else alternative_times[job][operation][machine]
                machine_free_at[machine] = (time + (value + duration)) / scale
                view[job] = 0.0  # no longer startable
                view[work_block + job] = work
                home = next_machine[job]  # counted there (an operation's first machine)
                count = waiting[home] = waiting[home] - 1
                view[queued_block + home] = count / n
                remaining = load[home] = load[home] - fastest
                view[load_block + home] = remaining / load_scale
                continue
            only_starts = False
            if kind == COMPLETE:
                touched.add(machine)
                idle[machine] = True
                done = completed[job] = operation + 1
                share, duration_value, following_value, following = complete_rows[job][done]
                view[done_block + job] = share
                view[duration_block + job] = duration_value
                view[following_block + job] = following_value
                next_machine[job] = following
                free_source[job] = n + following
                if following < n_machines:
                    view[next_block + job] = machine_feature[following]
                    touched.add(following)
                    queued_at[job] = time / scale
                    count = waiting[following] = waiting[following] + 1
                    view[queued_block + following] = count / n
                else:
                    view[next_block + job] = 0.0
        seen = len(log)
        return only_starts

    def observe(time: float) -> np.ndarray:
        nonlocal clock_time
        first = seen == 0
        only_starts = replay()
        if first or not single_machine:
            startable.fill(0.0)
            for job in factory.ready_jobs():
                view[job] = 1.0
        else:  # a job can start when it waits at an idle machine
            for machine in touched:
                value = 1.0 if idle[machine] else 0.0
                for job in queues[machine]:
                    view[job] = value
        now = time / scale
        if only_starts and now == clock_time and single_machine:
            # Only the started jobs (no longer waiting), their machines (now busy) and
            # the jobs queued there (their machine's free time) change.
            for job, machine in started:
                remaining = min(max(machine_free_at[machine] - now, 0.0), 1.0)
                view[waited_block + job] = 0.0
                view[free_block + job] = remaining
                for queued in queues[machine]:
                    view[free_block + queued] = remaining
                view[remaining_block + machine] = remaining
        else:
            clock_time = now
            subtract(clock_source, now, out=clock)
            maximum(clock, lower, out=clock)
            minimum(clock, upper, out=clock)
            absolute(clock, out=clock)
            take(gather, out=clock_block, mode="clip")
        return as_type(float32)

    start, next_decision = factory.start, factory.next_decision
    mean_load = tables.mean_load  # the reward scale
    objective = 0.0  # the time of the last step; nothing accrues before t=0

    def step(action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        nonlocal objective
        if type(action) is int and 0 <= action < n and view[action] > 0.0:
            job = action  # the common case, checked inline
        else:
            job = validated(action)
        if single_machine:
            start(job, machine_table[job][completed[job]])
        else:
            apply(job)
        next_decision()
        time = factory.now
        observation = observe(time)
        reward = (objective - time) / mean_load
        objective = time
        info: dict[str, Any] = {"time": time, "decisions": factory.decisions}
        if factory.done:
            info["makespan"] = factory.makespan
            return observation, reward, True, False, info
        return observation, reward, False, False, info

    return observe, step


def _render_tracker(tracker: ScheduleTracker) -> str:
    """A text snapshot of a schedule being built: each machine's sequence, the candidates."""
    lines = [
        f"mode={tracker.mode}  decisions={len(tracker.steps)}  makespan so far="
        f"{tracker.makespan:g}  reference time={tracker.reference_time:g}"
    ]
    runs: list[list[str]] = [[] for _ in range(tracker.n_machines)]
    for step in tracker.steps:
        runs[step.machine].append(f"job {step.job} [{step.start:g}, {step.end:g})")
    for machine, run in enumerate(runs):
        free = tracker.machine_ready[machine]
        lines.append(f"M{machine:<3} free at {free:<8g} " + (", ".join(run) or "-"))
    lines.append(f"candidates (job, machine): {tracker.candidates}")
    return "\n".join(lines) + "\n"


class _TrackerObserver:
    """The observation of an ``active`` or ``append`` episode, from the schedule so far.

    The clock of the ``non_delay`` features is the tracker's reference time: the
    earliest time any unscheduled next operation could start (see the spec sheet).
    The first observation is computed in full (:meth:`observe_full`); after that a
    decision changes blocks 1-5 of one job and blocks 9-10 of two machines, written as
    scalars, and blocks 0 and 6-8 are recomputed (the same values as in full).
    """

    def __init__(self, tables: _InstanceTables, tracker: ScheduleTracker):
        self.tracker = tracker
        n, n_machines = tracker.n_jobs, tracker.n_machines
        self.n, self.n_machines = n, n_machines
        self.rows = np.arange(n)
        self.operations = np.maximum(np.array(tables.operations, dtype=np.float64), 1.0)
        self.machine_table = np.array(tables.machine_table, dtype=np.intp)
        self.duration_table = tables.duration_table
        self.machine_list = tables.machine_table
        self.duration_feature = np.array(tables.duration_feature)
        self.work_feature = np.array(tables.work_feature)
        self.following_feature = np.array(tables.following_feature)
        self.scale, self.load_scale = tables.time_scale, tables.load_scale
        self.load = np.array(tables.first_loads, dtype=np.float64)  # work not yet scheduled
        # float64, cast to float32 when returned (each value is rounded once).
        self.observation = np.zeros(n * JOB_FEATURES + n_machines * MACHINE_FEATURES)
        self.view = cast("memoryview[float]", self.observation.data)
        self.clock = np.zeros(n_machines + 1)  # machine free times; 0 for "done"
        # The incremental state (set by observe_full): the tracker's times as arrays
        # (a done job ready at +inf: its block 6 is then 0.0, as in full), each job's
        # next machine, jobs per next machine, the candidate jobs shown in block 0.
        self.ready = np.zeros(n)
        self.machine_ready = np.zeros(n_machines)
        self.next_machine = np.zeros(n, dtype=np.intp)
        self.queued = [0] * (n_machines + 1)
        self.shown: list[int] = []
        self.full = True

    def scheduled(self, job: int, machine: int) -> None:
        """Account for ``job``'s operation just scheduled on ``machine``."""
        tracker = self.tracker
        step = tracker.next_operation[job]
        operation = step - 1
        home = self.machine_list[job][operation]  # counted at an operation's first machine
        self.load[home] -= self.duration_table[job][operation]
        if self.full:
            return  # the next observation is computed in full
        n, n_machines, view = self.n, self.n_machines, self.view
        self.machine_ready[machine] = tracker.machine_ready[machine]
        following = self.machine_list[job][step]
        self.next_machine[job] = following
        view[DONE * n + job] = step / self.operations[job]
        view[DURATION * n + job] = self.duration_feature[job, step]
        view[WORK * n + job] = self.work_feature[job, step]
        view[NEXT_MACHINE * n + job] = (
            0.0 if following == n_machines else (following + 1) / (n_machines + 1)
        )
        view[FOLLOWING_MACHINE * n + job] = self.following_feature[job, step]
        machines = JOB_FEATURES * n
        queued = self.queued
        queued[home] -= 1
        view[machines + QUEUED * n_machines + home] = queued[home] / n
        queued[following] += 1
        if following < n_machines:
            view[machines + QUEUED * n_machines + following] = queued[following] / n
            self.ready[job] = tracker.job_ready[job]
        else:
            self.ready[job] = inf
        load = self.load[home] / self.load_scale
        view[machines + LOAD * n_machines + home] = min(max(load, 0.0), 1.0)

    def observe(self) -> np.ndarray:
        """The observation now (a new array)."""
        if self.full:
            return self.observe_full()
        tracker, n, n_machines, view = self.tracker, self.n, self.n_machines, self.view
        for job in self.shown:
            view[job] = 0.0
        shown = self.shown = [job for job, _ in tracker.candidates]
        for job in shown:
            view[job] = 1.0
        scale = self.scale
        now = tracker.reference_time / scale
        observation = self.observation
        waited = observation[WAITED * n : (WAITED + 1) * n]
        np.divide(self.ready, scale, out=waited)
        np.subtract(now, waited, out=waited)
        np.maximum(waited, 0.0, out=waited)
        np.minimum(waited, 1.0, out=waited)
        clock = self.clock
        free = clock[:n_machines]
        np.divide(self.machine_ready, scale, out=free)
        np.subtract(free, now, out=free)
        np.maximum(free, 0.0, out=free)
        np.minimum(free, 1.0, out=free)
        clock.take(self.next_machine, out=observation[FREE * n : (FREE + 1) * n])
        machines = JOB_FEATURES * n + REMAINING * n_machines
        observation[machines : machines + n_machines] = free
        return observation.astype(np.float32)

    def observe_full(self) -> np.ndarray:
        """The observation now, every block from the tracker (a new array)."""
        tracker, n, n_machines = self.tracker, self.n, self.n_machines
        observation = self.observation
        blocks = observation[: JOB_FEATURES * n].reshape(JOB_FEATURES, n)
        machine_blocks = observation[JOB_FEATURES * n :].reshape(MACHINE_FEATURES, n_machines)
        step = np.array(tracker.next_operation, dtype=np.intp)
        next_machine = self.machine_table[self.rows, step]
        done = next_machine == n_machines
        blocks[STARTABLE] = 0.0
        if tracker.candidates:
            blocks[STARTABLE, np.array([job for job, _ in tracker.candidates])] = 1.0
        blocks[DONE] = step / self.operations
        blocks[DURATION] = self.duration_feature[self.rows, step]
        blocks[WORK] = self.work_feature[self.rows, step]
        blocks[NEXT_MACHINE] = np.where(done, 0.0, (next_machine + 1) / (n_machines + 1))
        blocks[FOLLOWING_MACHINE] = self.following_feature[self.rows, step]
        now = tracker.reference_time / self.scale
        waited = now - np.array(tracker.job_ready) / self.scale
        blocks[WAITED] = np.where(done, 0.0, np.clip(waited, 0.0, 1.0))
        clock = self.clock
        clock[:n_machines] = np.array(tracker.machine_ready) / self.scale - now
        np.clip(clock, 0.0, 1.0, out=clock)
        clock[n_machines] = 0.0
        blocks[FREE] = clock[next_machine]
        machine_blocks[REMAINING] = clock[:n_machines]
        counts = np.bincount(next_machine, minlength=n_machines + 1)
        machine_blocks[QUEUED] = counts[:-1] / n
        machine_blocks[LOAD] = np.clip(self.load / self.load_scale, 0.0, 1.0)
        # The incremental state from here on.
        self.ready[:] = np.where(done, inf, tracker.job_ready)
        self.machine_ready[:] = tracker.machine_ready
        self.next_machine[:] = next_machine
        self.queued = counts.tolist()
        self.shown = [job for job, _ in tracker.candidates]
        self.full = False
        return observation.astype(np.float32)


@dataclass(frozen=True)
class _InstanceTables:
    """What an instance fixes for every episode, in the shapes the hot paths read."""

    spec: FactorySpec
    time_scale: float  # the longest operation
    mean_load: float  # total processing time / machines
    single_machine: bool  # no operation has alternative machines
    operations: list[int]  # per job
    # Per job and operation, padded with one "done" column after the last operation:
    machine_table: list[list[int]]  # n_machines when done
    duration_table: list[list[float]]
    alternative_times: list[list[dict[int, float]]]  # per job and operation: machine -> time
    duration_feature: list[list[float]]  # duration / time scale
    work_feature: list[list[float]]  # work from this operation on / largest job total
    following_feature: list[list[float]]  # block 5 when this operation is next
    # What the observer reads per logged start, per job and operation: (duration,
    # block 3 once it started); per completion, per job and operations done: (block 1,
    # block 2, block 5, the next machine).
    start_rows: list[list[tuple[float, float]]]
    complete_rows: list[list[tuple[float, float, float, int]]]
    first_machines: np.ndarray
    first_queues: list[int]  # jobs waiting per machine at t=0
    first_loads: list[float]  # processing time per machine
    load_scale: float  # the largest machine total
    first_observation: np.ndarray  # float64: the blocks that do not depend on the clock, at t=0
    # Blocks 6-8 from the clock source (see _observer): the bounds, the t=0 gather.
    clock_lower: np.ndarray
    clock_upper: np.ndarray
    first_gather: np.ndarray

    @classmethod
    def build(cls, factory: Factory) -> _InstanceTables:
        spec = factory.spec
        n, n_machines = len(spec.jobs), len(spec.machines)
        routings = [job.routing or spec.products[job.product].routing for job in spec.jobs]
        width = max(len(routing) for routing in routings) + 1
        times = np.zeros((n, width))
        machines = np.full((n, width), n_machines, dtype=np.int64)
        for job, routing in enumerate(routings):
            times[job, : len(routing)] = factory.routing_times(job)
            machines[job, : len(routing)] = [op.machines[0] for op in routing]
        alternatives = [factory.alternative_times(job) for job in range(n)]
        work_after = np.cumsum(times[:, ::-1], axis=1)[:, ::-1]  # work from operation k on
        longest = max(t for job in alternatives for op in job for t in op.values())
        scale = max(float(longest), 1e-9)
        work_scale = max(float(work_after[:, 0].max()), 1e-9)
        first_queues = np.bincount(machines[:, 0], minlength=n_machines + 1)[:-1]
        loads = np.bincount(machines.ravel(), times.ravel(), minlength=n_machines + 1)[:-1]
        load_scale = max(float(loads.max()), 1e-9)
        # float64, cast to the float32 observation when returned: the clock blocks are
        # gathered without a cast (the same values: each is rounded once, either way).
        observation = np.zeros(n * JOB_FEATURES + n_machines * MACHINE_FEATURES)
        observation[DURATION * n : (DURATION + 1) * n] = times[:, 0] / scale
        observation[WORK * n : (WORK + 1) * n] = work_after[:, 0] / work_scale
        # The machine after the next one, per operation: (index + 1) / (M + 1), 0 if none.
        after = machines[:, 1:]
        following = np.zeros((n, width))
        following[:, :-1] = np.where(after < n_machines, (after + 1) / (n_machines + 1), 0.0)
        observation[NEXT_MACHINE * n : (NEXT_MACHINE + 1) * n] = (machines[:, 0] + 1) / (
            n_machines + 1
        )
        observation[FOLLOWING_MACHINE * n : (FOLLOWING_MACHINE + 1) * n] = following[:, 0]
        machine_blocks = observation[JOB_FEATURES * n :].reshape(MACHINE_FEATURES, n_machines)
        machine_blocks[QUEUED] = first_queues / n
        machine_blocks[LOAD] = loads / load_scale
        duration_table, work_feature = times.tolist(), (work_after / work_scale).tolist()
        duration_feature, following_feature = (times / scale).tolist(), following.tolist()
        machine_table = machines.tolist()
        operations = [len(routing) for routing in routings]
        return cls(
            spec=spec,
            time_scale=scale,
            mean_load=max(float(work_after[:, 0].sum()) / n_machines, 1e-9),
            single_machine=all(len(op.machines) == 1 for r in routings for op in r),
            operations=operations,
            machine_table=machine_table,
            duration_table=duration_table,
            alternative_times=alternatives,
            duration_feature=duration_feature,
            work_feature=work_feature,
            following_feature=following_feature,
            start_rows=[
                [(duration_table[job][k], work_feature[job][k + 1]) for k in range(count)]
                for job, count in enumerate(operations)
            ],
            complete_rows=[
                [
                    (
                        done / max(count, 1),
                        duration_feature[job][done],
                        following_feature[job][done],
                        machine_table[job][done],
                    )
                    for done in range(count + 1)
                ]
                for job, count in enumerate(operations)
            ],
            first_machines=machines[:, 0].copy(),
            first_queues=first_queues.tolist(),
            first_loads=loads.tolist(),
            load_scale=load_scale,
            first_observation=observation,
            clock_lower=np.r_[np.full(n, -1.0), np.zeros(n_machines + 1)],
            clock_upper=np.r_[np.zeros(n), np.ones(n_machines + 1)],
            first_gather=np.r_[np.arange(n), n + machines[:, 0], n + np.arange(n_machines)].astype(
                np.intp
            ),
        )
