"""Errors of scenario files: every problem names the file, the field path and the value.

A :class:`ScenarioError` gathers one :class:`Problem` per thing that is wrong, so a
file with three mistakes reports all three at once, one line each, in the form
``file:line: field.path = value: message``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shopfloor._yaml import short_repr

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

_MAX_MESSAGE_CHARS = 1000

MAX_LISTED_PROBLEMS = 20
"""Problems of a file listed in an error message; more are counted in a last line."""


def format_location(location: Location) -> str:
    """Render a field path the way it reads in the file: ``products[1].routing[0].machine``."""
    text = ""
    for part in location:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            name = str(part)
            if len(name) > _MAX_VALUE_CHARS or not name.isprintable():
                name = _show(name)  # a key of the file: quoted, cut, on one line
            text += f".{name}" if text else name
    return text


def _one_line(text: str) -> str:
    """``text`` on one line of at most ``_MAX_MESSAGE_CHARS`` characters."""
    text = " ".join(text.splitlines())
    if len(text) > _MAX_MESSAGE_CHARS:
        text = text[: _MAX_MESSAGE_CHARS - 3] + "..."
    return text


def _show(value: Any) -> str:
    return short_repr(value, _MAX_VALUE_CHARS)  # never formats all of a huge value


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
        message = _one_line(self.message)
        return f"{where}: {subject}: {message}" if subject else f"{where}: {message}"


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
        lines = [problem.render(source) for problem in self.problems[:MAX_LISTED_PROBLEMS]]
        if len(self.problems) > MAX_LISTED_PROBLEMS:
            hidden = len(self.problems) - MAX_LISTED_PROBLEMS
            lines.append(f"{source}: ... and {hidden} more problems")
        super().__init__("\n".join(lines))

    def __reduce__(self) -> tuple[type[ScenarioError], tuple[str, tuple[Problem, ...]]]:
        return (type(self), (self.source, self.problems))
