"""Many static job shops as one Gymnasium vector env, stepped by the batched core.

``shopfloor.envs`` registers it as ``shopfloor/BatchJobShop-v0`` (a vector entry point):
``gym.make_vec("shopfloor/BatchJobShop-v0", num_envs=64,
vectorization_mode="vector_entry_point", instance="ta01", mode="active")`` (in a fresh
process: ``"shopfloor.envs:shopfloor/BatchJobShop-v0"``). Flexible shops (``"mk01"``)
take the same id, as they take ``shopfloor/JobShop-v0``'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from shopfloor.batch import BatchFlexibleJobShop, BatchJobShop, InvalidBatchActionError
from shopfloor.instances import FlexibleJobShopInstance, JobShopInstance, load_instance

Instance = JobShopInstance | FlexibleJobShopInstance


class BatchJobShopVectorEnv(VectorEnv):  # type: ignore[misc]
    """## Description

    `num_envs` static job shops, classic or flexible, stepped together by the batched
    core (array operations over all of them, no Python loop per env):
    :class:`shopfloor.batch.BatchJobShop` when every instance is a classic job shop,
    :class:`shopfloor.batch.BatchFlexibleJobShop` when one is flexible. Each sub-env is
    `shopfloor/JobShop-v0` on its instance, in the chosen decision mode: the same action
    space, observations, masks and rewards as the single env for the same choices, so a
    policy trained on one runs on the other.

    Flexible shops take this id rather than one of their own because JobShop-v0 takes
    both kinds under one id with one observation: the same arguments (`instance="mk01"`,
    `mode=...`) give the same spaces in the single env and here, and a classic batch
    keeps the faster classic core.

    ## Action Space

    `MultiDiscrete([n] * num_envs)`, as JobShop-v0 (J: the most jobs of any instance,
    M: the most machines):

    | mode | n | action `a` of an env |
    |---|---|---|
    | `non_delay` | J | job `a`'s next operation starts now, on its lowest-index free machine |
    | `active` | J | job `a`'s next operation is appended to `m*` (the machine is implied) |
    | `append`, classic | J | job `a`'s next operation is appended to its machine |
    | `append`, flexible | J * M | job `a // M`'s next operation is appended to machine `a % M` |

    The batch is flexible when an operation of one of its instances has alternative
    machines. Only candidates are valid (`action_masks()`, shape `(num_envs, n)`: in
    `non_delay` and `active` the jobs with a candidate machine); any other action raises
    `InvalidBatchActionError` naming the env.

    ## Observation Space

    `Box(0, 1, (num_envs, J * 8 + M * 3), float32)`: per env the observation
    `shopfloor/JobShop-v0` gives on its instance in the same mode, bit for bit (see its
    spec sheet; in a flexible shop an operation counts at its first machine, with its
    fastest time), padded to the largest instance with zeros.

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

    `instance` (default `"ft06"`: a bundled name such as `"ta01"` or `"mk01"`, a
    `JobShopInstance` or a `FlexibleJobShopInstance`, repeated `num_envs` times) or
    `instances` (one per env, any sizes and kinds), `num_envs` (default 8), `mode`
    (`"non_delay"`, `"active"`, `"append"`), `backend` (`"numpy"`, `"torch"`), `device`
    (torch: `"auto"`, `"cpu"`, `"cuda[:N]"`).

    ## Version History

    * v0: Initial version.
    * v0, flexible shops (issue 20): flexible instances run in the flexible batched
      core with JobShop-v0's action space, masks, observations and rewards; classic
      batches are unchanged.
    """

    metadata = {"autoreset_mode": AutoresetMode.SAME_STEP, "render_modes": []}

    def __init__(
        self,
        instance: Instance | str = "ft06",
        num_envs: int = 8,
        *,
        instances: Sequence[Instance | str] | None = None,
        mode: str = "non_delay",
        backend: str = "numpy",
        device: str = "cpu",
    ):
        if instances is None:
            if isinstance(num_envs, bool) or not isinstance(num_envs, int) or num_envs < 1:
                raise ValueError(f"num_envs: expected a whole number >= 1, got {num_envs!r}")
            instances = [instance] * num_envs
        if isinstance(instances, str) or len(instances) == 0:
            raise ValueError("instances: give a non-empty sequence of instances or names")
        loaded = [load_instance(item) if isinstance(item, str) else item for item in instances]
        self.core: BatchJobShop | BatchFlexibleJobShop
        classic = [item for item in loaded if isinstance(item, JobShopInstance)]
        if len(classic) == len(loaded):
            self.core = BatchJobShop(classic, mode, backend=backend, device=device)
        else:
            self.core = BatchFlexibleJobShop(
                loaded, mode, backend=backend, device=device, features=True
            )
        self.num_envs = self.core.batch_size
        self.mode = self.core.mode
        jobs, machines = self.core.n_jobs, self.core.n_machines
        self.flexible = any(
            len(op) > 1
            for item in loaded
            if isinstance(item, FlexibleJobShopInstance)
            for routing in item.operations
            for op in routing
        )
        """Whether an operation of some instance has alternative machines."""
        self._pairs = self.flexible and self.mode == "append"  # else the machine is implied
        self._pair_masks: np.ndarray | None = None  # (num_envs, J, M), flexible core only
        size = jobs * 8 + machines * 3
        self.single_observation_space = spaces.Box(0.0, 1.0, (size,), dtype=np.float32)
        self.single_action_space = spaces.Discrete(jobs * machines if self._pairs else jobs)
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
        self._set_masks(masks)
        return self._numpy(features, np.float32), {}

    def step(
        self, actions: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Schedule one operation in every env; finished envs start over at once."""
        if self._masks is None:
            raise RuntimeError("call reset() before step()")
        actions = np.asarray(actions, dtype=np.int64).reshape(self.num_envs)
        features, masks, rewards, dones = self.core.step(self._core_actions(actions))
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
        self._set_masks(masks)
        truncated = np.zeros(self.num_envs, dtype=bool)
        return observation, self._numpy(rewards, np.float64), terminated, truncated, infos

    def action_masks(self) -> np.ndarray:
        """``(num_envs, n)`` bool: the valid actions of every env now (see Action Space)."""
        if self._masks is None:
            raise RuntimeError("call reset() before using the environment")
        return self._masks.copy()

    def _set_masks(self, masks: Any) -> None:
        """Keep the core's masks as the actions' (a flexible core's pairs: per job)."""
        masks = self._numpy(masks, bool)
        if isinstance(self.core, BatchFlexibleJobShop) and not self._pairs:
            self._pair_masks = masks.reshape(self.num_envs, self.core.n_jobs, -1)
            masks = self._pair_masks.any(axis=2)
        self._masks = masks

    def _core_actions(self, actions: np.ndarray) -> np.ndarray:
        """The core's actions: a flexible core's pair (job, its lowest candidate machine).

        Raises:
            InvalidBatchActionError: A job that is not a candidate (naming the env).
        """
        pairs = self._pair_masks
        if pairs is None:
            return actions
        jobs = self.core.n_jobs
        rows = np.arange(self.num_envs)
        known = (actions >= 0) & (actions < jobs)
        job = np.where(known, actions, 0)
        valid = known & pairs[rows, job].any(axis=1)
        if not valid.all():
            bad = int(np.flatnonzero(~valid)[0])
            raise InvalidBatchActionError(
                f"instance {bad}: action {int(actions[bad])} is not a candidate job"
                f" (mode {self.mode})"
            )
        return job * pairs.shape[2] + pairs[rows, job].argmax(axis=1)

    def _numpy(self, array: Any, dtype: Any) -> np.ndarray:
        """A contiguous numpy copy of a core array."""
        return np.array(self.core.backend.to_numpy(array), dtype=dtype, order="C", copy=True)


VECTOR_ID = "shopfloor/BatchJobShop-v0"
