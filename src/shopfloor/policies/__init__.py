"""Non-learning policies: dispatching rules, make-to-stock heuristics, CP-SAT reference.

The rules themselves are defined with the factory (``shopfloor.sim``), because the
rule-choice environments apply them; they are re-exported here with the rest.
:func:`make_policy` builds any of them by name as a :class:`Policy`: bound to an
environment, it answers the ``predict`` call learned agents answer.
"""

from shopfloor.policies._cpsat import CpSatPolicy, CpSatSchedule, replay_schedule, solve_cpsat
from shopfloor.policies._inventory import BaseStockPolicy
from shopfloor.policies._modes import (
    TieBreak,
    choose_candidate,
    choose_operation,
    dispatch_by_machine,
    dispatch_earliest,
    dispatch_in_mode,
)
from shopfloor.policies._predict import (
    BindablePolicy,
    InventoryPolicy,
    Policy,
    PolicyNotApplicableError,
    RandomPolicy,
    RulePolicy,
    bind_policy,
    make_policy,
    policy_names,
    register_policy_prefix,
)
from shopfloor.policies._simulate import run_factory, simulate
from shopfloor.sim import DispatchingRule, choose_job

__all__ = [
    "BaseStockPolicy",
    "BindablePolicy",
    "CpSatPolicy",
    "CpSatSchedule",
    "DispatchingRule",
    "InventoryPolicy",
    "Policy",
    "PolicyNotApplicableError",
    "RandomPolicy",
    "RulePolicy",
    "TieBreak",
    "bind_policy",
    "choose_candidate",
    "choose_job",
    "choose_operation",
    "dispatch_by_machine",
    "dispatch_earliest",
    "dispatch_in_mode",
    "make_policy",
    "policy_names",
    "register_policy_prefix",
    "replay_schedule",
    "run_factory",
    "simulate",
    "solve_cpsat",
]
