"""Random job-shop instances in the manner of Taillard (1993), flexible ones after Brandimarte.

Taillard's benchmarks draw every processing time uniformly from the integers 1..99 and
give every job a random permutation of the machines as its routing (E. Taillard,
"Benchmarks for basic scheduling problems", European Journal of Operational Research
64(2), 1993). :func:`generate_instance` follows that recipe with numpy's generator; it
does not reproduce Taillard's own random number generator, so a seed here does not
give his ``ta`` instances (those are bundled: ``load_instance("ta01")``).

:func:`generate_flexible_instance` draws flexible job shops (Brandimarte 1993: jobs of
varying length, each operation with its own set of eligible machines) with the recipe
the deep-RL papers train and test on (Song et al. 2022; see its docstring).
"""

from __future__ import annotations

import itertools

import numpy as np

from shopfloor.instances._flexible import FlexibleJobShopInstance
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


def _range(value: object, name: str, upper: int | None = None) -> tuple[int, int]:
    """A ``(lo, hi)`` pair of integers with ``1 <= lo <= hi`` (and ``hi <= upper``)."""
    if isinstance(value, str | bytes) or not isinstance(value, tuple | list) or len(value) != 2:
        raise ValueError(f"{name} must be a pair (lo, hi) of integers, got {value!r}")
    lo, hi = value
    for bound in (lo, hi):
        if isinstance(bound, bool) or not isinstance(bound, int | np.integer):
            raise ValueError(f"{name} must be a pair (lo, hi) of integers, got {value!r}")
    if not 1 <= lo <= hi:
        raise ValueError(f"{name} needs 1 <= lo <= hi, got ({lo}, {hi})")
    if upper is not None and hi > upper:
        raise ValueError(f"{name} allows at most {upper} (n_machines), got ({lo}, {hi})")
    return int(lo), int(hi)


def _default_operations(n_machines: int) -> tuple[int, int]:
    """Operations per job in Song et al. (2022): ``floor(0.8 M)..floor(1.2 M)``, at least 1."""
    lo = max(1, 4 * n_machines // 5)
    return lo, max(lo, 6 * n_machines // 5)


def generate_flexible_instance(
    n_jobs: int,
    n_machines: int,
    seed: int | np.random.Generator,
    *,
    operations: tuple[int, int] | None = None,
    machines_per_operation: tuple[int, int] | None = None,
    low: int = 1,
    high: int = 20,
    deviation: float | None = 0.2,
    name: str | None = None,
) -> FlexibleJobShopInstance:
    """Draw a random flexible job-shop instance (Brandimarte 1993 style).

    The defaults reproduce the training and test distribution of Song et al. (2022),
    "Flexible Job-Shop Scheduling via Graph Neural Network and Deep Reinforcement
    Learning" (IEEE TII; the ``CaseGenerator`` of their repository songwenas12/fjsp-drl,
    ``env/case_generator.py`` and ``train.py``), also Wang et al. (2023)'s "SD1" (DAN):

    * every job has ``U{floor(0.8 M), floor(1.2 M)}`` operations;
    * every operation ``U{1, M}`` eligible machines, a uniform subset of all machines;
    * every operation a mean time ``U{low, high}`` (1..20), and on each eligible machine
      a time ``U{max(low, round(0.8 mean)), min(high, round(1.2 mean))}``.

    ``deviation=None`` draws each alternative's time independently, ``U{low, high}``:
    with ``operations=(M, M)``, ``low=1, high=99`` that is Wang et al. (2023)'s "SD2"
    (repository wrqccc/FJSP-DRL, ``data_utils.py``). Draw order: operations per job,
    machines per operation, each operation's machines, then the times (means first).
    numpy's generator is used, so a seed does not give the published instance files.

    Args:
        n_jobs: Number of jobs.
        n_machines: Number of machines (M).
        seed: Seed for ``numpy.random.default_rng``, or a generator to draw from.
            The same seed gives the same instance.
        operations: ``(lo, hi)`` operations per job, inclusive (default
            ``(floor(0.8 M), floor(1.2 M))``, at least 1).
        machines_per_operation: ``(lo, hi)`` eligible machines per operation,
            inclusive, ``hi <= n_machines`` (default ``(1, n_machines)``).
        low: Smallest (mean) processing time.
        high: Largest (mean) processing time.
        deviation: Relative spread of an operation's times around its mean, in
            ``[0, 1)``; ``None``: independent times.
        name: Instance name; ``"flexible_{n_jobs}x{n_machines}_seed{seed}"`` by default.

    Returns:
        The instance, without bounds; machines of an operation in increasing order.

    Raises:
        ValueError: Naming the argument: a size not a positive integer, a range not
            ``1 <= lo <= hi`` (machines: ``hi <= n_machines``), not
            ``0 <= low <= high``, a deviation outside ``[0, 1)``, or a size or ``high``
            beyond :data:`shopfloor.sim.LIMITS`.
    """
    n_jobs = _positive_int(n_jobs, "n_jobs")
    n_machines = _positive_int(n_machines, "n_machines")
    op_lo, op_hi = (
        _default_operations(n_machines) if operations is None else _range(operations, "operations")
    )
    machine_lo, machine_hi = (
        (1, n_machines)
        if machines_per_operation is None
        else _range(machines_per_operation, "machines_per_operation", n_machines)
    )
    for bound, argument in ((low, "low"), (high, "high")):
        if isinstance(bound, bool) or not isinstance(bound, int | np.integer):
            raise ValueError(f"{argument} must be an integer, got {bound!r}")
    if not 0 <= low <= high:
        raise ValueError(f"need 0 <= low <= high, got low={low}, high={high}")
    if high > LIMITS.max_time:
        raise ValueError(f"high must be at most {LIMITS.max_time:g} (the limit), got {high}")
    if deviation is not None and (
        isinstance(deviation, bool)
        or not isinstance(deviation, int | float | np.floating)
        or not 0 <= deviation < 1
    ):
        raise ValueError(f"deviation must be a number in [0, 1) or None, got {deviation!r}")
    check_size(n_jobs, op_hi, n_machines)  # before anything is drawn
    rng = np.random.default_rng(seed)
    lengths = rng.integers(op_lo, op_hi, size=n_jobs, endpoint=True)
    total = int(lengths.sum())
    counts = rng.integers(machine_lo, machine_hi, size=total, endpoint=True)
    eligible = [
        np.sort(rng.choice(n_machines, size=int(count), replace=False)).tolist() for count in counts
    ]
    if deviation is None:
        times = rng.integers(low, high, size=int(counts.sum()), endpoint=True)
    else:
        means = rng.integers(low, high, size=total, endpoint=True)
        shortest = np.maximum(low, np.rint(means * (1 - deviation))).astype(np.int64)
        longest = np.minimum(high, np.rint(means * (1 + deviation))).astype(np.int64)
        times = rng.integers(shortest.repeat(counts), longest.repeat(counts), endpoint=True)
    # Split the flat alternatives into operations, then the operations into jobs.
    pairs = iter(zip(itertools.chain.from_iterable(eligible), times.tolist(), strict=True))
    steps = iter([tuple(itertools.islice(pairs, len(machines))) for machines in eligible])
    jobs = tuple(tuple(itertools.islice(steps, length)) for length in lengths.tolist())
    if name is None:
        label = seed if isinstance(seed, int | np.integer) else "rng"
        name = f"flexible_{n_jobs}x{n_machines}_seed{label}"
    return FlexibleJobShopInstance(name=name, operations=jobs, machine_count=n_machines)
