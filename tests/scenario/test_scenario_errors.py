"""Malformed scenarios raise ScenarioError naming the file, the field path and the value."""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import pytest
import yaml

from shopfloor.scenario import ScenarioError, load_scenario, parse_scenario

VALID = """\
name: shop
machines: [lathe, mill]
products:
  - name: widget
    routing:
      - {machine: lathe, duration: 2}
      - {machine: mill, duration: {kind: exponential, mean: 3}}
arrivals:
  interarrival: {kind: exponential, mean: 6}
  product_mix: {widget: 1}
  max_jobs: 10
"""


def _write(tmp_path: Path, text: str, name: str = "shop.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _raises(path: Path, *patterns: str) -> ScenarioError:
    """Load ``path`` and check the error message contains every pattern (regex)."""
    with pytest.raises(ScenarioError, match=re.escape(str(path))) as info:
        load_scenario(path)
    message = str(info.value)
    for pattern in patterns:
        assert re.search(pattern, message), f"{pattern!r} not in:\n{message}"
    return info.value


def test_the_valid_base_loads(tmp_path: Path) -> None:
    assert load_scenario(_write(tmp_path, VALID)).factory.products[0].name == "widget"


def test_yaml_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    path = _write(tmp_path, "name: shop\nmachines: [lathe, mill\njobs: []\n")
    error = _raises(path, r"shop\.yaml:3:5: YAML syntax error", r"line 2")
    assert error.problems[0].line == 3


def test_tab_indentation_is_a_syntax_error(tmp_path: Path) -> None:
    _raises(
        _write(tmp_path, "name: shop\nmachines:\n\t- lathe\n"), r"shop\.yaml:3:\d+: YAML syntax"
    )


def test_unknown_top_level_field(tmp_path: Path) -> None:
    path = _write(tmp_path, VALID + "colour: red\n")
    _raises(path, r"shop\.yaml:12: colour = 'red': unknown field", r"valid fields: name, ")


def test_unknown_nested_field_suggests_the_right_one(tmp_path: Path) -> None:
    path = _write(tmp_path, VALID.replace("  - name: widget\n", "  - name: widget\n    famly: a\n"))
    _raises(path, r"products\[0\]\.famly = 'a': unknown field; did you mean 'family'\?")


def test_unknown_machine_name_in_a_routing(tmp_path: Path) -> None:
    path = _write(tmp_path, VALID.replace("{machine: mill,", "{machine: drill,"))
    error = _raises(
        path,
        r"shop\.yaml:7: products\[0\]\.routing\[1\]\.machine = 'drill': unknown machine",
        r"machines: lathe, mill",
    )
    assert error.problems[0].path == "products[0].routing[1].machine"
    assert error.problems[0].value == "drill"


def test_unknown_names_are_all_reported_at_once(tmp_path: Path) -> None:
    text = VALID.replace("{machine: lathe,", "{machines: [lathe, saw],").replace("mill,", "mil,")
    error = _raises(
        path := _write(tmp_path, text),
        r"products\[0\]\.routing\[0\]\.machines\[1\] = 'saw': unknown machine",
        r"products\[0\]\.routing\[1\]\.machine = 'mil': unknown machine; did you mean 'mill'\?",
    )
    assert len(error.problems) == 2
    assert str(path) in str(error).splitlines()[1]


def test_negative_duration(tmp_path: Path) -> None:
    path = _write(tmp_path, VALID.replace("duration: 2", "duration: -2"))
    _raises(
        path,
        r"shop\.yaml:6: products\[0\]\.routing\[0\]\.duration = -2: .*greater than or equal to 0",
    )


def test_wrong_distribution_kind(tmp_path: Path) -> None:
    path = _write(tmp_path, VALID.replace("kind: exponential, mean: 6", "kind: poisson, mean: 6"))
    _raises(
        path, r"arrivals\.interarrival\.kind = 'poisson': unknown distribution kind", r"exponential"
    )


def test_distribution_without_kind_or_with_bad_parameters(tmp_path: Path) -> None:
    path = _write(tmp_path, VALID.replace("kind: exponential, mean: 6", "mean: 6"))
    _raises(path, r"arrivals\.interarrival: a distribution mapping needs `kind:`")
    path = _write(
        tmp_path, VALID.replace("kind: exponential, mean: 6", "kind: uniform, low: 5, high: 1")
    )
    _raises(path, r"arrivals\.interarrival: need 0 <= low <= high")
    path = _write(
        tmp_path, VALID.replace("kind: exponential, mean: 6", "kind: exponential, std: 6")
    )
    _raises(path, r"arrivals\.interarrival\.mean: required field is missing")
    path = _write(tmp_path, VALID.replace("{kind: exponential, mean: 6}", "fast"))
    _raises(path, r"arrivals\.interarrival = 'fast': expected a number >= 0 or a mapping")


def test_missing_required_field(tmp_path: Path) -> None:
    path = _write(tmp_path, VALID.replace("name: shop\n", ""))
    _raises(path, r"shop\.yaml:1: name: required field is missing")
    path = _write(tmp_path, VALID.replace("    routing:\n", "    rooting:\n"))
    _raises(path, r"products\[0\]\.routing: required field is missing", r"products\[0\]\.rooting")


def test_product_mix_naming_an_unknown_product(tmp_path: Path) -> None:
    path = _write(tmp_path, VALID.replace("{widget: 1}", "{widget: 0.5, gadget: 0.5}"))
    _raises(
        path,
        r"shop\.yaml:10: arrivals\.product_mix\.gadget = 'gadget': unknown product",
        r"products: widget",
    )


def test_unknown_material_and_family(tmp_path: Path) -> None:
    text = VALID.replace("duration: 2}", "duration: 2, materials: {steel: 1}}")
    _raises(
        _write(tmp_path, text),
        r"materials\.steel = 'steel': unknown material \(the scenario has no materials\)",
    )
    text = "families: [a]\n" + VALID.replace(
        "  - name: widget\n", "  - name: widget\n    family: b\n"
    )
    _raises(
        _write(tmp_path, text), r"products\[0\]\.family = 'b': unknown setup family", r"families: a"
    )


def test_duplicate_names_and_keys(tmp_path: Path) -> None:
    _raises(
        _write(tmp_path, VALID.replace("[lathe, mill]", "[lathe, lathe]")),
        r"machines\[1\]\.name = 'lathe': duplicate machine name \(also machines\[0\]\)",
    )
    _raises(_write(tmp_path, VALID + "name: again\n"), r"shop\.yaml:12: name: duplicate key")


def test_missing_file(tmp_path: Path) -> None:
    _raises(tmp_path / "nowhere.yaml", "file not found")


def test_unknown_bundled_name() -> None:
    with pytest.raises(
        ScenarioError, match=r"'flow_shop_smal': no bundled scenario.*'flow_shop_small'"
    ):
        load_scenario("flow_shop_smal")


def test_top_level_list_and_empty_file(tmp_path: Path) -> None:
    _raises(
        _write(tmp_path, "- lathe\n- mill\n"),
        r"shop\.yaml:1: the top level must be a mapping.*not a list",
    )
    _raises(_write(tmp_path, "# nothing\n"), r"shop\.yaml: the file is empty")


def test_inconsistent_factory(tmp_path: Path) -> None:
    text = VALID + "production: {machine: mill}\n"
    _raises(
        _write(tmp_path, text),
        r"products\[0\]\.routing\[0\]\.machine = 'lathe': the first operation must run on the "
        r"production machine 'mill'",
    )
    text = VALID.replace("  max_jobs: 10\n", "")
    _raises(_write(tmp_path, text), r"shop\.yaml:8: arrivals: set `max_jobs` or `until`")
    text = VALID.replace("    routing:\n", "    demand: {rate: 1}\n    routing:\n")
    _raises(
        _write(tmp_path, text), r"horizon: required: products\[0\] \(widget\) has customer demand"
    )
    text = "name: shop\nmachines: [lathe]\n"
    _raises(_write(tmp_path, text), r"jobs: the factory has no work")


def test_rate_profile_loads_and_bad_ones_name_the_field(tmp_path: Path) -> None:
    text = VALID + "  rate_profile: {segment: 50, factors: [0.5, 1.5]}\n"
    profile = load_scenario(_write(tmp_path, text)).factory.arrivals.rate_profile
    assert profile is not None and profile.segment == 50.0 and profile.factors == (0.5, 1.5)
    bad = text.replace("[0.5, 1.5]", "[0.5, -1]")
    _raises(
        _write(tmp_path, bad),
        r"shop\.yaml:12: arrivals\.rate_profile\.factors\[1\] = -1: .*greater than or equal to 0",
    )
    _raises(
        _write(tmp_path, text.replace("[0.5, 1.5]", "[0, 0]")),
        r"arrivals\.rate_profile: factors need a value > 0",
    )
    _raises(
        _write(tmp_path, text.replace("segment: 50", "segment: 0")),
        r"arrivals\.rate_profile\.segment = 0: .*greater than 0",
    )


def test_instance_excludes_factory_fields(tmp_path: Path) -> None:
    _raises(
        _write(tmp_path, "name: x\ninstance: ft06\nmachines: [a]\n"),
        r"shop\.yaml:3: machines: not allowed together with `instance: ft06`",
    )


def test_unknown_instance(tmp_path: Path) -> None:
    pytest.importorskip("shopfloor.instances")
    _raises(
        _write(tmp_path, "name: x\ninstance: no_such_instance\n"), r"instance = 'no_such_instance'"
    )


def test_parse_scenario_names_its_source_and_rejects_non_mappings() -> None:
    data = yaml.safe_load(VALID.replace("mill,", "drill,"))
    with pytest.raises(
        ScenarioError, match=r"^inline: products\[0\]\.routing\[1\]\.machine = 'drill'"
    ):
        parse_scenario(data, source="inline")
    with pytest.raises(
        ScenarioError, match=r"^<string>: the top level must be a mapping.*not a list"
    ):
        parse_scenario(["a"])


def test_scenario_error_is_a_value_error_and_pickles(tmp_path: Path) -> None:
    with pytest.raises(ValueError) as info:
        load_scenario(_write(tmp_path, VALID.replace("mill,", "drill,")))
    error = info.value
    assert isinstance(error, ScenarioError)
    copy = pickle.loads(pickle.dumps(error))
    assert (
        str(copy) == str(error) and copy.problems == error.problems and copy.source == error.source
    )


def test_no_traceback_chain_hides_the_message(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(_write(tmp_path, VALID.replace("duration: 2", "duration: -2")))
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_product_mix_must_sum_to_one(tmp_path: Path) -> None:
    error = _raises(
        _write(tmp_path, VALID.replace("{widget: 1}", "{widget: 0.9}")),
        r"shop\.yaml:10: arrivals\.product_mix: the probabilities sum to 0\.9, not 1",
    )
    assert error.problems[0].path == "arrivals.product_mix"
    _raises(
        _write(tmp_path, VALID.replace("{widget: 1}", "{widget: 0}")),
        r"arrivals\.product_mix: the probabilities sum to 0, not 1",
    )
    rounded = load_scenario(_write(tmp_path, VALID.replace("{widget: 1}", "{widget: 0.9999}")))
    assert rounded.factory.arrivals is not None
    assert rounded.factory.arrivals.product_mix == (0.9999,)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("max_jobs: 10", "max_jobs: true", r"shop\.yaml:11: arrivals\.max_jobs = True: "),
        ("max_jobs: 10", "max_jobs: false", r"shop\.yaml:11: arrivals\.max_jobs = False: "),
        (
            "name: shop\n",
            "name: shop\njobs: [{product: widget, quantity: true}]\n",
            r"shop\.yaml:2: jobs\[0\]\.quantity = True: ",
        ),
        (
            "product_mix: {widget: 1}",
            "random_routing: {min_operations: true, max_operations: 2, duration: 1}",
            r"shop\.yaml:10: arrivals\.random_routing\.min_operations = True: ",
        ),
        (
            "  max_jobs: 10\n",
            "  max_jobs: 10\nproduction: {machine: lathe, lot_sizes: [1, true]}\n",
            r"shop\.yaml:12: production\.lot_sizes\[1\] = True: ",
        ),
        (
            "    routing:\n",
            "    demand: {rate: 1, season_length: true}\n    routing:\n",
            r"shop\.yaml:5: products\[0\]\.demand\.season_length = True: ",
        ),
    ],
)
def test_booleans_are_not_integers(tmp_path: Path, old: str, new: str, expected: str) -> None:
    error = _raises(
        _write(tmp_path, VALID.replace(old, new)), expected + "expected an integer, not a boolean"
    )
    assert isinstance(error.problems[0].value, bool)


def test_numbers_and_flags_are_checked_strictly(tmp_path: Path) -> None:
    _raises(
        _write(tmp_path, VALID.replace("max_jobs: 10", "max_jobs: 10.0")),
        r"arrivals\.max_jobs = 10\.0: expected an integer \(no decimal point\)",
    )
    _raises(
        _write(tmp_path, VALID.replace("max_jobs: 10", "max_jobs: '10'")),
        r"arrivals\.max_jobs = '10': expected an integer, not a string",
    )
    _raises(
        _write(
            tmp_path,
            VALID.replace("  - name: widget\n", "  - name: widget\n    holding_cost: true\n"),
        ),
        r"shop\.yaml:5: products\[0\]\.holding_cost = True: expected a number, not a boolean",
    )
    _raises(
        _write(tmp_path, VALID + "backorders: 1\n"),
        r"shop\.yaml:12: backorders = 1: expected true or false, not a number",
    )
