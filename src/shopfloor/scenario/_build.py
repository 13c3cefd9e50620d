"""From a validated scenario file to a :class:`shopfloor.sim.FactorySpec`.

Names become indices here: machines, products and materials are numbered in the
order the file lists them, setup families in the order of ``families:`` (or of
their first use by a product). A name that does not resolve is a :class:`Problem`
at its field path; all of them are gathered before anything is reported.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from shopfloor.scenario._errors import MAX_LISTED_PROBLEMS, Location, Problem, format_location
from shopfloor.scenario._schema import (
    FACTORY_FIELDS,
    ArrivalsModel,
    DemandModel,
    MachineModel,
    MaterialModel,
    OperationModel,
    ProductionModel,
    ProductModel,
    ScenarioFile,
    SetupModel,
    to_distribution,
    to_duration,
)
from shopfloor.sim import (
    LIMITS,
    ArrivalSpec,
    BreakdownSpec,
    DemandSpec,
    FactorySpec,
    JobSpec,
    MachineSpec,
    MaterialSpec,
    OperationSpec,
    ProductionSpec,
    ProductSpec,
    RandomRoutingSpec,
    RateProfile,
    Routing,
    SetupSpec,
    Shock,
    SpecError,
)

T = TypeVar("T")

_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")

_MAX_LISTED_NAMES = 12
_MAX_SUGGESTED_CHARS = 200


class BuildError(Exception):
    """The file is well formed but does not describe a consistent factory."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(problem.message for problem in self.problems))


def build_factory(scenario: ScenarioFile) -> FactorySpec:
    """Resolve names and build the factory a scenario file describes.

    Args:
        scenario: A validated scenario file.

    Returns:
        The factory, validated by its own ``__post_init__`` checks.

    Raises:
        BuildError: With every problem found (unknown names, inconsistent settings).
    """
    if scenario.instance is not None:
        return _instance_factory(scenario, scenario.instance)
    return _Builder(scenario).build()


def _instance_factory(scenario: ScenarioFile, name: str) -> FactorySpec:
    given = [field for field in FACTORY_FIELDS if field in scenario.model_fields_set]
    if given:
        raise BuildError(
            [
                Problem(
                    (field,),
                    f"not allowed together with `instance: {name}`, which describes the "
                    "whole factory",
                )
                for field in given
            ]
        )
    try:
        from shopfloor.instances import load_instance
    except ImportError as exc:  # pragma: no cover - the package ships with shopfloor
        raise BuildError(
            [Problem(("instance",), f"benchmark instances are unavailable: {exc}", name)]
        ) from exc
    try:
        spec = load_instance(name).to_factory_spec()
    except (LookupError, ValueError, OSError) as exc:
        message = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
        raise BuildError(
            [Problem(("instance",), f"cannot load the benchmark instance: {message}", name)]
        ) from exc
    return dataclasses.replace(spec, name=scenario.name)


def _location(where: str) -> Location:
    """A field path as the simulation writes it (``products[1].routing[0]``), as a location."""
    return tuple(
        int(index) if index else name for name, index in _PART.findall(where) if name or index
    )


def _within(location: Location, where: Location) -> Location:
    """The field a :class:`SpecError` names, for a part built at ``location``.

    The simulation names fields relative to the part (``demand.rate`` of a product's
    demand); they continue ``location`` when they start with its last key.
    """
    if not location:
        return where
    if where and where[0] == location[-1]:
        return (*location, *where[1:])
    return location


def _unknown(what: str, plural: str, name: str, known: Sequence[str], suggest: bool = True) -> str:
    message = f"unknown {what}"
    if suggest and len(name) <= _MAX_SUGGESTED_CHARS:
        close = difflib.get_close_matches(name, known, n=1)
        if close:
            message += f"; did you mean {close[0]!r}?"
    if not known:
        return f"{message} (the scenario has no {plural})"
    listed = ", ".join(known[:_MAX_LISTED_NAMES])
    if len(known) > _MAX_LISTED_NAMES:
        listed += f", ... ({len(known)} in all)"
    return f"{message} ({plural}: {listed})"


class _Builder:
    """One pass over a scenario file, collecting problems as it goes.

    An unresolved name gets a fresh negative placeholder index, so building can go
    on and report every problem; the factory itself is only made when none was found.
    """

    def __init__(self, scenario: ScenarioFile) -> None:
        self.scenario = scenario
        self.problems: list[Problem] = []
        self._placeholder = 0
        self.machines = self._numbered(
            "machine", [m.name for m in scenario.machines], ("machines",), with_name=True
        )
        self.products = self._numbered(
            "product", [p.name for p in scenario.products], ("products",), with_name=True
        )
        self.materials = self._numbered(
            "material", [m.name for m in scenario.materials], ("materials",), with_name=True
        )
        self.families = self._families()

    # --- names -----------------------------------------------------------------------

    def _numbered(
        self, what: str, names: Sequence[str], location: Location, *, with_name: bool
    ) -> dict[str, int]:
        index: dict[str, int] = {}
        for position, name in enumerate(names):
            if name in index:
                where: Location = (
                    (*location, position, "name") if with_name else (*location, position)
                )
                first = format_location((*location, index[name]))
                self.problems.append(Problem(where, f"duplicate {what} name (also {first})", name))
            else:
                index[name] = position
        return index

    def _families(self) -> dict[str, int]:
        declared = self.scenario.families
        if declared is None:
            index: dict[str, int] = {}
            for product in self.scenario.products:
                index.setdefault(product.family_name, len(index))
            return index
        index = self._numbered("family", declared, ("families",), with_name=False)
        for position, product in enumerate(self.scenario.products):
            if product.family is None and product.name not in index:
                self.problems.append(
                    Problem(
                        ("products", position, "family"),
                        "missing; with `families:` declared, every product names its family "
                        f"(families: {', '.join(index)})",
                    )
                )
            elif product.family is not None:
                location: Location = ("products", position, "family")
                self._resolve("setup family", "families", index, product.family, location)
        return index

    def _resolve(
        self, what: str, plural: str, index: dict[str, int], name: str, location: Location
    ) -> int:
        if name in index:
            return index[name]
        # Suggestions cost a string comparison per known name: only for the problems shown.
        suggest = len(self.problems) < MAX_LISTED_PROBLEMS
        message = _unknown(what, plural, name, list(index), suggest)
        self.problems.append(Problem(location, message, name))
        self._placeholder -= 1
        return self._placeholder

    def _machine(self, name: str, location: Location) -> int:
        return self._resolve("machine", "machines", self.machines, name, location)

    def _product(self, name: str, location: Location) -> int:
        return self._resolve("product", "products", self.products, name, location)

    def _material(self, name: str, location: Location) -> int:
        return self._resolve("material", "materials", self.materials, name, location)

    def _family(self, name: str, location: Location) -> int:
        return self._resolve("setup family", "families", self.families, name, location)

    def _make(self, location: Location, factory: Callable[..., T], **kwargs: Any) -> T:
        try:
            return factory(**kwargs)
        except ValueError as exc:
            problem = Problem(location, str(exc))
            if isinstance(exc, SpecError) and exc.where:
                problem = Problem(_within(location, _location(exc.where)), exc.problem)
            raise BuildError([*self.problems, problem]) from exc

    # --- parts -----------------------------------------------------------------------

    def _setup(self, setup: SetupModel, location: Location) -> SetupSpec:
        size = max(1, len(self.families))
        default = setup.time
        times: list[list[float | None]] = [
            [0.0 if a == b else default for b in range(size)] for a in range(size)
        ]
        for from_name, row in (setup.times or {}).items():
            a = self._family(from_name, (*location, "times", from_name))
            for to_name, time in row.items():
                b = self._family(to_name, (*location, "times", from_name, to_name))
                if a < 0 or b < 0:
                    continue
                if a == b and time != 0:
                    self.problems.append(
                        Problem(
                            (*location, "times", from_name, to_name),
                            "a family following itself needs no setup; leave it out or use 0",
                            time,
                        )
                    )
                times[a][b] = time
        names = list(self.families)
        missing = [
            f"{names[a]} -> {names[b]}"
            for a in range(len(names))
            for b in range(len(names))
            if times[a][b] is None
        ]
        if missing:
            self.problems.append(
                Problem(
                    (*location, "times"),
                    f"no setup time for {', '.join(missing)}; give them, or a default `time`",
                )
            )
        matrix = tuple(tuple(0.0 if t is None else float(t) for t in row) for row in times)
        return self._make(location, SetupSpec, times=matrix, cost=setup.cost)

    def _check_setup_size(self) -> None:
        """Refuse setup matrices too large to build (families squared per machine)."""
        with_setup = sum(1 for machine in self.scenario.machines if machine.setup is not None)
        families = len(self.families)
        if not with_setup:
            return
        location: Location = ("families",) if self.scenario.families else ("products",)
        if families > LIMITS.max_families:
            message = f"{families:,} setup families; the limit is {LIMITS.max_families:,}"
        elif with_setup * families**2 > LIMITS.max_setup_entries:
            message = (
                f"{with_setup} machines with setups over {families} families make "
                f"{with_setup * families**2:,} setup times; the limit is "
                f"{LIMITS.max_setup_entries:,}"
            )
        else:
            return
        raise BuildError([*self.problems, Problem(location, message)])

    def _machine_spec(self, machine: MachineModel, location: Location) -> MachineSpec:
        setup = None if machine.setup is None else self._setup(machine.setup, (*location, "setup"))
        breakdown = None
        if machine.breakdown is not None:
            breakdown = self._make(
                (*location, "breakdown"),
                BreakdownSpec,
                time_to_failure=to_distribution(machine.breakdown.time_to_failure),
                repair_time=to_distribution(machine.breakdown.repair_time),
            )
        return MachineSpec(name=machine.name, setup=setup, breakdown=breakdown)

    def _operation(self, operation: OperationModel, location: Location) -> OperationSpec:
        if operation.machine is not None:
            machines: tuple[int, ...] = (self._machine(operation.machine, (*location, "machine")),)
        else:
            machines = tuple(
                self._machine(name, (*location, "machines", position))
                for position, name in enumerate(operation.machines or [])
            )
        materials = tuple(
            (self._material(name, (*location, "materials", name)), float(quantity))
            for name, quantity in operation.materials.items()
        )
        durations = tuple(to_duration(value) for value in operation.duration_values)
        return self._make(
            location, OperationSpec, machines=machines, durations=durations, materials=materials
        )

    def _routing(self, routing: Sequence[OperationModel], location: Location) -> Routing:
        return tuple(
            self._operation(operation, (*location, step)) for step, operation in enumerate(routing)
        )

    def _demand(self, demand: DemandModel, location: Location) -> DemandSpec:
        shocks = tuple(
            self._make((*location, "shocks", position), Shock, **shock.model_dump())
            for position, shock in enumerate(demand.shocks)
        )
        return self._make(
            location,
            DemandSpec,
            rate=demand.rate,
            amplitude=demand.amplitude,
            season_length=demand.season_length,
            phase=demand.phase,
            trend=demand.trend,
            shocks=shocks,
            occurrence=demand.occurrence,
        )

    def _product_spec(self, product: ProductModel, location: Location) -> ProductSpec:
        demand = None
        if product.demand is not None:
            demand = self._demand(product.demand, (*location, "demand"))
            if self.scenario.horizon is None:
                self.problems.append(
                    Problem(
                        ("horizon",),
                        f"required: {format_location(location)} ({product.name}) has "
                        "customer demand, which never ends by itself",
                    )
                )
        return ProductSpec(
            name=product.name,
            routing=self._routing(product.routing, (*location, "routing")),
            family=self.families.get(product.family_name, 0),
            initial_stock=product.initial_stock,
            holding_cost=product.holding_cost,
            backorder_cost=product.backorder_cost,
            lost_sale_cost=product.lost_sale_cost,
            demand=demand,
        )

    def _arrivals(self, arrivals: ArrivalsModel) -> ArrivalSpec:
        location: Location = ("arrivals",)
        mix: tuple[float, ...] = ()
        if arrivals.product_mix is not None:
            shares = [0.0] * len(self.scenario.products)
            for name, share in arrivals.product_mix.items():
                index = self._product(name, (*location, "product_mix", name))
                if index >= 0:
                    shares[index] = share
            mix = tuple(shares)
        random_routing = None
        if arrivals.random_routing is not None:
            spec = arrivals.random_routing
            if spec.max_operations > len(self.machines):
                self.problems.append(
                    Problem(
                        (*location, "random_routing", "max_operations"),
                        f"a random routing visits distinct machines; the factory has "
                        f"{len(self.machines)}",
                        spec.max_operations,
                    )
                )
            random_routing = self._make(
                (*location, "random_routing"),
                RandomRoutingSpec,
                min_operations=spec.min_operations,
                max_operations=spec.max_operations,
                duration=to_distribution(spec.duration),
            )
        optional: dict[str, Any] = {}
        if arrivals.due_date_tightness is not None:
            optional["due_date_tightness"] = to_distribution(arrivals.due_date_tightness)
        if arrivals.weight is not None:
            optional["weight"] = to_distribution(arrivals.weight)
        if arrivals.rate_profile is not None:
            profile = arrivals.rate_profile
            optional["rate_profile"] = self._make(
                (*location, "rate_profile"),
                RateProfile,
                segment=profile.segment,
                factors=tuple(profile.factors),
            )
        return self._make(
            location,
            ArrivalSpec,
            interarrival=to_distribution(arrivals.interarrival),
            product_mix=mix,
            random_routing=random_routing,
            max_jobs=arrivals.max_jobs,
            until=arrivals.until,
            **optional,
        )

    def _material_spec(self, material: MaterialModel, location: Location) -> MaterialSpec:
        return self._make(
            location,
            MaterialSpec,
            name=material.name,
            initial_stock=material.initial_stock,
            reorder_point=material.reorder_point,
            order_quantity=material.order_quantity,
            lead_time=to_distribution(material.lead_time),
            holding_cost=material.holding_cost,
            order_cost=material.order_cost,
        )

    def _production(self, production: ProductionModel) -> ProductionSpec:
        location: Location = ("production",)
        machine = self._machine(production.machine, (*location, "machine"))
        if not self.scenario.products:
            self.problems.append(Problem(location, "make-to-stock production needs `products`"))
        for position, product in enumerate(self.scenario.products):
            first = product.routing[0]
            if machine >= 0 and production.machine not in first.machine_names:
                field = "machine" if first.machine is not None else "machines"
                value: Any = first.machine if first.machine is not None else first.machines
                self.problems.append(
                    Problem(
                        ("products", position, "routing", 0, field),
                        f"the first operation must run on the production machine "
                        f"{production.machine!r}",
                        value,
                    )
                )
        return self._make(
            location,
            ProductionSpec,
            machine=machine,
            lot_sizes=tuple(production.lot_sizes),
            idle_time=production.idle_time,
        )

    # --- the factory -----------------------------------------------------------------

    def build(self) -> FactorySpec:
        scenario = self.scenario
        if not scenario.machines:
            self.problems.append(
                Problem(
                    ("machines",),
                    "required: list the machines (or use `instance:` for a benchmark instance)",
                )
            )
        if not scenario.jobs and scenario.arrivals is None and scenario.production is None:
            self.problems.append(
                Problem(
                    ("jobs",),
                    "the factory has no work: give `jobs`, `arrivals` or `production`",
                )
            )
        self._check_setup_size()
        machines = tuple(
            self._machine_spec(machine, ("machines", position))
            for position, machine in enumerate(scenario.machines)
        )
        materials = tuple(
            self._material_spec(material, ("materials", position))
            for position, material in enumerate(scenario.materials)
        )
        products = tuple(
            self._product_spec(product, ("products", position))
            for position, product in enumerate(scenario.products)
        )
        jobs = tuple(
            JobSpec(
                routing=(
                    None
                    if job.routing is None
                    else self._routing(job.routing, ("jobs", position, "routing"))
                ),
                product=(
                    -1
                    if job.product is None
                    else self._product(job.product, ("jobs", position, "product"))
                ),
                release_time=job.release_time,
                due_date=float("inf") if job.due_date is None else job.due_date,
                weight=job.weight,
                quantity=job.quantity,
                name=job.name,
            )
            for position, job in enumerate(scenario.jobs)
        )
        arrivals = None if scenario.arrivals is None else self._arrivals(scenario.arrivals)
        production = None if scenario.production is None else self._production(scenario.production)
        if self.problems:
            raise BuildError(self.problems)
        factory = self._make(
            (),
            FactorySpec,
            name=scenario.name,
            machines=machines,
            products=products,
            jobs=jobs,
            arrivals=arrivals,
            materials=materials,
            production=production,
            demand_period=scenario.demand_period,
            horizon=scenario.horizon,
            backorders=scenario.backorders,
        )
        try:
            factory.check_material_supply()
        except SpecError as exc:
            raise BuildError([Problem(_location(exc.where), exc.problem)]) from exc
        return factory
