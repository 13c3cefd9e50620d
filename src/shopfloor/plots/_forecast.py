"""Forecast vs actual demand over a held-out period, the model against baselines."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike

from shopfloor.plots._output import new_figure, save_figure
from shopfloor.plots._palette import AGENT, BASELINE, style


@dataclass(frozen=True)
class ForecastPlot:
    """What :func:`forecast_plot` drew.

    Attributes:
        paths: The PNG and SVG written.
        methods: The forecast series drawn, in legend order.
        periods: Number of held-out periods on the x axis.
    """

    paths: tuple[Path, Path]
    methods: tuple[str, ...]
    periods: int


def forecast_plot(
    out: str | os.PathLike[str],
    actual: ArrayLike,
    forecasts: Mapping[str, ArrayLike],
    title: str,
    *,
    start: int = 0,
    highlight: str = "model",
) -> ForecastPlot:
    """Draw actual demand with forecasts of the same periods (nothing is computed).

    Args:
        out: Output path; ``<stem>.png`` and ``<stem>.svg`` are written.
        actual: The observed demand of the periods drawn.
        forecasts: Method name to its forecasts of the same periods (equal length).
        title: Figure title.
        start: Period number of the first value (x axis offset).
        highlight: Method drawn bold and solid (the others thinner, dashed or dotted);
            every method keeps its colour across figures (``plots._palette``).

    Returns:
        The paths written and what was drawn.

    Raises:
        ValueError: If a forecast's length differs from the actual's, or nothing to draw.
    """
    y = np.asarray(actual, dtype=np.float64)
    if y.ndim != 1 or len(y) == 0:
        raise ValueError(f"actual must be a non-empty 1-D array, got shape {y.shape}")
    series = {name: np.asarray(values, dtype=np.float64) for name, values in forecasts.items()}
    wrong = {name: f.shape for name, f in series.items() if f.shape != y.shape}
    if wrong:
        raise ValueError(f"forecasts must have the actual's shape {y.shape}, got {wrong}")
    periods = np.arange(start, start + len(y))
    figure = new_figure(10.0, 4.0)
    axes = figure.subplots()
    axes.bar(periods, y, width=0.85, color="0.8", label="actual", zorder=1)
    for name, values in series.items():
        look = style(name, AGENT if name == highlight else BASELINE)
        if name == highlight:
            axes.plot(periods, values, color=look.colour, linewidth=2.2, label=name, zorder=3)
        else:
            axes.plot(
                periods,
                values,
                color=look.colour,
                linewidth=1.2,
                linestyle=look.linestyle,
                label=name,
                zorder=2,
            )
    axes.set_xlabel("period")
    axes.set_ylabel("demand")
    axes.set_title(title)
    axes.set_ylim(bottom=0)
    axes.legend(loc="upper left", fontsize="small", ncols=min(4, len(series) + 1))
    axes.grid(axis="y", alpha=0.3)
    paths = save_figure(figure, out)
    return ForecastPlot(paths, tuple(series), len(y))
