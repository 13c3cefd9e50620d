"""Decision modes: how the dispatch choices due at one instant are taken.

The factory raises dispatch choices machine by machine, and a priority rule can take
them in two ways:

* **machine by machine** (:func:`dispatch_by_machine`, the mode of
  :func:`~shopfloor.policies.run_factory`): the lowest-index due machine picks a job
  from its own queue, then the next due machine, and so on;
* **earliest first** (:func:`dispatch_earliest`): every ``(job, machine)`` pair that
  can start now, over all due machines, is one candidate set; the rule picks the best
  pair, it starts, and the set is rebuilt. This is the candidate set of
  job-shop-lib's ``DispatchingRuleSolver`` with its default ready-operation filters
  (dominated and non-immediate operations), "the operations that can start at the
  earliest time" (Giffler & Thompson 1960 restricted to non-delay schedules).

In a classic job shop both modes build the same schedule: each job waits in one queue
only, and starting a job on one machine changes neither the candidates nor the
priorities on another. They differ in a flexible shop, where a job waits at several
machines and the global choice decides where it goes.

What does change a schedule is how ties are broken (:class:`TieBreak`). Priority rules
tie often: most operations remaining ties on most choices of a Taillard instance. The
native rules give a tie to the job that joined the queue first; job-shop-lib gives it
to the lowest job index (it lists ready operations by job and keeps the first best).
With ``TieBreak.JOB`` both modes reproduce job-shop-lib 1.7.2's dispatching-rule
makespans for SPT, LPT, MWKR and MOPNR exactly (its "first come first served" is not
our FIFO: it ranks by position in the job, see ``tests/policies/test_rule_gaps.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum

import numpy as np

from shopfloor.policies._inventory import BaseStockPolicy
from shopfloor.sim import Factory
from shopfloor.sim._rules import PRIORITIES, QUEUE_RULES, DispatchingRule, choose_job


class TieBreak(str, Enum):
    """Which candidate wins when the rule's priorities are equal."""

    QUEUE = "queue"
    """The job that joined the queue first (then the lower machine index)."""
    JOB = "job"
    """The lowest job index (then the lower machine index), as job-shop-lib does."""

    @classmethod
    def parse(cls, name: str | TieBreak) -> TieBreak:
        """Resolve a tie-break by name, with a clear error."""
        if isinstance(name, TieBreak):
            return name
        try:
            return cls(name.strip().lower())
        except ValueError:
            valid = ", ".join(item.value for item in cls)
            raise ValueError(f"unknown tie-break {name!r}; choose from {valid}") from None


def dispatch_by_machine(
    factory: Factory,
    rule: DispatchingRule | str = DispatchingRule.FIFO,
    *,
    tie_break: TieBreak | str = TieBreak.QUEUE,
    rule_seed: int | None = None,
    production: BaseStockPolicy | None = None,
) -> Factory:
    """Drive ``factory`` to the end, one due machine at a time.

    With ``tie_break="queue"`` this is exactly :func:`~shopfloor.policies.run_factory`.

    Args:
        factory: A factory, usually freshly reset.
        rule: The dispatching rule.
        tie_break: Who wins a tie.
        rule_seed: Seed of the random rule's generator (defaults to the factory's seed).
        production: Policy for make-to-stock production choices.

    Returns:
        The same factory, finished.
    """
    rule = DispatchingRule.parse(rule)
    by_job = TieBreak.parse(tie_break) is TieBreak.JOB
    production = production or BaseStockPolicy()
    rng = np.random.default_rng(factory.seed if rule_seed is None else rule_seed)
    while factory.next_decision():
        if factory.decision_kind() != "dispatch":
            _produce(factory, production)
            continue
        machine = factory.decision_machine()
        candidates = factory.queue(machine)
        if by_job:
            candidates = sorted(candidates)
        factory.start(choose_job(rule, factory, machine, candidates, rng), machine)
    return factory


def dispatch_earliest(
    factory: Factory,
    rule: DispatchingRule | str = DispatchingRule.FIFO,
    *,
    tie_break: TieBreak | str = TieBreak.JOB,
    rule_seed: int | None = None,
    production: BaseStockPolicy | None = None,
) -> Factory:
    """Drive ``factory`` to the end, choosing among all operations that can start now.

    At each decision instant the candidates are all ``(job, machine)`` pairs of
    :meth:`~shopfloor.sim.Factory.ready_operations`; the rule's priority is evaluated
    per pair and the best pair starts. ATC and ATCJS are not offered: their look-ahead scale is
    the mean processing time of one machine's queue.

    Args:
        factory: A factory, usually freshly reset.
        rule: The dispatching rule (any but ATC and ATCJS).
        tie_break: Who wins a tie; the default follows job-shop-lib.
        rule_seed: Seed of the random rule's generator (defaults to the factory's seed).
        production: Policy for make-to-stock production choices.

    Returns:
        The same factory, finished.

    Raises:
        ValueError: ``rule`` is ATC or ATCJS.
    """
    rule = DispatchingRule.parse(rule)
    if rule in QUEUE_RULES:
        raise ValueError(
            f"{rule.value.upper()} ranks one machine's queue; use dispatch_by_machine for it"
        )
    tie_break = TieBreak.parse(tie_break)
    production = production or BaseStockPolicy()
    rng = np.random.default_rng(factory.seed if rule_seed is None else rule_seed)
    while factory.next_decision():
        if factory.decision_kind() != "dispatch":
            _produce(factory, production)
            continue
        job, machine = choose_operation(
            factory, rule, factory.ready_operations(), tie_break=tie_break, rng=rng
        )
        factory.start(job, machine)
    return factory


def choose_operation(
    factory: Factory,
    rule: DispatchingRule | str,
    candidates: Sequence[tuple[int, int]],
    *,
    tie_break: TieBreak | str = TieBreak.JOB,
    rng: np.random.Generator | None = None,
) -> tuple[int, int]:
    """Pick the ``(job, machine)`` pair ``rule`` starts among ``candidates``.

    The choice of :func:`dispatch_earliest` at one instant, for anyone holding a set of
    ready pairs (the job-shop environment's policies too).

    Args:
        factory: The factory, at a dispatch decision.
        rule: The dispatching rule (any but ATC and ATCJS, which rank one machine's queue).
        candidates: Pairs that can start now (non-empty), in
            :meth:`~shopfloor.sim.Factory.ready_operations` order.
        tie_break: Who wins a tie.
        rng: Generator for :attr:`~shopfloor.sim.DispatchingRule.RANDOM`.

    Returns:
        The chosen pair.

    Raises:
        ValueError: ``rule`` is ATC or ATCJS, or the random rule has no generator.
    """
    rule = DispatchingRule.parse(rule)
    if rule in QUEUE_RULES:
        raise ValueError(
            f"{rule.value.upper()} ranks one machine's queue; choose among one machine's jobs"
        )
    if TieBreak.parse(tie_break) is TieBreak.JOB:
        ordered = sorted(candidates)
    else:  # stable: equal arrival times keep machine, then queue order
        ordered = sorted(candidates, key=lambda pair: factory.queued_since(pair[0]))
    priority = PRIORITIES.get(rule)
    if priority is None:  # the random rule
        if rng is None:
            raise ValueError("the random rule needs a seeded numpy Generator")
        return ordered[int(rng.integers(len(ordered)))]
    return max(ordered, key=lambda pair: priority(factory, *pair))


def _produce(factory: Factory, production: BaseStockPolicy) -> None:
    """Take a make-to-stock production choice with ``production``."""
    choice = production.choose(factory)
    if choice is None:
        factory.idle()
    else:
        factory.produce(*choice)
