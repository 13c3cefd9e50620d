"""Run a whole episode of the factory under a dispatching rule (and production policy)."""

from __future__ import annotations

from shopfloor.policies._inventory import BaseStockPolicy
from shopfloor.policies._modes import TieBreak, dispatch_by_machine
from shopfloor.sim import DispatchingRule, Factory, FactorySpec


def run_factory(
    factory: Factory,
    rule: DispatchingRule | str = DispatchingRule.FIFO,
    production: BaseStockPolicy | None = None,
    rule_seed: int | None = None,
) -> Factory:
    """Drive ``factory`` from where it stands to the end of the episode.

    Every dispatch choice goes to ``rule`` (machine by machine, lowest index first);
    every production choice goes to ``production`` (a default base-stock policy).

    Args:
        factory: A factory, usually freshly reset.
        rule: The dispatching rule.
        production: Policy for make-to-stock production choices.
        rule_seed: Seed of the random rule's generator (defaults to the factory's seed).

    Returns:
        The same factory, finished.
    """
    return dispatch_by_machine(
        factory, rule, tie_break=TieBreak.QUEUE, rule_seed=rule_seed, production=production
    )


def simulate(
    spec: FactorySpec,
    rule: DispatchingRule | str = DispatchingRule.FIFO,
    seed: int | None = 0,
    *,
    production: BaseStockPolicy | None = None,
    record_events: bool = True,
) -> Factory:
    """Simulate one episode of ``spec`` with ``seed`` under ``rule``.

    Returns:
        The finished factory: read ``kpis()`` and the event log from it.
    """
    factory = Factory(spec, seed=seed, record_events=record_events)
    return run_factory(factory, rule, production)
