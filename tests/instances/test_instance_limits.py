"""Instance files and generated instances within the limits; beyond them one clear error.

A 23-byte file declaring 10^9 jobs (or machines) is refused on its size line, before
anything is read or allocated for it; limits are tested at the boundary.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from shopfloor.instances import (
    InstanceFormatError,
    JobShopInstance,
    generate_instance,
    parse_orlibrary,
    parse_taillard,
    read_instance,
)
from shopfloor.instances._parsers import MAX_INSTANCE_CHARS
from shopfloor.sim import LIMITS


def _refused(call, pattern: str) -> str:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    with pytest.raises(ValueError, match=pattern) as info:
        call()
    assert time.perf_counter() - started < 2.0
    assert "\n" not in str(info.value)
    return str(info.value)


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("1000000000 3\n0 1 1 2\n", r"line 1: the size line declares 1,000,000,000 jobs; the"),
        ("1 1000000000\n0 5\n", r"line 1: the size line declares 1,000,000,000 machines"),
        ("100001 1\n0 5\n", r"100,001 jobs; the limit is 100,000"),
        ("1 10001\n0 5\n", r"10,001 machines; the limit is 10,000"),
    ],
)
def test_declared_sizes_beyond_the_limits_are_refused(
    tmp_path: Path, text: str, pattern: str
) -> None:
    path = tmp_path / "huge.txt"
    path.write_text(text, encoding="utf-8")
    assert len(text) <= 23
    message = _refused(lambda: read_instance(path), pattern)
    assert message.startswith(str(path))


def test_the_taillard_header_sizes_are_checked_too() -> None:
    text = "Nb of jobs, Nb of Machines\n5 99999999\n"
    _refused(lambda: parse_taillard(text), r"line 2: the size line declares 99,999,999 machines")


def test_sizes_at_the_limit_load() -> None:
    machines = parse_orlibrary(f"1 {LIMITS.max_machines}\n0 5\n")
    assert machines.n_machines == LIMITS.max_machines
    jobs = generate_instance(LIMITS.max_jobs, 1, seed=0, high=1)
    assert jobs.n_jobs == LIMITS.max_jobs
    operations = LIMITS.max_operations // 100
    assert generate_instance(100, operations, seed=0, high=1).n_operations == LIMITS.max_operations


def test_generated_sizes_beyond_the_limits_are_refused_before_drawing() -> None:
    _refused(lambda: generate_instance(10**9, 10**9, seed=0), r"1,000,000,000 jobs")
    _refused(lambda: generate_instance(1, LIMITS.max_machines + 1, seed=0), r"10,001 machines")
    _refused(
        lambda: generate_instance(101, LIMITS.max_operations // 100, seed=0),
        r"make 404,000 operations; the limit is 400,000",
    )
    _refused(lambda: generate_instance(2, 2, seed=0, high=10**9 + 1), r"high must be at most")


def test_durations_are_bounded() -> None:
    assert parse_orlibrary("1 1\n0 1000000000\n").durations == ((10**9,),)
    _refused(lambda: parse_orlibrary("1 1\n0 1000000001\n"), r"a duration of 1,000,000,001")
    _refused(
        lambda: parse_orlibrary("1 1\n0 " + "9" * 5000 + "\n"),
        r"line 2: '99999999999999999999'\.\.\. is too large \(number 2 on the line",
    )


def test_a_huge_token_is_cut_in_the_message() -> None:
    message = _refused(lambda: parse_orlibrary("1 1\n0 " + "x" * 100_000 + "\n"), "not an integer")
    assert len(message) < 200


def test_an_instance_built_in_code_is_bounded_before_it_is_copied() -> None:
    class Rows(list):  # type: ignore[type-arg]
        """Claims 10^9 rows without holding them."""

        def __len__(self) -> int:
            return 10**9

    _refused(
        lambda: JobShopInstance("big", durations=Rows([(1,)]), machines=((0,),)),
        r"instance 'big': 1,000,000,000 jobs; the limit is 100,000",
    )


def test_a_file_over_the_size_limit_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_text("1 1\n0 5\n" + "#" * (MAX_INSTANCE_CHARS - 8) + "\n", encoding="utf-8")
    with pytest.raises(InstanceFormatError, match=r"more than 16,777,216 characters"):
        read_instance(path)
    path.write_text("1 1\n0 5\n" + "#" * (MAX_INSTANCE_CHARS - 9) + "\n", encoding="utf-8")
    assert read_instance(path).n_jobs == 1
