"""The agent registry: every algorithm shopfloor trains, one entry each.

Add an algorithm by writing its module (the agent class and an
:class:`~shopfloor.agents.Algorithm` entry, as ``_qlearning.py`` ends with
``QLEARNING``), listing the entry here, and giving it ``agents/<name>.yaml`` with a
``default:`` entry. Nothing else switches on algorithm names.
"""

from __future__ import annotations

from shopfloor.agents._qlearning import QLEARNING
from shopfloor.agents._registry import AlgorithmRegistry
from shopfloor.agents._rollout import ROLLOUT
from shopfloor.agents._sb3 import SB3_ALGORITHMS
from shopfloor.agents._self_labelling_agent import SELF_LABELLING

ALGORITHMS = AlgorithmRegistry([QLEARNING, ROLLOUT, *SB3_ALGORITHMS, SELF_LABELLING])
"""Algorithms by name: ``qlearning``, ``rollout``, ``ppo``, ``a2c``, ``dqn``, ``maskable_ppo``,
``self_labelling``."""
