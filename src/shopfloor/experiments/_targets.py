"""Benchmark targets: what a name or path stands for, its env family and its bound.

A target is a bundled instance (``ft06``), an instance range (``ta01-ta10``), a bundled
scenario or a file. :func:`resolve_bench_target` names its env family (from the
factory, :func:`~shopfloor.envs.family_for`), the KPI that scores it (the env's
``objective_name``) and, for a benchmark instance (or a scenario that wraps one), its
best known makespan.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import gymnasium as gym

from shopfloor.envs import FAMILIES, EnvFamily, family_for
from shopfloor.sim import FactorySpec


@dataclass(frozen=True)
class BenchTarget:
    """A resolved benchmark target.

    Attributes:
        target: As the user named it (a bundled name or a path).
        name: The instance's or scenario's own name.
        env_id: The environment family it runs in.
        objective: The KPI that scores it.
        upper_bound: Best known makespan, for bundled instances (and scenarios that
            wrap one); ``None`` otherwise.
        spec: The factory.
    """

    target: str
    name: str
    env_id: str
    objective: str
    upper_bound: float | None
    spec: FactorySpec = field(repr=False, compare=False)

    @property
    def family(self) -> EnvFamily:
        """The env family it runs in."""
        family = FAMILIES.of_id(self.env_id)
        if family is None:
            raise LookupError(f"{self.env_id} is not a shopfloor env family")
        return family

    @property
    def static(self) -> bool:
        """Whether nothing in it is random (a seed changes nothing for a rule)."""
        return self.family.static


def expand_targets(targets: Iterable[str]) -> list[str]:
    """Expand comma-separated lists and instance ranges (``"ta01-ta10"``), keeping order.

    A scenario name or an existing path is kept as it is; any other item with a dash
    is an instance range (see :func:`~shopfloor.instances.instance_names_from_range`).

    Raises:
        ValueError: A malformed range or an unknown instance at an end of one.
    """
    from shopfloor.instances import instance_names_from_range
    from shopfloor.scenario import ScenarioError, bundled_scenarios

    try:
        scenarios = set(bundled_scenarios())
    except ScenarioError:
        scenarios = set()
    expanded: list[str] = []
    for raw in targets:
        for item in (part.strip() for part in str(raw).split(",")):
            if not item:
                continue
            if "-" in item and item not in scenarios and not Path(item).exists():
                try:
                    expanded.extend(instance_names_from_range(item))
                except LookupError as error:
                    raise ValueError(str(error).strip("'\"")) from None
            else:
                expanded.append(item)
    return list(dict.fromkeys(expanded))


def resolve_bench_target(target: str) -> BenchTarget:
    """Resolve ``target`` (see :func:`~shopfloor.scenario.resolve_target`) and its family.

    Raises:
        ValueError: An unknown name (with suggestions) or an invalid scenario.
        FileNotFoundError: A path that does not exist.
    """
    from shopfloor.scenario import resolve_target

    name, spec = resolve_target(target)
    family = family_for(spec)
    upper_bound = _upper_bound(target, name) if family.static else None
    resolved = BenchTarget(target, name, family.id, "", upper_bound, spec)
    # the family says what it minimises (a scenario may choose): the env of any policy
    kwargs = resolved.family.target_kwargs(resolved.target, spec, "non_delay")
    env = gym.make(resolved.env_id, disable_env_checker=True, **kwargs)
    try:
        objective = str(env.unwrapped.objective_name)  # type: ignore[attr-defined]
    finally:
        env.close()
    return replace(resolved, objective=objective)


def _upper_bound(target: str, name: str) -> float | None:
    """The best known makespan of a bundled instance, or of the one a scenario wraps."""
    from shopfloor.instances import load_instance
    from shopfloor.scenario import ScenarioError, bundled_scenarios, load_scenario

    path = Path(target)
    instance: str | None = name
    try:
        if path.suffix in (".yaml", ".yml") or target in bundled_scenarios():
            instance = load_scenario(target).instance
        elif path.is_file():
            instance = None  # an instance file carries no bounds
    except ScenarioError:
        instance = None
    if instance is None:
        return None
    try:
        bound = load_instance(instance).upper_bound
    except LookupError:
        return None
    return None if bound is None else float(bound)


def static_instance(target: BenchTarget) -> Any:
    """The benchmark instance a static target is, or ``None`` (a scenario, a dynamic shop).

    Resolved as :func:`~shopfloor.scenario.resolve_target` does, so its factory is
    ``target.spec``.
    """
    from shopfloor.instances import load_instance, read_instance
    from shopfloor.scenario import ScenarioError, bundled_scenarios

    if not target.static:
        return None
    path = Path(target.target)
    if path.suffix in (".yaml", ".yml"):
        return None
    try:
        if path.is_file():
            return read_instance(path)
        if target.target in bundled_scenarios():
            return None
        return load_instance(target.target)
    except (LookupError, ValueError, OSError, ScenarioError):
        return None


def shop_kind(instance: Any) -> str:
    from shopfloor.instances import FlexibleJobShopInstance

    return "flexible" if isinstance(instance, FlexibleJobShopInstance) else "classic"
