"""Train the neural forecaster on demand histories and compare it with the baselines.

:func:`train_and_evaluate` splits every product's history by time (the last
``test_fraction`` is held out), fits one global :class:`NeuralForecaster` on the
training parts and scores rolling-origin forecasts over the held-out part: from every
origin ``t`` with ``H`` held-out periods after it, each method forecasts
``y[t : t + H]`` from ``y[:t]``. Methods: the model, naive, seasonal naive (when the
season length is known), moving average, Croston and TSB. Scores per product are MASE
(scaled by the in-sample seasonal naive error on the training part, ``m`` = season
length, or 1) and sMAPE, each over every origin and lead; ``"mean"`` rows average the
products. :func:`evaluate_saved` scores a saved model the same way.

A run folder holds ``config.json``, ``meta.json`` (versions and revision),
``model.pt`` + ``model.json`` (the weights and their config) and ``metrics.csv``
(``product, method, mase, smape``). This module sits below ``shopfloor.experiments``
in the layer order, so it writes its files itself (temp file + ``os.replace``).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import platform
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from shopfloor import __version__
from shopfloor._atomic import write_text_atomically
from shopfloor.forecast._baselines import croston, moving_average, naive, seasonal_naive, tsb
from shopfloor.forecast._data import DemandDataError, demand_history, read_demand_csv
from shopfloor.forecast._metrics import mase, smape
from shopfloor.forecast._model import ForecasterConfig, NeuralForecaster

MODEL_FILE = "model.pt"
"""Weights file name inside a run folder (its config is ``model.json``)."""
METRICS_FILE = "metrics.csv"
"""Per-product, per-method scores inside a run folder."""
MODEL = "model"
"""Method name of the neural forecaster in the scores."""
MEAN = "mean"
"""Product name of the rows averaging the products."""

Forecaster = Callable[[np.ndarray, int], np.ndarray]


@dataclass(frozen=True)
class Score:
    """The accuracy of one method on one product (or ``"mean"`` over products)."""

    product: str
    method: str
    mase: float
    smape: float


@dataclass(frozen=True)
class ForecastEvaluation:
    """What :func:`train_and_evaluate` or :func:`evaluate_saved` measured.

    Attributes:
        source: The scenario name / path or CSV file the histories came from.
        run_dir: The run folder written (``None`` for an evaluation without one).
        model_path: The weights file of the model evaluated.
        scores: One score per product and method, then the ``"mean"`` rows.
        methods: Method names in table order (``"model"`` first).
        season_lengths: Season length used per product (0: none known).
        actual: Per product, the held-out periods.
        forecasts: Per product and method, the one-step-ahead rolling forecasts of the
            held-out periods (each made from all periods before it), for plots.
        history: Training losses per epoch (``{}`` when evaluating a saved model).
    """

    source: str
    run_dir: Path | None
    model_path: Path
    scores: tuple[Score, ...]
    methods: tuple[str, ...]
    season_lengths: dict[str, int]
    actual: dict[str, np.ndarray] = field(repr=False)
    forecasts: dict[str, dict[str, np.ndarray]] = field(repr=False)
    history: dict[str, list[float]] = field(default_factory=dict, repr=False)

    def score(self, method: str, product: str = MEAN) -> Score:
        """The score of ``method`` on ``product`` (default: the mean over products)."""
        for score in self.scores:
            if score.method == method and score.product == product:
                return score
        raise KeyError(f"no score for method {method!r} on product {product!r}")

    def mean_scores(self) -> dict[str, Score]:
        """Method name to its mean score over products, in table order."""
        return {s.method: s for s in self.scores if s.product == MEAN}


def load_histories(
    source: str | os.PathLike[str], periods: int, seed: int
) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    """Demand histories and season lengths (0: unknown) of a scenario or CSV file.

    A path ending in ``.csv`` is read with :func:`read_demand_csv` (season lengths
    unknown); anything else is a scenario file or bundled name, whose demand process
    gives seeded histories (:func:`demand_history`) and each product's season length.
    """
    if str(source).lower().endswith(".csv"):
        histories = read_demand_csv(source)
        return histories, dict.fromkeys(histories, 0)
    from shopfloor.scenario import load_scenario

    scenario = load_scenario(source)
    histories = demand_history(scenario, periods, seed)
    seasons = {
        p.name: p.demand.season_length
        for p in scenario.factory.products
        if p.demand is not None and p.name in histories
    }
    return histories, seasons


def source_name(source: str | os.PathLike[str]) -> str:
    """A short name of a source: a file's stem, or the bundled scenario name."""
    return Path(source).stem or str(source)


def _split(series: np.ndarray, test_fraction: float, horizon: int, lookback: int) -> int:
    """Index of the first held-out period."""
    test = max(horizon, round(len(series) * test_fraction))
    cut = len(series) - test
    if cut < lookback + horizon:
        raise DemandDataError(
            f"a history of {len(series)} periods is too short: holding out {test} leaves "
            f"{cut}, fewer than lookback + horizon = {lookback + horizon}"
        )
    return cut


def _methods(model: NeuralForecaster, season_length: int, window: int) -> dict[str, Forecaster]:
    methods: dict[str, Forecaster] = {MODEL: lambda history, _h: model.predict(history)}
    methods["naive"] = naive
    if season_length > 0:
        methods["seasonal_naive"] = lambda history, h: seasonal_naive(history, h, season_length)
    methods["moving_average"] = lambda history, h: moving_average(history, h, window)
    methods["croston"] = croston
    methods["tsb"] = tsb
    return methods


def _safe_mase(actual: np.ndarray, forecast: np.ndarray, insample: np.ndarray, m: int) -> float:
    try:
        return mase(actual, forecast, insample, m)
    except ValueError:
        return math.nan


def _evaluate(
    model: NeuralForecaster,
    histories: Mapping[str, np.ndarray],
    seasons: Mapping[str, int],
    test_fraction: float,
    moving_average_window: int,
) -> tuple[tuple[Score, ...], tuple[str, ...], dict[str, np.ndarray], dict[str, Any]]:
    horizon, lookback = model.config.horizon, model.config.lookback
    scores: list[Score] = []
    actuals: dict[str, np.ndarray] = {}
    paths: dict[str, dict[str, np.ndarray]] = {}
    order: list[str] = []
    for product, raw in histories.items():
        series = np.asarray(raw, dtype=np.float64)
        cut = _split(series, test_fraction, horizon, lookback)
        season = seasons.get(product, 0)
        scale_m = season if 0 < season < cut else 1
        methods = _methods(model, season if 0 < season <= cut else 0, moving_average_window)
        actuals[product] = series[cut:]
        paths[product] = {}
        for name, method in methods.items():
            if name not in order:
                order.append(name)
            truth, predicted, one_step = [], [], []
            for origin in range(cut, len(series)):
                forecast = np.asarray(method(series[:origin], horizon), dtype=np.float64)
                one_step.append(forecast[0])
                if origin + horizon <= len(series):
                    truth.append(series[origin : origin + horizon])
                    predicted.append(forecast)
            y, f = np.concatenate(truth), np.concatenate(predicted)
            scores.append(
                Score(product, name, _safe_mase(y, f, series[:cut], scale_m), smape(y, f))
            )
            paths[product][name] = np.array(one_step)
    for name in order:
        rows = [s for s in scores if s.method == name]
        scores.append(
            Score(
                MEAN,
                name,
                float(np.nanmean([s.mase for s in rows]))
                if any(not math.isnan(s.mase) for s in rows)
                else math.nan,
                float(np.mean([s.smape for s in rows])),
            )
        )
    return tuple(scores), tuple(order), actuals, paths


def train_and_evaluate(
    source: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    config: ForecasterConfig | None = None,
    history_periods: int = 520,
    seed: int = 0,
    test_fraction: float = 0.2,
    season_length: int | None = None,
    moving_average_window: int = 4,
) -> ForecastEvaluation:
    """Train a global forecaster on a source's histories and score it against baselines.

    Args:
        source: A scenario file or bundled name (histories drawn from its demand
            process) or a demand CSV file (``period, product, demand``).
        out_dir: The run folder to write (created; existing files are replaced).
        config: Model settings (default :class:`ForecasterConfig`).
        history_periods: Periods drawn per product from a scenario (ignored for CSV).
        seed: Seed of the drawn histories (the model's seed is ``config.seed``).
        test_fraction: Share of each history held out for evaluation (latest periods).
        season_length: Season length of every product, overriding the scenario's
            (0: none). CSV sources have none unless given here.
        moving_average_window: Window of the moving-average baseline.

    Returns:
        The scores, the held-out actuals and one-step forecasts, and the run folder.

    Raises:
        DemandDataError: A source that cannot be read or histories too short.
    """
    config = config or ForecasterConfig()
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    histories, seasons = load_histories(source, history_periods, seed)
    if season_length is not None:
        seasons = dict.fromkeys(histories, season_length)
    cuts = {
        p: _split(np.asarray(s), test_fraction, config.horizon, config.lookback)
        for p, s in histories.items()
    }
    meta: dict[str, Any] = provenance()
    model = NeuralForecaster(config)
    history = model.fit([np.asarray(s)[: cuts[p]] for p, s in histories.items()])
    run_dir = Path(out_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    settings = {
        "source": str(source),
        "history_periods": history_periods,
        "seed": seed,
        "test_fraction": test_fraction,
        "season_lengths": seasons,
        "moving_average_window": moving_average_window,
        "forecaster": {**asdict(config), "hidden_sizes": list(config.hidden_sizes)},
    }
    _write_text(run_dir / "config.json", json.dumps(settings, indent=2) + "\n")
    model_path = run_dir / MODEL_FILE
    model.save(model_path)
    scores, methods, actual, forecasts = _evaluate(
        model, histories, seasons, test_fraction, moving_average_window
    )
    meta |= {
        "products": list(histories),
        "epochs_run": len(history["train"]),
        "best_epoch": history["best_epoch"][0],
        "best_val_loss": min(history["val"]) if history["val"] else None,
    }
    _write_text(run_dir / "meta.json", json.dumps(meta, indent=2) + "\n")
    write_metrics(run_dir / METRICS_FILE, scores)
    return ForecastEvaluation(
        str(source), run_dir, model_path, scores, methods, seasons, actual, forecasts, history
    )


def evaluate_saved(
    model_path: str | os.PathLike[str],
    source: str | os.PathLike[str],
    history_periods: int = 520,
    seed: int = 0,
    test_fraction: float = 0.2,
    season_length: int | None = None,
    moving_average_window: int = 4,
    out_dir: str | os.PathLike[str] | None = None,
) -> ForecastEvaluation:
    """Score a forecaster saved by :func:`train_and_evaluate` on a source's histories.

    The split and scores are those of :func:`train_and_evaluate`; note that a model
    trained on the same source has seen the periods before the held-out part only.

    Args:
        model_path: The weights file (``model.pt``; its ``model.json`` beside it).
        source: A scenario file or bundled name, or a demand CSV file.
        history_periods: Periods drawn per product from a scenario.
        seed: Seed of the drawn histories.
        test_fraction: Share of each history held out (latest periods).
        season_length: Season length of every product, overriding the scenario's.
        moving_average_window: Window of the moving-average baseline.
        out_dir: If given, ``metrics.csv`` is written there.

    Returns:
        The scores; ``run_dir`` is ``out_dir``.
    """
    model = NeuralForecaster.load(model_path, device="cpu")
    histories, seasons = load_histories(source, history_periods, seed)
    if season_length is not None:
        seasons = dict.fromkeys(histories, season_length)
    scores, methods, actual, forecasts = _evaluate(
        model, histories, seasons, test_fraction, moving_average_window
    )
    run_dir = None
    if out_dir is not None:
        run_dir = Path(out_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        write_metrics(run_dir / METRICS_FILE, scores)
    return ForecastEvaluation(
        str(source), run_dir, Path(model_path), scores, methods, seasons, actual, forecasts
    )


def read_metrics(path: str | os.PathLike[str]) -> list[Score]:
    """The scores in a ``metrics.csv`` written by this module."""
    with Path(path).open(newline="", encoding="utf-8") as handle:
        return [
            Score(row["product"], row["method"], float(row["mase"]), float(row["smape"]))
            for row in csv.DictReader(handle)
        ]


def write_metrics(path: Path, scores: tuple[Score, ...] | list[Score]) -> Path:
    """Write scores as CSV ``product, method, mase, smape`` (full float precision)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["product", "method", "mase", "smape"])
    for s in scores:
        writer.writerow([s.product, s.method, repr(s.mase), repr(s.smape)])
    _write_text(path, buffer.getvalue())
    return path


def provenance() -> dict[str, Any]:
    """Versions, revision and start time recorded in a forecast run's ``meta.json``."""
    import torch

    try:
        revision = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            timeout=5,
            cwd=Path(__file__).parent,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        revision = None
    return {
        "shopfloor": __version__,
        "git_revision": revision,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def _write_text(path: Path, text: str) -> None:
    """Write ``text`` atomically (a temporary file, then a rename), keeping the umask."""
    write_text_atomically(path, text)
