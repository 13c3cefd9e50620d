"""choose_job's fast choices pick exactly the job of the rule's priority function.

FIFO, SPT, LPT, MWKR, LWKR and EDD read the factory's tables instead of calling the
priority per candidate; at every decision of random episodes (ties, flexible routings,
several candidate orders) the chosen job must be ``max(candidates, key=priority)``,
the first candidate of the highest priority.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shopfloor.sim import DeadlockError, DispatchingRule, Factory, FactorySpec, choose_job
from shopfloor.sim._rules import _FAST_CHOICES, PRIORITIES

from ._helpers import ft06, job_shop
from ._strategies import factory_specs

FAST_RULES = sorted(_FAST_CHOICES, key=lambda rule: rule.value)


def _by_priority(rule: DispatchingRule, factory: Factory, machine: int, jobs: list[int]) -> int:
    priority = PRIORITIES[rule]
    return max(jobs, key=lambda job: priority(factory, job, machine))


def _check_every_decision(spec: FactorySpec, seed: int) -> int:
    """Drive ``spec`` with random choices, comparing every rule's choice; the count."""
    rng = np.random.default_rng(seed)
    factory = Factory(spec, seed=seed)
    checked = 0
    try:
        while factory.next_decision():
            if factory.decision_kind() != "dispatch":
                factory.idle()
                continue
            machine = factory.decision_machine()
            queue = list(factory.queue(machine))
            for candidates in (factory.queue(machine), sorted(queue), queue[::-1]):
                for rule in FAST_RULES:
                    expected = _by_priority(rule, factory, machine, list(candidates))
                    assert choose_job(rule, factory, machine, candidates) == expected, rule
                    checked += 1
            factory.start(queue[int(rng.integers(len(queue)))], machine)
    except DeadlockError:
        pass
    return checked


def test_the_fast_rules() -> None:
    assert {rule.value for rule in FAST_RULES} == {"fifo", "spt", "lpt", "mwkr", "lwkr", "edd"}


@pytest.mark.parametrize("seed", range(4))
def test_same_choice_on_ft06(seed: int) -> None:
    assert _check_every_decision(ft06(), seed) > 0


def test_same_choice_with_ties() -> None:
    """Equal times and work everywhere: every choice is decided by the ties."""
    spec = job_shop("ties", [[0, 1], [0, 1], [1, 0], [0, 1], [1, 0]], [[2, 2]] * 5)
    assert _check_every_decision(spec, 0) > 0


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=factory_specs(), seed=st.integers(0, 2**16))
def test_same_choice_as_the_priority(spec: FactorySpec, seed: int) -> None:
    _check_every_decision(spec, seed)
