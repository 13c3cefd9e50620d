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
machine, so the schedule replays in the factory with the same times. No features are
computed (the arrays are the state: see :meth:`BatchFlexibleJobShop.pair_times`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from shopfloor.batch._backend import Backend, select_backend
from shopfloor.batch._core import (
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

    Args:
        instances: Flexible (or classic) instances or bundled names, one per row.
        mode: ``"non_delay"`` (default), ``"active"`` or ``"append"``.
        backend: ``"numpy"`` or ``"torch"``.
        device: For torch: ``"auto"``, ``"cpu"``, ``"cuda[:N]"``.

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
    ):
        if isinstance(instances, str) or len(instances) == 0:
            raise ValueError("instances: give a non-empty sequence of instances or names")
        self.instances = [_as_flexible(item) for item in instances]
        self.mode = check_mode(mode)
        self.backend: Backend = select_backend(backend, device)
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
        self._work_left = xp.asarray(work_left.ravel(), "float64")
        self._operations_left = xp.asarray(operations_left.ravel(), "float64")
        real = np.arange(width)[None, :, None, None] < n_ops[:, None, None, :]
        self._has_zero = bool(((times == 0) & real).any())
        self.reset()

    def reset(self) -> Any:
        """Every instance back to t=0; returns the ``(B, J * M)`` masks."""
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
        self._update_candidates()
        self._time = self._objective_time()
        return self.masks

    @property
    def masks(self) -> Any:
        """``(B, J * M)`` bool: the (job, machine) pairs each instance may choose now."""
        return self._mask.reshape(-1, self.batch_size).T

    def step(self, actions: Any) -> BatchStep:
        """Schedule the chosen pair (``job * M + machine``) in every unfinished instance.

        Returns:
            ``BatchStep(None, masks, rewards, dones)``.

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
        return BatchStep(None, self.masks, rewards, self.dones)

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
