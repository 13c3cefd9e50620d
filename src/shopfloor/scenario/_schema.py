"""The schema of a scenario file: ``envs/*.yaml`` as pydantic models.

A scenario file is the YAML form of a :class:`shopfloor.sim.FactorySpec` with names
where the simulation uses indices (machines, products, materials, setup families),
plus a header (``name``, ``description``, an ``env:`` section for the env layer).
These models check the shape of the file and every value that can be checked on its
own; :mod:`shopfloor.scenario._build` then resolves names and builds the spec.

Every model forbids unknown fields, is frozen and validates strictly: a count takes
only a whole number (not ``true``, ``2.0`` or ``"2"``), a number only an integer or a
float (not ``true``), a flag only ``true`` or ``false``. A distribution is a bare number
(a constant) or a mapping with a ``kind`` discriminator, e.g.
``{kind: exponential, mean: 4}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    field_validator,
    model_validator,
)

from shopfloor.sim import (
    LIMITS,
    Choice,
    Constant,
    Distribution,
    Duration,
    Exponential,
    Gamma,
    LogNormal,
    Normal,
    Triangular,
    Uniform,
    Weibull,
)

Name = Annotated[str, StringConstraints(min_length=1)]
"""A non-empty name of a machine, product, material or setup family."""

# Numbers within the limits of shopfloor.sim.InputLimits (documented in envs/README.md).
Time = Annotated[float, Field(ge=0, le=LIMITS.max_time)]
"""A time (or a distribution parameter in time units): 0 to 1e9."""
PositiveTime = Annotated[float, Field(gt=0, le=LIMITS.max_time)]
"""A time above 0, at most 1e9."""


def _repeats(value: float) -> float:
    if value < LIMITS.min_mean_time:
        raise ValueError(f"must be at least {LIMITS.min_mean_time:g} (the limit), got {value:g}")
    return value


RepeatingTime = Annotated[float, Field(gt=0, le=LIMITS.max_time), AfterValidator(_repeats)]
"""A time that repeats on its own (demand period, idle time, segment): 1e-6 to 1e9."""
Quantity = Annotated[float, Field(ge=0, le=LIMITS.max_quantity)]
"""A quantity of stock or material: 0 to 1e9."""
Cost = Annotated[float, Field(ge=0, le=LIMITS.max_cost)]
"""A cost or weight: 0 to 1e9."""
Factor = Annotated[float, Field(ge=0, le=LIMITS.max_factor)]
"""A multiplier: 0 to 1e6."""
Shape = Annotated[float, Field(ge=LIMITS.min_shape, le=LIMITS.max_shape)]
"""A gamma or Weibull shape: 0.1 to 1e4."""
Count = Annotated[int, Field(ge=1, le=int(LIMITS.max_quantity))]
"""A whole number of units (job quantity, lot size): 1 to 1e9."""
Period = Annotated[int, Field(ge=0, le=int(LIMITS.max_time))]
"""A demand period index or count: 0 to 1e9."""

MIX_TOLERANCE = 1e-3
"""How far the probabilities of ``arrivals.product_mix`` may sum from 1 (rounding)."""

TAG_PREFIX = "kind:"
"""Prefix of the union tags pydantic puts in error locations; stripped when reporting."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, strict=True)


# --- distributions -------------------------------------------------------------------


class _DistributionModel(_Model):
    """Common part of the distribution mappings."""

    def to_sim(self) -> Distribution:
        """The simulation's distribution object."""
        raise NotImplementedError

    @model_validator(mode="after")
    def _check_with_sim(self) -> _DistributionModel:
        self.to_sim()  # the sim dataclasses check the parameters together
        return self


class ConstantModel(_DistributionModel):
    """``{kind: constant, value}``: a fixed value (a bare number means the same)."""

    kind: Literal["constant"]
    value: Time

    def to_sim(self) -> Constant:
        """The simulation's distribution object."""
        return Constant(self.value)


class ExponentialModel(_DistributionModel):
    """``{kind: exponential, mean}``."""

    kind: Literal["exponential"]
    mean: PositiveTime

    def to_sim(self) -> Exponential:
        """The simulation's distribution object."""
        return Exponential(mean_value=self.mean)


class UniformModel(_DistributionModel):
    """``{kind: uniform, low, high, integer}``; integer draws when ``integer`` is true."""

    kind: Literal["uniform"]
    low: Time
    high: Time
    integer: bool = False

    def to_sim(self) -> Uniform:
        """The simulation's distribution object."""
        return Uniform(low=self.low, high=self.high, integer=self.integer)


class NormalModel(_DistributionModel):
    """``{kind: normal, mean, std, min}``: normal clipped below at ``min`` (default 0)."""

    kind: Literal["normal"]
    mean: Time
    std: Time
    minimum: Time = Field(0.0, alias="min")

    def to_sim(self) -> Normal:
        """The simulation's distribution object."""
        return Normal(mean_value=self.mean, std=self.std, minimum=self.minimum)


class LogNormalModel(_DistributionModel):
    """``{kind: lognormal, mean, std}``: mean and std of the value itself, not of its log."""

    kind: Literal["lognormal"]
    mean: PositiveTime
    std: Time

    def to_sim(self) -> LogNormal:
        """The simulation's distribution object."""
        return LogNormal(mean_value=self.mean, std=self.std)


class GammaModel(_DistributionModel):
    """``{kind: gamma, shape, scale}`` (mean = shape * scale)."""

    kind: Literal["gamma"]
    shape: Shape
    scale: PositiveTime

    def to_sim(self) -> Gamma:
        """The simulation's distribution object."""
        return Gamma(shape=self.shape, scale=self.scale)


class WeibullModel(_DistributionModel):
    """``{kind: weibull, shape, scale}``."""

    kind: Literal["weibull"]
    shape: Shape
    scale: PositiveTime

    def to_sim(self) -> Weibull:
        """The simulation's distribution object."""
        return Weibull(shape=self.shape, scale=self.scale)


class TriangularModel(_DistributionModel):
    """``{kind: triangular, low, mode, high}``."""

    kind: Literal["triangular"]
    low: Time
    mode: Time
    high: Time

    def to_sim(self) -> Triangular:
        """The simulation's distribution object."""
        return Triangular(low=self.low, mode=self.mode, high=self.high)


class ChoiceModel(_DistributionModel):
    """``{kind: choice, values, weights}``: one of ``values`` (uniformly if no weights)."""

    kind: Literal["choice"]
    values: list[Time] = Field(min_length=1, max_length=LIMITS.max_list)
    weights: list[Cost] = Field([], max_length=LIMITS.max_list)

    def to_sim(self) -> Choice:
        """The simulation's distribution object."""
        return Choice(values=tuple(self.values), weights=tuple(self.weights))


_DISTRIBUTION_MODELS: dict[str, type[_DistributionModel]] = {
    "constant": ConstantModel,
    "exponential": ExponentialModel,
    "uniform": UniformModel,
    "normal": NormalModel,
    "lognormal": LogNormalModel,
    "gamma": GammaModel,
    "weibull": WeibullModel,
    "triangular": TriangularModel,
    "choice": ChoiceModel,
}
DISTRIBUTION_KINDS: tuple[str, ...] = tuple(_DISTRIBUTION_MODELS)
"""The values ``kind`` may take."""

DISTRIBUTION_ERROR = "distribution"
"""Pydantic error type of a value that is neither a number nor a known distribution."""


def _distribution_tag(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return f"{TAG_PREFIX}number"
    if isinstance(value, Mapping):
        kind = value.get("kind")
        return f"{TAG_PREFIX}{kind}" if isinstance(kind, str) else None
    if isinstance(value, _DistributionModel):
        return f"{TAG_PREFIX}{getattr(value, 'kind', '')}"
    return None


DistributionModel = Annotated[
    Annotated[Time, Tag(f"{TAG_PREFIX}number")]
    | Annotated[ConstantModel, Tag(f"{TAG_PREFIX}constant")]
    | Annotated[ExponentialModel, Tag(f"{TAG_PREFIX}exponential")]
    | Annotated[UniformModel, Tag(f"{TAG_PREFIX}uniform")]
    | Annotated[NormalModel, Tag(f"{TAG_PREFIX}normal")]
    | Annotated[LogNormalModel, Tag(f"{TAG_PREFIX}lognormal")]
    | Annotated[GammaModel, Tag(f"{TAG_PREFIX}gamma")]
    | Annotated[WeibullModel, Tag(f"{TAG_PREFIX}weibull")]
    | Annotated[TriangularModel, Tag(f"{TAG_PREFIX}triangular")]
    | Annotated[ChoiceModel, Tag(f"{TAG_PREFIX}choice")],
    Discriminator(
        _distribution_tag,
        custom_error_type=DISTRIBUTION_ERROR,
        custom_error_message="expected a number >= 0 or a mapping with `kind: "
        + " | ".join(DISTRIBUTION_KINDS)
        + "`",
    ),
]
"""A random quantity in a file: a number >= 0 (a constant) or a ``kind:`` mapping."""

DistributionValue = float | _DistributionModel
"""What a validated :data:`DistributionModel` field holds."""


def to_distribution(value: DistributionValue) -> Distribution:
    """Convert a validated distribution field; a number becomes :class:`Constant`."""
    if isinstance(value, _DistributionModel):
        return value.to_sim()
    return Constant(float(value))


def to_duration(value: DistributionValue) -> Duration:
    """Convert a validated processing time; a constant stays a plain number.

    Plain numbers keep a factory deterministic in the simulation's eyes
    (:attr:`shopfloor.sim.FactorySpec.is_static`).
    """
    if isinstance(value, ConstantModel):
        return float(value.value)
    if isinstance(value, _DistributionModel):
        return value.to_sim()
    return float(value)


def _positive_mean(value: DistributionValue | None, field: str) -> None:
    if value is None:
        return
    mean = to_distribution(value).mean
    if mean <= 0:
        raise ValueError(f"{field} must have a mean > 0")
    if mean < LIMITS.min_mean_time:
        raise ValueError(
            f"{field} must have a mean of at least {LIMITS.min_mean_time:g} (the limit), "
            f"got {mean:g}"
        )


# --- machines ------------------------------------------------------------------------


class SetupModel(_Model):
    """Sequence-dependent setups of a machine, by setup family name.

    ``time`` is the setup time of every change of family; ``times[a][b]`` overrides it
    when family ``b`` follows family ``a``. Give ``time``, ``times`` or both; without
    ``time``, ``times`` must cover every ordered pair of different families.
    """

    time: Time | None = None
    times: dict[Name, dict[Name, Time]] | None = None
    cost: Cost = 0.0

    @model_validator(mode="after")
    def _time_or_times(self) -> SetupModel:
        if self.time is None and self.times is None:
            raise ValueError("give `time` (every change of family), `times` (per pair) or both")
        return self


class BreakdownModel(_Model):
    """Random failures: up for ``time_to_failure``, then down for ``repair_time``."""

    time_to_failure: DistributionModel
    repair_time: DistributionModel

    @model_validator(mode="after")
    def _failures_take_time(self) -> BreakdownModel:
        _positive_mean(self.time_to_failure, "time_to_failure")
        return self


class MachineModel(_Model):
    """A machine; a bare string in the ``machines`` list is a machine with only a name."""

    name: Name
    setup: SetupModel | None = None
    breakdown: BreakdownModel | None = None

    @model_validator(mode="before")
    @classmethod
    def _bare_name(cls, data: Any) -> Any:
        return {"name": data} if isinstance(data, str) else data


# --- routings and products -----------------------------------------------------------


class OperationModel(_Model):
    """One step of a routing.

    ``machine`` names one machine, ``machines`` several alternatives (flexible job shop).
    ``duration`` is the time per unit on any of them, ``durations`` one per machine.
    ``materials`` maps raw-material names to the quantity per unit consumed at the start.
    """

    machine: Name | None = None
    machines: list[Name] | None = Field(None, min_length=1, max_length=LIMITS.max_machines)
    duration: DistributionModel | None = None
    durations: list[DistributionModel] | None = Field(
        None, min_length=1, max_length=LIMITS.max_machines
    )
    materials: dict[Name, Quantity] = {}

    @model_validator(mode="after")
    def _consistent(self) -> OperationModel:
        if (self.machine is None) == (self.machines is None):
            raise ValueError("give exactly one of `machine` and `machines`")
        if (self.duration is None) == (self.durations is None):
            raise ValueError("give exactly one of `duration` and `durations`")
        names = self.machine_names
        if self.durations is not None and len(self.durations) != len(names):
            raise ValueError(
                f"{len(self.durations)} `durations` for {len(names)} machines {names}; "
                "give one per machine (or a single `duration`)"
            )
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"machine {', '.join(map(repr, repeated))} listed twice")
        return self

    @property
    def machine_names(self) -> list[str]:
        """The machine names, whether given as ``machine`` or ``machines``."""
        return [self.machine] if self.machine is not None else list(self.machines or [])

    @property
    def duration_values(self) -> list[DistributionValue]:
        """One duration per machine (a single ``duration`` repeated)."""
        if self.durations is not None:
            return list(self.durations)
        assert self.duration is not None
        return [self.duration] * len(self.machine_names)


class ShockModel(_Model):
    """Demand multiplied by ``multiplier`` in periods ``[start, end)``."""

    start: Period
    end: Annotated[Period, Field(ge=1)]
    multiplier: Factor

    @model_validator(mode="after")
    def _ordered(self) -> ShockModel:
        if self.start >= self.end:
            raise ValueError(f"need start < end, got start {self.start} and end {self.end}")
        return self


class DemandModel(_Model):
    """Customer demand per period (see :class:`shopfloor.sim.DemandSpec`)."""

    rate: Quantity
    amplitude: Annotated[float, Field(ge=0, le=1)] = 0.0
    season_length: Period = 0
    phase: Annotated[float, Field(ge=-LIMITS.max_time, le=LIMITS.max_time)] = 0.0
    trend: Annotated[float, Field(ge=-LIMITS.max_factor, le=LIMITS.max_factor)] = 0.0
    shocks: list[ShockModel] = Field([], max_length=LIMITS.max_list)
    occurrence: Annotated[float, Field(gt=0, le=1)] = 1.0


class ProductModel(_Model):
    """A product type: routing, setup family, finished-goods stock and costs, demand."""

    name: Name
    family: Name | None = None
    routing: list[OperationModel] = Field(min_length=1, max_length=LIMITS.max_operations_per_job)
    initial_stock: Quantity = 0.0
    holding_cost: Cost = 0.0
    backorder_cost: Cost = 0.0
    lost_sale_cost: Cost = 0.0
    demand: DemandModel | None = None

    @property
    def family_name(self) -> str:
        """The setup family; a product without one is a family of its own."""
        return self.family if self.family is not None else self.name


# --- jobs and arrivals ---------------------------------------------------------------


class JobModel(_Model):
    """A job known in advance: a product, its own routing, or both."""

    product: Name | None = None
    routing: list[OperationModel] | None = Field(
        None, min_length=1, max_length=LIMITS.max_operations_per_job
    )
    release_time: Time = 0.0
    due_date: Time | None = None
    weight: Cost = 1.0
    quantity: Count = 1
    name: str = ""

    @model_validator(mode="after")
    def _has_work(self) -> JobModel:
        if self.product is None and self.routing is None:
            raise ValueError("give `product`, `routing` or both")
        return self


class RandomRoutingModel(_Model):
    """Each arriving job gets distinct random machines and random times."""

    min_operations: Annotated[int, Field(ge=1, le=LIMITS.max_operations_per_job)]
    max_operations: Annotated[int, Field(ge=1, le=LIMITS.max_operations_per_job)]
    duration: DistributionModel

    @model_validator(mode="after")
    def _ordered(self) -> RandomRoutingModel:
        if self.min_operations > self.max_operations:
            raise ValueError(
                f"min_operations {self.min_operations} > max_operations {self.max_operations}"
            )
        return self


class RateProfileModel(_Model):
    """Arrival-rate multipliers repeating over time (see :class:`shopfloor.sim.RateProfile`)."""

    segment: RepeatingTime
    factors: list[Factor] = Field(min_length=1, max_length=LIMITS.max_list)

    @model_validator(mode="after")
    def _some_arrivals(self) -> RateProfileModel:
        if not any(factor > 0 for factor in self.factors):
            raise ValueError("factors need a value > 0, or no job ever arrives")
        return self


class ArrivalsModel(_Model):
    """Jobs arriving over time: a product mix or random routings."""

    interarrival: DistributionModel
    product_mix: dict[Name, Annotated[float, Field(ge=0, le=1)]] | None = None
    random_routing: RandomRoutingModel | None = None
    due_date_tightness: DistributionModel | None = None
    weight: DistributionModel | None = None
    max_jobs: Annotated[int, Field(ge=1, le=LIMITS.max_arrivals)] | None = None
    until: PositiveTime | None = None
    rate_profile: RateProfileModel | None = None

    @field_validator("product_mix")
    @classmethod
    def _probabilities(cls, mix: dict[str, float] | None) -> dict[str, float] | None:
        if mix is not None and abs(sum(mix.values()) - 1) > MIX_TOLERANCE:
            raise ValueError(
                f"the probabilities sum to {sum(mix.values()):g}, not 1 "
                f"(within {MIX_TOLERANCE:g}); unlisted products get 0"
            )
        return mix

    @model_validator(mode="after")
    def _consistent(self) -> ArrivalsModel:
        if (self.product_mix is None) == (self.random_routing is None):
            raise ValueError("give exactly one of `product_mix` and `random_routing`")
        if self.max_jobs is None and self.until is None:
            raise ValueError("set `max_jobs` or `until`, or arrivals never end")
        _positive_mean(self.interarrival, "interarrival")
        return self


# --- inventory and production --------------------------------------------------------


class MaterialModel(_Model):
    """A raw material with continuous-review (s, Q) replenishment."""

    name: Name
    initial_stock: Quantity
    reorder_point: Annotated[float, Field(ge=-LIMITS.max_quantity, le=LIMITS.max_quantity)]
    order_quantity: Annotated[float, Field(gt=0, le=LIMITS.max_quantity)]
    lead_time: DistributionModel
    holding_cost: Cost = 0.0
    order_cost: Cost = 0.0


class ProductionModel(_Model):
    """Make-to-stock: what to produce next on ``machine``, in which lot size."""

    machine: Name
    lot_sizes: list[Count] = Field([1], min_length=1, max_length=LIMITS.max_list)
    idle_time: RepeatingTime = 1.0


# --- the file ------------------------------------------------------------------------

FACTORY_FIELDS: tuple[str, ...] = (
    "families",
    "machines",
    "products",
    "jobs",
    "arrivals",
    "materials",
    "production",
    "demand_period",
    "horizon",
    "backorders",
)
"""Fields that describe the factory, which an ``instance:`` scenario takes from the instance."""


class ScenarioFile(_Model):
    """A scenario file (``envs/*.yaml``): a header plus the factory, or a benchmark instance.

    Attributes:
        name: Scenario name (also the factory's name).
        description: What it models, for people.
        env: Settings for the env layer, passed through untouched (e.g. ``objective``).
        instance: A bundled benchmark instance (e.g. ``ft06``) instead of the factory fields.
        families: Setup family names in index order (default: order of first use).
        machines: The machines.
        products: Product types.
        jobs: Jobs known in advance.
        arrivals: Jobs arriving over time.
        materials: Raw materials.
        production: Make-to-stock production choice.
        demand_period: Length of a demand period in time units.
        horizon: End of the episode (required with customer demand).
        backorders: Unmet demand waits (true) or is lost (false).
    """

    name: Name
    description: str = ""
    env: dict[str, Any] = {}
    instance: Name | None = None
    families: list[Name] | None = Field(None, min_length=1, max_length=LIMITS.max_families)
    machines: list[MachineModel] = Field([], max_length=LIMITS.max_machines)
    products: list[ProductModel] = Field([], max_length=LIMITS.max_products)
    jobs: list[JobModel] = Field([], max_length=LIMITS.max_jobs)
    arrivals: ArrivalsModel | None = None
    materials: list[MaterialModel] = Field([], max_length=LIMITS.max_materials)
    production: ProductionModel | None = None
    demand_period: RepeatingTime = 1.0
    horizon: PositiveTime | None = None
    backorders: bool = True
