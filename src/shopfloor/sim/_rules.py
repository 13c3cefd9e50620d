"""Priority dispatching rules.

A rule ranks the jobs waiting at a machine; the highest priority starts. Ties go to the
job that joined the queue first. The rules read the factory's state directly:
processing time of the next operation ``p``, work remaining ``W`` (including ``p``),
operations remaining, due date ``d``, weight ``w`` and the clock ``t``.

Sources: Panwalkar & Iskander (1977), "A survey of scheduling rules", Operations
Research 25(1); ATC from Vepsalainen & Morton (1987), Management Science 33(8).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from enum import Enum

import numpy as np

from shopfloor.sim._factory import Factory

Priority = Callable[[Factory, int, int], float]


class DispatchingRule(str, Enum):
    """The dispatching rules, by their usual abbreviations."""

    FIFO = "fifo"
    """First in, first out: earliest arrival at the queue."""
    SPT = "spt"
    """Shortest processing time of the next operation."""
    LPT = "lpt"
    """Longest processing time of the next operation."""
    MWKR = "mwkr"
    """Most work remaining (Panwalkar & Iskander 1977)."""
    LWKR = "lwkr"
    """Least work remaining."""
    MOPNR = "mopnr"
    """Most operations remaining."""
    EDD = "edd"
    """Earliest due date (Jackson 1955)."""
    CR = "cr"
    """Smallest critical ratio (d - t) / W (Berry & Rao 1975)."""
    ATC = "atc"
    """Apparent tardiness cost (Vepsalainen & Morton 1987), look-ahead k = 2, with the
    single-machine slack d - p - t."""
    ATCJS = "atcjs"
    """ATC with Vepsalainen & Morton's job-shop slack d - t - W (W: the work left,
    this operation's included; no waiting-time estimates), look-ahead k = 2."""
    WSPT = "wspt"
    """Weighted shortest processing time, largest w / p (Smith 1956)."""
    SLACK = "slack"
    """Minimum slack d - t - W."""
    RANDOM = "random"
    """Uniformly random (the baseline every policy must beat)."""

    @classmethod
    def parse(cls, name: str | DispatchingRule) -> DispatchingRule:
        """Resolve a rule by name, case-insensitively, with a clear error."""
        if isinstance(name, DispatchingRule):
            return name
        if not isinstance(name, str):
            valid = ", ".join(rule.value for rule in cls)
            raise ValueError(
                f"a dispatching rule is a name, got {str(name)[:40]!r}; choose from {valid}"
            )
        try:
            return cls(name.strip().lower())
        except ValueError:
            valid = ", ".join(rule.value for rule in cls)
            raise ValueError(f"unknown dispatching rule {name!r}; choose from {valid}") from None


ATC_LOOKAHEAD = 2.0
QUEUE_RULES = frozenset({DispatchingRule.ATC, DispatchingRule.ATCJS})
"""Rules that rank one machine's queue (their index needs the queue's mean time)."""


def _fifo(factory: Factory, job: int, machine: int) -> float:
    return -factory.queued_since(job)


def _spt(factory: Factory, job: int, machine: int) -> float:
    return -factory.operation_time(job, machine)


def _lpt(factory: Factory, job: int, machine: int) -> float:
    return factory.operation_time(job, machine)


def _mwkr(factory: Factory, job: int, machine: int) -> float:
    return factory.work_remaining(job)


def _lwkr(factory: Factory, job: int, machine: int) -> float:
    return -factory.work_remaining(job)


def _mopnr(factory: Factory, job: int, machine: int) -> float:
    return factory.operations_remaining(job)


def _edd(factory: Factory, job: int, machine: int) -> float:
    return -factory.due_date(job)


def _cr(factory: Factory, job: int, machine: int) -> float:
    work = max(factory.work_remaining(job), 1e-9)
    return -(factory.due_date(job) - factory.now) / work


def _wspt(factory: Factory, job: int, machine: int) -> float:
    return factory.weight(job) / max(factory.operation_time(job, machine), 1e-9)


def _slack(factory: Factory, job: int, machine: int) -> float:
    return -(factory.due_date(job) - factory.now - factory.work_remaining(job))


PRIORITIES: dict[DispatchingRule, Priority] = {
    DispatchingRule.FIFO: _fifo,
    DispatchingRule.SPT: _spt,
    DispatchingRule.LPT: _lpt,
    DispatchingRule.MWKR: _mwkr,
    DispatchingRule.LWKR: _lwkr,
    DispatchingRule.MOPNR: _mopnr,
    DispatchingRule.EDD: _edd,
    DispatchingRule.CR: _cr,
    DispatchingRule.WSPT: _wspt,
    DispatchingRule.SLACK: _slack,
}


def atc_log_indices(
    factory: Factory,
    machine: int,
    candidates: Sequence[int],
    job_shop_slack: bool = False,
    times: Sequence[float] | None = None,
) -> list[float]:
    """Log of each candidate's ATC index (w / p) exp(-max(slack, 0) / (k * p_mean)).

    ``k`` is :data:`ATC_LOOKAHEAD`, ``p_mean`` the candidates' mean processing time, the
    slack ``d - p - t`` or, with ``job_shop_slack``, ``d - t - W`` (W: work left).
    Logs, because the index of a job with ample slack underflows to 0. A job without a
    due date has no urgency discount, so with no due dates ATC is WSPT. ``times``: the
    candidates' processing times on ``machine``, if the caller has them.
    """
    if times is None:
        times = [factory.operation_time(job, machine) for job in candidates]
    scale = ATC_LOOKAHEAD * max(sum(times) / len(times), 1e-9)
    now = factory.now
    indices = []
    for job, p in zip(candidates, times, strict=True):
        work = factory.work_remaining(job) if job_shop_slack else p
        slack = factory.due_date(job) - work - now
        exponent = -max(slack, 0.0) / scale if math.isfinite(slack) else 0.0
        weight = factory.weight(job)
        log_ratio = math.log(weight / max(p, 1e-9)) if weight > 0 else -math.inf
        indices.append(log_ratio + exponent)
    return indices


def _atc_choice(
    factory: Factory, machine: int, candidates: Sequence[int], job_shop_slack: bool = False
) -> int:
    indices = atc_log_indices(factory, machine, candidates, job_shop_slack)
    return candidates[max(range(len(candidates)), key=indices.__getitem__)]


def choose_job(
    rule: DispatchingRule,
    factory: Factory,
    machine: int,
    candidates: Sequence[int],
    rng: np.random.Generator | None = None,
) -> int:
    """Pick the job ``rule`` starts next on ``machine``.

    Args:
        rule: The dispatching rule.
        factory: The factory, at a dispatch decision.
        machine: The machine choosing.
        candidates: Jobs that can start there (non-empty).
        rng: Generator for :attr:`DispatchingRule.RANDOM`.

    Returns:
        The chosen job; ties go to the earlier candidate.
    """
    if len(candidates) == 1:
        return candidates[0]
    if rule is DispatchingRule.RANDOM:
        if rng is None:
            raise ValueError("the random rule needs a seeded numpy Generator")
        return candidates[int(rng.integers(len(candidates)))]
    if rule in QUEUE_RULES:
        return _atc_choice(factory, machine, candidates, rule is DispatchingRule.ATCJS)
    fast = _FAST_CHOICES.get(rule)
    if fast is not None:
        return fast(factory, machine, candidates)
    priority = PRIORITIES[rule]
    return max(candidates, key=lambda job: priority(factory, job, machine))


# The choice of the common rules without a priority call per candidate: the same job as
# ``max(candidates, key=priority)``, the first candidate of the highest priority. A
# priority of ``-x`` is highest where ``x`` is lowest, and ``min`` keeps the first of
# equal keys as ``max`` does (``-a > -b`` exactly when ``a < b``, NaN included), so
# ``min(candidates, key=x)`` is that job. The keys are read from the factory's own
# tables (this module is the factory's package).


def _fifo_choice(factory: Factory, machine: int, candidates: Sequence[int]) -> int:
    return min(candidates, key=factory._job_queued_at.__getitem__)


def _by_operation_time(
    factory: Factory, machine: int, candidates: Sequence[int], longest: bool
) -> int:
    """The first candidate with the shortest (``longest``: longest) next operation."""
    steps, machines, times = factory._job_next, factory._job_machines, factory._job_times
    chosen, best = -1, 0.0
    for job in candidates:  # min/max with a key, unrolled: no call per candidate
        step = steps[job]
        options = times[job][step]
        time = options[0] if len(options) == 1 else options[machines[job][step].index(machine)]
        if chosen < 0 or (time > best if longest else time < best):
            chosen, best = job, time
    return chosen


def _spt_choice(factory: Factory, machine: int, candidates: Sequence[int]) -> int:
    return _by_operation_time(factory, machine, candidates, longest=False)


def _lpt_choice(factory: Factory, machine: int, candidates: Sequence[int]) -> int:
    return _by_operation_time(factory, machine, candidates, longest=True)


def _mwkr_choice(factory: Factory, machine: int, candidates: Sequence[int]) -> int:
    return max(candidates, key=factory._job_work_left.__getitem__)


def _lwkr_choice(factory: Factory, machine: int, candidates: Sequence[int]) -> int:
    return min(candidates, key=factory._job_work_left.__getitem__)


def _edd_choice(factory: Factory, machine: int, candidates: Sequence[int]) -> int:
    return min(candidates, key=factory._job_due.__getitem__)


_FAST_CHOICES: dict[DispatchingRule, Callable[[Factory, int, Sequence[int]], int]] = {
    DispatchingRule.FIFO: _fifo_choice,
    DispatchingRule.SPT: _spt_choice,
    DispatchingRule.LPT: _lpt_choice,
    DispatchingRule.MWKR: _mwkr_choice,
    DispatchingRule.LWKR: _lwkr_choice,
    DispatchingRule.EDD: _edd_choice,
}
