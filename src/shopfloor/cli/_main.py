"""The ``shopfloor`` command: parses arguments and calls the library; no logic of its own."""

from __future__ import annotations

import argparse
import errno
import json
import math
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from rich.console import Console
from rich.table import Table

from shopfloor import __version__

console = Console(width=None if sys.stdout.isatty() else 160)

DEBUG_HELP = "on a failure, print the traceback too (default: one line)"


def _simulate(args: argparse.Namespace) -> int:
    from shopfloor.policies import BaseStockPolicy, policy_names, simulate
    from shopfloor.scenario import resolve_target

    name, spec = resolve_target(args.target)
    if args.cover is not None and spec.production is None:
        raise ValueError(
            f"--cover is the base-stock cover of make-to-stock scenarios; {name} has none"
        )
    cover = 4.0 if args.cover is None else args.cover
    production = BaseStockPolicy(cover=cover) if spec.production is not None else None
    named = args.policy.strip().lower() in (*policy_names(), "random")  # a name wins
    run_folder = not named and Path(args.policy.removesuffix(":best")).is_dir()
    if run_folder or args.policy.strip().lower().startswith("pretrained:"):
        # a run folder's agent or a shipped neural scheduler: JobShop-v0 in its mode
        from shopfloor.agents import simulate_job_shop
        from shopfloor.experiments import SavedAgent
        from shopfloor.policies import make_policy

        if run_folder:
            saved = SavedAgent(args.policy)
            if "JobShop-" not in saved.env_id or "Dynamic" in saved.env_id:
                raise ValueError(
                    f"{args.policy} was trained in {saved.env_id}; simulate runs the agents "
                    "of shopfloor/JobShop-v0 (use shopfloor bench for the others)"
                )
            options = dict(saved.env_options)
            mode = options.pop("mode", "non_delay")
            policy: Any = saved
        else:
            policy = make_policy(args.policy, seed=args.seed)
            mode, options = policy.mode, {}
        factory = simulate_job_shop(policy, spec, mode, seed=args.seed, options=options)
    else:
        factory = simulate(spec, args.policy, seed=args.seed, production=production)
    kpis = factory.kpis()
    if args.events_csv:
        path = factory.write_event_log(args.events_csv)
        note = f"event log: {path} ({len(factory.log)} events)"
        if args.json:  # stdout stays one JSON line
            print(note, file=sys.stderr)
        else:
            console.print(note, highlight=False)
    if args.json:
        values = {key: _finite_or_none(value) for key, value in kpis.as_dict().items()}
        line = {"target": name, "policy": args.policy, "seed": args.seed, **values}
        print(json.dumps(line, allow_nan=False))
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
    if args.env:
        from shopfloor.experiments import measure_env

        env_table = Table(title="JobShop env vs factory, random valid actions, one core")
        for column in ("instance", "env steps/s", "factory decisions/s", "env cost / factory"):
            env_table.add_column(column, justify="right")
        for target in args.targets:
            if not resolve_target(target)[1].is_static:
                continue
            env_result = measure_env(target, args.seconds)
            env_table.add_row(
                target,
                f"{env_result.env_steps_per_second:,.0f}",
                f"{env_result.factory_decisions_per_second:,.0f}",
                f"{env_result.cost_ratio:.2f}x",
            )
        console.print(env_table)
    return 0


def _bench_batch(args: argparse.Namespace) -> int:
    from shopfloor.experiments import measure_batch_speed

    measure_batch_speed(
        args.instances,
        args.batch_sizes,
        mode=args.mode,
        seconds=args.seconds,
        repeats=args.repeats,
        threads=args.threads,
        backend=args.backend,
        device=args.device,
    )
    return 0


def _bench_train(args: argparse.Namespace) -> int:
    from shopfloor.experiments import VEC_ENVS, measure_training

    _resolve_env(args)
    _note_plain_env_name(args)
    results = measure_training(
        args.env,
        args.agent,
        _env_kwargs(args),
        args.steps,
        args.vec_env or VEC_ENVS,
        env_name=args.env_name,
    )
    reference = results[0].steps_per_second
    table = Table(title=f"{args.agent} training on {args.env}, CPU")
    for column in ("setup", "envs", "steps", "seconds", "env steps/s", "vs env alone"):
        table.add_column(column, justify="right")
    for result in results:
        table.add_row(
            result.setup,
            str(result.n_envs),
            f"{result.steps:,}",
            f"{result.seconds:.1f}",
            f"{result.steps_per_second:,.0f}",
            f"{result.steps_per_second / reference:.2f}x",
        )
    console.print(table)
    return 0


def _bench(args: argparse.Namespace) -> int:
    from shopfloor.experiments import results_dir, run_bench

    targets = [*args.instances, *args.scenarios]
    if not targets:
        raise ValueError("give --instances and/or --scenarios")
    folder = results_dir(args.name, args.out, overwrite=args.overwrite)  # before any episode
    try:
        result = run_bench(
            policies=[args.policies],
            targets=targets,
            seeds=args.seeds,
            workers=args.workers,
            time_limit=args.time_limit,
            progress=not args.no_progress,
            samples=args.samples,
            mode=args.mode,
            search=args.search,
        )
    except NotImplementedError as error:  # a policy that cannot run a target
        print(f"error: {_one_line(str(error))}", file=sys.stderr)
        return EXIT_USER_ERROR
    console.print(result.table())
    for note in result.notes:
        console.print(f"note: {note}", highlight=False)
    for policy, target, reason in result.skipped:
        console.print(f"skipped {policy} on {target}: {reason}", highlight=False)
    paths = result.save(folder, overwrite=args.overwrite)
    console.print(f"results: {paths['markdown'].parent}", highlight=False)
    for kind, path in paths.items():
        console.print(f"  {kind}: {path.name}", highlight=False)
    return 0


def _finite_or_none(value: object) -> object:
    """``value``, or ``None`` for a float that is not finite (JSON has no inf or NaN)."""
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _versus(value: float, reference: float) -> str:
    """``value`` relative to ``reference`` in percent, ``-`` when the reference is 0."""
    return f"{(value / reference - 1) * 100:+.1f}%" if reference else "-"


def _headroom(args: argparse.Namespace) -> int:
    from shopfloor.experiments import rule_choice_headroom, summarise_headroom

    seeds = _seeds(args.seeds)
    env_kwargs: dict[str, object] = {"scenario": args.scenario}
    if args.rules:
        rules = [name.strip() for name in args.rules.split(",")]
        if len(set(rules)) < len(rules):
            raise ValueError(f"--rules {args.rules!r}: give each rule once")
        env_kwargs["rules"] = rules
    if args.action_mode == "job":
        env_kwargs.update(action_mode="job", slots=16 if args.slots is None else args.slots)
    elif args.slots is not None:
        raise ValueError("--slots is for --action-mode job (rules see the whole queue)")
    rows = rule_choice_headroom(seeds, args.base, env_kwargs, args.workers, args.samples)
    table = Table(
        title=f"{args.scenario}: {args.action_mode} choice in hindsight (lower is better), "
        f"base {args.base}"
    )
    columns = ["seed", args.base, "best rule", "rollout", "rollout vs base", "deviations"]
    if args.samples:
        columns += [f"sampled ({args.samples})", "sampled vs base", "sampled deviations"]
    for column in columns:
        table.add_column(column, justify="right")
    for row in rows:
        sampled = row.sampled if row.sampled is not None else math.nan
        cells = [
            str(row.seed),
            f"{row.base:.4g}",
            f"{row.rules[row.best_rule]:.4g} ({row.best_rule})",
            f"{row.rollout:.4g}",
            _versus(row.rollout, row.base),
            f"{row.deviations}/{row.choices}",
        ]
        if args.samples:
            cells += [
                f"{sampled:.4g}",
                _versus(sampled, row.base),
                f"{row.sampled_deviations}/{len(row.sampled_actions)}",
            ]
        table.add_row(*cells)
    console.print(table)
    summary = summarise_headroom(rows)
    means, best_single, reference = summary.rules, summary.best_single, summary.reference
    hindsight, rollout = summary.hindsight, summary.rollout
    console.print(
        "means over seeds: "
        + ", ".join(f"{name} {value:.4g}" for name, value in sorted(means.items()))
        + f"\nbest single rule: {best_single} {reference:.4g}"
        + f"\nbest rule per seed, in hindsight: {hindsight:.4g} "
        f"({_versus(hindsight, reference)} vs {best_single})"
        + f"\none-step rollout, clairvoyant: {rollout:.4g} "
        f"({_versus(rollout, reference)} vs {best_single})",
        highlight=False,
    )
    if summary.sampled is not None:
        console.print(
            f"one-step rollout over {args.samples} sampled futures (not clairvoyant): "
            f"{summary.sampled:.4g} ({_versus(summary.sampled, reference)} vs {best_single})",
            highlight=False,
        )
    return 0


def _seeds(text: str) -> list[int]:
    """``1000-1009`` or ``1,2,5``: distinct seeds in ``0..2**32-1``, ranges from low to high.

    At most :data:`MAX_SEEDS` seeds; the count is checked before any list is built.
    """
    usage = f"seeds {_shown(text)}: give a range or a list of seeds >= 0, e.g. 1000-1009 or 1,2,5"
    parts = text.split(",")
    if len(parts) > MAX_SEEDS:
        raise ValueError(f"{usage} (more than {MAX_SEEDS:,} seeds, the limit)")
    bounds: list[tuple[int, int]] = []
    try:
        for part in parts:
            part = part.strip()
            if len(part) > 45:  # two 20-digit numbers and a dash; no huge conversions
                raise ValueError(usage)
            if "-" in part[1:]:
                low, high = (int(end) for end in part.split("-", 1))
                if high < low:
                    raise ValueError(f"{usage} ({part} runs backwards)")
            else:
                low = high = int(part)
            bounds.append((low, high))
    except ValueError as error:
        raise ValueError(str(error) if str(error).startswith(usage) else usage) from None
    lowest = min(low for low, _ in bounds)
    if lowest < 0:
        raise ValueError(f"{usage} ({lowest} is negative)")
    highest = max(high for _, high in bounds)
    if highest > MAX_SEED:
        raise ValueError(f"{usage} ({highest} is above {MAX_SEED}, the largest seed)")
    if sum(high - low + 1 for low, high in bounds) > MAX_SEEDS:
        raise ValueError(f"{usage} (more than {MAX_SEEDS:,} seeds, the limit)")
    seeds = [seed for low, high in bounds for seed in range(low, high + 1)]
    if len(set(seeds)) < len(seeds):
        raise ValueError(f"{usage} (each once)")
    return seeds


def _add_env_arguments(parser: argparse.ArgumentParser) -> None:
    """The env options of ``train`` and ``bench-train`` (read by :func:`_env_kwargs`)."""
    parser.add_argument(
        "--env",
        help="env id (default: the target's family: shopfloor/JobShop-v0 for an instance or "
        "static scenario, ProductionInventory-v0 for a make-to-stock one, else "
        "DynamicJobShop-v1; see shopfloor.envs.FAMILIES)",
    )
    parser.add_argument("--scenario", help="scenario name or YAML (env argument)")
    parser.add_argument("--instance", help="instance name or file (env argument)")
    parser.add_argument(
        "--env-kwarg",
        action="append",
        type=_env_kwarg,
        metavar="KEY=VALUE",
        help="more env arguments, the value read as YAML, e.g. rules=[atc,edd] (repeatable)",
    )
    parser.add_argument(
        "--env-name",
        help="entry of agents/<agent>.yaml after the env id's, e.g. an experiment's env "
        "name (default: the scenario, instance or env id); for train also the run "
        "folder's env name",
    )


def _resolve_env(args: argparse.Namespace) -> None:
    """Set ``args.env`` from the target when it is not given."""
    if args.env:
        return
    from shopfloor.envs import FAMILIES, family_for
    from shopfloor.scenario import resolve_target

    target = args.instance or args.scenario
    if target is not None:
        args.env = family_for(resolve_target(target)[1]).id
    elif any(key == "generator" for key, _ in args.env_kwarg or []):
        args.env = FAMILIES["JobShop"].id  # a generator makes static instances
    else:
        args.env = FAMILIES["DynamicJobShop"].id  # its default scenario


def _env_kwargs(args: argparse.Namespace) -> dict[str, object]:
    """The env arguments: ``--env-kwarg`` pairs (read by :func:`_env_kwarg`), the target."""
    kwargs: dict[str, object] = dict(args.env_kwarg or [])
    for key in ("scenario", "instance"):
        if getattr(args, key):
            kwargs[key] = getattr(args, key)
    return kwargs


def _note_plain_env_name(args: argparse.Namespace) -> None:
    """Say so when ``--env-name`` changes no hyperparameter (e.g. a misspelt entry)."""
    from shopfloor.agents import load_hyperparameters
    from shopfloor.experiments import check_folder_name

    if args.env_name:
        check_folder_name("env name", args.env_name)

    if args.env_name and load_hyperparameters(
        args.agent, args.env, args.env_name
    ) == load_hyperparameters(args.agent, args.env):
        console.print(
            f"note: --env-name {args.env_name!r} changes no setting of agents/{args.agent}.yaml "
            "(no such entry, or one equal to the env id's)"
        )


def _print_evaluation(report: dict[str, Any]) -> None:
    """One plain line per evaluation of ``shopfloor train`` (a terminal or a log alike)."""
    done, budget, seconds = report["timesteps"], report["budget"], report["wall_time"]
    left = seconds / done * (budget - done) if done else math.nan
    eta = f", about {left:.0f} s left" if math.isfinite(left) else ""
    print(
        f"{done:,} / {budget:,} steps: {report['objective']} {report['objective_mean']:.4g} "
        f"(best {report['best']:.4g}), {seconds:.0f} s{eta}",
        file=sys.stderr,
        flush=True,
    )


def _train(args: argparse.Namespace) -> int:
    from shopfloor.experiments import train

    _resolve_env(args)
    _note_plain_env_name(args)

    eval_seeds = _seeds(args.eval_seeds)
    if args.seed in eval_seeds:
        raise ValueError(
            f"--seed {args.seed} is also an evaluation seed; evaluation seeds are held out"
        )
    outcome = train(
        env_id=args.env,
        agent=args.agent,
        seed=args.seed,
        budget=args.budget,
        eval_every=args.eval_every,
        eval_seeds=eval_seeds,
        env_kwargs=_env_kwargs(args),
        env_name=args.env_name,
        experiment=args.experiment,
        device=args.device,
        root=args.root,
        report=_print_evaluation,
    )
    result = json.loads((Path(outcome.run_dir) / "result.json").read_text(encoding="utf-8"))
    console.print(
        f"{outcome.status}: {outcome.timesteps} steps, final {result['objective']} "
        f"{outcome.objective_mean:.4g} (mean of {len(eval_seeds)} held-out seeds, lower is "
        f"better), run folder {outcome.run_dir}",
        highlight=False,
    )
    if outcome.timesteps > args.budget:
        from shopfloor.agents import ALGORITHMS

        unit = ALGORITHMS.resolve(args.agent).learns_in
        console.print(
            f"note: {outcome.timesteps} steps for a budget of {args.budget}: {args.agent} "
            f"learns in {unit}, so chunks between evaluations are rounded up to them",
            highlight=False,
        )
    return 0


def _run(args: argparse.Namespace) -> int:
    from shopfloor.experiments import load_experiment, run_experiment
    from shopfloor.plots import experiment_figures

    if args.address and args.backend != "ray":
        raise ValueError("--address is the Ray cluster's; give it with --backend ray")
    spec = load_experiment(args.experiment)
    result = run_experiment(
        spec,
        root=args.root,
        results_root=args.results,
        workers=args.workers,
        backend=args.backend,
        address=args.address,
        progress=not args.no_progress,
        draw_figures=experiment_figures,
        source=args.experiment,
    )
    table = Table(title=f"{spec.name}: final objective on held-out seeds (lower is better)")
    for column in ("env", "policy", "kind", "n", "mean", "95% CI"):
        table.add_column(column)
    for row in sorted(result.summary_rows, key=lambda r: (r["env"], r["mean"])):
        table.add_row(
            row["env"],
            row["policy"],
            row["kind"],
            str(row["n"]),
            f"{row['mean']:.4g}",
            "-" if math.isnan(row["ci_low"]) else f"[{row['ci_low']:.4g}, {row['ci_high']:.4g}]",
        )
    console.print(table)
    statuses = ", ".join(
        f"{status}: {sum(r.status == status for r in result.runs)}"
        for status in ("trained", "resumed", "done")
    )
    console.print(f"runs ({statuses}) under {Path(args.root) / spec.name}")
    console.print(f"summary: {result.summary_csv} and {result.summary_markdown}")
    for path in result.figures:
        console.print(f"figure: {path}")
    return 0


def _plot(args: argparse.Namespace) -> int:
    from shopfloor import plots

    out = args.out or Path(args.source).with_suffix("")
    drawn: Any
    if args.kind == "curves":
        target = args.out or Path(args.source) / "learning_curves"
        drawn = plots.learning_curves(args.source, target)
    elif args.kind in ("gantt", "inventory"):
        spec = None
        if args.scenario is not None:
            from shopfloor.scenario import resolve_target

            spec = resolve_target(args.scenario)[1]
        if args.kind == "gantt":
            names = None if spec is None else [machine.name for machine in spec.machines]
            drawn = plots.gantt(args.source, out, machine_names=names)
        elif spec is None:
            drawn = plots.inventory(args.source, out)
        else:
            drawn = plots.inventory(
                args.source,
                out,
                initial_stock=[product.initial_stock for product in spec.products],
                product_names=[product.name for product in spec.products],
            )
    else:
        if args.scenario is not None:
            raise ValueError("--scenario is for gantt and inventory plots of an event log")
        drawn = plots.benchmark_bars(args.source, out)
    for path in drawn.paths:
        console.print(f"figure: {path}")
    return 0


def _forecast(args: argparse.Namespace) -> int:
    from shopfloor.experiments import forecast_eval_dir, forecast_run_dir
    from shopfloor.forecast import (
        ForecasterConfig,
        evaluate_saved,
        source_name,
        train_and_evaluate,
    )
    from shopfloor.plots import forecast_plot

    if args.action == "train":
        if args.source is not None:
            raise ValueError("forecast train takes one source: <scenario|csv>")
        source = args.target
        out = forecast_run_dir(source, args.seed, args.out, overwrite=args.overwrite)
        config = ForecasterConfig(
            lookback=args.lookback,
            horizon=args.horizon,
            epochs=args.epochs,
            seed=args.seed,
            loss=args.loss,
            ensemble=args.ensemble,
        )
        with console.status(f"training forecaster on {source}"):
            result = train_and_evaluate(
                source, out, config, history_periods=args.periods, seed=args.seed
            )
        console.print(
            f"trained {len(result.history['train'])} epochs "
            f"(best {result.history['best_epoch'][0] + 1})",
            highlight=False,
        )
    else:
        if args.source is None:
            raise ValueError("forecast eval needs <model path> <scenario|csv>")
        source = args.source
        out = forecast_eval_dir(args.target, source, args.out)
        result = evaluate_saved(
            args.target, source, history_periods=args.periods, seed=args.seed, out_dir=out
        )
    table = Table(title=f"forecast accuracy on {source}: held-out rolling origins (mean)")
    for column in ("method", "MASE", "sMAPE %"):
        table.add_column(column, justify="left" if column == "method" else "right")
    for method, score in result.mean_scores().items():
        table.add_row(method, f"{score.mase:.4f}", f"{score.smape:.2f}")
    console.print(table)
    product = next(iter(result.actual))
    drawn = forecast_plot(
        Path(out) / f"forecast_{product}",
        result.actual[product],
        result.forecasts[product],
        f"{source_name(source)} / {product}: one-step-ahead forecasts, held-out periods",
    )
    console.print(f"run folder: {out}", highlight=False)
    for path in drawn.paths:
        console.print(f"figure: {path}", highlight=False)
    return 0


MAX_SEED = 2**32 - 1
"""Largest seed (numpy, torch and Gymnasium all take 32-bit seeds)."""

MAX_SEEDS = 100_000
"""Most seeds a ``--seeds``/``--eval-seeds`` list or count may name."""

MAX_WORKERS = 1024
"""Most worker processes an option may ask for."""

MAX_STEPS = 10**12
"""Most env steps a budget may ask for."""

MAX_SAMPLES = 10_000
"""Most sampled episodes or futures per seed."""

MAX_COVER = 1000.0
"""Longest base-stock cover, in periods (the policy's work per decision grows with it)."""


class _Parser(argparse.ArgumentParser):
    """argparse, with every error on one short line whatever the arguments."""

    def error(self, message: str) -> NoReturn:
        """Print ``prog: error: message (see prog --help)`` on one line, exit 2."""
        line = f"{self.prog}: error: {_one_line(message)} (see {self.prog} --help)"
        self.exit(EXIT_USER_ERROR, line + "\n")


def _shown(text: str) -> str:
    """``text`` quoted for a message, cut so that a huge argument is never printed whole."""
    return repr(text) if len(text) <= 40 else repr(text[:37]) + "..."


def _integer(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: an integer in ``[low, high]``."""

    def parse(text: str) -> int:
        try:
            value = int(text) if len(text) <= 30 else None  # no 4000-digit conversions
        except ValueError:
            value = None
        if value is None:
            raise argparse.ArgumentTypeError(f"{_shown(text)} is not an integer")
        if value < low:
            raise argparse.ArgumentTypeError(f"{value} is below {low}")
        if value > high:
            raise argparse.ArgumentTypeError(f"{value} is above {high:,} (the limit)")
        return value

    parse.__name__ = f"integer in [{low}, {high}]"
    return parse


def _bench_seeds(text: str) -> int | list[int]:
    """An argparse type: a count ``N`` (seeds ``0..N-1``), a range ``a-b`` or a list ``a,b``."""
    stripped = text.strip()
    if stripped.isdigit():
        return _integer(1, MAX_SEEDS)(stripped)
    try:
        return _seeds(stripped)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


_bench_seeds.__name__ = "integer count, range or list of seeds"


def _number(low: float, high: float, what: str = "") -> Callable[[str], float]:
    """An argparse type: a finite number above ``low`` and at most ``high``."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{_shown(text)} is not a number") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{_shown(text)} is not a finite number")
        if not value > low:
            raise argparse.ArgumentTypeError(f"{value:g} is not above {low:g}")
        if value > high:
            raise argparse.ArgumentTypeError(f"{value:g}{what} is above {high:g} (the limit)")
        return value

    parse.__name__ = f"number in ({low:g}, {high:g}]"
    return parse


_positive_seconds = _number(0, 24 * 3600, " seconds")
_seed = _integer(0, MAX_SEED)
_workers = _integer(1, MAX_WORKERS)


def _writable_folder(folder: Path) -> None:
    """Refuse a folder that would hold an output and cannot (missing parents are fine).

    Raises:
        argparse.ArgumentTypeError: ``folder`` or its nearest existing ancestor is a
            file, or that ancestor is not writable.
    """
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise argparse.ArgumentTypeError(f"{existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError(
            f"folder {existing} is not writable; choose a folder you can write to"
        )


def _output_file(text: str) -> Path:
    """An argparse type: a file to write, in an existing, writable folder."""
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{path} is a folder; give a file name in it")
    folder = path.parent
    if not folder.is_dir():
        what = "is a file, not a folder" if folder.exists() else "does not exist; create it"
        raise argparse.ArgumentTypeError(f"folder {folder} {what}")
    _writable_folder(folder)
    return path


def _output_folder(text: str) -> Path:
    """An argparse type: a folder to write in, created if missing."""
    path = Path(text)
    _writable_folder(path)
    return path


def _output_stem(text: str) -> Path:
    """An argparse type: a figure's path without extension; its folder is created."""
    path = Path(text)
    _writable_folder(path.parent)
    return path


def _env_kwarg(text: str) -> tuple[str, object]:
    """An argparse type: ``key=value``, the value read as YAML (small, plain data)."""
    from shopfloor._yaml import load_yaml

    key, equals, value = text.partition("=")
    if not equals or not key.isidentifier():
        raise argparse.ArgumentTypeError(
            f"{_shown(text)} is not key=value with a name as the key (e.g. slots=8)"
        )
    try:
        parsed = load_yaml(value, max_chars=10_000, max_depth=16, max_nodes=10_000)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{key}: {error}") from None
    if _has_non_finite(parsed):
        raise argparse.ArgumentTypeError(f"{key}: numbers must be finite (no .inf or .nan)")
    return key, parsed


def _has_non_finite(value: object) -> bool:
    """True if ``value`` (plain data, bounded by the YAML limits) holds inf or NaN."""
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(_has_non_finite(item) for pair in value.items() for item in pair)
    if isinstance(value, list):
        return any(_has_non_finite(item) for item in value)
    return False


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``shopfloor`` command."""
    parser = _Parser(
        prog="shopfloor",
        description="Reinforcement-learning manufacturing scheduling simulator.",
    )
    parser.add_argument("--version", action="version", version=f"shopfloor {__version__}")
    parser.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    commands = parser.add_subparsers(dest="command", required=True)

    simulate = commands.add_parser(
        "simulate", help="run one episode with a dispatching rule and print the KPIs"
    )
    simulate.add_argument(
        "target",
        help="scenario YAML, bundled scenario name, bundled instance name or instance file",
    )
    simulate.add_argument(
        "--policy",
        default="fifo",
        help="dispatching rule (default fifo), pretrained:<name> (a shipped neural "
        "scheduler) or a run folder (static shops: JobShop-v0 in the model's mode)",
    )
    simulate.add_argument("--seed", type=_seed, default=0, help="random seed (default 0)")
    simulate.add_argument(
        "--cover",
        type=_number(0, MAX_COVER, " periods"),
        help=f"make-to-stock: base-stock cover in periods, at most {MAX_COVER:g} (default 4)",
    )
    simulate.add_argument(
        "--events-csv",
        type=_output_file,
        help="write the event log to this CSV (in an existing folder)",
    )
    simulate.add_argument(
        "--json",
        action="store_true",
        help="print the KPIs as one JSON line (a KPI with no finite value, e.g. a mean over "
        "no jobs, is null)",
    )
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
    speed.add_argument(
        "--seconds", type=_positive_seconds, default=3.0, help="time per target (default 3)"
    )
    speed.add_argument(
        "--env", action="store_true", help="also time the JobShop env on the instance targets"
    )
    speed.set_defaults(handler=_bench_speed)

    batch = commands.add_parser(
        "bench-batch",
        help="operations per second of the batched core at several batch sizes vs the single env",
    )
    batch.add_argument(
        "instances", nargs="*", default=["ta01", "ta61"], help="instances (default: ta01 ta61)"
    )
    batch.add_argument(
        "--batch-sizes",
        type=_integer(1, 65536),
        nargs="+",
        default=[1, 64, 512],
        help="batch sizes (default: 1 64 512)",
    )
    batch.add_argument("--mode", default="non_delay", help="non_delay, active or append")
    batch.add_argument(
        "--seconds", type=_positive_seconds, default=2.0, help="time per measurement (default 2)"
    )
    batch.add_argument(
        "--repeats", type=_integer(1, 100), default=3, help="interleaved rounds, best kept"
    )
    batch.add_argument("--threads", type=_integer(1, 1024), default=1, help="torch threads")
    batch.add_argument("--backend", default="numpy", choices=("numpy", "torch"))
    batch.add_argument("--device", default="cpu", help="cpu, cuda or auto (torch backend)")
    batch.set_defaults(handler=_bench_batch)

    training = commands.add_parser(
        "bench-train",
        help="env steps per second of training, envs in one process vs one each",
    )
    _add_env_arguments(training)
    training.add_argument(
        "--agent",
        default="ppo",
        help="a vectorised (Stable-Baselines3) algorithm of the agent registry, e.g. ppo, "
        "dqn or maskable_ppo (default ppo; an unknown name lists them)",
    )
    training.add_argument(
        "--steps", type=_integer(1, MAX_STEPS), default=20000, help="env steps (default 20000)"
    )
    training.add_argument(
        "--vec-env",
        action="append",
        choices=("dummy", "subproc"),
        help="vectorisation to time (repeatable; default both)",
    )
    training.set_defaults(handler=_bench_train)

    room = commands.add_parser(
        "headroom",
        help="what switching dispatching rules could gain on a dynamic scenario, in hindsight",
    )
    room.add_argument("scenario", nargs="?", default="dynamic_job_shop")
    room.add_argument("--seeds", default="2000-2009", help="e.g. 2000-2009 (default)")
    room.add_argument("--base", default="atc", help="base rule of the rollout (default atc)")
    room.add_argument(
        "--rules",
        default=None,
        help="rules to choose from, e.g. atc,atcjs,edd (default: the env's)",
    )
    room.add_argument(
        "--action-mode",
        choices=("rule", "job"),
        default="rule",
        help="what the rollouts try at a choice: every rule (default) or every waiting job",
    )
    room.add_argument(
        "--slots",
        type=_integer(1, 1024),
        default=None,
        help="job mode: the first N jobs of a queue can be chosen, by the rules too (default "
        "16, as in experiments/dynamic_job_choice.yaml)",
    )
    room.add_argument(
        "--workers", type=_workers, default=None, help="processes (default: all cores)"
    )
    room.add_argument(
        "--samples",
        type=_integer(0, MAX_SAMPLES),
        default=0,
        help="also run the rollout that does not see the future, scoring each rule over "
        "this many sampled futures (costs samples x the clairvoyant one; default 0: off)",
    )
    room.set_defaults(handler=_headroom)

    bench = commands.add_parser(
        "bench",
        help="evaluate policies on instances and scenarios over seeds; table, CSV, Markdown",
    )
    bench.add_argument(
        "--policies",
        default="spt,mwkr,atc",
        help="comma-separated: rules (spt, mwkr, atc ...), random, batch-random (with "
        "--samples: N random schedules of a static instance in one batched-core call, the "
        "best kept), basestock, cpsat, pretrained:<name> (a shipped neural scheduler), or a "
        "saved agent's run folder (its final model; <folder>:best for its best evaluation) "
        "(default spt,mwkr,atc)",
    )
    bench.add_argument(
        "--instances",
        action="append",
        default=[],
        metavar="NAMES",
        help="instances and ranges, classic or flexible, e.g. ta01-ta10, ft06,la01-la05, "
        "mk01-mk10, hurink_vdata_la01-40, or instance files (repeatable)",
    )
    bench.add_argument(
        "--scenarios",
        action="append",
        default=[],
        metavar="NAMES",
        help="scenario names or YAML paths, comma-separated (repeatable)",
    )
    bench.add_argument(
        "--seeds",
        type=_bench_seeds,
        default=10,
        help="seeds per policy and target: a count N (0..N-1), a range 100-109 or a list "
        "1,5,7 (default 10)",
    )
    bench.add_argument(
        "--workers",
        type=_workers,
        default=None,
        help="processes (default: every core; 1: none)",
    )
    bench.add_argument(
        "--time-limit",
        type=_positive_seconds,
        default=10.0,
        help="CP-SAT seconds per solve, and a neural scheduler's with --search (default 10)",
    )
    bench.add_argument(
        "--search",
        action="store_true",
        help="neural schedulers (pretrained:<name>, self_labelling run folders) search for "
        "--time-limit seconds per instance: samples bounded by the best so far",
    )
    bench.add_argument(
        "--out",
        type=_output_folder,
        default=None,
        help="results root (default: experiments/results in the current directory)",
    )
    bench.add_argument(
        "--samples",
        type=_integer(1, MAX_SAMPLES),
        default=1,
        help="best-of-N: sample N episodes per seed (deterministic=False), keep the best; "
        "static instances only (default 1: greedy)",
    )
    bench.add_argument(
        "--mode",
        choices=("non_delay", "active", "append"),
        default="non_delay",
        help="decision mode of the static targets: non_delay (default), active "
        "(Giffler-Thompson) or append (every semi-active schedule)",
    )
    bench.add_argument("--name", default=None, help="results folder name (default: a timestamp)")
    bench.add_argument(
        "--overwrite", action="store_true", help="replace the results in an existing --name folder"
    )
    bench.add_argument("--no-progress", action="store_true", help="no progress bar")
    bench.set_defaults(handler=_bench)
    train = commands.add_parser("train", help="train one agent on one env (a run folder)")
    _add_env_arguments(train)
    train.add_argument(
        "--agent",
        required=True,
        help="an algorithm of the agent registry, e.g. qlearning, rollout, ppo or "
        "maskable_ppo (an unknown name lists them)",
    )
    train.add_argument("--seed", type=_seed, default=0)
    train.add_argument(
        "--budget", type=_integer(1, MAX_STEPS), default=20000, help="env steps (default 20000)"
    )
    train.add_argument(
        "--eval-every",
        type=_integer(1, MAX_STEPS),
        default=4000,
        help="steps between evaluations and checkpoints (default 4000)",
    )
    train.add_argument(
        "--eval-seeds",
        default="1000-1009",
        help=f"held-out seeds, a range or a list of at most {MAX_SEEDS:,} (default 1000-1009)",
    )
    train.add_argument("--experiment", default="adhoc", help="experiment folder name")
    train.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    train.add_argument(
        "--root", type=_output_folder, default="experiments/runs", help="runs folder"
    )
    train.set_defaults(handler=_train)

    run = commands.add_parser("run", help="run an experiment spec (all envs x agents x seeds)")
    run.add_argument("experiment", type=Path, help="experiments/<name>.yaml")
    run.add_argument("--workers", type=_workers, help="parallel runs (default: all cores)")
    run.add_argument("--backend", choices=("local", "ray"), default="local")
    run.add_argument("--address", help="Ray cluster address (with --backend ray)")
    run.add_argument("--root", type=_output_folder, default="experiments/runs", help="runs folder")
    run.add_argument(
        "--results", type=_output_folder, default="experiments/results", help="results folder"
    )
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.set_defaults(handler=_run)

    plot = commands.add_parser("plot", help="draw figures from run folders and result files")
    plot.add_argument(
        "kind",
        choices=("curves", "gantt", "inventory", "bench"),
        help="curves: an experiment's runs folder; gantt/inventory: an event-log CSV "
        "(shopfloor simulate --events-csv, or eval_events.csv of a run); bench: a summary CSV",
    )
    plot.add_argument("source", type=Path, help="folder or CSV to draw from")
    plot.add_argument(
        "--out", type=_output_stem, help="output path without extension (PNG and SVG)"
    )
    plot.add_argument(
        "--scenario",
        help="gantt/inventory: the log's scenario or instance, for machine and product "
        "names and the initial stock (otherwise taken from the log where it can be)",
    )
    plot.set_defaults(handler=_plot)

    forecast = commands.add_parser(
        "forecast", help="train / evaluate the demand forecaster against baselines"
    )
    forecast.add_argument("action", choices=("train", "eval"))
    forecast.add_argument(
        "target", help="train: scenario or demand CSV; eval: saved model weights (model.pt)"
    )
    forecast.add_argument("source", nargs="?", help="eval: scenario or demand CSV")
    forecast.add_argument(
        "--out", type=_output_folder, help="run folder (default: under experiments/runs)"
    )
    forecast.add_argument(
        "--overwrite", action="store_true", help="train: replace a forecaster already in --out"
    )
    forecast.add_argument(
        "--lookback", type=_integer(1, 1000), default=52, help="input periods (default 52)"
    )
    forecast.add_argument(
        "--horizon", type=_integer(1, 200), default=8, help="periods forecast (default 8)"
    )
    forecast.add_argument(
        "--epochs", type=_integer(1, 100_000), default=200, help="maximum epochs (default 200)"
    )
    forecast.add_argument("--seed", type=_seed, default=0, help="model and history seed")
    forecast.add_argument(
        "--loss", choices=("mse", "mae"), default="mse", help="training loss (default mse)"
    )
    forecast.add_argument(
        "--periods",
        type=_integer(1, 20_000),
        default=520,
        help="periods drawn from a scenario (default 520)",
    )
    forecast.add_argument(
        "--ensemble",
        type=_integer(1, 32),
        default=1,
        help="networks averaged, seeds seed, seed+1, ... (default 1)",
    )
    forecast.set_defaults(handler=_forecast)
    for command in commands.choices.values():
        command.set_defaults(command_parser=command)  # its own usage for a mistyped option
        # --debug after the command too; SUPPRESS keeps a --debug given before it
        command.add_argument(
            "--debug", action="store_true", default=argparse.SUPPRESS, help=DEBUG_HELP
        )
    return parser


EXIT_USER_ERROR = 2
"""Exit status of a failure the user can fix (bad input, a file that cannot be written)."""

EXIT_INTERNAL_ERROR = 70
"""Exit status of a bug (``EX_SOFTWARE`` of sysexits.h)."""

EXIT_INTERRUPTED = 130
"""Exit status after Ctrl-C (128 + SIGINT)."""

MAX_MESSAGE_CHARS = 300
"""Longest error line printed (a huge value in a message is cut, never printed whole)."""

_ADVICE = {
    errno.ENOENT: "check the path",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EISDIR: "that is a folder; give a file",
    errno.EEXIST: "something is in the way; move it or choose another path",
    errno.EACCES: "check its permissions, or choose a folder you can write to",
    errno.EPERM: "check its permissions, or choose a folder you can write to",
    errno.ENOSPC: "the disk is full; free some space or write somewhere else",
    errno.EDQUOT: "the disk quota is used up; free some space or write somewhere else",
    errno.EROFS: "the file system is read-only; write somewhere else",
    errno.ENAMETOOLONG: "choose a shorter name",
    errno.EMFILE: "too many open files; raise the limit (ulimit -n)",
}
"""What to do about an operating-system error, by errno."""


def _one_line(text: str) -> str:
    """``text`` on one line of at most :data:`MAX_MESSAGE_CHARS` characters."""
    if len(text) > 4 * MAX_MESSAGE_CHARS:
        text = text[: 4 * MAX_MESSAGE_CHARS]  # never scan a huge message
    line = " ".join(part.strip() for part in text.splitlines() if part.strip())
    line = "".join(char if char.isprintable() else "?" for char in line)
    if len(line) > MAX_MESSAGE_CHARS:
        line = line[: MAX_MESSAGE_CHARS - 3] + "..."
    return line


def _describe(error: BaseException) -> str:
    """What went wrong, naming the file of an operating-system error and what to do."""
    if isinstance(error, OSError) and error.filename is not None and error.strerror:
        where = os.fsdecode(error.filename)
        if error.filename2 is not None:
            where += f" -> {os.fsdecode(error.filename2)}"
        advice = _ADVICE.get(error.errno or 0)
        return f"{where}: {error.strerror}" + (f" ({advice})" if advice else "")
    if isinstance(error, OSError) and error.strerror:
        advice = _ADVICE.get(error.errno or 0)
        return error.strerror + (f" ({advice})" if advice else "")
    if isinstance(error, KeyError) and len(error.args) == 1 and isinstance(error.args[0], str):
        return error.args[0]  # str() of a KeyError is the repr of its key
    return str(error) or type(error).__name__


def _is_user_error(error: BaseException) -> bool:
    """True for a failure the user can fix; anything else is a bug of ours."""
    if isinstance(error, ValueError | LookupError | OSError):
        return True
    yaml = sys.modules.get("yaml")
    if yaml is not None and isinstance(error, yaml.YAMLError):
        return True
    sim = sys.modules.get("shopfloor.sim")  # not imported: not the sim's error
    return sim is not None and isinstance(error, sim.DeadlockError)


def _report(error: BaseException, debug: bool) -> int:
    """Print ``error`` as one line on stderr (after its traceback with ``--debug``).

    Returns:
        The exit status: 130 after Ctrl-C, 2 for a user error, 70 for a bug.
    """
    sys.stdout.flush()
    if debug:
        traceback.print_exception(error)
    suffix = ""
    if isinstance(error, KeyboardInterrupt):
        line, code = (
            "interrupted (a training run resumes from its last checkpoint)",
            EXIT_INTERRUPTED,
        )
    elif _is_user_error(error):
        if isinstance(error, BrokenPipeError):
            _silence_stdout()
        line, code = f"error: {_describe(error)}", EXIT_USER_ERROR
    else:
        line = f"internal error: {type(error).__name__}: {_describe(error)}"
        code = EXIT_INTERNAL_ERROR
        if not debug:
            suffix = " (run again with --debug for the traceback)"
    print(_one_line(line) + suffix, file=sys.stderr)
    sys.stderr.flush()
    return code


def _silence_stdout() -> None:
    """Point stdout at the null device, so that exiting does not fail on the closed pipe."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    except (OSError, ValueError, AttributeError):  # no real stdout (e.g. captured in tests)
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``shopfloor`` console script.

    A failure prints one line on stderr and returns a status: 2 for a user error
    (``error: ...``: bad input, a file that cannot be read or written, a scenario
    that cannot run), 130 after Ctrl-C, 70 for a bug (``internal error: ...``).
    ``--debug`` prints the traceback first. Bad arguments exit 2 through argparse.
    """
    arguments = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in arguments
    try:
        parser = build_parser()
        args, unknown = parser.parse_known_args(arguments)
        if unknown:
            args.command_parser.error(f"unrecognized arguments: {' '.join(unknown)}")
        debug = bool(args.debug)
        return int(args.handler(args))
    except (Exception, KeyboardInterrupt) as error:
        return _report(error, debug)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
