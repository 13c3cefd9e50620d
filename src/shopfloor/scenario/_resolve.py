"""One name for anything that can be simulated: scenario, bundled instance or file."""

from __future__ import annotations

import os
from pathlib import Path

from shopfloor.scenario._load import bundled_scenarios, load_scenario
from shopfloor.sim import FactorySpec


def resolve_target(target: str | os.PathLike[str]) -> tuple[str, FactorySpec]:
    """Resolve what the user names into ``(name, FactorySpec)``.

    In order: a ``.yaml``/``.yml`` file is a scenario; another existing file is a
    job-shop instance (OR-Library or Taillard format); a bundled scenario name; a
    bundled instance name.

    Raises:
        FileNotFoundError: A path that does not exist.
        ValueError: A name that is neither a scenario nor an instance (with suggestions).
    """
    from shopfloor.instances import instance_names, load_instance, read_instance

    text = os.fspath(target)
    path = Path(text)
    if path.suffix in (".yaml", ".yml"):
        scenario = load_scenario(path)
        return scenario.name, scenario.factory
    if path.is_file():
        instance = read_instance(path)
        return instance.name, instance.to_factory_spec()
    if text in bundled_scenarios():
        scenario = load_scenario(text)
        return scenario.name, scenario.factory
    try:
        instance = load_instance(text)
    except LookupError as error:
        if "/" in text or os.sep in text:
            raise FileNotFoundError(f"no such file: {text}") from None
        scenarios = ", ".join(sorted(bundled_scenarios()))
        raise ValueError(
            f"{text!r} is neither a file, a bundled scenario ({scenarios}) nor a bundled "
            f"instance ({len(instance_names())} of them, e.g. ft06, la01, ta01): {error}"
        ) from None
    return instance.name, instance.to_factory_spec()
