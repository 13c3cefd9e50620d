"""The neural forecaster: learns, beats naive, is seeded and saves/loads exactly."""

import numpy as np
import pytest
import torch

from shopfloor.forecast import (
    ForecasterConfig,
    ForecastError,
    NeuralForecaster,
    mase,
    naive,
)

SEASON = 12
LENGTH = 240
HOLDOUT = 48
CONFIG = ForecasterConfig(
    lookback=24,
    horizon=4,
    hidden_sizes=(32, 32),
    epochs=150,
    learning_rate=3e-3,
    batch_size=32,
    patience=20,
    seed=7,
    device="cpu",
)


def seasonal_series(seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(LENGTH)
    return 10.0 + 4.0 * np.sin(2 * np.pi * t / SEASON) + rng.normal(0.0, 0.5, LENGTH)


@pytest.fixture(scope="module")
def trained():
    series = seasonal_series()
    model = NeuralForecaster(CONFIG)
    history = model.fit([series[:-HOLDOUT]])
    return model, history, series


def test_training_loss_falls(trained):
    _, history, _ = trained
    assert history["train"][-1] < 0.2 * history["train"][0]
    assert len(history["val"]) == len(history["train"])


def test_beats_naive_on_held_out_periods(trained):
    model, _, series = trained
    train = series[:-HOLDOUT]
    horizon = CONFIG.horizon
    model_scores, naive_scores = [], []
    for origin in range(LENGTH - HOLDOUT, LENGTH - horizon + 1):
        actual = series[origin : origin + horizon]
        model_scores.append(mase(actual, model.predict(series[:origin]), train))
        naive_scores.append(mase(actual, naive(series[:origin], horizon), train))
    assert np.mean(model_scores) < 0.7 * np.mean(naive_scores)


def test_predictions_non_negative(trained):
    model, _, _ = trained
    forecast = model.predict(np.zeros(CONFIG.lookback))
    assert forecast.shape == (CONFIG.horizon,)
    assert (forecast >= 0).all()


def test_same_seed_same_weights():
    config = ForecasterConfig(
        lookback=12, horizon=2, hidden_sizes=(8,), epochs=5, seed=3, device="cpu"
    )
    series = seasonal_series()[:80]
    first, second = NeuralForecaster(config), NeuralForecaster(config)
    first.fit([series])
    second.fit([series])
    for (name, a), (_, b) in zip(
        first.network.state_dict().items(), second.network.state_dict().items(), strict=True
    ):
        assert torch.equal(a, b), name


def test_save_load_round_trip(trained, tmp_path):
    model, _, series = trained
    path = tmp_path / "forecaster.pt"
    model.save(path)
    assert (tmp_path / "forecaster.json").is_file()
    loaded = NeuralForecaster.load(path)
    assert loaded.config == model.config
    for (name, a), (_, b) in zip(
        model.network.state_dict().items(), loaded.network.state_dict().items(), strict=True
    ):
        assert torch.equal(a, b), name
    np.testing.assert_array_equal(loaded.predict(series), model.predict(series))


def test_load_errors_name_the_file(trained, tmp_path):
    model, _, _ = trained
    with pytest.raises(
        ForecastError, match=r"missing\.pt: no saved forecaster \(nor its missing\.json\)"
    ):
        NeuralForecaster.load(tmp_path / "missing.pt")
    (tmp_path / "alone.pt").write_bytes(b"weights without their config")
    with pytest.raises(ForecastError, match=r"alone\.json: config file not found"):
        NeuralForecaster.load(tmp_path / "alone.pt")
    path = tmp_path / "model.pt"
    model.save(path)
    path.write_bytes(b"not a torch file")
    with pytest.raises(ForecastError, match=r"model\.pt: corrupt"):
        NeuralForecaster.load(path)
    path.unlink()
    with pytest.raises(ForecastError, match=r"model\.pt: weights file not found"):
        NeuralForecaster.load(path)


class _Payload:
    pass


def test_load_refuses_pickled_objects(trained, tmp_path):
    model, _, _ = trained
    path = tmp_path / "model.pt"
    model.save(path)
    torch.save({"payload": _Payload()}, path)
    with pytest.raises(ForecastError, match=r"model\.pt: corrupt or unsupported"):
        NeuralForecaster.load(path)


def test_config_validation():
    with pytest.raises(ValueError, match="lookback must be at least 1"):
        ForecasterConfig(lookback=0)
    with pytest.raises(ValueError, match="device"):
        ForecasterConfig(device="tpu")


def test_fit_rejects_short_series():
    model = NeuralForecaster(ForecasterConfig(lookback=10, horizon=2, device="cpu"))
    with pytest.raises(ForecastError, match="at least lookback"):
        model.fit([np.ones(5)])


def test_an_ensemble_averages_networks_trained_alone(trained, tmp_path):
    model, history, series = trained  # seed 7
    config = ForecasterConfig(**{**CONFIG.__dict__, "ensemble": 2})
    ensemble = NeuralForecaster(config)
    ensemble_history = ensemble.fit([series[:-HOLDOUT]])
    second = NeuralForecaster(ForecasterConfig(**{**CONFIG.__dict__, "seed": 8}))
    second_history = second.fit([series[:-HOLDOUT]])
    assert ensemble_history["best_epoch"] == [
        history["best_epoch"][0],
        second_history["best_epoch"][0],
    ]
    expected = (model.predict(series) + second.predict(series)) / 2
    np.testing.assert_allclose(ensemble.predict(series), expected, rtol=1e-5)
    path = tmp_path / "ensemble.pt"
    ensemble.save(path)
    loaded = NeuralForecaster.load(path)
    np.testing.assert_array_equal(loaded.predict(series), ensemble.predict(series))
    with pytest.raises(ValueError, match="ensemble must be at least 1"):
        ForecasterConfig(ensemble=0)


def test_the_same_weights_on_any_thread_count():
    # Large enough that MKL splits the products across threads when it may.
    config = ForecasterConfig(
        lookback=16, horizon=8, hidden_sizes=(64, 64), epochs=10, seed=0, device="cpu"
    )
    rng = np.random.default_rng(0)
    series = [rng.poisson(20 + 10 * np.sin(np.arange(400) / 8)) for _ in range(3)]
    threads = torch.get_num_threads()
    weights = []
    try:
        for count in (1, 4):
            torch.set_num_threads(count)
            model = NeuralForecaster(config)
            model.fit(series)
            assert torch.get_num_threads() == count  # restored after training
            weights.append(torch.cat([p.detach().flatten() for p in model.network.parameters()]))
    finally:
        torch.set_num_threads(threads)
    assert torch.equal(weights[0], weights[1])


def test_predict_runs_on_one_thread_and_restores_the_count(trained):
    model, _, series = trained
    seen = []
    hook = model.network.register_forward_hook(lambda *_: seen.append(torch.get_num_threads()))
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(3)
        model.predict(series)
        assert torch.get_num_threads() == 3
    finally:
        hook.remove()
        torch.set_num_threads(threads)
    assert seen == [1]
