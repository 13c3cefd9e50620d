"""Run folders: layout, atomic writes, strict reads and provenance.

``experiments/runs/<experiment>/<env>/<agent>/seed_<n>/`` holds::

    .lock           the lock of the process writing the folder (one writer at a time)
    config.yaml     the resolved configuration of the run
    command.txt     the command that started it
    meta.json       package version, git revision, library versions, start/end times
    progress.csv    one row per finished training episode (timesteps, reward, wall time)
    eval.csv        one row per evaluation on the held-out seeds (the first at step 0)
    tensorboard/    TensorBoard events
    checkpoints/    step_<N>.*: the agent at step N (DQN: with its replay buffer; the
                    final one: with eval_events.csv) and step_<N>.json, its manifest,
                    written last (rows so far, best evaluation, checksums of the files);
                    the last two checkpoints and the best one are kept
    model.*         the final model (a copy of the last checkpoint's)
    best_model.*    the model of the best evaluation so far (best.json: its step and
                    score), a copy of that step's checkpoint
    eval_events.csv event log of the final policy's last evaluation episode
    result.json     final evaluation
    DONE            written last: the run is complete and is never redone

Every file is written to a temporary name and renamed into place, so a crash leaves
the previous version, never half a file; a restarted run removes the temporaries a
crash left behind. A run resumes from the newest checkpoint whose manifest parses and
whose files match their checksums, reading its rows from that manifest (the CSV files
are outputs, rewritten from it); a damaged checkpoint is named in a warning and the
one before it used. A run found complete but for its last files (a crash after the
final checkpoint, or a damaged ``result.json``) is finished again from that checkpoint.
``experiments/runs/<experiment>/.lock`` is held by ``shopfloor run`` for the whole
experiment.
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


class DamagedFileError(ValueError):
    """A file of a run folder cannot be read as what it should be (the message names it)."""


class RunRecoveryWarning(UserWarning):
    """A run found a damaged file and recovered without it (the message names it)."""


def read_csv(path: Path, numbers: Sequence[str] = ()) -> list[dict[str, str]]:
    """Rows of a CSV file ([] when it does not exist), every row complete.

    Args:
        path: The file.
        numbers: Columns that must be there and hold a number in every row.

    Raises:
        DamagedFileError: A row has too few or too many fields (a truncated or
            garbled file), a ``numbers`` column is missing or holds no number, or the
            file is not UTF-8 text.
    """
    if not path.is_file():
        return []
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            rows = list(reader)
            header = reader.fieldnames or []
    except (UnicodeDecodeError, csv.Error) as error:
        raise DamagedFileError(f"{path} is damaged: {error}") from None
    missing = [name for name in numbers if name not in header]
    if missing:
        raise DamagedFileError(f"{path} is damaged: no column {', '.join(missing)}")
    for line, row in enumerate(rows, start=2):
        if None in row or None in row.values():
            raise DamagedFileError(
                f"{path} is damaged: line {line} does not have the {len(header)} fields "
                "of the header"
            )
        for name in numbers:
            try:
                float(row[name])
            except ValueError:
                raise DamagedFileError(
                    f"{path} is damaged: line {line} has {name} {row[name]!r}, not a number"
                ) from None
    return rows


def read_json(path: Path, kind: type = dict) -> Any:
    """The JSON value in ``path``, which must be a ``kind`` (an object by default).

    Raises:
        FileNotFoundError: There is no ``path``.
        DamagedFileError: It is not UTF-8 JSON, or not a ``kind``.
    """
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise DamagedFileError(f"{path} is damaged: {error}") from None
    if not isinstance(data, kind):
        raise DamagedFileError(f"{path} is damaged: it holds no JSON {kind.__name__}")
    return data


def is_temporary(name: str) -> bool:
    """Whether a file name is a temporary file of an interrupted write.

    ``.<name>.<random>.tmp`` (:func:`~shopfloor._atomic.replace_atomically`),
    ``<name>.tmp`` and ``<stem>.tmp.<ext>`` (a model saved under a temporary name).
    """
    return name.endswith(".tmp") or ".tmp." in name


def remove_temporaries(*folders: Path) -> list[Path]:
    """Delete the temporary files an interrupted run left in ``folders``; returns them.

    Only the holder of the folder's lock may call this: the temporaries of a live
    writer are not told apart from a dead one's.
    """
    removed = []
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if is_temporary(path.name) and path.is_file():
                path.unlink(missing_ok=True)
                removed.append(path)
    return removed


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


FORECAST_RUNS = Path("experiments/runs/forecast")
"""Where ``shopfloor forecast train`` puts a forecaster by default (relative to the cwd)."""


def forecast_run_dir(
    source: str | os.PathLike[str],
    seed: int,
    out: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
) -> Path:
    """The folder of a forecaster trained on ``source``: ``out``, or its default.

    The default is ``experiments/runs/forecast/<source name>/seed_<seed>`` (the source
    named as :func:`~shopfloor.forecast.source_name` names it).

    Raises:
        ValueError: The folder already holds a trained forecaster (``model.pt``) and
            ``overwrite`` is false.
    """
    from shopfloor.forecast import source_name

    folder = Path(out) if out is not None else FORECAST_RUNS / source_name(source) / f"seed_{seed}"
    if (folder / "model.pt").exists() and not overwrite:
        raise ValueError(
            f"{folder} already holds a trained forecaster; give another --out, or "
            "replace it with --overwrite"
        )
    return folder


def forecast_eval_dir(
    model: str | os.PathLike[str],
    source: str | os.PathLike[str],
    out: str | os.PathLike[str] | None = None,
) -> Path:
    """Where a saved forecaster's evaluation on ``source`` goes: ``out``, or beside the model.

    The default is ``<the model's folder>/eval_<source name>``.
    """
    from shopfloor.forecast import source_name

    return Path(out) if out is not None else Path(model).parent / f"eval_{source_name(source)}"
