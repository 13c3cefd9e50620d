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
from dataclasses import dataclass, field

from shopfloor.sim._distributions import Constant, Distribution

Duration = float | Distribution
"""A processing time: a number (deterministic) or a distribution."""


class SpecError(ValueError):
    """A factory description is inconsistent; the message names the field."""


def _require(condition: bool, where: str, message: str) -> None:
    if not condition:
        raise SpecError(f"{where}: {message}")


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
        for row in self.times:
            _require(len(row) == size, "setup.times", f"must be square, got a row of {len(row)}")
            _require(all(t >= 0 for t in row), "setup.times", "times must be >= 0")
        _require(self.cost >= 0, "setup.cost", "must be >= 0")

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
        _require(0 <= self.amplitude <= 1, "demand.amplitude", "must lie in [0, 1]")
        _require(self.season_length >= 0, "demand.season_length", "must be >= 0")
        _require(0 < self.occurrence <= 1, "demand.occurrence", "must lie in (0, 1]")


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
        _require(len(self.factors) > 0, "rate_profile", "needs at least one factor")
        _require(
            all(f >= 0 and math.isfinite(f) for f in self.factors),
            "rate_profile",
            f"factors must be finite and >= 0, got {list(self.factors)}",
        )
        _require(any(f > 0 for f in self.factors), "rate_profile", "needs a factor > 0")

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
        _require(self.idle_time > 0, "production.idle_time", "must be > 0")


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
            for cost in ("holding_cost", "backorder_cost", "lost_sale_cost"):
                value = getattr(product, cost)
                _require(
                    math.isfinite(value) and value >= 0,
                    f"{where}.{cost}",
                    f"must be >= 0, got {value}",
                )
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
            _require(job.release_time >= 0, f"{where}.release_time", "must be >= 0")
            _require(job.weight >= 0, f"{where}.weight", "must be >= 0")
            _require(job.quantity > 0, f"{where}.quantity", "must be > 0")
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
                _require(
                    production_machine in product.routing[0].machines,
                    f"products[{index}].routing[0]",
                    f"must run on the production machine {production_machine}",
                )
        _require(self.demand_period > 0, "demand_period", "must be > 0")
        _require(self.horizon is None or self.horizon > 0, "horizon", "must be > 0")
        _require(
            bool(self.jobs) or self.arrivals is not None or self.production is not None,
            "jobs",
            "the factory has no jobs, no arrivals and no production",
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
