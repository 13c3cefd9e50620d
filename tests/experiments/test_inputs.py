"""Bad input to the runner and the CLI: a clear error naming the value, nothing written."""

import json
import sys
from pathlib import Path

import pytest

from shopfloor.agents import AgentConfigError, load_hyperparameters
from shopfloor.cli import build_parser, main
from shopfloor.cli._main import _seeds  # white-box: the seed parser alone, without argparse
from shopfloor.experiments import (
    ExperimentError,
    RunConfig,
    check_experiment,
    load_experiment,
    rule_choice_headroom,
    run_experiment,
)
from shopfloor.experiments._folders import command_line
from shopfloor.experiments._train import default_env_name

GOOD = {
    "experiment": "e",
    "env_id": "shopfloor/DynamicJobShop-v1",
    "env_name": "small",
    "env_kwargs": {"scenario": "dynamic_job_shop_small"},
    "agent": "qlearning",
    "seed": 0,
    "budget": 100,
    "eval_every": 100,
    "eval_seeds": (1000,),
}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("5-1", "5-1 runs backwards"),
        ("-1", "-1 is negative"),
        ("1,2,1", "each once"),
        ("1000-x", "give a range or a list"),
    ],
)
def test_bad_seed_lists_are_named(text, message):
    with pytest.raises(ValueError, match=message):
        _seeds(text)


def test_seed_lists_and_ranges():
    assert _seeds("1000-1002") == [1000, 1001, 1002]
    assert _seeds("3,5") == [3, 5]


@pytest.mark.parametrize(
    ("option", "value"),
    [("--eval-every", "0"), ("--eval-every", "-3"), ("--budget", "0"), ("--seed", "-1")],
)
def test_train_refuses_counts_out_of_range(tmp_path, capsys, option, value):
    args = ["train", "--agent", "qlearning", "--scenario", "dynamic_job_shop_small"]
    with pytest.raises(SystemExit) as exit_:
        main([*args, "--root", str(tmp_path), option, value])
    assert exit_.value.code == 2
    assert f"argument {option}: {value} is below" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"budget": 0}, "budget must be a positive integer, got 0"),
        ({"eval_every": -1}, "eval every must be a positive integer, got -1"),
        ({"seed": -1}, "seed must be >= 0"),
        ({"eval_seeds": ()}, "eval seeds must be a non-empty list"),
        ({"experiment": "../../escape"}, "experiment '../../escape' is not a folder name"),
        ({"env_name": "a/b"}, "env name 'a/b' is not a folder name"),
        ({"device": "banana"}, "unknown device 'banana'"),
    ],
)
def test_run_config_refuses_bad_settings(change, message):
    with pytest.raises(ValueError, match=message):
        RunConfig(**{**GOOD, **change})


def test_a_scenario_file_names_its_runs_by_its_stem(tmp_path, capsys):
    scenario = tmp_path / "shops" / "mine.yaml"
    scenario.parent.mkdir()
    scenario.write_text(_small_scenario_text())
    assert default_env_name("shopfloor/DynamicJobShop-v1", {"scenario": str(scenario)}) == "mine"
    assert default_env_name("shopfloor/JobShop-v0", {"instance": "data/ft06.txt"}) == "ft06"
    assert default_env_name("shopfloor/JobShop-v0", {}) == "JobShop-v0"
    root = tmp_path / "runs"
    args = ["train", "--agent", "ppo", "--scenario", str(scenario), "--root", str(root)]
    assert main([*args, "--budget", "300", "--eval-every", "300", "--eval-seeds", "1000"]) == 0
    out = capsys.readouterr().out
    assert (root / "adhoc" / "mine" / "ppo" / "seed_0" / "DONE").is_file()
    assert "note: 512 steps for a budget of 300" in out


def _small_scenario_text():
    from shopfloor.scenario import scenario_path

    return scenario_path("dynamic_job_shop_small").read_text()


def test_a_failed_train_leaves_no_folder(tmp_path, capsys):
    args = ["train", "--agent", "ppo", "--scenario", "nosuch", "--root", str(tmp_path)]
    assert main([*args, "--budget", "100"]) == 2
    assert "nosuch" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def _experiment(tmp_path, text):
    path = tmp_path / "exp.yaml"
    path.write_text(text)
    return path


def _load_and_check(path):
    """Load the spec (data only), then build its envs as a run's preparation does."""
    spec = load_experiment(path)
    check_experiment(spec, path)
    return spec


BASE = (
    "name: {name}\nenvs:\n  - id: shopfloor/DynamicJobShop-v1\n    name: {env}\n"
    "    kwargs: {kwargs}\nagents: {agents}\nseeds: {seeds}\nbudget: 10\n"
    "eval: {{every: 10, seeds: [9]}}\nbaselines: {baselines}\ndevice: {device}\n"
)
FIELDS = {
    "name": "x",
    "env": "small",
    "kwargs": "{scenario: dynamic_job_shop_small}",
    "agents": "[ppo]",
    "seeds": "[0, 1]",
    "baselines": "[atc]",
    "device": "auto",
}


def test_the_base_experiment_loads(tmp_path):
    spec = load_experiment(_experiment(tmp_path, BASE.format(**FIELDS)))
    assert spec.seeds == [0, 1] and spec.baselines == ["atc"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"seeds": "[0, 0]"}, r"exp.yaml: seeds: .*\[0\] more than once"),
        ({"baselines": "[fifo, fifo]"}, r"exp.yaml: baselines: .*\['fifo'\] more than once"),
        ({"agents": "[ppo, dqn, ppo]"}, r"exp.yaml: agents: .*\['ppo'\] more than once"),
        ({"seeds": "[-1]"}, r"exp.yaml: seeds: .*seeds must be >= 0"),
        ({"name": "../../escape"}, r"exp.yaml: name: .*not a folder name"),
        ({"env": "a/b"}, r"exp.yaml: envs.0.name: .*not a folder name"),
        ({"device": "banana"}, r"exp.yaml: device: .*unknown device 'banana'"),
        ({"baselines": "[nope]"}, r"exp.yaml: baselines.0: .*nope"),
        (
            {"kwargs": "{scenario: dynamic_job_shop_small, action_mode: jobs}"},
            r"exp.yaml: envs.0 \(small\): .*action_mode must be 'rule' or 'job'",
        ),
        ({"kwargs": "{scenario: nosuch}"}, r"exp.yaml: envs.0 \(small\): .*nosuch"),
    ],
)
def test_experiment_errors_name_the_file_and_field(tmp_path, change, message):
    path = _experiment(tmp_path, BASE.format(**{**FIELDS, **change}))
    with pytest.raises(ExperimentError, match=message):
        _load_and_check(path)


def test_loading_builds_no_env_and_a_run_checks_its_envs_before_anything(tmp_path, monkeypatch):
    import gymnasium

    path = _experiment(tmp_path, BASE.format(**{**FIELDS, "kwargs": "{scenario: nosuch}"}))
    built = []
    real_make = gymnasium.make
    monkeypatch.setattr(gymnasium, "make", lambda *a, **k: built.append(a) or real_make(*a, **k))
    spec = load_experiment(path)  # data only: the unknown scenario is not looked up
    assert built == [] and spec.envs[0].kwargs == {"scenario": "nosuch"}
    with pytest.raises(ExperimentError, match=r"^experiment x: envs.0 \(small\): .*nosuch"):
        check_experiment(spec)
    root = tmp_path / "runs"
    with pytest.raises(ExperimentError, match=r"exp.yaml: envs.0 \(small\): .*nosuch"):
        run_experiment(spec, root, tmp_path / "results", workers=1, progress=False, source=path)
    assert not root.exists()  # refused before the lock or any run folder


def test_yaml_syntax_errors_are_one_line_with_the_place(tmp_path):
    path = _experiment(tmp_path, "name: x\nenvs: [\n  a: b: c\n")
    with pytest.raises(ExperimentError) as error:
        load_experiment(path)
    assert (
        str(error.value)
        == f"{path}: not valid YAML, line 3, column 7: expected ',' or ']', but got ':'"
    )
    (tmp_path / "ppo.yaml").write_text("default: {n_steps: [1\n")
    with pytest.raises(AgentConfigError, match=r"ppo.yaml: not valid YAML, line 2, column 1: "):
        load_hyperparameters("ppo", directory=tmp_path)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("n_envs: four", "n_envs must be a positive integer, got 'four'"),
        ("n_envs: 0", "n_envs must be a positive integer, got 0"),
        ("vec_env: threads", "vec_env must be 'dummy' or 'subproc', got 'threads'"),
    ],
)
def test_runner_keys_of_agent_files_are_checked(tmp_path, entry, message):
    (tmp_path / "ppo.yaml").write_text(f"default: {{{entry}}}\n")
    with pytest.raises(AgentConfigError, match=rf"ppo.yaml: {message}"):
        load_hyperparameters("ppo", directory=tmp_path)


def test_command_txt_can_be_pasted_back_into_a_shell(monkeypatch):
    argv = ["/x/bin/shopfloor", "train", "--env-kwarg", "rules=[fifo, spt]", "--seed", "0"]
    monkeypatch.setattr(sys, "argv", argv)
    assert command_line() == "shopfloor train --env-kwarg 'rules=[fifo, spt]' --seed 0"


def test_simulate_json_stays_one_json_line_with_an_event_log(tmp_path, capsys):
    events = tmp_path / "events.csv"
    assert main(["simulate", "ft06", "--policy", "spt", "--json", "--events-csv", str(events)]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["makespan"] > 0
    assert "event log:" in captured.err and events.is_file()


def test_headroom_needs_a_worker():
    with pytest.raises(ValueError, match="workers must be >= 1, got 0"):
        rule_choice_headroom([1], workers=0)


@pytest.mark.parametrize(
    ("env_id", "kwargs"),
    [
        ("shopfloor/JobShop-v0", {"instance": "ft06"}),
        (
            "shopfloor/DynamicJobShop-v1",
            {"scenario": "dynamic_job_shop_small", "action_mode": "job"},
        ),
    ],
)
@pytest.mark.parametrize("algorithm", ["ppo", "a2c", "dqn"])
def test_agents_without_masks_are_refused_where_actions_can_be_invalid(algorithm, env_id, kwargs):
    from shopfloor.agents import make_agent
    from shopfloor.experiments._train import make_env_factory

    with pytest.raises(AgentConfigError, match=f"{algorithm} cannot follow action masks"):
        make_agent(algorithm, make_env_factory(env_id, kwargs), {"n_envs": 1}, 0, "cpu")


def test_agents_that_follow_masks_are_built_where_actions_can_be_invalid():
    from shopfloor.agents import make_agent
    from shopfloor.experiments._train import make_env_factory

    factory = make_env_factory("shopfloor/JobShop-v0", {"instance": "ft06"})
    assert make_agent("maskable_ppo", factory, {"n_envs": 1}, 0, "cpu").num_timesteps == 0
    rule_choice = make_env_factory(
        "shopfloor/DynamicJobShop-v1", {"scenario": "dynamic_job_shop_small"}
    )
    assert make_agent("ppo", rule_choice, {"n_envs": 1}, 0, "cpu").num_timesteps == 0


def test_an_experiment_refuses_unmasked_agents_and_unfit_baselines_at_load(tmp_path):
    job_shop = (
        "name: x\nenvs:\n  - {{id: shopfloor/JobShop-v0, name: ft06, kwargs: {{instance: ft06}}}}\n"
        "agents: {agents}\nseeds: [0]\nbudget: 10\neval: {{every: 10, seeds: [9]}}\n"
    )
    path = _experiment(tmp_path, job_shop.format(agents="[maskable_ppo, ppo]"))
    with pytest.raises(
        ExperimentError,
        match=r"exp.yaml: envs.0 \(ft06\): agents: ppo cannot follow action masks"
        r".*use qlearning or maskable_ppo",
    ):
        _load_and_check(path)
    assert _load_and_check(_experiment(tmp_path, job_shop.format(agents="[maskable_ppo]")))
    inventory = (
        "name: x\nenvs:\n  - {id: shopfloor/ProductionInventory-v0, name: pi}\nagents: [ppo]\n"
        "seeds: [0]\nbudget: 10\neval: {every: 10, seeds: [9]}\nbaselines: [basestock, spt]\n"
    )
    with pytest.raises(
        ExperimentError, match=r"exp.yaml: baselines.1: spt on env 'pi': .*dispatches"
    ):
        _load_and_check(_experiment(tmp_path, inventory))


def test_an_experiment_refuses_the_rollout_agent_on_an_env_without_rule_candidates(tmp_path):
    text = (
        "name: x\nenvs:\n  - {{id: shopfloor/DynamicJobShop-v1, name: small, kwargs: "
        "{{scenario: dynamic_job_shop_small{extra}}}}}\nagents: [rollout]\nseeds: [0]\n"
        "budget: 10\neval: {{every: 10, seeds: [9]}}\n"
    )
    with pytest.raises(
        ExperimentError,
        match=r"exp.yaml: envs.0 \(small\): agents: the rollout agent "
        r".*give the env rule_candidates",
    ):
        _load_and_check(_experiment(tmp_path, text.format(extra="")))
    assert _load_and_check(_experiment(tmp_path, text.format(extra=", rule_candidates: true")))


@pytest.mark.parametrize(
    ("options", "env_id"),
    [
        (["--instance", "ft06"], "shopfloor/JobShop-v0"),
        (["--scenario", "flow_shop_small"], "shopfloor/JobShop-v0"),
        (["--scenario", "production_inventory"], "shopfloor/ProductionInventory-v0"),
        (["--scenario", "dynamic_job_shop_small"], "shopfloor/DynamicJobShop-v1"),
        ([], "shopfloor/DynamicJobShop-v1"),
        (["--env-kwarg", "generator={n_jobs: 6, n_machines: 3}"], "shopfloor/JobShop-v0"),
        (
            ["--instance", "ft06", "--env", "shopfloor/DynamicJobShop-v1"],
            "shopfloor/DynamicJobShop-v1",
        ),
    ],
)
def test_train_takes_the_env_from_its_target(options, env_id):
    from shopfloor.cli._main import _resolve_env  # white-box: the env chosen before any run

    args = build_parser().parse_args(["train", "--agent", "ppo", *options])
    _resolve_env(args)
    assert args.env == env_id


def test_a_production_scenario_in_the_dynamic_job_shop_is_named():
    import gymnasium as gym

    import shopfloor.envs  # noqa: F401

    with pytest.raises(ValueError, match="'production_inventory' is a production-inventory"):
        gym.make("shopfloor/DynamicJobShop-v1", scenario="production_inventory")


def test_train_refuses_a_training_seed_among_the_evaluation_seeds(tmp_path, capsys):
    args = ["train", "--agent", "qlearning", "--scenario", "dynamic_job_shop_small"]
    assert main([*args, "--seed", "3", "--eval-seeds", "1-5", "--root", str(tmp_path)]) == 2
    assert "--seed 3 is also an evaluation seed" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_other_commands_refuse_what_they_would_ignore_or_repeat(capsys):
    experiment = "experiments/quickstart.yaml"
    assert main(["run", experiment, "--address", "1.2.3.4:6379"]) == 2
    assert "--address is the Ray cluster's" in capsys.readouterr().err
    assert main(["headroom", "dynamic_job_shop_small", "--seeds", "1", "--rules", "atc,atc"]) == 2
    assert "give each rule once" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["bench-speed", "ft06", "--seconds", "0"])
    assert "argument --seconds: 0 is not above 0" in capsys.readouterr().err


def test_a_missing_forecaster_is_named_as_given(tmp_path, capsys):
    assert main(["forecast", "eval", str(tmp_path / "none.pt"), "production_inventory"]) == 2
    assert (
        f"{tmp_path / 'none.pt'}: no saved forecaster (nor its none.json)"
        in capsys.readouterr().err
    )


def test_forecast_train_keeps_an_earlier_model_unless_told(tmp_path, capsys):
    command = ["forecast", "train", "production_inventory", "--out", str(tmp_path / "f")]
    command += ["--epochs", "2", "--lookback", "8", "--horizon", "2", "--periods", "80"]
    assert main(command) == 0
    model = tmp_path / "f" / "model.pt"
    first = model.read_bytes()
    assert main([*command, "--seed", "1"]) == 2
    assert "already holds a trained forecaster" in capsys.readouterr().err
    assert model.read_bytes() == first
    assert main([*command, "--seed", "1", "--overwrite"]) == 0
    assert model.read_bytes() != first


def test_ctrl_c_is_one_line_and_exit_130(monkeypatch, capsys):
    import shopfloor.cli._main as cli  # white-box: a command handler replaced

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_simulate", interrupted)
    assert main(["simulate", "ft06"]) == 130
    assert "interrupted" in capsys.readouterr().err


def test_simulate_refuses_a_cover_it_would_ignore(capsys):
    assert main(["simulate", "ft06", "--cover", "3"]) == 2
    assert "--cover is the base-stock cover of make-to-stock scenarios; ft06 has none" in (
        capsys.readouterr().err
    )
    assert main(["simulate", "production_inventory", "--cover", "3", "--json"]) == 0


def test_a_mistyped_option_is_named_with_its_command(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["bench", "--polices", "spt"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err == (
        "shopfloor bench: error: unrecognized arguments: --polices spt "
        "(see shopfloor bench --help)\n"
    )


def test_forecast_folders_default_by_source_and_seed_and_refuse_a_trained_one(tmp_path):
    from shopfloor.experiments import forecast_eval_dir, forecast_run_dir

    default = forecast_run_dir("envs/production_inventory.yaml", 3)
    assert default == Path("experiments/runs/forecast/production_inventory/seed_3")
    assert forecast_run_dir("production_inventory", 0, tmp_path / "fc") == tmp_path / "fc"
    (tmp_path / "fc").mkdir()
    (tmp_path / "fc" / "model.pt").write_bytes(b"")
    with pytest.raises(ValueError, match=r"fc already holds a trained forecaster; give another"):
        forecast_run_dir("production_inventory", 0, tmp_path / "fc")
    assert forecast_run_dir("production_inventory", 0, tmp_path / "fc", overwrite=True)
    model = tmp_path / "fc" / "model.pt"
    assert forecast_eval_dir(model, "demand.csv") == tmp_path / "fc" / "eval_demand"
    assert forecast_eval_dir(model, "demand.csv", tmp_path / "e") == tmp_path / "e"
