"""Hyperparameters from ``agents/<algorithm>.yaml``, keyed by env id with a default.

As in rl-baselines3-zoo, one YAML per algorithm maps env ids to settings, with a
``default:`` entry merged under every id. Values are data only: activation functions
and schedules are named (``activation_fn: tanh``, ``learning_rate: {linear: [3e-4, 0]}``)
and resolved from a fixed table; nothing is evaluated. Unknown keys are errors that
name the file and the key.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from torch import nn

from shopfloor._yaml import YAMLInputError, read_yaml, short_repr

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "elu": nn.ELU,
    "leaky_relu": nn.LeakyReLU,
    "gelu": nn.GELU,
}
# Rule-choice start (see SB3Agent): the keys an algorithm with ``prior_rule`` accepts.
PRIOR_KEYS = frozenset({"prior_rule", "prior_logit"})
# Keys the runner reads itself (not passed to the algorithm's constructor).
RUNNER_KEYS = frozenset({"n_envs", "vec_env", "env_kwargs", "policy"}) | PRIOR_KEYS


class AgentConfigError(ValueError):
    """A hyperparameter file or entry is malformed; the message names file and key."""


def agents_dir() -> Path:
    """The top-level ``agents/`` directory (``$SHOPFLOOR_AGENTS_DIR`` overrides)."""
    override = os.environ.get("SHOPFLOOR_AGENTS_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[3] / "agents"


def load_hyperparameters(
    algorithm: str, *keys: str, directory: str | os.PathLike[str] | None = None
) -> dict[str, Any]:
    """The resolved hyperparameters of ``algorithm`` for an env.

    Args:
        algorithm: A registered algorithm (see :data:`~shopfloor.agents.ALGORITHMS`).
        keys: Entries merged over ``default`` in order, e.g. the env id
            (``shopfloor/DynamicJobShop-v1``) then the experiment's env name.
        directory: Where the YAML files are (default :func:`agents_dir`).

    Returns:
        A plain mapping (schedules and activations still by name).

    Raises:
        AgentConfigError: Unknown algorithm, missing/malformed file, unknown key.
    """
    from shopfloor.agents._algorithms import ALGORITHMS

    registered = ALGORITHMS.resolve(algorithm)
    path = Path(directory or agents_dir()) / f"{algorithm}.yaml"
    if not path.is_file():
        raise AgentConfigError(f"{path}: no hyperparameter file for {algorithm!r}")
    try:
        data = read_yaml(path)
    except YAMLInputError as error:
        raise AgentConfigError(f"{path}: {error}") from None
    except OSError as error:
        raise AgentConfigError(f"{path}: cannot read the file: {error.strerror or error}") from None
    if not isinstance(data, dict) or "default" not in data:
        raise AgentConfigError(f"{path}: must be a mapping with a 'default' entry")
    for key, entry in data.items():
        if not isinstance(entry, dict):
            raise AgentConfigError(f"{path}: entry {short_repr(key)} must be a mapping")
    resolved = dict(data["default"])
    for key in keys:
        resolved.update(data.get(key, {}))
    _check_keys(registered, resolved, path)
    return resolved


def _check_keys(entry: Any, values: Mapping[str, Any], path: Path) -> None:
    """Refuse keys ``entry`` (an :class:`~shopfloor.agents.Algorithm`) does not take."""
    from shopfloor.agents._algorithms import ALGORITHMS

    algorithm = entry.name
    allowed = set(entry.hyperparameter_keys())
    priors = PRIOR_KEYS & set(values)
    if priors and not entry.prior_rule:
        takers = " and ".join(ALGORITHMS.names(prior_rule=True)) or "no algorithm"
        raise AgentConfigError(f"{path}: {sorted(priors)} are for {takers}, not {algorithm}")
    unknown = set(values) - allowed - RUNNER_KEYS
    if unknown:
        raise AgentConfigError(
            f"{path}: unknown key(s) {sorted(unknown)} for {algorithm}; allowed: {sorted(allowed)}"
        )
    n_envs = values.get("n_envs", 1)
    if isinstance(n_envs, bool) or not isinstance(n_envs, int) or n_envs < 1:
        raise AgentConfigError(f"{path}: n_envs must be a positive integer, got {n_envs!r}")
    if values.get("vec_env", "dummy") not in ("dummy", "subproc"):
        raise AgentConfigError(
            f"{path}: vec_env must be 'dummy' or 'subproc', got {values['vec_env']!r}"
        )


def build_config(
    cls: Callable[..., Any], algorithm: str, hyperparameters: Mapping[str, Any]
) -> Any:
    """``cls(**hyperparameters)``, its refusals named by the agent file."""
    try:
        return cls(**dict(hyperparameters))
    except (TypeError, ValueError) as error:
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise AgentConfigError(f"agents/{algorithm}.yaml: {first[:300]}") from None


def resolve_values(values: Mapping[str, Any], where: str = "") -> dict[str, Any]:
    """Turn named schedules and activations into objects SB3 accepts."""
    resolved: dict[str, Any] = {}
    for key, value in values.items():
        if key in RUNNER_KEYS:
            continue
        if isinstance(value, dict) and set(value) == {"linear"}:
            resolved[key] = _linear(value["linear"], f"{where}{key}")
        elif key == "policy_kwargs":
            resolved[key] = _policy_kwargs(value, f"{where}{key}")
        else:
            resolved[key] = value
    return resolved


def _linear(bounds: Any, where: str) -> Callable[[float], float]:
    if not (isinstance(bounds, list) and len(bounds) == 2):
        raise AgentConfigError(f"{where}: linear schedule needs [start, end], got {bounds!r}")
    start, end = float(bounds[0]), float(bounds[1])

    def schedule(progress_remaining: float) -> float:
        return end + (start - end) * progress_remaining

    return schedule


def _policy_kwargs(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise AgentConfigError(f"{where}: must be a mapping, got {value!r}")
    kwargs = dict(value)
    if "activation_fn" in kwargs:
        name = kwargs["activation_fn"]
        if name not in ACTIVATIONS:
            raise AgentConfigError(
                f"{where}.activation_fn: unknown {name!r}; choose from {sorted(ACTIVATIONS)}"
            )
        kwargs["activation_fn"] = ACTIVATIONS[name]
    if "net_arch" in kwargs:
        _check_net_arch(kwargs["net_arch"], f"{where}.net_arch")
    return kwargs


def _check_net_arch(value: Any, where: str) -> None:
    """SB3's ``net_arch``: layer widths >= 1, as a list or as ``{pi: [...], vf: [...]}``."""
    lists = list(value.values()) if isinstance(value, dict) else [value]
    keys_ok = not isinstance(value, dict) or set(value) <= {"pi", "vf", "qf"}
    for widths in lists:
        if (
            not keys_ok
            or not isinstance(widths, list)
            or not all(
                isinstance(w, int) and not isinstance(w, bool) and 1 <= w <= 65536 for w in widths
            )
        ):
            raise AgentConfigError(
                f"{where}: expected layer widths from 1 to 65,536 (a list, or pi/vf/qf "
                f"lists), got {str(value)[:80]}"
            )
