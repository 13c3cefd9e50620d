"""Inventory trajectories replayed from event logs match the factory's own state."""

from __future__ import annotations

import dataclasses

import pytest

from shopfloor.plots import inventory
from shopfloor.plots._events import EventRow, stock_trajectories
from shopfloor.policies import BaseStockPolicy, simulate
from shopfloor.sim import Factory


def initial(spec) -> list[float]:
    return [product.initial_stock for product in spec.products]


@pytest.mark.parametrize(
    ("seed", "production"),
    [
        (0, None),
        (0, BaseStockPolicy(cover=0.5, safety=0.0)),
        (1, BaseStockPolicy(cover=0.5, safety=0.0)),
    ],
)
def test_trajectories_end_at_the_factorys_stock_and_backlog(
    production_spec, tmp_path, assert_figures, seed, production
):
    factory = simulate(production_spec, "fifo", seed, production=production)
    log = factory.write_event_log(tmp_path / "events.csv")
    plot = inventory(log, tmp_path / "inventory")
    assert_figures(plot.paths, tmp_path / "inventory")
    assert [t.product for t in plot.trajectories] == [0, 1, 2]
    assert [t.finished_goods[-1] for t in plot.trajectories] == factory.finished_goods
    assert [t.backlog[-1] for t in plot.trajectories] == factory.backlog
    # The log does not hold the stock at t=0; every product ran out, which pins it.
    assert [t.initial_stock for t in plot.trajectories] == initial(production_spec)
    assert {t.initial_stock_source for t in plot.trajectories} == {"stock-out"}
    for trajectory in plot.trajectories:
        assert trajectory.times[0] == 0.0 and trajectory.times[-1] == factory.now
        assert min(trajectory.finished_goods) >= 0 and min(trajectory.backlog) >= 0


def test_the_backlog_run_ends_with_a_backlog(production_spec):
    factory = simulate(production_spec, "fifo", 0, production=BaseStockPolicy(cover=0.5, safety=0))
    assert sum(factory.backlog) > 0  # so the test above checks a non-trivial end


def test_trajectories_follow_the_factory_decision_by_decision(production_spec):
    """Replaying the log so far gives the factory's stock and backlog at every decision."""
    factory = Factory(production_spec, seed=3)
    production = BaseStockPolicy(cover=1.0, safety=0.0)
    given = initial(production_spec)
    checked = 0
    while factory.next_decision():
        if factory.decisions % 15 == 0:
            replay = stock_trajectories([EventRow(*row) for row in factory.log], given)
            for product in range(len(production_spec.products)):
                trajectory = replay.get(product)
                stock = trajectory.finished_goods[-1] if trajectory else given[product]
                backlog = trajectory.backlog[-1] if trajectory else 0.0
                assert (stock, backlog) == (
                    factory.finished_goods[product],
                    factory.backlog[product],
                ), f"t={factory.now} product {product}"
            checked += 1
        if factory.decision_kind() == "dispatch":
            machine = factory.decision_machine()
            factory.start(factory.queue(machine)[0], machine)
        else:
            choice = production.choose(factory)
            factory.idle() if choice is None else factory.produce(*choice)
    assert checked > 20


def test_lost_sales_and_demand_bars(production_spec, tmp_path):
    products = tuple(
        dataclasses.replace(product, lost_sale_cost=1.0 + index)
        for index, product in enumerate(production_spec.products)
    )
    spec = dataclasses.replace(production_spec, backorders=False, products=products)
    factory = simulate(spec, "fifo", 0, production=BaseStockPolicy(cover=0.5, safety=0))
    log = factory.write_event_log(tmp_path / "lost.csv")
    plot = inventory(log, tmp_path / "lost", products=[2, 0], initial_stock=initial(spec))
    assert [t.product for t in plot.trajectories] == [2, 0]
    for trajectory in plot.trajectories:
        product = trajectory.product
        assert trajectory.finished_goods[-1] == factory.finished_goods[product]
        assert set(trajectory.backlog) == {0.0}
        assert trajectory.initial_stock_source == "given"
        # Demand bars: every period with demand, as the factory recorded it.
        history = factory.demand_history[product]
        assert list(trajectory.demand_units) == [float(u) for u in history if u]
        assert list(trajectory.demand_times) == [
            (period + 1) * spec.demand_period for period, units in enumerate(history) if units
        ]
    lost_cost = sum(
        spec.products[t.product].lost_sale_cost * t.lost_units
        for t in inventory(log, tmp_path / "all").trajectories
    )
    assert lost_cost == pytest.approx(factory.kpis().lost_sales_cost)
    assert lost_cost > 0


def test_a_job_shop_log_is_an_error_saying_it_has_no_inventory(ft06_log, tmp_path):
    with pytest.raises(ValueError) as info:
        inventory(ft06_log, tmp_path / "x")
    message = str(info.value)
    assert message.startswith(f"{ft06_log}: the log holds no inventory: no demand, ship, ")
    assert "job-shop log" in message and "production_inventory" in message
    assert "(none)" not in message and not (tmp_path / "x.png").exists()


def test_products_not_in_the_log_are_named(production_spec, tmp_path):
    log = simulate(production_spec, "fifo", 0).write_event_log(tmp_path / "events.csv")
    with pytest.raises(ValueError, match=r"products \[7\] not in the log; it holds \[0, 1, 2\]"):
        inventory(log, tmp_path / "x", products=[0, 7])
    with pytest.raises(ValueError, match="no products to draw"):
        inventory(log, tmp_path / "x", products=[])


def test_the_cli_takes_names_and_initial_stock_from_the_scenario(tmp_path, monkeypatch):
    from shopfloor.cli import main
    from shopfloor.plots import _inventory
    from shopfloor.scenario import load_scenario, scenario_path

    events = tmp_path / "events.csv"
    assert main(["simulate", "production_inventory", "--events-csv", str(events), "--json"]) == 0
    titles: list[list[str]] = []
    save = _inventory.save_figure

    def keep_titles(figure, out):
        titles.append([axes.get_title(loc="left") for axes in figure.axes])
        return save(figure, out)

    monkeypatch.setattr(_inventory, "save_figure", keep_titles)
    products = load_scenario(scenario_path("production_inventory")).factory.products
    assert main(["plot", "inventory", str(events), "--scenario", "production_inventory"]) == 0
    assert [title.split(",")[0] for title in titles[-1]] == [
        f"{p.name}: initial stock {p.initial_stock:g}" for p in products
    ]
    assert main(["plot", "inventory", str(events)]) == 0
    assert [title.split(":")[0] for title in titles[-1]] == [
        f"product {i}" for i in range(len(products))
    ]
    assert main(["plot", "gantt", str(events), "--scenario", "production_inventory"]) == 0
    assert main(["plot", "bench", str(events), "--scenario", "production_inventory"]) == 2
