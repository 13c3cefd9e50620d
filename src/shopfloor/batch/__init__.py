"""The batched static job shop: B instances stepped together with array operations.

:class:`BatchJobShop` holds B static job-shop instances (of any sizes, padded into one
batch) as arrays and schedules one operation in every unfinished instance per
:meth:`~BatchJobShop.step`, in any decision mode (``non_delay``, ``active``,
``append``), with numpy or torch (CUDA when present). For the same instance, mode and
decisions its start and end times equal the SimPy factory's.
"""

from shopfloor.batch._backend import BACKENDS, Backend, BackendError, select_backend
from shopfloor.batch._core import (
    MODES,
    BatchJobShop,
    BatchStep,
    InvalidBatchActionError,
    check_mode,
)

__all__ = [
    "BACKENDS",
    "MODES",
    "Backend",
    "BackendError",
    "BatchJobShop",
    "BatchStep",
    "InvalidBatchActionError",
    "check_mode",
    "select_backend",
]
