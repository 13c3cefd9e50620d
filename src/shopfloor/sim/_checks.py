"""Independent checks of a simulated schedule, re-derived from the factory's event log.

:func:`check_schedule` replays the event log of a :class:`~shopfloor.sim.Factory`
against its :class:`~shopfloor.sim.FactorySpec` with bookkeeping of its own and raises
:class:`ScheduleViolation` at the first broken invariant of the simulation contract:
a machine runs one operation at a time and holds it through a breakdown, routings are
followed in order from the job's release on, nothing starts on a machine that is down,
time never goes back, processing times add up (setup + work + repair time), raw
material and finished goods are conserved, and the model is non-delay (no machine
stays idle while work it could start waits, unless the controller deferred it). It
finally compares its own totals with the factory's state, decision count and KPIs.

:func:`lower_bound` is the classic trivial makespan bound of a fixed job list: the
longest job and the most loaded machine (with its shortest head and tail).

The checks read the spec and the log. What the log does not record is read from the
factory: the routing drawn for a job of a random-routing arrival stream, processing
times drawn from distributions, a job's product, and the decision count (from which
unlogged :meth:`~shopfloor.sim.Factory.defer` calls are inferred).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from shopfloor.sim._distributions import Constant
from shopfloor.sim._factory import Factory
from shopfloor.sim._spec import FactorySpec, OperationSpec, Routing

__all__ = ["ScheduleViolation", "check_schedule", "lower_bound"]

_NO_FAMILY = -1
_KINDS = frozenset(
    {
        "release",
        "start",
        "complete",
        "finish",
        "breakdown",
        "repair",
        "order",
        "receive",
        "demand",
        "ship",
        "backorder",
        "lost",
        "produce",
        "idle",
        "defer",
    }
)


class ScheduleViolation(AssertionError):
    """A simulated schedule breaks an invariant of the simulation contract."""


def _close(a: float, b: float, tolerance: float) -> bool:
    return abs(a - b) <= tolerance * max(1.0, abs(a), abs(b))


@dataclass
class _Job:
    """What the checker knows and has seen of one job."""

    machines: list[tuple[int, ...]]
    times: list[tuple[float, ...]]
    materials: list[tuple[tuple[int, float], ...]]
    quantity: int
    product: int
    family: int
    expected_release: float | None
    released: float = math.nan
    next_operation: int = 0
    running: bool = False
    finished: float = math.nan
    last_completion: float = math.nan


@dataclass
class _Machine:
    """What the checker has seen of one machine."""

    up: bool = True
    job: int = -1
    operation: int = -1
    started: float = 0.0
    expected: float = 0.0
    downtime: float = 0.0
    down_since: float = math.nan
    repair: float = 0.0
    family: int = _NO_FAMILY
    busy: float = 0.0


@dataclass
class _Demand:
    """A customer demand being served (the ``ship``/``backorder``/``lost`` after it)."""

    product: int
    time: float
    units: float
    shipped: float = 0.0
    short: float = 0.0


@dataclass
class _Totals:
    """Per-product flows of finished goods."""

    demand: float = 0.0
    shipped_on_arrival: float = 0.0
    shipped_from_backlog: float = 0.0
    backordered: float = 0.0
    lost: float = 0.0
    produced: float = 0.0


@dataclass
class _Replay:
    """The checker's own state, advanced event by event."""

    factory: Factory
    tolerance: float
    non_delay: bool
    spec: FactorySpec = field(init=False)
    jobs: list[_Job] = field(default_factory=list)
    machines: list[_Machine] = field(default_factory=list)
    stock: list[float] = field(default_factory=list)
    on_order: list[float] = field(default_factory=list)
    finished_goods: list[float] = field(default_factory=list)
    backlog: list[float] = field(default_factory=list)
    totals: list[_Totals] = field(default_factory=list)
    waiting: set[int] = field(default_factory=set)
    demand: _Demand | None = None
    idle_until: float = -math.inf
    arrivals: int = 0
    index: int = -1
    event: tuple[float, str, int, int, int, float] | None = None
    previous: tuple[float, str, int, int, int, float] | None = None
    setups: int = 0
    setup_cost: float = 0.0
    ordering_cost: float = 0.0
    last_area_time: float = 0.0
    finished_goods_area: list[float] = field(default_factory=list)
    backlog_area: list[float] = field(default_factory=list)
    material_area: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        spec = self.spec = self.factory.spec
        self.machines = [_Machine() for _ in spec.machines]
        self.stock = [m.initial_stock for m in spec.materials]
        self.on_order = [0.0] * len(spec.materials)
        self.material_area = [0.0] * len(spec.materials)
        self.finished_goods = [p.initial_stock for p in spec.products]
        self.backlog = [0.0] * len(spec.products)
        self.totals = [_Totals() for _ in spec.products]
        self.finished_goods_area = [0.0] * len(spec.products)
        self.backlog_area = [0.0] * len(spec.products)
        for job in spec.jobs:
            routing = job.routing if job.routing is not None else spec.products[job.product].routing
            family = spec.products[job.product].family if job.product >= 0 else _NO_FAMILY
            self.jobs.append(
                self._job(
                    len(self.jobs),
                    routing,
                    job.quantity,
                    job.product,
                    family,
                    max(job.release_time, 0.0),
                )
            )

    # ------------------------------------------------------------ helpers

    def fail(self, message: str) -> None:
        where = ""
        if self.event is not None:
            where = f"event #{self.index} {self.event}: "
        raise ScheduleViolation(f"{self.spec.name}: {where}{message}")

    def require(self, condition: bool, message: str) -> None:
        if not condition:
            self.fail(message)

    def _job(
        self,
        index: int,
        routing: Routing | None,
        quantity: int,
        product: int,
        family: int,
        expected_release: float | None,
    ) -> _Job:
        """A job's routing: from the spec, with drawn values where the spec has none."""
        drawn_machines = self.factory._job_machines[index]
        drawn_times = self.factory._job_times[index]
        if routing is None:  # a random routing drawn on arrival: only the factory knows it
            return _Job(
                machines=list(drawn_machines),
                times=list(drawn_times),
                materials=[() for _ in drawn_machines],
                quantity=quantity,
                product=product,
                family=family,
                expected_release=expected_release,
            )
        times = []
        for step, operation in enumerate(routing):
            times.append(self._times(operation, quantity, drawn_times[step]))
        return _Job(
            machines=[op.machines for op in routing],
            times=times,
            materials=[tuple((k, q * quantity) for k, q in op.materials) for op in routing],
            quantity=quantity,
            product=product,
            family=family,
            expected_release=expected_release,
        )

    @staticmethod
    def _times(
        operation: OperationSpec, quantity: int, drawn: tuple[float, ...]
    ) -> tuple[float, ...]:
        return tuple(
            float(d) * quantity if isinstance(d, int | float) else drawn[i]
            for i, d in enumerate(operation.durations)
        )

    def integrate(self, now: float) -> None:
        elapsed = now - self.last_area_time
        if elapsed > 0:
            for p, units in enumerate(self.finished_goods):
                self.finished_goods_area[p] += units * elapsed
                self.backlog_area[p] += self.backlog[p] * elapsed
            for k, units in enumerate(self.stock):
                self.material_area[k] += units * elapsed
        self.last_area_time = now

    def startable(self, job: int, machine: int) -> bool:
        record = self.jobs[job]
        if machine not in record.machines[record.next_operation]:
            return False
        needs = record.materials[record.next_operation]
        return all(self.stock[k] >= q + self.tolerance * max(1.0, q) for k, q in needs)

    # ------------------------------------------------------------ replay

    def run(self) -> None:
        log = self.factory.log
        handlers = {
            "release": self.on_release,
            "start": self.on_start,
            "complete": self.on_complete,
            "finish": self.on_finish,
            "breakdown": self.on_breakdown,
            "repair": self.on_repair,
            "order": self.on_order_placed,
            "receive": self.on_receive,
            "demand": self.on_demand,
            "ship": self.on_ship,
            "backorder": self.on_short,
            "lost": self.on_short,
            "produce": self.on_produce,
            "idle": self.on_idle,
            "defer": lambda *_: None,
        }
        now = self.factory.now
        for self.index, entry in enumerate(log):
            self.event = entry
            time, kind = entry[0], entry[1]
            self.require(kind in _KINDS, f"unknown event kind {kind!r}")
            if self.previous is not None:
                self.require(
                    time >= self.previous[0],
                    f"time goes back from {self.previous[0]} to {time}",
                )
            self.require(time <= now, f"logged after the factory's clock ({now})")
            self.close_demand(entry)
            self.integrate(time)
            handlers[kind](entry)
            self.previous = entry
            following = log[self.index + 1][0] if self.index + 1 < len(log) else now
            if following > time:
                self.end_of_instant(time)
        self.event = None
        self.close_demand(None)
        self.integrate(now)
        if log and now > log[-1][0]:
            self.end_of_instant(log[-1][0])

    def close_demand(self, entry: tuple[float, str, int, int, int, float] | None) -> None:
        demand = self.demand
        if demand is None:
            return
        if (
            entry is not None
            and entry[1] in ("ship", "backorder", "lost")
            and entry[4] == demand.product
            and entry[0] == demand.time
            and self.previous is not None
            and self.previous[1] in ("demand", "ship")
        ):
            return
        self.require(
            _close(demand.shipped + demand.short, demand.units, self.tolerance),
            f"demand of {demand.units} for product {demand.product} at t={demand.time} "
            f"was shipped {demand.shipped} and short {demand.short}",
        )
        self.demand = None

    def end_of_instant(self, time: float) -> None:
        """Checks that hold once everything due at ``time`` has been done."""
        spec = self.spec
        for k, material in enumerate(spec.materials):
            position = self.stock[k] + self.on_order[k]
            self.require(
                position > material.reorder_point,
                f"material {k} ({material.name}): inventory position {position} at t={time} "
                f"is at or below the reorder point {material.reorder_point} with no order",
            )
        for p in range(len(spec.products)):
            self.require(
                not (self.finished_goods[p] > 0 and self.backlog[p] > 0),
                f"product {p} has {self.finished_goods[p]} units on hand and "
                f"{self.backlog[p]} backordered at t={time}",
            )
        if self.factory.done and spec.horizon is not None and time >= spec.horizon:
            return  # the episode is over: nothing more is decided
        for index, machine in enumerate(self.machines):
            if not self.non_delay or not machine.up or machine.job >= 0:
                continue
            for job in self.waiting:
                self.require(
                    not self.startable(job, index),
                    f"machine {index} stays idle after t={time} while job {job} waits "
                    "for it with its materials on hand (the model is non-delay)",
                )
        production = spec.production
        if production is not None:
            machine = self.machines[production.machine]
            queued = any(
                production.machine in self.jobs[j].machines[self.jobs[j].next_operation]
                for j in self.waiting
            )
            self.require(
                not (machine.up and machine.job < 0 and not queued and time >= self.idle_until),
                f"a production choice was due on machine {production.machine} at t={time} "
                "and none was taken",
            )

    # ------------------------------------------------------------ jobs

    def job_of(self, job: int) -> _Job:
        self.require(0 <= job < len(self.jobs), f"job {job} does not exist (yet)")
        return self.jobs[job]

    def new_job(self, job: int, product: int, quantity: int) -> None:
        spec = self.spec
        self.require(
            job == len(self.jobs),
            f"a new job should get index {len(self.jobs)}, got {job}",
        )
        family = spec.products[product].family if product >= 0 else _NO_FAMILY
        routing = spec.products[product].routing if product >= 0 else None
        self.jobs.append(self._job(job, routing, quantity, product, family, None))

    def on_release(self, entry: tuple[float, str, int, int, int, float]) -> None:
        time, _, _, job, _, quantity = entry
        spec = self.spec
        if job >= len(self.jobs):  # an arrival
            arrivals = spec.arrivals
            self.require(arrivals is not None, f"job {job} arrives without an arrival stream")
            assert arrivals is not None
            self.arrivals += 1
            self.require(
                arrivals.max_jobs is None or self.arrivals <= arrivals.max_jobs,
                f"arrival {self.arrivals} exceeds max_jobs={arrivals.max_jobs}",
            )
            self.require(
                arrivals.until is None or time < arrivals.until,
                f"arrival at t={time}, at or after until={arrivals.until}",
            )
            self.require(quantity == 1, f"an arrival has quantity 1, got {quantity}")
            self.new_job(job, self.factory.product_of(job), 1)
        record = self.jobs[job]
        self.require(math.isnan(record.released), f"job {job} released twice")
        self.require(
            quantity == record.quantity,
            f"job {job} released with quantity {quantity}, expected {record.quantity}",
        )
        if record.expected_release is not None:
            self.require(
                time == record.expected_release,
                f"job {job} released at t={time}, its release time is {record.expected_release}",
            )
        record.released = time
        self.waiting.add(job)

    def on_produce(self, entry: tuple[float, str, int, int, int, float]) -> None:
        time, _, machine, job, _, value = entry
        production = self.spec.production
        self.require(production is not None, "a lot is produced without a production spec")
        assert production is not None
        self.require(
            machine == production.machine,
            f"produced on machine {machine}, the production machine is {production.machine}",
        )
        state = self.machines[machine]
        self.require(state.up and state.job < 0, f"machine {machine} is not idle and up")
        self.require(time >= self.idle_until, f"produced while idling until {self.idle_until}")
        self.require(
            not any(
                machine in self.jobs[j].machines[self.jobs[j].next_operation] for j in self.waiting
            ),
            f"produced while jobs wait for machine {machine}",
        )
        product = int(value)
        self.require(
            value == product and 0 <= product < len(self.spec.products),
            f"product {value} does not exist",
        )
        log = self.factory.log
        following = log[self.index + 1] if self.index + 1 < len(log) else None
        self.require(
            following is not None and following[1] == "release" and following[3] == job,
            "a produced lot must be released at once",
        )
        assert following is not None
        quantity = following[5]
        self.require(quantity == int(quantity) and quantity > 0, f"bad lot size {quantity}")
        self.new_job(job, product, int(quantity))

    def on_idle(self, entry: tuple[float, str, int, int, int, float]) -> None:
        time, _, machine, _, _, value = entry
        production = self.spec.production
        self.require(production is not None, "idling without a production spec")
        assert production is not None
        self.require(machine == production.machine, f"idle logged on machine {machine}")
        self.require(time >= self.idle_until, f"idle while idling until {self.idle_until}")
        self.require(value == production.idle_time, f"idle for {value}")
        self.idle_until = time + production.idle_time

    def on_start(self, entry: tuple[float, str, int, int, int, float]) -> None:
        time, _, machine, job, operation, setup = entry
        self.require(0 <= machine < len(self.machines), f"machine {machine} does not exist")
        record = self.job_of(job)
        state = self.machines[machine]
        self.require(not math.isnan(record.released), f"job {job} starts before its release")
        self.require(math.isnan(record.finished), f"job {job} starts after it finished")
        self.require(not record.running, f"job {job} starts while an operation of it runs")
        self.require(
            operation == record.next_operation,
            f"job {job} starts operation {operation}, its next is {record.next_operation}",
        )
        self.require(
            operation < len(record.machines),
            f"job {job} has only {len(record.machines)} operations",
        )
        if operation > 0:
            self.require(
                time >= record.last_completion,
                f"job {job} starts operation {operation} at t={time} before operation "
                f"{operation - 1} completed at t={record.last_completion}",
            )
        self.require(time >= record.released, f"job {job} starts at t={time} before its release")
        alternatives = record.machines[operation]
        self.require(
            machine in alternatives,
            f"operation {operation} of job {job} runs on machine {machine}, "
            f"not one of {alternatives}",
        )
        self.require(state.up, f"machine {machine} starts job {job} while down")
        self.require(
            state.job < 0,
            f"machine {machine} starts job {job} while it holds job {state.job} "
            f"(operation {state.operation})",
        )
        self.check_setup(machine, record, setup)
        for material, quantity in record.materials[operation]:
            self.stock[material] -= quantity
            self.require(
                self.stock[material] >= -self.tolerance * max(1.0, quantity),
                f"material {material} stock goes negative ({self.stock[material]})",
            )
        duration = record.times[operation][alternatives.index(machine)]
        state.job, state.operation, state.started = job, operation, time
        state.expected, state.downtime = setup + duration, 0.0
        record.running = True
        self.waiting.discard(job)

    def check_setup(self, machine: int, record: _Job, setup: float) -> None:
        spec = self.spec.machines[machine].setup
        state = self.machines[machine]
        expected = 0.0
        if record.family != _NO_FAMILY:
            previous = state.family
            if spec is not None and previous not in (_NO_FAMILY, record.family):
                expected = spec.times[previous][record.family]
                self.setups += 1
                self.setup_cost += spec.cost
            state.family = record.family
        self.require(
            _close(setup, expected, self.tolerance),
            f"setup of {setup} logged, the machine's setup matrix gives {expected}",
        )

    def on_complete(self, entry: tuple[float, str, int, int, int, float]) -> None:
        time, _, machine, job, operation, _ = entry
        self.require(0 <= machine < len(self.machines), f"machine {machine} does not exist")
        state = self.machines[machine]
        record = self.job_of(job)
        self.require(
            (state.job, state.operation) == (job, operation),
            f"machine {machine} completes job {job} operation {operation} but holds job "
            f"{state.job} operation {state.operation}",
        )
        self.require(state.up, f"machine {machine} completes an operation while down")
        elapsed = time - state.started
        self.require(
            _close(elapsed, state.expected + state.downtime, self.tolerance),
            f"operation {operation} of job {job} took {elapsed} on machine {machine}; setup + "
            f"processing {state.expected} + repairs {state.downtime} = "
            f"{state.expected + state.downtime}",
        )
        state.busy += state.expected
        state.job, state.operation = -1, -1
        record.running = False
        record.next_operation += 1
        record.last_completion = time
        if record.next_operation < len(record.machines):
            self.waiting.add(job)

    def on_finish(self, entry: tuple[float, str, int, int, int, float]) -> None:
        time, _, _, job, _, _ = entry
        record = self.job_of(job)
        self.require(math.isnan(record.finished), f"job {job} finishes twice")
        self.require(
            record.next_operation == len(record.machines),
            f"job {job} finishes after {record.next_operation} of "
            f"{len(record.machines)} operations",
        )
        self.require(
            time == record.last_completion,
            f"job {job} finishes at t={time}, its last operation completed at "
            f"t={record.last_completion}",
        )
        record.finished = time
        product = record.product
        if product >= 0 and self.spec.products[product].demand is not None:
            self.finished_goods[product] += record.quantity
            self.totals[product].produced += record.quantity

    # ------------------------------------------------------------ machines

    def on_breakdown(self, entry: tuple[float, str, int, int, int, float]) -> None:
        time, _, machine, job, _, repair = entry
        self.require(0 <= machine < len(self.machines), f"machine {machine} does not exist")
        self.require(
            self.spec.machines[machine].breakdown is not None,
            f"machine {machine} breaks down but has no breakdown model",
        )
        state = self.machines[machine]
        self.require(state.up, f"machine {machine} breaks down while down")
        self.require(
            job == state.job,
            f"breakdown of machine {machine} logs job {job}, it holds job {state.job}",
        )
        self.require(repair >= 0, f"negative repair time {repair}")
        state.up, state.down_since, state.repair = False, time, repair

    def on_repair(self, entry: tuple[float, str, int, int, int, float]) -> None:
        time, _, machine, job, _, repair = entry
        self.require(0 <= machine < len(self.machines), f"machine {machine} does not exist")
        state = self.machines[machine]
        self.require(not state.up, f"machine {machine} is repaired while up")
        self.require(
            job == state.job,
            f"repair of machine {machine} logs job {job}, it holds job {state.job}",
        )
        self.require(
            repair == state.repair and _close(time, state.down_since + repair, self.tolerance),
            f"machine {machine} down at t={state.down_since} for {state.repair} "
            f"is repaired at t={time}",
        )
        state.up = True
        if state.job >= 0:
            state.downtime += time - state.down_since

    # ------------------------------------------------------------ inventory

    def material_of(self, material: int) -> int:
        self.require(
            0 <= material < len(self.spec.materials), f"material {material} does not exist"
        )
        return material

    def on_order_placed(self, entry: tuple[float, str, int, int, int, float]) -> None:
        material = self.material_of(entry[3])
        spec = self.spec.materials[material]
        self.require(
            entry[5] == spec.order_quantity,
            f"order of {entry[5]}, the order quantity is {spec.order_quantity}",
        )
        self.on_order[material] += entry[5]
        self.ordering_cost += spec.order_cost

    def on_receive(self, entry: tuple[float, str, int, int, int, float]) -> None:
        material = self.material_of(entry[3])
        self.stock[material] += entry[5]
        self.on_order[material] -= entry[5]
        self.require(
            self.on_order[material] >= -self.tolerance * max(1.0, entry[5]),
            f"material {material} received more than was ordered",
        )

    def product_of(self, product: int) -> int:
        self.require(0 <= product < len(self.spec.products), f"product {product} does not exist")
        return product

    def on_demand(self, entry: tuple[float, str, int, int, int, float]) -> None:
        time, _, _, _, product, units = entry
        product = self.product_of(product)
        spec = self.spec
        self.require(spec.products[product].demand is not None, f"product {product} has no demand")
        self.require(units > 0 and units == int(units), f"demand of {units} units")
        periods = time / spec.demand_period
        self.require(
            abs(periods - round(periods)) <= 1e-6 * max(1.0, periods),
            f"demand at t={time} is not at the end of a period of {spec.demand_period}",
        )
        self.demand = _Demand(product, time, units)
        self.totals[product].demand += units

    def on_ship(self, entry: tuple[float, str, int, int, int, float]) -> None:
        time, _, _, _, product, units = entry
        product = self.product_of(product)
        previous = self.previous
        on_hand = self.finished_goods[product]
        demand = self.demand
        if demand is not None and previous is not None and previous[1] == "demand":
            self.require(
                units == min(demand.units, on_hand),
                f"shipped {units} of a demand of {demand.units} with {on_hand} on hand",
            )
            demand.shipped += units
            self.totals[product].shipped_on_arrival += units
        else:
            self.require(
                previous is not None
                and previous[1] == "finish"
                and previous[0] == time
                and self.jobs[previous[3]].product == product,
                "a shipment neither serves a demand nor follows a finished lot",
            )
            backlog = self.backlog[product]
            self.require(
                units > 0 and units == min(backlog, on_hand),
                f"shipped {units} from a backlog of {backlog} with {on_hand} on hand",
            )
            self.backlog[product] -= units
            self.totals[product].shipped_from_backlog += units
        self.finished_goods[product] -= units
        self.require(self.finished_goods[product] >= 0, f"product {product} stock below 0")

    def on_short(self, entry: tuple[float, str, int, int, int, float]) -> None:
        _, kind, _, _, product, units = entry
        product = self.product_of(product)
        demand = self.demand
        self.require(
            demand is not None and demand.product == product,
            f"{kind} without a demand for product {product}",
        )
        assert demand is not None
        self.require(
            self.spec.backorders == (kind == "backorder"),
            f"{kind} logged with backorders={self.spec.backorders}",
        )
        self.require(
            self.finished_goods[product] == 0,
            f"{kind} of {units} while {self.finished_goods[product]} units are on hand",
        )
        self.require(
            units == demand.units - demand.shipped,
            f"{kind} of {units} for a demand of {demand.units} with {demand.shipped} shipped",
        )
        demand.short += units
        if kind == "backorder":
            self.backlog[product] += units
            self.totals[product].backordered += units
        else:
            self.totals[product].lost += units

    # ------------------------------------------------------------ the end

    def deferrals(self) -> int:
        """Dispatch choices the controller declined (``Factory.defer``; not logged).

        The factory counts one decision per ``start``, ``defer``, ``produce`` and
        ``idle``; the lot that ``produce`` starts at once is not a decision of its own.
        """
        log = self.factory.log
        taken = 0
        for index, (time, kind, _, job, operation, _) in enumerate(log):
            if kind in ("produce", "idle"):
                taken += 1
            elif kind == "start":
                before = index - 1
                while before >= 0 and log[before][1] == "order" and log[before][0] == time:
                    before -= 1  # the lot's materials, reordered as it starts
                started_by_produce = (
                    operation == 0
                    and before >= 1
                    and log[before][1:4] == ("release", -1, job)
                    and log[before - 1][1] == "produce"
                    and log[before - 1][3] == job
                    and log[before - 1][0] == log[before][0] == time
                )
                taken += not started_by_produce
        return self.factory.decisions - taken

    def compare_with_factory(self) -> None:
        factory, spec, tolerance = self.factory, self.spec, self.tolerance
        self.require(
            len(self.jobs) == factory.n_jobs,
            f"the log shows {len(self.jobs)} jobs, the factory has {factory.n_jobs}",
        )
        for index, state in enumerate(self.machines):
            self.require(
                factory.machine_job(index) == state.job,
                f"machine {index} holds job {factory.machine_job(index)}, the log says {state.job}",
            )
            self.require(
                factory.machine_up(index) == state.up,
                f"machine {index} up={factory.machine_up(index)}, the log says {state.up}",
            )
        for job, record in enumerate(self.jobs):
            self.require(
                factory.operation_index(job) == record.next_operation,
                f"job {job} is at operation {factory.operation_index(job)}, the log says "
                f"{record.next_operation}",
            )
            completion = factory.completion_time(job)
            self.require(
                (math.isnan(completion) and math.isnan(record.finished))
                or completion == record.finished,
                f"job {job} completed at {completion}, the log says {record.finished}",
            )
        for k, material in enumerate(spec.materials):
            self.require(
                _close(factory.material_stock[k], self.stock[k], tolerance),
                f"material {k}: initial {material.initial_stock} + received - consumed = "
                f"{self.stock[k]}, the factory holds {factory.material_stock[k]}",
            )
            self.require(
                _close(factory.material_on_order[k], self.on_order[k], tolerance),
                f"material {k}: ordered - received = {self.on_order[k]}, the factory has "
                f"{factory.material_on_order[k]} on order",
            )
        for p, product in enumerate(spec.products):
            totals = self.totals[p]
            self.require(
                _close(factory.finished_goods[p], self.finished_goods[p], tolerance),
                f"product {p}: initial {product.initial_stock} + produced {totals.produced} - "
                f"shipped {totals.shipped_on_arrival + totals.shipped_from_backlog} = "
                f"{self.finished_goods[p]}, the factory holds {factory.finished_goods[p]}",
            )
            self.require(
                _close(factory.backlog[p], self.backlog[p], tolerance),
                f"product {p}: backordered {totals.backordered} - shipped from backlog "
                f"{totals.shipped_from_backlog} = {self.backlog[p]}, the factory's backlog is "
                f"{factory.backlog[p]}",
            )
            self.require(
                _close(
                    totals.demand,
                    totals.shipped_on_arrival + totals.backordered + totals.lost,
                    tolerance,
                ),
                f"product {p}: demand {totals.demand} != shipped on arrival "
                f"{totals.shipped_on_arrival} + backordered {totals.backordered} + lost "
                f"{totals.lost}",
            )
            self.require(
                _close(sum(factory.demand_history[p]), totals.demand, tolerance),
                f"product {p}: demand history sums to {sum(factory.demand_history[p])}, the "
                f"log to {totals.demand}",
            )
        if factory.done and spec.horizon is None:
            unfinished = [j for j, r in enumerate(self.jobs) if math.isnan(r.finished)]
            self.require(
                not unfinished,
                f"the episode ended with jobs {unfinished} unfinished and no horizon",
            )

    def compare_with_kpis(self) -> None:
        factory, spec, tolerance = self.factory, self.spec, self.tolerance
        kpis = factory.kpis()
        now = factory.now
        released = [r for r in self.jobs if not math.isnan(r.released)]
        finished = [(j, r) for j, r in enumerate(self.jobs) if not math.isnan(r.finished)]
        makespan = max((r.finished for _, r in finished), default=0.0)
        flows = [r.finished - r.released for _, r in finished]
        weights = [factory.weight(j) for j, _ in finished]
        tardiness = [max(r.finished - factory.due_date(j), 0.0) for j, r in finished]
        wip_area = sum(
            (r.finished if not math.isnan(r.finished) else now) - r.released for r in released
        )
        span = now  # "busy time over time elapsed" (at the end without horizon: the makespan)
        busy = []
        for state in self.machines:
            work = state.busy
            if state.job >= 0:  # an operation in progress counts up to now
                until = now if state.up else state.down_since
                work += min(until - state.started - state.downtime, state.expected)
            busy.append(min(work / span, 1.0) if span > 0 else 0.0)
        demand = sum(t.demand for t in self.totals)
        holding = sum(
            p.holding_cost * a for p, a in zip(spec.products, self.finished_goods_area, strict=True)
        ) + sum(m.holding_cost * a for m, a in zip(spec.materials, self.material_area, strict=True))
        backorder = sum(
            p.backorder_cost * a for p, a in zip(spec.products, self.backlog_area, strict=True)
        )
        lost = sum(
            p.lost_sale_cost * t.lost for p, t in zip(spec.products, self.totals, strict=True)
        )
        expected: dict[str, float] = {
            "jobs_released": len(released),
            "jobs_completed": len(finished),
            "makespan": makespan,
            "mean_flow_time": sum(flows) / len(flows) if flows else 0.0,
            "mean_weighted_flow_time": (
                sum(w * f for w, f in zip(weights, flows, strict=True)) / sum(weights)
                if flows and sum(weights) > 0
                else 0.0
            ),
            "total_tardiness": sum(tardiness),
            "total_weighted_tardiness": sum(w * t for w, t in zip(weights, tardiness, strict=True)),
            "max_tardiness": max(tardiness, default=0.0),
            "tardy_jobs": sum(1 for t in tardiness if t > 0),
            "utilisation": sum(busy) / len(busy),
            "mean_wip": wip_area / now if now > 0 else 0.0,
            "fill_rate": (
                sum(t.shipped_on_arrival for t in self.totals) / demand if demand else 1.0
            ),
            "holding_cost": holding,
            "backorder_cost": backorder,
            "lost_sales_cost": lost,
            "setup_cost": self.setup_cost,
            "ordering_cost": self.ordering_cost,
            "setups": self.setups,
        }
        for name, value in expected.items():
            actual = getattr(kpis, name)
            self.require(
                _close(actual, value, tolerance * 100),
                f"KPI {name} = {actual}, the log gives {value}",
            )
        for index, (actual, value) in enumerate(zip(kpis.machine_utilisation, busy, strict=True)):
            self.require(
                -tolerance <= actual <= 1.0 + tolerance and _close(actual, value, tolerance * 100),
                f"utilisation of machine {index} = {actual}, the log gives {value}",
            )


def check_schedule(
    factory: Factory, *, non_delay: bool | None = None, tolerance: float = 1e-9
) -> None:
    """Check a factory's event log against the simulation contract.

    Replays the log with independent bookkeeping and checks, in order of the events:
    time never goes back; a machine holds one operation at a time, keeps it through
    a breakdown and starts nothing while down; each job's operations start in
    routing order, each after the previous one completed and the job's release, on
    one of the operation's machines; an operation takes its setup plus processing
    time plus the repairs it sat through; the logged setup follows the machine's
    setup matrix; raw material never goes negative and the inventory position stays
    above the reorder point; demand is shipped, backordered or lost in full, backlog
    is served from finished lots; no machine idles while it could start waiting work
    (unless the controller deferred: see ``non_delay``), and production choices are
    taken when due. At the end it compares the replayed state (machines, jobs, stock,
    finished goods, backlog), the decision count and the KPIs with the factory's own.

    Args:
        factory: A factory run with ``record_events=True``, finished or not.
        non_delay: Check that no machine idles while it could start waiting work.
            ``None`` (default): check it unless the controller used
            :meth:`~shopfloor.sim.Factory.defer` (deferrals are not logged, so the
            checker cannot tell which idle times they excuse; it infers that some
            happened from the decision count).
        tolerance: Relative tolerance of float comparisons of times and quantities.

    Raises:
        ScheduleViolation: The first invariant found broken, with the event it concerns.
        ValueError: The factory keeps no event log.
    """
    if not factory.record_events:
        raise ValueError("check_schedule needs a factory run with record_events=True")
    replay = _Replay(factory, tolerance, non_delay=True)
    deferrals = replay.deferrals()
    if deferrals < 0:
        raise ScheduleViolation(
            f"{factory.spec.name}: the factory counts {factory.decisions} decisions, the log "
            f"shows {factory.decisions - deferrals}"
        )
    replay.non_delay = non_delay if non_delay is not None else deferrals == 0
    replay.run()
    replay.compare_with_factory()
    replay.compare_with_kpis()


def lower_bound(spec: FactorySpec) -> float:
    """The trivial makespan lower bound of a fixed job list.

    The larger of (a) the longest job: release plus its operations at their shortest
    processing times, and (b) the most loaded machine: the processing of the
    operations that only it can do, after the shortest head (release plus earlier
    operations) and before the shortest tail of those operations. Setups, breakdowns
    and material waits only add to a schedule, so the bound holds for them as well.

    Args:
        spec: A factory with a fixed job list (no arrivals, no production) and
            numeric (or :class:`~shopfloor.sim.Constant`) processing times.

    Returns:
        A number no schedule's makespan can be below.

    Raises:
        ValueError: Arrivals, production or random processing times make the job
            list or its times unknown in advance.
    """
    if spec.arrivals is not None or spec.production is not None:
        raise ValueError(f"{spec.name}: a lower bound needs a fixed job list")
    bound = 0.0
    loads = [0.0] * len(spec.machines)
    heads = [math.inf] * len(spec.machines)
    tails = [math.inf] * len(spec.machines)
    for index, job in enumerate(spec.jobs):
        routing = job.routing if job.routing is not None else spec.products[job.product].routing
        shortest = []
        for step, operation in enumerate(routing):
            times = [
                float(d) if isinstance(d, int | float) else d.value
                for d in operation.durations
                if isinstance(d, int | float | Constant)
            ]
            if len(times) < len(operation.durations):
                raise ValueError(
                    f"{spec.name}: jobs[{index}] operation {step} has random processing times"
                )
            shortest.append(min(times) * job.quantity)
        release = max(job.release_time, 0.0)
        bound = max(bound, release + sum(shortest))
        for step, operation in enumerate(routing):
            if len(operation.machines) == 1:
                machine = operation.machines[0]
                loads[machine] += shortest[step]
                heads[machine] = min(heads[machine], release + sum(shortest[:step]))
                tails[machine] = min(tails[machine], sum(shortest[step + 1 :]))
    for machine, load in enumerate(loads):
        if load > 0:
            bound = max(bound, heads[machine] + load + tails[machine])
    return bound
