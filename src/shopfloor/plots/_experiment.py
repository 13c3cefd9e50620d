"""The figures of a finished experiment: learning curves per env, a Gantt chart per agent.

Drawn from the run folders alone, after :func:`~shopfloor.experiments.run_experiment`
(the CLI passes :func:`experiment_figures` to it; experiments never import plots).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from shopfloor.plots._gantt import gantt
from shopfloor.plots._learning import learning_curves

if TYPE_CHECKING:
    from shopfloor.experiments import ExperimentSpec


def experiment_figures(
    spec: ExperimentSpec, root: str | os.PathLike[str], out: str | os.PathLike[str]
) -> list[Path]:
    """Learning curves per env and a Gantt chart of each agent's last evaluation episode.

    Args:
        spec: The experiment.
        root: Its ``runs/`` folder (the runs are under ``<root>/<spec.name>``).
        out: Where the figures go (``learning_curves_<env>``, ``gantt_<env>_<agent>``,
            PNG and SVG; the Gantt chart is of the first seed's final policy).

    Returns:
        The files written.
    """
    out = Path(out)
    figures: list[Path] = []
    experiment_dir = Path(root) / spec.name
    for env in spec.envs:
        drawn = learning_curves(experiment_dir, out / f"learning_curves_{env.name}", env=env.name)
        figures.extend(drawn.paths)
        for agent in spec.agents_for(env):
            events = experiment_dir / env.name / agent / f"seed_{spec.seeds[0]}" / "eval_events.csv"
            if events.is_file():
                title = f"{env.name}: {agent} (seed {spec.seeds[0]}), last evaluation episode"
                chart = gantt(events, out / f"gantt_{env.name}_{agent}", title=title)
                figures.extend(chart.paths)
    return figures
