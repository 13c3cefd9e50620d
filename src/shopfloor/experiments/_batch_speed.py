"""Batched-core speed: operations scheduled per second against the single Gym env.

Random valid actions on both sides, measured in one run so the ratios hold on a noisy
machine: ``shopfloor/JobShop-v0`` through ``gym.make`` (with Gymnasium's default
wrappers), then :class:`~shopfloor.batch.BatchJobShop` at several batch sizes, with and
without features, one thread (``torch.set_num_threads``; numpy's element-wise
operations use no BLAS threads). Peak RSS is read after each batch size.

Run: ``python -m shopfloor.experiments._batch_speed [--instances ta01 ta61]
[--batch-sizes 1 64 512] [--mode non_delay] [--seconds 2] [--repeats 3]
[--backend numpy|torch] [--threads 1]``. Each figure is the best of ``repeats``
interleaved runs.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from shopfloor.batch import BatchFlexibleJobShop, BatchJobShop, check_mode
from shopfloor.instances import FlexibleJobShopInstance, load_instance


@dataclass(frozen=True)
class BatchSpeed:
    """Throughput of one configuration.

    Attributes:
        instance: Instance name.
        engine: ``"single env"`` or ``"batch B"`` (with ``+features`` when computed).
        operations_per_second: Operations scheduled per wall-clock second.
        microseconds_per_step: Wall-clock time of one step (of all B instances).
        peak_rss_mb: The process's peak resident memory after the run, MiB.
    """

    instance: str
    engine: str
    operations_per_second: float
    microseconds_per_step: float
    peak_rss_mb: float


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def single_env_speed(
    instance: str, seconds: float, seed: int = 0, mode: str = "non_delay"
) -> BatchSpeed:
    """``gym.make("shopfloor/JobShop-v0", instance=..., mode=...)`` under random valid actions."""
    import gymnasium as gym

    import shopfloor.envs  # noqa: F401  (registers the ids)

    env = gym.make("shopfloor/JobShop-v0", instance=instance, mode=mode)
    rng = np.random.default_rng(seed)
    masks = env.unwrapped.action_masks  # type: ignore[attr-defined]
    operations = steps = 0
    began = time.perf_counter()
    while time.perf_counter() - began < seconds:
        env.reset(seed=seed)
        done = False
        while not done:
            candidates = np.flatnonzero(masks())
            _, _, done, _, _ = env.step(int(candidates[rng.integers(len(candidates))]))
            steps += 1
    elapsed = time.perf_counter() - began
    operations = steps
    env.close()
    return BatchSpeed(
        instance, "single env", operations / elapsed, elapsed / steps * 1e6, _peak_rss_mb()
    )


def batch_speed(
    instance: str,
    batch_size: int,
    seconds: float,
    *,
    mode: str = "non_delay",
    features: bool = False,
    backend: str = "numpy",
    device: str = "cpu",
    seed: int = 0,
) -> BatchSpeed:
    """Full batched episodes (reset included) under random valid actions.

    A flexible instance runs in :class:`~shopfloor.batch.BatchFlexibleJobShop` (random
    job x machine pairs), a classic one in :class:`~shopfloor.batch.BatchJobShop`.
    """
    loaded = load_instance(instance)
    kind = BatchFlexibleJobShop if isinstance(loaded, FlexibleJobShopInstance) else BatchJobShop
    core = kind(
        [loaded] * batch_size,  # type: ignore[list-item]
        mode,
        backend=backend,
        device=device,
        features=features,
    )
    generator = core.backend.generator(seed)
    operations = steps = 0
    per_episode = sum(item.n_operations for item in core.instances)
    began = time.perf_counter()
    while time.perf_counter() - began < seconds:
        core.reset()
        while not bool(core.dones.all()):
            core.step(core.random_actions(generator))
            steps += 1
        operations += per_episode
    elapsed = time.perf_counter() - began
    label = f"batch {batch_size}" + (" +features" if features else "")
    return BatchSpeed(instance, label, operations / elapsed, elapsed / steps * 1e6, _peak_rss_mb())


def run(
    instances: Sequence[str] = ("ta01", "ta61"),
    batch_sizes: Sequence[int] = (1, 64, 512),
    *,
    mode: str = "non_delay",
    seconds: float = 2.0,
    repeats: int = 3,
    threads: int = 1,
    backend: str = "numpy",
    device: str = "cpu",
) -> list[BatchSpeed]:
    """Measure the single env, then every batch size with and without features.

    The single env runs in the same decision mode as the core.

    The measurements of one instance are interleaved ``repeats`` times and each keeps
    its best run, so load from other processes hits every engine alike.
    """
    mode = check_mode(mode)
    if backend == "torch":
        import torch

        torch.set_num_threads(threads)
    results = []
    for instance in instances:
        best: dict[str, BatchSpeed] = {}
        for _ in range(repeats):
            measured = [single_env_speed(instance, seconds, mode=mode)]
            for size in batch_sizes:
                for features in (False, True):
                    measured.append(
                        batch_speed(
                            instance,
                            size,
                            seconds,
                            mode=mode,
                            features=features,
                            backend=backend,
                            device=device,
                        )
                    )
            for result in measured:
                kept = best.get(result.engine)
                if kept is None or result.operations_per_second > kept.operations_per_second:
                    best[result.engine] = result
        reference = best["single env"].operations_per_second
        for result in best.values():
            _print(result, reference)
            results.append(result)
    return results


def _print(result: BatchSpeed, reference: float) -> None:
    print(
        f"{result.instance:6s} {result.engine:22s} {result.operations_per_second:12,.0f} ops/s "
        f"{result.microseconds_per_step:10,.1f} us/step "
        f"{result.operations_per_second / reference:7.1f}x  peak RSS "
        f"{result.peak_rss_mb:6.0f} MiB",
        flush=True,
    )


def main(argv: Sequence[str] | None = None) -> None:
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--instances", nargs="+", default=["ta01", "ta61"])
    parser.add_argument("--batch-sizes", nargs="+", type=int, default=[1, 64, 512])
    parser.add_argument("--mode", default="non_delay")
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--backend", default="numpy", choices=["numpy", "torch"])
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    run(
        args.instances,
        args.batch_sizes,
        mode=args.mode,
        seconds=args.seconds,
        repeats=args.repeats,
        threads=args.threads,
        backend=args.backend,
        device=args.device,
    )


if __name__ == "__main__":
    main()
