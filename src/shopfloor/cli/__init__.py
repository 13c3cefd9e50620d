"""Command line: ``shopfloor simulate | bench-speed``."""

from shopfloor.cli._main import build_parser, main

__all__ = ["build_parser", "main"]
