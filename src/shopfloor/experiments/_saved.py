"""A trained agent loaded from its run folder, usable wherever a policy is."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from shopfloor._yaml import YAMLInputError, read_yaml
from shopfloor.agents import ALGORITHMS, TrainedAgent, load_trained_agent
from shopfloor.envs import RetiredEnvError, check_env_id
from shopfloor.experiments._train import make_env_factory

SOURCE_KEYS = ("scenario", "instance", "spec", "generator")
BEST_SUFFIX = ":best"


class SavedAgent:
    """The final model of a run folder behind the shared ``predict`` protocol.

    Args:
        run_dir: A run folder (``config.yaml`` and ``model.*`` inside); ``<folder>:best``
            names the model of its best evaluation (``best_model.*``) instead.

    Attributes:
        algorithm: The agent's algorithm.
        agent: The loaded agent (its spaces and ``predict``).
        env_options: The training env's arguments other than its factory source
            (action mode, rules, slots ...), which an evaluation env must share.

    Raises:
        FileNotFoundError: No run folder, config or model at ``run_dir`` (named).
    """

    def __init__(self, run_dir: str | os.PathLike[str]):
        model_name = "model"
        if str(run_dir).endswith(BEST_SUFFIX):
            run_dir, model_name = str(run_dir)[: -len(BEST_SUFFIX)], "best_model"
        self.run_dir = Path(run_dir)
        config_path = self.run_dir / "config.yaml"
        if not config_path.is_file():
            raise FileNotFoundError(
                f"{self.run_dir} is not a run folder: no config.yaml "
                "(train one with shopfloor train)"
            )
        config = _read_config(config_path)
        self.algorithm = config["agent"]
        self.env_id = config["env_id"]
        env_kwargs = dict(config.get("env_kwargs") or {})
        self.env_options = {k: v for k, v in env_kwargs.items() if k not in SOURCE_KEYS}
        self.name = f"{self.algorithm}@{self.run_dir.name}"
        model = self.run_dir / model_name
        env_factory = make_env_factory(self.env_id, env_kwargs)
        hyperparameters = config.get("hyperparameters") or {}
        if not isinstance(hyperparameters, dict):
            raise ValueError(f"{config_path}: hyperparameters must be a mapping")
        self.agent: TrainedAgent = load_trained_agent(
            model, self.algorithm, env_factory, hyperparameters, device="cpu"
        )

    @property
    def observation_space(self) -> Any:
        """The observations the agent was trained on."""
        return self.agent.observation_space

    @property
    def action_space(self) -> Any:
        """The actions the agent was trained to answer."""
        return self.agent.action_space

    @property
    def acts_on_any_size(self) -> bool:
        """Whether it acts in shops of other sizes than its training shop (JobScoringPolicy)."""
        return self.agent.acts_on_any_size

    def __repr__(self) -> str:
        return f"SavedAgent({str(self.run_dir)!r}, algorithm={self.algorithm!r})"

    def predict(
        self,
        observation: np.ndarray,
        deterministic: bool = True,
        action_masks: np.ndarray | None = None,
    ) -> tuple[Any, Any]:
        """The shared protocol.

        A MaskablePPO agent with ``JobScoringPolicy`` also acts in JobShops of other
        sizes than it was trained on; any other agent needs its training size.

        Raises:
            ValueError: An observation of another size than the agent's, which only a
                ``JobScoringPolicy`` agent can read (the message names the run).
        """
        shape = self.agent.observation_space.shape
        if np.shape(observation) != shape and (action_masks is None or not self.acts_on_any_size):
            raise ValueError(
                f"{self.run_dir}: the agent reads observations of shape {shape}, got "
                f"{np.shape(observation)}; only JobScoringPolicy agents act on other "
                "shop sizes"
            )
        return self.agent.predict(
            observation, deterministic=deterministic, action_masks=action_masks
        )


def is_run_folder(name: str | os.PathLike[str]) -> bool:
    """Whether ``name`` is a path to a run folder (or ``<run folder>:best``)."""
    name = str(name)
    if name.endswith(BEST_SUFFIX):
        name = name[: -len(BEST_SUFFIX)]
    return (Path(name) / "config.yaml").is_file()


def _read_config(path: Path) -> dict[str, Any]:
    """A run's ``config.yaml``, checked for what loading its agent needs.

    Raises:
        ValueError: Unreadable, damaged or missing a field (file and field named).
    """
    try:
        config = read_yaml(path)
    except YAMLInputError as error:
        raise ValueError(f"{path} is damaged: {error}") from None
    if not isinstance(config, dict):
        raise ValueError(f"{path} is damaged: not a mapping of run settings")
    for key in ("agent", "env_id"):
        if not isinstance(config.get(key), str):
            raise ValueError(f"{path} is damaged: {key} is missing or not a string")
    try:
        check_env_id(config["env_id"])
    except RetiredEnvError as error:
        raise RetiredEnvError(f"{path}: the run's env {error}") from None
    if config["agent"] not in ALGORITHMS:
        raise ValueError(
            f"{path}: agent {config['agent'][:40]!r} is not one of {', '.join(ALGORITHMS)}"
        )
    if not isinstance(config.get("env_kwargs") or {}, dict):
        raise ValueError(f"{path} is damaged: env_kwargs must be a mapping")
    return config
