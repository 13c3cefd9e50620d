"""Scenario files within the documented limits load; beyond them, one clear error each.

Every case a hostile tester found (an alias bomb, deep nesting, a NUL character, a
failure every 1e-300, a Weibull shape of 1e-5, a duration of 1e308, material that can
never be stocked) is one ScenarioError line naming the file, the field, the value and
the limit, raised before anything big is built; limits are tested at the boundary.
"""

from __future__ import annotations

import json
import math
import re
import time
from pathlib import Path

import pytest

from shopfloor.scenario import ScenarioError, load_scenario
from shopfloor.sim import LIMITS, DispatchingRule, Factory, choose_job

ONE_JOB = """\
name: shop
machines: [lathe]
jobs:
  - {routing: [{machine: lathe, duration: 5}]}
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "shop.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _refused(tmp_path: Path, text: str, *patterns: str) -> str:
    """Load ``text``: one ScenarioError line, quickly, matching every pattern."""
    path = _write(tmp_path, text)
    started = time.perf_counter()
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert time.perf_counter() - started < 10.0
    message = str(info.value)
    assert message.startswith(str(path))
    for pattern in patterns:
        assert re.search(pattern, message), f"{pattern!r} not in:\n{message}"
    return message


def _loads(tmp_path: Path, text: str) -> Factory:
    return Factory(load_scenario(_write(tmp_path, text)).factory, seed=0)


def _one_line(message: str) -> None:
    assert "\n" not in message and len(message) < 600, message


# ------------------------------------------------------------------ YAML


def test_an_alias_bomb_is_one_short_line(tmp_path: Path) -> None:
    bomb = "x-a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
        f"x-{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]\n"
        for previous, name in zip("abcdefgh", "bcdefghi", strict=True)
    )
    message = _refused(
        tmp_path,
        bomb + "name: shop\nmachines: *i\n",
        r"shop\.yaml:\d+:\d+: the document expands to more than 1,000,000 values",
    )
    _one_line(message)


def test_deep_nesting_is_one_line(tmp_path: Path) -> None:
    text = "name: shop\nmachines: " + "[" * 5000 + "]" * 5000 + "\n"
    _one_line(_refused(tmp_path, text, r"shop\.yaml:2:\d+: lists and mappings nested more"))


def test_a_nul_character_names_its_place(tmp_path: Path) -> None:
    message = _refused(
        tmp_path, ONE_JOB.replace("lathe]", "lathe\x00]"), r"shop\.yaml:2:17: a NUL character"
    )
    _one_line(message)


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf"])
def test_nan_and_inf_are_no_numbers(tmp_path: Path, value: str) -> None:
    _refused(tmp_path, ONE_JOB.replace("duration: 5", f"duration: {value}"), r"duration")


def test_huge_values_and_keys_are_cut_in_messages(tmp_path: Path) -> None:
    huge = "y" * 100_000
    message = _refused(tmp_path, ONE_JOB.replace("duration: 5", f"duration: {huge}"))
    _one_line(message)
    key = "k" * 1000  # YAML's longest plain key is 1024 characters
    message = _refused(tmp_path, ONE_JOB + f"{key}: 1\n", "unknown field")
    _one_line(message)


def test_many_problems_are_counted_not_listed(tmp_path: Path) -> None:
    jobs = "".join("  - {routing: [{machine: drill, duration: 5}]}\n" for _ in range(500))
    message = _refused(tmp_path, ONE_JOB + jobs, r"\.\.\. and 480 more problems")
    assert len(message.splitlines()) == 21


# ------------------------------------------------------------ values


@pytest.mark.parametrize(
    ("old", "new", "patterns"),
    [
        (
            "machines: [lathe]",
            "machines: [{name: lathe, breakdown: {time_to_failure: 1.0e-300, repair_time: 1}}]",
            [r"machines\[0\]\.breakdown: time_to_failure must have a mean of at least 1e-06"],
        ),
        (
            "duration: 5",
            "duration: {kind: weibull, shape: 1.0e-5, scale: 1}",
            [r"duration\.shape = 1e-05: must be at least 0\.1 \(the limit"],
        ),
        (
            "duration: 5",
            "duration: 1.0e+308",
            [r"jobs\[0\]\.routing\[0\]\.duration = 1e\+308: must be at most 1e\+09 \(the limit"],
        ),
        (
            "duration: 5",
            "duration: {kind: lognormal, mean: 1.0e-300, std: 1000}",
            [r"std must be at most 1000 times the mean"],
        ),
        (
            "duration: 5",
            "duration: {kind: weibull, shape: 0.1, scale: 1000}",
            [r"mean \(scale \* Gamma\(1 \+ 1/shape\)\) must be at most 1e\+09"],
        ),
        (
            "duration: 5}]",
            "duration: 5}], quantity: 1000000001",
            [r"jobs\[0\]\.quantity = 1000000001: must be at most 1e\+09 \(the limit"],
        ),
    ],
    ids=[
        "failure every 1e-300",
        "weibull shape 1e-5",
        "duration 1e308",
        "lognormal",
        "mean",
        "qty",
    ],
)
def test_values_beyond_the_limits_are_refused(
    tmp_path: Path, old: str, new: str, patterns: list[str]
) -> None:
    _one_line(_refused(tmp_path, ONE_JOB.replace(old, new), *patterns))


def test_times_at_the_limit_load_and_keep_kpis_finite(tmp_path: Path) -> None:
    text = """\
name: shop
machines: [{name: lathe, setup: {time: 1.0e+9, cost: 1.0e+9}}]
products:
  - {name: a, family: a, routing: [{machine: lathe, duration: 1.0e+9}], holding_cost: 1.0e+9}
  - {name: b, family: b, routing: [{machine: lathe, duration: 1.0e+9}]}
jobs:
  - {product: a, release_time: 1.0e+9, due_date: 0, weight: 1.0e+9, quantity: 1000000000}
  - {product: b, due_date: 1.0e+9, weight: 1.0e+9}
horizon: 1.0e+9
"""
    factory = _loads(tmp_path, text)
    while factory.next_decision():
        machine = factory.decision_machine()
        queue = factory.queue(machine)
        factory.start(choose_job(DispatchingRule.FIFO, factory, machine, queue), machine)
    kpis = factory.kpis().as_dict()
    assert all(math.isfinite(value) for value in kpis.values())
    json.dumps(kpis, allow_nan=False)
    _refused(tmp_path, text.replace("horizon: 1.0e+9", "horizon: 1.000001e+9"), "horizon")


def test_the_mean_time_to_failure_limit_is_exact(tmp_path: Path) -> None:
    breakdown = "{time_to_failure: %s, repair_time: 10}"
    text = ONE_JOB.replace(
        "machines: [lathe]", f"machines: [{{name: lathe, breakdown: {breakdown % '1.0e-6'}}}]"
    )
    load_scenario(_write(tmp_path, text))
    _refused(tmp_path, text.replace("1.0e-6", "0.99e-6"), "at least 1e-06")


# ------------------------------------------------------------ sizes


def test_list_sizes_at_the_limit(tmp_path: Path) -> None:
    names = [f"m{index}" for index in range(LIMITS.max_machines)]
    text = ONE_JOB.replace("machines: [lathe]", f"machines: [lathe, {', '.join(names[1:])}]")
    assert len(load_scenario(_write(tmp_path, text)).factory.machines) == LIMITS.max_machines
    message = _refused(
        tmp_path,
        text.replace("machines: [lathe,", "machines: [lathe, extra,"),
        r"shop\.yaml:2: machines = \[.*\]: 10,001 entries; the limit is 10,000",
    )
    _one_line(message)


def test_routing_length_limit(tmp_path: Path) -> None:
    operation = "{machine: lathe, duration: 0}"
    too_long = ", ".join([operation] * (LIMITS.max_operations_per_job + 1))
    _refused(
        tmp_path,
        ONE_JOB.replace("routing: [{machine: lathe, duration: 5}]", f"routing: [{too_long}]"),
        r"jobs\[0\]\.routing = .*: 10,001 entries; the limit is 10,000",
    )


def test_setup_families_are_bounded_before_the_matrices_are_built(tmp_path: Path) -> None:
    families = ", ".join(f"f{index}" for index in range(LIMITS.max_families + 1))
    text = ONE_JOB.replace("machines: [lathe]", "machines: [{name: lathe, setup: {time: 1}}]") + (
        f"families: [{families}]\n"
    )
    _refused(tmp_path, text, r"families = \[.*\]: 1,001 entries; the limit is 1,000")


def test_arrivals_max_jobs_limit(tmp_path: Path) -> None:
    text = """\
name: shop
machines: [lathe]
products: [{name: a, routing: [{machine: lathe, duration: 1}]}]
arrivals: {interarrival: 1, product_mix: {a: 1}, max_jobs: 1000001}
"""
    _refused(tmp_path, text, r"arrivals\.max_jobs = 1000001: must be at most 1e\+06")


# ------------------------------------------------------------ episodes that never end


def test_an_episode_of_more_than_a_million_events_is_refused_exactly(tmp_path: Path) -> None:
    # One job (4 events) plus failures: 2 events per failure-and-repair cycle of 2 time units.
    text = (
        ONE_JOB.replace(
            "machines: [lathe]",
            "machines: [{name: lathe, breakdown: {time_to_failure: 1, repair_time: 1}}]",
        )
        + "horizon: %s\n"
    )
    spec = load_scenario(_write(tmp_path, text % "999996")).factory
    assert sum(count for count, _ in spec.expected_events().values()) == LIMITS.max_events
    message = _refused(
        tmp_path,
        text % "999997",
        r"shop\.yaml:2: machines\[0\]\.breakdown: one episode would take about 1e\+06 "
        r"simulation events, more than the limit of 1,000,000; most come from a failure every 1",
    )
    _one_line(message)


def test_endless_arrivals_before_until_are_refused(tmp_path: Path) -> None:
    text = """\
name: shop
machines: [lathe]
products: [{name: a, routing: [{machine: lathe, duration: 1}]}]
arrivals: {interarrival: 0.00001, product_mix: {a: 1}, until: 1000}
"""
    _refused(tmp_path, text, r"arrivals: one episode .* about 1e\+08 arriving jobs")


def test_demand_periods_are_bounded(tmp_path: Path) -> None:
    text = """\
name: shop
machines: [press]
products:
  - {name: a, routing: [{machine: press, duration: 1}], demand: {rate: 1}}
production: {machine: press}
horizon: 1000
demand_period: 0.0001
"""
    _refused(tmp_path, text, r"products\[0\]\.demand: one episode .* 1e\+07 demand periods")
    _refused(
        tmp_path,
        text.replace("rate: 1}", "rate: 1000, trend: 1000000}").replace("0.0001", "1"),
        r"products\[0\]\.demand: the demand per period can reach",
    )


def test_a_production_lot_must_take_time(tmp_path: Path) -> None:
    text = """\
name: shop
machines: [press]
products:
  - {name: a, routing: [{machine: press, duration: 0}], demand: {rate: 1}}
production: {machine: press}
horizon: 100
"""
    _refused(tmp_path, text, r"products\[0\]\.routing\[0\]: must take a mean time of at least")


# ------------------------------------------------------------ materials


MATERIAL = """\
name: shop
machines: [lathe]
materials:
  - {name: steel, initial_stock: %s, reorder_point: %s, order_quantity: %s, lead_time: 1}
jobs:
  - {routing: [{machine: lathe, duration: 5, materials: {steel: 2}}]}
  - {routing: [{machine: lathe, duration: 5, materials: {steel: %s}}]}
"""


def test_material_that_can_never_be_stocked_is_refused(tmp_path: Path) -> None:
    # Position 0 is above the reorder point -1: nothing is ever ordered.
    message = _refused(
        tmp_path,
        MATERIAL % (0, -1, 5, 2),
        r"shop\.yaml:6: jobs\[0\]\.routing\[0\]\.materials: needs 2 steel at once, but at most 0",
        "never reordered",
    )
    _one_line(message)
    # Orders lift the stock to at most reorder_point + order_quantity = 5.
    _refused(tmp_path, MATERIAL % (0, 0, 5, 7), r"jobs\[1\]\.routing\[0\]\.materials: needs 7")
    assert _loads(tmp_path, MATERIAL % (0, 0, 5, 5)).spec.materials[0].name == "steel"


def test_a_tiny_order_quantity_is_refused(tmp_path: Path) -> None:
    _refused(
        tmp_path,
        MATERIAL % (0, 1000000, 0.001, 2),
        r"materials\[0\]: order_quantity 0\.001 is tiny against the reorder point",
    )
    _refused(
        tmp_path,
        MATERIAL % (0, 0, "0.000001", 2),
        r"materials\[0\]: order_quantity 1e-06 is tiny against the 2 units",
    )
