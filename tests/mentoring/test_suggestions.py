"""Suggestions: ranked mentors with free places, within the hard rules, with reasons."""

from __future__ import annotations

import pytest

from backend.errors import NotAuthenticated
from backend.mentoring import service as mentoring
from backend.mentoring.suggestions import suggest_mentors
from tests.factories import make_member


def test_the_mentor_who_covers_my_skills_comes_first(session):
    me = make_member(
        session, band="4", skills_sought=("quality-improvement", "performance-measurement")
    )
    good = make_member(
        session,
        band="7",
        organisation="Riverside Trust",
        capacity=2,
        skills_offered=("quality-improvement", "performance-measurement"),
    )
    weak = make_member(
        session,
        band="7",
        organisation="Hillside Trust",
        capacity=2,
        skills_offered=("rota-management",),
    )

    suggestions = suggest_mentors(session=session, member=me)

    assert [s.member_id for s in suggestions] == [good.id, weak.id]
    assert 0 <= suggestions[1].score < suggestions[0].score <= 100
    assert any("skills sought" in reason for reason in suggestions[0].reasons)


def test_the_hard_rules_filter_suggestions(session):
    manager = make_member(session, band="8b", capacity=2, skills_offered=("quality-improvement",))
    me = make_member(session, band="5", line_manager_id=manager.id, outside_organisation_only=True)
    make_member(session, band="5", organisation="Elsewhere", capacity=2)  # same band: not above
    make_member(session, band="8a", capacity=2)  # my organisation, and I asked for another
    full = make_member(session, band="8a", organisation="Full Trust", capacity=0)
    fine = make_member(session, band="6", organisation="Elsewhere", capacity=1)

    ids = [s.member_id for s in suggest_mentors(session=session, member=me)]

    assert ids == [fine.id]
    assert full.id not in ids and manager.id not in ids


def test_mentors_i_already_asked_are_not_suggested_again(session):
    me = make_member(session, band="4")
    asked = make_member(session, band="7", organisation="Riverside Trust", capacity=2)
    other = make_member(session, band="7", organisation="Hillside Trust", capacity=2)
    mentoring.request_mentor(session=session, mentee=me, mentor_id=asked.id, message="Hello")

    assert [s.member_id for s in suggest_mentors(session=session, member=me)] == [other.id]


def test_a_member_who_filled_in_little_still_gets_suggestions(session):
    me = make_member(session, band="3")
    mentor = make_member(session, band="8a", organisation="Riverside Trust", capacity=1)

    [suggestion] = suggest_mentors(session=session, member=me)

    assert suggestion.member_id == mentor.id and suggestion.reasons


def test_anonymous_visitors_get_no_suggestions(session):
    with pytest.raises(NotAuthenticated):
        suggest_mentors(session=session, member=None)


def test_a_mentor_with_many_requests_waiting_is_ranked_lower(session):
    me = make_member(session, band="4", skills_sought=("quality-improvement",))
    popular = make_member(
        session,
        band="7",
        organisation="Riverside Trust",
        capacity=1,
        skills_offered=("quality-improvement",),
    )
    quieter = make_member(
        session,
        band="7",
        organisation="Hillside Trust",
        capacity=1,
        skills_offered=("quality-improvement",),
    )
    assert suggest_mentors(session=session, member=me)[0].member_id in (popular.id, quieter.id)
    for _ in range(3):
        mentoring.request_mentor(
            session=session, mentee=make_member(session), mentor_id=popular.id, message="Hi"
        )

    ranked = [s.member_id for s in suggest_mentors(session=session, member=me)]

    assert ranked == [quieter.id, popular.id]
