"""Errors of scenario files: every problem names the file, the field path and the value.

A :class:`ScenarioError` gathers one :class:`Problem` per thing that is wrong, so a
file with three mistakes reports all three at once, one line each, in the form
``file:line: field.path = value: message``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Location = tuple[str | int, ...]
"""A field path as keys and list indices, e.g. ``("products", 1, "routing", 0, "machine")``."""


class _NoValue:
    """Marker for a problem that has no single offending value (e.g. a missing field)."""

    def __repr__(self) -> str:
        return "NO_VALUE"

    def __reduce__(self) -> str:
        return "NO_VALUE"


NO_VALUE: Any = _NoValue()
"""The ``value`` of a :class:`Problem` that has no offending value to show."""

_MAX_VALUE_CHARS = 80


def format_location(location: Location) -> str:
    """Render a field path the way it reads in the file: ``products[1].routing[0].machine``."""
    text = ""
    for part in location:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _show(value: Any) -> str:
    text = repr(value)
    if len(text) > _MAX_VALUE_CHARS:
        text = text[: _MAX_VALUE_CHARS - 3] + "..."
    return text


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario.

    Attributes:
        location: Field path of the problem (empty: the file as a whole).
        message: What is wrong, in words.
        value: The offending value, or ``NO_VALUE`` when there is none to show.
        line: 1-based line in the file, when known.
        column: 1-based column in the file, when known.
    """

    location: Location
    message: str
    value: Any = NO_VALUE
    line: int | None = None
    column: int | None = None

    @property
    def path(self) -> str:
        """The field path as text, e.g. ``products[1].routing[0].machine``."""
        return format_location(self.location)

    def render(self, source: str) -> str:
        """One line: ``source:line: path = value: message``."""
        where = source
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        subject = self.path
        if self.value is not NO_VALUE and not isinstance(self.value, Mapping):
            subject = (
                f"{subject} = {_show(self.value)}" if subject else f"value {_show(self.value)}"
            )
        return f"{where}: {subject}: {self.message}" if subject else f"{where}: {self.message}"


class ScenarioError(ValueError):
    """A scenario file cannot be read, parsed or validated.

    The message has one line per problem, each naming the file, the field path and
    the offending value, e.g.::

        envs/shop.yaml:14: products[1].routing[0].machine = 'M9': unknown machine
        (machines: M1, M2, M3)

    Attributes:
        source: The file (or ``"<string>"``) the scenario came from.
        problems: What is wrong, one entry per problem.
    """

    def __init__(self, source: str, problems: Sequence[Problem] | str) -> None:
        if isinstance(problems, str):
            problems = [Problem((), problems)]
        self.source = source
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("\n".join(problem.render(source) for problem in self.problems))

    def __reduce__(self) -> tuple[type[ScenarioError], tuple[str, tuple[Problem, ...]]]:
        return (type(self), (self.source, self.problems))
