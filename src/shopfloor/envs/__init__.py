"""Gymnasium environments over the SimPy factory, registered under ``shopfloor/``.

* ``shopfloor/JobShop-v0``: static instance, pick the job (masked); objective makespan;
  decision modes ``non_delay`` (default), ``active`` and ``append`` (``mode=``).
* ``shopfloor/DynamicJobShop-v0``: arrivals, due dates, breakdowns; pick a dispatching
  rule (or a job); objective weighted tardiness.
* ``shopfloor/ProductionInventory-v0``: make-to-stock; pick what to produce; objective cost.
"""

from gymnasium.envs.registration import register, registry

from shopfloor.envs._base import FactoryEnv, InvalidActionError
from shopfloor.envs._source import GeneratorSpec
from shopfloor.envs._tracker import (
    MODES,
    DecisionMode,
    ScheduledStep,
    ScheduleTracker,
    parse_mode,
    replay_sequences,
)
from shopfloor.envs.batch_job_shop import BatchJobShopVectorEnv
from shopfloor.envs.dynamic_job_shop import DynamicJobShopEnv
from shopfloor.envs.job_shop import JobShopEnv
from shopfloor.envs.production_inventory import ProductionInventoryEnv

ENV_IDS = (
    "shopfloor/JobShop-v0",
    "shopfloor/DynamicJobShop-v0",
    "shopfloor/ProductionInventory-v0",
)

if "shopfloor/JobShop-v0" not in registry:
    register(
        id="shopfloor/JobShop-v0",
        entry_point="shopfloor.envs.job_shop:JobShopEnv",
    )
    register(
        id="shopfloor/DynamicJobShop-v0",
        entry_point="shopfloor.envs.dynamic_job_shop:DynamicJobShopEnv",
    )
    register(
        id="shopfloor/ProductionInventory-v0",
        entry_point="shopfloor.envs.production_inventory:ProductionInventoryEnv",
    )
    register(
        id="shopfloor/BatchJobShop-v0",
        vector_entry_point="shopfloor.envs.batch_job_shop:BatchJobShopVectorEnv",
    )

__all__ = [
    "ENV_IDS",
    "MODES",
    "BatchJobShopVectorEnv",
    "DecisionMode",
    "DynamicJobShopEnv",
    "FactoryEnv",
    "GeneratorSpec",
    "InvalidActionError",
    "JobShopEnv",
    "ProductionInventoryEnv",
    "ScheduleTracker",
    "ScheduledStep",
    "parse_mode",
    "replay_sequences",
]
