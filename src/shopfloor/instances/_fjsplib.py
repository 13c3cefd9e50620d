"""Reading and writing the FJSPLIB text format of flexible job-shop instances.

**FJSPLIB** (Brandimarte 1993; the format of the collection of Behnke & Geiger 2012):
a header line ``n_jobs n_machines [average machines per operation]``, then one line
per job: its number of operations, then for every operation in routing order the
number ``k`` of machines that can do it followed by ``k`` pairs ``machine time``,
machines numbered from 1. For example ``2  1 1 5  2 2 4 3 6`` is a job of two
operations: the first on machine 1 for 5, the second on machine 2 for 4 or on
machine 3 for 6. The header's third value is informative (files round it) and is
not checked against the data.

Blank lines and lines starting with ``#`` are ignored, and non-numeric lines may
follow the instance. Anything malformed raises :class:`InstanceFormatError` naming the
file, the line and the field; sizes are checked against :data:`shopfloor.sim.LIMITS`
before anything is allocated.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

from shopfloor.instances._flexible import Alternative, FlexibleJobShopInstance, Operation
from shopfloor.instances._instance import check_size
from shopfloor.instances._parsers import (
    _Line,
    _Reader,
    _shown,
    read_instance_text,
)
from shopfloor.sim import LIMITS

_INTEGER = re.compile(r"[+-]?\d+")
_REAL = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_MAX_DIGITS = 12
_MAX_REAL_CHARS = 32


def _header(reader: _Reader) -> tuple[int, int]:
    """The first content line: ``n_jobs n_machines [average machines per operation]``."""
    line = reader.lines[0]
    fields = ("n_jobs", "n_machines", "average machines per operation")
    if len(line.tokens) not in (2, 3):
        raise reader.error(
            line,
            "expected the header 'n_jobs n_machines [average machines per operation]', got "
            f"{len(line.tokens)} values",
        )
    values: list[int] = []
    for field, token in zip(fields[:2], line.tokens[:2], strict=True):
        if not _INTEGER.fullmatch(token):
            raise reader.error(line, f"{field} {_shown(token)} is not an integer")
        if len(token.lstrip("+-")) > _MAX_DIGITS:
            raise reader.error(line, f"{field} {_shown(token, 20)} is too large")
        value = int(token)
        if value < 1:
            raise reader.error(line, f"{field} must be >= 1, got {value}")
        values.append(value)
    if len(line.tokens) == 3:
        token = line.tokens[2]
        if len(token) > _MAX_REAL_CHARS or not _REAL.fullmatch(token):
            raise reader.error(line, f"{fields[2]} {_shown(token)} is not a number")
        average = float(token)
        if not (math.isfinite(average) and average >= 0):
            raise reader.error(line, f"{fields[2]} must be a number >= 0, got {_shown(token)}")
    n_jobs, n_machines = values
    try:
        check_size(n_jobs, 1, n_machines)
    except ValueError as exc:
        raise reader.error(line, f"the header declares {exc}") from None
    return n_jobs, n_machines


def _job(
    reader: _Reader, line: _Line, job: int, n_machines: int, operations_so_far: int
) -> tuple[Operation, ...]:
    """Parse one job line, checking every count before it is used."""
    values = line.tokens
    limits = LIMITS
    where = f"job {job}"

    def take(position: int, field: str) -> int:
        if position >= len(values):
            raise reader.error(
                line,
                f"the line ends where {field} is expected (after {len(values)} numbers)",
            )
        token = values[position]
        if not _INTEGER.fullmatch(token):
            raise reader.error(
                line,
                f"{field} {_shown(token)} is not an integer (number {position + 1} on the line)",
            )
        if len(token.lstrip("+-")) > _MAX_DIGITS:
            raise reader.error(
                line,
                f"{field} {_shown(token, 20)} is too large (number {position + 1} on "
                f"the line; at most {_MAX_DIGITS} digits)",
            )
        return int(token)

    n_operations = take(0, f"{where}'s number of operations")
    if n_operations < 1:
        raise reader.error(
            line, f"{where}: the number of operations must be >= 1, got {n_operations}"
        )
    if n_operations > limits.max_operations_per_job:
        raise reader.error(
            line,
            f"{where}: {n_operations:,} operations; the limit is "
            f"{limits.max_operations_per_job:,} per job",
        )
    if operations_so_far + n_operations > limits.max_operations:
        raise reader.error(
            line,
            f"{where}: more than {limits.max_operations:,} operations in all (the limit)",
        )
    position = 1
    operations: list[Operation] = []
    for step in range(n_operations):
        label = f"{where} operation {step}"
        count = take(position, f"{label}'s number of machines")
        position += 1
        if not 1 <= count <= n_machines:
            raise reader.error(
                line, f"{label}: the number of machines must be in 1..{n_machines}, got {count}"
            )
        alternatives: list[Alternative] = []
        seen: set[int] = set()
        for _ in range(count):
            machine = take(position, f"{label}'s machine")
            time = take(position + 1, f"{label}'s processing time on machine {machine}")
            position += 2
            if not 1 <= machine <= n_machines:
                raise reader.error(
                    line,
                    f"{label}: machine {machine} is out of range 1..{n_machines} "
                    "(FJSPLIB machines are numbered from 1)",
                )
            if machine in seen:
                raise reader.error(line, f"{label}: machine {machine} is listed twice")
            seen.add(machine)
            if time < 0:
                raise reader.error(
                    line, f"{label}: negative processing time {time} on machine {machine}"
                )
            if time > limits.max_time:
                raise reader.error(
                    line,
                    f"{label}: processing time {time:,} on machine {machine} exceeds the limit "
                    f"{limits.max_time:g}",
                )
            alternatives.append((machine - 1, time))
        operations.append(tuple(alternatives))
    if position != len(values):
        raise reader.error(
            line,
            f"{where}: {len(values) - position} extra numbers after its {n_operations} operations",
        )
    return tuple(operations)


def parse_fjsplib(
    text: str, *, name: str = "instance", source: str = "<string>"
) -> FlexibleJobShopInstance:
    """Parse a flexible job-shop instance in FJSPLIB format.

    Args:
        text: The file contents.
        name: Name of the instance.
        source: Where the text came from, for error messages.

    Returns:
        The instance, machines from 0, without bounds (the format has none).

    Raises:
        InstanceFormatError: The text is malformed; the message names the source,
            the line and the field.
    """
    reader = _Reader(text, source)
    n_jobs, n_machines = _header(reader)
    jobs: list[tuple[Operation, ...]] = []
    total = 0
    index = 1
    while len(jobs) < n_jobs:
        if index >= len(reader.lines):
            raise reader.error(
                reader.last_line_number,
                f"expected {n_jobs} job lines after the header, found {len(jobs)} (the file ends)",
            )
        line = reader.lines[index]
        if not any(_INTEGER.fullmatch(token) for token in line.tokens):
            raise reader.error(
                line,
                f"expected {n_jobs} job lines after the header, found {len(jobs)} before "
                f"{_shown(line.text)}",
            )
        routing = _job(reader, line, len(jobs), n_machines, total)
        total += len(routing)
        jobs.append(routing)
        index += 1
    reader.check_end(index, f"the {n_jobs} job lines")
    try:
        return FlexibleJobShopInstance(name=name, operations=tuple(jobs), machine_count=n_machines)
    except ValueError as exc:
        raise reader.error(None, str(exc)) from exc


def looks_like_fjsplib(text: str) -> bool:
    """Whether ``text`` reads as FJSPLIB rather than OR-Library or Taillard.

    The first row after the header must parse exactly as operations with machines in
    range. With a header of three values (the average machines per operation) that is
    enough; with two, the row must also not be ``2 * n_machines`` OR-Library numbers.
    """
    rows = []
    for raw in text.splitlines():
        stripped = raw.strip()
        if stripped and not stripped.startswith("#"):
            rows.append(stripped.split())
            if len(rows) == 2:
                break
    if len(rows) < 2:
        return False
    header, first = rows
    if len(header) not in (2, 3) or not all(_INTEGER.fullmatch(t) for t in header[:2]):
        return False
    if len(header) == 3 and not _REAL.fullmatch(header[2]):
        return False
    if any(len(t) > _MAX_DIGITS for t in (*header[:2], *first)):
        return False
    if not all(_INTEGER.fullmatch(t) for t in first):
        return False
    n_machines = int(header[1])
    row = [int(t) for t in first]
    if not row or row[0] < 1 or (len(header) == 2 and len(row) == 2 * n_machines):
        return False
    position = 1
    for _ in range(row[0]):
        if position >= len(row) or not 1 <= row[position] <= n_machines:
            return False
        count = row[position]
        machines = row[position + 1 : position + 1 + 2 * count : 2]
        if len(machines) != count or not all(1 <= m <= n_machines for m in machines):
            return False
        position += 1 + 2 * count
    return position == len(row)


def read_fjsplib(
    path: str | os.PathLike[str], *, name: str | None = None
) -> FlexibleJobShopInstance:
    """Read a flexible job-shop instance file in FJSPLIB format.

    Args:
        path: The file.
        name: Instance name; the file name without its suffix by default.

    Returns:
        The instance.

    Raises:
        FileNotFoundError: There is no such file.
        InstanceFormatError: The file is malformed, too large or not text.
    """
    path = Path(path)
    source = str(path)
    text = read_instance_text(path)
    return parse_fjsplib(text, name=path.stem if name is None else name, source=source)


def write_fjsplib(
    instance: FlexibleJobShopInstance, path: str | os.PathLike[str] | None = None
) -> str:
    """Write an instance in FJSPLIB format (machines from 1).

    The header's third value is the mean number of machines per operation, with two
    decimals. :func:`parse_fjsplib` of the result gives back the same operations and
    number of machines; the name and bounds are not part of the format.

    Args:
        instance: The instance.
        path: If given, also write the text to this file.

    Returns:
        The text.
    """
    lines = [f"{instance.n_jobs} {instance.n_machines} {instance.flexibility:.2f}"]
    for routing in instance.operations:
        fields = [str(len(routing))]
        for op in routing:
            fields.append(str(len(op)))
            fields.extend(f"{machine + 1} {time}" for machine, time in op)
        lines.append(" ".join(fields))
    text = "\n".join(lines) + "\n"
    if path is not None:
        Path(path).write_text(text, encoding="utf-8")
    return text
