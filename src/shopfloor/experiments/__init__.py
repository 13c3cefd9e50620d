"""Experiments: training runs in run folders, policy benchmarks, speed benchmarks.

Its modules, one concern each:

* ``_spec``: experiment files read and validated, data only (:func:`load_experiment`);
* ``_runner``: an experiment's runs and baselines prepared (:func:`check_experiment`
  builds each env with its agents and baselines first), run and summarised
  (:func:`run_experiment`); its figures come from a callback (:data:`FigureDrawer`),
  as experiments never import :mod:`shopfloor.plots`, which sits above them;
* ``_train``: one training run in its folder: chunks, evaluations, checkpoints,
  resume (with ``_checkpoints``, ``_folders`` and ``_lock``);
* ``_play``: the one evaluation loop (:func:`play_episode`, :func:`evaluate`) of
  training, baselines, the benchmark and the headroom;
* ``_executor``: the one executor: this process, a spawned process pool or Ray, one
  progress bar, results in task order;
* ``_summary``: means and 95% Student-t intervals of runs and of episodes, gaps to
  the best known bounds (:func:`summarise_runs`, :func:`summarise_episodes`);
* ``_bench`` (:func:`run_bench`) with ``_targets`` (what a target is), ``_pairing``
  (which policy acts in which env), ``_episodes`` (one scored episode), ``_batched``
  (rule episodes in the batched core) and ``_report`` (:class:`BenchResult`'s
  tables and files): the policy benchmark;
* ``_headroom``: what switching between rules could gain, in hindsight;
* ``_saved``: a trained agent loaded from its run folder (:class:`SavedAgent`);
* ``_speed``, ``_env_speed``, ``_batch_speed`` and ``_train_speed``: speed benchmarks.
"""

from shopfloor.experiments._batch_speed import BatchSpeed
from shopfloor.experiments._batch_speed import run as measure_batch_speed
from shopfloor.experiments._bench import run_bench
from shopfloor.experiments._episodes import Episode, evaluate_episode
from shopfloor.experiments._folders import (
    DamagedFileError,
    RunRecoveryWarning,
    check_folder_name,
    forecast_eval_dir,
    forecast_run_dir,
)
from shopfloor.experiments._headroom import (
    Headroom,
    HeadroomSummary,
    headroom,
    rule_choice_headroom,
    summarise_headroom,
)
from shopfloor.experiments._lock import RunLockedError
from shopfloor.experiments._play import evaluate, play_episode
from shopfloor.experiments._report import BenchResult, results_dir
from shopfloor.experiments._runner import (
    ExperimentResult,
    FigureDrawer,
    check_experiment,
    plan_runs,
    run_experiment,
    train,
)
from shopfloor.experiments._saved import SavedAgent
from shopfloor.experiments._spec import (
    ExperimentError,
    ExperimentSpec,
    ForecastSettings,
    load_experiment,
)
from shopfloor.experiments._speed import (
    EnvSpeedResult,
    SpeedResult,
    measure,
    measure_all,
    measure_env,
    plain_simpy_job_shop,
)
from shopfloor.experiments._summary import (
    PolicySummary,
    Summary,
    summarise_episodes,
    summarise_runs,
)
from shopfloor.experiments._summary import summarise_runs as summarise
from shopfloor.experiments._targets import BenchTarget, expand_targets, resolve_bench_target
from shopfloor.experiments._train import RunConfig, RunOutcome, execute_run
from shopfloor.experiments._train_speed import VEC_ENVS, TrainingSpeed, measure_training

__all__ = [
    "VEC_ENVS",
    "BatchSpeed",
    "BenchResult",
    "BenchTarget",
    "DamagedFileError",
    "EnvSpeedResult",
    "Episode",
    "ExperimentError",
    "ExperimentResult",
    "ExperimentSpec",
    "FigureDrawer",
    "ForecastSettings",
    "Headroom",
    "HeadroomSummary",
    "PolicySummary",
    "RunConfig",
    "RunLockedError",
    "RunOutcome",
    "RunRecoveryWarning",
    "SavedAgent",
    "SpeedResult",
    "Summary",
    "TrainingSpeed",
    "check_experiment",
    "check_folder_name",
    "evaluate",
    "evaluate_episode",
    "execute_run",
    "expand_targets",
    "forecast_eval_dir",
    "forecast_run_dir",
    "headroom",
    "load_experiment",
    "measure",
    "measure_all",
    "measure_batch_speed",
    "measure_env",
    "measure_training",
    "plain_simpy_job_shop",
    "plan_runs",
    "play_episode",
    "resolve_bench_target",
    "results_dir",
    "rule_choice_headroom",
    "run_bench",
    "run_experiment",
    "summarise",
    "summarise_episodes",
    "summarise_headroom",
    "summarise_runs",
    "train",
]
