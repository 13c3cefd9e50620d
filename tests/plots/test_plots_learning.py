"""Learning curves drawn from a real experiment's run folders."""

from __future__ import annotations

import csv
import json
import math
import shutil
from pathlib import Path

import pytest

from shopfloor.plots import _learning, learning_curves

ENV = "small"
T_975 = {1: 12.706204736174707, 2: 4.302652729749462}  # t(0.975, df) from tables, by df


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def expected_curve(agent_dir: Path) -> tuple[list[int], list[float], list[float], list[float]]:
    """Mean and 95% Student-t CI over seeds at the steps every seed evaluated, from eval.csv."""
    per_seed = []
    for seed_dir in sorted(agent_dir.glob("seed_*")):
        per_seed.append(
            {int(r["timesteps"]): float(r["objective_mean"]) for r in rows(seed_dir / "eval.csv")}
        )
    steps = sorted(set(per_seed[0]).intersection(*per_seed[1:]))
    means, lows, highs = [], [], []
    n = len(per_seed)
    for step in steps:
        values = [seed[step] for seed in per_seed]
        mean = sum(values) / n
        sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
        means.append(mean)
        low = mean - T_975[n - 1] * sd / math.sqrt(n)
        lows.append(max(low, 0.0) if min(values) >= 0 else low)  # a mean >= 0 stays >= 0
        highs.append(mean + T_975[n - 1] * sd / math.sqrt(n))
    return steps, means, lows, highs


def test_curves_and_baselines_equal_the_run_folders(experiment, tmp_path, assert_figures):
    folder, _ = experiment
    plot = learning_curves(folder, tmp_path / "curves.png")
    assert_figures(plot.paths, tmp_path / "curves")

    curve = plot.curve(ENV, "qlearning")
    steps, means, lows, highs = expected_curve(folder / ENV / "qlearning")
    assert curve.seeds == (0, 1)
    assert list(curve.timesteps) == steps == [0, 200, 400, 600]
    assert curve.mean == pytest.approx(means, rel=1e-12)
    assert curve.ci_low == pytest.approx(lows, rel=1e-12)
    assert curve.ci_high == pytest.approx(highs, rel=1e-12)

    baseline_rows = rows(folder / ENV / "baselines" / "spt.csv")
    expected = sum(float(r["objective"]) for r in baseline_rows) / len(baseline_rows)
    level = plot.baseline(ENV, "spt")
    assert level.mean == pytest.approx(expected, rel=1e-12)
    assert level.n == 2

    result = json.loads((folder / ENV / "qlearning" / "seed_0" / "result.json").read_text())
    assert plot.objectives == {ENV: result["objective"]} == {ENV: "mean_weighted_tardiness"}


def test_the_final_point_is_the_experiment_summary(experiment, tmp_path):
    folder, result = experiment
    plot = learning_curves(folder, tmp_path / "curves", env=ENV)
    row = next(r for r in result.summary_rows if r["policy"] == "qlearning")
    curve = plot.curve(ENV, "qlearning")
    assert curve.mean[-1] == pytest.approx(row["mean"], rel=1e-12)
    assert curve.ci_low[-1] == pytest.approx(row["ci_low"], rel=1e-9)
    assert curve.ci_high[-1] == pytest.approx(row["ci_high"], rel=1e-9)


def test_seeds_are_aligned_on_the_steps_they_share(experiment, tmp_path):
    folder, _ = experiment
    copy = tmp_path / "tiny"
    shutil.copytree(folder, copy)
    unfinished = copy / ENV / "qlearning" / "seed_1" / "eval.csv"
    lines = unfinished.read_text().splitlines(keepends=True)
    unfinished.write_text("".join(lines[:-1]))  # seed 1 stopped before its last evaluation

    curve = learning_curves(copy, tmp_path / "curves").curve(ENV, "qlearning")
    steps, means, _, _ = expected_curve(copy / ENV / "qlearning")
    assert list(curve.timesteps) == steps == [0, 200, 400]
    assert curve.mean == pytest.approx(means, rel=1e-12)


def test_one_seed_has_no_band(experiment, tmp_path, monkeypatch):
    folder, _ = experiment
    copy = tmp_path / "tiny"
    shutil.copytree(folder, copy)
    figures = []
    monkeypatch.setattr(_learning, "save_figure", lambda f, out: figures.append(f) or (out, out))
    two_seeds = learning_curves(copy, tmp_path / "two")
    shutil.rmtree(copy / ENV / "qlearning" / "seed_1")
    curve = learning_curves(copy, tmp_path / "one").curve(ENV, "qlearning")
    seed_0 = [
        float(r["objective_mean"]) for r in rows(copy / ENV / "qlearning" / "seed_0" / "eval.csv")
    ]
    assert curve.seeds == (0,)
    assert list(curve.mean) == seed_0
    assert all(math.isnan(v) for v in (*curve.ci_low, *curve.ci_high))
    bands = [len(figure.axes[0].collections) for figure in figures]
    assert len(two_seeds.curve(ENV, "qlearning").seeds) == 2
    assert bands == [1, 0]  # the two-seed band, then none
    labels = [text.get_text() for text in figures[1].legends[0].get_texts()]
    assert "qlearning (1 seed)" in labels


def test_unknown_env_and_missing_folder_are_errors(experiment, tmp_path):
    folder, _ = experiment
    with pytest.raises(FileNotFoundError, match=r"no env 'nope'.*\['small'\]"):
        learning_curves(folder, tmp_path / "x", env="nope")
    with pytest.raises(FileNotFoundError, match="no such experiment folder"):
        learning_curves(tmp_path / "missing", tmp_path / "x")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match=r"no eval\.csv and no baselines"):
        learning_curves(tmp_path / "empty", tmp_path / "x")


def test_a_far_off_baseline_is_named_but_not_drawn(experiment, tmp_path):
    """A baseline 100x worse would flatten the curves: it is listed off scale. The best
    baseline is drawn however far below the agents it lies."""
    folder, _ = experiment
    copy = tmp_path / "tiny"
    shutil.copytree(folder, copy)
    spt = copy / ENV / "baselines" / "spt.csv"
    spt_rows = rows(spt)
    for name, factor in (("far", 100.0), ("best", 0.001)):
        with (spt.parent / f"{name}.csv").open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(spt_rows[0]))
            writer.writeheader()
            for row in spt_rows:
                writer.writerow(
                    {**row, "policy": name, "objective": float(row["objective"]) * factor}
                )
    plot = learning_curves(copy, tmp_path / "curves")
    assert [level.policy for level in plot.off_scale] == ["far"]
    assert plot.baseline(ENV, "far").mean == pytest.approx(100 * plot.baseline(ENV, "spt").mean)
    before = learning_curves(folder, tmp_path / "before")
    assert before.off_scale == ()  # SPT within reach of the Q-learning curve


def test_styles_are_fixed_and_the_legend_is_outside(experiment, tmp_path, monkeypatch):
    """A policy's colour does not depend on what else is drawn; agents are solid and
    baselines dashed in colours no agent uses; one figure legend, none inside the axes."""
    from matplotlib.colors import to_hex

    from shopfloor.plots._palette import style

    folder, _ = experiment
    copy = tmp_path / "tiny"
    shutil.copytree(folder, copy)
    figures = []
    monkeypatch.setattr(_learning, "save_figure", lambda f, out: figures.append(f) or (out, out))
    learning_curves(copy, tmp_path / "a")
    spt = copy / ENV / "baselines" / "spt.csv"
    (spt.parent / "fifo.csv").write_text(spt.read_text().replace("\nspt,", "\nfifo,"))
    learning_curves(copy, tmp_path / "b")
    for figure in figures:
        axes = figure.axes[0]
        assert axes.get_legend() is None and len(figure.legends) == 1
        lines = {to_hex(line.get_color()): line.get_linestyle() for line in axes.get_lines()}
        assert lines[style("qlearning").colour] == "-"
        assert lines[style("spt").colour] == "--"
    fifo = style("fifo").colour
    assert fifo not in {to_hex(line.get_color()) for line in figures[0].axes[0].get_lines()}
    assert fifo in {to_hex(line.get_color()) for line in figures[1].axes[0].get_lines()}


def test_bands_stop_at_zero_for_a_non_negative_objective(experiment, tmp_path, monkeypatch):
    """The interval of a non-negative objective stops at 0 (shopfloor._stats.mean_interval),
    and so does the band drawn."""
    folder, _ = experiment
    copy = tmp_path / "tiny"
    shutil.copytree(folder, copy)
    for seed, value in ((0, 0.01), (1, 5.0)):  # a wide interval around a small mean
        path = copy / ENV / "qlearning" / f"seed_{seed}" / "eval.csv"
        table = rows(path)
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(table[0]))
            writer.writeheader()
            writer.writerows({**row, "objective_mean": value} for row in table)
    figures = []
    monkeypatch.setattr(_learning, "save_figure", lambda f, out: figures.append(f) or (out, out))
    curve = learning_curves(copy, tmp_path / "c").curve(ENV, "qlearning")
    assert min(curve.ci_low) == 0.0  # the Student-t interval would reach -28
    (band,) = figures[0].axes[0].collections
    lowest = min(y for path in band.get_paths() for _, y in path.vertices)
    assert lowest == 0.0
