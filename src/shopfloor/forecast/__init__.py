"""Demand forecasting: baselines, accuracy metrics, data and a neural forecaster.

The forecaster's output is part of the observation of make-to-stock envs. Baselines
(naive, seasonal naive, moving average, Croston, TSB) are pure numpy functions of a
history and a horizon; metrics (MASE, sMAPE, pinball loss) compare forecasts with
actuals; :class:`NeuralForecaster` is a small global MLP in torch, seeded, with
early stopping and safe save/load (weights via ``torch.load(weights_only=True)`` and
a JSON config).

Example:
    >>> from shopfloor.forecast import demand_history, seasonal_naive
    >>> history = demand_history("production_inventory", periods=104, seed=0)  # doctest: +SKIP
    >>> seasonal_naive(next(iter(history.values())), 8, 52).shape  # doctest: +SKIP
    (8,)
"""

from shopfloor.forecast._arrivals import (
    ARRIVAL_KINDS,
    ArrivalForecastObservation,
    train_arrival_forecaster,
)
from shopfloor.forecast._baselines import croston, moving_average, naive, seasonal_naive, tsb
from shopfloor.forecast._data import DemandDataError, demand_history, read_demand_csv, windows
from shopfloor.forecast._evaluate import (
    ForecastEvaluation,
    Score,
    evaluate_saved,
    source_name,
    train_and_evaluate,
)
from shopfloor.forecast._metrics import mase, quantile_loss, smape
from shopfloor.forecast._model import ForecasterConfig, ForecastError, NeuralForecaster
from shopfloor.forecast._wrapper import KINDS as DEMAND_KINDS
from shopfloor.forecast._wrapper import ForecastObservation, train_forecaster_for

__all__ = [
    "ARRIVAL_KINDS",
    "DEMAND_KINDS",
    "ArrivalForecastObservation",
    "DemandDataError",
    "ForecastError",
    "ForecastEvaluation",
    "ForecastObservation",
    "ForecasterConfig",
    "NeuralForecaster",
    "Score",
    "croston",
    "demand_history",
    "evaluate_saved",
    "mase",
    "moving_average",
    "naive",
    "quantile_loss",
    "read_demand_csv",
    "seasonal_naive",
    "smape",
    "source_name",
    "train_and_evaluate",
    "train_arrival_forecaster",
    "train_forecaster_for",
    "tsb",
    "windows",
]
