"""One executor for every batch of independent tasks: runs, baselines, episodes, seeds.

:func:`run_tasks` calls a function on each task and returns the results in task order,
whatever order they finish in, so results do not depend on the number of workers. It
runs in this process (``workers`` 1, or a single task), in a local process pool, or on
Ray, with one progress bar on stderr. The first task that fails cancels those not yet
started and its error is raised.

Pool workers are spawned, not forked: a fork copies only the calling thread, so a lock
held by another thread of this process (torch's, Ray's, an import) would stay held in
the child forever. A spawned worker imports the caller's ``__main__`` module, so a
script that runs tasks in a pool must do so under ``if __name__ == "__main__":``.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

BACKENDS = ("local", "ray")
"""Where tasks run: ``local`` (this process or a spawned process pool) or ``ray``."""


def run_tasks(
    function: Callable[[T], R],
    tasks: Sequence[T],
    workers: int | None = None,
    progress: bool = False,
    label: str = "tasks",
    *,
    sizes: Sequence[int] | None = None,
    backend: str = "local",
    address: str | None = None,
) -> list[R]:
    """``[function(task) for task in tasks]``, in parallel, in task order.

    Args:
        function: A module-level function (workers pickle it by name).
        tasks: Its arguments, one per call (picklable).
        workers: Processes (default: every core; 1: in this process); never more
            than there are tasks. Ignored by Ray, which uses its cluster.
        progress: Show a progress bar on stderr.
        label: What the bar counts (``"episodes"``, ``"runs"``).
        sizes: How far each task advances the bar (default 1 each), for a task that
            does several things at once.
        backend: ``local`` or ``ray``.
        address: Ray cluster address (``None``: start or join a local Ray).

    Raises:
        ValueError: ``workers`` < 1, an unknown backend, or ``sizes`` of another length.
        RuntimeError: A pool worker died (the message says what to check), or Ray is
            not installed.
    """
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if backend not in BACKENDS:
        raise ValueError(f"backend must be 'local' or 'ray', got {backend!r}")
    steps = [1] * len(tasks) if sizes is None else list(sizes)
    if len(steps) != len(tasks):
        raise ValueError(f"{len(steps)} sizes for {len(tasks)} tasks")
    if not tasks:
        return []
    with progress_bar(progress, sum(steps), label) as advance:
        if backend == "ray":
            return _run_ray(function, tasks, steps, address, advance)
        count = min(workers or os.cpu_count() or 1, len(tasks))
        if count == 1:
            results = []
            for task, step in zip(tasks, steps, strict=True):
                results.append(function(task))
                advance(step)
            return results
        return _run_pool(function, tasks, steps, count, label, advance)


def _run_pool(
    function: Callable[[T], R],
    tasks: Sequence[T],
    steps: Sequence[int],
    workers: int,
    label: str,
    advance: Callable[[int], None],
) -> list[R]:
    """The tasks in a spawned process pool; the first failure cancels the rest."""
    context = multiprocessing.get_context("spawn")
    results: list[Any] = [None] * len(tasks)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures: dict[Future[R], int] = {
            pool.submit(function, task): index for index, task in enumerate(tasks)
        }
        try:
            for future in as_completed(futures):
                index = futures[future]
                results[index] = future.result()
                advance(steps[index])
        except BrokenProcessPool as error:
            pool.shutdown(wait=False, cancel_futures=True)
            raise RuntimeError(
                f"a worker process ({label}) died. Workers are spawned: a script that "
                "runs them with workers > 1 must do so under "
                "`if __name__ == '__main__':` (or pass workers=1)"
            ) from error
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    return results


def _run_ray(
    function: Callable[[T], R],
    tasks: Sequence[T],
    steps: Sequence[int],
    address: str | None,
    advance: Callable[[int], None],
) -> list[R]:
    """The tasks on Ray, one CPU each; a Ray started here is shut down after."""
    try:
        import ray
    except ImportError as error:
        raise RuntimeError("the ray backend needs ray: pip install 'shopfloor[ray]'") from error
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    try:
        remote: Any = ray.remote(num_cpus=1)(_call)
        futures = [remote.remote(function, task) for task in tasks]
        index = {future: position for position, future in enumerate(futures)}
        pending = list(futures)
        try:
            while pending:
                finished, pending = ray.wait(pending, num_returns=1)
                ray.get(finished[0])  # raises the task's error now
                advance(steps[index[finished[0]]])
        except BaseException:
            for future in pending:
                ray.cancel(future)
            raise
        return [ray.get(future) for future in futures]
    finally:
        if started_here:
            ray.shutdown()


def _call(function: Callable[[T], R], task: T) -> R:
    return function(task)


@contextlib.contextmanager
def progress_bar(enabled: bool, total: int, label: str) -> Iterator[Callable[[int], None]]:
    """A rich progress bar on stderr (or nothing); yields ``advance(steps)``."""
    if not enabled:
        yield lambda steps: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=total)
        yield lambda steps: bar.advance(task, steps)
