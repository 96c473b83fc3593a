"""Scores and reasons on hand-made pairs; scikit-learn conventions; exact gap; determinism."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone

from matching.assignment import exact_assignment, maximum_cardinality_bruteforce
from matching.features import PersonFeatures, SkillsEncoder
from matching.rounds import RoundMatcher
from matching.scoring import PairScorer, ScoreWeights
from matching.synthetic import make_population, person
from matching.synthetic import small_frame as frame


def _pair_frame(**mentor):
    return frame(
        person(
            "E",
            seeking_mentor=True,
            band="5",
            skills_sought=(
                "quality-improvement",
                "budget-management",
                "team-leadership",
                "rota-management",
            ),
            goals="I want to get better at quality improvement in outpatients",
            profession="nurse-or-midwife",
        ),
        person("M", **{"band": "7", "mentor_capacity": 1, **mentor}),
    )


def test_more_skills_covered_scores_higher_and_reasons_name_them():
    good = _pair_frame(
        skills_offered=("quality-improvement", "budget-management", "team-leadership"),
        organisation="York NHS Trust",
        profession="nurse-or-midwife",
        bio="Led a quality improvement programme in outpatients",
    )
    weak = _pair_frame(skills_offered=("board-readiness",))
    s_good = PairScorer().fit(good)
    s_weak = PairScorer().fit(weak)
    assert s_good.score_pairs([0], [0])[0] > s_weak.score_pairs([0], [0])[0] + 20
    m = RoundMatcher().fit(good).result_.matches
    reasons = m.loc[0, "reasons"].split("; ")
    assert reasons[0] == (
        "covers 3 of your 4 skills sought: quality improvement, budget management, team leadership"
    )
    assert "2 bands above you" in reasons
    assert "works in another organisation" in reasons
    assert 0 <= m.loc[0, "score"] <= 100


def test_seniority_fit_prefers_one_to_three_bands_above():
    near = PairScorer().fit(_pair_frame(band="7")).components([0], [0])[0, 1]
    far = PairScorer().fit(_pair_frame(band="VSM")).components([0], [0])[0, 1]
    assert near == 1.0 and far < near


def test_weights_are_tunable_and_validated():
    f = _pair_frame(organisation="York NHS Trust")
    only_org = ScoreWeights(0, 0, 0, 1, 0, 0, 0)
    assert PairScorer(only_org).fit(f).score_pairs([0], [0])[0] == pytest.approx(100.0)
    with pytest.raises(ValueError):
        ScoreWeights(skills=-1).as_array()


def test_mentee_who_filled_in_little_still_gets_a_score():
    f = frame(person("E", seeking_mentor=True), person("M", band="8a", mentor_capacity=1))
    m = RoundMatcher().fit(f).result_.matches
    assert m.loc[0, "mentor_id"] == "M" and m.loc[0, "score"] > 0


@pytest.mark.parametrize("est", [PairScorer(), RoundMatcher(), PersonFeatures(), SkillsEncoder()])
def test_scikit_learn_conventions(est):
    # parameters only in __init__: clone and get_params round-trip
    params = est.get_params()
    assert clone(est).get_params().keys() == params.keys()
    f = make_population(40, seed=1)
    fitted = est.fit(f[["skills_sought"]]) if isinstance(est, SkillsEncoder) else est.fit(f)
    assert fitted is est
    learned = [k for k in vars(est) if k.endswith("_") and not k.startswith("_")]
    assert learned
    assert all(not k.endswith("_") for k in params)


def test_round_is_within_a_tenth_of_a_percent_of_the_exact_optimum():
    f = make_population(400, seed=11)
    matcher = RoundMatcher().fit(f)
    pop = matcher.scorer_.population_
    e = np.repeat(np.arange(pop.n_mentees), pop.n_mentors)
    m = np.tile(np.arange(pop.n_mentors), pop.n_mentees)
    dense = matcher.scorer_.score_pairs(e, m).reshape(pop.n_mentees, pop.n_mentors)
    bound = maximum_cardinality_bruteforce(pop)
    _, exact_total = exact_assignment(pop, dense, cardinality=bound)
    ours = matcher.result_.total_score
    assert matcher.result_.matched == bound
    assert ours >= exact_total * 0.999


def test_auction_solver_is_near_exact_too():
    f = make_population(400, seed=12)
    exact = RoundMatcher(solver="exact").fit(f).result_
    auction = RoundMatcher(solver="auction", epsilon=0.05).fit(f).result_
    assert auction.matched == exact.matched
    assert auction.total_score >= exact.total_score * 0.995


def test_round_is_deterministic_for_a_seed():
    f = make_population(300, seed=4)
    a = RoundMatcher(random_state=3).fit(f).result_.matches
    b = RoundMatcher(random_state=3).fit(f).result_.matches
    assert a.equals(b)


def test_priority_mentees_are_matched_at_least_as_often_at_small_cost():
    f = make_population(600, seed=8, priority_share=0.3)
    r = RoundMatcher(priority=True).fit(f).result_
    assert r.priority_rate_matchable >= r.other_rate_matchable
    assert r.priority_score_cost is not None and r.priority_score_cost <= 0.02
    off = RoundMatcher(priority=False).fit(f).result_
    assert r.matched == off.matched


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("skills=2,band=1", "Unknown weight: band. Use skills, seniority, goals"),
        ("skills=two", "Weight skills must be a number of 0 or more, not 'two'."),
        ("skills=-1", "Weights must be numbers of 0 or more, and not all 0."),
        ("skills=nan", "Weight skills must be a number of 0 or more, not 'nan'."),
        ("skills=1001", "Weights must be 1,000 or less."),
        ("skills=1,skills=2", "Weight skills is given twice."),
        ("skills", "Write weights as name=number separated by commas"),
        ("skills=1,,goals=2", "Write weights as name=number separated by commas"),
        (
            "skills=0,seniority=0,goals=0,organisation=0,background=0,place=0,role=0",
            "Weights must be numbers of 0 or more, and not all 0.",
        ),
    ],
)
def test_parse_weights_names_what_is_wrong(text, message):
    from matching.scoring import parse_weights

    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(").replace(".", r"\.")):
        parse_weights(text)


def test_parse_weights_sets_the_named_weights_and_keeps_the_rest():
    from matching.scoring import parse_weights

    got = parse_weights(" skills = 2, goals=0.5 ")
    assert got == ScoreWeights(**{**ScoreWeights().as_dict(), "skills": 2.0, "goals": 0.5})


def _random_pairs(n_people: int, *, seed: int, n_pairs: int):
    """A fitted scorer of a synthetic population and random (mentee, mentor) index pairs."""
    scorer = PairScorer().fit(make_population(n_people, seed=seed))
    rng = np.random.default_rng(seed)
    pop = scorer.population_
    return scorer, rng.integers(0, pop.n_mentees, n_pairs), rng.integers(0, pop.n_mentors, n_pairs)


def _skills_by_hand(scorer, e, m):
    """Each pair's skills sought, and how many of them the mentor offers, from the frame."""
    pop = scorer.population_
    sought = scorer.frame_["skills_sought"].to_numpy(dtype=object)[pop.mentee_rows[e]]
    offered = scorer.frame_["skills_offered"].to_numpy(dtype=object)[pop.mentor_rows[m]]
    return sought, [sum(x in set(o) for x in s) for s, o in zip(sought, offered, strict=True)]


def test_match_reasons_are_the_joined_pair_reasons_and_count_the_skills_covered():
    from matching.reasons import join_reasons, match_reasons, pair_reasons

    scorer, e, m = _random_pairs(300, seed=4, n_pairs=400)
    got = match_reasons(scorer, e, m)
    lists = pair_reasons(scorer, e, m)
    assert got.cells == [join_reasons(r) for r in lists]
    sought, covered = _skills_by_hand(scorer, e, m)
    assert got.skills_sought == sum(len(s) for s in sought)
    assert got.skills_covered == sum(covered) > 0
    for reasons, n_covered in zip(lists, covered, strict=True):
        assert 1 <= len(reasons) <= 4
        assert reasons[0].startswith("covers ") == (n_covered > 0)


def test_skills_covered_counts_the_framework_skills_the_mentor_offers():
    scorer, e, m = _random_pairs(200, seed=2, n_pairs=300)
    assert scorer.skills_covered(e, m).tolist() == _skills_by_hand(scorer, e, m)[1]


def test_the_skills_tiebreak_covers_more_skills_for_at_most_its_worth_in_score():
    f = make_population(400, seed=3)
    plain = RoundMatcher(skills_tiebreak=0.0).fit(f).result_
    tilted = RoundMatcher(skills_tiebreak=1.0).fit(f).result_
    assert tilted.matched == plain.matched
    assert tilted.skills_covered > plain.skills_covered
    sought = sum(len(s) for s in f.loc[f["seeking_mentor"], "skills_sought"])
    assert tilted.total_score >= plain.total_score - 1.0 * sought
    assert tilted.total_score < plain.total_score  # plain maximises the plain score
