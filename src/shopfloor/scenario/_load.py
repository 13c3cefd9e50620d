"""Finding, reading and validating scenario files.

:func:`load_scenario` reads a YAML file (or a bundled scenario by name), checks it
against :class:`ScenarioFile`, resolves names to indices and returns a
:class:`Scenario` holding the :class:`shopfloor.sim.FactorySpec`. Every failure on the
way (a missing file, a YAML syntax error, a wrong field, an unknown name, an
inconsistent factory) is a :class:`ScenarioError` naming the file, the line when it
is known, the field path and the offending value.

Nothing here runs at import time; files are read only when a function is called.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import types
import typing
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from shopfloor._yaml import YAMLInputError, parse_yaml, read_text
from shopfloor.scenario._build import BuildError, build_factory
from shopfloor.scenario._errors import NO_VALUE, Location, Problem, ScenarioError
from shopfloor.scenario._schema import (
    DISTRIBUTION_ERROR,
    DISTRIBUTION_KINDS,
    TAG_PREFIX,
    ScenarioFile,
)
from shopfloor.sim import LIMITS, FactorySpec

ENVS_DIR_VARIABLE = "SHOPFLOOR_ENVS_DIR"
"""Environment variable naming the directory of bundled scenarios (overrides the default)."""

EXTENSION_PREFIX = "x-"
"""Top-level keys with this prefix are ignored: a place for YAML anchors (``x-failures: &f``)."""

_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class Scenario:
    """A loaded scenario: the factory to simulate plus its header.

    Attributes:
        name: Scenario name (also ``factory.name``).
        description: What it models.
        factory: The factory description the simulation runs.
        source: Where it came from: the file path as given, or ``"<string>"``.
        path: The file, when it came from one.
        instance: The benchmark instance it wraps (``instance:`` scenarios), else ``None``.
        env: The file's ``env:`` section, untouched, for the env layer.
    """

    name: str
    description: str
    factory: FactorySpec
    source: str = "<string>"
    path: Path | None = None
    instance: str | None = None
    env: Mapping[str, Any] = field(default_factory=dict, hash=False)


# --- where scenarios live ------------------------------------------------------------


def envs_dir() -> Path:
    """The directory of bundled scenarios.

    ``$SHOPFLOOR_ENVS_DIR`` when set; otherwise the repository's top-level ``envs/``,
    found relative to this source file. The default therefore requires a source
    checkout (an editable install); an installed wheel does not carry ``envs/``, so
    point ``SHOPFLOOR_ENVS_DIR`` at a copy of it there.
    """
    override = os.environ.get(ENVS_DIR_VARIABLE)
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[3] / "envs"


def bundled_scenarios() -> dict[str, Path]:
    """The bundled scenario files by name (file stem), sorted by name.

    Raises:
        ScenarioError: If the scenario directory does not exist.
    """
    directory = envs_dir()
    if not directory.is_dir():
        raise ScenarioError(
            str(directory),
            "scenario directory not found; bundled scenarios need a source checkout, "
            f"or set {ENVS_DIR_VARIABLE}",
        )
    files = [path for path in directory.iterdir() if path.suffix in _SUFFIXES and path.is_file()]
    return {path.stem: path for path in sorted(files, key=lambda path: path.stem)}


def scenario_path(name_or_path: str | os.PathLike[str]) -> Path:
    """Where a scenario file is: a path as given, or a bundled scenario by name.

    A :class:`os.PathLike`, or a string with a directory separator or a ``.yaml`` /
    ``.yml`` suffix, is a path and is returned as it is (it need not exist yet). A
    bare name such as ``"flow_shop_small"`` is looked up in :func:`envs_dir`, which
    by default is the top-level ``envs/`` of the source checkout.

    Raises:
        ScenarioError: If a bare name is not a bundled scenario.
    """
    if not isinstance(name_or_path, str):
        return Path(name_or_path)
    if name_or_path.endswith(_SUFFIXES) or "/" in name_or_path or os.sep in name_or_path:
        return Path(name_or_path)
    directory = envs_dir()
    for suffix in _SUFFIXES:
        candidate = directory / f"{name_or_path}{suffix}"
        if candidate.is_file():
            return candidate
    known = list(bundled_scenarios())
    message = "no bundled scenario of that name"
    close = difflib.get_close_matches(name_or_path, known, n=1)
    if close:
        message += f"; did you mean {close[0]!r}?"
    message += f" (bundled: {', '.join(known) or 'none'})"
    raise ScenarioError(str(directory), [Problem((), message, name_or_path)])


# --- loading -------------------------------------------------------------------------


def load_scenario(path: str | os.PathLike[str]) -> Scenario:
    """Read, validate and build a scenario file.

    Args:
        path: A YAML file, or the name of a bundled scenario (see :func:`scenario_path`).

    Returns:
        The scenario with its :class:`shopfloor.sim.FactorySpec`.

    Raises:
        ScenarioError: If the file is missing or unreadable, is not valid YAML, or does
            not describe a valid factory; the message names the file, the field path
            and the offending value.
    """
    file = scenario_path(path)
    source = str(file)
    try:
        text = read_text(file)
    except FileNotFoundError:
        raise ScenarioError(source, "file not found") from None
    except IsADirectoryError:
        raise ScenarioError(source, "is a directory, not a scenario file") from None
    except YAMLInputError as exc:
        raise ScenarioError(source, exc.problem) from None
    except OSError as exc:
        raise ScenarioError(source, f"cannot read the file: {exc.strerror or exc}") from None
    data, root = _parse_yaml(text, source)
    return _scenario(data, source, file, root)


def parse_scenario(data: Any, source: str = "<string>") -> Scenario:
    """Validate and build a scenario from an already parsed mapping.

    Args:
        data: The scenario, as ``yaml.safe_load`` would return it.
        source: How to name it in error messages.

    Returns:
        The scenario with its :class:`shopfloor.sim.FactorySpec`.

    Raises:
        ScenarioError: If it does not describe a valid factory.
    """
    return _scenario(data, source, None, None)


def _scenario(data: Any, source: str, path: Path | None, root: yaml.Node | None) -> Scenario:
    if data is None:
        raise ScenarioError(source, "the file is empty; a scenario is a mapping of fields")
    if not isinstance(data, Mapping):
        raise ScenarioError(
            source,
            [
                Problem(
                    (),
                    f"the top level must be a mapping of fields (name, machines, ...), "
                    f"not a {_yaml_type(data)}",
                    line=None if root is None else root.start_mark.line + 1,
                )
            ],
        )
    # Top-level keys starting with "x-" hold YAML anchors for reuse (as in Compose files).
    data = {key: value for key, value in data.items() if not _is_extension(key)}
    try:
        model = ScenarioFile.model_validate(data)
    except ValidationError as exc:
        problems = [_problem(error) for error in exc.errors(include_url=False)]
        raise ScenarioError(source, _with_lines(problems, root)) from None
    try:
        factory = build_factory(model)
    except BuildError as exc:
        raise ScenarioError(source, _with_lines(exc.problems, root)) from None
    return Scenario(
        name=model.name,
        description=model.description,
        factory=factory,
        source=source,
        path=path,
        instance=model.instance,
        env=dict(data.get("env") or {}),
    )


def _is_extension(key: Any) -> bool:
    return isinstance(key, str) and key.startswith(EXTENSION_PREFIX)


# --- YAML ----------------------------------------------------------------------------


def _parse_yaml(text: str, source: str) -> tuple[Any, yaml.Node | None]:
    try:
        data, root = parse_yaml(text)
    except YAMLInputError as exc:
        message = f"YAML syntax error: {exc.detail}" if exc.syntax else exc.problem
        raise ScenarioError(
            source, [Problem((), message, line=exc.line, column=exc.column)]
        ) from None
    if root is not None:
        duplicates = list(_duplicate_keys(root, ()))
        if duplicates:
            raise ScenarioError(source, duplicates)
    return data, root


def _duplicate_keys(
    node: yaml.Node, location: Location, seen: set[int] | None = None
) -> Iterator[Problem]:
    """Yield a problem for every key given twice in one mapping (YAML would keep the last)."""
    seen = set() if seen is None else seen
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        keys: set[str] = set()
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
                if key.value in keys:
                    yield Problem(
                        (*location, key.value),
                        "duplicate key (YAML would silently keep the last one)",
                        line=key.start_mark.line + 1,
                    )
                keys.add(key.value)
                yield from _duplicate_keys(value, (*location, key.value), seen)
    elif isinstance(node, yaml.SequenceNode):
        for position, item in enumerate(node.value):
            yield from _duplicate_keys(item, (*location, position), seen)


def _line_of(root: yaml.Node, location: Location) -> int:
    """The line of the deepest node along ``location`` that the file has."""
    node = root
    line = root.start_mark.line + 1
    for part in location:
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == part:
                    node, line = value, key.start_mark.line + 1
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if not 0 <= part < len(node.value):
                return line
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def _with_lines(problems: Iterable[Problem], root: yaml.Node | None) -> list[Problem]:
    """Add the line of each problem's field and put the problems in file order."""
    if root is None:
        return list(problems)
    located = [
        problem
        if problem.line is not None
        else replace(problem, line=_line_of(root, problem.location))
        for problem in problems
    ]
    return sorted(located, key=lambda problem: problem.line or 0)


def _yaml_type(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "list"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


# --- pydantic errors -----------------------------------------------------------------

_EXPECTED = {
    "int_type": "an integer",
    "float_type": "a number",
    "bool_type": "true or false",
    "string_type": "a string",
    "list_type": "a list",
}
"""What a field of each type takes, by the pydantic error type of a value of another type."""


def _problem(error: ErrorDetails) -> Problem:
    raw = tuple(error["loc"])
    location: Location = tuple(
        part for part in raw if not (isinstance(part, str) and part.startswith(TAG_PREFIX))
    )
    kind = error["type"]
    value = error.get("input", NO_VALUE)
    message = error["msg"]
    if kind == "missing":
        return Problem(location, "required field is missing")
    if kind == "extra_forbidden":
        name = str(location[-1]) if location else "?"
        allowed = _fields_at(ScenarioFile, raw[:-1])
        message = "unknown field"
        close = difflib.get_close_matches(name, allowed, n=1)
        if close:
            message += f"; did you mean {close[0]!r}?"
        if allowed:
            message += f" (valid fields: {', '.join(allowed)})"
        return Problem(location, message, value)
    if kind == DISTRIBUTION_ERROR:
        kinds = ", ".join(DISTRIBUTION_KINDS)
        if isinstance(value, Mapping) and "kind" in value:
            return Problem(
                (*location, "kind"), f"unknown distribution kind (kinds: {kinds})", value["kind"]
            )
        if isinstance(value, Mapping):
            return Problem(location, f"a distribution mapping needs `kind:` (one of {kinds})")
        return Problem(
            location, f"expected a number >= 0 or a mapping with `kind:` ({kinds})", value
        )
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return Problem(location, f"expected a mapping, not a {_yaml_type(value)}", value)
    if kind == "int_type" and isinstance(value, float):
        return Problem(location, "expected an integer (no decimal point)", value)
    if kind in _EXPECTED:
        return Problem(location, f"expected {_EXPECTED[kind]}, not a {_yaml_type(value)}", value)
    if kind in _LIMIT_KINDS and _is_limit(error.get("ctx")):
        return Problem(location, _limit_message(kind, error.get("ctx") or {}), value)
    if kind in ("value_error", "assertion_error"):
        message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return Problem(location, message, value)


_LIMIT_VALUES = frozenset(float(value) for value in dataclasses.astuple(LIMITS))
"""The values of :data:`shopfloor.sim.LIMITS`, to tell a limit from another bound."""


_LIMIT_KINDS = {"less_than_equal": "le", "greater_than_equal": "ge", "too_long": "max_length"}
"""Pydantic error types of a bound, and the context key holding it."""


def _is_limit(context: Any) -> bool:
    if not isinstance(context, Mapping):
        return False
    bound = next((context[key] for key in _LIMIT_KINDS.values() if key in context), None)
    return isinstance(bound, int | float) and float(bound) in _LIMIT_VALUES


def _limit_message(kind: str, context: Mapping[str, Any]) -> str:
    if kind == "too_long":
        actual = context.get("actual_length")
        count = f"{actual:,} entries" if isinstance(actual, int) else "too many entries"
        return f"{count}; the limit is {context['max_length']:,} (see envs/README.md)"
    if kind == "greater_than_equal":
        return f"must be at least {context['ge']:g} (the limit, see envs/README.md)"
    return f"must be at most {context['le']:g} (the limit, see envs/README.md)"


def _fields_at(model: type[BaseModel], location: tuple[Any, ...]) -> list[str]:
    """Field names of the model at ``location`` (a pydantic error location), best effort."""
    current: Any = model
    for part in location:
        current = _descend(current, part)
        if current is None:
            return []
    current = _strip(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [info.alias or name for name, info in current.model_fields.items()]
    for member in _members(current):
        if isinstance(member, type) and issubclass(member, BaseModel):
            return [info.alias or name for name, info in member.model_fields.items()]
    return []


def _strip(annotation: Any) -> Any:
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _members(annotation: Any) -> list[Any]:
    annotation = _strip(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return [_strip(member) for member in typing.get_args(annotation)]
    return [annotation]


def _tagged(annotation: Any, tag: str) -> Any:
    """The member of a (possibly nested) union marked with ``Tag(tag)``, if any."""
    if typing.get_origin(annotation) is typing.Annotated:
        if any(getattr(meta, "tag", None) == tag for meta in annotation.__metadata__):
            return annotation
        annotation = _strip(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        for member in typing.get_args(annotation):
            found = _tagged(member, tag)
            if found is not None:
                return found
    return None


def _descend(annotation: Any, part: Any) -> Any:
    annotation = _strip(annotation)
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        members = typing.get_args(annotation)
        if isinstance(part, str) and part.startswith(TAG_PREFIX):
            return _tagged(annotation, part)
        for member in members:
            found = _descend(member, part)
            if found is not None:
                return found
        return None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel) and isinstance(part, str):
        for name, info in annotation.model_fields.items():
            if part in (name, info.alias):
                return info.annotation
        return None
    if origin in (list, tuple) and isinstance(part, int):
        return typing.get_args(annotation)[0]
    if origin is dict and isinstance(part, str):
        return typing.get_args(annotation)[1]
    return None
