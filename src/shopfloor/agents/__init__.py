"""Learning agents: Q-learning, rollout-trained rule choice, Stable-Baselines3 adapters.

Tabular Q-learning and the rollout agent are written here; PPO, A2C, DQN and
MaskablePPO come from Stable-Baselines3 and sb3-contrib. The neural scheduler
(:class:`NeuralPolicy`) schedules greedily, best of N or by a timed search, from a
trained model file or a pretrained model shipped in the package (:func:`load_pretrained`;
importing this package lets :func:`shopfloor.policies.make_policy` take
``pretrained:<name>``).

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
from shopfloor.agents._neural_policy import (
    NeuralPolicy,
    NeuralSchedule,
    SampledSchedules,
    SearchResult,
    simulate_job_shop,
)
from shopfloor.agents._pretrained import (
    CARD_HEADINGS,
    PRETRAINED_DIR,
    UnknownPretrainedError,
    list_pretrained,
    load_pretrained,
    missing_card_headings,
    model_card,
    pretrained_path,
    resolve_pretrained,
)
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
from shopfloor.agents._self_labelling_agent import (
    SelfLabellingAgent,
    SelfLabellingConfig,
    export_weights,
)
from shopfloor.agents._state_file import ModelFileError
from shopfloor.agents.batch_vec_env import BatchVecEnv
from shopfloor.policies import register_policy_prefix

register_policy_prefix("pretrained", resolve_pretrained)

__all__ = [
    "ALGORITHMS",
    "CARD_HEADINGS",
    "PRETRAINED_DIR",
    "Agent",
    "AgentConfigError",
    "AgentSetup",
    "Algorithm",
    "AlgorithmRegistry",
    "BatchVecEnv",
    "DeviceError",
    "LoadedPolicy",
    "ModelFileError",
    "NeuralPolicy",
    "NeuralSchedule",
    "QLearningAgent",
    "QLearningConfig",
    "RolloutAgent",
    "RolloutConfig",
    "SB3Agent",
    "SampledSchedules",
    "SearchResult",
    "SelfLabellingAgent",
    "SelfLabellingConfig",
    "TrainedAgent",
    "UnknownPretrainedError",
    "agents_dir",
    "check_device_name",
    "configure_threads",
    "export_weights",
    "keys_of",
    "list_pretrained",
    "load_agent",
    "load_hyperparameters",
    "load_policy",
    "load_pretrained",
    "load_trained_agent",
    "make_agent",
    "missing_card_headings",
    "model_card",
    "pretrained_path",
    "select_device",
    "simulate_job_shop",
]
