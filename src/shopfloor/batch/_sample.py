"""Many schedules in one call: N of one instance, or one (or N) of each of many.

The plain array API over :class:`~shopfloor.batch.BatchJobShop` for search and
training code: every row of the batch is one schedule, built by a dispatching rule
(SPT, LPT, MWKR, LWKR, MOPNR; ties to the lowest job index) or by uniformly random
candidates, in any decision mode. "Best of N" random schedules is
:func:`best_of_random`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from shopfloor.batch._core import BatchJobShop
from shopfloor.batch._flexible import BatchFlexibleJobShop
from shopfloor.instances import FlexibleJobShopInstance, JobShopInstance, load_instance

Instance = JobShopInstance | FlexibleJobShopInstance

RULES = ("random", "spt", "lpt", "mwkr", "lwkr", "mopnr")


@dataclass(frozen=True)
class Samples:
    """Schedules sampled in one batch.

    Attributes:
        makespans: ``(B,)`` float64, one per schedule.
        instance_index: ``(B,)`` int, which of the given instances each row schedules.
        start_times: ``(B, J, K)`` float64 start times (NaN in padding), when asked for.
        end_times: ``(B, J, K)`` float64 end times (NaN in padding), when asked for.
    """

    makespans: np.ndarray
    instance_index: np.ndarray
    start_times: np.ndarray | None = None
    end_times: np.ndarray | None = None

    def best(self) -> np.ndarray:
        """Per given instance, the row of its shortest schedule (first on ties)."""
        rows = []
        for index in range(int(self.instance_index.max()) + 1):
            own = np.flatnonzero(self.instance_index == index)
            rows.append(own[int(np.argmin(self.makespans[own]))])
        return np.asarray(rows)


def sample_schedules(
    instances: Instance | str | Sequence[Instance | str],
    n: int = 1,
    *,
    rule: str = "random",
    mode: str = "non_delay",
    seed: int | None = 0,
    schedules: bool = False,
    backend: str = "numpy",
    device: str = "auto",
) -> Samples:
    """Build ``n`` schedules of each instance, all in one batch.

    Args:
        instances: One instance (object or bundled name) or a sequence of them; flexible
            ones (or a mix) are scheduled by :class:`BatchFlexibleJobShop`, whose
            start times are per operation and whose rows choose machines too.
        n: Schedules per instance (rows ``i * n ... (i + 1) * n - 1`` are instance i's).
        rule: ``"random"`` (a uniformly random candidate at every step) or a rule of
            :data:`RULES` (deterministic: its ``n`` schedules are equal).
        mode: ``"non_delay"``, ``"active"`` or ``"append"``.
        seed: Seed of the random choices.
        schedules: Also return start and end times.
        backend: ``"numpy"`` or ``"torch"``.
        device: For torch: ``"auto"``, ``"cpu"``, ``"cuda[:N]"``.

    Returns:
        The makespans (and schedules), row by row.

    Raises:
        ValueError: ``n`` below 1, an unknown rule, mode, backend or device.
    """
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"n: expected a whole number of schedules >= 1, got {n!r}")
    name = rule.strip().lower() if isinstance(rule, str) else ""
    if name not in RULES:
        raise ValueError(f"unknown rule {rule!r}; choose from {', '.join(RULES)}")
    given: list[Instance | str] = (
        [instances]
        if isinstance(instances, JobShopInstance | FlexibleJobShopInstance | str)
        else list(instances)
    )
    loaded = [load_instance(item) if isinstance(item, str) else item for item in given]
    rows = [item for item in loaded for _ in range(int(n))]
    classic = [item for item in rows if isinstance(item, JobShopInstance)]
    core: BatchJobShop | BatchFlexibleJobShop
    if len(classic) == len(rows):
        core = BatchJobShop(classic, mode, backend=backend, device=device, features=False)
    else:
        core = BatchFlexibleJobShop(rows, mode, backend=backend, device=device)
    generator = core.backend.generator(seed)
    while not bool(core.dones.all()):
        if name == "random":
            core.step(core.random_actions(generator))
        else:
            core.step(core.rule_actions(name))
    makespans = core.backend.to_numpy(core.makespans()).astype(np.float64)
    index = np.repeat(np.arange(len(given)), int(n))
    if not schedules:
        return Samples(makespans, index)
    return Samples(makespans, index, core.start_times(), core.end_times())


def best_of_random(
    instance: Instance | str,
    n: int,
    *,
    mode: str = "non_delay",
    seed: int | None = 0,
    backend: str = "numpy",
    device: str = "auto",
) -> tuple[float, np.ndarray]:
    """The shortest of ``n`` random schedules of ``instance``.

    Returns:
        ``(makespan, start_times)``, the start times as ``(J, K)`` float64.
    """
    samples = sample_schedules(
        instance, n, mode=mode, seed=seed, schedules=True, backend=backend, device=device
    )
    row = int(samples.best()[0])
    assert samples.start_times is not None
    return float(samples.makespans[row]), samples.start_times[row]
