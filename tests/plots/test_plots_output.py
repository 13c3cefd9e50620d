from __future__ import annotations

from pathlib import Path

from shopfloor.plots._output import output_stem


def test_the_stem_drops_only_image_suffixes(tmp_path):
    assert output_stem(tmp_path / "a.png") == tmp_path / "a"
    assert output_stem(tmp_path / "a.SVG") == tmp_path / "a"
    assert output_stem(tmp_path / "run.v2") == tmp_path / "run.v2"
    assert output_stem("b") == Path("b")


def test_plots_import_without_pyplot():
    import subprocess
    import sys

    code = "import sys, shopfloor.plots; print('matplotlib.pyplot' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_same_data_same_svg(ft06_log, tmp_path):
    from shopfloor.plots import gantt

    first = gantt(ft06_log, tmp_path / "a").paths[1].read_bytes()
    second = gantt(ft06_log, tmp_path / "b").paths[1].read_bytes()
    assert first == second
