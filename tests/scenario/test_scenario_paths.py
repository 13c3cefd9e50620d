"""Where scenario files are found, and that importing the package reads none."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from shopfloor.scenario import (
    ScenarioError,
    bundled_scenarios,
    envs_dir,
    load_scenario,
    scenario_path,
)

REPO = Path(__file__).resolve().parents[2]


def test_default_envs_dir_is_the_top_level_envs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHOPFLOOR_ENVS_DIR", raising=False)
    assert envs_dir() == REPO / "envs"
    assert scenario_path("flow_shop_small") == REPO / "envs" / "flow_shop_small.yaml"
    assert bundled_scenarios()["flow_shop_small"] == REPO / "envs" / "flow_shop_small.yaml"


def test_paths_are_taken_as_they_are(tmp_path: Path) -> None:
    assert scenario_path(tmp_path / "x.yaml") == tmp_path / "x.yaml"
    assert scenario_path("x.yml") == Path("x.yml")
    assert scenario_path("some/dir/x") == Path("some/dir/x")


def test_envs_dir_can_be_overridden(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "mine.yaml").write_text(
        "name: mine\nmachines: [a]\njobs: [{routing: [{machine: a, duration: 1}]}]\n",
        encoding="utf-8",
    )
    (tmp_path / "notes.txt").write_text("not a scenario", encoding="utf-8")
    monkeypatch.setenv("SHOPFLOOR_ENVS_DIR", str(tmp_path))
    assert envs_dir() == tmp_path
    assert bundled_scenarios() == {"mine": tmp_path / "mine.yaml"}
    assert load_scenario("mine").factory.machines[0].name == "a"
    with pytest.raises(
        ScenarioError, match=r"'flow_shop_small': no bundled scenario.*bundled: mine"
    ):
        scenario_path("flow_shop_small")


def test_a_missing_envs_dir_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPFLOOR_ENVS_DIR", str(tmp_path / "gone"))
    with pytest.raises(
        ScenarioError, match=r"gone: scenario directory not found.*SHOPFLOOR_ENVS_DIR"
    ):
        bundled_scenarios()


def test_importing_the_package_reads_no_files() -> None:
    script = textwrap.dedent(
        """
        import json, sys

        opened = []

        def hook(event, args):
            if event == "open" and isinstance(args[0], str):
                opened.append(args[0])

        sys.addaudithook(hook)
        import shopfloor.scenario  # noqa: F401
        print(json.dumps([sorted(sys.modules), opened]))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=REPO
    )
    modules, opened = json.loads(result.stdout)
    data_files = [
        path
        for path in opened
        if path.endswith((".yaml", ".yml"))
        or (
            any(Path(path).is_relative_to(REPO / top) for top in ("src", "envs"))
            and not path.endswith((".py", ".pyc"))
        )
    ]
    assert data_files == []
    assert "shopfloor.instances" not in modules  # imported lazily, for `instance:` only
