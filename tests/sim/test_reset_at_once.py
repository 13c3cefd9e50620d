"""A reset that adds every job at once leaves the factory as the job-by-job reset does.

When every listed job has fixed times and is released at t=0 (every static benchmark
instance), the factory builds its job lists in one go. :class:`_JobByJob` forces the
general path; both factories must hold the same state (compared by ``repr``, so an
``int`` 0 and a ``float`` 0.0 differ, and sets in their iteration order) and run the
same episodes.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shopfloor.scenario import resolve_target
from shopfloor.sim import Factory, FactorySpec

from ._helpers import drive, ft06, random_chooser
from ._strategies import factory_specs

_NOT_STATE = {"env", "_log", "_tables", "_stream_root", "_streams"}
_NOT_STATE |= {"_arrival_token", "_breakdown_tokens"}  # fresh objects on every reset


class _JobByJob(Factory):
    def _add_listed_jobs_at_once(self) -> None:
        self._add_listed_jobs()


def _state(factory: Factory) -> str:
    return repr(sorted((k, v) for k, v in vars(factory).items() if k not in _NOT_STATE))


def _assert_same(spec: FactorySpec, seed: int) -> None:
    at_once, by_job = Factory(spec, seed=seed), _JobByJob(spec, seed=seed)
    assert _state(at_once) == _state(by_job)
    # No event for a job released at t=0: the same scheduled events, with the same ids.
    assert [entry[:3] for entry in at_once.env._queue] == [entry[:3] for entry in by_job.env._queue]
    for factory in (at_once, by_job):
        drive(factory, random_chooser(np.random.default_rng(seed)))
    assert at_once.log == by_job.log
    assert repr(at_once.kpis()) == repr(by_job.kpis())
    assert _state(at_once) == _state(by_job)


@pytest.mark.parametrize("name", ["ft06", "ta01", "la16", "mk01"])
def test_benchmark_instances(name: str) -> None:
    spec = resolve_target(name)[1]
    assert Factory(spec, seed=0)._tables.released_fixed  # the path under test
    _assert_same(spec, 0)


def test_the_comparison_sees_a_type() -> None:
    """A release time of int 0 instead of the clock's 0 would be caught."""
    at_once = Factory(ft06(), seed=0)
    at_once._job_release = [0.0] * len(at_once._job_release)
    assert _state(at_once) != _state(_JobByJob(ft06(), seed=0))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=factory_specs(static=True), seed=st.integers(0, 2**16))
def test_generated_static_shops(spec: FactorySpec, seed: int) -> None:
    _assert_same(spec, seed)
