"""Taillard-style random instances: determinism, ranges, routings."""

import random

import numpy as np
import pytest

from shopfloor.instances import generate_instance, parse_orlibrary, write_orlibrary


def test_same_seed_same_instance_different_seed_different():
    first = generate_instance(15, 15, seed=42)
    assert generate_instance(15, 15, seed=42) == first
    assert generate_instance(15, 15, seed=43) != first
    assert generate_instance(15, 15, seed=43).durations != first.durations


def test_shape_ranges_and_routings():
    instance = generate_instance(20, 8, seed=0, low=5, high=9)
    assert (instance.n_jobs, instance.n_machines, instance.n_operations) == (20, 8, 160)
    assert instance.name == "random_20x8_seed0"
    values = {d for row in instance.durations for d in row}
    assert values <= set(range(5, 10))
    assert {5, 9} <= values  # both ends are reachable
    for row in instance.machines:
        assert sorted(row) == list(range(8))
    assert (instance.lower_bound, instance.upper_bound, instance.optimum) == (None, None, None)


def test_default_times_are_taillards_1_to_99():
    instance = generate_instance(50, 20, seed=7)
    values = [d for row in instance.durations for d in row]
    assert min(values) >= 1
    assert max(values) <= 99
    assert len(set(values)) > 90


def test_low_equal_high_gives_constant_times():
    instance = generate_instance(3, 3, seed=1, low=4, high=4, name="flat")
    assert instance.name == "flat"
    assert {d for row in instance.durations for d in row} == {4}


def test_fewer_operations_than_machines():
    instance = generate_instance(30, 10, seed=5, n_operations=3)
    assert instance.n_machines == 10
    assert instance.operations_per_job == 3
    for row in instance.machines:
        assert len(set(row)) == 3
        assert all(0 <= m < 10 for m in row)
    # the subsets differ between jobs
    assert len({frozenset(row) for row in instance.machines}) > 1
    assert parse_orlibrary(write_orlibrary(instance), name=instance.name) == instance


def test_a_generator_can_be_passed_and_global_state_is_untouched():
    random.seed(0)
    np.random.seed(0)
    rng = np.random.default_rng(9)
    first = generate_instance(4, 4, seed=rng)
    second = generate_instance(4, 4, seed=rng)
    assert first.name == "random_4x4_seedrng"
    assert first != second  # the generator moved on
    assert generate_instance(4, 4, seed=np.random.default_rng(9)) == first
    # the global generators were not drawn from
    assert random.random() == random.Random(0).random()
    assert np.random.random() == np.random.RandomState(0).random_sample()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_jobs": 0}, "n_jobs must be an integer >= 1"),
        ({"n_machines": 2.0}, "n_machines must be an integer >= 1"),
        ({"n_operations": 0}, "n_operations must be an integer >= 1"),
        ({"n_operations": 5}, r"n_operations \(5\) must not exceed n_machines \(4\)"),
        ({"low": 10, "high": 9}, "need 0 <= low <= high"),
        ({"low": -1}, "need 0 <= low <= high"),
    ],
)
def test_invalid_arguments(kwargs, match):
    arguments = {"n_jobs": 3, "n_machines": 4, "seed": 0, **kwargs}
    with pytest.raises(ValueError, match=match):
        generate_instance(**arguments)
