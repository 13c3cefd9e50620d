"""Reading and writing the two text formats job-shop benchmarks are published in.

**OR-Library** (Beasley 1990; the format of ``jobshop1.txt``): a size line
``n_jobs n_machines``, then one line per job listing ``machine duration`` pairs in
routing order, machines numbered from 0. Description lines may come before the size
line (OR-Library puts the instance name and its origin there) and are skipped.

**Taillard** (Taillard 1993, "Benchmarks for basic scheduling problems", EJOR 64):
a header line ``Nb of jobs, Nb of Machines, Time seed, Machine seed, Upper bound,
Lower bound`` and a line with those values, then a ``Times`` block (one row of
``n_machines`` processing times per job) and a ``Machines`` block (one row of machines
per job, numbered from 1). A plain variant without the header and keywords (a size
line ``n_jobs n_machines``, ``n_jobs`` rows of times, ``n_jobs`` rows of machines, as
used by JSSEnv and L2D) is read too.

In both formats blank lines and lines starting with ``#`` are ignored, and a file may
go on after the instance with non-numeric lines (the next instance's header in a
collection file): only the first instance is read. Anything malformed raises
:class:`InstanceFormatError` naming the file, the line and the problem.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from shopfloor.instances._instance import JobShopInstance, check_size

if TYPE_CHECKING:
    from shopfloor.instances._flexible import FlexibleJobShopInstance

InstanceFormat = Literal["auto", "orlibrary", "taillard", "fjsplib"]
"""A text format: ``"orlibrary"``, ``"taillard"``, ``"fjsplib"`` (flexible job shops, see
:func:`~shopfloor.instances.parse_fjsplib`), or ``"auto"`` to detect it."""

_INTEGER = re.compile(r"[+-]?\d+")
_DEFAULT_SOURCE = "<string>"

MAX_INSTANCE_CHARS = 16 * 1024 * 1024
"""Longest instance file read, in characters (16 MiB; the largest bundled one is 20 KB)."""

_MAX_DIGITS = 12
"""Most digits of a number in an instance file (sizes and times are far smaller)."""


def _shown(text: str, limit: int = 40) -> str:
    """``repr(text)``, cut to about ``limit`` characters."""
    return repr(text) if len(text) <= limit else repr(text[:limit]) + "..."


class InstanceFormatError(ValueError):
    """A job-shop instance text is malformed.

    Attributes:
        source: The file (or ``"<string>"``) the text came from.
        line: 1-based line number of the problem, or ``None`` for the whole file.
        problem: What is wrong.
    """

    def __init__(self, source: str, line: int | None, problem: str) -> None:
        self.source = source
        self.line = line
        self.problem = problem
        where = source if line is None else f"{source}, line {line}"
        super().__init__(f"{where}: {problem}")

    def __reduce__(self) -> tuple[type[InstanceFormatError], tuple[str, int | None, str]]:
        return (type(self), (self.source, self.line, self.problem))


@dataclass(frozen=True)
class _Line:
    """A non-blank, non-comment line of an instance text."""

    number: int
    text: str
    tokens: tuple[str, ...]

    @property
    def is_numeric(self) -> bool:
        return all(_INTEGER.fullmatch(token) for token in self.tokens)

    def keyword(self) -> str | None:
        """``"times"``/``"machines"`` for a Taillard block keyword line, else ``None``."""
        word = self.text.lower().rstrip(":")
        return word if word in ("times", "machines") else None


class _Reader:
    """The content lines of one text, with error helpers that know the source."""

    def __init__(self, text: str, source: str) -> None:
        self.source = source
        self.lines: list[_Line] = []
        all_lines = text.splitlines()
        self.last_line_number = max(len(all_lines), 1)
        for number, raw in enumerate(all_lines, start=1):
            stripped = raw.strip()
            if stripped and not stripped.startswith("#"):
                self.lines.append(_Line(number, stripped, tuple(stripped.split())))
        if not self.lines:
            problem = "file is empty" if not text.strip() else "file has only comments"
            raise self.error(None, problem)

    def error(self, line: _Line | int | None, problem: str) -> InstanceFormatError:
        number = line.number if isinstance(line, _Line) else line
        return InstanceFormatError(self.source, number, problem)

    def integers(self, line: _Line) -> list[int]:
        """The numbers on a data line; a token that is not an integer is an error."""
        for position, token in enumerate(line.tokens, start=1):
            if not _INTEGER.fullmatch(token):
                raise self.error(
                    line, f"{_shown(token)} is not an integer (number {position} on the line)"
                )
            if len(token.lstrip("+-")) > _MAX_DIGITS:
                raise self.error(
                    line,
                    f"{_shown(token, 20)} is too large (number {position} on the line; at most "
                    f"{_MAX_DIGITS} digits)",
                )
        return [int(token) for token in line.tokens]

    def size_line(self) -> tuple[int, int, int]:
        """Find the ``n_jobs n_machines`` line after any description lines.

        Returns:
            The index of the size line in ``lines``, ``n_jobs`` and ``n_machines``.
        """
        for index, line in enumerate(self.lines):
            if not line.is_numeric:
                continue  # a description line
            values = self.integers(line)
            if len(values) != 2:
                raise self.error(
                    line,
                    f"expected the size line 'n_jobs n_machines', got {len(values)} numbers",
                )
            n_jobs, n_machines = values
            if n_jobs < 1 or n_machines < 1:
                raise self.error(line, f"n_jobs and n_machines must be >= 1, got {values}")
            try:
                check_size(n_jobs, 1, n_machines)
            except ValueError as exc:
                raise self.error(line, f"the size line declares {exc}") from None
            return index, n_jobs, n_machines
        raise self.error(None, "no size line 'n_jobs n_machines' found")

    def check_end(self, index: int, what: str) -> None:
        """After the instance only non-numeric lines (e.g. the next header) may follow."""
        if index < len(self.lines) and self.lines[index].is_numeric:
            raise self.error(self.lines[index], f"unexpected extra row after {what}")

    def build(
        self,
        name: str,
        durations: list[tuple[int, ...]],
        machines: list[tuple[int, ...]],
        n_machines: int,
        lower_bound: int | None = None,
        upper_bound: int | None = None,
    ) -> JobShopInstance:
        try:
            return JobShopInstance(
                name=name,
                durations=tuple(durations),
                machines=tuple(machines),
                lower_bound=lower_bound,
                upper_bound=upper_bound,
                machine_count=n_machines,
            )
        except ValueError as exc:
            raise self.error(None, str(exc)) from exc


def parse_orlibrary(
    text: str, *, name: str = "instance", source: str = _DEFAULT_SOURCE
) -> JobShopInstance:
    """Parse an instance in OR-Library format.

    Every job row must hold the same number of ``machine duration`` pairs, normally
    ``n_machines`` of them (fewer is read as a partial routing).

    Args:
        text: The file contents.
        name: Name of the instance.
        source: Where the text came from, for error messages.

    Returns:
        The instance, without bounds (the format has none).

    Raises:
        InstanceFormatError: The text is malformed.
    """
    reader = _Reader(text, source)
    size_index, n_jobs, n_machines = reader.size_line()
    rows: list[tuple[_Line, list[int]]] = []
    index = size_index + 1
    while len(rows) < n_jobs:
        if index >= len(reader.lines):
            raise reader.error(
                reader.last_line_number,
                f"expected {n_jobs} job rows after the size line, found {len(rows)} "
                "(the file ends)",
            )
        line = reader.lines[index]
        if not line.is_numeric and not any(_INTEGER.fullmatch(t) for t in line.tokens):
            raise reader.error(
                line,
                f"expected {n_jobs} job rows after the size line, found {len(rows)} "
                f"before {_shown(line.text)}",
            )
        rows.append((line, reader.integers(line)))
        index += 1
    full = 2 * n_machines
    reference = len(rows[0][1])
    if (
        reference == 0
        or reference % 2
        or reference > full
        or any(len(values) == full for _, values in rows)
    ):
        reference = full
    for line, values in rows:
        if len(values) != reference:
            raise reader.error(
                line,
                f"expected {reference} numbers ({reference // 2} machine/duration pairs), "
                f"got {len(values)}",
            )
    machines: list[tuple[int, ...]] = []
    durations: list[tuple[int, ...]] = []
    for line, values in rows:
        machine_row, duration_row = values[0::2], values[1::2]
        for operation, (machine, duration) in enumerate(
            zip(machine_row, duration_row, strict=True)
        ):
            if not 0 <= machine < n_machines:
                raise reader.error(
                    line,
                    f"machine {machine} of operation {operation} is out of range "
                    f"0..{n_machines - 1} (OR-Library machines are numbered from 0)",
                )
            if duration < 0:
                raise reader.error(line, f"negative duration {duration} for operation {operation}")
        machines.append(tuple(machine_row))
        durations.append(tuple(duration_row))
    reader.check_end(index, f"the {n_jobs} job rows")
    return reader.build(name, durations, machines, n_machines)


def parse_taillard(
    text: str, *, name: str = "instance", source: str = _DEFAULT_SOURCE
) -> JobShopInstance:
    """Parse an instance in Taillard's format (with or without its header).

    The ``Times`` and ``Machines`` keywords are optional; machines are numbered from 1
    and converted to 0-based. When the header names ``Upper bound`` and ``Lower bound``
    columns, their values become the instance's bounds.

    Args:
        text: The file contents.
        name: Name of the instance.
        source: Where the text came from, for error messages.

    Returns:
        The instance.

    Raises:
        InstanceFormatError: The text is malformed.
    """
    reader = _Reader(text, source)
    lines = reader.lines
    bounds: dict[str, int] = {}
    header_index = next(
        (i for i, line in enumerate(lines) if line.text.lower().startswith("nb of jobs")), None
    )
    if header_index is None:
        size_index, n_jobs, n_machines = reader.size_line()
    else:
        size_index = header_index + 1
        if size_index >= len(lines):
            raise reader.error(lines[header_index], "the header is not followed by its values")
        size = lines[size_index]
        values = reader.integers(size)
        if len(values) < 2:
            raise reader.error(size, f"expected at least n_jobs and n_machines, got {values}")
        n_jobs, n_machines = values[0], values[1]
        if n_jobs < 1 or n_machines < 1:
            raise reader.error(size, f"n_jobs and n_machines must be >= 1, got {values[:2]}")
        try:
            check_size(n_jobs, 1, n_machines)
        except ValueError as exc:
            raise reader.error(size, f"the size line declares {exc}") from None
        columns = [c.strip().lower() for c in lines[header_index].text.split(",")]
        for column, value in zip(columns, values, strict=False):
            if column in ("upper bound", "lower bound"):
                bounds[column.replace(" ", "_")] = value
        lower, upper = bounds.get("lower_bound"), bounds.get("upper_bound")
        if lower is not None and upper is not None and lower > upper:
            raise reader.error(size, f"lower bound {lower} exceeds upper bound {upper}")

    times, index = _taillard_block(reader, size_index + 1, "times", n_jobs, n_machines)
    machines_1, index = _taillard_block(reader, index, "machines", n_jobs, n_machines)
    machines: list[tuple[int, ...]] = []
    for line, row in machines_1:
        for operation, machine in enumerate(row):
            if not 1 <= machine <= n_machines:
                raise reader.error(
                    line,
                    f"machine {machine} of operation {operation} is out of range "
                    f"1..{n_machines} (Taillard machines are numbered from 1)",
                )
        machines.append(tuple(machine - 1 for machine in row))
    for line, row in times:
        for operation, duration in enumerate(row):
            if duration < 0:
                raise reader.error(line, f"negative duration {duration} for operation {operation}")
    reader.check_end(index, "the Machines block")
    return reader.build(
        name,
        [tuple(row) for _, row in times],
        machines,
        n_machines,
        lower_bound=bounds.get("lower_bound"),
        upper_bound=bounds.get("upper_bound"),
    )


def _taillard_block(
    reader: _Reader, start: int, keyword: str, n_jobs: int, n_machines: int
) -> tuple[list[tuple[_Line, list[int]]], int]:
    """Read ``n_jobs`` rows of ``n_machines`` numbers, after an optional keyword line.

    Returns:
        The rows with their lines, and the index of the line after the block.
    """
    what = "processing times" if keyword == "times" else "machines"
    lines = reader.lines
    index = start
    if index < len(lines) and lines[index].keyword() is not None:
        if lines[index].keyword() != keyword:
            raise reader.error(
                lines[index],
                f"expected the {keyword.capitalize()!r} block, got {_shown(lines[index].text)}",
            )
        index += 1
    rows: list[tuple[_Line, list[int]]] = []
    while len(rows) < n_jobs:
        if index >= len(lines):
            raise reader.error(
                reader.last_line_number,
                f"expected {n_jobs} rows of {what}, found {len(rows)} (the file ends)",
            )
        line = lines[index]
        if line.keyword() is not None:
            raise reader.error(
                line,
                f"expected {n_jobs} rows of {what}, found {len(rows)} before {_shown(line.text)}",
            )
        values = reader.integers(line)
        if len(values) != n_machines:
            raise reader.error(
                line, f"expected {n_machines} {what} (one per machine), got {len(values)}"
            )
        rows.append((line, values))
        index += 1
    return rows, index


def detect_format(text: str) -> Literal["orlibrary", "taillard", "fjsplib"]:
    """Guess the format of an instance text.

    Taillard's header or ``Times``/``Machines`` keywords mean Taillard. A text that
    reads as FJSPLIB (see :func:`~shopfloor.instances._fjsplib.looks_like_fjsplib`: a
    header with the average machines per operation, or a first row that parses as
    flexible operations) is FJSPLIB. Otherwise the
    first row after the size line decides: ``2 * n_machines`` numbers is OR-Library,
    ``n_machines`` numbers followed by more than ``n_jobs`` rows is the plain Taillard
    variant. Anything unclear is left to the OR-Library parser to report.
    """
    lines = [line.strip() for line in text.splitlines()]
    lines = [line for line in lines if line and not line.startswith("#")]
    for line in lines:
        lowered = line.lower()
        if lowered.startswith("nb of jobs") or lowered.rstrip(":") in ("times", "machines"):
            return "taillard"
    from shopfloor.instances._fjsplib import looks_like_fjsplib

    if looks_like_fjsplib(text):
        return "fjsplib"
    numeric = [all(_INTEGER.fullmatch(t) for t in line.split()) for line in lines]
    if True not in numeric:
        return "orlibrary"
    size_index = numeric.index(True)
    size = lines[size_index].split()
    if len(size) != 2 or any(len(value) > _MAX_DIGITS for value in size):
        return "orlibrary"
    n_jobs, n_machines = int(size[0]), int(size[1])
    data_rows = 0
    for is_numeric in numeric[size_index + 1 :]:
        if not is_numeric:
            break
        data_rows += 1
    if data_rows == 0:
        return "orlibrary"
    first = len(lines[size_index + 1].split())
    if first == n_machines and (n_machines % 2 == 1 or data_rows > n_jobs):
        return "taillard"
    return "orlibrary"


def read_instance_text(path: Path) -> str:
    """The text of an instance file, refused when not UTF-8 or over the size limit.

    Raises:
        FileNotFoundError: There is no such file.
        InstanceFormatError: Not text, or more than ``MAX_INSTANCE_CHARS`` characters.
    """
    source = str(path)
    with path.open(encoding="utf-8") as handle:
        try:
            text = handle.read(MAX_INSTANCE_CHARS + 1)
        except UnicodeDecodeError as exc:
            raise InstanceFormatError(
                source, None, f"not a UTF-8 text file ({exc.reason})"
            ) from None
    if len(text) > MAX_INSTANCE_CHARS:
        raise InstanceFormatError(
            source, None, f"more than {MAX_INSTANCE_CHARS:,} characters (the limit)"
        )
    return text


def read_instance(
    path: str | os.PathLike[str], *, format: InstanceFormat = "auto", name: str | None = None
) -> JobShopInstance | FlexibleJobShopInstance:
    """Read an instance file in OR-Library, Taillard or FJSPLIB format.

    Args:
        path: The file.
        format: ``"orlibrary"``, ``"taillard"``, ``"fjsplib"``, or ``"auto"`` to
            detect it (a ``.fjs`` file is FJSPLIB; otherwise see :func:`detect_format`).
        name: Instance name; the file name without its suffix by default.

    Returns:
        The instance (with bounds when a Taillard header gives them); a
        :class:`~shopfloor.instances.FlexibleJobShopInstance` for FJSPLIB.

    Raises:
        FileNotFoundError: There is no such file.
        InstanceFormatError: The file is malformed or not text.
    """
    path = Path(path)
    source = str(path)
    text = read_instance_text(path)
    if format == "auto":
        if path.suffix.lower() == ".fjs":
            format = "fjsplib"
        else:
            format = detect_format(text) if text.strip() else "orlibrary"
    if name is None:
        name = path.stem
    if format == "orlibrary":
        return parse_orlibrary(text, name=name, source=source)
    if format == "taillard":
        return parse_taillard(text, name=name, source=source)
    if format == "fjsplib":
        from shopfloor.instances._fjsplib import parse_fjsplib

        return parse_fjsplib(text, name=name, source=source)
    raise ValueError(f"unknown format {format!r}; use 'auto', 'orlibrary', 'taillard' or 'fjsplib'")


def write_orlibrary(instance: JobShopInstance, path: str | os.PathLike[str] | None = None) -> str:
    """Write an instance in OR-Library format (machines from 0), columns aligned.

    The format has no place for the name or bounds; :func:`parse_orlibrary` of the
    result gives back the same matrices and number of machines.

    Args:
        instance: The instance.
        path: If given, also write the text to this file.

    Returns:
        The text.
    """
    machine_width = len(str(instance.n_machines - 1))
    duration_width = len(str(max(max(row) for row in instance.durations)))
    lines = [f"{instance.n_jobs} {instance.n_machines}"]
    for machine_row, duration_row in zip(instance.machines, instance.durations, strict=True):
        lines.append(
            "  ".join(
                f"{machine:>{machine_width}} {duration:>{duration_width}}"
                for machine, duration in zip(machine_row, duration_row, strict=True)
            )
        )
    text = "\n".join(lines) + "\n"
    if path is not None:
        Path(path).write_text(text, encoding="utf-8")
    return text
