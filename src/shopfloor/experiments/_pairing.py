"""Which policy runs on which target, in which environment.

A policy is named (:func:`~shopfloor.policies.make_policy`), is a run folder of a
saved agent (:class:`~shopfloor.experiments.SavedAgent`) or is ``batch-random``
(:data:`BATCH_RANDOM`). :func:`make_env` builds the env it acts in on a target and
:func:`check_applicable` says, before anything runs, why a combination cannot run
(a rule on a make-to-stock scenario, CP-SAT on a dynamic shop, a saved agent trained
on another env family or on observations or actions of other sizes).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
from gymnasium import spaces

from shopfloor.experiments._saved import SavedAgent, is_run_folder
from shopfloor.experiments._targets import BenchTarget, static_instance
from shopfloor.experiments._train import make_env_factory
from shopfloor.policies import (
    CpSatPolicy,
    PolicyNotApplicableError,
    RulePolicy,
    bind_policy,
    make_policy,
)

BATCH_RANDOM = "batch-random"
"""The bench's name of random schedules sampled in the batched core (static instances).

Not the ``random`` policy: with ``--samples N`` its N schedules are built in one
:class:`~shopfloor.batch.BatchJobShop` (or :class:`~shopfloor.batch.BatchFlexibleJobShop`)
call, as :func:`~shopfloor.batch.sample_schedules` builds them (uniformly random
candidates, the generator seeded with :func:`policy_seed`), and the best is kept. Its
numbers are those of the core's random stream, not of ``random``'s env episodes, and in
a flexible ``non_delay`` shop it draws among ``(job, machine)`` pairs where ``random``
draws among jobs.
"""


@dataclass(frozen=True)
class BatchRandomSchedules:
    """Best of N random schedules of a static instance, sampled in the batched core.

    Attributes:
        seed: Seed of the core's generator.
    """

    seed: int | None = 0


def bench_policy(name: str, seed: int | None = 0, time_limit: float = 10.0) -> Any:
    """A policy by name, or the trained agent of a run folder."""
    if is_run_folder(name):
        return SavedAgent(name)
    folder = name.removesuffix(":best")
    if ("/" in name or os.sep in name) and not os.path.exists(folder):
        # a path to nothing: say so, not "unknown policy"
        raise FileNotFoundError(
            f"{folder}: no run folder there (a run folder holds config.yaml; train one with "
            "shopfloor train or shopfloor run)"
        )
    if name.strip().lower() == BATCH_RANDOM:
        return BatchRandomSchedules(seed)
    return make_policy(name, seed=seed, time_limit=time_limit)


def make_env(target: BenchTarget, policy: Any = None, mode: str = "non_delay") -> gym.Env[Any, Any]:
    """The environment ``policy`` is evaluated in on ``target``.

    ``mode`` is a static target's decision mode (``JobShop``'s ``mode``).

    A :class:`~shopfloor.policies.RulePolicy` gets a rule-mode ``DynamicJobShop``
    offering its own rule; a saved agent gets the options of the env it was trained
    in; every other policy gets the family's defaults.

    Raises:
        ValueError: A saved agent that cannot act on ``target``: trained in another
            env family, or on observations or actions of other sizes (the message
            names the run folder, what it was trained on and the target).
    """
    kwargs = target.family.target_kwargs(target.target, target.spec, mode)
    if isinstance(policy, RulePolicy):
        kwargs = target.family.rule_kwargs(kwargs, policy.rule.value)
    if isinstance(policy, SavedAgent):
        if policy.env_id != target.env_id:
            raise ValueError(
                f"{policy.run_dir}: the {policy.algorithm} agent was trained on "
                f"{_trained_on(policy)}; {target.target} is a {target.env_id} target"
            )
        kwargs.update(policy.env_options)  # the agent acts in the env it was trained in
        env = make_env_factory(target.env_id, kwargs)()  # with its forecast, if any
        try:
            _check_spaces(policy, target, env)
        except ValueError:
            env.close()
            raise
        return env
    return gym.make(target.env_id, disable_env_checker=True, **kwargs)


def _actions(space: spaces.Space[Any]) -> str:
    if isinstance(space, spaces.Discrete):
        return f"{int(space.n)} actions"
    return f"actions of shape {space.shape}"


def _trained_on(agent: SavedAgent) -> str:
    """``<env id> (<options>; observations of shape (n,), m actions)``."""
    observations, actions = agent.observation_space, agent.action_space
    options = "".join(f"{key}={value}; " for key, value in agent.env_options.items())
    sizes = f"observations of shape {observations.shape}, {_actions(actions)}"
    return f"{agent.env_id} ({options}{sizes})"


def _check_spaces(agent: SavedAgent, target: BenchTarget, env: gym.Env[Any, Any]) -> None:
    """Raise ``ValueError`` unless ``agent`` reads and answers ``env`` as in training."""
    if agent.acts_on_any_size:
        return  # a JobScoringPolicy scores jobs one by one, whatever the shop's size
    observations, actions = agent.observation_space, agent.action_space
    given = (env.observation_space.shape, _actions(env.action_space))
    if given != (observations.shape, _actions(actions)):
        raise ValueError(
            f"{agent.run_dir}: the {agent.algorithm} agent was trained on "
            f"{_trained_on(agent)}; {target.target} gives observations of shape "
            f"{given[0]} and {given[1]} (only JobScoringPolicy agents act on other shop "
            "sizes)"
        )


def check_batch_random(target: BenchTarget) -> Any:
    """The instance ``batch-random`` samples on ``target``, or an error saying why not."""
    instance = static_instance(target)
    if instance is None:
        raise PolicyNotApplicableError(
            f"{BATCH_RANDOM} samples schedules of benchmark instances (bundled or instance "
            f"files) in the batched core; {target.target!r} is a scenario or dynamic"
        )
    return instance


def check_cpsat(target: BenchTarget) -> None:
    if not target.static:
        raise PolicyNotApplicableError(
            f"CP-SAT solves static job shops; {target.name!r} runs in {target.env_id}"
        )


def check_applicable(policy_name: str, target: BenchTarget, mode: str = "non_delay") -> None:
    """Raise :class:`~shopfloor.policies.PolicyNotApplicableError` if it cannot run.

    Raises:
        PolicyNotApplicableError: The policy cannot act in the target's env.
        ValueError: A saved agent that does not fit the target (see :func:`make_env`).
    """
    policy = bench_policy(policy_name)
    if isinstance(policy, CpSatPolicy):
        check_cpsat(target)
        return
    if isinstance(policy, BatchRandomSchedules):
        check_batch_random(target)
        return
    env = make_env(target, policy, mode)
    try:
        bind_policy(policy, env)
    finally:
        env.close()
