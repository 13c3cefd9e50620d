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
            the core computes no features. :class:`BatchJobShop` returns one
            C-contiguous buffer that the next ``step`` or ``reset`` overwrites: copy
            what you keep (numpy: a read-only view; do not write into a torch one).
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

    The state is stored job-major (a job's entries of all B instances side by side), so
    the reductions over jobs run along contiguous memory; ``masks`` are returned as
    ``(B, J)`` views of it. The features are kept batch-major, in one buffer that each
    step updates (see :class:`BatchStep`).

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
        # is overwritten by the next operation's for a running job): one table per
        # distinct instance, (J * (K + 1), 5), small enough to stay in cache.
        shown = np.stack(
            [
                np.arange(width)[None, None, :] / np.maximum(tables.n_ops, 1)[:, :, None],
                tables.op_time / tables.time_scale[:, None, None],
                tables.work_feature,
                tables.next_feature,
                tables.following_feature,
            ],
            axis=-1,
        )
        first_row: dict[int, int] = {}  # per distinct instance object, its first row
        for row, item in enumerate(self.instances):
            first_row.setdefault(id(item), row)
        first_rows = list(first_row.values())
        kind_of = {key: kind for kind, key in enumerate(first_row)}
        kinds = [kind_of[id(item)] for item in self.instances]
        self._shown_table = xp.asarray(shown[first_rows].reshape(-1, 5), "float32")
        self._table_start = xp.asarray(np.asarray(kinds) * jobs * width, "int64")
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
        if self.with_features:
            self._allocate_features()
        self.reset()

    # ------------------------------------------------------------------ state

    _STATE = (
        "_op_at",
        "_slot_at",
        "_p_at",
        "_job_ready",
        "_job_end",
        "_machine_at",
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
        return self._sync_features() if self.with_features else None, self.masks

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
        return self._sync_features() if self.with_features else None, self.masks

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
        features = None
        if self.with_features:
            next_machine = self._machine_at[job]  # M once done
            features = self._update_features(live, action, job, slot, end, ready, next_machine)
        time = self._objective_time()
        rewards = (self._time - time) / self._mean_load
        self._time = time
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

    # ---------------------------------------------------------------- features
    #
    # The features live in one (B, J * 8 + M * 3) float32 buffer, batch-major as a
    # policy reads it. A step writes blocks 1-5, 9 and 10 of the chosen jobs and
    # machines only; blocks 0 and 6-8 follow the clock and are rewritten whole, from
    # one float64 source row per instance, as the single env computes them:
    #
    #     [-(job ready) (J) | machine free (M) | 0: no machine (1)]
    #
    # times divided by the row's time scale (a finished job is "ready" at ``never``, so
    # it shows 0). The clock minus the ready times and the machine times minus the
    # clock (one subtraction of the clock, negated in the job columns: exact), computed
    # in float64 as the single env does, are rounded to float32 and clipped to [0, 1]
    # (the same numbers as clipping first): blocks 6 and 8; block 7 is gathered from
    # each job's next machine's column (in non_delay while the job runs, from the
    # machine it runs on, free when it ends). Equal to the single env's observation
    # bit for bit.

    def _allocate_features(self) -> None:
        """The feature buffer, its blocks (views), the tables and scratch of the features."""
        xp = self.backend
        batch, jobs, machines = self.batch_size, self.n_jobs, self.n_machines
        size = JOB_FEATURES * jobs + MACHINE_FEATURES * machines
        # One spare entry after the buffer takes the writes meant for no machine.
        self._out_flat = xp.full((batch * size + 1,), 0.0, "float32")
        self._out = self._out_flat[: batch * size].reshape(batch, size)
        out = self._out
        self._startable_block = out[:, :jobs]
        self._waited_block = out[:, 6 * jobs : 7 * jobs]
        self._free_block = out[:, 7 * jobs : 8 * jobs]
        self._remaining_block = out[:, 8 * jobs : 8 * jobs + machines]
        self._queued_block = out[:, 8 * jobs + machines : 8 * jobs + 2 * machines]
        load_column = JOB_FEATURES * jobs + 2 * machines  # block 10's first column
        self._load_column = load_column
        self._machine_column = jobs
        width = jobs + machines + 1
        self._width_src = width
        self._src_rows = self._rows * width  # each row's first source column
        self._src_machines = self._src_rows + self._machine_column
        self._out_loads = self._rows * size + load_column  # each row's block 10
        self._out_rows = self._rows * size
        self._x32 = xp.full((batch, width), 0.0, "float32")
        # The clock, negated in the job columns: source - this = the clock - ready times
        # there (the source holds them negated), the times - the clock elsewhere.
        sign = np.ones((batch, width))
        sign[:, :jobs] = -1.0
        self._clock_sign = xp.asarray(sign.reshape(-1), "float64")
        self._free = xp.full((batch, jobs), 0.0, "float32")
        # Where block 9 of each source column is in the buffer (the spare entry for the
        # columns of no machine).
        queued_at = np.full((batch, width), batch * size, dtype=np.int64)
        queued_at[:, jobs : jobs + machines] = (
            np.arange(batch)[:, None] * size + 8 * jobs + machines + np.arange(machines)
        )
        self._queued_out = xp.asarray(queued_at.reshape(-1), "int64")
        # Columns of blocks 1-5 of job 0; job j's are these + j.
        self._shown_columns = xp.asarray(np.arange(1, 6)[None, :] * jobs, "int64")
        # Blocks 1-5 of an operation while it runs: block 3 is the work after it.
        running_table = xp.copy(self._shown_table)
        running_table[:-1, 2] = self._shown_table[1:, 2]  # a job's last row is its "done"
        self._running_table = running_table
        self._returned = self._out if xp.is_torch else self._out.view()
        if not xp.is_torch:
            self._returned.flags.writeable = False

    def _sync_features(self) -> Any:
        """Every feature and the state behind them, from the core's state.

        Returns:
            The feature buffer (see :class:`BatchStep`).
        """
        xp = self.backend
        batch, jobs, machines = self.batch_size, self.n_jobs, self.n_machines
        spare = machines + 1
        scale = self._time_scale[:, None]
        ready = self._job_ready.reshape(jobs, batch).T
        job_end = self._job_end.reshape(jobs, batch).T
        sections = [-(ready / scale), self._machine_ready.reshape(spare, batch).T / scale]
        machine_at = xp.to_int(self._machine_at.reshape(jobs, batch).T)
        slot = machine_at + self._src_machines[:, None]  # (B, J) source column
        free = slot
        table_row = self._op_at // batch + self._table_start[self._op_at % batch]
        self._bm_table = xp.contiguous(table_row.reshape(jobs, batch).T).reshape(-1)
        shown = self._shown_table[table_row]  # (J * B, 5)
        queued = ready < self._never
        if self.mode == "non_delay":
            now = xp.where(self.dones, self._makespan, self._now)
            running = job_end > now[:, None]
            self._running = self._job_end > xp.repeat_rows(now, jobs)  # job-major
            if self._has_zero:  # an operation of no time runs until the factory ends it
                running = running | xp.contiguous(self._pending_job.T)
                self._running = self._running | self._pending_job.reshape(-1)
            at_previous = xp.clip_int(self._op_at - batch, 0, self._never)
            previous = self._op_machine[at_previous].reshape(jobs, batch).T
            free = xp.where(running, xp.to_int(previous) + self._src_machines[:, None], slot)
            queued = queued & ~running
            # A running job shows its running operation, the one before its next.
            before = self._running_table[xp.clip_int(table_row - 1, 0, self._never)]
            shown = xp.where(xp.contiguous(running.T).reshape(-1, 1), before, shown)
        self._src = xp.contiguous(xp.concatenate(sections, axis=1)).reshape(-1)
        self._bm_slot = xp.contiguous(slot).reshape(-1)
        self._free_index = xp.contiguous(free).reshape(-1)
        waiting = self._bm_slot[xp.contiguous(queued).reshape(-1)]
        self._queued = xp.to_float(xp.bincount(waiting, None, batch * self._width_src))
        out = self._out
        for block in range(5):
            columns = slice((block + 1) * jobs, (block + 2) * jobs)
            out[:, columns] = shown[:, block].reshape(jobs, batch).T
        loads = self._loads.reshape(spare, batch)[:machines] / self._load_scale
        out[:, self._load_column :] = loads.T
        counts = self._queued.reshape(batch, -1)[:, jobs : jobs + machines]
        xp.divide_into(self._queued_block, counts, self._job_count[:, None])
        return self._write_clock_blocks()

    def _update_features(
        self,
        live: Any,
        action: Any,
        job: Any,
        slot: Any,
        end: Any,
        ready: Any,
        next_machine: Any,
    ) -> Any:
        """The features after the chosen operations started.

        Args:
            live: The rows that were unfinished.
            action: Their chosen jobs.
            job: The same, as flat (J, B) indices.
            slot: The machines of the operations (flat (M + 1, B) indices).
            end: Their ends.
            ready: When each chosen job is next ready (``never`` once done).
            next_machine: The machine of each chosen job's next operation (M: none).

        Returns:
            The feature buffer (see :class:`BatchStep`).
        """
        xp = self.backend
        jobs = self.n_jobs
        out = self._out_flat
        scale = self._time_scale[live]
        scaled_end = end / scale
        row_start = self._src_rows[live]
        chosen = live * jobs + action  # the chosen jobs, flat (B, J)
        ready_at = row_start + action
        self._src[ready_at] = -(ready / scale)
        machine = slot // self.batch_size
        machines_start = self._src_machines[live]
        machine_at = machines_start + machine
        self._src[machine_at] = scaled_end
        self._queued[machine_at] = self._queued[machine_at] - 1.0  # left its queue
        job_count = self._job_count[live]
        out[self._queued_out[machine_at]] = xp.to_float32(self._queued[machine_at] / job_count)
        next_at = machines_start + next_machine
        self._bm_slot[chosen] = next_at
        load = self._loads[slot] / self._load_scale[live]
        out[self._out_loads[live] + machine] = xp.to_float32(load)
        columns = (self._out_rows[live] + action)[:, None] + self._shown_columns  # (L, 5)
        table_row = self._bm_table[chosen]
        self._bm_table[chosen] = table_row + 1
        if self.mode != "non_delay":
            self._queued[next_at] = self._queued[next_at] + 1.0
            queued = xp.to_float32(self._queued[next_at] / job_count)
            out[self._queued_out[next_at]] = queued  # finished jobs: the spare entry
            self._free_index[chosen] = next_at
            out[columns] = xp.take_rows(self._shown_table, table_row + 1)
            return self._write_clock_blocks()
        # non_delay: the chosen jobs show their new operation, as running; the jobs
        # whose operation ended by now (the chosen ones too, when it took no time) show
        # their next one and join its machine's queue.
        out[columns] = xp.take_rows(self._running_table, table_row)
        self._free_index[chosen] = machine_at  # runs there: free when it ends
        self._running[job] = True
        now = xp.where(self.dones, self._makespan, self._now)
        # Which jobs run, job-major (J, B): the comparison runs along B.
        running = (self._job_end.reshape(jobs, -1) > now).reshape(-1)
        if self._has_zero:  # an operation of no time runs until the factory ends it
            running = running | self._pending_job.reshape(-1)
        ended = xp.nonzero(self._running & ~running)
        self._running = running
        if int(ended.shape[0]):
            rows, jobs_done = ended % self.batch_size, ended // self.batch_size
            finished = rows * jobs + jobs_done  # flat (B, J)
            first = rows * self._out.shape[1] + jobs_done
            shown = xp.take_rows(self._shown_table, self._bm_table[finished])
            out[first[:, None] + self._shown_columns] = shown
            waiting_at = self._bm_slot[finished]
            self._free_index[finished] = waiting_at
            xp.add_at(self._queued, waiting_at, 1.0)
            queued = xp.to_float32(self._queued[waiting_at] / self._job_count[rows])
            out[self._queued_out[waiting_at]] = queued
        return self._write_clock_blocks(now)

    def _write_clock_blocks(self, now: Any = None) -> Any:
        """Blocks 0 and 6-8: the masks and what depends on the clock.

        The clock is the simulated time in ``non_delay`` and the reference time ``t`` (the
        earliest start of any unscheduled operation) in ``active`` and ``append``; the
        makespan once done.
        """
        xp = self.backend
        batch, jobs, machines, width = (
            self.batch_size,
            self.n_jobs,
            self.n_machines,
            self._width_src,
        )
        if now is None:
            now = xp.where(self.dones, self._makespan, self._now)
        xp.copy_into(self._startable_block, xp.contiguous(self._mask.T))
        clock = now / self._time_scale
        x32 = self._x32
        clocks = xp.repeat(clock, width)  # contiguous: no broadcasting in the loops below
        clocks *= self._clock_sign
        # Computed in float64, rounded to float32 once at the write; clipping after the
        # rounding gives the same numbers (0 and 1 are exact, rounding is monotone).
        xp.subtract_into(x32.reshape(-1), self._src, clocks)
        xp.clip_unit(x32)
        xp.copy_into(self._waited_block, x32[:, :jobs])
        xp.take_into(self._free, x32.reshape(-1), self._free_index.reshape(batch, jobs))
        xp.copy_into(self._free_block, self._free)
        xp.copy_into(self._remaining_block, x32[:, jobs : jobs + machines])
        return self._returned


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
