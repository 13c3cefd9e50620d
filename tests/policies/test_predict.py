"""The predict protocol: rules, base-stock and random policies acting through every env."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import shopfloor.envs  # noqa: F401  (registers the ids)
from shopfloor.envs.dynamic_job_shop import DEFAULT_RULES
from shopfloor.instances import load_instance
from shopfloor.policies import (
    BaseStockPolicy,
    BindablePolicy,
    CpSatPolicy,
    InventoryPolicy,
    Policy,
    PolicyNotApplicableError,
    RandomPolicy,
    RulePolicy,
    TieBreak,
    bind_policy,
    dispatch_earliest,
    make_policy,
    policy_names,
    run_factory,
)
from shopfloor.sim import DispatchingRule, Factory

JOB_SHOP = ("shopfloor/JobShop-v0", {"instance": "ft06"})
DYNAMIC_RULE = ("shopfloor/DynamicJobShop-v1", {"scenario": "dynamic_job_shop_small"})
DYNAMIC_JOB = (
    "shopfloor/DynamicJobShop-v1",
    {"scenario": "dynamic_job_shop_small", "action_mode": "job"},
)
PRODUCTION = ("shopfloor/ProductionInventory-v0", {"scenario": "production_inventory"})

# job-shop-lib 1.7.2 DispatchingRuleSolver makespans on ta01 (tests/policies/test_rule_gaps.py).
JSL_TA01 = {"spt": 1462, "mwkr": 1491, "mopnr": 1438}


def run_episode(env: gym.Env, policy, seed: int = 0) -> tuple[list[int], dict]:
    """Bind, reset, predict and step to the end; every action must be valid when taken."""
    bind_policy(policy, env)
    observation, info = env.reset(seed=seed)
    actions = []
    terminated = truncated = False
    while not (terminated or truncated):
        masks = env.unwrapped.action_masks()
        action, state = policy.predict(observation, deterministic=True, action_masks=masks)
        assert state is None
        assert env.action_space.contains(action)
        assert env.unwrapped.action_masks()[int(action)], f"invalid action {action}"
        actions.append(int(action))
        observation, _, terminated, truncated, info = env.step(action)
    assert terminated and not truncated
    return actions, info


def make(env_and_kwargs, **extra) -> gym.Env:
    env_id, kwargs = env_and_kwargs
    return gym.make(env_id, **{**kwargs, **extra})


CASES = [
    *[(JOB_SHOP, lambda rule=rule: RulePolicy(rule)) for rule in DispatchingRule],
    (JOB_SHOP, lambda: RulePolicy("spt", tie_break="queue")),
    (JOB_SHOP, lambda: RandomPolicy(3)),
    *[(DYNAMIC_RULE, lambda rule=rule: RulePolicy(rule)) for rule in DEFAULT_RULES],
    *[(DYNAMIC_JOB, lambda rule=rule: RulePolicy(rule)) for rule in ("spt", "edd", "atc")],
    (DYNAMIC_JOB, lambda: RulePolicy("random", seed=5)),
    (DYNAMIC_RULE, lambda: RandomPolicy(1)),
    (DYNAMIC_JOB, lambda: RandomPolicy(1)),
    (PRODUCTION, lambda: InventoryPolicy()),
    (PRODUCTION, lambda: RandomPolicy(2)),
]


@pytest.mark.parametrize(
    ("env_and_kwargs", "factory"),
    CASES,
    ids=[f"{case[0][0].split('/')[1]}-{case[1]()!r}" for case in CASES],
)
def test_full_episodes_take_only_valid_actions(env_and_kwargs, factory):
    env = make(env_and_kwargs)
    actions, _ = run_episode(env, factory())
    assert actions
    assert env.unwrapped.factory.done


@pytest.mark.parametrize("rule", sorted(JSL_TA01))
def test_rules_through_the_job_shop_env_reproduce_job_shop_lib(rule):
    env = gym.make("shopfloor/JobShop-v0", instance="ta01")
    _, info = run_episode(env, RulePolicy(rule))
    assert info["makespan"] == JSL_TA01[rule]


def test_env_loop_builds_the_schedule_of_dispatch_earliest():
    env = gym.make("shopfloor/JobShop-v0", instance="ta02")
    run_episode(env, RulePolicy("mwkr"))
    direct = dispatch_earliest(Factory(load_instance("ta02").to_factory_spec(), seed=0), "mwkr")

    def starts(factory):
        return [(e.time, e.machine, e.job) for e in factory.event_log() if e.kind == "start"]

    assert starts(env.unwrapped.factory) == starts(direct)


def test_tie_break_changes_the_schedule_and_defaults_to_job_index():
    makespans = {}
    for tie_break in (None, TieBreak.JOB, TieBreak.QUEUE):
        _, info = run_episode(
            gym.make("shopfloor/JobShop-v0", instance="ta01"),
            RulePolicy("mopnr", tie_break=tie_break),
        )
        makespans[tie_break] = info["makespan"]
    assert makespans[None] == makespans[TieBreak.JOB] == JSL_TA01["mopnr"]
    assert makespans[TieBreak.QUEUE] != JSL_TA01["mopnr"]


@pytest.mark.parametrize("rule", ["edd", "atc", "wspt"])
def test_job_mode_with_enough_slots_equals_rule_mode(rule):
    kpis = []
    for mode in ("rule", "job"):
        env = gym.make(
            "shopfloor/DynamicJobShop-v1",
            scenario="dynamic_job_shop_small",
            action_mode=mode,
            rules=[rule],
            slots=64,
        )
        run_episode(env, RulePolicy(rule), seed=4)
        kpis.append(env.unwrapped.factory.kpis())
    assert kpis[0] == kpis[1]


def test_rule_mode_action_is_the_index_of_the_rule():
    env = make(DYNAMIC_RULE)
    actions, _ = run_episode(env, RulePolicy("edd"))
    assert set(actions) == {list(DEFAULT_RULES).index(DispatchingRule.EDD)}


def test_rule_in_rule_mode_equals_the_factory_run_under_it():
    env = make(DYNAMIC_RULE)
    run_episode(env, RulePolicy("atc"), seed=2)
    factory = env.unwrapped.factory
    direct = run_factory(Factory(factory.spec, seed=factory.seed), "atc")
    assert factory.kpis() == direct.kpis()


def test_inventory_policy_equals_the_base_stock_heuristic_in_the_factory():
    env = make(PRODUCTION)
    actions, info = run_episode(env, InventoryPolicy(BaseStockPolicy(cover=3.0)), seed=1)
    idle = env.unwrapped.action_space.n - 1
    assert idle in actions and any(action != idle for action in actions)
    factory = env.unwrapped.factory
    direct = run_factory(
        Factory(factory.spec, seed=factory.seed), "fifo", production=BaseStockPolicy(cover=3.0)
    )
    # Same choices; the env integrates costs at every step, so sums differ in rounding.
    expected = direct.kpis()
    assert (factory.kpis().setups, factory.kpis().decisions) == (
        expected.setups,
        expected.decisions,
    )
    assert info["total_cost"] == pytest.approx(expected.total_cost, rel=1e-12)


def test_random_policy_is_seeded():
    runs = [run_episode(make(JOB_SHOP), RandomPolicy(seed))[0] for seed in (7, 7, 8)]
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


def test_random_policy_takes_a_mask_without_binding():
    mask = np.array([False, True, False, True])
    policy = RandomPolicy(0)
    actions = {int(policy.predict(None, action_masks=mask)[0]) for _ in range(50)}
    assert actions == {1, 3}
    with pytest.raises(ValueError, match="no valid action"):
        policy.predict(None, action_masks=np.zeros(4, bool))


def test_protocols():
    assert isinstance(RulePolicy("spt"), BindablePolicy)
    assert isinstance(RandomPolicy(), Policy)

    class Constant:
        def predict(self, observation, deterministic=True, action_masks=None):
            return np.int64(0), None

    constant = Constant()
    assert isinstance(constant, Policy) and not isinstance(constant, BindablePolicy)
    assert bind_policy(constant, make(JOB_SHOP)) is constant


def test_bind_returns_the_policy_and_looks_through_wrappers():
    env = make(JOB_SHOP)
    assert env.unwrapped is not env
    policy = RulePolicy("spt")
    assert policy.bind(env) is policy


def test_not_applicable_combinations_raise_clearly():
    with pytest.raises(
        PolicyNotApplicableError,
        match=r"spt'\) dispatches jobs, but ProductionInventory's actions choose what to produce .*"
        r"use InventoryPolicy \('basestock'\) or RandomPolicy",
    ):
        RulePolicy("spt").bind(make(PRODUCTION))
    with pytest.raises(
        PolicyNotApplicableError,
        match=r"chooses what to produce, but JobShop's actions choose the job to start; use a "
        r"dispatching rule",
    ):
        InventoryPolicy().bind(make(JOB_SHOP))
    with pytest.raises(PolicyNotApplicableError, match=r"rules=\['lpt'\]"):
        RulePolicy("lpt").bind(make(DYNAMIC_RULE))
    with pytest.raises(PolicyNotApplicableError, match="shopfloor environments"):
        RulePolicy("spt").bind(gym.make("CartPole-v1"))
    RulePolicy("lpt").bind(make(DYNAMIC_JOB))  # job mode takes any rule


def test_predict_needs_a_bound_live_episode():
    policy = RulePolicy("spt")
    with pytest.raises(RuntimeError, match="bind"):
        policy.predict(None)
    env = make(JOB_SHOP)
    run_episode(env, policy)
    with pytest.raises(RuntimeError, match="episode is over"):
        policy.predict(None)


def test_make_policy_names(tmp_path, monkeypatch):
    assert isinstance(make_policy("SPT"), RulePolicy)
    assert make_policy("atc").rule is DispatchingRule.ATC
    assert isinstance(make_policy("random"), RandomPolicy)
    assert isinstance(make_policy("basestock"), InventoryPolicy)
    cpsat = make_policy("cpsat", seed=3, time_limit=2.5)
    assert cpsat == CpSatPolicy(time_limit=2.5, workers=1, seed=3)
    assert {"spt", "mwkr", "atc", "random", "basestock", "cpsat"} <= set(policy_names())
    with pytest.raises(ValueError, match=r"unknown policy 'sptt'.*spt"):
        make_policy("sptt")
    saved = tmp_path / "agent.zip"
    saved.write_bytes(b"")
    with pytest.raises(NotImplementedError, match=r"shopfloor\.agents\.load_agent"):
        make_policy(saved)
    with pytest.raises(NotImplementedError, match=r"shopfloor\.agents\.load_agent"):
        make_policy(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "spt").mkdir()  # a folder named like a rule does not shadow it
    assert make_policy("spt").rule is DispatchingRule.SPT
