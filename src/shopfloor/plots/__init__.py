"""Figures from what run folders and result files hold: nothing is computed anew.

* :func:`learning_curves`: an experiment's evaluation objective over env steps, mean
  and 95% confidence band across seeds, baselines as dashed lines;
* :func:`gantt`: the schedule in an event log, setups hatched, breakdowns cross-hatched dark grey;
* :func:`inventory`: finished goods, backlog and demand per product from an event log;
* :func:`benchmark_bars`: a benchmark or experiment summary as grouped bars with CIs;
* :func:`experiment_figures`: an experiment's learning curves and Gantt charts, after its run.

Every function draws on an Agg canvas (no display), writes ``<stem>.png`` and
``<stem>.svg`` and returns the paths with the numbers it drew.

Example:
    >>> from shopfloor.plots import learning_curves
    >>> plot = learning_curves("experiments/runs/quickstart", "curves")  # doctest: +SKIP
    >>> plot.paths  # doctest: +SKIP
    (PosixPath('curves.png'), PosixPath('curves.svg'))
"""

from shopfloor.plots._bench import BenchmarkBar, BenchmarkPlot, benchmark_bars
from shopfloor.plots._events import (
    Downtime,
    EventRow,
    OperationBar,
    StockTrajectory,
    read_event_log,
)
from shopfloor.plots._experiment import experiment_figures
from shopfloor.plots._forecast import ForecastPlot, forecast_plot
from shopfloor.plots._gantt import GanttPlot, gantt
from shopfloor.plots._inventory import InventoryPlot, inventory
from shopfloor.plots._learning import BaselineLevel, Curve, LearningCurvesPlot, learning_curves

__all__ = [
    "BaselineLevel",
    "BenchmarkBar",
    "BenchmarkPlot",
    "Curve",
    "Downtime",
    "EventRow",
    "ForecastPlot",
    "GanttPlot",
    "InventoryPlot",
    "LearningCurvesPlot",
    "OperationBar",
    "StockTrajectory",
    "benchmark_bars",
    "experiment_figures",
    "forecast_plot",
    "gantt",
    "inventory",
    "learning_curves",
    "read_event_log",
]
