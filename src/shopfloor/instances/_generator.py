"""Random job-shop instances in the manner of Taillard (1993).

Taillard's benchmarks draw every processing time uniformly from the integers 1..99 and
give every job a random permutation of the machines as its routing (E. Taillard,
"Benchmarks for basic scheduling problems", European Journal of Operational Research
64(2), 1993). :func:`generate_instance` follows that recipe with numpy's generator; it
does not reproduce Taillard's own random number generator, so a seed here does not
give his ``ta`` instances (those are bundled: ``load_instance("ta01")``).
"""

from __future__ import annotations

import numpy as np

from shopfloor.instances._instance import JobShopInstance, check_size
from shopfloor.sim import LIMITS


def _positive_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


def generate_instance(
    n_jobs: int,
    n_machines: int,
    seed: int | np.random.Generator,
    low: int = 1,
    high: int = 99,
    name: str | None = None,
    n_operations: int | None = None,
) -> JobShopInstance:
    """Draw a random job-shop instance (Taillard 1993).

    Processing times are drawn first, uniform on the integers ``low..high``
    (inclusive), then each job's routing: a random permutation of all machines, or of
    ``n_operations`` distinct machines in random order.

    Args:
        n_jobs: Number of jobs.
        n_machines: Number of machines.
        seed: Seed for ``numpy.random.default_rng``, or a generator to draw from
            (e.g. an environment's ``np_random``). The same seed gives the same instance.
        low: Smallest processing time.
        high: Largest processing time.
        name: Instance name; ``"random_{n_jobs}x{n_machines}_seed{seed}"`` by default.
        n_operations: Operations per job, at most ``n_machines`` (default: all machines).

    Returns:
        The instance, without bounds.

    Raises:
        ValueError: A size is not a positive integer, ``n_operations`` exceeds
            ``n_machines``, not ``0 <= low <= high``, or a size or ``high`` is beyond
            :data:`shopfloor.sim.LIMITS`.
    """
    n_jobs = _positive_int(n_jobs, "n_jobs")
    n_machines = _positive_int(n_machines, "n_machines")
    operations = n_machines if n_operations is None else _positive_int(n_operations, "n_operations")
    if operations > n_machines:
        raise ValueError(f"n_operations ({operations}) must not exceed n_machines ({n_machines})")
    if not 0 <= low <= high:
        raise ValueError(f"need 0 <= low <= high, got low={low}, high={high}")
    if high > LIMITS.max_time:
        raise ValueError(f"high must be at most {LIMITS.max_time:g} (the limit), got {high}")
    check_size(n_jobs, operations, n_machines)  # before anything is drawn
    rng = np.random.default_rng(seed)
    durations = rng.integers(low, high, size=(n_jobs, operations), endpoint=True)
    machines = [rng.permutation(n_machines)[:operations] for _ in range(n_jobs)]
    if name is None:
        label = seed if isinstance(seed, int | np.integer) else "rng"
        name = f"random_{n_jobs}x{n_machines}_seed{label}"
    return JobShopInstance(
        name=name,
        durations=tuple(tuple(int(d) for d in row) for row in durations),
        machines=tuple(tuple(int(m) for m in row) for row in machines),
        machine_count=n_machines,
    )
