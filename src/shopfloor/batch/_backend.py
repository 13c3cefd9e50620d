"""One array namespace over numpy and torch, so the batched core is written once.

The core needs a dozen array operations (gathers and scatters with flat integer
indices, element-wise maximum, row minima, comparisons, ``bincount``); numpy and
torch spell a few of them differently. :class:`Backend` holds the spelling of one
library and, for torch, the device: CUDA when it is there (``device="auto"``), the CPU
otherwise. Torch is imported only when asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

BACKENDS = ("numpy", "torch")


class BackendError(ValueError):
    """An unknown backend or a device that this machine does not have."""


@dataclass(frozen=True)
class Backend:
    """The array library (and device) a batched core computes with.

    Attributes:
        name: ``"numpy"`` or ``"torch"``.
        device: ``"cpu"`` for numpy; the torch device's name (``"cpu"``, ``"cuda"``,
            ``"cuda:1"``) for torch.
    """

    name: str
    device: str = "cpu"

    @property
    def is_torch(self) -> bool:
        """Whether arrays are torch tensors."""
        return self.name == "torch"

    # ------------------------------------------------------------- creation

    def asarray(self, values: Any, dtype: str) -> Any:
        """``values`` as an array of ``dtype`` (``"float64"``, ``"int64"``, ``"bool"``)."""
        if self.is_torch:
            import torch

            return torch.as_tensor(np.asarray(values, dtype), device=self.device)
        return np.array(values, dtype=dtype)

    def as_index(self, values: Any) -> Any:
        """``values`` (a list, numpy array or tensor) as an int64 array of this backend."""
        if self.is_torch:
            import torch

            if isinstance(values, torch.Tensor):
                return values.to(device=self.device, dtype=torch.int64)
            return torch.as_tensor(np.asarray(values, np.int64), device=self.device)
        if isinstance(values, np.ndarray) and values.dtype == np.int64:
            return values
        return np.asarray(values, dtype=np.int64)

    def as_flags(self, values: Any) -> Any:
        """``values`` (a list, numpy array or tensor) as a bool array of this backend."""
        if self.is_torch:
            import torch

            if isinstance(values, torch.Tensor):
                return values.to(device=self.device, dtype=torch.bool)
            return torch.as_tensor(np.asarray(values, bool), device=self.device)
        return np.asarray(values, dtype=bool)

    def full(self, shape: tuple[int, ...], value: float, dtype: str) -> Any:
        """A new array filled with ``value``."""
        if self.is_torch:
            import torch

            return torch.full(shape, value, dtype=getattr(torch, dtype), device=self.device)
        return np.full(shape, value, dtype=dtype)

    def to_numpy(self, array: Any) -> np.ndarray:
        """A numpy copy (or view, for numpy) of ``array``."""
        if self.is_torch:
            return array.detach().cpu().numpy()  # type: ignore[no-any-return]
        return np.asarray(array)

    def copy(self, array: Any) -> Any:
        """A copy of ``array``."""
        return array.clone() if self.is_torch else array.copy()

    # ------------------------------------------------------------ operations

    def concatenate(self, arrays: list[Any], axis: int = 0) -> Any:
        """The arrays one after the other along ``axis``, in a new array."""
        if self.is_torch:
            import torch

            return torch.cat(arrays, dim=axis)
        return np.concatenate(arrays, axis=axis)

    def take_rows(self, table: Any, index: Any) -> Any:
        """The rows ``index`` of a 2-D table, in a new array."""
        if self.is_torch:
            return table[index]
        return np.take(table, index, axis=0)  # faster than fancy indexing

    def repeat_rows(self, array: Any, count: int) -> Any:
        """A 1-D array ``count`` times one after the other (flat, ``count * len``)."""
        if self.is_torch:
            return array.repeat(count)
        return np.tile(array, count)

    def repeat(self, array: Any, count: int) -> Any:
        """Each entry of a 1-D array ``count`` times in a row."""
        if self.is_torch:
            return array.repeat_interleave(count)
        return np.repeat(array, count)

    def to_int(self, array: Any) -> Any:
        """``array`` as int64."""
        if self.is_torch:
            import torch

            return array.to(torch.int64)
        return array.astype(np.int64)

    def nonzero(self, flags: Any) -> Any:
        """Indices of the true entries of a 1-D boolean array."""
        if self.is_torch:
            return flags.nonzero().flatten()
        return np.flatnonzero(flags)

    def column_min(self, array: Any) -> Any:
        """Minimum of each column of a 2-D array."""
        if self.is_torch:
            return array.amin(dim=0)
        return array.min(axis=0)

    def column_any(self, array: Any) -> Any:
        """Whether each column of a 2-D boolean array has a true entry."""
        if self.is_torch:
            return array.any(dim=0)
        return array.any(axis=0)

    def column_argmax(self, array: Any) -> Any:
        """Index of the first maximum of each column of a 2-D array."""
        if self.is_torch:
            import torch

            # torch's argmax does not promise the first of equal maxima.
            rows = torch.arange(array.shape[0], device=array.device)[:, None]
            best = array == array.amax(dim=0)
            return torch.where(best, rows, array.shape[0]).amin(dim=0)
        return array.argmax(axis=0)

    def select_into(self, out: Any, condition: Any, left: Any, right: Any) -> None:
        """Write ``left`` where ``condition`` holds, else ``right``, into ``out``."""
        if self.is_torch:
            import torch

            out.copy_(torch.where(condition, left, right))
            return
        np.copyto(out, right)
        np.copyto(out, left, where=condition)

    def maximum(self, left: Any, right: Any) -> Any:
        """Element-wise maximum of two arrays."""
        if self.is_torch:
            import torch

            return torch.maximum(left, right)
        return np.maximum(left, right)

    def where(self, condition: Any, left: Any, right: Any) -> Any:
        """``left`` where ``condition`` holds, else ``right``."""
        if self.is_torch:
            import torch

            return torch.where(condition, left, right)
        return np.where(condition, left, right)

    def clip(self, array: Any, low: float, high: float) -> Any:
        """``array`` clipped to ``[low, high]``."""
        if self.is_torch:
            return array.clamp(low, high)
        return np.clip(array, low, high)

    def bincount(self, indices: Any, weights: Any, length: int) -> Any:
        """Sum of ``weights`` per index in ``range(length)``."""
        if self.is_torch:
            import torch

            return torch.bincount(indices, weights=weights, minlength=length)
        return np.bincount(indices, weights=weights, minlength=length)

    def to_float(self, array: Any) -> Any:
        """``array`` as float64."""
        if self.is_torch:
            import torch

            return array.to(torch.float64)
        return array.astype(np.float64)

    def to_float32(self, array: Any) -> Any:
        """``array`` as float32 (features)."""
        if self.is_torch:
            import torch

            return array.to(torch.float32)
        return array.astype(np.float32)

    def random_float64(self, size: int, generator: Any) -> Any:
        """Uniform numbers in [0, 1) drawn from ``generator`` (see :meth:`generator`)."""
        if self.is_torch:
            import torch

            return torch.rand(size, generator=generator, device=self.device, dtype=torch.float64)
        return generator.random(size)

    def contiguous(self, array: Any) -> Any:
        """``array`` in row-major memory order (a copy when it is not)."""
        if self.is_torch:
            return array.contiguous()
        return np.ascontiguousarray(array)

    def column_sum(self, array: Any) -> Any:
        """Sum of each column of a 2-D array, as int64."""
        if self.is_torch:
            return array.sum(dim=0)
        return array.sum(axis=0)

    def cumsum(self, array: Any) -> Any:
        """Running sum of a 1-D array."""
        if self.is_torch:
            return array.cumsum(dim=0)
        return array.cumsum()

    def clip_int(self, array: Any, low: int, high: int) -> Any:
        """An integer array clipped to ``[low, high]``."""
        if self.is_torch:
            return array.clamp(low, high)
        return np.minimum(np.maximum(array, low), high)

    # ------------------------------------------------ writes into existing arrays

    def copy_into(self, out: Any, values: Any) -> None:
        """Write ``values`` into ``out`` (a view of a buffer; cast to its dtype)."""
        if self.is_torch:
            out.copy_(values)
            return
        np.copyto(out, values, casting="unsafe")

    def subtract_into(self, out: Any, left: Any, right: Any) -> None:
        """``out = left - right``, computed in the inputs' precision, cast at the write."""
        if self.is_torch:
            out.copy_(left - right)
            return
        np.subtract(left, right, out=out)

    def divide_into(self, out: Any, left: Any, right: Any) -> None:
        """``out = left / right``, computed in the inputs' precision, cast at the write."""
        if self.is_torch:
            out.copy_(left / right)
            return
        np.divide(left, right, out=out)

    def clip_unit(self, out: Any) -> None:
        """Clip ``out`` to ``[0, 1]`` in place."""
        if self.is_torch:
            out.clamp_(0.0, 1.0)
            return
        np.clip(out, 0.0, 1.0, out=out)

    def take_into(self, out: Any, source: Any, index: Any) -> None:
        """``out = source[index]`` for a 1-D ``source`` and an index of ``out``'s shape."""
        if self.is_torch:
            out.copy_(source[index])
            return
        np.take(source, index, out=out, mode="clip")  # "raise" would buffer

    def add_at(self, array: Any, index: Any, value: float) -> None:
        """Add ``value`` to ``array`` at every index, repeated indices once each."""
        if self.is_torch:
            import torch

            addend = torch.full(index.shape, value, dtype=array.dtype, device=array.device)
            array.index_put_((index,), addend, accumulate=True)
            return
        np.add.at(array, index, value)

    def generator(self, seed: int | None) -> Any:
        """A seeded random generator of this library (and device)."""
        if self.is_torch:
            import torch

            generator = torch.Generator(device=self.device)
            generator.manual_seed(
                int(np.random.SeedSequence(seed).generate_state(1, np.uint64)[0] >> 1)
            )
            return generator
        return np.random.default_rng(seed)


def select_backend(backend: str = "numpy", device: str = "auto") -> Backend:
    """Resolve a backend request.

    Args:
        backend: ``"numpy"`` (CPU) or ``"torch"``.
        device: For torch: ``"auto"`` (CUDA when available, else the CPU), ``"cpu"``,
            ``"cuda"`` or ``"cuda:N"``. For numpy only ``"auto"`` or ``"cpu"``.

    Returns:
        The backend.

    Raises:
        BackendError: An unknown backend or device name, CUDA asked for on a machine
            without it, or a GPU with numpy.
    """
    name = backend.strip().lower() if isinstance(backend, str) else ""
    if name not in BACKENDS:
        raise BackendError(f"unknown backend {backend!r}; choose from {', '.join(BACKENDS)}")
    wanted = device.strip().lower() if isinstance(device, str) else ""
    is_cuda = wanted == "cuda" or (wanted.startswith("cuda:") and wanted[5:].isdigit())
    if wanted not in ("auto", "cpu") and not is_cuda:
        raise BackendError(f"unknown device {device!r}; use auto, cpu, cuda or cuda:N")
    if name == "numpy":
        if is_cuda:
            raise BackendError(f"device {device!r} needs backend torch; numpy runs on the CPU")
        return Backend("numpy")
    import torch

    if wanted == "auto":
        return Backend("torch", "cuda" if torch.cuda.is_available() else "cpu")
    if is_cuda:
        if not torch.cuda.is_available():
            raise BackendError(
                f"device {device!r} was requested but CUDA is not available on this "
                "machine; use device cpu or auto"
            )
        if ":" in wanted and int(wanted[5:]) >= torch.cuda.device_count():
            raise BackendError(
                f"device {device!r}: this machine has {torch.cuda.device_count()} GPU(s)"
            )
    return Backend("torch", wanted)
