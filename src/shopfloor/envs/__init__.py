"""Gymnasium environments over the SimPy factory, registered under ``shopfloor/``.

* ``shopfloor/JobShop-v0``: static instance, pick the job (masked); objective makespan;
  decision modes ``non_delay`` (default), ``active`` and ``append`` (``mode=``).
* ``shopfloor/DynamicJobShop-v1``: arrivals, due dates, breakdowns; pick a dispatching
  rule (or a job); objective weighted tardiness.
* ``shopfloor/ProductionInventory-v0``: make-to-stock; pick what to produce; objective cost.
* ``shopfloor/BatchJobShop-v0`` (a vector entry point, ``gym.make_vec``): many static
  shops, classic or flexible, stepped together by the batched core, with JobShop-v0's
  spaces, observations and rewards.

:data:`FAMILIES` says what each family accepts and which policies and agents fit it.
"""

from gymnasium.envs.registration import register, registry

from shopfloor.envs._base import FactoryEnv, InvalidActionError
from shopfloor.envs._families import (
    FAMILIES,
    Decisions,
    EnvFamily,
    FamilyRegistry,
    RetiredEnvError,
    check_env_id,
    family_for,
    family_of,
)
from shopfloor.envs._source import GeneratorSpec, SpecSource
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

ENV_IDS = FAMILIES.ids
"""The current id of every env family (one env per id; the batched vector env aside)."""

if "shopfloor/JobShop-v0" not in registry:
    for _family in FAMILIES.values():
        register(id=_family.id, entry_point=_family.entry_point)
    register(
        id="shopfloor/BatchJobShop-v0",
        vector_entry_point="shopfloor.envs.batch_job_shop:BatchJobShopVectorEnv",
    )

__all__ = [
    "ENV_IDS",
    "FAMILIES",
    "MODES",
    "BatchJobShopVectorEnv",
    "DecisionMode",
    "Decisions",
    "DynamicJobShopEnv",
    "EnvFamily",
    "FactoryEnv",
    "FamilyRegistry",
    "GeneratorSpec",
    "InvalidActionError",
    "JobShopEnv",
    "ProductionInventoryEnv",
    "RetiredEnvError",
    "ScheduleTracker",
    "ScheduledStep",
    "SpecSource",
    "check_env_id",
    "family_for",
    "family_of",
    "parse_mode",
    "replay_sequences",
]
