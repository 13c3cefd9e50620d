"""RateProfile: the arrival clock, hand-checked, and arrivals that follow it."""

from __future__ import annotations

import numpy as np
import pytest

from shopfloor.sim import (
    ArrivalSpec,
    Constant,
    Exponential,
    Factory,
    FactorySpec,
    MachineSpec,
    OperationSpec,
    ProductSpec,
    RateProfile,
    SpecError,
)
from shopfloor.sim.events import RELEASE

from ._helpers import drive, fifo


def test_integral_and_advance_hand_checked() -> None:
    profile = RateProfile(segment=10.0, factors=(0.5, 2.0, 0.0))
    # Segments [0,10) x0.5, [10,20) x2, [20,30) x0, then the cycle again.
    assert profile.integral(0.0, 10.0) == pytest.approx(5.0)
    assert profile.integral(5.0, 15.0) == pytest.approx(2.5 + 10.0)
    assert profile.integral(0.0, 30.0) == pytest.approx(25.0)
    assert profile.integral(25.0, 35.0) == pytest.approx(2.5)
    assert profile.integral(0.0, 65.0) == pytest.approx(50.0 + 2.5)
    assert profile.advance(0.0, 5.0) == pytest.approx(10.0)
    assert profile.advance(5.0, 3.5) == pytest.approx(10.5)  # 2.5 to 10, then 1 at x2
    assert profile.advance(18.0, 5.0) == pytest.approx(30.0 + 2.0)  # 4 by 20, none to 30
    assert profile.advance(22.0, 1.0) == pytest.approx(32.0)  # waits out the zero segment
    assert profile.factor_at(9.99) == 0.5 and profile.factor_at(10.0) == 2.0
    assert profile.factor_at(31.0) == 0.5
    assert profile.mean_factor == pytest.approx(2.5 / 3)


@pytest.mark.parametrize("factors", [(1.0,), (0.5, 1.5), (0.0, 2.0, 1.0), (1.3, 0.0, 0.0, 0.7)])
def test_advance_inverts_the_integral(factors: tuple[float, ...]) -> None:
    profile = RateProfile(segment=7.0, factors=factors)
    rng = np.random.default_rng(0)
    for start, clock in zip(rng.uniform(0, 300, 500), rng.exponential(10.0, 500), strict=True):
        end = profile.advance(float(start), float(clock))
        assert end >= start
        assert profile.integral(float(start), end) == pytest.approx(clock, abs=1e-9)


def test_where_the_clock_stands_still_advance_gives_the_first_time() -> None:
    profile = RateProfile(segment=10.0, factors=(1.0, 0.0))
    assert profile.advance(5.0, 5.0) == 10.0  # not 20, the end of the closed segment
    assert profile.advance(0.0, 20.0) == 30.0  # a whole cycle's worth, ends the same way
    assert profile.advance(15.0, 0.0) == 15.0  # never before the start


@pytest.mark.parametrize(
    ("factors", "times"),
    [
        ((1.0, 0.0), [5, 10, 25, 30, 45, 50, 65, 70]),
        ((1.0, 0.0, 1.0, 0.0), [5, 10, 25, 30, 45, 50, 65, 70]),
        ((0.0, 1.0), [15, 20, 35, 40, 55, 60, 75]),
        ((0.0, 1.0, 0.0, 1.0), [15, 20, 35, 40, 55, 60, 75]),
    ],
)
def test_the_same_rate_written_two_ways_gives_the_same_arrivals(
    factors: tuple[float, ...], times: list[float]
) -> None:
    factory = _single_machine(RateProfile(10.0, factors), 5.0, until=80.0)
    np.testing.assert_allclose(_release_times(factory), times)


@pytest.mark.parametrize(
    ("profile", "interarrival", "arrivals"),
    [(None, 7.0, 7), (RateProfile(100.0, (1.0, 0.0)), 1.0, 100)],
)
def test_intake_closes_at_until(
    profile: RateProfile | None, interarrival: float, arrivals: int
) -> None:
    """The episode ends at ``until``, not at the arrival that would have come after it
    (t=56 without a profile, t=201 with the closed segment [100, 200))."""
    factory = _single_machine(profile, interarrival, until=50.0 if profile is None else 150.0)
    assert len(_release_times(factory)) == arrivals
    assert factory.now == (50.0 if profile is None else 150.0)


def test_a_flat_profile_is_the_identity() -> None:
    profile = RateProfile(segment=3.0, factors=(1.0, 1.0))
    assert profile.advance(4.2, 10.0) == pytest.approx(14.2)


@pytest.mark.parametrize(
    ("segment", "factors", "message"),
    [
        (0.0, (1.0,), "segment must be finite and > 0"),
        (float("inf"), (1.0,), "segment must be finite and > 0"),
        (5.0, (), "at least one factor"),
        (5.0, (1.0, -0.5), "finite and >= 0"),
        (5.0, (0.0, 0.0), "a factor > 0"),
    ],
)
def test_bad_profiles_name_the_field(
    segment: float, factors: tuple[float, ...], message: str
) -> None:
    with pytest.raises(SpecError, match=f"rate_profile: .*{message}"):
        RateProfile(segment=segment, factors=factors)


def _single_machine(
    profile: RateProfile | None, interarrival: float | Exponential, until: float = 400.0
) -> Factory:
    gap = Constant(interarrival) if isinstance(interarrival, float) else interarrival
    spec = FactorySpec(
        name="surges",
        machines=(MachineSpec("m"),),
        products=(ProductSpec("p", routing=(OperationSpec.on(0, 0.01),)),),
        arrivals=ArrivalSpec(
            interarrival=gap,
            product_mix=(1.0,),
            until=until,
            rate_profile=profile,
        ),
    )
    return Factory(spec, seed=1)


def _release_times(factory: Factory) -> np.ndarray:
    drive(factory, fifo)
    return np.array([time for time, kind, *_ in factory.log if kind == RELEASE])


def test_constant_interarrival_runs_on_the_arrival_clock() -> None:
    # One arrival per clock unit: 2 per time unit in [0, 10), 0.5 in [10, 20), ...
    times = _release_times(_single_machine(RateProfile(10.0, (2.0, 0.5)), 1.0))
    np.testing.assert_allclose(times[:25], [*np.arange(1, 21) / 2, *(10.0 + 2 * np.arange(1, 6))])
    assert len(times) == 499  # the clock shows 25 per 20 time units: 500 at t=400, excluded


def test_poisson_arrivals_follow_the_profile() -> None:
    times = _release_times(_single_machine(RateProfile(20.0, (0.25, 1.75)), Exponential(1.0)))
    in_rush = (times // 20.0) % 2 == 1
    # Expected 0.25 x 200 = 50 quiet and 1.75 x 200 = 350 rush arrivals.
    assert 30 < (~in_rush).sum() < 70
    assert 300 < in_rush.sum() < 400


def test_same_seed_same_arrivals_and_a_profile_changes_them() -> None:
    profile = RateProfile(20.0, (0.5, 1.5))
    first = _release_times(_single_machine(profile, Exponential(1.0)))
    again = _release_times(_single_machine(profile, Exponential(1.0)))
    flat = _release_times(_single_machine(None, Exponential(1.0)))
    np.testing.assert_array_equal(first, again)
    assert len(first) != len(flat) or not np.array_equal(first, flat)


def test_a_resampled_future_keeps_the_profile() -> None:
    """Constant interarrival 1 on the arrival clock: after a resample at ``t`` the next
    arrivals come when the clock has run 1, 2, 3 ... past its reading at ``t``."""
    profile = RateProfile(10.0, (2.0, 0.5))
    factory = _single_machine(profile, 1.0)
    while factory.now < 13.3 and factory.next_decision():
        machine = factory.decision_machine()
        factory.start(factory.queue(machine)[0], machine)
    now, arrived = factory.now, factory.n_jobs
    factory.resample_future(5)
    drive(factory, fifo)
    later = [factory.release_time(job) for job in range(arrived, arrived + 4)]
    np.testing.assert_allclose(later, [profile.advance(now, k) for k in (1.0, 2.0, 3.0, 4.0)])
    assert later[0] - now == pytest.approx(2.0)  # factor 0.5 in [10, 20)
