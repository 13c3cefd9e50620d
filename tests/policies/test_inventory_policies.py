"""Base-stock and (s, S) production heuristics, urgent and cyclic product choice."""

import pytest

from shopfloor.policies import BaseStockPolicy, simulate
from shopfloor.scenario import load_scenario
from shopfloor.sim import Factory


@pytest.fixture(scope="module")
def spec():
    return load_scenario("production_inventory").factory


def first_choice(spec, policy):
    factory = Factory(spec, seed=0)
    assert factory.next_decision() and factory.decision_kind() == "produce"
    return factory, policy.choose(factory)


def test_urgent_choice_closes_the_largest_relative_gap(spec):
    from shopfloor.sim import expected_demand

    _, (product, lot) = first_choice(spec, BaseStockPolicy(cover=4.0, safety=0.0))
    urgency, gaps = [], []
    for p in spec.products:
        mean = sum(expected_demand(p.demand, t) for t in range(4))
        gap = mean - p.initial_stock
        gaps.append(gap)
        urgency.append(gap / mean if gap > 0 else float("-inf"))
    expected = max(range(len(urgency)), key=lambda i: urgency[i])
    assert product == expected
    lots = sorted(spec.production.lot_sizes)
    assert lot == next((q for q in lots if q >= gaps[expected]), lots[-1])


def test_cyclic_sequence_moves_to_the_next_product(spec):
    policy = BaseStockPolicy(cover=30.0, safety=0.0, sequence="cyclic")
    factory = Factory(spec, seed=0)
    produced = []
    while factory.next_decision() and len(produced) < 6:
        if factory.decision_kind() == "dispatch":
            machine = factory.decision_machine()
            factory.start(factory.queue(machine)[0], machine)
            continue
        choice = policy.choose(factory)
        if choice is None:
            factory.idle()
        else:
            produced.append(choice[0])
            factory.produce(*choice)
    # With a long cover every product stays below its target: strict rotation.
    assert produced == [0, 1, 2, 0, 1, 2]


def test_s_S_policy_produces_bigger_rarer_lots_than_base_stock(spec):
    base = simulate(spec, "fifo", seed=1, production=BaseStockPolicy(cover=6.0))
    s_s = simulate(spec, "fifo", seed=1, production=BaseStockPolicy(cover=6.0, reorder_cover=2.0))
    lots_base = sum(1 for e in base.log if e[1] == "produce")
    lots_s_s = sum(1 for e in s_s.log if e[1] == "produce")
    assert lots_s_s < lots_base
    assert s_s.kpis().setups <= base.kpis().setups


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"cover": 0}, r"cover must be in \(0, 1000.0\]"),
        ({"reorder_cover": 9.0}, r"reorder_cover must lie"),
        ({"sequence": "lifo"}, "sequence must be one of"),
    ],
)
def test_bad_settings_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        BaseStockPolicy(**kwargs)


@pytest.mark.parametrize("cover", [0.0, 1000.5, 1e6, float("inf"), float("nan")])
def test_a_cover_out_of_range_is_refused_before_any_period_is_summed(cover):
    with pytest.raises(ValueError, match=r"cover must be in \(0, 1000.0\]"):
        BaseStockPolicy(cover=cover)
    assert BaseStockPolicy(cover=1000.0).cover == 1000.0
