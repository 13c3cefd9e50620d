"""One training run: train in chunks, evaluate, checkpoint, resume after a crash.

Longer than the package's other modules on purpose: a run's life cycle (start or
resume, evaluate, checkpoint, finish, recover from damaged files) is one concern
whose steps share the run's folder and state; the file formats live in
``_checkpoints`` and ``_folders``, the evaluation loop in ``_play``.
"""

from __future__ import annotations

import contextlib
import json
import math
import shutil
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import yaml

from shopfloor._atomic import replace_atomically
from shopfloor.agents import check_device_name
from shopfloor.experiments._checkpoints import (
    EVAL_TYPES,
    PROGRESS_TYPES,
    Best,
    Checkpoint,
    checkpoint_steps,
    commit_checkpoint,
    latest_intact,
    manifest_path,
    prune,
    read_checkpoint,
)
from shopfloor.experiments._folders import (
    BEST_MODEL,
    DONE,
    DamagedFileError,
    RunRecoveryWarning,
    check_folder_name,
    command_line,
    now_iso,
    provenance,
    read_json,
    remove_temporaries,
    write_atomic,
    write_csv,
    write_json,
)
from shopfloor.experiments._lock import LOCK_FILE, FolderLock
from shopfloor.experiments._play import evaluate
from shopfloor.experiments._spec import FORECAST_KEY, ForecastSettings

PROGRESS_FIELDS = tuple(PROGRESS_TYPES)
EVAL_FIELDS = tuple(EVAL_TYPES)


@dataclass(frozen=True)
class RunConfig:
    """Everything one run needs; written to its ``config.yaml``.

    Attributes:
        experiment: Experiment name.
        env_id: Registered env id.
        env_name: Env folder name.
        env_kwargs: Env constructor arguments.
        agent: Algorithm name.
        seed: Training seed.
        budget: Env steps to train.
        eval_every: Steps between evaluations and checkpoints.
        eval_seeds: Held-out episode seeds.
        hyperparameters: Resolved hyperparameters (by name).
        device: Requested device.
        root: The ``runs/`` folder.
    """

    experiment: str
    env_id: str
    env_name: str
    env_kwargs: dict[str, Any]
    agent: str
    seed: int
    budget: int
    eval_every: int
    eval_seeds: tuple[int, ...]
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    device: str = "auto"
    root: str = "experiments/runs"

    def __post_init__(self) -> None:
        for what in ("experiment", "env_name", "agent"):
            check_folder_name(what.replace("_", " "), getattr(self, what))
        for what in ("budget", "eval_every"):
            value = getattr(self, what)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(
                    f"{what.replace('_', ' ')} must be a positive integer, got {value!r}"
                )
        if self.seed < 0:
            raise ValueError(f"seed must be >= 0, got {self.seed}")
        if not self.eval_seeds or min(self.eval_seeds) < 0:
            raise ValueError(
                f"eval seeds must be a non-empty list of seeds >= 0, got {list(self.eval_seeds)}"
            )
        check_device_name(self.device)

    @property
    def run_dir(self) -> Path:
        """``<root>/<experiment>/<env>/<agent>/seed_<n>``."""
        return Path(self.root) / self.experiment / self.env_name / self.agent / f"seed_{self.seed}"

    def env_factory(self) -> Callable[[], gym.Env]:
        """Builds the run's env (importing the registrations in any process)."""
        return make_env_factory(self.env_id, self.env_kwargs)


def default_env_name(env_id: str, kwargs: Mapping[str, Any]) -> str:
    """An env's name when none is given: its scenario, else its instance, else the id's end.

    A scenario or instance given as a file path is named by the file's stem
    (``shops/mine.yaml`` -> ``mine``), so the run folder stays under its root.
    """
    source = kwargs.get("scenario") or kwargs.get("instance")
    if source is None:
        return env_id.split("/")[-1]
    return Path(str(source)).stem or str(source)


def make_env_factory(
    env_id: str,
    kwargs: dict[str, Any],
    forecast: ForecastSettings | Mapping[str, Any] | None = None,
) -> Callable[[], gym.Env]:
    """A picklable-enough builder of ``gym.make(env_id, **kwargs)``.

    Forecast settings (``forecast``, or ``kwargs["forecast"]`` as an experiment's
    :class:`~shopfloor.experiments.EnvEntry` puts them there) wrap the env in
    :class:`~shopfloor.forecast.ForecastObservation` (demand, ``ProductionInventory``)
    or :class:`~shopfloor.forecast.ArrivalForecastObservation` (job arrivals,
    ``DynamicJobShop``); a neural forecaster is trained once per process for each
    distinct (env, settings) and reused.
    """
    from shopfloor.envs import check_env_id

    check_env_id(env_id)  # a retired version: one line naming the one to use
    options = dict(kwargs)
    embedded = options.pop(FORECAST_KEY, None)
    chosen = forecast if forecast is not None else embedded
    settings = None if chosen is None else ForecastSettings.model_validate(chosen)

    def build() -> gym.Env:
        import shopfloor.envs  # noqa: F401  (registers the ids in fresh processes)

        try:
            env = gym.make(env_id, **options)
        except (gym.error.Error, TypeError) as error:  # unknown id, unknown argument
            raise ValueError(f"env {env_id} with arguments {options}: {error}") from None
        if settings is None:
            return env
        return _with_forecast(env, env_id, options, settings)

    return build


_FORECASTERS: dict[str, Any] = {}
"""Neural forecasters trained in this process, by env and settings."""


def _with_forecast(
    env: gym.Env, env_id: str, options: dict[str, Any], settings: ForecastSettings
) -> gym.Env:
    from shopfloor.envs import family_of
    from shopfloor.forecast import (
        ArrivalForecastObservation,
        ForecasterConfig,
        ForecastObservation,
        train_arrival_forecaster,
        train_forecaster_for,
    )

    settings.check_env(env_id)
    family = family_of(env)
    arrivals = family is not None and family.forecast == "arrivals"
    model = None
    if settings.kind == "neural":
        key = json.dumps([env_id, options, settings.model_dump()], sort_keys=True, default=repr)
        model = _FORECASTERS.get(key)
        if model is None:
            scenario = env.unwrapped.source.example()  # type: ignore[attr-defined]
            config = ForecasterConfig(
                lookback=settings.lookback,
                horizon=settings.horizon,
                epochs=settings.epochs,
                device="cpu",
            )
            if arrivals:
                model = train_arrival_forecaster(
                    scenario, config, settings.seed, settings.train_periods, settings.bucket
                )
            else:
                model = train_forecaster_for(
                    scenario,
                    config,
                    seed=settings.seed,
                    periods=settings.train_periods,
                    n_histories=settings.train_histories,
                )
            _FORECASTERS[key] = model
    if arrivals:
        return ArrivalForecastObservation(
            env, settings.kind, settings.horizon, settings.bucket, model
        )
    return ForecastObservation(
        env,
        kind=settings.kind,
        horizon=settings.horizon,
        model=model,
        season_length=settings.season_length,
    )


@dataclass(frozen=True)
class RunOutcome:
    """What a run did."""

    run_dir: str
    status: str  # "done" (already complete), "trained", "resumed"
    timesteps: int
    objective_mean: float
    wall_time: float


EvalReport = Callable[[dict[str, Any]], None]
"""Told after each evaluation: ``timesteps``, ``budget``, ``objective``, ``objective_mean``,
``best`` (the best mean so far) and ``wall_time`` (seconds of the run so far)."""


def execute_run(config: RunConfig, report: EvalReport | None = None) -> RunOutcome:
    """Train one run to its budget, resuming from its last intact checkpoint if interrupted.

    The run holds its folder's lock throughout. A run folder with ``DONE`` is
    returned as is; one whose budget was reached but whose last files are missing or
    damaged is finished again from its final checkpoint. A damaged checkpoint is named
    in a :class:`~shopfloor.experiments._folders.RunRecoveryWarning` and the one before
    it used; with none intact the run starts over.

    Raises:
        ValueError: The folder holds a run of other settings (its ``config.yaml``
            differs in what is trained), which would otherwise be skipped or resumed,
            or its ``config.yaml`` is damaged (both name the file).
        RunLockedError: Another live process writes to the folder (named).

    Args:
        config: The run.
        report: Called after each evaluation (progress for a command line).
    """
    run_dir = config.run_dir
    fresh_folder = _first_missing(run_dir)
    lock = FolderLock(run_dir)
    lock.acquire()
    try:
        outcome = _execute_locked(config, report)
    except BaseException:
        if fresh_folder is not None and not (run_dir / "config.yaml").is_file():
            _remove_unstarted(run_dir, fresh_folder, lock)  # nothing of the run was kept
        raise
    finally:
        lock.release()
    return outcome


def _execute_locked(config: RunConfig, report: EvalReport | None = None) -> RunOutcome:
    """:func:`execute_run` once the folder's lock is held."""
    from shopfloor.agents import load_agent, make_agent

    run_dir = config.run_dir
    checkpoints = run_dir / "checkpoints"
    remove_temporaries(run_dir, checkpoints)  # what a killed writer left behind
    _check_same_run(config)
    started = time.perf_counter()
    if (run_dir / DONE).is_file():
        result = _read_result(run_dir)
        if result is not None:
            return RunOutcome(
                str(run_dir), "done", result["timesteps"], result["objective_mean"], 0.0
            )
        (run_dir / DONE).unlink()  # finished again below, from the final checkpoint
    env_factory = config.env_factory()
    tensorboard = run_dir / "tensorboard"
    checkpoint = _resume_point(checkpoints)
    agent: Any = None
    if checkpoint is not None:
        if checkpoint.timesteps < config.budget:
            agent = load_agent(
                checkpoint.model,
                config.agent,
                env_factory,
                config.hyperparameters,
                config.seed,
                config.device,
                tensorboard,
            )
        progress, evaluations = checkpoint.progress, checkpoint.evaluations
        best: Best | None = checkpoint.best
        wall_offset, status = checkpoint.wall_time, "resumed"
        meta = _read_meta(run_dir)
        meta["resumed"] = [*meta.get("resumed", []), now_iso()]
        _write_best(run_dir, checkpoint)  # never a best model of a lost future
        write_csv(run_dir / "progress.csv", PROGRESS_FIELDS, progress)
        write_csv(run_dir / "eval.csv", EVAL_FIELDS, evaluations)
    else:
        agent = make_agent(
            config.agent,
            env_factory,
            config.hyperparameters,
            config.seed,
            config.device,
            tensorboard,
        )
        progress, evaluations, best = [], [], None
        wall_offset, status = 0.0, "trained"
        meta = provenance()
        write_atomic(
            run_dir / "config.yaml", yaml.safe_dump(_plain(asdict(config)), sort_keys=False)
        )
        write_atomic(run_dir / "command.txt", command_line() + "\n")
    write_json(run_dir / "meta.json", meta)

    eval_env = env_factory()
    if agent is None:  # the budget was reached: only the last files are missing
        assert checkpoint is not None
        return _finish(config, checkpoint, eval_env, meta, status, wall_offset, started)
    writer = _summary_writer(tensorboard / "shopfloor")

    def evaluate_now() -> None:
        nonlocal best
        objectives, rewards = evaluate(agent, eval_env, config.eval_seeds)
        row: dict[str, Any] = {
            "timesteps": int(agent.num_timesteps),
            "objective_mean": float(np.mean(objectives)),
            "objective_std": float(np.std(objectives)),
            "reward_mean": float(np.mean(rewards)),
            "objectives": " ".join(f"{o:.6g}" for o in objectives),
        }
        evaluations.append(row)
        if writer is not None:
            writer.add_scalar("eval/objective_mean", row["objective_mean"], agent.num_timesteps)
        if best is None or row["objective_mean"] < best.objective_mean:
            best = Best(row["timesteps"], row["objective_mean"])
        if report is not None:
            report(
                {
                    "timesteps": row["timesteps"],
                    "budget": config.budget,
                    "objective": eval_env.unwrapped.objective_name,  # type: ignore[attr-defined]
                    "objective_mean": row["objective_mean"],
                    "best": best.objective_mean,
                    "wall_time": wall_offset + time.perf_counter() - started,
                }
            )

    def save_checkpoint() -> Checkpoint:
        assert best is not None
        wall_time = wall_offset + time.perf_counter() - started
        events = None
        if agent.num_timesteps >= config.budget:  # the final policy's last episode
            events = eval_env.unwrapped.factory  # type: ignore[attr-defined]
        return _checkpoint(agent, run_dir, progress, evaluations, best, wall_time, events)

    def on_step(info: dict[str, Any]) -> bool:
        if info["episode_reward"] is not None:
            progress.append(
                {
                    "timesteps": int(info["num_timesteps"]),
                    "episodes": len(progress) + 1,  # across chunks and resumes
                    "episode_reward": float(info["episode_reward"]),
                    "wall_time": round(wall_offset + time.perf_counter() - started, 3),
                }
            )
            if writer is not None:
                writer.add_scalar(
                    "train/episode_reward", info["episode_reward"], info["num_timesteps"]
                )
        return True

    if checkpoint is None:  # the initial evaluation: step 0 is a checkpoint too
        evaluate_now()
        checkpoint = save_checkpoint()
    while agent.num_timesteps < config.budget:
        chunk = min(config.eval_every, config.budget - agent.num_timesteps)
        agent.learn(chunk, callback=on_step, budget=config.budget)
        evaluate_now()
        checkpoint = save_checkpoint()
    if writer is not None:
        writer.close()
    return _finish(config, checkpoint, eval_env, meta, status, wall_offset, started)


def _finish(
    config: RunConfig,
    checkpoint: Checkpoint,
    eval_env: gym.Env,
    meta: dict[str, Any],
    status: str,
    wall_offset: float,
    started: float,
) -> RunOutcome:
    """Write the final files from the final checkpoint, ``DONE`` last (may be redone)."""
    run_dir = config.run_dir
    _copy_checkpoint_file(checkpoint, checkpoint.model, run_dir, "model")
    write_csv(run_dir / "progress.csv", PROGRESS_FIELDS, checkpoint.progress)
    write_csv(run_dir / "eval.csv", EVAL_FIELDS, checkpoint.evaluations)
    if checkpoint.events is not None:  # the event log of the final policy's last episode
        _copy_file(checkpoint.events, run_dir / "eval_events.csv")
    final = checkpoint.evaluations[-1]
    result = {
        "timesteps": checkpoint.timesteps,
        "objective_mean": float(final["objective_mean"]),
        "objective_std": float(final["objective_std"]),
        "objectives": [float(x) for x in str(final["objectives"]).split()],
        "objective": eval_env.unwrapped.objective_name,  # type: ignore[attr-defined]
        "eval_seeds": list(config.eval_seeds),
        "wall_time": wall_offset + time.perf_counter() - started,
        "best": checkpoint.best.as_dict(),
    }
    write_json(run_dir / "result.json", result)
    meta["finished"] = now_iso()
    write_json(run_dir / "meta.json", meta)
    write_atomic(run_dir / DONE, "")
    return RunOutcome(
        str(run_dir), status, checkpoint.timesteps, result["objective_mean"], result["wall_time"]
    )


def _checkpoint(
    agent: Any,
    run_dir: Path,
    progress: list[dict[str, Any]],
    evaluations: list[dict[str, Any]],
    best: Best,
    wall_time: float,
    factory: Any = None,
) -> Checkpoint:
    """Save the agent (and its replay buffer, and ``factory``'s event log), then commit.

    The manifest is the commit point; then the CSV outputs, the best model when this
    step is the best, and the pruning of checkpoints other than the last two and the
    best one.
    """
    checkpoints = run_dir / "checkpoints"
    checkpoints.mkdir(parents=True, exist_ok=True)
    step = int(agent.num_timesteps)
    base = checkpoints / f"step_{step}"
    files = [Path(agent.save(base))]
    if hasattr(agent, "save_replay_buffer"):  # off-policy SB3 agents resume with their buffer
        buffer = agent.save_replay_buffer(base)
        if buffer is not None:
            files.append(Path(buffer))
    events = None
    if factory is not None:
        events = Path(factory.write_event_log(checkpoints / f"step_{step}.events.csv"))
        files.append(events)
    checkpoint = commit_checkpoint(
        checkpoints, step, files, files[0], progress, evaluations, best, wall_time, events
    )
    write_json(
        checkpoints / "latest.json", {"timesteps": step, "manifest": checkpoint.manifest.name}
    )
    write_csv(run_dir / "progress.csv", PROGRESS_FIELDS, progress)
    write_csv(run_dir / "eval.csv", EVAL_FIELDS, evaluations)
    if best.timesteps == step:
        _write_best(run_dir, checkpoint)
    _keep_recent(checkpoint)
    return checkpoint


def _resume_point(checkpoints: Path) -> Checkpoint | None:
    """The newest intact checkpoint; the files of later ones are removed.

    Later files are those of damaged checkpoints and of one a crash kept from being
    committed (no manifest yet); earlier ones are pruned as after a checkpoint (a
    crash may have come before). With none intact, every checkpoint file is removed
    and the run starts over.
    """
    committed = checkpoint_steps(checkpoints, manifests_only=True)
    checkpoint = latest_intact(checkpoints)
    steps = checkpoint_steps(checkpoints)
    if checkpoint is None and committed:
        warnings.warn(
            f"{checkpoints} holds no intact checkpoint; the run starts over",
            RunRecoveryWarning,
            stacklevel=3,
        )
    if checkpoint is not None:
        _keep_recent(checkpoint)
    elif steps:
        prune(checkpoints, keep=())
    return checkpoint


def _keep_recent(checkpoint: Checkpoint) -> None:
    """Delete the checkpoints other than ``checkpoint``, the one before it and the best.

    Those after ``checkpoint`` go too: they are damaged, or from a lost future.
    """
    directory = checkpoint.manifest.parent
    committed = checkpoint_steps(directory, manifests_only=True)
    recent = sorted(step for step in committed if step <= checkpoint.timesteps)[-2:]
    prune(directory, keep={*recent, checkpoint.timesteps, checkpoint.best.timesteps})


def _write_best(run_dir: Path, checkpoint: Checkpoint) -> None:
    """``best_model.*`` and ``best.json`` from the checkpoint of ``checkpoint.best``."""
    best = checkpoint.best
    if best.timesteps == checkpoint.timesteps:
        source = checkpoint
    else:
        try:
            source = read_checkpoint(manifest_path(run_dir / "checkpoints", best.timesteps))
        except (DamagedFileError, FileNotFoundError) as error:
            warnings.warn(f"{error}; best_model is left as it is", RunRecoveryWarning, stacklevel=3)
            return
    written = _copy_checkpoint_file(source, source.model, run_dir, BEST_MODEL)
    write_json(run_dir / "best.json", best.as_dict())
    for stale in run_dir.glob(f"{BEST_MODEL}*"):  # a best model saved in another format
        if stale != written and (stale.name == BEST_MODEL or stale.suffix):
            stale.unlink(missing_ok=True)


def _copy_checkpoint_file(checkpoint: Checkpoint, path: Path, run_dir: Path, stem: str) -> Path:
    """Copy a checkpoint file to ``<run_dir>/<stem><what follows step_N in its name>``."""
    tail = path.name[len(f"step_{checkpoint.timesteps}") :]
    return _copy_file(path, run_dir / f"{stem}{tail}")


def _copy_file(source: Path, target: Path) -> Path:
    def copy(stream: Any) -> None:
        with source.open("rb") as handle:
            shutil.copyfileobj(handle, stream)

    return replace_atomically(target, copy)


def _read_result(run_dir: Path) -> dict[str, Any] | None:
    """A complete run's ``result.json``, or ``None`` (with a warning) if it is damaged."""
    path = run_dir / "result.json"
    try:
        result = read_json(path)
        if not isinstance(result.get("timesteps"), int) or not isinstance(
            result.get("objective_mean"), int | float
        ):
            raise DamagedFileError(f"{path} is damaged: no timesteps and objective_mean")
    except (DamagedFileError, FileNotFoundError) as error:
        warnings.warn(
            f"{error}; the run is finished again from its last checkpoint",
            RunRecoveryWarning,
            stacklevel=3,
        )
        return None
    return result  # type: ignore[no-any-return]


def _read_meta(run_dir: Path) -> dict[str, Any]:
    """``meta.json`` of a run being resumed; rebuilt (with a warning) if damaged."""
    path = run_dir / "meta.json"
    try:
        return read_json(path)  # type: ignore[no-any-return]
    except (DamagedFileError, FileNotFoundError) as error:
        warnings.warn(f"{error}; its provenance is recorded anew", RunRecoveryWarning, stacklevel=3)
    return {**provenance(), "rebuilt": now_iso()}


def _first_missing(folder: Path) -> Path | None:
    """The outermost of ``folder`` and its parents that does not exist yet."""
    missing = None
    for path in (folder, *folder.parents):
        if path.exists():
            break
        missing = path
    return missing


def _remove_unstarted(run_dir: Path, first_created: Path, lock: FolderLock) -> None:
    """Remove a run folder this process created but did not get to start a run in.

    Its contents go while the lock is held, the lock file last; the folders only
    while empty (another writer may have taken a new lock in the meantime).
    """
    for path in run_dir.iterdir():
        if path.name == LOCK_FILE:
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    lock.release(remove=True)
    for path in (run_dir, *run_dir.parents):
        with contextlib.suppress(OSError):
            path.rmdir()  # only while empty
        if path == first_created:
            break


def _summary_writer(path: Path) -> Any:
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # pragma: no cover - tensorboard is a dependency
        return None
    return SummaryWriter(str(path))


_NOT_COMPARED = ("root", "device")
"""Config fields a run may change between sessions (where it is and what it runs on)."""


def _check_same_run(config: RunConfig) -> None:
    saved_file = config.run_dir / "config.yaml"
    if not saved_file.is_file():
        return
    current = _plain(asdict(config))
    saved = _read_config(saved_file)
    missing = [key for key in current if key not in saved]
    if missing:
        raise DamagedFileError(
            f"{saved_file} is damaged (no {', '.join(missing)}); remove the run folder "
            "to train the run afresh"
        )
    from shopfloor.envs import RetiredEnvError, check_env_id

    try:
        check_env_id(saved["env_id"])
    except RetiredEnvError as error:
        raise RetiredEnvError(
            f"{saved_file}: {error}; remove the run folder, or give this run another "
            "experiment or env name"
        ) from None
    differing = [key for key in current if key not in _NOT_COMPARED and saved[key] != current[key]]
    if differing:
        raise ValueError(
            f"{config.run_dir} holds a run with other {', '.join(differing)} (see its "
            "config.yaml); give this one another experiment or env name, or remove the folder"
        )


def _read_config(path: Path) -> dict[str, Any]:
    """A run's ``config.yaml`` as a mapping.

    Raises:
        DamagedFileError: It is not UTF-8 YAML of a mapping (a truncated or garbled
            file); the message names it.
    """
    try:
        saved = yaml.safe_load(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError, RecursionError) as error:
        mark = getattr(error, "problem_mark", None)
        where = "" if mark is None else f" at line {mark.line + 1}"
        raise DamagedFileError(
            f"{path} is damaged (not valid YAML{where}); remove the run folder to train "
            "the run afresh"
        ) from None
    if not isinstance(saved, dict):
        raise DamagedFileError(
            f"{path} is damaged (not a mapping of settings); remove the run folder to train "
            "the run afresh"
        )
    return saved


def _plain(value: Any) -> Any:
    """YAML-safe copy (tuples to lists, non-finite floats to strings)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value
