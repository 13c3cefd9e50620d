"""Make-to-stock production heuristics: base-stock and (s, S) with a product sequence.

Each product has an order-up-to level ``S`` of ``cover`` periods of expected demand plus
``safety`` standard deviations (Poisson), and a reorder level ``s`` of ``reorder_cover``
periods (plus the same safety). A product is a candidate when its inventory position
(stock - backlog) is at or below ``s``; with ``reorder_cover`` equal to ``cover`` this is a
base-stock policy. Among candidates the machine makes the most urgent one (largest gap to
``S`` relative to demand) or, with ``sequence="cyclic"``, the next one in a fixed cyclic
order; the lot is the smallest allowed size that closes the gap to ``S``. With no
candidate it idles. Textbook policies for the stochastic economic lot scheduling problem
(Winands, Adan & van Houtum 2011, "The stochastic economic lot scheduling problem: a
survey", EJOR 210(1)).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from shopfloor.sim import Factory, expected_demand

SEQUENCES = ("urgent", "cyclic")


MAX_COVER = 1000.0
"""Largest cover (periods) and safety factor: the level sums the demand of each period."""


@dataclass(frozen=True)
class BaseStockPolicy:
    """Produce a product whose position fell to its reorder level, up to its target.

    Attributes:
        cover: Periods of expected demand the order-up-to level ``S`` covers.
        safety: Extra standard deviations of Poisson demand on both levels.
        reorder_cover: Periods covered by the reorder level ``s`` (``None``: ``cover``,
            a base-stock policy; smaller: an (s, S) policy with bigger, rarer lots).
        sequence: ``"urgent"`` (largest relative gap first) or ``"cyclic"`` (products
            in index order, skipping those above ``s``).
    """

    cover: float = 4.0
    safety: float = 1.0
    reorder_cover: float | None = None
    sequence: str = "urgent"

    def __post_init__(self) -> None:
        if not 0 < self.cover <= MAX_COVER or not 0 <= self.safety <= MAX_COVER:
            raise ValueError(
                f"cover must be in (0, {MAX_COVER}] and safety in [0, {MAX_COVER}], "
                f"got cover {self.cover!r} and safety {self.safety!r}"
            )
        if self.reorder_cover is not None and not 0 <= self.reorder_cover <= self.cover:
            raise ValueError("reorder_cover must lie in [0, cover]")
        if self.sequence not in SEQUENCES:
            raise ValueError(f"sequence must be one of {SEQUENCES}, got {self.sequence!r}")

    @staticmethod
    def _mean(factory: Factory, product: int, periods: float) -> float:
        """Expected demand of the next ``periods`` periods."""
        spec = factory.spec
        demand = spec.products[product].demand
        assert demand is not None
        period = int(factory.now // spec.demand_period)
        horizon = range(period, period + max(1, math.ceil(periods)))
        return sum(expected_demand(demand, t) for t in horizon) * periods / len(horizon)

    def _level(self, factory: Factory, product: int, periods: float) -> float:
        mean = self._mean(factory, product, periods)
        return mean + self.safety * math.sqrt(mean)

    def choose(self, factory: Factory) -> tuple[int, int] | None:
        """The ``(product, lot size)`` to produce now, or ``None`` to idle."""
        spec = factory.spec
        production = spec.production
        assert production is not None
        stock, backlog = factory.finished_goods, factory.backlog
        reorder = self.cover if self.reorder_cover is None else self.reorder_cover
        candidates: list[tuple[float, int, float]] = []
        for index, product in enumerate(spec.products):
            if product.demand is None:
                continue
            position = stock[index] - backlog[index]
            target = self._level(factory, index, self.cover)
            if position > self._level(factory, index, reorder) or position >= target:
                continue
            demand = max(self._mean(factory, index, self.cover), 1e-9)
            candidates.append(((target - position) / demand, index, target - position))
        if not candidates:
            return None
        if self.sequence == "cyclic":
            count = len(spec.products)
            last = _last_produced(factory)
            _, product_index, gap = min(candidates, key=lambda c: (c[1] - last - 1) % count)
        else:
            _, product_index, gap = max(candidates, key=lambda c: (c[0], -c[1]))
        lots = sorted(production.lot_sizes)
        lot = next((q for q in lots if q >= gap), lots[-1])
        return product_index, lot


def _last_produced(factory: Factory) -> int:
    """The product of the latest production choice (-1 before the first)."""
    for entry in reversed(factory.log):
        if entry[1] == "produce":
            return int(entry[5])
    return -1
