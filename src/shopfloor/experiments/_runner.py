"""Run a whole experiment: every env x agent x seed, locally or on Ray, then summarise.

The runs are prepared here: :func:`check_experiment` builds each env once with its
agents and baselines before anything runs (:func:`~shopfloor.experiments.load_experiment`
only reads and validates the file). Figures are drawn by a callback the caller passes
(experiments never import :mod:`shopfloor.plots`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shopfloor.agents import ALGORITHMS
from shopfloor.experiments._executor import run_tasks
from shopfloor.experiments._folders import write_atomic, write_csv
from shopfloor.experiments._lock import FolderLock
from shopfloor.experiments._play import evaluate
from shopfloor.experiments._spec import FORECAST_KEY, ExperimentError, ExperimentSpec
from shopfloor.experiments._summary import markdown_table, summarise_runs
from shopfloor.experiments._train import (
    EvalReport,
    RunConfig,
    RunOutcome,
    default_env_name,
    execute_run,
    make_env_factory,
)

BASELINE_FIELDS = ("policy", "seed", "objective")

FigureDrawer = Callable[[ExperimentSpec, Path, Path], Sequence[Path]]
"""``(spec, runs root, results folder) -> figures drawn``, called after a run's summary."""


@dataclass(frozen=True)
class BaselineTask:
    """Evaluate one non-learning policy on an env's held-out seeds."""

    experiment: str
    env_id: str
    env_name: str
    env_kwargs: dict[str, Any]
    policy: str
    seeds: tuple[int, ...]
    root: str

    @property
    def path(self) -> Path:
        """Where its rows go: ``<root>/<experiment>/<env>/baselines/<policy>.csv``."""
        return (
            Path(self.root) / self.experiment / self.env_name / "baselines" / f"{self.policy}.csv"
        )


def execute_baseline(task: BaselineTask) -> Path:
    """Evaluate the baseline unless its file exists; returns the file."""
    if task.path.is_file():
        return task.path
    from shopfloor.policies import make_policy

    kwargs = dict(task.env_kwargs)
    env = make_env_factory(task.env_id, _baseline_env_kwargs(task.env_id, kwargs, task.policy))()
    objectives, _ = evaluate(make_policy(task.policy), env, task.seeds)
    rows = [
        {"policy": task.policy, "seed": seed, "objective": value}
        for seed, value in zip(task.seeds, objectives, strict=True)
    ]
    return write_csv(task.path, BASELINE_FIELDS, rows)


def _baseline_env_kwargs(env_id: str, kwargs: dict[str, Any], policy: str) -> dict[str, Any]:
    """A rule baseline on a rule-choice env (DynamicJobShop) is offered exactly its own rule."""
    from shopfloor.envs import FAMILIES
    from shopfloor.sim import DispatchingRule

    rules = {rule.value for rule in DispatchingRule} - {"random"}  # random: any valid action
    family = FAMILIES.of_id(env_id)
    if family is not None and policy in rules:
        return family.rule_kwargs(kwargs, policy)
    return kwargs


def plan_runs(
    spec: ExperimentSpec,
    root: str | os.PathLike[str],
    hyperparameters: Callable[[str, str, str], dict[str, Any]],
) -> list[RunConfig]:
    """One :class:`RunConfig` per env x agent x seed.

    Args:
        spec: The experiment.
        root: The ``runs/`` folder.
        hyperparameters: ``(algorithm, env id, env name) -> resolved hyperparameters``.
    """
    runs = []
    for env in spec.envs:
        evaluation = spec.eval_for(env)
        for agent in spec.agents_for(env):
            values = hyperparameters(agent, env.id, env.name)
            for seed in spec.seeds:
                runs.append(
                    RunConfig(
                        experiment=spec.name,
                        env_id=env.id,
                        env_name=env.name,
                        env_kwargs=dict(env.kwargs),
                        agent=agent,
                        seed=seed,
                        budget=spec.budget_for(env),
                        eval_every=evaluation.every,
                        eval_seeds=tuple(evaluation.seeds),
                        hyperparameters=values,
                        device=spec.device,
                        root=str(root),
                    )
                )
    return runs


def resolved_hyperparameters(algorithm: str, env_id: str, env_name: str) -> dict[str, Any]:
    """``agents/<algorithm>.yaml``: default, then the env id's entry, then the env name's."""
    from shopfloor.agents import load_hyperparameters

    return load_hyperparameters(algorithm, env_id, env_name)


def train(
    env_id: str,
    agent: str,
    seed: int,
    budget: int,
    eval_every: int,
    eval_seeds: Sequence[int],
    env_kwargs: dict[str, Any] | None = None,
    env_name: str | None = None,
    experiment: str = "adhoc",
    device: str = "auto",
    root: str | os.PathLike[str] = "experiments/runs",
    report: EvalReport | None = None,
) -> RunOutcome:
    """Train one agent on one env: the ``shopfloor train`` command.

    The run lands in ``<root>/<experiment>/<env_name>/<agent>/seed_<n>/`` and resumes
    or is skipped like any run of an experiment; ``report`` is told each evaluation.
    """
    kwargs = dict(env_kwargs or {})
    name = env_name or default_env_name(env_id, kwargs)
    config = RunConfig(
        experiment=experiment,
        env_id=env_id,
        env_name=name,
        env_kwargs=kwargs,
        agent=agent,
        seed=seed,
        budget=budget,
        eval_every=eval_every,
        eval_seeds=tuple(eval_seeds),
        hyperparameters=resolved_hyperparameters(agent, env_id, name),
        device=device,
        root=str(root),
    )
    return execute_run(config, report)


@dataclass(frozen=True)
class ExperimentResult:
    """Outcomes of an experiment's runs and where its summary is."""

    runs: list[RunOutcome]
    summary_rows: list[dict[str, Any]]
    summary_csv: Path
    summary_markdown: Path
    figures: list[Path]


def run_experiment(
    spec: ExperimentSpec,
    root: str | os.PathLike[str] = "experiments/runs",
    results_root: str | os.PathLike[str] = "experiments/results",
    workers: int | None = None,
    backend: str = "local",
    address: str | None = None,
    progress: bool = True,
    draw_figures: FigureDrawer | None = None,
    source: str | os.PathLike[str] | None = None,
) -> ExperimentResult:
    """Run every env x agent x seed and the baselines, then write the summary.

    Before anything runs, each env is built once with each agent and baseline
    (:func:`check_experiment`).

    Args:
        spec: The experiment.
        root: Where run folders go.
        results_root: Where summary tables go.
        workers: Parallel runs (default: all cores); 1 runs in this process. The
            pool's processes are spawned, so a script must call this under
            ``if __name__ == "__main__":``.
        backend: ``local`` (process pool) or ``ray``.
        address: Ray cluster address (``None``: start or join a local Ray).
        progress: Show a progress bar.
        draw_figures: Called after the summary as ``draw_figures(spec, root,
            <results_root>/<name>)``; returns the figures it drew (the CLI passes
            :func:`shopfloor.plots.experiment_figures`). ``None``: no figures.
        source: The spec's file, named in the errors of :func:`check_experiment`.

    Raises:
        ExperimentError: An env, agent or baseline of the spec cannot be built or
            does not fit (the file, or else the experiment, and the field named).
        RunLockedError: Another live ``shopfloor run`` of this experiment into
            ``root`` holds its lock (``<root>/<experiment>/.lock``; named), or another
            process writes to one of its run folders.
    """
    check_experiment(spec, source)
    with FolderLock(Path(root) / spec.name, what=f"experiment {spec.name}"):
        return _run_experiment(
            spec, root, results_root, workers, backend, address, progress, draw_figures
        )


def _run_experiment(
    spec: ExperimentSpec,
    root: str | os.PathLike[str],
    results_root: str | os.PathLike[str],
    workers: int | None,
    backend: str,
    address: str | None,
    progress: bool,
    draw_figures: FigureDrawer | None,
) -> ExperimentResult:
    """:func:`run_experiment` once the experiment's lock is held."""
    runs = plan_runs(spec, root, resolved_hyperparameters)
    baselines = [
        BaselineTask(
            spec.name,
            env.id,
            env.name,
            dict(env.kwargs),
            policy,
            tuple(spec.eval_for(env).seeds),
            str(root),
        )
        for env in spec.envs
        for policy in spec.baselines_for(env)
    ]
    tasks: list[tuple[Callable[[Any], Any], Any]] = [(execute_baseline, b) for b in baselines]
    tasks += [(execute_run, run) for run in runs]
    results = run_tasks(_apply, tasks, workers, progress, "runs", backend=backend, address=address)
    outcomes = [r for r in results if isinstance(r, RunOutcome)]
    rows = summarise_runs(spec, root)
    out = Path(results_root) / spec.name
    csv_path = write_csv(out / "summary.csv", list(rows[0]) if rows else ["env"], rows)
    markdown = write_atomic(out / "summary.md", markdown_table(rows))
    figures = [] if draw_figures is None else list(draw_figures(spec, Path(root), out))
    return ExperimentResult(outcomes, rows, csv_path, markdown, figures)


def _apply(task: tuple[Callable[[Any], Any], Any]) -> Any:
    """``function(argument)`` of a ``(function, argument)`` task."""
    function, argument = task
    return function(argument)


def check_experiment(spec: ExperimentSpec, source: str | os.PathLike[str] | None = None) -> None:
    """Build each env and baseline once and check the agents fit, naming file and field.

    Args:
        spec: The experiment.
        source: Its file, named in the errors (default: ``experiment <name>``).

    Raises:
        ExperimentError: An env that cannot be built, an agent that does not fit an
            env, or a baseline that cannot act in one (``<file>: envs.0 (name):
            ...``, ``<file>: baselines.1: ...``).
    """
    import gymnasium as gym

    import shopfloor.envs  # noqa: F401  (registers the env ids)
    from shopfloor.policies import make_policy

    path = str(source) if source is not None else f"experiment {spec.name}"
    policies = {}
    for env_index, env in enumerate(spec.envs):
        for index, name in enumerate(spec.baselines_for(env)):
            where = "baselines" if env.baselines is None else f"envs.{env_index}.baselines"
            try:
                policies[name] = make_policy(name)
            except (ValueError, NotImplementedError) as error:
                raise ExperimentError(f"{path}: {where}.{index}: {error}") from None
    build_errors = (gym.error.Error, TypeError, ValueError, LookupError, OSError)
    for index, env in enumerate(spec.envs):
        kwargs = {key: value for key, value in env.kwargs.items() if key != FORECAST_KEY}
        where = f"{path}: envs.{index} ({env.name})"
        try:
            built = gym.make(env.id, **kwargs)
        except build_errors as error:
            raise ExperimentError(f"{where}: {error}") from None
        try:
            for agent in spec.agents_for(env):
                try:
                    ALGORITHMS[agent].check_env(built)
                except ValueError as error:
                    raise ExperimentError(
                        f"{where}: agents: {error}{_masked_hint(error)}"
                    ) from None
        finally:
            built.close()
        for policy_index, name in enumerate(spec.baselines_for(env)):
            try:
                baseline_env = gym.make(env.id, **_baseline_env_kwargs(env.id, kwargs, name))
                policy = policies[name]
                if hasattr(policy, "bind"):  # rules check the env is one they can act in
                    policy.bind(baseline_env)
                baseline_env.close()
            except build_errors as error:
                raise ExperimentError(
                    f"{path}: baselines.{policy_index}: {name} on env {env.name!r}: {error}"
                ) from None


def _masked_hint(error: ValueError) -> str:
    """``; use <the algorithms that follow masks>`` for an agent refused for masks."""
    if "action masks" not in str(error):
        return ""
    return "; use " + " or ".join(ALGORITHMS.names(follows_masks=True))
