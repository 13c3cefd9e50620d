"""One colour and line style per policy, the same in every figure.

Agents (anything that learns) draw in saturated colours with solid lines and plain
bars; baselines (dispatching rules, inventory heuristics, CP-SAT, forecasting
baselines) in greys, browns and olives with dashed or dotted lines and hatched bars,
so an agent is never read as a baseline. A name keeps its style whatever else is in
the figure: known names have a fixed entry, other names get one from their CRC-32
(stable across runs and machines, unlike ``hash``).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from matplotlib.typing import LineStyleType

AGENT = "agent"
BASELINE = "baseline"

AGENT_COLOURS: dict[str, str] = {
    "qlearning": "#2ca02c",  # green
    "q_learning": "#2ca02c",
    "ppo": "#1f77b4",  # blue
    "maskable_ppo": "#9467bd",  # purple
    "dqn": "#ff7f0e",  # orange
    "a2c": "#17becf",  # cyan
    "rollout": "#d62728",  # red
    "self_labelling": "#e377c2",  # pink
    "pretrained": "#e377c2",
    "model": "#d62728",  # the forecaster
}
"""Fixed colours of the bundled agents (and of the forecasting model)."""

AGENT_SPARE = (
    "#e377c2",  # pink
    "#1f77b4",
    "#2ca02c",
    "#9467bd",
    "#ff7f0e",
    "#17becf",
    "#d62728",
    "#0000ff",  # pure blue
    "#ff00ff",  # magenta
    "#00a000",  # bright green
)
"""Saturated colours for other agent names (by CRC-32 of the name)."""

BASELINE_COLOURS: dict[str, str] = {
    "fifo": "#7f7f7f",  # grey
    "spt": "#8c564b",  # brown
    "lpt": "#c49c94",  # light brown
    "mwkr": "#000000",  # black
    "lwkr": "#b0b0b0",  # silver
    "mopnr": "#556b2f",  # dark olive
    "edd": "#b8860b",  # dark goldenrod
    "cr": "#bc8f8f",  # rosy brown
    "atc": "#2f4f4f",  # dark slate
    "atcjs": "#404040",  # dark grey
    "wspt": "#808000",  # olive
    "slack": "#a0522d",  # sienna
    "random": "#d2b48c",  # tan
    "batch-random": "#d2b48c",
    "basestock": "#404040",
    "cpsat": "#800000",  # maroon
    "naive": "#7f7f7f",
    "seasonal_naive": "#8c564b",
    "moving_average": "#b8860b",
    "croston": "#556b2f",
    "tsb": "#808000",
    "zero": "#b0b0b0",
}
"""Fixed colours of the bundled baselines: rules, heuristics, CP-SAT, forecast baselines."""

BASELINE_SPARE = ("#8c564b", "#556b2f", "#b8860b", "#2f4f4f", "#a0522d", "#808000", "#7f7f7f")
"""Muted colours for other baseline names (by CRC-32 of the name)."""

DASHES: tuple[LineStyleType, ...] = ("--", ":", "-.", (0, (5, 1, 1, 1, 1, 1)))
"""Baseline line styles, by name, so two baselines of close colours still differ."""

HATCHES = ("//", "\\\\", "xx", "..")
"""Baseline bar hatches, chosen like :data:`DASHES`."""


@dataclass(frozen=True)
class Style:
    """How one policy is drawn.

    Attributes:
        colour: A matplotlib colour.
        linestyle: ``"-"`` for agents, a dash pattern for baselines.
        hatch: ``None`` for agents' bars, a hatch for baselines'.
        kind: ``"agent"`` or ``"baseline"``.
    """

    colour: str
    linestyle: LineStyleType
    hatch: str | None
    kind: str


def _crc(name: str) -> int:
    return zlib.crc32(name.encode("utf-8"))


def is_baseline(name: str) -> bool:
    """Whether ``name`` is a known baseline (a rule, heuristic, solver or forecast baseline).

    ``pretrained:...`` models, run folders and other names count as agents.
    """
    key = name.strip().lower()
    return key in BASELINE_COLOURS or key.replace("-", "_") in BASELINE_COLOURS


def style(name: str, kind: str | None = None) -> Style:
    """The fixed style of a policy.

    Args:
        name: The policy, agent or method name as the figure labels it.
        kind: ``"agent"`` or ``"baseline"`` when the caller knows it (a run's agent,
            a summary's ``kind`` column); ``None``: :func:`is_baseline` decides.

    Raises:
        ValueError: ``kind`` is neither.
    """
    if kind is None:
        kind = BASELINE if is_baseline(name) else AGENT
    if kind not in (AGENT, BASELINE):
        raise ValueError(f"kind must be {AGENT!r} or {BASELINE!r}, got {kind!r}")
    key = name.strip().lower()
    crc = _crc(key)
    if kind == AGENT:
        colour = AGENT_COLOURS.get(key) or AGENT_COLOURS.get(key.replace("-", "_"))
        return Style(colour or AGENT_SPARE[crc % len(AGENT_SPARE)], "-", None, AGENT)
    colour = BASELINE_COLOURS.get(key) or BASELINE_COLOURS.get(key.replace("-", "_"))
    return Style(
        colour or BASELINE_SPARE[crc % len(BASELINE_SPARE)],
        DASHES[crc % len(DASHES)],
        HATCHES[crc % len(HATCHES)],
        BASELINE,
    )
