"""One protocol for everything that acts in an environment: ``predict``.

Learned agents (:mod:`shopfloor.agents`) answer ``predict(observation,
deterministic=True, action_masks=None) -> (action, state)``, as Stable-Baselines3 and
sb3-contrib's MaskablePPO do; the non-learning policies here answer the same call, so
a benchmark runner treats dispatching rules, the base-stock heuristic, a random
baseline and learned agents alike.

A learned agent acts on the observation alone. A rule or a heuristic needs the state
of the factory itself (processing times, due dates, stocks), which the observation
only summarises, so it is first *bound* to an environment with :meth:`bind`; its
``predict`` then reads ``env.unwrapped.factory`` and returns a valid action of that
environment. The observation it is given is ignored.

How a rule's choice becomes an action, per environment family:

* ``JobShop`` in its ``active`` and ``append`` modes: the rule ranks the schedule's
  candidates (:func:`~shopfloor.policies.choose_candidate`, ties to the lowest job,
  then machine index); the action is the chosen job, or the ``(job, machine)`` pair's
  action in a flexible shop. ATC and ATCJS apply only in ``non_delay``.
* ``JobShop`` (``non_delay``): the action is a job. The rule ranks every
  ``(job, machine)`` pair that can start now across all free machines (the candidate
  set of job-shop-lib's dispatching solver), ties to the lowest job index by default,
  so the schedules equal job-shop-lib's (see :func:`~shopfloor.policies.dispatch_earliest`). In a
  flexible shop a job waiting at several free machines is ranked at the lowest-index
  one, where the environment starts it. ATC and ATCJS rank
  one machine's queue (the look-ahead scale is that queue's mean processing time), so
  they choose among the jobs of the lowest-index free machine.
* ``DynamicJobShop``: in rule mode the action is the rule's index in ``env.rules``;
  in job mode it is the slot of the job the rule picks from the choosing machine's
  visible slots (the first ``env.slots`` jobs of its queue; with a longer queue the
  rule cannot reach the jobs beyond them, unlike in rule mode).
* ``ProductionInventory``: its actions are production choices, not dispatching; a
  rule does not apply (:class:`InventoryPolicy` does).

CP-SAT has no ``predict``: its schedules may keep a machine idle on purpose while a
job waits, which ``JobShop``'s default ``non_delay`` mode cannot express (its
``active`` and ``append`` modes can: its operations in start order are ``append``
decisions). The benchmark runner therefore replays CP-SAT schedules in the factory
itself, with :func:`replay_schedule` (see :func:`shopfloor.experiments.evaluate_episode`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, Protocol, TypeVar, runtime_checkable

import gymnasium as gym
import numpy as np

from shopfloor.envs import Decisions, EnvFamily, FactoryEnv, family_of
from shopfloor.policies._cpsat import CpSatPolicy
from shopfloor.policies._inventory import BaseStockPolicy
from shopfloor.policies._modes import TieBreak, choose_candidate, choose_operation
from shopfloor.sim import QUEUE_RULES, DispatchingRule, Factory, choose_job


class PolicyNotApplicableError(ValueError):
    """A policy was bound to an environment whose decisions it cannot take."""


@runtime_checkable
class Policy(Protocol):
    """Anything that maps an observation to an action.

    The signature of :mod:`shopfloor.agents`' agents (Stable-Baselines3's ``predict``
    plus the valid-action mask MaskablePPO takes); a runner passes
    ``action_masks=env.action_masks()`` and a policy that does not need it ignores it.
    """

    def predict(
        self,
        observation: Any,
        deterministic: bool = True,
        action_masks: np.ndarray | None = None,
    ) -> tuple[Any, Any]:
        """The action to take, and the recurrent state (``None`` when there is none)."""
        ...


@runtime_checkable
class BindablePolicy(Policy, Protocol):
    """A policy that reads the factory: bind it to its environment before predicting."""

    def bind(self, env: gym.Env[Any, Any]) -> BindablePolicy:
        """Act in ``env`` (possibly wrapped) from now on; returns the policy itself."""
        ...


def bind_policy(policy: Policy, env: gym.Env[Any, Any]) -> Policy:
    """Bind ``policy`` to ``env`` if it needs the factory; return it."""
    if isinstance(policy, BindablePolicy):
        policy.bind(env)
    return policy


_Bound = TypeVar("_Bound", bound="_FactoryPolicy")


_DECISIONS = {
    Decisions.JOBS: "choose the job to start",
    Decisions.RULES_OR_SLOTS: "choose a dispatching rule or a queued job",
    Decisions.PRODUCTION: "choose what to produce (its dispatching is fixed FIFO)",
}
_POLICY_ACTS = {"rule": "dispatches jobs", "inventory": "chooses what to produce"}
_POLICY_KINDS = {
    "rule": "a dispatching rule",
    "inventory": "InventoryPolicy ('basestock')",
    "random": "RandomPolicy ('random')",
}


class _FactoryPolicy:
    """Shared binding: the unwrapped shopfloor env, checked against what the policy takes.

    What a policy may do in an env is its family's (:data:`~shopfloor.envs.FAMILIES`):
    which policy kinds act in it (``policies``) and what its actions decide.
    """

    _env: FactoryEnv | None = None
    _family: EnvFamily | None = None
    kind = ""
    """The policy kind a family lists in ``policies`` when this policy acts in it."""

    def bind(self: _Bound, env: gym.Env[Any, Any]) -> _Bound:
        """Act in ``env`` from now on (wrappers are looked through).

        Raises:
            PolicyNotApplicableError: ``env`` is not a shopfloor environment this
                policy can act in.
        """
        unwrapped = env.unwrapped
        family = family_of(env)
        if not isinstance(unwrapped, FactoryEnv) or family is None:
            raise PolicyNotApplicableError(
                f"{self!r} acts in shopfloor environments, not {type(unwrapped).__name__}"
            )
        if self.kind and self.kind not in family.policies:
            fitting = " or ".join(_POLICY_KINDS.get(kind, kind) for kind in family.policies)
            raise PolicyNotApplicableError(
                f"{self!r} {_POLICY_ACTS.get(self.kind, 'acts')}, but {family.name}'s actions "
                f"{_DECISIONS[family.decisions]}; use {fitting}"
            )
        self._check(unwrapped, family)
        self._env, self._family = unwrapped, family
        return self

    def _check(self, env: FactoryEnv, family: EnvFamily) -> None:
        """Raise :class:`PolicyNotApplicableError` if the policy cannot act in ``env``."""

    def _bound(self) -> tuple[FactoryEnv, Factory]:
        env = self._env
        if env is None:
            raise RuntimeError(f"{self!r} is not bound: call bind(env) before predict()")
        factory = env.factory
        if factory.done:
            raise RuntimeError("the episode is over; reset the environment")
        return env, factory


class RulePolicy(_FactoryPolicy):
    """A dispatching rule acting through an environment's actions.

    Args:
        rule: The rule (a :class:`~shopfloor.sim.DispatchingRule` or its name).
        tie_break: Who wins a tie. ``None`` (the default) follows the environment:
            the lowest job index in ``JobShop`` (as job-shop-lib), the earliest
            arrival at the queue in ``DynamicJobShop`` (as its rule mode).
        seed: Seed of the generator of the random rule.
    """

    def __init__(
        self,
        rule: DispatchingRule | str,
        tie_break: TieBreak | str | None = None,
        seed: int | None = 0,
    ):
        self.rule = DispatchingRule.parse(rule)
        self.tie_break = None if tie_break is None else TieBreak.parse(tie_break)
        self.seed = seed
        self._rng = np.random.default_rng(seed)

    kind = "rule"

    def __repr__(self) -> str:
        tie = f", tie_break={self.tie_break.value!r}" if self.tie_break else ""
        return f"RulePolicy({self.rule.value!r}{tie})"

    def _check(self, env: FactoryEnv, family: EnvFamily) -> None:
        shop: Any = env  # the family says which attributes it has
        if family.decisions is Decisions.RULES_OR_SLOTS:
            if shop.action_mode == family.rule_mode_option and self.rule not in shop.rules:
                rules = ", ".join(rule.value for rule in shop.rules)
                raise PolicyNotApplicableError(
                    f"{self!r}: the environment's rule mode offers {rules}; build it with "
                    f"rules=[{self.rule.value!r}] or use action_mode='job'"
                )
        elif family.decisions is not Decisions.JOBS:
            raise PolicyNotApplicableError(f"{self!r} does not know the actions of {family.name}")
        elif shop.mode != "non_delay" and self.rule in QUEUE_RULES:
            raise PolicyNotApplicableError(
                f"{self!r} ranks one machine's queue at the current time; {family.name}'s "
                f"{shop.mode} mode has neither (use mode='non_delay')"
            )

    def predict(
        self,
        observation: Any,
        deterministic: bool = True,
        action_masks: np.ndarray | None = None,
    ) -> tuple[np.int64, None]:
        """The action the rule takes now (``observation`` is not used)."""
        bound, factory = self._bound()
        env: Any = bound
        if self._family is not None and self._family.decisions is Decisions.RULES_OR_SLOTS:
            return np.int64(self._dynamic_action(env, factory)), None
        if env.tracker is not None:
            job, machine = choose_candidate(
                env.tracker, self.rule, tie_break=self.tie_break or TieBreak.JOB, rng=self._rng
            )
            return np.int64(env.encode_action(job, machine)), None
        return np.int64(self._job_shop_action(factory)), None

    def _job_shop_action(self, factory: Factory) -> int:
        tie_break = self.tie_break or TieBreak.JOB
        if self.rule in QUEUE_RULES:
            machine = factory.decision_machine()
            jobs = factory.queue(machine)
            ordered = sorted(jobs) if tie_break is TieBreak.JOB else list(jobs)
            return choose_job(self.rule, factory, machine, ordered, self._rng)
        # A job waiting at several free machines starts on the lowest-index one (what
        # JobShopEnv does with the job), so rank each job at that machine only.
        candidates: dict[int, tuple[int, int]] = {}
        for job, machine in factory.ready_operations():
            candidates.setdefault(job, (job, machine))
        job, _ = choose_operation(
            factory, self.rule, list(candidates.values()), tie_break=tie_break, rng=self._rng
        )
        return job

    def _dynamic_action(self, env: Any, factory: Factory) -> int:
        if env.action_mode == "rule":
            return env.rules.index(self.rule)
        machine = factory.decision_machine()
        visible = factory.queue(machine)[: env.slots]
        ordered = sorted(visible) if self.tie_break is TieBreak.JOB else list(visible)
        return visible.index(choose_job(self.rule, factory, machine, ordered, self._rng))


class InventoryPolicy(_FactoryPolicy):
    """A make-to-stock heuristic acting through ``ProductionInventory``'s actions.

    Maps the heuristic's ``(product, lot size)`` to action
    ``product * n_lot_sizes + lot index`` and its ``None`` to the last action (idle).

    Args:
        heuristic: The production heuristic (a default :class:`BaseStockPolicy`).
    """

    def __init__(self, heuristic: BaseStockPolicy | None = None):
        self.heuristic = heuristic or BaseStockPolicy()

    kind = "inventory"

    def __repr__(self) -> str:
        return f"InventoryPolicy({self.heuristic!r})"

    def _check(self, env: FactoryEnv, family: EnvFamily) -> None:
        if family.decisions is not Decisions.PRODUCTION:
            raise PolicyNotApplicableError(
                f"{self!r} chooses what to produce; {family.name} has no "
                "production choices (use a dispatching rule)"
            )

    def predict(
        self,
        observation: Any,
        deterministic: bool = True,
        action_masks: np.ndarray | None = None,
    ) -> tuple[np.int64, None]:
        """The production action the heuristic takes now (``observation`` is not used)."""
        bound, factory = self._bound()
        env: Any = bound  # a PRODUCTION family's env (checked at bind)
        lot_sizes = list(env.lot_sizes)
        choice = self.heuristic.choose(factory)
        if choice is None:
            return np.int64(env.n_products * len(lot_sizes)), None
        product, lot = choice
        return np.int64(product * len(lot_sizes) + lot_sizes.index(lot)), None


class RandomPolicy(_FactoryPolicy):
    """Uniformly random among the actions valid now (``action_masks()``).

    In ``JobShop`` that is a random waiting job; in ``DynamicJobShop`` a random rule
    (rule mode) or waiting job (job mode); in ``ProductionInventory`` a random
    production choice. Bind it, or pass ``action_masks`` to ``predict``.

    Args:
        seed: Seed of the policy's own generator.
    """

    def __init__(self, seed: int | None = 0):
        self.seed = seed
        self._rng = np.random.default_rng(seed)

    kind = "random"

    def __repr__(self) -> str:
        return f"RandomPolicy(seed={self.seed})"

    def predict(
        self,
        observation: Any,
        deterministic: bool = True,
        action_masks: np.ndarray | None = None,
    ) -> tuple[np.int64, None]:
        """A random valid action (``deterministic`` does not make it deterministic).

        The valid actions are ``action_masks`` when given (no binding needed), else the
        bound environment's.
        """
        if action_masks is None:
            env, _ = self._bound()
            action_masks = env.action_masks()
        valid = np.flatnonzero(action_masks)
        if valid.size == 0:
            raise ValueError("no valid action: the mask is all False")
        return np.int64(valid[int(self._rng.integers(len(valid)))]), None


INVENTORY_POLICIES = ("basestock",)
SOLVERS = ("cpsat",)

PolicyResolver = Callable[[str, int | None], Policy]
"""Builds the policy ``<prefix>:<rest>`` names, from ``rest`` and the seed."""
_PREFIXES: dict[str, PolicyResolver] = {}
_PREFIX_PROVIDERS = {"pretrained": "shopfloor.agents"}
"""Prefixes a package above this layer registers when imported (for the message)."""


def register_policy_prefix(prefix: str, resolve: PolicyResolver) -> None:
    """Let :func:`make_policy` build ``<prefix>:<rest>`` names with ``resolve``.

    Policies sit below the agents in the layers (DESIGN.md), so this module never
    imports :mod:`shopfloor.agents`; instead the agents register what they offer when
    they are imported (``pretrained:<name>``, the shipped neural schedulers), as
    Gymnasium's ids are registered by the package that defines the env.

    Args:
        prefix: The name's part before the first colon (case-insensitive).
        resolve: Called with the part after the colon and the seed.
    """
    _PREFIXES[prefix.strip().lower()] = resolve


def policy_names() -> list[str]:
    """Every name :func:`make_policy` knows (a saved agent's path aside)."""
    rules = [rule.value for rule in DispatchingRule]
    return [*rules, *INVENTORY_POLICIES, *SOLVERS]


def make_policy(
    name: str | os.PathLike[str],
    *,
    seed: int | None = 0,
    time_limit: float = 10.0,
) -> Policy | CpSatPolicy:
    """Build a policy by name.

    Args:
        name: A dispatching rule (``"spt"``, ``"mwkr"``, ``"atc"`` ...), ``"random"``
            (:class:`RandomPolicy`), ``"basestock"`` (:class:`InventoryPolicy` over a
            default :class:`BaseStockPolicy`), ``"cpsat"`` (a single-thread
            :class:`CpSatPolicy` whose solver seed is ``seed``), or ``<prefix>:<rest>``
            for a prefix registered with :func:`register_policy_prefix` (importing
            :mod:`shopfloor.agents` registers ``pretrained:<name>``, a shipped neural
            scheduler). A name wins over a file of the same name; saved agents are
            loaded elsewhere (see Raises).
        seed: Seed of the policy's randomness (random rule, CP-SAT search).
        time_limit: CP-SAT's seconds per solve.

    Returns:
        The policy (a :class:`CpSatPolicy` is not a :class:`Policy`; see the module
        docstring).

    Raises:
        NotImplementedError: ``name`` is no policy name but a file or directory (a
            saved agent: :func:`shopfloor.agents.load_agent`, or ``bench`` and
            :func:`~shopfloor.experiments.evaluate_episode` with its run folder).
        ValueError: ``name`` is unknown.
    """
    text = os.fspath(name)
    key = text.strip().lower()  # a policy name wins over a file of that name
    prefix, colon, rest = text.strip().partition(":")
    if colon and prefix.lower() in _PREFIXES:
        return _PREFIXES[prefix.lower()](rest, seed)
    if colon and prefix.lower() in _PREFIX_PROVIDERS:
        package = _PREFIX_PROVIDERS[prefix.lower()]
        raise ValueError(
            f"policy {text!r}: {prefix.lower()}: names are provided by {package}; "
            f"import {package} first"
        )
    if key == "random":
        return RandomPolicy(seed)
    if key == "basestock":
        return InventoryPolicy(BaseStockPolicy())
    if key == "cpsat":
        return CpSatPolicy(time_limit=time_limit, workers=1, seed=seed or 0)
    try:
        rule = DispatchingRule.parse(key)
    except ValueError:
        if os.path.exists(text):
            raise NotImplementedError(
                f"{text} is a path: a saved agent is loaded by shopfloor.agents.load_agent, "
                "or by bench and evaluate_episode from its run folder"
            ) from None
        prefixes = "".join(f", {prefix}:<name>" for prefix in sorted(_PREFIXES))
        raise ValueError(
            f"unknown policy {text!r}; choose from {', '.join(policy_names())}{prefixes} "
            "(or give the path of a saved agent)"
        ) from None
    return RulePolicy(rule, seed=seed)
