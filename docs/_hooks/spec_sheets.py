"""A Griffe extension for the API reference: env classes' spec sheets get a summary line.

An env class's docstring is a spec sheet that opens with ``## Description``, so its first
line (what the API reference shows in its summary tables) would be a heading. This adds
a first line that says what the class is and links to the spec sheet's own page (made
by ``shopfloor_docs.py``, anchored ``spec-sheet-<Class>``). Only the rendered docs
change; the docstring in the code stays as it is.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

SPEC_SHEET_START = "## Description"


def summary_line(class_name: str) -> str:
    """The line put before a spec sheet in the API reference."""
    family = re.sub(r"(Vector)?Env$", "", class_name) or class_name
    return (
        f"The `{family}` env; its spec sheet follows "
        f"(also [on its own page][spec-sheet-{class_name}])."
    )


class SpecSheetSummaries(griffe.Extension):
    """Give each spec-sheet docstring a summary line that links to its page."""

    def on_class(self, *, cls: griffe.Class, **kwargs: Any) -> None:
        """Prepend the summary line to a class docstring that opens with a spec sheet."""
        docstring = cls.docstring
        if docstring is None or not docstring.value.lstrip().startswith(SPEC_SHEET_START):
            return
        docstring.value = f"{summary_line(cls.name)}\n\n{docstring.value.lstrip()}"
