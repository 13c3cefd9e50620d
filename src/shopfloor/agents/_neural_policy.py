"""Scheduling with a trained neural scheduler: greedy, best of N, and a timed search.

:class:`NeuralPolicy` loads the attention network of a self-labelling model file
(:class:`~shopfloor.agents._self_labelling_agent.SelfLabellingAgent`'s ``.npz``: data,
never code) without any env, and schedules static instances three ways, each running
many schedules in one batched core (:class:`~shopfloor.batch.BatchJobShop`, or
:class:`~shopfloor.batch.BatchFlexibleJobShop` for flexible shops) on the network's
device:

* :meth:`~NeuralPolicy.greedy`: the best-scored job at every step, one schedule per
  instance;
* :meth:`~NeuralPolicy.best_of`: N schedules per instance (the greedy one and N - 1
  drawn from the policy's softmax), the shortest kept (Kool et al. 2019's sampling,
  SLIM's best of N);
* :meth:`~NeuralPolicy.search`: samples until a time budget is used, each one
  abandoned as soon as a lower bound on its makespan reaches the best found so far
  (see the method).

Every result carries the schedule itself: the job chosen at each step (the actions of
``shopfloor/JobShop-v0`` in the model's mode, so the schedule replays in the env or a
fresh core), and every operation's start time (and machine, in a flexible shop).
It also answers the shared ``predict`` protocol, so it drives ``shopfloor/JobShop-v0``
of any size like any other policy.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from shopfloor.agents._attention import (
    ShopAttention,
    choose_jobs,
    tokens_from_observation,
)
from shopfloor.agents._device import configure_threads, select_device
from shopfloor.agents._self_labelling import Instance, make_core
from shopfloor.agents._self_labelling_agent import (
    FORMAT,
    FORMAT_VERSION,
    SelfLabellingConfig,
)
from shopfloor.agents._state_file import ModelFileError, load_state
from shopfloor.batch import BatchFlexibleJobShop
from shopfloor.instances import FlexibleJobShopInstance
from shopfloor.sim import Factory, FactorySpec

ROW_BUDGET = 2**26
"""Values of attention work per core call (about 256 MB of float32 activations): a call
holds at most ``ROW_BUDGET // (heads * (J + M)**2 + 12 * width * (J + M))`` schedules,
so 128 samples of a 100 x 20 Taillard instance run in one call and memory stays bounded
for larger requests (they run in several calls, one after another)."""


@dataclass(frozen=True)
class NeuralSchedule:
    """One complete schedule of one instance.

    Attributes:
        makespan: Its makespan.
        actions: ``(T,)`` int64, the job chosen at each of its ``T`` decisions (one per
            operation): ``shopfloor/JobShop-v0``'s actions in the model's mode.
        start_times: ``(J, K)`` float64, each operation's start (NaN: padding).
        machines: ``(J, K)`` int64, the machine each operation runs on (flexible shops;
            ``None`` in a classic shop, where it is the routing's).
    """

    makespan: float
    actions: np.ndarray
    start_times: np.ndarray
    machines: np.ndarray | None = None


@dataclass(frozen=True)
class SampledSchedules:
    """What :meth:`NeuralPolicy.best_of` found for one instance.

    Attributes:
        makespans: ``(N,)`` every schedule's makespan, in order (the first: greedy,
            when it was included).
        best: The shortest schedule (ties: the first).
    """

    makespans: np.ndarray
    best: NeuralSchedule

    @property
    def makespan(self) -> float:
        """The best makespan."""
        return self.best.makespan


@dataclass(frozen=True)
class SearchResult:
    """What :meth:`NeuralPolicy.search` found.

    Attributes:
        best: The shortest schedule found.
        history: ``(seconds, makespan)`` of the greedy schedule and of every later
            improvement, seconds counted from the search's start.
        completed: Schedules finished (the greedy one included).
        abandoned: Sampled schedules stopped early because a lower bound on their
            makespan reached the best so far (they could not have improved on it).
        seconds: Wall time of the whole search.
    """

    best: NeuralSchedule
    history: list[tuple[float, float]] = field(default_factory=list)
    completed: int = 0
    abandoned: int = 0
    seconds: float = 0.0

    @property
    def makespan(self) -> float:
        """The best makespan."""
        return self.best.makespan


@dataclass
class _Run:
    """The outcome of one core call over R rows."""

    makespans: np.ndarray  # (R,)
    actions: np.ndarray  # (T, R) int64
    start_times: np.ndarray  # (R, J, K)
    machines: np.ndarray | None  # (R, J, K) for flexible cores

    def schedule(self, row: int, instance: Instance) -> NeuralSchedule:
        n_jobs = instance.n_jobs
        operations = max(len(routing) for routing in _routings(instance))
        steps = _operation_count(instance)
        machines = None
        if self.machines is not None:
            machines = self.machines[row, :n_jobs, :operations].astype(np.int64)
        return NeuralSchedule(
            float(self.makespans[row]),
            self.actions[:steps, row].astype(np.int64).copy(),
            self.start_times[row, :n_jobs, :operations].copy(),
            machines,
        )


def _routings(instance: Instance) -> Sequence[Sequence[Any]]:
    if isinstance(instance, FlexibleJobShopInstance):
        return instance.operations
    return instance.machines


def _operation_count(instance: Instance) -> int:
    return sum(len(routing) for routing in _routings(instance))


class _LowerBound:
    """Lower bounds on the makespans of partial schedules of one instance.

    For a partial schedule (start times so far): every job still needs its
    unscheduled operations one after another after its last scheduled end, and in a
    classic shop every machine still runs its unscheduled operations after its last
    scheduled end (every decision mode appends an operation to its machine's
    sequence). The larger of these is a lower bound on the final makespan (Taillard
    1993's job and machine bounds, from the partial schedule). In a flexible shop only
    the job bound holds, with each operation's fastest alternative.
    """

    def __init__(self, instance: Instance):
        n_jobs = instance.n_jobs
        width = max(len(routing) for routing in _routings(instance))
        self.durations = np.zeros((n_jobs, width))
        self.machines: np.ndarray | None = None
        self.on_machine: list[np.ndarray] = []
        if isinstance(instance, FlexibleJobShopInstance):
            for job, routing in enumerate(instance.operations):
                for index, operation in enumerate(routing):
                    self.durations[job, index] = min(time for _, time in operation)
        else:
            self.durations[:] = np.asarray(instance.durations, dtype=np.float64)
            flat = np.asarray(instance.machines).reshape(-1)
            used = np.unique(flat)
            self.on_machine = [np.flatnonzero(flat == machine) for machine in used]
            self.machines = (flat[:, None] == used).astype(np.float64)  # (J * K, machines)

    def __call__(self, end_times: np.ndarray) -> np.ndarray:
        """``(B,)`` bounds from ``(B, J, K)`` end times (NaN: not scheduled, padding)."""
        n_jobs, width = self.durations.shape
        ends = end_times[:, :n_jobs, :width]
        scheduled = ~np.isnan(ends)
        done_at = np.where(scheduled, ends, 0.0)
        left = np.where(scheduled, 0.0, self.durations)
        bound = (done_at.max(axis=2) + left.sum(axis=2)).max(axis=1)
        if self.machines is not None:
            batch = len(ends)
            load = left.reshape(batch, -1) @ self.machines
            flat = done_at.reshape(batch, -1)
            ready = np.stack([flat[:, ops].max(axis=1) for ops in self.on_machine], axis=1)
            bound = np.maximum(bound, (ready + load).max(axis=1))
        return np.asarray(bound)


class NeuralPolicy:
    """A trained :class:`ShopAttention` that schedules (acting only; see the module).

    Args:
        network: The job-scoring network.
        mode: The decision mode it was trained in (``active``, ``non_delay`` or
            ``append``); it schedules in that mode.
        device: ``auto`` (CUDA when present), ``cpu``, ``cuda[:N]``.
        name: What it is called in tables and messages.
    """

    def __init__(
        self, network: ShopAttention, mode: str, device: str = "auto", name: str = "neural"
    ):
        self.device = select_device(device)
        configure_threads(self.device)  # one CPU thread: small networks run faster
        self.network = network.to(self.device).eval()
        self.mode = mode
        self.name = name
        self._act_generator = torch.Generator().manual_seed(0)

    def __repr__(self) -> str:
        return f"NeuralPolicy({self.name!r}, mode={self.mode!r})"

    def seed_sampling(self, seed: int) -> None:
        """Seed the draws of ``predict(..., deterministic=False)``."""
        self._act_generator.manual_seed(int(seed))

    @property
    def acts_on_any_size(self) -> bool:
        """True: one network scores the jobs of a shop of any size."""
        return True

    @classmethod
    def load(
        cls, path: str | os.PathLike[str], device: str = "auto", name: str | None = None
    ) -> NeuralPolicy:
        """The network of a self-labelling model file (no env needed; nothing unpickled).

        Args:
            path: A ``.npz`` written by ``SelfLabellingAgent.save`` (``.npz`` may be
                left off), or a self-labelling run folder (its final ``model.npz``;
                ``<folder>:best``: its ``best_model.npz``, as the benchmark reads
                run folders).
            device: Where it runs.
            name: Its name (default: the file's stem).

        Raises:
            FileNotFoundError: Nothing at ``path``.
            ModelFileError: Not a self-labelling model (another agent's file, damaged,
                or weights that do not fit its settings); one line naming the file.
        """
        text = os.fspath(path)
        source = Path(text)
        if text.endswith(":best") and Path(text.removesuffix(":best")).is_dir():
            source = Path(text.removesuffix(":best")) / "best_model.npz"
        elif source.is_dir():
            source = source / "model.npz"
        elif not source.is_file() and source.with_name(source.name + ".npz").is_file():
            source = source.with_name(source.name + ".npz")
        what = "self-labelling model"
        meta, state = load_state(source, what)
        try:
            if meta.get("format") != FORMAT or meta.get("version") != FORMAT_VERSION:
                raise ValueError(
                    f"its format is {meta.get('format')!r} version {meta.get('version')!r}, "
                    f"not {FORMAT!r} version {FORMAT_VERSION}"
                )
            config = SelfLabellingConfig(**meta["config"])
            mode = meta["mode"]
            if mode not in ("non_delay", "active", "append"):
                raise ValueError(f"unknown mode {mode!r}")
            network = ShopAttention(config.width, config.heads, config.layers, config.work_prior)
            if not isinstance(state, dict) or not isinstance(state.get("network"), dict):
                raise ValueError("it holds no network weights")
            network.load_state_dict(state["network"])
        except (KeyError, TypeError, ValueError, RuntimeError) as error:
            first = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise ModelFileError(f"{source} is not a readable {what}: {first[:200]}") from None
        default = source.parent.name if source.stem in ("model", "best_model") else source.stem
        return cls(network, mode, device, name if name is not None else default)

    # -- the shared protocol

    def predict(
        self,
        observation: Any,
        deterministic: bool = True,
        action_masks: np.ndarray | None = None,
        *,
        state: Any = None,
        episode_start: Any = None,
    ) -> tuple[Any, None]:
        """The job to schedule next in ``shopfloor/JobShop-v0`` (one observation or a batch).

        Args:
            observation: JobShop-v0's observation, of any shop size.
            deterministic: The best-scored job; else one drawn from the softmax.
            action_masks: The env's ``action_masks()`` (required: their length is the
                shop's job count).
            state: Unused (accepted as Stable-Baselines3's is).
            episode_start: Unused.

        Raises:
            ValueError: No masks, or an observation that is not JobShop-v0's layout
                for that many jobs (e.g. a flexible shop in ``append`` mode, whose
                actions are job x machine pairs).
        """
        if action_masks is None:
            raise ValueError(
                f"{self!r} needs action_masks (the env's action_masks()): the shop's job "
                "count is their length"
            )
        masks = np.asarray(action_masks, dtype=bool)
        result, single = choose_jobs(
            self.network,
            observation,
            masks,
            int(masks.shape[-1]),
            deterministic=deterministic,
            generator=self._act_generator,
            device=self.device,
            refusal=f" (one action per job; {self!r} chooses jobs, not job x machine pairs)",
        )
        return (np.int64(result[0]) if single else result), None

    # -- batched scheduling

    def greedy(self, instances: Sequence[Instance]) -> list[NeuralSchedule]:
        """The greedy schedule of every instance (all in one core call when they fit).

        Raises:
            ValueError: No instances, or a flexible shop with a model of ``append`` mode.
        """
        rows = list(instances)
        if not rows:
            raise ValueError("instances: give at least one instance")
        greedy = np.ones(len(rows), dtype=bool)
        schedules: list[NeuralSchedule] = []
        for chunk in self._chunks(rows):
            run = self._run([rows[i] for i in chunk], greedy[chunk], None)
            schedules += [run.schedule(k, rows[i]) for k, i in enumerate(chunk)]
        return schedules

    def best_of(
        self,
        instances: Sequence[Instance],
        n: int,
        seed: int = 0,
        *,
        include_greedy: bool = True,
        max_rows: int | None = None,
    ) -> list[SampledSchedules]:
        """``n`` schedules of every instance, the shortest kept.

        All ``len(instances) x n`` schedules run in one batched core, or in several
        calls in turn when they would exceed :data:`ROW_BUDGET` (or ``max_rows``).

        Args:
            instances: Classic or flexible instances, any sizes.
            n: Schedules per instance.
            seed: Seeds the draws: the same seed, the same schedules.
            include_greedy: The first of the ``n`` is the greedy schedule (so the best
                is never worse than greedy); off: ``n`` sampled.
            max_rows: At most this many schedules per core call (default: the budget).

        Raises:
            ValueError: No instances, ``n`` below 1, or a flexible shop with a model of
                ``append`` mode.
        """
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
            raise ValueError(f"n: expected an integer >= 1, got {n!r}")
        items = list(instances)
        if not items:
            raise ValueError("instances: give at least one instance")
        rows = [instance for instance in items for _ in range(n)]
        greedy = np.zeros(len(rows), dtype=bool)
        if include_greedy:
            greedy[:: int(n)] = True
        generator = self._generator(seed)
        makespans = np.empty(len(rows))
        best: dict[int, tuple[float, NeuralSchedule]] = {}
        for chunk in self._chunks(rows, max_rows):
            run = self._run([rows[i] for i in chunk], greedy[chunk], generator)
            makespans[chunk] = run.makespans
            for k, i in enumerate(chunk):
                group = i // int(n)
                if group not in best or run.makespans[k] < best[group][0]:
                    best[group] = (float(run.makespans[k]), run.schedule(k, rows[i]))
        per_instance = makespans.reshape(len(items), int(n))
        return [SampledSchedules(per_instance[g].copy(), best[g][1]) for g in range(len(items))]

    def search(
        self,
        instance: Instance,
        time_limit: float,
        seed: int = 0,
        *,
        batch: int = 64,
        max_schedules: int | None = None,
    ) -> SearchResult:
        """The best schedule found by sampling until ``time_limit`` is used.

        What it does: first the greedy schedule (always finished, so the search never
        returns worse than greedy); then ``batch`` samples drawn from the policy are
        built side by side in one batched core, and the best makespan found so far
        bounds them. After every step each partial schedule gets a lower bound on its
        final makespan (its jobs' and machines' unscheduled work after their last
        scheduled ends; see :class:`_LowerBound`); a sample whose bound reaches the
        best can no longer improve on it and is abandoned at once (pruning with the
        incumbent, as branch and bound does). Its row, and every row that finishes,
        restarts a new sample (``reset`` of that row alone) while a whole schedule
        still fits in the time left at the mean step time so far; after that the
        batch shrinks instead, so its last steps run faster and the samples under way
        can finish. The network thus scores mostly live, promising samples, and the
        tighter the bound, the earlier hopeless ones are cut and the more fit in the
        time. The clock is read at every step; when the time is up, unfinished samples
        are dropped (and the search ends a little early when no row is left and no
        new sample would finish). Ties keep the first schedule found.

        Measured with the untrained network (``work_prior`` 10: a softened MWKR,
        width 32, 2 layers, one CPU core) on ta01 in 24 s: best of 512 samples 1491,
        the search 1465 (batch 64) and 1468 (batch 256), from greedy 1589.

        The draws are seeded by ``seed``; how many samples fit depends on the machine,
        so with a time limit the result may differ between runs. With
        ``max_schedules`` and a time limit that is not reached, it is deterministic.

        Args:
            instance: A classic or flexible instance.
            time_limit: Seconds for the whole search (a very short one is exceeded by
                the time the greedy schedule takes).
            seed: Seeds the draws.
            batch: Schedules built side by side (capped by :data:`ROW_BUDGET`).
            max_schedules: Start no more than this many schedules, the greedy one
                included (default: time decides).

        Raises:
            ValueError: A time limit that is not a positive number, ``batch`` or
                ``max_schedules`` below 1.
        """
        if isinstance(time_limit, bool) or not (
            isinstance(time_limit, int | float) and math.isfinite(time_limit) and time_limit > 0
        ):
            raise ValueError(
                f"time_limit: expected a positive number of seconds, got {time_limit!r}"
            )
        for name, value in (("batch", batch), ("max_schedules", max_schedules)):
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 1
            ):
                raise ValueError(f"{name}: expected an integer >= 1, got {value!r}")
        start = time.perf_counter()
        deadline = start + float(time_limit)
        generator = self._generator(seed)
        first = self._run([instance], np.ones(1, dtype=bool), None)
        best = first.schedule(0, instance)
        history = [(time.perf_counter() - start, best.makespan)]
        budget = math.inf if max_schedules is None else max_schedules - 1
        size = int(min(batch, self._rows_per_call(instance), budget))
        completed, abandoned = 1, 0
        if size < 1:
            return SearchResult(best, history, completed, abandoned, time.perf_counter() - start)
        device = self.device
        core = make_core([instance] * size, self.mode, device)
        flexible = isinstance(core, BatchFlexibleJobShop)
        steps = _operation_count(instance)
        rows = torch.arange(size, device=device)
        n_machines = torch.full((size,), instance.n_machines, device=device)
        actions = torch.zeros((steps, size), dtype=torch.long, device=device)
        depth = torch.zeros(size, dtype=torch.long, device=device)
        running = torch.ones(size, dtype=torch.bool, device=device)
        started = size
        lower_bound = _LowerBound(instance)
        step_seconds: float | None = None  # a running mean of a step's wall time
        features, masks = core.reset()
        with torch.no_grad():
            while bool(running.any()) and (tick := time.perf_counter()) < deadline:
                index = rows[running]
                pairs = _tensor(masks, device)
                job_mask = pairs.view(size, core.n_jobs, -1).any(dim=2) if flexible else pairs
                chosen = job_mask.to(torch.uint8).argmax(dim=1)  # idle rows: any candidate
                observation = _tensor(features, device)[index]
                shop = tokens_from_observation(observation, core.n_jobs, n_machines[index])
                scores = self.network(shop)[0].masked_fill(~job_mask[index], -torch.inf)
                probabilities = torch.softmax(scores, dim=1)
                picked = torch.multinomial(probabilities, 1, generator=generator)[:, 0]
                chosen[index] = picked
                actions[depth[index], index] = picked
                depth[index] += 1
                action = chosen
                if flexible:  # the job's operation goes to its first valid machine
                    by_job = pairs.view(size, core.n_jobs, -1)[rows, chosen]
                    action = chosen * core.n_machines + by_job.to(torch.uint8).argmax(dim=1)
                step = core.step(action if device.type != "cpu" else action.numpy())
                features, masks = step.features, step.masks
                done = _tensor(step.dones, device) & running
                partial = _tensor(core.makespans(), device)
                bounds = torch.as_tensor(lower_bound(core.end_times()), device=device)
                if bool(done.any()):
                    finished = rows[done]
                    completed += len(finished)
                    row = int(finished[torch.argmin(partial[finished])])
                    if float(partial[row]) < best.makespan:
                        best = self._schedule_of(core, row, actions[:, row], instance)
                        history.append((time.perf_counter() - start, best.makespan))
                cut = running & ~done & (bounds >= best.makespan)
                abandoned += int(cut.sum())
                restart = done | cut
                now = time.perf_counter()
                step_seconds = now - tick if step_seconds is None else (
                    0.9 * step_seconds + 0.1 * (now - tick)
                )  # fmt: skip
                if bool(restart.any()):
                    room = max(int(min(budget - started, size)), 0)
                    if deadline - now < steps * step_seconds:
                        room = 0  # a new sample would not finish in time
                    if room < int(restart.sum()):  # the last samples allowed, in row order
                        allowed = rows[restart][:room]
                        running &= ~restart
                        restart = torch.zeros_like(restart)
                        restart[allowed] = True
                        running |= restart
                    started += int(restart.sum())
                    if bool(restart.any()):
                        depth[restart] = 0
                        features, masks = core.reset(
                            restart if device.type != "cpu" else restart.numpy()
                        )
        return SearchResult(best, history, completed, abandoned, time.perf_counter() - start)

    def _schedule_of(
        self, core: Any, row: int, actions: torch.Tensor, instance: Instance
    ) -> NeuralSchedule:
        """Row ``row``'s finished schedule in ``core``."""
        n_jobs = instance.n_jobs
        operations = max(len(routing) for routing in _routings(instance))
        machines = None
        if isinstance(core, BatchFlexibleJobShop):
            machines = core.machines()[row, :n_jobs, :operations].astype(np.int64)
        return NeuralSchedule(
            float(_tensor(core.makespans(), self.device)[row]),
            actions.cpu().numpy().astype(np.int64).copy(),
            core.start_times()[row, :n_jobs, :operations].copy(),
            machines,
        )

    # -- internals

    def _generator(self, seed: int) -> torch.Generator:
        if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
            raise ValueError(f"seed: expected an integer >= 0, got {seed!r}")
        return torch.Generator(device=self.device).manual_seed(int(seed))

    def _rows_per_call(self, instance: Instance) -> int:
        tokens = instance.n_jobs + instance.n_machines
        per_row = self.network.heads * tokens**2 + 12 * self.network.width * tokens
        return max(1, ROW_BUDGET // per_row)

    def _chunks(self, rows: Sequence[Instance], max_rows: int | None = None) -> list[list[int]]:
        """Consecutive row indices per core call, each within the budget."""
        if max_rows is not None and (
            isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < 1
        ):
            raise ValueError(f"max_rows: expected an integer >= 1, got {max_rows!r}")
        chunks: list[list[int]] = [[]]
        cap = math.inf
        for index, instance in enumerate(rows):
            limit = min(self._rows_per_call(instance), max_rows or math.inf)
            if chunks[-1] and len(chunks[-1]) + 1 > min(cap, limit):
                chunks.append([])
                cap = math.inf
            chunks[-1].append(index)
            cap = min(cap, limit)  # padded to the largest: its budget holds for the call
        return chunks

    def _run(
        self,
        rows: Sequence[Instance],
        greedy: np.ndarray,
        generator: torch.Generator | None,
    ) -> _Run:
        """Schedule ``rows`` in one core: greedy rows take the argmax, the others draw."""
        device = self.device
        core = make_core(rows, self.mode, device)
        flexible = isinstance(core, BatchFlexibleJobShop)
        count = len(rows)
        n_machines = torch.tensor([row.n_machines for row in rows], device=device)
        greedy_rows = torch.as_tensor(greedy, device=device)
        features, masks = core.reset()
        actions: list[torch.Tensor] = []
        indices = torch.arange(count, device=device)
        with torch.no_grad():
            while bool((live := ~_tensor(core.dones, device)).any()):
                pairs = _tensor(masks, device)
                job_mask = pairs.view(count, core.n_jobs, -1).any(dim=2) if flexible else pairs
                chosen = job_mask.to(torch.uint8).argmax(dim=1)  # finished rows: ignored
                index = indices[live]
                observation = _tensor(features, device)[index]
                shop = tokens_from_observation(observation, core.n_jobs, n_machines[index])
                scores = self.network(shop)[0].masked_fill(~job_mask[index], -torch.inf)
                picked = scores.argmax(dim=1)
                draw = ~greedy_rows[index]
                if bool(draw.any()):
                    probabilities = torch.softmax(scores[draw], dim=1)
                    picked[draw] = torch.multinomial(probabilities, 1, generator=generator)[:, 0]
                chosen[index] = picked
                actions.append(chosen)
                action = chosen
                if flexible:  # the job's operation goes to its first valid machine
                    by_job = pairs.view(count, core.n_jobs, -1)[indices, chosen]
                    action = chosen * core.n_machines + by_job.to(torch.uint8).argmax(dim=1)
                step = core.step(action if device.type != "cpu" else action.numpy())
                features, masks = step.features, step.masks
        makespans = np.asarray(_tensor(core.makespans(), device).cpu(), dtype=np.float64)
        stacked = torch.stack(actions) if actions else torch.zeros((0, count), dtype=torch.long)
        return _Run(
            makespans,
            stacked.cpu().numpy(),
            core.start_times(),
            core.machines() if isinstance(core, BatchFlexibleJobShop) else None,
        )


def _tensor(values: Any, device: torch.device) -> torch.Tensor:
    """A core's array (numpy or torch) as a tensor on ``device`` (a copy for numpy)."""
    if isinstance(values, torch.Tensor):
        return values.to(device)
    return torch.from_numpy(np.array(values)).to(device)


def simulate_job_shop(
    policy: Any,
    spec: FactorySpec,
    mode: str,
    *,
    seed: int = 0,
    options: dict[str, Any] | None = None,
) -> Factory:
    """One episode of ``shopfloor/JobShop-v0`` on ``spec`` with ``policy``; the factory.

    The policy acts greedily (``deterministic=True``) with the env's action masks, as
    a benchmark episode does; the finished factory holds the KPIs and the event log.

    Args:
        policy: Anything with ``predict(observation, deterministic, action_masks)``
            (a :class:`NeuralPolicy`, a run folder's saved agent ...).
        spec: A static factory (a benchmark instance's ``to_factory_spec()``).
        mode: The decision mode (a :class:`NeuralPolicy`'s own).
        seed: The episode's seed.
        options: More arguments of the env (those of the env the policy was trained in).

    Raises:
        ValueError: A factory that is not static, or a policy trained on another shop
            size that cannot act on any size (sizes named).
    """
    env: gym.Env[Any, Any] = gym.make(
        "shopfloor/JobShop-v0", spec=spec, **{**(options or {}), "mode": mode}
    )
    try:
        space = getattr(policy, "observation_space", None)
        if (
            space is not None
            and not getattr(policy, "acts_on_any_size", False)
            and space.shape != env.observation_space.shape
        ):
            raise ValueError(
                f"{policy!r} was trained on observations of shape {space.shape}; this shop's "
                f"are {env.observation_space.shape} (another size)"
            )
        observation, _ = env.reset(seed=seed)
        unwrapped: Any = env.unwrapped
        while not unwrapped.factory.done:
            action, _ = policy.predict(
                observation, deterministic=True, action_masks=unwrapped.action_masks()
            )
            observation, _, terminated, truncated, _ = env.step(action)
            if terminated or truncated:
                break
        factory: Factory = unwrapped.factory
        return factory
    finally:
        env.close()
