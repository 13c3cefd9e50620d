"""Pretrained neural schedulers shipped with the package, usable by name.

``pretrained:<name>`` names ``shopfloor/agents/pretrained/<name>.npz``: the weights
of a self-labelling model (data only: loading one runs no code), with its model card
``<name>.md`` beside it (how it was trained, on what, at what cost, and what it
measured; the headings are :data:`CARD_HEADINGS`, the format is in that folder's
``README.md``). :func:`load_pretrained` returns a :class:`NeuralPolicy`; once
:mod:`shopfloor.agents` is imported, :func:`shopfloor.policies.make_policy` accepts
``pretrained:<name>`` wherever a policy name is taken (``shopfloor simulate ta01
--policy pretrained:<name>``).
"""

from __future__ import annotations

import re
from pathlib import Path

from shopfloor.agents._neural_policy import NeuralPolicy

PREFIX = "pretrained:"
PRETRAINED_DIR = Path(__file__).resolve().parent / "pretrained"
"""Where the shipped models are (inside the installed package)."""
CARD_HEADINGS = ("Training command", "Data", "Budget", "Hardware", "Measured results")
"""The ``## `` headings every model card has, in this order."""
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


class UnknownPretrainedError(LookupError):
    """No pretrained model of that name; the message lists the available ones."""


def list_pretrained(directory: str | Path | None = None) -> list[str]:
    """The names of the pretrained models (``<name>.npz`` files), sorted.

    Args:
        directory: Where to look (default: the package's :data:`PRETRAINED_DIR`).
    """
    folder = Path(directory) if directory is not None else PRETRAINED_DIR
    if not folder.is_dir():
        return []
    return sorted(path.stem for path in folder.glob("*.npz") if path.is_file())


def pretrained_path(name: str, directory: str | Path | None = None) -> Path:
    """The weights file of pretrained model ``name`` (``pretrained:`` may lead).

    Raises:
        UnknownPretrainedError: No such model (the available ones are listed).
    """
    key = name[len(PREFIX) :] if name.startswith(PREFIX) else name
    folder = Path(directory) if directory is not None else PRETRAINED_DIR
    available = list_pretrained(folder)
    if not _NAME.fullmatch(key) or key not in available:
        listed = ", ".join(available) if available else "none are installed"
        raise UnknownPretrainedError(
            f"no pretrained model {key!r}; available: {listed} (shopfloor/agents/pretrained/)"
        )
    return folder / f"{key}.npz"


def model_card(name: str, directory: str | Path | None = None) -> str:
    """The model card (Markdown) of pretrained model ``name``.

    Raises:
        UnknownPretrainedError: No such model.
        FileNotFoundError: The model has no card.
    """
    card = pretrained_path(name, directory).with_suffix(".md")
    if not card.is_file():
        raise FileNotFoundError(f"pretrained model {name!r} has no model card {card.name}")
    return card.read_text(encoding="utf-8")


def missing_card_headings(text: str) -> list[str]:
    """The :data:`CARD_HEADINGS` a model card lacks (as ``## <heading>`` lines)."""
    found = {line[3:].strip().lower() for line in text.splitlines() if line.startswith("## ")}
    return [heading for heading in CARD_HEADINGS if heading.lower() not in found]


def load_pretrained(
    name: str, device: str = "auto", directory: str | Path | None = None
) -> NeuralPolicy:
    """The pretrained model ``name`` as a :class:`NeuralPolicy` named ``pretrained:<name>``.

    Args:
        name: A name of :func:`list_pretrained` (``pretrained:`` may lead).
        device: Where it runs: ``auto`` (CUDA when present), ``cpu``, ``cuda[:N]``.
        directory: Where to look (default: the package's :data:`PRETRAINED_DIR`).

    Raises:
        UnknownPretrainedError: No such model (the available ones are listed).
        ModelFileError: The file is damaged or not a self-labelling model.
    """
    path = pretrained_path(name, directory)
    return NeuralPolicy.load(path, device, name=PREFIX + path.stem)


def resolve_pretrained(name: str, seed: int | None = 0) -> NeuralPolicy:
    """``make_policy``'s resolver of ``pretrained:<name>``, on the CPU.

    A policy built by name acts through ``predict``, one observation at a time, where
    the CPU is faster than a GPU; batched scheduling (:meth:`NeuralPolicy.best_of`)
    loads with :func:`load_pretrained` and a device. ``seed`` seeds its sampling.
    """
    policy = load_pretrained(name, device="cpu")
    policy.seed_sampling(0 if seed is None else seed)
    return policy
