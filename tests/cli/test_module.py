"""``python -m shopfloor`` is the ``shopfloor`` command."""

from __future__ import annotations

import subprocess
import sys

from shopfloor import __version__


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shopfloor", *args], capture_output=True, text=True, timeout=120
    )


def test_python_m_shopfloor_runs_the_cli():
    version = run("--version")
    assert version.returncode == 0 and version.stdout.strip() == f"shopfloor {__version__}"
    simulate = run("simulate", "ft06", "--policy", "spt")
    assert simulate.returncode == 0, simulate.stderr
    assert "makespan" in simulate.stdout


def test_python_m_shopfloor_fails_as_the_cli_does():
    failed = run("simulate", "no_such_instance_xyz")
    assert failed.returncode == 2
    lines = failed.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "no_such_instance_xyz" in lines[0]
