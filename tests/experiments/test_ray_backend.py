"""The same experiment on a local Ray cluster gives the same results as the process pool."""

import pytest

from shopfloor.experiments._folders import read_csv
from shopfloor.experiments._runner import run_experiment
from shopfloor.experiments._spec import ExperimentSpec

ray = pytest.importorskip("ray")


def test_ray_backend_matches_local(tmp_path):
    spec = ExperimentSpec.model_validate(
        {
            "name": "ray",
            "envs": [
                {
                    "id": "shopfloor/DynamicJobShop-v1",
                    "name": "small",
                    "kwargs": {"scenario": "dynamic_job_shop_small"},
                }
            ],
            "agents": ["qlearning"],
            "seeds": [0, 1],
            "budget": 400,
            "eval": {"every": 200, "seeds": [100]},
            "baselines": ["spt"],
        }
    )
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        on_ray = run_experiment(
            spec, tmp_path / "ray", tmp_path / "rr", backend="ray", progress=False
        )
    finally:
        ray.shutdown()
    local = run_experiment(spec, tmp_path / "local", tmp_path / "rl", workers=1, progress=False)
    assert [r.objective_mean for r in on_ray.runs] == [r.objective_mean for r in local.runs]
    assert on_ray.summary_rows == local.summary_rows
    for seed in (0, 1):
        relative = f"ray/small/qlearning/seed_{seed}/eval.csv"
        assert read_csv(tmp_path / "ray" / relative) == read_csv(tmp_path / "local" / relative)
