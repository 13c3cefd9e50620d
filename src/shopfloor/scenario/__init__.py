"""Scenario files: the factories in ``envs/*.yaml``, typed, validated and loaded.

A scenario file is the YAML form of a :class:`shopfloor.sim.FactorySpec` that uses
names where the simulation uses indices, plus a header (``name``, ``description``
and an ``env:`` section the env layer reads), or ``instance: ft06`` to wrap a
bundled benchmark instance. :func:`load_scenario` turns one into a
:class:`Scenario`; anything wrong is a :class:`ScenarioError` naming the file, the
field path and the offending value. ``envs/README.md`` documents every field.

Example:
    >>> from shopfloor.scenario import load_scenario
    >>> scenario = load_scenario("flow_shop_small")  # doctest: +SKIP
    >>> len(scenario.factory.machines)  # doctest: +SKIP
    2
"""

from shopfloor.scenario._errors import Problem, ScenarioError
from shopfloor.scenario._load import (
    Scenario,
    bundled_scenarios,
    envs_dir,
    load_scenario,
    parse_scenario,
    scenario_path,
)
from shopfloor.scenario._resolve import resolve_target
from shopfloor.scenario._schema import ScenarioFile

__all__ = [
    "Problem",
    "Scenario",
    "ScenarioError",
    "ScenarioFile",
    "bundled_scenarios",
    "envs_dir",
    "load_scenario",
    "parse_scenario",
    "resolve_target",
    "scenario_path",
]
