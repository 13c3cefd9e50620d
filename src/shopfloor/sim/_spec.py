"""What a factory is made of: the frozen description the simulation runs.

A :class:`FactorySpec` names machines, products with routings, a fixed list of jobs
and/or an arrival process, raw materials, customer demand and the production choice.
It holds no state; :class:`shopfloor.sim.Factory` turns it into a running SimPy model.
A static benchmark instance is the special case with every job released at t=0,
constant times and no breakdowns.

Indices, not names, link the parts (``OperationSpec.machines`` are machine indices,
``materials`` are material indices); names are for people and logs.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import Any

from shopfloor.sim._distributions import Constant, Distribution
from shopfloor.sim._limits import LIMITS

Duration = float | Distribution
"""A processing time: a number (deterministic) or a distribution."""


class SpecError(ValueError):
    """A factory description is inconsistent or out of range; the message names the field.

    Attributes:
        where: The field, e.g. ``products[1].routing[0].materials`` (may be empty).
        problem: What is wrong with it.
    """

    def __init__(self, message: str, *, where: str = "", problem: str = "") -> None:
        super().__init__(message)
        self.where = where
        self.problem = problem or message

    def __reduce__(self) -> tuple[Any, ...]:
        return (_spec_error, (str(self), self.where, self.problem))


def _spec_error(message: str, where: str, problem: str) -> SpecError:
    return SpecError(message, where=where, problem=problem)


def _require(condition: bool, where: str, message: str) -> None:
    if not condition:
        raise SpecError(f"{where}: {message}", where=where, problem=message)


def _check_number(
    where: str, value: float, *, low: float = 0.0, high: float = LIMITS.max_time, name: str = ""
) -> None:
    """``value`` is a finite number in ``[low, high]``; else a :class:`SpecError`."""
    lead = f"{name} " if name else ""
    _require(
        isinstance(value, numbers.Real) and math.isfinite(value),
        where,
        f"{lead}must be a finite number, got {value}",
    )
    _require(value >= low, where, f"{lead}must be >= {low:g}, got {value}")
    _require(value <= high, where, f"{lead}must be at most {high:g} (the limit), got {value}")


def _check_count(where: str, count: int, limit: int, what: str) -> None:
    _require(count <= limit, where, f"{count:,} {what}; the limit is {limit:,}")


def _check_mean(where: str, distribution: Distribution, what: str) -> None:
    """A time that repeats on its own has a mean of at least ``LIMITS.min_mean_time``."""
    _require(
        distribution.mean >= LIMITS.min_mean_time,
        where,
        f"{what} must have a mean of at least {LIMITS.min_mean_time:g} (the limit), "
        f"got {distribution.mean:g}",
    )


def mean_duration(duration: Duration) -> float:
    """Expected value of a processing time."""
    return float(duration) if isinstance(duration, int | float) else duration.mean


@dataclass(frozen=True)
class OperationSpec:
    """One step of a routing.

    Attributes:
        machines: Indices of the machines that can do it (several: flexible job shop).
        durations: Processing time per unit on each of those machines, aligned with
            ``machines``; a job of ``quantity`` q takes q times as long.
        materials: ``(material index, quantity per unit)`` consumed when it starts.
    """

    machines: tuple[int, ...]
    durations: tuple[Duration, ...]
    materials: tuple[tuple[int, float], ...] = ()

    def __post_init__(self) -> None:
        _require(len(self.machines) > 0, "operation", "needs at least one machine")
        _require(
            len(self.durations) == len(self.machines),
            "operation",
            f"{len(self.durations)} durations for {len(self.machines)} machines",
        )
        _require(len(set(self.machines)) == len(self.machines), "operation", "repeated machine")
        for duration in self.durations:
            if isinstance(duration, int | float):
                _require(
                    math.isfinite(duration) and duration >= 0,
                    "operation",
                    f"duration must be a finite number >= 0, got {duration}",
                )
                _require(
                    duration <= LIMITS.max_time,
                    "operation",
                    f"duration must be at most {LIMITS.max_time:g} (the limit), got {duration}",
                )

    @classmethod
    def on(cls, machine: int, duration: Duration) -> OperationSpec:
        """An operation with a single machine."""
        return cls(machines=(machine,), durations=(duration,))


Routing = tuple[OperationSpec, ...]


@dataclass(frozen=True)
class SetupSpec:
    """Sequence-dependent setup on a machine.

    Attributes:
        times: ``times[a][b]`` is the setup time when family ``b`` follows family ``a``.
            No setup happens before the first job or between jobs of one family.
        cost: Cost charged for every setup.
    """

    times: tuple[tuple[float, ...], ...]
    cost: float = 0.0

    def __post_init__(self) -> None:
        size = len(self.times)
        _require(size > 0, "setup.times", "must not be empty")
        _check_count("setup.times", size, LIMITS.max_families, "families")
        for row in self.times:
            _require(len(row) == size, "setup.times", f"must be square, got a row of {len(row)}")
            _require(all(t >= 0 for t in row), "setup.times", "times must be >= 0")
            for time in row:
                _check_number("setup.times", time, name="times")
        _require(self.cost >= 0, "setup.cost", "must be >= 0")
        _check_number("setup.cost", self.cost, high=LIMITS.max_cost)

    @classmethod
    def uniform(cls, families: int, time: float, cost: float = 0.0) -> SetupSpec:
        """The same setup time for every change of family."""
        return cls(
            times=tuple(
                tuple(0.0 if a == b else float(time) for b in range(families))
                for a in range(families)
            ),
            cost=cost,
        )


@dataclass(frozen=True)
class BreakdownSpec:
    """Random failures: up for ``time_to_failure``, then down for ``repair_time``.

    Time to failure runs on the clock, busy or idle. An operation caught by a failure
    stops and resumes its remaining work after the repair.
    """

    time_to_failure: Distribution
    repair_time: Distribution

    def __post_init__(self) -> None:
        _check_mean("breakdown.time_to_failure", self.time_to_failure, "time_to_failure")


@dataclass(frozen=True)
class MachineSpec:
    """A machine with optional setups and breakdowns."""

    name: str
    setup: SetupSpec | None = None
    breakdown: BreakdownSpec | None = None


@dataclass(frozen=True)
class Shock:
    """A promotion or shock: demand is multiplied by ``multiplier`` in ``[start, end)`` periods."""

    start: int
    end: int
    multiplier: float

    def __post_init__(self) -> None:
        _require(0 <= self.start < self.end, "shock", "need 0 <= start < end")
        _require(self.multiplier >= 0, "shock", "multiplier must be >= 0")
        _check_number("shock", self.end, high=LIMITS.max_time, name="end")
        _check_number("shock", self.multiplier, high=LIMITS.max_factor, name="multiplier")


@dataclass(frozen=True)
class DemandSpec:
    """Customer demand per period for one product.

    The expected size in period ``t`` is ``rate * seasonal(t) * (1 + trend * t) * shock(t)``
    with ``seasonal(t) = 1 + amplitude * sin(2 pi (t + phase) / season_length)``.
    Plain Poisson when ``occurrence`` is 1; intermittent otherwise: demand occurs with
    probability ``occurrence`` and its size is ``1 + Poisson(level - 1)`` (Croston's setting).

    Attributes:
        rate: Mean demand per period (the level).
        amplitude: Relative seasonal swing in [0, 1].
        season_length: Periods per seasonal cycle (0: no seasonality).
        phase: Seasonal phase shift in periods.
        trend: Relative growth of the level per period (may be negative).
        shocks: Promotions or shocks.
        occurrence: Probability that a period has any demand.
    """

    rate: float
    amplitude: float = 0.0
    season_length: int = 0
    phase: float = 0.0
    trend: float = 0.0
    shocks: tuple[Shock, ...] = ()
    occurrence: float = 1.0

    def __post_init__(self) -> None:
        _require(self.rate >= 0, "demand.rate", f"must be >= 0, got {self.rate}")
        _check_number("demand.rate", self.rate, high=LIMITS.max_quantity)
        _require(0 <= self.amplitude <= 1, "demand.amplitude", "must lie in [0, 1]")
        _require(self.season_length >= 0, "demand.season_length", "must be >= 0")
        _check_number("demand.season_length", self.season_length, high=LIMITS.max_time)
        _check_number("demand.phase", self.phase, low=-LIMITS.max_time)
        _check_number("demand.trend", self.trend, low=-LIMITS.max_factor, high=LIMITS.max_factor)
        _check_count("demand.shocks", len(self.shocks), LIMITS.max_list, "shocks")
        _require(0 < self.occurrence <= 1, "demand.occurrence", "must lie in (0, 1]")

    def max_level(self, periods: float) -> float:
        """An upper bound of :func:`~shopfloor.sim.demand_level` over ``periods`` periods."""
        level = self.rate * (1.0 + self.amplitude) * max(1.0, 1.0 + abs(self.trend) * periods)
        for shock in self.shocks:
            level *= max(1.0, shock.multiplier)
        return level


@dataclass(frozen=True)
class ProductSpec:
    """A product: its routing, setup family and finished-goods economics.

    Attributes:
        name: Product name.
        routing: Operations in order.
        family: Setup family index (see :class:`SetupSpec`).
        initial_stock: Finished goods on hand at t=0.
        holding_cost: Cost per unit of finished goods per time unit.
        backorder_cost: Cost per backordered unit per time unit.
        lost_sale_cost: Cost per unit of demand lost (when backorders are off).
        demand: Customer demand (make-to-stock); ``None`` for make-to-order products.
    """

    name: str
    routing: Routing
    family: int = 0
    initial_stock: float = 0.0
    holding_cost: float = 0.0
    backorder_cost: float = 0.0
    lost_sale_cost: float = 0.0
    demand: DemandSpec | None = None


@dataclass(frozen=True)
class JobSpec:
    """A job known in advance (a static instance, or a planned order).

    Attributes:
        routing: Its own routing, or ``None`` to use the product's.
        product: Product index, or -1 for a job with only its own routing.
        release_time: Earliest start of its first operation.
        due_date: Due date (``inf``: none).
        weight: Weight in weighted tardiness and flow time.
        quantity: Units; every processing time is per unit.
        name: Label for logs and charts.
    """

    routing: Routing | None = None
    product: int = -1
    release_time: float = 0.0
    due_date: float = math.inf
    weight: float = 1.0
    quantity: int = 1
    name: str = ""


@dataclass(frozen=True)
class RandomRoutingSpec:
    """Routings drawn per arriving job: distinct random machines, random times."""

    min_operations: int
    max_operations: int
    duration: Distribution

    def __post_init__(self) -> None:
        _require(
            1 <= self.min_operations <= self.max_operations,
            "arrivals.random_routing",
            "need 1 <= min_operations <= max_operations",
        )
        _check_count(
            "arrivals.random_routing.max_operations",
            self.max_operations,
            LIMITS.max_operations_per_job,
            "operations per job",
        )


@dataclass(frozen=True)
class RateProfile:
    """Arrival-rate multipliers that repeat over time: shifts, rush and quiet periods.

    Time is cut into segments of length ``segment``; segment ``i`` multiplies the
    arrival rate by ``factors[i % len(factors)]``. Arrivals follow the interarrival
    distribution on a clock that runs ``factor`` times as fast as real time, so
    Poisson arrivals become a non-homogeneous Poisson process with this rate profile.

    Attributes:
        segment: Length of one segment.
        factors: Rate multiplier of each segment, repeated in this order.
    """

    segment: float
    factors: tuple[float, ...]

    def __post_init__(self) -> None:
        _require(
            self.segment > 0 and math.isfinite(self.segment),
            "rate_profile",
            f"segment must be finite and > 0, got {self.segment}",
        )
        _require(
            self.segment >= LIMITS.min_mean_time and self.segment <= LIMITS.max_time,
            "rate_profile",
            f"segment must lie in [{LIMITS.min_mean_time:g}, {LIMITS.max_time:g}] (the limits), "
            f"got {self.segment}",
        )
        _require(len(self.factors) > 0, "rate_profile", "needs at least one factor")
        _check_count("rate_profile", len(self.factors), LIMITS.max_list, "factors")
        _require(
            all(f >= 0 and math.isfinite(f) for f in self.factors),
            "rate_profile",
            f"factors must be finite and >= 0, got {list(self.factors)}",
        )
        _require(any(f > 0 for f in self.factors), "rate_profile", "needs a factor > 0")
        _require(
            max(self.factors) <= LIMITS.max_factor,
            "rate_profile",
            f"factors must be at most {LIMITS.max_factor:g} (the limit), got {max(self.factors)}",
        )

    @property
    def mean_factor(self) -> float:
        """Long-run mean rate multiplier."""
        return sum(self.factors) / len(self.factors)

    def factor_at(self, time: float) -> float:
        """Rate multiplier in force at ``time``."""
        return self.factors[int(time // self.segment) % len(self.factors)]

    def integral(self, start: float, end: float) -> float:
        """Integral of the multiplier over ``[start, end]``: arrival-clock time elapsed."""
        return self._cumulative(end) - self._cumulative(start)

    def advance(self, start: float, clock_time: float) -> float:
        """First time at which the arrival clock, started at ``start``, shows ``clock_time``."""
        if clock_time <= 0:
            return start
        n, segment = len(self.factors), self.segment
        per_cycle = segment * sum(self.factors)
        cycles = max(math.ceil(clock_time / per_cycle) - 1, 0)  # whole cycles to skip
        now = start + cycles * n * segment
        left = clock_time - cycles * per_cycle  # in (0, per_cycle] up to rounding
        index = math.floor(now / segment)
        while True:
            end = (index + 1) * segment
            factor = self.factors[index % n]
            if factor > 0:
                reached = now + left / factor
                if reached <= end or math.isclose(reached, end, rel_tol=1e-12):
                    return max(now, min(reached, end))
                left -= factor * (end - now)
            now, index = end, index + 1

    def _cumulative(self, time: float) -> float:
        """Arrival-clock time from 0 to ``time``."""
        n = len(self.factors)
        segments = math.floor(time / self.segment)
        cycles, index = divmod(segments, n)
        total = cycles * self.segment * sum(self.factors)
        total += self.segment * sum(self.factors[:index])
        return total + self.factors[index] * (time - segments * self.segment)


@dataclass(frozen=True)
class ArrivalSpec:
    """Jobs arriving over time (make-to-order).

    Each arrival is a product drawn by ``product_mix`` (or a random routing), with
    due date ``release + tightness * total expected processing time`` and a weight.

    Attributes:
        interarrival: Time between arrivals.
        product_mix: Probability of each product; empty when ``random_routing`` is set.
        random_routing: Draw a fresh routing for each job instead of a product.
        due_date_tightness: Allowance factor k of the total work content rule.
        weight: Job weights.
        max_jobs: Stop after this many arrivals (``None``: until ``until``).
        until: No arrivals at or after this time (``None``: until ``max_jobs``).
        rate_profile: Time-varying arrival rate (``None``: constant).
    """

    interarrival: Distribution
    product_mix: tuple[float, ...] = ()
    random_routing: RandomRoutingSpec | None = None
    due_date_tightness: Distribution = field(default_factory=lambda: Constant(3.0))
    weight: Distribution = field(default_factory=lambda: Constant(1.0))
    max_jobs: int | None = None
    until: float | None = None
    rate_profile: RateProfile | None = None

    def __post_init__(self) -> None:
        _require(
            self.max_jobs is not None or self.until is not None,
            "arrivals",
            "set max_jobs or until, or the episode never ends",
        )
        _require(
            bool(self.product_mix) != (self.random_routing is not None),
            "arrivals",
            "give exactly one of product_mix and random_routing",
        )
        if self.max_jobs is not None:
            _require(self.max_jobs >= 1, "arrivals.max_jobs", "must be >= 1")
            _check_count("arrivals.max_jobs", self.max_jobs, LIMITS.max_arrivals, "jobs")
        if self.until is not None:
            _check_number("arrivals.until", self.until)
            _require(self.until > 0, "arrivals.until", "must be > 0")
        _check_mean("arrivals.interarrival", self.interarrival, "interarrival")
        for share in self.product_mix:
            _check_number("arrivals.product_mix", share, high=LIMITS.max_cost)

    def expected_jobs(self) -> float:
        """Expected number of arrivals in one episode (``max_jobs``, or fewer by ``until``)."""
        count = math.inf if self.max_jobs is None else float(self.max_jobs)
        if self.until is not None:
            factor = 1.0 if self.rate_profile is None else self.rate_profile.mean_factor
            count = min(count, self.until * factor / self.interarrival.mean)
        return count

    def span(self) -> float:
        """Expected time from the first to the last arrival."""
        factor = 1.0 if self.rate_profile is None else self.rate_profile.mean_factor
        span = self.expected_jobs() * self.interarrival.mean / factor
        return span if self.until is None else min(span, self.until)


@dataclass(frozen=True)
class MaterialSpec:
    """A raw material with continuous-review (s, Q) replenishment.

    When the inventory position (on hand + on order) falls to ``reorder_point`` or
    below, ``order_quantity`` is ordered and arrives after ``lead_time``.
    """

    name: str
    initial_stock: float
    reorder_point: float
    order_quantity: float
    lead_time: Distribution
    holding_cost: float = 0.0
    order_cost: float = 0.0

    def __post_init__(self) -> None:
        _require(self.initial_stock >= 0, f"materials.{self.name}", "initial_stock must be >= 0")
        _require(self.order_quantity > 0, f"materials.{self.name}", "order_quantity must be > 0")
        _require(
            self.holding_cost >= 0 and self.order_cost >= 0,
            f"materials.{self.name}",
            "holding_cost and order_cost must be >= 0",
        )
        where = f"materials.{self.name}"
        quantity = LIMITS.max_quantity
        _check_number(where, self.initial_stock, high=quantity, name="initial_stock")
        _check_number(where, self.reorder_point, low=-quantity, high=quantity, name="reorder_point")
        _check_number(where, self.order_quantity, high=quantity, name="order_quantity")
        _check_number(where, self.holding_cost, high=LIMITS.max_cost, name="holding_cost")
        _check_number(where, self.order_cost, high=LIMITS.max_cost, name="order_cost")
        _require(
            self.orders_to_reach(self.reorder_point - self.initial_stock)
            <= LIMITS.max_orders_at_once,
            where,
            f"order_quantity {self.order_quantity:g} is tiny against the reorder point: "
            f"{self.orders_to_reach(self.reorder_point - self.initial_stock):.3g} orders at "
            f"t=0 (the limit is {LIMITS.max_orders_at_once:,} at once)",
        )

    def orders_to_reach(self, shortfall: float) -> float:
        """Orders placed at once to lift the inventory position above a ``shortfall``."""
        return 0.0 if shortfall < 0 else math.floor(shortfall / self.order_quantity) + 1.0

    def most_on_hand(self, consumed: bool) -> float:
        """The most stock that can ever be on hand.

        Without consumption the position stays at the initial stock, lifted above the
        reorder point by the orders of t=0; once anything is consumed, orders lift
        it to at most ``reorder_point + order_quantity``.
        """
        start = self.initial_stock + self.order_quantity * self.orders_to_reach(
            self.reorder_point - self.initial_stock
        )
        return max(start, self.reorder_point + self.order_quantity) if consumed else start


@dataclass(frozen=True)
class ProductionSpec:
    """Make-to-stock production choices.

    Whenever ``machine`` is idle with nothing queued, the controller chooses a product and
    a lot size from ``lot_sizes`` (or to idle for ``idle_time``).
    """

    machine: int
    lot_sizes: tuple[int, ...] = (1,)
    idle_time: float = 1.0

    def __post_init__(self) -> None:
        _require(len(self.lot_sizes) > 0, "production.lot_sizes", "must not be empty")
        _require(all(q > 0 for q in self.lot_sizes), "production.lot_sizes", "must be > 0")
        _check_count("production.lot_sizes", len(self.lot_sizes), LIMITS.max_list, "lot sizes")
        _require(
            max(self.lot_sizes) <= LIMITS.max_quantity,
            "production.lot_sizes",
            f"must be at most {LIMITS.max_quantity:g} (the limit), got {max(self.lot_sizes)}",
        )
        _require(self.idle_time > 0, "production.idle_time", "must be > 0")
        _check_number("production.idle_time", self.idle_time, low=LIMITS.min_mean_time)


@dataclass(frozen=True)
class FactorySpec:
    """A whole factory: what one episode simulates.

    Attributes:
        name: Scenario or instance name.
        machines: The machines.
        products: Product types (routings, stock, demand).
        jobs: Jobs known in advance.
        arrivals: Jobs arriving over time.
        materials: Raw materials.
        production: Make-to-stock production choice, if any.
        demand_period: Length of a demand period in time units.
        horizon: End of the episode in time units; ``None`` ends it when all jobs are done.
        backorders: Unmet demand waits (True) or is lost (False).
    """

    name: str
    machines: tuple[MachineSpec, ...]
    products: tuple[ProductSpec, ...] = ()
    jobs: tuple[JobSpec, ...] = ()
    arrivals: ArrivalSpec | None = None
    materials: tuple[MaterialSpec, ...] = ()
    production: ProductionSpec | None = None
    demand_period: float = 1.0
    horizon: float | None = None
    backorders: bool = True

    def __post_init__(self) -> None:
        n_machines = len(self.machines)
        _require(n_machines > 0, "machines", "need at least one machine")
        self._check_sizes()
        families = 1 + max((p.family for p in self.products), default=0)
        for index, machine in enumerate(self.machines):
            if machine.setup is not None:
                _require(
                    len(machine.setup.times) >= families,
                    f"machines[{index}].setup.times",
                    f"covers {len(machine.setup.times)} families, products use {families}",
                )
        for index, product in enumerate(self.products):
            _require(len(product.routing) > 0, f"products[{index}].routing", "is empty")
            _require(product.family >= 0, f"products[{index}].family", "must be >= 0")
            where = f"products[{index}]"
            _require(product.initial_stock >= 0, f"{where}.initial_stock", "must be >= 0")
            _check_number(f"{where}.initial_stock", product.initial_stock, high=LIMITS.max_quantity)
            for cost in ("holding_cost", "backorder_cost", "lost_sale_cost"):
                value = getattr(product, cost)
                _require(value >= 0, f"{where}.{cost}", f"must be >= 0, got {value}")
                _check_number(f"{where}.{cost}", value, high=LIMITS.max_cost)
            self._check_routing(product.routing, f"products[{index}].routing")
            if product.demand is not None:
                _require(
                    self.horizon is not None,
                    "horizon",
                    "a factory with customer demand needs a horizon",
                )
        for index, job in enumerate(self.jobs):
            where = f"jobs[{index}]"
            _require(
                job.product == -1 or 0 <= job.product < len(self.products),
                f"{where}.product",
                f"no product {job.product} (the factory has {len(self.products)})",
            )
            _require(
                job.routing is not None or job.product >= 0,
                where,
                "give a routing or a product",
            )
            _require(not math.isnan(job.due_date), f"{where}.due_date", "must be a number")
            if job.due_date != math.inf:  # inf: no due date
                _check_number(f"{where}.due_date", job.due_date, low=-LIMITS.max_time)
            _require(job.release_time >= 0, f"{where}.release_time", "must be >= 0")
            _check_number(f"{where}.release_time", job.release_time)
            _require(job.weight >= 0, f"{where}.weight", "must be >= 0")
            _check_number(f"{where}.weight", job.weight, high=LIMITS.max_cost)
            _require(job.quantity > 0, f"{where}.quantity", "must be > 0")
            _check_number(f"{where}.quantity", job.quantity, high=LIMITS.max_quantity)
            if job.routing is not None:
                _require(len(job.routing) > 0, f"{where}.routing", "is empty")
                self._check_routing(job.routing, f"{where}.routing")
        if self.arrivals is not None:
            mix = self.arrivals.product_mix
            if mix:
                _require(
                    len(mix) == len(self.products),
                    "arrivals.product_mix",
                    f"{len(mix)} entries for {len(self.products)} products",
                )
                _require(all(p >= 0 for p in mix) and sum(mix) > 0, "arrivals.product_mix", "bad")
            spec = self.arrivals.random_routing
            if spec is not None:
                _require(
                    1 <= spec.min_operations <= spec.max_operations <= n_machines,
                    "arrivals.random_routing",
                    f"need 1 <= min_operations <= max_operations <= {n_machines} machines",
                )
        if self.production is not None:
            production_machine = self.production.machine
            _require(
                0 <= production_machine < n_machines,
                "production.machine",
                f"no machine {production_machine}",
            )
            _require(len(self.products) > 0, "production", "needs products")
            _require(
                self.horizon is not None, "horizon", "a factory with production needs a horizon"
            )
            for index, product in enumerate(self.products):
                first = product.routing[0]
                _require(
                    production_machine in first.machines,
                    f"products[{index}].routing[0]",
                    f"must run on the production machine {production_machine}",
                )
                time = mean_duration(first.durations[first.machines.index(production_machine)])
                _require(
                    time >= LIMITS.min_mean_time,
                    f"products[{index}].routing[0]",
                    f"must take a mean time of at least {LIMITS.min_mean_time:g} on the "
                    f"production machine, got {time:g}: lots that take no time could be made "
                    "endlessly at one instant",
                )
        _require(self.demand_period > 0, "demand_period", "must be > 0")
        _check_number("demand_period", self.demand_period, low=LIMITS.min_mean_time)
        _require(self.horizon is None or self.horizon > 0, "horizon", "must be > 0")
        if self.horizon is not None:
            _check_number("horizon", self.horizon)
        _require(
            bool(self.jobs) or self.arrivals is not None or self.production is not None,
            "jobs",
            "the factory has no jobs, no arrivals and no production",
        )
        self._check_demand_levels()
        self._check_order_sizes()
        self._check_events()

    # --- limits --------------------------------------------------------------------

    def _routings(self) -> list[tuple[str, Routing]]:
        """Every listed routing with its field path."""
        routings = [(f"products[{i}].routing", p.routing) for i, p in enumerate(self.products)]
        routings += [
            (f"jobs[{i}].routing", job.routing)
            for i, job in enumerate(self.jobs)
            if job.routing is not None
        ]
        return routings

    def _check_sizes(self) -> None:
        """Counts within :class:`~shopfloor.sim.InputLimits`, before looking at the parts."""
        _check_count("machines", len(self.machines), LIMITS.max_machines, "machines")
        _check_count("products", len(self.products), LIMITS.max_products, "products")
        _check_count("materials", len(self.materials), LIMITS.max_materials, "materials")
        _check_count("jobs", len(self.jobs), LIMITS.max_jobs, "jobs")
        total = 0
        for where, routing in self._routings():
            _check_count(where, len(routing), LIMITS.max_operations_per_job, "operations")
            total += len(routing)
        _check_count("jobs", total, LIMITS.max_operations, "operations in all routings")
        entries = sum(len(m.setup.times) ** 2 for m in self.machines if m.setup is not None)
        _check_count("machines", entries, LIMITS.max_setup_entries, "setup times in all")

    def _check_demand_levels(self) -> None:
        """Expected demand per period at most ``max_quantity`` over the whole horizon."""
        periods = (self.horizon or 0.0) / self.demand_period
        for index, product in enumerate(self.products):
            if product.demand is None:
                continue
            level = product.demand.max_level(periods)
            _require(
                level <= LIMITS.max_quantity,
                f"products[{index}].demand",
                f"the demand per period can reach {level:.3g} (rate x (1 + amplitude) x trend "
                f"over {periods:.3g} periods x shock multipliers); the limit is "
                f"{LIMITS.max_quantity:g}",
            )

    def _material_needs(self) -> list[tuple[int, float, str]]:
        """``(material, quantity needed at once, where)`` of every operation that can run."""
        needs: list[tuple[int, float, str]] = []

        def add(routing: Routing, where: str, units: float) -> None:
            for step, operation in enumerate(routing):
                for material, quantity in operation.materials:
                    if quantity > 0:
                        needs.append((material, quantity * units, f"{where}[{step}].materials"))

        for index, job in enumerate(self.jobs):
            if job.routing is not None:
                add(job.routing, f"jobs[{index}].routing", job.quantity)
            elif 0 <= job.product < len(self.products):
                routing = self.products[job.product].routing
                add(routing, f"products[{job.product}].routing", job.quantity)
        arrivals = self.arrivals
        for index, product in enumerate(self.products):
            arrives = arrivals is not None and index < len(arrivals.product_mix)
            if arrives and arrivals is not None and arrivals.product_mix[index] > 0:
                add(product.routing, f"products[{index}].routing", 1)
            if self.production is not None:
                for lot in sorted(set(self.production.lot_sizes)):
                    add(product.routing, f"products[{index}].routing", lot)
        return needs

    def _check_order_sizes(self) -> None:
        """Refuse an order quantity so small that one operation places too many orders."""
        needs = self._material_needs()
        for index, material in enumerate(self.materials):
            mine = [need for k, need, _ in needs if k == index]
            if not mine:
                continue
            largest = max(mine)
            _require(
                material.orders_to_reach(largest) <= LIMITS.max_orders_at_once,
                f"materials[{index}]",
                f"order_quantity {material.order_quantity:g} is tiny against the {largest:g} "
                f"units one operation takes: {material.orders_to_reach(largest):.3g} orders at "
                f"once (the limit is {LIMITS.max_orders_at_once:,})",
            )

    def check_material_supply(self) -> None:
        """Refuse a material that can never be on hand in the quantity an operation needs.

        Such an operation can never start, so the episode would end in a deadlock
        (:class:`~shopfloor.sim.DeadlockError`). Only certain starvation is found: an
        unlucky sequence of uses can still strand stock between the reorder point and
        a need, which the simulation reports as a deadlock when it happens. Scenario
        files are checked with this when they are loaded.

        Raises:
            SpecError: Naming the operation, the material and its (s, Q) settings.
        """
        needs = self._material_needs()
        for index, material in enumerate(self.materials):
            mine = [(need, where) for k, need, where in needs if k == index]
            if not mine:
                continue
            smallest = min(need for need, _ in mine)
            consumed = smallest <= material.most_on_hand(consumed=False)
            most = material.most_on_hand(consumed=consumed)
            for need, need_where in mine:
                _require(
                    need <= most,
                    need_where,
                    f"needs {need:g} {material.name} at once, but at most {most:g} can ever "
                    f"be on hand (initial_stock {material.initial_stock:g}, reorder_point "
                    f"{material.reorder_point:g}, order_quantity {material.order_quantity:g}"
                    f"{'' if consumed else '; nothing smaller uses it, so it is never reordered'}"
                    "): the operation could never start",
                )

    def expected_events(self) -> dict[str, tuple[float, str]]:
        """A rough count of the simulation events of one episode, from the means.

        Returns:
            By field path, the expected events it causes and how they come about:
            listed jobs, arrivals, failures of each machine, demand periods of each
            product, production choices and raw-material orders.
        """
        events: dict[str, tuple[float, str]] = {}
        length = self._episode_length()
        operations = sum(len(self._routing_of(job)) for job in self.jobs)
        if self.jobs:
            events["jobs"] = (
                2.0 * operations + 2.0 * len(self.jobs),
                f"{len(self.jobs)} jobs with {operations} operations",
            )
        arrivals = self.arrivals
        if arrivals is not None:
            count = arrivals.expected_jobs()
            events["arrivals"] = (
                count * (2.0 * self._arrival_operations() + 2.0),
                f"about {count:.3g} arriving jobs (max_jobs, or until {arrivals.until} over "
                f"a mean interarrival time of {arrivals.interarrival.mean:g})",
            )
        for index, machine in enumerate(self.machines):
            if machine.breakdown is not None:
                up = machine.breakdown.time_to_failure.mean
                down = machine.breakdown.repair_time.mean
                events[f"machines[{index}].breakdown"] = (
                    2.0 * length / (up + down),
                    f"a failure every {up:g} time units (mean time_to_failure) plus {down:g} "
                    f"of repair, over about {length:.3g} time units",
                )
        for index, product in enumerate(self.products):
            if product.demand is not None:
                periods = length / self.demand_period
                events[f"products[{index}].demand"] = (
                    periods,
                    f"{periods:.3g} demand periods (horizon {length:g} / demand_period "
                    f"{self.demand_period:g})",
                )
        if self.production is not None:
            step, steps_events = self._production_step()
            choices = length / step if step > 0 else math.inf
            events["production"] = (
                choices * steps_events,
                f"up to {choices:.3g} production choices (horizon {length:g} over the "
                f"shortest lot or idle_time, {step:g} time units)",
            )
        for index, material in enumerate(self.materials):
            used = self._expected_use(index, length)
            orders = used / material.order_quantity + material.orders_to_reach(
                material.reorder_point - material.initial_stock
            )
            if orders > 0:
                events[f"materials[{index}].order_quantity"] = (
                    2.0 * orders,
                    f"about {orders:.3g} orders of {material.order_quantity:g} units for "
                    f"{used:.3g} units used",
                )
        return events

    def _routing_of(self, job: JobSpec) -> Routing:
        if job.routing is not None:
            return job.routing
        return self.products[job.product].routing

    @staticmethod
    def _work(routing: Routing) -> float:
        """Expected work of a routing: the fastest machine of each operation."""
        return sum(min(mean_duration(d) for d in op.durations) for op in routing)

    def _arrival_operations(self) -> float:
        arrivals = self.arrivals
        assert arrivals is not None
        if arrivals.random_routing is not None:
            spec = arrivals.random_routing
            return (spec.min_operations + spec.max_operations) / 2.0
        total = sum(arrivals.product_mix)
        return sum(
            share * len(product.routing)
            for share, product in zip(arrivals.product_mix, self.products, strict=False)
        ) / max(total, 1e-300)

    def _arrival_work(self) -> float:
        arrivals = self.arrivals
        assert arrivals is not None
        if arrivals.random_routing is not None:
            return self._arrival_operations() * arrivals.random_routing.duration.mean
        total = sum(arrivals.product_mix)
        return sum(
            share * self._work(product.routing)
            for share, product in zip(arrivals.product_mix, self.products, strict=False)
        ) / max(total, 1e-300)

    def _episode_length(self) -> float:
        """The horizon, or a rough length: last release plus the work spread over machines."""
        if self.horizon is not None:
            return self.horizon
        start = max((job.release_time for job in self.jobs), default=0.0)
        work = sum(job.quantity * self._work(self._routing_of(job)) for job in self.jobs)
        if self.arrivals is not None:
            start = max(start, self.arrivals.span())
            work += self.arrivals.expected_jobs() * self._arrival_work()
        return start + work / len(self.machines)

    def _production_step(self) -> tuple[float, float]:
        """Shortest time between production choices, and the events of one choice."""
        production = self.production
        assert production is not None
        step, events = production.idle_time, 1.0
        lot = min(production.lot_sizes)
        for product in self.products:
            first = product.routing[0]
            if production.machine in first.machines:
                time = lot * mean_duration(
                    first.durations[first.machines.index(production.machine)]
                )
                if time < step:
                    step, events = time, 2.0 * len(product.routing) + 2.0
        return step, events

    def _expected_use(self, material: int, length: float) -> float:
        """Units of ``material`` one episode is expected to use (production: at most)."""

        def per_unit(routing: Routing) -> float:
            return sum(q for op in routing for k, q in op.materials if k == material)

        used = sum(job.quantity * per_unit(self._routing_of(job)) for job in self.jobs)
        arrivals = self.arrivals
        if arrivals is not None and arrivals.product_mix:
            total = sum(arrivals.product_mix)
            mean = sum(
                share * per_unit(product.routing)
                for share, product in zip(arrivals.product_mix, self.products, strict=False)
            )
            used += arrivals.expected_jobs() * mean / total
        if self.production is not None:
            step, _ = self._production_step()
            most = max((per_unit(p.routing) for p in self.products), default=0.0)
            if most > 0:
                lots = length / step if step > 0 else math.inf
                used += lots * max(self.production.lot_sizes) * most
        return used

    def _check_events(self) -> None:
        """Refuse a factory whose episode would take more than ``LIMITS.max_events`` events."""
        events = self.expected_events()
        total = sum(count for count, _ in events.values())
        if total <= LIMITS.max_events:
            return
        where, (_, how) = max(events.items(), key=lambda item: item[1][0])
        _require(
            False,
            where,
            f"one episode would take about {total:.3g} simulation events, more than the "
            f"limit of {LIMITS.max_events:,}; most come from {how}",
        )

    def _check_routing(self, routing: Routing, where: str) -> None:
        for step, operation in enumerate(routing):
            for machine in operation.machines:
                _require(
                    0 <= machine < len(self.machines),
                    f"{where}[{step}].machines",
                    f"no machine {machine} (the factory has {len(self.machines)})",
                )
            for material, quantity in operation.materials:
                _require(
                    0 <= material < len(self.materials),
                    f"{where}[{step}].materials",
                    f"no material {material}",
                )
                _require(quantity >= 0, f"{where}[{step}].materials", "quantity must be >= 0")
                _check_number(
                    f"{where}[{step}].materials",
                    quantity,
                    high=LIMITS.max_quantity,
                    name="quantity",
                )

    @property
    def is_static(self) -> bool:
        """All jobs known at t=0, deterministic times, no breakdowns (a benchmark instance)."""
        return (
            self.arrivals is None
            and self.production is None
            and not self.materials
            and all(m.breakdown is None for m in self.machines)
            and all(
                isinstance(d, int | float)
                for job in self.jobs
                for op in (job.routing or self.products[job.product].routing)
                for d in op.durations
            )
        )
