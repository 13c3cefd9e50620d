"""Atomic file replacement: the user's umask, no stray temporary files, errors naming the target."""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from shopfloor._atomic import current_umask, replace_atomically, write_text_atomically


@pytest.fixture
def umask() -> Iterator[None]:
    """Restore the process umask after a test that sets it."""
    previous = os.umask(0o022)
    os.umask(previous)
    yield
    os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize(("mask", "expected"), [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_a_replaced_file_keeps_the_umask(tmp_path, umask, mask, expected):
    os.umask(mask)
    assert current_umask() == mask
    target = tmp_path / "shared" / "results.csv"
    write_text_atomically(target, "a,b\n")
    assert _mode(target) == expected
    plain = tmp_path / "plain.csv"
    plain.write_text("x")  # what open() gives, for comparison
    assert _mode(plain) == expected
    target.chmod(0o600)  # a replacement takes the umask again, not the old file's mode
    write_text_atomically(target, "a,b\n1,2\n")
    assert _mode(target) == expected and target.read_text() == "a,b\n1,2\n"


def test_nothing_is_left_behind_when_the_writer_fails(tmp_path):
    target = tmp_path / "model.npz"
    target.write_bytes(b"old")

    def fail(stream):
        stream.write(b"half")
        raise RuntimeError("writer broke")

    with pytest.raises(RuntimeError, match="writer broke"):
        replace_atomically(target, fail)
    assert target.read_bytes() == b"old"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["model.npz"]


def test_a_users_tmp_file_beside_the_target_is_not_touched(tmp_path):
    (tmp_path / "e.csv.tmp").write_text("mine")
    write_text_atomically(tmp_path / "e.csv", "log")
    assert (tmp_path / "e.csv.tmp").read_text() == "mine"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["e.csv", "e.csv.tmp"]


def test_a_folder_as_target_is_named_and_leaves_nothing(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    with pytest.raises(IsADirectoryError) as raised:
        write_text_atomically(folder, "x")
    assert raised.value.filename == str(folder)
    assert list(folder.iterdir()) == [] and [p.name for p in tmp_path.iterdir()] == ["out"]


def test_a_full_disk_is_reported_for_the_target_not_the_temporary_file(tmp_path, monkeypatch):
    def full(descriptor):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))  # as a real write: no name

    monkeypatch.setattr(os, "fsync", full)
    target = tmp_path / "summary.csv"
    with pytest.raises(OSError) as raised:
        write_text_atomically(target, "x")
    assert raised.value.errno == errno.ENOSPC and raised.value.filename == str(target)
    assert list(tmp_path.iterdir()) == []


def test_a_read_only_folder_names_the_target(tmp_path, monkeypatch):
    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(tmp_path / ".x.csv.abc.tmp"))

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    with pytest.raises(OSError) as raised:
        write_text_atomically(tmp_path / "x.csv", "x")
    assert raised.value.errno == errno.EROFS and raised.value.filename == str(tmp_path / "x.csv")


def test_an_error_the_writer_names_keeps_its_name(tmp_path):
    def reads_a_missing_file(stream):
        (tmp_path / "missing.txt").read_bytes()

    with pytest.raises(FileNotFoundError) as raised:
        replace_atomically(tmp_path / "copy.txt", reads_a_missing_file)
    assert raised.value.filename == str(tmp_path / "missing.txt")


def test_the_event_log_is_atomic_and_keeps_the_umask(tmp_path, umask):
    from shopfloor.policies import simulate
    from shopfloor.scenario import resolve_target

    factory = simulate(resolve_target("ft06")[1], "spt", seed=0)
    os.umask(0o002)
    (tmp_path / "e.csv.tmp").write_text("mine")
    path = factory.write_event_log(tmp_path / "e.csv")
    assert _mode(path) == 0o664
    assert path.read_text().splitlines()[0].startswith("time,kind,machine")
    assert (tmp_path / "e.csv.tmp").read_text() == "mine"
    with pytest.raises(IsADirectoryError):
        factory.write_event_log(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e.csv", "e.csv.tmp"]


def test_figures_and_forecast_files_keep_the_umask(tmp_path, umask):
    # white-box: the two writers of figures and forecast files, without a whole run
    from shopfloor.forecast._evaluate import _write_text
    from shopfloor.plots._output import new_figure, save_figure

    os.umask(0o002)
    figure = new_figure(2, 2)
    figure.add_subplot().plot([0, 1], [1, 0])
    png, svg = save_figure(figure, tmp_path / "figs" / "line")
    assert _mode(png) == _mode(svg) == 0o664
    assert png.read_bytes().startswith(b"\x89PNG") and b"<svg" in svg.read_bytes()
    _write_text(tmp_path / "meta.json", "{}\n")
    assert _mode(tmp_path / "meta.json") == 0o664
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]
