"""The matcher never reads diversity data: its frame has none, and results do not change."""

from __future__ import annotations

from sqlmodel import select

from backend.matchmaking import frames as population
from backend.mentoring.suggestions import suggest_mentors
from backend.privacy import service as privacy
from backend.privacy.models import DemographicRecord
from tests.factories import make_round_network
from vocabulary import AGE_BANDS, DISABILITY_ANSWERS, ETHNICITIES, GENDERS

DEMOGRAPHIC_WORDS = {"ethnicity", "gender", "disability", "age_band", "age", "demographic"}
# Values that cannot be mistaken for other vocabulary ("no"/"yes"/"other" can).
DISTINCT_VALUES = {"asian", "black", "mixed", "white", "woman", "man", "non-binary", "35-44"}


def _network(session):
    _, mentors, mentees = make_round_network(
        session, mentor_bands=("7", "8a", "8b", "8c"), mentees=3, capacity=2
    )
    return mentors, mentees


def _give_everyone_demographics(session, members):
    for i, member in enumerate(members):
        privacy.record_demographics(
            session=session,
            member=member,
            answers=privacy.DemographicAnswers(
                ethnicity=ETHNICITIES[i % len(ETHNICITIES)],
                gender=GENDERS[i % len(GENDERS)],
                disability=DISABILITY_ANSWERS[i % len(DISABILITY_ANSWERS)],
                age_band=AGE_BANDS[i % len(AGE_BANDS)],
            ),
            consent=True,
        )


def _suggestions(session, mentees):
    return [
        [
            (s.member_id, s.score, tuple(s.reasons))
            for s in suggest_mentors(session=session, member=m)
        ]
        for m in mentees
    ]


def test_the_matchers_frame_holds_no_demographic_column_or_value(session):
    mentors, mentees = _network(session)
    _give_everyone_demographics(session, mentors + mentees)
    assert len(session.exec(select(DemographicRecord)).all()) == 7

    frame = population.member_frame(session=session, mentee_ids=[m.id for m in mentees])

    assert not DEMOGRAPHIC_WORDS & {c.lower() for c in frame.columns}
    values = {str(v).lower() for column in frame.columns for v in frame[column].tolist()}
    assert not DISTINCT_VALUES & values


def test_suggestions_are_identical_with_or_without_demographics(session):
    mentors, mentees = _network(session)
    before_frame = population.member_frame(session=session, mentee_ids=[m.id for m in mentees])
    before = _suggestions(session, mentees)

    _give_everyone_demographics(session, mentors + mentees)

    after_frame = population.member_frame(session=session, mentee_ids=[m.id for m in mentees])
    assert before_frame.equals(after_frame)
    assert _suggestions(session, mentees) == before
    assert any(before)
