"""What every shopfloor environment shares: the factory, seeding, stepping, rendering.

A family subclasses :class:`FactoryEnv` and says four things: which decisions the
agent takes (others are resolved by a fixed rule), how an action is applied, how the
observation is built and which accrued objective the reward telescopes.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np

from shopfloor.envs._render import render_ansi, render_gantt
from shopfloor.envs._source import GeneratorSpec, SpecSource
from shopfloor.sim import Factory, FactorySpec


class InvalidActionError(ValueError):
    """An action that cannot be taken in the current state."""


class FactoryEnv(gym.Env[np.ndarray, np.int64]):
    """Base of the shopfloor environments (not registered itself)."""

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}

    def __init__(
        self,
        scenario: str | None = None,
        instance: str | None = None,
        spec: FactorySpec | None = None,
        generator: GeneratorSpec | Mapping[str, Any] | None = None,
        render_mode: str | None = None,
    ):
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode {render_mode!r} is not one of {self.metadata['render_modes']}"
            )
        self.render_mode = render_mode
        self.source = SpecSource(
            scenario=scenario, instance=instance, spec=spec, generator=generator
        )
        self._factory: Factory | None = None
        self._objective = 0.0
        self._scale = 1.0

    # -- what a family defines

    @abstractmethod
    def _agent_decides(self) -> bool:
        """Whether the choice now due is the agent's (others are resolved by a rule)."""

    @abstractmethod
    def _resolve(self) -> None:
        """Take a choice that is not the agent's."""

    @abstractmethod
    def _apply(self, action: int) -> None:
        """Apply the agent's action (validated) to the factory."""

    @abstractmethod
    def _observation(self) -> np.ndarray:
        """The observation of the current state."""

    @abstractmethod
    def _accrued(self) -> float:
        """Objective accrued so far (cost-like); rewards are minus its changes, scaled."""

    @abstractmethod
    def _reward_scale(self) -> float:
        """Positive divisor of the reward (asked once per episode, after the reset hook)."""

    def _on_reset(self) -> None:
        """Hook: per-episode set-up after the factory exists."""

    objective_name = "objective"
    """Name of the KPI :meth:`episode_objective` reports (lower is better)."""

    @abstractmethod
    def episode_objective(self) -> float:
        """The family's KPI of the episode so far (final once terminated); lower is better."""

    # -- the Gymnasium API

    @property
    def factory(self) -> Factory:
        """The factory of the current episode."""
        if self._factory is None:
            raise RuntimeError("call reset() before using the environment")
        return self._factory

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start an episode; ``seed`` fixes the whole trajectory."""
        super().reset(seed=seed)
        spec = self.source.draw(self.np_random)
        self._factory = Factory(spec, seed=int(self.np_random.integers(2**62)))
        self._on_reset()
        self._scale = self._reward_scale()
        self._objective = 0.0  # nothing accrues before t=0; the first reward covers the run-in
        self._advance()
        return self._observation(), self._info()

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Apply ``action``, run the factory to the next decision of the agent."""
        factory = self._factory
        if factory is None:
            raise RuntimeError("call reset() before using the environment")
        if factory.done:
            raise RuntimeError("the episode is over; call reset()")
        self._apply(self._validated(action))
        self._advance()
        accrued = self._accrued()
        reward = float(self._objective - accrued) / self._scale
        self._objective = accrued
        return self._observation(), reward, factory.done, False, self._info()

    def render(self) -> str | np.ndarray | None:
        """Text state (``ansi``) or a Gantt chart of the schedule so far (``rgb_array``)."""
        if self.render_mode == "ansi":
            return render_ansi(self.factory)
        if self.render_mode == "rgb_array":
            return render_gantt(self.factory)
        return None

    # -- shared machinery

    def _validated(self, action: Any) -> int:
        if type(action) is int:
            value = action
        elif isinstance(action, np.integer) and not isinstance(action, np.bool_):
            value = int(action)
        else:
            array = np.asarray(action)
            if array.size != 1 or array.dtype.kind not in "iu":  # no floats, strings, bools
                raise InvalidActionError(f"action must be a single integer, got {action!r}")
            value = int(array.item())
        if not 0 <= value < self.action_space.n:  # type: ignore[attr-defined]
            raise InvalidActionError(
                f"action {value} is outside the action space {self.action_space}"
            )
        if not self._is_valid(value):
            valid = np.flatnonzero(self.action_masks()).tolist()
            raise InvalidActionError(
                f"action {value} is not valid at t={self.factory.now:g}; valid actions: {valid}"
            )
        return value

    def _is_valid(self, action: int) -> bool:
        """Whether ``action`` (inside the space) may be taken now."""
        return bool(self.action_masks()[action])

    def _advance(self) -> None:
        """Run to the next decision that is the agent's, resolving the others."""
        factory = self.factory
        while factory.next_decision():
            if self._agent_decides():
                return
            self._resolve()

    @property
    def masks_actions(self) -> bool:
        """Whether some actions can be invalid: an agent must then follow :meth:`action_masks`."""
        return False

    def action_masks(self) -> np.ndarray:
        """Which actions are valid now (for sb3-contrib's MaskablePPO)."""
        assert isinstance(self.action_space, gym.spaces.Discrete)
        return np.ones(int(self.action_space.n), dtype=bool)

    def _info(self) -> dict[str, Any]:
        factory = self.factory
        return {"time": factory.now, "decisions": factory.decisions}
