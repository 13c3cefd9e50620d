"""Training and evaluating the forecaster against baselines, and the CLI around it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from shopfloor.cli import main
from shopfloor.forecast import ForecasterConfig
from shopfloor.forecast._evaluate import (
    MEAN,
    MODEL,
    evaluate_saved,
    read_metrics,
    train_and_evaluate,
)
from shopfloor.plots import forecast_plot

FAST = ForecasterConfig(lookback=12, horizon=4, epochs=40, patience=10, device="cpu", seed=0)


def _seasonal_csv(path: Path, periods: int = 240, season: int = 12) -> Path:
    rng = np.random.default_rng(1)
    lines = ["period,product,demand"]
    for index, (level, phase) in enumerate(((20.0, 0), (8.0, 5))):
        t = np.arange(periods)
        demand = rng.poisson(level * (1 + 0.6 * np.sin(2 * np.pi * (t + phase) / season)))
        lines += [f"{p},p{index},{d}" for p, d in enumerate(demand)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_csv_run_folder_and_model_beats_seasonal_naive(tmp_path: Path) -> None:
    csv = _seasonal_csv(tmp_path / "demand.csv")
    result = train_and_evaluate(csv, tmp_path / "run", FAST, season_length=12)
    for name in ("config.json", "meta.json", "model.pt", "model.json", "metrics.csv"):
        assert (tmp_path / "run" / name).is_file(), name
    assert json.loads((tmp_path / "run" / "config.json").read_text())["season_lengths"] == {
        "p0": 12,
        "p1": 12,
    }
    assert "torch" in json.loads((tmp_path / "run" / "meta.json").read_text())
    assert set(result.methods) == {
        MODEL,
        "naive",
        "seasonal_naive",
        "moving_average",
        "croston",
        "tsb",
    }
    written = read_metrics(tmp_path / "run" / "metrics.csv")
    assert written == list(result.scores)
    assert {s.product for s in written} == {"p0", "p1", MEAN}
    assert result.score(MODEL).mase < result.score("seasonal_naive").mase
    # One-step forecasts cover the held-out periods.
    assert result.forecasts["p0"][MODEL].shape == result.actual["p0"].shape == (48,)
    again = evaluate_saved(result.model_path, csv, season_length=12)
    assert again.score(MODEL).mase == pytest.approx(result.score(MODEL).mase)


def test_scenario_intermittent(tmp_path: Path) -> None:
    result = train_and_evaluate(
        "intermittent_demand", tmp_path / "run", FAST, history_periods=120, seed=3
    )
    assert result.season_lengths == {"bearing": 0, "seal": 0, "gear": 52}
    assert set(result.actual) == {"bearing", "seal", "gear"}
    written = {(s.product, s.method): s for s in read_metrics(tmp_path / "run" / "metrics.csv")}
    for score in result.scores:
        got = written[(score.product, score.method)]
        assert got.smape == score.smape
        assert got.mase == score.mase or (np.isnan(got.mase) and np.isnan(score.mase))
    # Seasonal naive only where a season is known.
    assert ("bearing", "seasonal_naive") not in written
    assert ("gear", "seasonal_naive") in written


def test_too_short_history(tmp_path: Path) -> None:
    csv = _seasonal_csv(tmp_path / "short.csv", periods=15)
    with pytest.raises(ValueError, match="too short"):
        train_and_evaluate(csv, tmp_path / "run", FAST)


def test_forecast_plot(tmp_path: Path) -> None:
    drawn = forecast_plot(tmp_path / "f", [1, 2, 3], {"model": [1, 2, 2], "naive": [0, 1, 2]}, "t")
    assert all(p.is_file() for p in drawn.paths)
    assert drawn.methods == ("model", "naive")
    with pytest.raises(ValueError, match="shape"):
        forecast_plot(tmp_path / "g", [1, 2, 3], {"model": [1, 2]}, "t")


def test_cli_train_and_eval(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv = _seasonal_csv(tmp_path / "demand.csv")
    out = tmp_path / "run"
    args = ["--out", str(out), "--lookback", "12", "--horizon", "4", "--epochs", "5"]
    assert main(["forecast", "train", str(csv), *args]) == 0
    printed = capsys.readouterr().out
    assert "MASE" in printed and "croston" in printed
    assert (out / "metrics.csv").is_file()
    assert (out / "forecast_p0.png").is_file() and (out / "forecast_p0.svg").is_file()
    eval_out = tmp_path / "eval"
    code = main(["forecast", "eval", str(out / "model.pt"), str(csv), "--out", str(eval_out)])
    assert code == 0
    assert (eval_out / "metrics.csv").is_file()
    assert main(["forecast", "eval", str(out / "model.pt")]) == 2
