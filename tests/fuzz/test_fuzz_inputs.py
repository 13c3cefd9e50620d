"""Fuzzed scenario, instance, experiment and agent files and CLI arguments.

Every input either works (a bounded simulation with finite KPIs, valid JSON) or is
refused with a shopfloor error class (or an OSError); through the CLI, a refusal is
exit code 2 with one line and no traceback. Nothing may take longer than 30 s.

The default suite tries a few inputs of each kind (``FUZZ_EXAMPLES``, 12); the ``slow``
sweep tries at least 1,000 of each and prints the counts.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import signal
import tempfile
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import gymnasium as gym
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import shopfloor.envs  # noqa: F401  (registers the env ids)
from shopfloor.agents import load_hyperparameters, make_agent
from shopfloor.cli import main
from shopfloor.experiments import load_experiment
from shopfloor.policies import run_factory
from shopfloor.scenario import load_scenario
from shopfloor.sim import DeadlockError, Factory

from ._mutate import ROOT, inputs

LIMIT_SECONDS = 30
DECISIONS = 3000
"""A fuzzed scenario is simulated for this many decisions (a bigger one is fine, not slow)."""
SMALL = int(os.environ.get("FUZZ_EXAMPLES", "12"))
LARGE = 1000
KINDS = ("scenario", "instance", "experiment", "agent", "cli")


class Hang(Exception):
    """An input took longer than :data:`LIMIT_SECONDS`."""


@contextlib.contextmanager
def time_limit(seconds: int = LIMIT_SECONDS) -> Iterator[None]:
    def expire(signum: int, frame: Any) -> None:
        raise Hang(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def working_directory(path: Path) -> Iterator[None]:
    before = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


def user_error(error: BaseException) -> bool:
    """A refusal the project means: its own error classes, or the OS's.

    A plain ``ValueError`` counts when shopfloor's code raised it (its innermost frame
    is in the package), not when it escaped from numpy or another library.
    """
    if isinstance(error, Hang):
        return False
    if isinstance(error, OSError):
        return True
    if type(error).__module__.startswith("shopfloor"):
        return isinstance(error, ValueError | LookupError | RuntimeError)
    if type(error) is not ValueError or error.__traceback__ is None:
        return False
    innermost = traceback.extract_tb(error.__traceback__)[-1].filename
    return f"{os.sep}shopfloor{os.sep}" in innermost and "site-packages" not in innermost


def run_cli(argv: list[str]) -> tuple[int, str]:
    """Exit code and everything printed, in this process, within the time limit."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), time_limit():
        try:
            code = main(argv)
        except SystemExit as stop:  # argparse's usage errors
            code = stop.code if isinstance(stop.code, int) else 2
    return int(code), out.getvalue() + err.getvalue()


def check_cli(argv: list[str]) -> int:
    """Run the CLI and hold it to the contract: 0, or 2 with one error line."""
    code, printed = run_cli(argv)
    assert "Traceback" not in printed, f"{argv}: {printed[-2000:]}"
    assert code in (0, 2), f"{argv} exited {code}: {printed[-2000:]}"
    if code == 2:
        errors = [line for line in printed.splitlines() if "error" in line.lower()]
        assert errors, f"{argv}: refused without an error line: {printed[-500:]}"
        assert len(errors[-1]) <= 600, f"{argv}: a {len(errors[-1])}-character error line"
    return code


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    return path


def finite_json(text: str) -> Any:
    def refuse(constant: str) -> Any:
        raise AssertionError(f"invalid JSON constant {constant} in {text[:300]}")

    return json.loads(text, parse_constant=refuse)


# ------------------------------------------------------------------ the kinds


def check_scenario(text: str, folder: Path) -> str:
    path = write(folder, "fuzzed.yaml", text)
    try:
        with time_limit():
            scenario = load_scenario(path)
    except Exception as error:
        assert user_error(error), f"{type(error).__name__}: {str(error)[:500]}"
        assert check_cli(["simulate", str(path), "--policy", "fifo"]) == 2
        return "refused"
    factory = Factory(scenario.factory, seed=0)
    step = factory.next_decision
    count = 0

    def capped() -> bool:
        nonlocal count
        count += 1
        return count <= DECISIONS and step()

    factory.next_decision = capped  # type: ignore[method-assign]
    try:
        with time_limit():
            run_factory(factory, "fifo")
    except DeadlockError as error:
        assert len(str(error).splitlines()) == 1
        return "deadlock"
    for name, value in factory.kpis().as_dict().items():
        if isinstance(value, float):
            assert math.isfinite(value), f"KPI {name} = {value}"
    return "simulated"


def check_instance(text: str, folder: Path) -> str:
    path = write(folder, "fuzzed.txt", text)
    with working_directory(folder):
        code, printed = run_cli(["simulate", str(path), "--policy", "spt", "--json"])
    assert "Traceback" not in printed and code in (0, 2), printed[-2000:]
    if code == 0:
        kpis = finite_json(printed.strip().splitlines()[-1])
        assert kpis["makespan"] > 0
        return "simulated"
    assert len(printed.strip().splitlines()[-1]) <= 600
    return "refused"


def check_experiment(text: str, folder: Path) -> str:
    path = write(folder, "fuzzed.yaml", text)
    try:
        with time_limit():
            load_experiment(path)
    except Exception as error:
        assert user_error(error), f"{type(error).__name__}: {str(error)[:500]}"
        with working_directory(folder):
            assert check_cli(["run", str(path), "--root", str(folder / "runs")]) == 2
        return "refused"
    return "loaded"


AGENT_ENVS: dict[str, Callable[[], gym.Env]] = {
    "shopfloor/JobShop-v0": lambda: gym.make("shopfloor/JobShop-v0", instance="ft06"),
    "generated": lambda: gym.make("shopfloor/JobShop-v0", generator={"n_jobs": 4, "n_machines": 3}),
    "shopfloor/DynamicJobShop-v1": lambda: gym.make(
        "shopfloor/DynamicJobShop-v1",
        scenario="dynamic_job_shop_small",
        rules=["fifo", "spt", "atc", "atcjs"],
        rule_candidates=True,  # the rollout agent's need; the others read it as features
    ),
}


def check_agent(text: str, folder: Path, algorithm: str) -> str:
    agents = folder / "agents"
    agents.mkdir(exist_ok=True)
    write(agents, f"{algorithm}.yaml", text)
    env_id = {"maskable_ppo": "shopfloor/JobShop-v0", "self_labelling": "generated"}.get(
        algorithm, "shopfloor/DynamicJobShop-v1"
    )
    try:
        with time_limit():
            values = load_hyperparameters(
                algorithm, "shopfloor/JobShop-v0" if env_id == "generated" else env_id,
                directory=agents,
            )  # fmt: skip
            agent = make_agent(algorithm, AGENT_ENVS[env_id], values, seed=0, device="cpu")
            if _rollout_steps(values) <= TRAINED_ROLLOUT:
                agent.learn(32)
    except Exception as error:
        assert user_error(error), f"{type(error).__name__}: {str(error)[:500]}"
        return "refused"
    return "built"


TRAINED_ROLLOUT = 4096
"""Agents whose first rollout is longer are built but not trained: an on-policy agent
collects ``n_steps x n_envs`` steps before ``learn`` returns (a valid file asking for
16,000 x 4 steps is slow, not hung)."""


def _rollout_steps(values: dict[str, Any]) -> int:
    """On-policy agents' first rollout; self-labelling's schedules x width of one update."""
    if "samples" in values or "instances" in values or "width" in values:
        numbers = [values.get(key, 16) for key in ("samples", "instances", "width", "epochs")]
        if all(isinstance(n, int) and not isinstance(n, bool) for n in numbers):
            samples, instances, width, epochs = numbers
            return samples * instances * max(width // 32, 1) * max(epochs // 4, 1)
        return 0
    steps, envs = values.get("n_steps", 0), values.get("n_envs", 1)
    return int(steps) * int(envs) if isinstance(steps, int) and isinstance(envs, int) else 0


def agent_inputs() -> st.SearchStrategy[tuple[str, str]]:
    """An algorithm and a damaged agent file: mostly its own, sometimes another's."""
    algorithms = sorted(p.stem for p in (ROOT / "agents").glob("*.yaml"))

    def damaged(algorithm: str) -> st.SearchStrategy[tuple[str, str]]:
        own = inputs("agent", only=algorithm)
        return st.tuples(st.just(algorithm), st.one_of(own, own, own, inputs("agent")))

    return st.sampled_from(algorithms).flatmap(damaged)


# -------------------------------------------------------------- CLI arguments

INTS = ["0", "1", "2", "3", "-1", "1e3", "x", "", "99999999999999999999", "64"]
FLOATS = ["0", "0.01", "1.5", "-1", "inf", "-inf", "nan", "1e308", "1e-300", "x"]
SEEDS = ["0", "1-3", "3-1", "0-99999999999", "1,2,x", "-1", "", "5", "0,1", "7-7"]
NAMES = [
    "ft06",
    "la01",
    "ta01-ta02",
    "ta99",
    "dynamic_job_shop_small",
    "production_inventory",
    "spt",
    "fifo,atc",
    "mwkr,random",
    "nope",
    "../x",
    "",
    "a=b",
    "rules=[spt, fifo]",
    "rules: [",
    "action_mode=job",
    "\x00",
]
CHOICE_EXTRA = ["qlearning", "ppo", "dqn", "rollout", "maskable_ppo", "cpu", "cuda", "auto"]
SAFE_COMMANDS = (
    "simulate",
    "bench",
    "plot",
    "forecast",
    "headroom",
    "bench-speed",
    "train",
    "run",
)
"""Commands fuzzed: all but ``bench-train``, a fixed benchmark that starts four env
processes (over 30 s on a loaded machine: slow, not hung; tests/cli checks its arguments)."""
BOUNDED = {
    # Options that must be given (with small valid values among the pool) so that a
    # valid command is a short job, not a long experiment.
    "train": ["--budget"],
    "bench-speed": ["--seconds"],
    "headroom": ["--seeds"],
    "forecast": ["--epochs", "--periods"],
}


def _parser_options() -> dict[str, list[Any]]:
    import argparse

    from shopfloor.cli import build_parser

    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {name: list(command._actions) for name, command in commands.choices.items()}


GOOD = {
    # Valid values by option (so that many fuzzed commands run, not only fail).
    "policy": ["spt", "fifo", "mwkr", "atc", "basestock"],
    "policies": ["spt,mwkr", "fifo,atc", "random"],
    "instances": ["ft06", "la01-la02"],
    "scenarios": ["dynamic_job_shop_small", "flow_shop_small"],
    "scenario": ["dynamic_job_shop_small", "production_inventory"],
    "instance": ["ft06"],
    "seed": ["0", "3"],
    "seeds": ["1", "2", "0-1"],
    "eval_seeds": ["0", "0-1"],
    "cover": ["1.5", "0"],
    "workers": ["1"],
    "time_limit": ["1"],
    "samples": ["1", "2"],
    "name": ["fz"],
    "experiment": ["fz"],
    "env_name": ["fz"],
    "agent": ["qlearning", "ppo"],
    "budget": ["16", "64"],
    "steps": ["16"],
    "eval_every": ["16"],
    "device": ["cpu", "auto"],
    "env": ["shopfloor/DynamicJobShop-v1", "shopfloor/JobShop-v0"],
    "env_kwarg": ["rules=[spt, fifo]", "action_mode=rule"],
    "rules": ["fifo,spt", "atc,edd"],
    "base": ["fifo"],
    "slots": ["4"],
    "seconds": ["0.05"],
    "targets": ["ft06", "la01"],
    "epochs": ["1"],
    "periods": ["60"],
    "lookback": ["8"],
    "horizon": ["4"],
    "ensemble": ["1"],
}
TINY_EXPERIMENT = """name: fz
envs:
  - id: shopfloor/JobShop-v0
    name: ft06
    kwargs: {instance: ft06}
agents: [maskable_ppo]
seeds: [0]
budget: 64
eval: {every: 64, seeds: [0]}
baselines: [spt]
device: cpu
"""


def _value_pool(command: str, action: Any, folder: Path) -> tuple[list[str], list[str]]:
    """Valid and hostile values for one option of ``command``."""
    name = (action.dest or "").lower()
    paths = [str(folder / "out"), str(folder / "missing" / "deep" / "x.csv"), str(folder), "-"]
    if action.choices:
        return [str(c) for c in action.choices], ["nope"]
    good = list(GOOD.get(name, []))
    if command == "simulate" and name == "target":
        good = ["ft06", "la01", "dynamic_job_shop_small", "production_inventory"]
    if name in ("out", "events_csv", "root", "results"):
        good = [str(folder / "out"), str(folder / "e.csv")]
    if command == "run" and name == "experiment":
        good = [str(folder / "tiny.yaml")]
    if command == "plot" and name == "source":
        good = [str(folder / "e.csv"), str(folder / "runs"), str(folder / "out")]
    if command == "forecast" and name == "target":
        good = ["production_inventory"]
    if command in ("headroom", "bench-train") and name == "scenario":
        good = ["dynamic_job_shop_small"]
    if "seeds" in name:
        bad = SEEDS
    elif name in ("budget", "steps", "eval_every"):
        bad = ["1", "0", "-5", "x", "99999999999999999999"]
    elif name == "seconds":
        bad = ["0", "-1", "inf", "nan", "x"]
    elif name == "workers":
        bad = ["2", "0", "-1", "999999", "x"]
    elif name in ("epochs", "periods", "lookback", "horizon", "ensemble", "samples", "slots"):
        bad = ["2", "0", "-1", "x", "99999999999999999999"]
    elif name in ("out", "events_csv", "root", "results", "source", "experiment"):
        bad = paths + NAMES[:4]
    else:
        kind = getattr(action.type, "__name__", str(action.type))
        if "float" in kind or "seconds" in kind:
            bad = FLOATS
        elif "integer" in kind or "int" in kind:
            bad = INTS
        else:
            bad = NAMES + CHOICE_EXTRA + paths
    return good or bad, bad


@st.composite
def cli_arguments(draw: st.DrawFn, folder: Path) -> list[str]:
    """A command line: mostly valid values, some hostile ones."""
    (folder / "tiny.yaml").write_text(TINY_EXPERIMENT)
    options = _parser_options()
    command = draw(st.sampled_from(SAFE_COMMANDS))
    skipped = ("help", "command_parser", "debug")  # --debug prints tracebacks on purpose
    actions = [a for a in options[command] if a.dest not in skipped]
    hostile = draw(st.integers(0, 3))  # 0: every value valid; else a few hostile ones
    argv = [command]
    for action in actions:
        if action.option_strings:
            required = action.option_strings[0] in BOUNDED.get(command, [])
            if not required and not draw(st.booleans()):
                continue
            argv.append(action.option_strings[-1])
            if action.nargs == 0:
                continue
        elif action.nargs == "?" and command != "headroom" and not draw(st.booleans()):
            continue  # (headroom's default scenario is the large one: a long job)
        good, bad = _value_pool(command, action, folder)
        pick_bad = hostile and draw(st.integers(0, 2)) == 0
        if pick_bad and action.dest not in ("budget", "steps", "seconds", "seeds"):
            argv.append(draw(st.sampled_from(bad)))
        else:
            argv.append(draw(st.sampled_from(good)))
    if hostile and draw(st.integers(0, 9)) == 0:
        argv.append(draw(st.sampled_from(["--nope", "extra", "--json", "-x"])))
    return argv


def check_arguments(argv: list[str], folder: Path) -> str:
    with working_directory(folder):
        code = check_cli(argv)
    return "ran" if code == 0 else "refused"


# -------------------------------------------------------------- the sweeps


def sweep(kind: str, examples: int) -> dict[str, int]:
    """Run ``examples`` fuzzed inputs of ``kind``; the outcome counts."""
    counts: dict[str, int] = {}
    folder = Path(tempfile.mkdtemp(prefix=f"fuzz-{kind}-"))

    def record(outcome: str) -> None:
        counts[outcome] = counts.get(outcome, 0) + 1

    configured = settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )
    if kind == "agent":

        @configured
        @given(agent_inputs())
        def run_agents(case: tuple[str, str]) -> None:
            record(check_agent(case[1], folder, case[0]))

        run_agents()
    elif kind == "cli":

        @configured
        @given(cli_arguments(folder))
        def run_arguments(argv: list[str]) -> None:
            record(check_arguments(argv, folder))

        run_arguments()
    else:
        check = {
            "scenario": check_scenario,
            "instance": check_instance,
            "experiment": check_experiment,
        }[kind]

        @configured
        @given(inputs(kind))
        def run_files(text: str) -> None:
            record(check(text, folder))

        run_files()
    return counts


@pytest.mark.parametrize("kind", KINDS)
def test_fuzzed_inputs_are_run_or_refused_in_one_line(kind):
    counts = sweep(kind, SMALL)
    assert sum(counts.values()) >= SMALL // 2, counts


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_a_thousand_fuzzed_inputs_of_each_kind(kind):
    counts = sweep(kind, LARGE)
    total = sum(counts.values())
    print(f"fuzz {kind}: {total} inputs, {counts}")
    assert total >= LARGE, counts


def test_the_mutations_change_the_files():
    """The strategies really produce damaged variants (the sweeps are not idle)."""
    seen: set[str] = set()

    @settings(max_examples=30, derandomize=True, database=None, deadline=None)
    @given(inputs("scenario"))
    def collect(text: str) -> None:
        seen.add(text)

    collect()
    originals = {p.read_text() for p in (ROOT / "envs").glob("*.yaml")}
    assert len(seen - originals) >= 20
    assert any(yaml.safe_load(t) is None or "\x00" in t for t in seen) or len(seen) > 20
