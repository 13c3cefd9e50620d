"""Demand histories to train and evaluate forecasters on.

:func:`demand_history` draws seeded histories from a scenario's own demand process
(:func:`shopfloor.sim.demand_series`); :func:`read_demand_csv` reads observed
histories from a CSV file with columns ``period, product, demand``; :func:`windows`
cuts a series into (lookback, horizon) training pairs.
"""

from __future__ import annotations

import csv
import itertools
import math
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike

from shopfloor.scenario import Scenario, load_scenario
from shopfloor.sim import FactorySpec, demand_series

REQUIRED_COLUMNS = ("period", "product", "demand")
"""Columns a demand CSV file must have (others are ignored)."""


class DemandDataError(ValueError):
    """A demand file or history that cannot be used; the message says where and why."""


def demand_history(
    scenario: Scenario | FactorySpec | str | os.PathLike[str], periods: int, seed: int
) -> dict[str, np.ndarray]:
    """Seeded demand histories of every make-to-stock product of a scenario.

    Product ``i`` (in scenario order) is drawn with :func:`shopfloor.sim.demand_series`
    from a seed derived from ``(seed, i)``, so adding a product does not change the
    histories of the others. Products without customer demand are left out.

    Args:
        scenario: A loaded scenario, its factory, or a scenario file / bundled name.
        periods: Number of periods per history.
        seed: Seed of the histories.

    Returns:
        Product name to integer array of shape ``(periods,)``, in scenario order.

    Raises:
        DemandDataError: If no product has customer demand.
    """
    if periods < 1:
        raise ValueError(f"periods must be at least 1, got {periods}")
    if isinstance(scenario, Scenario):
        factory = scenario.factory
    elif isinstance(scenario, FactorySpec):
        factory = scenario
    else:
        factory = load_scenario(scenario).factory
    histories: dict[str, np.ndarray] = {}
    for index, product in enumerate(factory.products):
        if product.demand is None:
            continue
        product_seed = int(np.random.SeedSequence([seed, index]).generate_state(1)[0])
        histories[product.name] = demand_series(product.demand, periods, product_seed)
    if not histories:
        raise DemandDataError(f"scenario {factory.name!r} has no product with customer demand")
    return histories


def read_demand_csv(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Read demand histories from a CSV file with columns ``period, product, demand``.

    Each row is the demand of one product in one period. Periods are integers; every
    product must have one row for each period from its first to its last (rows may
    come in any order). Demand is a finite non-negative number.

    Args:
        path: The CSV file (UTF-8, header row first).

    Returns:
        Product name to float array of its demand by period, in order of first
        appearance.

    Raises:
        DemandDataError: Naming the file, the line and the column, if the file is
            missing or unreadable, lacks a column, or has a non-integer period, an
            empty product, a non-numeric or negative demand, a repeated
            ``(period, product)`` or a gap in a product's periods.
    """
    file = Path(path)
    try:
        with file.open(newline="", encoding="utf-8") as handle:
            return _parse_csv(csv.reader(handle), str(file))
    except FileNotFoundError:
        raise DemandDataError(f"{file}: file not found") from None
    except IsADirectoryError:
        raise DemandDataError(f"{file}: is a directory, not a CSV file") from None
    except UnicodeDecodeError as exc:
        raise DemandDataError(f"{file}: not UTF-8 text: {exc}") from None
    except csv.Error as exc:
        raise DemandDataError(f"{file}: not a valid CSV file: {exc}") from None


def _parse_csv(reader: object, source: str) -> dict[str, np.ndarray]:
    rows = iter(reader)  # type: ignore[call-overload]
    header = next(rows, None)
    if header is None:
        raise DemandDataError(f"{source}: the file is empty; expected a header row")
    names = [name.strip().lower() for name in header]
    missing = [column for column in REQUIRED_COLUMNS if column not in names]
    if missing:
        raise DemandDataError(
            f"{source}:1: missing column(s) {', '.join(repr(c) for c in missing)}; "
            f"the header has {', '.join(repr(h) for h in header) or 'nothing'}"
        )
    position = {column: names.index(column) for column in REQUIRED_COLUMNS}
    values: dict[str, dict[int, float]] = {}
    lines: dict[tuple[str, int], int] = {}
    for line, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < len(header):
            raise DemandDataError(
                f"{source}:{line}: expected {len(header)} columns, got {len(row)}"
            )
        where = f"{source}:{line}: column"
        period_text = row[position["period"]].strip()
        try:
            period = int(period_text)
        except ValueError:
            raise DemandDataError(f"{where} 'period': {period_text!r} is not an integer") from None
        product = row[position["product"]].strip()
        if not product:
            raise DemandDataError(f"{where} 'product': empty product name")
        demand_text = row[position["demand"]].strip()
        try:
            demand = float(demand_text)
        except ValueError:
            raise DemandDataError(f"{where} 'demand': {demand_text!r} is not a number") from None
        if not math.isfinite(demand):
            raise DemandDataError(f"{where} 'demand': {demand_text!r} is not finite")
        if demand < 0:
            raise DemandDataError(f"{where} 'demand': {demand_text!r} is negative")
        key = (product, period)
        if key in lines:
            raise DemandDataError(
                f"{where} 'period': period {period} of product {product!r} repeats "
                f"line {lines[key]}"
            )
        lines[key] = line
        values.setdefault(product, {})[period] = demand
    if not values:
        raise DemandDataError(f"{source}: no data rows after the header")
    return {
        product: _contiguous(source, product, by_period, lines)
        for product, by_period in values.items()
    }


def _contiguous(
    source: str, product: str, by_period: Mapping[int, float], lines: Mapping[tuple[str, int], int]
) -> np.ndarray:
    periods = sorted(by_period)
    for before, after in itertools.pairwise(periods):
        if after != before + 1:
            gap = f"{before + 1}" if after == before + 2 else f"{before + 1}..{after - 1}"
            raise DemandDataError(
                f"{source}:{lines[(product, after)]}: column 'period': product {product!r} "
                f"has no rows for period(s) {gap} (between periods {before} and {after})"
            )
    return np.array([by_period[period] for period in periods], dtype=np.float64)


def windows(series: ArrayLike, lookback: int, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """Cut a series into sliding (input, target) windows.

    Window ``i`` takes ``series[i : i + lookback]`` as input and the following
    ``horizon`` values as target.

    Args:
        series: A 1-D history, oldest first.
        lookback: Input length ``L``.
        horizon: Target length ``H``.

    Returns:
        ``(X, Y)`` of shapes ``(n, L)`` and ``(n, H)`` with ``n = len - L - H + 1``
        (0 when the series is too short), as float64.
    """
    if lookback < 1 or horizon < 1:
        raise ValueError(f"lookback and horizon must be at least 1, got {lookback}, {horizon}")
    values = np.asarray(series, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError(f"series must be 1-D, got shape {values.shape}")
    count = len(values) - lookback - horizon + 1
    if count <= 0:
        return np.empty((0, lookback)), np.empty((0, horizon))
    frames = np.lib.stride_tricks.sliding_window_view(values, lookback + horizon)
    return frames[:, :lookback].copy(), frames[:, lookback:].copy()
