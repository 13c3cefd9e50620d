"""Experiment specs: which env x agent x seed runs, with what budget and evaluation."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from shopfloor._yaml import YAMLInputError, read_yaml, short_repr
from shopfloor.agents import ALGORITHMS, check_device_name
from shopfloor.envs import FAMILIES, check_env_id
from shopfloor.experiments._folders import check_folder_name
from shopfloor.forecast import ARRIVAL_KINDS
from shopfloor.forecast import DEMAND_KINDS as KINDS


class ExperimentError(ValueError):
    """A malformed experiment spec; the message names the file and field."""


_MAX_LISTED_ERRORS = 20
"""Problems of a file listed in full; more are counted."""

FORECAST_KEY = "forecast"
"""Key of the forecast settings inside a run's ``env_kwargs`` (taken out before ``gym.make``)."""


class ForecastSettings(BaseModel):
    """Forecasts appended to an observation: demand or job arrivals, per product.

    On ``ProductionInventory`` envs the forecasts are of customer demand per period
    (``ForecastObservation``); on ``DynamicJobShop`` envs of job arrivals per time
    bucket (``ArrivalForecastObservation``). ``neural`` trains a ``NeuralForecaster``
    once per process on histories drawn from the scenario's own demand or arrival
    process with seeds from ``seed`` (keep it apart from the episode seeds); the same
    settings give the same model.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["neural", "oracle", "naive", "seasonal_naive", "moving_average"] = "neural"
    """``seasonal_naive``: ProductionInventory only; ``moving_average``: DynamicJobShop only."""
    horizon: int = Field(default=8, ge=1)
    """Forecast periods (buckets) per product."""
    train_periods: int = Field(default=520, ge=2)
    """Periods (buckets) per training history (``neural`` only)."""
    train_histories: int = Field(default=3, ge=1)
    """Training histories per product (``neural`` on ProductionInventory only)."""
    seed: int = 12345
    """Seed of the training histories and the model (``neural`` only)."""
    lookback: int = Field(default=52, ge=1)
    """Past periods the neural model sees."""
    epochs: int = Field(default=200, ge=1)
    """Maximum training epochs (early stopping applies)."""
    season_length: int | None = Field(default=None, ge=1)
    """Season length of ``seasonal_naive`` (default: each product's own)."""
    bucket: float | None = Field(default=None, gt=0)
    """DynamicJobShop: time per arrival bucket (default 10 mean interarrival times)."""

    @model_validator(mode="after")
    def _enough_periods(self) -> ForecastSettings:
        if self.kind == "neural" and self.train_periods < self.lookback + self.horizon:
            raise ValueError(
                f"train_periods={self.train_periods} must be at least lookback + horizon "
                f"= {self.lookback + self.horizon}"
            )
        return self

    def check_env(self, env_id: str) -> None:
        """Raise ``ValueError`` naming the setting that does not fit ``env_id``."""
        forecast = _forecast_of(env_id)
        if forecast == "demand":
            kinds, foreign = KINDS, "bucket"
        elif forecast == "arrivals":
            kinds, foreign = ARRIVAL_KINDS, "season_length"
        else:
            forecasting = " or ".join(f.name for f in FAMILIES.values() if f.forecast)
            raise ValueError(
                f"forecast features need a {forecasting} env, got {str(env_id)[:80]!r}"
            )
        if self.kind not in kinds:
            raise ValueError(f"kind {self.kind!r} is not offered on {env_id}; choose from {kinds}")
        if getattr(self, foreign) is not None:
            raise ValueError(f"{foreign} does not apply to {env_id}")


class EvalSettings(BaseModel):
    """When and how runs are evaluated."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    every: int = Field(gt=0)
    """Evaluate (and checkpoint) every this many env steps."""
    seeds: list[int] = Field(min_length=1)
    """Held-out episode seeds (never used for training)."""

    @field_validator("seeds")
    @classmethod
    def _distinct_seeds(cls, seeds: list[int]) -> list[int]:
        return _distinct_seeds(seeds)


class EnvEntry(BaseModel):
    """One environment of an experiment."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    """Registered env id, e.g. ``shopfloor/DynamicJobShop-v1``."""
    name: str
    """Folder name of its runs (also the key of agent hyperparameters, after the id)."""
    kwargs: dict[str, Any] = Field(default_factory=dict)
    """Arguments of the env constructor (scenario, instance, action_mode ...)."""
    forecast: ForecastSettings | None = None
    """Forecast features (``ProductionInventory``: demand, ``DynamicJobShop``: arrivals).

    When set, the settings are also copied into ``kwargs`` under ``"forecast"`` so that
    they travel with the run's ``env_kwargs`` (config.yaml, worker processes);
    :func:`~shopfloor.experiments._train.make_env_factory` takes them out again and
    wraps the env.
    """

    agents: list[str] | None = None
    """This env's agents (default: the experiment's ``agents``)."""
    budget: int | None = Field(default=None, gt=0)
    """This env's training budget in env steps (default: the experiment's)."""
    eval: EvalSettings | None = None
    """This env's evaluation (default: the experiment's)."""
    baselines: list[str] | None = None
    """This env's baselines (default: the experiment's)."""

    @field_validator("agents")
    @classmethod
    def _known_agents(cls, agents: list[str] | None) -> list[str] | None:
        return None if agents is None else _known_agents(_no_repeats(agents))

    @field_validator("baselines")
    @classmethod
    def _no_repeats(cls, values: list[str] | None) -> list[str] | None:
        return None if values is None else _no_repeats(values)

    @field_validator("id")
    @classmethod
    def _current_version(cls, env_id: str) -> str:
        check_env_id(env_id)  # a retired version is named with the one to use
        return env_id

    @field_validator("name")
    @classmethod
    def _folder_name(cls, name: str) -> str:
        return check_folder_name("env name", name)

    @model_validator(mode="after")
    def _forecast_into_kwargs(self) -> EnvEntry:
        if FORECAST_KEY in self.kwargs and self.forecast is None:
            raise ValueError(
                f"put forecast settings in the env's 'forecast' field, not in kwargs "
                f"(env {self.name!r})"
            )
        if self.forecast is not None:
            self.forecast.check_env(self.id)
            if _forecast_of(self.id) == "arrivals":
                if "train_histories" in self.forecast.model_fields_set:
                    raise ValueError(
                        f"train_histories does not apply to {self.id}: an arrival forecaster "
                        "trains on one history of train_periods buckets"
                    )
                _check_random_arrivals(self.kwargs)
            settings = self.forecast.model_dump()
            given = self.kwargs.get(FORECAST_KEY)
            if given is not None and given != settings:
                raise ValueError(f"kwargs.forecast disagrees with forecast (env {self.name!r})")
            object.__setattr__(self, "kwargs", {**self.kwargs, FORECAST_KEY: settings})
        return self


def _forecast_of(env_id: str) -> str | None:
    """What a forecast appends in the family of ``env_id`` (None: not a forecasting one)."""
    family = FAMILIES.of_id(env_id)
    return None if family is None else family.forecast


def _check_random_arrivals(kwargs: dict[str, Any]) -> None:
    """Raise ``ValueError`` unless the DynamicJobShop these arguments build has random arrivals."""
    from shopfloor.envs import SpecSource

    given = {key: kwargs[key] for key in ("scenario", "instance", "generator") if key in kwargs}
    source = SpecSource(**(given or {"scenario": "dynamic_job_shop"}))
    if source.fixed is None or source.fixed.arrivals is None:
        what = ", ".join(f"{key}={value!r}" for key, value in given.items())
        raise ValueError(
            f"an arrival forecast needs random job arrivals; {what} has none "
            "(use a scenario with an arrivals section)"
        )


def _no_repeats(values: list[Any]) -> list[Any]:
    repeated = sorted({v for v in values if values.count(v) > 1}, key=str)
    if repeated:
        raise ValueError(f"each entry once, got {repeated} more than once")
    return values


def _distinct_seeds(seeds: list[int]) -> list[int]:
    if seeds and min(seeds) < 0:
        raise ValueError(f"seeds must be >= 0, got {min(seeds)}")
    return _no_repeats(seeds)


class ExperimentSpec(BaseModel):
    """An experiment: envs x agents x seeds, a budget, evaluation, baselines."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str = ""
    envs: list[EnvEntry] = Field(min_length=1)
    agents: list[str] = Field(min_length=1)
    seeds: list[int] = Field(min_length=1)
    budget: int = Field(gt=0)
    """Env steps of training per run."""
    eval: EvalSettings
    baselines: list[str] = Field(default_factory=list)
    """Non-learning policies evaluated on the same held-out seeds (e.g. spt, atc)."""
    device: str = "auto"

    @field_validator("name")
    @classmethod
    def _folder_name(cls, name: str) -> str:
        return check_folder_name("experiment name", name)

    @field_validator("agents")
    @classmethod
    def _known_agents(cls, agents: list[str]) -> list[str]:
        return _known_agents(agents)

    @field_validator("device")
    @classmethod
    def _device_name(cls, device: str) -> str:
        return check_device_name(device)

    @field_validator("agents", "baselines")
    @classmethod
    def _no_repeats(cls, values: list[str]) -> list[str]:
        return _no_repeats(values)

    @field_validator("seeds")
    @classmethod
    def _distinct_seeds(cls, seeds: list[int]) -> list[int]:
        return _distinct_seeds(seeds)

    @model_validator(mode="after")
    def _seeds_held_out(self) -> ExperimentSpec:
        for env in self.envs:
            overlap = set(self.seeds) & set(self.eval_for(env).seeds)
            if overlap:
                raise ValueError(
                    f"eval.seeds must be held out from seeds; both hold {sorted(overlap)}"
                )
        names = [env.name for env in self.envs]
        if len(set(names)) != len(names):
            raise ValueError(f"env names must be unique, got {names}")
        return self

    def agents_for(self, env: EnvEntry) -> list[str]:
        """The agents trained in ``env``: its own list, else the experiment's."""
        return self.agents if env.agents is None else env.agents

    def budget_for(self, env: EnvEntry) -> int:
        """The training budget of ``env``'s runs."""
        return self.budget if env.budget is None else env.budget

    def eval_for(self, env: EnvEntry) -> EvalSettings:
        """The evaluation of ``env``'s runs and baselines."""
        return self.eval if env.eval is None else env.eval

    def baselines_for(self, env: EnvEntry) -> list[str]:
        """The baselines evaluated in ``env``."""
        return self.baselines if env.baselines is None else env.baselines


def _known_agents(agents: list[str]) -> list[str]:
    unknown = [a for a in agents if a not in ALGORITHMS]
    if unknown:
        raise ValueError(f"unknown agent(s) {unknown}; choose from {', '.join(ALGORITHMS)}")
    return agents


def load_experiment(path: str | os.PathLike[str]) -> ExperimentSpec:
    """Read and validate an experiment YAML (data only: no env is built).

    Whether its envs build and its agents and baselines fit them is checked where
    its runs are prepared (:func:`~shopfloor.experiments.check_experiment`, which
    :func:`~shopfloor.experiments.run_experiment` calls first).

    Raises:
        ExperimentError: Missing file, bad YAML, or invalid fields (file and field named).
    """
    path = Path(path)
    if not path.is_file():
        raise ExperimentError(f"{path}: no such experiment file")
    try:
        data = read_yaml(path)
    except YAMLInputError as error:
        raise ExperimentError(f"{path}: {error}") from None
    except OSError as error:
        raise ExperimentError(f"{path}: cannot read the file: {error.strerror or error}") from None
    try:
        spec = ExperimentSpec.model_validate(data)
    except ValidationError as error:
        errors = error.errors()
        lines = [
            f"{path}: {'.'.join(str(p)[:80] for p in e['loc']) or '<top>'}: {e['msg']}"
            + (
                f" (got {short_repr(e['input'])})"
                if "input" in e and not isinstance(e["input"], dict)
                else ""
            )
            for e in errors[:_MAX_LISTED_ERRORS]
        ]
        if len(errors) > _MAX_LISTED_ERRORS:
            lines.append(f"{path}: ... and {len(errors) - _MAX_LISTED_ERRORS} more problems")
        raise ExperimentError("\n".join(lines)) from None
    return spec
