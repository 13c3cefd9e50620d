"""The batched static job shop: B instances stepped together with array operations.

:class:`BatchJobShop` holds B static job-shop instances (of any sizes, padded into one
batch) as arrays and schedules one operation in every unfinished instance per
:meth:`~BatchJobShop.step`, in any decision mode (``non_delay``, ``active``,
``append``), with numpy or torch (CUDA when present). For the same instance, mode and
decisions its start and end times equal the SimPy factory's.
:class:`BatchFlexibleJobShop` does the same for flexible job shops, an action being a
``(job, machine)`` pair. :func:`sample_schedules` builds N schedules of one instance, or
of many, in one call.

Example:
    >>> from shopfloor.batch import sample_schedules
    >>> samples = sample_schedules("ft06", 128, mode="active", seed=0)
    >>> samples.makespans.shape
    (128,)
"""

from shopfloor.batch._backend import BACKENDS, Backend, BackendError, select_backend
from shopfloor.batch._core import (
    MODES,
    BatchJobShop,
    BatchStep,
    InvalidBatchActionError,
    check_mode,
)
from shopfloor.batch._flexible import BatchFlexibleJobShop
from shopfloor.batch._sample import RULES, Samples, best_of_random, sample_schedules

__all__ = [
    "BACKENDS",
    "MODES",
    "RULES",
    "Backend",
    "BackendError",
    "BatchFlexibleJobShop",
    "BatchJobShop",
    "BatchStep",
    "InvalidBatchActionError",
    "Samples",
    "best_of_random",
    "check_mode",
    "sample_schedules",
    "select_backend",
]
