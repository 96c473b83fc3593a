"""The coverage stage: an exact maximum-cardinality bound by maximum flow, and a matching of it."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.assignment import check_assignment, maximum_cardinality_bruteforce
from matching.coverage import _scipy_max_flow, cover, feasible_network, maximum_cardinality
from matching.rules import build_population, feasible_matrix
from matching.synthetic import make_population, make_realistic_population, person
from matching.synthetic import small_frame as frame
from tests.matching.populations import populations
from vocabulary import BANDS

ORGS = ("Leeds NHS Trust", "York NHS Trust", "Hull NHS Trust", "Bath NHS Trust")


POPULATIONS = populations(max_size=24, orgs=ORGS)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(POPULATIONS)
def test_network_bound_equals_brute_force_maximum_cardinality(f):
    # given a random population, when the bound is the maximum flow of the compressed network
    pop = build_population(f)
    bound = maximum_cardinality(pop)
    # then it equals Hopcroft-Karp on the full capacity-expanded feasible graph
    assert bound == maximum_cardinality_bruteforce(pop)
    # and scipy's Dinic on the same network agrees with OR-Tools
    if pop.n_mentees and pop.n_mentors:
        assert _scipy_max_flow(*feasible_network(pop)) == bound


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(POPULATIONS, st.integers(0, 3))
def test_cover_reaches_the_bound_from_a_poor_candidate_graph(f, keep):
    # given a random population and a candidate graph of at most `keep` feasible edges a mentee
    pop = build_population(f)
    feas = feasible_matrix(pop)
    e, m = np.nonzero(feas)
    rank = np.arange(len(e)) - np.searchsorted(e, e)
    e, m = e[rank < keep], m[rank < keep]
    # when coverage grows a matching from it
    match, bound = cover(pop, e, m)
    # then the matching breaks no hard rule nor capacity and has the brute-force maximum size
    check_assignment(pop, match)
    assert (match >= 0).sum() == bound == maximum_cardinality_bruteforce(pop)


def test_cover_from_no_candidates_on_a_synthetic_pool_needs_augmenting_paths():
    # given a pool where sampled edges alone are unlikely to be enough
    f = make_population(400, seed=21, outside_only_share=0.6, people_per_organisation=30)
    pop = build_population(f)
    # when coverage starts from no candidate edge at all, with one tiny sampling round
    match, bound = cover(pop, np.zeros(0, np.int64), np.zeros(0, np.int64), rounds=1, per=1)
    # then it still reaches the brute-force bound without breaking a rule
    check_assignment(pop, match)
    assert (match >= 0).sum() == bound == maximum_cardinality_bruteforce(pop)


def test_bound_is_below_the_places_when_the_rules_leave_places_unusable():
    # given two band-7 mentors (3 places) and mentees: two band 5 (one outside-only in the
    # mentors' organisation), one band 8a that no one may mentor
    f = frame(
        person("M1", band="7", mentor_capacity=2, organisation="York NHS Trust"),
        person("M2", band="7", mentor_capacity=1, organisation="York NHS Trust"),
        person("A", band="5", seeking_mentor=True),
        person(
            "B",
            band="5",
            seeking_mentor=True,
            organisation="York NHS Trust",
            outside_organisation_only=True,
        ),
        person("C", band="8a", seeking_mentor=True),
        person("D", band="4", seeking_mentor=True, line_manager_id="M1"),
    )
    pop = build_population(f)
    # then only A and D can be matched (D only by M2: M1 is D's line manager)
    assert maximum_cardinality(pop) == 2 == maximum_cardinality_bruteforce(pop)


def test_realistic_population_has_scarce_senior_mentors_chains_and_clustered_priority():
    f = make_realistic_population(3000, seed=2)
    pop = build_population(f)
    senior = BANDS.index("8d")
    # scarce senior mentors: fewer places at 8d and above than mentees at 8a-8c
    senior_places = pop.mentor_capacity[pop.mentor_band >= senior].sum()
    needing = ((pop.mentee_band >= BANDS.index("8a")) & (pop.mentee_band < senior)).sum()
    assert senior_places < needing
    # chains: most mentees have a line manager, and many a mentor in their chain
    assert f.loc[f["seeking_mentor"], "line_manager_id"].notna().mean() > 0.7
    assert (np.diff(pop.chain_ptr) > 0).mean() > 0.3
    # clustered priority: the share of priority mentees differs a lot between organisations
    share = f[f["seeking_mentor"]].groupby("organisation")["priority_access"].mean()
    assert share.max() > 3 * share.min() + 0.05
    # and fewer places than mentees, as in a national round
    assert pop.mentor_capacity.sum() < pop.n_mentees
