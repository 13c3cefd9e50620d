"""Experiments: speed benchmarks (training runs and run folders come later)."""

from shopfloor.experiments._speed import SpeedResult, measure, measure_all, plain_simpy_job_shop

__all__ = ["SpeedResult", "measure", "measure_all", "plain_simpy_job_shop"]
