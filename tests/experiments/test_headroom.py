"""Rule-choice headroom: the clairvoyant yardsticks are what they claim."""

from __future__ import annotations

import pytest

from shopfloor.envs import DynamicJobShopEnv
from shopfloor.experiments import headroom, rule_choice_headroom, summarise_headroom
from shopfloor.policies import RulePolicy

SMALL = {"scenario": "dynamic_job_shop_small"}


def play(seed: int, actions: list[int] | tuple[int, ...]) -> tuple[float, int]:
    """Objective and choices of an episode with these choices, then the last one repeated."""
    env = DynamicJobShopEnv(**SMALL, action_mode="rule")
    env.reset(seed=seed)
    steps, done = 0, False
    while not done:
        action = actions[min(steps, len(actions) - 1)]
        _, _, terminated, truncated, _ = env.step(action)
        steps, done = steps + 1, terminated or truncated
    return env.episode_objective(), steps


@pytest.fixture(scope="module")
def results():
    return {row.seed: row for row in rule_choice_headroom([2, 3], "atc", SMALL, workers=1)}


@pytest.mark.parametrize("seed", [2, 3])
def test_rollout_replays_and_never_loses_to_its_base(results, seed):
    result = results[seed]
    names = [rule.value for rule in DynamicJobShopEnv(**SMALL).rules]
    for index, name in enumerate(names):  # each rule all episode, replayed by hand
        assert result.rules[name] == play(seed, [index])[0]
    assert result.base == result.rules["atc"]
    objective, steps = play(seed, result.actions)
    assert objective == result.rollout and steps == result.choices == len(result.actions)
    assert result.rollout <= result.base  # rollout improves on its base (deterministic)
    assert result.deviations == sum(a != names.index("atc") for a in result.actions)
    assert result.rules[result.best_rule] == min(result.rules.values())


def test_seed_3_gains_from_switching(results):
    """A seed where ATC is not the best rule in hindsight and switching pays."""
    result = results[3]
    assert result.best_rule != "atc"
    assert 0 < result.deviations < result.choices
    assert result.rollout < result.rules[result.best_rule] < result.base


def test_the_summary_is_the_means_over_seeds(results):
    rows = [results[2], results[3]]
    summary = summarise_headroom(rows)
    atc = (rows[0].rules["atc"] + rows[1].rules["atc"]) / 2
    assert summary.rules["atc"] == atc and set(summary.rules) == set(rows[0].rules)
    assert summary.reference == min(summary.rules.values())
    assert summary.rules[summary.best_single] == summary.reference
    best = (rows[0].rules[rows[0].best_rule] + rows[1].rules[rows[1].best_rule]) / 2
    assert (summary.hindsight, summary.rollout) == (best, (rows[0].rollout + rows[1].rollout) / 2)
    assert summary.sampled is None  # no sampled rollout was run
    with pytest.raises(ValueError, match="no headroom rows"):
        summarise_headroom([])


def test_pool_matches_in_process_and_is_deterministic(results):
    pooled = rule_choice_headroom([2, 3], "atc", SMALL, workers=2)
    assert pooled == [results[2], results[3]]
    assert headroom(2, "atc", SMALL) == results[2]


def test_base_must_be_a_rule_of_the_env():
    with pytest.raises(ValueError, match="base rule 'mwkr' is not in the env's rules"):
        headroom(0, "mwkr", SMALL)


def test_cli_names_a_malformed_seed_list(capsys):
    from shopfloor.cli import main

    assert main(["headroom", "dynamic_job_shop_small", "--seeds", "1-x"]) == 2
    assert "seeds '1-x': give a range or a list" in capsys.readouterr().err


def test_cli_takes_the_rules_to_choose_from(capsys):
    from shopfloor.cli import main

    assert main(["headroom", "dynamic_job_shop_small", "--seeds", "3", "--workers", "1",
                 "--rules", "atc,atcjs", "--base", "atcjs"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    expected = headroom(3, "atcjs", {**SMALL, "rules": ["atc", "atcjs"]})
    assert f"best single rule: {min(expected.rules, key=expected.rules.get)}" in out
    assert f"{expected.rollout:.4g}" in out and "edd" not in out
    assert main(["headroom", "dynamic_job_shop_small", "--seeds", "3", "--rules", "atc,atx"]) == 2
    assert "unknown dispatching rule 'atx'" in capsys.readouterr().err


@pytest.fixture(scope="module")
def sampled():
    """Seed 3 with the rollout over 2 sampled futures per rule and choice."""
    return headroom(3, "atc", SMALL, samples=2)


def test_sampled_rollout_replays_and_gains_without_seeing_the_future(results, sampled):
    clairvoyant = results[3]
    assert sampled.samples == 2
    assert sampled.rules == clairvoyant.rules and sampled.rollout == clairvoyant.rollout
    objective, steps = play(3, sampled.sampled_actions)
    assert objective == sampled.sampled and steps == len(sampled.sampled_actions)
    names = [rule.value for rule in DynamicJobShopEnv(**SMALL).rules]
    assert sampled.sampled_deviations == sum(
        a != names.index("atc") for a in sampled.sampled_actions
    )
    # It chooses from sampled futures, not from the episode's own: other choices than
    # the clairvoyant rollout, a worse result, yet far better than ATC all episode.
    assert sampled.sampled_actions != clairvoyant.actions
    assert clairvoyant.rollout < sampled.sampled < 0.85 * sampled.base


def test_sampled_rollout_is_deterministic_and_off_by_default(results, sampled):
    assert headroom(3, "atc", SMALL, samples=2) == sampled
    assert results[3].samples == 0 and results[3].sampled is None
    with pytest.raises(ValueError, match="samples must be >= 0, got -1"):
        headroom(3, "atc", SMALL, samples=-1)


def test_cli_prints_the_sampled_rollout(capsys, sampled):
    from shopfloor.cli import main

    assert main(["headroom", "dynamic_job_shop_small", "--seeds", "3", "--workers", "1",
                 "--samples", "2"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    line = f"one-step rollout over 2 sampled futures (not clairvoyant): {sampled.sampled:.4g}"
    assert line in out
    with pytest.raises(SystemExit) as exit_:
        main(["headroom", "dynamic_job_shop_small", "--seeds", "3", "--samples", "-1"])
    assert exit_.value.code == 2
    assert "argument --samples: -1 is below 0" in capsys.readouterr().err


def _replay_deviations(kwargs, seed, actions):
    """Replay ``actions`` in job mode; the objective and the choices unlike ATCJS's."""
    env = DynamicJobShopEnv(**kwargs)
    env.reset(seed=seed)
    atcjs = RulePolicy("atcjs", seed=seed).bind(env)
    deviations = 0
    for action in actions:
        assert env.action_masks()[action]
        deviations += action != int(atcjs.predict(None)[0])
        env.step(action)
    return env.episode_objective(), deviations


def test_job_mode_tries_every_waiting_job_and_keeps_the_rules_yardsticks():
    rules = ["atc", "atcjs", "edd"]
    by_rule = headroom(1000, "atcjs", {**SMALL, "rules": rules})
    job = {**SMALL, "rules": rules, "action_mode": "job", "slots": 16}
    by_job = headroom(1000, "atcjs", job, samples=2)
    # With queues that fit the slots, a rule played through job choices is the same
    # episode as the rule itself.
    assert by_job.rules == by_rule.rules and by_job.base == by_rule.base
    assert by_job.rollout <= by_job.base  # clairvoyant: never worse than its base rule
    assert 0 < by_job.deviations <= by_job.choices == len(by_job.actions)
    # The recorded slots are valid, replay to the objectives, and the deviations are
    # the choices unlike the base rule's in the state reached.
    assert _replay_deviations(job, 1000, by_job.actions) == (by_job.rollout, by_job.deviations)
    assert _replay_deviations(job, 1000, by_job.sampled_actions) == (
        by_job.sampled,
        by_job.sampled_deviations,
    )


def test_job_mode_random_base_is_one_stream_per_episode():
    # A random base rule must replay the same way in every simulated episode, else
    # the clairvoyant rollout can end worse than the base it improves on.
    job = {**SMALL, "rules": ["atc", "random"], "action_mode": "job"}
    result = headroom(4, "random", job)
    assert result.rollout <= result.base
    assert headroom(4, "random", job) == result


def test_cli_job_mode(capsys):
    from shopfloor.cli import main

    args = ["headroom", "dynamic_job_shop_small", "--seeds", "1001", "--workers", "1"]
    args += ["--rules", "atc,atcjs", "--base", "atcjs", "--action-mode", "job"]
    assert main(args) == 0
    out = capsys.readouterr().out
    job = {"rules": ["atc", "atcjs"], "action_mode": "job"}
    # Seed 1001 has queues longer than 8: the default 16 slots give another rollout.
    expected = headroom(1001, "atcjs", {**SMALL, **job, "slots": 16})
    assert expected.rollout != headroom(1001, "atcjs", {**SMALL, **job, "slots": 8}).rollout
    assert "job choice in hindsight" in out and f"{expected.rollout:.4g}" in out
    assert main([*args[:-2], "--slots", "8"]) == 2
    assert "--slots is for --action-mode job" in capsys.readouterr().err


@pytest.mark.parametrize("mode", ["rule", "job"])
def test_an_episode_without_a_choice_is_its_own_rollout(mode):
    from dataclasses import replace

    from shopfloor.scenario import load_scenario

    spec = load_scenario("dynamic_job_shop_small").factory
    spec = replace(spec, arrivals=replace(spec.arrivals, max_jobs=1))  # nothing to choose
    kwargs = {"spec": spec, "action_mode": mode, "objective": "weighted_flow_time"}
    result = headroom(3, "atc", kwargs, samples=2)
    assert result.choices == 0 and result.actions == () and result.sampled_actions == ()
    assert result.base > 0 and result.rollout == result.sampled == result.base
    assert set(result.rules.values()) == {result.base}
