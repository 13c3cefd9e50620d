"""The single JobShop env side by side with another copy of shopfloor (issue 20).

``python -m shopfloor.experiments._env_speed --before DIR`` compares this checkout
with the package under ``DIR/src`` (for example a ``git worktree`` or ``git archive``
of an earlier commit). Each side runs in its own worker process, importing only its
own package; the workers take turns, round by round, so both see the same machine
load; each side's fastest round counts (as ``timeit`` does), and the median of the
per-round ratios is printed too (robust when the load drifts).

Measured per side, through ``gym.make("shopfloor/JobShop-v0", instance=...)`` with
Gymnasium's default wrappers: operations (env steps) per second under random valid
actions (``np.flatnonzero`` of the env's mask, a uniform draw), and the median time of
``reset()`` on a second instance.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from statistics import median

# The worker: self-contained, so it runs unchanged against an older copy of the package.
_WORKER = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
import gymnasium as gym
import numpy as np
import shopfloor.envs  # registers the ids

def steps_per_second(instance, seconds, seed):
    env = gym.make("shopfloor/JobShop-v0", instance=instance)
    masks = env.unwrapped.action_masks
    rng = np.random.default_rng(seed)
    steps, started = 0, time.perf_counter()
    while True:
        env.reset(seed=seed)
        terminated = False
        while not terminated:
            valid = np.flatnonzero(masks())
            _, _, terminated, _, _ = env.step(int(valid[rng.integers(len(valid))]))
            steps += 1
        elapsed = time.perf_counter() - started
        if elapsed >= seconds:
            return steps / elapsed

def reset_seconds(instance, repeats):
    env = gym.make("shopfloor/JobShop-v0", instance=instance)
    env.reset(seed=0)  # the instance tables are built once per env
    times = []
    for seed in range(repeats):
        started = time.perf_counter()
        env.reset(seed=seed)
        times.append(time.perf_counter() - started)
    return float(np.median(times))

print(json.dumps({"ready": shopfloor.__file__}), flush=True)
for line in sys.stdin:
    job = json.loads(line)
    if job["what"] == "steps":
        value = steps_per_second(job["instance"], job["seconds"], job["seed"])
    else:
        value = reset_seconds(job["instance"], job["repeats"])
    print(json.dumps({"value": value}), flush=True)
"""


class _Worker:
    """One side: a Python process importing shopfloor from ``src``."""

    def __init__(self, src: Path):
        self.process = subprocess.Popen(
            [sys.executable, "-c", _WORKER, str(src)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.package = json.loads(self._read())["ready"]

    def _read(self) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the worker importing from its copy exited ({self.process.wait()})")
        return line

    def ask(self, **job: object) -> float:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(job) + "\n")
        self.process.stdin.flush()
        return float(json.loads(self._read())["value"])

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait()


def main(argv: list[str] | None = None) -> None:
    """Print each side's best ops/s, the ratio, and reset times."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="checkout to compare with")
    parser.add_argument("--instance", default="ta01")
    parser.add_argument("--reset-instance", default="ta71")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=2.0, help="per round and side")
    args = parser.parse_args(argv)
    after_src = Path(__file__).resolve().parents[2]
    sides = {"before": _Worker(args.before / "src"), "after": _Worker(after_src)}
    rates: dict[str, list[float]] = {name: [] for name in sides}
    resets: dict[str, list[float]] = {name: [] for name in sides}
    for round_ in range(args.rounds):
        order = list(sides) if round_ % 2 == 0 else list(sides)[::-1]
        for name in order:
            job = {"what": "steps", "instance": args.instance, "seed": round_}
            rates[name].append(sides[name].ask(**job, seconds=args.seconds))
            job = {"what": "reset", "instance": args.reset_instance, "repeats": 50}
            resets[name].append(sides[name].ask(**job))
        print(
            f"round {round_ + 1}: before {rates['before'][-1]:,.0f} ops/s, "
            f"after {rates['after'][-1]:,.0f} ops/s",
            flush=True,
        )
    for worker in sides.values():
        worker.close()
    best = {name: max(values) for name, values in rates.items()}
    reset = {name: min(values) for name, values in resets.items()}
    print(f"{args.instance}, gym.make with default wrappers, random valid actions:")
    for name in sides:
        print(f"  {name:6} {best[name]:10,.0f} ops/s (best of {args.rounds} rounds)")
    paired = sorted(a / b for a, b in zip(rates["after"], rates["before"], strict=True))
    print(f"  ratio after/before: {best['after'] / best['before']:.2f}x (best rounds)")
    print(f"  median ratio of the rounds (each pair ran back to back): {median(paired):.2f}x")
    print(f"{args.reset_instance} reset (median of 50, best round):")
    for name in sides:
        print(f"  {name:6} {1e3 * reset[name]:8.2f} ms")


if __name__ == "__main__":
    main()
