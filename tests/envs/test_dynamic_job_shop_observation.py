"""DynamicJobShop observation: slot features against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from shopfloor.envs import DynamicJobShopEnv
from shopfloor.envs.dynamic_job_shop import ATC, ATCJS, GLOBAL_FEATURES, SLOT_FEATURES
from shopfloor.sim import FactorySpec, JobSpec, MachineSpec, OperationSpec


def _op(machine: int, time: float) -> OperationSpec:
    return OperationSpec(machines=(machine,), durations=(time,))


def _three_jobs_at_m0() -> FactorySpec:
    """Three jobs wait at m0 at t=0; a fourth occupies m1 for 5.

    Operation times 2, 4 | 4, 2, 1 | 3 | 5: the mean operation time p is 21 / 7 = 3.
    """
    return FactorySpec(
        name="three_jobs",
        machines=(MachineSpec("m0"), MachineSpec("m1"), MachineSpec("m2")),
        jobs=(
            JobSpec(routing=(_op(0, 2), _op(1, 4)), due_date=10, weight=2),
            JobSpec(routing=(_op(0, 4), _op(2, 2), _op(1, 1)), due_date=6, weight=1),
            JobSpec(routing=(_op(0, 3),), due_date=30, weight=4),
            JobSpec(routing=(_op(1, 5),), due_date=50, weight=1),
        ),
    )


def test_slot_features_match_hand_computed_values() -> None:
    env = DynamicJobShopEnv(spec=_three_jobs_at_m0(), action_mode="job", slots=4)
    observation, _ = env.reset(seed=0)
    assert observation.shape == (GLOBAL_FEATURES + 3 + SLOT_FEATURES * 4,)
    assert observation[GLOBAL_FEATURES : GLOBAL_FEATURES + 3].tolist() == [1, 0, 0]
    rows = observation[GLOBAL_FEATURES + 3 :].reshape(4, SLOT_FEATURES)
    t = math.tanh
    # ATC at m0 (k = 2, mean time here (2 + 4 + 3) / 3 = 3, so scale 6), log index
    # log(w / p) - max(d - p - t, 0) / 6: J0 -8/6, J1 log(1/4) - 2/6, J2 log(4/3) - 27/6.
    atc = np.array([-8 / 6, math.log(0.25) - 2 / 6, math.log(4 / 3) - 27 / 6])
    # ATCJS: slack d - t - work left, J0 10 - 6, J1 6 - 7 (late: 0), J2 30 - 3.
    atcjs = np.array([-4 / 6, math.log(0.25), math.log(4 / 3) - 27 / 6])
    expected = [
        # present, p / 4p, tanh(d - t - work / 10p), w / 4, tanh(work / 10p), ops / 3,
        # waited, ATC / best, tanh(d - t - p / 10p), setup, following machine m1's
        # load (J3's 5) / 10p, m1 starving, ATCJS / best
        [1, 2 / 12, t(4 / 30), 0.5, t(6 / 30), 2 / 3, 0, 1, t(8 / 30), 0, t(5 / 30), 0, 1],
        # following machine m2: idle, up, nothing waiting
        [1, 4 / 12, t(-1 / 30), 0.25, t(7 / 30), 1, 0, 0, t(2 / 30), 0, 0, 1, 0],
        # last operation: no following machine
        [1, 3 / 12, t(27 / 30), 1, t(3 / 30), 1 / 3, 0, 0, t(27 / 30), 0, 0, 0, 0],
        [0] * SLOT_FEATURES,
    ]
    expected[1][ATC] = math.exp(atc[1] - atc[0])
    expected[2][ATC] = math.exp(atc[2] - atc[0])
    expected[1][ATCJS] = math.exp(atcjs[1] - atcjs[0])
    expected[2][ATCJS] = math.exp(atcjs[2] - atcjs[0])
    np.testing.assert_allclose(rows, np.array(expected), rtol=1e-5, atol=1e-6)


def test_setup_feature_holds_the_scenario_setup_times() -> None:
    """dynamic_job_shop's furnace: 4 steel -> alloy, 2 alloy -> steel (only steel and
    alloy parts are heat-treated)."""
    env = DynamicJobShopEnv(scenario="dynamic_job_shop", action_mode="rule")
    furnace = 4
    offset = GLOBAL_FEATURES + env.n_machines
    mean_time = env._time_scale
    seen: set[float] = set()
    observation, _ = env.reset(seed=0)
    done = False
    while not done:
        rows = observation[offset:].reshape(env.slots, SLOT_FEATURES)
        if observation[GLOBAL_FEATURES + furnace] == 1:
            seen.update(np.round(rows[rows[:, 0] == 1, 9] * 4 * mean_time, 4).tolist())
        else:
            assert not rows[:, 9].any()  # no other machine has setups
        observation, _, terminated, truncated, _ = env.step(4)
        done = terminated or truncated
    assert seen == {0.0, 2.0, 4.0}


@pytest.mark.parametrize(("rule", "feature"), [("atc", ATC), ("atcjs", ATCJS)])
@pytest.mark.parametrize("slots", [4, 32])
def test_rule_slot_feature_picks_what_the_rule_picks(rule: str, feature: int, slots: int) -> None:
    """Choosing the slot whose ATC (ATCJS) feature is 1 replays the rule's episode
    exactly when the queue never outgrows the slots; with 4 slots it does, and differs."""
    rule_env = DynamicJobShopEnv(scenario="dynamic_job_shop_small", rules=[rule])
    job = DynamicJobShopEnv(scenario="dynamic_job_shop_small", action_mode="job", slots=slots)
    offset = GLOBAL_FEATURES + job.n_machines
    rule_env.reset(seed=3)
    observation, _ = job.reset(seed=3)
    done = False
    while not done:
        rows = observation[offset:].reshape(slots, SLOT_FEATURES)
        scores = np.where(job.action_masks(), rows[:, feature], -np.inf)
        observation, _, terminated, truncated, _ = job.step(int(np.argmax(scores)))
        done = terminated or truncated
    done = False
    while not done:
        _, _, terminated, truncated, _ = rule_env.step(0)
        done = terminated or truncated
    same = job.episode_objective() == pytest.approx(rule_env.episode_objective())
    assert same == (slots == 32)
