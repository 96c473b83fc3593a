"""The band rule is the programme type's (one-to-one or reciprocal), never a weight's."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.reasons import pair_reasons
from matching.rounds import run_round
from matching.rules import (
    RECIPROCAL_REASON,
    UNMATCHED_NOT_FLAGGED,
    VIOLATION_BAND,
    VIOLATION_NOT_FLAGGED,
    VIOLATION_NOT_SENIOR_LEADER,
    build_population,
    feasible_matrix,
    pair_violation,
)
from matching.scoring import ScoreWeights
from matching.suggestions import MentorSuggester
from matching.synthetic import person, small_frame
from tests.matching.populations import populations
from vocabulary import BAND_RANK

SENIOR = BAND_RANK["8a"]
# Every weight on one component, in turn (the ones that could tempt a rule-breaking pair: the
# skills a junior mentor offers, the band gap, another organisation): the rule must hold.
EXTREME = [
    ScoreWeights(**{c: (1000.0 if c == name else 0.0) for c in ScoreWeights().as_dict()})
    for name in ("skills", "seniority", "organisation")
]


def _frame():
    return small_frame(
        person("lead", band="VSM", mentor_capacity=2, skills_sought=("collaborative-leadership",)),
        person("director", band="8d", mentor_capacity=1, organisation="York NHS Trust"),
        person("manager", band="7", mentor_capacity=3),
        person(
            "flagged",
            band="4",
            seeking_mentor=True,
            priority_access=True,
            skills_offered=("collaborative-leadership",),
        ),
        person("flagged-senior", band="8b", seeking_mentor=True, priority_access=True),
        person("unflagged", band="3", seeking_mentor=True),
    )


def test_reciprocal_pairs_only_senior_leaders_with_flagged_members():
    pop = build_population(_frame(), band_rule="reciprocal")
    feasible = feasible_matrix(pop)
    mentees = list(pop.member_ids[pop.mentee_rows])
    mentors = list(pop.member_ids[pop.mentor_rows])

    allowed = {(mentees[e], mentors[m]) for e, m in zip(*feasible.nonzero(), strict=True)}

    assert allowed == {
        ("flagged", "lead"),
        ("flagged", "director"),
        # lifted: a flagged 8b may pair with an 8d (not above) or a VSM alike
        ("flagged-senior", "lead"),
        ("flagged-senior", "director"),
    }


def test_one_to_one_keeps_the_mentor_above_the_mentee():
    pop = build_population(_frame())
    mentees = list(pop.member_ids[pop.mentee_rows])
    mentors = list(pop.member_ids[pop.mentor_rows])
    feasible = feasible_matrix(pop)

    assert feasible[mentees.index("unflagged"), mentors.index("manager")]
    assert not feasible[mentees.index("flagged-senior"), mentors.index("manager")]


@pytest.mark.parametrize("weights", EXTREME)
def test_extreme_weights_never_break_the_reciprocal_rule(weights):
    result = run_round(_frame(), weights=weights, band_rule="reciprocal", solver="exact")
    pairs = result.matches[result.matches.mentor_id != ""]

    assert set(pairs.mentee_id) <= {"flagged", "flagged-senior"}
    assert set(pairs.mentor_id) <= {"lead", "director"}
    assert len(pairs) == 2  # both flagged members matched
    assert all(r.startswith(RECIPROCAL_REASON) for r in pairs.reasons)
    unflagged = result.matches.set_index("mentee_id").loc["unflagged"]
    assert unflagged.mentor_id == "" and unflagged.reasons == UNMATCHED_NOT_FLAGGED


@pytest.mark.parametrize("weights", EXTREME)
def test_extreme_weights_never_break_the_one_to_one_rule(weights):
    result = run_round(_frame(), weights=weights, solver="exact")
    frame = _frame().set_index("member_id")
    pairs = result.matches[result.matches.mentor_id != ""]

    assert len(pairs) > 0
    for row in pairs.itertuples():
        assert (
            BAND_RANK[frame.loc[row.mentor_id, "band"]]
            > BAND_RANK[frame.loc[row.mentee_id, "band"]]
        )
        assert RECIPROCAL_REASON not in row.reasons


@settings(max_examples=10, deadline=None)
@given(populations(max_size=10, priority=True), st.sampled_from(EXTREME))
def test_any_round_respects_the_reciprocal_rule(frame, weights):
    result = run_round(frame, weights=weights, band_rule="reciprocal", solver="exact")
    people = frame.set_index("member_id")

    for row in result.matches[result.matches.mentor_id != ""].itertuples():
        assert BAND_RANK[people.loc[row.mentor_id, "band"]] >= SENIOR
        assert bool(people.loc[row.mentee_id, "priority_access"])


def test_pair_violation_names_the_reciprocal_rule():
    rows = _frame().set_index("member_id", drop=False)

    def check(mentee, mentor, rule):
        return pair_violation(
            dict(rows.loc[mentee]), dict(rows.loc[mentor]), managers={}, band_rule=rule
        )

    assert check("flagged", "manager", "reciprocal") == VIOLATION_NOT_SENIOR_LEADER
    assert check("unflagged", "lead", "reciprocal") == VIOLATION_NOT_FLAGGED
    assert check("flagged-senior", "director", "reciprocal") is None
    assert check("flagged", "manager", "senior") is None  # the type sets the rule
    assert check("flagged", "lead", "senior") is None
    assert check("flagged-senior", "manager", "senior") == VIOLATION_BAND


def test_suggestions_follow_the_reciprocal_rule_and_say_so():
    frame = _frame()
    suggester = MentorSuggester().fit(frame)

    found = suggester.suggest("flagged", k=5, band_rule="reciprocal", record=False)
    none = suggester.suggest("unflagged", k=5, band_rule="reciprocal", record=False)

    assert {s.mentor_id for s in found} == {"lead", "director"}
    assert all(s.reasons[0] == RECIPROCAL_REASON for s in found)
    assert none == []


def test_pair_reasons_lead_with_the_rule():
    from matching.scoring import PairScorer

    scorer = PairScorer(band_rule="reciprocal").fit(_frame())
    pop = scorer.population_
    mentee = list(pop.member_ids[pop.mentee_rows]).index("flagged")
    mentor = list(pop.member_ids[pop.mentor_rows]).index("lead")

    reasons = pair_reasons(scorer, [mentee], [mentor])[0]

    assert reasons[0] == RECIPROCAL_REASON
    assert reasons[1] == "In return you offer collaborative leadership, which they want to learn"


@pytest.mark.parametrize("weights", EXTREME[:2])
def test_a_round_leaves_out_excluded_pairs(weights):
    frame = small_frame(
        person("mentor", band="8a", mentor_capacity=1, skills_offered=("budget-management",)),
        person("other", band="8a", mentor_capacity=1),
        person("mentee", band="4", seeking_mentor=True, skills_sought=("budget-management",)),
    )

    free = run_round(frame, weights=weights, solver="exact")
    left_out = run_round(
        frame, weights=weights, solver="exact", excluded_pairs=[("mentee", "mentor")]
    )

    assert free.matches.iloc[0].mentor_id == "mentor"
    assert left_out.matches.iloc[0].mentor_id == "other"
    alone = run_round(frame.iloc[[0, 2]], solver="exact", excluded_pairs=[("mentee", "mentor")])
    assert alone.matches.iloc[0].mentor_id == ""
