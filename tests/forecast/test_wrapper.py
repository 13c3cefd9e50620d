"""ForecastObservation: causal forecasts, space, width, determinism, experiment wiring."""

import warnings
from dataclasses import replace

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import shopfloor.envs  # noqa: F401  (registers the ids)
from shopfloor.experiments import ExperimentError, load_experiment, plan_runs
from shopfloor.experiments._train import make_env_factory  # white-box: one run's env builder
from shopfloor.forecast import ForecasterConfig, ForecastObservation, train_forecaster_for
from shopfloor.scenario import load_scenario
from shopfloor.sim import Shock

ENV_ID = "shopfloor/ProductionInventory-v0"
H = 4
SPIKE = 30
"""First period of the demand spike."""
SMALL = ForecasterConfig(
    lookback=8, horizon=H, hidden_sizes=(16,), epochs=3, patience=2, device="cpu"
)


@pytest.fixture(scope="module")
def model():
    return train_forecaster_for("production_inventory", SMALL, seed=99, periods=60)


def spec_with_spike(spike: bool):
    factory = load_scenario("production_inventory").factory
    if not spike:
        return factory
    first = factory.products[0]
    demand = replace(first.demand, shocks=(Shock(SPIKE, SPIKE + 4, 50.0),))
    return replace(factory, products=(replace(first, demand=demand), *factory.products[1:]))


def forecasts_by_period(kind, model, spike, periods=SPIKE + 3):
    """Forecast features of one episode (always idle), keyed by step, with their period."""
    env = ForecastObservation(
        gym.make(ENV_ID, spec=spec_with_spike(spike)), kind=kind, horizon=H, model=model
    )
    observation, _ = env.reset(seed=5)
    idle = env.action_space.n - 1
    base = env.unwrapped.observation_space.shape[0]
    rows = []
    factory = env.unwrapped.factory
    while int(factory.now // factory.spec.demand_period) < periods:
        rows.append((int(factory.now // factory.spec.demand_period), observation[base:].copy()))
        observation, _, terminated, truncated, _ = env.step(idle)
        assert not (terminated or truncated)
    return rows


@pytest.mark.parametrize("kind", ["neural", "naive", "seasonal_naive"])
def test_forecasts_never_see_future_demand(kind, model):
    with_spike = forecasts_by_period(kind, model, spike=True)
    without = forecasts_by_period(kind, model, spike=False)
    assert len(with_spike) == len(without)
    before = [(a, b) for a, b in zip(with_spike, without, strict=True) if a[0] <= SPIKE]
    assert before and before[-1][0][0] == SPIKE
    for (period, seen), (_, unseen) in before:
        np.testing.assert_array_equal(seen, unseen, err_msg=f"period {period}")
    # Once the spike period has happened the history-based forecast reacts to it.
    after = [(a, b) for a, b in zip(with_spike, without, strict=True) if a[0] > SPIKE]
    assert any(not np.array_equal(a[1], b[1]) for a, b in after)


def test_oracle_sees_the_spike_ahead(model):
    with_spike = forecasts_by_period("oracle", None, spike=True, periods=SPIKE)
    without = forecasts_by_period("oracle", None, spike=False, periods=SPIKE)
    differs = {
        a[0] for a, b in zip(with_spike, without, strict=True) if not np.array_equal(a[1], b[1])
    }
    assert differs == set(range(SPIKE - H + 1, SPIKE))


@pytest.mark.parametrize("kind", ["neural", "oracle", "naive", "seasonal_naive"])
def test_space_width_and_containment(kind, model):
    env = ForecastObservation(gym.make(ENV_ID), kind=kind, horizon=H, model=model)
    base = env.unwrapped.observation_space.shape[0]
    assert env.observation_space.shape == (base + env.unwrapped.n_products * H,)
    assert env.observation_space.dtype == np.float32
    observation, _ = env.reset(seed=3)
    rng = np.random.default_rng(0)
    done = False
    while not done:
        assert env.observation_space.contains(observation)
        action = int(rng.integers(env.action_space.n))
        observation, _, terminated, truncated, _ = env.step(action)
        done = terminated or truncated
    assert env.observation_space.contains(observation)


def test_passes_the_env_checkers(model):
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    env = ForecastObservation(gym.make(ENV_ID).unwrapped, kind="neural", horizon=H, model=model)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # Inherent to checking any wrapper, not a problem of this one.
        warnings.filterwarnings("ignore", message=".*different from the unwrapped")
        check_env(env, skip_render_check=True)
        sb3_check_env(env, warn=True)


def test_deterministic_given_seed(model):
    again = train_forecaster_for("production_inventory", SMALL, seed=99, periods=60)
    history = np.arange(20.0) % 5
    np.testing.assert_array_equal(model.predict(history), again.predict(history))

    def episode(forecaster):
        env = ForecastObservation(gym.make(ENV_ID), kind="neural", horizon=H, model=forecaster)
        observations = [env.reset(seed=11)[0]]
        for step in range(150):
            observations.append(env.step(step % env.action_space.n)[0])
        return np.array(observations)

    np.testing.assert_array_equal(episode(model), episode(again))


def test_bad_arguments(model):
    env = gym.make(ENV_ID)
    with pytest.raises(ValueError, match="unknown forecast kind"):
        ForecastObservation(env, kind="crystal_ball")
    with pytest.raises(ValueError, match="needs a trained NeuralForecaster"):
        ForecastObservation(env, kind="neural", horizon=H)
    with pytest.raises(ValueError, match="forecasts 4 periods"):
        ForecastObservation(env, kind="neural", horizon=H + 1, model=model)
    with pytest.raises(TypeError, match="ProductionInventory"):
        ForecastObservation(gym.make("shopfloor/DynamicJobShop-v1"), kind="naive")


EXPERIMENT = """
name: {name}
envs:
  - id: shopfloor/ProductionInventory-v0
    name: plain
    kwargs: {{scenario: production_inventory}}
  - id: shopfloor/ProductionInventory-v0
    name: neural
    kwargs: {{scenario: production_inventory}}
    forecast: {{kind: neural, horizon: 3, lookback: 8, epochs: 2, train_periods: 40, seed: 1}}
  - id: shopfloor/ProductionInventory-v0
    name: oracle
    kwargs: {{scenario: production_inventory}}
    forecast: {{kind: oracle, horizon: 5}}
agents: [ppo]
seeds: [0]
budget: 100
eval: {{every: 100, seeds: [1000]}}
"""


def test_experiment_with_forecast_builds_wrapped_envs(tmp_path):
    path = tmp_path / "fc.yaml"
    path.write_text(EXPERIMENT.format(name="fc"))
    spec = load_experiment(path)
    runs = plan_runs(spec, tmp_path / "runs", lambda *_: {})
    widths = {}
    for run in runs:
        env = run.env_factory()()
        observation, _ = env.reset(seed=0)
        assert env.observation_space.contains(observation)
        widths[run.env_name] = env.observation_space.shape[0]
    n_products = 3
    assert widths["neural"] == widths["plain"] + n_products * 3
    assert widths["oracle"] == widths["plain"] + n_products * 5
    # The explicit parameter works too and overrides nothing when absent.
    env = make_env_factory(ENV_ID, {"scenario": "production_inventory"}, {"kind": "naive"})()
    assert env.observation_space.shape[0] == widths["plain"] + n_products * 8


def test_bundled_ablation_loads():
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "experiments" / "forecast_ablation.yaml"
    spec = load_experiment(path)
    assert [env.name for env in spec.envs] == ["no_forecast", "neural_forecast", "oracle_forecast"]
    assert spec.envs[0].forecast is None
    assert spec.envs[1].forecast.kind == "neural"
    assert spec.envs[2].kwargs["forecast"]["kind"] == "oracle"


@pytest.mark.parametrize(
    ("forecast", "message"),
    [
        ("{kind: psychic}", "envs.0.forecast.kind"),
        ("{kind: neural, horizon: 0}", "envs.0.forecast.horizon"),
        ("{kind: neural, train_periods: 10}", "train_periods=10"),
        ("{kind: oracle, extra: 1}", "envs.0.forecast.extra"),
    ],
)
def test_invalid_forecast_settings_named(tmp_path, forecast, message):
    path = tmp_path / "bad.yaml"
    path.write_text(
        "name: bad\nenvs:\n  - id: shopfloor/ProductionInventory-v0\n    name: x\n"
        f"    forecast: {forecast}\nagents: [ppo]\nseeds: [0]\nbudget: 10\n"
        "eval: {every: 10, seeds: [9]}\n"
    )
    with pytest.raises(ExperimentError, match=message):
        load_experiment(path)


def test_experiment_forecast_kinds_are_the_wrappers():
    from typing import get_args

    from shopfloor.experiments import ForecastSettings
    from shopfloor.forecast._arrivals import ARRIVAL_KINDS
    from shopfloor.forecast._wrapper import KINDS

    offered = set(get_args(ForecastSettings.model_fields["kind"].annotation))
    assert offered == set(KINDS) | set(ARRIVAL_KINDS)


@pytest.mark.parametrize(
    ("env_id", "forecast", "message"),
    [
        ("shopfloor/JobShop-v0", "{kind: naive}", "DynamicJobShop or ProductionInventory"),
        ("shopfloor/DynamicJobShop-v1", "{kind: seasonal_naive}", "'seasonal_naive' is not"),
        ("shopfloor/DynamicJobShop-v1", "{kind: oracle, season_length: 4}", "season_length"),
        ("shopfloor/ProductionInventory-v0", "{kind: moving_average}", "'moving_average' is"),
        ("shopfloor/ProductionInventory-v0", "{kind: oracle, bucket: 5}", "bucket does not"),
        ("shopfloor/DynamicJobShop-v1", "{kind: oracle, bucket: 0}", "envs.0.forecast.bucket"),
        ("shopfloor/DynamicJobShop-v1", "{kind: neural, train_histories: 3}", "train_histories"),
    ],
)
def test_forecast_settings_that_do_not_fit_the_env_are_named(tmp_path, env_id, forecast, message):
    path = tmp_path / "bad.yaml"
    path.write_text(
        f"name: bad\nenvs:\n  - id: {env_id}\n    name: x\n"
        f"    forecast: {forecast}\nagents: [ppo]\nseeds: [0]\nbudget: 10\n"
        "eval: {every: 10, seeds: [9]}\n"
    )
    with pytest.raises(ExperimentError, match=message):
        load_experiment(path)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ("{instance: ft06}", "instance='ft06' has none"),
        ("{scenario: flow_shop_small}", "scenario='flow_shop_small' has none"),
        ("{generator: {n_jobs: 6, n_machines: 3}}", "generator=.* has none"),
    ],
)
def test_arrival_forecast_on_a_shop_without_arrivals_is_named(tmp_path, kwargs, message):
    path = tmp_path / "bad.yaml"
    path.write_text(
        "name: bad\nenvs:\n  - id: shopfloor/DynamicJobShop-v1\n    name: x\n"
        f"    kwargs: {kwargs}\n    forecast: {{kind: oracle}}\n"
        "agents: [ppo]\nseeds: [0]\nbudget: 10\neval: {every: 10, seeds: [9]}\n"
    )
    with pytest.raises(ExperimentError, match=rf"bad.yaml: envs.0: .*{message}"):
        load_experiment(path)
