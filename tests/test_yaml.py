"""The project's one YAML reader: safe types, bounded size and nesting, one-line errors."""

from __future__ import annotations

import pickle
import time
from pathlib import Path

import pytest

from shopfloor._yaml import (
    MAX_YAML_CHARS,
    MAX_YAML_DEPTH,
    MAX_YAML_NODES,
    YAMLInputError,
    load_yaml,
    parse_yaml,
    read_text,
    read_yaml,
    short_repr,
)
from shopfloor.agents import AgentConfigError, load_hyperparameters
from shopfloor.experiments import ExperimentError, load_experiment

BILLION_LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]\n"
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True)
)
"""Under 1 KB of YAML that expands to 9^9 (387 million) strings."""


def _refused(text: str, pattern: str, **limits: int) -> YAMLInputError:
    started = time.perf_counter()
    with pytest.raises(YAMLInputError, match=pattern) as info:
        load_yaml(text, **limits)
    assert time.perf_counter() - started < 5.0
    assert "\n" not in str(info.value)
    return info.value


def test_an_alias_bomb_is_refused_at_once_with_a_short_message() -> None:
    assert len(BILLION_LAUGHS) < 1024
    error = _refused(BILLION_LAUGHS, r"expands to more than 1,000,000 values")
    assert error.line is not None and error.column is not None
    assert len(str(error)) < 200


def test_the_expanded_size_limit_is_exact() -> None:
    # a: 999 scalars (a list of 1000 values with itself); b: n aliases of a; c: m scalars.
    # Values: root 1 + key a 1 + a 1000 + key b 1 + b (1 + 1000 n) + key c 1 + c (1 + m).
    n = 998
    m = MAX_YAML_NODES - (1 + 1 + 1000 + 1 + 1 + 1000 * n + 1 + 1)
    base = f"a: &a [{', '.join(['0'] * 999)}]\nb: [{', '.join(['*a'] * n)}]\n"
    data = load_yaml(base + f"c: [{', '.join(['1'] * m)}]\n")
    assert len(data["b"]) == n and len(data["c"]) == m
    _refused(base + f"c: [{', '.join(['1'] * (m + 1))}]\n", "expands to more than")


def test_merge_keys_count_as_expansion() -> None:
    text = "a0: &a0 {x: 1}\n" + "".join(
        f"a{i}: &a{i} {{<<: [*a{i - 1}, *a{i - 1}], y{i}: 1}}\n" for i in range(1, 40)
    )
    _refused(text, "expands to more than")


def test_a_recursive_alias_is_refused() -> None:
    _refused("a: &a [1, *a]\n", r"an alias refers to a list or mapping that contains it")
    _refused("a: &a {b: [*a]}\n", r"contains it")


@pytest.mark.parametrize("flow", [True, False])
def test_nesting_is_bounded_at_the_limit(flow: bool) -> None:
    def nested(depth: int) -> str:
        if flow:
            return "[" * depth + "]" * depth
        return "".join("  " * level + "- \n" for level in range(depth))

    load_yaml(nested(MAX_YAML_DEPTH))
    error = _refused(nested(MAX_YAML_DEPTH + 1), r"nested more than 64 deep \(the limit\)")
    assert error.line is not None


def test_very_deep_nesting_is_no_recursion_error() -> None:
    error = _refused("[" * 100_000 + "]" * 100_000, "nested more than 64 deep")
    assert error.line == 1


def test_nesting_through_aliases_is_bounded() -> None:
    text = "a0: &a0 [1]\n" + "".join(f"a{i}: &a{i} [*a{i - 1}]\n" for i in range(1, 100))
    _refused(text, "nested more than 64 deep once aliases are followed")


@pytest.mark.parametrize(
    ("text", "pattern", "line", "column"),
    [
        ("name: x\x00\n", r"a NUL character is not allowed in YAML", 1, 8),
        ("a: 1\nb: \x07\n", r"character U\+0007 is not allowed", 2, 4),
        (
            "a: 2001-13-45\n",
            r"not valid YAML, line 1, column 4: cannot read this value: month",
            1,
            4,
        ),
        ("a: " + "1" * 5000 + "\n", r"cannot read this value: Exceeds the limit", 1, 4),
        ("a: [1, 2\n", r"not valid YAML, line 2, column 1: expected ',' or '\]'", 2, 1),
        ("a: *nowhere\n", r"found undefined alias 'nowhere'", 1, 4),
    ],
)
def test_every_yaml_problem_is_one_line_with_its_place(
    text: str, pattern: str, line: int, column: int
) -> None:
    error = _refused(text, pattern)
    assert (error.line, error.column) == (line, column)


def test_tags_that_build_objects_are_refused() -> None:
    _refused("!!python/object/apply:os.system [echo hi]\n", "could not determine a constructor")


def test_the_text_length_limit_is_exact(tmp_path: Path) -> None:
    comment = "#" * (MAX_YAML_CHARS - len("a: 1\n") - 1) + "\n"
    path = tmp_path / "big.yaml"
    path.write_text(comment + "a: 1\n", encoding="utf-8")
    assert read_yaml(path) == {"a": 1}
    path.write_text(comment + "a: 12\n", encoding="utf-8")
    with pytest.raises(YAMLInputError, match=r"more than 1,048,576 characters \(the limit\)"):
        read_yaml(path)
    with pytest.raises(YAMLInputError, match="the limit is 1,048,576"):
        load_yaml(path.read_text(encoding="utf-8"))


def test_a_file_that_is_not_utf8_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "latin.yaml"
    path.write_bytes(b"name: caf\xe9\n")
    with pytest.raises(YAMLInputError, match="not UTF-8 text"):
        read_text(path)


def test_errors_pickle_with_their_place() -> None:
    error = _refused("a: [1, 2\n", "expected")
    copy = pickle.loads(pickle.dumps(error))
    assert (str(copy), copy.line, copy.column, copy.context) == (
        str(error),
        error.line,
        error.column,
        error.context,
    )


def test_an_empty_document_is_none() -> None:
    assert parse_yaml("# nothing\n") == (None, None)


def test_short_repr_never_formats_a_huge_value() -> None:
    shared = ["lol"] * 9
    for _ in range(8):
        shared = [shared] * 9  # 9^9 strings when formatted in full
    started = time.perf_counter()
    text = short_repr(shared)
    assert time.perf_counter() - started < 1.0
    assert len(text) <= 80
    assert "..." in short_repr("x" * 10_000) and len(short_repr("x" * 10_000)) <= 80
    assert short_repr(3) == "3"


# ------------------------------------------------------- the project's YAML files


def test_experiment_files_use_the_safe_reader(tmp_path: Path) -> None:
    path = tmp_path / "exp.yaml"
    path.write_text(BILLION_LAUGHS, encoding="utf-8")
    with pytest.raises(ExperimentError, match="expands to more than") as info:
        load_experiment(path)
    assert str(info.value).startswith(f"{path}: line ")
    assert "\n" not in str(info.value) and len(str(info.value)) < 300
    path.write_text("name: x\x00\n", encoding="utf-8")
    with pytest.raises(ExperimentError, match=r"line 1, column 8: a NUL character"):
        load_experiment(path)


def test_experiment_errors_cut_huge_values(tmp_path: Path) -> None:
    path = tmp_path / "exp.yaml"
    path.write_text(f"name: x\nseeds: {'9' * 200}\n", encoding="utf-8")
    with pytest.raises(ExperimentError) as info:
        load_experiment(path)
    assert all(len(line) < 400 for line in str(info.value).splitlines())


def test_agent_files_use_the_safe_reader(tmp_path: Path) -> None:
    (tmp_path / "ppo.yaml").write_text(BILLION_LAUGHS + "default: {}\n", encoding="utf-8")
    with pytest.raises(AgentConfigError, match=r"ppo.yaml: line \d+, column \d+: the document"):
        load_hyperparameters("ppo", directory=tmp_path)
    (tmp_path / "ppo.yaml").write_text("default: {}\n" + "[" * 1000 + "]" * 1000, "utf-8")
    with pytest.raises(AgentConfigError, match="nested more than 64 deep"):
        load_hyperparameters("ppo", directory=tmp_path)
