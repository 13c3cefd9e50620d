"""OR-Library and Taillard text formats: parsing, detection, writing, and clear errors."""

import dataclasses
import pickle
import re

import pytest

from shopfloor.instances import (
    InstanceFormatError,
    JobShopInstance,
    detect_format,
    generate_instance,
    load_instance,
    parse_orlibrary,
    parse_taillard,
    read_instance,
    write_orlibrary,
)

TAILLARD_2X2 = """\
Nb of jobs, Nb of Machines, Time seed, Machine seed, Upper bound, Lower bound
           2            2           1            2          30          25
Times
 10 20
  5 15
Machines
  2  1
  1  2
"""


def _without_bounds(instance: JobShopInstance) -> JobShopInstance:
    return dataclasses.replace(instance, lower_bound=None, upper_bound=None, optimum=None)


def _as_taillard(instance: JobShopInstance, header: bool = True) -> str:
    """Taillard's layout, as in his tai*.txt files (machines from 1)."""
    lines = []
    if header:
        lines += [
            "Nb of jobs, Nb of Machines, Time seed, Machine seed, Upper bound, Lower bound",
            f" {instance.n_jobs} {instance.n_machines} 840612802 398197754 "
            f"{instance.upper_bound} {instance.lower_bound}",
            "Times",
        ]
    else:
        lines.append(f"{instance.n_jobs} {instance.n_machines}")
    lines += [" ".join(f"{d:3d}" for d in row) for row in instance.durations]
    if header:
        lines.append("Machines")
    lines += [" ".join(f"{m + 1:3d}" for m in row) for row in instance.machines]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("name", ["ft06", "la01", "ta01", "ta80", "abz5", "yn1"])
def test_write_then_parse_round_trips(name):
    instance = load_instance(name)
    parsed = parse_orlibrary(write_orlibrary(instance), name=name)
    assert parsed == _without_bounds(instance)


def test_round_trip_of_generated_and_partial_instances(tmp_path):
    for instance in (
        generate_instance(7, 4, seed=3),
        generate_instance(5, 6, seed=4, n_operations=3),
        generate_instance(3, 12, seed=5, n_operations=2, low=100, high=1000),
    ):
        path = tmp_path / f"{instance.name}.txt"
        text = write_orlibrary(instance, path)
        assert path.read_text() == text
        assert read_instance(path) == instance
        assert read_instance(path).n_machines == instance.n_machines


def test_orlibrary_with_description_lines_and_a_following_instance():
    text = """\
 +++++++++++++++++++++++++++++

 instance ft06

 +++++++++++++++++++++++++++++
 Fisher and Thompson 6x6 instance, alternate name (mt06)
 6 6
 2  1  0  3  1  6  3  7  5  3  4  6
 1  8  2  5  4 10  5 10  0 10  3  4
 2  5  3  4  5  8  0  9  1  1  4  7
 1  5  0  5  2  5  3  3  4  8  5  9
 2  9  1  3  4  5  5  4  0  3  3  1
 1  3  3  3  5  9  0 10  4  4  2  1
 +++++++++++++++++++++++++++++

 instance ft10
"""
    assert detect_format(text) == "orlibrary"
    assert parse_orlibrary(text, name="ft06") == _without_bounds(load_instance("ft06"))


def test_comments_and_blank_lines_are_ignored():
    text = "# a comment\n\n2 2\n# job 0\n0 1 1 2\n\n1 3 0 4\n"
    instance = parse_orlibrary(text)
    assert instance.durations == ((1, 2), (3, 4))
    assert instance.machines == ((0, 1), (1, 0))
    assert instance.name == "instance"


def test_taillard_2x2_by_hand():
    instance = parse_taillard(TAILLARD_2X2, name="tiny")
    assert instance.name == "tiny"
    assert instance.durations == ((10, 20), (5, 15))
    assert instance.machines == ((1, 0), (0, 1))  # 1-based in the file
    assert instance.upper_bound == 30
    assert instance.lower_bound == 25
    assert instance.optimum is None
    assert detect_format(TAILLARD_2X2) == "taillard"


def test_taillards_own_layout_of_ta01_gives_the_bundled_ta01(tmp_path):
    ta01 = load_instance("ta01")
    path = tmp_path / "tai15_15.txt"
    # a collection file: only the first instance is read
    path.write_text(_as_taillard(ta01) + _as_taillard(load_instance("ta02")))
    parsed = read_instance(path, name="ta01")
    assert parsed == dataclasses.replace(ta01, optimum=None)


@pytest.mark.parametrize("name", ["ft06", "la01", "ta01"])
def test_plain_taillard_variant_is_detected(tmp_path, name):
    instance = load_instance(name)
    text = _as_taillard(instance, header=False)
    assert detect_format(text) == "taillard"
    path = tmp_path / f"{name}.txt"
    path.write_text(text)
    assert read_instance(path) == _without_bounds(instance)


def test_plain_taillard_2x2_and_odd_machine_counts_are_detected():
    text = "2 2\n10 20\n5 15\n2 1\n1 2\n"
    assert detect_format(text) == "taillard"
    assert parse_taillard(text).machines == ((1, 0), (0, 1))
    text = "1 3\n4 5 6\n3 1 2\n"
    assert detect_format(text) == "taillard"
    assert parse_taillard(text).machines == ((2, 0, 1),)


def test_detect_format_prefers_orlibrary_when_in_doubt():
    assert detect_format("2 2\n0 1 1 2\n1 3 0 4\n") == "orlibrary"
    assert detect_format("2 4\n0 1 1 2\n1 3 0 4\n") == "orlibrary"  # 2 of 4 machines per job
    assert detect_format("") == "orlibrary"
    assert detect_format("just words\n") == "orlibrary"


def test_read_instance_with_an_explicit_format(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("2 2\n10 20\n5 15\n2 1\n1 2\n")
    assert read_instance(path, format="taillard").durations == ((10, 20), (5, 15))
    with pytest.raises(InstanceFormatError, match=r"line 2: machine 10 of operation 0 is out"):
        read_instance(path, format="orlibrary")
    with pytest.raises(ValueError, match="unknown format 'csv'"):
        read_instance(path, format="csv")  # type: ignore[arg-type]


OR_MALFORMED: list[tuple[str, int | None, str]] = [
    ("", None, "file is empty"),
    ("   \n\n", None, "file is empty"),
    ("# nothing here\n", None, "file has only comments"),
    ("a description only\n", None, "no size line 'n_jobs n_machines' found"),
    ("2 2 2\n0 1 1 2\n", 1, "expected the size line 'n_jobs n_machines', got 3 numbers"),
    ("0 2\n", 1, "n_jobs and n_machines must be >= 1"),
    ("2 2\n0 1 1 2\n0 1 1\n", 3, "expected 4 numbers \\(2 machine/duration pairs\\), got 3"),
    ("2 2\n0 1 1 2\n0 1 1 2 1 1\n", 3, "expected 4 numbers .*got 6"),
    ("2 2\n0 1 1 x2\n1 1 0 1\n", 2, "'x2' is not an integer \\(number 4 on the line\\)"),
    ("2 2\n0 1 1 2.5\n1 1 0 1\n", 2, "'2.5' is not an integer"),
    ("2 2\n0 1 2 2\n1 1 0 1\n", 2, "machine 2 of operation 1 is out of range 0..1"),
    ("2 2\n0 1 1 2\n-1 1 0 1\n", 3, "machine -1 of operation 0 is out of range"),
    ("2 2\n0 1 1 2\n1 -4 0 1\n", 3, "negative duration -4 for operation 0"),
    ("2 2\n0 1 1 2\n", 2, "expected 2 job rows after the size line, found 1 \\(the file ends\\)"),
    ("2 2\n0 1 1 2\n+++\n", 3, "expected 2 job rows .*found 1 before '\\+\\+\\+'"),
    ("2 2\n0 1 1 2\n1 1 0 1\n0 1 1 1\n", 4, "unexpected extra row after the 2 job rows"),
]

TAILLARD_MALFORMED: list[tuple[str, int | None, str]] = [
    (TAILLARD_2X2.replace("  2  1\n", "  0  1\n"), 7, "machine 0 of operation 0 .* 1..2 "),
    (TAILLARD_2X2.replace("  1  2\n", "  1  3\n"), 8, "machine 3 of operation 1 .* 1..2 "),
    (TAILLARD_2X2.replace(" 10 20\n", " 10 -20\n"), 4, "negative duration -20 for operation 1"),
    (TAILLARD_2X2.replace(" 10 20\n", " 10 20 30\n"), 4, "expected 2 processing times .*got 3"),
    (TAILLARD_2X2.replace(" 10 20\n", " 10 2O\n"), 4, "'2O' is not an integer"),
    (
        TAILLARD_2X2.replace("  5 15\n", ""),
        5,
        "expected 2 rows of processing times, found 1 before",
    ),
    (
        TAILLARD_2X2.split("\nMachines\n")[0],
        5,
        "expected 2 rows of machines, found 0 \\(the file ends",
    ),
    (TAILLARD_2X2.replace("Times", "Machines"), 3, "expected the 'Times' block"),
    (TAILLARD_2X2 + " 1 2\n", 9, "unexpected extra row after the Machines block"),
    (
        re.sub(r"\n +2 +2 .*\n", "\n 2\n", TAILLARD_2X2),
        2,
        "expected at least n_jobs and n_machines",
    ),
    (TAILLARD_2X2.replace("30          25", "20          25"), 2, "lower bound 25 exceeds upper"),
    ("Nb of jobs, Nb of Machines\n", 1, "the header is not followed by its values"),
]


@pytest.mark.parametrize(("text", "line", "problem"), OR_MALFORMED + TAILLARD_MALFORMED)
def test_malformed_files_name_the_file_and_line(tmp_path, text, line, problem):
    path = tmp_path / "bad_instance.txt"
    path.write_text(text)
    where = re.escape(str(path)) + (f", line {line}" if line is not None else "")
    with pytest.raises(InstanceFormatError, match=f"^{where}: {problem}") as caught:
        read_instance(path)
    assert caught.value.source == str(path)
    assert caught.value.line == line
    assert isinstance(caught.value, ValueError)


def test_parse_functions_name_the_source():
    with pytest.raises(InstanceFormatError, match=r"^<string>, line 2: '\?'"):
        parse_orlibrary("1 1\n0 ?\n")
    with pytest.raises(InstanceFormatError, match=r"^jobs.txt, line 3: machine 0"):
        parse_taillard("1 1\n5\n0\n", source="jobs.txt")


def test_non_text_file(tmp_path):
    path = tmp_path / "binary.txt"
    path.write_bytes(b"\xff\xfe\x00\x01")
    with pytest.raises(InstanceFormatError, match=f"^{re.escape(str(path))}: not a UTF-8 text"):
        read_instance(path)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_instance(tmp_path / "nope.txt")


def test_format_error_pickles():
    error = InstanceFormatError("f.txt", 3, "bad")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.source, copy.line, copy.problem, str(copy)) == (
        "f.txt",
        3,
        "bad",
        "f.txt, line 3: bad",
    )


def test_repeated_machines_in_a_job_are_accepted():
    instance = parse_orlibrary("1 2\n0 1 0 2\n")
    assert instance.machines == ((0, 0),)
    assert instance.n_machines == 2
