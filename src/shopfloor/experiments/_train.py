"""One training run: train in chunks, evaluate, checkpoint, resume after a crash."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import yaml

from shopfloor.agents._device import check_device_name
from shopfloor.experiments._folders import (
    BEST_MODEL,
    DONE,
    check_folder_name,
    command_line,
    now_iso,
    provenance,
    read_csv,
    write_atomic,
    write_csv,
    write_json,
)
from shopfloor.experiments._spec import FORECAST_KEY, ForecastSettings

PROGRESS_FIELDS = ("timesteps", "episodes", "episode_reward", "wall_time")
EVAL_FIELDS = ("timesteps", "objective_mean", "objective_std", "reward_mean", "objectives")


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
    from shopfloor.envs.dynamic_job_shop import DynamicJobShopEnv
    from shopfloor.forecast import (
        ArrivalForecastObservation,
        ForecasterConfig,
        ForecastObservation,
        train_arrival_forecaster,
        train_forecaster_for,
    )

    settings.check_env(env_id)
    arrivals = isinstance(env.unwrapped, DynamicJobShopEnv)
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


def evaluate(
    policy: Any, env: gym.Env, seeds: Sequence[int], deterministic: bool = True
) -> tuple[list[float], list[float]]:
    """Objective and total reward of one episode per seed under the shared protocol.

    Non-learning policies with ``bind`` are bound to ``env`` first.
    """
    if hasattr(policy, "bind"):
        policy = policy.bind(env)
    objectives, rewards = [], []
    unwrapped = env.unwrapped
    for seed in seeds:
        observation, _ = env.reset(seed=seed)
        total, done = 0.0, False
        while not done:
            masks = unwrapped.action_masks()  # type: ignore[attr-defined]
            action, _ = policy.predict(observation, deterministic=deterministic, action_masks=masks)
            observation, reward, terminated, truncated, _ = env.step(action)
            total += float(reward)
            done = terminated or truncated
        objectives.append(unwrapped.episode_objective())  # type: ignore[attr-defined]
        rewards.append(total)
    return objectives, rewards


def execute_run(config: RunConfig) -> RunOutcome:
    """Train one run to its budget, resuming from its last checkpoint if interrupted.

    A run folder with ``DONE`` is returned as is.

    Raises:
        ValueError: The folder holds a run of other settings (its ``config.yaml``
            differs in what is trained), which would otherwise be skipped or resumed.
    """
    from shopfloor.agents import load_agent, make_agent

    run_dir = config.run_dir
    _check_same_run(config)
    started = time.perf_counter()
    if (run_dir / DONE).is_file():
        result = json.loads((run_dir / "result.json").read_text())
        return RunOutcome(str(run_dir), "done", result["timesteps"], result["objective_mean"], 0.0)
    checkpoints = run_dir / "checkpoints"
    latest = checkpoints / "latest.json"
    env_factory = config.env_factory()
    tensorboard = run_dir / "tensorboard"
    if latest.is_file():
        pointer = json.loads(latest.read_text())
        agent = load_agent(
            run_dir / pointer["path"],
            config.agent,
            env_factory,
            config.hyperparameters,
            config.seed,
            config.device,
            tensorboard,
        )
        done_steps = int(pointer["timesteps"])
        progress: list[dict[str, Any]] = [
            r for r in read_csv(run_dir / "progress.csv") if int(r["timesteps"]) <= done_steps
        ]
        evaluations: list[dict[str, Any]] = [
            r for r in read_csv(run_dir / "eval.csv") if int(r["timesteps"]) <= done_steps
        ]
        wall_offset = float(pointer.get("wall_time", 0.0))
        status = "resumed"
        meta = json.loads((run_dir / "meta.json").read_text())
        meta["resumed"] = [*meta.get("resumed", []), now_iso()]
    else:
        agent = make_agent(
            config.agent,
            env_factory,
            config.hyperparameters,
            config.seed,
            config.device,
            tensorboard,
        )
        progress, evaluations = [], []
        wall_offset, status = 0.0, "trained"
        meta = provenance()
        run_dir.mkdir(parents=True, exist_ok=True)  # once the agent and env are built
        write_atomic(
            run_dir / "config.yaml", yaml.safe_dump(_plain(asdict(config)), sort_keys=False)
        )
        write_atomic(run_dir / "command.txt", command_line() + "\n")
    write_json(run_dir / "meta.json", meta)

    eval_env = env_factory()
    writer = _summary_writer(tensorboard / "shopfloor")

    def evaluate_now() -> None:
        objectives, rewards = evaluate(agent, eval_env, config.eval_seeds)
        row: dict[str, Any] = {
            "timesteps": agent.num_timesteps,
            "objective_mean": float(np.mean(objectives)),
            "objective_std": float(np.std(objectives)),
            "reward_mean": float(np.mean(rewards)),
            "objectives": " ".join(f"{o:.6g}" for o in objectives),
        }
        evaluations.append(row)
        if writer is not None:
            writer.add_scalar("eval/objective_mean", row["objective_mean"], agent.num_timesteps)
        earlier = [float(r["objective_mean"]) for r in evaluations[:-1]]
        tracked = (run_dir / "best.json").is_file()  # not in folders from older versions
        if not tracked or not earlier or row["objective_mean"] < min(earlier):
            agent.save(run_dir / BEST_MODEL)  # the best model so far
            best = {"timesteps": row["timesteps"], "objective_mean": row["objective_mean"]}
            write_json(run_dir / "best.json", best)

    def on_step(info: dict[str, Any]) -> bool:
        if info["episode_reward"] is not None:
            progress.append(
                {
                    "timesteps": info["num_timesteps"],
                    "episodes": len(progress) + 1,  # across chunks and resumes
                    "episode_reward": info["episode_reward"],
                    "wall_time": round(wall_offset + time.perf_counter() - started, 3),
                }
            )
            if writer is not None:
                writer.add_scalar(
                    "train/episode_reward", info["episode_reward"], info["num_timesteps"]
                )
        return True

    if not evaluations:
        evaluate_now()
    while agent.num_timesteps < config.budget:
        chunk = min(config.eval_every, config.budget - agent.num_timesteps)
        agent.learn(chunk, callback=on_step, budget=config.budget)
        evaluate_now()
        _checkpoint(
            agent, run_dir, progress, evaluations, wall_offset + time.perf_counter() - started
        )
    if writer is not None:
        writer.close()
    agent.save(run_dir / "model")
    final = evaluations[-1]
    result = {
        "timesteps": agent.num_timesteps,
        "objective_mean": float(final["objective_mean"]),
        "objective_std": float(final["objective_std"]),
        "objectives": [float(x) for x in str(final["objectives"]).split()],
        "objective": eval_env.unwrapped.objective_name,  # type: ignore[attr-defined]
        "eval_seeds": list(config.eval_seeds),
        "wall_time": wall_offset + time.perf_counter() - started,
        "best": json.loads((run_dir / "best.json").read_text()),
    }
    write_csv(run_dir / "progress.csv", PROGRESS_FIELDS, progress)
    write_csv(run_dir / "eval.csv", EVAL_FIELDS, evaluations)
    # The event log of the final policy's last evaluation episode (for Gantt charts).
    eval_env.unwrapped.factory.write_event_log(run_dir / "eval_events.csv")  # type: ignore[attr-defined]
    write_json(run_dir / "result.json", result)
    meta["finished"] = now_iso()
    write_json(run_dir / "meta.json", meta)
    write_atomic(run_dir / DONE, "")
    return RunOutcome(
        str(run_dir), status, agent.num_timesteps, result["objective_mean"], result["wall_time"]
    )


def _checkpoint(
    agent: Any, run_dir: Path, progress: list[Any], evaluations: list[Any], wall_time: float
) -> None:
    """Save the agent, the CSVs, then move the ``latest.json`` pointer (the commit point)."""
    checkpoints = run_dir / "checkpoints"
    checkpoints.mkdir(parents=True, exist_ok=True)
    saved = agent.save(checkpoints / f"step_{agent.num_timesteps}")
    if hasattr(agent, "save_replay_buffer"):  # off-policy SB3 agents resume with their buffer
        agent.save_replay_buffer(checkpoints / f"step_{agent.num_timesteps}")
    write_csv(run_dir / "progress.csv", PROGRESS_FIELDS, progress)
    write_csv(run_dir / "eval.csv", EVAL_FIELDS, evaluations)
    pointer = {
        "timesteps": agent.num_timesteps,
        "path": str(Path(saved).relative_to(run_dir).with_suffix("")),
        "wall_time": wall_time,
    }
    write_json(checkpoints / "latest.json", pointer)
    for old in checkpoints.glob("step_*"):  # keep the latest two
        step = int(old.name.split("_")[1].split(".")[0])
        if step < agent.num_timesteps and not _recent(step, checkpoints):
            old.unlink(missing_ok=True)


def _recent(step: int, checkpoints: Path) -> bool:
    steps = sorted({int(p.name.split("_")[1].split(".")[0]) for p in checkpoints.glob("step_*")})
    return step in steps[-2:]


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
    saved = yaml.safe_load(saved_file.read_text())
    current = _plain(asdict(config))
    differing = [
        key
        for key in current
        if key not in _NOT_COMPARED and (saved or {}).get(key) != current[key]
    ]
    if differing:
        raise ValueError(
            f"{config.run_dir} holds a run with other {', '.join(differing)} (see its "
            "config.yaml); give this one another experiment or env name, or remove the folder"
        )


def _plain(value: Any) -> Any:
    """YAML-safe copy (tuples to lists, non-finite floats to strings)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value
