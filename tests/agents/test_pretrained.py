"""Pretrained models by name: the shipped ones have cards and load; ``pretrained:<name>``
resolves in ``make_policy`` and ``shopfloor simulate``; unknown names list the others."""

from __future__ import annotations

import json
import shutil

import gymnasium as gym
import pytest

import shopfloor.agents._pretrained as pretrained_module  # white-box: the folder it reads
from shopfloor.agents import (
    ALGORITHMS,
    CARD_HEADINGS,
    AgentSetup,
    NeuralPolicy,
    UnknownPretrainedError,
    list_pretrained,
    load_pretrained,
    missing_card_headings,
    model_card,
    pretrained_path,
)
from shopfloor.cli import main
from shopfloor.instances import load_instance
from shopfloor.policies import make_policy

CARD = "# tiny\n\nA test model.\n\n" + "".join(
    f"## {heading}\n\nText.\n\n" for heading in CARD_HEADINGS
)


def test_every_shipped_model_has_a_card_and_loads():
    names = list_pretrained()
    for name in names:
        card = model_card(name)
        assert card.startswith("# "), name
        assert missing_card_headings(card) == [], name
        policy = load_pretrained(name, device="cpu")
        assert policy.name == f"pretrained:{name}"
        schedule = policy.greedy([load_instance("ft06")])[0]
        assert schedule.makespan >= 55  # ft06's optimum
    # the README of the folder documents the card format with the same headings
    readme = (pretrained_module.PRETRAINED_DIR / "README.md").read_text(encoding="utf-8")
    assert all(f"## {heading}" in readme for heading in CARD_HEADINGS)
    # every file there is a model, its card or the README
    files = {path.name for path in pretrained_module.PRETRAINED_DIR.iterdir()}
    expected = {"README.md"} | {f"{name}{suffix}" for name in names for suffix in (".npz", ".md")}
    assert files == expected


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """A pretrained folder holding one tiny model, ``tiny``, made the package's."""
    setup = AgentSetup(
        lambda: gym.make(
            "shopfloor/JobShop-v0", generator={"n_jobs": 5, "n_machines": 3}, mode="active"
        ),
        {"width": 8, "heads": 1, "layers": 1, "work_prior": 2.0},
        seed=0,
        device="cpu",
    )
    ALGORITHMS["self_labelling"].build(setup).save(tmp_path / "tiny.npz")
    (tmp_path / "tiny.md").write_text(CARD, encoding="utf-8")
    monkeypatch.setattr(pretrained_module, "PRETRAINED_DIR", tmp_path)
    return tmp_path


def test_a_model_in_the_folder_is_listed_and_loads(folder):
    assert list_pretrained() == ["tiny"] == list_pretrained(folder)
    policy = load_pretrained("tiny", device="cpu")
    assert isinstance(policy, NeuralPolicy) and policy.mode == "active"
    assert load_pretrained("pretrained:tiny", device="cpu").name == "pretrained:tiny"
    assert missing_card_headings(model_card("tiny")) == []
    assert missing_card_headings("# x\n\n## Data\n") == [
        heading for heading in CARD_HEADINGS if heading != "Data"
    ]


def test_an_unknown_name_lists_the_available_ones_in_one_line(folder):
    for name in ("nope", "../tiny", "tiny.npz", ""):
        with pytest.raises(UnknownPretrainedError) as error:
            pretrained_path(name)
        assert str(error.value).count("\n") == 0
        assert "available: tiny" in str(error.value)
    with pytest.raises(LookupError, match=r"no pretrained model 'nope'; available: tiny"):
        make_policy("pretrained:nope")


def test_make_policy_builds_a_pretrained_model_by_name(folder):
    policy = make_policy("pretrained:tiny", seed=3)
    assert isinstance(policy, NeuralPolicy) and policy.name == "pretrained:tiny"
    env = gym.make("shopfloor/JobShop-v0", instance="ft06", mode=policy.mode)
    observation, _ = env.reset(seed=0)
    action, _ = policy.predict(observation, action_masks=env.unwrapped.action_masks())
    assert env.unwrapped.action_masks()[action]


def test_shopfloor_simulate_runs_a_pretrained_model(folder, capsys):
    assert main(["simulate", "ft06", "--policy", "pretrained:tiny", "--json"]) == 0
    kpis = json.loads(capsys.readouterr().out)
    expected = load_pretrained("tiny", device="cpu").greedy([load_instance("ft06")])[0]
    assert kpis["policy"] == "pretrained:tiny"
    assert kpis["makespan"] == expected.makespan and kpis["jobs_completed"] == 6
    assert main(["simulate", "ft06", "--policy", "pretrained:tiny"]) == 0
    assert "makespan" in capsys.readouterr().out


def test_shopfloor_simulate_names_an_unknown_pretrained_model(folder, capsys):
    assert main(["simulate", "ft06", "--policy", "pretrained:nope"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert "no pretrained model 'nope'; available: tiny" in err


def test_a_damaged_pretrained_model_is_refused_in_one_line(folder, capsys):
    (folder / "tiny.npz").write_bytes(b"not a zip")
    assert main(["simulate", "ft06", "--policy", "pretrained:tiny"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "tiny.npz is not a readable self-labelling model" in err


def test_shopfloor_simulate_runs_a_run_folder(tmp_path, capsys):
    argv = ["train", "--agent", "self_labelling", "--env", "shopfloor/JobShop-v0"]
    argv += ["--env-kwarg", "generator={n_jobs: 4, n_machines: 3}", "--env-kwarg", "mode=active"]
    argv += ["--budget", "1", "--eval-every", "1", "--eval-seeds", "1", "--root", str(tmp_path)]
    argv += ["--device", "cpu"]
    assert main(argv) == 0
    capsys.readouterr()
    run = next(tmp_path.rglob("config.yaml")).parent
    assert main(["simulate", "ft06", "--policy", str(run), "--json"]) == 0
    kpis = json.loads(capsys.readouterr().out)
    expected = NeuralPolicy.load(run / "model.npz", device="cpu")
    assert kpis["makespan"] == expected.greedy([load_instance("ft06")])[0].makespan
    from_folder = NeuralPolicy.load(run, device="cpu")  # the folder names its model
    assert from_folder.name == run.name and from_folder.mode == "active"
    best = NeuralPolicy.load(f"{run}:best", device="cpu")
    assert best.greedy([load_instance("ft06")])[0].makespan > 0
    shutil.rmtree(run)


def test_shopfloor_simulate_refuses_a_run_folder_of_another_env(tmp_path, capsys):
    argv = ["train", "--agent", "qlearning", "--scenario", "dynamic_job_shop_small"]
    argv += ["--budget", "5", "--eval-every", "5", "--eval-seeds", "100", "--root", str(tmp_path)]
    assert main(argv) == 0
    capsys.readouterr()
    run = next(tmp_path.rglob("config.yaml")).parent
    assert main(["simulate", "ft06", "--policy", str(run)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "was trained in shopfloor/DynamicJobShop-v1" in err


def test_shopfloor_simulate_writes_the_event_log_of_a_pretrained_model(folder, tmp_path, capsys):
    events = tmp_path / "events.csv"
    argv = ["simulate", "ft06", "--policy", "pretrained:tiny", "--events-csv", str(events)]
    assert main(argv) == 0
    assert "event log" in capsys.readouterr().out
    assert len(events.read_text(encoding="utf-8").splitlines()) > 36  # a header, 36 starts ...
