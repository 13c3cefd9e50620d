"""Env families: what each registered shopfloor env is, accepts and fits.

One frozen :class:`EnvFamily` per family names its id and version, the arguments it
accepts (where the factory comes from: instance, scenario, spec, generator; its own
options), what its actions decide, which policies act in it, what it forecasts, which
factories it is the natural env of, and its retired versions. Code outside ``envs/``
asks :data:`FAMILIES` (``family_of(env)``, ``family_for(spec)``, ``FAMILIES.get(id)``)
instead of testing ids or env classes.

Adding a family: write its env class (one module, with a spec sheet), add an entry to
:data:`FAMILIES` below; ``shopfloor.envs`` registers every entry's id with Gymnasium.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import gymnasium as gym

from shopfloor.sim import FactorySpec

NAMESPACE = "shopfloor"
_ID = re.compile(r"^shopfloor/(?P<name>[A-Za-z]+)-v(?P<version>\d+)$")


class Decisions(str, Enum):
    """What a family's actions decide (how a policy turns its choice into an action)."""

    JOBS = "jobs"
    """Which job's next operation starts (a ``(job, machine)`` pair in flexible ``append``)."""
    RULES_OR_SLOTS = "rules_or_slots"
    """A dispatching rule's index (``action_mode="rule"``) or a queue slot (``"job"``)."""
    PRODUCTION = "production"
    """What to produce next, and how much (or to idle)."""


class RetiredEnvError(ValueError):
    """An env id of a retired version; the message names the version to use and why."""


@dataclass(frozen=True)
class EnvFamily:
    """One family of shopfloor envs.

    Attributes:
        name: The family (``DynamicJobShop``); the id is ``shopfloor/<name>-v<version>``.
        version: The current version (bumped when observations, actions or rewards change).
        entry_point: ``module:Class`` of the env.
        summary: One line: what it simulates, what the agent picks, the objective.
        sources: Where the factory may come from (``instance``, ``scenario``, ``spec``,
            ``generator``).
        options: Its own arguments besides the sources and ``render_mode``.
        decisions: What its actions decide.
        policies: Kinds of non-learning policy that act in it (``rule``, ``random``,
            ``inventory``).
        forecast: What a forecast appends to its observation (``demand``,
            ``arrivals``) or None.
        default_for: Whether it is the natural env of a factory (:func:`family_for`).
        static: Whether its factories are static (all jobs known at the start, nothing
            random: a seed changes nothing for a rule; best known bounds apply).
        target_from_spec: Whether a benchmark target is passed as a built ``spec``
            (else by its scenario name, which carries the scenario's env options).
        rule_mode_option: The ``action_mode`` value in which each action is a rule
            (None: no such mode).
        modes: Its decision modes (``mode=``), the first the default; empty: none.
        retired: Earlier versions, each with why it was retired.
    """

    name: str
    version: int
    entry_point: str
    summary: str
    sources: tuple[str, ...]
    options: tuple[str, ...]
    decisions: Decisions
    policies: tuple[str, ...]
    forecast: str | None
    default_for: Callable[[FactorySpec], bool]
    static: bool = False
    target_from_spec: bool = False
    rule_mode_option: str | None = None
    modes: tuple[str, ...] = ()
    retired: Mapping[int, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        """The registered id, ``shopfloor/<name>-v<version>``."""
        return f"{NAMESPACE}/{self.name}-v{self.version}"

    @property
    def env_class(self) -> type[gym.Env[Any, Any]]:
        """The env class (imported when first asked)."""
        module, name = self.entry_point.split(":")
        cls: type[gym.Env[Any, Any]] = getattr(importlib.import_module(module), name)
        return cls

    def target_kwargs(
        self, target: str, spec: FactorySpec, mode: str | None = None
    ) -> dict[str, Any]:
        """Env arguments that build this family's env for a benchmark ``target``.

        Args:
            target: The target as named (a bundled name or a path).
            spec: The factory it resolves to.
            mode: The decision mode, for a family with modes (default its first).
        """
        kwargs: dict[str, Any] = (
            {"instance": None, "spec": spec} if self.target_from_spec else {"scenario": target}
        )
        if self.modes:
            kwargs["mode"] = mode or self.modes[0]
        return kwargs

    def rule_kwargs(self, kwargs: Mapping[str, Any], rule: str) -> dict[str, Any]:
        """``kwargs`` of an env in which ``rule`` acts as itself.

        In a family whose actions may be rules, a rule-mode env offers exactly that
        rule; in the others nothing changes.
        """
        option = self.rule_mode_option
        if option is None or kwargs.get("action_mode", option) != option:
            return dict(kwargs)
        return {**kwargs, "rules": [rule]}


def _is_static(spec: FactorySpec) -> bool:
    return spec.production is None and spec.is_static


def _is_dynamic(spec: FactorySpec) -> bool:
    return spec.production is None and not spec.is_static


def _makes_to_stock(spec: FactorySpec) -> bool:
    return spec.production is not None


class FamilyRegistry(Mapping[str, EnvFamily]):
    """Env families by name, in registration order."""

    def __init__(self, families: tuple[EnvFamily, ...]):
        self._families = {family.name: family for family in families}

    def __getitem__(self, name: str) -> EnvFamily:
        return self._families[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._families)

    def __len__(self) -> int:
        return len(self._families)

    @property
    def ids(self) -> tuple[str, ...]:
        """The current id of every family."""
        return tuple(family.id for family in self._families.values())

    def of_id(self, env_id: str) -> EnvFamily | None:
        """The family of a current id, None for any other id (another namespace too).

        Raises:
            RetiredEnvError: ``env_id`` is a retired version of a family.
        """
        match = _ID.match(str(env_id))
        family = self._families.get(match["name"]) if match else None
        if match is None or family is None:
            return None
        version = int(match["version"])
        if version == family.version:
            return family
        if version in family.retired:
            raise RetiredEnvError(
                f"{env_id} is retired: {family.retired[version]}; use {family.id} "
                "(train agents of the old version again)"
            )
        return None

    def of_env(self, env: gym.Env[Any, Any]) -> EnvFamily | None:
        """The family of an env (wrappers are looked through), None for another env."""
        unwrapped = env.unwrapped
        for family in self._families.values():
            if isinstance(unwrapped, family.env_class):
                return family
        return None

    def for_spec(self, spec: FactorySpec) -> EnvFamily:
        """The natural family of a factory: the first whose ``default_for`` holds.

        ProductionInventory when it produces to stock, JobShop when all its jobs are
        known at the start, else DynamicJobShop.
        """
        for family in self._families.values():
            if family.default_for(spec):
                return family
        raise LookupError("no env family fits this factory")  # pragma: no cover


FAMILIES = FamilyRegistry(
    (
        EnvFamily(
            name="JobShop",
            version=0,
            entry_point="shopfloor.envs.job_shop:JobShopEnv",
            summary="a static instance; pick the job (masked); objective makespan",
            sources=("instance", "scenario", "spec", "generator"),
            options=("mode",),
            decisions=Decisions.JOBS,
            policies=("rule", "random"),
            forecast=None,
            default_for=_is_static,
            static=True,
            target_from_spec=True,
            modes=("non_delay", "active", "append"),
        ),
        EnvFamily(
            name="DynamicJobShop",
            version=1,
            entry_point="shopfloor.envs.dynamic_job_shop:DynamicJobShopEnv",
            summary="arrivals, due dates, breakdowns; pick a dispatching rule (or a job); "
            "objective weighted tardiness",
            sources=("scenario", "instance", "spec", "generator"),
            options=("action_mode", "rules", "slots", "objective", "rule_candidates"),
            decisions=Decisions.RULES_OR_SLOTS,
            policies=("rule", "random"),
            forecast="arrivals",
            default_for=_is_dynamic,
            rule_mode_option="rule",
            retired={
                0: "its observation grew from 7 to 13 features per queue slot and its "
                "reward is shaped with projected tardiness since v0 (see the version "
                "history of DynamicJobShopEnv)"
            },
        ),
        EnvFamily(
            name="ProductionInventory",
            version=0,
            entry_point="shopfloor.envs.production_inventory:ProductionInventoryEnv",
            summary="make-to-stock; pick what to produce; objective cost",
            sources=("scenario", "instance", "spec", "generator"),
            options=(),
            decisions=Decisions.PRODUCTION,
            policies=("inventory", "random"),
            forecast="demand",
            default_for=_makes_to_stock,
        ),
    )
)
"""Every env family, in the order of :data:`~shopfloor.envs.ENV_IDS`."""


def family_of(env: gym.Env[Any, Any]) -> EnvFamily | None:
    """The family of ``env`` (see :meth:`FamilyRegistry.of_env`)."""
    return FAMILIES.of_env(env)


def family_for(spec: FactorySpec) -> EnvFamily:
    """The natural family of a factory (see :meth:`FamilyRegistry.for_spec`)."""
    return FAMILIES.for_spec(spec)


def check_env_id(env_id: str) -> None:
    """Raise :class:`RetiredEnvError` for a retired version of a shopfloor env id."""
    FAMILIES.of_id(env_id)
