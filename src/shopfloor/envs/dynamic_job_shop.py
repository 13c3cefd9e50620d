"""The dynamic job shop: arrivals, due dates, weights, breakdowns; pick a job or a rule."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from gymnasium import spaces

from shopfloor.envs._base import FactoryEnv
from shopfloor.envs._source import GeneratorSpec
from shopfloor.envs._spaces import MaskedDiscrete
from shopfloor.sim import (
    DispatchingRule,
    Factory,
    FactorySpec,
    atc_log_indices,
    choose_job,
    mean_duration,
)

DEFAULT_RULES = (
    DispatchingRule.FIFO,
    DispatchingRule.SPT,
    DispatchingRule.EDD,
    DispatchingRule.WSPT,
    DispatchingRule.ATC,
    DispatchingRule.CR,
    DispatchingRule.SLACK,
)
GLOBAL_FEATURES = 8
SLOT_FEATURES = 13
ATC = 7
"""Slot feature: the job's ATC index over the queue's highest (1 for ATC's pick)."""
ATCJS = 12
"""Slot feature: the same for ATCJS (ATC with the job-shop slack d - t - work left)."""
OBJECTIVES = ("weighted_tardiness", "weighted_flow_time")


class DynamicJobShopEnv(FactoryEnv):
    """## Description

    A dynamic job shop: jobs arrive at random with due dates and weights, machines break
    down and are repaired, setups and raw materials may apply (all from the scenario).
    Whenever a machine is idle with jobs waiting, the agent makes its choice for that
    machine (machine by machine, the lowest index first when several are free at once).
    Choices with a single waiting job are taken automatically. An episode in which no
    choice ever has two waiting jobs (a tiny or very light shop) is already over when
    ``reset`` returns: ``env.unwrapped.factory.done`` is then true and ``step`` raises.

    ## Action Space

    * `action_mode="rule"` (default): `Discrete(len(rules))`, the dispatching rule that
      picks the job (default rules: FIFO, SPT, EDD, WSPT, ATC, CR, SLACK). Every action
      is always valid, which suits tabular Q-learning and DQN.
    * `action_mode="job"`: `Discrete(slots)`, the waiting job in that slot; slots hold
      the machine's queue in arrival order (the first `slots` jobs). Slots beyond the
      queue are invalid (`action_masks()`); choosing one raises `InvalidActionError`.

    ## Observation Space

    `Box(-1, 1, (8 + n_machines + 13 * slots,), float32)`, plus `13 * len(rules)` with
    `rule_candidates=True`. Times are divided by the mean
    operation time `p` of the scenario, then squashed with `tanh(x / 10)` where noted.
    Slack is `d - now - work left` unless said otherwise.

    | index | feature |
    |---|---|
    | 0 | jobs in the system / (machines * slots), clipped to 1 |
    | 1 | share of machines busy |
    | 2 | share of machines down |
    | 3 | jobs waiting at this machine / slots, clipped to 1 |
    | 4 | share of the waiting jobs already late |
    | 5 | tanh(mean slack of the waiting jobs / 10p) |
    | 6 | tanh(min slack of the waiting jobs / 10p) |
    | 7 | mean processing time here of the waiting jobs / (4p), clipped to 1 |
    | 8 .. 8+n_machines-1 | one-hot of the machine choosing |

    Then 13 values per slot, from index 8 + n_machines (zeros for an empty slot):

    | slot feature | value |
    |---|---|
    | 0 | 1: a job is there |
    | 1 | its operation time here / 4p, clipped to 1 |
    | 2 | tanh(slack / 10p) |
    | 3 | weight / the largest weight |
    | 4 | tanh(work remaining / 10p) |
    | 5 | operations remaining / the most any routing has |
    | 6 | tanh(time waiting / 10p) |
    | 7 (`ATC`) | ATC index / the queue's highest (1 for ATC's pick) |
    | 8 | tanh(ATC's slack d - now - operation time / 10p) |
    | 9 | setup time here / 4p, clipped to 1 |
    | 10 | tanh(work at and left on its following operation's machine / 10p); 0 if none |
    | 11 | 1 if that machine is up, idle and has nothing waiting |
    | 12 (`ATCJS`) | ATCJS index / the queue's highest |

    With `rule_candidates=True` (rule mode, without the `random` rule) 13 more values
    per rule follow, in the order of `rules`: the slot features above of the job that
    rule would start now, wherever it is in the queue. Rules that agree have equal rows.

    ## Rewards

    Minus the change of the objective between choices, divided by `p`. With
    `objective="weighted_tardiness"` (default) the objective is the weighted tardiness
    of finished jobs plus, for each open job, `w * max(0, now + work left - d)`: the
    tardiness it would have if it never waited again (potential-based shaping, Ng et al.
    1999). The open-job part vanishes at the end, so the episode's rewards sum to
    `-total weighted tardiness / p`, but a choice that makes a job late is felt at once.
    With `"weighted_flow_time"` the rewards sum to minus the weighted flow time / p.
    `info["mean_weighted_tardiness"]` reports the KPI at the end.

    ## Starting State

    t=0, an empty shop (unless the scenario lists initial jobs).

    ## Episode End

    Terminates when every arrival has been released and finished. No truncation.

    ## Arguments

    `scenario` (YAML path or bundled name, default `"dynamic_job_shop"`) or `spec`;
    `action_mode` `"rule"` or `"job"`; `rules` (names); `slots` (default 8); `objective`
    (default from the scenario's `env.objective`, else weighted tardiness);
    `rule_candidates` (default false: the features of each rule's job, above);
    `render_mode` `"ansi"` or `"rgb_array"`.

    ## Version History

    * v1: The current observation and reward, registered as v1 (issue 22); v0 is
      removed, and `gym.make("shopfloor/DynamicJobShop-v0")` names v1. Agents trained on
      v0 read observations of another size: train them again. Since v0's first release:
      * reward: minus the change of the objective with each open job's projected
        tardiness `w * max(0, now + work left - d)` (potential-based shaping; the
        episode's rewards still sum to minus the objective), was minus the objective
        accrued between choices;
      * observation: 12 features per queue slot (was 7): the ATC index, ATC's slack,
        the setup time, the following machine's load and whether it starves;
      * observation: 13 features per slot: the ATCJS index added;
      * `rule_candidates=True` (optional, default off): each rule's job's slot features
        after the slots;
      * `advance()`, a step without observation or reward, for rollouts (no change to
        `step`).
    * v0: Initial version (7 features per queue slot; reward minus the objective accrued).
    """

    def __init__(
        self,
        scenario: str | None = None,
        spec: FactorySpec | None = None,
        action_mode: str = "rule",
        rules: Sequence[str | DispatchingRule] = DEFAULT_RULES,
        slots: int = 8,
        objective: str | None = None,
        render_mode: str | None = None,
        instance: str | None = None,
        generator: GeneratorSpec | Mapping[str, Any] | None = None,
        rule_candidates: bool = False,
    ):
        if scenario is None and spec is None and instance is None and generator is None:
            scenario = "dynamic_job_shop"
        super().__init__(scenario, instance, spec, generator, render_mode)
        if action_mode not in ("rule", "job"):
            raise ValueError(f"action_mode must be 'rule' or 'job', got {action_mode!r}")
        if slots < 1:
            raise ValueError(f"slots must be >= 1, got {slots}")
        example = self.source.example()
        if example.production is not None:
            raise ValueError(
                f"{self.source.name!r} is a production-inventory scenario; use "
                "the shopfloor/ProductionInventory-v0 env for it"
            )
        objective = objective or self.source.env_options.get("objective", OBJECTIVES[0])
        if objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}")
        self.action_mode = action_mode
        self.rules = tuple(DispatchingRule.parse(rule) for rule in rules)
        if not self.rules:
            raise ValueError("rules must not be empty")
        if rule_candidates and action_mode != "rule":
            raise ValueError("rule_candidates needs action_mode='rule'")
        if rule_candidates and DispatchingRule.RANDOM in self.rules:
            raise ValueError(
                "rule_candidates cannot show the job of the 'random' rule before it is "
                "drawn; remove 'random' from rules"
            )
        self.slots = slots
        self.rule_candidates = bool(rule_candidates)
        self.objective = objective
        self.n_machines = len(example.machines)
        self._time_scale = _mean_operation_time(example)
        self._max_weight = _max_weight(example)
        self._max_operations = _max_operations(example)
        self.action_space = MaskedDiscrete(
            len(self.rules) if action_mode == "rule" else slots, self.action_masks
        )
        size = GLOBAL_FEATURES + self.n_machines + SLOT_FEATURES * slots
        if self.rule_candidates:
            size += SLOT_FEATURES * len(self.rules)
        self._size = size
        self.observation_space = spaces.Box(-1.0, 1.0, (size,), dtype=np.float32)

    def _on_reset(self) -> None:
        self._rule_rng = np.random.default_rng(int(self.np_random.integers(2**62)))

    def _agent_decides(self) -> bool:
        factory = self.factory
        return len(factory.queue(factory.decision_machine())) > 1

    def _resolve(self) -> None:
        factory = self.factory
        machine = factory.decision_machine()
        factory.start(factory.queue(machine)[0], machine)

    @property
    def masks_actions(self) -> bool:
        """In job mode: only occupied queue slots may be chosen (every rule always may)."""
        return self.action_mode == "job"

    def action_masks(self) -> np.ndarray:
        """Valid actions: every rule, or the occupied slots."""
        if self.action_mode == "rule":
            return np.ones(len(self.rules), dtype=bool)
        mask = np.zeros(self.slots, dtype=bool)
        factory = self.factory
        if not factory.done:
            mask[: min(len(factory.queue(factory.decision_machine())), self.slots)] = True
        return mask

    def rule_picks(self) -> list[int]:
        """Queue position of the job each rule would start now, in the order of ``rules``.

        Raises:
            ValueError: The rule set holds ``random``, whose pick is not known in advance.
        """
        if DispatchingRule.RANDOM in self.rules:
            raise ValueError("the 'random' rule's pick is not known before it is drawn")
        factory = self.factory
        machine = factory.decision_machine()
        queue = factory.queue(machine)
        return [queue.index(choose_job(rule, factory, machine, queue)) for rule in self.rules]

    def advance(self, action: Any) -> bool:
        """Take ``action`` and run to the next choice, building no observation or reward.

        The fast path of simulation-based planners (the rollout agent replays and
        finishes episodes with it, about 3 times faster than :meth:`step`). The next
        :meth:`step`'s reward also covers what accrued over the advanced choices, so the
        episode's rewards still sum to its objective.

        Returns:
            Whether the episode is over.

        Raises:
            InvalidActionError: As :meth:`step` does.
            RuntimeError: Before :meth:`reset` or after the episode's end.
        """
        factory = self.factory
        if factory.done:
            raise RuntimeError("the episode is over; call reset()")
        self._apply(self._validated(action))
        self._advance()
        return factory.done

    def _apply(self, action: int) -> None:
        factory = self.factory
        machine = factory.decision_machine()
        queue = factory.queue(machine)
        if self.action_mode == "rule":
            job = choose_job(self.rules[action], factory, machine, queue, self._rule_rng)
        else:
            job = queue[action]
        factory.start(job, machine)

    def _observation(self) -> np.ndarray:
        factory = self.factory
        observation = np.zeros(self._size, dtype=np.float32)
        if factory.done:
            return observation
        scale = self._time_scale
        now = factory.now
        n = self.n_machines
        machine = factory.decision_machine()
        queue = factory.queue(machine)
        observation[0] = min(len(factory.open_jobs()) / (n * self.slots), 1.0)
        observation[1] = sum(factory.machine_busy(m) for m in range(n)) / n
        observation[2] = sum(not factory.machine_up(m) for m in range(n)) / n
        observation[3] = min(len(queue) / self.slots, 1.0)
        slacks = [factory.due_date(j) - now - factory.work_remaining(j) for j in queue]
        finite = [s for s in slacks if math.isfinite(s)]
        observation[4] = sum(factory.due_date(j) < now for j in queue) / len(queue)
        if finite:
            observation[5] = math.tanh(sum(finite) / len(finite) / (10 * scale))
            observation[6] = math.tanh(min(finite) / (10 * scale))
        times = [factory.operation_time(j, machine) for j in queue]
        observation[7] = min(sum(times) / len(times) / (4 * scale), 1.0)
        observation[GLOBAL_FEATURES + machine] = 1.0
        offset = GLOBAL_FEATURES + n
        atc = _relative(atc_log_indices(factory, machine, queue, times=times))
        atcjs = _relative(atc_log_indices(factory, machine, queue, True, times))
        loads: dict[int, float] = {}

        def fill(row: np.ndarray, index: int) -> None:
            job = queue[index]
            slack = slacks[index]
            row[0] = 1.0
            row[1] = min(times[index] / (4 * scale), 1.0)
            row[2] = math.tanh(slack / (10 * scale)) if math.isfinite(slack) else 1.0
            row[3] = min(factory.weight(job) / self._max_weight, 1.0)
            row[4] = math.tanh(factory.work_remaining(job) / (10 * scale))
            row[5] = min(factory.operations_remaining(job) / self._max_operations, 1.0)
            row[6] = math.tanh((now - factory.queued_since(job)) / (10 * scale))
            row[ATC] = atc[index]
            local_slack = factory.due_date(job) - now - times[index]
            row[8] = math.tanh(local_slack / (10 * scale)) if math.isfinite(local_slack) else 1.0
            row[9] = min(factory.setup_time(job, machine) / (4 * scale), 1.0)
            following, _ = factory.following_operation(job)
            if following:
                for other in following:
                    if other not in loads:
                        loads[other] = _machine_load(factory, other)
                target = min(following, key=loads.__getitem__)
                row[10] = math.tanh(loads[target] / (10 * scale))
                row[11] = float(_starving(factory, target))
            row[ATCJS] = atcjs[index]

        rows = observation[offset : offset + SLOT_FEATURES * self.slots]
        for slot in range(min(len(queue), self.slots)):
            fill(rows[slot * SLOT_FEATURES : (slot + 1) * SLOT_FEATURES], slot)
        if self.rule_candidates:
            start = offset + SLOT_FEATURES * self.slots
            picks = self.rule_picks()
            for position, index in enumerate(picks):
                row_start = start + position * SLOT_FEATURES
                fill(observation[row_start : row_start + SLOT_FEATURES], index)
        return observation

    @property
    def objective_name(self) -> str:  # type: ignore[override]
        """``mean_weighted_tardiness`` or ``mean_weighted_flow_time``."""
        return "mean_" + self.objective

    def episode_objective(self) -> float:
        """Mean weighted tardiness (or weighted flow time) of the jobs finished."""
        return float(getattr(self.factory.kpis(), self.objective_name))

    def _accrued(self) -> float:
        if self.objective == "weighted_tardiness":
            return self.factory.projected_weighted_tardiness()
        return self.factory.weighted_flow_time_so_far()

    def _reward_scale(self) -> float:
        return self._time_scale

    def _info(self) -> dict[str, Any]:
        info = super()._info()
        if self.factory.done:
            kpis = self.factory.kpis()
            info["mean_weighted_tardiness"] = kpis.mean_weighted_tardiness
            info["total_weighted_tardiness"] = kpis.total_weighted_tardiness
            info["mean_flow_time"] = kpis.mean_flow_time
        return info


def _relative(log_indices: list[float]) -> list[float]:
    """Priority indices, given as logs, over the highest (1 for the rule's pick)."""
    best = max(log_indices)
    if not math.isfinite(best):  # every index is 0 (weights of 0)
        return [1.0] * len(log_indices)
    return [math.exp(value - best) for value in log_indices]


def _machine_load(factory: Factory, machine: int) -> float:
    """Work queued at ``machine`` plus what is left of its current operation."""
    queued = sum(factory.operation_time(job, machine) for job in factory.waiting_jobs(machine))
    left = factory.machine_free_at(machine) - factory.now if factory.machine_busy(machine) else 0.0
    return queued + (left if math.isfinite(left) else 0.0)


def _starving(factory: Factory, machine: int) -> bool:
    """``machine`` is up and idle with nothing waiting."""
    return (
        factory.machine_up(machine)
        and not factory.machine_busy(machine)
        and not factory.waiting_jobs(machine)
    )


def _operations(spec: FactorySpec) -> list[Any]:
    routings = [p.routing for p in spec.products]
    routings += [job.routing for job in spec.jobs if job.routing is not None]
    operations = [op for routing in routings for op in routing]
    return operations


def _mean_operation_time(spec: FactorySpec) -> float:
    times = [mean_duration(d) for op in _operations(spec) for d in op.durations]
    if spec.arrivals is not None and spec.arrivals.random_routing is not None:
        times.append(spec.arrivals.random_routing.duration.mean)
    return max(float(np.mean(times)) if times else 1.0, 1e-9)


def _max_weight(spec: FactorySpec) -> float:
    weights = [job.weight for job in spec.jobs]
    if spec.arrivals is not None:
        distribution = spec.arrivals.weight
        values = getattr(distribution, "values", None)
        weights.append(max(values) if values else 2.0 * distribution.mean)
    return max(weights, default=1.0) or 1.0


def _max_operations(spec: FactorySpec) -> int:
    lengths = [len(p.routing) for p in spec.products]
    lengths += [len(job.routing) for job in spec.jobs if job.routing is not None]
    if spec.arrivals is not None and spec.arrivals.random_routing is not None:
        lengths.append(spec.arrivals.random_routing.max_operations)
    return max(lengths, default=1)
