"""The package's import boundaries (DESIGN.md, "Layers"; issue 22, part 5).

Read from the source with ``ast``: imports at module level and inside functions alike.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "shopfloor"

LAYERS = (
    "sim",
    "instances",
    "scenario",
    "batch",
    "envs",
    "policies",
    "forecast",
    "agents",
    "experiments",
    "plots",
    "cli",
)
"""The subpackages, lowest first: a package imports only packages before it."""

BACK_EDGES: set[tuple[str, str]] = set()
"""Known exceptions: none (``run_experiment`` takes its figure drawer from the CLI)."""


def _imports() -> Iterator[tuple[Path, str, str]]:
    """``(file, importing package, imported module)`` for every ``shopfloor.*`` import.

    The importing package of a top-level module (``shopfloor/_yaml.py``) is ``""``.
    """
    for path in sorted(SRC.rglob("*.py")):
        parts = path.relative_to(SRC).parts
        package = parts[0] if len(parts) > 1 else ""
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                modules = [node.module]
                modules += [f"{node.module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            else:
                continue
            for module in modules:
                if module.startswith("shopfloor."):
                    yield path, package, module


def test_no_module_imports_another_packages_private_module():
    """``shopfloor.<pkg>._<mod>`` only from inside ``<pkg>``.

    The top-level helpers (``shopfloor._atomic``, ``_stats``, ``_yaml``) are the root
    package's own, and every module is inside the root package.
    """
    crossings = [
        f"{path.relative_to(SRC)}: {module}"
        for path, package, module in _imports()
        if len(parts := module.split(".")) >= 3 and parts[2].startswith("_") and parts[1] != package
    ]
    assert crossings == []


def test_the_check_finds_a_private_import_from_another_package(tmp_path, monkeypatch):
    package = tmp_path / "shopfloor" / "envs"
    package.mkdir(parents=True)
    (package / "bad.py").write_text("from shopfloor.sim._factory import RELEASE\n")
    monkeypatch.setattr(sys.modules[__name__], "SRC", tmp_path / "shopfloor")
    with pytest.raises(AssertionError, match=r"envs/bad.py: shopfloor.sim._factory"):
        test_no_module_imports_another_packages_private_module()


def test_imports_point_down_the_layers():
    assert set(LAYERS) == {p.name for p in SRC.iterdir() if (p / "__init__.py").is_file()}
    upward = {
        (package, module.split(".")[1])
        for _, package, module in _imports()
        if package in LAYERS
        and module.split(".")[1] in LAYERS
        and LAYERS.index(module.split(".")[1]) > LAYERS.index(package)
    }
    assert upward == BACK_EDGES


def test_experiments_never_import_plots():
    """Plots sit above experiments: a run's figures are drawn by a callback the CLI passes."""
    found = [
        f"{path.relative_to(SRC)}: {module}"
        for path, package, module in _imports()
        if package == "experiments" and module.split(".")[:2] == ["shopfloor", "plots"]
    ]
    assert found == []


@pytest.mark.parametrize("package", LAYERS)
def test_every_exported_name_exists_once(package):
    module = importlib.import_module(f"shopfloor.{package}")
    exported = module.__all__
    assert len(set(exported)) == len(exported)
    assert [name for name in exported if not hasattr(module, name)] == []
    assert not [name for name in exported if name.startswith("_")]


def test_the_cli_help_imports_no_torch():
    imported = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "shopfloor", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert imported.returncode == 0 and "usage: shopfloor" in imported.stdout
    modules = [line.rsplit("|", 1)[-1].strip() for line in imported.stderr.splitlines()]
    assert "shopfloor.cli" in modules  # importtime did report the imports
    assert [name for name in modules if name.split(".")[0] == "torch"] == []
