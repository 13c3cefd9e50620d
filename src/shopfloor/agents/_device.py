"""Where networks run: CUDA when there is one, else the CPU with one thread."""

from __future__ import annotations

import torch


class DeviceError(ValueError):
    """A device that does not exist on this machine."""


DEVICE_NAMES = "auto, cpu, cuda or cuda:N"


def check_device_name(requested: str) -> str:
    """Return ``requested`` if it names a device (present or not), else raise ``DeviceError``."""
    name = requested.strip().lower() if isinstance(requested, str) else ""
    index = name.split(":", 1)[1] if name.startswith("cuda:") else "0"
    if name not in ("auto", "cpu", "cuda") and not (name.startswith("cuda:") and index.isdigit()):
        raise DeviceError(f"unknown device {requested!r}; use {DEVICE_NAMES}")
    return requested


def select_device(requested: str = "auto") -> torch.device:
    """Resolve a device request.

    Args:
        requested: ``"auto"`` (CUDA if available, else CPU), ``"cpu"``, ``"cuda"`` or
            ``"cuda:N"``.

    Returns:
        The torch device.

    Raises:
        DeviceError: CUDA asked for but not available, a GPU index out of range, or an
            unknown device name.
    """
    name = requested.strip().lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "cuda" or name.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise DeviceError(
                f"device {requested!r} was requested but CUDA is not available on this "
                "machine; use device cpu or auto"
            )
        if ":" in name:
            index_text = name.split(":", 1)[1]
            if not index_text.isdigit() or int(index_text) >= torch.cuda.device_count():
                raise DeviceError(
                    f"device {requested!r}: this machine has {torch.cuda.device_count()} GPU(s)"
                )
        return torch.device(name)
    raise DeviceError(f"unknown device {requested!r}; use {DEVICE_NAMES}")


def configure_threads(device: torch.device, threads: int = 1) -> None:
    """Use ``threads`` torch threads on the CPU (small nets run faster on one)."""
    if device.type == "cpu":
        torch.set_num_threads(threads)
