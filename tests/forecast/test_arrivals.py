"""ArrivalForecastObservation: causal counts, space, width, oracle, determinism, errors."""

from dataclasses import replace

import gymnasium as gym
import numpy as np
import pytest

import shopfloor.envs  # noqa: F401  (registers the ids)
from shopfloor.experiments import load_experiment, plan_runs
from shopfloor.forecast import (
    ArrivalForecastObservation,
    ForecasterConfig,
    train_arrival_forecaster,
)
from shopfloor.forecast._arrivals import expected_arrivals_in, sample_arrival_counts
from shopfloor.scenario import load_scenario
from shopfloor.sim import Constant, RandomRoutingSpec, RateProfile

ENV_ID = "shopfloor/DynamicJobShop-v1"
H = 3
SMALL = ForecasterConfig(
    lookback=6, horizon=H, hidden_sizes=(8,), epochs=3, patience=2, device="cpu"
)
KINDS = ["neural", "oracle", "naive", "moving_average"]


@pytest.fixture(scope="module")
def model():
    return train_arrival_forecaster("dynamic_job_shop", SMALL, seed=7, buckets=60)


def base_spec():
    return load_scenario("dynamic_job_shop").factory


def with_arrivals(spec, **changes):
    return replace(spec, arrivals=replace(spec.arrivals, **changes))


def make(kind, model=None, spec=None, **kwargs):
    env = gym.make(ENV_ID, spec=spec or base_spec())
    return ArrivalForecastObservation(
        env, kind=kind, horizon=H, model=model if kind == "neural" else None, **kwargs
    )


def rollout(env, seed=3, steps=None):
    """(now, observation) at every decision of an episode with a fixed action."""
    observation, _ = env.reset(seed=seed)
    rows = []
    while True:
        rows.append((env.unwrapped.factory.now, observation.copy()))
        if steps is not None and len(rows) >= steps:
            return rows
        observation, _, terminated, truncated, _ = env.step(0)
        if terminated or truncated:
            rows.append((env.unwrapped.factory.now, observation.copy()))
            return rows


@pytest.mark.parametrize("kind", ["neural", "naive", "moving_average"])
def test_no_look_ahead(kind, model):
    """Two shops identical until the 61st arrival: forecasts agree until that bucket ends.

    With ``max_jobs=60`` the arrival stream (same seed) is a prefix of the full one, so
    both episodes take the same decisions until the 61st arrival at ``t_cut``; a
    forecast that looked ahead would differ before it.
    """
    full = make(kind, model)
    short = make(kind, model, spec=with_arrivals(base_spec(), max_jobs=60))
    rows_full = rollout(full)
    rows_short = rollout(short)
    factory = full.unwrapped.factory
    t_cut = factory.release_time(len(factory.spec.jobs) + 60)
    compared = 0
    for (now_a, obs_a), (now_b, obs_b) in zip(rows_full, rows_short, strict=False):
        if now_a >= t_cut or now_b >= t_cut:
            break
        assert now_a == now_b
        np.testing.assert_array_equal(obs_a, obs_b)  # base features too: same state
        compared += 1
    assert compared > 20
    # Power check: once t_cut's bucket has completed, the histories do differ there.
    cut_bucket = int(t_cut // full.bucket)
    assert full.history().shape[1] > cut_bucket and short.history().shape[1] > cut_bucket
    assert full.history()[:, cut_bucket].sum() > short.history()[:, cut_bucket].sum()
    assert short.history()[:, cut_bucket + 1 :].sum() == 0


def test_counts_are_completed_buckets_of_past_releases():
    env = make("naive")
    env.reset(seed=11)
    factory = env.unwrapped.factory
    first = len(factory.spec.jobs)
    for _ in range(80):
        _, _, terminated, _, _ = env.step(0)
        assert not terminated
        history = env.history()
        now = factory.now
        completed = int(now // env.bucket)
        assert history.shape == (4, completed)
        expected = np.zeros_like(history)
        for job in range(first, factory.n_jobs):
            released = factory.release_time(job)
            if released <= now and released < completed * env.bucket:
                expected[factory.product_of(job), int(released // env.bucket)] += 1
        np.testing.assert_array_equal(history, expected)


@pytest.mark.parametrize("kind", KINDS)
def test_space_contains_every_observation_and_width(kind, model):
    env = make(kind, model)
    base = env.unwrapped.observation_space.shape[0]
    assert env.observation_space.shape == (base + 4 * H,)
    assert env.observation_space.dtype == np.float32
    for _, observation in rollout(env):
        assert observation.dtype == np.float32
        assert env.observation_space.contains(observation)


def test_one_total_series_with_random_routing():
    spec = with_arrivals(
        base_spec(),
        product_mix=(),
        random_routing=RandomRoutingSpec(1, 3, Constant(2.0)),
    )
    env = make("moving_average", spec=spec)
    base = env.unwrapped.observation_space.shape[0]
    assert env.observation_space.shape == (base + H,)
    for _, observation in rollout(env, steps=100):
        assert env.observation_space.contains(observation)
    assert env.history().shape[0] == 1 and env.history().sum() > 0


def test_oracle_and_naive_hand_checked_for_constant_interarrival():
    mix = (0.5, 0.3, 0.1, 0.1)
    spec = with_arrivals(base_spec(), interarrival=Constant(2.0), product_mix=mix)
    env = make("oracle", spec=spec)
    assert env.bucket == 20.0  # 10 x mean interarrival
    env.reset(seed=0)
    np.testing.assert_allclose(env.forecasts(), np.repeat([[5.0], [3.0], [1.0], [1.0]], H, 1))
    observation = env.observation(np.zeros(env.unwrapped.observation_space.shape))
    np.testing.assert_allclose(observation[-4 * H :], 0.25)  # 1 / ARRIVAL_FEATURE_DIVISOR
    explicit = make("oracle", spec=spec, bucket=30.0)
    explicit.reset(seed=0)
    np.testing.assert_allclose(explicit.forecasts()[:, 0], [7.5, 4.5, 1.5, 1.5])
    # Arrivals at 2, 4, ...: 9 in [0, 20) and 10 in every later bucket.
    naive = make("naive", spec=spec)
    naive.reset(seed=0)
    factory = naive.unwrapped.factory
    assert naive.forecasts().sum() == 0  # nothing completed yet
    while factory.now < 20.0:
        naive.step(0)
    assert naive.forecasts()[:, 0].sum() == 9
    while factory.now < 40.0:
        naive.step(0)
    assert naive.forecasts()[:, 0].sum() == 10


def test_oracle_follows_the_rate_profile_hand_checked():
    # Constant interarrival 2, bucket 20: 10 arrivals per bucket at rate factor 1.
    # Segments of 30 with factors 0.5, 1.5: buckets [0,20) 0.5 -> 5, [20,40) 10 x 0.5
    # + 10 x 1.5 -> 10, [40,60) 1.5 -> 15, then the cycle of 60 repeats.
    profile = RateProfile(segment=30.0, factors=(0.5, 1.5))
    spec = with_arrivals(
        base_spec(),
        interarrival=Constant(2.0),
        product_mix=(1.0, 0.0, 0.0, 0.0),
        rate_profile=profile,
    )
    env = make("oracle", spec=spec)
    env.reset(seed=0)
    np.testing.assert_allclose(env.forecasts()[0], [5.0, 10.0, 15.0])
    np.testing.assert_allclose(env.forecasts()[1:], 0.0)
    factory = env.unwrapped.factory
    while factory.now < 40.0:
        env.step(0)
    current = int(factory.now // 20.0)
    expected = np.array([5.0, 10.0, 15.0])[np.arange(current, current + H) % 3]
    np.testing.assert_allclose(env.forecasts()[0], expected)
    observation = env.observation(np.zeros(env.unwrapped.observation_space.shape))
    # Scaled by the long-run mean, 10 per bucket, and ARRIVAL_FEATURE_DIVISOR.
    np.testing.assert_allclose(observation[-4 * H : -3 * H], expected / 40.0, rtol=1e-6)
    np.testing.assert_array_equal(observation[-3 * H :], 0.0)  # products that never arrive
    # Arrivals released in buckets [0,20), [20,40): 5 (at 4, 8, .., 20 is the 5th,
    # in the next bucket) and the rest, as the arrival clock says.
    counts = env.history()[0]
    clock = [profile.integral(0, b) / 2.0 for b in (20.0, 40.0)]
    assert counts[0] == np.ceil(clock[0]) - 1 and counts[:2].sum() == np.ceil(clock[1]) - 1


def test_features_are_scaled_by_the_long_run_rate():
    # Factors 0.5 and 1.0 (mean 0.75), constant interarrival 2, buckets of 20: 10
    # arrivals per bucket at factor 1, 7.5 in the long run, 5 in the first bucket.
    spec = with_arrivals(
        base_spec(),
        interarrival=Constant(2.0),
        product_mix=(1.0, 0.0, 0.0, 0.0),
        rate_profile=RateProfile(segment=20.0, factors=(0.5, 1.0)),
    )
    env = make("oracle", spec=spec)
    env.reset(seed=0)
    current = int(env.unwrapped.factory.now // 20.0)
    expected = np.array([5.0, 10.0])[np.arange(current, current + H) % 2]
    np.testing.assert_allclose(env.forecasts()[0], expected)
    observation = env.observation(np.zeros(env.unwrapped.observation_space.shape))
    np.testing.assert_allclose(observation[-4 * H : -3 * H], expected / (7.5 * 4), rtol=1e-6)


def test_sampled_histories_follow_the_rate_profile():
    arrivals = replace(
        base_spec().arrivals, rate_profile=RateProfile(segment=54.0, factors=(0.25, 1.75))
    )
    counts = sample_arrival_counts(arrivals, 400, 54.0, np.random.default_rng(0)).sum(axis=0)
    quiet, rush = counts[0::2].mean(), counts[1::2].mean()
    # 54 / 5.4 = 10 arrivals per bucket at factor 1.
    assert 2.0 < quiet < 3.0 and 16.5 < rush < 18.5
    np.testing.assert_allclose(expected_arrivals_in(arrivals, 54.0, 1, 2).sum(axis=0), [17.5, 2.5])


def test_moving_average_is_mean_of_last_four():
    env = make("moving_average")
    env.reset(seed=2)
    while env.history().shape[1] < 6:
        env.step(0)
    history = env.history()
    np.testing.assert_allclose(env.forecasts()[:, 0], history[:, -4:].mean(axis=1))


@pytest.mark.parametrize("kind", KINDS)
def test_same_seed_same_trajectory(kind, model):
    first = rollout(make(kind, model), seed=9)
    second = rollout(make(kind, model), seed=9)
    assert len(first) == len(second)
    for (now_a, obs_a), (now_b, obs_b) in zip(first, second, strict=True):
        assert now_a == now_b
        np.testing.assert_array_equal(obs_a, obs_b)


def test_training_is_seeded_and_uses_the_arrival_process():
    again = train_arrival_forecaster("dynamic_job_shop", SMALL, seed=7, buckets=60)
    other = train_arrival_forecaster(base_spec(), SMALL, seed=8, buckets=60)
    history = np.full(SMALL.lookback, 10.0)
    first = train_arrival_forecaster(load_scenario("dynamic_job_shop"), SMALL, 7, 60)
    np.testing.assert_array_equal(first.predict(history), again.predict(history))
    assert not np.array_equal(first.predict(history), other.predict(history))


EXPERIMENT = """\
name: arrivals
envs:
  - id: shopfloor/DynamicJobShop-v1
    name: plain
    kwargs: {scenario: dynamic_job_shop_waves}
  - id: shopfloor/DynamicJobShop-v1
    name: neural
    kwargs: {scenario: dynamic_job_shop_waves}
    forecast:
      {kind: neural, horizon: 3, lookback: 6, epochs: 2, train_periods: 40, seed: 1, bucket: 60}
  - id: shopfloor/DynamicJobShop-v1
    name: oracle
    kwargs: {scenario: dynamic_job_shop_waves}
    forecast: {kind: oracle, horizon: 5, bucket: 75}
agents: [ppo]
seeds: [0]
budget: 100
eval: {every: 100, seeds: [1000]}
"""


def test_experiment_with_arrival_forecasts_builds_wrapped_envs(tmp_path):
    path = tmp_path / "arrivals.yaml"
    path.write_text(EXPERIMENT)
    runs = {run.env_name: run for run in plan_runs(load_experiment(path), tmp_path, lambda *_: {})}
    envs = {name: run.env_factory()() for name, run in runs.items()}
    widths = {name: env.observation_space.shape[0] for name, env in envs.items()}
    n_products = 4
    assert widths["neural"] == widths["plain"] + n_products * 3
    assert widths["oracle"] == widths["plain"] + n_products * 5
    oracle = envs["oracle"]
    assert isinstance(oracle, ArrivalForecastObservation) and oracle.bucket == 75.0
    oracle.reset(seed=0)
    # Buckets of 75 in segments of 150 at x0.5, x1.5: two buckets of 75 / 5.4 x 0.5
    # expected arrivals, two of 75 / 5.4 x 1.5, and so on, from the current bucket.
    current = int(oracle.unwrapped.factory.now // 75)
    factors = np.array([0.5, 0.5, 1.5, 1.5])[np.arange(current, current + 5) % 4]
    np.testing.assert_allclose(oracle.forecasts().sum(axis=0), 75 / 5.4 * factors)
    neural = envs["neural"]
    assert isinstance(neural, ArrivalForecastObservation) and neural.model is not None
    again = runs["neural"].env_factory()()  # same settings: the model trained once
    assert again.model is neural.model
    first, _ = neural.reset(seed=4)
    second, _ = again.reset(seed=4)
    np.testing.assert_array_equal(first, second)
    # The model is the one trained on buckets of 60 of the scenario's arrival process.
    assert neural.bucket == 60.0
    config = ForecasterConfig(lookback=6, horizon=3, epochs=2, device="cpu")
    expected = train_arrival_forecaster("dynamic_job_shop_waves", config, 1, 40, 60.0)
    history = np.arange(6.0)
    np.testing.assert_array_equal(neural.model.predict(history), expected.predict(history))
    other = train_arrival_forecaster("dynamic_job_shop_waves", config, 1, 40, 54.0)
    assert not np.array_equal(other.predict(history), expected.predict(history))


def test_rejects_other_envs_and_bad_arguments(model):
    with pytest.raises(TypeError, match="DynamicJobShop"):
        ArrivalForecastObservation(gym.make("CartPole-v1"), kind="oracle")
    with pytest.raises(TypeError, match="DynamicJobShop"):
        ArrivalForecastObservation(gym.make("shopfloor/ProductionInventory-v0"), kind="naive")
    with pytest.raises(ValueError, match="unknown forecast kind"):
        make("psychic")
    with pytest.raises(ValueError, match="needs a trained"):
        make("neural", None)
    with pytest.raises(ValueError, match="horizon"):
        ArrivalForecastObservation(gym.make(ENV_ID), kind="neural", horizon=H + 1, model=model)
