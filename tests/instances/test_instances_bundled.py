"""The bundled benchmark data: every instance loads, has its shape and sane bounds."""

import csv
import io
import subprocess
import sys
from importlib import resources

import pytest

from shopfloor.instances import (
    JobShopInstance,
    UnknownInstanceError,
    instance_names,
    instance_names_from_range,
    instance_reference,
    load_instance,
    resolve_instance,
    write_orlibrary,
)


def _family(prefix: str, first: int, last: int, width: int = 2) -> list[str]:
    return [f"{prefix}{number:0{width}d}" for number in range(first, last + 1)]


# (names, n_jobs, n_machines) from the original papers.
SHAPES = [
    (["ft06"], 6, 6),
    (["ft10"], 10, 10),
    (["ft20"], 20, 5),
    (_family("la", 1, 5), 10, 5),
    (_family("la", 6, 10), 15, 5),
    (_family("la", 11, 15), 20, 5),
    (_family("la", 16, 20), 10, 10),
    (_family("la", 21, 25), 15, 10),
    (_family("la", 26, 30), 20, 10),
    (_family("la", 31, 35), 30, 10),
    (_family("la", 36, 40), 15, 15),
    (_family("abz", 5, 6, width=1), 10, 10),
    (_family("abz", 7, 9, width=1), 20, 15),
    (_family("orb", 1, 10), 10, 10),
    (_family("swv", 1, 5), 20, 10),
    (_family("swv", 6, 10), 20, 15),
    (_family("swv", 11, 20), 50, 10),
    (_family("yn", 1, 4, width=1), 20, 20),
    (_family("ta", 1, 10), 15, 15),
    (_family("ta", 11, 20), 20, 15),
    (_family("ta", 21, 30), 20, 20),
    (_family("ta", 31, 40), 30, 15),
    (_family("ta", 41, 50), 30, 20),
    (_family("ta", 51, 60), 50, 15),
    (_family("ta", 61, 70), 50, 20),
    (_family("ta", 71, 80), 100, 20),
]
EXPECTED_SHAPE = {name: (n, m) for names, n, m in SHAPES for name in names}

# Proven optima from the literature.
KNOWN_OPTIMA = {
    "ft06": 55,
    "ft10": 930,
    "ft20": 1165,
    "la01": 666,
    "la40": 1222,
    "abz5": 1234,
    "orb01": 1059,
    "ta01": 1231,
}


def test_the_bundled_set_is_complete():
    assert set(instance_names()) == set(EXPECTED_SHAPE)
    assert len(instance_names()) == 162
    assert instance_names() == sorted(instance_names())


def test_every_data_file_has_a_bounds_row_and_back():
    data = resources.files("shopfloor.instances") / "data"
    files = {
        entry.name.removesuffix(".txt") for entry in data.iterdir() if entry.name.endswith(".txt")
    }
    rows = list(csv.DictReader(io.StringIO((data / "bounds.csv").read_text(encoding="utf-8"))))
    assert files == {row["name"] for row in rows} == set(instance_names())
    assert list(rows[0]) == [
        "name",
        "n_jobs",
        "n_machines",
        "lower_bound",
        "upper_bound",
        "optimum",
        "reference",
    ]
    for row in rows:
        assert (int(row["n_jobs"]), int(row["n_machines"])) == EXPECTED_SHAPE[row["name"]]
        assert row["reference"]


@pytest.mark.parametrize("name", sorted(EXPECTED_SHAPE))
def test_bundled_instance_loads_with_its_shape_and_consistent_bounds(name):
    instance = load_instance(name)
    assert isinstance(instance, JobShopInstance)
    assert instance.name == name
    assert (instance.n_jobs, instance.n_machines) == EXPECTED_SHAPE[name]
    assert instance.n_operations == instance.n_jobs * instance.n_machines
    # classic job shop: every job visits every machine exactly once
    for row in instance.machines:
        assert sorted(row) == list(range(instance.n_machines))
    assert all(d >= 0 for row in instance.durations for d in row)
    assert instance.lower_bound is not None
    assert instance.upper_bound is not None
    assert instance.lower_bound <= instance.upper_bound
    # a real check of the data: no schedule beats the trivial bound
    assert instance.lower_bound_trivial() <= instance.lower_bound <= instance.upper_bound
    if instance.optimum is not None:
        assert instance.optimum == instance.upper_bound == instance.lower_bound
    # the file on disk is exactly what write_orlibrary produces
    data = resources.files("shopfloor.instances") / "data" / f"{name}.txt"
    assert write_orlibrary(instance) == data.read_text(encoding="utf-8")


@pytest.mark.parametrize(("name", "optimum"), sorted(KNOWN_OPTIMA.items()))
def test_known_optima(name, optimum):
    instance = load_instance(name)
    assert instance.optimum == optimum
    assert instance.lower_bound == instance.upper_bound == optimum


def test_open_instances_have_no_optimum_but_a_gap():
    ta41 = load_instance("ta41")
    assert ta41.optimum is None
    assert ta41.lower_bound is not None
    assert ta41.upper_bound is not None
    assert ta41.lower_bound < ta41.upper_bound


def test_ft06_first_job_matches_the_published_data():
    ft06 = load_instance("ft06")
    assert ft06.machines[0] == (2, 0, 1, 3, 5, 4)
    assert ft06.durations[0] == (1, 3, 6, 7, 3, 6)
    assert ft06.machines[5] == (1, 3, 5, 0, 4, 2)
    assert ft06.durations[5] == (3, 3, 9, 10, 4, 1)


def test_ta01_first_job_matches_taillards_file():
    ta01 = load_instance("ta01")
    assert ta01.durations[0] == (94, 66, 10, 53, 26, 15, 65, 82, 10, 27, 93, 92, 96, 70, 83)
    machines_1_based = (7, 13, 5, 8, 4, 3, 11, 12, 9, 15, 10, 14, 6, 1, 2)
    assert ta01.machines[0] == tuple(m - 1 for m in machines_1_based)


def test_names_are_case_insensitive_and_padding_tolerant():
    ft06 = load_instance("ft06")
    assert load_instance("FT06") is ft06  # cached: loaded once
    assert load_instance(" Ft06.txt ") is ft06
    assert load_instance("ta1").name == "ta01"
    assert load_instance("yn01").name == "yn1"


def test_unknown_name_suggests_close_names():
    with pytest.raises(
        UnknownInstanceError, match=r"no bundled instance 'ft07'.*did you mean .*ft06"
    ):
        load_instance("ft07")
    with pytest.raises(UnknownInstanceError, match=r"'orb1000'.*orb"):
        load_instance("orb1000")
    with pytest.raises(LookupError, match="instance_names"):
        load_instance("nonsense")


def test_instance_reference_cites_the_source():
    assert "Taillard" in instance_reference("ta01")
    assert "Lawrence" in instance_reference("LA01")
    assert "Muth" in instance_reference("ft06")


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("ta01-ta10", _family("ta", 1, 10)),
        ("ft06,la01-la05", ["ft06", *_family("la", 1, 5)]),
        (" FT06 , la01 - la03 ", ["ft06", "la01", "la02", "la03"]),
        ("la01-05", _family("la", 1, 5)),
        ("ft06-ft20", ["ft06", "ft10", "ft20"]),
        ("yn1-yn4", ["yn1", "yn2", "yn3", "yn4"]),
        ("ta71-ta80,ta75,ft10", [*_family("ta", 71, 80), "ft10"]),
        ("abz7", ["abz7"]),
        ("", []),
    ],
)
def test_instance_names_from_range(spec, expected):
    assert instance_names_from_range(spec) == expected


@pytest.mark.parametrize(
    ("spec", "error", "match"),
    [
        ("ta10-ta01", ValueError, "counts down"),
        ("ta01-la05", ValueError, "mixes prefixes 'ta' and 'la'"),
        ("ta01--ta05", ValueError, "bad instance range"),
        ("ta01-ta99", UnknownInstanceError, "'ta99'"),
        ("ft06,ft07", UnknownInstanceError, "did you mean .*ft06"),
    ],
)
def test_instance_names_from_range_errors(spec, error, match):
    with pytest.raises(error, match=match):
        instance_names_from_range(spec)


def test_resolve_instance_by_name_or_path(tmp_path, monkeypatch):
    assert resolve_instance("FT10") is load_instance("ft10")
    path = tmp_path / "mine.txt"
    path.write_text("2 2\n0 1 1 2\n1 3 0 4\n")
    for spec in (path, str(path)):
        instance = resolve_instance(spec)
        assert instance.name == "mine"
        assert instance.machines == ((0, 1), (1, 0))
    # a bare name that is not bundled but is a file in the working directory
    monkeypatch.chdir(tmp_path)
    (tmp_path / "custom").write_text("1 1\n0 5\n")
    assert resolve_instance("custom").durations == ((5,),)
    # a bare bundled name wins over a file of that name; a path does not
    (tmp_path / "ft06").write_text("1 1\n0 5\n")
    assert resolve_instance("ft06").n_jobs == 6
    assert resolve_instance("./ft06").n_jobs == 1


def test_resolve_instance_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"missing\.txt"):
        resolve_instance(tmp_path / "missing.txt")
    with pytest.raises(FileNotFoundError, match="no instance file"):
        resolve_instance("nowhere/ta01.txt")
    with pytest.raises(UnknownInstanceError, match="did you mean la01"):
        resolve_instance("la001x")


def test_importing_the_package_reads_no_files():
    code = (
        "import sys\n"
        "opened = []\n"
        "sys.addaudithook(lambda event, args: opened.append(str(args[0]))"
        " if event == 'open' else None)\n"
        "import shopfloor.instances\n"
        "data = [p for p in opened if 'instances' in p and ('data' in p or p.endswith('.csv'))]\n"
        "assert not data, data\n"
        "from shopfloor.instances import _bundled\n"
        "assert _bundled._bounds_table.cache_info().currsize == 0\n"
        "shopfloor.instances.load_instance('ft06')\n"
        "assert any(p.endswith('ft06.txt') for p in opened), opened[-5:]\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
