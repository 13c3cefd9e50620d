"""``shopfloor bench`` on flexible job shops: ranges, bounds, rules and CP-SAT."""

from shopfloor.experiments import expand_targets, run_bench


def test_flexible_ranges_expand_in_bench():
    assert expand_targets(["mk01-mk03", "hurink_vdata_la01-02"]) == [
        "mk01",
        "mk02",
        "mk03",
        "hurink_vdata_la01",
        "hurink_vdata_la02",
    ]


def test_rules_and_cpsat_on_flexible_instances_with_and_without_a_reference():
    result = run_bench(
        ["spt", "mwkr", "cpsat"],
        ["mk01", "hurink_rdata_la27"],
        1,
        workers=1,
        time_limit=3.0,
        progress=False,
    )
    mk01 = {s.policy: s for s in result.summaries if s.target == "mk01"}
    assert mk01["cpsat"].upper_bound == 40
    assert mk01["cpsat"].mean == 40  # proven optimal within the limit, replayed exactly
    assert mk01["cpsat"].gap == 0
    for rule in ("spt", "mwkr"):
        assert mk01[rule].mean >= 40
        assert mk01[rule].gap is not None and mk01[rule].gap >= 0
    open_one = {s.policy: s for s in result.summaries if s.target == "hurink_rdata_la27"}
    assert all(s.upper_bound is None and s.gap is None for s in open_one.values())
    markdown = result.markdown()
    assert "| hurink_rdata_la27 | makespan | no reference |" in markdown
    assert "| mk01 | makespan | 40 |" in markdown
