"""The batched flexible job shop: an action is a (job, machine) pair.

As :class:`~shopfloor.batch.BatchJobShop`, for instances whose operations have
alternative machines (:class:`~shopfloor.instances.FlexibleJobShopInstance`; jobs may
have different numbers of operations). Every unfinished job's next operation with each
of its machines is a pair with ``est = max(job_ready, machine_ready)`` and
``ect = est + p(operation, machine)``; the modes pick candidate pairs:

* ``non_delay``: the pairs whose ``est`` is the earliest (the factory's dispatch: the
  jobs waiting at idle machines); an operation of zero duration completes after the
  other choices due at its instant;
* ``active``: ``C* = min ect``, ``m*`` the lowest machine of a pair attaining it; the
  pairs on ``m*`` with ``est < C*`` (and those attaining ``C*``);
* ``append``: every pair.

The action of row b is ``job * M + machine`` (M: the most machines in the batch); the
masks are ``(B, J * M)``. The chosen operation starts at its ``est`` on the chosen
machine, so the schedule replays in the factory with the same times.

With ``features=True`` each step also returns ``shopfloor/JobShop-v0``'s observation of
every row (the 11 blocks, float32, equal bit for bit to the single env's on the same
flexible instance, mode and decisions): an operation counts at its first machine in
blocks 4, 5, 7, 9 and 10 and with its fastest time in blocks 2, 3 and 10; block 8 is the
time on the machine it runs on; times are divided by the longest operation over all
alternatives. In ``non_delay`` a started operation shows in blocks 1, 2, 4, 5 and 7
until it completes (for an operation of zero duration: until the factory completes it,
after the other choices due at its instant).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from shopfloor.batch._backend import Backend, select_backend
from shopfloor.batch._core import (
    JOB_FEATURES,
    MACHINE_FEATURES,
    BatchStep,
    InvalidBatchActionError,
    check_mode,
    random_candidates,
)
from shopfloor.instances import FlexibleJobShopInstance, JobShopInstance, load_instance


def _as_flexible(item: FlexibleJobShopInstance | JobShopInstance | str) -> FlexibleJobShopInstance:
    instance = load_instance(item) if isinstance(item, str) else item
    if isinstance(instance, FlexibleJobShopInstance):
        return instance
    if isinstance(instance, JobShopInstance):  # one alternative per operation
        return FlexibleJobShopInstance(
            instance.name,
            tuple(
                tuple(((machine, time),) for machine, time in zip(machines, times, strict=True))
                for machines, times in zip(instance.machines, instance.durations, strict=True)
            ),
            machine_count=instance.n_machines,
        )
    raise ValueError(f"expected a job-shop instance or a name, got {type(instance).__name__}")


class BatchFlexibleJobShop:
    """B flexible job shops scheduled together; the action picks job and machine.

    Example:
        >>> from shopfloor.batch import BatchFlexibleJobShop
        >>> core = BatchFlexibleJobShop(["mk01"] * 4, mode="active", features=True)
        >>> features, masks = core.reset()
        >>> features.shape, masks.shape
        ((4, 98), (4, 60))

    Args:
        instances: Flexible (or classic) instances or bundled names, one per row.
        mode: ``"non_delay"`` (default), ``"active"`` or ``"append"``.
        backend: ``"numpy"`` or ``"torch"``.
        device: For torch: ``"auto"``, ``"cpu"``, ``"cuda[:N]"``.
        features: Compute ``shopfloor/JobShop-v0``'s observation at every step (off by
            default: schedules and rules need only the masks).

    Raises:
        ValueError: No instances, an unknown mode, backend or device.
    """

    def __init__(
        self,
        instances: Sequence[FlexibleJobShopInstance | JobShopInstance | str],
        mode: str = "non_delay",
        *,
        backend: str = "numpy",
        device: str = "auto",
        features: bool = False,
    ):
        if isinstance(instances, str) or len(instances) == 0:
            raise ValueError("instances: give a non-empty sequence of instances or names")
        self.instances = [_as_flexible(item) for item in instances]
        self.mode = check_mode(mode)
        self.backend: Backend = select_backend(backend, device)
        self.with_features = bool(features)
        batch = len(self.instances)
        jobs = max(item.n_jobs for item in self.instances)
        width = max(item.operations_per_job for item in self.instances) + 1
        machines = max(item.n_machines for item in self.instances)
        self.batch_size, self.n_jobs, self.n_machines = batch, jobs, machines
        self.max_operations = width - 1
        self._width = width
        total = sum(
            max(time for op in routing for _, time in op)
            for item in self.instances
            for routing in item.operations
        ) * max(self.max_operations, 1)
        dtype = "int32" if 2 * total < 2**31 - 2 else "int64"  # est + p fits
        self._dtype, self._never = dtype, int(np.iinfo(dtype).max)
        times = np.full((jobs, width, machines, batch), self._never, dtype=np.int64)
        n_ops = np.zeros((jobs, batch), dtype=np.int64)
        fastest_op = np.zeros((jobs, width, batch))
        for row, item in enumerate(self.instances):
            for job, routing in enumerate(item.operations):
                n_ops[job, row] = len(routing)
                for step, op in enumerate(routing):
                    for machine, time in op:
                        times[job, step, machine, row] = time
                    fastest_op[job, step, row] = min(time for _, time in op)
        fastest = fastest_op.sum(axis=(0, 1))
        # Rules' job priorities per operation when it is next: work left counts every
        # remaining operation at its fastest time (as the factory's), this one included.
        work_left = np.cumsum(fastest_op[:, ::-1], axis=1)[:, ::-1]
        operations_left = np.maximum(n_ops[:, None, :] - np.arange(width)[None, :, None], 0)
        xp = self.backend
        self._op_time = xp.asarray(times.ravel(), dtype)
        self._n_ops = xp.asarray(n_ops.ravel(), "int64")
        self._total_ops = xp.asarray(n_ops.sum(axis=0), "int64")
        counts = np.array([item.n_machines for item in self.instances], dtype=np.float64)
        self._mean_load = xp.asarray(np.maximum(fastest / counts, 1e-9), "float64")
        self._machine_index = xp.asarray(np.arange(machines)[None, :, None], "int64")
        base = np.arange(jobs)[:, None] * width * batch + np.arange(batch)[None, :]
        self._job_base = xp.asarray(base.ravel(), "int64")
        self._rows = xp.asarray(np.arange(batch), "int64")
        self._job_rows = xp.asarray(np.tile(np.arange(batch), jobs), "int64")
        self._work_left = xp.asarray(work_left.ravel(), "float64")
        self._operations_left = xp.asarray(operations_left.ravel(), "float64")
        real = np.arange(width)[None, :, None, None] < n_ops[:, None, None, :]
        self._has_zero = bool(((times == 0) & real).any())
        if self.with_features:
            self._build_feature_tables(fastest_op, n_ops)
        self.reset()

    def _build_feature_tables(self, fastest_op: np.ndarray, n_ops: np.ndarray) -> None:
        """Per operation and per row, what the observation shows (as JobShop-v0 builds it).

        Args:
            fastest_op: ``(J, K + 1, B)`` each operation's fastest time (0: none).
            n_ops: ``(J, B)`` operations per job.
        """
        xp = self.backend
        jobs, width, batch = fastest_op.shape
        machines = self.n_machines
        home = np.full((jobs, width, batch), machines, dtype=np.int64)  # first machine
        scalars = np.zeros((3, batch))  # longest operation, jobs, machines
        for row, item in enumerate(self.instances):
            for job, routing in enumerate(item.operations):
                home[job, : len(routing), row] = [op[0][0] for op in routing]
            longest = max(time for routing in item.operations for op in routing for _, time in op)
            scalars[0, row] = max(float(longest), 1e-9)
            scalars[1, row] = item.n_jobs
            scalars[2, row] = item.n_machines
        work_after = np.cumsum(fastest_op[:, ::-1], axis=1)[:, ::-1]
        work_scale = np.maximum(work_after[:, 0].max(axis=0), 1e-9)
        loads = np.zeros((machines + 1, batch))
        for row in range(batch):
            loads[:, row] = np.bincount(
                home[:, :, row].ravel(), fastest_op[:, :, row].ravel(), minlength=machines + 1
            )
        loads[machines] = 0.0
        load_scale = np.maximum(loads[:machines].max(axis=0), 1e-9)
        scale, counts = scalars[0], scalars[2]
        placed = home < machines
        next_feature = np.where(placed, (home + 1) / (counts + 1), 0.0)
        following = np.zeros_like(next_feature)
        following[:, :-1] = next_feature[:, 1:]
        shown = np.stack(
            [
                np.arange(width)[None, :, None] / np.maximum(n_ops, 1)[:, None, :],
                fastest_op / scale,
                work_after / work_scale,
                next_feature,
                following,
            ]
        )
        self._op_shown = xp.asarray(shown.reshape(5, -1), "float32")  # blocks 1 to 5
        self._op_home = xp.asarray(home.ravel(), "int64")
        self._op_fastest = xp.asarray(fastest_op.ravel(), "float64")
        self._initial_loads = xp.asarray(loads.ravel(), "float64")
        self._time_scale = xp.asarray(scale, "float64")
        self._load_scale = xp.asarray(load_scale, "float64")
        self._job_count = xp.asarray(scalars[1], "float64")

    _STATE = (
        "_next",
        "_job_ready",
        "_machine_ready",
        "_p_at",
        "_start",
        "_machine",
        "_order",
        "_left",
        "_makespan",
        "_now",
        "_time",
    )

    def reset(self, rows: Any = None) -> tuple[Any, Any]:
        """Instances back to t=0, nothing scheduled: all, or the rows given.

        Args:
            rows: ``(B,)`` bool, the instances to reset (an array of the backend or
                numpy); ``None``: every one.

        Returns:
            ``(features, masks)`` of every row: the ``(B, J * 8 + M * 3)`` float32
            features (``None`` when off) and the ``(B, J * M)`` masks.
        """
        if rows is not None:
            return self._reset_rows(rows)
        xp = self.backend
        batch, jobs, machines, dtype = self.batch_size, self.n_jobs, self.n_machines, self._dtype
        self._next = xp.full((jobs * batch,), 0, "int64")
        self._job_ready = xp.where(
            self._n_ops > 0,
            xp.full((jobs * batch,), 0, dtype),
            xp.full((jobs * batch,), self._never, dtype),
        )
        self._machine_ready = xp.full((machines * batch,), 0, dtype)
        first = np.arange(jobs * self._width * machines * batch).reshape(
            jobs, self._width, machines, batch
        )[:, 0]
        self._p_at = xp.copy(self._op_time[xp.asarray(first.ravel(), "int64")])
        size = jobs * self._width * batch
        self._start = xp.full((size,), -1, dtype)
        self._machine = xp.full((size,), -1, "int64")
        self._order = xp.full((size,), -1, "int64")
        self._left = xp.copy(self._total_ops)
        self.dones = self._left == 0
        self._makespan = xp.full((batch,), 0, dtype)
        self._now = xp.full((batch,), 0, dtype)
        self._steps = 0
        if self._has_zero:
            self._pending_job = xp.full((jobs, 1, batch), False, "bool")
            self._pending_machine = xp.full((1, machines, batch), False, "bool")
        if self.with_features:
            self._job_end = xp.full((jobs * batch,), 0, dtype)
            self._loads = xp.copy(self._initial_loads)
        self._update_candidates()
        self._time = self._objective_time()
        names = self._STATE + (("_pending_job", "_pending_machine") if self._has_zero else ())
        names += ("_job_end", "_loads") if self.with_features else ()
        self._template = {name: xp.copy(getattr(self, name)) for name in names}
        return self.features(), self.masks

    def _reset_rows(self, rows: Any) -> tuple[Any, Any]:
        xp = self.backend
        batch = self.batch_size
        chosen = xp.as_flags(rows)
        if tuple(chosen.shape) != (batch,):
            raise ValueError(f"rows: expected shape ({batch},), got {tuple(chosen.shape)}")
        for name, initial in self._template.items():
            state = getattr(self, name)
            rows_last = state.reshape(-1, batch)
            rows_last[:, chosen] = initial.reshape(-1, batch)[:, chosen]
            setattr(self, name, rows_last.reshape(state.shape))
        self.dones = self._left == 0
        self._update_candidates()
        return self.features(), self.masks

    @property
    def masks(self) -> Any:
        """``(B, J * M)`` bool: the (job, machine) pairs each instance may choose now."""
        return self._mask.reshape(-1, self.batch_size).T

    def step(self, actions: Any) -> BatchStep:
        """Schedule the chosen pair (``job * M + machine``) in every unfinished instance.

        Returns:
            ``BatchStep(features, masks, rewards, dones)`` (features ``None`` when off).

        Raises:
            InvalidBatchActionError: An action of an unfinished instance is not a candidate.
        """
        xp = self.backend
        batch, machines, width = self.batch_size, self.n_machines, self._width
        live = xp.nonzero(~self.dones)
        chosen = xp.as_index(actions)
        if tuple(chosen.shape) != (batch,):
            raise InvalidBatchActionError(
                f"actions: expected shape ({batch},), got {tuple(chosen.shape)}"
            )
        action = chosen[live]
        in_range = (action >= 0) & (action < self.n_jobs * machines)
        pair = xp.where(in_range, action, 0 * action) * batch + live
        valid = in_range & self._mask.reshape(-1)[pair]
        if not bool(valid.all()):
            bad = int(live[xp.nonzero(~valid)[0]])
            raise InvalidBatchActionError(
                f"instance {bad}: action {int(chosen[bad])} is not a candidate (job, machine)"
                f" pair (mode {self.mode})"
            )
        job_index = action // machines
        machine_index = action % machines
        job = job_index * batch + live
        start = self._est.reshape(-1)[pair]
        end = start + self._p_at[pair]
        step = self._next[job]
        op = (job_index * width + step) * batch + live
        self._start[op] = start
        self._machine[op] = machine_index
        self._order[op] = self._steps
        self._machine_ready[machine_index * batch + live] = end
        following = step + 1
        last = following >= self._n_ops[job]
        self._job_ready[job] = xp.where(last, self._never + 0 * end, end)
        self._next[job] = following
        # The next operation's time on every machine (never where it has no alternative).
        columns = self._machine_index.reshape(-1, 1)
        source = ((job_index * width + following) * machines + columns) * batch + live
        target = (job_index * machines + columns) * batch + live
        self._p_at[target] = self._op_time[xp.clip_int(source, 0, self._op_time.shape[0] - 1)]
        if self.with_features:
            self._job_end[job] = end
            home = self._op_home[op] * batch + live  # counted at its first machine
            self._loads[home] = self._loads[home] - self._op_fastest[op]
        self._makespan[live] = xp.maximum(self._makespan[live], end)
        self._left[live] = self._left[live] - 1
        self.dones = self._left == 0
        if self._has_zero:
            zero = end == start
            self._pending_job.reshape(-1)[job] = zero
            self._pending_machine.reshape(-1)[machine_index * batch + live] = zero
        self._steps += 1
        self._update_candidates()
        time = self._objective_time()
        rewards = (self._time - time) / self._mean_load
        self._time = time
        return BatchStep(self.features(), self.masks, rewards, self.dones)

    # ----------------------------------------------------------------- results

    def makespans(self) -> Any:
        """``(B,)`` float64: the latest end scheduled so far (the makespan once done)."""
        return self.backend.to_float(self._makespan)

    def _batch_major(self, flat: Any) -> np.ndarray:
        table = self.backend.to_numpy(flat).reshape(self.n_jobs, self._width, self.batch_size)
        return np.ascontiguousarray(np.moveaxis(table, -1, 0)[:, :, :-1])

    def start_times(self) -> np.ndarray:
        """``(B, J, K)`` numpy start times (NaN: not scheduled yet, or padding)."""
        start = self._batch_major(self._start).astype(np.float64)
        start[start < 0] = np.nan
        return start

    def machines(self) -> np.ndarray:
        """``(B, J, K)`` numpy: the machine each operation was given (-1: not yet)."""
        return self._batch_major(self._machine)

    def end_times(self) -> np.ndarray:
        """``(B, J, K)`` numpy end times (NaN: not scheduled yet, or padding)."""
        times = self.backend.to_numpy(self._op_time).reshape(
            self.n_jobs, self._width, self.n_machines, self.batch_size
        )
        by_row = np.moveaxis(times, -1, 0)[:, :, :-1, :]  # (B, J, K, M)
        machines = self.machines()
        taken = np.take_along_axis(by_row, np.maximum(machines, 0)[..., None], axis=3)[..., 0]
        return self.start_times() + np.where(machines >= 0, taken, np.nan)

    def machine_sequences(self, row: int) -> list[list[tuple[int, int]]]:
        """Instance ``row``'s ``(job, operation)`` pairs per machine, in decision order."""
        order = self._batch_major(self._order)[row]
        machines = self.machines()[row]
        sequences: list[list[tuple[int, int]]] = [[] for _ in range(self.instances[row].n_machines)]
        rows, steps = np.nonzero(order >= 0)
        decided = sorted(
            zip(order[rows, steps].tolist(), rows.tolist(), steps.tolist(), strict=True)
        )
        for _, job, step in decided:
            sequences[int(machines[job, step])].append((int(job), int(step)))
        return sequences

    def rule_actions(self, rule: str) -> Any:
        """``(B,)`` the candidate pair a dispatching rule picks in each row (0 once done).

        SPT and LPT rank the pair's time, MWKR, LWKR and MOPNR the job (work at the
        fastest times, operations, this one included); ties go to the lowest job, then
        the lowest machine, as ``dispatch_earliest(tie_break="job")``.

        Raises:
            ValueError: Another rule.
        """
        xp = self.backend
        batch, jobs, machines = self.batch_size, self.n_jobs, self.n_machines
        name = rule.strip().lower() if isinstance(rule, str) else ""
        pair_time = xp.to_float(self._p_at.reshape(jobs, machines, batch))
        next_op = self._job_base + self._next * batch  # flat (J, K + 1, B) index
        if name == "spt":
            priority = -pair_time
        elif name == "lpt":
            priority = pair_time
        elif name in ("mwkr", "lwkr", "mopnr"):
            table = self._operations_left if name == "mopnr" else self._work_left
            sign = -1.0 if name == "lwkr" else 1.0
            job_priority = table[next_op].reshape(jobs, 1, batch) * sign
            priority = job_priority + 0.0 * pair_time
        else:
            raise ValueError(
                f"unknown rule {rule!r} for the batched core; choose from spt, lpt, mwkr, "
                "lwkr, mopnr (or random actions)"
            )
        scored = xp.where(self._mask, priority, float("-inf") + 0.0 * priority)
        return xp.column_argmax(scored.reshape(-1, batch))

    def random_actions(self, generator: Any) -> Any:
        """``(B,)`` uniformly random candidate pairs, one per row (0 in finished rows).

        Args:
            generator: From :meth:`Backend.generator`.
        """
        return random_candidates(self.backend, self._mask.reshape(-1, self.batch_size), generator)

    def features(self) -> Any:
        """``(B, J * 8 + M * 3)`` float32: JobShop-v0's observation of every row now.

        ``None`` when the core was built without features. Padding jobs and machines
        are 0; each row's own sizes divide its blocks 4, 5 and 9, as the single env's.
        """
        if not self.with_features:
            return None
        xp = self.backend
        batch, jobs, machines = self.batch_size, self.n_jobs, self.n_machines
        scale = self._time_scale
        clock = xp.where(self.dones, self._makespan, self._now) / scale
        alive = self._job_ready < self._never  # an operation left to schedule
        running = 0 * self._next > 0  # all false: what is scheduled shows as done
        if self.mode == "non_delay":  # a started operation shows until it completes
            now = xp.where(self.dones, self._makespan, self._now)
            running = self._job_end.reshape(jobs, batch) > now
            if self._has_zero:  # started at this instant, completed after these choices
                running = running | self._pending_job.reshape(jobs, batch)
            running = running.reshape(-1)
        shown = self._job_base + (self._next - xp.to_int(running)) * batch
        waiting = alive & ~running
        out = xp.full((JOB_FEATURES * jobs + MACHINE_FEATURES * machines, batch), 0.0, "float32")
        out[:jobs] = xp.to_float32(self._mask.any(1))  # a job with a candidate pair
        out[jobs : 6 * jobs] = self._op_shown[:, shown].reshape(5 * jobs, batch)
        out[3 * jobs : 4 * jobs] = self._op_shown[2, self._job_base + self._next * batch].reshape(
            jobs, batch
        )  # block 3: the work not yet started
        ready = self._job_ready.reshape(jobs, batch)
        waited = xp.clip(clock - ready / scale, 0.0, 1.0)
        out[6 * jobs : 7 * jobs] = xp.where(waiting.reshape(jobs, batch), waited, 0.0 * waited)
        machine_free = self._machine_ready.reshape(machines, batch) / scale
        remaining = xp.full((machines + 1, batch), 0.0, "float64")
        remaining[:machines] = xp.clip(machine_free - clock, 0.0, 1.0)
        home = self._op_home[shown]  # M once done: a 0
        slots = home * batch + self._job_rows
        out[7 * jobs : 8 * jobs] = remaining.reshape(-1)[slots].reshape(jobs, batch)
        rest = 8 * jobs
        out[rest : rest + machines] = remaining[:machines]
        rest += machines
        queued = xp.bincount(slots[xp.nonzero(waiting)], None, (machines + 1) * batch)
        queued = queued.reshape(-1, batch)
        out[rest : rest + machines] = queued[:machines] / self._job_count
        rest += machines
        loads = self._loads.reshape(-1, batch)[:machines] / self._load_scale
        out[rest:] = xp.clip(loads, 0.0, 1.0)
        return out.T

    def pair_times(self) -> Any:
        """``(J, M, B)``: each job's next operation's time per machine (huge: no such pair)."""
        return self._p_at.reshape(self.n_jobs, self.n_machines, self.batch_size)

    # --------------------------------------------------------------- internals

    def _objective_time(self) -> Any:
        if self.mode == "non_delay":
            return self.backend.where(self.dones, self._makespan, self._now)
        return self.backend.copy(self._makespan)

    def _update_candidates(self) -> None:
        xp = self.backend
        batch, jobs, machines = self.batch_size, self.n_jobs, self.n_machines
        never = self._never
        p = self._p_at.reshape(jobs, machines, batch)
        exists = p < never
        ready = self._job_ready.reshape(jobs, 1, batch)
        est = xp.maximum(ready, self._machine_ready.reshape(1, machines, batch))
        est = xp.where(exists & (ready < never), est, never + 0 * est)
        self._est = est
        flat = est.reshape(-1, batch)
        earliest = xp.column_min(flat)
        if self.mode == "append":
            self._now = earliest
            self._mask = est < never
            return
        if self.mode == "active":
            self._now = earliest
            ect = xp.where(est < never, est + xp.where(exists, p, 0 * p), never + 0 * est)
            best = xp.column_min(ect.reshape(-1, batch))
            attaining = xp.where(
                ect == best, self._machine_index + 0 * ect, machines + 0 * self._machine_index
            )
            machine_star = xp.column_min(attaining.reshape(-1, batch))
            before = est < best
            if self._has_zero:
                before = before | ((ect == best) & (est < never))
            self._mask = (self._machine_index == machine_star) & before & (est < never)
            return
        if not self._has_zero:
            self._now = xp.where(self.dones, self._makespan, earliest)
            self._mask = (est == self._now) & (est < never)
            return
        blocked = self._pending_job | self._pending_machine
        due = (est == self._now) & ~blocked & (est < never)
        keep = xp.column_any(due.reshape(-1, batch))
        self._pending_job = self._pending_job & keep
        self._pending_machine = self._pending_machine & keep
        self._now = xp.where(keep, self._now, xp.where(self.dones, self._makespan, earliest))
        self._mask = xp.where(keep, due, (est == self._now) & (est < never))
