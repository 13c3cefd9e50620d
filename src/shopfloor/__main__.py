"""``python -m shopfloor``: the ``shopfloor`` command, for when the script is not on PATH."""

import sys

from shopfloor.cli import main

if __name__ == "__main__":
    sys.exit(main())
