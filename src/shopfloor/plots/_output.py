"""Figures without a display: Agg canvases saved as PNG and SVG side by side."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from shopfloor._atomic import replace_atomically

FORMATS = (".png", ".svg")
DPI = 150


def new_figure(width: float, height: float) -> Figure:
    """A figure on an Agg canvas (never pyplot, so no display and no global state)."""
    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def output_stem(out: str | os.PathLike[str]) -> Path:
    """``out`` without a ``.png``/``.svg`` suffix (any other suffix is kept)."""
    path = Path(out)
    return path.with_suffix("") if path.suffix.lower() in FORMATS else path


def save_figure(figure: Figure, out: str | os.PathLike[str]) -> tuple[Path, Path]:
    """Write ``figure`` as ``<stem>.png`` and ``<stem>.svg``, creating the folder.

    The SVG carries no date and stable element ids, so the same data gives the same file.
    Each file is written atomically (a crash leaves the old figure or the new one) and
    keeps the user's umask.

    Returns:
        The PNG and SVG paths.
    """
    stem = output_stem(out)
    png, svg = (stem.with_name(stem.name + suffix) for suffix in FORMATS)
    with matplotlib.rc_context({"svg.hashsalt": "shopfloor"}):
        replace_atomically(png, lambda stream: figure.savefig(stream, format="png", dpi=DPI))
        replace_atomically(
            svg, lambda stream: figure.savefig(stream, format="svg", metadata={"Date": None})
        )
    return png, svg
