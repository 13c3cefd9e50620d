"""Checkpoints of a training run: the agent's files, then a manifest that commits them.

A checkpoint at step N is a set of files in ``<run>/checkpoints/``: the agent as
``agent.save`` names it (``step_N.npz``, ``step_N.zip`` ...), an off-policy agent's
replay buffer, for the final checkpoint the event log of the last evaluation episode,
and ``step_N.json``, the manifest, written last. The manifest holds the run's rows so
far (training episodes and evaluations), the best evaluation so far and the size and
SHA-256 of every file, so a checkpoint is self-contained: a run resumes from a
manifest alone, and a manifest that does not parse, or whose files do not match it,
is detected and passed over for the one before it.
"""

from __future__ import annotations

import hashlib
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shopfloor.experiments._folders import (
    DamagedFileError,
    RunRecoveryWarning,
    read_json,
    write_json,
)

FORMAT = "shopfloor-checkpoint"
VERSION = 1

PROGRESS_TYPES: dict[str, type] = {
    "timesteps": int,
    "episodes": int,
    "episode_reward": float,
    "wall_time": float,
}
"""The columns of ``progress.csv`` and their types, in order."""

EVAL_TYPES: dict[str, type] = {
    "timesteps": int,
    "objective_mean": float,
    "objective_std": float,
    "reward_mean": float,
    "objectives": str,
}
"""The columns of ``eval.csv`` and their types, in order."""

_STEP_FILE = re.compile(r"step_(\d+)(\..*)?")
_MANIFEST = re.compile(r"step_(\d+)\.json")
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Best:
    """The best evaluation so far: its step and mean objective."""

    timesteps: int
    objective_mean: float

    def as_dict(self) -> dict[str, Any]:
        """As written to ``best.json``."""
        return {"timesteps": self.timesteps, "objective_mean": self.objective_mean}


@dataclass(frozen=True)
class Checkpoint:
    """A committed checkpoint, as its manifest describes it.

    Attributes:
        manifest: The manifest file (``checkpoints/step_N.json``).
        timesteps: N, the agent's steps when it was saved.
        wall_time: Seconds of training up to it, over all sessions.
        model: The agent file (what ``agent.save`` returned).
        files: Every file of the checkpoint by name: ``{"sha256", "size"}``.
        progress: ``progress.csv``'s rows so far.
        evaluations: ``eval.csv``'s rows so far (the last one at N).
        best: The best evaluation so far.
        events: The event log of the last evaluation episode (final checkpoint only).
    """

    manifest: Path
    timesteps: int
    wall_time: float
    model: Path
    files: dict[str, dict[str, Any]]
    progress: list[dict[str, Any]]
    evaluations: list[dict[str, Any]]
    best: Best
    events: Path | None = None

    def verify(self) -> Checkpoint:
        """Check every file against its size and checksum; returns ``self``.

        Raises:
            DamagedFileError: A file is missing, or has another size or checksum.
        """
        for name, expected in self.files.items():
            path = self.manifest.parent / name
            if not path.is_file():
                raise DamagedFileError(f"{path} is missing (listed in {self.manifest})")
            size = path.stat().st_size
            if size != expected["size"] or file_sha256(path) != expected["sha256"]:
                raise DamagedFileError(
                    f"{path} is damaged: its size or checksum is not the one in "
                    f"{self.manifest.name} ({size} bytes, {expected['size']} expected)"
                )
        return self


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, in hex."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def manifest_path(directory: Path, timesteps: int) -> Path:
    """``<directory>/step_<timesteps>.json``."""
    return directory / f"step_{timesteps}.json"


def commit_checkpoint(
    directory: Path,
    timesteps: int,
    files: Sequence[Path],
    model: Path,
    progress: Sequence[Mapping[str, Any]],
    evaluations: Sequence[Mapping[str, Any]],
    best: Best,
    wall_time: float,
    events: Path | None = None,
) -> Checkpoint:
    """Write the manifest of the files already saved for step ``timesteps``.

    Args:
        directory: The ``checkpoints/`` folder.
        timesteps: The agent's steps.
        files: Every file of the checkpoint (in ``directory``, named ``step_<N>...``).
        model: The one of ``files`` to load the agent from.
        progress: Training rows so far.
        evaluations: Evaluation rows so far.
        best: The best evaluation so far.
        wall_time: Seconds of training so far.
        events: The one of ``files`` holding the final evaluation's event log.

    Returns:
        The checkpoint, committed: its manifest is in place.
    """
    digests = {
        path.name: {"sha256": file_sha256(path), "size": path.stat().st_size} for path in files
    }
    data = {
        "format": FORMAT,
        "version": VERSION,
        "timesteps": int(timesteps),
        "wall_time": float(wall_time),
        "model": model.name,
        "events": None if events is None else events.name,
        "files": digests,
        "best": best.as_dict(),
        "progress": [dict(row) for row in progress],
        "evaluations": [dict(row) for row in evaluations],
    }
    path = manifest_path(directory, timesteps)
    checkpoint = _parse(path, data)  # what is written is what a resume will accept
    write_json(path, data)
    return checkpoint


def read_checkpoint(path: Path) -> Checkpoint:
    """The checkpoint whose manifest is ``path``, its files verified.

    Raises:
        DamagedFileError: The manifest does not parse as one (naming it), or one of its
            files is missing or does not match it (naming that file).
        FileNotFoundError: There is no ``path``.
    """
    return _parse(path, read_json(path)).verify()


def latest_intact(directory: Path) -> Checkpoint | None:
    """The newest checkpoint in ``directory`` that is intact, else ``None``.

    A damaged one is named in a :class:`RunRecoveryWarning` and passed over.
    """
    for step in sorted(checkpoint_steps(directory, manifests_only=True), reverse=True):
        path = manifest_path(directory, step)
        try:
            return read_checkpoint(path)
        except (DamagedFileError, FileNotFoundError) as error:
            warnings.warn(
                f"{error}; checkpoint {path.name} passed over for an earlier one",
                RunRecoveryWarning,
                stacklevel=2,
            )
    return None


def checkpoint_steps(directory: Path, manifests_only: bool = False) -> set[int]:
    """The steps of the checkpoint files in ``directory`` (of their manifests only)."""
    if not directory.is_dir():
        return set()
    pattern = _MANIFEST if manifests_only else _STEP_FILE
    return {
        int(match.group(1))
        for path in directory.iterdir()
        if (match := pattern.fullmatch(path.name)) is not None
    }


def prune(directory: Path, keep: Iterable[int]) -> None:
    """Delete the checkpoints of steps not in ``keep`` (manifests first)."""
    kept = set(keep)
    doomed = [
        path
        for path in directory.iterdir()
        if (match := _STEP_FILE.fullmatch(path.name)) is not None
        and int(match.group(1)) not in kept
    ]
    for path in sorted(doomed, key=lambda p: _MANIFEST.fullmatch(p.name) is None):
        path.unlink(missing_ok=True)


def _parse(path: Path, data: Any) -> Checkpoint:
    """A :class:`Checkpoint` from a manifest's JSON, checked field by field."""

    def damaged(reason: str) -> DamagedFileError:
        return DamagedFileError(f"{path} is damaged: {reason}")

    if not isinstance(data, dict):
        raise damaged("it holds no JSON object")
    if data.get("format") != FORMAT or data.get("version") != VERSION:
        raise damaged(f"format {data.get('format')!r} version {data.get('version')!r}")
    match = _MANIFEST.fullmatch(path.name)
    timesteps = data.get("timesteps")
    if not _is_int(timesteps) or match is None or int(match.group(1)) != timesteps:
        raise damaged(f"timesteps {timesteps!r} is not the step in its name")
    wall_time = data.get("wall_time")
    if not _is_number(wall_time):
        raise damaged(f"wall_time {wall_time!r} is not a number")
    files = data.get("files")
    if not isinstance(files, dict) or not files:
        raise damaged("no files")
    for name, digest in files.items():
        own = _STEP_FILE.fullmatch(name)
        if own is None or int(own.group(1)) != timesteps or name == path.name:
            raise damaged(f"file {name!r} is not one of step {timesteps}")
        if (
            not isinstance(digest, dict)
            or set(digest) != {"sha256", "size"}
            or not isinstance(digest["sha256"], str)
            or not _SHA256.fullmatch(digest["sha256"])
            or not _is_int(digest["size"])
        ):
            raise damaged(f"file {name!r} has no size and checksum")
    model, events = data.get("model"), data.get("events")
    if model not in files:
        raise damaged(f"model {model!r} is not one of its files")
    if events is not None and events not in files:
        raise damaged(f"events {events!r} is not one of its files")
    progress = _rows(data.get("progress"), PROGRESS_TYPES, "progress", damaged)
    evaluations = _rows(data.get("evaluations"), EVAL_TYPES, "evaluations", damaged)
    if not evaluations or evaluations[-1]["timesteps"] != timesteps:
        raise damaged(f"its last evaluation is not at step {timesteps}")
    best = data.get("best")
    if (
        not isinstance(best, dict)
        or set(best) != {"timesteps", "objective_mean"}
        or not _is_int(best["timesteps"])
        or not _is_number(best["objective_mean"])
        or best["timesteps"] not in {row["timesteps"] for row in evaluations}
    ):
        raise damaged(f"best {best!r} is not one of its evaluations")
    return Checkpoint(
        manifest=path,
        timesteps=timesteps,
        wall_time=float(wall_time),  # type: ignore[arg-type]
        model=path.parent / str(model),
        files={name: dict(digest) for name, digest in files.items()},
        progress=progress,
        evaluations=evaluations,
        best=Best(best["timesteps"], float(best["objective_mean"])),
        events=None if events is None else path.parent / events,
    )


def _rows(rows: Any, types: Mapping[str, type], what: str, damaged: Any) -> list[dict[str, Any]]:
    if not isinstance(rows, list):
        raise damaged(f"{what} is not a list of rows")
    checked = []
    for index, row in enumerate(rows):
        if not isinstance(row, dict) or set(row) != set(types):
            raise damaged(f"{what} row {index} does not have the fields {list(types)}")
        for name, kind in types.items():
            value = row[name]
            fits = (
                _is_int(value)
                if kind is int
                else _is_number(value)
                if kind is float
                else isinstance(value, str)
            )
            if not fits:
                raise damaged(f"{what} row {index} has {name} {value!r}, not {kind.__name__}")
        checked.append({name: kind(row[name]) for name, kind in types.items()})
    return checked


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
