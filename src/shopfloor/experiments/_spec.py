"""Experiment specs: which env x agent x seed runs, with what budget and evaluation."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from shopfloor.agents._config import ALGORITHMS


class ExperimentError(ValueError):
    """A malformed experiment spec; the message names the file and field."""


class EnvEntry(BaseModel):
    """One environment of an experiment."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    """Registered env id, e.g. ``shopfloor/DynamicJobShop-v0``."""
    name: str
    """Folder name of its runs (also the key of agent hyperparameters, after the id)."""
    kwargs: dict[str, Any] = Field(default_factory=dict)
    """Arguments of the env constructor (scenario, instance, action_mode ...)."""


class EvalSettings(BaseModel):
    """When and how runs are evaluated."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    every: int = Field(gt=0)
    """Evaluate (and checkpoint) every this many env steps."""
    seeds: list[int] = Field(min_length=1)
    """Held-out episode seeds (never used for training)."""


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

    @field_validator("agents")
    @classmethod
    def _known_agents(cls, agents: list[str]) -> list[str]:
        unknown = [a for a in agents if a not in ALGORITHMS]
        if unknown:
            raise ValueError(f"unknown agent(s) {unknown}; choose from {list(ALGORITHMS)}")
        return agents

    @model_validator(mode="after")
    def _seeds_held_out(self) -> ExperimentSpec:
        overlap = set(self.seeds) & set(self.eval.seeds)
        if overlap:
            raise ValueError(f"eval.seeds must be held out from seeds; both hold {sorted(overlap)}")
        names = [env.name for env in self.envs]
        if len(set(names)) != len(names):
            raise ValueError(f"env names must be unique, got {names}")
        return self


def load_experiment(path: str | os.PathLike[str]) -> ExperimentSpec:
    """Read and validate an experiment YAML.

    Raises:
        ExperimentError: Missing file, bad YAML, or invalid fields (file and field named).
    """
    path = Path(path)
    if not path.is_file():
        raise ExperimentError(f"{path}: no such experiment file")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise ExperimentError(f"{path}: not valid YAML: {error}") from None
    try:
        return ExperimentSpec.model_validate(data)
    except ValidationError as error:
        lines = [
            f"{path}: {'.'.join(str(p) for p in e['loc']) or '<top>'}: {e['msg']}"
            + (
                f" (got {e['input']!r})"
                if "input" in e and not isinstance(e["input"], dict)
                else ""
            )
            for e in error.errors()
        ]
        raise ExperimentError("\n".join(lines)) from None
