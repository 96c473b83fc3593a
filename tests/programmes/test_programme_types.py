"""Programme types through the services: reciprocal mentoring's band rule (never the weights'),
group mentoring (groups formed by a round, group sessions), and two lifecycle rules: one open
offer per mentee per programme, one programme at a time per pair."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from backend import london
from backend.errors import Conflict, FieldErrors, Invalid, NotFound
from backend.members.models import MentoringOffer
from backend.mentoring import groups, lifecycle
from backend.mentoring import service as mentoring
from backend.mentoring.models import GroupSessionAttendance, MentoringGroup, Mentorship
from backend.rounds import service as rounds
from backend.rounds.models import MatchingRound, MatchProposal
from matching.rules import RECIPROCAL_REASON, UNMATCHED_NOT_FLAGGED
from tests.factories import (
    make_mentee,
    make_mentor,
    make_mentorship,
    make_organiser,
    make_programme,
    make_programme_application,
    make_proposal,
    make_round,
)

ALL_ON_SKILLS = {
    "skills": 1000.0,
    "seniority": 0.0,
    "goals": 0.0,
    "organisation": 0.0,
    "background": 0.0,
    "place": 0.0,
    "role": 0.0,
}
ALL_ON_SENIORITY = {**dict.fromkeys(ALL_ON_SKILLS, 0.0), "seniority": 1000.0}


def accept(session, programme, member, role="mentee"):
    return make_programme_application(
        session, programme=programme, member=member, role=role, status="accepted"
    )


def run(session, engine, organiser, **kwargs):
    settings = rounds.RoundSettings(name=kwargs.pop("name", "Types round"), **kwargs)
    matching_round = rounds.create_round(session=session, organiser=organiser, settings=settings)
    session.commit()
    assert rounds.run_round_job(matching_round.id, engine=engine) == "ready"
    session.expire_all()
    return session.get(MatchingRound, matching_round.id)


def pairs_of(session, round_id):
    return {
        p.mentee_id: p
        for p in session.exec(select(MatchProposal).where(MatchProposal.round_id == round_id))
    }


# Reciprocal mentoring ---------------------------------------------------------------------------


@pytest.mark.parametrize("weights", [ALL_ON_SKILLS, ALL_ON_SENIORITY])
def test_a_reciprocal_round_pairs_senior_leaders_with_flagged_members_whatever_the_weights(
    session, engine, weights
):
    organiser = make_organiser(session, band="8b")
    programme = make_programme(
        session, name="Reverse mentoring", type="reciprocal", pairing="round"
    )
    # The band 7 offers exactly what everyone seeks: only the rule keeps them out.
    junior = make_mentor(session, name="Band 7", band="7", skills_offered=("quality-improvement",))
    leader = make_mentor(
        session,
        name="Director",
        band="VSM",
        skills_offered=("budget-management",),
        skills_sought=("quality-improvement",),
    )
    flagged = make_mentee(
        session,
        name="Flagged",
        band="8a",
        priority_access=True,
        skills_offered=("quality-improvement",),
    )
    unflagged = make_mentee(session, name="Unflagged", band="3")
    for mentor in (junior, leader):
        accept(session, programme, mentor, role="mentor")
    for mentee in (flagged, unflagged):
        accept(session, programme, mentee)

    matching_round = run(session, engine, organiser, programme_id=programme.id, weights=weights)

    found = pairs_of(session, matching_round.id)
    assert found[flagged.id].mentor_id == leader.id
    assert found[flagged.id].reason_list[0] == RECIPROCAL_REASON.replace(";", ",")
    assert "In return you offer quality improvement, which they want to learn" in (
        found[flagged.id].reason_list
    )
    assert found[unflagged.id].mentor_id is None
    assert found[unflagged.id].reasons == UNMATCHED_NOT_FLAGGED


def test_a_request_in_a_reciprocal_programme_names_its_rule(session):
    programme = make_programme(session, name="Reverse mentoring", type="reciprocal")
    mentee = make_mentee(session, band="4", priority_access=True)
    accept(session, programme, mentee)
    not_senior = make_mentor(session, band="7", name="Band Seven")
    unflagged = make_mentee(session, band="4")
    accept(session, programme, unflagged)
    leader = make_mentor(session, band="8c", name="Senior Leader")

    with pytest.raises(Invalid, match="reciprocal mentoring: Band Seven is not a senior leader"):
        mentoring.request_mentor(
            session=session,
            mentee=mentee,
            mentor_id=not_senior.id,
            message="Hello",
            programme_id=programme.id,
        )
    with pytest.raises(Invalid, match="widening-access priority"):
        mentoring.request_mentor(
            session=session,
            mentee=unflagged,
            mentor_id=leader.id,
            message="Hello",
            programme_id=programme.id,
        )
    request = mentoring.request_mentor(
        session=session,
        mentee=mentee,
        mentor_id=leader.id,
        message="Hello",
        programme_id=programme.id,
    )
    assert request.programme_id == programme.id


def test_suggestions_in_a_reciprocal_programme_follow_its_rule(session):
    from backend.mentoring.suggestions import suggest_mentors

    programme = make_programme(session, type="reciprocal")
    mentee = make_mentee(session, band="4", priority_access=True)
    make_mentor(session, band="7", name="Band Seven")
    leader = make_mentor(session, band="8b", name="Senior Leader")
    session.commit()

    open_mentoring = suggest_mentors(session=session, member=mentee, k=5)
    reciprocal = suggest_mentors(session=session, member=mentee, k=5, programme_id=programme.id)

    assert {s.member_id for s in reciprocal} == {leader.id}
    assert reciprocal[0].reasons[0] == RECIPROCAL_REASON
    assert len(open_mentoring) == 2
    assert all(RECIPROCAL_REASON not in s.reasons for s in open_mentoring)


# Group mentoring --------------------------------------------------------------------------------


def _group_network(session):
    organiser = make_organiser(session, band="8b")
    programme = make_programme(
        session, name="Leading teams together", type="group", group_size=3, pairing="round"
    )
    mentor = make_mentor(session, name="Group Mentor", capacity=1)
    accept(session, programme, mentor, role="mentor")
    mentees = [make_mentee(session, name=f"Member {i}") for i in range(4)]
    for mentee in mentees:
        accept(session, programme, mentee)
    return organiser, programme, mentor, mentees


def test_a_group_round_forms_a_group_of_the_programmes_size_on_publishing(session, engine):
    organiser, programme, mentor, _ = _group_network(session)

    matching_round = run(session, engine, organiser, programme_id=programme.id)
    found = pairs_of(session, matching_round.id)
    assert sum(1 for p in found.values() if p.mentor_id == mentor.id) == 3  # not capacity 1
    rounds.publish_round(session=session, organiser=organiser, round_id=matching_round.id)
    session.flush()

    group = session.exec(select(MentoringGroup).where(MentoringGroup.mentor_id == mentor.id)).one()
    members = session.exec(select(Mentorship).where(Mentorship.group_id == group.id)).all()
    assert len(members) == 3 and {m.status for m in members} == {"active"}
    assert {m.programme_id for m in members} == {programme.id}
    assert session.get(MentoringOffer, mentor.id).active_mentees == 0  # the group's places
    first = session.get(type(mentor), members[0].mentee_id)
    view = groups.get_group(session=session, member=first, group_id=group.id)
    assert view.mentor.id == mentor.id and len(view.members) == 3
    assert [g.id for g in groups.my_groups(session=session, member=mentor)] == [group.id]


def test_group_sessions_are_logged_by_any_member_and_hidden_from_others(session):
    _, programme, mentor, mentees = _group_network(session)
    group = MentoringGroup(programme_id=programme.id, mentor_id=mentor.id, name="Team")
    session.add(group)
    session.flush()
    for mentee in mentees[:2]:
        session.add(
            Mentorship(
                programme_id=programme.id,
                mentor_id=mentor.id,
                mentee_id=mentee.id,
                group_id=group.id,
            )
        )
    session.flush()
    today = london.london_today()

    logged = groups.log_group_session(
        session=session,
        member=mentees[0],
        group_id=group.id,
        log=groups.GroupSessionLog(
            held_on=today,
            duration_minutes=60,
            notes="Rotas",
            attended_ids=(mentor.id, mentees[0].id),
        ),
    )

    came = set(
        session.exec(
            select(GroupSessionAttendance.member_id).where(
                GroupSessionAttendance.session_id == logged.id
            )
        ).all()
    )
    assert came == {mentor.id, mentees[0].id}
    assert (
        groups.get_group(session=session, member=mentor, group_id=group.id).sessions[0].id
        == logged.id
    )
    with pytest.raises(NotFound):
        groups.get_group(session=session, member=mentees[3], group_id=group.id)
    with pytest.raises(FieldErrors) as bad:
        groups.log_group_session(
            session=session,
            member=mentor,
            group_id=group.id,
            log=groups.GroupSessionLog(
                held_on=today + timedelta(days=2), duration_minutes=2, attended_ids=(mentees[3].id,)
            ),
        )
    assert set(bad.value.errors) == {"held_on", "duration_minutes", "attended_ids"}


# Lifecycle rules --------------------------------------------------------------------------------


def test_one_open_offer_per_mentee_per_programme_not_across_programmes(session):
    mentee = make_mentee(session)
    other = make_programme(session, name="Into management")
    make_proposal(session, mentee=mentee, status="offered")
    in_other = make_proposal(
        session,
        mentee=mentee,
        status="offered",
        matching_round=make_round(session, status="published", programme_id=other.id),
    )
    assert in_other.programme_id == other.id

    third = make_round(session, status="published", programme_id=other.id)
    session.add(MatchProposal(round_id=third.id, mentee_id=mentee.id, status="offered"))
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


def test_a_pair_active_in_one_programme_cannot_start_in_another(session):
    programme = make_programme(session, name="Into management")
    mentor = make_mentor(session, name="Ada Mentor")
    mentee = make_mentee(session, name="Ben Mentee")
    make_mentorship(session, mentor=mentor, mentee=mentee)
    round_ = make_round(session, status="published", programme_id=programme.id)
    offer = make_proposal(
        session, matching_round=round_, mentee=mentee, mentor=mentor, status="offered"
    )

    with pytest.raises(
        Conflict,
        match="Ada Mentor already mentors Ben Mentee in Open mentoring: a pair works "
        "together in one programme at a time",
    ):
        lifecycle.start_mentorship(
            session=session, mentor_id=mentor.id, mentee_id=mentee.id, proposal=offer
        )


def test_a_round_leaves_out_a_pair_already_working_together_elsewhere(session, engine):
    organiser = make_organiser(session, band="8b")
    programme = make_programme(session, pairing="round")
    mentor = make_mentor(session, capacity=3)
    mentee = make_mentee(session)
    make_mentorship(session, mentor=mentor, mentee=mentee)
    accept(session, programme, mentor, role="mentor")
    accept(session, programme, mentee)

    matching_round = run(session, engine, organiser, programme_id=programme.id)

    assert pairs_of(session, matching_round.id)[mentee.id].mentor_id is None


def test_group_data_is_exported_and_erased(session):
    from backend.privacy import service as privacy
    from tests.factories import PASSWORD

    _, programme, mentor, mentees = _group_network(session)
    member = mentees[0]
    group = MentoringGroup(programme_id=programme.id, mentor_id=mentor.id, name="Team")
    session.add(group)
    session.flush()
    session.add(
        Mentorship(
            programme_id=programme.id, mentor_id=mentor.id, mentee_id=member.id, group_id=group.id
        )
    )
    session.flush()
    logged = groups.log_group_session(
        session=session,
        member=mentor,
        group_id=group.id,
        log=groups.GroupSessionLog(
            held_on=london.london_today(),
            duration_minutes=45,
            notes=f"{member.name} led the rota review",
            attended_ids=(member.id, mentor.id),
        ),
    )
    session.commit()

    data = privacy.export_my_data(session=session, member=member)
    assert [g["id"] for g in data["mentoring_groups"]] == [group.id]
    assert data["group_sessions"][0]["notes"].endswith("led the rota review")
    assert data["group_sessions_attended"] == [logged.id]

    name = member.name
    privacy.erase_my_account(session=session, member=member, password=PASSWORD, confirm=True)
    session.commit()
    session.expire_all()
    kept = session.get(type(logged), logged.id)
    assert name not in kept.notes  # the mentor keeps the session, without the name
    came = session.exec(
        select(GroupSessionAttendance.member_id).where(
            GroupSessionAttendance.session_id == logged.id
        )
    ).all()
    assert came == [mentor.id]
    assert session.get(MentoringOffer, mentor.id).active_mentees == 0


def test_members_do_not_ask_mentors_in_a_group_programme(session):
    programme = make_programme(session, name="Team leads", type="group", group_size=4)
    mentee = make_mentee(session)
    accept(session, programme, mentee)

    with pytest.raises(Conflict, match="Team leads is group mentoring"):
        mentoring.request_mentor(
            session=session,
            mentee=mentee,
            mentor_id=make_mentor(session).id,
            message="Hello",
            programme_id=programme.id,
        )
