"""Gantt charts drawn from event logs of real runs."""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

import pytest
from matplotlib import colormaps
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure

import shopfloor.sim._factory as factory_module  # white-box: the factory logs these constants
from shopfloor.instances import load_instance
from shopfloor.plots import _events, _gantt, gantt, read_event_log
from shopfloor.plots._output import save_figure
from shopfloor.policies import simulate
from shopfloor.scenario import load_scenario
from shopfloor.sim import events


def log_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def pairs_from_log(path: Path) -> list[tuple[int, int, int, float, float, float]]:
    """``(machine, job, operation, start, setup, end)`` per start row and its complete."""
    rows = log_rows(path)
    pairs = []
    for index, row in enumerate(rows):
        if row["kind"] != "start":
            continue
        key = (row["machine"], row["job"], row["operation"])
        end = next(
            (
                float(later["time"])
                for later in rows[index + 1 :]
                if later["kind"] == "complete"
                and (later["machine"], later["job"], later["operation"]) == key
            ),
            max(float(r["time"]) for r in rows),
        )
        machine, job, operation = map(int, key)
        pairs.append((machine, job, operation, float(row["time"]), float(row["value"]), end))
    return pairs


def as_tuples(bars):
    return [(b.machine, b.job, b.operation, b.start, b.setup, b.end) for b in bars]


def test_event_kinds_are_the_factorys():
    names = ("RELEASE", "START", "COMPLETE", "FINISH", "BREAKDOWN", "REPAIR", "DEMAND")
    names += ("SHIP", "BACKORDER", "LOST", "PRODUCE")
    for name in names:  # the ones the plots read
        assert getattr(_events, name) == getattr(events, name) == getattr(factory_module, name)
    assert factory_module.IDLE == events.IDLE
    assert factory_module.LoggedEvent._fields == _events.COLUMNS


def test_ft06_bars_are_the_logged_operations(ft06_log, tmp_path, assert_figures):
    plot = gantt(ft06_log, tmp_path / "ft06", title="ft06 under SPT")
    assert_figures(plot.paths, tmp_path / "ft06")
    assert as_tuples(plot.bars) == pairs_from_log(ft06_log)
    instance = load_instance("ft06")
    assert len(plot.bars) == instance.n_operations == 36
    assert all(bar.completed and bar.setup == 0 for bar in plot.bars)
    assert plot.n_machines == instance.n_machines
    assert (
        plot.end
        == max(bar.end for bar in plot.bars)
        == simulate(instance.to_factory_spec(), "spt", 0).kpis().makespan
    )
    assert plot.downtimes == ()


def test_no_machine_runs_two_bars_at_once(ft06_log, tmp_path):
    bars = gantt(ft06_log, tmp_path / "g").bars
    for machine in range(6):
        mine = sorted((b.start, b.end) for b in bars if b.machine == machine)
        assert all(a_end <= b_start for (_, a_end), (b_start, _) in itertools.pairwise(mine))


def test_breakdowns_of_a_run_folder_log(experiment, tmp_path, assert_figures):
    folder, _ = experiment
    log = folder / "small" / "qlearning" / "seed_0" / "eval_events.csv"
    plot = gantt(log, tmp_path / "dynamic")
    assert_figures(plot.paths, tmp_path / "dynamic")
    rows = log_rows(log)
    assert as_tuples(plot.bars) == pairs_from_log(log)
    assert len(plot.bars) == sum(r["kind"] == "start" for r in rows)
    breakdowns = [(int(r["machine"]), float(r["time"])) for r in rows if r["kind"] == "breakdown"]
    repairs = [(int(r["machine"]), float(r["time"])) for r in rows if r["kind"] == "repair"]
    assert breakdowns, "the scenario has breakdowns; this log should show one"
    assert [(d.machine, d.start) for d in plot.downtimes] == breakdowns
    assert [(d.machine, d.end) for d in plot.downtimes if d.repaired] == repairs


def test_setups_and_operations_cut_by_the_horizon(production_spec, tmp_path):
    log = simulate(production_spec, "fifo", 0).write_event_log(tmp_path / "pi.csv")
    plot = gantt(log, tmp_path / "pi", machine_names=[m.name for m in production_spec.machines])
    assert as_tuples(plot.bars) == pairs_from_log(log)
    assert any(bar.setup > 0 for bar in plot.bars)
    open_bars = [bar for bar in plot.bars if not bar.completed]
    completes = sum(r["kind"] == "complete" for r in log_rows(log))
    assert len(plot.bars) - len(open_bars) == completes
    assert all(bar.end == plot.end == production_spec.horizon for bar in open_bars)


def test_a_complete_without_start_is_an_error(tmp_path):
    log = tmp_path / "bad.csv"
    log.write_text("time,kind,machine,job,operation,value\n1,complete,0,0,0,0\n")
    with pytest.raises(ValueError, match="without having started"):
        gantt(log, tmp_path / "bad")
    log.write_text("time,kind\n1,start\n")
    with pytest.raises(ValueError, match=r"missing column\(s\)"):
        read_event_log(log)


@pytest.fixture
def drawn(monkeypatch) -> list[Figure]:
    """The figures the Gantt function saves, to check what they show."""
    figures: list[Figure] = []

    def save(figure: Figure, out):
        figures.append(figure)
        return save_figure(figure, out)

    monkeypatch.setattr(_gantt, "save_figure", save)
    return figures


def tick_labels(figure: Figure) -> list[str]:
    return [label.get_text() for label in figure.axes[0].get_yticklabels()]


def test_machines_are_labelled_with_the_scenarios_names(experiment, tmp_path, drawn):
    folder, _ = experiment
    log = folder / "small" / "qlearning" / "seed_0" / "eval_events.csv"
    names = [m.name for m in load_scenario("dynamic_job_shop_small").factory.machines]
    assert names == ["cut", "turn", "mill", "inspect"]
    plot = gantt(log, tmp_path / "named", machine_names=names)
    assert plot.machine_labels == tuple(names) and tick_labels(drawn[-1]) == names
    plot = gantt(log, tmp_path / "from_log")  # the factory's log names its machines
    assert plot.machine_labels == tuple(names) == tuple(tick_labels(drawn[-1]))
    rows = log_rows(log)
    bare = tmp_path / "bare.csv"
    with bare.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, [c for c in rows[0] if c != "machine_name"])
        writer.writeheader()
        writer.writerows({k: v for k, v in row.items() if k != "machine_name"} for row in rows)
    plot = gantt(bare, tmp_path / "unnamed")  # a log without names
    assert plot.machine_labels == ("M0", "M1", "M2", "M3") == tuple(tick_labels(drawn[-1]))


def with_machine_names(log: Path, names: list[str], out: Path) -> Path:
    """``log`` with a ``machine_name`` column."""
    rows = log_rows(log)
    with out.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, [*rows[0], "machine_name"])
        writer.writeheader()
        for row in rows:
            machine = int(row["machine"])
            writer.writerow({**row, "machine_name": names[machine] if machine >= 0 else ""})
    return out


def test_machine_names_in_the_log_label_the_machines(ft06_log, tmp_path, drawn):
    names = [f"station {m}" for m in range(6)]
    log = with_machine_names(ft06_log, names, tmp_path / "named.csv")
    plot = gantt(log, tmp_path / "named")
    assert plot.machine_labels == tuple(names) and tick_labels(drawn[-1]) == names
    assert as_tuples(plot.bars) == pairs_from_log(ft06_log)
    given = [f"m{m}" for m in range(6)]
    assert gantt(log, tmp_path / "given", machine_names=given).machine_labels == tuple(given)
    short = gantt(ft06_log, tmp_path / "short", machine_names=["a", "b"]).machine_labels
    assert short == ("a", "b", "M2", "M3", "M4", "M5")
    rows = log.read_text().splitlines()
    last = max(index for index, row in enumerate(rows) if row.endswith("station 3"))
    rows[last] = rows[last].replace("station 3", "elsewhere")
    log.write_text("\n".join(rows) + "\n")
    with pytest.raises(
        ValueError, match=rf"named\.csv:{last + 1}: machine 3 is named 'elsewhere' here but "
    ):
        gantt(log, tmp_path / "bad")


def test_breakdowns_are_cross_hatched_dark_grey_in_no_job_colour(experiment, tmp_path, drawn):
    folder, _ = experiment
    log = folder / "small" / "qlearning" / "seed_0" / "eval_events.csv"
    plot = gantt(log, tmp_path / "dynamic")
    assert plot.downtimes
    axes = drawn[-1].axes[0]
    breakdown = to_rgba(_gantt.BREAKDOWN_COLOUR)
    hatched = [c for c in axes.collections if c.get_hatch() == _gantt.BREAKDOWN_HATCH]
    assert sum(len(c.get_paths()) for c in hatched) == len(plot.downtimes)
    assert {tuple(colour) for c in hatched for colour in c.get_facecolor()} == {breakdown}
    jobs = [c for c in axes.collections if c.get_hatch() is None]
    assert sum(len(c.get_paths()) for c in jobs) == len(plot.bars)
    job_colours = {tuple(colour) for c in jobs for colour in c.get_facecolor()}
    assert len(job_colours) > 1 and job_colours <= set(_gantt.JOB_COLOURS)
    assert breakdown not in job_colours
    reds = {colormaps["tab20"](6), colormaps["tab20"](7), to_rgba("red")}
    for colour in _gantt.JOB_COLOURS:  # no red, and no grey like breakdowns and setups
        assert colour not in reds and max(colour[:3]) - min(colour[:3]) > 0.1
    legend = {patch.get_label(): patch for patch in axes.get_legend().get_patches()}
    assert legend["breakdown"].get_facecolor() == breakdown
    assert legend["breakdown"].get_hatch() == _gantt.BREAKDOWN_HATCH


@pytest.fixture(scope="module")
def dynamic_run(tmp_path_factory: pytest.TempPathFactory):
    """A dynamic shop under EDD: its event log and the factory (due dates, completions)."""
    factory = simulate(load_scenario("dynamic_job_shop_small").factory, "edd", 3)
    log = factory.write_event_log(tmp_path_factory.mktemp("dynamic") / "events.csv")
    return factory, log


def test_due_dates_and_lateness_are_the_factorys(dynamic_run, tmp_path, drawn):
    factory, log = dynamic_run
    due = {job: factory.due_date(job) for job in range(factory.n_jobs)}
    plot = gantt(log, tmp_path / "late", due_dates=due)
    finished = [job for job, _, _ in plot.lateness]
    assert finished and finished == sorted(finished)
    for job, due_date, completion in plot.lateness:
        assert due_date == factory.due_date(job)
        assert completion == factory.completion_time(job)
    late = [j for j in range(factory.n_jobs) if factory.completion_time(j) > factory.due_date(j)]
    assert late and set(plot.late_jobs) == set(late) & set(finished)
    axes = drawn[-1].axes[0]
    red = [
        c
        for c in axes.collections
        if isinstance(c, LineCollection) and c.get_colors().tolist() == [list(to_rgba("red"))]
    ]
    assert sum(len(c.get_segments()) for c in red) == len(plot.late_jobs)
    for segment in (s for c in red for s in c.get_segments()):
        (start, _), (end, _) = segment
        match = [e for _, d, e in plot.lateness if (d, e) == (start, end)]
        assert match, (start, end)  # from a due date to that job's completion
    triangles = [line for line in axes.get_lines() if line.get_marker() == "v"]
    assert len(triangles) == len(plot.lateness)
    assert f"{len(plot.late_jobs)} of {len(plot.lateness)} jobs late" in axes.get_title()


def test_no_due_dates_no_marks_and_a_job_legend_for_few_jobs(
    ft06_log, dynamic_run, tmp_path, drawn
):
    plot = gantt(ft06_log, tmp_path / "ft06")
    axes = drawn[-1].axes[0]
    assert plot.lateness == () and not [ln for ln in axes.get_lines() if ln.get_marker() == "v"]
    assert plot.job_legend
    legend = {patch.get_label(): patch for patch in axes.get_legend().get_patches()}
    assert [f"job {j}" for j in range(6)] == [k for k in legend if k.startswith("job ")]
    for job in range(6):
        assert legend[f"job {job}"].get_facecolor() == _gantt.JOB_COLOURS[job]
    assert axes.get_title().startswith(f"Gantt chart of {ft06_log.parent.name}/ft06.csv\n")
    many = gantt(dynamic_run[1], tmp_path / "many")  # more jobs than colours
    assert not many.job_legend
    labels = [p.get_label() for p in drawn[-1].axes[0].get_legend().get_patches()]
    assert not any(label.startswith("job ") for label in labels)
    assert any("mod" in label for label in labels)


def test_a_log_in_the_working_folder_is_titled_by_its_name(ft06_log, tmp_path, drawn, monkeypatch):
    monkeypatch.chdir(ft06_log.parent)
    gantt(ft06_log.name, tmp_path / "here")
    assert drawn[-1].axes[0].get_title().startswith(f"Gantt chart of {ft06_log.name}\n")
