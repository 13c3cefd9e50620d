"""Stable-Baselines3's ``VecEnv`` over the batched job shop, for MaskablePPO and friends.

:class:`BatchVecEnv` wraps :class:`~shopfloor.envs.batch_job_shop.BatchJobShopVectorEnv`
(one batched core, no sub-processes; classic or flexible shops, with
``shopfloor/JobShop-v0``'s spaces, so a model trained here runs on the single env) in
SB3's interface: ``step_async`` /
``step_wait``, immediate reset of finished envs with ``terminal_observation`` and
Monitor-style ``episode`` entries in their infos, and ``env_method("action_masks")`` so
``sb3_contrib``'s MaskablePPO reads the masks unchanged.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from stable_baselines3.common.vec_env import VecEnv

from shopfloor.envs.batch_job_shop import BatchJobShopVectorEnv


class BatchVecEnv(VecEnv):  # type: ignore[misc]
    """SB3 ``VecEnv`` of a batched job shop.

    Example:
        >>> from sb3_contrib import MaskablePPO
        >>> from shopfloor.agents.batch_vec_env import BatchVecEnv
        >>> from shopfloor.envs.batch_job_shop import BatchJobShopVectorEnv
        >>> env = BatchVecEnv(BatchJobShopVectorEnv("ft06", num_envs=16))
        >>> model = MaskablePPO("MlpPolicy", env, n_steps=64).learn(2048)  # doctest: +SKIP

    Args:
        env: The vector env (or build one: see :meth:`make`).
    """

    def __init__(self, env: BatchJobShopVectorEnv):
        self.env = env
        self.render_mode = None
        super().__init__(env.num_envs, env.single_observation_space, env.single_action_space)
        self._actions: np.ndarray | None = None
        self._returns = np.zeros(env.num_envs)
        self._lengths = np.zeros(env.num_envs, dtype=np.int64)
        self._began = time.perf_counter()

    @classmethod
    def make(cls, instance: Any = "ft06", num_envs: int = 8, **kwargs: Any) -> BatchVecEnv:
        """Build the vector env and wrap it (keywords as for ``BatchJobShopVectorEnv``)."""
        return cls(BatchJobShopVectorEnv(instance, num_envs, **kwargs))

    def reset(self) -> np.ndarray:
        """Every env back to t=0."""
        seed = next((value for value in self._seeds if value is not None), None)
        observation, _ = self.env.reset(seed=seed)
        self._seeds = [None] * self.num_envs
        self._returns[:] = 0.0
        self._lengths[:] = 0
        return observation

    def step_async(self, actions: np.ndarray) -> None:
        """Keep the actions for :meth:`step_wait`."""
        self._actions = np.asarray(actions)

    def step_wait(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[dict[str, Any]]]:
        """One batched step; finished envs report their episode and start over."""
        if self._actions is None:
            raise RuntimeError("call step_async() before step_wait()")
        observation, rewards, terminated, truncated, infos = self.env.step(self._actions)
        self._actions = None
        self._returns += rewards
        self._lengths += 1
        dones = terminated | truncated
        out: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        for index in np.flatnonzero(dones):
            out[index] = {
                "terminal_observation": infos["final_obs"][index],
                "makespan": float(infos["makespan"][index]),
                "TimeLimit.truncated": False,
                "episode": {
                    "r": float(self._returns[index]),
                    "l": int(self._lengths[index]),
                    "t": round(time.perf_counter() - self._began, 6),
                },
            }
            self._returns[index] = 0.0
            self._lengths[index] = 0
        return observation, rewards.astype(np.float32), dones, out

    def action_masks(self) -> np.ndarray:
        """``(num_envs, J)`` bool masks."""
        return self.env.action_masks()

    def _env_masks(self, index: int) -> np.ndarray:
        return self.env.action_masks()[index]

    def close(self) -> None:
        """Nothing to release: one process, no files."""

    def get_attr(self, attr_name: str, indices: Any = None) -> list[Any]:
        """The vector env's attribute, once per selected env."""
        if attr_name == "action_masks":  # one method per env, as sub-envs have
            return [functools.partial(self._env_masks, index) for index in self._indices(indices)]
        value = getattr(self.env, attr_name)
        return [value for _ in self._indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: Any = None) -> None:
        """Set an attribute of the vector env (shared by all its envs)."""
        setattr(self.env, attr_name, value)

    def env_method(
        self, method_name: str, *method_args: Any, indices: Any = None, **method_kwargs: Any
    ) -> list[Any]:
        """``action_masks`` per env; any other method of the vector env, once per env."""
        if method_name == "action_masks":
            return list(self.env.action_masks()[self._indices(indices)])
        result = getattr(self.env, method_name)(*method_args, **method_kwargs)
        return [result for _ in self._indices(indices)]

    def env_is_wrapped(self, wrapper_class: type, indices: Any = None) -> list[bool]:
        """No env is wrapped."""
        return [False for _ in self._indices(indices)]

    def _indices(self, indices: int | Iterable[int] | None) -> Sequence[int]:
        if indices is None:
            return range(self.num_envs)
        if isinstance(indices, int):
            return [indices]
        return list(indices)
