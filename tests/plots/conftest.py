"""Real inputs for the plot tests: a tiny experiment, a benchmark and event logs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import matplotlib.image
import pytest

from shopfloor.experiments import ExperimentResult, ExperimentSpec, run_experiment
from shopfloor.instances import load_instance
from shopfloor.policies import simulate
from shopfloor.scenario import load_scenario

ENV_NAME = "small"


@pytest.fixture(scope="session")
def experiment(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ExperimentResult]:
    """``(<runs root>/tiny, result)`` of 2 seeds of Q-learning and an SPT baseline."""
    root = tmp_path_factory.mktemp("experiment")
    spec = ExperimentSpec.model_validate(
        dict(
            name="tiny",
            envs=[
                {
                    "id": "shopfloor/DynamicJobShop-v1",
                    "name": ENV_NAME,
                    "kwargs": {"scenario": "dynamic_job_shop_small"},
                }
            ],
            agents=["qlearning"],
            seeds=[0, 1],
            budget=600,
            eval={"every": 200, "seeds": [100, 101]},
            baselines=["spt"],
        )
    )
    result = run_experiment(spec, root=root, results_root=root, workers=1, progress=False)
    return root / "tiny", result


@pytest.fixture(scope="session")
def ft06_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    factory = simulate(load_instance("ft06").to_factory_spec(), "spt", 0)
    return factory.write_event_log(tmp_path_factory.mktemp("logs") / "ft06.csv")


@pytest.fixture(scope="session")
def production_spec():
    return load_scenario("production_inventory").factory


def _assert_figures(paths: tuple[Path, Path], stem: Path) -> None:
    """A non-empty PNG that decodes and an SVG, side by side at ``stem``."""
    png, svg = paths
    assert (png, svg) == (stem.with_name(stem.name + ".png"), stem.with_name(stem.name + ".svg"))
    assert png.stat().st_size > 0 and svg.stat().st_size > 0
    pixels = matplotlib.image.imread(png)
    assert pixels.ndim == 3 and pixels.shape[0] > 100 and pixels.shape[1] > 100
    text = svg.read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text


@pytest.fixture
def assert_figures() -> Callable[[tuple[Path, Path], Path], None]:
    """Checks the PNG and SVG a plot function wrote."""
    return _assert_figures
