"""The running factory: a SimPy model stopped at every decision.

A :class:`Factory` turns a :class:`~shopfloor.sim.FactorySpec` into a SimPy
environment. Operation completions, job releases, arrivals, breakdowns, repairs,
material receipts and customer demand are SimPy events with callbacks that update
plain Python state. Whenever the state makes a choice due, a *decision event* is
triggered and :meth:`Factory.next_decision` returns as
``env.run(until=decision_event)`` would:

* a **dispatch** choice: a machine is up, idle, and has jobs waiting whose next
  operation can start (materials on hand); the controller picks one with
  :meth:`Factory.start`;
* a **production** choice (make-to-stock): the production machine is idle with
  nothing queued; the controller calls :meth:`Factory.produce` or
  :meth:`Factory.idle`.

Choices due at the same simulated time are taken one after another without
advancing the clock. Decisions never wait on purpose: the model is non-delay.

Randomness comes from independent streams spawned from one seed: job times and
arrivals, breakdowns per machine, material lead times, demand, and lot times. The
streams other than lot times do not depend on the choices made, so two policies run
with one seed face the same jobs, failures and demand (common random numbers).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, NamedTuple, cast

import numpy as np
import simpy
from simpy.core import EmptySchedule
from simpy.events import NORMAL

from shopfloor._atomic import replace_atomically  # stdlib only, below every layer
from shopfloor.sim._demand import sample_demand
from shopfloor.sim._distributions import Constant
from shopfloor.sim._spec import ArrivalSpec, FactorySpec, OperationSpec, Routing
from shopfloor.sim.events import (
    BACKORDER,
    BREAKDOWN,
    COMPLETE,
    DEFER,
    DEMAND,
    FINISH,
    IDLE,
    LOST,
    ORDER,
    PRODUCE,
    RECEIVE,
    RELEASE,
    REPAIR,
    SHIP,
    START,
)

NO_FAMILY = -1


class DecisionError(ValueError):
    """A choice that cannot be taken now (wrong machine, job or product)."""


class DeadlockError(RuntimeError):
    """Nothing is left to simulate, yet jobs wait and no choice is due."""


class LoggedEvent(NamedTuple):
    """One line of the factory's event log.

    Attributes:
        time: Simulated time.
        kind: What happened (``start``, ``complete``, ``breakdown`` ...).
        machine: Machine index, or -1.
        job: Job index, or -1 (material index for ``order``/``receive``).
        operation: Operation index within the job's routing, or -1.
        value: A number whose meaning depends on ``kind``: setup time for ``start``,
            quantity for inventory events, product for ``produce``.
    """

    time: float
    kind: str
    machine: int
    job: int
    operation: int
    value: float


@dataclass(frozen=True)
class KPIs:
    """Key performance indicators of an episode (so far).

    Attributes:
        time: Simulated time when measured.
        jobs_released: Jobs released.
        jobs_completed: Jobs finished.
        makespan: Completion time of the last finished job.
        mean_flow_time: Mean of completion minus release over finished jobs.
        mean_weighted_flow_time: Weighted mean flow time.
        total_tardiness: Sum of max(0, completion - due date).
        total_weighted_tardiness: Weighted sum of tardiness.
        mean_weighted_tardiness: Total weighted tardiness per finished job.
        max_tardiness: Largest tardiness.
        tardy_jobs: Jobs finished after their due date.
        utilisation: Busy (setup + processing) time over time elapsed, mean over machines.
        machine_utilisation: The same per machine.
        mean_wip: Time-average number of released, unfinished jobs.
        fill_rate: Share of demand shipped from stock on arrival (1.0 without demand).
        holding_cost: Finished goods and raw-material holding cost.
        backorder_cost: Backorder cost (time-integrated backlog).
        lost_sales_cost: Cost of demand lost.
        setup_cost: Cost of setups.
        ordering_cost: Cost of raw-material orders.
        total_cost: Sum of the costs.
        setups: Number of setups.
        decisions: Choices taken.
        events: Events logged.
    """

    time: float
    jobs_released: int
    jobs_completed: int
    makespan: float
    mean_flow_time: float
    mean_weighted_flow_time: float
    total_tardiness: float
    total_weighted_tardiness: float
    mean_weighted_tardiness: float
    max_tardiness: float
    tardy_jobs: int
    utilisation: float
    machine_utilisation: tuple[float, ...]
    mean_wip: float
    fill_rate: float
    holding_cost: float
    backorder_cost: float
    lost_sales_cost: float
    setup_cost: float
    ordering_cost: float
    total_cost: float
    setups: int
    decisions: int
    events: int

    def as_dict(self) -> dict[str, Any]:
        """The KPIs as a flat mapping (per-machine utilisation left out)."""
        return {k: v for k, v in self.__dict__.items() if k != "machine_utilisation"}


class Factory:
    """A factory simulated with SimPy and driven one decision at a time.

    Typical loop::

        factory = Factory(spec, seed=0)
        while factory.next_decision():
            machine = factory.decision_machine()
            job = factory.queue(machine)[0]  # FIFO
            factory.start(job, machine)
        print(factory.kpis().makespan)

    Args:
        spec: What to simulate.
        seed: Seed of every random stream; ``None`` draws fresh entropy.
        record_events: Keep the event log (on by default; off saves memory).
    """

    def __init__(self, spec: FactorySpec, seed: int | None = None, *, record_events: bool = True):
        self.spec = spec
        self.record_events = record_events
        self._n_machines = len(spec.machines)
        self._tables = tables = _spec_tables(spec)
        self._setup_times = tables.setup_times
        self._setup_costs = tables.setup_costs
        self._uses_materials = tables.uses_materials
        self.reset(seed)

    # ------------------------------------------------------------------ set-up

    def reset(self, seed: int | None = None) -> None:
        """Start a new episode from t=0; all randomness is drawn from ``seed``."""
        spec = self.spec
        self.seed = seed
        self._draw_streams(seed)
        # A process that finds its token replaced was superseded by resample_future.
        self._arrival_token = object()
        self._breakdown_tokens = [object() for _ in range(self._n_machines)]
        self._arrived = 0
        self._arrivals_over = False

        self.env = simpy.Environment()
        self._deciding = False  # next_decision is stepping SimPy
        self._mark: tuple[float, int, int] | None = None  # the signal's place in the queue
        self.log: list[tuple[float, str, int, int, int, float]] = []
        self._log = self.log.append if self.record_events else _discard

        n = self._n_machines
        # Machines.
        self._queues: list[list[int]] = [[] for _ in range(n)]
        self._machine_job = [-1] * n
        self._busy = 0  # machines with a job on them (kept with _machine_job)
        self._machine_up = [True] * n
        self._machine_family = [NO_FAMILY] * n
        self._machine_busy_time = [0.0] * n
        self._machine_started = [0.0] * n
        self._running: list[simpy.Event | None] = [None] * n
        self._remaining: list[float] = [0.0] * n
        self._due: set[int] = set()
        # Jobs (parallel lists indexed by job id).
        self._job_machines: list[Sequence[tuple[int, ...]]] = []
        self._job_times: list[Sequence[tuple[float, ...]]] = []
        self._job_materials: list[Sequence[tuple[tuple[int, float], ...]]] = []
        self._job_next = []  # type: list[int]
        self._job_work_left: list[float] = []
        self._job_release: list[float] = []
        self._job_due: list[float] = []
        self._job_weight: list[float] = []
        self._job_product: list[int] = []
        self._job_family: list[int] = []
        self._job_quantity: list[int] = []
        self._job_queued_at: list[float] = []
        self._job_completion: list[float] = []
        self._jobs_open = 0
        self._open_jobs: dict[int, None] = {}  # released, unfinished, in release order
        self._finished_weighted_tardiness = 0.0
        self._finished_weighted_flow = 0.0
        self._releases_pending = 0
        # Inventory.
        self._stock = [m.initial_stock for m in spec.materials]
        self._on_order = [0.0] * len(spec.materials)
        self._fg = [p.initial_stock for p in spec.products]
        self._backlog = [0.0] * len(spec.products)
        self.demand_history: list[list[int]] = [[] for _ in spec.products]
        self._demand_total = 0.0
        self._demand_filled = 0.0
        self._lost_units = [0.0] * len(spec.products)
        # Cost accounting: areas under stock curves, integrated at every change.
        self._last_stock_change = 0.0
        self._fg_area = [0.0] * len(spec.products)
        self._backlog_area = [0.0] * len(spec.products)
        self._material_area = [0.0] * len(spec.materials)
        self._setup_cost = 0.0
        self._setups = 0
        self._ordering_cost = 0.0
        self._wip_area = 0.0
        self._wip_last = 0.0
        # Production.
        self._production_machine = spec.production.machine if spec.production else -1
        self._idling = False
        # Counters.
        self.decisions = 0
        self.done = False

        if self._tables.released_fixed and not self._uses_materials:
            self._add_listed_jobs_at_once()
        else:
            self._add_listed_jobs()
        if spec.arrivals is not None:
            self._releases_pending += 1
            self.env.process(self._arrival_process(self._arrival_token))
        for index, machine in enumerate(spec.machines):
            if machine.breakdown is not None:
                self.env.process(self._breakdown_process(index, self._breakdown_tokens[index]))
        for index in range(len(spec.materials)):
            self._reorder(index)
        for index, product in enumerate(spec.products):
            if product.demand is not None:
                self.env.process(self._demand_process(index))
        if spec.horizon is not None:
            end = self.env.timeout(spec.horizon)
            end.callbacks.append(self._on_horizon)
        self._check_finished()

    def _add_listed_jobs(self) -> None:
        """Add the spec's jobs, drawing their times; release those due at t=0."""
        for job, listed in zip(self.spec.jobs, self._tables.jobs, strict=True):
            drawn = listed.fixed
            if drawn is None:
                drawn = _draw_job(listed.routing, self._rng_jobs, job.quantity)
            job_id = self._add_job(
                drawn, job.product, listed.family, job.quantity, job.due_date, job.weight
            )
            if job.release_time <= 0:
                self._release(job_id)
            else:
                self._releases_pending += 1
                event = self.env.timeout(job.release_time, value=job_id)
                event.callbacks.append(self._on_release)

    def _add_listed_jobs_at_once(self) -> None:
        """_add_listed_jobs when every job has fixed times and is released at t=0.

        The same state, list by list (a static shop's reset is mostly this): each
        job is added, released and queued at its first operation's machines in
        order, and every machine with a queue is due (idle and up at t=0).
        """
        jobs, listed = self.spec.jobs, self._tables.jobs
        drawn = [entry.fixed for entry in listed]
        assert all(entry is not None for entry in drawn)  # released_fixed
        fixed = cast("list[_DrawnJob]", drawn)
        count = len(jobs)
        now = self.env.now
        self._job_machines = [entry.machines for entry in fixed]
        self._job_times = [entry.times for entry in fixed]
        self._job_materials = [entry.materials for entry in fixed]
        self._job_next = [0] * count
        self._job_work_left = [entry.work for entry in fixed]
        self._job_release = [now] * count
        self._job_due = [job.due_date for job in jobs]
        self._job_weight = [job.weight for job in jobs]
        self._job_product = [job.product for job in jobs]
        self._job_family = [entry.family for entry in listed]
        self._job_quantity = [job.quantity for job in jobs]
        self._job_queued_at = [now] * count
        self._job_completion = [math.nan] * count
        if count:
            self._update_wip(count)  # each release adds 0 to the area at t=0
        self._open_jobs = dict.fromkeys(range(count))
        if self.record_events:
            self.log.extend(
                (now, RELEASE, -1, job, -1, float(spec.quantity)) for job, spec in enumerate(jobs)
            )
        queues, due = self._queues, self._due
        for job, machines in enumerate(self._job_machines):
            for machine in machines[0]:
                queues[machine].append(job)
                due.add(machine)  # in the order _refresh adds them

    def _create_job(
        self,
        routing: Routing,
        rng: np.random.Generator,
        product: int,
        family: int,
        quantity: int,
        due_date: float,
        weight: float,
    ) -> int:
        """Register a job; draws its processing times now (common random numbers)."""
        drawn = _draw_job(routing, rng, quantity)
        return self._add_job(drawn, product, family, quantity, due_date, weight)

    def _add_job(
        self,
        drawn: _DrawnJob,
        product: int,
        family: int,
        quantity: int,
        due_date: float,
        weight: float,
    ) -> int:
        """Register a job whose times are drawn (read only: fixed ones are shared)."""
        machines, times, materials, work = drawn
        job_id = len(self._job_next)
        self._job_machines.append(machines)
        self._job_times.append(times)
        self._job_materials.append(materials)
        self._job_next.append(0)
        self._job_work_left.append(work)
        self._job_release.append(math.nan)
        self._job_due.append(due_date)
        self._job_weight.append(weight)
        self._job_product.append(product)
        self._job_family.append(family)
        self._job_quantity.append(quantity)
        self._job_queued_at.append(math.nan)
        self._job_completion.append(math.nan)
        return job_id

    # ------------------------------------------------------------ the decisions

    def next_decision(self) -> bool:
        """Run the model until a choice is due.

        Returns:
            True when a choice is due now (see :meth:`decision_kind`), False when the
            episode is over.
        """
        while not self.done:
            if self._due or (self._production_machine >= 0 and self._production_ready()):
                return True
            if self._busy == 0 and self._stalled():  # stalled needs no machine busy
                raise DeadlockError(self._deadlock_report())
            # What ``env.run(until=decision)`` does, with ``decision`` an event that
            # _signal triggers, without the event: _signal takes the id the event would
            # get (so every later event keeps its id) and its place in SimPy's queue,
            # ``(now, NORMAL, id)``; events are processed until the next one in the queue
            # comes after that place. Events due at the same time and scheduled before
            # the signal run first, exactly as with ``env.run``.
            env = self.env
            queue = env._queue  # SimPy's heap of (time, priority, id, event)
            step = env.step
            self._deciding = True
            try:
                while True:
                    step()
                    mark = self._mark
                    if mark is not None and (not queue or queue[0] > mark):
                        break
            except EmptySchedule:
                raise DeadlockError(self._deadlock_report()) from None
            finally:
                self._deciding = False
                self._mark = None
        return False

    def _stalled(self) -> bool:
        """Nothing scheduled can lead to a choice (breakdowns alone never do)."""
        return (
            self._releases_pending == 0
            and self._busy == 0
            and self.spec.horizon is None
            and not self._idling
            and not any(self._on_order)
            and all(
                up or not queue for up, queue in zip(self._machine_up, self._queues, strict=True)
            )
        )

    def _deadlock_report(self) -> str:
        waiting = []
        for machine, queue in enumerate(self._queues):
            for job in queue:
                needs = self._job_materials[job][self._job_next[job]]
                short = [
                    f"{q:g} {self.spec.materials[k].name} (on hand {self._stock[k]:g})"
                    for k, q in needs
                    if self._stock[k] < q
                ]
                reason = f"needs {', '.join(short)}" if short else "its machine was deferred"
                waiting.append(f"job {job} at machine {machine}: {reason}")
        return (
            f"nothing left to simulate at t={self.now:g} but {self._jobs_open} jobs are "
            f"unfinished and no choice is due: " + "; ".join(waiting[:10])
        )

    def decision_kind(self) -> str | None:
        """``"dispatch"``, ``"produce"`` or ``None`` when no choice is due now."""
        if self.done:
            return None
        if self._due:
            return "dispatch"
        if self._production_ready():
            return "produce"
        return None

    def decision_machine(self) -> int:
        """The machine whose dispatch choice is due (the lowest index when several are)."""
        if not self._due:
            raise DecisionError("no dispatch choice is due now")
        return min(self._due)

    def due_machines(self) -> list[int]:
        """Every machine with a dispatch choice due now, in index order."""
        return sorted(self._due)

    def queue(self, machine: int) -> list[int]:
        """Jobs that can start on ``machine`` now, in order of arrival at its queue.

        The list is the factory's own when no raw materials are modelled, the same
        object for the whole episode: read it, don't change it.
        """
        if not self._uses_materials:
            return self._queues[machine]
        return [job for job in self._queues[machine] if self._materials_ok(job)]

    def ready_operations(self) -> list[tuple[int, int]]:
        """Every ``(job, machine)`` pair that could start now, by machine then queue order."""
        return [(job, m) for m in sorted(self._due) for job in self.queue(m)]

    def ready_jobs(self) -> list[int]:
        """Jobs whose next operation could start now (in no particular order)."""
        if not self._uses_materials:
            queues = self._queues
            return [job for machine in self._due for job in queues[machine]]
        return [job for machine in self._due for job in self.queue(machine)]

    def start(self, job: int, machine: int) -> None:
        """Start ``job``'s next operation on ``machine`` now.

        Raises:
            DecisionError: The machine has no choice due or the job is not in its queue.
        """
        if self.done:
            self._check_open()  # raises
        if machine not in self._due:
            raise DecisionError(f"machine {machine} has no dispatch choice due at t={self.now}")
        if job not in self._queues[machine] or (
            self._uses_materials and not self._materials_ok(job)
        ):
            raise DecisionError(
                f"job {job} cannot start on machine {machine} at t={self.now}; "
                f"startable: {self.queue(machine)}"
            )
        self.decisions += 1
        self._start(job, machine)

    def _check_open(self) -> None:
        if self.done:
            raise DecisionError(f"the episode is over (t={self.now:g}); reset the factory")

    def _start(self, job: int, machine: int) -> None:
        # Runs at every decision: each value is read once (the single-machine case,
        # every classic job shop's, skips the alternatives).
        self._queues[machine].remove(job)
        step = self._job_next[job]
        alternatives = self._job_machines[job][step]
        times = self._job_times[job][step]
        if len(alternatives) > 1:
            for other in alternatives:
                if other != machine:
                    self._queues[other].remove(job)
                    self._refresh(other)
            duration = times[alternatives.index(machine)]
            fastest = min(times)
        else:
            duration = fastest = times[0]
        setup = 0.0
        family = self._job_family[job]
        if family != NO_FAMILY:
            setup_times = self._setup_times[machine]
            previous = self._machine_family[machine]
            if setup_times is not None and previous != NO_FAMILY and previous != family:
                setup = setup_times[previous][family]
                self._setup_cost += self._setup_costs[machine]
                self._setups += 1
            self._machine_family[machine] = family
        self._job_work_left[job] -= fastest
        self._machine_job[machine] = job
        self._busy += 1
        self._machine_busy_time[machine] += setup + duration
        env = self.env
        now = env.now
        self._machine_started[machine] = now
        self._due.discard(machine)
        if self._uses_materials and self._job_materials[job][step]:
            self._consume(self._job_materials[job][step])
        event = simpy.Timeout(env, setup + duration, value=(job, machine))
        event.callbacks.append(self._on_operation_done)
        self._running[machine] = event
        self._log((now, START, machine, job, step, setup))

    def defer(self, machine: int) -> None:
        """Leave ``machine`` idle for now although work is waiting.

        Its choice comes due again when another job joins its queue, or when it is
        repaired or finishes work. Used to replay a given schedule (which may wait
        on purpose) and for environments that allow waiting.

        Raises:
            DecisionError: The machine has no choice due.
        """
        self._check_open()
        if machine not in self._due:
            raise DecisionError(f"machine {machine} has no dispatch choice due at t={self.now}")
        self.decisions += 1
        self._due.discard(machine)
        self._log((self.env.now, DEFER, machine, -1, -1, 0.0))

    def produce(self, product: int, lot_size: int) -> int:
        """Release a lot of ``product`` and start it on the production machine now.

        Returns:
            The new job's index.

        Raises:
            DecisionError: No production choice is due or the product does not exist.
        """
        production = self.spec.production
        self._check_open()
        if production is None or not self._production_ready():
            raise DecisionError(f"no production choice is due at t={self.now}")
        if not 0 <= product < len(self.spec.products):
            raise DecisionError(f"product {product} does not exist")
        if lot_size <= 0:
            raise DecisionError(f"lot size must be > 0, got {lot_size}")
        spec = self.spec.products[product]
        job = self._create_job(
            spec.routing, self._rng_lots, product, spec.family, lot_size, math.inf, 1.0
        )
        self._log((self.env.now, PRODUCE, production.machine, job, -1, float(product)))
        self.decisions += 1
        self._release(job)
        machine = production.machine
        if machine in self._due and job in self.queue(machine):
            self._start(job, machine)
        return job

    def idle(self) -> None:
        """Leave the production machine idle for the scenario's ``idle_time``."""
        production = self.spec.production
        self._check_open()
        if production is None or not self._production_ready():
            raise DecisionError(f"no production choice is due at t={self.now}")
        self.decisions += 1
        self._idling = True
        self._log((self.env.now, IDLE, production.machine, -1, -1, production.idle_time))
        event = self.env.timeout(production.idle_time)
        event.callbacks.append(self._on_idle_over)

    # -------------------------------------------------------------- callbacks

    def _on_operation_done(self, event: simpy.Event) -> None:
        job, machine = event._value  # type: ignore[attr-defined]
        running = self._running
        if event is not running[machine]:
            return  # superseded by a breakdown; the resumed event will finish it
        running[machine] = None
        self._machine_job[machine] = -1
        self._busy -= 1
        step = self._job_next[job]
        now = self.env.now
        self._log((now, COMPLETE, machine, job, step, 0.0))
        step += 1
        self._job_next[job] = step
        routing = self._job_machines[job]
        queues, up = self._queues, self._machine_up
        if step == len(routing):
            self._finish_job(job)
        else:  # _enqueue, inline: once per operation
            self._job_queued_at[job] = now
            machine_job = self._machine_job
            for following in routing[step]:
                queues[following].append(job)
                if machine_job[following] < 0 and up[following]:
                    self._refresh(following)
        if self._uses_materials or self._production_machine >= 0:
            self._refresh(machine)
        elif not self.done and up[machine] and queues[machine]:  # _refresh, inline
            if machine not in self._due:
                self._due.add(machine)
                self._signal()
        else:
            self._due.discard(machine)
        if not self._due and self._stalled():  # _check_stall, inline: once per operation
            self._signal()  # next_decision then reports the deadlock

    def _on_release(self, event: simpy.Event) -> None:
        self._releases_pending -= 1
        self._release(event._value)  # type: ignore[attr-defined]
        self._check_stall()

    def _check_stall(self) -> None:
        """Stop the run when nothing scheduled can bring a choice (a deadlock)."""
        if not self._due and self._stalled():
            self._signal()  # next_decision then reports the deadlock

    def _release(self, job: int) -> None:
        now = self.env.now
        self._update_wip(+1)
        self._job_release[job] = now
        self._open_jobs[job] = None
        self._log((now, RELEASE, -1, job, -1, float(self._job_quantity[job])))
        self._enqueue(job)

    def _enqueue(self, job: int) -> None:
        self._job_queued_at[job] = self.env.now
        for machine in self._job_machines[job][self._job_next[job]]:
            self._queues[machine].append(job)
            if self._machine_job[machine] < 0 and self._machine_up[machine]:
                self._refresh(machine)

    def _refresh(self, machine: int) -> None:
        """Mark ``machine`` due if it is up, idle and has startable work."""
        if (
            not self.done
            and self._machine_job[machine] < 0
            and self._machine_up[machine]
            and self._queues[machine]
            and (not self._uses_materials or any(map(self._materials_ok, self._queues[machine])))
        ):
            if machine not in self._due:
                self._due.add(machine)
                self._signal()
        else:
            self._due.discard(machine)
        if machine == self._production_machine and self._production_ready():
            self._signal()

    def _signal(self) -> None:
        """A choice is due: next_decision stops where its decision event would run."""
        if self._deciding and self._mark is None:
            env = self.env
            self._mark = (env._now, NORMAL, next(env._eid))

    def _finish_job(self, job: int) -> None:
        now = self.env.now
        self._job_completion[job] = now
        self._update_wip(-1)
        del self._open_jobs[job]
        weight = self._job_weight[job]
        self._finished_weighted_flow += weight * (now - self._job_release[job])
        due = self._job_due[job]
        if now > due:
            self._finished_weighted_tardiness += weight * (now - due)
        self._log((now, FINISH, -1, job, -1, 0.0))
        product = self._job_product[job]
        if product >= 0 and self.spec.products[product].demand is not None:
            self._receive_finished_goods(product, self._job_quantity[job])
        self._check_finished()

    def _check_finished(self) -> None:
        if (
            self.spec.horizon is None
            and self._jobs_open == 0
            and self._releases_pending == 0
            and self.spec.production is None
        ):
            self._finish_episode()

    def _finish_episode(self) -> None:
        if not self.done:
            self._integrate_stock()
            self._update_wip(0)
            self.done = True
            self._due.clear()
            self._signal()

    def _on_horizon(self, event: simpy.Event) -> None:
        self._finish_episode()

    def _draw_streams(self, seed: int | None) -> None:
        # Stream i is the seed's i-th child, as ``SeedSequence(seed).spawn`` numbers
        # them, made when first used: spawning all 6 + M children up front cost more
        # than the rest of a static shop's reset, which uses none of their draws.
        self._stream_root = np.random.SeedSequence(seed)
        self._streams: dict[int, np.random.Generator] = {}

    def _stream(self, index: int) -> np.random.Generator:
        """Random stream ``index`` (0 jobs, 1 arrivals, ... 5 routings, 6 + m breakdowns)."""
        rng = self._streams.get(index)
        if rng is None:
            root = self._stream_root
            child = np.random.SeedSequence(
                root.entropy, spawn_key=(*root.spawn_key, index), pool_size=root.pool_size
            )
            rng = self._streams[index] = np.random.default_rng(child)
        return rng

    @property
    def _rng_jobs(self) -> np.random.Generator:
        return self._stream(0)

    @property
    def _rng_arrivals(self) -> np.random.Generator:
        return self._stream(1)

    @property
    def _rng_materials(self) -> np.random.Generator:
        return self._stream(2)

    @property
    def _rng_demand(self) -> np.random.Generator:
        return self._stream(3)

    @property
    def _rng_lots(self) -> np.random.Generator:
        return self._stream(4)

    @property
    def _rng_routing(self) -> np.random.Generator:
        return self._stream(5)

    def resample_future(self, seed: int | None) -> None:
        """Draw everything not yet known at the current time afresh from ``seed``.

        A sampled future for lookahead without clairvoyance: replay an episode to a
        choice with its own seed, call this, and what follows is one possible future
        given what the controller knows. Known and kept: the jobs in the shop with
        their times, due dates and weights, jobs listed in the spec, repairs and
        material orders under way. Drawn afresh from now: the next arrival and all
        later ones, the next failure of every machine that is up, later lead times,
        demand and lot times. Redrawing the time to the next arrival or failure from
        now is exact for exponential times; for others it forgets the time elapsed.
        The superseded processes' pending timeouts stay in SimPy's queue (it cannot
        cancel a scheduled event) and end them without effect when they fire.

        Args:
            seed: Seed of the new streams; ``None`` draws fresh entropy.
        """
        self._check_open()
        self._draw_streams(seed)
        if self.spec.arrivals is not None and not self._arrivals_over:
            self._arrival_token = token = object()
            self.env.process(self._arrival_process(token))
        for machine, spec in enumerate(self.spec.machines):
            if spec.breakdown is not None and self._machine_up[machine]:
                self._breakdown_tokens[machine] = token = object()
                self.env.process(self._breakdown_process(machine, token))

    def _update_wip(self, change: int) -> None:
        now = self.env.now
        self._wip_area += self._jobs_open * (now - self._wip_last)
        self._wip_last = now
        self._jobs_open += change

    # ------------------------------------------------------- stochastic parts

    def _arrival_process(self, token: object) -> Any:
        arrivals = self.spec.arrivals
        assert arrivals is not None
        rng = self._rng_arrivals
        products = self.spec.products
        mix = np.asarray(arrivals.product_mix, dtype=float)
        mix = mix / mix.sum() if mix.size else mix
        while arrivals.max_jobs is None or self._arrived < arrivals.max_jobs:
            if token is not self._arrival_token:
                return  # superseded before its first draw (two resamples at one time)
            yield self.env.timeout(self._next_arrival_delay(arrivals, rng))
            if token is not self._arrival_token:
                return  # resample_future started another arrival process
            if arrivals.until is not None and self.env.now >= arrivals.until:
                break
            self._arrived += 1
            if arrivals.random_routing is not None:
                routing = self._random_routing()
                product, family = -1, NO_FAMILY
            else:
                product = int(rng.choice(len(products), p=mix))
                routing = products[product].routing
                family = products[product].family
            job = self._create_job(routing, self._rng_jobs, product, family, 1, math.inf, 1.0)
            tightness = arrivals.due_date_tightness.sample(rng)
            self._job_due[job] = self.env.now + tightness * self._job_work_left[job]
            self._job_weight[job] = arrivals.weight.sample(rng)
            self._release(job)
        self._arrivals_over = True
        self._releases_pending -= 1
        self._check_finished()
        self._check_stall()

    def _next_arrival_delay(self, arrivals: ArrivalSpec, rng: np.random.Generator) -> float:
        """Time to the next arrival, or to ``until`` when that comes first."""
        now = self.env.now
        delay = float(arrivals.interarrival.sample(rng))
        if arrivals.rate_profile is not None:
            delay = arrivals.rate_profile.advance(now, delay) - now
        if arrivals.until is not None:
            delay = min(delay, max(arrivals.until - now, 0.0))
        return delay

    def _random_routing(self) -> Routing:
        spec = self.spec.arrivals.random_routing  # type: ignore[union-attr]
        assert spec is not None
        rng = self._rng_routing
        count = int(rng.integers(spec.min_operations, spec.max_operations + 1))
        machines = rng.choice(self._n_machines, size=count, replace=False)
        return tuple(OperationSpec.on(int(m), spec.duration) for m in machines)

    def _breakdown_process(self, machine: int, token: object) -> Any:
        breakdown = self.spec.machines[machine].breakdown
        assert breakdown is not None
        env = self.env
        while True:
            if token is not self._breakdown_tokens[machine]:
                return  # superseded before its first draw (two resamples at one time)
            rng = self._stream(6 + machine)  # new streams after resample_future
            yield env.timeout(breakdown.time_to_failure.sample(rng))
            if token is not self._breakdown_tokens[machine]:
                return  # resample_future started another process for this machine
            repair = breakdown.repair_time.sample(rng)
            running = self._running[machine]
            ends = self._machine_started[machine] + running._delay if running else 0.0  # type: ignore[attr-defined]
            if running is not None and ends <= env.now:
                self._on_operation_done(running)  # it ends at this instant, before the failure
            self._machine_up[machine] = False
            self._due.discard(machine)
            running = self._running[machine]
            if running is not None:
                self._remaining[machine] = ends - env.now
                self._running[machine] = None
            self._log((env.now, BREAKDOWN, machine, self._machine_job[machine], -1, repair))
            yield env.timeout(repair)
            self._machine_up[machine] = True
            self._log((env.now, REPAIR, machine, self._machine_job[machine], -1, repair))
            job = self._machine_job[machine]
            if job >= 0 and self._running[machine] is None:
                remaining = self._remaining[machine]
                self._machine_started[machine] = env.now
                event = env.timeout(remaining, value=(job, machine))
                event.callbacks.append(self._on_operation_done)
                self._running[machine] = event
            else:
                self._refresh(machine)
                self._check_stall()

    # ------------------------------------------------------------- inventory

    def _materials_ok(self, job: int) -> bool:
        stock = self._stock
        return all(stock[k] >= q for k, q in self._job_materials[job][self._job_next[job]])

    def _consume(self, needs: Sequence[tuple[int, float]]) -> None:
        self._integrate_stock()
        for material, quantity in needs:
            self._stock[material] -= quantity
            self._reorder(material)
        for machine in list(self._due):
            self._refresh(machine)

    def _reorder(self, material: int) -> None:
        spec = self.spec.materials[material]
        while self._stock[material] + self._on_order[material] <= spec.reorder_point:
            self._on_order[material] += spec.order_quantity
            self._ordering_cost += spec.order_cost
            self._log((self.env.now, ORDER, -1, material, -1, spec.order_quantity))
            event = self.env.timeout(spec.lead_time.sample(self._rng_materials), value=material)
            event.callbacks.append(self._on_material_received)

    def _on_material_received(self, event: simpy.Event) -> None:
        material = event._value  # type: ignore[attr-defined]
        quantity = self.spec.materials[material].order_quantity
        self._integrate_stock()
        self._stock[material] += quantity
        self._on_order[material] -= quantity
        self._log((self.env.now, RECEIVE, -1, material, -1, quantity))
        for machine in range(self._n_machines):
            if self._queues[machine]:
                self._refresh(machine)
        self._check_stall()

    def _integrate_stock(self) -> None:
        now = self.env.now
        elapsed = now - self._last_stock_change
        if elapsed > 0:
            for index, units in enumerate(self._fg):
                self._fg_area[index] += units * elapsed
                self._backlog_area[index] += self._backlog[index] * elapsed
            for index, units in enumerate(self._stock):
                self._material_area[index] += units * elapsed
        self._last_stock_change = now

    def _receive_finished_goods(self, product: int, quantity: int) -> None:
        self._integrate_stock()
        self._fg[product] += quantity
        backlog = self._backlog[product]
        if backlog > 0:
            shipped = min(backlog, self._fg[product])
            self._fg[product] -= shipped
            self._backlog[product] -= shipped
            self._log((self.env.now, SHIP, -1, -1, product, shipped))

    def _demand_process(self, product: int) -> Any:
        spec = self.spec.products[product]
        demand = spec.demand
        assert demand is not None
        period_length = self.spec.demand_period
        history = self.demand_history[product]
        period = 0
        while True:
            yield self.env.timeout(period_length)
            units = sample_demand(demand, period, self._rng_demand)
            history.append(units)
            period += 1
            if units == 0:
                continue
            self._integrate_stock()
            self._demand_total += units
            shipped = min(units, self._fg[product])
            self._fg[product] -= shipped
            self._demand_filled += shipped
            now = self.env.now
            self._log((now, DEMAND, -1, -1, product, float(units)))
            if shipped:
                self._log((now, SHIP, -1, -1, product, float(shipped)))
            short = units - shipped
            if short:
                if self.spec.backorders:
                    self._backlog[product] += short
                    self._log((now, BACKORDER, -1, -1, product, float(short)))
                else:
                    self._lost_units[product] += short
                    self._log((now, LOST, -1, -1, product, float(short)))

    # ------------------------------------------------------------ production

    def _production_ready(self) -> bool:
        """A production choice is due: the machine is up, idle, with nothing queued."""
        machine = self._production_machine
        return (
            machine >= 0
            and not self.done
            and not self._idling
            and self._machine_job[machine] < 0
            and self._machine_up[machine]
            and not self._queues[machine]
        )

    def _on_idle_over(self, event: simpy.Event) -> None:
        self._idling = False
        if self._production_ready():
            self._signal()

    # ---------------------------------------------------------------- reading

    @property
    def now(self) -> float:
        """Current simulated time."""
        return float(self.env.now)

    @property
    def n_machines(self) -> int:
        """Number of machines."""
        return self._n_machines

    @property
    def n_jobs(self) -> int:
        """Jobs created so far (released or waiting for release)."""
        return len(self._job_next)

    def open_jobs(self) -> list[int]:
        """Released, unfinished jobs in release order."""
        return list(self._open_jobs)

    def weighted_tardiness_so_far(self) -> float:
        """Weighted tardiness accrued up to now, open jobs included.

        Finished jobs count ``w * max(0, C - d)``; open jobs ``w * max(0, now - d)``. At
        the end of an episode it equals the total weighted tardiness, so the changes of
        this quantity between decisions telescope into the objective.
        """
        now = self.env.now
        due, weight = self._job_due, self._job_weight
        accrued = self._finished_weighted_tardiness
        for job in self._open_jobs:
            if now > due[job]:
                accrued += weight[job] * (now - due[job])
        return accrued

    def projected_weighted_tardiness(self) -> float:
        """Weighted tardiness of finished jobs plus a projection for open ones.

        An open job counts ``w * max(0, now + W - d)`` with ``W`` its work not yet
        started: the tardiness it would have if it never waited again. At the end of
        an episode it equals the total weighted tardiness; as a potential it makes a
        reward that telescopes to the same total but reacts at once to a choice
        (Ng, Harada & Russell 1999, potential-based shaping).
        """
        now = self.env.now
        due, weight, work = self._job_due, self._job_weight, self._job_work_left
        projected = self._finished_weighted_tardiness
        for job in self._open_jobs:
            late = now + work[job] - due[job]
            if late > 0:
                projected += weight[job] * late
        return projected

    def weighted_flow_time_so_far(self) -> float:
        """Weighted time in system accrued up to now, open jobs included."""
        now = self.env.now
        release, weight = self._job_release, self._job_weight
        return self._finished_weighted_flow + sum(
            weight[job] * (now - release[job]) for job in self._open_jobs
        )

    def cost_so_far(self) -> float:
        """Total cost (holding, backorder, lost sales, setup, ordering) accrued up to now."""
        self._integrate_stock()
        return sum(self._costs()) + self._setup_cost + self._ordering_cost

    def next_operation(self, job: int) -> tuple[tuple[int, ...], tuple[float, ...]]:
        """Machines and processing times of ``job``'s next operation (job not finished)."""
        step = self._job_next[job]
        return self._job_machines[job][step], self._job_times[job][step]

    def following_operation(self, job: int) -> tuple[tuple[int, ...], tuple[float, ...]]:
        """Machines and times of the operation after ``job``'s next one (empty if none)."""
        step = self._job_next[job] + 1
        if step >= len(self._job_machines[job]):
            return (), ()
        return self._job_machines[job][step], self._job_times[job][step]

    def routing_times(self, job: int) -> list[float]:
        """Processing time of each operation of ``job`` (the fastest alternative)."""
        return [min(times) for times in self._job_times[job]]

    def alternative_times(self, job: int) -> list[dict[int, float]]:
        """Per operation of ``job``, its processing time on each machine that can run it."""
        return [
            dict(zip(machines, times, strict=True))
            for machines, times in zip(self._job_machines[job], self._job_times[job], strict=True)
        ]

    def operation_time(self, job: int, machine: int) -> float:
        """Processing time of ``job``'s next operation on ``machine`` (no setup)."""
        step = self._job_next[job]
        return self._job_times[job][step][self._job_machines[job][step].index(machine)]

    def setup_time(self, job: int, machine: int) -> float:
        """Setup ``machine`` would need before ``job``'s next operation."""
        times = self._setup_times[machine]
        previous = self._machine_family[machine]
        family = self._job_family[job]
        if times is None or NO_FAMILY in (previous, family) or previous == family:
            return 0.0
        return times[previous][family]

    def work_remaining(self, job: int) -> float:
        """Processing time of ``job``'s operations not yet started."""
        return self._job_work_left[job]

    def operations_remaining(self, job: int) -> int:
        """Operations of ``job`` not yet started."""
        return len(self._job_machines[job]) - self._job_next[job]

    def operation_index(self, job: int) -> int:
        """Index of ``job``'s next operation in its routing."""
        return self._job_next[job]

    def n_operations(self, job: int) -> int:
        """Length of ``job``'s routing."""
        return len(self._job_machines[job])

    def release_time(self, job: int) -> float:
        """When ``job`` was released (NaN before)."""
        return self._job_release[job]

    def due_date(self, job: int) -> float:
        """``job``'s due date (``inf`` when it has none)."""
        return self._job_due[job]

    def weight(self, job: int) -> float:
        """``job``'s weight."""
        return self._job_weight[job]

    def queued_since(self, job: int) -> float:
        """When ``job`` joined the queue of its next operation."""
        return self._job_queued_at[job]

    def completion_time(self, job: int) -> float:
        """When ``job`` finished (NaN before)."""
        return self._job_completion[job]

    def quantity(self, job: int) -> int:
        """Units in ``job`` (lot size)."""
        return self._job_quantity[job]

    def product_of(self, job: int) -> int:
        """``job``'s product index (-1 when it has only its own routing)."""
        return self._job_product[job]

    def machine_busy(self, machine: int) -> bool:
        """Whether ``machine`` holds an operation (running or interrupted)."""
        return self._machine_job[machine] >= 0

    def machine_up(self, machine: int) -> bool:
        """Whether ``machine`` is working (not broken down)."""
        return self._machine_up[machine]

    def machine_job(self, machine: int) -> int:
        """The job on ``machine``, or -1."""
        return self._machine_job[machine]

    def machine_free_at(self, machine: int) -> float:
        """When ``machine``'s current operation is scheduled to end (now if idle)."""
        event = self._running[machine]
        if event is None:
            return self.now if self._machine_up[machine] else math.inf
        return self._machine_started[machine] + event._delay  # type: ignore[attr-defined]

    def waiting_jobs(self, machine: int) -> list[int]:
        """All jobs queued at ``machine``, startable or not."""
        return list(self._queues[machine])

    @property
    def finished_goods(self) -> list[float]:
        """Finished goods on hand per product."""
        return list(self._fg)

    @property
    def backlog(self) -> list[float]:
        """Backordered units per product."""
        return list(self._backlog)

    @property
    def material_stock(self) -> list[float]:
        """Raw material on hand per material."""
        return list(self._stock)

    @property
    def material_on_order(self) -> list[float]:
        """Raw material ordered, not yet received, per material."""
        return list(self._on_order)

    @property
    def production_machine_family(self) -> int:
        """Setup family the production machine is set for (-1: none yet)."""
        production = self.spec.production
        return self._machine_family[production.machine] if production else NO_FAMILY

    @property
    def makespan(self) -> float:
        """Completion time of the last finished job (0.0 before any): ``kpis().makespan``.

        Integrates the stock costs up to now as :meth:`kpis` does, so either leaves
        the factory in the same state.
        """
        self._integrate_stock()
        finished = [time for time in self._job_completion if not math.isnan(time)]
        return float(max(finished)) if finished else 0.0

    def kpis(self) -> KPIs:
        """Indicators of the episode so far (final once :attr:`done`)."""
        self._integrate_stock()
        now = self.env.now
        finished = [j for j, c in enumerate(self._job_completion) if not math.isnan(c)]
        completion = np.array([self._job_completion[j] for j in finished], dtype=float)
        release = np.array([self._job_release[j] for j in finished], dtype=float)
        due = np.array([self._job_due[j] for j in finished], dtype=float)
        weight = np.array([self._job_weight[j] for j in finished], dtype=float)
        flow = completion - release
        tardiness = np.maximum(completion - due, 0.0)
        count = len(finished)
        makespan = float(completion.max()) if count else 0.0
        utilisation = tuple(
            min(max(busy / now, 0.0), 1.0) if now > 0 else 0.0 for busy in self._running_busy_time()
        )
        holding, backorder, lost = self._costs()
        wip_area = self._wip_area + self._jobs_open * (now - self._wip_last)
        return KPIs(
            time=float(now),
            jobs_released=int(sum(1 for r in self._job_release if not math.isnan(r))),
            jobs_completed=count,
            makespan=makespan,
            mean_flow_time=float(flow.mean()) if count else 0.0,
            mean_weighted_flow_time=float((weight * flow).sum() / weight.sum())
            if count and weight.sum() > 0
            else 0.0,
            total_tardiness=float(tardiness.sum()),
            total_weighted_tardiness=float((weight * tardiness).sum()),
            mean_weighted_tardiness=float((weight * tardiness).sum() / count) if count else 0.0,
            max_tardiness=float(tardiness.max()) if count else 0.0,
            tardy_jobs=int((tardiness > 0).sum()),
            utilisation=float(np.mean(utilisation)),
            machine_utilisation=utilisation,
            mean_wip=float(wip_area / now) if now > 0 else 0.0,
            fill_rate=self._demand_filled / self._demand_total if self._demand_total else 1.0,
            holding_cost=float(holding),
            backorder_cost=float(backorder),
            lost_sales_cost=float(lost),
            setup_cost=self._setup_cost,
            ordering_cost=self._ordering_cost,
            total_cost=float(holding + backorder + lost + self._setup_cost + self._ordering_cost),
            setups=self._setups,
            decisions=self.decisions,
            events=len(self.log),
        )

    def _costs(self) -> tuple[float, float, float]:
        """Holding, backorder and lost-sales cost up to the last stock integration."""
        products = self.spec.products
        holding = sum(p.holding_cost * a for p, a in zip(products, self._fg_area, strict=True))
        holding += sum(
            m.holding_cost * a
            for m, a in zip(self.spec.materials, self._material_area, strict=True)
        )
        backorder = sum(
            p.backorder_cost * a for p, a in zip(products, self._backlog_area, strict=True)
        )
        lost = sum(p.lost_sale_cost * u for p, u in zip(products, self._lost_units, strict=True))
        return holding, backorder, lost

    def _running_busy_time(self) -> list[float]:
        """Busy time per machine up to now (a running operation counts up to now)."""
        now = self.env.now
        busy = list(self._machine_busy_time)
        for machine, event in enumerate(self._running):
            if event is not None:
                end = self._machine_started[machine] + event._delay  # type: ignore[attr-defined]
                busy[machine] -= max(end - now, 0.0)
            elif self._machine_job[machine] >= 0:  # interrupted by a breakdown
                busy[machine] -= self._remaining[machine]
        return busy

    def event_log(self) -> list[LoggedEvent]:
        """The event log as named tuples, in the order things happened."""
        return [LoggedEvent(*entry) for entry in self.log]

    def write_event_log(self, path: str | Path) -> Path:
        """Write the event log as UTF-8 CSV (atomically: a temporary file, then a rename).

        The columns are :class:`LoggedEvent`'s, then ``machine_name`` (empty for events
        of no machine), so a chart drawn from the file alone can name the machines. The
        file keeps the user's umask; the folder is created if missing.

        Raises:
            OSError: The file could not be written; the error names ``path``.
        """
        names = [machine.name for machine in self.spec.machines]

        def write(stream: IO[bytes]) -> None:
            text = io.TextIOWrapper(stream, encoding="utf-8", newline="")
            writer = csv.writer(text)
            writer.writerow((*LoggedEvent._fields, "machine_name"))
            for event in self.log:
                machine = event[2]
                writer.writerow((*event, names[machine] if machine >= 0 else ""))
            text.flush()
            text.detach()  # the caller closes the stream

        return replace_atomically(path, write)


def _discard(_: object) -> None:
    """Log sink used when events are not recorded."""


class _DrawnJob(NamedTuple):
    """A job's routing with its times drawn (for a quantity)."""

    machines: tuple[tuple[int, ...], ...]
    times: tuple[tuple[float, ...], ...]
    materials: tuple[tuple[tuple[int, float], ...], ...]
    work: float  # sum of the fastest alternatives


def _draw_job(routing: Routing, rng: np.random.Generator, quantity: int) -> _DrawnJob:
    """Draw a routing's times, operation by operation (the stream's order is fixed)."""
    machines = []
    times = []
    materials = []
    work = 0.0
    for op in routing:
        sampled = tuple(_draw(d, rng) * quantity for d in op.durations)
        machines.append(op.machines)
        times.append(sampled)
        materials.append(tuple((k, q * quantity) for k, q in op.materials) if op.materials else ())
        work += min(sampled)
    return _DrawnJob(tuple(machines), tuple(times), tuple(materials), work)


class _ListedJob(NamedTuple):
    """A job listed in the spec, as every episode starts it."""

    routing: Routing
    family: int
    fixed: _DrawnJob | None  # its times when none is random (drawing them draws nothing)


class _SpecTables(NamedTuple):
    """What a spec fixes for every episode, computed once per spec (see _spec_tables)."""

    setup_times: list[Any]
    setup_costs: list[float]
    uses_materials: bool
    jobs: list[_ListedJob]
    released_fixed: bool  # every job has fixed times and is released at t=0


_SPEC_TABLES: dict[int, tuple[FactorySpec, _SpecTables]] = {}
_SPEC_TABLES_KEPT = 32


def _spec_tables(spec: FactorySpec) -> _SpecTables:
    """The spec's tables, cached: envs build a factory of one spec every episode.

    Keyed by identity; the cache holds the spec itself, so its id cannot be reused
    while the entry lives (the oldest of ``_SPEC_TABLES_KEPT`` entries goes first).
    """
    entry = _SPEC_TABLES.get(id(spec))
    if entry is not None and entry[0] is spec:
        return entry[1]
    routings = [p.routing for p in spec.products]
    routings += [job.routing for job in spec.jobs if job.routing is not None]
    jobs = []
    for job in spec.jobs:
        routing = job.routing if job.routing is not None else spec.products[job.product].routing
        family = spec.products[job.product].family if job.product >= 0 else NO_FAMILY
        fixed = all(isinstance(d, int | float | Constant) for op in routing for d in op.durations)
        drawn = _draw_job(routing, np.random.default_rng(0), job.quantity) if fixed else None
        jobs.append(_ListedJob(routing, family, drawn))
    tables = _SpecTables(
        setup_times=[m.setup.times if m.setup else None for m in spec.machines],
        setup_costs=[m.setup.cost if m.setup else 0.0 for m in spec.machines],
        uses_materials=any(op.materials for routing in routings for op in routing),
        jobs=jobs,
        released_fixed=all(
            entry.fixed is not None and job.release_time <= 0
            for entry, job in zip(jobs, spec.jobs, strict=True)
        ),
    )
    if len(_SPEC_TABLES) >= _SPEC_TABLES_KEPT:
        del _SPEC_TABLES[next(iter(_SPEC_TABLES))]
    _SPEC_TABLES[id(spec)] = (spec, tables)
    return tables


def _draw(duration: float | Any, rng: np.random.Generator) -> float:
    if isinstance(duration, int | float):
        return float(duration)
    return duration.sample(rng)
