"""One style per policy: agents and baselines never share a colour."""

from __future__ import annotations

from pathlib import Path

import pytest

from shopfloor.plots import _palette
from shopfloor.plots._palette import AGENT, BASELINE, is_baseline, style
from shopfloor.policies import policy_names

AGENT_FILES = sorted(p.stem for p in (Path(__file__).parents[2] / "agents").glob("*.yaml"))


def test_every_bundled_policy_is_a_baseline_and_every_agent_an_agent():
    assert AGENT_FILES  # the bundled agents/*.yaml
    for name in policy_names():
        assert is_baseline(name), name
        assert style(name).kind == BASELINE
    for name in AGENT_FILES:
        assert not is_baseline(name), name
        assert style(name).kind == AGENT
        assert style(name).linestyle == "-" and style(name).hatch is None


def test_agent_and_baseline_colours_are_disjoint():
    agents = set(_palette.AGENT_COLOURS.values()) | set(_palette.AGENT_SPARE)
    baselines = set(_palette.BASELINE_COLOURS.values()) | set(_palette.BASELINE_SPARE)
    assert not agents & baselines
    # Whatever a name is, its colour comes from its kind's set.
    for name in [*policy_names(), *AGENT_FILES, "my_agent", "run_2024", "pretrained:js15"]:
        look = style(name)
        assert look.colour in (baselines if look.kind == BASELINE else agents)
        assert style(name, AGENT).colour in agents
        assert style(name, BASELINE).colour in baselines


def test_the_bundled_agents_have_distinct_colours():
    colours = [style(name).colour for name in AGENT_FILES]
    assert len(set(colours)) == len(colours)


def test_a_name_keeps_its_style():
    # Unknown names hash with CRC-32, which does not change between processes.
    assert style("My_Agent") == style("my_agent")
    assert style("unknown-rule", BASELINE).colour in _palette.BASELINE_SPARE
    assert style("spt").colour == _palette.BASELINE_COLOURS["spt"]
    assert style("ppo").colour == _palette.AGENT_COLOURS["ppo"]


def test_a_bad_kind_is_an_error():
    with pytest.raises(ValueError, match="kind must be"):
        style("spt", "rule")
