"""The one YAML reader of the project: safe types, bounded size, one-line errors.

Scenario, experiment and agent files (and anything else a user hands over as YAML)
go through :func:`parse_yaml` / :func:`load_yaml` / :func:`read_yaml`, which

- build plain data only (PyYAML's safe loader: mappings, lists, strings, numbers,
  booleans, null, timestamps; no tags that construct objects);
- refuse a text longer than :data:`MAX_YAML_CHARS` characters, or containing a NUL
  or another character YAML does not allow, naming its line and column;
- refuse nesting deeper than :data:`MAX_YAML_DEPTH` levels, checked on the parser's
  events before anything is composed (so no recursion runs deep), and again on the
  composed document with aliases followed;
- refuse a document that expands to more than :data:`MAX_YAML_NODES` values once
  aliases are followed (a "billion laughs" alias bomb expands 1 KB into 10^9
  values), counted on the composed graph with every shared node counted once per
  use but measured once, and a recursive alias;
- turn every YAML error into one :class:`YAMLInputError` line with line and column.

:func:`short_repr` shows a value in an error message without formatting more than
a few dozen characters of it, however large the value is.
"""

from __future__ import annotations

import os
import re
import reprlib
from pathlib import Path
from typing import Any

import yaml

MAX_YAML_CHARS = 1024 * 1024
"""Longest YAML text read, in characters (1 MiB, about 12,000 listed jobs; bundled files
are a few KB; a larger static problem fits an instance file)."""

MAX_YAML_DEPTH = 64
"""Deepest nesting of lists and mappings, aliases followed (bundled files reach 8)."""

MAX_YAML_NODES = 1_000_000
"""Most values (scalars, lists, mappings) a document may hold once aliases are expanded."""

_REPARSE_CHARS = 256 * 1024
"""Longest text whose syntax error is read again by PyYAML for its clearer message."""

MAX_REPR_CHARS = 80
"""Longest rendering of a value in an error message."""

_NON_PRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)
"""Characters YAML 1.1 does not allow in a stream (PyYAML's own test)."""

try:
    _BaseLoader: type[Any] = yaml.CSafeLoader  # libyaml: ten times faster than pure Python
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _BaseLoader = yaml.SafeLoader


class _Loader(_BaseLoader):  # type: ignore[misc, valid-type]
    """The safe loader, naming the place of a value Python cannot convert."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, OverflowError) as exc:
            # e.g. a date 2001-13-45, or an integer of more than 4300 digits
            text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read this value: {text[:200]}", node.start_mark
            ) from None


class YAMLInputError(ValueError):
    """A YAML text cannot be read: a syntax error, a bad character or a limit.

    ``str(error)`` is one line, e.g. ``not valid YAML, line 3, column 5: mapping
    values are not allowed here``.

    Attributes:
        problem: What is wrong, in words (one line).
        line: 1-based line, when known.
        column: 1-based column, when known.
        syntax: True for a YAML syntax error, False for a limit or a bad character.
        context: What the parser was reading, for a syntax error (may be empty).
    """

    def __init__(
        self,
        problem: str,
        line: int | None = None,
        column: int | None = None,
        *,
        syntax: bool,
        context: str = "",
    ) -> None:
        self.problem = problem
        self.line = line
        self.column = column
        self.syntax = syntax
        self.context = context
        super().__init__(problem, line, column, syntax, context)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.problem, self.line, self.column, self.syntax, self.context))

    @property
    def detail(self) -> str:
        """The problem with the parser's context, e.g. ``... (while parsing a flow sequence)``."""
        return f"{self.problem} ({self.context})" if self.context else self.problem

    @property
    def where(self) -> str:
        """``line L, column C`` (or less, when the position is unknown)."""
        if self.line is None:
            return ""
        return f"line {self.line}" + (f", column {self.column}" if self.column else "")

    def __str__(self) -> str:
        lead = "not valid YAML, " if self.syntax else ""
        where = self.where
        return f"{lead}{where}: {self.problem}" if where else f"{lead}{self.problem}"


def _rebuild(
    problem: str, line: int | None, column: int | None, syntax: bool, context: str
) -> YAMLInputError:
    return YAMLInputError(problem, line, column, syntax=syntax, context=context)


def short_repr(value: Any, limit: int = MAX_REPR_CHARS) -> str:
    """``repr(value)`` cut to ``limit`` characters, without formatting all of a huge value."""
    shortener = reprlib.Repr()
    shortener.maxstring = shortener.maxother = shortener.maxlong = limit
    shortener.maxlevel = 3
    text = shortener.repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _position(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return line, column


def _from_yaml_error(error: yaml.YAMLError, text: str | None = None) -> YAMLInputError:
    """One line for a PyYAML error (theirs span several lines)."""
    if isinstance(error, yaml.MarkedYAMLError):
        mark = error.problem_mark or error.context_mark
        problem = error.problem or error.context or "syntax error"
        context = ""
        if error.context and error.problem:
            context = error.context
            if error.context_mark is not None and error.context_mark is not mark:
                context += f" started at line {error.context_mark.line + 1}"
        if mark is None:
            return YAMLInputError(problem, syntax=True, context=context)
        return YAMLInputError(problem, mark.line + 1, mark.column + 1, syntax=True, context=context)
    if isinstance(error, yaml.reader.ReaderError):
        problem = f"character {error.character:#06x} is not allowed in YAML"
        if text is not None and isinstance(error.position, int):
            return YAMLInputError(problem, *_position(text, error.position), syntax=False)
        return YAMLInputError(problem, syntax=False)
    first = str(error).splitlines()[0] if str(error) else type(error).__name__
    return YAMLInputError(first, syntax=True)


def _check_text(text: str, max_chars: int) -> None:
    if len(text) > max_chars:
        raise YAMLInputError(
            f"the text has {len(text):,} characters; the limit is {max_chars:,}", syntax=False
        )
    bad = _NON_PRINTABLE.search(text)
    if bad is not None:
        code = ord(bad.group())
        name = "a NUL character" if code == 0 else f"character U+{code:04X}"
        raise YAMLInputError(
            f"{name} is not allowed in YAML (control characters and NUL are refused)",
            *_position(text, bad.start()),
            syntax=False,
        )


def _check_nesting(text: str, max_depth: int) -> None:
    """Refuse deep nesting from the parser's events, before composing (no recursion)."""
    depth = 0
    starts = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
    ends = (yaml.SequenceEndEvent, yaml.MappingEndEvent)
    problem = f"lists and mappings nested more than {max_depth} deep (the limit)"
    try:
        for event in yaml.parse(text, Loader=_BaseLoader):
            if isinstance(event, starts):
                depth += 1
                if depth > max_depth:
                    start = event.start_mark
                    line, column = (start.line + 1, start.column + 1) if start else (None, None)
                    raise YAMLInputError(problem, line, column, syntax=False)
            elif isinstance(event, ends):
                depth -= 1
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        if mark is not None and "nesting depth" in str(exc.problem):  # libyaml's own limit
            raise YAMLInputError(problem, mark.line + 1, mark.column + 1, syntax=False) from None
        raise


def _collections(node: yaml.Node) -> list[yaml.Node]:
    """The children of a list or mapping node (keys and values), scalars included."""
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return list(node.value)


def _limit_error(node: yaml.Node, problem: str) -> YAMLInputError:
    mark = node.start_mark
    return YAMLInputError(problem, mark.line + 1, mark.column + 1, syntax=False)


def _check_expansion(root: yaml.Node, max_nodes: int, max_depth: int) -> None:
    """Measure the document with aliases expanded: values and depth, each node once.

    An iterative post-order walk over the composed graph: a node shared by aliases is
    measured once and counted once per use, so an alias bomb is caught in time
    linear in the file's size. Scalars count 1 and are not walked.
    """
    if isinstance(root, yaml.ScalarNode):
        return
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, list[yaml.Node] | None]] = [(root, None)]
    while stack:
        node, children = stack.pop()
        key = id(node)
        if children is not None:  # every child collection is measured
            open_nodes.discard(key)
            total, deepest = 1, 0
            for child in children:
                if isinstance(child, yaml.ScalarNode):
                    total += 1
                else:
                    total += size[id(child)]
                    deepest = max(deepest, depth[id(child)])
            size[key], depth[key] = total, deepest + 1
            if total > max_nodes:
                raise _limit_error(
                    node,
                    f"the document expands to more than {max_nodes:,} values through "
                    f"its aliases (*name); the limit is {max_nodes:,}",
                )
            if deepest + 1 > max_depth:
                raise _limit_error(
                    node,
                    f"lists and mappings nested more than {max_depth} deep once aliases "
                    "are followed (the limit)",
                )
            continue
        if key in size:
            continue
        if key in open_nodes:
            raise _limit_error(node, "an alias refers to a list or mapping that contains it")
        open_nodes.add(key)
        children = _collections(node)
        stack.append((node, children))
        stack.extend(
            (child, None)
            for child in children
            if not isinstance(child, yaml.ScalarNode) and id(child) not in size
        )


def _python_error(text: str, nesting_checked: bool) -> yaml.MarkedYAMLError | None:
    """The pure-Python parser's error for ``text``, if it finds one.

    libyaml finds the same syntax errors but words them tersely ("did not find
    expected key"); PyYAML's own messages say what it found instead ("expected ',' or
    ']', but got ':'"). On a short text the error is read again with PyYAML for them;
    its composer recurses, so it runs only once the nesting is known to be shallow.
    """
    if len(text) > _REPARSE_CHARS:
        return None
    try:
        for _ in yaml.parse(text, Loader=yaml.SafeLoader):
            pass
        if nesting_checked:
            loader = yaml.SafeLoader(text)
            try:
                loader.get_single_node()
            finally:
                loader.dispose()
    except yaml.MarkedYAMLError as exc:
        return exc
    except yaml.YAMLError:
        return None
    return None


def parse_yaml(
    text: str,
    *,
    max_chars: int = MAX_YAML_CHARS,
    max_depth: int = MAX_YAML_DEPTH,
    max_nodes: int = MAX_YAML_NODES,
) -> tuple[Any, yaml.Node | None]:
    """Parse one YAML document safely, keeping its node tree for line numbers.

    Args:
        text: The YAML text.
        max_chars: Longest text accepted.
        max_depth: Deepest nesting of lists and mappings, aliases followed.
        max_nodes: Most values once aliases are expanded.

    Returns:
        The data (plain Python values; ``None`` for an empty document) and the root
        node (``None`` for an empty document).

    Raises:
        YAMLInputError: A syntax error, a character YAML refuses, or a limit exceeded;
            one line naming the line and column.
    """
    _check_text(text, max_chars)
    nesting_checked = False
    try:
        _check_nesting(text, max_depth)
        nesting_checked = True
        loader = _Loader(text)
        try:
            root = loader.get_single_node()
            if root is None:
                return None, None
            _check_expansion(root, max_nodes, max_depth)
            return loader.construct_document(root), root
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        raise _from_yaml_error(_python_error(text, nesting_checked) or exc, text) from None
    except yaml.YAMLError as exc:
        raise _from_yaml_error(exc, text) from None
    except RecursionError:  # pragma: no cover - the depth checks come first
        raise YAMLInputError("nested too deeply to read", syntax=False) from None


def load_yaml(text: str, **limits: int) -> Any:
    """The data of one YAML document (see :func:`parse_yaml` for the checks and limits).

    Raises:
        YAMLInputError: As :func:`parse_yaml`.
    """
    return parse_yaml(text, **limits)[0]


def read_text(path: str | os.PathLike[str], max_chars: int = MAX_YAML_CHARS) -> str:
    """A UTF-8 text file, refused without reading it all when it is too large.

    Raises:
        OSError: The file cannot be read (missing, a directory, no permission).
        YAMLInputError: The file is not UTF-8 or is longer than ``max_chars``.
    """
    with Path(path).open(encoding="utf-8") as handle:
        try:
            text = handle.read(max_chars + 1)
        except UnicodeDecodeError as exc:
            raise YAMLInputError(f"not UTF-8 text ({exc.reason})", syntax=False) from None
    if len(text) > max_chars:
        raise YAMLInputError(
            f"the file has more than {max_chars:,} characters (the limit)", syntax=False
        )
    return text


def read_yaml(path: str | os.PathLike[str], **limits: int) -> Any:
    """Read and parse a YAML file with :func:`read_text` and :func:`load_yaml`.

    Raises:
        OSError: The file cannot be read.
        YAMLInputError: Not UTF-8, too large, or as :func:`parse_yaml`.
    """
    max_chars = limits.get("max_chars", MAX_YAML_CHARS)
    return load_yaml(read_text(path, max_chars), **limits)
