"""Random flexible job shops (Song et al. 2022's recipe): determinism, ranges, refusals."""

import random

import numpy as np
import pytest

from shopfloor.instances import (
    FlexibleJobShopInstance,
    generate_flexible_instance,
    generate_instance,
    parse_fjsplib,
    write_fjsplib,
)


def _alternatives(instance: FlexibleJobShopInstance) -> list[tuple[tuple[int, int], ...]]:
    return [op for routing in instance.operations for op in routing]


def test_same_seed_same_instance_different_seed_different() -> None:
    first = generate_flexible_instance(10, 5, seed=42)
    assert generate_flexible_instance(10, 5, seed=42) == first
    assert generate_flexible_instance(10, 5, seed=43).operations != first.operations
    assert first.name == "flexible_10x5_seed42"
    assert (first.lower_bound, first.upper_bound, first.optimum) == (None, None, None)


def test_a_small_instance_is_pinned() -> None:
    """The draws are part of the contract: fixed-seed results elsewhere depend on them."""
    instance = generate_flexible_instance(2, 3, seed=0)
    assert instance.operations == (
        (((0, 14), (2, 10)), ((2, 10),), ((1, 14),)),
        (((1, 18),), ((2, 5),), ((2, 19),)),
    )


def test_a_generator_can_be_passed_and_global_state_is_untouched() -> None:
    random.seed(0)
    np.random.seed(0)
    state, legacy = random.getstate(), np.random.get_state()[1].copy()
    first = generate_flexible_instance(4, 4, seed=np.random.default_rng(9))
    again = generate_flexible_instance(4, 4, seed=np.random.default_rng(9))
    assert first == again and first.name == "flexible_4x4_seedrng"
    rng = np.random.default_rng(9)
    generate_flexible_instance(4, 4, seed=rng)
    assert generate_flexible_instance(4, 4, seed=rng) != first  # the generator moved on
    assert random.getstate() == state
    assert (np.random.get_state()[1] == legacy).all()


@pytest.mark.parametrize(
    ("n_machines", "operations"), [(1, (1, 1)), (2, (1, 2)), (5, (4, 6)), (10, (8, 12))]
)
def test_default_ranges_follow_song_et_al(n_machines: int, operations: tuple[int, int]) -> None:
    """floor(0.8 M)..floor(1.2 M) operations, 1..M machines, times 1..20 (both ends drawn)."""
    instance = generate_flexible_instance(200, n_machines, seed=1)
    assert instance.n_machines == n_machines and instance.n_jobs == 200
    lengths = {len(routing) for routing in instance.operations}
    assert lengths == set(range(operations[0], operations[1] + 1))
    ops = _alternatives(instance)
    assert {len(op) for op in ops} == set(range(1, n_machines + 1))
    times = {time for op in ops for _, time in op}
    assert times <= set(range(1, 21)) and {1, 20} <= times


def test_an_operations_times_stay_within_20_percent_of_one_mean() -> None:
    instance = generate_flexible_instance(50, 8, seed=3)
    spreads = set()
    for op in _alternatives(instance):
        times = [time for _, time in op]
        # Some mean m in 1..20 has every time in [max(1, round(0.8 m)), min(20, round(1.2 m))].
        assert any(
            max(1, round(0.8 * mean)) <= min(times) and max(times) <= min(20, round(1.2 * mean))
            for mean in range(1, 21)
        ), times
        spreads.add(max(times) - min(times))
    assert max(spreads) <= 8 and max(spreads) >= 4  # mean 20: 16..20
    flat = generate_flexible_instance(20, 6, seed=3, deviation=0)
    assert all(len({time for _, time in op}) == 1 for op in _alternatives(flat))


def test_independent_times_and_given_ranges() -> None:
    """deviation=None with M operations and 1..99 is Wang et al. (2023)'s SD2."""
    instance = generate_flexible_instance(
        30, 6, seed=5, operations=(6, 6), low=1, high=99, deviation=None
    )
    assert {len(routing) for routing in instance.operations} == {6}
    spreads = [max(t for _, t in op) - min(t for _, t in op) for op in _alternatives(instance)]
    assert max(spreads) > 60  # no common mean
    ranged = generate_flexible_instance(
        40, 7, seed=2, operations=(2, 3), machines_per_operation=(2, 4), low=5, high=9
    )
    assert {len(routing) for routing in ranged.operations} == {2, 3}
    assert {len(op) for op in _alternatives(ranged)} == {2, 3, 4}
    assert {time for op in _alternatives(ranged) for _, time in op} <= set(range(5, 10))


def test_machines_are_distinct_sorted_in_range_and_all_counted() -> None:
    instance = generate_flexible_instance(
        3, 9, seed=0, operations=(1, 1), machines_per_operation=(1, 1)
    )
    assert instance.n_machines == 9  # even when some machine is never eligible
    used = set()
    for op in _alternatives(generate_flexible_instance(60, 9, seed=4)):
        machines = [machine for machine, _ in op]
        assert machines == sorted(set(machines))
        assert all(0 <= machine < 9 for machine in machines)
        used.update(machines)
    assert used == set(range(9))


def test_it_round_trips_through_fjsplib() -> None:
    instance = generate_flexible_instance(5, 4, seed=8)
    again = parse_fjsplib(write_fjsplib(instance), name=instance.name)
    assert again.operations == instance.operations and again.n_machines == 4


def test_generate_instance_is_unchanged() -> None:
    """The classic generator's draws are pinned by fixed-seed results elsewhere."""
    instance = generate_instance(2, 3, seed=0)
    assert instance.durations == ((85, 64, 51), (27, 31, 5))
    assert instance.machines == ((2, 0, 1), (1, 2, 0))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_jobs": 0}, "n_jobs must be an integer >= 1"),
        ({"n_machines": 2.5}, "n_machines must be an integer >= 1"),
        ({"operations": (3, 2)}, r"operations needs 1 <= lo <= hi, got \(3, 2\)"),
        ({"operations": (0, 2)}, "operations needs 1 <= lo <= hi"),
        ({"operations": 4}, "operations must be a pair"),
        ({"operations": (1, "2")}, "operations must be a pair"),
        ({"machines_per_operation": (1, 6)}, r"machines_per_operation allows at most 5"),
        ({"machines_per_operation": (2, 1)}, "machines_per_operation needs 1 <= lo <= hi"),
        ({"low": 5, "high": 4}, "need 0 <= low <= high"),
        ({"low": -1}, "need 0 <= low <= high"),
        ({"high": 2.0}, "high must be an integer"),
        ({"high": 10**10}, "high must be at most"),
        ({"deviation": 1.0}, r"deviation must be a number in \[0, 1\)"),
        ({"deviation": True}, "deviation must be a number"),
        ({"n_jobs": 100_000, "operations": (10, 10)}, "operations; the limit is"),
    ],
)
def test_bad_arguments_are_refused_in_one_line(kwargs: dict, message: str) -> None:
    arguments = {"n_jobs": 4, "n_machines": 5, "seed": 0, **kwargs}
    with pytest.raises(ValueError, match=message) as error:
        generate_flexible_instance(**arguments)
    assert "\n" not in str(error.value)
