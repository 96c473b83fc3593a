"""Only members who have joined and are not suspended are matched: members imported but not
yet activated (the invitation not accepted) and suspended ones are never put in a round, sent
proposals, or suggested."""

from __future__ import annotations

from backend.mentoring.suggestions import suggest_mentors
from backend.rounds import service as rounds
from tests.factories import make_member, make_mentee, make_mentor
from tests.rounds.test_rounds import run

QI = ("quality-improvement", "budget-management")


def _imported(maker, session, **fields):  # type: ignore[no-untyped-def]
    """As an import writes a member: no password, the address not confirmed."""
    return maker(session, verified=False, password=None, **fields)


def test_a_round_leaves_out_imported_and_suspended_members(session, engine, network):
    organiser, mentors, mentees = network
    imported_mentee = _imported(make_mentee, session, name="Imported Mentee")
    suspended_mentee = make_mentee(session, name="Suspended Mentee", is_active=False)
    imported_mentor = _imported(
        make_mentor, session, name="Imported Mentor", band="9", capacity=5, skills_offered=QI
    )
    suspended_mentor = make_mentor(
        session, name="Suspended Mentor", band="9", capacity=5, skills_offered=QI, is_active=False
    )
    session.commit()

    matching_round = run(session, engine, organiser)

    proposals = rounds.proposals_of(
        session=session, organiser=organiser, round_id=matching_round.id
    )
    assert {p.mentee_id for p in proposals} == {m.id for m in mentees}
    assert {p.mentor_id for p in proposals} - {None} <= {m.id for m in mentors}
    assert rounds.summary_of(matching_round)["mentees"] == len(mentees)
    left_out = {imported_mentee.id, suspended_mentee.id, imported_mentor.id, suspended_mentor.id}
    assert not left_out & ({p.mentee_id for p in proposals} | {p.mentor_id for p in proposals})


def test_suggestions_never_name_an_imported_or_suspended_mentor(session):
    me = make_member(session, band="4", skills_sought=("quality-improvement",))
    joined = make_mentor(
        session, band="7", organisation="Joined Trust", capacity=2, skills_offered=QI
    )
    _imported(
        make_mentor,
        session,
        band="8a",
        organisation="Imported Trust",
        capacity=2,
        skills_offered=QI,
    )
    make_mentor(
        session,
        band="8a",
        organisation="Suspended Trust",
        capacity=2,
        skills_offered=QI,
        is_active=False,
    )

    assert [s.member_id for s in suggest_mentors(session=session, member=me)] == [joined.id]
