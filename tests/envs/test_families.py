"""The env family registry: ids and versions, what each accepts, and which family fits."""

from __future__ import annotations

import inspect

import gymnasium as gym
import pytest

from shopfloor.envs import (
    ENV_IDS,
    FAMILIES,
    Decisions,
    RetiredEnvError,
    check_env_id,
    family_for,
    family_of,
)
from shopfloor.forecast import ArrivalForecastObservation
from shopfloor.scenario import resolve_target


def test_every_family_is_registered_under_its_current_id():
    assert FAMILIES.ids == ENV_IDS
    assert ENV_IDS == (
        "shopfloor/JobShop-v0",
        "shopfloor/DynamicJobShop-v1",
        "shopfloor/ProductionInventory-v0",
    )
    for family in FAMILIES.values():
        assert gym.spec(family.id).entry_point == family.entry_point
        assert FAMILIES.of_id(family.id) is family
    assert FAMILIES.of_id("CartPole-v1") is None
    assert FAMILIES.of_id("shopfloor/JobShop-v7") is None


def test_dynamic_job_shop_v0_is_retired_with_a_message_naming_v1():
    assert "shopfloor/DynamicJobShop-v0" not in gym.registry
    with (
        pytest.warns(DeprecationWarning, match="out of date"),
        pytest.raises(gym.error.DeprecatedEnv, match=r"Please use `shopfloor/DynamicJobShop-v1`"),
    ):
        gym.make("shopfloor/DynamicJobShop-v0")
    with pytest.raises(RetiredEnvError, match=r"DynamicJobShop-v0 is retired: its observation"):
        check_env_id("shopfloor/DynamicJobShop-v0")
    check_env_id("shopfloor/DynamicJobShop-v1")
    check_env_id("shopfloor/JobShop-v0")


@pytest.mark.parametrize("name", list(FAMILIES))
def test_a_family_says_what_its_env_accepts_and_its_version(name):
    family = FAMILIES[name]
    parameters = set(inspect.signature(family.env_class).parameters)
    assert set(family.sources) <= parameters
    assert set(family.options) <= parameters
    assert family.modes == () or "mode" in family.options
    history = (family.env_class.__doc__ or "").split("## Version History")[1]
    assert f"* v{family.version}:" in history
    for version in family.retired:
        assert f"* v{version}:" in history  # a retired version keeps its entry
    env = gym.make(family.id)
    try:
        assert family_of(env) is family
        assert family_of(gym.wrappers.RecordEpisodeStatistics(env)) is family
    finally:
        env.close()


@pytest.mark.parametrize(
    ("target", "name"),
    [
        ("ft06", "JobShop"),
        ("dynamic_job_shop_small", "DynamicJobShop"),
        ("production_inventory", "ProductionInventory"),
    ],
)
def test_the_family_of_a_target_builds_its_env(target, name):
    _, spec = resolve_target(target)
    family = family_for(spec)
    assert family is FAMILIES[name]
    kwargs = family.target_kwargs(target, spec, "active" if family.modes else None)
    env = gym.make(family.id, **kwargs)
    try:
        assert family_of(env) is family
        if family.modes:
            assert env.unwrapped.mode == "active"
    finally:
        env.close()


def test_rule_kwargs_offer_a_rule_only_where_actions_are_rules():
    dynamic, job_shop = FAMILIES["DynamicJobShop"], FAMILIES["JobShop"]
    assert dynamic.decisions is Decisions.RULES_OR_SLOTS
    assert dynamic.rule_kwargs({"scenario": "x"}, "atc") == {"scenario": "x", "rules": ["atc"]}
    job_mode = {"scenario": "x", "action_mode": "job"}
    assert dynamic.rule_kwargs(job_mode, "atc") == job_mode
    assert job_shop.rule_kwargs({"instance": "ft06"}, "spt") == {"instance": "ft06"}
    env = gym.make(dynamic.id, **dynamic.rule_kwargs({"scenario": "dynamic_job_shop_small"}, "edd"))
    try:
        assert [rule.value for rule in env.unwrapped.rules] == ["edd"]
    finally:
        env.close()


def test_forecasts_follow_the_family():
    assert {name: family.forecast for name, family in FAMILIES.items()} == {
        "JobShop": None,
        "DynamicJobShop": "arrivals",
        "ProductionInventory": "demand",
    }
    env = ArrivalForecastObservation(
        gym.make(FAMILIES["DynamicJobShop"].id, scenario="dynamic_job_shop_small"),
        kind="oracle",
    )
    try:
        assert family_of(env) is FAMILIES["DynamicJobShop"]
    finally:
        env.close()
