"""Run folders: layout, atomic writes and provenance.

``experiments/runs/<experiment>/<env>/<agent>/seed_<n>/`` holds::

    config.yaml     the resolved configuration of the run
    command.txt     the command that started it
    meta.json       package version, git revision, library versions, start/end times
    progress.csv    one row per finished training episode (timesteps, reward, wall time)
    eval.csv        one row per evaluation on the held-out seeds
    tensorboard/    TensorBoard events
    checkpoints/    the last two checkpoints (DQN: with its replay buffer) and latest.json
                    (the one to resume from)
    model.*         the final model
    best_model.*    the model of the best evaluation so far (best.json: its step and score)
    eval_events.csv event log of the final policy's last evaluation episode
    result.json     final evaluation
    DONE            written last: the run is complete and is never redone

Every file is written to a temporary name and renamed into place, so a crash leaves
the previous version, never half a file.
"""

from __future__ import annotations

import csv
import io
import json
import os
import platform
import re
import shlex
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from shopfloor import __version__
from shopfloor._atomic import replace_atomically

DONE = "DONE"
BEST_MODEL = "best_model"

_FOLDER_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+=-]*")


def check_folder_name(what: str, name: str) -> str:
    """Return ``name`` if it is one safe folder name, else raise ``ValueError`` naming ``what``.

    Letters, digits and ``_ . + = -``, not starting with ``.`` or ``-``: no path
    separators, so a run folder stays under its root.
    """
    if not isinstance(name, str) or not _FOLDER_NAME.fullmatch(name):
        raise ValueError(
            f"{what} {name!r} is not a folder name: use letters, digits and _ . + = - "
            "(no path separators, not starting with . or -)"
        )
    return name


def write_atomic(path: Path, text: str) -> Path:
    """Write ``text`` to a temporary file next to ``path``, then rename it over ``path``."""
    return replace_atomically(path, lambda stream: stream.write(text.encode("utf-8")))


def write_csv(path: Path, fields: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> Path:
    """Write rows as CSV, atomically."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(fields), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return write_atomic(path, buffer.getvalue())


def read_csv(path: Path) -> list[dict[str, str]]:
    """Rows of a CSV file ([] when it does not exist)."""
    if not path.is_file():
        return []
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def write_json(path: Path, data: Any) -> Path:
    """Write JSON, atomically."""
    return write_atomic(path, json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def git_revision() -> str | None:
    """The git commit of the source tree, when it is a checkout."""
    root = Path(__file__).resolve().parents[3]
    try:
        result = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None


def provenance() -> dict[str, Any]:
    """Versions and revision recorded in every run's ``meta.json``."""
    import gymnasium
    import numpy
    import simpy
    import stable_baselines3
    import torch

    return {
        "shopfloor": __version__,
        "git_revision": git_revision(),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "simpy": simpy.__version__,
        "gymnasium": gymnasium.__version__,
        "torch": torch.__version__,
        "stable_baselines3": stable_baselines3.__version__,
        "mkl_cbwr": os.environ.get("MKL_CBWR"),  # MKL's code path: results depend on it
        "cpu_count": os.cpu_count(),
        "started": now_iso(),
    }


def now_iso() -> str:
    """Current UTC time, ISO format."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def command_line() -> str:
    """The command that started this process."""
    return shlex.join([Path(sys.argv[0]).name, *sys.argv[1:]])
