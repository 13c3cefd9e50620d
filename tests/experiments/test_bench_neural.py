"""The bench with neural schedulers: best of N in one batched call, a timed search."""

from __future__ import annotations

import pytest

from shopfloor.agents import NeuralPolicy
from shopfloor.experiments import run_bench
from shopfloor.experiments._train import RunConfig, execute_run
from shopfloor.instances import load_instance


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory) -> str:
    """A self_labelling run of one update on generated 6x6 shops."""
    config = RunConfig(
        experiment="neural",
        env_id="shopfloor/JobShop-v0",
        env_name="generated",
        env_kwargs={"generator": {"n_jobs": 6, "n_machines": 6}},
        agent="self_labelling",
        seed=0,
        budget=288,
        eval_every=288,
        eval_seeds=(7,),
        hyperparameters={
            "width": 8,
            "heads": 2,
            "layers": 1,
            "samples": 4,
            "instances": 2,
            "work_prior": 10.0,
        },
        device="cpu",
        root=str(tmp_path_factory.mktemp("runs")),
    )
    execute_run(config)
    return str(config.run_dir)


def _values(result, label: str) -> dict[str, float]:
    return {e.target: e.value for e in result.episodes if e.policy == label}


def test_best_of_n_runs_in_the_batched_core_and_replays_in_the_env(run_folder):
    targets = ["ft06", "la01"]
    greedy = run_bench([run_folder, "mwkr"], targets, 1, workers=1, progress=False)
    sampled = run_bench([run_folder, "mwkr"], targets, 1, workers=1, progress=False, samples=8)
    labels = {e.policy for e in sampled.episodes}
    assert labels == {f"{run_folder} best-of-8", "mwkr best-of-8"}
    best = _values(sampled, f"{run_folder} best-of-8")
    plain = _values(greedy, run_folder)
    policy = NeuralPolicy.load(run_folder, device="cpu")
    for target in targets:
        assert best[target] <= plain[target]  # the greedy schedule is among the eight
        assert best[target] >= 55 if target == "ft06" else best[target] >= 666  # optima
    # The same schedules as the policy's own best of 8 with the bench's seed stream.
    from shopfloor.experiments._episodes import policy_seed

    own = policy.best_of([load_instance("ft06")], 8, seed=policy_seed(0))[0].makespan
    assert best["ft06"] == own


def test_search_uses_the_time_limit_and_leaves_other_policies_alone(run_folder):
    result = run_bench(
        [run_folder, "mwkr"], ["la01"], 1, workers=1, progress=False, search=True,
        time_limit=1.0,
    )  # fmt: skip
    label = f"{run_folder} search 1s"
    assert {e.policy for e in result.episodes} == {label, "mwkr"}
    greedy = run_bench([run_folder], ["la01"], 1, workers=1, progress=False)
    assert _values(result, label)["la01"] <= _values(greedy, run_folder)["la01"]
    assert result.settings["search"] is True
    assert any("search" in note for note in result.notes)
    with pytest.raises(ValueError, match="give one"):
        run_bench([run_folder], ["la01"], 1, workers=1, progress=False, search=True, samples=4)
