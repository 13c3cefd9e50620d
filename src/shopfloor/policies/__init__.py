"""Non-learning policies: dispatching rules, make-to-stock heuristics, CP-SAT reference.

The rules themselves are defined with the factory (``shopfloor.sim``), because the
rule-choice environments apply them; they are re-exported here with the rest.
"""

from shopfloor.policies._cpsat import CpSatPolicy, CpSatSchedule, replay_schedule, solve_cpsat
from shopfloor.policies._inventory import BaseStockPolicy
from shopfloor.policies._modes import TieBreak, dispatch_by_machine, dispatch_earliest
from shopfloor.policies._simulate import run_factory, simulate
from shopfloor.sim import DispatchingRule, choose_job

__all__ = [
    "BaseStockPolicy",
    "CpSatPolicy",
    "CpSatSchedule",
    "DispatchingRule",
    "TieBreak",
    "choose_job",
    "dispatch_by_machine",
    "dispatch_earliest",
    "replay_schedule",
    "run_factory",
    "simulate",
    "solve_cpsat",
]
