"""The one executor: task order kept, serial equals pooled, the first failure stops the rest."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from shopfloor.experiments._executor import run_tasks


def _square_late(task: tuple[int, float]) -> int:
    value, delay = task
    time.sleep(delay)
    return value * value


def _fail_first(task: tuple[int, str]) -> int:
    index, folder = task
    if index == 0:
        raise ValueError("task 0 fails")
    time.sleep(0.4)
    (Path(folder) / f"done_{index}").write_text("")
    return index


def test_results_come_in_task_order_whatever_order_they_finish_in():
    tasks = [(1, 0.6), (2, 0.0), (3, 0.3), (4, 0.0)]  # the first finishes last
    assert run_tasks(_square_late, tasks, workers=2) == [1, 4, 9, 16]
    assert run_tasks(_square_late, tasks, workers=1, progress=True, label="squares") == [
        1,
        4,
        9,
        16,
    ]


def test_no_tasks_give_no_results_and_bad_arguments_are_named():
    assert run_tasks(_square_late, [], workers=4) == []
    with pytest.raises(ValueError, match="workers must be >= 1, got 0"):
        run_tasks(_square_late, [(1, 0.0)], workers=0)
    with pytest.raises(ValueError, match="backend must be 'local' or 'ray', got 'slurm'"):
        run_tasks(_square_late, [(1, 0.0)], backend="slurm")
    with pytest.raises(ValueError, match="1 sizes for 2 tasks"):
        run_tasks(_square_late, [(1, 0.0), (2, 0.0)], sizes=[3])


def test_the_first_failure_is_raised_and_cancels_the_tasks_not_started(tmp_path):
    pooled, serial = tmp_path / "pooled", tmp_path / "serial"
    pooled.mkdir()
    serial.mkdir()
    tasks = [(index, str(pooled)) for index in range(12)]
    with pytest.raises(ValueError, match="task 0 fails"):
        run_tasks(_fail_first, tasks, workers=2)
    assert len(list(pooled.glob("done_*"))) < 11  # 11: every other task ran to its end
    tasks = [(5, str(serial)), (0, str(serial)), (6, str(serial))]
    with pytest.raises(ValueError, match="task 0 fails"):
        run_tasks(_fail_first, tasks, workers=1)
    assert sorted(path.name for path in serial.iterdir()) == ["done_5"]
