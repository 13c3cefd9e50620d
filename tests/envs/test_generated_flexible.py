"""JobShop-v0 on a new random flexible job shop every episode (generator flexible: true)."""

from __future__ import annotations

import numpy as np
import pytest

from shopfloor.batch import BatchFlexibleJobShop
from shopfloor.envs import GeneratorSpec, JobShopEnv, SpecSource
from shopfloor.instances import (
    FlexibleJobShopInstance,
    generate_flexible_instance,
    generate_instance,
)

FLEXIBLE = {"n_jobs": 10, "n_machines": 5, "flexible": True}


def _first_valid_episode(env: JobShopEnv) -> float:
    """Run an episode always taking the first valid action; its makespan."""
    done, info = False, {}
    while not done:
        _, _, done, _, info = env.step(int(np.flatnonzero(env.action_masks())[0]))
    return float(info["makespan"])


def test_a_classic_generator_draws_exactly_as_before() -> None:
    spec = GeneratorSpec(6, 4)
    assert (spec.high, spec.flexible, spec.operations) == (99, False, None)
    rng, again = np.random.default_rng(5), np.random.default_rng(5)
    drawn = SpecSource(generator={"n_jobs": 6, "n_machines": 4}).draw(rng)
    seed = int(again.integers(2**62))  # what SpecSource.draw always did
    assert drawn == generate_instance(6, 4, seed=seed, low=1, high=99).to_factory_spec()
    assert spec.generate(seed) == generate_instance(6, 4, seed=seed)
    assert SpecSource(generator=spec).name == "generated-6x4"


def test_flexible_fields_default_to_the_recipe_and_lists_become_pairs() -> None:
    spec = GeneratorSpec(**FLEXIBLE, machines_per_operation=[2, 3])  # type: ignore[arg-type]
    assert (spec.low, spec.high, spec.deviation) == (1, 20, 0.2)
    assert spec.operations is None and spec.machines_per_operation == (2, 3)
    assert hash(spec) == hash(GeneratorSpec(10, 5, flexible=True, machines_per_operation=(2, 3)))
    instance = spec.generate(7)
    assert isinstance(instance, FlexibleJobShopInstance)
    assert instance == generate_flexible_instance(10, 5, 7, machines_per_operation=(2, 3))
    assert SpecSource(generator=FLEXIBLE).name == "generated-flexible-10x5"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"operations": [2, 3]}, "generator operations needs flexible: true"),
        ({"deviation": None}, "generator deviation needs flexible: true"),
        ({**FLEXIBLE, "machines_per_operation": [1, 6]}, "generator: machines_per_operation"),
        ({**FLEXIBLE, "operations": [3, 2]}, r"generator: operations needs 1 <= lo <= hi"),
        ({**FLEXIBLE, "deviation": 2}, r"generator: deviation must be a number in \[0, 1\)"),
        ({**FLEXIBLE, "flexible": "yes"}, "generator flexible must be true or false"),
        ({**FLEXIBLE, "shape": 3}, "generator: .*shape"),
    ],
)
def test_bad_generator_fields_are_refused_in_one_line(fields: dict, message: str) -> None:
    generator = {"n_jobs": 4, "n_machines": 5, **fields}
    with pytest.raises(ValueError, match=message) as error:
        JobShopEnv(generator=generator)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(("mode", "actions"), [("non_delay", 10), ("active", 10), ("append", 50)])
def test_twenty_episodes_of_random_actions_keep_the_spaces(mode: str, actions: int) -> None:
    env = JobShopEnv(generator=FLEXIBLE, mode=mode)
    assert env.flexible and env.action_space.n == actions
    assert env.observation_space.shape == (10 * 8 + 5 * 3,)
    example = env.source.example()
    assert all(len(op.machines) == 5 for job in example.jobs for op in job.routing)
    example_ops = sum(len(job.routing) for job in example.jobs)
    rng = np.random.default_rng(0)
    totals = set()
    for episode in range(20):
        observation, _ = env.reset(seed=episode)
        spec = env.factory.spec
        totals.add(sum(len(job.routing) for job in spec.jobs))
        assert len(spec.jobs) == 10 and len(spec.machines) == 5
        steps, rewards, done, info = 0, 0.0, False, {}
        while not done:
            assert env.observation_space.contains(observation)
            mask = env.action_masks()
            assert mask.shape == (actions,) and mask.any()
            observation, reward, done, _, info = env.step(int(rng.choice(np.flatnonzero(mask))))
            rewards += reward
            steps += 1
        assert env.observation_space.contains(observation)
        loads = sum(min(op.durations) for job in spec.jobs for op in job.routing) / 5
        assert rewards == pytest.approx(-info["makespan"] / loads)
        if mode != "non_delay":
            assert steps == sum(len(job.routing) for job in spec.jobs)
    assert len(totals) > 3  # the instances differ ...
    assert min(totals) < example_ops  # ... some have fewer operations than the example


def test_episodes_are_the_generators_instances_and_seeded() -> None:
    env = JobShopEnv(generator=FLEXIBLE, mode="active")
    env.reset(seed=3)
    first = env.factory.spec
    env.reset()
    assert env.factory.spec != first
    env.reset(seed=3)
    assert env.factory.spec == first
    seed = int(np.random.default_rng(3).integers(2**62))  # env.np_random's first draw
    assert first == GeneratorSpec(**FLEXIBLE).generate(seed).to_factory_spec()  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_batched_core_and_env_give_the_same_makespans(seed: int) -> None:
    """Always the first valid action: BatchFlexibleJobShop and JobShop-v0 agree."""
    instance = generate_flexible_instance(8, 4, seed)
    for mode in ("active", "non_delay"):
        core = BatchFlexibleJobShop([instance], mode)
        _, masks = core.reset()
        while not bool(core.dones[0]):
            first = int(np.flatnonzero(np.asarray(masks)[0])[0])
            _, masks, _, _ = core.step(np.array([first]))
        env = JobShopEnv(spec=instance.to_factory_spec(), mode=mode)
        env.reset(seed=0)
        assert _first_valid_episode(env) == float(core.makespans()[0]) > 0


def test_the_example_makes_a_small_shop_flexible_and_one_machine_ops_classic() -> None:
    tiny = {"n_jobs": 1, "n_machines": 2, "flexible": True, "operations": [1, 1]}
    env = JobShopEnv(generator=tiny, mode="append")
    assert env.flexible and env.action_space.n == 2
    for episode in range(6):  # some episodes draw one eligible machine, some two
        env.reset(seed=episode)
        assert _first_valid_episode(env) > 0
    single = JobShopEnv(generator={**FLEXIBLE, "machines_per_operation": [1, 1]}, mode="append")
    assert not single.flexible and single.action_space.n == 10
    single.reset(seed=0)
    assert _first_valid_episode(single) > 0
