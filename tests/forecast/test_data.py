"""Demand histories from scenarios, the CSV reader and sliding windows."""

import numpy as np
import pytest

from shopfloor.forecast import DemandDataError, demand_history, read_demand_csv, windows
from shopfloor.scenario import load_scenario


def test_demand_history_from_scenario_is_seeded():
    first = demand_history("production_inventory", 60, seed=3)
    again = demand_history(load_scenario("production_inventory"), 60, seed=3)
    other = demand_history("production_inventory", 60, seed=4)
    assert list(first) == ["widget_small", "widget_large", "gadget"]
    for name, series in first.items():
        assert series.shape == (60,)
        assert (series >= 0).all()
        np.testing.assert_array_equal(series, again[name])
    assert any(not np.array_equal(first[name], other[name]) for name in first)


def _write(tmp_path, text):
    path = tmp_path / "demand.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_read_demand_csv_sorts_periods(tmp_path):
    path = _write(tmp_path, "period,product,demand\n1,a,2\n0,a,1\n0,b,0\n1,b,4.5\n2,a,3\n")
    histories = read_demand_csv(path)
    assert list(histories) == ["a", "b"]
    np.testing.assert_array_equal(histories["a"], [1, 2, 3])
    np.testing.assert_array_equal(histories["b"], [0, 4.5])


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("period,item,demand\n0,a,1\n", r"demand\.csv:1: missing column\(s\) 'product'"),
        ("period,product,demand\n0,a,1\n1,a,lots\n", r"demand\.csv:3: column 'demand': 'lots'"),
        ("period,product,demand\n0,a,-1\n", r"demand\.csv:2: column 'demand': '-1' is negative"),
        (
            "period,product,demand\n0,a,1\n0,a,2\n",
            r"demand\.csv:3: column 'period'.*repeats line 2",
        ),
        ("period,product,demand\n0,a,1\n3,a,2\n", r"demand\.csv:3: column 'period'.*1\.\.2"),
        (
            "period,product,demand\nx,a,1\n",
            r"demand\.csv:2: column 'period': 'x' is not an integer",
        ),
        ("", r"demand\.csv: the file is empty"),
    ],
)
def test_read_demand_csv_errors(tmp_path, text, match):
    path = _write(tmp_path, text)
    with pytest.raises(DemandDataError, match=match):
        read_demand_csv(path)


def test_read_demand_csv_missing_file(tmp_path):
    with pytest.raises(DemandDataError, match=r"nope\.csv: file not found"):
        read_demand_csv(tmp_path / "nope.csv")


def test_windows():
    inputs, targets = windows(np.arange(6), lookback=3, horizon=2)
    np.testing.assert_array_equal(inputs, [[0, 1, 2], [1, 2, 3]])
    np.testing.assert_array_equal(targets, [[3, 4], [4, 5]])
    inputs, targets = windows(np.arange(4), lookback=3, horizon=2)
    assert inputs.shape == (0, 3) and targets.shape == (0, 2)
