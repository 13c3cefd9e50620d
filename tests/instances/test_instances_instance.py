"""JobShopInstance: validation, derived quantities, and the bridge to shopfloor.sim."""

from typing import Any

import numpy as np
import pytest

from shopfloor.instances import JobShopInstance, load_instance
from shopfloor.sim import FactorySpec


def _tiny(**overrides):
    fields: dict[str, Any] = {
        "name": "tiny",
        "durations": ((3, 2), (4, 1)),
        "machines": ((0, 1), (1, 0)),
    }
    fields.update(overrides)
    return JobShopInstance(**fields)


def test_properties_and_trivial_bound_by_hand():
    tiny = _tiny()
    assert (tiny.n_jobs, tiny.n_machines, tiny.n_operations, tiny.operations_per_job) == (
        2,
        2,
        4,
        2,
    )
    assert tiny.job_totals() == (5, 5)
    assert tiny.machine_loads() == (3 + 1, 2 + 4)
    assert tiny.lower_bound_trivial() == 6


def test_ft06_trivial_bound_by_hand():
    ft06 = load_instance("ft06")
    job_totals = [sum(row) for row in ft06.durations]
    assert job_totals == [26, 47, 34, 35, 25, 30]
    assert ft06.optimum is not None
    assert ft06.lower_bound_trivial() == 47 <= ft06.optimum


def test_lists_and_numpy_integers_become_tuples_of_int():
    instance = JobShopInstance(
        "np",
        np.array([[1, 2], [3, 4]]).tolist(),
        [[np.int64(0), np.int32(1)], [1, 0]],  # type: ignore[arg-type]
    )
    assert instance.durations == ((1, 2), (3, 4))
    assert instance.machines == ((0, 1), (1, 0))
    assert all(type(m) is int for row in instance.machines for m in row)
    assert hash(instance) == hash(_tiny(name="np", durations=((1, 2), (3, 4))))


def test_machine_count_defaults_to_the_highest_index_and_may_be_larger():
    assert _tiny().machine_count == 2
    wide = _tiny(machine_count=5)
    assert wide.n_machines == 5
    assert wide.machine_loads() == (4, 6, 0, 0, 0)


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"durations": ()}, "has no jobs"),
        ({"durations": ((1, 2),)}, "2 rows of machines"),
        ({"durations": ((3, 2), (4,))}, "job 1 has 1 durations and 2 machines"),
        ({"durations": ((), ()), "machines": ((), ())}, "job 0 has no operations"),
        ({"durations": ((3, -2), (4, 1))}, "job 0 has a negative duration"),
        ({"machines": ((0, -1), (1, 0))}, "negative machine index"),
        ({"durations": ((3, 2.5), (4, 1))}, r"durations\[0\]: 2.5 is not an integer"),
        ({"machines": ((0, True), (1, 0))}, "True is not an integer"),
        ({"durations": "12"}, "expected a sequence of rows"),
        ({"machine_count": 1}, "machine_count is 1 but machine 1 is used"),
        ({"lower_bound": 7, "upper_bound": 6}, "lower_bound 7 exceeds upper_bound 6"),
        ({"lower_bound": -1}, "lower_bound must be >= 0"),
        ({"lower_bound": 6, "optimum": 5}, "optimum 5 is below lower_bound 6"),
        ({"upper_bound": 6, "optimum": 7}, "optimum 7 exceeds upper_bound 6"),
    ],
)
def test_validation(overrides, match):
    with pytest.raises(ValueError, match=match):
        _tiny(**overrides)


def test_is_frozen():
    with pytest.raises(AttributeError):
        _tiny().name = "other"


def test_to_factory_spec_of_ft06():
    ft06 = load_instance("ft06")
    spec = ft06.to_factory_spec()
    assert isinstance(spec, FactorySpec)
    assert spec.name == "ft06"
    assert [m.name for m in spec.machines] == [f"M{i}" for i in range(6)]
    assert [j.name for j in spec.jobs] == [f"J{j}" for j in range(6)]
    assert spec.is_static
    for job, routing_spec in enumerate(spec.jobs):
        assert routing_spec.release_time == 0.0
        assert routing_spec.product == -1
        assert routing_spec.routing is not None
        assert [op.machines for op in routing_spec.routing] == [(m,) for m in ft06.machines[job]]
        assert [op.durations for op in routing_spec.routing] == [
            (float(d),) for d in ft06.durations[job]
        ]
        assert all(type(op.durations[0]) is float for op in routing_spec.routing)


def test_to_factory_spec_shape_of_a_large_instance_and_idle_machines():
    spec = load_instance("ta71").to_factory_spec()
    assert (len(spec.jobs), len(spec.machines)) == (100, 20)
    assert sum(len(job.routing or ()) for job in spec.jobs) == 2000
    assert len(_tiny(machine_count=4).to_factory_spec().machines) == 4
