"""Benchmark bars drawn from real benchmark and experiment summaries."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest
from matplotlib.container import ErrorbarContainer

from shopfloor.experiments import run_bench
from shopfloor.plots import _bench, benchmark_bars


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def bench_summary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    result = run_bench(["spt", "mwkr", "fifo"], ["ft06", "la01"], 2, workers=1, progress=False)
    return result.save(tmp_path_factory.mktemp("bench"))["summary"]


def test_bars_equal_the_bench_summary(bench_summary, tmp_path, assert_figures):
    plot = benchmark_bars(bench_summary, tmp_path / "bench")
    assert_figures(plot.paths, tmp_path / "bench")
    table = rows(bench_summary)
    assert plot.group_column == "target"
    assert len(plot.bars) == len(table) == 6
    for row in table:
        bar = plot.bar(row["target"], row["policy"])
        assert bar.mean == float(row["mean"])
        assert (bar.ci_low, bar.ci_high) == (float(row["ci_low"]), float(row["ci_high"]))
        assert bar.panel == "makespan"
    # Bars of one target sit side by side around its tick, in policy order.
    ft06 = [bar.x for bar in plot.bars if bar.group == "ft06"]
    assert ft06 == sorted(ft06) and all(-0.5 < x < 0.5 for x in ft06)


def test_bars_equal_the_experiment_summary(experiment, tmp_path, assert_figures):
    _, result = experiment
    plot = benchmark_bars(result.summary_csv, tmp_path / "summary.svg")
    assert_figures(plot.paths, tmp_path / "summary")
    assert plot.group_column == "env"
    for row in rows(result.summary_csv):
        bar = plot.bar(row["env"], row["policy"])
        assert bar.mean == float(row["mean"])
        assert (bar.ci_low, bar.ci_high) == (float(row["ci_low"]), float(row["ci_high"]))


def test_missing_columns_and_blank_intervals(tmp_path, monkeypatch):
    bad = tmp_path / "bad.csv"
    bad.write_text("policy,score\nspt,1\n")
    with pytest.raises(ValueError, match=r"missing column\(s\) \['mean', 'target or env'\]"):
        benchmark_bars(bad, tmp_path / "bad")
    blank = tmp_path / "blank.csv"
    blank.write_text(
        "policy,target,mean,ci_low,ci_high\nspt,a,3.0,,\nfifo,a,3.5,nan,nan\nlpt,a,4.5,4.0,5.0\n"
    )
    figures = []
    monkeypatch.setattr(_bench, "save_figure", lambda f, out: figures.append(f) or (out, out))
    plot = benchmark_bars(blank, tmp_path / "blank")
    assert plot.bar("a", "spt").mean == 3.0 and math.isnan(plot.bar("a", "spt").ci_low)
    assert math.isnan(plot.bar("a", "fifo").ci_high)
    assert plot.bar("a", "lpt").mean == 4.5
    # Blank and NaN intervals (one seed) get no error bar; lpt's is drawn as read.
    (errorbar,) = [c for c in figures[0].axes[0].containers if isinstance(c, ErrorbarContainer)]
    (segment,) = errorbar.lines[2][0].get_segments()
    assert [tuple(point) for point in segment] == [
        (plot.bar("a", "lpt").x, 4.0),
        (plot.bar("a", "lpt").x, 5.0),
    ]


def test_fixed_colours_hatched_baselines_and_error_bars_stop_at_zero(tmp_path, monkeypatch):
    from matplotlib.colors import to_hex

    from shopfloor.plots._palette import style

    table = tmp_path / "summary.csv"
    table.write_text(
        "env,policy,kind,n,mean,ci_low,ci_high\n"
        "shop,my_agent,agent,3,0.5,-0.7,1.7\n"
        "shop,spt,baseline,100,2.0,1.5,2.5\n"
    )
    figures = []
    monkeypatch.setattr(_bench, "save_figure", lambda f, out: figures.append(f) or (out, out))
    benchmark_bars(table, tmp_path / "bars")
    axes = figures[0].axes[0]
    agent_bar, rule_bar = axes.patches
    assert to_hex(agent_bar.get_facecolor()) == style("my_agent", "agent").colour
    assert to_hex(rule_bar.get_facecolor()) == style("spt").colour
    assert agent_bar.get_hatch() is None and rule_bar.get_hatch() == style("spt").hatch
    errorbar = next(c for c in axes.containers if isinstance(c, ErrorbarContainer))
    lows = [min(y for _, y in segment) for segment in errorbar.lines[2][0].get_segments()]
    assert min(lows) == 0.0  # the agent's interval reaches -0.7: cut at 0
    labels = [text.get_text() for text in figures[0].legends[0].get_texts()]
    assert labels == ["my_agent", "spt (baseline)"]
