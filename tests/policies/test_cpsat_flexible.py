"""CP-SAT on flexible job shops: the proven optima of small benchmarks, replayed exactly."""

import pytest

from shopfloor.instances import FlexibleJobShopInstance, load_instance, parse_fjsplib
from shopfloor.policies import CpSatPolicy, replay_schedule, solve_cpsat

# Optima proven in the literature (data/fjsplib/bounds.csv cites the source of each);
# each solves to proven optimality in about a second with one search thread.
PROVEN = {
    "mk01": 40,
    "mk04": 60,
    "hurink_edata_mt06": 55,
    "hurink_rdata_mt06": 47,
    "hurink_vdata_mt06": 47,
    "hurink_edata_la01": 609,
}


@pytest.mark.parametrize(("name", "optimum"), sorted(PROVEN.items()))
def test_cpsat_reproduces_the_proven_optimum(name, optimum):
    instance = load_instance(name)
    assert isinstance(instance, FlexibleJobShopInstance)
    assert instance.optimum == optimum
    schedule = solve_cpsat(instance, time_limit=15.0, workers=1, seed=0)
    assert schedule.status == "optimal"
    assert schedule.makespan == schedule.lower_bound == optimum
    # every operation runs on one of its own machines, for that machine's time
    assert len(schedule.operations) == instance.n_operations
    for op in schedule.operations:
        alternatives = dict(instance.operations[op.job][op.operation])
        assert op.machine in alternatives
        assert op.end - op.start == alternatives[op.machine]
    # the factory replays it exactly: same makespan, every job done
    kpis = replay_schedule(instance, schedule).kpis()
    assert kpis.makespan == optimum
    assert kpis.jobs_completed == instance.n_jobs


def test_cpsat_uses_the_faster_alternative():
    # One job, one operation: machine 1 takes 9, machine 2 takes 4.
    instance = parse_fjsplib("1 2\n1 2 1 9 2 4\n", name="choice")
    schedule = CpSatPolicy(time_limit=5.0, workers=1).solve(instance)
    assert schedule.makespan == 4
    assert schedule.operations[0].machine == 1
    # Two such jobs: one after the other on the fast machine (8) beats using the slow one (9)
    two = parse_fjsplib("2 2\n1 2 1 9 2 4\n1 2 1 9 2 4\n", name="two")
    assert solve_cpsat(two, time_limit=5.0, workers=1).makespan == 8
