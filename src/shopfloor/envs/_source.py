"""Where an environment's factory comes from: a scenario, an instance, or a generator."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from shopfloor.sim import FactorySpec

if TYPE_CHECKING:
    from shopfloor.instances import FlexibleJobShopInstance, JobShopInstance


@dataclass(frozen=True)
class GeneratorSpec:
    """Random instances, a new one every episode: Taillard-style, or flexible shops.

    Classic shops follow :func:`shopfloor.instances.generate_instance` (every job visits
    every machine once, times ``U{low, high}``), flexible ones
    :func:`shopfloor.instances.generate_flexible_instance` (Song et al. 2022's recipe:
    operations per job, eligible machines per operation and times all drawn).

    Attributes:
        n_jobs: Jobs per instance.
        n_machines: Machines per instance.
        low: Smallest processing time.
        high: Largest processing time; ``None``: 99 (classic) or 20 (flexible). Always
            an ``int`` after construction.
        flexible: Draw flexible job shops.
        operations: Flexible only: ``(lo, hi)`` operations per job; ``None``: the
            recipe's ``floor(0.8 M)..floor(1.2 M)``.
        machines_per_operation: Flexible only: ``(lo, hi)`` eligible machines per
            operation; ``None``: ``1..n_machines``.
        deviation: Flexible only: spread of an operation's times around its mean
            (``None``: independent times).
    """

    n_jobs: int
    n_machines: int
    low: int = 1
    high: int | None = None
    flexible: bool = False
    operations: tuple[int, int] | None = None
    machines_per_operation: tuple[int, int] | None = None
    deviation: float | None = 0.2

    def __post_init__(self) -> None:
        if self.high is None:
            object.__setattr__(self, "high", 20 if self.flexible is True else 99)
        for name in ("n_jobs", "n_machines", "low", "high"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"generator {name} must be an integer, got {str(value)[:40]!r}")
        if self.n_jobs < 1 or self.n_machines < 1:
            raise ValueError(f"generator needs n_jobs, n_machines >= 1, got {self}")
        assert self.high is not None
        if not 0 <= self.low <= self.high:
            raise ValueError(f"generator needs 0 <= low <= high, got {self.low}, {self.high}")
        if not isinstance(self.flexible, bool):
            raise ValueError(f"generator flexible must be true or false, got {self.flexible!r}")
        for name in ("operations", "machines_per_operation"):
            value = getattr(self, name)
            if isinstance(value, list):  # from YAML or JSON
                object.__setattr__(self, name, tuple(value))
        if not self.flexible:
            extra = [
                name
                for name in ("operations", "machines_per_operation")
                if getattr(self, name) is not None
            ] + (["deviation"] if self.deviation != 0.2 else [])
            if extra:
                raise ValueError(f"generator {extra[0]} needs flexible: true")
            return
        try:  # the generator's own checks, on one job
            self._draw_flexible(1, 0, self.operations, self.machines_per_operation)
        except ValueError as error:
            raise ValueError(f"generator: {error}") from None

    def generate(
        self, seed: int | np.random.Generator
    ) -> JobShopInstance | FlexibleJobShopInstance:
        """One instance (the same seed gives the same instance)."""
        if self.flexible:
            return self._draw_flexible(
                self.n_jobs, seed, self.operations, self.machines_per_operation
            )
        from shopfloor.instances import generate_instance

        assert self.high is not None
        return generate_instance(self.n_jobs, self.n_machines, seed, self.low, self.high)

    def _draw_flexible(
        self,
        n_jobs: int,
        seed: int | np.random.Generator,
        operations: tuple[int, int] | None,
        machines_per_operation: tuple[int, int] | None,
    ) -> FlexibleJobShopInstance:
        from shopfloor.instances import generate_flexible_instance

        assert self.high is not None
        return generate_flexible_instance(
            n_jobs,
            self.n_machines,
            seed,
            operations=operations,
            machines_per_operation=machines_per_operation,
            low=self.low,
            high=self.high,
            deviation=self.deviation,
        )


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
                f"generator must be a mapping of its fields (n_jobs, n_machines, ...); got "
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
            kind = "flexible-" if self.generator.flexible else ""
            self.name = f"generated-{kind}{self.generator.n_jobs}x{self.generator.n_machines}"
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
        generator = self.generator
        assert generator is not None
        return generator.generate(int(rng.integers(2**62))).to_factory_spec()

    def example(self) -> FactorySpec:
        """A representative spec (sizes the spaces at construction).

        A flexible generator's has every operation on the most eligible machines, so
        the env is flexible whenever an episode can be (the spaces depend on the jobs
        and machines only, never on operations per job).
        """
        generator = self.generator
        if generator is None or not generator.flexible:
            return self.draw(np.random.default_rng(0))
        most = (generator.machines_per_operation or (1, generator.n_machines))[1]
        seed = int(np.random.default_rng(0).integers(2**62))
        example = generator._draw_flexible(
            generator.n_jobs, seed, generator.operations, (most, most)
        )
        return example.to_factory_spec()
