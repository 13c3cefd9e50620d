"""Command line: ``shopfloor simulate | bench | train | run | plot | forecast | ...``.

A failure is one line on stderr: exit 2 for a user error, 70 for a bug (``--debug``
adds the traceback), 130 after Ctrl-C.
"""

from shopfloor.cli._main import build_parser, main

__all__ = ["build_parser", "main"]
