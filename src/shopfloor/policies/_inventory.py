"""Make-to-stock production heuristics.

Base-stock with the most urgent product first: each product has a target position of
``cover`` periods of expected demand plus a safety allowance; the product furthest
below its target (relative to its demand) is produced, in the smallest allowed lot
that closes the gap; when every product is at or above target the machine idles.
A textbook policy for the stochastic economic lot scheduling problem (Winands, Adan &
van Houtum 2011, "The stochastic economic lot scheduling problem: a survey", EJOR).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from shopfloor.sim import Factory, expected_demand


@dataclass(frozen=True)
class BaseStockPolicy:
    """Produce the product most below its base-stock level.

    Attributes:
        cover: Periods of expected demand the target position covers.
        safety: Extra standard deviations of Poisson demand over the cover.
    """

    cover: float = 4.0
    safety: float = 1.0

    def __post_init__(self) -> None:
        if self.cover <= 0 or self.safety < 0:
            raise ValueError("cover must be > 0 and safety >= 0")

    def choose(self, factory: Factory) -> tuple[int, int] | None:
        """The ``(product, lot size)`` to produce now, or ``None`` to idle."""
        spec = factory.spec
        production = spec.production
        assert production is not None
        period = int(factory.now // spec.demand_period)
        stock = factory.finished_goods
        backlog = factory.backlog
        best: tuple[float, int, float] | None = None
        for index, product in enumerate(spec.products):
            if product.demand is None:
                continue
            horizon = range(period, period + max(1, math.ceil(self.cover)))
            mean = sum(expected_demand(product.demand, t) for t in horizon)
            target = mean + self.safety * math.sqrt(mean)
            gap = target - (stock[index] - backlog[index])
            if gap <= 0:
                continue
            urgency = gap / max(mean, 1e-9)
            if best is None or urgency > best[0]:
                best = (urgency, index, gap)
        if best is None:
            return None
        _, product_index, gap = best
        lots = sorted(production.lot_sizes)
        lot = next((q for q in lots if q >= gap), lots[-1])
        return product_index, lot
