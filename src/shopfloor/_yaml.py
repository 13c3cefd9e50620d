"""One-line descriptions of YAML syntax errors (PyYAML's own span several lines)."""

from __future__ import annotations

import yaml


def describe_yaml_error(error: yaml.YAMLError) -> str:
    """``line L, column C: problem`` for a marked error, else the error's first line."""
    if isinstance(error, yaml.MarkedYAMLError):
        mark = error.problem_mark or error.context_mark
        problem = error.problem or error.context or "syntax error"
        if mark is not None:
            return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"
        return problem
    return str(error).splitlines()[0] if str(error) else type(error).__name__
