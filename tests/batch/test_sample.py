"""Many schedules in one call: rules agree with the factory's, random ones are valid."""

from __future__ import annotations

import numpy as np
import pytest

from shopfloor.batch import best_of_random, sample_schedules
from shopfloor.instances import load_instance
from shopfloor.policies import dispatch_earliest
from shopfloor.sim import Factory


@pytest.mark.parametrize("rule", ["spt", "lpt", "mwkr", "lwkr", "mopnr"])
def test_rules_in_non_delay_give_the_factorys_makespans(rule: str) -> None:
    names = ["ft06", "la01", "la16", "orb07", "ta01"]
    samples = sample_schedules(names, rule=rule)
    for name, makespan in zip(names, samples.makespans, strict=True):
        factory = Factory(load_instance(name).to_factory_spec(), seed=0)
        dispatch_earliest(factory, rule, tie_break="job")
        assert makespan == factory.kpis().makespan, name


def test_n_schedules_of_one_instance_and_of_many() -> None:
    one = sample_schedules("ft06", 64, mode="append", seed=1, schedules=True)
    assert one.makespans.shape == (64,) and (one.instance_index == 0).all()
    assert len(set(one.makespans.tolist())) > 5  # random schedules differ
    assert one.start_times is not None and one.end_times is not None
    assert (one.end_times.max(axis=(1, 2)) == one.makespans).all()
    again = sample_schedules("ft06", 64, mode="append", seed=1)
    np.testing.assert_array_equal(one.makespans, again.makespans)  # seeded
    many = sample_schedules(["ft06", "la01"], 3, rule="mwkr")
    assert many.instance_index.tolist() == [0, 0, 0, 1, 1, 1]
    assert many.best().tolist() == [0, 3]
    assert len(set(many.makespans[:3].tolist())) == 1  # a rule is deterministic


def test_best_of_random_is_the_minimum_and_modes_order_their_spaces() -> None:
    best = {mode: best_of_random("ft06", 256, mode=mode, seed=0)[0] for mode in ("active",)}
    samples = sample_schedules("ft06", 256, mode="active", seed=0)
    assert best["active"] == samples.makespans.min() >= 55  # the optimum of ft06


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="unknown rule 'edd'"):
        sample_schedules("ft06", rule="edd")
    with pytest.raises(ValueError, match="n: expected"):
        sample_schedules("ft06", 0)


@pytest.mark.parametrize("rule", ["mwkr", "spt"])
def test_torch_rules_pick_what_numpy_picks(rule: str) -> None:
    names = ["ft06", "la01", "orb07"]
    for mode in ("non_delay", "active", "append"):
        numpy_ = sample_schedules(names, rule=rule, mode=mode, schedules=True)
        torch_ = sample_schedules(
            names, rule=rule, mode=mode, schedules=True, backend="torch", device="cpu"
        )
        np.testing.assert_array_equal(numpy_.makespans, torch_.makespans)
        np.testing.assert_array_equal(numpy_.start_times, torch_.start_times)
    random = sample_schedules("ft06", 32, backend="torch", device="cpu", seed=0)
    assert random.makespans.min() >= 55 and len(set(random.makespans.tolist())) > 3


@pytest.mark.parametrize("rule", ["spt", "lpt", "mwkr", "lwkr", "mopnr"])
def test_rules_on_flexible_instances_give_the_factorys_makespans(rule: str) -> None:
    names = ["mk01", "mk02", "hurink_vdata_la01", "hurink_edata_orb07"]
    samples = sample_schedules(names, rule=rule, schedules=True)
    for name, makespan in zip(names, samples.makespans, strict=True):
        factory = Factory(load_instance(name).to_factory_spec(), seed=0)
        dispatch_earliest(factory, rule, tie_break="job")
        assert makespan == factory.kpis().makespan, name
    assert samples.end_times is not None
    assert (np.nanmax(samples.end_times, axis=(1, 2)) == samples.makespans).all()


def test_random_flexible_schedules_differ_and_are_seeded() -> None:
    first = sample_schedules("mk01", 64, mode="active", seed=3)
    again = sample_schedules(load_instance("mk01"), 64, mode="active", seed=3)
    np.testing.assert_array_equal(first.makespans, again.makespans)
    assert len(set(first.makespans.tolist())) > 3 and first.makespans.min() >= 39  # mk01: 40


def test_flexible_rules_and_random_pairs_on_torch() -> None:
    for rule in ("spt", "mwkr", "mopnr"):
        numpy_ = sample_schedules(["mk01", "mk02"], rule=rule, mode="active")
        torch_ = sample_schedules(
            ["mk01", "mk02"], rule=rule, mode="active", backend="torch", device="cpu"
        )
        np.testing.assert_array_equal(numpy_.makespans, torch_.makespans)
    random = sample_schedules("mk01", 16, backend="torch", device="cpu", schedules=True)
    assert random.start_times is not None
    scheduled = (~np.isnan(random.start_times)).sum(axis=(1, 2))
    assert (scheduled == load_instance("mk01").n_operations).all()  # jobs of unequal length
