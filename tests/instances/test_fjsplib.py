"""FJSPLIB flexible job shops: parsing, errors, bundled data, names and the factory."""

import csv
import io
import re
from importlib import resources

import gymnasium as gym
import numpy as np
import pytest

import shopfloor.envs  # noqa: F401  (registers the envs)
from shopfloor.instances import (
    FlexibleJobShopInstance,
    InstanceFormatError,
    detect_format,
    flexible_instance_names,
    instance_names,
    instance_names_from_range,
    load_instance,
    parse_fjsplib,
    read_instance,
    resolve_instance,
    write_fjsplib,
)
from shopfloor.policies import run_factory
from shopfloor.sim import LIMITS, Factory

SMALL = """\
2 3 1.5
2  1 1 5  2 2 4 3 6
1  2 3 7 1 2
"""

# Brandimarte (1993), Table: jobs, machines and operations of mk01-mk10.
BRANDIMARTE = {
    "mk01": (10, 6, 55),
    "mk02": (10, 6, 58),
    "mk03": (15, 8, 150),
    "mk04": (15, 8, 90),
    "mk05": (15, 4, 106),
    "mk06": (10, 10, 150),
    "mk07": (20, 5, 100),
    "mk08": (20, 10, 225),
    "mk09": (20, 10, 240),
    "mk10": (20, 15, 240),
}
HURINK = (
    ["mt06", "mt10", "mt20"]
    + [f"la{i:02d}" for i in range(1, 41)]
    + [f"abz{i}" for i in range(5, 10)]
    + [f"car{i}" for i in range(1, 9)]
    + [f"orb{i:02d}" for i in range(1, 11)]
)
CLASSIC = {"mt06": "ft06", "mt10": "ft10", "mt20": "ft20"}


def test_small_instance_by_hand():
    instance = parse_fjsplib(SMALL, name="small")
    assert isinstance(instance, FlexibleJobShopInstance)
    assert (instance.n_jobs, instance.n_machines, instance.n_operations) == (2, 3, 3)
    assert instance.operations == (
        (((0, 5),), ((1, 4), (2, 6))),
        (((2, 7), (0, 2)),),
    )
    assert instance.flexibility == pytest.approx(5 / 3)
    assert instance.lower_bound_trivial() == max(5 + 4, 2, -(-(5 + 4 + 2) // 3))


def test_header_without_the_average_and_tabs():
    text = "2\t3\n2\t1\t1\t5\t2\t2\t4\t3\t6\n1\t2\t3\t7\t1\t2\n"
    assert parse_fjsplib(text).operations == parse_fjsplib(SMALL).operations


def test_factory_spec_has_the_alternatives():
    spec = parse_fjsplib(SMALL, name="small").to_factory_spec()
    second = spec.jobs[0].routing[1]
    assert second.machines == (1, 2)
    assert second.durations == (4.0, 6.0)
    factory = Factory(spec)
    assert factory.n_jobs == 2
    kpis = run_factory(Factory(spec), "spt").kpis()
    assert kpis.jobs_completed == 2
    assert 9 <= kpis.makespan <= 5 + 6 + 7  # job 0 alone takes 5 + 4; all in a row at most


def test_write_then_parse_round_trips(tmp_path):
    for name in ("mk02", "hurink_vdata_la01", "hurink_edata_orb07"):
        instance = load_instance(name)
        path = tmp_path / f"{name}.fjs"
        text = write_fjsplib(instance, path)
        assert text.splitlines()[0].split()[:2] == [str(instance.n_jobs), str(instance.n_machines)]
        back = read_instance(path)
        assert isinstance(back, FlexibleJobShopInstance)
        assert back.operations == instance.operations
        assert back.n_machines == instance.n_machines


def test_detection_of_fjsplib_with_and_without_the_average(tmp_path):
    assert detect_format(SMALL) == "fjsplib"
    assert detect_format("2 3\n2  1 1 5  2 2 4 3 6\n1  2 3 7 1 2\n") == "fjsplib"
    # OR-Library rows (2 * n_machines numbers, machines from 0) stay OR-Library
    assert detect_format("2 2\n0 3 1 2\n1 4 0 1\n") == "orlibrary"
    plain = tmp_path / "small.txt"
    plain.write_text(SMALL, encoding="utf-8")
    assert isinstance(read_instance(plain), FlexibleJobShopInstance)
    assert read_instance(plain, format="fjsplib").operations == parse_fjsplib(SMALL).operations


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("", None, "file is empty"),
        ("2 3 1.5 7\n", 1, "expected the header 'n_jobs n_machines"),
        ("two 3\n1 1 1 5\n", 1, "n_jobs 'two' is not an integer"),
        ("2 0 1.5\n1 1 1 5\n", 1, "n_machines must be >= 1, got 0"),
        ("2 3 x\n1 1 1 5\n", 1, "average machines per operation 'x' is not a number"),
        ("2 3 1.5\n1 1 1 5\n", 2, "expected 2 job lines after the header, found 1"),
        ("1 3 1.5\n0\n", 2, "job 0: the number of operations must be >= 1, got 0"),
        ("1 3 1.5\n1 4 1 5\n", 2, "job 0 operation 0: the number of machines must be in 1..3"),
        ("1 3 1.5\n1 1 4 5\n", 2, "job 0 operation 0: machine 4 is out of range 1..3"),
        ("1 3 1.5\n1 1 0 5\n", 2, "machine 0 is out of range 1..3 (FJSPLIB machines are numbered"),
        ("1 3 1.5\n1 2 1 5 1 6\n", 2, "job 0 operation 0: machine 1 is listed twice"),
        ("1 3 1.5\n1 1 1 -5\n", 2, "job 0 operation 0: negative processing time -5 on machine 1"),
        ("1 3 1.5\n2 1 1 5\n", 2, "the line ends where job 0 operation 1's number of machines is"),
        ("1 3 1.5\n1 2 1 5 2\n", 2, "operation 0's processing time on machine 2"),
        ("1 3 1.5\n1 1 1 5 9\n", 2, "job 0: 1 extra numbers after its 1 operations"),
        ("1 3 1.5\n1 1 1 x\n", 2, "job 0 operation 0's processing time on machine 1 'x' is not"),
        ("1 3 1.5\n1 1 y 5\n", 2, "job 0 operation 0's machine 'y' is not an integer (number 3"),
        ("1 3 1.5\n1 1 1 5\n1 1 1 5\n", 3, "unexpected extra row after the 1 job lines"),
        ("1 3 1.5\n1 1 1 9999999999999\n", 2, "machine 1 '9999999999999' is too large"),
        ("1 3 1.5\n1x 1 1 5\n", 2, "job 0's number of operations '1x' is not an integer"),
        ("1 3 1.5\n1 1 1 2000000000\n", 2, "processing time 2,000,000,000 on machine 1 exceeds"),
    ],
)
def test_malformed_files_name_the_file_line_and_field(tmp_path, text, line, problem):
    path = tmp_path / "bad.fjs"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InstanceFormatError) as caught:
        read_instance(path)
    error = caught.value
    assert error.source == str(path)
    assert error.line == line
    assert problem in error.problem
    assert str(error).startswith(str(path) if line is None else f"{path}, line {line}: ")


def test_sizes_are_checked_before_anything_is_allocated():
    huge_jobs = f"{LIMITS.max_jobs + 1} 3\n"
    with pytest.raises(InstanceFormatError, match=r"line 1: the header declares .* jobs"):
        parse_fjsplib(huge_jobs)
    huge_machines = f"1 {LIMITS.max_machines + 1} 1\n1 1 1 5\n"
    with pytest.raises(InstanceFormatError, match=r"line 1: the header declares .* machines"):
        parse_fjsplib(huge_machines)
    many = f"1 3\n{LIMITS.max_operations_per_job + 1} 1 1 5\n"
    with pytest.raises(InstanceFormatError, match=r"line 2: job 0: .* operations; the limit"):
        parse_fjsplib(many)


def test_bundled_brandimarte_sizes_match_the_published_table():
    for name, shape in BRANDIMARTE.items():
        instance = load_instance(name)
        assert isinstance(instance, FlexibleJobShopInstance)
        assert (instance.n_jobs, instance.n_machines, instance.n_operations) == shape, name


def test_bundled_names_and_ranges():
    names = flexible_instance_names()
    assert len(names) == 10 + 3 * 66
    assert len(instance_names()) == 162  # the job-shop list is unchanged
    assert set(names).isdisjoint(instance_names())
    for data in ("edata", "rdata", "vdata"):
        assert {f"hurink_{data}_{short}" for short in HURINK} <= set(names)
    assert instance_names_from_range("mk01-mk10") == list(BRANDIMARTE)
    assert instance_names_from_range("MK1-3, hurink_rdata_la39-40") == [
        "mk01",
        "mk02",
        "mk03",
        "hurink_rdata_la39",
        "hurink_rdata_la40",
    ]
    assert instance_names_from_range("hurink_edata_orb1-hurink_edata_orb3")[-1] == (
        "hurink_edata_orb03"
    )
    assert resolve_instance("MK01") == load_instance("mk01")
    with pytest.raises(LookupError, match="did you mean mk10"):
        load_instance("mk11")


def test_hurink_instances_are_the_classic_ones_with_alternatives():
    """Hurink et al. keep each job shop's machine and time and add machines of equal time."""
    checked = 0
    for name in flexible_instance_names():
        if not name.startswith("hurink_"):
            continue
        short = name.split("_", 2)[2]
        if short.startswith("car"):
            continue  # Carlier's instances are not bundled as job shops
        classic = load_instance(CLASSIC.get(short, short))
        flexible = load_instance(name)
        assert isinstance(flexible, FlexibleJobShopInstance)
        assert (flexible.n_jobs, flexible.n_machines) == (classic.n_jobs, classic.n_machines)
        for job, routing in enumerate(flexible.operations):
            assert len(routing) == classic.operations_per_job, name
            for step, alternatives in enumerate(routing):
                machine, time = classic.machines[job][step], classic.durations[job][step]
                assert (machine, time) in alternatives, (name, job, step)
                assert {t for _, t in alternatives} == {time}, (name, job, step)
        checked += 1
    assert checked == 3 * (66 - 8)


def test_flexibility_of_the_three_hurink_sets():
    edata = np.mean([load_instance(f"hurink_edata_{s}").flexibility for s in HURINK])
    rdata = np.mean([load_instance(f"hurink_rdata_{s}").flexibility for s in HURINK])
    vdata = np.mean([load_instance(f"hurink_vdata_{s}").flexibility for s in HURINK])
    assert 1.1 < edata < 1.2 < rdata < 2.1 < vdata  # 1.15, 2 and m/2 machines per operation


def test_bounds_file_is_complete_and_consistent():
    data = resources.files("shopfloor.instances") / "data" / "fjsplib"
    rows = list(csv.DictReader(io.StringIO((data / "bounds.csv").read_text(encoding="utf-8"))))
    files = {
        entry.name.removesuffix(".fjs") for entry in data.iterdir() if entry.name.endswith(".fjs")
    }
    assert files == {row["name"] for row in rows} == set(flexible_instance_names())
    for row in rows:
        instance = load_instance(row["name"])
        assert (instance.n_jobs, instance.n_machines) == (
            int(row["n_jobs"]),
            int(row["n_machines"]),
        )
        assert row["reference"]
        has_bound = bool(row["lower_bound"] or row["upper_bound"])
        assert bool(row["bound_source"]) == has_bound, row["name"]  # every bound is cited
        if instance.upper_bound is not None:
            assert instance.lower_bound_trivial() <= instance.upper_bound, row["name"]
        if row["optimum"]:
            assert instance.optimum == instance.lower_bound == instance.upper_bound
    assert load_instance("mk01").optimum == 40
    assert (load_instance("mk02").lower_bound, load_instance("mk02").upper_bound) == (24, 26)
    assert load_instance("hurink_rdata_la27").upper_bound is None  # its sources contradict


def test_jobshop_env_schedules_a_flexible_instance_with_random_actions():
    env = gym.make("shopfloor/JobShop-v0", instance="mk01")
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    steps, done, info = 0, False, {}
    while not done:
        mask = env.unwrapped.action_masks()  # type: ignore[attr-defined]
        _, _, terminated, truncated, info = env.step(int(rng.choice(np.flatnonzero(mask))))
        done = terminated or truncated
        steps += 1
    env.close()
    assert steps <= 55
    assert info["makespan"] >= load_instance("mk01").optimum


def test_simulate_reads_an_fjsplib_file(tmp_path, capsys):
    from shopfloor.cli import main

    path = tmp_path / "mk02.fjs"
    write_fjsplib(load_instance("mk02"), path)
    assert main(["simulate", str(path), "--json"]) in (0, None)
    out = capsys.readouterr().out
    assert re.search(r'"jobs_completed": 10\b', out)
    assert main(["simulate", "mk01", "--policy", "spt", "--json"]) in (0, None)
    assert '"jobs_completed": 10' in capsys.readouterr().out
