"""The largest factory, and the range of every number in one, that the project accepts.

A scenario or instance file is checked against these limits before anything is
built, so that a file of a few bytes cannot ask for 10^9 jobs, a breakdown every
1e-300 time units or a time of 1e308 (whose sums are ``inf`` and then ``NaN``). The
limits are generous: the largest bundled scenario (``stress_large``: 60 machines,
2,500 jobs, about 56,000 events) sits far inside every one of them. They are
documented, with the fields they apply to, in ``envs/README.md``.

Times are in the factory's own unit; a time of at most ``1e9`` with means of at
least ``1e-6`` keeps every clock value, sum and cost integral finite in double
precision (costs per unit and time at most ``1e9``, stocks at most ``1e9``: the
largest cost integral is about ``1e27``, far below the ``1.8e308`` of a float).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class InputLimits:
    """Limits on sizes and values of a factory (see the module docstring).

    Attributes:
        max_machines: Machines of a factory or instance.
        max_jobs: Jobs listed in a scenario or held by an instance.
        max_arrivals: ``arrivals.max_jobs``, jobs arriving in one episode.
        max_operations_per_job: Operations in one routing.
        max_operations: Operations of all listed routings together (jobs and products);
            with ``max_jobs`` it keeps any static instance within ``max_events``.
        max_products: Product types.
        max_materials: Raw materials.
        max_families: Setup families.
        max_setup_entries: Entries of all setup matrices together (machines with a
            setup times families squared).
        max_list: Entries of any other list: choice values, rate-profile factors,
            demand shocks, lot sizes.
        max_time: Largest time: any duration, distribution mean, setup, lead or repair
            time, release time, due date, horizon, ``until``, demand period, idle time.
        min_mean_time: Smallest mean of a time that repeats on its own: time to failure,
            interarrival time, demand period, idle time, rate-profile segment.
        max_quantity: Largest quantity: stocks, reorder points (in absolute value),
            order quantities, materials per unit, job quantities, lot sizes, demand rate,
            demand per period.
        max_cost: Largest cost or weight (per unit, per time unit, per setup, per order).
        max_factor: Largest multiplier: shock multipliers, rate-profile factors,
            due-date tightness, ``|trend|`` per period.
        min_shape: Smallest gamma or Weibull shape (below it the mean overflows:
            a Weibull mean is ``scale * Gamma(1 + 1/shape)``).
        max_shape: Largest gamma or Weibull shape.
        max_events: Most simulation events one episode is expected to take (about
            20 s of simulation with a dispatching rule), estimated from the means:
            job steps, arrivals, failures and repairs, demand periods, production
            choices and material orders.
        max_orders_at_once: Most raw-material orders one instant may place (an order
            quantity tiny against the reorder point or the use of one operation).
    """

    max_machines: int = 10_000
    max_jobs: int = 100_000
    max_arrivals: int = 1_000_000
    max_operations_per_job: int = 10_000
    max_operations: int = 400_000
    max_products: int = 10_000
    max_materials: int = 10_000
    max_families: int = 1_000
    max_setup_entries: int = 10_000_000
    max_list: int = 10_000
    max_time: float = 1e9
    min_mean_time: float = 1e-6
    max_quantity: float = 1e9
    max_cost: float = 1e9
    max_factor: float = 1e6
    min_shape: float = 0.1
    max_shape: float = 1e4
    max_events: int = 1_000_000
    max_orders_at_once: int = 10_000


LIMITS = InputLimits()
"""The limits in force."""
