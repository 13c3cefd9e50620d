"""Hypothesis strategies that damage the project's own files as a careless or hostile user would.

Two kinds of damage: structural (parse a bundled YAML file, replace, delete or add
values at random places with adversarial ones, dump it again) and textual (truncate,
insert, delete or duplicate bytes, numbers swapped for extreme ones, YAML tricks such
as alias bombs, deep nesting and NUL characters).
"""

from __future__ import annotations

import copy
import math
import re
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]

ADVERSARIAL: list[Any] = [
    0,
    -1,
    1,
    2,
    3,
    7,
    10**6,
    10**9,
    10**18,
    2**63,
    -(2**63),
    10**400,
    1e-300,
    1e-5,
    0.5,
    1.5,
    1e308,
    -1e308,
    math.inf,
    -math.inf,
    math.nan,
    "",
    "x",
    "spt",
    "exponential",
    "1e9",
    "inf",
    "../../outside",
    "\x00",
    "a" * 5000,
    True,
    False,
    None,
    [],
    {},
    [1, 2, 3],
    [[[[[]]]]],
    {"kind": "weibull", "shape": 1e-5, "scale": 1.0},
    {"kind": "exponential", "mean": 1e-300},
    {"kind": "constant", "value": 1e308},
    {"kind": "uniform", "low": 5, "high": 1},
    {"kind": "normal", "mean": 1, "std": -1},
]
"""Values that break naive code: extremes, wrong types, empty and huge things."""

TEXT_SNIPPETS = [
    "\x00",
    "\t",
    "\ufeff",
    "\r\n",
    "&a ",
    "*a",
    "*nope",
    "<<: *a\n",
    "[",
    "]",
    "{",
    "}",
    ": ",
    "- ",
    "---\n",
    "...\n",
    "!!python/object/apply:os.system ['true']\n",
    "!!binary AAAA",
    "? ",
    "%YAML 1.1\n",
    "'",
    '"',
    "#",
    "1e308",
    "-0",
    "nan",
    ".inf",
    "99999999999999999999",
]

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


def bundled_text(kind: str, only: str | None = None) -> list[tuple[str, str]]:
    """``(file name, text)`` of every bundled file of ``kind`` (or the one named ``only``)."""
    folders = {
        "scenario": (ROOT / "envs", "*.yaml"),
        "experiment": (ROOT / "experiments", "*.yaml"),
        "agent": (ROOT / "agents", "*.yaml"),
        "instance": (ROOT / "src/shopfloor/instances/data", "*.txt"),
    }
    folder, pattern = folders[kind]
    files = sorted(folder.glob(pattern))
    if kind == "scenario":  # the stress scenario is large on purpose: slow, not hostile
        files = [f for f in files if "stress" not in f.name]
    if kind == "instance":  # the small ones: each fuzzed instance is also solved
        files = [f for f in files if f.stem in {"ft06", "la01", "la06", "la11", "abz5", "orb01"}]
    if only is not None:
        files = [f for f in files if f.stem == only]
    return [(f.name, f.read_text()) for f in files]


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside nested dicts and lists."""
    found = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += _paths(value, (*prefix, index))
    return found


def _get(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


@st.composite
def structural(draw: st.DrawFn, kind: str, only: str | None = None) -> str:
    """A bundled YAML file of ``kind`` with a few values replaced, removed or added."""
    _name, text = draw(st.sampled_from(bundled_text(kind, only)))
    data = yaml.safe_load(text)
    for _ in range(draw(st.integers(1, 4))):
        paths = [p for p in _paths(data) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent, last = _get(data, path[:-1]), path[-1]
        old = parent[last]
        action = draw(st.sampled_from(["replace", "replace", "scale", "delete", "add", "repeat"]))
        if action == "replace":
            parent[last] = copy.deepcopy(draw(st.sampled_from(ADVERSARIAL)))
        elif action == "scale" and isinstance(old, int | float) and not isinstance(old, bool):
            parent[last] = old * draw(st.sampled_from([-1, 0, 10, 1000, 1e6, 1e-6, 1e300]))
        elif action == "delete":
            del parent[last]
        elif action == "add" and isinstance(parent, dict):
            key = draw(st.sampled_from(["extra", "jobs", "horizon", "seed", "x-anchor", "1"]))
            parent[key] = copy.deepcopy(draw(st.sampled_from(ADVERSARIAL)))
        elif action == "repeat" and isinstance(parent, list):
            parent.extend(copy.deepcopy([old] * draw(st.sampled_from([1, 10, 1000]))))
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


@st.composite
def textual(draw: st.DrawFn, kind: str, only: str | None = None) -> str:
    """A bundled file of ``kind`` with its text damaged in a few places."""
    _name, text = draw(st.sampled_from(bundled_text(kind, only)))
    for _ in range(draw(st.integers(1, 4))):
        action = draw(
            st.sampled_from(["truncate", "insert", "delete", "duplicate", "number", "number"])
        )
        at = draw(st.integers(0, max(len(text) - 1, 0)))
        if action == "truncate":
            text = text[:at]
        elif action == "insert":
            snippet = draw(st.sampled_from(TEXT_SNIPPETS) | st.text(max_size=8))
            text = text[:at] + snippet + text[at:]
        elif action == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 40)) :]
        elif action == "duplicate":
            lines = text.splitlines(keepends=True)
            if lines:
                index = draw(st.integers(0, len(lines) - 1))
                lines[index:index] = [lines[index]] * draw(st.sampled_from([1, 5, 200]))
                text = "".join(lines)
        else:
            numbers = list(_NUMBER.finditer(text))
            if numbers:
                match = draw(st.sampled_from(numbers))
                value = draw(
                    st.sampled_from(
                        ["0", "-1", "1000000000", "1e308", "1e-300", "nan", "-0", "2.5", "x"]
                    )
                )
                text = text[: match.start()] + value + text[match.end() :]
    return text


def alias_bomb(depth: int = 9) -> str:
    """The billion-laughs YAML: each level refers to the one above ten times."""
    lines = ['a0: &a0 ["lol"]']
    for level in range(1, depth + 1):
        refs = ", ".join([f"*a{level - 1}"] * 10)
        lines.append(f"a{level}: &a{level} [{refs}]")
    return "\n".join(lines) + "\n"


def special(kind: str) -> list[str]:
    """Hand-written hostile files every kind must refuse in one line."""
    texts = [
        alias_bomb(),
        "[" * 5000 + "]" * 5000,
        "a:\n" + "".join(" " * (2 * i) + f"k{i}:\n" for i in range(1, 3000)),
        "\x00\x01\x02",
        "",
        "- just\n- a list\n",
        "!!python/object/apply:os.system ['true']\n",
        "key: " + "9" * 5000 + "\n",
    ]
    if kind == "instance":
        texts += [
            "1000000000 1000000000\n1 1\n",
            "2 2\n0 1 1 1\n",
            "-3 2\n",
            "3\n",
            "1 1\n0 1e308\n",
        ]
    return texts


def inputs(kind: str, only: str | None = None) -> st.SearchStrategy[str]:
    """Every fuzzed input of ``kind``: structural (YAML kinds), textual and special."""
    choices = [textual(kind, only), st.sampled_from(special(kind))]
    if kind != "instance":
        choices.insert(0, structural(kind, only))
        choices.insert(0, structural(kind, only))
    return st.one_of(*choices)
