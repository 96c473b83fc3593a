"""Hard rules are never broken and coverage reaches the maximum-cardinality bound."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.assignment import check_assignment, flow_available, maximum_cardinality_bruteforce
from matching.rounds import RoundMatcher
from matching.rules import build_population, feasible_pairs
from matching.synthetic import person
from matching.synthetic import small_frame as frame
from tests.matching.populations import populations
from vocabulary import BANDS

SOLVERS = ["exact", "auction", *(["flow"] if flow_available() else [])]


POPULATIONS = populations(
    priority=True,
    sought=("quality-improvement", "budget-management", "team-leadership"),
    offered=("quality-improvement", "budget-management", "rota-management"),
)


def _ancestors(f, member_id):
    managers = dict(zip(f["member_id"], f["line_manager_id"], strict=False))
    seen, cur = set(), managers.get(member_id)
    while cur is not None and cur not in seen:
        seen.add(cur)
        cur = managers.get(cur)
    return seen


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(POPULATIONS, st.booleans(), st.sampled_from(SOLVERS))
def test_round_never_breaks_a_hard_rule_and_reaches_the_bound(f, priority, solver):
    # given a random population, when a round runs
    result = RoundMatcher(priority=priority, solver=solver, n_candidates=2).fit(f).result_
    m = result.matches
    by_id = f.set_index("member_id")
    # then every pair respects every hard rule, checked here from the raw rows
    pairs = m[m["mentor_id"] != ""]
    for mentee, mentor in zip(pairs["mentee_id"], pairs["mentor_id"], strict=False):
        e, r = by_id.loc[mentee], by_id.loc[mentor]
        assert mentee != mentor
        assert r["mentor_capacity"] > 0
        assert BANDS.index(r["band"]) > BANDS.index(e["band"])
        assert not (e["outside_organisation_only"] and e["organisation"] == r["organisation"])
        assert mentor not in _ancestors(f, mentee) and mentee not in _ancestors(f, mentor)
    load = pairs["mentor_id"].value_counts()
    for mentor, count in load.items():
        assert count <= by_id.loc[mentor, "mentor_capacity"]
    # and every seeking member has exactly one row
    assert sorted(m["mentee_id"]) == sorted(f.loc[f["seeking_mentor"], "member_id"])
    # and as many mentees are matched as any assignment could (brute force on the full graph)
    assert result.matched == maximum_cardinality_bruteforce(build_population(f))


def test_no_mentors_leaves_everyone_unmatched_with_a_reason():
    f = frame(person("A", seeking_mentor=True), person("B", seeking_mentor=True, band="7"))
    m = RoundMatcher().fit(f).result_.matches
    assert (m["mentor_id"] == "").all()
    assert (m["reasons"] == "no mentor is at a higher band than yours").all()


def test_one_mentor_takes_up_to_capacity_and_capacity_zero_is_not_a_mentor():
    f = frame(
        person("M", band="8a", mentor_capacity=2, organisation="York NHS Trust"),
        person("Z", band="9", mentor_capacity=0, organisation="York NHS Trust"),
        *[person(f"E{i}", seeking_mentor=True, band="5") for i in range(4)],
    )
    m = RoundMatcher().fit(f).result_.matches
    assert (m["mentor_id"] == "M").sum() == 2
    assert "Z" not in set(m["mentor_id"])
    assert (
        m.loc[m["mentor_id"] == "", "reasons"]
        == "the mentors who could take you were all needed for other mentees"
    ).all()


def test_line_management_chain_is_excluded_in_both_directions():
    # A manages B manages C; C seeks a mentor; A and B are the only senior mentors.
    f = frame(
        person("A", band="9", mentor_capacity=1),
        person("B", band="8a", mentor_capacity=1, line_manager_id="A"),
        person("C", band="5", seeking_mentor=True, line_manager_id="B"),
    )
    m = RoundMatcher().fit(f).result_.matches
    assert m.loc[0, "mentor_id"] == ""
    assert m.loc[0, "reasons"] == "every mentor at a higher band is in your line-management chain"


def test_outside_organisation_only_is_respected():
    f = frame(
        person("M", band="8a", mentor_capacity=1),
        person("E", band="5", seeking_mentor=True, outside_organisation_only=True),
    )
    m = RoundMatcher().fit(f).result_.matches
    assert m.loc[0, "mentor_id"] == ""
    assert m.loc[0, "reasons"] == "every mentor at a higher band works in your own organisation"


def test_feasible_pairs_on_synthetic_population_match_the_round():
    from matching.synthetic import make_population

    f = make_population(300, seed=5)
    matcher = RoundMatcher().fit(f)
    pop = matcher.scorer_.population_
    check_assignment(pop, matcher.match_)
    e = np.flatnonzero(matcher.match_ >= 0)
    assert feasible_pairs(pop, e, matcher.match_[e]).all()
    assert matcher.result_.matched == maximum_cardinality_bruteforce(pop)


@pytest.mark.parametrize("size", [0, 1, 7, 5000])
def test_key_sets_by_sorting_equal_numpys(size):
    from matching.keys import in_keys, unique_keys

    rng = np.random.default_rng(size)
    keys = rng.integers(0, 3 * size + 1, size)
    probe = rng.integers(0, 3 * size + 1, 2 * size)
    assert np.array_equal(unique_keys(keys), np.unique(keys))
    assert np.array_equal(in_keys(probe, unique_keys(keys)), np.isin(probe, keys))
