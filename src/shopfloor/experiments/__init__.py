"""Experiments: policy benchmarks and speed benchmarks (training runs come later)."""

from shopfloor.experiments._bench import (
    BenchResult,
    BenchTarget,
    Episode,
    PolicySummary,
    Summary,
    bootstrap_ci,
    evaluate_episode,
    expand_targets,
    resolve_bench_target,
    results_dir,
    run_bench,
)
from shopfloor.experiments._speed import SpeedResult, measure, measure_all, plain_simpy_job_shop

__all__ = [
    "BenchResult",
    "BenchTarget",
    "Episode",
    "PolicySummary",
    "SpeedResult",
    "Summary",
    "bootstrap_ci",
    "evaluate_episode",
    "expand_targets",
    "measure",
    "measure_all",
    "plain_simpy_job_shop",
    "resolve_bench_target",
    "results_dir",
    "run_bench",
]
