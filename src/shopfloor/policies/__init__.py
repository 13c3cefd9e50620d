"""Non-learning policies: dispatching rules and make-to-stock heuristics."""

from shopfloor.policies._inventory import BaseStockPolicy
from shopfloor.policies._rules import DispatchingRule, choose_job
from shopfloor.policies._simulate import run_factory, simulate

__all__ = ["BaseStockPolicy", "DispatchingRule", "choose_job", "run_factory", "simulate"]
