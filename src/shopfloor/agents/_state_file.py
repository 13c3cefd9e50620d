"""Model files that are data, never code: nested state as arrays plus a JSON skeleton.

A torch ``state_dict`` (and an optimizer's, with its integer keys, tuples and
scalars) is split into its arrays, stored as the members of one ``.npz`` file, and a
JSON skeleton that says where each array goes. Reading uses ``allow_pickle=False``
and a strict JSON walk, so a crafted file can at worst be refused: nothing in it is
unpickled or executed. The zip members' CRC-32 checks catch a damaged file.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from shopfloor._atomic import replace_atomically

_META = "meta"
_ARRAY = "__array__"
_TUPLE = "__tuple__"
_DICT = "__dict__"
MAX_ARRAYS = 100_000
"""More arrays than this in one file is not a model this project wrote."""


class ModelFileError(ValueError):
    """A saved model file cannot be read; the message names the file and why."""


def save_state(path: str | os.PathLike[str], meta: Mapping[str, Any], state: Any) -> Path:
    """Write ``meta`` (plain JSON data) and ``state`` (nested tensors) to ``path``.

    Args:
        path: The ``.npz`` file; replaced atomically.
        meta: What the file is (format, version, counters); JSON-serialisable.
        state: Nested dicts, lists and tuples of tensors, arrays and JSON scalars.

    Returns:
        The file written.
    """
    arrays: dict[str, np.ndarray] = {}

    def encode(value: Any) -> Any:
        if isinstance(value, torch.Tensor):
            arrays[f"a{len(arrays)}"] = value.detach().cpu().numpy()
            return {_ARRAY: len(arrays) - 1, "torch": True}
        if isinstance(value, np.ndarray):
            arrays[f"a{len(arrays)}"] = value
            return {_ARRAY: len(arrays) - 1, "torch": False}
        if isinstance(value, Mapping):
            return {_DICT: [[_key(key), encode(item)] for key, item in value.items()]}
        if isinstance(value, tuple):
            return {_TUPLE: [encode(item) for item in value]}
        if isinstance(value, list):
            return [encode(item) for item in value]
        if isinstance(value, np.generic):
            return value.item()
        if value is None or isinstance(value, bool | int | float | str):
            return value
        raise TypeError(f"cannot store a {type(value).__name__} in a model file")

    skeleton = encode(state)
    document = json.dumps({"meta": dict(meta), "state": skeleton})
    members = {_META: np.frombuffer(document.encode("utf-8"), dtype=np.uint8), **arrays}
    return replace_atomically(Path(path), lambda stream: np.savez(stream, **members))  # type: ignore[arg-type]


def load_state(
    path: str | os.PathLike[str], what: str, device: str | torch.device = "cpu"
) -> tuple[dict[str, Any], Any]:
    """Read a file written by :func:`save_state`.

    Args:
        path: The ``.npz`` file.
        what: What the file should be, for messages (``"saved PPO model"``).
        device: Where the tensors go.

    Returns:
        ``(meta, state)`` with tensors where tensors were saved.

    Raises:
        FileNotFoundError: Nothing at ``path``.
        ModelFileError: Not such a file, damaged, or holding anything but data.
    """
    source = Path(path)
    if not source.is_file():
        raise FileNotFoundError(f"no {what} at {source}")
    try:
        with np.load(source, allow_pickle=False) as data:
            names = list(data.files)
            if _META not in names:
                raise ValueError("it has no 'meta' member")
            if len(names) > MAX_ARRAYS + 1:
                raise ValueError(f"it has {len(names)} members")
            document = json.loads(bytes(np.asarray(data[_META], dtype=np.uint8)).decode("utf-8"))
            arrays = {name: np.asarray(data[name]) for name in names if name != _META}
    except FileNotFoundError:
        raise
    except (OSError, EOFError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as error:
        raise ModelFileError(f"{source} is not a readable {what}: {_short(error)}") from None
    if not isinstance(document, dict) or not isinstance(document.get("meta"), dict):
        raise ModelFileError(f"{source} is not a readable {what}: no meta record")
    used: set[str] = set()

    def decode(value: Any, depth: int) -> Any:
        if depth > 64:
            raise ValueError("state nested deeper than 64 levels")
        if isinstance(value, list):
            return [decode(item, depth + 1) for item in value]
        if not isinstance(value, dict):
            return value
        if set(value) == {_ARRAY, "torch"}:
            name = f"a{value[_ARRAY]}"
            if name not in arrays:
                raise ValueError(f"member {name} is missing")
            used.add(name)
            array = arrays[name]
            if array.dtype.kind not in "biuf":
                raise ValueError(f"member {name} holds {array.dtype}, not numbers")
            return torch.from_numpy(array.copy()).to(device) if value["torch"] else array
        if set(value) == {_TUPLE}:
            return tuple(decode(item, depth + 1) for item in value[_TUPLE])
        if set(value) == {_DICT}:
            return {_key(key): decode(item, depth + 1) for key, item in value[_DICT]}
        raise ValueError(f"unexpected record with keys {sorted(value)[:5]}")

    try:
        state = decode(document.get("state"), 0)
    except (ValueError, TypeError) as error:
        raise ModelFileError(f"{source} is not a readable {what}: {_short(error)}") from None
    return document["meta"], state


def _key(key: Any) -> int | str:
    """Dict keys as JSON keeps them: ints (optimizer state) or strings."""
    if isinstance(key, bool) or not isinstance(key, int | str):
        raise TypeError(f"dict key {key!r} is neither an int nor a string")
    return key


def _short(error: BaseException) -> str:
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return text if len(text) <= 200 else text[:197] + "..."
