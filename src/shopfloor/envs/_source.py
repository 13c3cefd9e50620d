"""Where an environment's factory comes from: a scenario, an instance, or a generator."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from shopfloor.sim import FactorySpec


@dataclass(frozen=True)
class GeneratorSpec:
    """Random Taillard-style instances, a new one every episode.

    Attributes:
        n_jobs: Jobs per instance.
        n_machines: Machines per instance.
        low: Smallest processing time.
        high: Largest processing time.
    """

    n_jobs: int
    n_machines: int
    low: int = 1
    high: int = 99

    def __post_init__(self) -> None:
        for name in ("n_jobs", "n_machines", "low", "high"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"generator {name} must be an integer, got {str(value)[:40]!r}")
        if self.n_jobs < 1 or self.n_machines < 1:
            raise ValueError(f"generator needs n_jobs, n_machines >= 1, got {self}")
        if not 0 <= self.low <= self.high:
            raise ValueError(f"generator needs 0 <= low <= high, got {self.low}, {self.high}")


class SpecSource:
    """Gives the factory description of each episode.

    Exactly one of ``scenario`` (a YAML path or bundled scenario name), ``instance`` (a
    bundled instance name or an instance file), ``spec`` (a ready FactorySpec) or
    ``generator`` (a :class:`GeneratorSpec` or a mapping of its fields) is given.
    """

    def __init__(
        self,
        scenario: str | None = None,
        instance: str | None = None,
        spec: FactorySpec | None = None,
        generator: GeneratorSpec | Mapping[str, Any] | None = None,
    ):
        given = [x is not None for x in (scenario, instance, spec, generator)]
        if sum(given) != 1:
            raise ValueError("give exactly one of scenario=, instance=, spec= or generator=")
        for what, value in (("scenario", scenario), ("instance", instance)):
            if value is not None and not isinstance(value, str | os.PathLike):
                raise ValueError(f"{what} must be a name or a path, got {str(value)[:40]!r}")
        if spec is not None and not isinstance(spec, FactorySpec):
            raise ValueError(f"spec must be a FactorySpec, got a {type(spec).__name__}")
        if generator is not None and not isinstance(generator, GeneratorSpec | Mapping):
            raise ValueError(
                f"generator must be a mapping of n_jobs, n_machines, low, high; got "
                f"{str(generator)[:40]!r}"
            )
        self.generator: GeneratorSpec | None = None
        self.env_options: dict[str, Any] = {}
        if generator is not None:
            try:
                self.generator = (
                    generator
                    if isinstance(generator, GeneratorSpec)
                    else GeneratorSpec(**generator)
                )
            except TypeError as error:  # an unknown or missing field
                raise ValueError(f"generator: {error}") from None
            self._spec = None
            self.name = f"generated-{self.generator.n_jobs}x{self.generator.n_machines}"
        elif spec is not None:
            self._spec = spec
            self.name = spec.name
        elif instance is not None:
            from shopfloor.instances import resolve_instance

            loaded = resolve_instance(instance)
            self._spec = loaded.to_factory_spec()
            self.name = loaded.name
        else:
            from shopfloor.scenario import load_scenario, scenario_path

            assert scenario is not None
            loaded_scenario = load_scenario(scenario_path(scenario))
            self._spec = loaded_scenario.factory
            self.env_options = dict(loaded_scenario.env or {})
            self.name = loaded_scenario.name

    @property
    def fixed(self) -> FactorySpec | None:
        """The one spec every episode uses, or ``None`` for a generator."""
        return self._spec

    def draw(self, rng: np.random.Generator) -> FactorySpec:
        """The spec of the next episode (a fresh instance for a generator)."""
        if self._spec is not None:
            return self._spec
        from shopfloor.instances import generate_instance

        generator = self.generator
        assert generator is not None
        instance = generate_instance(
            generator.n_jobs,
            generator.n_machines,
            seed=int(rng.integers(2**62)),
            low=generator.low,
            high=generator.high,
        )
        return instance.to_factory_spec()

    def example(self) -> FactorySpec:
        """A representative spec (sizes the spaces at construction)."""
        return self.draw(np.random.default_rng(0))
