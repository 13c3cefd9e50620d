"""The ``shopfloor`` command: parses arguments and calls the library; no logic of its own."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from shopfloor import __version__

console = Console(width=None if sys.stdout.isatty() else 160)


def _simulate(args: argparse.Namespace) -> int:
    from shopfloor.policies import BaseStockPolicy, simulate
    from shopfloor.scenario import resolve_target

    name, spec = resolve_target(args.target)
    production = BaseStockPolicy(cover=args.cover) if spec.production is not None else None
    factory = simulate(spec, args.policy, seed=args.seed, production=production)
    kpis = factory.kpis()
    if args.events_csv:
        path = factory.write_event_log(args.events_csv)
        console.print(f"event log: {path} ({len(factory.log)} events)")
    if args.json:
        print(
            json.dumps({"target": name, "policy": args.policy, "seed": args.seed, **kpis.as_dict()})
        )
        return 0
    table = Table(title=f"{name} | policy {args.policy} | seed {args.seed}")
    table.add_column("KPI")
    table.add_column("value", justify="right")
    for key, value in kpis.as_dict().items():
        table.add_row(key, f"{value:.4g}" if isinstance(value, float) else str(value))
    console.print(table)
    return 0


def _bench_speed(args: argparse.Namespace) -> int:
    from shopfloor.experiments import measure
    from shopfloor.scenario import resolve_target

    table = Table(title=f"factory-level speed, rule {args.policy}, one core")
    for column in (
        "target",
        "size",
        "episodes",
        "decisions/s",
        "events/s",
        "us/decision",
        "plain SimPy ops/s",
        "ratio",
        "us/decision vs first",
    ):
        table.add_column(column, justify="right")
    first = None
    for target in args.targets:
        name, spec = resolve_target(target)
        result = measure(name, spec, args.policy, args.seconds)
        first = first or result.microseconds_per_decision
        ratio = result.ratio_to_reference
        table.add_row(
            result.name,
            result.size,
            str(result.episodes),
            f"{result.decisions_per_second:,.0f}",
            f"{result.events_per_second:,.0f}",
            f"{result.microseconds_per_decision:.2f}",
            f"{result.reference_operations_per_second:,.0f}"
            if result.reference_operations_per_second
            else "-",
            f"{ratio:.2f}x" if ratio else "-",
            f"{result.microseconds_per_decision / first:.2f}",
        )
        console.print(
            f"{result.name}: {result.decisions_per_second:,.0f} decisions/s, "
            f"{result.events_per_second:,.0f} events/s"
        )
    console.print(table)
    return 0


def _bench(args: argparse.Namespace) -> int:
    from shopfloor.experiments import results_dir, run_bench

    targets = [*args.instances, *args.scenarios]
    if not targets:
        raise ValueError("give --instances and/or --scenarios")
    try:
        result = run_bench(
            policies=[args.policies],
            targets=targets,
            seeds=args.seeds,
            workers=args.workers,
            time_limit=args.time_limit,
            progress=not args.no_progress,
        )
    except NotImplementedError as error:
        console.print(f"[bold red]error:[/] {error}", highlight=False)
        return 2
    console.print(result.table())
    for note in result.notes:
        console.print(f"note: {note}", highlight=False)
    for policy, target, reason in result.skipped:
        console.print(f"skipped {policy} on {target}: {reason}", highlight=False)
    paths = result.save(results_dir(args.name, args.out))
    console.print(f"results: {paths['markdown'].parent}", highlight=False)
    for kind, path in paths.items():
        console.print(f"  {kind}: {path.name}", highlight=False)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``shopfloor`` command."""
    parser = argparse.ArgumentParser(
        prog="shopfloor",
        description="Reinforcement-learning manufacturing scheduling simulator.",
    )
    parser.add_argument("--version", action="version", version=f"shopfloor {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    simulate = commands.add_parser(
        "simulate", help="run one episode with a dispatching rule and print the KPIs"
    )
    simulate.add_argument(
        "target",
        help="scenario YAML, bundled scenario name, bundled instance name or instance file",
    )
    simulate.add_argument("--policy", default="fifo", help="dispatching rule (default fifo)")
    simulate.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    simulate.add_argument("--cover", type=float, default=4.0, help="base-stock cover in periods")
    simulate.add_argument("--events-csv", type=Path, help="write the event log to this CSV")
    simulate.add_argument("--json", action="store_true", help="print the KPIs as one JSON line")
    simulate.set_defaults(handler=_simulate)

    speed = commands.add_parser(
        "bench-speed", help="decisions and events per second of full episodes, one core"
    )
    speed.add_argument(
        "targets",
        nargs="*",
        default=["ta01", "ta61", "ta71", "dynamic_job_shop"],
        help="instances or scenarios (default: ta01 ta61 ta71 dynamic_job_shop)",
    )
    speed.add_argument("--policy", default="spt", help="dispatching rule (default spt)")
    speed.add_argument("--seconds", type=float, default=3.0, help="time per target (default 3)")
    speed.set_defaults(handler=_bench_speed)

    bench = commands.add_parser(
        "bench",
        help="evaluate policies on instances and scenarios over seeds; table, CSV, Markdown",
    )
    bench.add_argument(
        "--policies",
        default="spt,mwkr,atc",
        help="comma-separated: rules (spt, mwkr, atc ...), random, basestock, cpsat "
        "(default spt,mwkr,atc)",
    )
    bench.add_argument(
        "--instances",
        action="append",
        default=[],
        metavar="NAMES",
        help="instances and ranges, e.g. ta01-ta10 or ft06,la01-la05 (repeatable)",
    )
    bench.add_argument(
        "--scenarios",
        action="append",
        default=[],
        metavar="NAMES",
        help="scenario names or YAML paths, comma-separated (repeatable)",
    )
    bench.add_argument(
        "--seeds", type=int, default=10, help="seeds 0..N-1 per policy and target (default 10)"
    )
    bench.add_argument(
        "--workers", type=int, default=None, help="processes (default: every core; 1: none)"
    )
    bench.add_argument(
        "--time-limit", type=float, default=10.0, help="CP-SAT seconds per solve (default 10)"
    )
    bench.add_argument(
        "--out",
        type=Path,
        default=None,
        help="results root (default: experiments/results in the current directory)",
    )
    bench.add_argument("--name", default=None, help="results folder name (default: a timestamp)")
    bench.add_argument("--no-progress", action="store_true", help="no progress bar")
    bench.set_defaults(handler=_bench)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``shopfloor`` console script."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except (ValueError, FileNotFoundError) as error:
        console.print(f"[bold red]error:[/] {error}", highlight=False)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
