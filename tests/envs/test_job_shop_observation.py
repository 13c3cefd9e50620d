"""The JobShop observation, built incrementally, equals one read off the factory."""

import math

import numpy as np
import pytest

from shopfloor.envs import JobShopEnv


def reference_observation(env: JobShopEnv) -> np.ndarray:
    """The spec-sheet blocks computed job by job from the factory's accessors."""
    factory = env.factory
    spec = factory.spec
    now = factory.now
    n_machines = env.n_machines
    longest = max(max(factory.routing_times(j)) for j in range(env.n_jobs))
    largest = max(sum(factory.routing_times(j)) for j in range(env.n_jobs))
    startable = {job for job, _ in factory.ready_operations()}
    jobs = np.zeros((env.n_jobs, 8))
    unstarted = np.zeros(n_machines)
    total_load = np.zeros(n_machines)
    for job in range(env.n_jobs):
        step, total = factory.operation_index(job), factory.n_operations(job)
        busy = any(factory.machine_job(m) == job for m in range(n_machines))
        routing = spec.jobs[job].routing or spec.products[spec.jobs[job].product].routing
        for index, (operation, time) in enumerate(
            zip(routing, factory.routing_times(job), strict=True)
        ):
            total_load[operation.machines[0]] += time
            if index >= step + busy:
                unstarted[operation.machines[0]] += time
        jobs[job, 0] = job in startable
        jobs[job, 1] = step / total
        if step < total:
            machines, times = factory.next_operation(job)
            jobs[job, 2] = min(times) / longest
            jobs[job, 4] = (machines[0] + 1) / (n_machines + 1)
            if step + 1 < total:
                jobs[job, 5] = (routing[step + 1].machines[0] + 1) / (n_machines + 1)
            free = factory.machine_free_at(machines[0])
            jobs[job, 7] = min(max(free - now, 0.0) / longest, 1.0)
            queued = factory.queued_since(job)
            if not busy and not math.isnan(queued):
                jobs[job, 6] = min((now - queued) / longest, 1.0)
        jobs[job, 3] = factory.work_remaining(job) / largest
    machines = np.zeros((n_machines, 3))
    for machine in range(n_machines):
        if factory.machine_busy(machine):
            machines[machine, 0] = min((factory.machine_free_at(machine) - now) / longest, 1.0)
        machines[machine, 1] = len(factory.waiting_jobs(machine)) / env.n_jobs
        machines[machine, 2] = unstarted[machine] / total_load.max()
    return np.concatenate([jobs.T.ravel(), machines.T.ravel()]).astype(np.float32)


@pytest.mark.parametrize("instance", ["ft06", "la01", "ta01", "swv01"])
def test_incremental_observation_matches_the_factory(instance):
    env = JobShopEnv(instance=instance)
    rng = np.random.default_rng(0)
    observation, _ = env.reset(seed=0)
    terminated = False
    while True:
        np.testing.assert_allclose(observation, reference_observation(env), atol=1e-6)
        if terminated:
            break
        valid = np.flatnonzero(env.action_masks())
        observation, _, terminated, _, _ = env.step(int(rng.choice(valid)))


SETUP_SHOP = """
name: setup_shop
machines:
  - {name: cut, setup: {time: 2}}
  - {name: weld, setup: {time: 1, times: {a: {b: 3}}}}
products:
  - {name: pa, family: a, routing: [{machine: cut, duration: 3}, {machine: weld, duration: 2}]}
  - {name: pb, family: b, routing: [{machine: weld, duration: 4}, {machine: cut, duration: 1}]}
jobs:
  - {product: pa}
  - {product: pb}
  - {product: pa}
  - {product: pb}
  - {product: pa}
"""


def test_incremental_observation_counts_setups(tmp_path):
    path = tmp_path / "setup_shop.yaml"
    path.write_text(SETUP_SHOP)
    env = JobShopEnv(scenario=str(path))
    for seed in range(5):
        rng = np.random.default_rng(seed)
        observation, _ = env.reset(seed=seed)
        terminated = False
        while not terminated:
            np.testing.assert_allclose(observation, reference_observation(env), atol=1e-6)
            valid = np.flatnonzero(env.action_masks())
            observation, _, terminated, _, _ = env.step(int(rng.choice(valid)))
        assert any(event[1] == "start" and event[5] > 0 for event in env.factory.log)
