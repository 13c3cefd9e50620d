"""Make-to-stock production and inventory: choose what to produce next."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from gymnasium import spaces

from shopfloor.envs._base import FactoryEnv
from shopfloor.envs._source import GeneratorSpec
from shopfloor.sim import FactorySpec, expected_demand

PRODUCT_FEATURES = 7
GLOBAL_FEATURES = 2
RECENT_PERIODS = 4


class ProductionInventoryEnv(FactoryEnv):
    """## Description

    A make-to-stock factory: products with their own demand streams (seasonal, trending,
    intermittent ...), finished-goods stock, backorders or lost sales, and setups when
    the production machine changes family. Whenever the production machine is idle, the
    agent chooses a product and a lot size, or to idle for the scenario's `idle_time`.
    Later stages of a routing, if any, are dispatched first-in first-out.

    ## Action Space

    `Discrete(n_products * n_lot_sizes + 1)`: action `a < n_products * n_lot_sizes`
    produces product `a // n_lot_sizes` in lot size `lot_sizes[a % n_lot_sizes]`; the last
    action idles. Every action is always valid.

    ## Observation Space

    `Box(-1, 1, (2 + 7 * n_products,), float32)`. Stocks are divided by `s_p`, the
    product's mean demand over 10 periods, and clipped.

    | index | feature |
    |---|---|
    | 0, 1 | sin and cos of the seasonal phase of the first seasonal product (0, 1 if none) |
    | 2+7p   | finished goods / s_p |
    | 2+7p+1 | backlog / s_p |
    | 2+7p+2 | last period's demand / (s_p / 10) / 4 |
    | 2+7p+3 | mean demand of the last 4 periods / (s_p / 10) / 4 |
    | 2+7p+4 | units in production / s_p |
    | 2+7p+5 | 1 if the machine is set up for p's family |
    | 2+7p+6 | inventory position (stock - backlog + in production) / s_p |

    All entries are clipped to [-1, 1]. The forecast wrapper appends demand forecasts.

    ## Rewards

    Minus the cost accrued between choices (holding, backorder, lost sales, setup and
    raw-material ordering), divided by the cost scale (total mean demand per period
    times the largest unit cost, times 10 periods). Rewards sum to
    `-total cost / scale`; `info["total_cost"]` gives the total at the end.

    ## Starting State

    t=0 with the scenario's initial stocks, machine not set up.

    ## Episode End

    Terminates at the scenario's horizon.

    ## Arguments

    `scenario` (YAML path or bundled name, default `"production_inventory"`) or `spec`;
    `render_mode` `"ansi"` or `"rgb_array"`.

    ## Version History

    * v0: Initial version.
    """

    def __init__(
        self,
        scenario: str | None = None,
        spec: FactorySpec | None = None,
        render_mode: str | None = None,
        instance: str | None = None,
        generator: GeneratorSpec | Mapping[str, Any] | None = None,
    ):
        if scenario is None and spec is None and instance is None and generator is None:
            scenario = "production_inventory"
        super().__init__(scenario, instance, spec, generator, render_mode)
        example = self.source.example()
        if example.production is None:
            raise ValueError(
                f"ProductionInventory needs a scenario with a production section; "
                f"{example.name!r} has none"
            )
        self.n_products = len(example.products)
        self.lot_sizes = example.production.lot_sizes
        self.action_space = spaces.Discrete(self.n_products * len(self.lot_sizes) + 1)
        size = GLOBAL_FEATURES + PRODUCT_FEATURES * self.n_products
        self._size = size
        self.observation_space = spaces.Box(-1.0, 1.0, (size,), dtype=np.float32)
        self._stock_scale = []
        for product in example.products:
            mean = product.demand.rate if product.demand is not None else 1.0
            self._stock_scale.append(max(10.0 * mean, 1.0))
        unit_cost = max(
            max(p.backorder_cost, p.lost_sale_cost, p.holding_cost) for p in example.products
        )
        demand = sum(p.demand.rate for p in example.products if p.demand is not None)
        self._cost_scale = max(10.0 * unit_cost * demand, 1e-9)
        seasonal = [
            p.demand.season_length
            for p in example.products
            if p.demand is not None and p.demand.season_length > 0
        ]
        self._season = seasonal[0] if seasonal else 0

    def _agent_decides(self) -> bool:
        return self.factory.decision_kind() == "produce"

    def _resolve(self) -> None:
        factory = self.factory
        machine = factory.decision_machine()
        factory.start(factory.queue(machine)[0], machine)

    def _apply(self, action: int) -> None:
        if action == self.n_products * len(self.lot_sizes):
            self.factory.idle()
            return
        product, lot = divmod(action, len(self.lot_sizes))
        self.factory.produce(product, self.lot_sizes[lot])

    def _observation(self) -> np.ndarray:
        factory = self.factory
        spec = factory.spec
        observation = np.zeros(self._size, dtype=np.float32)
        period = int(factory.now // spec.demand_period)
        if self._season:
            angle = 2 * math.pi * (period % self._season) / self._season
            observation[0], observation[1] = math.sin(angle), math.cos(angle)
        else:
            observation[1] = 1.0
        stock = factory.finished_goods
        backlog = factory.backlog
        in_production = [0.0] * self.n_products
        for job in factory.open_jobs():
            product = factory.product_of(job)
            if product >= 0:
                in_production[product] += factory.quantity(job)
        family = factory.production_machine_family
        for index, product_spec in enumerate(spec.products):
            scale = self._stock_scale[index]
            per_period = scale / 10.0
            history = factory.demand_history[index]
            recent = history[-RECENT_PERIODS:]
            row = observation[GLOBAL_FEATURES + index * PRODUCT_FEATURES :][:PRODUCT_FEATURES]
            row[0] = stock[index] / scale
            row[1] = backlog[index] / scale
            row[2] = (history[-1] if history else 0.0) / per_period / 4
            row[3] = (sum(recent) / len(recent) if recent else 0.0) / per_period / 4
            row[4] = in_production[index] / scale
            row[5] = float(family == product_spec.family)
            row[6] = (stock[index] - backlog[index] + in_production[index]) / scale
        np.clip(observation, -1.0, 1.0, out=observation)
        return observation

    def expected_demand(self, horizon: int) -> np.ndarray:
        """True expected demand of the next ``horizon`` periods per product (the oracle)."""
        factory = self.factory
        period = int(factory.now // factory.spec.demand_period)
        result = np.zeros((self.n_products, horizon), dtype=np.float64)
        for index, product in enumerate(factory.spec.products):
            if product.demand is not None:
                for step in range(horizon):
                    result[index, step] = expected_demand(product.demand, period + step)
        return result

    objective_name = "total_cost"

    def episode_objective(self) -> float:
        """Total cost so far."""
        return self.factory.cost_so_far()

    def _accrued(self) -> float:
        return self.factory.cost_so_far()

    def _reward_scale(self) -> float:
        return self._cost_scale

    def _info(self) -> dict[str, Any]:
        info = super()._info()
        if self.factory.done:
            kpis = self.factory.kpis()
            info["total_cost"] = kpis.total_cost
            info["fill_rate"] = kpis.fill_rate
        return info
