"""Learning agents: Q-learning, rollout-trained rule choice, Stable-Baselines3 adapters.

Tabular Q-learning and the rollout agent are written here; PPO, A2C, DQN and
MaskablePPO come from Stable-Baselines3 and sb3-contrib.

Every agent answers the protocol shared with the non-learning policies:
``predict(observation, deterministic=True, action_masks=None) -> (action, state)``.

:data:`ALGORITHMS` is the agent registry: one :class:`Algorithm` entry per algorithm
says how its agents are built, saved and loaded and what they need of an env.
"""

from shopfloor.agents._algorithms import ALGORITHMS
from shopfloor.agents._config import AgentConfigError, agents_dir, load_hyperparameters
from shopfloor.agents._device import (
    DeviceError,
    check_device_name,
    configure_threads,
    select_device,
)
from shopfloor.agents._make import load_agent, load_trained_agent, make_agent
from shopfloor.agents._qlearning import QLearningAgent, QLearningConfig
from shopfloor.agents._registry import (
    Agent,
    AgentSetup,
    Algorithm,
    AlgorithmRegistry,
    TrainedAgent,
    keys_of,
)
from shopfloor.agents._rollout import RolloutAgent, RolloutConfig
from shopfloor.agents._sb3 import LoadedPolicy, SB3Agent, load_policy
from shopfloor.agents._state_file import ModelFileError
from shopfloor.agents.batch_vec_env import BatchVecEnv

__all__ = [
    "ALGORITHMS",
    "Agent",
    "AgentConfigError",
    "AgentSetup",
    "Algorithm",
    "AlgorithmRegistry",
    "BatchVecEnv",
    "DeviceError",
    "LoadedPolicy",
    "ModelFileError",
    "QLearningAgent",
    "QLearningConfig",
    "RolloutAgent",
    "RolloutConfig",
    "SB3Agent",
    "TrainedAgent",
    "agents_dir",
    "check_device_name",
    "configure_threads",
    "keys_of",
    "load_agent",
    "load_hyperparameters",
    "load_policy",
    "load_trained_agent",
    "make_agent",
    "select_device",
]
