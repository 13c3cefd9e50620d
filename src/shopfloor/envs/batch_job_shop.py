"""Many static job shops as one Gymnasium vector env, stepped by the batched core.

``shopfloor.envs`` registers it as ``shopfloor/BatchJobShop-v0`` (a vector entry point):
``gym.make_vec("shopfloor/BatchJobShop-v0", num_envs=64,
vectorization_mode="vector_entry_point", instance="ta01", mode="active")`` (in a fresh
process: ``"shopfloor.envs:shopfloor/BatchJobShop-v0"``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from shopfloor.batch import BatchJobShop
from shopfloor.instances import JobShopInstance


class BatchJobShopVectorEnv(VectorEnv):  # type: ignore[misc]
    """## Description

    `num_envs` static job shops stepped together by :class:`shopfloor.batch.BatchJobShop`
    (array operations over all of them, no Python loop per env). Each sub-env is
    `shopfloor/JobShop-v0` on its instance, in the chosen decision mode: in `non_delay`
    the same observations, masks and rewards as the single env for the same choices.

    ## Action Space

    `MultiDiscrete([J] * num_envs)`: per env, the job whose next operation is scheduled
    (J: the most jobs of any instance). Only candidates are valid (`action_masks()`,
    shape `(num_envs, J)`); any other action raises `InvalidBatchActionError`.

    ## Observation Space

    `Box(0, 1, (num_envs, J * 8 + M * 3), float32)`: per env the 11 blocks of
    JobShop-v0's observation (see its spec sheet), padded to the largest instance. In
    `active` and `append` the clock of blocks 6-8 is the earliest start of any
    unscheduled operation.

    ## Rewards

    As JobShop-v0: minus the time that passes / the mean machine load (in `active` and
    `append`: the growth of the makespan so far); the sum over an episode is
    `-makespan / mean machine load`.

    ## Episode End

    An env terminates when every operation is scheduled; it is reset in the same step
    (Gymnasium's `AutoresetMode.SAME_STEP`): the returned observation is the new
    episode's, `infos["final_obs"]` holds the last one and `infos["makespan"]` the
    makespan (each with its `_` mask). No truncation.

    ## Arguments

    `instance` (default `"ft06"`: a bundled name or a `JobShopInstance`, repeated
    `num_envs` times) or `instances` (one per env, any sizes), `num_envs` (default 8),
    `mode` (`"non_delay"`, `"active"`, `"append"`), `backend` (`"numpy"`, `"torch"`),
    `device` (torch: `"auto"`, `"cpu"`, `"cuda[:N]"`).

    ## Version History

    * v0: Initial version.
    """

    metadata = {"autoreset_mode": AutoresetMode.SAME_STEP, "render_modes": []}

    def __init__(
        self,
        instance: JobShopInstance | str = "ft06",
        num_envs: int = 8,
        *,
        instances: Sequence[JobShopInstance | str] | None = None,
        mode: str = "non_delay",
        backend: str = "numpy",
        device: str = "cpu",
    ):
        if instances is None:
            if isinstance(num_envs, bool) or not isinstance(num_envs, int) or num_envs < 1:
                raise ValueError(f"num_envs: expected a whole number >= 1, got {num_envs!r}")
            instances = [instance] * num_envs
        self.core = BatchJobShop(instances, mode, backend=backend, device=device)
        self.num_envs = self.core.batch_size
        self.mode = self.core.mode
        jobs, machines = self.core.n_jobs, self.core.n_machines
        size = jobs * 8 + machines * 3
        self.single_observation_space = spaces.Box(0.0, 1.0, (size,), dtype=np.float32)
        self.single_action_space = spaces.Discrete(jobs)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.render_mode = None
        self._masks: np.ndarray | None = None

    def reset(
        self, *, seed: int | Sequence[int] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Every env back to t=0 (static instances: the seed only seeds the spaces)."""
        if isinstance(seed, int):
            self.action_space.seed(seed)
            self.observation_space.seed(seed)
        features, masks = self.core.reset()
        self._masks = self._numpy(masks, bool)
        return self._numpy(features, np.float32), {}

    def step(
        self, actions: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Schedule one operation in every env; finished envs start over at once."""
        if self._masks is None:
            raise RuntimeError("call reset() before step()")
        actions = np.asarray(actions, dtype=np.int64).reshape(self.num_envs)
        features, masks, rewards, dones = self.core.step(actions)
        observation = self._numpy(features, np.float32)
        terminated = self._numpy(dones, bool)
        infos: dict[str, Any] = {}
        if terminated.any():
            makespans = self._numpy(self.core.makespans(), np.float64)
            infos["makespan"] = np.where(terminated, makespans, np.nan)
            infos["_makespan"] = terminated.copy()
            infos["final_obs"] = observation.copy()
            infos["_final_obs"] = terminated.copy()
            features, masks = self.core.reset(dones)
            observation = self._numpy(features, np.float32)
        self._masks = self._numpy(masks, bool)
        truncated = np.zeros(self.num_envs, dtype=bool)
        return observation, self._numpy(rewards, np.float64), terminated, truncated, infos

    def action_masks(self) -> np.ndarray:
        """``(num_envs, J)`` bool: the valid jobs of every env now."""
        if self._masks is None:
            raise RuntimeError("call reset() before using the environment")
        return self._masks.copy()

    def _numpy(self, array: Any, dtype: Any) -> np.ndarray:
        """A contiguous numpy copy of a core array."""
        return np.array(self.core.backend.to_numpy(array), dtype=dtype, order="C", copy=True)


VECTOR_ID = "shopfloor/BatchJobShop-v0"
