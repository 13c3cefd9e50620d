"""Every failure of the ``shopfloor`` command is one line on stderr with a clear exit code.

User errors (bad values, files that cannot be read or written, a scenario that cannot
run) print ``error: ...`` and exit 2; a bug prints ``internal error: ...`` and exits 70;
``--debug`` adds the traceback. Argument errors are one line from argparse, exit 2.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

import shopfloor.cli._main as cli
from shopfloor.cli import build_parser, main

HINT = " (run again with --debug for the traceback)"


def _fail_with(monkeypatch: pytest.MonkeyPatch, error: BaseException) -> None:
    """Make ``shopfloor simulate`` raise ``error``."""

    def handler(args: argparse.Namespace) -> int:
        raise error

    monkeypatch.setattr(cli, "_simulate", handler)


def _argument_error(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    """The one stderr line of an argument ``main`` refuses (exit 2, nothing on stdout)."""
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    return captured.err


# --------------------------------------------------------------------- user errors


@pytest.mark.parametrize(
    ("error", "line"),
    [
        (ValueError("bad value"), "error: bad value"),
        (KeyError("no such rule 'x'"), "error: no such rule 'x'"),
        (
            FileNotFoundError(errno.ENOENT, "No such file or directory", "/data/s.yaml"),
            "error: /data/s.yaml: No such file or directory (check the path)",
        ),
        (
            PermissionError(errno.EACCES, "Permission denied", "/shared/runs"),
            "error: /shared/runs: Permission denied "
            "(check its permissions, or choose a folder you can write to)",
        ),
        (
            IsADirectoryError(errno.EISDIR, "Is a directory", "/tmp/out"),
            "error: /tmp/out: Is a directory (that is a folder; give a file)",
        ),
        (
            OSError(errno.ENOSPC, "No space left on device", "/runs/progress.csv"),
            "error: /runs/progress.csv: No space left on device "
            "(the disk is full; free some space or write somewhere else)",
        ),
        (
            OSError(errno.EROFS, "Read-only file system", "/mnt/ro/e.csv"),
            "error: /mnt/ro/e.csv: Read-only file system "
            "(the file system is read-only; write somewhere else)",
        ),
        (
            yaml.YAMLError("while parsing\n  a block mapping"),
            "error: while parsing a block mapping",
        ),
    ],
)
def test_a_user_error_is_one_line_on_stderr_exit_2(monkeypatch, capsys, error, line):
    _fail_with(monkeypatch, error)
    assert main(["simulate", "ft06"]) == 2
    captured = capsys.readouterr()
    assert captured.err == line + "\n"
    assert captured.out == ""


def test_a_scenario_that_can_never_progress_is_a_user_error(monkeypatch, capsys):
    from shopfloor.sim import DeadlockError

    _fail_with(monkeypatch, DeadlockError("material m1 can never be stocked"))
    assert main(["simulate", "ft06"]) == 2
    assert capsys.readouterr().err == "error: material m1 can never be stocked\n"


def test_a_huge_message_is_cut_to_one_short_line(monkeypatch, capsys):
    _fail_with(monkeypatch, ValueError("value " + "x" * 10**6 + "\nsecond line"))
    started = time.perf_counter()
    assert main(["simulate", "ft06"]) == 2
    assert time.perf_counter() - started < 5
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: value xxx")
    assert err.endswith("...\n") and len(err) <= len("error: ") + 300 + 1


def test_markup_and_paths_are_printed_as_they_are(monkeypatch, capsys):
    path = "/tmp/[bold]runs[/bold]/a  b/[x].csv"
    _fail_with(monkeypatch, FileNotFoundError(errno.ENOENT, "No such file or directory", path))
    assert main(["simulate", "ft06"]) == 2
    assert capsys.readouterr().err == f"error: {path}: No such file or directory (check the path)\n"


def test_ctrl_c_keeps_its_message_on_stderr_and_exits_130(monkeypatch, capsys):
    _fail_with(monkeypatch, KeyboardInterrupt())
    assert main(["simulate", "ft06"]) == 130
    assert capsys.readouterr().err == (
        "interrupted (a training run resumes from its last checkpoint)\n"
    )


def test_a_missing_scenario_file_is_one_line(tmp_path, capsys):
    assert main(["simulate", str(tmp_path / "nope.yaml")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "nope.yaml" in err


# ------------------------------------------------------------------------- bugs


def test_a_bug_is_one_line_exit_70_without_a_traceback(monkeypatch, capsys):
    _fail_with(monkeypatch, TypeError("unsupported operand\nfor +"))
    assert main(["simulate", "ft06"]) == 70
    captured = capsys.readouterr()
    assert captured.err == "internal error: TypeError: unsupported operand for +" + HINT + "\n"
    assert "Traceback" not in captured.err + captured.out


@pytest.mark.parametrize("argv", [["--debug", "simulate", "ft06"], ["simulate", "ft06", "--debug"]])
def test_debug_before_or_after_the_command_prints_the_traceback(monkeypatch, capsys, argv):
    _fail_with(monkeypatch, RuntimeError("boom"))
    assert main(argv) == 70
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):")
    assert "in handler" in err and "raise error" in err
    assert err.endswith("RuntimeError: boom\ninternal error: RuntimeError: boom\n")


def test_debug_shows_the_traceback_of_a_user_error_too(monkeypatch, capsys):
    _fail_with(monkeypatch, ValueError("bad"))
    assert main(["simulate", "ft06", "--debug"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Traceback") and err.endswith("ValueError: bad\nerror: bad\n")


def test_debug_changes_nothing_when_all_goes_well(capsys):
    assert main(["--debug", "simulate", "ft06", "--json"]) == 0
    assert main(["simulate", "ft06", "--json", "--debug"]) == 0
    first, second = capsys.readouterr().out.splitlines()
    assert first == second and json.loads(first)["makespan"] > 0


def test_the_console_script_prints_one_line_and_no_traceback(tmp_path):
    command = [sys.executable, "-m", "shopfloor.cli", "simulate", str(tmp_path / "none.yaml")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1
    assert "none.yaml" in done.stderr


# ------------------------------------------------------------- disk full, read-only


def test_a_full_disk_while_writing_the_event_log_names_the_file(tmp_path, monkeypatch, capsys):
    def full(descriptor: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    events = tmp_path / "e.csv"
    assert main(["simulate", "ft06", "--events-csv", str(events)]) == 2
    assert capsys.readouterr().err == (
        f"error: {events}: {os.strerror(errno.ENOSPC)} "
        "(the disk is full; free some space or write somewhere else)\n"
    )
    assert list(tmp_path.iterdir()) == []  # no temporary file left


def test_a_read_only_file_system_names_the_file(tmp_path, monkeypatch, capsys):
    def read_only(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(tmp_path / ".e.csv.x.tmp"))

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    events = tmp_path / "e.csv"
    assert main(["simulate", "ft06", "--events-csv", str(events)]) == 2
    assert capsys.readouterr().err == (
        f"error: {events}: {os.strerror(errno.EROFS)} "
        "(the file system is read-only; write somewhere else)\n"
    )


def _as_a_plain_user(argv: list[str]) -> subprocess.CompletedProcess[str]:
    """Run ``shopfloor argv`` as this user, or as ``nobody`` when this is root.

    Root writes into any folder whatever its mode, so a read-only folder is only
    read-only to another user; without ``setpriv`` to become one, the test is skipped
    (the simulated EROFS and ENOSPC tests above still run).
    """
    command = [sys.executable, "-m", "shopfloor.cli", *argv]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: a mode 0555 folder is writable")
        command = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", *command]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


@pytest.fixture
def shared_folder() -> Iterator[Path]:
    """A folder every user can reach (pytest's tmp_path is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="shopfloor-ro-"))
    folder.chmod(0o755)
    yield folder
    for path in folder.rglob("*"):
        if path.is_dir():
            path.chmod(0o755)
    shutil.rmtree(folder)


def test_a_read_only_folder_is_named_in_one_line(shared_folder):
    read_only = shared_folder / "ro"
    read_only.mkdir()
    read_only.chmod(0o555)
    done = _as_a_plain_user(["simulate", "ft06", "--events-csv", str(read_only / "e.csv")])
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == (
        f"shopfloor simulate: error: argument --events-csv: folder {read_only} is not "
        "writable; choose a folder you can write to (see shopfloor simulate --help)\n"
    )
    results = shared_folder / "results"
    (results / "taken").mkdir(parents=True)
    results.chmod(0o777)
    (results / "taken").chmod(0o555)  # empty, so accepted, but not writable
    command = ["bench", "--policies", "spt", "--instances", "ft06", "--seeds", "1"]
    command += ["--workers", "1", "--no-progress", "--out", str(results), "--name", "taken"]
    done = _as_a_plain_user(command)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith(f"error: {results / 'taken'}/")
    assert done.stderr.endswith(
        ": Permission denied (check its permissions, or choose a folder you can write to)\n"
    )
    assert list((results / "taken").iterdir()) == []


# ------------------------------------------------------------------- arguments


def test_an_events_csv_that_is_a_folder_is_refused_and_nothing_is_written(tmp_path, capsys):
    folder = tmp_path / "logs"
    folder.mkdir()
    err = _argument_error(capsys, ["simulate", "ft06", "--events-csv", str(folder)])
    assert err == (
        f"shopfloor simulate: error: argument --events-csv: {folder} is a folder; give a "
        "file name in it (see shopfloor simulate --help)\n"
    )
    assert [path.name for path in tmp_path.iterdir()] == ["logs"]
    assert list(folder.iterdir()) == []


def test_an_events_csv_in_a_missing_folder_is_refused(tmp_path, capsys):
    events = tmp_path / "missing" / "e.csv"
    err = _argument_error(capsys, ["simulate", "ft06", "--events-csv", str(events)])
    assert f"argument --events-csv: folder {events.parent} does not exist; create it" in err
    file = tmp_path / "file"
    file.write_text("")
    err = _argument_error(capsys, ["simulate", "ft06", "--events-csv", str(file / "e.csv")])
    assert f"folder {file} is a file, not a folder" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["bench", "--out"],
        ["train", "--agent", "qlearning", "--root"],
        ["run", "experiments/quickstart.yaml", "--root"],
        ["run", "experiments/quickstart.yaml", "--results"],
        ["forecast", "train", "production_inventory", "--out"],
    ],
)
def test_an_output_folder_under_a_file_is_refused(tmp_path, capsys, argv):
    file = tmp_path / "file"
    file.write_text("")
    err = _argument_error(capsys, [*argv, str(file / "sub")])
    assert f"{file} is a file, not a folder" in err


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("rules=[atc", "rules: not valid YAML, line 1, column 5: expected ',' or ']'"),
        ("slots", "'slots' is not key=value with a name as the key"),
        ("=3", "'=3' is not key=value"),
        ("a b=3", "'a b=3' is not key=value"),
        ("slots=.inf", "slots: numbers must be finite (no .inf or .nan)"),
        ("rules=[.nan]", "rules: numbers must be finite"),
        ("x=\0", "x: line 1, column 1: a NUL character is not allowed in YAML"),
        (
            "x=" + "[" * 200 + "]" * 200,
            "x: line 1, column 17: lists and mappings nested more than 16 deep",
        ),
        ("x=" + "y" * 20_000, "x: the text has 20,000 characters; the limit is 10,000"),
    ],
)
def test_a_bad_env_kwarg_is_one_line(capsys, value, message):
    for command in (["train", "--agent", "qlearning"], ["bench-train"]):
        err = _argument_error(capsys, [*command, "--env-kwarg", value])
        assert f"argument --env-kwarg: {message}" in err
        assert len(err) < 400


def test_an_env_kwarg_alias_bomb_is_refused_quickly(capsys):
    bomb = "[" + ",".join(["&a [1,1,1,1,1,1,1,1,1]"] + ["*a"] * 9) + "]"
    nested = "x={a: &a [1,1,1,1,1,1,1,1,1,1], b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]"
    nested += ", c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b], d: [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]}"
    started = time.perf_counter()
    err = _argument_error(capsys, ["train", "--agent", "qlearning", "--env-kwarg", nested])
    assert time.perf_counter() - started < 5
    assert "expands to more than 10,000 values" in err
    assert cli._env_kwarg("x=" + bomb) == ("x", [[1] * 9] * 10)


def test_env_kwargs_reach_the_env_as_plain_data():
    parsed = build_parser().parse_args(
        ["train", "--agent", "ppo", "--env-kwarg", "rules=[atc, edd]", "--env-kwarg", "slots=4"]
    )
    assert cli._env_kwargs(parsed) == {"rules": ["atc", "edd"], "slots": 4}
    generated = build_parser().parse_args(
        ["train", "--agent", "ppo", "--env-kwarg", "generator={jobs: 3, machines: 2}"]
    )
    cli._resolve_env(generated)
    assert generated.env == "shopfloor/JobShop-v0"


def _every_option() -> list[tuple[str, argparse.Action]]:
    """(command, action) for every option and positional of every command."""
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return [
        (name, action)
        for name, command in commands.choices.items()
        for action in command._actions
        if action.option_strings or action.dest != "help"
    ]


def test_no_option_takes_a_bare_float_or_int():
    """``type=float`` takes inf and nan, ``type=int`` any size: each has a checked type."""
    loose = [
        f"{name} {action.option_strings or action.dest}"
        for name, action in _every_option()
        if action.type in (float, int)
    ]
    assert loose == []


NUMBERS = [
    (name, action)
    for name, action in _every_option()
    if callable(action.type)
    and str(getattr(action.type, "__name__", "")).startswith(("int", "num"))
]


@pytest.mark.parametrize(
    ("name", "action"), NUMBERS, ids=[f"{n}{a.option_strings}" for n, a in NUMBERS]
)
@pytest.mark.parametrize("text", ["inf", "-inf", "nan", "1e999", "9" * 5000, "", "1x"])
def test_every_number_option_refuses_non_finite_and_huge_values(name, action, text):
    assert action.type is not None
    started = time.perf_counter()
    with pytest.raises(argparse.ArgumentTypeError) as raised:
        action.type(text)
    assert time.perf_counter() - started < 1
    assert len(str(raised.value)) < 120


def test_the_number_options_are_the_expected_ones():
    named = {(name, action.option_strings[0]) for name, action in NUMBERS}
    assert {("simulate", "--cover"), ("bench", "--time-limit"), ("bench-speed", "--seconds")} <= (
        named
    )
    assert {("simulate", "--seed"), ("train", "--budget"), ("bench", "--seeds")} <= named


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["simulate", "production_inventory", "--cover", "inf"], "'inf' is not a finite number"),
        (["simulate", "production_inventory", "--cover", "nan"], "'nan' is not a finite number"),
        (["simulate", "production_inventory", "--cover", "0"], "0 is not above 0"),
        (["simulate", "production_inventory", "--cover", "1e6"], "above 1000 (the limit)"),
        (["bench", "--time-limit", "inf"], "argument --time-limit: 'inf' is not a finite"),
        (["bench-speed", "--seconds", "nan"], "argument --seconds: 'nan' is not a finite"),
        (["simulate", "ft06", "--seed", "4294967296"], "4294967296 is above 4,294,967,295"),
        (["bench", "--seeds", "100001"], "100001 is above 100,000 (the limit)"),
        (["bench", "--workers", "1000000"], "1000000 is above 1,024"),
        (["train", "--agent", "ppo", "--budget", "9" * 40], "is not an integer"),
        (["forecast", "train", "x", "--periods", "100000000"], "above 20,000"),
    ],
)
def test_number_options_are_refused_in_one_line(capsys, argv, message):
    err = _argument_error(capsys, argv)
    assert message in err and err.startswith(f"shopfloor {argv[0]}: error: argument ")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1-99999999999", "99999999999 is above 4294967295, the largest seed"),
        ("0-100000", "more than 100,000 seeds, the limit"),
        ("0-4294967295", "more than 100,000 seeds, the limit"),
        ("1," * 100_001 + "1", "more than 100,000 seeds, the limit"),
        ("1-" + "9" * 5000, "give a range or a list of seeds"),
    ],
)
def test_a_seed_range_is_bounded_before_any_list_is_built(text, message):
    started = time.perf_counter()
    with pytest.raises(ValueError, match=message) as raised:
        cli._seeds(text)
    assert time.perf_counter() - started < 1
    assert len(str(raised.value)) < 200


def test_the_largest_seeds_are_accepted():
    assert cli._seeds("4294967294-4294967295") == [4294967294, 4294967295]
    assert len(cli._seeds("0-99999")) == 100_000


@pytest.mark.parametrize("command", ["train", "headroom"])
def test_a_huge_seed_range_is_one_line_on_the_command_line(tmp_path, capsys, command):
    argv = {
        "train": ["train", "--agent", "qlearning", "--scenario", "dynamic_job_shop_small",
                  "--eval-seeds", "1-99999999999", "--root", str(tmp_path)],
        "headroom": ["headroom", "dynamic_job_shop_small", "--seeds", "1-99999999999"],
    }[command]  # fmt: skip
    assert main(argv) == 2
    assert capsys.readouterr().err == (
        "error: seeds '1-99999999999': give a range or a list of seeds >= 0, e.g. 1000-1009 "
        "or 1,2,5 (99999999999 is above 4294967295, the largest seed)\n"
    )
    assert not any(tmp_path.iterdir())


def test_a_huge_argument_is_cut_in_argparse_errors_too(capsys):
    err = _argument_error(capsys, ["plot", "x" * 100_000, "source"])
    assert err.startswith("shopfloor plot: error: argument kind: invalid choice: ")
    assert len(err) < 400


def test_a_missing_command_or_option_is_one_line(capsys):
    err = _argument_error(capsys, [])
    assert err.startswith("shopfloor: error: the following arguments are required: command")
    err = _argument_error(capsys, ["train"])
    assert err == (
        "shopfloor train: error: the following arguments are required: --agent "
        "(see shopfloor train --help)\n"
    )


# ------------------------------------------------------------------------ JSON


def test_json_output_has_null_for_a_kpi_without_a_finite_value(monkeypatch, capsys):
    from shopfloor.sim import KPIs

    real = KPIs.as_dict

    def with_gaps(self: KPIs) -> dict[str, object]:
        return {**real(self), "mean_flow_time": float("nan"), "max_tardiness": float("inf")}

    monkeypatch.setattr(KPIs, "as_dict", with_gaps)
    assert main(["simulate", "ft06", "--json"]) == 0
    out = capsys.readouterr().out
    assert "NaN" not in out and "Infinity" not in out
    values = json.loads(out, parse_constant=lambda name: pytest.fail(f"{name} in JSON"))
    assert values["mean_flow_time"] is None and values["max_tardiness"] is None
    assert values["makespan"] > 0 and values["seed"] == 0
