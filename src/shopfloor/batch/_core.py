"""The batched job shop: B static instances scheduled together, one operation per step.

Each instance is a row of a few flat arrays (jobs, operations and machines of every
row padded to the largest of the batch): processing times and machines of every
operation, when each job and each machine is next free, each job's next operation,
the start time and the decision step of every operation. One :meth:`BatchJobShop.step`
schedules one operation in every unfinished instance with a fixed number of array
operations (no Python loop over instances or jobs), so its cost hardly grows with B.

Three decision modes (see ``docs`` of issue 20 and :data:`MODES`):

* ``non_delay``: the SimPy factory's own dispatch, what ``shopfloor/JobShop-v0`` does.
  The clock is the earliest time any job's next operation can start,
  ``est(j) = max(job_ready[j], machine_ready[machine of j's next op])``; the candidates
  are the jobs whose ``est`` equals the clock. An operation of zero duration completes
  after the other choices due at its instant, as in the factory's event order.
* ``active`` (Giffler & Thompson 1960): ``C* = min est + p`` over unfinished jobs, ``m*``
  the lowest machine attaining it; the candidates are the jobs whose next operation is
  on ``m*`` with ``est < C*`` (and the ones attaining ``C*``, which only adds
  operations of zero duration).
* ``append``: every unfinished job; its next operation starts at its ``est``.

The chosen operation starts at its ``est`` in every mode, so a start time is final when
decided and the schedule replays in the factory with the same start and end times.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from shopfloor.batch._backend import Backend, select_backend
from shopfloor.instances import JobShopInstance, load_instance

MODES = ("non_delay", "active", "append")
JOB_FEATURES = 8
MACHINE_FEATURES = 3


class InvalidBatchActionError(ValueError):
    """An action that is not a candidate of its instance."""


class BatchStep(NamedTuple):
    """What one batched step returns (arrays of the core's backend).

    Attributes:
        features: ``(B, J * 8 + M * 3)`` float32, ``shopfloor/JobShop-v0``'s observation
            in the same mode, bit for bit (padding jobs and machines: 0); ``None`` when
            the core computes no features.
        masks: ``(B, J)`` bool, the jobs each instance may choose next (all false once done).
        rewards: ``(B,)`` float64, minus the time that passed / the mean machine load.
        dones: ``(B,)`` bool, every operation of the instance scheduled.
    """

    features: Any
    masks: Any
    rewards: Any
    dones: Any


def check_mode(mode: str) -> str:
    """Resolve a decision mode's name.

    Raises:
        ValueError: Not one of :data:`MODES`.
    """
    name = mode.strip().lower().replace("-", "_") if isinstance(mode, str) else ""
    if name not in MODES:
        raise ValueError(f"unknown decision mode {mode!r}; choose from {', '.join(MODES)}")
    return name


def _as_instance(item: JobShopInstance | str) -> JobShopInstance:
    instance = load_instance(item) if isinstance(item, str) else item
    if isinstance(instance, JobShopInstance):
        return instance
    name = getattr(instance, "name", type(instance).__name__)
    raise ValueError(
        f"instance {name!r}: BatchJobShop takes classic job shops (JobShopInstance); "
        "use BatchFlexibleJobShop for flexible ones"
    )


class _Tables(NamedTuple):
    """Per-operation and per-row constants of a batch, as numpy arrays."""

    op_time: np.ndarray  # (B, J, K + 1), 0 after the last operation
    op_machine: np.ndarray  # (B, J, K + 1), M (a spare column) after the last operation
    n_ops: np.ndarray  # (B, J), 0 for padding jobs
    n_jobs: np.ndarray  # (B,)
    n_machines: np.ndarray  # (B,)
    time_scale: np.ndarray  # (B,) longest operation
    work_scale: np.ndarray  # (B,) largest job total
    load_scale: np.ndarray  # (B,) largest machine total
    mean_load: np.ndarray  # (B,) total processing time / machines
    loads: np.ndarray  # (B, M + 1)
    work_feature: np.ndarray  # (B, J, K + 1) work from each operation on / work scale
    next_feature: np.ndarray  # (B, J, K + 1) (machine + 1) / (machines + 1), 0 after the last
    following_feature: np.ndarray  # (B, J, K + 1) the next one's


def _build_tables(instances: Sequence[JobShopInstance]) -> _Tables:
    batch = len(instances)
    jobs = max(instance.n_jobs for instance in instances)
    width = max(instance.operations_per_job for instance in instances) + 1
    machines = max(instance.n_machines for instance in instances)
    op_time = np.zeros((batch, jobs, width))
    op_machine = np.full((batch, jobs, width), machines, dtype=np.int64)
    n_ops = np.zeros((batch, jobs), dtype=np.int64)
    work_feature = np.zeros((batch, jobs, width))
    next_feature = np.zeros((batch, jobs, width))
    following_feature = np.zeros((batch, jobs, width))
    loads = np.zeros((batch, machines + 1))
    scalars = np.zeros((6, batch))
    built: dict[int, tuple[Any, ...]] = {}
    for row, instance in enumerate(instances):
        cached = built.get(id(instance))
        if cached is None:
            cached = built[id(instance)] = _instance_tables(instance)
        times, codes, work, nexts, followings, machine_loads, row_scalars = cached
        n, k = times.shape
        op_time[row, :n, :k] = times
        op_machine[row, :n, :k] = codes
        n_ops[row, :n] = k
        work_feature[row, :n, :k] = work
        next_feature[row, :n, :k] = nexts
        following_feature[row, :n, :k] = followings
        loads[row, : len(machine_loads)] = machine_loads
        scalars[:, row] = row_scalars
    return _Tables(
        op_time,
        op_machine,
        n_ops,
        scalars[0].astype(np.int64),
        scalars[1].astype(np.int64),
        scalars[2],
        scalars[3],
        scalars[4],
        scalars[5],
        loads,
        work_feature,
        next_feature,
        following_feature,
    )


def _instance_tables(instance: JobShopInstance) -> tuple[Any, ...]:
    """One instance's tables, computed as ``shopfloor/JobShop-v0`` computes them."""
    times = np.asarray(instance.durations, dtype=np.float64)
    codes = np.asarray(instance.machines, dtype=np.int64)
    n_machines = instance.n_machines
    padded = np.zeros((times.shape[0], times.shape[1] + 1))
    padded[:, :-1] = times
    work_after = np.cumsum(padded[:, ::-1], axis=1)[:, ::-1]
    scale = max(float(times.max()), 1e-9)
    work_scale = max(float(work_after[:, 0].max()), 1e-9)
    machine_loads = np.bincount(codes.ravel(), times.ravel(), minlength=n_machines)
    load_scale = max(float(machine_loads.max()), 1e-9)
    mean_load = max(float(work_after[:, 0].sum()) / n_machines, 1e-9)
    nexts = (codes + 1) / (n_machines + 1)
    followings = np.zeros_like(nexts)
    followings[:, :-1] = nexts[:, 1:]
    scalars = (instance.n_jobs, n_machines, scale, work_scale, load_scale, mean_load)
    return (
        times,
        codes,
        work_after[:, :-1] / work_scale,
        nexts,
        followings,
        machine_loads,
        scalars,
    )


class BatchJobShop:
    """B static job-shop instances scheduled together with array operations.

    Example:
        >>> from shopfloor.batch import BatchJobShop
        >>> core = BatchJobShop(["ft06"] * 4, mode="active")
        >>> features, masks = core.reset()
        >>> while not core.dones.all():
        ...     features, masks, rewards, dones = core.step(masks.argmax(axis=1))
        >>> core.makespans().tolist()
        [65.0, 65.0, 65.0, 65.0]

    Arrays are stored job-major (a job's entries of all B instances side by side), so
    the reductions over jobs run along contiguous memory; ``masks`` and ``features``
    are returned as ``(B, ...)`` views of them.

    Args:
        instances: The instances (objects or bundled names), one per row; any sizes,
            padded to the largest. The same object may fill many rows.
        mode: ``"non_delay"`` (default), ``"active"`` or ``"append"`` (see the module).
        backend: ``"numpy"`` or ``"torch"``.
        device: For torch: ``"auto"`` (CUDA when present), ``"cpu"``, ``"cuda[:N]"``.
        features: Compute the observation features at every step (off: faster sampling).

    Raises:
        ValueError: No instances, an unknown mode, backend or device.
    """

    def __init__(
        self,
        instances: Sequence[JobShopInstance | str],
        mode: str = "non_delay",
        *,
        backend: str = "numpy",
        device: str = "auto",
        features: bool = True,
    ):
        if isinstance(instances, str | JobShopInstance) or len(instances) == 0:
            raise ValueError("instances: give a non-empty sequence of instances or names")
        self.instances = [_as_instance(item) for item in instances]
        self.mode = check_mode(mode)
        self.backend: Backend = select_backend(backend, device)
        self.with_features = bool(features)
        tables = _build_tables(self.instances)
        batch, jobs, width = tables.op_time.shape
        self.batch_size, self.n_jobs, self.n_machines = batch, jobs, tables.loads.shape[1] - 1
        self.max_operations = width - 1
        self._width = width
        xp = self.backend
        rows = np.arange(batch)

        def job_major(table: np.ndarray, dtype: str) -> Any:
            """A (B, ...) table stored as (..., B), flat."""
            return xp.asarray(np.moveaxis(table, 0, -1).ravel(), dtype)

        # Times are integers: int32 when every sum fits (half the memory traffic of
        # float64), else int64; both are exact, as the factory's float sums of integers.
        total = float(tables.op_time.sum(axis=(1, 2)).max())
        self._time_dtype = "int32" if 2 * total < 2**31 - 2 else "int64"  # est + p fits
        self._never = int(np.iinfo(self._time_dtype).max)  # "not before": finished jobs
        self._op_time = job_major(tables.op_time, self._time_dtype)
        # Flat index of every operation's machine in the (M + 1, B) machine arrays.
        self._op_slot = job_major(tables.op_machine * batch + rows[:, None, None], "int64")
        self._machine_dtype = "int16" if self.n_machines < 2**15 - 1 else "int32"
        self._op_machine = job_major(tables.op_machine, self._machine_dtype)
        # Priorities of the dispatching rules, per operation when it is a job's next.
        work_left = np.cumsum(tables.op_time[:, :, ::-1], axis=2)[:, :, ::-1]
        operations_left = tables.n_ops[:, :, None] - np.arange(width)[None, None, :]
        self._op_priority = {
            "spt": job_major(-tables.op_time, "float64"),
            "lpt": job_major(tables.op_time, "float64"),
            "mwkr": job_major(work_left, "float64"),
            "lwkr": job_major(-work_left, "float64"),
            "mopnr": job_major(np.maximum(operations_left, 0), "float64"),
        }
        # Blocks 1 to 5 of every operation, when it is the one a job shows (block 3
        # is overwritten by the next operation's for a running job).
        shown = np.stack(
            [
                np.arange(width)[None, None, :] / np.maximum(tables.n_ops, 1)[:, :, None],
                tables.op_time / tables.time_scale[:, None, None],
                tables.work_feature,
                tables.next_feature,
                tables.following_feature,
            ]
        )
        self._op_shown = xp.asarray(np.moveaxis(shown, 1, -1).reshape(5, -1), "float32")
        first = (np.arange(jobs)[:, None] * width * batch + rows[None, :]).ravel()
        self._first_op = xp.asarray(first, "int64")
        self._n_ops = job_major(tables.n_ops, "int64")
        self._rows = xp.asarray(rows, "int64")
        self._total_ops = xp.asarray(tables.n_ops.sum(axis=1), "int64")
        self._mean_load = xp.asarray(tables.mean_load, "float64")
        self._time_scale = xp.asarray(tables.time_scale, "float64")
        self._load_scale = xp.asarray(tables.load_scale, "float64")
        self._job_count = xp.asarray(tables.n_jobs, "float64")
        self._initial_loads = job_major(tables.loads, "float64")
        last = np.arange(width)[None, None, :] == tables.n_ops[:, :, None]
        self._last_op = job_major(last, "bool")
        real = np.arange(width)[None, None, :] < tables.n_ops[:, :, None]
        self._has_zero = bool(((tables.op_time == 0) & real).any())
        self.reset()

    # ------------------------------------------------------------------ state

    _STATE = (
        "_op_at",
        "_slot_at",
        "_p_at",
        "_job_ready",
        "_job_end",
        "_machine_at",
        "_shown",
        "_was_running",
        "_machine_ready",
        "_loads",
        "_start",
        "_order",
        "_left",
        "_makespan",
        "_now",
        "_est",
        "_time",
    )

    def reset(self, rows: Any = None) -> tuple[Any, Any]:
        """Instances back to t=0, nothing scheduled: all, or the rows given.

        Args:
            rows: ``(B,)`` bool, the instances to reset (an array of the backend or
                numpy); ``None``: every one.

        Returns:
            ``(features, masks)`` of every row: features as in :class:`BatchStep`
            (``None`` when off) and the ``(B, J)`` candidate masks.
        """
        if rows is not None:
            return self._reset_rows(rows)
        xp = self.backend
        batch, jobs, spare = self.batch_size, self.n_jobs, self.n_machines + 1
        never, dtype = self._never, self._time_dtype
        self._op_at = xp.copy(self._first_op)
        self._slot_at = self._op_slot[self._op_at]
        self._p_at = self._op_time[self._op_at]
        self._job_ready = xp.where(
            self._n_ops > 0,
            xp.full((jobs * batch,), 0, dtype),
            xp.full((jobs * batch,), never, dtype),
        )
        self._job_end = xp.full((jobs * batch,), 0, dtype)
        self._machine_at = self._op_machine[self._op_at]
        # Blocks 1-5 as shown now, and whether each job was running when they were.
        self._shown = xp.contiguous(self._op_shown[:, self._op_at])
        self._was_running = xp.full((jobs, batch), False, "bool")
        self._machine_ready = xp.full((spare * batch,), 0, dtype)
        self._loads = xp.copy(self._initial_loads)
        size = jobs * self._width * batch
        self._start = xp.full((size,), -1, dtype)
        self._order = xp.full((size,), -1, "int64")
        self._left = xp.copy(self._total_ops)
        self.dones = self._left == 0
        self._makespan = xp.full((batch,), 0, dtype)
        self._chosen_machine = xp.full((batch,), -1, self._machine_dtype)
        self._chosen_end = xp.full((batch,), 0, dtype)
        self._steps = 0
        if self._has_zero:
            self._pending_job = xp.full((jobs, batch), False, "bool")
            self._pending_slot = xp.full((spare * batch,), False, "bool")
        self._now = xp.full((batch,), 0, dtype)
        self._est = xp.copy(self._job_ready)
        self._update_candidates()
        self._time = self._objective_time()
        names = self._STATE + (("_pending_job", "_pending_slot") if self._has_zero else ())
        self._template = {name: xp.copy(getattr(self, name)) for name in names}
        return self._features() if self.with_features else None, self.masks

    def _reset_rows(self, rows: Any) -> tuple[Any, Any]:
        xp = self.backend
        batch = self.batch_size
        chosen = xp.as_flags(rows)
        if tuple(chosen.shape) != (batch,):
            raise ValueError(f"rows: expected shape ({batch},), got {tuple(chosen.shape)}")
        for name, initial in self._template.items():
            state = getattr(self, name)
            rows_last = state.reshape(-1, batch)  # a view, unless state is not contiguous
            rows_last[:, chosen] = initial.reshape(-1, batch)[:, chosen]
            setattr(self, name, rows_last.reshape(state.shape))
        self.dones = self._left == 0
        self._update_candidates()
        return self._features() if self.with_features else None, self.masks

    @property
    def masks(self) -> Any:
        """``(B, J)`` bool: the jobs each instance may choose now (a view)."""
        return self._mask.T

    def step(self, actions: Any) -> BatchStep:
        """Schedule the chosen job's next operation in every unfinished instance.

        Args:
            actions: ``(B,)`` job indices (an array of the backend, numpy or a list);
                ignored in finished instances.

        Returns:
            The new features, masks, rewards and dones.

        Raises:
            InvalidBatchActionError: An action of an unfinished instance is out of range
                or not a candidate (naming the first such instance).
        """
        xp = self.backend
        batch = self.batch_size
        live = xp.nonzero(~self.dones)
        chosen = xp.as_index(actions)
        if tuple(chosen.shape) != (batch,):
            raise InvalidBatchActionError(
                f"actions: expected shape ({batch},), got {tuple(chosen.shape)}"
            )
        action = chosen[live]
        valid = (action >= 0) & (action < self.n_jobs)
        if bool(valid.all()):
            job = action * batch + live
            valid = self._mask.reshape(-1)[job]
        if not bool(valid.all()):
            bad = int(live[xp.nonzero(~valid)[0]])
            raise InvalidBatchActionError(
                f"instance {bad}: action {int(chosen[bad])} is not a candidate job"
                f" (mode {self.mode})"
            )
        op = self._op_at[job]
        slot = self._slot_at[job]
        start = self._est[job]
        duration = self._op_time[op]
        end = start + duration
        self._start[op] = start
        self._order[op] = self._steps
        self._machine_ready[slot] = end
        following = op + batch
        self._op_at[job] = following
        next_slot = self._op_slot[following]
        self._slot_at[job] = next_slot
        if self.mode == "active":
            self._p_at[job] = self._op_time[following]
        ready = xp.where(self._last_op[following], self._never, end)
        self._job_ready[job] = ready
        if self.with_features:
            self._loads[slot] = self._loads[slot] - duration
            self._job_end[job] = end
        self._makespan[live] = xp.maximum(self._makespan[live], end)
        self._left[live] = self._left[live] - 1
        self.dones = self._left == 0
        # Earliest starts: the jobs waiting for the chosen machine can start no earlier
        # than its new end; the chosen job's own is recomputed.
        self._chosen_machine[:] = -1
        self._chosen_machine[live] = self._machine_at[job]
        self._machine_at[job] = self._op_machine[following]
        self._chosen_end[live] = end
        waits = self._machine_at.reshape(-1, batch) == self._chosen_machine
        self._est = xp.maximum(self._est, (waits * self._chosen_end).reshape(-1))
        self._est[job] = xp.maximum(ready, self._machine_ready[next_slot])
        if self._has_zero:
            zero = duration == 0
            self._pending_job.reshape(-1)[job] = zero
            self._pending_slot[slot] = zero
        self._steps += 1
        self._update_candidates()
        if self.with_features:
            self._show_chosen(job, op, end)
        time = self._objective_time()
        rewards = (self._time - time) / self._mean_load
        self._time = time
        features = self._features() if self.with_features else None
        return BatchStep(features, self.masks, rewards, self.dones)

    # ----------------------------------------------------------------- results

    def makespans(self) -> Any:
        """``(B,)`` float64: the latest end scheduled so far (the makespan once done)."""
        return self.backend.to_float(self._makespan)

    def _batch_major(self, flat: Any) -> np.ndarray:
        """A flat (J, K + 1, B) array as numpy (B, J, K), the padding column dropped."""
        table = self.backend.to_numpy(flat).reshape(self.n_jobs, self._width, self.batch_size)
        return np.ascontiguousarray(np.moveaxis(table, -1, 0)[:, :, :-1])

    def start_times(self) -> np.ndarray:
        """``(B, J, K)`` numpy start times (NaN: not scheduled yet, or padding)."""
        start = self._batch_major(self._start).astype(np.float64)
        start[start < 0] = np.nan
        return start

    def end_times(self) -> np.ndarray:
        """``(B, J, K)`` numpy end times (NaN: not scheduled yet, or padding)."""
        return self.start_times() + self._batch_major(self._op_time)

    def decision_steps(self) -> np.ndarray:
        """``(B, J, K)`` numpy: the step at which each operation was scheduled (-1: not)."""
        return self._batch_major(self._order)

    def machine_sequences(self, row: int) -> list[list[tuple[int, int]]]:
        """Instance ``row``'s ``(job, operation)`` pairs per machine, in decision order.

        In ``active`` and ``append`` this is the order the machine runs them; replaying
        these sequences in the factory gives the same start and end times.
        """
        instance = self.instances[row]
        order = self.decision_steps()[row]
        machines = np.asarray(instance.machines)
        sequences: list[list[tuple[int, int]]] = [[] for _ in range(instance.n_machines)]
        n, k = machines.shape
        decided = [(int(order[j, o]), j, o) for j in range(n) for o in range(k) if order[j, o] >= 0]
        for _, job, operation in sorted(decided):
            sequences[int(machines[job, operation])].append((job, operation))
        return sequences

    def rule_actions(self, rule: str) -> Any:
        """``(B,)`` the candidate a dispatching rule picks in each row (0 once finished).

        Ties go to the lowest job index, as ``dispatch_earliest(tie_break="job")`` and
        job-shop-lib break them.

        Args:
            rule: ``"spt"``, ``"lpt"``, ``"mwkr"``, ``"lwkr"`` or ``"mopnr"`` (Panwalkar &
                Iskander 1977; work and operations remaining count the next one).

        Raises:
            ValueError: Another rule.
        """
        xp = self.backend
        table = self._op_priority.get(rule.strip().lower() if isinstance(rule, str) else "")
        if table is None:
            raise ValueError(
                f"unknown rule {rule!r} for the batched core; choose from "
                f"{', '.join(self._op_priority)} (or random actions)"
            )
        priority = table[self._op_at].reshape(-1, self.batch_size)
        return xp.column_argmax(xp.where(self._mask, priority, float("-inf") + 0 * priority))

    def random_actions(self, generator: Any) -> Any:
        """``(B,)`` uniformly random candidates, one per row (0 in finished rows).

        Draws B numbers, not B x J: row b takes its ``floor(u_b * count_b)``-th candidate.

        Args:
            generator: From :meth:`Backend.generator` (a numpy ``Generator`` for numpy).
        """
        return random_candidates(self.backend, self._mask, generator)

    # --------------------------------------------------------------- internals

    def _objective_time(self) -> Any:
        """The time whose increase is the reward.

        The clock in ``non_delay`` (the makespan once done), the makespan so far in the
        other modes.
        """
        if self.mode == "non_delay":
            return self.backend.where(self.dones, self._makespan, self._now)
        return self.backend.copy(self._makespan)  # updated in place by the next step

    def _update_candidates(self) -> None:
        """The clock and the masks from every job's earliest start."""
        xp = self.backend
        batch = self.batch_size
        table = self._est.reshape(-1, batch)
        earliest = xp.column_min(table)  # inf once done
        if self.mode == "append":
            self._now = earliest
            self._mask = table < self._never
            return
        if self.mode == "active":
            self._now = earliest
            completion = table + self._p_at.reshape(-1, batch)
            best = xp.column_min(completion)
            machine = self._machine_at.reshape(-1, batch)
            attaining = xp.where(completion == best, machine, self.n_machines + 0 * machine)
            chosen_machine = xp.column_min(attaining)
            before = table < best
            if self._has_zero:
                before = before | ((completion == best) & (table < self._never))
            self._mask = (machine == chosen_machine) & before
            return
        if not self._has_zero:
            self._now = xp.where(self.dones, self._makespan, earliest)
            self._mask = table == self._now
            return
        # A zero-duration operation started now completes after the choices still due
        # now (the factory's event order): its job and machine wait until then.
        blocked = self._pending_job | self._pending_slot[self._slot_at].reshape(-1, batch)
        due = (table == self._now) & ~blocked
        keep = xp.column_any(due)
        self._pending_job = self._pending_job & keep
        self._pending_slot = (self._pending_slot.reshape(-1, batch) & keep).reshape(-1)
        self._now = xp.where(keep, self._now, xp.where(self.dones, self._makespan, earliest))
        self._mask = xp.where(keep, due, table == self._now)

    def _show_chosen(self, job: Any, op: Any, end: Any) -> None:
        """Blocks 1-5 of the jobs just chosen: their new operation while it runs.

        In ``active`` and ``append`` a job shows its next unscheduled operation.
        """
        xp = self.backend
        if self.mode != "non_delay":
            self._shown[:, job] = self._op_shown[:, op + self.batch_size]
            return
        now = self._now[job % self.batch_size]
        running = end > now
        shown = xp.where(running, self._op_shown[:, op], self._op_shown[:, op + self.batch_size])
        shown[2] = self._op_shown[2, op + self.batch_size]  # the work after it
        self._shown[:, job] = shown
        self._was_running.reshape(-1)[job] = running

    def _features(self) -> Any:
        """The 11 blocks of ``shopfloor/JobShop-v0``'s observation, for every row.

        Equal to the single env's observation in the same mode (see its spec sheet):
        in ``non_delay`` a running job shows its running operation and the clock is the
        simulated time; in ``active`` and ``append`` (:meth:`_scheduled_features`) a job
        shows its next unscheduled operation and the clock is the reference time ``t``,
        the earliest start of any unscheduled operation.
        """
        xp = self.backend
        batch, jobs, machines = self.batch_size, self.n_jobs, self.n_machines
        scale = self._time_scale
        now = xp.where(self.dones, self._makespan, self._now)
        clock = now / scale
        if self.mode != "non_delay":
            return self._scheduled_features(clock)
        job_end = self._job_end.reshape(jobs, batch)
        ready = self._job_ready.reshape(jobs, batch)
        est = self._est.reshape(jobs, batch)
        running = job_end > now
        alive = ready < self._never
        # A running job shows its running operation in blocks 1, 2, 4, 5 and 7, as the
        # factory's event log does until that operation completes.
        # Its next machine is free when its own operation ends; a waiting job's when
        # its earliest start is, unless that is its own ready time (then before now).
        free = xp.where(running, job_end, est) / scale
        free -= clock
        waiting = xp.nonzero((alive & ~running).reshape(-1))
        queued = xp.bincount(self._slot_at[waiting], None, (machines + 1) * batch)
        out = xp.full((JOB_FEATURES * jobs + MACHINE_FEATURES * machines, batch), 0.0, "float32")
        out[:jobs] = xp.to_float32(self._mask)
        finished = xp.nonzero((self._was_running & ~running).reshape(-1))
        if int(finished.shape[0]):
            self._shown[:, finished] = self._op_shown[:, self._op_at[finished]]
        self._was_running = running
        out[jobs : 6 * jobs] = self._shown.reshape(5 * jobs, batch)
        out[6 * jobs : 7 * jobs] = xp.clip(clock - ready / scale, 0.0, 1.0)
        out[7 * jobs : 8 * jobs] = xp.clip(free, 0.0, 1.0)
        out[7 * jobs : 8 * jobs] *= alive | running
        machine_free = self._machine_ready.reshape(-1, batch)[:machines] / scale
        rest = 8 * jobs
        out[rest : rest + machines] = xp.clip(machine_free - clock, 0.0, 1.0)
        rest += machines
        out[rest : rest + machines] = queued.reshape(-1, batch)[:machines] / self._job_count
        rest += machines
        out[rest:] = self._loads.reshape(-1, batch)[:machines] / self._load_scale
        return out.T

    def _scheduled_features(self, clock: Any) -> Any:
        """The blocks of ``active`` and ``append``: scheduled operations, ``t`` = ``clock``."""
        xp = self.backend
        batch, jobs, machines = self.batch_size, self.n_jobs, self.n_machines
        scale = self._time_scale
        out = xp.full((JOB_FEATURES * jobs + MACHINE_FEATURES * machines, batch), 0.0, "float32")
        out[:jobs] = xp.to_float32(self._mask)
        out[jobs : 6 * jobs] = self._shown.reshape(5 * jobs, batch)
        ready = self._job_ready.reshape(jobs, batch)
        out[6 * jobs : 7 * jobs] = xp.clip(clock - ready / scale, 0.0, 1.0)
        free = self._machine_ready[self._slot_at].reshape(jobs, batch) / scale
        out[7 * jobs : 8 * jobs] = xp.clip(free - clock, 0.0, 1.0)
        machine_free = self._machine_ready.reshape(-1, batch)[:machines] / scale
        rest = 8 * jobs
        out[rest : rest + machines] = xp.clip(machine_free - clock, 0.0, 1.0)
        rest += machines
        queued = xp.bincount(self._slot_at, None, (machines + 1) * batch)
        out[rest : rest + machines] = queued.reshape(-1, batch)[:machines] / self._job_count
        rest += machines
        out[rest:] = self._loads.reshape(-1, batch)[:machines] / self._load_scale
        return out.T


def random_candidates(xp: Backend, mask: Any, generator: Any) -> Any:
    """Per column of an ``(N, B)`` mask, a uniformly random true row (0 where none).

    Draws B numbers, not N x B: column b takes its ``floor(u_b * count_b)``-th true row.
    """
    options, batch = mask.shape
    candidates = xp.nonzero(xp.contiguous(mask.T).reshape(-1))  # column by column
    total = int(candidates.shape[0])
    if total == 0:
        return xp.full((batch,), 0, "int64")
    counts = xp.bincount(candidates // options, None, batch)
    first = xp.cumsum(counts) - counts
    draw = xp.to_int(xp.random_float64(batch, generator) * counts)
    picked = candidates[xp.clip_int(first + draw, 0, total - 1)] % options
    return xp.where(counts > 0, picked, 0 * picked)
