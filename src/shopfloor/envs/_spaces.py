"""A Discrete action space whose ``sample()`` draws only actions valid right now."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from gymnasium import spaces


class MaskedDiscrete(spaces.Discrete):
    """``Discrete(n)`` that samples from the environment's current action mask.

    Env checkers and random baselines call ``action_space.sample()`` without a mask;
    this space asks the environment which actions are valid, so they never draw one
    that ``step`` would reject. An explicit ``mask`` or ``probability`` is honoured as
    usual. Pickled or copied, it becomes a plain ``Discrete`` (the mask lives in the env).
    """

    def __init__(self, n: int, mask_function: Callable[[], np.ndarray], seed: Any = None):
        super().__init__(n, seed=seed)
        self._mask_function = mask_function

    def sample(self, mask: Any = None, probability: Any = None) -> np.int64:
        """A random action; valid now unless a mask or probability is given."""
        if mask is None and probability is None:
            try:
                current = self._mask_function()
            except RuntimeError:  # before reset: any action
                current = None
            if current is not None and current.any():
                mask = current.astype(np.int8)
        return super().sample(mask=mask, probability=probability)

    def __reduce__(self) -> tuple[Any, ...]:
        return (spaces.Discrete, (int(self.n),))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, spaces.Discrete):
            return False
        return bool(other.n == self.n and other.start == self.start)

    __hash__ = spaces.Discrete.__hash__
